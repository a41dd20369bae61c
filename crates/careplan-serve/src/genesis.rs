//! The genesis of an ecosystem: what every process builds before replaying the journal.

use careplan_ca::{CertificateAuthority, CertificateType};
use careplan_core::{OfficeNumber, ServiceKind};
use careplan_eseikyu::PortalConfig;
use careplan_license::{LicenceConfig, PaymentMethod, UsageApplication};
use careplan_parties::{OfficeSetup, PartyState, ProvisionedOffice};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// An office of the roster `serve` starts with: account ready, licensed, holding a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterOffice {
    /// Office number (事業所番号).
    pub number: OfficeNumber,
    /// `care_management` or `service`.
    pub role: String,
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
}

/// Service kinds given to the roster's service offices, in turn: home-visit care, day care, welfare
/// equipment rental, short stay, home-visit nursing.
const SERVICE_KINDS: [&str; 5] = ["11", "15", "17", "21", "13"];

/// The roster's offices' changed password.
fn roster_password(office: OfficeNumber) -> String {
    format!("Sim{office}")
}

impl Genesis {
    /// A new ecosystem born at `start` with one care-management office (`1310000001`) and `offices - 1`
    /// service offices (`1310000101`, `1310000102`, …).
    pub fn new(seed: u64, start: OffsetDateTime, offices: u16) -> Self {
        // Numbers and kinds below are valid by construction; an invalid one would only be left out.
        let office =
            |number: String, role: &str, kind: &str, name: String| match (number.parse(), kind.parse()) {
                (Ok(number), Ok(kind)) => Some(RosterOffice {
                    number,
                    role: role.to_owned(),
                    kind,
                    name,
                }),
                _ => None,
            };
        let care_manager = office(
            "1310000001".to_owned(),
            "care_management",
            "43",
            "シミュレータ居宅介護支援事業所".to_owned(),
        );
        let providers = (1..offices).filter_map(|n| {
            let kind = SERVICE_KINDS[usize::from(n - 1) % SERVICE_KINDS.len()];
            office(
                format!("13100{:05}", 100 + u32::from(n)),
                "service",
                kind,
                format!("シミュレータサービス事業所{n}"),
            )
        });
        Self {
            seed,
            start,
            offices: care_manager
                .into_iter()
                .take(usize::from(offices.min(1)))
                .chain(providers)
                .collect(),
        }
    }

    /// The parties as they stand at the start: the CA, the portal and the site, with the roster's offices
    /// set up. Gives what each office knows.
    pub fn build(&self) -> Result<(PartyState, Vec<ProvisionedOffice>), String> {
        let ca = CertificateAuthority::new().map_err(|e| e.to_string())?;
        let mut state = PartyState::new(PortalConfig::default(), LicenceConfig::default(), ca, self.seed);
        let known = self
            .offices
            .iter()
            .map(|office| {
                let setup = OfficeSetup {
                    number: office.number,
                    account: Some(roster_password(office.number)),
                    licence: Some((
                        self.start,
                        UsageApplication::typical(&office.name, office.number, PaymentMethod::Deduction),
                    )),
                    certificate: Some(CertificateType::CareInsurance),
                };
                state
                    .provision(self.start, &setup)
                    .map_err(|e| format!("cannot set up office {}: {e}", office.number))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((state, known))
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
        assert_eq!(genesis.offices[0].role, "care_management");
        assert!(Genesis::new(1, genesis.start, 0).offices.is_empty());
    }

    #[test]
    fn building_twice_gives_the_same_credentials_and_certificates() {
        let genesis = Genesis::new(7, time::macros::datetime!(2026-04-01 09:00 +9), 2);
        let (_, first) = genesis.build().unwrap();
        let (_, again) = genesis.build().unwrap();
        assert_eq!(first.len(), 2);
        for (a, b) in first.iter().zip(&again) {
            assert_eq!(a.login_details(), b.login_details());
            assert!(a.login_details().is_some());
            let fingerprint = |p: &ProvisionedOffice| p.certificate.as_ref().map(|c| c.fingerprint().sha256);
            assert_eq!(fingerprint(a), fingerprint(b));
        }
    }
}
