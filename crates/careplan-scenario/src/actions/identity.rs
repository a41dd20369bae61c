//! The identity actions: the federation's ID issuance, the e-billing portal (passwords, security e-mail,
//! resets, mail), the e-seikyu CA's certificates through the portal, and the linkage client's login.

use careplan_ca::{CertificateType, RenewalStart};
use careplan_core::{ErrorCode, format_jst};
use careplan_net::pkcs12_of;
use careplan_parties::LoginDetails;
use careplan_parties::api::{PortalRequest, PortalResponse};
use serde::Deserialize;

use crate::action::{Action, ActionInfo, Group, Office, Param, Secret, from_str};
use crate::run::{Known, StepError, World, unexpected_portal_answer};

/// The codes of a refused login, at the portal or at the usage site.
pub(crate) const LOGIN_CODES: &[ErrorCode] = &[
    ErrorCode::LoginFailed,
    ErrorCode::AccountLocked,
    ErrorCode::PasswordTemporary,
    ErrorCode::PasswordExpired,
    ErrorCode::ProxyIdNotAllowed,
    ErrorCode::OfficeUserIdInvalid,
];

/// The codes of a password the policy refuses.
const POLICY_CODES: &[ErrorCode] = &[
    ErrorCode::PasswordTooShort,
    ErrorCode::PasswordTooLong,
    ErrorCode::PasswordCharacterNotAllowed,
    ErrorCode::PasswordNeedsLetter,
    ErrorCode::PasswordNeedsDigit,
    ErrorCode::PasswordEqualsUserId,
    ErrorCode::LoginFailed,
    ErrorCode::SessionInvalid,
    ErrorCode::SessionExpired,
    ErrorCode::TermsNotAccepted,
];

const SESSION_CODES: &[ErrorCode] = &[
    ErrorCode::SessionInvalid,
    ErrorCode::SessionExpired,
    ErrorCode::PasswordChangeRequired,
    ErrorCode::TermsNotAccepted,
];

/// A secret parameter as the reference shows it.
const fn secret(name: &'static str, doc: &'static str) -> Param {
    Param::optional(name, "text (secret)", "the one the office knows", doc)
}

/// The federation issues the office's user ID (発行願); the notice arrives by post after the postal delay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueUserId {
    office: Office,
}

impl Action for IssueUserId {
    const INFO: ActionInfo = ActionInfo {
        name: "issue_user_id",
        group: Group::Identity,
        summary: "the office's federation answers the issuance request (発行願)",
        details: "The notice carries the user ID (`KJ` + prefecture + office number), a temporary password and \
                  the certificate-issuance password. It travels by post (7 days by default): the office knows \
                  them once it has arrived and `read_mail` has read it. A second request fails with \
                  `ACCOUNT_EXISTS`.",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"issue_user_id\"\noffice = \"cm\"",
        codes: &[ErrorCode::AccountExists],
    };

    fn describe(&self) -> String {
        format!("issue_user_id {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let number = world.number(self.office.index);
        let response = world
            .portal(PortalRequest::IssueUserId { office: number })
            .await?;
        let PortalResponse::Notice(notice) = response else {
            return Err(unexpected_portal_answer(&response));
        };
        Ok(format!(
            "user ID {} issued; the notice is in the post",
            notice.user_id
        ))
    }
}

/// The office logs in to the e-billing portal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortalLogin {
    office: Office,
    #[serde(default)]
    password: Secret,
}

impl Action for PortalLogin {
    const INFO: ActionInfo = ActionInfo {
        name: "portal_login",
        group: Group::Identity,
        summary: "logs in to the e-billing portal; the session is kept for the next portal steps",
        details: "A temporary or expired password opens a session that may only accept the terms and change it.",
        params: &[
            Param::required("office", "office", "the office"),
            secret("password", "the password typed"),
        ],
        example: "action = \"portal_login\"\noffice = \"cm\"\npassword = \"Wrong123\"",
        codes: LOGIN_CODES,
    };

