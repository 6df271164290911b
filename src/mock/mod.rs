//! The mock contact center behind `chatload serve`.

use crate::cli::ServeArgs;

/// Runs `chatload serve` until Ctrl-C or SIGTERM.
pub fn serve_command(_args: ServeArgs) -> anyhow::Result<()> {
    anyhow::bail!("chatload serve is being built")
}
