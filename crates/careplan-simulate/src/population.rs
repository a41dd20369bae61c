//! The population a month is simulated for: care-management and service offices per prefecture, the users
//! each care manager plans for, and the providers of each user.

use careplan_core::{LicenceStanding, OfficeNumber};
use rand::Rng;
use serde::Serialize;

/// Care-management offices (居宅介護支援事業所) in the country at full adoption.
pub const NATIONAL_CARE_MANAGERS: u64 = 38_000;
/// Service offices (介護サービス事業所) exchanging plans at full adoption.
pub const NATIONAL_SERVICE_OFFICES: u64 = 290_000;
/// Users planned a month at full adoption.
pub const NATIONAL_USERS: u64 = 3_000_000;

/// Weights of the 47 prefectures (their populations in thousands, 2020 census, rounded): offices and users
/// are spread in proportion to them. An assumption: the sources give national counts only.
const PREFECTURE_WEIGHTS: [u32; 47] = [
    5225, 1238, 1211, 2302, 960, 1068, 1833, 2867, 1933, 1939, 7345, 6284, 14048, 9237, 2201, 1035, 1133,
    767, 810, 2048, 1979, 3633, 7542, 1770, 1414, 2578, 8838, 5465, 1324, 923, 553, 671, 1888, 2800, 1342,
    720, 950, 1335, 692, 5135, 811, 1312, 1738, 1124, 1070, 1588, 1467,
];

/// Service kinds of the providers, with their shares of service offices (home help, day care, equipment
/// rental, short stay, visiting nursing): an assumption in the order of the national office counts.
const PROVIDER_KINDS: [(&str, u32); 5] = [("11", 35), ("15", 25), ("17", 10), ("21", 10), ("13", 20)];

/// What the population is made of. The defaults are the national figures at full adoption.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PopulationConfig {
    /// The share of the nation simulated: 1.0 is every office and user of the country.
    pub scale: f64,
    /// The share of offices that use the linkage system (the others exchange on paper).
    pub adoption: f64,
    /// The share of adopting offices whose licence has lapsed (assumed 2%).
    pub unlicensed: f64,
    /// The share of adopting offices whose certificate has expired (assumed 1%).
    pub expired_certificates: f64,
}

impl Default for PopulationConfig {
    fn default() -> Self {
        Self {
            scale: 1.0,
            adoption: 1.0,
            unlicensed: 0.02,
            expired_certificates: 0.01,
        }
    }
}

/// Where an office stands, as the relay and the TLS handshake see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Not using the system: it neither sends nor is sent anything.
    Paper,
    /// Licensed, with a valid certificate.
    Ready,
    /// Its licence lapsed: the relay refuses its sends and sends to it.
    Unlicensed,
    /// Its certificate expired: the handshake refuses it.
    CertificateExpired,
}

/// An office of the population.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Office {
    /// 事業所番号: the prefecture code, then a running number.
    pub number: OfficeNumber,
    /// サービス種類コード.
    pub kind: &'static str,
    /// Where it stands.
    pub standing: Standing,
}

impl Office {
    /// The licence standing the relay is told.
    pub fn licence(&self) -> LicenceStanding {
        match self.standing {
            Standing::Paper => LicenceStanding::Unregistered,
            Standing::Unlicensed => LicenceStanding::Unlicensed,
            Standing::Ready | Standing::CertificateExpired => LicenceStanding::Licensed,
        }
    }
}

/// A user planned for the month: its care manager and its providers (indices into
/// [`Population::offices`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct User {
    /// The care-management office.
    pub care_manager: u32,
    /// The providers, `providers[..count]`.
    pub providers: [u32; 4],
    /// How many providers.
    pub count: u8,
}

impl User {
    /// The user's providers.
    pub fn providers(&self) -> &[u32] {
        &self.providers[..usize::from(self.count)]
    }
}

/// Counts of a population, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PopulationCounts {
    /// Care-management offices.
    pub care_managers: u64,
    /// Service offices.
    pub service_offices: u64,
    /// Users.
    pub users: u64,
    /// User–provider pairs: a plan and an actuals send unit each, when both offices use the system.
    pub user_providers: u64,
    /// Offices on paper.
    pub on_paper: u64,
    /// Offices whose licence lapsed.
    pub unlicensed: u64,
    /// Offices whose certificate expired.
    pub certificates_expired: u64,
}

