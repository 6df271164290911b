//! From scenario text to a validated [`Scenario`]: the TOML is parsed
//! into a tree that keeps byte spans, then each section is read by its own
//! module, which checks keys, types and ranges as it goes. The first
//! problem found ends the read, reported at its position.

mod conversation;
mod faults;
mod load;
mod mock;
mod table;
mod target;
mod thresholds;

use toml::de::DeTable;

pub(crate) use conversation::END_NAMES;
pub(crate) use faults::{RESET_NAMES, SERVER_END_NAMES, read_spec as fault_spec};
pub(crate) use load::{ARRIVAL_NAMES, DEFAULT_MAX_CLIENTS};
pub(crate) use target::{API_NAMES, HTTP_NAMES, check_url};

use super::location::Diag;
use super::model::Scenario;
use table::{Read, Section};

const TOP_KEYS: &[&str] = &[
    "name",
    "target",
    "load",
    "conversation",
    "mock",
    "thresholds",
];

/// Parses and validates scenario text.
pub(crate) fn scenario(text: &str) -> Read<Scenario> {
    let document = DeTable::parse(text).map_err(syntax)?;
    let top = Section::open("", document.get_ref(), document.span(), TOP_KEYS)?;

    let name = top.require("name", "name = \"my-test\"")?;
    let name = scenario_name(&name)?;
    let target = target::read(top.get("target"))?;
    let load_field = top.require("load", "a [load] section with stages")?;
    let load = load::read(load_field)?;
    let conversation = conversation::read(top.get("conversation"), target.api)?;
    let mut mock = mock::read(top.get("mock"))?;
    mock::fit_to_agent_end(top.get("mock"), &target, &conversation, &mut mock)?;
    let thresholds = thresholds::read(top.get("thresholds"))?;

    let scenario = Scenario {
        name,
        target,
        load,
        conversation,
        mock,
        thresholds,
    };
    Ok(scenario)
}

fn syntax(err: toml::de::Error) -> Diag {
    let span = err.span().unwrap_or(0..0);
    Diag::new(span, format!("invalid TOML: {}", err.message().trim_end()))
}

// The name becomes part of a directory name, so it is kept to characters
// that are safe in paths on every system.
fn scenario_name(f: &table::Field<'_, '_>) -> Read<String> {
    let name = f.str()?;
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || !name.chars().all(safe) {
        return Err(f.error(format!(
            "\"{name}\" cannot name a results directory; use letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(name.to_owned())
}
