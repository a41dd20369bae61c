//! Seeded generation of realistic, conformant data for the care plan exchange: users with names and
//! kana, insurer and insured numbers and care levels; per-day service usage sheets (第6表) for providers
//! of several kinds (home help, day care with its bathing add-on, equipment rental with TAIS codes,
//! short stays with day counts, visiting nursing); annexes (第7表) derived from the sheets with their
//! subtotal and grand-total rows; user supplements (利用者補足情報); the care plan's tables 1–3
//! (居宅サービス計画書) written from the planned services; the 介護予防 files (basic information and
//! prevention plan, with their annexes); and actuals (実績) derived from plans with
//! configurable deviations.
//!
//! Architecture invariants:
//! - Pure and deterministic: every function takes its seed and inputs and returns records; the same
//!   inputs give the same records on every platform. Each (purpose, office, user) draws from its own
//!   random stream, so adding a provider or a user does not change what the others get.
//! - Conformant by construction: everything generated validates without findings under
//!   `careplan_spec::validate` in strict mode (tested over many seeds), and 7表 figures are computed
//!   from the 6表 rows, never drawn independently.
//! - No I/O and no clock: callers pass dates.

pub mod catalogue;
mod month;
mod people;
mod prevention;
mod tables;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use month::{
    Deviations, Office, PlanContext, PlannedService, UserMonth, actuals, annex_of, plan_services, plan_user,
    providers_of, write_month,
};
pub use people::{CareUser, Roster, benefit_limit, staff_name};
pub use prevention::{PreventionFiles, prevention_files};
pub use tables::{PlanTables, TableContext, plan_tables};

/// The random stream of one purpose: the seed picks the generator, the parts (FNV-1a hashed) the stream.
pub(crate) fn rng_for(seed: u64, parts: &[&str]) -> ChaCha8Rng {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(hash);
    rng
}
