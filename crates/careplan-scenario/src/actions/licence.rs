//! The usage-application site's actions: login, the usage application, the licence page, renewal,
//! cancellation and payment.

use careplan_core::{ErrorCode, format_jst};
use careplan_licence::{LicenceView, PaymentMethod};
use careplan_parties::api::{UsageRequest, UsageResponse};
use serde::Deserialize;

use super::identity::LOGIN_CODES;
use crate::action::{Action, ActionInfo, Group, Office, Param, Secret, from_str_opt};
use crate::run::{FormFields, Known, StepError, World, usage_form};

/// Logs in to the usage-application site with the office's user ID.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UsageLogin {
    office: Office,
    #[serde(default)]
    password: Secret,
}

impl Action for UsageLogin {
    const INFO: ActionInfo = ActionInfo {
        name: "usage_login",
        group: Group::Licences,
        summary: "logs in to the usage-application site with the office's user ID",
        details: "The portal's checks apply (`PASSWORD_TEMPORARY`, `PASSWORD_EXPIRED`, `LOGIN_FAILED`, \
                  `ACCOUNT_LOCKED`, `PROXY_ID_NOT_ALLOWED`).",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "password",
                "text (secret)",
                "the one the office knows",
                "the password typed",
            ),
        ],
        example: "action = \"usage_login\"\noffice = \"cm\"",
        codes: LOGIN_CODES,
    };

    fn describe(&self) -> String {
        format!("usage_login {}{}", self.office, self.password.note("password"))
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let user_id = world.known(office, Known::UserId)?;
        let password = world.typed(office, &self.password, Known::Password)?;
        let response = world.usage(UsageRequest::Login { user_id, password }).await?;
        let UsageResponse::Login { session } = response else {
            return Err(unexpected(&response));
        };
        world.credentials[office].usage_session = Some(session);
        Ok("logged in to the usage-application site".to_owned())
    }
}

/// Files the usage application (利用申請); the office remembers its personal account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyUsage {
    office: Office,
    #[serde(default)]
    office_name: Option<String>,
    #[serde(default)]
    representative_family: Option<String>,
    #[serde(default)]
    representative_given: Option<String>,
    #[serde(default)]
    contact_family: Option<String>,
    #[serde(default)]
    contact_given: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_confirmation: Option<String>,
    #[serde(default)]
    agree_terms: Option<bool>,
    #[serde(default)]
    agree_privacy: Option<bool>,
    #[serde(default, deserialize_with = "from_str_opt")]
    payment: Option<PaymentMethod>,
}

impl ApplyUsage {
    /// The fields written differently from the valid defaults.
    fn form(&self) -> FormFields {
        FormFields {
            office_name: self.office_name.clone(),
            representative_family: self.representative_family.clone(),
            representative_given: self.representative_given.clone(),
            contact_family: self.contact_family.clone(),
            contact_given: self.contact_given.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            email_confirmation: self.email_confirmation.clone(),
            agree_terms: self.agree_terms,
            agree_privacy: self.agree_privacy,
            payment: self.payment,
        }
    }
}

impl Action for ApplyUsage {
    const INFO: ActionInfo = ActionInfo {
        name: "apply_usage",
        group: Group::Licences,
        summary: "files the usage application (利用申請); the office remembers the personal user ID and password shown",
        details: "Unwritten fields take valid defaults (the office's name, fixed names, a 10-digit phone, an \
                  address from the office number, both agreements). Each invalid field has its code \
                  (`APPLICATION_PHONE_INVALID`, …; `expect_error` matches any); a second application fails with \
                  `USAGE_APPLICATION_EXISTS`.",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "office_name",
                "text",
                "the office's name",
                "office name (事業所名)",
            ),
            Param::optional(
                "representative_family",
                "text",
                "a valid name",
                "representative's family name",
            ),
            Param::optional(
                "representative_given",
                "text",
                "a valid name",
                "representative's given name",
            ),
            Param::optional("contact_family", "text", "a valid name", "contact's family name"),
            Param::optional("contact_given", "text", "a valid name", "contact's given name"),
            Param::optional("phone", "text", "a valid number", "phone number"),
            Param::optional(
                "email",
                "text",
                "an address from the office number",
                "e-mail address",
            ),
            Param::optional(
                "email_confirmation",
                "text",
                "`email`",
                "the e-mail address typed again",
            ),
            Param::optional(
                "agree_terms",
                "true/false",
                "true",
                "agreement to the terms of use",
            ),
            Param::optional(
                "agree_privacy",
                "true/false",
                "true",
                "agreement to the privacy policy",
            ),
            Param::optional(
                "payment",
                "`deduction` or `invoice`",
                "deduction",
                "how the licence fee is paid",
            ),
        ],
        example: "action = \"apply_usage\"\noffice = \"cm\"\nphone = \"03-1234\"",
        codes: &[
            ErrorCode::ServiceNotStarted,
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
            ErrorCode::UsageApplicationExists,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!("apply_usage {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let profile = world.offices[office].profile();
        let application = usage_form(
            &profile.name,
            profile.number,
            &self.form(),
            PaymentMethod::Deduction,
        );
        let session = world.usage_session(office);
        let response = world.usage(UsageRequest::Apply { session, application }).await?;
        let UsageResponse::Registration(registration) = response else {
            return Err(unexpected(&response));
        };
        let known = &mut world.credentials[office];
        known.personal_user_id = Some(registration.account.user_id.to_string());
        known.personal_password = Some(registration.account.password.clone());
        Ok(format!(
            "{} personal user ID {}; {}",
            registration.message,
            registration.account.user_id,
            describe_licence(&registration.licence)
        ))
    }
}

