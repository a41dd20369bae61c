//! Identifiers of offices and their accounts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ErrorCode;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not 10 ASCII digits, or the first two digits are not a prefecture code.
    #[error("office number (事業所番号) `{0}` must be 10 digits starting with a prefecture code 01–47")]
    OfficeNumber(String),
    /// Not `KJ` + 2-digit prefecture code + 10-digit office number.
    #[error("office user ID `{0}` must be `KJ` + a 2-digit prefecture code + a 10-digit office number")]
    OfficeUserId(String),
    /// A billing-proxy ID (代理請求 ID, `HD…`), which cannot be used for care plan linkage.
    #[error("`{0}` is a billing-proxy ID (代理請求 ID); care plan linkage needs the office's own KJ ID")]
    ProxyIdNotAllowed(String),
    /// Not two characters from `[0-9A-Z]`.
    #[error("service kind (サービス種類コード) `{0}` must be 2 characters from 0-9 and A-Z")]
    ServiceKind(String),
}

impl IdError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            IdError::OfficeNumber(_) => ErrorCode::OfficeNumberInvalid,
            IdError::OfficeUserId(_) => ErrorCode::OfficeUserIdInvalid,
            IdError::ProxyIdNotAllowed(_) => ErrorCode::ProxyIdNotAllowed,
            IdError::ServiceKind(_) => ErrorCode::ServiceKindInvalid,
        }
    }
}

/// Prefecture code (都道府県番号): 01 (Hokkaido) to 47 (Okinawa).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PrefectureCode(u8);

impl PrefectureCode {
    /// Returns the code if `value` is in 1..=47.
    pub fn new(value: u8) -> Option<Self> {
        (1..=47).contains(&value).then_some(Self(value))
    }

    /// The numeric value, 1..=47.
    pub fn get(self) -> u8 {
        self.0
    }

    fn from_two_digits(digits: &[u8]) -> Option<Self> {
        match digits {
            [tens @ b'0'..=b'9', ones @ b'0'..=b'9'] => Self::new((tens - b'0') * 10 + (ones - b'0')),
            _ => None,
        }
    }
}

impl fmt::Display for PrefectureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// Office number (事業所番号): 10 digits, the first two being the office's prefecture code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfficeNumber([u8; 10]);

impl OfficeNumber {
    /// The office's prefecture, from the first two digits.
    pub fn prefecture(&self) -> PrefectureCode {
        // Invariant: checked by `from_str`, the only constructor.
        PrefectureCode::from_two_digits(&self.0[..2]).unwrap_or(PrefectureCode(1))
    }

    /// The 10 digits as a string slice.
    pub fn as_str(&self) -> &str {
        // Invariant: the bytes are ASCII digits, checked by `from_str`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The 10 digits as bytes, for comparing with the bytes of a record.
    pub fn as_bytes(&self) -> &[u8; 10] {
        &self.0
    }
}

impl FromStr for OfficeNumber {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        let digits: [u8; 10] = bytes
            .try_into()
            .map_err(|_| IdError::OfficeNumber(s.to_owned()))?;
        if !digits.iter().all(u8::is_ascii_digit) || PrefectureCode::from_two_digits(&digits[..2]).is_none() {
            return Err(IdError::OfficeNumber(s.to_owned()));
        }
        Ok(Self(digits))
    }
}

impl fmt::Display for OfficeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for OfficeNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfficeNumber({})", self.as_str())
    }
}

/// Office user ID (ユーザID): `KJ` + the 2-digit prefecture code of the billing federation
/// (国保連合会) + the 10-digit office number, e.g. `KJ272761690714`.
///
/// Billing-proxy IDs (代理請求 ID, `HD…`) are refused with [`ErrorCode::ProxyIdNotAllowed`]: they cannot
/// be used for care plan linkage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OfficeUserId {
    federation: PrefectureCode,
    office: OfficeNumber,
}

impl OfficeUserId {
    /// The ID the given federation issues to the office.
    pub fn new(federation: PrefectureCode, office: OfficeNumber) -> Self {
        Self { federation, office }
    }

    /// The prefecture of the federation that issued the ID.
    pub fn federation(&self) -> PrefectureCode {
        self.federation
    }

    /// The office the ID belongs to.
    pub fn office(&self) -> OfficeNumber {
        self.office
    }
}

impl FromStr for OfficeUserId {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("HD") {
            return Err(IdError::ProxyIdNotAllowed(s.to_owned()));
        }
        let invalid = || IdError::OfficeUserId(s.to_owned());
        let rest = s.strip_prefix("KJ").ok_or_else(invalid)?;
        if rest.len() != 12 || !rest.is_ascii() {
            return Err(invalid());
        }
        let federation = PrefectureCode::from_two_digits(&rest.as_bytes()[..2]).ok_or_else(invalid)?;
        let office = rest[2..].parse().map_err(|_| invalid())?;
        Ok(Self { federation, office })
    }
}

