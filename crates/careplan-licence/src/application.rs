//! The usage application form (利用申請) and its field checks.

use careplan_core::{ErrorCode, OfficeNumber};
use serde::{Deserialize, Serialize};

/// What the site answers when an application is accepted.
pub const APPLICATION_COMPLETE: &str = "利用申請が正常に完了しております。";

/// A person's name as the form asks for it: family name (姓) and given name (名).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// Family name (姓).
    pub family: String,
    /// Given name (名).
    pub given: String,
}

/// How the licence fee (ライセンス料) is paid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// Deducted from the next month's care-benefit payment (介護給付費からの相殺); settles on the
    /// configured day of the month after the term starts.
    #[default]
    Deduction,
    /// Paid against an invoice (請求書払い); settles when the office pays.
    Invoice,
}

impl PaymentMethod {
    /// The name scenarios and the HTTP API use: `deduction` or `invoice`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Deduction => "deduction",
            PaymentMethod::Invoice => "invoice",
        }
    }
}

impl std::str::FromStr for PaymentMethod {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "deduction" => Ok(PaymentMethod::Deduction),
            "invoice" => Ok(PaymentMethod::Invoice),
            other => Err(format!(
                "`{other}` is not a payment method; use deduction or invoice"
            )),
        }
    }
}

/// The usage application form (利用申請).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageApplication {
    /// Office name (事業所名).
    pub office_name: String,
    /// Representative (代表者氏名).
    pub representative: PersonName,
    /// Contact person (担当者氏名).
    pub contact: PersonName,
    /// Phone number: half-width digits only, no hyphens.
    pub phone: String,
    /// E-mail address.
    pub email: String,
    /// The e-mail address typed again (確認用).
    pub email_confirmation: String,
    /// "Agree to the terms of use" (利用規約に同意する).
    pub agree_terms: bool,
    /// "Agree to the handling of personal information" (個人情報の取扱いに同意する).
    pub agree_privacy: bool,
    /// How the licence fee is paid.
    #[serde(default)]
    pub payment: PaymentMethod,
}

impl UsageApplication {
    /// A valid application for office `number` named `office_name`: fixed people, a landline derived
    /// from the number, an address at `example.jp`, both agreements ticked.
    pub fn typical(office_name: &str, number: OfficeNumber, payment: PaymentMethod) -> Self {
        let email = format!("office{number}@example.jp");
        Self {
            office_name: office_name.to_owned(),
            representative: PersonName {
                family: "山田".to_owned(),
                given: "太郎".to_owned(),
            },
            contact: PersonName {
                family: "佐藤".to_owned(),
                given: "花子".to_owned(),
            },
            // 0 and the last nine digits of the office number: ten digits, a landline's shape.
            phone: format!("0{}", &number.as_str()[1..]),
            email_confirmation: email.clone(),
            email,
            agree_terms: true,
            agree_privacy: true,
            payment,
        }
    }
}

/// One invalid field of a usage application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApplicationViolation {
    /// No office name.
    OfficeNameMissing,
    /// No representative family name.
    RepresentativeFamilyNameMissing,
    /// No representative given name.
    RepresentativeGivenNameMissing,
    /// No contact family name.
    ContactFamilyNameMissing,
    /// No contact given name.
    ContactGivenNameMissing,
    /// The phone number is not 10–11 half-width digits starting with 0.
    PhoneInvalid,
    /// The e-mail address is missing or malformed.
    EmailInvalid,
    /// The confirmation differs from the address.
    EmailMismatch,
    /// The terms were not agreed to.
    TermsNotAgreed,
    /// The privacy policy was not agreed to.
    PrivacyNotAgreed,
}

impl ApplicationViolation {
    /// The stable code of this violation.
    pub fn code(self) -> ErrorCode {
        match self {
            ApplicationViolation::OfficeNameMissing => ErrorCode::ApplicationOfficeNameMissing,
            ApplicationViolation::RepresentativeFamilyNameMissing => {
                ErrorCode::ApplicationRepresentativeFamilyNameMissing
            }
            ApplicationViolation::RepresentativeGivenNameMissing => {
                ErrorCode::ApplicationRepresentativeGivenNameMissing
            }
            ApplicationViolation::ContactFamilyNameMissing => ErrorCode::ApplicationContactFamilyNameMissing,
            ApplicationViolation::ContactGivenNameMissing => ErrorCode::ApplicationContactGivenNameMissing,
            ApplicationViolation::PhoneInvalid => ErrorCode::ApplicationPhoneInvalid,
            ApplicationViolation::EmailInvalid => ErrorCode::ApplicationEmailInvalid,
            ApplicationViolation::EmailMismatch => ErrorCode::ApplicationEmailMismatch,
            ApplicationViolation::TermsNotAgreed => ErrorCode::ApplicationTermsNotAgreed,
            ApplicationViolation::PrivacyNotAgreed => ErrorCode::ApplicationPrivacyNotAgreed,
        }
    }
}

