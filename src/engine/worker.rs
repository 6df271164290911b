//! A worker: one OS thread with its own single-threaded event loop, running
//! its share of the virtual clients and owning their measurements.
//!
//! Shares are fixed by arithmetic, not handed out at run time: worker `w`
//! of `W` runs every `W`-th of its shard's arrivals in the open model, and
//! its share of its shard's clients in the closed model (see [`segment`]).
//! So workers need no coordination beyond the run's start and phase: each
//! warms its pool up, says it is ready and is then given the plan's start
//! (see [`warm_up`](super::warm_up)); once a second each sends its
//! interval's snapshot to the harvester: the only message per interval.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::SmallRng;
use tokio::sync::{mpsc, watch};
use tokio::task::LocalSet;
use tokio::time::Instant;

use super::caller::{WorkerCtx, common_headers, tenant_query};
use super::client::{Lifetime, spawn_client};
use super::control::{Control, Phase, Timeline};
use super::pacer::Pacer;
use super::probers::ProbeQueue;
use super::profile;
use super::segment;
use super::warm_up::{self, Gate, Go};
use crate::metrics::{Snapshot, WorkerMetrics};
use crate::scenario::{Connections, LoadModel, Scenario, Segment};
use crate::transport::{Transport, TransportShared};

/// How often the closed-model driver re-reads its target.
const DRIVER_TICK: Duration = Duration::from_millis(10);

/// An arrival the worker reaches later than this after its time is not
/// started but counted as missed: the worker fell behind, and chats started
/// that late would quietly lower the rate the plan asked for.
const LATE_LIMIT: Duration = Duration::from_secs(1);

/// Longest a worker waits for its clients after the run has ended them,
/// so that a hung target cannot keep the run from writing its results.
const END_TIMEOUT: Duration = Duration::from_secs(10);

/// A message from a worker to the harvester.
pub enum Report {
    /// Interval `index`'s data; `last` marks the worker's final interval.
    Interval {
        /// Which worker.
        worker: usize,
        /// Interval number, counted in seconds from the plan's start.
        index: u64,
        /// Length covered (one second, or less for the last).
        length: Duration,
        /// The measurements.
        snapshot: Snapshot,
        /// True for the worker's final message.
        last: bool,
    },
}

/// Everything a worker thread needs to start.
pub struct WorkerSpec {
    /// Which worker, from 0.
    pub index: usize,
    /// How many workers the run has.
    pub workers: usize,
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// Transport settings shared by all.
    pub shared: Arc<TransportShared>,
    /// The run's phase.
    pub control: Control,
    /// Where snapshots go.
    pub reports: mpsc::UnboundedSender<Report>,
    /// Seed for this worker's draws.
    pub seed: u64,
    /// Which shard of the run this process is.
    pub segment: Segment,
    /// Seed of the arrival schedule, the same on every worker and shard.
    pub schedule_seed: u64,
}

/// Runs a worker on the current thread until its clients are done: warms
/// its pool up, says so through `gate`, and runs its share of the plan
/// from the start the gate then gives.
pub fn run(spec: WorkerSpec, gate: Gate) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    LocalSet::new().block_on(&runtime, drive(spec, gate));
    Ok(())
}

async fn drive(spec: WorkerSpec, gate: Gate) {
    let (phase_tx, phase_rx) = watch::channel(Phase::Running);
    let ctx = Rc::new(worker_ctx(&spec, phase_rx));
    let Some(go) = warm_up(&ctx, &spec, gate).await else {
        return;
    };
    // An interrupt during the warm-up: the plan starts already ended, and
    // the drivers below must see that before their first step.
    phase_tx.send_replace(spec.control.phase());
    let next = Rc::new(Cell::new(0));
    let start = go.timeline.start;
    let ticker = tokio::task::spawn_local(tick(
        ctx.clone(),
        spec.index,
        start,
        next.clone(),
        spec.reports.clone(),
    ));
    let phases =
        tokio::task::spawn_local(follow_phase(spec.control.clone(), go.timeline, phase_tx));

    match spec.scenario.load.model {
        LoadModel::Closed { .. } => closed(&ctx, &spec, go).await,
        LoadModel::Open { max_clients, .. } => open(&ctx, &spec, go, max_clients).await,
    }
    wait_for_clients(&ctx, &spec).await;
    count_abandoned_chats(&ctx);

    phases.abort();
    ticker.abort();
    send_last(&ctx, spec.index, start, next.get(), &spec.reports);
}