    fn describe(&self) -> String {
        format!("portal_login {}{}", self.office, self.password.note("password"))
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let user_id = world.known(office, Known::UserId)?;
        let password = world.typed(office, &self.password, Known::Password)?;
        let response = world.portal(PortalRequest::Login { user_id, password }).await?;
        let PortalResponse::Login {
            session,
            must_change_password,
            must_accept_terms,
        } = response
        else {
            return Err(unexpected_portal_answer(&response));
        };
        world.credentials[office].session = Some(session);
        Ok(format!(
            "logged in{}{}",
            if must_accept_terms {
                "; the terms must be accepted"
            } else {
                ""
            },
            if must_change_password {
                "; the password must be changed"
            } else {
                ""
            }
        ))
    }
}

/// Accepts the portal's terms of use.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AcceptTerms {
    office: Office,
}

impl Action for AcceptTerms {
    const INFO: ActionInfo = ActionInfo {
        name: "accept_terms",
        group: Group::Identity,
        summary: "accepts the portal's terms of use (first login)",
        details: "",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"accept_terms\"\noffice = \"cm\"",
        codes: &[ErrorCode::SessionInvalid, ErrorCode::SessionExpired],
    };

    fn describe(&self) -> String {
        format!("accept_terms {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.session(self.office.index);
        world.portal(PortalRequest::AcceptTerms { session }).await?;
        Ok("terms of use accepted".to_owned())
    }
}

/// Changes the portal password; the office remembers the new one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChangePassword {
    office: Office,
    new: String,
}

impl Action for ChangePassword {
    const INFO: ActionInfo = ActionInfo {
        name: "change_password",
        group: Group::Identity,
        summary: "changes the portal password; the office remembers the new one",
        details: "Every broken rule of the policy is a code (`PASSWORD_TOO_SHORT`, …), and `expect_error` matches \
                  any of them.",
        params: &[
            Param::required("office", "office", "the office"),
            Param::required("new", "text", "the new password"),
        ],
        example: "action = \"change_password\"\noffice = \"cm\"\nnew = \"Sakura2025\"",
        codes: POLICY_CODES,
    };

    fn describe(&self) -> String {
        format!("change_password {} to `{}`", self.office, self.new)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let current = world.known(office, Known::Password)?;
        let session = world.session(office);
        world
            .portal(PortalRequest::ChangePassword {
                session,
                current,
                new: self.new.clone(),
            })
            .await?;
        world.credentials[office].password = Some(self.new.clone());
        Ok("password changed".to_owned())
    }
}

/// Logs in to the linkage client: personal user ID and password, then the office's user ID and password.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientLogin {
    office: Office,
    #[serde(default)]
    personal_user_id: Option<String>,
    #[serde(default)]
    personal_password: Secret,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    password: Secret,
}

impl Action for ClientLogin {
    const INFO: ActionInfo = ActionInfo {
        name: "client_login",
        group: Group::Identity,
        summary: "logs in to the linkage client in two steps: the personal user ID, then the office's user ID",
        details: "The personal user ID and its password (`PERSONAL_LOGIN_FAILED`), then the office's user ID and \
                  password (`PASSWORD_TEMPORARY`, `PASSWORD_EXPIRED`, `LOGIN_FAILED`, `ACCOUNT_LOCKED`, \
                  `PROXY_ID_NOT_ALLOWED` for `HD…` IDs); both must be the same office's (`PERSONAL_ID_MISMATCH`). \
                  A failed login leaves the client logged out.",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "personal_user_id",
                "text",
                "the office's own",
                "the personal user ID typed",
            ),
            secret("personal_password", "the personal password typed"),
            Param::optional("user_id", "text", "the office's own", "the user ID typed"),
            secret("password", "the password typed"),
        ],
        example: "action = \"client_login\"\noffice = \"cm\"\npersonal_password = \"guess\"",
        codes: &[
            ErrorCode::PersonalLoginFailed,
            ErrorCode::PersonalIdMismatch,
            ErrorCode::LoginFailed,
            ErrorCode::AccountLocked,
            ErrorCode::PasswordTemporary,
            ErrorCode::PasswordExpired,
            ErrorCode::ProxyIdNotAllowed,
            ErrorCode::OfficeUserIdInvalid,
        ],
    };

    fn describe(&self) -> String {
        format!(
            "client_login {}{}{}{}{}",
            self.office,
            self.personal_user_id
                .as_ref()
                .map_or_else(String::new, |id| format!(" with personal ID {id}")),
            self.personal_password.note("personal password"),
            self.user_id
                .as_ref()
                .map_or_else(String::new, |id| format!(" as {id}")),
            self.password.note("password")
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let details = LoginDetails {
            personal_user_id: match &self.personal_user_id {
                Some(id) => id.clone(),
                None => world.known(office, Known::PersonalUserId)?,
            },
            personal_password: world.typed(office, &self.personal_password, Known::PersonalPassword)?,
            user_id: match &self.user_id {
                Some(id) => id.clone(),
                None => world.known(office, Known::UserId)?,
            },
            password: world.typed(office, &self.password, Known::Password)?,
        };
        let number = world.client(office)?.login(&details).await?;
        Ok(format!("linkage client logged in as office {number}"))
    }
}

