//! The real wire: HTTPS servers (hyper + rustls) wrapping the party cores, and the clients offices use.
//!
//! Architecture invariants:
//! - Protocol logic lives in the cores (`careplan-relay`, …); this crate only moves requests and bytes
//!   between sockets and cores, holding each core behind a lock for the duration of one call.
//! - Every TLS configuration takes its time from the scenario's [`Clock`](careplan_core::Clock) through
//!   [`ClockTime`], so certificates expire in simulated time inside real handshakes.
//! - Client authentication is mutual TLS against the e-seikyu CA root; the relay identifies the sender
//!   only from the verified client certificate, never from anything the client says.
//! - Failures reach callers as [`ClientError`]s carrying a stable [`ErrorCode`](careplan_core::ErrorCode),
//!   whether the relay refused a request or the handshake failed.

pub mod api;
mod client;
mod server;
mod tls;

pub use client::{ClientError, LinkageClient};
pub use server::{RelayServer, ServerError};
pub use tls::{ClockTime, TlsError, client_config, relay_server_config};
