//! The admin endpoint of `serve` (HTTPS, server authentication only): reads the ecosystem's clock and, when
//! it is simulated, moves it. Settings are recorded in the parties' journal, so a restart or another
//! process sharing the journal follows them.

use std::net::SocketAddr;
use std::sync::Arc;

use careplan_ca::IssuedCertificate;
use careplan_core::{CalendarSpan, Clock, ErrorCode, JST, SimulatedClock, within_clock_range};
use hyper::{Method, StatusCode};

use careplan_parties::Parties;
use careplan_parties::api::{self, ClockChange, ClockReading};

use crate::server::{Call, PartyServer, ServerError, ServerLimits, json, no_endpoint, refusal};
use crate::tls::web_server_config;

/// The clock an ecosystem runs on.
#[derive(Debug, Clone)]
pub enum EcosystemClock {
    /// The system's: time passes as it does; the admin endpoint only reads it.
    System(Arc<dyn Clock>),
    /// A simulated clock, moved through the admin endpoint.
    Simulated(Arc<SimulatedClock>),
}

impl EcosystemClock {
    /// The clock, for the parties' servers.
    pub fn as_clock(&self) -> Arc<dyn Clock> {
        match self {
            EcosystemClock::System(clock) => clock.clone(),
            EcosystemClock::Simulated(clock) => clock.clone(),
        }
    }

    fn reading(&self) -> ClockReading {
        ClockReading {
            now: self.as_clock().now().to_offset(JST),
            simulated: matches!(self, EcosystemClock::Simulated(_)),
        }
    }
}

/// Whether `authorization` is `Bearer <token>`, compared in constant time.
pub(crate) fn authorized(authorization: Option<&str>, token: &str) -> bool {
    let Some(given) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else {
        return false;
    };
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |differ, (a, b)| differ | (a ^ b))
            == 0
}

/// Starts the admin endpoint on `listen` (port 0 picks a free port) with a server `certificate`; every
/// request must carry `Authorization: Bearer <token>`.
pub async fn serve_admin(
    listen: SocketAddr,
    limits: ServerLimits,
    parties: Arc<Parties>,
    clock: EcosystemClock,
    certificate: &IssuedCertificate,
    token: Arc<str>,
) -> Result<PartyServer, ServerError> {
    let tls = web_server_config(certificate, clock.as_clock())?;
    PartyServer::start(
        listen,
        tls,
        crate::server::MAX_WEB_REQUEST_BYTES,
        limits,
        Arc::new(move |call: Call<'_>| match (call.method, call.path) {
            _ if !authorized(call.authorization, &token) => refusal(
                ErrorCode::AdminTokenInvalid,
                "the admin endpoint needs `Authorization: Bearer <token>`, the token of the file admin-token in serve's data directory",
            ),
            (&Method::GET, api::CLOCK) => json(StatusCode::OK, &clock.reading()),
            (&Method::POST, api::CLOCK) => match change(&parties, &clock, &call.body) {
                Ok(reading) => json(StatusCode::OK, &reading),
                Err((code, message)) => refusal(code, &message),
            },
            (method, path) => no_endpoint(method, path),
        }),
    )
    .await
}

fn change(
    parties: &Parties,
    clock: &EcosystemClock,
    body: &[u8],
) -> Result<ClockReading, (ErrorCode, String)> {
    let EcosystemClock::Simulated(simulated) = clock else {
        return Err((
            ErrorCode::ClockNotSimulated,
            "the ecosystem runs on the system clock; start serve with --clock simulated".to_owned(),
        ));
    };
    let change: ClockChange =
        serde_json::from_slice(body).map_err(|e| (ErrorCode::ProtocolError, e.to_string()))?;
    let to = match (change.advance, change.set) {
        (Some(span), None) => {
            let span: CalendarSpan = span
                .parse()
                .map_err(|e: careplan_core::SpanError| (e.code(), e.to_string()))?;
            span.add_to(simulated.now()).ok_or_else(|| {
                (
                    ErrorCode::ClockOutOfRange,
                    "the clock would pass the year 9999".to_owned(),
                )
            })?
        }
        (None, Some(at)) => within_clock_range(at).map_err(|e| (e.code(), e.to_string()))?,
        _ => {
            return Err((
                ErrorCode::ProtocolError,
                "give exactly one of `advance` (a span such as `1d`) or `set` (an RFC 3339 instant)"
                    .to_owned(),
            ));
        }
    };
    parties
        .set_clock(simulated, to)
        .map_err(|e| (e.code(), e.to_string()))?;
    Ok(clock.reading())
}