/// Registers a security e-mail address (a code is mailed).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterEmail {
    office: Office,
    address: String,
}

impl Action for RegisterEmail {
    const INFO: ActionInfo = ActionInfo {
        name: "register_email",
        group: Group::Identity,
        summary: "registers a security e-mail address; a 4-digit code is mailed",
        details: "",
        params: &[
            Param::required("office", "office", "the office"),
            Param::required("address", "e-mail address", "the address"),
        ],
        example: "action = \"register_email\"\noffice = \"cm\"\naddress = \"office@example.jp\"",
        codes: SESSION_CODES,
    };

    fn describe(&self) -> String {
        format!("register_email {} {}", self.office, self.address)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.session(self.office.index);
        world
            .portal(PortalRequest::RegisterEmail {
                session,
                address: self.address.clone(),
            })
            .await?;
        Ok(format!("confirmation code mailed to {}", self.address))
    }
}

/// Confirms the security e-mail address with the code.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfirmEmail {
    office: Office,
    #[serde(default)]
    code: Secret,
}

impl Action for ConfirmEmail {
    const INFO: ActionInfo = ActionInfo {
        name: "confirm_email",
        group: Group::Identity,
        summary: "confirms the security e-mail address with the mailed code",
        details: "",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional("code", "text (secret)", "the last code mailed", "the code typed"),
        ],
        example: "action = \"confirm_email\"\noffice = \"cm\"",
        codes: &[
            ErrorCode::ConfirmationCodeInvalid,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!("confirm_email {}{}", self.office, self.code.note("code"))
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let code = world.code(self.office.index, &self.code).await?;
        let session = world.session(self.office.index);
        world
            .portal(PortalRequest::ConfirmEmail { session, code })
            .await?;
        Ok("security e-mail confirmed".to_owned())
    }
}

/// How an office asks for its lost login details again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ResetBy {
    /// By security e-mail.
    Email,
    /// By paper request to the federation; the notice arrives by post.
    Post,
}

/// Asks for lost login details again.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestReset {
    office: Office,
    by: ResetBy,
    #[serde(default)]
    address: Option<String>,
}

impl Action for RequestReset {
    const INFO: ActionInfo = ActionInfo {
        name: "request_reset",
        group: Group::Identity,
        summary: "asks for lost login details: a code by e-mail, or the federation's notice by post",
        details: "By e-mail the code goes to the confirmed address; by post the notice arrives 7 days later.",
        params: &[
            Param::required("office", "office", "the office"),
            Param::required("by", "`email` or `post`", "how"),
            Param::optional(
                "address",
                "e-mail address",
                "-",
                "with `by = \"email\"`: the address typed",
            ),
        ],
        example: "action = \"request_reset\"\noffice = \"cm\"\nby = \"email\"\naddress = \"office@example.jp\"",
        codes: &[ErrorCode::EmailNotRegistered, ErrorCode::LoginFailed],
    };

