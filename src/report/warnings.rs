//! Warnings printed with the figures: conditions under which the numbers
//! are right but easy to misread, each with what to do about it.

use crate::metrics::{Measure, RunData};

use super::run_info::RunInfo;

/// Response time above this multiple of service time, at p99, means
/// requests started late.
const LAG_RATIO: f64 = 1.5;

/// ... and by at least this many milliseconds, so that fast endpoints'
/// jitter does not raise it.
const LAG_MIN_MS: f64 = 10.0;

/// The warnings for a run, most important first.
pub fn warnings(info: &RunInfo, data: &RunData) -> Vec<String> {
    let totals = &data.totals;
    let counters = &totals.counters;
    let mut found = Vec::new();

    if totals.requests() == 0 {
        found.push("no request completed; check the target URL and the load stages".to_owned());
    }
    if info.insecure {
        found.push("certificates were not verified (insecure); drop it or pass --ca-cert".into());
    }
    // Missed arrivals have a warning of their own, which names their
    // cause; only the rest point at the client cap.
    let busy = counters.chats_dropped - counters.chats_missed;
    if busy > 0 {
        found.push(format!(
            "{busy} chats could not start because every client was busy; raise \
             load.max_clients or lower the rate"
        ));
    }
    if counters.chats_missed > 0 {
        found.push(format!(
            "{} arrivals were not started: their time had passed by more than a second \
             (chats.missed); the shard started late or the generator fell behind (see \
             send_lag), so add workers or machines, or lower the rate",
            counters.chats_missed
        ));
    }
    if counters.unknown_events > 0 {
        found.push(format!(
            "{} server events of unknown types were counted and skipped; run with \
             --log debug to see their types",
            counters.unknown_events
        ));
    }
    found.extend(lag_warnings(data));
    found
}

/// Endpoints whose requests went out late: the generator, the scheduler or
/// the connection pool fell behind, and response time shows it. The
/// warning names whichever part of the send lag was the larger.
fn lag_warnings(data: &RunData) -> impl Iterator<Item = String> + '_ {
    let cause = late_cause(data);
    data.totals.called().filter_map(move |(endpoint, stats)| {
        let response = stats.response.quantile_ms(0.99)?;
        let service = stats.service.quantile_ms(0.99)?;
        let late = response > service * LAG_RATIO && response - service >= LAG_MIN_MS;
        late.then(|| {
            format!(
                "{endpoint}: response-time p99 {response:.1} ms against service-time p99 \
                 {service:.1} ms; requests started late: {cause}"
            )
        })
    })
}

/// Why requests went out late, from the two parts of the send lag.
fn late_cause(data: &RunData) -> String {
    let p99 = |measure| data.totals.measure(measure).quantile_ms(0.99);
    match (p99(Measure::PoolWait), p99(Measure::SchedLag)) {
        (Some(pool), Some(sched)) if pool >= sched => format!(
            "they waited for a free connection (pool_wait p99 {pool:.1} ms), so allow more \
             connections (target.connections) or use fewer clients per worker"
        ),
        (_, Some(sched)) => format!(
            "the generator fell behind its plan (sched_lag p99 {sched:.1} ms), so add workers \
             or machines, or lower the rate"
        ),
        _ => "see send_lag, pool_wait and sched_lag".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use super::*;
    use crate::api::Endpoint;
    use crate::metrics::{Harvester, Outcome, WorkerMetrics};

    const MS: Duration = Duration::from_millis(1);

    /// A second of requests sent 40 ms late, 5 ms each, of which `pool`
    /// was the wait for a connection and the rest the generator's lag.
    fn late_by(pool: Duration) -> RunData {
        let mut worker = WorkerMetrics::new();
        let intended = Instant::now();
        for _ in 0..100 {
            let sent = intended + MS * 40;
            let done = sent + MS * 5;
            let outcome = Outcome::Status(200);
            worker.record_request(Endpoint::SendEvents, intended, sent, done, outcome);
            worker.record_measure(Measure::PoolWait, pool);
            worker.record_measure(Measure::SchedLag, MS * 40 - pool);
            worker.record_measure(Measure::SendLag, MS * 40);
        }
        let mut harvester = Harvester::new(SystemTime::now());
        harvester.add_interval(0, Duration::from_secs(1), worker.take());
        harvester.finish()
    }

    fn lag_warning(data: &RunData) -> String {
        let found: Vec<String> = lag_warnings(data).collect();
        assert_eq!(found.len(), 1, "{found:?}");
        found[0].clone()
    }

    #[test]
    fn a_late_start_names_the_pool_when_connections_were_the_wait() {
        let warning = lag_warning(&late_by(MS * 35));
        assert!(
            warning.starts_with("send_events: response-time p99 45.0 ms"),
            "{warning}"
        );
        assert!(warning.contains("pool_wait p99 35.0 ms"), "{warning}");
        assert!(warning.contains("target.connections"), "{warning}");
    }

    #[test]
    fn a_late_start_names_the_generator_when_it_fell_behind() {
        let warning = lag_warning(&late_by(MS * 2));
        assert!(warning.contains("sched_lag p99 38.0 ms"), "{warning}");
        assert!(warning.contains("add workers"), "{warning}");
    }
}
