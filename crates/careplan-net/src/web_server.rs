//! The web parties' HTTPS servers (web sites: server authentication only): the e-billing portal — the
//! federation's ID issuance, the portal, the CA's downloads and the simulator's letterbox — and the
//! usage-application site, each one tagged-operation endpoint over the [`Parties`].

use std::net::SocketAddr;
use std::sync::Arc;

use careplan_ca::IssuedCertificate;
use careplan_core::{Clock, ErrorCode};
use careplan_parties::{Parties, api};

use crate::server::{PartyServer, ServerError, serve_operations};

/// Starts serving the portal of `parties` on `listen` (port 0 picks a free port) with its server
/// `certificate`. With `letterbox_token`, the simulator's letterbox (`mailbox`, which shows the
/// temporary and issuance passwords the offices were sent) answers only requests carrying it.
pub async fn serve_portal(
    listen: SocketAddr,
    parties: Arc<Parties>,
    clock: Arc<dyn Clock>,
    certificate: &IssuedCertificate,
    letterbox_token: Option<Arc<str>>,
) -> Result<PartyServer, ServerError> {
    serve_operations(
        listen,
        certificate,
        clock,
        api::PORTAL,
        move |now, request, authorization| {
            if let (api::PortalRequest::Mailbox { .. }, Some(token)) = (&request, &letterbox_token)
                && !crate::admin_server::authorized(authorization, token)
            {
                return Err((
                    vec![ErrorCode::AdminTokenInvalid],
                    "the letterbox needs `Authorization: Bearer <token>`, the token of the file admin-token in serve's data directory".to_owned(),
                ));
            }
            parties.portal(now, request)
        },
    )
    .await
}

/// Starts serving the usage-application site of `parties` on `listen` (port 0 picks a free port) with
/// its server `certificate`; logins are checked against the portal of `parties`.
pub async fn serve_usage_site(
    listen: SocketAddr,
    parties: Arc<Parties>,
    clock: Arc<dyn Clock>,
    certificate: &IssuedCertificate,
) -> Result<PartyServer, ServerError> {
    serve_operations(listen, certificate, clock, api::USAGE, move |now, request, _| {
        parties.usage(now, request)
    })
    .await
}