/// Every invalid field of `form`, in form order; empty when the form can be accepted.
pub fn check_application(form: &UsageApplication) -> Vec<ApplicationViolation> {
    use ApplicationViolation as V;
    // A field of spaces (half- or full-width) is as empty as a blank one.
    let blank = |text: &str| text.trim().is_empty();
    let mut violations = Vec::new();
    let required = [
        (&form.office_name, V::OfficeNameMissing),
        (&form.representative.family, V::RepresentativeFamilyNameMissing),
        (&form.representative.given, V::RepresentativeGivenNameMissing),
        (&form.contact.family, V::ContactFamilyNameMissing),
        (&form.contact.given, V::ContactGivenNameMissing),
    ];
    violations.extend(
        required
            .into_iter()
            .filter(|(text, _)| blank(text))
            .map(|(_, v)| v),
    );
    if !phone_is_valid(&form.phone) {
        violations.push(V::PhoneInvalid);
    }
    if !email_is_valid(&form.email) {
        violations.push(V::EmailInvalid);
    }
    if form.email_confirmation != form.email {
        violations.push(V::EmailMismatch);
    }
    if !form.agree_terms {
        violations.push(V::TermsNotAgreed);
    }
    if !form.agree_privacy {
        violations.push(V::PrivacyNotAgreed);
    }
    violations
}

/// A Japanese phone number as the form takes it: 10 (landline) or 11 (mobile, IP) half-width digits,
/// starting with 0, without hyphens or spaces.
fn phone_is_valid(phone: &str) -> bool {
    (10..=11).contains(&phone.len()) && phone.starts_with('0') && phone.bytes().all(|b| b.is_ascii_digit())
}

/// An address of the shape `local@domain.tld`: printable ASCII without spaces, one `@`, and a domain of
/// non-empty dot-separated labels, at least two of them.
fn email_is_valid(email: &str) -> bool {
    if !email.bytes().all(|b| b.is_ascii_graphic()) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A complete form, as the site accepts it.
    pub(crate) fn valid_form() -> UsageApplication {
        UsageApplication {
            office_name: "さくら居宅介護支援事業所".into(),
            representative: PersonName {
                family: "山田".into(),
                given: "花子".into(),
            },
            contact: PersonName {
                family: "佐藤".into(),
                given: "一郎".into(),
            },
            phone: "0312345678".into(),
            email: "care@sakura.example.jp".into(),
            email_confirmation: "care@sakura.example.jp".into(),
            agree_terms: true,
            agree_privacy: true,
            payment: PaymentMethod::Deduction,
        }
    }

    #[test]
    fn a_complete_form_passes() {
        assert!(check_application(&valid_form()).is_empty());
    }

    #[test]
    fn every_invalid_field_is_reported_with_its_own_code() {
        let form = UsageApplication {
            office_name: " ".into(),
            representative: PersonName::default(),
            contact: PersonName {
                family: "\u{3000}".into(),
                given: String::new(),
            },
            phone: "03-1234-5678".into(),
            email: "care at sakura".into(),
            email_confirmation: "care@sakura.example.jp".into(),
            agree_terms: false,
            agree_privacy: false,
            payment: PaymentMethod::Invoice,
        };
        let codes: Vec<ErrorCode> = check_application(&form).into_iter().map(|v| v.code()).collect();
        assert_eq!(
            codes,
            vec![
                ErrorCode::ApplicationOfficeNameMissing,
                ErrorCode::ApplicationRepresentativeFamilyNameMissing,
                ErrorCode::ApplicationRepresentativeGivenNameMissing,
                ErrorCode::ApplicationContactFamilyNameMissing,
                ErrorCode::ApplicationContactGivenNameMissing,
                ErrorCode::ApplicationPhoneInvalid,
                ErrorCode::ApplicationEmailInvalid,
                ErrorCode::ApplicationEmailMismatch,
                ErrorCode::ApplicationTermsNotAgreed,
                ErrorCode::ApplicationPrivacyNotAgreed,
            ]
        );
    }

    #[test]
    fn phone_numbers_are_digits_only() {
        for ok in ["0312345678", "09012345678", "0501234567"] {
            assert!(phone_is_valid(ok), "{ok}");
        }
        for bad in [
            "03-1234-5678",
            "031234567",
            "031234567890",
            "3123456789",
            "０３１２３４５６７８",
            "03 12345678",
            "",
        ] {
            assert!(!phone_is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_dotted_domain() {
        for ok in ["a@b.jp", "care.office+1@sakura.example.jp"] {
            assert!(email_is_valid(ok), "{ok}");
        }
        for bad in [
            "", "a@b", "@b.jp", "a@@b.jp", "a@b..jp", "a b@c.jp", "ａ@b.jp", "a@b.jp.",
        ] {
            assert!(!email_is_valid(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn a_phone_is_accepted_exactly_when_it_is_10_or_11_ascii_digits_from_0(phone in "\\PC{0,14}") {
            let expected = (10..=11).contains(&phone.chars().count())
                && phone.starts_with('0')
                && phone.chars().all(|c| c.is_ascii_digit());
            prop_assert_eq!(phone_is_valid(&phone), expected);
        }

        #[test]
        fn checking_arbitrary_forms_never_panics_and_agreement_is_always_checked(
            name in "\\PC{0,8}", phone in "\\PC{0,12}", email in "\\PC{0,12}", terms: bool, privacy: bool
        ) {
            let form = UsageApplication {
                office_name: name.clone(),
                representative: PersonName { family: name.clone(), given: name.clone() },
                contact: PersonName { family: name.clone(), given: name },
                phone,
                email: email.clone(),
                email_confirmation: email,
                agree_terms: terms,
                agree_privacy: privacy,
                payment: PaymentMethod::Deduction,
            };
            let violations = check_application(&form);
            prop_assert_eq!(violations.contains(&ApplicationViolation::TermsNotAgreed), !terms);
            prop_assert_eq!(violations.contains(&ApplicationViolation::PrivacyNotAgreed), !privacy);
            prop_assert!(!violations.contains(&ApplicationViolation::EmailMismatch));
        }
    }
}
