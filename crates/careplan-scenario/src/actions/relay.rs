//! The relay's actions: sending, receiving, cancelling, the inbox and sent lists, lost answers and hand
//! edits of an outbox.

use careplan_core::ErrorCode;
use careplan_relay::{SendUnitRecord, SendUnitStatus, Upload};
use serde::Deserialize;

use crate::action::{Action, ActionInfo, Group, Office, Param, from_str_list};
use crate::run::{StepError, World};

/// A minimal PDF file for `attach_pdf`.
const SMALL_PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// What the relay may refuse a send with.
const SEND_CODES: &[ErrorCode] = &[
    ErrorCode::NothingToSend,
    ErrorCode::ServiceNotStarted,
    ErrorCode::FileNameInvalid,
    ErrorCode::FileSetInvalid,
    ErrorCode::SenderMismatch,
    ErrorCode::SameOffice,
    ErrorCode::SendTooLarge,
    ErrorCode::AttachmentInvalid,
    ErrorCode::ContentInvalid,
    ErrorCode::SerialReused,
    ErrorCode::LicenceRequired,
    ErrorCode::ReceiverUnregistered,
    ErrorCode::ReceiverUnlicensed,
];

/// An office sends its exported send units for a receiver through the relay.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Send {
    office: Office,
    to: Office,
    #[serde(default)]
    latest_only: bool,
}

impl Action for Send {
    const INFO: ActionInfo = ActionInfo {
        name: "send",
        group: Group::CareSoftware,
        summary: "③/⑨ the linkage client sends every queued send unit for `to`, oldest first",
        details: "A send unit leaves the outbox only when the relay acknowledged it. `NOTHING_TO_SEND` if none is \
                  queued. When the relay's answer is lost the client repeats the send (3 tries in all) and gets \
                  the first receipt. The relay accepts a send only when the usage site says both the sender and \
                  the receiver are licensed at that second.",
        params: &[
            Param::required("office", "office", "the sender"),
            Param::required("to", "office", "the receiver"),
            Param::optional(
                "latest_only",
                "true/false",
                "false",
                "only the newest queued send unit, leaving older ones queued",
            ),
        ],
        example: "action = \"send\"\noffice = \"cm\"\nto = \"helper\"",
        codes: SEND_CODES,
    };

    fn describe(&self) -> String {
        format!(
            "send {} → {}{}",
            self.office,
            self.to,
            if self.latest_only {
                " (latest export only)"
            } else {
                ""
            }
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let receiver = world.offices[self.to.index].profile().number;
        let receipts = world.offices[self.office.index]
            .send_to(receiver, self.latest_only)
            .await?;
        let files: usize = receipts.iter().map(|r| r.files.len()).sum();
        let ids: Vec<String> = receipts.iter().map(|r| r.send_unit.to_string()).collect();
        Ok(format!(
            "{} send unit(s) (id {}), {files} file(s) accepted by the relay",
            receipts.len(),
            ids.join(", ")
        ))
    }
}

fn yes() -> bool {
    true
}

/// An office lists its inbox and downloads what is new, send unit by send unit in serial order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Receive {
    office: Office,
    #[serde(default = "yes")]
    download: bool,
    /// `bundle` is this field's former spelling, still read.
    #[serde(default, alias = "bundle")]
    send_unit: Option<usize>,
    #[serde(default)]
    expect_files: Option<usize>,
    /// `expect_bundles` is this field's former spelling, still read.
    #[serde(default, alias = "expect_bundles")]
    expect_send_units: Option<usize>,
}

