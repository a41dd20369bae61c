//! The relay's HTTP API: paths and JSON bodies, shared by server and client.
//!
//! | method | path | body | answer |
//! |---|---|---|---|
//! | `POST` | `/v1/send` | [`SendRequest`] | 200 [`SendReceipt`](careplan_relay::SendReceipt) |
//! | `GET` | `/v1/inbox` | — | 200 [`SendUnits`]: the receiver's send units, in serial order |
//! | `GET` | `/v1/sent` | — | 200 [`SendUnits`]: the sender's send units, with the receiver's progress |
//! | `POST` | `/v1/bundles/{id}/receive` | — | 200 [`SendUnitRecord`]: accepted (受信済) |
//! | `POST` | `/v1/bundles/{id}/cancel` | — | 200 [`SendUnitRecord`]: cancelled (取消) |
//! | `GET` | `/v1/files/{id}` | — | 200 the file's bytes (`application/octet-stream`) |
//!
//! Every refusal is a 4xx with an [`ErrorBody`], the web parties' too. The caller's office is the one in its
//! client certificate. The web parties' operations are in [`careplan_parties::api`]; `docs/http-api.md`
//! lists every operation.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use careplan_relay::{Finding, Page, SendUnitId, SendUnitRecord, Upload};
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};

/// Path of the send endpoint.
pub const SEND: &str = "/v1/send";
/// Path of the inbox listing.
pub const INBOX: &str = "/v1/inbox";
/// Path of the sent list.
pub const SENT: &str = "/v1/sent";
/// Prefix of file downloads; the file id follows.
pub const FILES: &str = "/v1/files/";
/// Prefix of send-unit operations: `{id}/receive`, `{id}/cancel`.
pub const SEND_UNITS: &str = "/v1/bundles/";

/// The path accepting send unit `id`.
pub fn receive_path(id: SendUnitId) -> String {
    format!("{SEND_UNITS}{id}/receive")
}

/// The path cancelling send unit `id`.
pub fn cancel_path(id: SendUnitId) -> String {
    format!("{SEND_UNITS}{id}/cancel")
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

/// Body of `GET /v1/inbox` and `GET /v1/sent`: one page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SendUnits {
    /// The send units: an inbox in the order the receiver must process them (serial, then arrival), a
    /// sent list in the order they were sent. `bundles` on the wire, its spelling since v1.
    #[serde(rename = "bundles")]
    pub send_units: Vec<SendUnitRecord>,
    /// When more follow: the query giving the next page (`after=<position>&limit=<n>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The most send units a page of the inbox or the sent list holds (and its default size).
pub const MAX_PAGE: usize = Page::MAX;

/// The page a query string asks for (`after=0&limit=1000` by default); a malformed or out-of-range value
/// is refused with what is wrong.
pub fn page_of_query(query: Option<&str>) -> Result<Page, String> {
    let mut page = Page::FIRST;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let number: usize = value
            .parse()
            .map_err(|_| format!("`{pair}`: expected a non-negative number"))?;
        match key {
            "after" => page.after = number,
            "limit" if (1..=MAX_PAGE).contains(&number) => page.limit = number,
            "limit" => return Err(format!("`limit` is 1 to {MAX_PAGE}, not {number}")),
            other => return Err(format!("`{other}` is not a query parameter: after, limit")),
        }
    }
    Ok(page)
}

/// The query of the page after `page`.
pub fn next_page_query(page: Page) -> String {
    let next = page.next();
    format!("after={}&limit={}", next.after, next.limit)
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

#[cfg(test)]
mod page_tests {
    use super::*;

    #[test]
    fn a_query_names_a_page_and_the_next_page_follows_it() {
        let page = page_of_query(Some("after=3&limit=2")).unwrap();
        assert_eq!(page, Page { after: 3, limit: 2 });
        assert_eq!(next_page_query(page), "after=5&limit=2");
        assert_eq!(page_of_query(None).unwrap(), Page::FIRST);
        assert_eq!(page_of_query(Some("")).unwrap(), Page::FIRST);
        assert!(page_of_query(Some("limit=0")).is_err());
        assert!(page_of_query(Some(&format!("limit={}", MAX_PAGE + 1))).is_err());
        assert!(page_of_query(Some("after=x")).is_err());
        assert!(page_of_query(Some("before=1")).is_err());
    }
}
