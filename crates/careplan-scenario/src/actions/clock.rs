//! The simulated clock's actions.

use careplan_core::{CalendarSpan, Clock, ErrorCode, EventKind, Party, format_jst};
use serde::{Deserialize, Deserializer, de};
use time::OffsetDateTime;

use crate::action::{Action, ActionInfo, Group, Param, instant};
use crate::run::{StepError, World};

/// A span as written (`3y`, `1mo2d`), kept for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WrittenSpan {
    span: CalendarSpan,
    text: String,
}

impl<'de> Deserialize<'de> for WrittenSpan {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let span = text.parse().map_err(de::Error::custom)?;
        Ok(Self { span, text })
    }
}

/// Moves the simulated clock forward.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Advance {
    by: WrittenSpan,
}

impl Action for Advance {
    const INFO: ActionInfo = ActionInfo {
        name: "advance",
        group: Group::Clock,
        summary: "moves the clock forward by a span",
        details: "A span is one or more `<number><unit>` with units `y`, `mo`, `w`, `d`, `h`, `m`, `s` (e.g. \
                  `3y`, `1mo2d`, `1h30m`, `1s`). Years and months are calendar moves in JST (2024-02-29 + `1y` = \
                  2025-02-28); the rest are exact seconds.",
        params: &[Param::required(
            "by",
            "span",
            "how far, e.g. `3y`, `1mo2d`, `29d23h59m59s`",
        )],
        example: "action = \"advance\"\nby = \"1mo2d\"",
        codes: &[ErrorCode::SpanInvalid, ErrorCode::ClockOutOfRange],
    };

    fn describe(&self) -> String {
        format!("advance {}", self.by.text)
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        match world.clock.advance(self.by.span) {
            Ok(now) => {
                world.record(Party::Clock, EventKind::ClockMoved { to: now });
                Ok(format!("clock at {}", format_jst(now)))
            }
            Err(e) => Err(StepError::code(e.code(), e.to_string())),
        }
    }
}

/// Sets the simulated clock.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SetClock {
    #[serde(deserialize_with = "instant")]
    to: OffsetDateTime,
}

impl Action for SetClock {
    const INFO: ActionInfo = ActionInfo {
        name: "set_clock",
        group: Group::Clock,
        summary: "sets the clock to a date-time, forwards or backwards",
        details: "Within 2000-01-01 00:00:00 to 2099-12-31 23:59:59 JST; an instant outside fails with \
                  `CLOCK_OUT_OF_RANGE` and the clock stays put.",
        params: &[Param::required(
            "to",
            "date-time",
            "the new time, RFC 3339 with an offset",
        )],
        example: "action = \"set_clock\"\nto = 2028-04-30T23:59:59+09:00",
        codes: &[ErrorCode::ClockOutOfRange],
    };

    fn describe(&self) -> String {
        format!("set_clock {}", format_jst(self.to))
    }

    async fn execute(&self, world: &mut World) -> Result<String, StepError> {
        world
            .clock
            .set(self.to)
            .map_err(|e| StepError::code(e.code(), e.to_string()))?;
        world.record(Party::Clock, EventKind::ClockMoved { to: self.to });
        Ok(format!("clock at {}", format_jst(world.clock.now())))
    }
}