/// Opens the pool's connections, reports what opened, and waits for the
/// plan's start; `None` if the run went away first. The start coming
/// during the warm-up (an interrupt) cuts it short.
async fn warm_up(ctx: &WorkerCtx, spec: &WorkerSpec, gate: Gate) -> Option<Go> {
    let Gate { ready, mut go } = gate;
    let warm = async {
        let pool = ctx.pool.as_ref()?;
        let first = first_clients(spec);
        let count = warm_up::count(&spec.scenario, connection_cap(spec), first)?;
        Some(pool.warm(count).await)
    };
    let warmed = tokio::select! {
        warmed = warm => warmed,
        _ = go.wait_for(Option::is_some) => None,
    };
    if let Some(warmed) = &warmed {
        tracing::debug!(worker = spec.index, ?warmed, "pool warmed up");
    }
    // The run may already have stopped waiting for this worker.
    let _ = ready.send(warmed);
    go.wait_for(Option::is_some).await.ok().and_then(|go| *go)
}

/// This worker's share of the clients the plan may have at its start: the
/// closed model's first level, or the open model's client cap, since its
/// arrivals come at a rate and nothing says how many overlap.
fn first_clients(spec: &WorkerSpec) -> u64 {
    let load = &spec.scenario.load;
    let total = match load.model {
        LoadModel::Closed { .. } => profile::value_at(&load.stages, Duration::ZERO).round() as u64,
        LoadModel::Open { max_clients, .. } => max_clients,
    };
    segment::split(total, spec.segment, spec.index, spec.workers)
}

fn worker_ctx(spec: &WorkerSpec, phase: watch::Receiver<Phase>) -> WorkerCtx {
    let scenario = spec.scenario.clone();
    let pool = match scenario.target.connections {
        Connections::Shared { .. } => Some(Rc::new(Transport::with_cap(
            spec.shared.clone(),
            connection_cap(spec),
        ))),
        Connections::PerClient => None,
    };
    let probe = scenario.conversation.probe;
    let probe_path = probe.map(|e| (e, e.path(scenario.target.api, "", "")));
    WorkerCtx {
        tenant_query: tenant_query(&scenario.target.tenant_url),
        scenario,
        metrics: RefCell::new(WorkerMetrics::new()),
        shared: spec.shared.clone(),
        pool,
        active_clients: Cell::new(0),
        active_chats: Cell::new(0),
        phase,
        rng: RefCell::new(SmallRng::seed_from_u64(spec.seed)),
        probe_path,
        common_headers: common_headers(&spec.scenario.target.user_agent),
    }
}

/// This worker's share of the run's cap on shared connections, at least
/// one; `None` when the connections are not capped or not shared.
fn connection_cap(spec: &WorkerSpec) -> Option<usize> {
    match spec.scenario.target.connections {
        Connections::Shared { max: Some(max) } => {
            let share = segment::split(max as u64, spec.segment, spec.index, spec.workers);
            Some((share as usize).max(1))
        }
        _ => None,
    }
}

