//! The warm-up before the plan's clock starts: each worker opens its shared
//! pool's connections, says it is ready, and only then does the run fix the
//! plan's start and hand it to every worker.
//!
//! Without it the first requests would open the connections themselves,
//! and an open-model run would measure the generator's own start-up as send
//! lag. A warm-up that fails is not fatal: the pool opens the connections
//! it is missing on demand, as it does without one, and the summary says
//! how far the warm-up got.

use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use super::control::{Control, Timeline};
use super::harvest::Signals;
use super::segment::Start;
use crate::scenario::{Connections, Scenario};
use crate::transport::Warmed;

/// How long before a shared start (`--start-at`) the warm-up begins: ample
/// for opening a pool, short enough that the connections are not idle long
/// (some servers close idle connections after a few seconds).
pub const LEAD: Duration = Duration::from_secs(2);

/// The plan's instants, given to the workers once they are all ready.
#[derive(Debug, Clone, Copy)]
pub struct Go {
    /// The run's planned instants.
    pub timeline: Timeline,
    /// When this process really began the plan: after `timeline.start` when
    /// the shard started late. Nothing is scheduled before it.
    pub begin: Instant,
}

/// A worker's side of the start: where it says it is ready, and where it
/// learns the plan's start.
pub struct Gate {
    /// Takes what the worker's warm-up opened; `None` when it had none.
    pub ready: oneshot::Sender<Option<Warmed>>,
    /// Holds the start once every worker is ready, or earlier when an
    /// interrupt cut the warm-up short.
    pub go: watch::Receiver<Option<Go>>,
}

/// The run's side of the workers' start.
pub struct Gates {
    ready: Vec<oneshot::Receiver<Option<Warmed>>>,
    go: watch::Sender<Option<Go>>,
}

impl Gates {
    /// One gate per worker, and the run's side of them.
    pub fn new(workers: usize) -> (Gates, Vec<Gate>) {
        let (go, go_rx) = watch::channel(None);
        let (ready, gates) = (0..workers)
            .map(|_| {
                let (ready, ready_rx) = oneshot::channel();
                let gate = Gate {
                    ready,
                    go: go_rx.clone(),
                };
                (ready_rx, gate)
            })
            .unzip();
        (Gates { ready, go }, gates)
    }

    /// Waits until every worker has warmed up, or until the first signal,
    /// which ends the run before its plan. Returns the workers' warm-ups
    /// together, `None` if none warmed up.
    pub async fn ready(&mut self, signals: &mut Signals) -> Option<Warmed> {
        let mut total: Option<Warmed> = None;
        for ready in &mut self.ready {
            let warmed = tokio::select! {
                // A worker that could not start says nothing: not ready
                // but not worth waiting for either.
                warmed = ready => warmed.ok().flatten(),
                () = signals.next() => {
                    signals.interrupt();
                    return total;
                }
            };
            if let Some(warmed) = warmed {
                total.get_or_insert_with(Warmed::default).merge(warmed);
            }
        }
        total
    }

    /// Waits for the shared start, if it lies ahead and no signal came,
    /// and gives every worker the plan's start; returns it and the plan's
    /// instants.
    pub async fn go(
        self,
        shared: Option<Start>,
        control: &Control,
        signals: &mut Signals,
        scenario: &Scenario,
    ) -> (Start, Timeline) {
        let start = match shared {
            Some(start) if !interrupted(control) => {
                tokio::select! {
                    () = tokio::time::sleep_until(start.instant) => start.settled(),
                    () = signals.next() => {
                        signals.interrupt();
                        Start::now()
                    }
                }
            }
            _ => Start::now(),
        };
        let load = &scenario.load;
        let timeline = Timeline::new(start.instant, load.duration(), load.grace);
        let begin = Instant::now().max(timeline.start);
        self.go.send_replace(Some(Go { timeline, begin }));
        (start, timeline)
    }
}

fn interrupted(control: &Control) -> bool {
    control.phase() > super::control::Phase::Running
}

