//! What makes a set of shards mergeable: one scenario, one shard count,
//! each segment at most once. Anything else is refused, naming the
//! directories, because a merged figure of two different runs would look
//! right and mean nothing. A missing segment is only warned about: the
//! merge of the shards that did finish is still exact, just not the whole.

use std::collections::BTreeMap;
use std::path::Path;

use crate::exit::usage;
use crate::scenario::Segment;

use super::shard::Shard;

/// Checks the shards; returns the segments found, in order, and the
/// warnings to print and record.
pub fn check(shards: &[Shard]) -> anyhow::Result<(Vec<Segment>, Vec<String>)> {
    let Some(first) = shards.first() else {
        return Err(usage("merge needs at least one results directory"));
    };
    let mut by_segment: BTreeMap<Segment, &Path> = BTreeMap::new();

    for shard in shards {
        same_scenario(first, shard)?;
        let segment = segment_of(shard)?;
        if segment.count() != segment_of(first)?.count() {
            return Err(usage(format!(
                "{} is segment {} of {} shards but {} is {}; merge only the shards of one run",
                first.dir.display(),
                first.summary.segment,
                segment.count(),
                shard.dir.display(),
                segment
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
    fn missing_segments_are_named() {
        assert!(missing(&segments(&[(0, 3), (1, 3), (2, 3)])).is_empty());
        let one = missing(&segments(&[(0, 3), (2, 3)]));
        assert!(one[0].starts_with("segment 2/3 missing"), "{one:?}");
        let two = missing(&segments(&[(1, 3)]));
        assert!(two[0].starts_with("segments 1/3, 3/3 missing"), "{two:?}");
    }
}