impl Action for Receive {
    const INFO: ActionInfo = ActionInfo {
        name: "receive",
        group: Group::CareSoftware,
        summary: "④⑤/⑩⑪ lists the inbox and downloads every file not downloaded yet, send unit by send unit in serial order",
        details: "Cancelled and expired send units are passed over.",
        params: &[
            Param::required("office", "office", "the receiver"),
            Param::optional(
                "download",
                "true/false",
                "true",
                "`false` only accepts (受信) the unread send units, downloading nothing",
            ),
            Param::optional(
                "send_unit",
                "place (from 1)",
                "every send unit",
                "only the send unit at this place in the listing, as a user clicking one line",
            )
            .formerly("bundle"),
            Param::optional(
                "expect_files",
                "count",
                "not checked",
                "how many new files must arrive",
            ),
            Param::optional(
                "expect_send_units",
                "count",
                "not checked",
                "how many send units must be accepted or downloaded",
            )
            .formerly("expect_bundles"),
        ],
        example: "action = \"receive\"\noffice = \"helper\"\nexpect_files = 3",
        codes: &[
            ErrorCode::ServiceNotStarted,
            ErrorCode::SerialOrder,
            ErrorCode::SendUnitCancelled,
            ErrorCode::SendUnitExpired,
            ErrorCode::SendUnitAlreadyReceived,
            ErrorCode::FileNotFound,
        ],
    };

    fn check(&self) -> Result<(), String> {
        match self.send_unit {
            Some(0) => Err("`send_unit` counts from 1 (the first send unit listed)".to_owned()),
            _ => Ok(()),
        }
    }

    fn describe(&self) -> String {
        format!(
            "receive {}{}",
            self.office,
            if self.download { "" } else { " (accept only)" }
        )
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let received = world.offices[self.office.index]
            .receive(self.download, self.send_unit)
            .await?;
        let checks = [
            (self.expect_files, received.files, "new file(s) downloaded"),
            (
                self.expect_send_units,
                received.send_units,
                "send unit(s) received",
            ),
        ];
        for (expected, found, what) in checks {
            if let Some(expected) = expected
                && expected != found
            {
                return Err(StepError::Assertion(format!(
                    "expected {expected} {what}, found {found}"
                )));
            }
        }
        Ok(if self.download {
            format!(
                "{} send unit(s), {} new file(s) downloaded",
                received.send_units, received.files
            )
        } else {
            format!(
                "{} send unit(s) accepted (受信済), nothing downloaded",
                received.send_units
            )
        })
    }
}

/// The sender cancels (取消) the send unit it sent last to `to`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CancelSend {
    office: Office,
    to: Office,
}

impl Action for CancelSend {
    const INFO: ActionInfo = ActionInfo {
        name: "cancel_send",
        group: Group::Relay,
        summary: "the sender cancels (取消) the send unit it sent last to `to`",
        details: "Up to the point `[relay] cancel_until` allows (by default until it is downloaded).",
        params: &[
            Param::required("office", "office", "the sender"),
            Param::required("to", "office", "the receiver of the send unit"),
        ],
        example: "action = \"cancel_send\"\noffice = \"cm\"\nto = \"helper\"",
        codes: &[
            ErrorCode::ServiceNotStarted,
            ErrorCode::CancelNotAllowed,
            ErrorCode::SendUnitAlreadyDownloaded,
            ErrorCode::SendUnitCancelled,
            ErrorCode::SendUnitExpired,
            ErrorCode::SendUnitNotFound,
        ],
    };

    fn describe(&self) -> String {
        format!("cancel_send {} → {}", self.office, self.to)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let receiver = world.offices[self.to.index].profile().number;
        let office = &mut world.offices[self.office.index];
        let Some(send_unit) = office.last_sent_to(receiver) else {
            return Err(StepError::Assertion(format!(
                "{} has sent nothing to {} to cancel",
                self.office, self.to
            )));
        };
        let cancelled = office.cancel(send_unit).await?;
        Ok(format!("send unit {} is {}", cancelled.id, cancelled.status))
    }
}

/// Checks the statuses of an office's inbox, in listing (serial) order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckInbox {
    office: Office,
    #[serde(deserialize_with = "from_str_list")]
    statuses: Vec<SendUnitStatus>,
}

