//! The exact merge: shards' interval histograms added on wall-clock time,
//! counters summed, and the run's span taken as the union of theirs.
//!
//! Alignment rule: the merged run starts at the earliest shard start, E.
//! A shard that started at S puts its second `k` into merged second
//! `round(S − E) + k`, and an interval-log line that starts at wall-clock T
//! goes into merged second `round(T − E)`. Shards that share a
//! `--start-at` have S = E, so their seconds line up one for one; a shard
//! that started some milliseconds apart lands on the nearest second.
//! Histograms are added bucket by bucket, which loses nothing: the merge of
//! two logs is the histogram of all their samples, in any order.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::api::Endpoint;
use crate::metrics::hlog::SERVICE_SUFFIX;
use crate::metrics::{ErrorKind, Harvester, IntervalHistogram, Measure, RunData, Snapshot};
use crate::report::RunInfo;

use super::shard::Shard;

/// One merged second while it is being gathered.
#[derive(Default)]
struct Slot {
    snapshot: Snapshot,
    length: Duration,
    errors: u64,
}

/// Merges the shards' measurements; `segment` is the label the merged
/// summary carries. Tags this build does not know are returned as warnings.
pub fn combine(shards: &[Shard], segment: String) -> (RunInfo, RunData, Vec<String>) {
    let origin = shards
        .iter()
        .map(|s| s.started_at)
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut slots: BTreeMap<u64, Slot> = BTreeMap::new();
    let mut warnings = Vec::new();

    for shard in shards {
        add_rows(&mut slots, shard, origin);
        for interval in &shard.intervals {
            let slot = slots.entry(second_of(interval.start, origin)).or_default();
            slot.length = slot.length.max(interval.duration);
            if !add_interval(&mut slot.snapshot, interval) {
                warnings.push(format!(
                    "{}: tag `{}` is unknown to this build and was left out",
                    shard.dir.display(),
                    interval.tag
                ));
            }
        }
    }
    warnings.dedup();

    let data = harvest(slots, origin, shards);
    (info(shards, origin, segment), data, warnings)
}

/// The gauges and error counts of every shard's seconds.
fn add_rows(slots: &mut BTreeMap<u64, Slot>, shard: &Shard, origin: SystemTime) {
    let offset = second_of(shard.started_at, origin);
    for row in &shard.rows {
        let slot = slots.entry(offset + row.second).or_default();
        slot.snapshot.active_clients += row.active_clients;
        slot.snapshot.active_chats += row.active_chats;
        slot.errors += row.errors;
        slot.length = slot.length.max(shard.interval_length(row.second));
    }
}

/// Seconds from `origin` to `at`, to the nearest; 0 for an `at` before it.
fn second_of(at: SystemTime, origin: SystemTime) -> u64 {
    let offset = at.duration_since(origin).unwrap_or_default();
    offset.as_secs_f64().round() as u64
}

/// Adds one log line into a snapshot; false for a tag it does not know.
fn add_interval(snapshot: &mut Snapshot, interval: &IntervalHistogram) -> bool {
    let histogram = &interval.histogram;
    if let Some(name) = interval.tag.strip_suffix(SERVICE_SUFFIX) {
        let Some(endpoint) = Endpoint::from_name(name) else {
            return false;
        };
        snapshot
            .endpoint_mut(endpoint)
            .service
            .add_histogram(histogram);
    } else if let Some(endpoint) = Endpoint::from_name(&interval.tag) {
        // Every request is timed, failed ones included, so the response
        // samples of a second are its requests.
        let stats = snapshot.endpoint_mut(endpoint);
        stats.response.add_histogram(histogram);
        stats.count += histogram.len();
    } else if let Some(measure) = Measure::from_name(&interval.tag) {
        snapshot.measure_mut(measure).add_histogram(histogram);
    } else {
        return false;
    }
    true
}

/// Runs the merged seconds through a harvester, as a live run does, then
/// puts back what the logs do not carry: per-second errors, and the run's
/// counters, statuses and error kinds from the summaries.
fn harvest(slots: BTreeMap<u64, Slot>, origin: SystemTime, shards: &[Shard]) -> RunData {
    let mut harvester = Harvester::new(origin);
    let mut errors = Vec::with_capacity(slots.len());
    for (index, slot) in slots {
        errors.push(slot.errors);
        harvester.add_interval(index, slot.length, slot.snapshot);
    }

    let mut data = harvester.finish();
    for (record, errors) in data.intervals.iter_mut().zip(errors) {
        record.errors = errors;
    }
    for shard in shards {
        add_summary_counts(&mut data.totals, shard);
    }
    data
}

fn add_summary_counts(totals: &mut Snapshot, shard: &Shard) {
    let summary = &shard.summary;
    let counters = &mut totals.counters;
    counters.clients_started += summary.clients.started;
    counters.chats_started += summary.chats.started;
    counters.chats_completed += summary.chats.completed;
    counters.chats_failed += summary.chats.failed;
    counters.chats_ended_by_server += summary.chats.ended_by_server;
    counters.chats_interrupted += summary.chats.interrupted;
    counters.chats_dropped += summary.chats.dropped;
    counters.chats_missed += summary.chats.missed;
    counters.unknown_events += summary.unknown_events;

    for (name, figures) in &summary.endpoints {
        let Some(endpoint) = Endpoint::from_name(name) else {
            continue;
        };
        let stats = totals.endpoint_mut(endpoint);
        for (code, n) in &figures.status {
            if let Ok(code) = code.parse() {
                stats.add_status(code, *n);
            }
        }
        for (kind, n) in &figures.error_kinds {
            if let Some(kind) = ErrorKind::ALL.into_iter().find(|k| k.name() == kind) {
                stats.add_errors(kind, *n);
            }
        }
    }
}

/// The merged run's identity: the first shard's settings, the earliest
/// start, and the union of the shards' wall-clock spans as its duration.
fn info(shards: &[Shard], origin: SystemTime, segment: String) -> RunInfo {
    let end = shards.iter().map(Shard::ended_at).max().unwrap_or(origin);
    let mut targets: Vec<&str> = shards.iter().map(|s| s.summary.target.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    let first = shards.first().map(|s| &s.summary);

    RunInfo {
        scenario: first.map(|s| s.scenario.clone()).unwrap_or_default(),
        target: targets.join(" "),
        started_at: origin,
        duration: end.duration_since(origin).unwrap_or_default(),
        segment,
        insecure: shards.iter().any(|s| s.summary.insecure),
        http: first.map(|s| s.http.clone()).unwrap_or_default(),
        connections: first.map(|s| s.connections.clone()).unwrap_or_default(),
        scenario_toml: shards
            .first()
            .map(|s| s.scenario_toml.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_the_nearest_from_the_origin() {
        let origin = SystemTime::UNIX_EPOCH + Duration::from_secs(100);
        let at = |ms: u64| origin + Duration::from_millis(ms);
        assert_eq!(second_of(at(0), origin), 0);
        assert_eq!(second_of(at(1_400), origin), 1);
        assert_eq!(second_of(at(1_600), origin), 2);
        assert_eq!(second_of(origin - Duration::from_secs(1), origin), 0);
    }
}
