//! Requirements between fields, records and files, and those of the specification's body: written by hand
//! from the official V4.1 text, each with its place in it.

use super::{Coverage, Cross};
use crate::FileKind;
use crate::validate::Rule;

fn enforced(rules: &[Rule]) -> Coverage {
    Coverage::Enforced(rules.to_vec())
}

/// Reasons a requirement is not enforced: what the files do not carry.
/// The table that enforces the requirements about service codes, which the files do not carry.
fn with_service_codes(rules: &[Rule]) -> Coverage {
    Coverage::WithTable {
        rules: rules.to_vec(),
        table: "the national service-code table (介護給付費単位数等サービスコード表, `validate --service-codes`)",
    }
}
const NEEDS_HISTORY: &str =
    "needs what the receiver holds from earlier send units: the files of one send unit cannot show it";
const BY_CONFORMANCE: &str = "a receiving product's behaviour, not a property of a file: the conformance cases that import check it (docs/adapter.md)";
const NEEDS_PERSON: &str =
    "the truth of the content against the sender's own records: judged by a person, not from the file";

fn cross(
    id: &'static str,
    field: Option<&'static str>,
    statement: &'static str,
    source: &'static str,
    coverage: Coverage,
) -> Cross {
    Cross {
        id,
        kinds: Vec::new(),
        field,
        statement,
        source,
        coverage,
    }
}

/// Requirements of every file: the body's rules on encoding, CSV form, names and versions, and send units.
pub(super) fn every_file() -> Vec<Cross> {
    vec![
        cross(
            "NAME",
            None,
            "The file name follows the standard: PREFIX[_YYYYMM]_<from>_<kind>_<to>_<kind>_<YYYYMMDDHHMMSS>.CSV.",
            "仕様書 2.2, 3.2; 定義書 ファイル名規約 of each file",
            enforced(&[Rule::FileName]),
        ),
        cross(
            "ENCODING",
            None,
            "The file is Shift-JIS (MS932), without characters outside MS932 and without 外字.",
            "定義書 文字コード: 「Shift-JIS（MS932）とし…外字の利用は不可とし」; 仕様書 4.3",
            enforced(&[Rule::Encoding]),
        ),
        cross(
            "CSV",
            None,
            "The file is CSV separated by commas; free text is enclosed in half-width double quotes, a quote inside doubled.",
            "定義書 ファイル形式（区切文字） CSV（,）; ※フリーテキストは\"\"（半角）で囲い; 仕様書 4.2",
            enforced(&[Rule::CsvSyntax]),
        ),
        cross(
            "NO-HEADER",
            None,
            "Every line is a record starting with field 1 CSVバージョン: no line of column names.",
            "定義書 layouts (no header row is defined); 仕様書 4.2",
            Coverage::Ambiguous {
                rules: vec![Rule::HeaderRow],
                reading: "the text defines records only and never a header row: a first line of column names is \
                          reported and left out",
            },
        ),
        cross(
            "VERSION-ONE",
            Some("CSVバージョン"),
            "All records of a file carry the same CSVバージョン.",
            "定義書 №1 CSVバージョン: 「1ファイル中に複数のCSVバージョンのレコードを混在させることはできない」",
            enforced(&[Rule::CsvVersionMixed]),
        ),
        cross(
            "VERSION-MONTH",
            Some("CSVバージョン"),
            "A CSVバージョン applies from the service month of its application: V4 from 2025-04.",
            "定義書 №1: 「CSVバージョンが変更された場合、新しいバージョンの適用年月となるサービス提供年月から適用する」",
            enforced(&[Rule::CsvVersionForMonth]),
        ),
        cross(
            "VERSION-NAME",
            Some("CSVバージョン"),
            "V4 file names carry both service kinds, and go with V4 content (CSVバージョン 202504/202407).",
            "仕様書 改版履歴 4.0; 定義書 ファイル名規約",
            enforced(&[Rule::FileNameVersion]),
        ),
        cross(
            "NOT-EMPTY",
            None,
            "A file is output for records that exist: an empty file is not sent.",
            "仕様書 2.6, 3.6 (出力単位)",
            Coverage::Ambiguous {
                rules: vec![Rule::FileEmpty],
                reading: "the text describes files by the records they carry and never an empty one; an empty \
                          file is a warning",
            },
        ),
        cross(
            "SEND-UNIT",
            None,
            "Files sharing sender, receiver and serial form a send unit of the combination the text lists: 6表 + 7表 + 補足 of one month; 1表 + 2表 + 3表 + 補足 (000000); deletions and actuals alone.",
            "仕様書 2.4, 3.4 (送信単位)",
            enforced(&[Rule::SendUnit, Rule::SendUnitPartial]),
        ),
        cross(
            "SEND-UNIT-USERS",
            None,
            "Every user of a dependent file of a send unit has records in its parent file.",
            "仕様書 2.3, 3.3 (ファイルの関係)",
            enforced(&[Rule::OrphanRecord]),
        ),
        cross(
            "PREVENTION-V4",
            Some("CSVバージョン"),
            "介護予防 files exist from V4 only: their CSVバージョン is 202504 or 202407.",
            "定義書 CSVバージョン履歴 第4版: 「介護予防に関するCSVファイルレイアウトを追加」",
            enforced(&[Rule::FileNameVersion]),
        ),
        cross(
            "SERIAL-ORDER",
            None,
            "Send units are processed in the order of their ファイル連番: two send units to one receiver do not share a serial.",
            "仕様書 2.5, 3.5: 「ファイル連番毎に処理されることを想定する」",
            enforced(&[Rule::SendUnit]),
        ),
        cross(
            "OUTPUT-COMPLETE",
            None,
            "Everything the printed form shows is output, per user.",
            "仕様書 2.6, 3.6: 「基本的には各帳票を印刷した際に記載される情報全てを利用者単位で出力する」",
            Coverage::NotEnforced(NEEDS_PERSON),
        ),
        cross(
            "ONE-FILE-PER-OFFICE",
            None,
            "One file per office number and service kind, satellites included.",
            "定義書 ファイル作成単位: 「サテライトに関わらず事業所番号・サービス種類が同じであれば、一つのファイルにまとめる」",
            Coverage::NotEnforced(NEEDS_HISTORY),
        ),
        cross(
            "INSURER-MUNICIPALITY",
            Some("保険者番号"),
            "保険者番号 is the code of the municipality the insured person belongs to.",
            "定義書 №2 保険者番号: 「要介護者が属する自治体のコード」",
            Coverage::NotEnforced("needs the insurer registry, which the files do not carry"),
        ),
        cross(
            "SCOPE",
            None,
            "Lines of service kinds outside the exchange's scope (施設, 特定施設, …) are not exchanged.",
            "仕様書 1.3, 1.4 (適用範囲)",
            enforced(&[Rule::ServiceKindOutOfScope]),
        ),
    ]
}

