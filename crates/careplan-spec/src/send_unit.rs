//! Send units (送信単位, spec §5.2): which files travel together, sharing sender, receiver and serial.

use std::fmt;

use careplan_core::ErrorCode;

use crate::{FileKind, FileName, MonthSegment};

/// A valid send unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendUnitKind {
    /// Plan tables: 1表 + 2表 (+ 3表 from V4) + user supplement (`000000`).
    PlanTables,
    /// A month's usage sheets: 6表 + 7表 + user supplement, one month.
    UsageSheets,
    /// 1表 deletion, alone.
    PlanTable1Deletion,
    /// 6表 deletion, alone.
    UsagePlanDeletion,
    /// Actuals, alone.
    Actuals,
    /// Actuals deletion, alone.
    ActualsDeletion,
    /// 介護予防 files (basic information, prevention plan, their annexes and deletions).
    Prevention,
}

/// Why files do not form a send unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendUnitError {
    /// No file.
    #[error("a send unit needs at least one file")]
    Empty,
    /// Files differ in sender, receiver or serial.
    #[error(
        "`{first}` and `{other}` differ in sender, receiver or serial (ファイル連番); one send unit shares all three"
    )]
    Address {
        /// The first file.
        first: String,
        /// The differing file.
        other: String,
    },
    /// The same kind twice.
    #[error("{0} appears twice in one send unit")]
    Duplicate(FileKind),
    /// A file of the send unit's kind is missing (its anchor included: the 6表 of usage sheets, the 1表 of
    /// plan tables, the parent of a 予防 annex).
    #[error("a send unit of {} lacks {}", list(.required), list(.missing))]
    Incomplete {
        /// Every file the send unit needs.
        required: Vec<FileKind>,
        /// The ones missing.
        missing: Vec<FileKind>,
    },
    /// Files that never travel together.
    #[error("{} cannot be sent together: {}", list(.kinds), .reason)]
    Combination {
        /// The kinds found.
        kinds: Vec<FileKind>,
        /// Why not.
        reason: &'static str,
    },
    /// The month segments of a usage-sheet unit differ, or its supplement is plan-linked.
    #[error("the files of a month's usage sheets must share one service month: {0}")]
    Month(String),
}

fn list(kinds: &[FileKind]) -> String {
    kinds.iter().map(|k| k.prefix()).collect::<Vec<_>>().join(" + ")
}

impl SendUnitError {
    /// The stable code of this refusal.
    pub fn code(&self) -> ErrorCode {
        ErrorCode::FileSetInvalid
    }
}

/// Whether plan table 3 (UP3KYO) is required with plan tables 1 and 2: from V4 it is; a relay, which does
/// not read contents, cannot tell V3 senders apart and lets it be optional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanTable3 {
    /// V4 rule set.
    Required,
    /// V3 rule set, or unknown.
    Optional,
}

impl fmt::Display for SendUnitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The kinds of a send unit's files, as a bit mask: every relay send checks one, so it allocates nothing.
#[derive(Debug, Clone, Copy, Default)]
struct KindSet(u32);

// One bit per kind.
const _: () = assert!(FileKind::ALL.len() <= 32);

impl KindSet {
    fn bit(kind: FileKind) -> u32 {
        1 << (kind as u32)
    }

    /// Adds `kind`; false when it was there already.
    fn insert(&mut self, kind: FileKind) -> bool {
        let new = self.0 & Self::bit(kind) == 0;
        self.0 |= Self::bit(kind);
        new
    }

    fn contains(self, kind: FileKind) -> bool {
        self.0 & Self::bit(kind) != 0
    }

    fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The kinds, in order (for refusals).
    fn to_vec(self) -> Vec<FileKind> {
        let mut kinds: Vec<FileKind> = FileKind::ALL.into_iter().filter(|k| self.contains(*k)).collect();
        kinds.sort();
        kinds
    }
}

