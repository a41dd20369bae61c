//! The relay's HTTP API: paths and JSON bodies, shared by server and client.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | `POST` | `/v1/send` | [`SendRequest`] | 200 [`SendReceipt`](careplan_relay::SendReceipt) |
//! | `GET` | `/v1/inbox` | — | 200 [`Inbox`] |
//! | `GET` | `/v1/files/{id}` | — | 200 the file's bytes (`application/octet-stream`) |
//!
//! Every refusal is a 4xx with an [`ErrorBody`]. The caller's office is the one in its client certificate.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use careplan_relay::{InboxEntry, Upload};
use serde::{Deserialize, Serialize};

/// Path of the send endpoint.
pub const SEND: &str = "/v1/send";
/// Path of the inbox listing.
pub const INBOX: &str = "/v1/inbox";
/// Prefix of file downloads; the file id follows.
pub const FILES: &str = "/v1/files/";

/// One file of a send, its bytes in base64.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireFile {
    /// The standard file name.
    pub name: String,
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
    pub fn into_uploads(self) -> Result<Vec<Upload>, String> {
        self.files
            .into_iter()
            .map(|f| match STANDARD.decode(&f.content) {
                Ok(content) => Ok(Upload {
                    name: f.name,
                    content,
                }),
                Err(e) => Err(format!("content of `{}` is not base64: {e}", f.name)),
            })
            .collect()
    }
}

/// Body of `GET /v1/inbox`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inbox {
    /// The files, in the order the receiver must process them.
    pub files: Vec<InboxEntry>,
}

/// Body of every refusal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The stable error code, e.g. `SENDER_MISMATCH`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
}