/// How many connections a worker opens before the plan, `None` for none:
/// for per-client connections (each client opens its own, like a device)
/// and with `warm_up = false`. A shared pool opens what the plan's first
/// clients can use at once, `first_clients` being this worker's share of
/// them, up to its share of the cap (`cap`): one connection per probing
/// client, two per chatting one (its held poll and its sends). At least
/// one, which learns the protocol; a plan that climbs from zero opens just
/// that, rather than a cap's worth of connections that would sit idle.
pub fn count(scenario: &Scenario, cap: Option<usize>, first_clients: u64) -> Option<usize> {
    if !scenario.target.warm_up {
        return None;
    }
    if let Connections::PerClient = scenario.target.connections {
        return None;
    }
    let per_client = if scenario.conversation.probe.is_some() {
        1
    } else {
        2
    };
    let wanted = usize::try_from(first_clients.saturating_mul(per_client)).unwrap_or(usize::MAX);
    let wanted = wanted.max(1);
    Some(cap.map_or(wanted, |cap| wanted.min(cap)))
}

/// Logs what the warm-up did, and returns the summary's warning when it
/// did not open every connection it tried.
pub fn report(warmed: Option<&Warmed>, took: Duration, target: &str) -> Option<String> {
    let warmed = warmed?;
    tracing::info!(
        opened = warmed.opened,
        tried = warmed.tried,
        took = ?Duration::from_micros(took.as_micros() as u64),
        "warm-up: connections opened before the plan's start"
    );
    let failure = warmed.failure.as_ref()?;
    let warning = format!(
        "warm-up opened {} of {} connections to {target}: {}: {}; the rest were opened by \
         the first requests, whose send lag includes it",
        warmed.opened, warmed.tried, failure.kind, failure.detail
    );
    tracing::warn!("{warning}");
    Some(warning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::ErrorKind;
    use crate::transport::WarmFailure;

    fn scenario(target: &str) -> Scenario {
        let text = format!(
            "name = \"w\"\n[target]\n{target}\n[load]\n\
             stages = [{{ duration = \"1s\", clients = 1 }}]\n"
        );
        crate::scenario::parse(&text, "w.toml").unwrap()
    }

    #[test]
    fn a_worker_warms_what_its_first_clients_use_within_its_share_of_the_cap() {
        let capped = scenario("connections = { mode = \"shared\", max = 8 }");
        assert_eq!(count(&capped, Some(4), 10), Some(4));
        assert_eq!(
            count(&capped, Some(4), 1),
            Some(2),
            "a chat's poll and sends"
        );
        assert_eq!(count(&capped, Some(4), 0), Some(1), "a plan from zero");
        let uncapped = scenario("connections = { mode = \"shared\" }");
        assert_eq!(count(&uncapped, None, 0), Some(1));
        assert_eq!(count(&uncapped, None, 3), Some(6));
        let per_client = scenario("connections = { mode = \"per_client\" }");
        assert_eq!(count(&per_client, None, 10), None);
        let off = scenario("connections = { mode = \"shared\", max = 8 }\nwarm_up = false");
        assert_eq!(count(&off, Some(4), 10), None);
    }

    #[test]
    fn a_probe_warms_one_connection_per_client() {
        let probe = scenario(
            "connections = { mode = \"shared\", max = 64 }\n\
             [conversation]\nprobe = \"availability\"",
        );
        assert_eq!(count(&probe, Some(64), 64), Some(64));
        assert_eq!(count(&probe, Some(64), 16), Some(16));
    }

    #[test]
    fn a_failed_warm_up_is_a_warning_naming_the_target_and_the_first_error() {
        let warmed = Warmed {
            opened: 12,
            tried: 64,
            failure: Some(WarmFailure {
                kind: ErrorKind::Connect,
                detail: "connection refused".to_owned(),
            }),
        };
        let warning = report(
            Some(&warmed),
            Duration::from_millis(3),
            "http://127.0.0.1:9",
        )
        .expect("a warning");
        assert!(
            warning.starts_with(
                "warm-up opened 12 of 64 connections to http://127.0.0.1:9: \
                 connect: connection refused"
            ),
            "{warning}"
        );

        let whole = Warmed {
            opened: 4,
            tried: 4,
            failure: None,
        };
        assert_eq!(report(Some(&whole), Duration::ZERO, "x"), None);
        assert_eq!(report(None, Duration::ZERO, "x"), None);
    }
}
