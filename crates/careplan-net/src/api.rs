//! The relay's HTTP API: paths and JSON bodies, shared by server and client.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | `POST` | `/v1/send` | [`SendRequest`] | 200 [`SendReceipt`](careplan_relay::SendReceipt) |
//! | `GET` | `/v1/inbox` | — | 200 [`Bundles`]: the receiver's send units, in serial order |
//! | `GET` | `/v1/sent` | — | 200 [`Bundles`]: the sender's send units, with the receiver's progress |
//! | `POST` | `/v1/bundles/{id}/receive` | — | 200 [`BundleRecord`]: accepted (受信済) |
//! | `POST` | `/v1/bundles/{id}/cancel` | — | 200 [`BundleRecord`]: cancelled (取消) |
//! | `GET` | `/v1/files/{id}` | — | 200 the file's bytes (`application/octet-stream`) |
//!
//! Every refusal is a 4xx with an [`ErrorBody`]. The caller's office is the one in its client certificate.
//!
//! The e-billing portal (with the federation and the CA behind it) answers one endpoint, `POST /v1/portal`,
//! with a [`PortalRequest`] tagged by `op`; the usage-application site likewise answers `POST /v1/usage`
//! with a [`UsageRequest`]. `serve`'s admin endpoint answers `GET`/`POST /v1/clock` ([`ClockChange`],
//! [`ClockReading`]). `docs/http-api.md` lists every operation.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use careplan_core::OfficeNumber;
use careplan_license::{LicenceView, PersonalAccount, Registration, UsageApplication};
use careplan_relay::{BundleId, BundleRecord, Finding, Upload};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Path of the send endpoint.
pub const SEND: &str = "/v1/send";
/// Path of the inbox listing.
pub const INBOX: &str = "/v1/inbox";
/// Path of the sent list.
pub const SENT: &str = "/v1/sent";
/// Prefix of file downloads; the file id follows.
pub const FILES: &str = "/v1/files/";
/// Prefix of send-unit operations: `{id}/receive`, `{id}/cancel`.
pub const BUNDLES: &str = "/v1/bundles/";

/// The path accepting send unit `id`.
pub fn receive_path(id: BundleId) -> String {
    format!("{BUNDLES}{id}/receive")
}

/// The path cancelling send unit `id`.
pub fn cancel_path(id: BundleId) -> String {
    format!("{BUNDLES}{id}/cancel")
}

/// One file of a send, its bytes in base64.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireFile {
    /// The standard file name (read once, then shared by the relay's records).
    pub name: Arc<str>,
    /// The file's bytes, base64 (standard alphabet, padded).
    pub content: String,
}

/// Body of `POST /v1/send`: the files of one send unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendRequest {
    /// The files.
    pub files: Vec<WireFile>,
}

impl SendRequest {
    /// Wraps uploads for the wire.
    pub fn from_uploads(uploads: &[Upload]) -> Self {
        let files = uploads
            .iter()
            .map(|u| WireFile {
                name: u.name.clone(),
                content: STANDARD.encode(&u.content),
            })
            .collect();
        Self { files }
    }

    /// Unwraps the uploads, or names the file whose content is not base64.
    ///
    /// The files are decoded into one buffer, each upload a slice of it: one allocation for the send unit,
    /// shared by the relay's store and every later download (a buffer per file would be made shareable
    /// once per file, at its first download).
    pub fn into_uploads(self) -> Result<Vec<Upload>, String> {
        let estimate = self
            .files
            .iter()
            .map(|f| base64::decoded_len_estimate(f.content.len()))
            .sum();
        let mut buffer = Vec::with_capacity(estimate);
        let mut placed = Vec::with_capacity(self.files.len());
        for file in self.files {
            let start = buffer.len();
            STANDARD
                .decode_vec(&file.content, &mut buffer)
                .map_err(|e| format!("content of `{}` is not base64: {e}", file.name))?;
            placed.push((file.name, start..buffer.len()));
        }
        let decoded = Bytes::from(buffer);
        Ok(placed
            .into_iter()
            .map(|(name, range)| Upload {
                name,
                content: decoded.slice(range),
            })
            .collect())
    }
}

/// Body of `GET /v1/inbox` and `GET /v1/sent`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bundles {
    /// The send units: an inbox in the order the receiver must process them (serial, then arrival), a
    /// sent list in the order they were sent.
    pub bundles: Vec<BundleRecord>,
}

/// Body of every refusal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable error code, e.g. `SENDER_MISMATCH`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
    /// Every code of the refusal when there are several (one per broken password rule), `code` first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    /// What the strict relay's validator found (`CONTENT_INVALID`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// Path of the e-billing portal's operation endpoint (the federation's issuance, the portal and the CA's
/// downloads): `POST` a [`PortalRequest`], answered by a [`PortalResponse`] or an [`ErrorBody`].
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
/// [`UsageResponse`] or an [`ErrorBody`].
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

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(name: &str, content: &[u8]) -> Upload {
        Upload::new(name, content.to_vec())
    }

    #[test]
    fn a_send_round_trips_through_the_wire_each_file_its_own_bytes() {
        let uploads = vec![
            upload("UPPLAN_a.CSV", b"first,file\r\n"),
            upload("UPSIKYU_b.CSV", b""),
            upload("plan.pdf", b"%PDF-1.4 third"),
        ];
        let json = serde_json::to_vec(&SendRequest::from_uploads(&uploads)).unwrap();
        let back = serde_json::from_slice::<SendRequest>(&json)
            .unwrap()
            .into_uploads()
            .unwrap();
        assert_eq!(back, uploads);
    }

    #[test]
    fn content_that_is_not_base64_names_its_file() {
        let request = SendRequest {
            files: vec![
                WireFile {
                    name: "UPPLAN_a.CSV".into(),
                    content: STANDARD.encode(b"fine"),
                },
                WireFile {
                    name: "UPSIKYU_b.CSV".into(),
                    content: "not base64!".to_owned(),
                },
            ],
        };
        let error = request.into_uploads().unwrap_err();
        assert!(
            error.starts_with("content of `UPSIKYU_b.CSV` is not base64"),
            "{error}"
        );
    }
}
