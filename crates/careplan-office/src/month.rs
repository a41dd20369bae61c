//! A month's exchange between one care-management office and its providers, care software to care
//! software (no relay): the month `careplan-sim gen` writes and the benchmarks validate.

use careplan_core::{CareMonth, ErrorCode, OfficeNumber, ServiceKind};
use careplan_synth::Deviations;
use careplan_synth::catalogue::{PROVIDER_KINDS, provider_name};
use time::OffsetDateTime;

use crate::software::{CareSoftware, OfficeProfile, OfficeRole, SendUnit, SoftwareError, SyntheticSoftware};

/// The `n`-th office (1-based) of the generated region: `13100NNNNN`.
fn generated_number(n: u16) -> Option<OfficeNumber> {
    format!("13100{n:05}").parse().ok()
}

/// The care-management office of a generated month: 1310000001.
pub fn generated_care_manager() -> Option<OfficeProfile> {
    Some(OfficeProfile {
        number: generated_number(1)?,
        kind: ServiceKind::CARE_MANAGEMENT,
        role: OfficeRole::CareManagement,
        name: "さくら居宅介護支援事業所".to_owned(),
    })
}

/// `count` providers of a generated month (1310000002, …), opened in turn as the kinds of
/// [`PROVIDER_KINDS`].
pub fn generated_providers(count: u16) -> Vec<OfficeProfile> {
    (1..=count)
        .filter_map(|n| {
            let index = usize::from(n - 1);
            let kind = PROVIDER_KINDS[index % PROVIDER_KINDS.len()];
            Some(OfficeProfile {
                number: generated_number(n.checked_add(1)?)?,
                kind,
                role: OfficeRole::Service,
                name: provider_name(kind, index / PROVIDER_KINDS.len() + 1),
            })
        })
        .collect()
}

/// What one month's exchange is made of.
#[derive(Debug, Clone)]
pub struct MonthExchange<'a> {
    /// The care-management office that plans.
    pub care_manager: &'a OfficeProfile,
    /// The providers it plans with.
    pub providers: &'a [OfficeProfile],
    /// The service month.
    pub month: CareMonth,
    /// Users of the care-management office.
    pub users: usize,
    /// Seed of the generated data.
    pub seed: u64,
    /// How the providers' actuals drift from the plans.
    pub deviations: Deviations,
    /// When the plans are exported.
    pub plans_at: OffsetDateTime,
    /// When the actuals are exported.
    pub actuals_at: OffsetDateTime,
}

impl MonthExchange<'_> {
    /// Plans the month, has every provider import its send unit and export its actuals, and the care
    /// manager import them. Returns each provider's plan send unit followed by its actuals; a provider whose
    /// visits were all cancelled sends no actuals.
    pub fn run(&self) -> Result<Vec<SendUnit>, SoftwareError> {
        let mut care_manager = SyntheticSoftware::new(self.care_manager.clone(), self.seed);
        let plans = care_manager.export_plans(self.plans_at, self.month, self.providers, Some(self.users))?;
        let mut send_units = Vec::with_capacity(plans.len() * 2);
        for plan in plans {
            // Invariant: `export_plans` addresses send units only to the providers it was given.
            let Some(profile) = self.providers.iter().find(|p| p.number == plan.receiver) else {
                continue;
            };
            let mut provider =
                SyntheticSoftware::new(profile.clone(), self.seed).with_deviations(self.deviations);
            provider.import(self.plans_at, &plan.inputs())?;
            send_units.push(plan);
            match provider.export_actuals(self.actuals_at, self.month, self.care_manager) {
                Ok(actuals) => {
                    care_manager.import(self.plans_at, &actuals.inputs())?;
                    send_units.push(actuals);
                }
                Err(e) if e.code() == ErrorCode::NothingToSend => {}
                Err(e) => return Err(e),
            }
        }
        Ok(send_units)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_offices_cycle_through_the_provider_kinds() {
        let providers = generated_providers(7);
        let numbers: Vec<&str> = providers.iter().map(|p| p.number.as_str()).collect();
        assert_eq!(numbers[0], "1310000002");
        assert_eq!(numbers[6], "1310000008");
        assert_eq!(providers[5].kind, providers[0].kind);
        assert_ne!(providers[5].name, providers[0].name);
        assert_eq!(
            generated_care_manager().map(|o| o.number.to_string()).as_deref(),
            Some("1310000001")
        );
    }
}
