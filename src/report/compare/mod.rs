//! `chatload compare BASE CURRENT`: is this build slower than the
//! baseline, endpoint by endpoint?
//!
//! For every endpoint and chat measure either run recorded, p50, p99 and
//! p99.9 of the response time, the rate and (endpoints only) the error
//! rate are set side by side. A statistic is a regression only when both
//! hold:
//!
//! 1. it is worse than the base by more than the tolerance, relative to
//!    the base value (`--max-regression`, 10 % unless told, per statistic
//!    with `p99=20%`); a higher percentile or error rate, a lower rate. A
//!    percentile must also have risen by at least `--min-change` (1 ms
//!    unless told), so that a near-zero base cannot make a tiny rise huge;
//! 2. it is unlikely to be noise, judged from the distributions and not
//!    only two numbers. Percentiles: the 99 % confidence intervals of the
//!    percentile in the two runs, computed from the full latency.hlog
//!    distributions by order statistics, do not overlap. Rates: a
//!    one-sided test of the two Poisson counts at 1 %. Error rates: a
//!    one-sided two-proportion z-test at 1 %. See [`stats`].
//!
//! A change past the tolerance that fails the second test is reported as
//! within noise and does not fail the command. Both tests treat samples as
//! independent; requests of one run share a server and a moment, so they
//! are somewhat correlated, and the non-overlap rule for percentiles is
//! kept stricter than 1 % to allow for it.

pub mod input;
pub mod render;
pub mod rows;
pub mod stats;
pub mod tolerance;

pub use input::Results;
pub use rows::{CompareStat, Comparison, Judgement, Row, compare};
pub use tolerance::Tolerance;

use std::io::{self, Write};

use crate::cli::{CompareArgs, CompareFormat};
use crate::exit::{Verdict, usage};

/// Runs `chatload compare`: exit 1 on a regression, 2 on unusable input
/// (missing or unreadable files, runs of different scenarios without
/// `--force`).
pub fn compare_command(args: CompareArgs) -> anyhow::Result<Verdict> {
    let tolerance = Tolerance::parse(&args.max_regression)?.with_min_change(&args.min_change)?;
    let base = Results::load("base", &args.base)?;
    let current = Results::load("current", &args.current)?;
    check_same_scenario(&base, &current, args.force)?;

    let comparison = compare(&base, &current, &tolerance);
    tracing::debug!(rows = comparison.rows.len(), "runs compared");

    let stdout = io::stdout();
    let mut out = stdout.lock();
    match args.format {
        CompareFormat::Text => render::text(&comparison, &mut out)?,
        CompareFormat::Markdown => render::markdown(&comparison, &mut out)?,
        CompareFormat::Json => render::json(&comparison, &mut out)?,
    }
    out.flush()?;
    Ok(comparison.verdict())
}

/// Runs of different scenarios differ for reasons no test can tell from a
/// regression, so comparing them takes `--force`.
fn check_same_scenario(base: &Results, current: &Results, force: bool) -> anyhow::Result<()> {
    let (a, b) = (&base.summary.scenario, &current.summary.scenario);
    if a == b || force {
        return Ok(());
    }
    Err(usage(format!(
        "the base ran scenario \"{a}\" and the current run \"{b}\"; compare runs of one \
         scenario, or pass --force"
    )))
}
