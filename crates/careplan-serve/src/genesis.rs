//! The genesis of an ecosystem: what every process builds before replaying the journal.

use careplan_ca::{KeySecret, KeySource};
use careplan_core::{OfficeNumber, ServiceKind};
use careplan_ecosystem::{EcosystemBuilder, OfficeDescription};
use careplan_office::{OfficeProfile, OfficeRole};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An office of the roster `serve` starts with: account ready, licensed, holding a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterOffice {
    /// Office number (事業所番号).
    pub number: OfficeNumber,
    /// Its role.
    pub role: OfficeRole,
    /// Service kind (サービス種類コード).
    pub kind: ServiceKind,
    /// Office name (事業所名).
    pub name: String,
}

/// What an ecosystem is born with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// The seed of every password and session.
    pub seed: u64,
    /// When it was born: the roster's accounts, licences and certificates date from then.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    /// The offices ready to use it.
    pub offices: Vec<RosterOffice>,
    /// The secret the CA's keys are derived from; `None` for the committed test keys (an ecosystem born
    /// with `--seed`, or before keys were derived).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "key_secret")]
    pub key_secret: Option<KeySecret>,
}

/// A key secret in JSON: its 64 hex digits.
mod key_secret {
    use careplan_ca::KeySecret;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(secret: &Option<KeySecret>, s: S) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => s.collect_str(secret),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<KeySecret>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|hex| hex.parse().map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// Service kinds given to the roster's service offices, in turn: home-visit care, day care, welfare
/// equipment rental, short stay, home-visit nursing.
const SERVICE_KINDS: [&str; 5] = ["11", "15", "17", "21", "13"];

/// The roster's offices' changed password: drawn from the ecosystem's seed, so that knowing an office's
/// number does not give its password (the roster in `offices.json` does, to its owner).
fn roster_password(seed: u64, office: OfficeNumber) -> String {
    // SplitMix64 over the seed and the office number: stable for an ecosystem, different across them.
    let mut z = seed
        ^ office
            .as_str()
            .parse::<u64>()
            .unwrap_or(0)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    format!("Sim{:012}", z % 1_000_000_000_000)
}

impl Genesis {
    /// A new ecosystem born at `start` with one care-management office (`1310000001`) and `offices - 1`
    /// service offices (`1310000101`, `1310000102`, …).
    pub fn new(seed: u64, start: OffsetDateTime, offices: u16) -> Self {
        // Numbers and kinds below are valid by construction; an invalid one would only be left out.
        let office =
            |number: String, role: OfficeRole, kind: &str, name: String| match (number.parse(), kind.parse())
            {
                (Ok(number), Ok(kind)) => Some(RosterOffice {
                    number,
                    role,
                    kind,
                    name,
                }),
                _ => None,
            };
        let care_manager = office(
            "1310000001".to_owned(),
            OfficeRole::CareManagement,
            "43",
            "シミュレータ居宅介護支援事業所".to_owned(),
        );
        let providers = (1..offices).filter_map(|n| {
            let kind = SERVICE_KINDS[usize::from(n - 1) % SERVICE_KINDS.len()];
            office(
                format!("13100{:05}", 100 + u32::from(n)),
                OfficeRole::Service,
                kind,
                format!("シミュレータサービス事業所{n}"),
            )
        });
        Self {
            seed,
            start,
            key_secret: None,
            offices: care_manager
                .into_iter()
                .take(usize::from(offices.min(1)))
                .chain(providers)
                .collect(),
        }
    }

    /// The offices as the ecosystem builder takes them: account ready, licensed since the start, holding
    /// a certificate.
    pub fn descriptions(&self) -> Vec<OfficeDescription> {
        self.offices
            .iter()
            .map(|office| {
                let profile = OfficeProfile {
                    number: office.number,
                    kind: office.kind,
                    role: office.role,
                    name: office.name.clone(),
                };
                OfficeDescription::ready(profile, roster_password(self.seed, office.number), self.start)
            })
            .collect()
    }

    /// With the CA's keys derived from `secret` rather than taken from the committed pool.
    pub fn with_key_secret(mut self, secret: KeySecret) -> Self {
        self.key_secret = Some(secret);
        self
    }

    /// The ecosystem as it stands at the start, before any journal is replayed.
    pub fn builder(&self) -> EcosystemBuilder {
        let keys = self
            .key_secret
            .clone()
            .map_or(KeySource::CommittedPool, KeySource::Derived);
        EcosystemBuilder::new(self.seed, self.start)
            .keys(keys)
            .offices(self.descriptions())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_roster_has_one_care_manager_and_numbered_providers_of_several_kinds() {
        let genesis = Genesis::new(1, time::macros::datetime!(2026-04-01 09:00 +9), 4);
        let numbers: Vec<String> = genesis.offices.iter().map(|o| o.number.to_string()).collect();
        assert_eq!(numbers, ["1310000001", "1310000101", "1310000102", "1310000103"]);
        let kinds: Vec<String> = genesis.offices.iter().map(|o| o.kind.to_string()).collect();
        assert_eq!(kinds, ["43", "11", "15", "17"]);
        assert_eq!(genesis.offices[0].role, OfficeRole::CareManagement);
        assert!(Genesis::new(1, genesis.start, 0).offices.is_empty());
    }

    #[test]
    fn the_key_secret_is_recorded_and_read_back_and_absent_from_older_records() {
        let start = time::macros::datetime!(2026-04-01 09:00 +9);
        let secret = KeySecret::from_bytes([0xA5; 32]);
        let genesis = Genesis::new(1, start, 2).with_key_secret(secret.clone());
        let json = serde_json::to_string(&genesis).unwrap();
        assert!(json.contains(&"a5".repeat(32)), "{json}");
        assert_eq!(serde_json::from_str::<Genesis>(&json).unwrap(), genesis);
        // A genesis recorded before keys were derived keeps the committed pool.
        let older = serde_json::to_string(&Genesis::new(1, start, 2)).unwrap();
        assert!(!older.contains("key_secret"));
        assert_eq!(serde_json::from_str::<Genesis>(&older).unwrap().key_secret, None);
        let bad = json.replace(&"a5".repeat(32), "a5");
        assert!(serde_json::from_str::<Genesis>(&bad).is_err());
    }
}