/// An expiry as the licence page shows it: `YYYY-MM-DD`, or `-` until paid.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ShownExpiry(String);

impl std::str::FromStr for ShownExpiry {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let date = time::macros::format_description!("[year]-[month]-[day]");
        if text == "-" || time::Date::parse(text, date).is_ok() {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!("`expiry` must be YYYY-MM-DD or -, found `{text}`"))
        }
    }
}

/// Checks the licence page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckLicence {
    office: Office,
    #[serde(default)]
    licensed: Option<bool>,
    #[serde(default, deserialize_with = "from_str_opt")]
    expiry: Option<ShownExpiry>,
    #[serde(default)]
    fee: Option<u32>,
    #[serde(default)]
    free_pass: Option<bool>,
    #[serde(default)]
    auto_renew: Option<bool>,
}

impl Action for CheckLicence {
    const INFO: ActionInfo = ActionInfo {
        name: "check_licence",
        group: Group::Licences,
        summary: "reads the licence page; every field written must match",
        details: "",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "licensed",
                "true/false",
                "not checked",
                "whether a licence term covers now",
            ),
            Param::optional(
                "expiry",
                "`YYYY-MM-DD` or `-`",
                "not checked",
                "the expiry shown (`-` while the fee is unpaid)",
            ),
            Param::optional("fee", "yen", "not checked", "the shown term's fee"),
            Param::optional(
                "free_pass",
                "true/false",
                "not checked",
                "whether the shown term is the free pass",
            ),
            Param::optional(
                "auto_renew",
                "true/false",
                "not checked",
                "whether auto-renewal is on",
            ),
        ],
        example: "action = \"check_licence\"\noffice = \"cm\"\nlicensed = true\nexpiry = \"-\"\nfee = 21000",
        codes: &[
            ErrorCode::UsageNotApplied,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!("check_licence {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.usage_session(self.office.index);
        let view = world.licence_page(UsageRequest::Licence { session }).await?;
        self.compare(&view)?;
        Ok(describe_licence(&view))
    }
}

impl CheckLicence {
    fn compare(&self, view: &LicenceView) -> Result<(), StepError> {
        let mut wrong = Vec::new();
        let mut compare = |what: &str, expected: Option<String>, found: String| {
            if let Some(expected) = expected
                && expected != found
            {
                wrong.push(format!("{what} {expected} expected, {found} shown"));
            }
        };
        compare(
            "licensed",
            self.licensed.map(|b| b.to_string()),
            view.licensed.to_string(),
        );
        compare(
            "expiry",
            self.expiry.as_ref().map(|e| e.0.clone()),
            view.expiry.map_or_else(|| "-".to_owned(), |d| d.to_string()),
        );
        compare("fee", self.fee.map(|f| f.to_string()), view.fee_yen.to_string());
        compare(
            "free_pass",
            self.free_pass.map(|b| b.to_string()),
            view.free_pass.to_string(),
        );
        compare(
            "auto_renew",
            self.auto_renew.map(|b| b.to_string()),
            view.auto_renew.to_string(),
        );
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(StepError::Assertion(format!(
                "the licence page differs: {} ({})",
                wrong.join("; "),
                describe_licence(view)
            )))
        }
    }
}

/// Stops or resumes automatic renewal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetAutoRenewal {
    office: Office,
    on: bool,
}

