//! The registry: every scenario action, listed once.
//!
//! Adding an action is one item (a parameter struct implementing [`Action`]) in the module of the party
//! it works on, plus one line in [`registry!`] below. The macro builds [`StepAction`] (one variant per
//! action) and [`ACTIONS`] (the reference), and dispatches reading, describing and executing with a
//! `match`, so an action without an executor or a description does not compile.

mod clock;
mod exchange;
mod identity;
mod licence;
mod prepare;
mod relay;

use crate::action::{Action, ActionInfo, field_names};
use crate::run::{StepError, World};

macro_rules! registry {
    ($($module:ident :: $action:ident),+ $(,)?) => {
        /// One of the registered actions, with its parameters.
        #[derive(Debug, Clone, PartialEq, Eq)]
        enum Registered {
            $($action($module::$action),)+
        }

        /// What a step does: one of the registered actions, with its parameters.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct StepAction(Registered);

        /// Every action's entry in the reference, in the order the reference lists them.
        pub const ACTIONS: &[ActionInfo] = &[$(<$module::$action as Action>::INFO),+];

        impl StepAction {
            /// Reads the parameters of the action `name`; `None` when no action has that name.
            pub(crate) fn read<'de, D: serde::Deserializer<'de>>(
                name: &str,
                params: D,
            ) -> Option<Result<Self, D::Error>> {
                $(
                    if name == <$module::$action as Action>::INFO.name {
                        return Some(
                            <$module::$action as serde::Deserialize>::deserialize(params)
                                .map(|action| StepAction(Registered::$action(action))),
                        );
                    }
                )+
                None
            }

            /// The field names the action `name` accepts (besides the common ones).
            pub(crate) fn fields(name: &str) -> &'static [&'static str] {
                $(
                    if name == <$module::$action as Action>::INFO.name {
                        return field_names::<$module::$action>();
                    }
                )+
                &[]
            }

            /// Its entry in the reference.
            pub fn info(&self) -> &'static ActionInfo {
                match &self.0 {
                    $(Registered::$action(_) => &<$module::$action as Action>::INFO,)+
                }
            }

            /// Checks between fields, after reading.
            pub(crate) fn check(&self) -> Result<(), String> {
                match &self.0 {
                    $(Registered::$action(action) => action.check(),)+
                }
            }

            /// What the step does, in words.
            pub fn describe(&self) -> String {
                match &self.0 {
                    $(Registered::$action(action) => action.describe(),)+
                }
            }

            /// Runs the step.
            pub(crate) async fn execute(&self, world: &mut World) -> Result<String, StepError> {
                match &self.0 {
                    $(Registered::$action(action) => action.execute(world).await,)+
                }
            }
        }
    };
}

registry! {
    clock::Advance,
    clock::SetClock,
    prepare::Prepare,
    exchange::ExportPlan,
    exchange::ExportPlanTables,
    exchange::ExportPrevention,
    exchange::ExportDeletion,
    exchange::ExportActuals,
    relay::Send,
    relay::Receive,
    exchange::Import,
    identity::IssueUserId,
    identity::PortalLogin,
    identity::AcceptTerms,
    identity::ChangePassword,
    identity::ClientLogin,
    identity::RegisterEmail,
    identity::ConfirmEmail,
    identity::RequestReset,
    identity::CompleteReset,
    identity::ReadMail,
    identity::ReissueIssuancePassword,
    identity::ApplyCertificate,
    identity::RenewCertificate,
    identity::InstallCertificate,
    identity::RevokeCertificate,
    identity::CheckCertificates,
    licence::UsageLogin,
    licence::ApplyUsage,
    licence::CheckLicence,
    licence::SetAutoRenewal,
    licence::RenewLicence,
    licence::CancelLicence,
    licence::PayInvoice,
    relay::CheckInbox,
    relay::CheckSent,
    relay::CancelSend,
    relay::LoseResponses,
    relay::EditOutbox,
    exchange::AssertDelivered,
    exchange::CheckExport,
    exchange::CheckHoldings,
}