    fn check(&self) -> Result<(), String> {
        match (self.by, &self.address) {
            (ResetBy::Email, None) => Err("`by = \"email\"` needs `address`".to_owned()),
            (ResetBy::Post, Some(_)) => Err("`by = \"post\"` takes no `address`".to_owned()),
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        match &self.address {
            Some(address) => format!("request_reset {} by e-mail to {address}", self.office),
            None => format!("request_reset {} by post", self.office),
        }
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let request = match &self.address {
            Some(address) => PortalRequest::RequestResetByEmail {
                user_id: world.known(office, Known::UserId)?,
                address: address.clone(),
            },
            None => PortalRequest::RequestResetByPost {
                office: world.number(office),
            },
        };
        world.portal(request).await?;
        Ok(match self.by {
            ResetBy::Email => "confirmation code mailed".to_owned(),
            ResetBy::Post => "re-issue requested; the notice comes by post".to_owned(),
        })
    }
}

/// Completes a reset by e-mail with the code; the new temporary password is mailed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompleteReset {
    office: Office,
    #[serde(default)]
    code: Secret,
}

impl Action for CompleteReset {
    const INFO: ActionInfo = ActionInfo {
        name: "complete_reset",
        group: Group::Identity,
        summary: "completes a reset by e-mail; the new temporary password is mailed and read at once",
        details: "",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional("code", "text (secret)", "the last code mailed", "the code typed"),
        ],
        example: "action = \"complete_reset\"\noffice = \"cm\"",
        codes: &[ErrorCode::ConfirmationCodeInvalid],
    };

    fn describe(&self) -> String {
        format!("complete_reset {}{}", self.office, self.code.note("code"))
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let code = world.code(office, &self.code).await?;
        let user_id = world.known(office, Known::UserId)?;
        world
            .portal(PortalRequest::CompleteReset { user_id, code })
            .await?;
        world.read_mail(office).await?;
        Ok("reset complete; a temporary password was mailed".to_owned())
    }
}

/// Reads the mail delivered since the last look.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReadMail {
    office: Office,
    #[serde(default)]
    expect_mail: Option<usize>,
}

impl Action for ReadMail {
    const INFO: ActionInfo = ActionInfo {
        name: "read_mail",
        group: Group::Identity,
        summary: "reads the mail delivered since the last look",
        details: "A notice or a mailed password replaces what the office knows.",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "expect_mail",
                "count",
                "not checked",
                "how many new pieces must have arrived",
            ),
        ],
        example: "action = \"read_mail\"\noffice = \"cm\"\nexpect_mail = 1",
        codes: &[],
    };

    fn describe(&self) -> String {
        format!("read_mail {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let (count, kinds) = world.read_mail(self.office.index).await?;
        match self.expect_mail {
            Some(expected) if expected != count => Err(StepError::Assertion(format!(
                "expected {expected} new piece(s) of mail, found {count}"
            ))),
            _ if kinds.is_empty() => Ok("no new mail".to_owned()),
            _ => Ok(format!("{count} new: {}", kinds.join(", "))),
        }
    }
}

/// Re-issues the certificate-issuance password in the portal.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReissueIssuancePassword {
    office: Office,
}

impl Action for ReissueIssuancePassword {
    const INFO: ActionInfo = ActionInfo {
        name: "reissue_issuance_password",
        group: Group::Identity,
        summary: "re-issues the certificate-issuance password in the portal; the office remembers the new one",
        details: "",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"reissue_issuance_password\"\noffice = \"cm\"",
        codes: SESSION_CODES,
    };

    fn describe(&self) -> String {
        format!("reissue_issuance_password {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.session(self.office.index);
        let response = world
            .portal(PortalRequest::ReissueIssuancePassword { session })
            .await?;
        let PortalResponse::IssuancePassword { issuance_password } = response else {
            return Err(unexpected_portal_answer(&response));
        };
        world.credentials[self.office.index].issuance_password = Some(issuance_password);
        Ok("certificate-issuance password re-issued".to_owned())
    }
}

fn care_insurance() -> CertificateType {
    CertificateType::CareInsurance
}

const ISSUANCE_CODES: &[ErrorCode] = &[
    ErrorCode::IssuancePasswordWrong,
    ErrorCode::CertificateExists,
    ErrorCode::CertApplicationPending,
    ErrorCode::CertTypeNotOffered,
    ErrorCode::SessionInvalid,
    ErrorCode::SessionExpired,
];

/// Applies for a new certificate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ApplyCertificate {
    office: Office,
    #[serde(rename = "type", default = "care_insurance", deserialize_with = "from_str")]
    certificate_type: CertificateType,
    #[serde(default)]
    issuance_password: Secret,
}

