//! The OpenMetrics text of a run's cumulative snapshot: counters, gauges
//! and latency histograms in the families a Prometheus scrape expects.
//! Family names carry no `_total` suffix; counter samples do, as the
//! OpenMetrics format requires.

use std::fmt::Write;

use hdrhistogram::Histogram;

use crate::metrics::{EndpointStats, ErrorKind, Measure, Snapshot};

/// Bucket bounds in microseconds, with their `le` label: 1 ms to 60 s,
/// roughly 1-2.5-5 per decade, wide enough for a long poll's hold.
const BUCKETS: [(u64, &str); 15] = [
    (1_000, "0.001"),
    (2_500, "0.0025"),
    (5_000, "0.005"),
    (10_000, "0.01"),
    (25_000, "0.025"),
    (50_000, "0.05"),
    (100_000, "0.1"),
    (250_000, "0.25"),
    (500_000, "0.5"),
    (1_000_000, "1.0"),
    (2_500_000, "2.5"),
    (5_000_000, "5.0"),
    (10_000_000, "10.0"),
    (30_000_000, "30.0"),
    (60_000_000, "60.0"),
];

/// The whole exposition, ending with `# EOF`.
pub fn render(totals: &Snapshot) -> String {
    let mut text = String::new();
    requests(&mut text, totals);
    errors(&mut text, totals);
    durations(&mut text, totals);
    measures(&mut text, totals);
    gauges(&mut text, totals);
    chats(&mut text, totals);
    text.push_str("# EOF\n");
    text
}

/// Writes the `# TYPE`, optional `# UNIT` and `# HELP` lines of a family.
fn family(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# TYPE {name} {kind}");
    if name.ends_with("_seconds") {
        let _ = writeln!(text, "# UNIT {name} seconds");
    }
    let _ = writeln!(text, "# HELP {name} {help}");
}

fn requests(text: &mut String, totals: &Snapshot) {
    family(
        text,
        "chatload_requests",
        "counter",
        "Requests completed, by endpoint and HTTP status (none: no response).",
    );
    for (endpoint, stats) in totals.called() {
        let name = endpoint.name();
        for (status, count) in stats.statuses() {
            let _ = writeln!(
                text,
                "chatload_requests_total{{endpoint=\"{name}\",status=\"{status}\"}} {count}"
            );
        }
        let unanswered = stats.count - answered(stats);
        if unanswered > 0 {
            let _ = writeln!(
                text,
                "chatload_requests_total{{endpoint=\"{name}\",status=\"none\"}} {unanswered}"
            );
        }
    }
}

fn answered(stats: &EndpointStats) -> u64 {
    stats.statuses().map(|(_, n)| n).sum()
}

fn errors(text: &mut String, totals: &Snapshot) {
    family(
        text,
        "chatload_errors",
        "counter",
        "Failed requests, by kind.",
    );
    for kind in ErrorKind::ALL {
        let count = totals.errors_of(kind);
        let _ = writeln!(
            text,
            "chatload_errors_total{{kind=\"{}\"}} {count}",
            kind.name()
        );
    }
}

fn durations(text: &mut String, totals: &Snapshot) {
    let name = "chatload_request_duration_seconds";
    family(
        text,
        name,
        "histogram",
        "Response time, from the intended start to the end of the response.",
    );
    for (endpoint, stats) in totals.called() {
        if let Some(h) = stats.response.histogram() {
            histogram(text, name, &format!("endpoint=\"{}\"", endpoint.name()), h);
        }
    }
}

fn measures(text: &mut String, totals: &Snapshot) {
    let name = "chatload_chat_measure_seconds";
    family(
        text,
        name,
        "histogram",
        "Queue wait, agent reply and chat duration; per request, pool wait, sched lag, send lag.",
    );
    for measure in Measure::ALL {
        if let Some(h) = totals.measure(measure).histogram() {
            histogram(text, name, &format!("measure=\"{}\"", measure.name()), h);
        }
    }
}