/// The offices and users of a simulation.
#[derive(Debug, Clone)]
pub struct Population {
    /// Every office: care managers first, then service offices.
    pub offices: Vec<Office>,
    /// How many of `offices` are care managers.
    pub care_managers: usize,
    /// Every user.
    pub users: Vec<User>,
}

/// Splits `total` over `weights` by largest remainder, so that the parts add up to `total`.
fn apportion(total: u64, weights: &[u32]) -> Vec<u64> {
    let sum: u64 = weights.iter().map(|w| u64::from(*w)).sum::<u64>().max(1);
    let mut parts: Vec<(u64, u64, usize)> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let exact = total * u64::from(*w);
            (exact / sum, exact % sum, i)
        })
        .collect();
    let given: u64 = parts.iter().map(|p| p.0).sum();
    parts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    for part in parts.iter_mut().take(usize::try_from(total - given).unwrap_or(0)) {
        part.0 += 1;
    }
    parts.sort_by_key(|p| p.2);
    parts.into_iter().map(|p| p.0).collect()
}

/// `national × scale`, at least 1.
fn scaled(national: u64, scale: f64) -> u64 {
    // The product of a count below 10^7 and a scale below 10^3 is exact enough in f64.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let n = (national as f64 * scale).round() as u64;
    n.max(1)
}

