//! Abort on failure (`--abort-on-fail DELAY`): a long capacity run whose
//! thresholds already fail can stop early instead of burning its hours.
//!
//! The engine builds one [`AbortOnFail`] before the run and calls
//! [`AbortOnFail::check`] once per harvested second with the harvester's
//! running totals. Nothing is judged before DELAY has passed since the
//! start, because a ramp-up's first seconds say little about the run; the
//! check enforces that itself from the elapsed time it is given.

use std::time::Duration;

use crate::exit::usage;
use crate::metrics::{RunData, Snapshot};
use crate::report::RunInfo;
use crate::report::summary::{Summary, ThresholdResult, summarize};

use super::metric::Quantity;
use super::{Threshold, evaluate};

/// The thresholds watched while the run goes on, and the grace time.
#[derive(Debug, Clone)]
pub struct AbortOnFail {
    thresholds: Vec<Threshold>,
    delay: Duration,
}

impl AbortOnFail {
    /// Watches the thresholds that a failure mid-run can decide. A count
    /// that must reach a floor (`chats.completed > 1000`) is left out:
    /// counts only grow, so it fails every second until the end and says
    /// nothing about the run until then.
    pub fn new(thresholds: &[Threshold], delay: Duration) -> AbortOnFail {
        let thresholds = thresholds
            .iter()
            .filter(|t| !(t.statistic.quantity() == Quantity::Count && t.op.is_lower_bound()))
            .cloned()
            .collect();
        AbortOnFail { thresholds, delay }
    }

    /// True if and only if no threshold can abort the run.
    pub fn is_idle(&self) -> bool {
        self.thresholds.is_empty()
    }

    /// Evaluates the watched thresholds on the totals so far, `elapsed`
    /// after the start, and returns the failures when the run should stop.
    /// Returns `None` before the delay has passed and when all hold.
    ///
    /// A latency threshold on an endpoint not yet called does not abort:
    /// it may still be called, and the final evaluation fails it if not.
    /// The totals are copied to build the summary, a cost paid once a
    /// second and only when the flag is set.
    pub fn check(
        &self,
        info: &RunInfo,
        elapsed: Duration,
        totals: &Snapshot,
    ) -> Option<Vec<ThresholdResult>> {
        if elapsed < self.delay || self.is_idle() {
            return None;
        }
        let summary = running_summary(info, elapsed, totals);
        let failed: Vec<ThresholdResult> = evaluate(&self.thresholds, &summary)
            .into_iter()
            .filter(|r| !r.passed && r.observed.is_some())
            .collect();

        if failed.is_empty() {
            return None;
        }
        tracing::warn!(
            failed = failed.len(),
            ?elapsed,
            "thresholds failed; aborting the run"
        );
        Some(failed)
    }
}

/// The summary of a run still going on, as if it had ended now.
fn running_summary(info: &RunInfo, elapsed: Duration, totals: &Snapshot) -> Summary {
    let data = RunData {
        started_at: info.started_at,
        totals: totals.clone(),
        peak_active_clients: totals.active_clients,
        peak_active_chats: totals.active_chats,
        intervals: Vec::new(),
        hlog: Default::default(),
    };
    let info = RunInfo {
        duration: elapsed,
        ..info.clone()
    };
    summarize(&info, &data)
}

/// Reads the DELAY of `--abort-on-fail`, such as `5m`.
pub fn parse_delay(text: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        usage(format!(
            "--abort-on-fail \"{text}\": {e}; write a delay such as 30s or 5m"
        ))
    })
}

#[cfg(test)]
mod tests {
    use std::time::{Instant, SystemTime};

    use super::*;
    use crate::api::Endpoint;
    use crate::metrics::{Harvester, Outcome, WorkerMetrics};
    use crate::report::thresholds::parse_cli;

    const SECOND: Duration = Duration::from_secs(1);

    fn info() -> RunInfo {
        RunInfo {
            scenario: "soak".into(),
            target: "https://127.0.0.1:1".into(),
            started_at: SystemTime::UNIX_EPOCH,
            duration: Duration::ZERO,
            segment: "1/1".into(),
            insecure: false,
            http: "auto".into(),
            connections: "shared".into(),
            scenario_toml: String::new(),
        }
    }

    /// A harvester after `seconds` seconds of one slow request chat each.
    fn harvested(seconds: u64, ms: u64) -> Harvester {
        let mut harvester = Harvester::new(SystemTime::UNIX_EPOCH);
        let mut worker = WorkerMetrics::new();
        for second in 0..seconds {
            let now = Instant::now();
            let done = now + Duration::from_millis(ms);
            worker.record_request(Endpoint::RequestChat, now, now, done, Outcome::Status(200));
            harvester.add_interval(second, SECOND, worker.take());
        }
        harvester
    }

    fn watch(texts: &[&str], delay: Duration) -> AbortOnFail {
        let thresholds: Vec<Threshold> = texts.iter().map(|t| parse_cli(t).unwrap()).collect();
        AbortOnFail::new(&thresholds, delay)
    }

    #[test]
    fn nothing_aborts_before_the_delay() {
        let abort = watch(&["request_chat.p99 < 100ms"], SECOND * 60);
        let harvester = harvested(3, 500);
        assert_eq!(abort.check(&info(), SECOND * 3, harvester.totals()), None);
        let failed = abort
            .check(&info(), SECOND * 60, harvester.totals())
            .unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].name, "request_chat.p99 < 100ms");
    }

    #[test]
    fn holding_thresholds_and_uncalled_endpoints_do_not_abort() {
        let abort = watch(&["request_chat.p99 < 1s", "history.p99 < 1s"], SECOND);
        let harvester = harvested(3, 500);
        assert_eq!(abort.check(&info(), SECOND * 3, harvester.totals()), None);
    }

    #[test]
    fn rates_use_the_time_elapsed_so_far() {
        let abort = watch(&["request_chat.rate > 2/s"], SECOND);
        let harvester = harvested(4, 5);
        assert_eq!(
            abort
                .check(&info(), SECOND * 4, harvester.totals())
                .map(|f| f.len()),
            Some(1)
        );
    }

    #[test]
    fn floors_on_counts_are_left_to_the_end() {
        let abort = watch(
            &["chats.completed > 100", "request_chat.count >= 5"],
            SECOND,
        );
        assert!(abort.is_idle());
        assert!(!watch(&["errors.count < 5"], SECOND).is_idle());
    }

    #[test]
    fn delays_are_read_as_durations() {
        assert_eq!(parse_delay("5m").unwrap(), SECOND * 300);
        let err = parse_delay("soon").unwrap_err();
        assert!(crate::exit::is_usage(&err));
        assert!(err.to_string().contains("\"soon\""), "{err}");
    }
}