const STATUSES: &str = "list of `unread`, `received`, `downloaded`, `cancelled`, `expired`";

impl Action for CheckInbox {
    const INFO: ActionInfo = ActionInfo {
        name: "check_inbox",
        group: Group::Relay,
        summary: "the office's inbox lists exactly these statuses, in listing (serial) order",
        details: "",
        params: &[
            Param::required("office", "office", "the receiver"),
            Param::required("statuses", STATUSES, "one per send unit; `[]` for an empty inbox"),
        ],
        example: "action = \"check_inbox\"\noffice = \"helper\"\nstatuses = [\"downloaded\", \"unread\"]",
        codes: &[],
    };

    fn describe(&self) -> String {
        format!("check_inbox {}", self.office)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let send_units = world.client(self.office.index)?.inbox().await?;
        check_statuses("inbox", &send_units, &self.statuses)
    }
}

/// Checks the statuses of an office's sent list, in sending order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckSent {
    office: Office,
    #[serde(default)]
    to: Option<Office>,
    #[serde(deserialize_with = "from_str_list")]
    statuses: Vec<SendUnitStatus>,
}

impl Action for CheckSent {
    const INFO: ActionInfo = ActionInfo {
        name: "check_sent",
        group: Group::Relay,
        summary: "the office's sent list shows exactly these statuses, in sending order",
        details: "",
        params: &[
            Param::required("office", "office", "the sender"),
            Param::optional(
                "to",
                "office",
                "every receiver",
                "only the send units to this office",
            ),
            Param::required("statuses", STATUSES, "one per send unit"),
        ],
        example: "action = \"check_sent\"\noffice = \"cm\"\nto = \"helper\"\nstatuses = [\"cancelled\"]",
        codes: &[],
    };

    fn describe(&self) -> String {
        match &self.to {
            Some(to) => format!("check_sent {} → {to}", self.office),
            None => format!("check_sent {}", self.office),
        }
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let receiver = self
            .to
            .as_ref()
            .map(|to| world.offices[to.index].profile().number);
        let send_units: Vec<SendUnitRecord> = world
            .client(self.office.index)?
            .sent()
            .await?
            .into_iter()
            .filter(|b| receiver.is_none_or(|r| b.receiver == r))
            .collect();
        check_statuses("sent list", &send_units, &self.statuses)
    }
}

fn one() -> u32 {
    1
}

/// The relay acts on the next sends but their answers are lost on the way back.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoseResponses {
    #[serde(default = "one")]
    count: u32,
}

impl Action for LoseResponses {
    const INFO: ActionInfo = ActionInfo {
        name: "lose_responses",
        group: Group::Relay,
        summary: "the relay acts on the next sends but their answers are lost (the connection closes)",
        details: "",
        params: &[Param::optional(
            "count",
            "count",
            "1",
            "how many answers are lost",
        )],
        example: "action = \"lose_responses\"\ncount = 3",
        codes: &[],
    };

    fn describe(&self) -> String {
        format!("lose_responses {}", self.count)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        world.ecosystem.relay().lose_responses(self.count);
        Ok(format!(
            "the relay's next {} send answer(s) will be lost",
            self.count
        ))
    }
}

/// Edits the exported send unit waiting in an office's outbox for `to` (the latest one), as a vendor bug
/// or a user's hand would.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditOutbox {
    office: Office,
    to: Office,
    #[serde(default)]
    remove: Option<String>,
    #[serde(default)]
    damage: Option<String>,
    #[serde(default)]
    attach_pdf: Option<String>,
}

