//! Scenario files: TOML in, a validated [`Scenario`] out.
//!
//! [`parse`] reads text, [`load`] reads a file (or the built-in quickstart)
//! and applies `chatload run` flags, [`Scenario::to_toml`] writes the
//! resolved scenario back, and [`validate_command`] prints the plan. Every
//! problem in a file is a usage error (exit 2) that starts with
//! `file:line:column` and names the key.

mod location;
mod model;
mod overrides;
mod plan;
mod read;
mod segment;
pub(crate) mod suggest;
mod to_toml;
mod values;

pub use model::*;

use std::path::Path;

use crate::cli::{RunArgs, ValidateArgs};
use crate::exit::usage;

/// The built-in scenario used when `chatload run` is given no file; the
/// same text as `scenarios/quickstart.toml`.
pub const QUICKSTART: &str = include_str!("../../scenarios/quickstart.toml");

/// Reads, parses and validates a scenario file, then applies command-line
/// overrides. With no path, the built-in quickstart scenario is used.
pub fn load(path: Option<&Path>, overrides: &RunArgs) -> anyhow::Result<Scenario> {
    let mut scenario = match path {
        Some(path) => read_file(path)?,
        None => parse(QUICKSTART, "quickstart (built in)")?,
    };
    overrides::apply(&mut scenario, overrides)?;
    tracing::debug!(name = %scenario.name, "scenario resolved");
    Ok(scenario)
}

/// Parses scenario text; `origin` names the file in error messages.
pub fn parse(text: &str, origin: &str) -> anyhow::Result<Scenario> {
    read::scenario(text).map_err(|diag| usage(diag.render(origin, text)))
}

/// Reads one `--fault` value: the inside of a `[[mock.faults]]` inline
/// table, such as `kind = "stall", every = "1s", hold = "250ms"`.
pub fn parse_fault(spec: &str) -> anyhow::Result<Fault> {
    read::fault_spec(spec).map_err(|message| {
        usage(format!(
            "--fault {spec:?}: {message}; see [[mock.faults]] in scenarios/README.md"
        ))
    })
}

/// Runs `chatload validate`: checks the thresholds' names and prints the
/// resolved plan on stdout.
pub fn validate_command(args: ValidateArgs) -> anyhow::Result<()> {
    let scenario = read_file(&args.scenario)?;
    crate::report::thresholds::parse_all(&scenario.thresholds, &[])?;
    print!("{}", plan::render(&scenario));
    Ok(())
}

fn read_file(path: &Path) -> anyhow::Result<Scenario> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("{}: cannot read the scenario: {e}", path.display())))?;
    parse(&text, &path.display().to_string())
}
