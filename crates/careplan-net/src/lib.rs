//! The real wire: HTTPS servers (hyper + rustls) around the relay core and the web parties, and the clients
//! offices use.
//!
//! Architecture invariants:
//! - Transport only. Protocol logic lives in the cores (`careplan-relay`, `careplan-licence`,
//!   `careplan-eseikyu`, `careplan-ca`); the web parties' dispatch, journal and provisioning live in
//!   `careplan-parties`. This crate moves requests and bytes between sockets and those, holding the relay
//!   behind a lock for the duration of one call.
//! - Every TLS configuration takes its time from the scenario's [`Clock`](careplan_core::Clock) through
//!   [`ClockTime`], so certificates expire in simulated time inside real handshakes.
//! - Client authentication to the relay is mutual TLS against the e-seikyu CA root and its revocation
//!   list; the relay identifies the sender only from the verified client certificate, never from
//!   anything the client says. The portal and the usage-application site are web sites: server
//!   authentication only, sessions by number.
//! - Locks are taken in one order: the relay, then the licence register the relay server asks (the web
//!   parties, [`Parties`](careplan_parties::Parties): portal and usage site under one lock, with their
//!   journal when `serve` keeps one).
//! - Failures reach callers as [`ClientError`]s carrying a stable [`ErrorCode`](careplan_core::ErrorCode),
//!   whether a server refused a request, the handshake failed or the client itself refused.

mod admin_server;
pub mod api;
mod client;
mod framing;
mod relay_server;
mod server;
mod tls;
mod web_server;

pub use admin_server::{EcosystemClock, serve_admin};
pub use client::{
    AdminClient, ClientError, Endpoints, LinkageClient, PortalClient, RelayClient, SEND_ATTEMPTS,
    UsageSiteClient, crl_of, pkcs12_of,
};
pub use relay_server::{LicenceRegister, RelayServer, RelayTls, SharedRelay};
pub use server::{
    BODY_TIMEOUT, HANDSHAKE_TIMEOUT, HEAD_TIMEOUT, MAX_CONNECTIONS, MAX_PENDING_HANDSHAKES,
    MAX_RELAY_REQUEST_BYTES, MAX_WEB_REQUEST_BYTES, PartyServer, ServerError, ServerLimits,
};
pub use tls::{ClockTime, TlsError, relay_server_config, web_server_config};
pub use web_server::{serve_portal, serve_usage_site};