/// One labelled histogram. A sample counts in the first bucket whose bound
/// is at or above the bottom of its HdrHistogram bucket, within 0.1 % of
/// its value: a sample exactly on a bound, such as a fixed 250 ms delay,
/// then lands in that bound's bucket, as Prometheus's `le` means.
fn histogram(text: &mut String, name: &str, labels: &str, h: &Histogram<u64>) {
    let mut counts = [0u64; BUCKETS.len()];
    for value in h.iter_recorded() {
        let micros = h.lowest_equivalent(value.value_iterated_to());
        if let Some(slot) = BUCKETS.iter().position(|(bound, _)| micros <= *bound) {
            counts[slot] += value.count_at_value();
        }
    }

    let mut cumulative = 0;
    for ((_, le), count) in BUCKETS.iter().zip(counts) {
        cumulative += count;
        let _ = writeln!(text, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
    }
    let total = h.len();
    let sum = h.mean() * total as f64 / 1e6;
    let _ = writeln!(text, "{name}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(text, "{name}_sum{{{labels}}} {sum}");
    let _ = writeln!(text, "{name}_count{{{labels}}} {total}");
}

fn gauges(text: &mut String, totals: &Snapshot) {
    family(
        text,
        "chatload_active_clients",
        "gauge",
        "Virtual clients active now.",
    );
    let _ = writeln!(text, "chatload_active_clients {}", totals.active_clients);
    family(text, "chatload_active_chats", "gauge", "Chats active now.");
    let _ = writeln!(text, "chatload_active_chats {}", totals.active_chats);
}

fn chats(text: &mut String, totals: &Snapshot) {
    let c = &totals.counters;
    family(
        text,
        "chatload_clients_started",
        "counter",
        "Virtual clients started.",
    );
    let _ = writeln!(text, "chatload_clients_started_total {}", c.clients_started);

    family(
        text,
        "chatload_chats",
        "counter",
        "Chats, by outcome: started, completed, failed, ended by the server.",
    );
    for (outcome, count) in [
        ("started", c.chats_started),
        ("completed", c.chats_completed),
        ("failed", c.chats_failed),
        ("ended_by_server", c.chats_ended_by_server),
    ] {
        let _ = writeln!(
            text,
            "chatload_chats_total{{outcome=\"{outcome}\"}} {count}"
        );
    }

    family(
        text,
        "chatload_chats_dropped",
        "counter",
        "Open model: chats that found no free client and never started.",
    );
    let _ = writeln!(text, "chatload_chats_dropped_total {}", c.chats_dropped);
    family(
        text,
        "chatload_chats_missed",
        "counter",
        "Of the dropped chats, arrivals whose time had passed when reached.",
    );
    let _ = writeln!(text, "chatload_chats_missed_total {}", c.chats_missed);
    family(
        text,
        "chatload_unknown_events",
        "counter",
        "Server events of types the protocol model does not know.",
    );
    let _ = writeln!(text, "chatload_unknown_events_total {}", c.unknown_events);
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::api::Endpoint;
    use crate::metrics::{Outcome, WorkerMetrics};

    #[test]
    fn buckets_are_cumulative_and_end_with_every_sample() {
        let now = Instant::now();
        let mut worker = WorkerMetrics::new();
        for ms in [1, 3, 40, 40, 7_000, 90_000] {
            let done = now + Duration::from_millis(ms);
            worker.record_request(Endpoint::History, now, now, done, Outcome::Status(200));
        }
        let text = render(&worker.take());

        let bucket = |le: &str| {
            let prefix = format!(
                "chatload_request_duration_seconds_bucket{{endpoint=\"history\",le=\"{le}\"}} "
            );
            let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap();
            line[prefix.len()..].parse::<u64>().unwrap()
        };
        assert_eq!(bucket("0.001"), 1);
        assert_eq!(bucket("0.005"), 2);
        assert_eq!(bucket("0.05"), 4);
        assert_eq!(bucket("10.0"), 5);
        assert_eq!(bucket("60.0"), 5, "90 s is beyond the last bound");
        assert_eq!(bucket("+Inf"), 6);
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn requests_without_a_response_count_under_status_none() {
        let now = Instant::now();
        let mut worker = WorkerMetrics::new();
        let timeout = Outcome::Error(ErrorKind::Timeout);
        worker.record_request(Endpoint::PollEvents, now, now, now, timeout);
        worker.record_request(Endpoint::PollEvents, now, now, now, Outcome::Status(200));
        let text = render(&worker.take());

        assert!(
            text.contains("chatload_requests_total{endpoint=\"poll_events\",status=\"none\"} 1")
        );
        assert!(
            text.contains("chatload_requests_total{endpoint=\"poll_events\",status=\"200\"} 1")
        );
        assert!(text.contains("chatload_errors_total{kind=\"timeout\"} 1"));
        assert!(text.contains("chatload_errors_total{kind=\"connect\"} 0"));
    }
}
