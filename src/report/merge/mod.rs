//! `chatload merge DIR... --out DIR`: the results of a run's shards (each a
//! `chatload run --segment K/N`) made into the results of the whole run.
//!
//! The shards are read back ([`shard`]), checked to belong together
//! ([`check`]), and merged exactly ([`combine`]): histograms added interval
//! by interval on wall-clock time, counters summed, rates taken over the
//! union of the shards' spans. The merged run is then summarised and
//! written like a single run, so every later step (the table, thresholds,
//! compare, the HTML report) reads it the same way.

pub mod check;
pub mod combine;
pub mod shard;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::MergeArgs;
use crate::exit::Verdict;
use crate::metrics::RunData;
use crate::report::{self, RunInfo, Summary};
use crate::scenario::Segment;

pub use shard::{Shard, TimelineRow, read_shard};

/// A finished merge.
#[derive(Debug)]
pub struct MergeOutcome {
    /// Where the merged results were written.
    pub dir: PathBuf,
    /// The merged figures, as written to summary.json.
    pub summary: Summary,
    /// Whether every threshold held on the merged figures.
    pub verdict: Verdict,
}

/// Runs `chatload merge`: merges, writes, prints the report.
pub fn merge_command(args: MergeArgs) -> anyhow::Result<Verdict> {
    let outcome = merge(&args.dirs, &args.out, &args.thresholds)?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        report::print_json(&outcome.summary, &mut stdout)?;
    } else {
        report::print_table(&outcome.summary, &mut stdout)?;
        report::thresholds::print_thresholds(&outcome.summary.thresholds, &mut stdout)?;
    }
    eprintln!("results: {}", outcome.dir.display());
    Ok(outcome.verdict)
}

/// Reads the shards in `dirs`, merges them and writes the merged results
/// into `out`, which must not hold anything yet. `thresholds` are
/// command-line ones (`--threshold`), replacing the shards' on the same
/// figure as they do for a run.
pub fn merge(dirs: &[PathBuf], out: &Path, thresholds: &[String]) -> anyhow::Result<MergeOutcome> {
    refuse_existing(out)?;
    // A misspelt threshold is refused before any shard is read.
    report::thresholds::parse_all(&[], thresholds)?;
    let shards = dirs
        .iter()
        .map(|dir| read_shard(dir))
        .collect::<anyhow::Result<Vec<Shard>>>()?;
    let (info, data, summary) = merge_shards(&shards, thresholds)?;

    report::write_results(out, &info, &data, &summary)
        .with_context(|| format!("writing merged results to {}", out.display()))?;
    report::html::write_report(out)
        .with_context(|| format!("writing the merged HTML report to {}", out.display()))?;
    Ok(MergeOutcome {
        dir: out.to_owned(),
        verdict: verdict(&summary),
        summary,
    })
}

/// Merges shards already read; the pure part of [`merge`]. Refuses shards
/// of different runs and warns about missing segments, on stderr and in
/// the summary's warnings. The thresholds are the shards' scenario's with
/// `cli` ones replacing those on the same figure.
pub fn merge_shards(
    shards: &[Shard],
    cli: &[String],
) -> anyhow::Result<(RunInfo, RunData, Summary)> {
    let (segments, mut warnings) = check::check(shards)?;
    for shard in shards {
        if let Some(aborted) = &shard.summary.aborted {
            let dir = shard.dir.display();
            warnings.push(format!("{dir} was {}", aborted.describe()));
        }
    }
    let (mut info, data, unknown_tags) = combine::combine(shards, label(&segments));
    let (scenario_toml, thresholds) = resolve_thresholds(shards, cli)?;
    info.scenario_toml = scenario_toml;
    warnings.extend(unknown_tags);
    for warning in &warnings {
        tracing::warn!("{warning}");
    }

    let mut summary = report::summarize(&info, &data);
    summary.seed = shards.first().and_then(|s| s.summary.seed);
    summary.warnings.splice(0..0, warnings);
    summary.thresholds = report::thresholds::evaluate(&thresholds, &summary);
    Ok((info, data, summary))
}

/// The shards' scenario (they all ran the same one, as the check made
/// sure) with the merge's command-line thresholds resolved into it, as
/// the merged scenario.toml, and the thresholds to judge the merged
/// figures by.
fn resolve_thresholds(
    shards: &[Shard],
    cli: &[String],
) -> anyhow::Result<(String, Vec<report::thresholds::Threshold>)> {
    let Some(first) = shards.first() else {
        return Ok((String::new(), Vec::new()));
    };
    let mut scenario = check::read_scenario(first)?;
    let thresholds = report::thresholds::parse_all(&scenario.thresholds, cli)?;
    if cli.is_empty() {
        // Nothing changed: keep the shard's file as it was written.
        return Ok((first.scenario_toml.clone(), thresholds));
    }
    scenario.thresholds = report::thresholds::table_entries(&thresholds)?;
    Ok((scenario.to_toml(), thresholds))
}

/// The exit verdict, as for a single run: failed when a threshold failed.
fn verdict(summary: &Summary) -> Verdict {
    if summary.thresholds.iter().all(|t| t.passed) {
        Verdict::Passed
    } else {
        Verdict::Failed
    }
}

/// `1,2,3/3`: the segments merged, one-based, over the shard count.
fn label(segments: &[Segment]) -> String {
    let count = segments.first().map_or(1, |s| s.count());
    let ks: Vec<String> = segments
        .iter()
        .map(|s| (s.index() + 1).to_string())
        .collect();
    format!("{}/{count}", ks.join(","))
}

fn refuse_existing(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        return Err(crate::exit::usage(format!(
            "--out {}: the directory exists; merged results are never written over \
             others, name a new one",
            out.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_lists_the_merged_segments() {
        let segments = [Segment::new(0, 3).unwrap(), Segment::new(2, 3).unwrap()];
        assert_eq!(label(&segments), "1,3/3");
    }
}
