//! What every scenario action is made of: its parameters (read with serde, unknown fields refused), its
//! entry in the reference (name, summary, parameters, example, codes), its description in a report, and
//! its execution against the running ecosystem.
//!
//! Parameters that name offices ([`Office`]) are resolved against the scenario's `[[office]]` tables while
//! the file is read, so an action never meets an unknown alias or an office in the wrong role.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;
use std::sync::Arc;

use careplan_core::ErrorCode;
use careplan_office::OfficeRole;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::run::{StepError, World};

/// The part of the ecosystem an action works on; the reference groups actions by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// The simulated clock.
    Clock,
    /// The care software (介護ソフト) and the linkage client (ケアプランデータ連携クライアント).
    CareSoftware,
    /// The federation's ID issuance, the e-billing portal (電子請求受付システム) and the client's login.
    Identity,
    /// The e-seikyu CA's certificates.
    Certificates,
    /// The usage-application site (利用申請サイト) and its licences.
    Licences,
    /// The relay (連携基盤).
    Relay,
    /// Checks of what the offices hold.
    Assertions,
}

/// One parameter of an action, as the reference shows it.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The field name in a `[[step]]`.
    pub name: &'static str,
    /// What it takes, e.g. ``office (care management)``, ``month``, ``true/false``.
    pub takes: &'static str,
    /// The default when left out; `None` when the field is required.
    pub default: Option<&'static str>,
    /// What it means.
    pub doc: &'static str,
    /// Its former name, still read.
    pub formerly: Option<&'static str>,
}

impl Param {
    /// A required parameter.
    pub const fn required(name: &'static str, takes: &'static str, doc: &'static str) -> Self {
        Self {
            name,
            takes,
            default: None,
            doc,
            formerly: None,
        }
    }

    /// An optional parameter and what leaving it out means.
    pub const fn optional(
        name: &'static str,
        takes: &'static str,
        default: &'static str,
        doc: &'static str,
    ) -> Self {
        Self {
            name,
            takes,
            default: Some(default),
            doc,
            formerly: None,
        }
    }

    /// The same parameter, also read under `name`, its former spelling (`#[serde(alias)]`).
    pub const fn formerly(self, name: &'static str) -> Self {
        Self {
            formerly: Some(name),
            ..self
        }
    }
}

/// An action's entry in the reference.
#[derive(Debug, Clone, Copy)]
pub struct ActionInfo {
    /// The `action` value.
    pub name: &'static str,
    /// Where the reference lists it.
    pub group: Group,
    /// What it does, in one line.
    pub summary: &'static str,
    /// Details: rules, what the office remembers, how it fails.
    pub details: &'static str,
    /// Its parameters, in the order the reference shows them.
    pub params: &'static [Param],
    /// A `[[step]]` using it, in the offices `cm` (care management) and `helper` (service).
    pub example: &'static str,
    /// The codes it may fail with (and `expect_error` may name), besides connection failures.
    pub codes: &'static [ErrorCode],
}

/// A scenario action: one item holding its parameters, registered once in [`crate::actions`].
pub(crate) trait Action: DeserializeOwned + Clone + fmt::Debug + PartialEq + Eq {
    /// Its entry in the reference.
    const INFO: ActionInfo;

    /// Checks between fields that serde cannot express (e.g. "exactly one of"); the message names them.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    /// What the step does, in words, for reports.
    fn describe(&self) -> String;

    /// Runs the step; gives what happened, in words.
    async fn execute(&self, world: &mut World) -> Result<String, StepError>;
}

/// An `[[office]]` as steps may name it.
#[derive(Debug, Clone)]
pub(crate) struct Roster {
    /// Aliases and roles, in file order.
    pub offices: Vec<(Arc<str>, OfficeRole)>,
}

thread_local! {
    /// The offices of the file being read. Serde has no place for context, so [`Office`] finds the roster
    /// here; [`with_roster`] sets it for exactly the duration of reading a file's steps.
    static ROSTER: RefCell<Option<Roster>> = const { RefCell::new(None) };
}

/// Runs `read` with `roster` visible to [`Office`] parameters.
pub(crate) fn with_roster<R>(roster: &Roster, read: impl FnOnce() -> R) -> R {
    struct Reset(Option<Roster>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            ROSTER.with(|r| *r.borrow_mut() = previous);
        }
    }
    let previous = ROSTER.with(|r| r.borrow_mut().replace(roster.clone()));
    let _reset = Reset(previous);
    read()
}

/// A role an [`Office`] parameter must have.
pub(crate) trait RoleBound {
    /// The role, or `None` for any.
    const ROLE: Option<OfficeRole>;
}

/// Offices of any role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AnyRole;
impl RoleBound for AnyRole {
    const ROLE: Option<OfficeRole> = None;
}

/// Care-management offices (居宅介護支援事業所) only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CareManager;
impl RoleBound for CareManager {
    const ROLE: Option<OfficeRole> = Some(OfficeRole::CareManagement);
}