/// Requirements of a receiving product: what it does with what it receives. No file can break them, so the
/// validator checks none; the conformance cases that import do.
pub(super) fn receiver() -> Vec<Cross> {
    let by_cases = || Coverage::NotEnforced(BY_CONFORMANCE);
    vec![
        cross(
            "ORDER",
            None,
            "Received send units are taken in the order of their ファイル連番.",
            "仕様書 2.5, 3.5 (インターフェースファイルの取込順序について)",
            by_cases(),
        ),
        cross(
            "WHOLE",
            None,
            "A received send unit is imported whole: every record of every file, meaning what was sent.",
            "仕様書 5.1.1.3, 5.1.2 (連携の流れ); 2.6 (出力単位)",
            by_cases(),
        ),
        cross(
            "REPLACE",
            None,
            "Data sent again replaces what was sent before: a re-sent plan or sheet is not kept twice.",
            "仕様書 5.1.1.1, 5.1.1.3: 「先に送信した提供票について…取り下げ処理を行う必要はない」",
            by_cases(),
        ),
        cross(
            "DELETE",
            None,
            "A deletion removes the data it names with what depends on it (1表 with 2表 and 3表, 6表 with 7表), and nothing else.",
            "仕様書 2.3: 「計画書１表の削除に伴い、従属する計画書２表及び計画書３表の情報も削除する」「第6表…の削除に伴い、従属する第7表…も削除する」; 5.1.1.4",
            by_cases(),
        ),
    ]
}

