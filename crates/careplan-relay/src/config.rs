//! The relay's settings. The real relay's limits are not published: every default here is an assumption
//! (listed in `docs/assumptions.md`) and can be changed per scenario or per `serve`.

use serde::{Deserialize, Serialize};
use time::Duration;

/// Until when a sender may cancel (取消) a send unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelUntil {
    /// While unread or received, i.e. until the receiver has downloaded it (the default).
    Downloaded,
    /// Only while unread.
    Received,
    /// Never.
    Never,
}

impl std::str::FromStr for CancelUntil {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "downloaded" => Ok(CancelUntil::Downloaded),
            "received" => Ok(CancelUntil::Received),
            "never" => Ok(CancelUntil::Never),
            other => Err(format!(
                "cancel_until `{other}`: expected downloaded, received or never"
            )),
        }
    }
}

/// How the relay behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayConfig {
    /// How long files are kept after they are accepted (保存期間); then they are purged and the send unit
    /// shows as expired to both sides. Default 30 days (assumed).
    pub retention: Duration,
    /// The largest send unit, all files together, in bytes. Default 10 MiB (assumed).
    pub max_send_bytes: u64,
    /// Until when senders may cancel. Default: until downloaded (assumed).
    pub cancel_until: CancelUntil,
    /// Whether the relay also reads the CSV files and refuses a send unit the validator finds errors in.
    /// Off by default: the real relay does not read contents.
    pub strict: bool,
}

impl RelayConfig {
    /// The default retention period in days.
    pub const DEFAULT_RETENTION_DAYS: i64 = 30;
    /// The default size limit of one send unit.
    pub const DEFAULT_MAX_SEND_BYTES: u64 = 10 * 1024 * 1024;
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            retention: Duration::days(Self::DEFAULT_RETENTION_DAYS),
            max_send_bytes: Self::DEFAULT_MAX_SEND_BYTES,
            cancel_until: CancelUntil::Downloaded,
            strict: false,
        }
    }
}
