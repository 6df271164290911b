//! The `[mock]` section: the embedded mock contact center's settings.

use super::table::{Field, Read};
use crate::scenario::model::MockSettings;

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

fn small(f: &Field<'_, '_>) -> Read<u32> {
    let n = f.positive_count()?;
    u32::try_from(n).map_err(|_| f.error(format!("{n} is too large; the most is {}", u32::MAX)))
}
