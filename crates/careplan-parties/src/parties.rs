//! The web parties' state — the e-billing portal (with the CA behind it) and the usage-application site —
//! behind one lock, optionally journalled so that it outlives the process.
//!
//! Without a journal (scenarios) a request is applied to the cores and answered. With one (`serve`), every
//! request that may change a core is recorded before it is answered, and before any request the cores
//! replay what other processes sharing the journal recorded since; both happen under the journal's writer
//! lock, so all processes see one order. The cores are deterministic, so replay rebuilds them exactly.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use careplan_ca::CertificateRevocationListDer;
use careplan_core::{
    ClockOutOfRange, ErrorCode, EventKind, EventLog, Journal, JournalEntry, JournalError, LicenceStanding,
    NewEntry, OfficeNumber, Party, SimulatedClock, within_clock_range,
};
use careplan_eseikyu::Portal;
use careplan_licence::UsageSite;
use time::OffsetDateTime;

use crate::api::{PortalRequest, PortalResponse, UsageRequest, UsageResponse};
use crate::dispatch::{self, Refusal};

/// Why the simulated clock was not set.
#[derive(Debug, thiserror::Error)]
pub enum ClockError {
    /// The instant is outside the clock's range.
    #[error(transparent)]
    OutOfRange(#[from] ClockOutOfRange),
    /// The setting could not be recorded.
    #[error(transparent)]
    Journal(#[from] JournalError),
}

impl ClockError {
    /// `CLOCK_OUT_OF_RANGE` or `STORE_UNAVAILABLE`.
    pub fn code(&self) -> ErrorCode {
        match self {
            ClockError::OutOfRange(e) => e.code(),
            ClockError::Journal(_) => ErrorCode::StoreUnavailable,
        }
    }
}

/// The party name of portal requests in the journal.
pub const PORTAL_PARTY: &str = "portal";
/// The party name of usage-site requests in the journal.
pub const USAGE_PARTY: &str = "usage";
/// The party name of simulated-clock settings in the journal (the request is the instant, RFC 3339).
pub const CLOCK_PARTY: &str = "clock";

/// The cores of the web parties.
#[derive(Debug)]
pub struct PartyState {
    /// The e-billing portal (電子請求受付システム) and its CA.
    pub portal: Portal,
    /// The usage-application site (利用申請サイト).
    pub site: UsageSite,
}

/// A refusal of a party: its codes (the main one first) and message.
pub type Refused = (Vec<ErrorCode>, String);

/// What runs after a certificate was revoked (here, or by another process sharing the journal): a relay
/// fetches the new revocation list with [`Parties::crl`].
pub type RevocationHook = Box<dyn Fn(&Parties) + Send + Sync>;

struct Recording {
    journal: Box<dyn Journal>,
    /// The last entry the cores have applied.
    applied: u64,
    /// Set when a request was applied but could not be recorded: the cores are ahead of the journal, so
    /// nothing more is served until a restart replays the journal.
    broken: Option<String>,
    /// The simulated clock, which follows the journal's clock entries.
    clock: Option<Arc<SimulatedClock>>,
}

struct Inner {
    state: PartyState,
    recording: Option<Recording>,
}

/// The web parties' state, shared by their servers and the relay (which asks the site where offices
/// stand). Lock order: the relay, then the parties.
pub struct Parties {
    inner: Mutex<Inner>,
    on_revocation: RwLock<Option<RevocationHook>>,
    events: EventLog,
}

impl std::fmt::Debug for Parties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parties").finish_non_exhaustive()
    }
}

/// Which requests leave a core as it was: they need no record. Everything else is recorded, even
/// refusals (a failed login counts towards a lock-out).
fn portal_reads(request: &PortalRequest) -> bool {
    matches!(request, PortalRequest::Mailbox { .. } | PortalRequest::CaInfo)
}

fn usage_reads(request: &UsageRequest) -> bool {
    matches!(
        request,
        UsageRequest::PersonalAccount { .. }
            | UsageRequest::Licence { .. }
            | UsageRequest::PersonalLogin { .. }
    )
}

