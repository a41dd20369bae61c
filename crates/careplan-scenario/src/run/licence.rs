//! The usage-application site's steps: login, the usage application, the licence page, renewal,
//! cancellation and payment.

use careplan_core::{ErrorCode, format_jst};
use careplan_license::{LicenceView, PaymentMethod};
use careplan_net::api::{UsageRequest, UsageResponse};

use super::{StepError, World, usage_form};
use crate::format::{Action, LicenceExpectation, Secret};

impl World {
    /// The usage-site actions.
    pub(super) async fn licence(&mut self, action: &Action) -> Result<String, StepError> {
        match action {
            Action::UsageLogin { office, password } => {
                let user_id = self.secret(*office, &Secret::Known, |k| &k.user_id, "user ID")?;
                let password = self.secret(*office, password, |k| &k.password, "password")?;
                let response = self.usage(UsageRequest::Login { user_id, password }).await?;
                let UsageResponse::Login { session } = response else {
                    return Err(unexpected(&response));
                };
                self.credentials[*office].usage_session = Some(session);
                Ok("logged in to the usage-application site".to_owned())
            }
            Action::ApplyUsage { office, form } => {
                let profile = self.offices[*office].profile();
                let application = usage_form(&profile.name, profile.number, form, PaymentMethod::Deduction);
                let session = self.usage_session(*office);
                let response = self.usage(UsageRequest::Apply { session, application }).await?;
                let UsageResponse::Registration(registration) = response else {
                    return Err(unexpected(&response));
                };
                let known = &mut self.credentials[*office];
                known.personal_user_id = Some(registration.account.user_id.to_string());
                known.personal_password = Some(registration.account.password.clone());
                Ok(format!(
                    "{} personal user ID {}; {}",
                    registration.message,
                    registration.account.user_id,
                    describe_licence(&registration.licence)
                ))
            }
            Action::CheckLicence { office, expect } => {
                let session = self.usage_session(*office);
                let view = self.licence_page(UsageRequest::Licence { session }).await?;
                check(&view, expect)?;
                Ok(describe_licence(&view))
            }
            Action::SetAutoRenewal { office, on } => {
                let session = self.usage_session(*office);
                let view = self
                    .licence_page(UsageRequest::SetAutoRenewal { session, on: *on })
                    .await?;
                Ok(describe_licence(&view))
            }
            Action::RenewLicence { office } => {
                let session = self.usage_session(*office);
                let view = self.licence_page(UsageRequest::Renew { session }).await?;
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
            Action::CancelLicence { office } => {
                let session = self.usage_session(*office);
                self.usage(UsageRequest::Cancel { session }).await?;
                Ok("licence cancelled".to_owned())
            }
            Action::PayInvoice { office } => {
                let session = self.usage_session(*office);
                let view = self.licence_page(UsageRequest::PayInvoice { session }).await?;
                Ok(format!("invoice paid; {}", describe_licence(&view)))
            }
            other => Err(StepError::Assertion(format!(
                "not a usage-site action: {other:?}"
            ))),
        }
    }

    fn usage_session(&self, office: usize) -> u64 {
        // 0 is never a session: an office that has not logged in meets SESSION_INVALID.
        self.credentials[office].usage_session.unwrap_or(0)
    }

    async fn usage(&self, request: UsageRequest) -> Result<UsageResponse, StepError> {
        Ok(self.site.call(&request).await?)
    }

    async fn licence_page(&self, request: UsageRequest) -> Result<LicenceView, StepError> {
        match self.usage(request).await? {
            UsageResponse::Licence(view) => Ok(view),
            other => Err(unexpected(&other)),
        }
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

fn check(view: &LicenceView, expect: &LicenceExpectation) -> Result<(), StepError> {
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
        expect.licensed.map(|b| b.to_string()),
        view.licensed.to_string(),
    );
    compare(
        "expiry",
        expect.expiry.clone(),
        view.expiry.map_or_else(|| "-".to_owned(), |d| d.to_string()),
    );
    compare("fee", expect.fee.map(|f| f.to_string()), view.fee_yen.to_string());
    compare(
        "free_pass",
        expect.free_pass.map(|b| b.to_string()),
        view.free_pass.to_string(),
    );
    compare(
        "auto_renew",
        expect.auto_renew.map(|b| b.to_string()),
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