/// The requirements between fields and records of one kind.
pub(super) fn of_kind(kind: FileKind) -> Vec<Cross> {
    match kind {
        FileKind::UserSupplement => vec![
            cross(
                "LINK",
                Some("居宅サービス計画作成（変更）日"),
                "A supplement linked to a month's 6表/7表 has field 4 = 00000000; one linked to 1表/2表 has field 63 対象年月 = 000000.",
                "定義書 利用者補足情報 №4: 「6表、7表に紐づく場合は「00000000」とする」; ファイル名規約: 「１表、２表に紐づく場合は提供年月は「000000」とする」",
                enforced(&[Rule::SupplementLink]),
            ),
            cross(
                "LIMIT-SLOTS",
                Some("１サービス種類コード"),
                "The per-kind limit slots (fields 20–55) are filled from slot 1 on, with no gap.",
                "定義書 利用者補足情報 №20–55: 「サービス種類別限度額管理が必要な場合は１枠から順番に設定する」",
                enforced(&[Rule::SlotOrder]),
            ),
            cross(
                "LIMIT-SLOT-SHORT-STAY",
                Some("１サービス種類コード"),
                "A slot for 短期入所療養介護 carries kind 22 (介護老人保健施設), whatever the facility.",
                "定義書 利用者補足情報 №20 ほか: 「短期入所療養介護の場合は22:短期入所療養介護（介護老人保健施設）を設定する」",
                enforced(&[Rule::ShortStaySlotKind]),
            ),
            cross(
                "LIMIT-AMOUNT",
                Some("区分支給限度基準額"),
                "区分支給限度基準額 is the amount the national limit table gives the care level.",
                "定義書 利用者補足情報 №18, №19",
                Coverage::NotEnforced(
                    "needs the national 区分支給限度基準額 table, which the files do not carry",
                ),
            ),
            cross(
                "LIMIT-PERIOD",
                Some("限度額適用開始年月日"),
                "限度額適用開始年月日 is not after 限度額適用終了年月日.",
                "定義書 利用者補足情報 №14, №15 (a period: start, end)",
                enforced(&[Rule::DateOrder]),
            ),
        ],
        FileKind::PlanTable1 => vec![
            cross(
                "OFFICE-IS-SENDER",
                Some("介護支援事業者コード"),
                "介護支援事業者コード is the care-management office that sends the plan.",
                "定義書 居宅サービス計画1表 №13 介護支援事業者コード; 仕様書 2.2 (居宅介護支援事業所が出力)",
                Coverage::Ambiguous {
                    rules: vec![Rule::PlanOfficeNotSender],
                    reading: "inferred from 仕様書 2.2 (the care-management office outputs the plan), not stated in words: a warning",
                },
            ),
            cross(
                "FIRST-PLAN-DATE",
                Some("初回居宅サービス計画作成日"),
                "初回居宅サービス計画作成日 is not after 居宅サービス計画作成（変更）日.",
                "定義書 居宅サービス計画1表 №14, №15",
                enforced(&[Rule::DateOrder]),
            ),
            cross(
                "CERTIFICATION-PERIOD",
                Some("認定有効期間開始日"),
                "認定有効期間開始日 is not after 認定有効期間終了日.",
                "定義書 居宅サービス計画1表 №19, №20",
                enforced(&[Rule::DateOrder]),
            ),
            cross(
                "OTHER-REASON",
                Some("その他理由"),
                "その他理由 goes with 生活援助中心型の算定理由 3 (その他).",
                "定義書 居宅サービス計画1表 №25 (3:その他), №26 その他理由",
                enforced(&[Rule::FieldNotCalledFor]),
            ),
        ],
        FileKind::PlanTable1Deletion => vec![cross(
            "DELETES-A-PLAN",
            Some("居宅サービス計画作成（変更）日"),
            "A deletion names a plan (user and 居宅サービス計画作成（変更）日) the receiver was sent.",
            "定義書 居宅サービス計画1表_削除 №4",
            Coverage::NotEnforced(NEEDS_HISTORY),
        )],
        FileKind::PlanTable2 => vec![
            cross(
                "PLAN-LINK",
                Some("居宅サービス計画作成（変更）日"),
                "Each row belongs to a 1表 of the send unit: same user and 居宅サービス計画作成（変更）日.",
                "仕様書 2.3 (ファイルの関係); 定義書 居宅サービス計画2表 №5",
                Coverage::Ambiguous {
                    rules: vec![Rule::OrphanRecord],
                    reading: "matched by user; the 作成（変更）日 is not compared, since a user has one plan per send unit",
                },
            ),
            cross(
                "NUMBERS",
                Some("課題ＮＯ"),
                "課題ＮＯ, 援助目標ＮＯ and 援助内容ＮＯ run from 1 to 99.",
                "定義書 居宅サービス計画2表 №6, №8, №13",
                enforced(&[Rule::NumberInvalid]),
            ),
        ],
        FileKind::PlanTable3 => vec![cross(
            "TIME-ORDER",
            Some("開始時間"),
            "A service or activity does not end before it starts.",
            "定義書 居宅サービス計画３表 №8, №9, №11, №12 (開始時間, 終了時間)",
            Coverage::NotEnforced(
                "a service or activity may run past midnight (夜間対応型訪問介護 22:00–6:00), so an end before the start is \
                 no breach the file can show",
            ),
        )],
        FileKind::UsagePlan | FileKind::UsageActual => {
            let mut list = vec![
                cross(
                    "ONE-MONTH",
                    Some("対象年月"),
                    "Every record's 対象年月 is the month of the file name: one service month per file.",
                    "定義書 ファイル作成単位 (単月のサービス提供年月のみ); №5 対象年月",
                    enforced(&[Rule::MonthMismatch]),
                ),
                cross(
                    "DATE-IN-MONTH",
                    Some("サービス利用日"),
                    "サービス利用日 lies in the record's 対象年月.",
                    "定義書 №10 サービス利用日, №5 対象年月",
                    enforced(&[Rule::ServiceDateOutsideMonth]),
                ),
                cross(
                    "PRORATION-DAYS",
                    Some("日割対象日"),
                    "日割対象日 marks no day the service month does not have.",
                    "定義書 №11 日割対象日 (1日目から31日目まで)",
                    enforced(&[Rule::ProrationOutsideMonth]),
                ),
                cross(
                    "EQUIPMENT-CODE",
                    Some("TAISコード"),
                    "A 福祉用具貸与 line (kinds 17, 67) carries a TAISコード or a 福祉用具届出コード.",
                    "定義書 №16 TAISコード, №17 福祉用具届出コード",
                    enforced(&[Rule::EquipmentCodeMissing]),
                ),
                cross(
                    "DETAIL-CODE",
                    Some("明細判別コード"),
                    "明細判別コード is set only on 福祉用具貸与 lines.",
                    "定義書 №19 明細判別コード",
                    enforced(&[Rule::DetailCodeOutsideRental]),
                ),
            ];
            list.push(cross(
                "SERVICE-CODE-EXISTS",
                Some("サービスコード"),
                "サービスコード is a code of the national service-code table for the service month.",
                "定義書 №15 サービスコード; 仕様書 1.3",
                with_service_codes(&[Rule::ServiceCodeUnknown]),
            ));
            list.push(cross(
                "COUNT",
                Some("サービス回数"),
                "サービス回数 is the number of times the service is given that day: at least 1.",
                "定義書 №14 サービス回数",
                enforced(&[Rule::ServiceCount]),
            ));
            list.push(cross(
                "TIMES-MATCH-KIND",
                Some("サービス開始時刻"),
                "Plans carry planned times and actuals the times given.",
                "定義書 №12, №13 サービス開始時刻・終了時刻",
                Coverage::NotEnforced(NEEDS_PERSON),
            ));
            if kind == FileKind::UsagePlan {
                list.push(cross(
                    "RECEIVER-HAS-LINES",
                    Some("サービス事業者コード"),
                    "Each user of a plan sent to a provider has lines of that provider.",
                    "仕様書 2.6 (連携対象の利用者); 定義書 №20 サービス事業者コード",
                    Coverage::Ambiguous {
                        rules: vec![Rule::ReceiverWithoutLines],
                        reading: "inferred from 仕様書 2.6 (連携対象の利用者), not stated in words: a warning",
                    },
                ));
            }
            if kind == FileKind::UsageActual {
                list.push(cross(
                    "KIND-IS-SENDERS",
                    Some("サービスコード"),
                    "Every service code of actuals is of the sending office's service kind.",
                    "定義書 ファイル作成単位 (事業所番号・サービス種類ごと); №15 サービスコード",
                    enforced(&[Rule::ActualProviderMismatch]),
                ));
                list.push(cross(
                    "PROVIDER-IS-SENDER",
                    Some("サービス事業者コード"),
                    "In actuals, サービス事業者コード is the sending office: each provider sends its own actuals.",
                    "仕様書 2.2, 2.6 (実績は提供事業所が出力); 定義書 №20 サービス事業者コード",
                    enforced(&[Rule::ActualProviderMismatch]),
                ));
            }
            list
        }
        FileKind::UsageAnnex => vec![
            cross(
                "UNIT-PRICE",
                Some("単位数単価"),
                "単位数単価 is the price of the office's 地域区分 for the service kind.",
                "定義書 第7表 №23 単位数単価",
                Coverage::NotEnforced(
                    "needs the 地域区分 unit-price table and the office's area, which the files do not carry",
                ),
            ),
            cross(
                "LIMIT-UNITS",
                Some("給付管理単位数"),
                "給付管理単位数 is empty on services outside the 区分支給限度.",
                "定義書 第7表 №18 給付管理単位数",
                with_service_codes(&[Rule::ManagedUnitsOutsideLimit]),
            ),
            cross(
                "SERVICE-CODE-EXISTS",
                Some("サービスコード"),
                "サービスコード of a service row is a code of the national service-code table for the service month.",
                "定義書 第7表 №9 サービスコード",
                with_service_codes(&[Rule::ServiceCodeUnknown]),
            ),
            cross(
                "UNITS",
                Some("単位数"),
                "単位数 of a service row is the code's units in the service-code table (a code given as a rate has none).",
                "定義書 第7表 №13 単位数",
                with_service_codes(&[Rule::ServiceUnitsMismatch]),
            ),
            cross(
                "STAY-DAYS",
                Some("累積利用日数"),
                "累積利用日数 is 前月までの利用日数 plus 当月の計画利用日数.",
                "定義書 第7表 №30, №31, №32",
                enforced(&[Rule::StayDaysSum]),
            ),
            cross(
                "ONE-MONTH",
                Some("対象年月"),
                "Every record's 対象年月 is the month of the file name: one service month per file.",
                "定義書 ファイル作成単位 (単月のサービス提供年月のみ); №5 対象年月",
                enforced(&[Rule::MonthMismatch]),
            ),
            cross(
                "TOTAL-ROW",
                Some("サービスコード"),
                "Each user has exactly one grand-total row 999999, with サービス事業所コード 9999999999.",
                "定義書 第7表 №9 (全合計 999999 必須出力), №7 (全合計は 9999999999)",
                enforced(&[Rule::AnnexTotalRow]),
            ),
            cross(
                "SUMMARY-ROW-VALUES",
                Some("単位数"),
                "Subtotal and total rows have 単位数 0 and empty 割引後率 and 割引後単位数.",
                "定義書 第7表 №13, №14, №15 (種類別小計及び全合計は 0 / Null 固定)",
                enforced(&[Rule::AnnexSummaryRow]),
            ),
            cross(
                "SUBTOTAL-ROW",
                Some("サービスコード"),
                "A service kind with more than one code row has its kind + AAAA subtotal row.",
                "定義書 第7表 №9: 区分支給対象種類別小計 AAAA (サービスコードが複数行の場合は必須)",
                enforced(&[Rule::AnnexSubtotalMissing]),
            ),
            cross(
                "SUMS",
                Some("サービス単位／金額"),
                "A kind's AAAA subtotal and the 999999 total carry the sums of the rows they summarise.",
                "定義書 第7表 №9, №17: the arithmetic of the 7表 form the subtotal and total rows stand for",
                Coverage::Ambiguous {
                    rules: vec![Rule::AnnexSum],
                    reading: "not stated in words; checked as a warning where a user has no EEEE/ZZZZ rows, whose \
                              split the file alone cannot show",
                },
            ),
            cross(
                "OFFICE-CODE",
                Some("事業所コード"),
                "Field 34 事業所コード is always 9999999999.",
                "定義書 第7表 №34: 「9999999999 を固定でセット」",
                enforced(&[Rule::AnnexOfficeCode]),
            ),
            cross(
                "EQUIPMENT-CODE",
                Some("TAISコード"),
                "A 福祉用具貸与 line (kinds 17, 67) carries a TAISコード or a 福祉用具届出コード.",
                "定義書 第7表 №10 TAISコード, №11 福祉用具届出コード",
                enforced(&[Rule::EquipmentCodeMissing]),
            ),
        ],
        FileKind::UsagePlanDeletion | FileKind::UsageActualDeletion => {
            let mut list = vec![
                cross(
                    "ONE-MONTH",
                    Some("削除対象年月"),
                    "Every record's 削除対象年月 is the month of the file name.",
                    "定義書 ファイル作成単位; №4 削除対象年月",
                    enforced(&[Rule::MonthMismatch]),
                ),
                cross(
                    "DELETES-SENT-DATA",
                    Some("削除対象年月"),
                    "A deletion names data the receiver was sent.",
                    "定義書 第6表（サービス利用票）、実績情報_削除 №4",
                    Coverage::NotEnforced(NEEDS_HISTORY),
                ),
            ];
            if kind == FileKind::UsageActualDeletion {
                list.push(cross(
                    "OFFICE-IS-SENDER",
                    Some("サービス事業者コード"),
                    "サービス事業者コード and サービス種類コード of an actuals deletion are the sending office's.",
                    "定義書 第6表（サービス利用票）、実績情報_削除 №5, №6",
                    enforced(&[Rule::ActualProviderMismatch]),
                ));
            }
            list
        }
        FileKind::PreventionBasic => vec![
            cross(
                "METHOD-OTHER",
                Some("相談方法(その他の内容)"),
                "相談方法 03 (その他) comes with 相談方法(その他の内容).",
                "定義書 利用者基本情報 №8, №9",
                enforced(&[Rule::ConditionalField]),
            ),
            cross(
                "SITUATION-NOTE",
                Some("利用者の現況(状況補足)"),
                "利用者の現況 02 (入院又は入所中) comes with 利用者の現況(状況補足).",
                "定義書 利用者基本情報 №12, №13",
                enforced(&[Rule::ConditionalField]),
            ),
            cross(
                "FAMILY-IMAGE",
                Some("家族構成 画像ファイル名"),
                "The family-structure image named in the record travels with the file.",
                "仕様書 3.3: 「別表１、別表2、家族構成画像ファイルを合わせて送付する」",
                Coverage::NotEnforced(
                    "image files are not CSV: the validator reads the CSV files of a send unit only",
                ),
            ),
        ],
        FileKind::PreventionPlan => vec![
            cross(
                "DATE-ORDER",
                Some("初回作成日"),
                "初回作成日 is not after 計画作成(変更)日.",
                "定義書 介護予防サービス・支援計画書 №4, №20",
                enforced(&[Rule::DateOrder]),
            ),
            cross(
                "CHECKLIST-COUNTS",
                Some("基本チェックリストの該当数(運動不足)"),
                "基本チェックリストの該当数 do not exceed the items of each area of the national checklist.",
                "定義書 介護予防サービス・支援計画書 №43–48",
                Coverage::NotEnforced(
                    "needs the national 基本チェックリスト's items per area, which the text does not give",
                ),
            ),
        ],
        FileKind::PreventionPlanSupport => vec![cross(
            "NUMBERING",
            Some("課題ＮＯ"),
            "Support plans under one 課題 share its 課題NO and are numbered 1, 2, 3… in 支援計画NO.",
            "定義書 介護予防サービス・支援計画書（別表）支援計画 (データ配置例)",
            Coverage::Ambiguous {
                rules: vec![Rule::SupportPlanNumbering],
                reading: "連番 read as the layout's example shows it: support plans numbered from 1 within a 課題, \
                          services from 1 within a support plan, each stepping by one; a warning",
            },
        )],
        _ => Vec::new(),
    }
}
