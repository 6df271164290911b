//! Warnings printed with the figures: conditions under which the numbers
//! are right but easy to misread, each with what to do about it.

use crate::metrics::RunData;

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
/// the connection pool fell behind, and response time shows it.
fn lag_warnings(data: &RunData) -> impl Iterator<Item = String> + '_ {
    data.totals.called().filter_map(|(endpoint, stats)| {
        let response = stats.response.quantile_ms(0.99)?;
        let service = stats.service.quantile_ms(0.99)?;
        let late = response > service * LAG_RATIO && response - service >= LAG_MIN_MS;
        late.then(|| {
            format!(
                "{endpoint}: response-time p99 {response:.1} ms against service-time p99 \
                 {service:.1} ms; requests started late (see pool_wait, or use fewer \
                 clients per worker)"
            )
        })
    })
}