/// Checks that `names` form one send unit and says which.
pub fn check_send_unit(names: &[FileName], plan_table_3: PlanTable3) -> Result<SendUnitKind, SendUnitError> {
    let first = names.first().ok_or(SendUnitError::Empty)?;
    let mut kinds = KindSet::default();
    for name in names {
        if (name.from, name.to, name.serial) != (first.from, first.to, first.serial) {
            return Err(SendUnitError::Address {
                first: first.to_string(),
                other: name.to_string(),
            });
        }
        if !kinds.insert(name.kind) {
            return Err(SendUnitError::Duplicate(name.kind));
        }
    }
    let has = |kind| kinds.contains(kind);
    let alone = |kind, unit| {
        if kinds.len() == 1 {
            Ok(unit)
        } else {
            Err(SendUnitError::Combination {
                kinds: kinds.to_vec(),
                reason: match kind {
                    FileKind::UsageActual | FileKind::UsageActualDeletion => {
                        "actuals and their deletions travel alone"
                    }
                    _ => "a deletion file travels alone",
                },
            })
        }
    };
    // `required` holds every file of the unit, its anchor first: a unit without its anchor is incomplete
    // like one without a companion (official text §2.3–§2.4).
    let requires = |required: &[FileKind]| {
        let missing: Vec<FileKind> = required.iter().copied().filter(|k| !kinds.contains(*k)).collect();
        let allowed = required.iter().fold(0, |mask, k| mask | KindSet::bit(*k));
        let extra = kinds.0 & !allowed != 0;
        if !missing.is_empty() {
            return Err(SendUnitError::Incomplete {
                required: required.to_vec(),
                missing,
            });
        }
        if extra {
            return Err(SendUnitError::Combination {
                kinds: kinds.to_vec(),
                reason: "files of different send units share one serial",
            });
        }
        Ok(())
    };
    for kind in [
        FileKind::PlanTable1Deletion,
        FileKind::UsagePlanDeletion,
        FileKind::UsageActual,
        FileKind::UsageActualDeletion,
    ] {
        if has(kind) {
            let unit = match kind {
                FileKind::PlanTable1Deletion => SendUnitKind::PlanTable1Deletion,
                FileKind::UsagePlanDeletion => SendUnitKind::UsagePlanDeletion,
                FileKind::UsageActual => SendUnitKind::Actuals,
                _ => SendUnitKind::ActualsDeletion,
            };
            return alone(kind, unit);
        }
    }
    if has(FileKind::UsagePlan) || has(FileKind::UsageAnnex) {
        requires(&[
            FileKind::UsagePlan,
            FileKind::UsageAnnex,
            FileKind::UserSupplement,
        ])?;
        let one_month = names.iter().all(|n| n.month == first.month);
        return match first.month {
            Some(MonthSegment::Month(_)) if one_month => Ok(SendUnitKind::UsageSheets),
            _ => Err(SendUnitError::Month(
                names
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
        };
    }
    if has(FileKind::PlanTable1) || has(FileKind::PlanTable2) || has(FileKind::PlanTable3) {
        let mut required = vec![FileKind::PlanTable1, FileKind::PlanTable2];
        if plan_table_3 == PlanTable3::Required || has(FileKind::PlanTable3) {
            required.push(FileKind::PlanTable3);
        }
        required.push(FileKind::UserSupplement);
        requires(&required)?;
        return match names
            .iter()
            .find(|n| n.kind == FileKind::UserSupplement)
            .and_then(|n| n.month)
        {
            Some(MonthSegment::PlanLinked) => Ok(SendUnitKind::PlanTables),
            _ => Err(SendUnitError::Combination {
                kinds: kinds.to_vec(),
                reason: "the user supplement of plan tables is named with month 000000",
            }),
        };
    }
    if has(FileKind::UserSupplement) {
        return Err(SendUnitError::Incomplete {
            required: vec![
                FileKind::UsagePlan,
                FileKind::UsageAnnex,
                FileKind::UserSupplement,
            ],
            missing: vec![FileKind::UsagePlan, FileKind::UsageAnnex],
        });
    }
    check_prevention(kinds)
}

/// 介護予防 units (spec §5.2): annexes travel with their parent; deletions alone.
fn check_prevention(kinds: KindSet) -> Result<SendUnitKind, SendUnitError> {
    let has = |kind| kinds.contains(kind);
    let deletions = [
        FileKind::PreventionBasicDeletion,
        FileKind::PreventionPlanDeletion,
    ];
    if deletions.iter().any(|k| has(*k)) && kinds.len() > 1 {
        return Err(SendUnitError::Combination {
            kinds: kinds.to_vec(),
            reason: "a deletion file travels alone",
        });
    }
    for (annex, parent) in [
        (FileKind::PreventionBasicSchedule, FileKind::PreventionBasic),
        (FileKind::PreventionBasicHistory, FileKind::PreventionBasic),
        (FileKind::PreventionPlanSupport, FileKind::PreventionPlan),
    ] {
        if has(annex) && !has(parent) {
            return Err(SendUnitError::Incomplete {
                required: vec![parent, annex],
                missing: vec![parent],
            });
        }
    }
    Ok(SendUnitKind::Prevention)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefixes: &[&str]) -> Vec<FileName> {
        prefixes
            .iter()
            .map(|p| {
                let month = match *p {
                    "UPHOSOKU0" => "_000000",
                    "UPPLAN" | "UPSIKYU" | "UPHOSOKU" | "UPJSK" | "DLTPLAN" | "DLTJSK" => "_202505",
                    "UPSIKYU6" => "_202506",
                    _ => "",
                };
                let prefix = p.trim_end_matches(['0', '6']);
                format!("{prefix}{month}_1310000001_43_1310000002_11_20250425103000.CSV")
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    fn check(prefixes: &[&str]) -> Result<SendUnitKind, SendUnitError> {
        check_send_unit(&names(prefixes), PlanTable3::Required)
    }

    #[test]
    fn valid_units() {
        assert_eq!(
            check(&["UPPLAN", "UPSIKYU", "UPHOSOKU"]),
            Ok(SendUnitKind::UsageSheets)
        );
        assert_eq!(
            check(&["UP1KYO", "UP2KYO", "UP3KYO", "UPHOSOKU0"]),
            Ok(SendUnitKind::PlanTables)
        );
        assert_eq!(
            check_send_unit(&names(&["UP1KYO", "UP2KYO", "UPHOSOKU0"]), PlanTable3::Optional),
            Ok(SendUnitKind::PlanTables)
        );
        assert_eq!(check(&["DLTPLAN"]), Ok(SendUnitKind::UsagePlanDeletion));
        assert_eq!(check(&["DLT1KYO"]), Ok(SendUnitKind::PlanTable1Deletion));
        assert_eq!(check(&["UPJSK"]), Ok(SendUnitKind::Actuals));
        assert_eq!(check(&["DLTJSK"]), Ok(SendUnitKind::ActualsDeletion));
        assert_eq!(
            check(&["UPKIHON", "UPKIHON_SUB1", "UPYOBO"]),
            Ok(SendUnitKind::Prevention)
        );
    }

    #[test]
    fn invalid_units_say_what_is_wrong() {
        let message = |prefixes: &[&str]| check(prefixes).unwrap_err().to_string();
        assert_eq!(
            message(&["UPPLAN", "UPHOSOKU"]),
            "a send unit of UPPLAN + UPSIKYU + UPHOSOKU lacks UPSIKYU"
        );
        assert!(message(&["UP1KYO", "UP2KYO", "UPHOSOKU0"]).contains("lacks UP3KYO"));
        assert!(message(&["DLTPLAN", "UPPLAN", "UPSIKYU", "UPHOSOKU"]).contains("travels alone"));
        assert!(message(&["UPJSK", "UPPLAN"]).contains("travel alone"));
        assert!(message(&["UPPLAN", "UPSIKYU6", "UPHOSOKU"]).contains("one service month"));
        assert!(message(&["UPPLAN", "UPSIKYU", "UPHOSOKU0"]).contains("one service month"));
        assert!(message(&["UP1KYO", "UP2KYO", "UP3KYO", "UPHOSOKU"]).contains("000000"));
        assert!(message(&["UPPLAN", "UPSIKYU", "UPHOSOKU", "UP2KYO"]).contains("different send units"));
        assert!(message(&["UPHOSOKU"]).contains("lacks UPPLAN + UPSIKYU"));
        assert!(message(&["UPKIHON_SUB1"]).contains("lacks UPKIHON"));
        // A unit without its anchor is incomplete, and the message never claims the anchor is there.
        for (unit, anchor) in [
            (&["UPSIKYU", "UPHOSOKU"][..], "UPPLAN"),
            (&["UPSIKYU"][..], "UPPLAN"),
            (&["UP2KYO", "UP3KYO", "UPHOSOKU0"][..], "UP1KYO"),
            (&["UP2KYO", "UPHOSOKU0"][..], "UP1KYO"),
        ] {
            let text = message(unit);
            assert!(text.contains(&format!("lacks {anchor}")), "{unit:?}: {text}");
            assert!(!text.starts_with(anchor), "{unit:?}: {text}");
        }
        assert!(message(&["UPPLAN", "UPPLAN"]).contains("twice"));
        let mut mixed = names(&["UPPLAN", "UPSIKYU", "UPHOSOKU"]);
        mixed[1].serial = mixed[1].serial.next();
        let err = check_send_unit(&mixed, PlanTable3::Required).unwrap_err();
        assert_eq!(err.code(), ErrorCode::FileSetInvalid);
        assert!(err.to_string().contains("serial"));
        assert_eq!(
            check_send_unit(&[], PlanTable3::Required),
            Err(SendUnitError::Empty)
        );
    }
}
