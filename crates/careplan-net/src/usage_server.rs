//! The usage-application site's HTTPS server (a web site: server authentication only) over the sans-IO
//! [`UsageSite`]. Logging in asks the e-billing [`Portal`] about the `KJ` ID and its password.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use careplan_ca::IssuedCertificate;
use careplan_core::Clock;
use careplan_eseikyu::Portal;
use careplan_license::{LicenceError, SiteSession, UsageSite};
use hyper::Method;
use time::OffsetDateTime;

use crate::api::{self, UsageRequest, UsageResponse};
use crate::server::{Call, HttpsServer, ServerError, no_endpoint, operation};
use crate::tls::web_server_config;

/// A running usage-application site. Dropping it stops accepting connections.
#[derive(Debug)]
pub struct UsageSiteServer {
    server: HttpsServer,
}

impl UsageSiteServer {
    /// Starts serving `site` on `listen` (port 0 picks a free port) with its server `certificate`; logins
    /// are checked against `portal`.
    pub async fn start(
        listen: SocketAddr,
        site: Arc<Mutex<UsageSite>>,
        portal: Arc<Mutex<Portal>>,
        clock: Arc<dyn Clock>,
        certificate: &IssuedCertificate,
    ) -> Result<Self, ServerError> {
        let tls = web_server_config(certificate, clock.clone())?;
        let server = HttpsServer::start(
            listen,
            tls,
            Arc::new(move |call: Call<'_>| match (call.method, call.path) {
                (&Method::POST, api::USAGE) => operation(&call.body, |request| {
                    handle(&site, &portal, clock.now(), request).map_err(|e| (e.codes(), e.to_string()))
                }),
                (method, path) => no_endpoint(method, path),
            }),
        )
        .await?;
        Ok(Self { server })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Runs one site operation at `now`. Lock order: the site, then the portal (for a login only).
fn handle(
    site: &Mutex<UsageSite>,
    portal: &Mutex<Portal>,
    now: OffsetDateTime,
    request: UsageRequest,
) -> Result<UsageResponse, LicenceError> {
    let session = SiteSession::from_raw;
    let mut site = site.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(match request {
        UsageRequest::Login { user_id, password } => {
            let mut portal = portal.lock().unwrap_or_else(PoisonError::into_inner);
            UsageResponse::Login {
                session: site.login(now, &mut portal, &user_id, &password)?.raw(),
            }
        }
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
