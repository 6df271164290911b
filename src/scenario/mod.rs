//! Scenario files: TOML in, a validated [`Scenario`] out.

mod model;

pub use model::*;

use crate::cli::ValidateArgs;

/// Runs `chatload validate`.
pub fn validate_command(_args: ValidateArgs) -> anyhow::Result<()> {
    anyhow::bail!("chatload validate is being built")
}
