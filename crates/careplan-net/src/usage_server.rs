//! The usage-application site's HTTPS server (a web site: server authentication only) over the sans-IO
//! [`UsageSite`]. Logging in asks the e-billing [`Portal`] about the `KJ` ID and its password.

use std::net::SocketAddr;
use std::sync::Arc;

use careplan_ca::IssuedCertificate;
use careplan_core::Clock;
use careplan_eseikyu::Portal;
use careplan_license::{LicenceError, SiteSession, UsageSite};
use time::OffsetDateTime;

use crate::api::{self, UsageRequest, UsageResponse};
use crate::parties::Parties;
use crate::server::{PartyServer, ServerError, serve_operations};

/// Starts serving the usage-application site of `parties` on `listen` (port 0 picks a free port) with
/// its server `certificate`; logins are checked against the portal of `parties`.
pub async fn serve_usage_site(
    listen: SocketAddr,
    parties: Arc<Parties>,
    clock: Arc<dyn Clock>,
    certificate: &IssuedCertificate,
) -> Result<PartyServer, ServerError> {
    serve_operations(listen, certificate, clock, api::USAGE, move |now, request| {
        parties.usage(now, request)
    })
    .await
}

/// Runs one site operation at `now` (a login asks the portal about the `KJ` ID).
pub(crate) fn handle(
    site: &mut UsageSite,
    portal: &mut Portal,
    now: OffsetDateTime,
    request: UsageRequest,
) -> Result<UsageResponse, LicenceError> {
    let session = SiteSession::from_raw;
    Ok(match request {
        UsageRequest::Login { user_id, password } => UsageResponse::Login {
            session: site.login(now, portal, &user_id, &password)?.raw(),
        },
        UsageRequest::Logout { session: s } => {
            site.logout(session(s));
            UsageResponse::Done
        }
        UsageRequest::Apply {
            session: s,
            application,
        } => UsageResponse::Registration(site.apply(now, session(s), application)?),
        UsageRequest::PersonalAccount { session: s } => {
            UsageResponse::PersonalAccount(site.personal_account(session(s))?)
        }
        UsageRequest::Licence { session: s } => UsageResponse::Licence(site.licence(now, session(s))?),
        UsageRequest::SetAutoRenewal { session: s, on } => {
            UsageResponse::Licence(site.set_auto_renewal(now, session(s), on)?)
        }
        UsageRequest::Renew { session: s } => UsageResponse::Licence(site.renew(now, session(s))?),
        UsageRequest::Cancel { session: s } => {
            site.cancel(session(s))?;
            UsageResponse::Done
        }
        UsageRequest::PayInvoice { session: s } => UsageResponse::Licence(site.pay_invoice(now, session(s))?),
        UsageRequest::PersonalLogin { user_id, password } => UsageResponse::Office {
            office: site.personal_login(&user_id, &password)?,
        },
    })
}