fn unavailable(message: impl std::fmt::Display) -> Refused {
    (vec![ErrorCode::StoreUnavailable], message.to_string())
}

impl Parties {
    /// Parties kept in memory only (scenarios).
    pub fn new(state: PartyState) -> Self {
        Self {
            inner: Mutex::new(Inner {
                state,
                recording: None,
            }),
            on_revocation: RwLock::new(None),
            events: EventLog::default(),
        }
    }

    /// Records what the parties answer to live requests (not replayed ones) in `events`.
    pub fn with_events(mut self, events: EventLog) -> Self {
        self.events = events;
        self
    }

    /// Parties whose requests are recorded in `journal`, starting from `state` as it stood at entry
    /// `after` (the ecosystem's genesis): what was recorded since is replayed now, and `clock`, if the
    /// ecosystem runs on a simulated clock, follows the recorded settings.
    pub fn journalled(
        state: PartyState,
        journal: Box<dyn Journal>,
        after: u64,
        clock: Option<Arc<SimulatedClock>>,
    ) -> Result<Self, JournalError> {
        let parties = Self {
            inner: Mutex::new(Inner {
                state,
                recording: Some(Recording {
                    journal,
                    applied: after,
                    broken: None,
                    clock,
                }),
            }),
            on_revocation: RwLock::new(None),
            events: EventLog::default(),
        };
        parties.catch_up()?;
        Ok(parties)
    }

    /// Works on the cores directly, unrecorded: for setting up a scenario's starting state.
    pub fn with<R>(&self, work: impl FnOnce(&mut PartyState) -> R) -> R {
        work(&mut self.lock().state)
    }

    /// Runs `hook` whenever a certificate is revoked, here or (after replay) by another process sharing
    /// the journal.
    pub fn on_revocation(&self, hook: RevocationHook) {
        *self.on_revocation.write().unwrap_or_else(PoisonError::into_inner) = Some(hook);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replays what other processes recorded since this one last looked.
    pub fn catch_up(&self) -> Result<(), JournalError> {
        let revoked = {
            let mut inner = self.lock();
            let Inner { state, recording } = &mut *inner;
            let Some(recording) = recording else {
                return Ok(());
            };
            if let Some(broken) = &recording.broken {
                return Err(JournalError(broken.clone()));
            }
            let entries = recording.journal.entries_after(recording.applied)?;
            let mut revoked = false;
            replay_all(
                state,
                recording.clock.as_deref(),
                entries,
                &mut recording.applied,
                &mut revoked,
            )
            .inspect_err(|e| recording.broken = Some(e.0.clone()))?;
            revoked
        };
        if revoked {
            self.announce_revocation();
        }
        Ok(())
    }

    /// Where `office` stands at `now` (the relay's question before a send). Call
    /// [`catch_up`](Self::catch_up) first.
    pub fn standing(&self, now: OffsetDateTime, office: OfficeNumber) -> LicenceStanding {
        self.lock().state.site.standing(now, office)
    }

    /// Answers a portal request at `now`.
    pub fn portal(&self, now: OffsetDateTime, request: PortalRequest) -> Result<PortalResponse, Refused> {
        let revokes = matches!(request, PortalRequest::RevokeCertificates { .. });
        let read = portal_reads(&request);
        let asked = (!read && self.events.is_on()).then(|| Asked::of(&request));
        let text = if read { String::new() } else { to_json(&request)? };
        let (answer, revoked) = self.call(now, PORTAL_PARTY, (!read).then_some(text), |state| {
            dispatch::portal(&mut state.portal, now, request).map_err(|refusal| match refusal {
                Refusal::Portal(e) => (e.codes(), e.to_string()),
                Refusal::Request(message) => (vec![ErrorCode::ProtocolError], message),
            })
        })?;
        if let Some(asked) = asked {
            self.events
                .record(now, Party::Portal, asked.portal_event(&answer));
        }
        if revoked || (revokes && answer.is_ok()) {
            self.announce_revocation();
        }
        answer
    }

    /// Answers a usage-site request at `now`.
    pub fn usage(&self, now: OffsetDateTime, request: UsageRequest) -> Result<UsageResponse, Refused> {
        let read = usage_reads(&request);
        let asked = (!read && self.events.is_on()).then(|| Asked::of(&request));
        let text = if read { String::new() } else { to_json(&request)? };
        let (answer, revoked) = self.call(now, USAGE_PARTY, (!read).then_some(text), |state| {
            dispatch::usage(&mut state.site, &mut state.portal, now, request)
                .map_err(|e| (e.codes(), e.to_string()))
        })?;
        if let Some(asked) = asked {
            self.events
                .record(now, Party::UsageSite, asked.usage_event(&answer));
        }
        if revoked {
            self.announce_revocation();
        }
        answer
    }

    /// Sets the simulated `clock` to `to`, recorded so that a restart (or another process) follows. An
    /// instant outside the clock's range is refused before anything is recorded.
    pub fn set_clock(&self, clock: &SimulatedClock, to: OffsetDateTime) -> Result<(), ClockError> {
        let to = within_clock_range(to)?;
        let request = to
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| JournalError(e.to_string()))?;
        let (set, revoked) = self
            .call(to, CLOCK_PARTY, Some(request), |_| clock.set(to))
            .map_err(|(_, message)| JournalError(message))?;
        set?;
        if revoked {
            self.announce_revocation();
        }
        Ok(())
    }

