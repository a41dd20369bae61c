//! Users (利用者) of a care-management office and the office's staff, generated from a seed.

use careplan_core::OfficeNumber;
use careplan_spec::records::{CareLevel, InsuredNumber, InsurerNumber, Sex, UserKey};
use fake::Fake;
use fake::faker::name::raw::Name;
use fake::faker::phone_number::raw::PhoneNumber;
use fake::locales::JA_JP;
use rand::Rng;
use time::{Date, Month};

use crate::rng_for;

/// Family names of the generation now in care: (kanji, kana).
const FAMILY_NAMES: [(&str, &str); 20] = [
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
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
];

/// Given names common among people born 1925–1950: (kanji, kana, sex).
const GIVEN_NAMES: [(&str, &str, Sex); 20] = [
    ("花子", "ハナコ", Sex::Female),
    ("幸子", "サチコ", Sex::Female),
    ("和子", "カズコ", Sex::Female),
    ("節子", "セツコ", Sex::Female),
    ("久子", "ヒサコ", Sex::Female),
    ("文子", "フミコ", Sex::Female),
    ("トシ", "トシ", Sex::Female),
    ("ミヨ", "ミヨ", Sex::Female),
    ("静江", "シズエ", Sex::Female),
    ("千代", "チヨ", Sex::Female),
    ("太郎", "タロウ", Sex::Male),
    ("清", "キヨシ", Sex::Male),
    ("勇", "イサム", Sex::Male),
    ("茂", "シゲル", Sex::Male),
    ("進", "ススム", Sex::Male),
    ("実", "ミノル", Sex::Male),
    ("正雄", "マサオ", Sex::Male),
    ("三郎", "サブロウ", Sex::Male),
    ("博", "ヒロシ", Sex::Male),
    ("武", "タケシ", Sex::Male),
];

/// Towns for addresses: (ward, town, the first three digits of its postal code).
const TOWNS: [(&str, &str, u16); 8] = [
    ("世田谷区", "桜新町", 154),
    ("杉並区", "阿佐谷北", 166),
    ("練馬区", "石神井町", 177),
    ("大田区", "蒲田", 144),
    ("足立区", "千住", 120),
    ("江戸川区", "小岩", 133),
    ("板橋区", "常盤台", 174),
    ("中野区", "鷺宮", 165),
];

/// Care levels of 要介護1–5 with their benefit limits (区分支給限度基準額, units per month, 2019 table).
const CARE_LEVELS: [(CareLevel, u32); 5] = [
    (CareLevel::Care1, 16_765),
    (CareLevel::Care2, 19_705),
    (CareLevel::Care3, 27_048),
    (CareLevel::Care4, 30_938),
    (CareLevel::Care5, 36_217),
];

/// The benefit limit (区分支給限度基準額, units a month, 2019 table) of a care level of 要介護1–5.
pub fn benefit_limit(level: CareLevel) -> Option<u32> {
    CARE_LEVELS
        .iter()
        .find(|(l, _)| *l == level)
        .map(|&(_, limit)| limit)
}

/// A user (利用者) of care services, with what the 補足 and the plans need.
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
    /// Postal code `XXX-XXXX`.
    pub postal_code: String,
    /// Address (住所１).
    pub address: String,
    /// Phone number.
    pub phone: String,
    /// Care level (要介護状態区分).
    pub care_level: CareLevel,
    /// Benefit limit in units (区分支給限度基準額).
    pub benefit_limit: u32,
    /// Weekdays (1 = Monday … 7 = Sunday) of the user's regular visits.
    pub visit_days: [u8; 2],
    /// Hour of the regular visit.
    pub visit_hour: u8,
    /// Short-stay days used before the month, in the current certification period.
    pub short_stay_days_before: u8,
}

/// The users of one care-management office.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roster {
    users: Vec<CareUser>,
}

impl Roster {
    /// `count` users of `office`, the same for the same seed; offices of one seed get different users.
    pub fn generate(seed: u64, office: OfficeNumber, count: usize) -> Self {
        let mut rng = rng_for(seed, &["roster", office.as_str()]);
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
                Date::from_calendar_date(rng.random_range(1925..1950), month, rng.random_range(1..=28))
                    .unwrap_or(Date::MIN);
            let (ward, town, postal) = TOWNS[rng.random_range(0..TOWNS.len())];
            let first_day = rng.random_range(1..=5u8);
            users.push(CareUser {
                key,
                name: format!("{family} {given}"),
                name_kana: format!("{family_kana} {given_kana}"),
                sex,
                birth_date,
                postal_code: format!("{postal:03}-{:04}", rng.random_range(0..10_000)),
                address: format!(
                    "東京都{ward}{town}{}-{}-{}",
                    rng.random_range(1..=5),
                    rng.random_range(1..=30),
                    rng.random_range(1..=20)
                ),
                phone: PhoneNumber(JA_JP).fake_with_rng(&mut rng),
                care_level,
                benefit_limit,
                visit_days: [first_day, first_day + rng.random_range(2..=3u8)],
                visit_hour: [9, 10, 14, 15][rng.random_range(0..4)],
                short_stay_days_before: rng.random_range(0..=12),
            });
        }
        Self { users }
    }

    /// The users.
    pub fn users(&self) -> &[CareUser] {
        &self.users
    }
}

/// A staff member's name (a care manager's), the same for the same seed and office.
pub fn staff_name(seed: u64, office: OfficeNumber) -> String {
    Name(JA_JP).fake_with_rng(&mut rng_for(seed, &["staff", office.as_str()]))
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
        for user in roster.users() {
            assert!(user.key.insurer.to_string().starts_with("13"));
            assert!(user.phone.len() <= 15 && user.phone.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
            assert_eq!(user.postal_code.len(), 8);
            assert!(
                user.name_kana
                    .chars()
                    .all(|c| c == ' ' || ('ァ'..='ヶ').contains(&c) || c == 'ー')
            );
        }
        assert_eq!(staff_name(1, a), staff_name(1, a));
        assert!(!staff_name(1, a).is_empty());
    }
}