impl fmt::Display for OfficeUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KJ{}{}", self.federation, self.office)
    }
}

/// Service kind (サービス種類コード): two characters from `[0-9A-Z]`, e.g. `43` 居宅介護支援, `11` 訪問介護.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKind([u8; 2]);

impl ServiceKind {
    /// Care management (居宅介護支援), the kind of a care-management office.
    pub const CARE_MANAGEMENT: ServiceKind = ServiceKind(*b"43");
    /// Home help (訪問介護).
    pub const HOME_HELP: ServiceKind = ServiceKind(*b"11");
    /// Day care (通所介護).
    pub const DAY_CARE: ServiceKind = ServiceKind(*b"15");
    /// Visiting nursing (訪問看護).
    pub const VISITING_NURSING: ServiceKind = ServiceKind(*b"13");
    /// Welfare equipment rental (福祉用具貸与).
    pub const EQUIPMENT_RENTAL: ServiceKind = ServiceKind(*b"17");
    /// Short-stay daily-life care (短期入所生活介護).
    pub const SHORT_STAY: ServiceKind = ServiceKind(*b"21");

    /// The two characters.
    pub fn as_str(&self) -> &str {
        // Invariant: ASCII, checked by `from_str` and the constants.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The two characters as bytes, for comparing with the bytes of a record.
    pub fn as_bytes(&self) -> &[u8; 2] {
        &self.0
    }
}

impl FromStr for ServiceKind {
    type Err = IdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            &[a, b]
                if [a, b]
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()) =>
            {
                Ok(Self([a, b]))
            }
            _ => Err(IdError::ServiceKind(s.to_owned())),
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceKind({})", self.as_str())
    }
}

/// Implements serde for identifiers through their string form, so that invalid values are refused at
/// deserialization with the identifier's own message.
macro_rules! serde_via_str {
    ($($ty:ty),*) => {$(
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}

serde_via_str!(OfficeNumber, OfficeUserId, ServiceKind);

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn office_number_needs_a_prefecture_code() {
        assert_eq!(
            "2761690714".parse::<OfficeNumber>().unwrap().prefecture().get(),
            27
        );
        assert!("4710000001".parse::<OfficeNumber>().is_ok());
        for bad in [
            "0010000001",
            "4810000001",
            "276169071",
            "27616907145",
            "27616907a4",
            "２７６１６９０７１４",
        ] {
            assert_eq!(
                bad.parse::<OfficeNumber>().unwrap_err().code(),
                ErrorCode::OfficeNumberInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn office_user_id_round_trips_and_refuses_proxy_ids() {
        let id: OfficeUserId = "KJ272761690714".parse().unwrap();
        assert_eq!(id.federation().get(), 27);
        assert_eq!(id.office().as_str(), "2761690714");
        assert_eq!(id.to_string(), "KJ272761690714");
        assert_eq!(
            "HD272761690714".parse::<OfficeUserId>().unwrap_err().code(),
            ErrorCode::ProxyIdNotAllowed
        );
        for bad in [
            "KJ27276169071",
            "KJ002761690714",
            "kj272761690714",
            "KJ27276169071é",
            "KJ",
        ] {
            assert_eq!(
                bad.parse::<OfficeUserId>().unwrap_err().code(),
                ErrorCode::OfficeUserIdInvalid,
                "{bad}"
            );
        }
    }

    #[test]
    fn service_kind_accepts_digits_and_upper_case() {
        for good in ["11", "2A", "A5", "43", "AF"] {
            assert_eq!(good.parse::<ServiceKind>().unwrap().as_str(), good);
        }
        for bad in ["1", "111", "a5", "1-", ""] {
            assert!(bad.parse::<ServiceKind>().is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn parsers_never_panic_and_round_trip(s in "\\PC{0,20}") {
            if let Ok(n) = s.parse::<OfficeNumber>() { prop_assert_eq!(n.to_string(), s.clone()); }
            if let Ok(id) = s.parse::<OfficeUserId>() { prop_assert_eq!(id.to_string(), s.clone()); }
            if let Ok(k) = s.parse::<ServiceKind>() { prop_assert_eq!(k.to_string(), s); }
        }

        #[test]
        fn every_valid_office_number_parses(pref in 1u8..=47, rest in 0u64..100_000_000) {
            let s = format!("{pref:02}{rest:08}");
            let n: OfficeNumber = s.parse().unwrap();
            prop_assert_eq!(n.prefecture().get(), pref);
        }
    }
}
