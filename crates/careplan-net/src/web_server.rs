//! The web parties' HTTPS servers (web sites: server authentication only): the e-billing portal — the
//! federation's ID issuance, the portal, the CA's downloads and the simulator's letterbox — and the
//! usage-application site, each one tagged-operation endpoint over the [`Parties`].

use std::net::SocketAddr;
use std::sync::Arc;

use careplan_ca::IssuedCertificate;
use careplan_core::{Clock, ErrorCode};
use careplan_parties::{Parties, api};

use crate::server::{PartyServer, ServerError, ServerLimits, serve_operations};

/// Starts serving the portal of `parties` on `listen` (port 0 picks a free port) with its server
/// `certificate`. With `letterbox_token`, the simulator's back office answers only requests carrying
/// it: the letterbox (`mailbox`, which shows the temporary and issuance passwords the offices were sent),
/// the CA's revocation of an office's certificates (`revoke_certificates`), and the federation's paper
/// procedures (`issue_user_id`, `request_reset_by_post`): none of them takes a login, so anyone could
/// otherwise revoke an office's certificates or lock it out of its account.
pub async fn serve_portal(
    listen: SocketAddr,
    limits: ServerLimits,
    parties: Arc<Parties>,
    clock: Arc<dyn Clock>,
    certificate: &IssuedCertificate,
    letterbox_token: Option<Arc<str>>,
) -> Result<PartyServer, ServerError> {
    serve_operations(
        listen,
        limits,
        certificate,
        clock,
        api::PORTAL,
        move |now, request, authorization| {
            let back_office = matches!(
                request,
                api::PortalRequest::Mailbox { .. }
                    | api::PortalRequest::RevokeCertificates { .. }
                    | api::PortalRequest::IssueUserId { .. }
                    | api::PortalRequest::RequestResetByPost { .. }
            );
            if let (true, Some(token)) = (back_office, &letterbox_token)
                && !crate::admin_server::authorized(authorization, token)
            {
                return Err((
                    vec![ErrorCode::AdminTokenInvalid],
                    "the simulator's back office (letterbox, revocations, the federation's paper procedures) needs `Authorization: Bearer <token>`, the token of the file admin-token in serve's data directory".to_owned(),
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
    limits: ServerLimits,
    parties: Arc<Parties>,
    clock: Arc<dyn Clock>,
    certificate: &IssuedCertificate,
) -> Result<PartyServer, ServerError> {
    serve_operations(
        listen,
        limits,
        certificate,
        clock,
        api::USAGE,
        move |now, request, _| parties.usage(now, request),
    )
    .await
}
