//! Exit codes, the same for every command:
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | done, every threshold held |
//! | 1 | done, but a threshold or a comparison failed |
//! | 2 | invalid usage, scenario or input file |
//! | 3 | the run could not be carried out |
//!
//! An error is a usage error (2) when its chain holds a [`UsageError`];
//! any other error means the run could not be carried out (3).

use std::fmt;
use std::process::ExitCode;

/// How a command that did its work ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every threshold held (exit 0).
    Passed,
    /// A threshold or comparison failed (exit 1).
    Failed,
}

impl From<Verdict> for ExitCode {
    fn from(v: Verdict) -> ExitCode {
        match v {
            Verdict::Passed => ExitCode::SUCCESS,
            Verdict::Failed => ExitCode::from(1),
        }
    }
}

/// Marks an error as the user's input being wrong (exit 2). The message
/// names what is wrong and where.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error as an `anyhow::Error`.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// The exit code for an error that stopped a command.
pub fn code_for(err: &anyhow::Error) -> ExitCode {
    if is_usage(err) {
        ExitCode::from(2)
    } else {
        ExitCode::from(3)
    }
}

/// True if and only if the error's chain holds a [`UsageError`].
pub fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| cause.is::<UsageError>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn usage_errors_are_found_under_context() {
        let err = Err::<(), _>(usage("bad key"))
            .context("reading scenario")
            .unwrap_err();
        assert!(is_usage(&err));
        assert!(!is_usage(&anyhow::anyhow!("connection refused")));
    }
}