impl Action for ApplyCertificate {
    const INFO: ActionInfo = ActionInfo {
        name: "apply_certificate",
        group: Group::Certificates,
        summary: "files a certificate application (発行申請中)",
        details: "It is issued after the approval delay (30 minutes), or at 06:30 if that falls in the 01:30–06:30 \
                  pause.",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "type",
                "`care_insurance` or `care_dx`",
                "care_insurance",
                "the certificate type",
            ),
            secret("issuance_password", "the certificate-issuance password typed"),
        ],
        example: "action = \"apply_certificate\"\noffice = \"cm\"",
        codes: ISSUANCE_CODES,
    };

    fn describe(&self) -> String {
        format!(
            "apply_certificate {} {}{}",
            self.office,
            self.certificate_type,
            self.issuance_password.note("issuance password")
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let certificate_type = self.certificate_type.as_str().to_owned();
        file_application(
            world,
            self.office.index,
            &self.issuance_password,
            |session, issuance_password| PortalRequest::ApplyForCertificate {
                session,
                certificate_type,
                issuance_password,
            },
        )
        .await
    }
}

/// Applies to renew the current certificate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RenewCertificate {
    office: Office,
    #[serde(deserialize_with = "from_str")]
    start: RenewalStart,
    #[serde(default)]
    issuance_password: Secret,
}

impl Action for RenewCertificate {
    const INFO: ActionInfo = ActionInfo {
        name: "renew_certificate",
        group: Group::Certificates,
        summary: "applies to renew the current certificate",
        details: "From 3 months before its end date to its last second (`CERT_RENEWAL_TOO_EARLY` / \
                  `CERT_RENEWAL_TOO_LATE`).",
        params: &[
            Param::required("office", "office", "the office"),
            Param::required(
                "start",
                "`day_after_end` or `issue_date`",
                "when the renewed certificate starts",
            ),
            secret("issuance_password", "the certificate-issuance password typed"),
        ],
        example: "action = \"renew_certificate\"\noffice = \"cm\"\nstart = \"day_after_end\"",
        codes: &[
            ErrorCode::CertRenewalTooEarly,
            ErrorCode::CertRenewalTooLate,
            ErrorCode::CertNotIssued,
            ErrorCode::CertRevoked,
            ErrorCode::IssuancePasswordWrong,
            ErrorCode::CertApplicationPending,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!(
            "renew_certificate {} from {}{}",
            self.office,
            self.start.as_str(),
            self.issuance_password.note("issuance password")
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let start = self.start.as_str().to_owned();
        file_application(
            world,
            self.office.index,
            &self.issuance_password,
            |session, issuance_password| PortalRequest::RenewCertificate {
                session,
                start,
                issuance_password,
            },
        )
        .await
    }
}

/// Downloads the latest certificate and installs it in the linkage client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstallCertificate {
    office: Office,
    #[serde(default)]
    issuance_password: Secret,
}

impl Action for InstallCertificate {
    const INFO: ActionInfo = ActionInfo {
        name: "install_certificate",
        group: Group::Certificates,
        summary: "downloads the latest certificate as PKCS#12 and installs it in the linkage client",
        details: "Beside any older one; the client presents whichever is valid at each handshake.",
        params: &[
            Param::required("office", "office", "the office"),
            secret(
                "issuance_password",
                "the certificate-issuance password typed (for the download and the installation)",
            ),
        ],
        example: "action = \"install_certificate\"\noffice = \"cm\"",
        codes: &[
            ErrorCode::CertNotIssued,
            ErrorCode::CertRevoked,
            ErrorCode::CertApplicationPending,
            ErrorCode::IssuancePasswordWrong,
            ErrorCode::Pkcs12PasswordWrong,
            ErrorCode::SessionInvalid,
            ErrorCode::SessionExpired,
        ],
    };