    /// Applies `apply` to the cores after catching up, recording `record` (the request) if given. Gives
    /// the answer and whether a replayed entry revoked certificates.
    fn call<R>(
        &self,
        now: OffsetDateTime,
        party: &str,
        record: Option<String>,
        apply: impl FnOnce(&mut PartyState) -> R,
    ) -> Result<(R, bool), Refused> {
        let mut inner = self.lock();
        let Inner { state, recording } = &mut *inner;
        let Some(recording) = recording else {
            return Ok((apply(state), false));
        };
        if let Some(broken) = &recording.broken {
            return Err(unavailable(format!("{broken}; restart to replay the journal")));
        }
        let mut apply = Some(apply);
        let mut answer = None;
        let mut revoked = false;
        let mut replay_failure = None;
        let clock = recording.clock.clone();
        let mut applied = recording.applied;
        let outcome = recording.journal.record_after(recording.applied, &mut |entries| {
            if let Err(e) = replay_all(state, clock.as_deref(), entries, &mut applied, &mut revoked) {
                replay_failure = Some(e);
                return None;
            }
            answer = apply.take().map(|apply| apply(state));
            record.clone().map(|request| NewEntry {
                at: now,
                party: party.to_owned(),
                request,
            })
        });
        recording.applied = applied;
        let error = match (outcome, replay_failure, answer) {
            (Ok(seq), None, Some(answer)) => {
                recording.applied = seq.unwrap_or(recording.applied);
                return Ok((answer, revoked));
            }
            (_, Some(failure), _) => {
                // An entry that cannot be replayed stops every later one.
                recording.broken = Some(failure.0.clone());
                failure
            }
            (Err(failure), None, answered) => {
                // A change applied to the cores but not recorded leaves them ahead of the journal.
                if answered.is_some() && record.is_some() {
                    recording.broken = Some(failure.0.clone());
                }
                failure
            }
            (Ok(_), None, None) => JournalError("the journal did not run the request".to_owned()),
        };
        Err(unavailable(error))
    }

    /// The CA's revocation list as of `now` (a recorded portal request, since it numbers the lists).
    pub fn crl(&self, now: OffsetDateTime) -> Result<CertificateRevocationListDer<'static>, String> {
        match self.portal(now, PortalRequest::Crl) {
            Ok(PortalResponse::Crl { der }) => {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, der)
                    .map(CertificateRevocationListDer::from)
                    .map_err(|e| e.to_string())
            }
            Ok(other) => Err(format!("unexpected answer to a CRL request: {other:?}")),
            Err((_, message)) => Err(message),
        }
    }

    fn announce_revocation(&self) {
        if let Some(hook) = self
            .on_revocation
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            hook(self);
        }
    }
}

/// A request as its event names it: the operation and whom it concerns (never a password).
struct Asked {
    operation: String,
    subject: Option<String>,
}

