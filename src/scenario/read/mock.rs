//! The `[mock]` section: the embedded mock contact center's settings.

use std::time::Duration;

use super::table::{Field, Read};
use crate::scenario::model::{Conversation, EndMode, MockSettings, Target};

const KEYS: &[&str] = &[
    "agents",
    "chats_per_agent",
    "reply_delay",
    "poll_hold",
    "idle_end",
    "faults",
];

/// Reads `[mock]`; every key has a default.
pub(crate) fn read(field: Option<Field<'_, '_>>) -> Read<MockSettings> {
    let mut mock = MockSettings::default();
    let Some(field) = field else {
        return Ok(mock);
    };
    let s = field.section(KEYS)?;

    if let Some(f) = s.get("agents") {
        mock.agents = small(&f)?;
    }
    if let Some(f) = s.get("chats_per_agent") {
        mock.chats_per_agent = small(&f)?;
    }
    if let Some(f) = s.get("reply_delay") {
        mock.reply_delay = f.duration_range()?;
    }
    if let Some(f) = s.get("poll_hold") {
        mock.poll_hold = f.positive_duration()?;
    }
    if let Some(f) = s.get("idle_end") {
        mock.idle_end = f.positive_duration()?;
    }
    if let Some(f) = s.get("faults") {
        mock.faults = super::faults::read_all(&f)?;
    }
    Ok(mock)
}

/// Fits the embedded mock's `idle_end` to `end = "agent"`. The mock only
/// ends a chat after `idle_end` of customer silence, while the client gives
/// up after `agent_timeout`: with the defaults (120 s and 60 s) every chat
/// would fail. Left unset, `idle_end` becomes half of `agent_timeout`; set
/// to `agent_timeout` or more, the scenario is refused.
pub(crate) fn fit_to_agent_end(
    field: Option<Field<'_, '_>>,
    target: &Target,
    conversation: &Conversation,
    mock: &mut MockSettings,
) -> Read<()> {
    let waits_for_mock =
        target.url.is_none() && conversation.probe.is_none() && conversation.end == EndMode::Agent;
    if !waits_for_mock {
        return Ok(());
    }
    let timeout = conversation.agent_timeout;
    let written = match field {
        Some(f) => f.section(KEYS)?.get("idle_end"),
        None => None,
    };
    let Some(f) = written else {
        mock.idle_end = agent_end_idle(timeout);
        return Ok(());
    };
    if mock.idle_end < timeout {
        return Ok(());
    }
    Err(f.error(format!(
        "{} is not shorter than conversation.agent_timeout ({}), so with end = \"agent\" \
         every chat would fail before the embedded mock ends it; make mock.idle_end \
         shorter than conversation.agent_timeout, or leave it out",
        humantime::format_duration(mock.idle_end),
        humantime::format_duration(timeout),
    )))
}

/// The embedded mock's `idle_end` under `end = "agent"` when the file sets
/// none: half the client's wait leaves room for the mock's timer and a
/// loaded machine.
pub(crate) fn agent_end_idle(agent_timeout: Duration) -> Duration {
    agent_timeout / 2
}

fn small(f: &Field<'_, '_>) -> Read<u32> {
    let n = f.positive_count()?;
    u32::try_from(n).map_err(|_| f.error(format!("{n} is too large; the most is {}", u32::MAX)))
}