    fn describe(&self) -> String {
        format!(
            "install_certificate {}{}",
            self.office,
            self.issuance_password.note("issuance password")
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let office = self.office.index;
        let typed = world.typed(office, &self.issuance_password, Known::IssuancePassword)?;
        let download = world
            .portal(PortalRequest::DownloadCertificate {
                session: world.session(office),
                issuance_password: typed.clone(),
            })
            .await?;
        let bytes = pkcs12_of(&download)?;
        let installed = world.client(office)?.install_pkcs12(&bytes, &typed)?;
        Ok(format!(
            "certificate {} (SHA-256 {}) installed, valid {} to {}",
            installed.serial,
            installed.fingerprint().sha256,
            format_jst(installed.not_before),
            format_jst(installed.not_after)
        ))
    }
}

/// The office's certificates are revoked (失効依頼); the relay loads the CA's new revocation list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeCertificate {
    office: Office,
}

impl Action for RevokeCertificate {
    const INFO: ActionInfo = ActionInfo {
        name: "revoke_certificate",
        group: Group::Certificates,
        summary: "revokes the office's certificates (失効依頼); the relay loads the CA's new revocation list",
        details: "The relay then refuses them in the handshake (`CERT_REVOKED`).",
        params: &[Param::required("office", "office", "the office")],
        example: "action = \"revoke_certificate\"\noffice = \"cm\"",
        codes: &[
            ErrorCode::CertAlreadyRevoked,
            ErrorCode::CertNotIssued,
            ErrorCode::CertRevoked,
        ],
    };

    fn describe(&self) -> String {
        format!("revoke_certificate {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let number = world.number(self.office.index);
        let response = world
            .portal(PortalRequest::RevokeCertificates { office: number })
            .await?;
        let PortalResponse::Revoked { serials } = response else {
            return Err(unexpected_portal_answer(&response));
        };
        // The ecosystem has the relay load the CA's new list before the portal answers the revocation.
        Ok(format!(
            "revoked {serials:?}; the relay loaded the new revocation list"
        ))
    }
}

/// Checks the office's certificate page.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckCertificates {
    office: Office,
    #[serde(default)]
    issued: Option<usize>,
    #[serde(default)]
    pending: Option<usize>,
}

impl Action for CheckCertificates {
    const INFO: ActionInfo = ActionInfo {
        name: "check_certificates",
        group: Group::Certificates,
        summary: "reads the portal's certificate page; the counts given must match",
        details: "",
        params: &[
            Param::required("office", "office", "the office"),
            Param::optional(
                "issued",
                "count",
                "not checked",
                "how many certificates are issued",
            ),
            Param::optional(
                "pending",
                "count",
                "not checked",
                "how many applications are pending",
            ),
        ],
        example: "action = \"check_certificates\"\noffice = \"cm\"\nissued = 1\npending = 0",
        codes: SESSION_CODES,
    };

    fn describe(&self) -> String {
        format!("check_certificates {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let session = world.session(self.office.index);
        let response = world.portal(PortalRequest::CertificatePage { session }).await?;
        let PortalResponse::Certificates {
            applications,
            certificates,
        } = response
        else {
            return Err(unexpected_portal_answer(&response));
        };
        let waiting = applications.iter().filter(|a| a.serial.is_none()).count();
        let seen = format!("{} issued, {waiting} pending", certificates.len());
        if self.issued.is_some_and(|n| n != certificates.len()) || self.pending.is_some_and(|n| n != waiting)
        {
            let count = |n: Option<usize>| n.map_or_else(|| "any".to_owned(), |n| n.to_string());
            return Err(StepError::Assertion(format!(
                "expected {} issued, {} pending, found {seen}",
                count(self.issued),
                count(self.pending)
            )));
        }
        Ok(seen)
    }
}

/// Files a certificate application (new or renewal) in the office's session with the issuance password
/// it types, and describes it.
async fn file_application(
    world: &World,
    office: usize,
    typed: &Secret,
    request: impl FnOnce(u64, String) -> PortalRequest,
) -> Result<String, StepError> {
    let issuance_password = world.typed(office, typed, Known::IssuancePassword)?;
    let response = world
        .portal(request(world.session(office), issuance_password))
        .await?;
    let PortalResponse::Application(application) = response else {
        return Err(unexpected_portal_answer(&response));
    };
    Ok(format!(
        "{} {} application filed (発行申請中); issued at {}",
        application.certificate_type,
        application.kind,
        format_jst(application.issues_at)
    ))
}
