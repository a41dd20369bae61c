//! The neutral case of contract 1 (`docs/schemas/case.v1.json`): what `prepare` loads into a
//! care-management product — the providers, the users with their insured numbers, care levels and
//! benefit limits, and the services planned for each in one month — so that a conformance case can
//! steer the product's plans to edge data its own test data would never hold.
//!
//! Two forms: [`Case`] is the JSON the bench writes (strings, as the standard's fields are written);
//! [`PreparedMonth`] is the same case parsed, what the bench's own software plans from. A case is read
//! whole or refused with the path of its first bad value.

use std::collections::BTreeSet;

use careplan_core::{CareMonth, ErrorCode, OfficeNumber, ServiceKind};
use careplan_spec::records::{CareLevel, EquipmentItem, ServiceTime, Sex, UserKey};
use careplan_synth::{CareUser, Office, PlannedService};
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

/// A month's case as the bench writes it for a product's `prepare` (contract 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// 対象年月, `YYYYMM`.
    pub month: String,
    /// The service offices the plans name.
    pub providers: Vec<CaseOffice>,
    /// The users (利用者) and what is planned for them.
    pub users: Vec<CaseUser>,
}

/// A service office of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseOffice {
    /// 事業所番号.
    pub number: String,
    /// サービス種類コード.
    pub kind: String,
    /// 事業所名.
    pub name: String,
}

/// A user of a case, with the fields of the user supplement (利用者補足情報) and the month's services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseUser {
    /// 保険者番号, 6 digits.
    pub insurer: String,
    /// 被保険者番号, 10 digits.
    pub insured: String,
    /// 利用者氏名: may hold characters MS932 cannot write, which the product must convert (spec §4.3).
    pub name: String,
    /// フリガナ.
    pub name_kana: String,
    /// 性別: `1` male, `2` female.
    pub sex: String,
    /// 生年月日, `YYYY-MM-DD`.
    pub birth_date: String,
    /// 郵便番号, `XXX-XXXX`.
    pub postal_code: String,
    /// 住所.
    pub address: String,
    /// 電話番号.
    pub phone: String,
    /// 要介護状態区分 code: `21`–`25` (要介護１–５).
    pub care_level: String,
    /// 区分支給限度基準額, units a month.
    pub benefit_limit: u32,
    /// 前月までの短期入所利用日数: short-stay days used before the month.
    pub short_stay_days_before: u8,
    /// The services planned for the month.
    pub services: Vec<CaseService>,
}

/// A planned service: one code of one provider, on its dates, at its times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseService {
    /// サービス事業者コード: one of the case's providers.
    pub provider: String,
    /// サービスコード: service kind (the provider's) + item.
    pub service_code: String,
    /// 単位数 per occurrence.
    pub units: u32,
    /// サービス開始時刻 `HHMM`, or `9999` for services without a time (rentals, short stays).
    pub start: String,
    /// サービス終了時刻 `HHMM`, or `9999`.
    pub end: String,
    /// サービス利用日, `YYYY-MM-DD`, each within the month.
    pub dates: Vec<String>,
    /// TAISコード (rentals).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tais_code: String,
    /// 福祉用具届出コード (rentals without a TAIS code).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notified_code: String,
    /// 用具名称 (rentals).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub product_name: String,
    /// 明細判別コード: tells apart two rentals of one product (spec §8.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail_code: Option<u8>,
}

/// A case parsed: what a care manager planned for a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedMonth {
    /// 対象年月.
    pub month: CareMonth,
    /// The providers.
    pub providers: Vec<Office>,
    /// The users, each with the services planned.
    pub users: Vec<PreparedUser>,
}

/// A user of a parsed case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedUser {
    /// Who the user is.
    pub user: CareUser,
    /// What is planned for the month.
    pub services: Vec<PlannedService>,
}

