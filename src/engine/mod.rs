//! The load engine: plan, workers, virtual clients, run control.

pub mod profile;

use crate::cli::RunArgs;
use crate::exit::Verdict;

/// Runs `chatload run`.
pub fn run_command(_args: RunArgs) -> anyhow::Result<Verdict> {
    anyhow::bail!("chatload run is being built")
}
