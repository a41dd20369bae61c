//! The web parties' operations as data: what a browser or the linkage client asks the e-billing portal
//! (with the federation and the CA behind it) and the usage-application site, and what they answer. The
//! same requests, serialised, are the entries of the parties' journal, which is why they live here and
//! not with the transport.
//!
//! The portal answers one endpoint, `POST /v1/portal`, with a [`PortalRequest`] tagged by `op`; the
//! usage-application site likewise answers `POST /v1/usage` with a [`UsageRequest`]. `serve`'s admin
//! endpoint answers `GET`/`POST /v1/clock` ([`ClockChange`], [`ClockReading`]). `docs/http-api.md` lists
//! every operation.

use careplan_core::OfficeNumber;
use careplan_licence::{LicenceView, PersonalAccount, Registration, UsageApplication};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Path of the e-billing portal's operation endpoint (the federation's issuance, the portal and the CA's
/// downloads): `POST` a [`PortalRequest`], answered by a [`PortalResponse`] or an error body (`ErrorBody` of `careplan-net`).
pub const PORTAL: &str = "/v1/portal";

/// One operation of the portal, tagged by `op` (e.g. `{"op": "login", "user_id": …, "password": …}`).
/// `session` is the number a `login` answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum PortalRequest {
    /// The office's federation issues its user ID (発行願).
    IssueUserId {
        /// The office.
        office: OfficeNumber,
    },
    /// Portal login.
    Login {
        /// `KJ…` user ID.
        user_id: String,
        /// Password.
        password: String,
    },
    /// Ends a session.
    Logout {
        /// The session.
        session: u64,
    },
    /// Accepts the terms of use (first login).
    AcceptTerms {
        /// The session.
        session: u64,
    },
    /// Changes the password.
    ChangePassword {
        /// The session.
        session: u64,
        /// The current password.
        current: String,
        /// The new password.
        new: String,
    },
    /// The linkage client's login check.
    CheckLinkageLogin {
        /// User ID.
        user_id: String,
        /// Password.
        password: String,
    },
    /// Registers a security e-mail address (a code is mailed).
    RegisterEmail {
        /// The session.
        session: u64,
        /// The address.
        address: String,
    },
    /// Confirms the address with the mailed code.
    ConfirmEmail {
        /// The session.
        session: u64,
        /// The 4-digit code.
        code: String,
    },
    /// Starts a reset of lost login details by e-mail.
    RequestResetByEmail {
        /// User ID.
        user_id: String,
        /// The confirmed address.
        address: String,
    },
    /// Completes it with the mailed code.
    CompleteReset {
        /// User ID.
        user_id: String,
        /// The 4-digit code.
        code: String,
    },
    /// Requests the re-issue of lost login details by post.
    RequestResetByPost {
        /// The office.
        office: OfficeNumber,
    },
    /// Re-issues the certificate-issuance password.
    ReissueIssuancePassword {
        /// The session.
        session: u64,
    },
    /// The mail delivered to the office so far (post and e-mail; the simulator's letterbox).
    Mailbox {
        /// The office.
        office: OfficeNumber,
    },
    /// Applies for a new certificate.
    ApplyForCertificate {
        /// The session.
        session: u64,
        /// `care_insurance` or `care_dx`.
        certificate_type: String,
        /// The certificate-issuance password.
        issuance_password: String,
    },
    /// Applies to renew the current certificate.
    RenewCertificate {
        /// The session.
        session: u64,
        /// `day_after_end` or `issue_date`.
        start: String,
        /// The certificate-issuance password.
        issuance_password: String,
    },
    /// The office's applications and certificates.
    CertificatePage {
        /// The session.
        session: u64,
    },
    /// Downloads the latest certificate as PKCS#12.
    DownloadCertificate {
        /// The session.
        session: u64,
        /// The certificate-issuance password, which also protects the file.
        issuance_password: String,
    },
    /// A revocation request for the office's certificates.
    RevokeCertificates {
        /// The office.
        office: OfficeNumber,
    },
    /// The CA's current revocation list.
    Crl,
    /// The CA's root certificate and published fingerprints.
    CaInfo,
}

/// The answer to a [`PortalRequest`], tagged by `result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum PortalResponse {
    /// Done, nothing to return.
    Done,
    /// The federation's notice.
    Notice(WireNotice),
    /// A session opened.
    Login {
        /// The session number.
        session: u64,
        /// Only the terms and a password change are allowed.
        must_change_password: bool,
        /// The terms are not accepted yet.
        must_accept_terms: bool,
    },
    /// The office a linkage login belongs to.
    Office {
        /// The office.
        office: OfficeNumber,
    },
    /// A new certificate-issuance password.
    IssuancePassword {
        /// The password.
        issuance_password: String,
    },
    /// Delivered mail, oldest first.
    Mail {
        /// The mail.
        mail: Vec<WireMail>,
    },
    /// An application was filed.
    Application(WireApplication),
    /// The certificate page.
    Certificates {
        /// Applications, oldest first.
        applications: Vec<WireApplication>,
        /// Certificates, oldest first.
        certificates: Vec<WireCertificate>,
    },
    /// A PKCS#12 file, base64.
    Pkcs12 {
        /// The file, base64 (standard alphabet, padded).
        content: String,
    },
    /// Revoked serials.
    Revoked {
        /// The serials.
        serials: Vec<u64>,
    },
    /// The CRL, DER in base64.
    Crl {
        /// The CRL.
        der: String,
    },
    /// The CA root (DER in base64) and its published fingerprints.
    CaInfo {
        /// The root certificate.
        root: String,
        /// SHA-256 fingerprint.
        sha256: String,
        /// SHA-1 fingerprint (拇印).
        sha1: String,
    },
}