impl Asked {
    fn of(request: &impl serde::Serialize) -> Self {
        let value = serde_json::to_value(request).unwrap_or_default();
        let text = |key: &str| {
            value.get(key).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
        };
        Self {
            operation: text("op").unwrap_or_default(),
            subject: text("office").or_else(|| text("user_id")),
        }
    }

    fn refused(self, codes: &[ErrorCode]) -> EventKind {
        EventKind::Refused {
            operation: self.operation,
            subject: self.subject,
            codes: codes.to_vec(),
        }
    }

    fn answered(self) -> EventKind {
        EventKind::Answered {
            operation: self.operation,
            subject: self.subject,
        }
    }

    fn portal_event(self, answer: &Result<PortalResponse, Refused>) -> EventKind {
        match answer {
            Err((codes, _)) => self.refused(codes),
            Ok(PortalResponse::Notice(notice)) => match self.subject.as_deref().map(str::parse) {
                Some(Ok(office)) => EventKind::UserIdIssued {
                    office,
                    user_id: notice.user_id.clone(),
                },
                _ => self.answered(),
            },
            Ok(PortalResponse::Application(application)) => EventKind::CertificateApplied {
                kind: application.kind.clone(),
                certificate_type: application.certificate_type.clone(),
                issues_at: application.issues_at,
            },
            Ok(PortalResponse::Revoked { serials }) => match self.subject.as_deref().map(str::parse) {
                Some(Ok(office)) => EventKind::CertificatesRevoked {
                    office,
                    serials: serials.clone(),
                },
                _ => self.answered(),
            },
            Ok(_) => self.answered(),
        }
    }

    fn usage_event(self, answer: &Result<UsageResponse, Refused>) -> EventKind {
        match answer {
            Err((codes, _)) => self.refused(codes),
            Ok(UsageResponse::Registration(registration)) => EventKind::UsageApplied {
                personal_user_id: registration.account.user_id.to_string(),
            },
            Ok(_) => self.answered(),
        }
    }
}

fn to_json(request: &impl serde::Serialize) -> Result<String, Refused> {
    serde_json::to_string(request).map_err(|e| (vec![ErrorCode::ProtocolError], e.to_string()))
}

/// Applies recorded `entries` in order, moving `applied` past each; stops at the first that cannot be
/// replayed.
fn replay_all(
    state: &mut PartyState,
    clock: Option<&SimulatedClock>,
    entries: Vec<JournalEntry>,
    applied: &mut u64,
    revoked: &mut bool,
) -> Result<(), JournalError> {
    for entry in entries {
        replay(state, clock, &entry, revoked)?;
        *applied = entry.seq;
    }
    Ok(())
}

