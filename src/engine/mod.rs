//! The load engine: from a validated scenario to measured results.
//!
//! A run starts the target (the embedded mock when none is given), builds
//! the transport settings once, and starts one worker thread per core. Each
//! worker runs its share of the plan on its own event loop (see
//! [`worker`]); the calling thread harvests their snapshots once a second,
//! drives the progress display, and turns Ctrl-C into a graceful end.
//! Afterwards the results are summarised and written.

mod caller;
mod chat_view;
mod client;
pub mod control;
mod harvest;
mod poll;
pub mod segment;
mod target;
pub mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::Instant;

pub mod profile;

use crate::cli::RunArgs;
use crate::exit::Verdict;
use crate::report::{self, RunInfo, Summary};
use crate::scenario::{self, Scenario};
use control::{Control, Timeline};
use worker::WorkerSpec;

/// How a run reports, beside what the scenario says.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Results directory; `None` makes one under `results_root`.
    pub out: Option<PathBuf>,
    /// Where results directories are made by default.
    pub results_root: PathBuf,
    /// No progress display.
    pub quiet: bool,
    /// Worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// The wall-clock start shared by every shard (`--start-at`); `None`
    /// starts at once.
    pub start_at: Option<SystemTime>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            out: None,
            results_root: PathBuf::from("results"),
            quiet: false,
            workers: None,
            start_at: None,
        }
    }
}

/// What a finished run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// Where the results were written.
    pub dir: PathBuf,
    /// The figures, as written to summary.json.
    pub summary: Summary,
    /// Whether every threshold held.
    pub verdict: Verdict,
}

/// Runs `chatload run`: loads the scenario, runs it, prints the report.
pub fn run_command(args: RunArgs) -> anyhow::Result<Verdict> {
    let scenario = scenario::load(args.scenario.as_deref(), &args)?;
    let start_at = args.start_at.as_deref().map(segment::parse_start_at);
    let options = RunOptions {
        out: args.out.clone(),
        quiet: args.quiet,
        start_at: start_at.transpose()?,
        ..RunOptions::default()
    };
    let outcome = run(scenario, &options)?;

    let mut stdout = std::io::stdout().lock();
    if args.json {
        report::print_json(&outcome.summary, &mut stdout)?;
    } else {
        report::print_table(&outcome.summary, &mut stdout)?;
    }
    eprintln!("results: {}", outcome.dir.display());
    Ok(outcome.verdict)
}

/// Runs a scenario to the end and writes its results.
pub fn run(scenario: Scenario, options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let scenario = Arc::new(scenario);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("chatload-control")
        .enable_all()
        .build()
        .context("starting the control runtime")?;

    let target = runtime.block_on(target::prepare(&scenario))?;
    let planned = scenario.load.duration();
    let start = match options.start_at {
        Some(at) => segment::Start::at(at, planned)?,
        None => segment::Start::now(),
    };
    let started_at = start.wall;
    let dir = results_dir(options, &scenario, started_at)?;
    let workers = options.workers.unwrap_or_else(default_workers).max(1);
    crate::transport::raise_fd_limit(wanted_files(&scenario));

    runtime.block_on(start.wait());
    let shard = segment::ShardRecord {
        seed: segment::schedule_seed(&scenario, options.start_at),
        start,
    };
    let timeline = Timeline::new(start.instant, planned, scenario.load.grace);
    let control = Control::new();
    let (reports, inbox) = tokio::sync::mpsc::unbounded_channel();
    let threads = spawn_workers(
        workers, &scenario, &target, &control, timeline, reports, &shard,
    )?;

    let progress = report::Progress::new(options.quiet, planned + scenario.load.grace);
    let harvester = runtime.block_on(harvest::harvest(
        inbox, workers, started_at, &progress, &control, &timeline, &scenario,
    ));
    progress.finish();
    for thread in threads {
        if thread.join().is_err() {
            tracing::error!("a worker thread panicked; its last interval is lost");
        }
    }
    let url = target.url.clone();
    runtime.block_on(target.stop());

    let elapsed = timeline.start.elapsed();
    write(dir, &scenario, &url, &shard, elapsed, harvester)
}

fn write(
    dir: PathBuf,
    scenario: &Scenario,
    target_url: &str,
    shard: &segment::ShardRecord,
    elapsed: Duration,
    harvester: crate::metrics::Harvester,
) -> anyhow::Result<RunOutcome> {
    let info = RunInfo {
        scenario: scenario.name.clone(),
        target: target_url.to_owned(),
        started_at: shard.start.wall,
        duration: elapsed,
        segment: scenario.load.segment.to_string(),
        insecure: scenario.target.insecure,
        http: format!("{:?}", scenario.target.http),
        connections: format!("{:?}", scenario.target.connections),
        scenario_toml: scenario.to_toml(),
    };
    let data = harvester.finish();
    let mut summary = report::summarize(&info, &data);
    shard.annotate(&mut summary);
    report::write_results(&dir, &info, &data, &summary)
        .with_context(|| format!("writing results to {}", dir.display()))?;
    Ok(RunOutcome {
        dir,
        summary,
        verdict: Verdict::Passed,
    })
}

fn spawn_workers(
    workers: usize,
    scenario: &Arc<Scenario>,
    target: &target::Target,
    control: &Control,
    timeline: Timeline,
    reports: tokio::sync::mpsc::UnboundedSender<worker::Report>,
    shard: &segment::ShardRecord,
) -> anyhow::Result<Vec<std::thread::JoinHandle<()>>> {
    let segment = scenario.load.segment;
    let begin = Instant::now().max(timeline.start);
    let mut threads = Vec::with_capacity(workers);
    for index in 0..workers {
        let spec = WorkerSpec {
            index,
            workers,
            scenario: scenario.clone(),
            shared: target.transport.clone(),
            control: control.clone(),
            timeline,
            reports: reports.clone(),
            seed: segment::worker_seed(shard.seed, segment, index),
            segment,
            schedule_seed: shard.seed,
            begin,
        };
        let thread = std::thread::Builder::new()
            .name(format!("chatload-worker-{index}"))
            .spawn(move || {
                if let Err(err) = worker::run(spec) {
                    tracing::error!(worker = index, %err, "worker could not start");
                }
            })
            .context("starting a worker thread")?;
        threads.push(thread);
    }
    Ok(threads)
}

/// The results directory, checked before the run so that a run never
/// measures for minutes and then fails to write.
fn results_dir(
    options: &RunOptions,
    scenario: &Scenario,
    started_at: SystemTime,
) -> anyhow::Result<PathBuf> {
    let dir = match &options.out {
        Some(dir) => dir.clone(),
        None => report::default_dir(&options.results_root, started_at, &scenario.name),
    };
    if dir.exists() {
        return Err(crate::exit::usage(format!(
            "--out {}: the directory exists; results are never overwritten, name a new one",
            dir.display()
        )));
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("results directory {} is not writable", parent.display()))?;
    }
    Ok(dir)
}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Open files the run may need: a connection per active client (long polls
/// hold one each over HTTP/1.1), with room for the rest.
fn wanted_files(scenario: &Scenario) -> u64 {
    let peak = scenario
        .load
        .stages
        .iter()
        .map(|s| s.target)
        .fold(0.0, f64::max);
    let clients = match scenario.load.model {
        scenario::LoadModel::Closed { .. } => peak as u64,
        scenario::LoadModel::Open { max_clients, .. } => max_clients,
    };
    // Two descriptors per connection when the mock runs in this process.
    clients.saturating_mul(4).saturating_add(4096)
}