/// Publishes the run's phase to this worker's clients: from the clock of
/// the plan, and from the run-wide control (a signal may end a run early).
async fn follow_phase(control: Control, timeline: Timeline, phase_tx: watch::Sender<Phase>) {
    loop {
        let now = Instant::now();
        let phase = control.phase().max(timeline.phase_at(now));
        control.advance(phase);
        phase_tx.send_if_modified(|current| {
            let changed = *current != phase;
            *current = phase;
            changed
        });
        if phase >= Phase::Stopped {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Closed model: keep this worker's share of the target number of clients
/// alive, starting new ones and retiring the newest as the target moves.
async fn closed(ctx: &Rc<WorkerCtx>, spec: &WorkerSpec, go: Go) {
    let stages = &spec.scenario.load.stages;
    let start = go.timeline.start;
    let mut clients: Vec<Rc<Cell<bool>>> = Vec::new();
    // A late shard starts at the value the plan has reached by now.
    let mut tick = go.begin.max(start);

    while ctx.phase() == Phase::Running {
        let total = profile::value_at(stages, tick - start).round() as u64;
        let target = segment::split(total, spec.segment, spec.index, spec.workers) as usize;
        clients.retain(|retire| !retire.get() || Rc::strong_count(retire) > 1);
        let alive = clients.iter().filter(|r| !r.get()).count();

        for _ in alive..target {
            let retire = Rc::new(Cell::new(false));
            clients.push(retire.clone());
            spawn_client(ctx, tick, Lifetime::Closed { retire });
        }
        for retire in clients
            .iter()
            .rev()
            .filter(|r| !r.get())
            .take(alive.saturating_sub(target))
        {
            retire.set(true);
        }

        tick += DRIVER_TICK;
        tokio::time::sleep_until(tick).await;
    }
}

/// Open model: start a one-chat client at each of this worker's arrival
/// times; an arrival beyond the client cap is dropped, not delayed. One
/// that fell before a late shard began, or that the worker reached more
/// than [`LATE_LIMIT`] after its time, is dropped and counted as missed.
async fn open(ctx: &Rc<WorkerCtx>, spec: &WorkerSpec, go: Go, max_clients: u64) {
    let load = &spec.scenario.load;
    let arrival = match load.model {
        LoadModel::Open { arrival, .. } => arrival,
        LoadModel::Closed { .. } => return,
    };
    let cap = segment::split(max_clients, spec.segment, spec.index, spec.workers);
    let worker = (spec.index, spec.workers);
    let arrivals = segment::arrivals(
        &load.stages,
        arrival,
        spec.schedule_seed,
        spec.segment,
        worker,
    );

    let probes = spec.scenario.conversation.probe.map(|_| {
        // One prober per connection the worker may open, or per client
        // slot when connections are not capped.
        let slots = cap as usize;
        ProbeQueue::start(ctx, connection_cap(spec).unwrap_or(slots).min(slots))
    });
    // The probers go to sleep, idle, before the first arrival is due:
    // otherwise the first arrivals would seem to wait for a connection.
    tokio::task::yield_now().await;
    let mut pacer = Pacer::new();
    for offset in arrivals {
        let at = go.timeline.start + offset;
        if at < go.begin {
            ctx.metrics.borrow_mut().chat_missed();
            continue;
        }
        pacer.wait_until(at).await;
        if ctx.phase() != Phase::Running {
            return;
        }
        if Instant::now().saturating_duration_since(at) > LATE_LIMIT {
            ctx.metrics.borrow_mut().chat_missed();
            continue;
        }
        if ctx.active_clients.get() >= cap {
            ctx.metrics.borrow_mut().chat_dropped();
            continue;
        }
        match &probes {
            Some(queue) => queue.push(ctx, at),
            None => spawn_client(ctx, at, Lifetime::Open),
        }
    }
}

/// After the plan: clients finish their chats during the grace period, are
/// ended after it, and are dropped if they still hang on.
async fn wait_for_clients(ctx: &Rc<WorkerCtx>, spec: &WorkerSpec) {
    let mut phase = ctx.phase.clone();
    let mut hard_stop = None;
    while ctx.active_clients.get() > 0 {
        let current = *phase.borrow();
        // A second interrupt: the user wants the results now, not after
        // the clients' last requests.
        if current >= Phase::Stopped {
            return;
        }
        if current >= Phase::Ending && hard_stop.is_none() {
            hard_stop = Some(Instant::now() + END_TIMEOUT);
        }
        if hard_stop.is_some_and(|at| Instant::now() >= at) {
            tracing::warn!(
                worker = spec.index,
                clients = ctx.active_clients.get(),
                "clients did not end in time; dropping them"
            );
            spec.control.advance(Phase::Stopped);
            return;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), phase.changed()).await;
    }
}

/// Chats still alive when the worker lets go of its clients (a second
/// interrupt, or clients that would not end) go with their tasks, which
/// never run again: they are chats the run ended, counted here since
/// nothing else will count them.
fn count_abandoned_chats(ctx: &WorkerCtx) {
    let mut metrics = ctx.metrics.borrow_mut();
    for _ in 0..ctx.active_chats.get() {
        metrics.chat_interrupted();
    }
}

/// Once a second, on the second of the plan, hands the interval's
/// measurements to the harvester. `next` is the index of the next interval
/// to send, shared with the final report so that no index is skipped.
async fn tick(
    ctx: Rc<WorkerCtx>,
    worker: usize,
    start: Instant,
    next: Rc<Cell<u64>>,
    reports: Reports,
) {
    loop {
        let index = next.get();
        tokio::time::sleep_until(start + Duration::from_secs(index + 1)).await;
        send_interval(&ctx, worker, index, Duration::from_secs(1), &reports, false);
        next.set(index + 1);
    }
}

/// The final report: the partial interval in progress when the worker
/// finished.
fn send_last(ctx: &WorkerCtx, worker: usize, start: Instant, next: u64, reports: &Reports) {
    let covered = Duration::from_secs(next);
    let length = Instant::now()
        .saturating_duration_since(start)
        .saturating_sub(covered);
    send_interval(ctx, worker, next, length, reports, true);
}

type Reports = mpsc::UnboundedSender<Report>;

fn send_interval(
    ctx: &WorkerCtx,
    worker: usize,
    index: u64,
    length: Duration,
    reports: &Reports,
    last: bool,
) {
    let snapshot = {
        let mut metrics = ctx.metrics.borrow_mut();
        metrics.set_active(ctx.active_clients.get(), ctx.active_chats.get());
        metrics.take()
    };
    let report = Report::Interval {
        worker,
        index,
        length,
        snapshot,
        last,
    };
    // The harvester outlives the workers; a closed channel means the run is
    // being torn down and the data has nowhere to go.
    let _ = reports.send(report);
}