/// Service offices (介護サービス事業所) only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Provider;
impl RoleBound for Provider {
    const ROLE: Option<OfficeRole> = Some(OfficeRole::Service);
}

/// An office a step names by its alias, resolved when the file is read.
pub(crate) struct Office<R = AnyRole> {
    /// Its place among the scenario's offices.
    pub index: usize,
    alias: Arc<str>,
    role: PhantomData<R>,
}

impl<R> Clone for Office<R> {
    fn clone(&self) -> Self {
        Self {
            index: self.index,
            alias: self.alias.clone(),
            role: PhantomData,
        }
    }
}

impl<R> PartialEq for Office<R> {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index
    }
}

impl<R> Eq for Office<R> {}

impl<R> fmt::Debug for Office<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Office({}: {})", self.index, self.alias)
    }
}

/// Shows the alias.
impl<R> fmt::Display for Office<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.alias)
    }
}

fn role_name(role: OfficeRole) -> &'static str {
    match role {
        OfficeRole::CareManagement => "care_management",
        OfficeRole::Service => "service",
    }
}

/// The closest of `candidates` to `typed`, if it is close enough to be a slip.
pub(crate) fn did_you_mean<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(typed, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// ` (did you mean `x`?)` when a candidate is close, else nothing.
pub(crate) fn suggestion<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(typed, candidates).map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"))
}

impl<'de, R: RoleBound> Deserialize<'de> for Office<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let alias = String::deserialize(deserializer)?;
        ROSTER.with(|roster| {
            let roster = roster.borrow();
            let Some(roster) = roster.as_ref() else {
                return Err(de::Error::custom(
                    "offices can only be named inside a scenario file",
                ));
            };
            let aliases = || roster.offices.iter().map(|(a, _)| &**a);
            let Some(index) = roster.offices.iter().position(|(a, _)| **a == *alias) else {
                let known: Vec<&str> = aliases().collect();
                return Err(de::Error::custom(format!(
                    "names no office `{alias}`{}; offices are: {}",
                    suggestion(&alias, aliases()),
                    known.join(", ")
                )));
            };
            let (alias, role) = roster.offices[index].clone();
            match R::ROLE {
                Some(wanted) if wanted != role => Err(de::Error::custom(format!(
                    "must be a {} office, but `{alias}` is a {} office",
                    role_name(wanted),
                    role_name(role)
                ))),
                _ => Ok(Self {
                    index,
                    alias,
                    role: PhantomData,
                }),
            }
        })
    }
}

/// How a step spells a password, a certificate-issuance password or a code: left out, the office types
/// the one it knows (from its notice, its mail or its last change); written, that literal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Secret {
    /// The one the office holds.
    #[default]
    Known,
    /// This text (a wrong password, a new one being tried).
    Literal(String),
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::Literal)
    }
}

impl Secret {
    /// How a step's description shows it: nothing when it is the known one.
    pub(crate) fn note(&self, what: &str) -> String {
        match self {
            Secret::Known => String::new(),
            Secret::Literal(text) => format!(" with {what} `{text}`"),
        }
    }
}

/// Reads a field through the type's `FromStr` (office numbers, months, spans, codes, statuses, …), so
/// a file and the command line accept the same spellings.
pub(crate) fn from_str<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(de::Error::custom)
}

/// [`from_str`] for an optional field (with `#[serde(default)]`).
pub(crate) fn from_str_opt<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    from_str(deserializer).map(Some)
}

/// A list of strings each read through `FromStr`.
pub(crate) fn from_str_list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    Vec::<String>::deserialize(deserializer)?
        .into_iter()
        .map(|text| text.parse().map_err(de::Error::custom))
        .collect()
}

/// An instant written as a TOML date-time or a string, RFC 3339 with an offset.
pub(crate) fn instant<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    let text = match toml::Value::deserialize(deserializer)? {
        toml::Value::String(text) => text,
        toml::Value::Datetime(datetime) => datetime.to_string(),
        other => {
            return Err(de::Error::custom(format!(
                "expected an RFC 3339 date-time, found {}",
                other.type_str()
            )));
        }
    };
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| {
        de::Error::custom(format!(
            "`{text}` is not an RFC 3339 date-time with an offset, e.g. 2025-05-01T09:00:00+09:00"
        ))
    })
}

/// The field names a parameter type accepts, as serde's derive lists them: asked of the type itself so
/// that the reference and the "did you mean" suggestions can never drift from what is read.
pub(crate) fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Fields(&'static [&'static str]);
    #[derive(Debug)]
    struct Stop;
    impl fmt::Display for Stop {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl de::Error for Stop {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    struct Introspect<'a>(&'a mut Fields);
    impl<'de> Deserializer<'de> for Introspect<'_> {
        type Error = Stop;
        fn deserialize_any<V: de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0.0 = fields;
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
            unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(&[]);
    let _ = T::deserialize(Introspect(&mut fields));
    fields.0
}
