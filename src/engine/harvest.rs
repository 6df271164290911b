//! The harvest loop on the calling thread: gathers each interval's
//! snapshots from every worker, merges them in interval order, feeds the
//! harvester and the progress display, and turns Ctrl-C or SIGTERM into a
//! graceful end (a second one skips the grace).

use std::collections::BTreeMap;
use std::time::Duration;

#[cfg(unix)]
use tokio::signal::unix;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::control::{Control, Phase, Timeline};
use super::worker::Report;
use crate::metrics::{Harvester, Snapshot};
use crate::report::openmetrics::LiveMetrics;
use crate::report::summary::Aborted;
use crate::report::thresholds::AbortOnFail;
use crate::report::{Progress, RunInfo};
use crate::scenario::Scenario;

/// One interval being gathered.
struct Gathering {
    merged: Option<Snapshot>,
    length: Duration,
}

/// Which intervals each worker has delivered.
struct Ledger {
    /// Per worker: the next interval index it will deliver.
    next: Vec<u64>,
    /// Per worker: true once it sent its last interval.
    done: Vec<bool>,
}

impl Ledger {
    /// True if and only if every worker has delivered interval `index` or
    /// finished before it.
    fn is_complete(&self, index: u64) -> bool {
        self.next
            .iter()
            .zip(&self.done)
            .all(|(&next, &done)| done || next > index)
    }
}

/// What the harvest loop reads and drives besides the workers' reports.
pub struct Watch<'a> {
    /// How many workers report.
    pub workers: usize,
    /// The progress display.
    pub progress: &'a Progress,
    /// The run's phase, moved on by signals and by an abort.
    pub control: &'a Control,
    /// The planned instants.
    pub timeline: &'a Timeline,
    /// The scenario, for the stage label.
    pub scenario: &'a Scenario,
    /// The run's description, for running threshold checks.
    pub info: &'a RunInfo,
    /// `--abort-on-fail`: thresholds checked once a second.
    pub abort: Option<AbortOnFail>,
    /// `--metrics-addr`: the figures the metrics endpoint serves.
    pub live: Option<std::sync::Arc<LiveMetrics>>,
}

/// Runs until every worker has sent its last interval; returns the
/// harvester holding the whole run, and the abort if `--abort-on-fail`
/// ended it.
pub async fn harvest(
    mut inbox: mpsc::UnboundedReceiver<Report>,
    watch: Watch<'_>,
    mut signals: Signals,
) -> (Harvester, Option<Aborted>) {
    let workers = watch.workers;
    let mut harvester = Harvester::new(watch.info.started_at);
    let mut pending: BTreeMap<u64, Gathering> = BTreeMap::new();
    let mut ledger = Ledger {
        next: vec![0; workers],
        done: vec![false; workers],
    };
    let mut aborted = None;

    loop {
        tokio::select! {
            report = inbox.recv() => {
                let Some(Report::Interval { worker, index, length, snapshot, last }) = report else {
                    break;
                };
                let entry = pending.entry(index).or_insert(Gathering { merged: None, length });
                entry.length = entry.length.max(length);
                match &mut entry.merged {
                    Some(merged) => merged.merge(&snapshot),
                    None => entry.merged = Some(snapshot),
                }
                ledger.next[worker] = index + 1;
                ledger.done[worker] |= last;
                flush(&mut pending, &ledger, &mut harvester, watch.live.as_deref(), false);
                let live = harvester.live();
                watch.progress.update(&stage_label(watch.scenario, watch.timeline), &live);
                if aborted.is_none() {
                    aborted = check_abort(&watch, &harvester, live.elapsed);
                }
            }
            () = signals.next() => signals.interrupt(),
        }
    }
    flush(
        &mut pending,
        &ledger,
        &mut harvester,
        watch.live.as_deref(),
        true,
    );
    (harvester, aborted)
}

/// Hands every complete interval, in order, to the harvester; with `all`,
/// the incomplete ones too (the run is over).
fn flush(
    pending: &mut BTreeMap<u64, Gathering>,
    ledger: &Ledger,
    harvester: &mut Harvester,
    live: Option<&LiveMetrics>,
    all: bool,
) {
    while let Some(entry) = pending.first_entry() {
        if !all && !ledger.is_complete(*entry.key()) {
            return;
        }
        let index = *entry.key();
        let gathering = entry.remove();
        if let Some(merged) = gathering.merged {
            if let Some(live) = live {
                live.update(&merged);
            }
            harvester.add_interval(index, gathering.length, merged);
        }
    }
}