impl Action for SetAutoRenewal {
    const INFO: ActionInfo = ActionInfo {
        name: "set_auto_renewal",
        group: Group::Licences,
        summary: "stops or resumes the automatic renewal of a licence applied for from 2025-06-01",
        details: "Effective from the next term end (`LICENCE_AUTO_RENEWAL_UNAVAILABLE` for older licences, \
                  `LICENCE_LAPSED` to resume a lapsed one).",
        params: &[
            Param::required("office", "office", "the office"),
            Param::required("on", "true/false", "on or off"),
        ],
        example: "action = \"set_auto_renewal\"\noffice = \"cm\"\non = false",
        codes: &[
            ErrorCode::LicenceAutoRenewalUnavailable,
            ErrorCode::LicenceLapsed,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!(
            "set_auto_renewal {} {}",
            self.office,
            if self.on { "on" } else { "off" }
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.usage_session(self.office.index);
        let view = world
            .licence_page(UsageRequest::SetAutoRenewal { session, on: self.on })
            .await?;
        Ok(describe_licence(&view))
    }
}

/// Renews the licence by hand.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewLicence {
    office: Office,
}

impl Action for RenewLicence {
    const INFO: ActionInfo = ActionInfo {
        name: "renew_licence",
        group: Group::Licences,
        summary: "renews the licence by hand for a year",
        details: "From the day after the last day when done in the renewal period (from one month before the last \
                  day; `LICENCE_RENEWAL_TOO_EARLY`), from now once lapsed; once (`LICENCE_ALREADY_RENEWED`); not \
                  for a licence that renews itself (`LICENCE_RENEWS_AUTOMATICALLY`).",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"renew_licence\"\noffice = \"cm\"",
        codes: &[
            ErrorCode::LicenceRenewalTooEarly,
            ErrorCode::LicenceAlreadyRenewed,
            ErrorCode::LicenceRenewsAutomatically,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!("renew_licence {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.usage_session(self.office.index);
        let view = world.licence_page(UsageRequest::Renew { session }).await?;
        let renewed = view.terms.last().map_or_else(String::new, |t| {
            format!(
                "renewed: {} to {}, {} yen; ",
                format_jst(t.start),
                t.last_day(),
                t.fee_yen
            )
        });
        Ok(format!("{renewed}{}", describe_licence(&view)))
    }
}

/// Asks to cancel the licence.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelLicence {
    office: Office,
}

impl Action for CancelLicence {
    const INFO: ActionInfo = ActionInfo {
        name: "cancel_licence",
        group: Group::Licences,
        summary: "asks to cancel the licence: always refused with `LICENCE_CANCEL_NOT_ALLOWED`",
        details: "",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"cancel_licence\"\noffice = \"cm\"\nexpect_error = \"LICENCE_CANCEL_NOT_ALLOWED\"",
        codes: &[
            ErrorCode::LicenceCancelNotAllowed,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!("cancel_licence {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.usage_session(self.office.index);
        world.usage(UsageRequest::Cancel { session }).await?;
        Ok("licence cancelled".to_owned())
    }
}

/// Pays the licence invoice.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PayInvoice {
    office: Office,
}

impl Action for PayInvoice {
    const INFO: ActionInfo = ActionInfo {
        name: "pay_invoice",
        group: Group::Licences,
        summary: "pays the oldest open licence invoice",
        details: "`LICENCE_NOTHING_DUE` if none: already paid, or paid by deduction.",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"pay_invoice\"\noffice = \"cm\"",
        codes: &[
            ErrorCode::LicenceNothingDue,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!("pay_invoice {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.usage_session(self.office.index);
        let view = world.licence_page(UsageRequest::PayInvoice { session }).await?;
        Ok(format!("invoice paid; {}", describe_licence(&view)))
    }
}

fn unexpected(response: &UsageResponse) -> StepError {
    StepError::code(
        ErrorCode::ProtocolError,
        format!("unexpected answer from the usage-application site: {response:?}"),
    )
}

/// The licence page in one line, `-` where the page shows it.
fn describe_licence(view: &LicenceView) -> String {
    let dash = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    format!(
        "{}, {}, {} yen ({}), expiry {}, {} day(s) left, auto-renewal {}",
        if view.licensed { "licensed" } else { "lapsed" },
        if view.free_pass {
            "free pass"
        } else {
            "paid licence"
        },
        view.fee_yen,
        if view.paid {
            "paid".to_owned()
        } else {
            format!("unpaid, by {}", view.payment.as_str())
        },
        dash(view.expiry.map(|d| d.to_string())),
        dash(view.days_left.map(|d| d.to_string())),
        if view.auto_renew { "on" } else { "off" },
    )
}