impl Population {
    /// The population `config` describes, drawn from `rng`.
    pub fn generate(config: &PopulationConfig, rng: &mut impl Rng) -> Self {
        let care_managers = apportion(scaled(NATIONAL_CARE_MANAGERS, config.scale), &PREFECTURE_WEIGHTS);
        let providers = apportion(
            scaled(NATIONAL_SERVICE_OFFICES, config.scale),
            &PREFECTURE_WEIGHTS,
        );
        // Users go where the care managers are (at small scales some prefectures have none).
        let cm_weights: Vec<u32> = care_managers
            .iter()
            .map(|n| u32::try_from(*n).unwrap_or(u32::MAX))
            .collect();
        let users = apportion(scaled(NATIONAL_USERS, config.scale), &cm_weights);
        let standing = |rng: &mut dyn rand::RngCore| {
            let draw: f64 = rng.random();
            if draw >= config.adoption {
                Standing::Paper
            } else if draw < config.adoption * config.unlicensed {
                Standing::Unlicensed
            } else if draw < config.adoption * (config.unlicensed + config.expired_certificates) {
                Standing::CertificateExpired
            } else {
                Standing::Ready
            }
        };
        // Two digits of a prefecture 01–47 and eight of a running number below 10^8: always a valid number
        // (an invalid one would only leave the office out).
        let number = |prefecture: usize, running: u64| -> Option<OfficeNumber> {
            format!("{:02}{:08}", prefecture + 1, running % 100_000_000)
                .parse()
                .ok()
        };
        let mut offices = Vec::new();
        let mut care_manager_ranges = Vec::with_capacity(47);
        for (prefecture, count) in care_managers.iter().enumerate() {
            let start = offices.len();
            for running in 0..*count {
                let standing = standing(rng);
                if let Some(number) = number(prefecture, running + 1) {
                    offices.push(Office {
                        number,
                        kind: "43",
                        standing,
                    });
                }
            }
            care_manager_ranges.push(start..offices.len());
        }
        let care_manager_count = offices.len();
        let kind_weights: Vec<u32> = PROVIDER_KINDS.iter().map(|(_, w)| *w).collect();
        let mut provider_ranges = Vec::with_capacity(47);
        for (prefecture, count) in providers.iter().enumerate() {
            let start = offices.len();
            for (kind_index, of_kind) in apportion(*count, &kind_weights).into_iter().enumerate() {
                for _ in 0..of_kind {
                    let running = 50_000_000 + (offices.len() - start) as u64 + 1;
                    let standing = standing(rng);
                    if let Some(number) = number(prefecture, running) {
                        offices.push(Office {
                            number,
                            kind: PROVIDER_KINDS[kind_index].0,
                            standing,
                        });
                    }
                }
            }
            provider_ranges.push(start..offices.len());
        }
        let mut all_users = Vec::new();
        let everywhere: Vec<u32> = (care_manager_count..offices.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        for (prefecture, count) in users.iter().enumerate() {
            let (cms, pvs) = (&care_manager_ranges[prefecture], &provider_ranges[prefecture]);
            if cms.is_empty() || everywhere.is_empty() {
                continue;
            }
            // The prefecture's providers; at small scales, where it has none, the nation's.
            let local: Vec<u32> = pvs.clone().filter_map(|i| u32::try_from(i).ok()).collect();
            let pool = if local.is_empty() { &everywhere } else { &local };
            for _ in 0..*count {
                let care_manager = u32::try_from(rng.random_range(cms.clone())).unwrap_or(0);
                // 1 to 4 providers, 2.5 on average (15%, 35%, 35%, 15%).
                let draw = rng.random_range(0..100u8);
                let wanted: usize = match draw {
                    0..15 => 1,
                    15..50 => 2,
                    50..85 => 3,
                    _ => 4,
                };
                // Distinct providers drawn at random from the prefecture's (a handful out of hundreds).
                let mut chosen: Vec<u32> = Vec::with_capacity(4);
                while chosen.len() < wanted.min(pool.len()) {
                    let candidate = pool[rng.random_range(0..pool.len())];
                    if !chosen.contains(&candidate) {
                        chosen.push(candidate);
                    }
                }
                let mut providers = [0u32; 4];
                providers[..chosen.len()].copy_from_slice(&chosen);
                all_users.push(User {
                    care_manager,
                    providers,
                    count: u8::try_from(chosen.len()).unwrap_or(0),
                });
            }
        }
        Self {
            offices,
            care_managers: care_manager_count,
            users: all_users,
        }
    }

    /// The counts of the population.
    pub fn counts(&self) -> PopulationCounts {
        let count = |standing| self.offices.iter().filter(|o| o.standing == standing).count() as u64;
        PopulationCounts {
            care_managers: self.care_managers as u64,
            service_offices: (self.offices.len() - self.care_managers) as u64,
            users: self.users.len() as u64,
            user_providers: self.users.iter().map(|u| u64::from(u.count)).sum(),
            on_paper: count(Standing::Paper),
            unlicensed: count(Standing::Unlicensed),
            certificates_expired: count(Standing::CertificateExpired),
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn parts_add_up_and_follow_the_weights() {
        let parts = apportion(1000, &PREFECTURE_WEIGHTS);
        assert_eq!(parts.iter().sum::<u64>(), 1000);
        // Tokyo (13) has the most, Tottori (31) the fewest.
        assert_eq!(parts.iter().max(), Some(&parts[12]));
        assert_eq!(parts.iter().min(), Some(&parts[30]));
    }

    #[test]
    fn a_population_is_seeded_and_scaled() {
        let config = PopulationConfig {
            scale: 0.001,
            ..PopulationConfig::default()
        };
        let a = Population::generate(&config, &mut ChaCha8Rng::seed_from_u64(1));
        let b = Population::generate(&config, &mut ChaCha8Rng::seed_from_u64(1));
        assert_eq!(a.users, b.users);
        let counts = a.counts();
        assert_eq!(counts.care_managers, 38);
        assert_eq!(counts.service_offices, 290);
        assert_eq!(counts.users, 3_000, "{counts:?}");
        let mean = counts.user_providers as f64 / counts.users as f64;
        assert!((2.3..2.7).contains(&mean), "{mean}");
        // Users are planned within their prefecture wherever it has providers.
        let national = Population::generate(
            &PopulationConfig {
                scale: 0.01,
                ..PopulationConfig::default()
            },
            &mut ChaCha8Rng::seed_from_u64(2),
        );
        for user in &national.users {
            let cm = national.offices[user.care_manager as usize].number;
            for p in user.providers() {
                assert_eq!(national.offices[*p as usize].number.prefecture(), cm.prefecture());
            }
        }
    }
}
