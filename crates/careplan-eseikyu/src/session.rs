//! Logged-in sessions of a web party (the e-billing portal, the usage-application site): numbers no one
//! can guess from another, that end when idle too long or open too long.

use std::collections::BTreeMap;

use rand::Rng;
use time::{Duration, OffsetDateTime};

/// Session numbers are drawn below this bound: 2^53, the integers JSON readers keep exactly.
pub const SESSION_SPACE: u64 = 1 << 53;

/// How long a session lives. No public source states the portals' timeouts; both are assumed defaults,
/// in the range of Japanese government web services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session not used for longer ends (assumed 30 minutes).
    pub idle: Duration,
    /// A session ends this long after its login, however used (assumed 8 hours).
    pub lifetime: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::minutes(30),
            lifetime: Duration::hours(8),
        }
    }
}

/// Why a session number was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionRefusal {
    /// No such session: never opened, logged out, or not this party's.
    Invalid,
    /// The session ended: idle too long, or open too long.
    Expired,
}

#[derive(Debug, Clone)]
struct Open<O> {
    owner: O,
    opened: OffsetDateTime,
    last_used: OffsetDateTime,
}

/// The open sessions of a party, each belonging to an `O` (an account, an office).
#[derive(Debug, Clone)]
pub struct Sessions<O> {
    policy: SessionPolicy,
    open: BTreeMap<u64, Open<O>>,
}

impl<O: Copy> Sessions<O> {
    /// No session open yet.
    pub fn new(policy: SessionPolicy) -> Self {
        Self {
            policy,
            open: BTreeMap::new(),
        }
    }

    fn ended(policy: SessionPolicy, session: &Open<O>, now: OffsetDateTime) -> bool {
        now > session.last_used + policy.idle || now > session.opened + policy.lifetime
    }

    /// Opens a session for `owner` at `now`; its number is drawn from `rng` (so a replay gives the same).
    /// Sessions that have ended are forgotten first, so that logins cannot pile up.
    pub fn open(&mut self, now: OffsetDateTime, rng: &mut impl Rng, owner: O) -> u64 {
        let ended: Vec<u64> = self
            .open
            .iter()
            .filter(|(_, session)| Self::ended(self.policy, session, now))
            .map(|(number, _)| *number)
            .collect();
        for number in ended {
            self.open.remove(&number);
        }
        let number = loop {
            let number = rng.random_range(1..SESSION_SPACE);
            if !self.open.contains_key(&number) {
                break number;
            }
        };
        self.open.insert(
            number,
            Open {
                owner,
                opened: now,
                last_used: now,
            },
        );
        number
    }

    /// The owner of session `number` at `now`, which counts as a use; an ended session is closed.
    pub fn owner(&mut self, now: OffsetDateTime, number: u64) -> Result<O, SessionRefusal> {
        let policy = self.policy;
        let session = self.open.get_mut(&number).ok_or(SessionRefusal::Invalid)?;
        if Self::ended(policy, session, now) {
            self.open.remove(&number);
            return Err(SessionRefusal::Expired);
        }
        session.last_used = session.last_used.max(now);
        Ok(session.owner)
    }

    /// Ends session `number` (a logout).
    pub fn close(&mut self, number: u64) {
        self.open.remove(&number);
    }

    /// How many sessions are open (ended ones included until the next login forgets them).
    pub fn len(&self) -> usize {
        self.open.len()
    }

    /// Whether no session is open.
    pub fn is_empty(&self) -> bool {
        self.open.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-04-01 09:00 +9);

    #[test]
    fn a_session_ends_when_idle_too_long_or_open_too_long() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut sessions = Sessions::new(SessionPolicy::default());
        let idle = sessions.open(T0, &mut rng, 'a');
        // Used at the last second of its idle time, it lives on; a second past the next, it has ended.
        assert_eq!(sessions.owner(T0 + Duration::minutes(30), idle), Ok('a'));
        let later = T0 + Duration::minutes(60) + Duration::seconds(1);
        assert_eq!(sessions.owner(later, idle), Err(SessionRefusal::Expired));
        assert_eq!(sessions.owner(later, idle), Err(SessionRefusal::Invalid));
        // Used every 20 minutes, a session still ends 8 hours after its login.
        let busy = sessions.open(T0, &mut rng, 'b');
        let mut at = T0;
        while at + Duration::minutes(20) <= T0 + Duration::hours(8) {
            at += Duration::minutes(20);
            assert_eq!(sessions.owner(at, busy), Ok('b'), "{at}");
        }
        let past = T0 + Duration::hours(8) + Duration::seconds(1);
        assert_eq!(sessions.owner(past, busy), Err(SessionRefusal::Expired));
    }

    #[test]
    fn ended_sessions_are_forgotten_at_the_next_login_and_numbers_are_neither_counted_nor_repeated() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut sessions = Sessions::new(SessionPolicy::default());
        let numbers: Vec<u64> = (0..100).map(|_| sessions.open(T0, &mut rng, ())).collect();
        assert_eq!(sessions.len(), 100);
        let distinct: std::collections::BTreeSet<_> = numbers.iter().collect();
        assert_eq!(distinct.len(), 100);
        assert!(numbers.windows(2).all(|w| w[0].abs_diff(w[1]) > 1));
        assert!(numbers.iter().all(|n| (1..SESSION_SPACE).contains(n)));
        sessions.open(T0 + Duration::hours(9), &mut rng, ());
        assert_eq!(sessions.len(), 1);
        sessions.close(numbers[0]);
    }
}