/// With `--abort-on-fail`, ends the run once a threshold has failed, and
/// says when and why, for the results to record.
fn check_abort(watch: &Watch<'_>, harvester: &Harvester, elapsed: Duration) -> Option<Aborted> {
    let abort = watch.abort.as_ref()?;
    if watch.control.phase() >= Phase::Ending {
        return None;
    }
    let failed = abort.check(watch.info, elapsed, harvester.totals())?;
    let aborted = Aborted {
        after_s: elapsed.as_secs_f64(),
        thresholds: failed.into_iter().map(|r| r.name).collect(),
    };
    eprintln!("chatload: {}", aborted.describe());
    watch.control.advance(Phase::Ending);
    Some(aborted)
}

/// The progress display's stage text, such as `stage 2/3 ramp 0→200`.
fn stage_label(scenario: &Scenario, timeline: &Timeline) -> String {
    let now = Instant::now();
    if now >= timeline.drain_at {
        return "draining".to_owned();
    }
    let elapsed = now.saturating_duration_since(timeline.start);
    let stages = &scenario.load.stages;
    let mut from = 0.0;
    let mut end = Duration::ZERO;
    for (i, stage) in stages.iter().enumerate() {
        end += stage.duration;
        if elapsed < end {
            return format!("stage {}/{} {}→{}", i + 1, stages.len(), from, stage.target);
        }
        from = stage.target;
    }
    "draining".to_owned()
}

/// Ctrl-C and, on Unix, SIGTERM, turned into phase changes: the first
/// ends the run's chats, a second stops the clients at once.
///
/// Both signals are watched from creation to the end of the run, not
/// re-armed on each turn of the harvest loop: tokio drops a signal that
/// arrives while no listener exists, so a listener made afresh each turn
/// could miss the one Ctrl-C a user sends.
pub(super) struct Signals {
    count: u32,
    control: Control,
    #[cfg(unix)]
    streams: Option<(unix::Signal, unix::Signal)>,
}

impl Signals {
    /// Starts watching; must be called inside the runtime that will poll
    /// it. A signal that cannot be watched is logged and never fires.
    pub(super) fn watch(control: Control) -> Signals {
        #[cfg(unix)]
        let streams = unix::signal(unix::SignalKind::interrupt())
            .and_then(|int| Ok((int, unix::signal(unix::SignalKind::terminate())?)))
            .inspect_err(|err| tracing::warn!(%err, "cannot watch SIGINT and SIGTERM"))
            .ok();
        Signals {
            count: 0,
            control,
            #[cfg(unix)]
            streams,
        }
    }

    /// Resolves at the next signal; never, if signals cannot be watched.
    pub(super) async fn next(&mut self) {
        #[cfg(unix)]
        match self.streams.as_mut() {
            Some((int, term)) => tokio::select! {
                Some(()) = int.recv() => {}
                Some(()) = term.recv() => {}
                else => std::future::pending::<()>().await,
            },
            None => std::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// Moves the run on: the first signal ends the chats within the
    /// grace the workers allow, the second stops the clients at once.
    /// Either way the harvest goes on and the results are written.
    pub(super) fn interrupt(&mut self) {
        self.count += 1;
        if self.count == 1 {
            eprintln!("chatload: interrupted; ending chats (interrupt again to stop at once)");
            self.control.advance(Phase::Ending);
        } else {
            eprintln!("chatload: stopping at once; results are still written");
            self.control.advance(Phase::Stopped);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_first_interrupt_ends_chats_and_a_second_stops_at_once() {
        let control = Control::new();
        let mut signals = Signals::watch(control.clone());
        signals.interrupt();
        assert_eq!(control.phase(), Phase::Ending);
        signals.interrupt();
        assert_eq!(control.phase(), Phase::Stopped);
    }

    #[test]
    fn an_interval_is_complete_once_every_worker_delivered_or_finished() {
        let ledger = Ledger {
            next: vec![3, 1],
            done: vec![false, true],
        };
        assert!(ledger.is_complete(2));
        assert!(!ledger.is_complete(3));
    }
}