/// Applies one recorded entry to the cores; notes whether it revoked certificates.
fn replay(
    state: &mut PartyState,
    clock: Option<&SimulatedClock>,
    entry: &JournalEntry,
    revoked: &mut bool,
) -> Result<(), JournalError> {
    let unreadable = |e: serde_json::Error| {
        JournalError(format!(
            "entry {} ({}) cannot be read: {e}",
            entry.seq, entry.party
        ))
    };
    match entry.party.as_str() {
        PORTAL_PARTY => {
            let request: PortalRequest = serde_json::from_str(&entry.request).map_err(unreadable)?;
            let revokes = matches!(request, PortalRequest::RevokeCertificates { .. });
            // The answer was given when the request was first handled; replay wants only its effect.
            let outcome = dispatch::portal(&mut state.portal, entry.at, request);
            *revoked |= revokes && outcome.is_ok();
        }
        USAGE_PARTY => {
            let request: UsageRequest = serde_json::from_str(&entry.request).map_err(unreadable)?;
            let _ = dispatch::usage(&mut state.site, &mut state.portal, entry.at, request);
        }
        CLOCK_PARTY => {
            if let Some(clock) = clock {
                let to =
                    OffsetDateTime::parse(&entry.request, &time::format_description::well_known::Rfc3339)
                        .map_err(|e| JournalError(format!("entry {} (clock): {e}", entry.seq)))?;
                // An entry out of range (recorded before the range was enforced) is passed over, so that
                // such a journal still starts.
                let _ = clock.set(to);
            }
        }
        // Entries of other kinds (the ecosystem's genesis) belong to whoever built the starting state.
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use careplan_ca::CertificateAuthority;
    use careplan_core::MemoryJournal;
    use careplan_eseikyu::PortalConfig;
    use careplan_licence::LicenceConfig;
    use time::macros::datetime;

    use super::*;

    /// One journal for several processes' parties; it can be made to fail.
    #[derive(Clone, Default)]
    struct SharedJournal {
        journal: Arc<Mutex<MemoryJournal>>,
        failing: Arc<AtomicBool>,
    }

    impl Journal for SharedJournal {
        fn entries_after(&mut self, after: u64) -> Result<Vec<JournalEntry>, JournalError> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(JournalError("the database went away".into()));
            }
            self.journal.lock().unwrap().entries_after(after)
        }

        fn record_after(
            &mut self,
            after: u64,
            work: &mut dyn FnMut(Vec<JournalEntry>) -> Option<NewEntry>,
        ) -> Result<Option<u64>, JournalError> {
            if self.failing.load(Ordering::SeqCst) {
                return Err(JournalError("the database went away".into()));
            }
            self.journal.lock().unwrap().record_after(after, work)
        }
    }

    const NOW: OffsetDateTime = datetime!(2026-04-01 09:00 +9);

    fn fresh() -> PartyState {
        PartyState::new(
            PortalConfig::default(),
            LicenceConfig::default(),
            CertificateAuthority::new().unwrap(),
            5,
        )
    }

    fn parties(journal: &SharedJournal) -> Parties {
        Parties::journalled(fresh(), Box::new(journal.clone()), 0, None).unwrap()
    }

    fn login(parties: &Parties, user_id: &str, password: &str) -> Result<PortalResponse, Refused> {
        parties.portal(
            NOW,
            PortalRequest::Login {
                user_id: user_id.into(),
                password: password.into(),
            },
        )
    }

    #[test]
    fn another_process_and_a_restart_see_what_was_recorded() {
        let journal = SharedJournal::default();
        let a = parties(&journal);
        let b = parties(&journal);
        let office: OfficeNumber = "1310000001".parse().unwrap();
        let Ok(PortalResponse::Notice(notice)) = a.portal(NOW, PortalRequest::IssueUserId { office }) else {
            panic!("issues a user ID");
        };
        let Ok(PortalResponse::Login { session, .. }) =
            login(&a, &notice.user_id, &notice.temporary_password)
        else {
            panic!("logs in at A");
        };
        a.portal(NOW, PortalRequest::AcceptTerms { session }).unwrap();
        a.portal(
            NOW,
            PortalRequest::ChangePassword {
                session,
                current: notice.temporary_password.clone(),
                new: "Changed123".into(),
            },
        )
        .unwrap();
        // B replays A's requests before answering: the new password works there, the old one does not.
        assert!(login(&b, &notice.user_id, "Changed123").is_ok());
        assert!(login(&b, &notice.user_id, &notice.temporary_password).is_err());
        // A process started later rebuilds the same state, down to the session A opened.
        let restarted = parties(&journal);
        restarted
            .portal(NOW, PortalRequest::CertificatePage { session })
            .unwrap();
        assert!(login(&restarted, &notice.user_id, "Changed123").is_ok());
    }

    #[test]
    fn a_failing_journal_answers_store_unavailable_and_records_nothing() {
        let journal = SharedJournal::default();
        let a = parties(&journal);
        let office: OfficeNumber = "1310000001".parse().unwrap();
        journal.failing.store(true, Ordering::SeqCst);
        let refused = a.portal(NOW, PortalRequest::IssueUserId { office }).unwrap_err();
        assert_eq!(refused.0, [ErrorCode::StoreUnavailable]);
        journal.failing.store(false, Ordering::SeqCst);
        // Nothing was applied: the ID is issued now, for the first time.
        assert!(matches!(
            a.portal(NOW, PortalRequest::IssueUserId { office }),
            Ok(PortalResponse::Notice(_))
        ));
        assert_eq!(journal.journal.lock().unwrap().entries_after(0).unwrap().len(), 1);
    }
}
