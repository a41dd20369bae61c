//! Users (利用者) of a care-management office, generated deterministically from a seed.

use careplan_core::OfficeNumber;
use careplan_spec::records::{InsuredNumber, InsurerNumber, Sex, UserKey};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{Date, Month};

/// Family names: (kanji, kana).
const FAMILY_NAMES: [(&str, &str); 12] = [
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
];

/// Given names: (kanji, kana, sex).
const GIVEN_NAMES: [(&str, &str, Sex); 10] = [
    ("花子", "ハナコ", Sex::Female),
    ("幸子", "サチコ", Sex::Female),
    ("和子", "カズコ", Sex::Female),
    ("節子", "セツコ", Sex::Female),
    ("久子", "ヒサコ", Sex::Female),
    ("太郎", "タロウ", Sex::Male),
    ("清", "キヨシ", Sex::Male),
    ("勇", "イサム", Sex::Male),
    ("茂", "シゲル", Sex::Male),
    ("進", "ススム", Sex::Male),
];

/// Care levels (要介護状態区分) of 要介護1–5 and their benefit limits (区分支給限度基準額, units/month).
const CARE_LEVELS: [(&str, u32); 5] = [
    ("21", 16_765),
    ("22", 19_705),
    ("23", 27_048),
    ("24", 30_938),
    ("25", 36_217),
];

/// A user (利用者) of care services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareUser {
    /// Insurer + insured number.
    pub key: UserKey,
    /// Full name (利用者氏名).
    pub name: String,
    /// Name in katakana (フリガナ).
    pub name_kana: String,
    /// Sex.
    pub sex: Sex,
    /// Date of birth.
    pub birth_date: Date,
    /// Care level code (要介護状態区分).
    pub care_level: &'static str,
    /// Benefit limit in units (区分支給限度基準額).
    pub benefit_limit: u32,
    /// Weekdays (1 = Monday … 7 = Sunday) of the user's regular visits.
    pub visit_days: [u8; 2],
    /// Hour of the regular visit.
    pub visit_hour: u8,
}

/// The users of one care-management office.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    users: Vec<CareUser>,
}

impl Roster {
    /// `count` users for `office`, the same for the same seed.
    pub fn generate(seed: u64, office: OfficeNumber, count: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // One stream per office: offices of one scenario get different users from the same seed.
        rng.set_stream(office.as_str().parse().unwrap_or_default());
        let insurer = InsurerNumber::from_number(
            u32::from(office.prefecture().get()) * 10_000 + rng.random_range(1000..10_000),
        );
        let mut users = Vec::with_capacity(count);
        while users.len() < count {
            let insured = InsuredNumber::from_number(rng.random_range(1..10_000_000_000u64));
            let key = UserKey {
                insurer: insurer.clone(),
                insured,
            };
            if users.iter().any(|u: &CareUser| u.key == key) {
                continue;
            }
            let (family, family_kana) = FAMILY_NAMES[rng.random_range(0..FAMILY_NAMES.len())];
            let (given, given_kana, sex) = GIVEN_NAMES[rng.random_range(0..GIVEN_NAMES.len())];
            let (care_level, benefit_limit) = CARE_LEVELS[rng.random_range(0..CARE_LEVELS.len())];
            let month = Month::try_from(rng.random_range(1..=12u8)).unwrap_or(Month::January);
            let birth_date =
                Date::from_calendar_date(rng.random_range(1930..1950), month, rng.random_range(1..=28))
                    .unwrap_or(Date::MIN);
            let first_day = rng.random_range(1..=5u8);
            users.push(CareUser {
                key,
                name: format!("{family} {given}"),
                name_kana: format!("{family_kana} {given_kana}"),
                sex,
                birth_date,
                care_level,
                benefit_limit,
                visit_days: [first_day, first_day + rng.random_range(2..=3u8)],
                visit_hour: [9, 10, 14, 15][rng.random_range(0..4)],
            });
        }
        Self { users }
    }

    /// The users.
    pub fn users(&self) -> &[CareUser] {
        &self.users
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_users_other_office_other_users() {
        let a: OfficeNumber = "1310000001".parse().unwrap();
        let b: OfficeNumber = "1310000009".parse().unwrap();
        assert_eq!(Roster::generate(7, a, 5), Roster::generate(7, a, 5));
        assert_ne!(Roster::generate(7, a, 5), Roster::generate(8, a, 5));
        assert_ne!(Roster::generate(7, a, 5), Roster::generate(7, b, 5));
        let roster = Roster::generate(7, a, 50);
        let keys: std::collections::HashSet<_> = roster.users().iter().map(|u| &u.key).collect();
        assert_eq!(keys.len(), 50);
        assert!(
            roster
                .users()
                .iter()
                .all(|u| u.key.insurer.to_string().starts_with("13"))
        );
    }
}