impl PreparedMonth {
    /// The users with at least one service of `provider`: the users of that provider's send unit.
    pub fn users_of(&self, provider: OfficeNumber) -> impl Iterator<Item = &PreparedUser> {
        self.users
            .iter()
            .filter(move |u| u.services.iter().any(|s| s.provider == provider))
    }
}

/// Why a case was refused: the path of its first bad value (`users[1].services[0].dates[2]`) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("case {path}: {message}")]
pub struct CaseError {
    /// Where in the case.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl CaseError {
    /// `CASE_INVALID`.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::CaseInvalid
    }
}

fn bad(path: impl Into<String>, message: impl Into<String>) -> CaseError {
    CaseError {
        path: path.into(),
        message: message.into(),
    }
}

fn parsed<T: std::str::FromStr>(value: &str, path: &str, what: &str) -> Result<T, CaseError> {
    value
        .parse()
        .map_err(|_| bad(path, format!("`{value}` is not {what}")))
}

fn date(value: &str, path: &str) -> Result<Date, CaseError> {
    Date::parse(value, format_description!("[year]-[month]-[day]"))
        .map_err(|_| bad(path, format!("`{value}` is not a date YYYY-MM-DD")))
}

impl Case {
    /// The case of a prepared month, as the bench writes it.
    pub fn of(prepared: &PreparedMonth) -> Self {
        Self {
            month: prepared.month.to_string(),
            providers: prepared
                .providers
                .iter()
                .map(|o| CaseOffice {
                    number: o.number.to_string(),
                    kind: o.kind.to_string(),
                    name: o.name.clone(),
                })
                .collect(),
            users: prepared
                .users
                .iter()
                .map(|PreparedUser { user, services }| CaseUser::of(user, services))
                .collect(),
        }
    }

    /// The case parsed, or the first bad value. Beyond each value's format: every service is of a
    /// provider of the case and of that provider's kind, on dates of the month; no user appears twice;
    /// a user's month stays within the benefit limit (contract 1's cases do not plan over it).
    pub fn parse(&self) -> Result<PreparedMonth, CaseError> {
        let month: CareMonth = parsed(&self.month, "month", "a month YYYYMM")?;
        let mut providers = Vec::with_capacity(self.providers.len());
        for (i, office) in self.providers.iter().enumerate() {
            let path = format!("providers[{i}]");
            providers.push(Office {
                number: parsed(&office.number, &format!("{path}.number"), "an office number")?,
                kind: parsed(&office.kind, &format!("{path}.kind"), "a service kind")?,
                name: office.name.clone(),
            });
        }
        let mut users = Vec::with_capacity(self.users.len());
        let mut keys = BTreeSet::new();
        for (i, case_user) in self.users.iter().enumerate() {
            let path = format!("users[{i}]");
            let key = UserKey {
                insurer: parsed(
                    &case_user.insurer,
                    &format!("{path}.insurer"),
                    "an insurer number",
                )?,
                insured: parsed(
                    &case_user.insured,
                    &format!("{path}.insured"),
                    "an insured number",
                )?,
            };
            if !keys.insert(key.clone()) {
                return Err(bad(&path, format!("user {key} appears twice")));
            }
            let care_level: CareLevel = parsed(
                &case_user.care_level,
                &format!("{path}.care_level"),
                "a care level code",
            )?;
            if !matches!(
                care_level,
                CareLevel::Care1 | CareLevel::Care2 | CareLevel::Care3 | CareLevel::Care4 | CareLevel::Care5
            ) {
                return Err(bad(
                    format!("{path}.care_level"),
                    "contract 1's cases plan users of 要介護１–５ (21–25)",
                ));
            }
            let user = CareUser {
                key,
                name: case_user.name.clone(),
                name_kana: case_user.name_kana.clone(),
                sex: parsed::<Sex>(&case_user.sex, &format!("{path}.sex"), "1 or 2")?,
                birth_date: date(&case_user.birth_date, &format!("{path}.birth_date"))?,
                postal_code: case_user.postal_code.clone(),
                address: case_user.address.clone(),
                phone: case_user.phone.clone(),
                care_level,
                benefit_limit: case_user.benefit_limit,
                // Generation-only fields: a prepared user's visits are given, not drawn.
                visit_days: [1, 3],
                visit_hour: 9,
                short_stay_days_before: case_user.short_stay_days_before,
            };
            let mut services = Vec::with_capacity(case_user.services.len());
            for (j, service) in case_user.services.iter().enumerate() {
                services.push(parse_service(
                    service,
                    &format!("{path}.services[{j}]"),
                    month,
                    &providers,
                )?);
            }
            let units: u64 = services
                .iter()
                .map(|s| u64::from(s.units) * s.dates.len() as u64)
                .sum();
            if units > u64::from(user.benefit_limit) {
                return Err(bad(
                    format!("{path}.services"),
                    format!(
                        "{units} units planned, over the benefit limit of {}: contract 1's cases stay within it",
                        user.benefit_limit
                    ),
                ));
            }
            users.push(PreparedUser { user, services });
        }
        Ok(PreparedMonth {
            month,
            providers,
            users,
        })
    }
}