/// The names of every action, for messages.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    ACTIONS.iter().map(|a| a.name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use careplan_core::ErrorCode;

    use super::*;
    use crate::format::Scenario;
    use crate::format::tests::HEAD;

    #[test]
    fn names_are_unique_and_snake_case() {
        let mut seen = BTreeSet::new();
        for action in ACTIONS {
            assert!(seen.insert(action.name), "{} is registered twice", action.name);
            assert!(
                action.name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                action.name
            );
        }
    }

    #[test]
    fn every_example_is_a_valid_step_of_its_action() {
        for action in ACTIONS {
            let text = format!("{HEAD}\n[[step]]\n{}\n", action.example);
            let scenario = Scenario::parse(&text, Path::new("example.toml"))
                .unwrap_or_else(|e| panic!("the example of {} does not read: {e}", action.name));
            assert_eq!(scenario.steps[0].action.info().name, action.name);
        }
    }

    #[test]
    fn the_reference_lists_exactly_the_fields_each_action_reads() {
        for action in ACTIONS {
            let documented: Vec<&str> = action
                .params
                .iter()
                .flat_map(|p| std::iter::once(p.name).chain(p.formerly))
                .collect();
            let mut read = StepAction::fields(action.name).to_vec();
            let mut sorted = documented.clone();
            read.sort_unstable();
            sorted.sort_unstable();
            assert_eq!(sorted, read, "{}: documented vs read fields", action.name);
        }
    }

    /// Codes any step meets when it reaches a party: the connection, the handshake, the client's state.
    const CONNECTION_CODES: &[ErrorCode] = &[
        ErrorCode::CertExpired,
        ErrorCode::CertNotYetValid,
        ErrorCode::CertUntrusted,
        ErrorCode::CertRequired,
        ErrorCode::CertWrongType,
        ErrorCode::CertRevoked,
        ErrorCode::ServerCertInvalid,
        ErrorCode::TlsHandshakeFailed,
        ErrorCode::RelayUnreachable,
        ErrorCode::PortalUnreachable,
        ErrorCode::UsageSiteUnreachable,
        ErrorCode::ClientNotLoggedIn,
        ErrorCode::ProtocolError,
        ErrorCode::StoreUnavailable,
    ];

    #[test]
    fn every_code_a_delivered_scenario_expects_is_listed_for_its_action() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "toml") {
                    files.push(path);
                }
            }
        }
        assert!(files.len() >= 31, "scenarios found: {}", files.len());
        let mut unlisted = Vec::new();
        for file in files {
            let scenario = Scenario::load(&file).unwrap();
            for step in &scenario.steps {
                let Some(code) = step.expect_error else { continue };
                let info = step.action.info();
                if !info.codes.contains(&code) && !CONNECTION_CODES.contains(&code) {
                    unlisted.push(format!("{}:{}: {} {code}", file.display(), step.line, info.name));
                }
            }
        }
        assert!(
            unlisted.is_empty(),
            "codes expected of actions whose reference does not list them:\n{}",
            unlisted.join("\n")
        );
    }

    #[test]
    fn docs_scenarios_md_holds_the_current_reference() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/scenarios.md");
        let document = std::fs::read_to_string(path).unwrap();
        let current = crate::reference::with_current_reference(&document).expect("the markers are there");
        assert!(
            current == document,
            "docs/scenarios.md is stale: run `cargo xtask docs`"
        );
    }

    #[test]
    fn former_spellings_of_fields_and_codes_are_still_read() {
        let step = "action = \"receive\"\noffice = \"helper\"\nbundle = 2\nexpect_bundles = 1\n\
                    expect_error = \"BUNDLE_CANCELLED\"";
        let old = Scenario::parse(&format!("{HEAD}\n[[step]]\n{step}\n"), Path::new("t.toml")).unwrap();
        let new = step
            .replace("bundle =", "send_unit =")
            .replace("expect_bundles", "expect_send_units")
            .replace("BUNDLE_CANCELLED", "SEND_UNIT_CANCELLED");
        let new = Scenario::parse(&format!("{HEAD}\n[[step]]\n{new}\n"), Path::new("t.toml")).unwrap();
        assert_eq!(old.steps, new.steps);
        assert_eq!(old.steps[0].expect_error, Some(ErrorCode::SendUnitCancelled));
    }

    #[test]
    fn misspellings_are_answered_with_the_closest_spelling() {
        let step = |body: &str| {
            Scenario::parse(&format!("{HEAD}\n[[step]]\n{body}\n"), Path::new("t.toml"))
                .unwrap_err()
                .to_string()
        };
        let wrong_action = step("action = \"sned\"\noffice = \"cm\"\nto = \"helper\"");
        assert!(wrong_action.contains("did you mean `send`?"), "{wrong_action}");
        assert!(wrong_action.starts_with("t.toml:20:"), "{wrong_action}");
        let wrong_field = step("action = \"receive\"\noffice = \"helper\"\nexpect_file = 3");
        assert!(
            wrong_field.contains("unknown field `expect_file`"),
            "{wrong_field}"
        );
        assert!(
            wrong_field.contains("did you mean `expect_files`?"),
            "{wrong_field}"
        );
        assert!(wrong_field.starts_with("t.toml:22:"), "{wrong_field}");
        let wrong_office = step("action = \"import\"\noffice = \"helpr\"");
        assert!(wrong_office.contains("did you mean `helper`?"), "{wrong_office}");
        let far_off = step("action = \"zzzzzz\"");
        assert!(!far_off.contains("did you mean"), "{far_off}");
        let wrong_type = step("action = \"send\"\noffice = \"cm\"\nto = \"helper\"\nlatest_only = 1");
        assert!(wrong_type.contains("expected true or false"), "{wrong_type}");
        assert!(wrong_type.starts_with("t.toml:23:"), "{wrong_type}");
        let both_edits = step(
            "action = \"edit_outbox\"\noffice = \"cm\"\nto = \"helper\"\nremove = \"UPPLAN\"\ndamage = \"UPPLAN\"",
        );
        assert!(both_edits.contains("exactly one of"), "{both_edits}");
    }
}