impl Action for EditOutbox {
    const INFO: ActionInfo = ActionInfo {
        name: "edit_outbox",
        group: Group::Relay,
        summary: "edits the newest exported send unit for `to` before it is sent",
        details: "Exactly one of `remove`, `damage`, `attach_pdf`.",
        params: &[
            Param::required("office", "office", "the office whose outbox is edited"),
            Param::required("to", "office", "the receiver of the send unit"),
            Param::optional(
                "remove",
                "file prefix",
                "-",
                "takes the file with this prefix (e.g. `UPSIKYU`) out",
            ),
            Param::optional(
                "damage",
                "file prefix",
                "-",
                "the file with this prefix loses the last field of its first record",
            ),
            Param::optional(
                "attach_pdf",
                "file name",
                "-",
                "attaches a small PDF file with this name",
            ),
        ],
        example: "action = \"edit_outbox\"\noffice = \"cm\"\nto = \"helper\"\nremove = \"UPSIKYU\"",
        codes: &[],
    };

    fn check(&self) -> Result<(), String> {
        let given = [&self.remove, &self.damage, &self.attach_pdf];
        match given.iter().filter(|edit| edit.is_some()).count() {
            1 => Ok(()),
            _ => Err("edit_outbox takes exactly one of remove, damage, attach_pdf".to_owned()),
        }
    }

    fn describe(&self) -> String {
        let what = match (&self.remove, &self.damage, &self.attach_pdf) {
            (Some(prefix), _, _) => format!("remove {prefix}"),
            (_, Some(prefix), _) => format!("damage {prefix}"),
            (_, _, Some(name)) => format!("attach {name}"),
            _ => String::new(),
        };
        format!("edit_outbox {} → {}: {what}", self.office, self.to)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        let receiver = world.offices[self.to.index].profile().number;
        let alias = &self.to;
        let outbox = world.offices[self.office.index].outbox_mut();
        let Some(send_unit) = outbox.iter_mut().rev().find(|b| b.receiver == receiver) else {
            return Err(StepError::Assertion(format!(
                "no exported send unit for {alias} in the outbox"
            )));
        };
        let position = |prefix: &str| {
            send_unit
                .files
                .iter()
                .position(|f| {
                    f.name
                        .strip_prefix(prefix)
                        .is_some_and(|rest| rest.starts_with('_'))
                })
                .ok_or_else(|| {
                    StepError::Assertion(format!("the send unit for {alias} holds no {prefix} file"))
                })
        };
        if let Some(prefix) = &self.remove {
            let removed = send_unit.files.remove(position(prefix)?);
            return Ok(format!("took {} out of the send unit", removed.name));
        }
        if let Some(prefix) = &self.damage {
            let index = position(prefix)?;
            let file = &mut send_unit.files[index];
            let line_end = file
                .content
                .windows(2)
                .position(|w| w == b"\r\n")
                .unwrap_or(file.content.len());
            let Some(last_comma) = file.content[..line_end].iter().rposition(|&b| b == b',') else {
                return Err(StepError::Assertion(format!(
                    "{} has no field to remove",
                    file.name
                )));
            };
            let mut damaged = file.content.to_vec();
            damaged.drain(last_comma..line_end);
            file.content = damaged.into();
            return Ok(format!("{}: the first record lost its last field", file.name));
        }
        let name = self.attach_pdf.as_deref().unwrap_or("attachment.pdf");
        send_unit.files.push(Upload::new(name, SMALL_PDF));
        Ok(format!("attached {name} ({} bytes)", SMALL_PDF.len()))
    }
}

/// Compares the listed statuses with the expected ones.
fn check_statuses(
    list: &str,
    send_units: &[SendUnitRecord],
    expected: &[SendUnitStatus],
) -> Result<String, StepError> {
    let found: Vec<SendUnitStatus> = send_units.iter().map(|b| b.status).collect();
    let shown = |statuses: &[SendUnitStatus]| {
        let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        format!("[{}]", names.join(", "))
    };
    if found != expected {
        return Err(StepError::Assertion(format!(
            "expected the {list} to show {}, it shows {}",
            shown(expected),
            shown(&found)
        )));
    }
    let serials: Vec<String> = send_units
        .iter()
        .map(|b| format!("{} {}", b.serial, b.status))
        .collect();
    Ok(format!("{list}: {}", serials.join("; ")))
}