impl CaseUser {
    /// A user (利用者) and what is planned for them, as the bench writes a case.
    pub fn of(user: &CareUser, services: &[PlannedService]) -> Self {
        Self {
            insurer: user.key.insurer.to_string(),
            insured: user.key.insured.to_string(),
            name: user.name.clone(),
            name_kana: user.name_kana.clone(),
            sex: user.sex.to_string(),
            birth_date: user.birth_date.to_string(),
            postal_code: user.postal_code.clone(),
            address: user.address.clone(),
            phone: user.phone.clone(),
            care_level: user.care_level.code().to_owned(),
            benefit_limit: user.benefit_limit,
            short_stay_days_before: user.short_stay_days_before,
            services: services
                .iter()
                .map(|s| CaseService {
                    provider: s.provider.to_string(),
                    service_code: s.service_code.to_string(),
                    units: s.units,
                    start: s.start.to_string(),
                    end: s.end.to_string(),
                    dates: s.dates.iter().map(Date::to_string).collect(),
                    tais_code: s.equipment.tais_code.clone(),
                    notified_code: s.equipment.notified_code.clone(),
                    product_name: s.equipment.product_name.clone(),
                    detail_code: s.detail_code,
                })
                .collect(),
        }
    }
}

fn parse_service(
    service: &CaseService,
    path: &str,
    month: CareMonth,
    providers: &[Office],
) -> Result<PlannedService, CaseError> {
    let provider: OfficeNumber = parsed(&service.provider, &format!("{path}.provider"), "an office number")?;
    let office = providers.iter().find(|o| o.number == provider).ok_or_else(|| {
        bad(
            format!("{path}.provider"),
            format!("{provider} is not one of the case's providers"),
        )
    })?;
    let service_code: careplan_spec::records::ServiceCode = parsed(
        &service.service_code,
        &format!("{path}.service_code"),
        "a service code",
    )?;
    let kind: ServiceKind = service_code.kind();
    if kind != office.kind {
        return Err(bad(
            format!("{path}.service_code"),
            format!(
                "{service_code} is of kind {kind}, its provider {provider} of kind {}",
                office.kind
            ),
        ));
    }
    let time = |value: &str, field: &str| -> Result<ServiceTime, CaseError> {
        parsed(value, &format!("{path}.{field}"), "a time HHMM or 9999")
    };
    let (start, end) = (time(&service.start, "start")?, time(&service.end, "end")?);
    if (start == ServiceTime::Unspecified) != (end == ServiceTime::Unspecified) {
        return Err(bad(path, "start and end are both times or both 9999".to_owned()));
    }
    if service.dates.is_empty() {
        return Err(bad(format!("{path}.dates"), "a service needs at least one date"));
    }
    let mut dates = Vec::with_capacity(service.dates.len());
    for (k, value) in service.dates.iter().enumerate() {
        let at = format!("{path}.dates[{k}]");
        let day = date(value, &at)?;
        if CareMonth::of(day) != month {
            return Err(bad(at, format!("{day} is not in the case's month {month}")));
        }
        dates.push(day);
    }
    Ok(PlannedService {
        provider,
        service_code,
        units: service.units,
        start,
        end,
        dates,
        equipment: EquipmentItem {
            tais_code: service.tais_code.clone(),
            notified_code: service.notified_code.clone(),
            product_name: service.product_name.clone(),
        },
        detail_code: service.detail_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case() -> Case {
        serde_json::from_str(
            r#"{
              "month": "202802",
              "providers": [ { "number": "1310000002", "kind": "11", "name": "ひまわり訪問介護" } ],
              "users": [ {
                "insurer": "131003", "insured": "0000012345", "name": "𠮷田 花子", "name_kana": "ヨシダ ハナコ",
                "sex": "2", "birth_date": "1938-04-02", "postal_code": "154-0015", "address": "東京都世田谷区桜新町1-2-3",
                "phone": "03-1234-5678", "care_level": "23", "benefit_limit": 27048, "short_stay_days_before": 0,
                "services": [ { "provider": "1310000002", "service_code": "111211", "units": 387,
                                "start": "0900", "end": "1000", "dates": ["2028-02-28", "2028-02-29"] } ]
              } ]
            }"#,
        )
        .unwrap()
    }

    #[test]
    fn a_case_parses_and_writes_back_the_same() {
        let prepared = case().parse().unwrap();
        assert_eq!(prepared.users[0].services[0].dates.len(), 2);
        assert_eq!(Case::of(&prepared), case());
    }

    /// The schema of `docs/adapter.md` names exactly the fields the bench writes, each level of it.
    #[test]
    fn the_published_schema_names_the_fields_written() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../docs/schemas/case.v1.json")).unwrap();
        let mut full = case();
        let service = &mut full.users[0].services[0];
        service.tais_code = "00170-000123".to_owned();
        service.notified_code = "X".to_owned();
        service.product_name = "車いす".to_owned();
        service.detail_code = Some(1);
        let written = serde_json::to_value(&full).unwrap();
        let keys = |value: &serde_json::Value| -> Vec<String> {
            let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
            keys.sort();
            keys
        };
        for (object, defined) in [
            (&written, &schema["properties"]),
            (&written["providers"][0], &schema["$defs"]["office"]["properties"]),
            (&written["users"][0], &schema["$defs"]["user"]["properties"]),
            (
                &written["users"][0]["services"][0],
                &schema["$defs"]["service"]["properties"],
            ),
        ] {
            assert_eq!(keys(object), keys(defined));
        }
    }

    #[test]
    fn a_bad_value_is_refused_with_its_path() {
        let mut wrong_day = case();
        wrong_day.users[0].services[0].dates[1] = "2028-03-01".to_owned();
        let mut wrong_kind = case();
        wrong_kind.users[0].services[0].service_code = "151111".to_owned();
        let mut over_limit = case();
        over_limit.users[0].benefit_limit = 700;
        let mut twice = case();
        twice.users.push(twice.users[0].clone());
        let mut support = case();
        support.users[0].care_level = "12".to_owned();
        for (case, path) in [
            (wrong_day, "users[0].services[0].dates[1]"),
            (wrong_kind, "users[0].services[0].service_code"),
            (over_limit, "users[0].services"),
            (twice, "users[1]"),
            (support, "users[0].care_level"),
        ] {
            let err = case.parse().unwrap_err();
            assert_eq!(
                (err.path.as_str(), err.code()),
                (path, ErrorCode::CaseInvalid),
                "{err}"
            );
        }
    }
}