/// The federation's notice on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireNotice {
    /// `KJ…` user ID.
    pub user_id: String,
    /// Temporary password.
    pub temporary_password: String,
    /// Certificate-issuance password.
    pub issuance_password: String,
}

/// A piece of mail on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMail {
    /// When it arrived.
    #[serde(with = "time::serde::rfc3339")]
    pub delivered_at: OffsetDateTime,
    /// What it carries.
    pub body: WireMailBody,
}

/// What a piece of mail carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WireMailBody {
    /// A notice by post.
    Notice(WireNotice),
    /// A 4-digit confirmation code by e-mail.
    ConfirmationCode {
        /// The code.
        code: String,
    },
    /// A new temporary password by e-mail.
    TemporaryPassword {
        /// The password.
        password: String,
    },
}

/// A certificate application on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireApplication {
    /// `new` or `renewal`.
    pub kind: String,
    /// For a renewal, `day_after_end` or `issue_date`.
    pub renewal_start: Option<String>,
    /// The type the certificate will have.
    pub certificate_type: String,
    /// When it was filed.
    #[serde(with = "time::serde::rfc3339")]
    pub applied_at: OffsetDateTime,
    /// When it is (or was) issued.
    #[serde(with = "time::serde::rfc3339")]
    pub issues_at: OffsetDateTime,
    /// The serial once issued (発行済み); `None` while pending (発行申請中).
    pub serial: Option<u64>,
}

/// A certificate on the certificate page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCertificate {
    /// Serial.
    pub serial: u64,
    /// Type.
    pub certificate_type: String,
    /// Start of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "time::serde::rfc3339")]
    pub not_after: OffsetDateTime,
    /// When revoked, if it was.
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Path of the usage-application site's operation endpoint: `POST` a [`UsageRequest`], answered by a
/// [`UsageResponse`] or an error body (`ErrorBody` of `careplan-net`).
pub const USAGE: &str = "/v1/usage";

/// One operation of the usage-application site, tagged by `op`. `session` is the number a `login`
/// answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum UsageRequest {
    /// Login with the office's `KJ` user ID and its changed password.
    Login {
        /// `KJ…` user ID.
        user_id: String,
        /// Password.
        password: String,
    },
    /// Ends a session.
    Logout {
        /// The session.
        session: u64,
    },
    /// Files the usage application (利用申請).
    Apply {
        /// The session.
        session: u64,
        /// The form.
        application: UsageApplication,
    },
    /// The personal user ID and its password, as the site shows them.
    PersonalAccount {
        /// The session.
        session: u64,
    },
    /// The licence page.
    Licence {
        /// The session.
        session: u64,
    },
    /// Stops (`false`) or resumes (`true`) automatic renewal.
    SetAutoRenewal {
        /// The session.
        session: u64,
        /// Whether the licence renews itself.
        on: bool,
    },
    /// Renews the licence by hand.
    Renew {
        /// The session.
        session: u64,
    },
    /// Asks to cancel the licence (always refused).
    Cancel {
        /// The session.
        session: u64,
    },
    /// Pays the oldest unpaid invoice.
    PayInvoice {
        /// The session.
        session: u64,
    },
    /// The linkage client's first login step.
    PersonalLogin {
        /// `careplan@…` personal user ID.
        user_id: String,
        /// Its password.
        password: String,
    },
}

/// The answer to a [`UsageRequest`], tagged by `result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum UsageResponse {
    /// Done, nothing to return.
    Done,
    /// A session opened.
    Login {
        /// The session number.
        session: u64,
    },
    /// The application was accepted.
    Registration(Registration),
    /// The personal account.
    PersonalAccount(PersonalAccount),
    /// The licence page.
    Licence(LicenceView),
    /// The office a personal login belongs to.
    Office {
        /// The office.
        office: OfficeNumber,
    },
}

/// Path of the admin endpoint of `serve`'s clock: `GET` reads it, `POST` a [`ClockChange`] moves it.
pub const CLOCK: &str = "/v1/clock";

/// A change of `serve`'s simulated clock: exactly one of `advance` (a span such as `1d`, `1mo`, `2h30m`)
/// or `set` (an RFC 3339 instant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    /// Moves the clock forward by this span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advance: Option<String>,
    /// Sets the clock to this instant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub set: Option<OffsetDateTime>,
}

/// `serve`'s clock as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockReading {
    /// The current instant, in JST.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
    /// Whether the clock is simulated (and so can be moved).
    pub simulated: bool,
}
