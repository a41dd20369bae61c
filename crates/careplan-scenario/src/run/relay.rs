//! The relay's steps: sending, receiving, cancelling, the inbox and sent lists, lost answers and hand
//! edits of an outbox.

use careplan_core::ErrorCode;
use careplan_relay::{BundleRecord, BundleStatus, Upload};

use super::{StepError, World};
use crate::format::{Action, OutboxEdit};

/// A minimal PDF file for `attach_pdf`.
const SMALL_PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

impl World {
    /// The relay actions.
    pub(super) async fn relay_step(&mut self, action: &Action) -> Result<String, StepError> {
        match action {
            Action::Send {
                office,
                to,
                latest_only,
            } => {
                let receiver = self.offices[*to].profile().number;
                let receipts = self.offices[*office].send_to(receiver, *latest_only).await?;
                let files: usize = receipts.iter().map(|r| r.files.len()).sum();
                let ids: Vec<String> = receipts.iter().map(|r| r.bundle.to_string()).collect();
                Ok(format!(
                    "{} send unit(s) (id {}), {files} file(s) accepted by the relay",
                    receipts.len(),
                    ids.join(", ")
                ))
            }
            Action::Receive {
                office,
                download,
                only,
                expect_files,
                expect_bundles,
            } => {
                let received = self.offices[*office].receive(*download, *only).await?;
                let checks = [
                    (expect_files, received.files, "new file(s) downloaded"),
                    (expect_bundles, received.bundles, "send unit(s) received"),
                ];
                for (expected, found, what) in checks {
                    if let Some(expected) = expected
                        && *expected != found
                    {
                        return Err(StepError::Assertion(format!(
                            "expected {expected} {what}, found {found}"
                        )));
                    }
                }
                Ok(if *download {
                    format!(
                        "{} send unit(s), {} new file(s) downloaded",
                        received.bundles, received.files
                    )
                } else {
                    format!(
                        "{} send unit(s) accepted (受信済), nothing downloaded",
                        received.bundles
                    )
                })
            }
            Action::CancelSend { office, to } => {
                let receiver = self.offices[*to].profile().number;
                let Some(bundle) = self.offices[*office].last_sent_to(receiver) else {
                    return Err(StepError::Assertion(format!(
                        "{} has sent nothing to {} to cancel",
                        self.aliases[*office], self.aliases[*to]
                    )));
                };
                let cancelled = self.offices[*office].cancel(bundle).await?;
                Ok(format!("send unit {} is {}", cancelled.id, cancelled.status))
            }
            Action::CheckInbox { office, statuses } => {
                let bundles = self.client(*office)?.inbox().await?;
                check_statuses("inbox", &bundles, statuses)
            }
            Action::CheckSent { office, to, statuses } => {
                let receiver = to.map(|to| self.offices[to].profile().number);
                let bundles: Vec<BundleRecord> = self
                    .client(*office)?
                    .sent()
                    .await?
                    .into_iter()
                    .filter(|b| receiver.is_none_or(|r| b.receiver == r))
                    .collect();
                check_statuses("sent list", &bundles, statuses)
            }
            Action::LoseResponses { count } => {
                self.relay.lose_responses(*count);
                Ok(format!("the relay's next {count} send answer(s) will be lost"))
            }
            Action::EditOutbox { office, to, edit } => self.edit_outbox(*office, *to, edit),
            other => Err(StepError::code(
                ErrorCode::ProtocolError,
                format!("not a relay action: {other:?}"),
            )),
        }
    }

    fn edit_outbox(&mut self, office: usize, to: usize, edit: &OutboxEdit) -> Result<String, StepError> {
        let receiver = self.offices[to].profile().number;
        let alias = self.aliases[to].clone();
        let outbox = self.offices[office].outbox_mut();
        let Some(bundle) = outbox.iter_mut().rev().find(|b| b.receiver == receiver) else {
            return Err(StepError::Assertion(format!(
                "no exported send unit for {alias} in the outbox"
            )));
        };
        let position = |prefix: &str| {
            bundle
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
        match edit {
            OutboxEdit::Remove(prefix) => {
                let removed = bundle.files.remove(position(prefix)?);
                Ok(format!("took {} out of the send unit", removed.name))
            }
            OutboxEdit::Damage(prefix) => {
                let index = position(prefix)?;
                let file = &mut bundle.files[index];
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
                Ok(format!("{}: the first record lost its last field", file.name))
            }
            OutboxEdit::AttachPdf(name) => {
                bundle.files.push(Upload::new(name.as_str(), SMALL_PDF));
                Ok(format!("attached {name} ({} bytes)", SMALL_PDF.len()))
            }
        }
    }
}

/// Compares the listed statuses with the expected ones.
fn check_statuses(
    list: &str,
    bundles: &[BundleRecord],
    expected: &[BundleStatus],
) -> Result<String, StepError> {
    let found: Vec<BundleStatus> = bundles.iter().map(|b| b.status).collect();
    let shown = |statuses: &[BundleStatus]| {
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
    let serials: Vec<String> = bundles
        .iter()
        .map(|b| format!("{} {}", b.serial, b.status))
        .collect();
    Ok(format!("{list}: {}", serials.join("; ")))
}
