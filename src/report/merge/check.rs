//! What makes a set of shards mergeable: one scenario (the same resolved
//! scenario.toml, not just the same name), one shard count, each segment
//! at most once. Anything else is refused, naming the
//! directories, because a merged figure of two different runs would look
//! right and mean nothing. A missing segment is only warned about: the
//! merge of the shards that did finish is still exact, just not the whole.

use std::collections::BTreeMap;
use std::path::Path;

use crate::exit::usage;
use crate::scenario::{Scenario, Segment};

use super::shard::Shard;

/// Checks the shards; returns the segments found, in order, and the
/// warnings to print and record.
pub fn check(shards: &[Shard]) -> anyhow::Result<(Vec<Segment>, Vec<String>)> {
    let Some(first) = shards.first() else {
        return Err(usage("merge needs at least one results directory"));
    };
    let mut by_segment: BTreeMap<Segment, &Path> = BTreeMap::new();
    let first_segment = segment_of(first)?;
    let first_plan = comparable(first)?;

    for shard in shards {
        same_scenario(first, shard)?;
        same_plan(first, &first_plan, shard)?;
        let segment = segment_of(shard)?;
        if segment.count() != first_segment.count() {
            return Err(usage(format!(
                "{} is segment {first_segment} of a {}-shard run but {} is segment {segment} of \
                 a {}-shard run; merge only the shards of one run",
                first.dir.display(),
                first_segment.count(),
                shard.dir.display(),
                segment.count()
            )));
        }
        if let Some(other) = by_segment.insert(segment, &shard.dir) {
            return Err(usage(format!(
                "{} and {} are both segment {segment}; each segment may be merged once",
                other.display(),
                shard.dir.display()
            )));
        }
    }

    let segments: Vec<Segment> = by_segment.into_keys().collect();
    let mut warnings = missing(&segments);
    warnings.extend(seed_mismatch(shards));
    Ok((segments, warnings))
}

fn same_scenario(first: &Shard, shard: &Shard) -> anyhow::Result<()> {
    if first.summary.scenario == shard.summary.scenario {
        return Ok(());
    }
    Err(usage(format!(
        "{} ran scenario \"{}\" but {} ran \"{}\"; merge only the shards of one run",
        first.dir.display(),
        first.summary.scenario,
        shard.dir.display(),
        shard.summary.scenario
    )))
}

/// The shard's scenario.toml, parsed: the scenario as resolved for its run.
pub fn read_scenario(shard: &Shard) -> anyhow::Result<Scenario> {
    let origin = shard.dir.join("scenario.toml");
    crate::scenario::parse(&shard.scenario_toml, &origin.display().to_string())
}

/// The shard's scenario as TOML without what may differ between the shards
/// of one run: the segment (never written to scenario.toml), each
/// machine's source addresses, and the thresholds, which judge the result
/// but do not shape the load (the merge judges by the first shard's).
fn comparable(shard: &Shard) -> anyhow::Result<String> {
    let mut scenario = read_scenario(shard)?;
    scenario.target.source_addrs.clear();
    scenario.thresholds.clear();
    Ok(scenario.to_toml())
}

/// Refuses a shard whose resolved scenario differs from the first's, such
/// as one edited to run other clients: the sum would describe no run.
fn same_plan(first: &Shard, first_plan: &str, shard: &Shard) -> anyhow::Result<()> {
    let plan = comparable(shard)?;
    let Some((ours, theirs)) = first_difference(first_plan, &plan) else {
        return Ok(());
    };
    Err(usage(format!(
        "{} and {} ran different scenarios: scenario.toml has `{ours}` in the first but \
         `{theirs}` in the second; merge only the shards of one run",
        first.dir.display(),
        shard.dir.display()
    )))
}

/// The first line where two TOML texts differ, as `[table] line`.
fn first_difference(a: &str, b: &str) -> Option<(String, String)> {
    let (mut table_a, mut table_b) = ("", "");
    let mut lines_a = a.lines();
    let mut lines_b = b.lines();
    loop {
        let (left, right) = (lines_a.next(), lines_b.next());
        if left.is_none() && right.is_none() {
            return None;
        }
        let (left, right) = (left.unwrap_or("(end)"), right.unwrap_or("(end)"));
        if left.starts_with('[') {
            table_a = left;
        }
        if right.starts_with('[') {
            table_b = right;
        }
        if left != right {
            return Some((located(table_a, left), located(table_b, right)));
        }
    }
}

fn located(table: &str, line: &str) -> String {
    if table.is_empty() || table == line {
        line.to_owned()
    } else {
        format!("{table} {line}")
    }
}

fn segment_of(shard: &Shard) -> anyhow::Result<Segment> {
    shard
        .summary
        .segment
        .parse()
        .map_err(|err| usage(format!("{}: summary.json has {err}", shard.dir.display())))
}

/// `segments 2/3, 3/3 missing`, when some are.
fn missing(found: &[Segment]) -> Vec<String> {
    let Some(count) = found.first().map(|s| s.count()) else {
        return Vec::new();
    };
    let absent: Vec<String> = (0..count)
        .filter_map(|k| Segment::new(k, count))
        .filter(|s| !found.contains(s))
        .map(|s| s.to_string())
        .collect();
    match absent.len() {
        0 => Vec::new(),
        1 => vec![format!(
            "segment {} missing; the figures cover the others only",
            absent[0]
        )],
        _ => vec![format!(
            "segments {} missing; the figures cover the others only",
            absent.join(", ")
        )],
    }
}

fn seed_mismatch(shards: &[Shard]) -> Option<String> {
    let seeds: Vec<Option<u64>> = shards.iter().map(|s| s.summary.seed).collect();
    let differ = seeds.windows(2).any(|w| w[0] != w[1]);
    differ.then(|| {
        "the shards drew their schedules from different seeds, so their open-model arrivals \
         need not partition one run's; give every shard the same scenario and --start-at"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(list: &[(u64, u64)]) -> Vec<Segment> {
        list.iter()
            .map(|&(k, n)| Segment::new(k, n).unwrap())
            .collect()
    }

    #[test]
    fn the_first_difference_names_its_table() {
        let a = "name = \"x\"\n\n[load]\nclients = 10\npause = \"1s\"\n";
        let b = "name = \"x\"\n\n[load]\nclients = 5000\npause = \"1s\"\n";
        let (ours, theirs) = first_difference(a, b).unwrap();
        assert_eq!(ours, "[load] clients = 10");
        assert_eq!(theirs, "[load] clients = 5000");
        assert!(first_difference(a, a).is_none());
        let (_, shorter) = first_difference(a, "name = \"x\"\n").unwrap();
        assert_eq!(shorter, "(end)");
    }

    #[test]
    fn missing_segments_are_named() {
        assert!(missing(&segments(&[(0, 3), (1, 3), (2, 3)])).is_empty());
        let one = missing(&segments(&[(0, 3), (2, 3)]));
        assert!(one[0].starts_with("segment 2/3 missing"), "{one:?}");
        let two = missing(&segments(&[(1, 3)]));
        assert!(two[0].starts_with("segments 1/3, 3/3 missing"), "{two:?}");
    }
}
