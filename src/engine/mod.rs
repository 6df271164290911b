//! The load engine: from a validated scenario to measured results.
//!
//! A run starts the target (the embedded mock when none is given), builds
//! the transport settings once, and starts one worker thread per core. Each
//! worker opens its pool's connections first ([`warm_up`]); once all are
//! ready the plan's clock starts, and each runs its share of the plan on
//! its own event loop (see [`worker`]). The calling thread harvests their
//! snapshots once a second, drives the progress display, and turns Ctrl-C
//! into a graceful end. Afterwards the results are summarised and written.
//!
//! Memory per client is a goal, and a client's futures live as long as it
//! does. Two habits keep them small. A future is as large as its largest
//! state, so a request's large state is boxed and lives only while the
//! request is in flight. And rustc stores an `async fn`'s arguments twice
//! (as passed, and as moved into its body), so the functions whose futures
//! a client holds for long (the held exchange, the conversation's steps)
//! return an `async` block instead, which captures each argument once;
//! clippy's `manual_async_fn` is allowed on each of them for that reason.

mod caller;
mod chat_view;
mod client;
pub mod control;
mod harvest;
mod pacer;
mod panics;
mod poll;
mod probers;
pub mod segment;
mod target;
mod warm_up;
pub mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::Instant;

pub mod profile;

use crate::cli::RunArgs;
use crate::exit::Verdict;
use crate::metrics::Harvester;
use crate::report::openmetrics::{self, LiveMetrics};
use crate::report::thresholds::{self, AbortOnFail};
use crate::report::{self, RunInfo, Summary};
use crate::scenario::{self, Scenario};
use control::Control;
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
    /// Thresholds from the command line, beside the scenario's.
    pub thresholds: Vec<String>,
    /// Abort once a threshold fails, after this delay (`--abort-on-fail`).
    pub abort_on_fail: Option<String>,
    /// Serve live metrics here during the run (`--metrics-addr`).
    pub metrics_addr: Option<std::net::SocketAddr>,
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
            thresholds: Vec::new(),
            abort_on_fail: None,
            metrics_addr: None,
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
        workers: args.workers.map(usize::from),
        thresholds: args.thresholds.clone(),
        abort_on_fail: args.abort_on_fail.clone(),
        metrics_addr: args.metrics_addr,
        start_at: start_at.transpose()?,
        ..RunOptions::default()
    };
    let outcome = run(scenario, &options)?;

    let mut stdout = std::io::stdout().lock();
    if args.json {
        report::print_json(&outcome.summary, &mut stdout)?;
    } else {
        report::print_table(&outcome.summary, &mut stdout)?;
        thresholds::print_thresholds(&outcome.summary.thresholds, &mut stdout)?;
    }
    eprintln!("results: {}", outcome.dir.display());
    Ok(outcome.verdict)
}

/// Runs a scenario to the end and writes its results. Thresholds and the
/// results directory are checked before any load is sent.
pub fn run(scenario: Scenario, options: &RunOptions) -> anyhow::Result<RunOutcome> {
    let (thresholds, abort) = thresholds::for_run(
        &scenario.thresholds,
        &options.thresholds,
        options.abort_on_fail.as_deref(),
    )?;
    // scenario.toml is the scenario as resolved for the run, so it carries
    // the command line's thresholds: a merge reads them back from there.
    let mut scenario = scenario;
    scenario.thresholds = thresholds::table_entries(&thresholds)?;
    let scenario = Arc::new(scenario);
    let panics = panics::PanicWatch::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("chatload-control")
        .enable_all()
        .build()
        .context("starting the control runtime")?;

    let dir = results_dir(options, &scenario, SystemTime::now())?;
    let target = runtime.block_on(target::prepare(&scenario))?;
    create_results_dir(&dir)?;
    // Checked before any load, though the plan's start is only fixed once
    // the workers have warmed up.
    let shared_start = options
        .start_at
        .map(|at| segment::Start::at(at, scenario.load.duration()))
        .transpose()?;
    let mut info = run_info(&scenario, &target.url, SystemTime::now());
    crate::transport::raise_fd_limit(wanted_files(&scenario));

    if let Some(start) = &shared_start {
        runtime.block_on(start.wait_for_lead(warm_up::LEAD));
    }
    let seed = segment::schedule_seed(&scenario, options.start_at);
    let run = Execution {
        scenario: &scenario,
        target: &target,
        options,
        seed,
        shared_start,
    };
    let executed = execute(&runtime, run, abort, &mut info)?;
    let mut setup_warnings = target.warnings.clone();
    setup_warnings.extend(executed.warm_up_warning);
    runtime.block_on(target.stop());

    info.duration = executed.elapsed;
    let shard = segment::ShardRecord {
        seed,
        start: executed.start,
    };
    let judged = Judged {
        shard: &shard,
        thresholds: &thresholds,
        setup_warnings,
        panics: &panics,
        aborted: executed.aborted,
    };
    finish(dir, &info, executed.harvester, judged)
}

/// What a finished run is summarised and judged with, beside its figures.
struct Judged<'a> {
    shard: &'a segment::ShardRecord,
    thresholds: &'a [thresholds::Threshold],
    /// Settings the run could not honour, shown before the other warnings.
    setup_warnings: Vec<String>,
    /// Panics during the run, which make it a warning of its own.
    panics: &'a panics::PanicWatch,
    /// Set when `--abort-on-fail` stopped the run.
    aborted: Option<report::summary::Aborted>,
}

/// Summarises a finished run, judges its thresholds and writes its results
/// directory, report included.
fn finish(
    dir: PathBuf,
    info: &RunInfo,
    harvester: Harvester,
    judged: Judged<'_>,
) -> anyhow::Result<RunOutcome> {
    let data = harvester.finish();
    let mut summary = report::summarize(info, &data);
    summary.warnings.splice(0..0, judged.setup_warnings);
    judged.shard.annotate(&mut summary);
    if let Some(aborted) = judged.aborted {
        summary.warnings.insert(0, aborted.describe());
        summary.aborted = Some(aborted);
    }
    if let Some(warning) = judged.panics.warning() {
        tracing::error!("{warning}");
        summary.warnings.push(warning);
    }
    summary.thresholds = thresholds::evaluate(judged.thresholds, &summary);

    report::write_results(&dir, info, &data, &summary)
        .with_context(|| format!("writing results to {}", dir.display()))?;
    report::html::write_report(&dir)
        .with_context(|| format!("writing the HTML report to {}", dir.display()))?;
    let verdict = thresholds::verdict(&summary.thresholds);
    Ok(RunOutcome {
        dir,
        summary,
        verdict,
    })
}

/// What a run is made of once it is ready to start.
#[derive(Clone, Copy)]
struct Execution<'a> {
    scenario: &'a Arc<Scenario>,
    target: &'a target::Target,
    options: &'a RunOptions,
    /// The seed of the arrival schedule.
    seed: u64,
    /// The start every shard shares (`--start-at`), if any.
    shared_start: Option<segment::Start>,
}

/// What [`execute`] hands back for the summary.
struct Executed {
    harvester: Harvester,
    /// From the plan's start to the end of the harvest.
    elapsed: Duration,
    aborted: Option<report::summary::Aborted>,
    /// The plan's start, fixed after the warm-up.
    start: segment::Start,
    /// Set when the warm-up did not open every connection it tried.
    warm_up_warning: Option<String>,
}

/// Starts the workers, lets them warm up, starts the plan's clock (setting
/// `info.started_at`), and harvests until they are done.
fn execute(
    runtime: &tokio::runtime::Runtime,
    run: Execution<'_>,
    abort: Option<AbortOnFail>,
    info: &mut RunInfo,
) -> anyhow::Result<Executed> {
    let Execution {
        scenario, options, ..
    } = run;
    let workers = worker_count(options.workers.unwrap_or_else(default_workers), scenario);
    let planned = scenario.load.duration();
    let control = Control::new();
    // Watched from before the first worker starts, so that no interrupt
    // falls between the workers' start and the harvest's first turn.
    let mut signals = runtime.block_on(async { harvest::Signals::watch(control.clone()) });
    let (reports, inbox) = tokio::sync::mpsc::unbounded_channel();
    let (mut gates, gate_list) = warm_up::Gates::new(workers);
    let warming = Instant::now();
    let threads = spawn_workers(run, &control, gate_list, reports)?;

    let warmed = runtime.block_on(gates.ready(&mut signals));
    let warm_up_warning = warm_up::report(warmed.as_ref(), warming.elapsed(), &run.target.url);
    let (start, timeline) =
        runtime.block_on(gates.go(run.shared_start, &control, &mut signals, scenario));
    info.started_at = start.wall;
    let info = &*info;

    let (live, metrics_server) = start_metrics(runtime, options.metrics_addr)?;
    let progress = report::Progress::new(options.quiet, planned + scenario.load.grace);
    let watch = harvest::Watch {
        workers,
        progress: &progress,
        control: &control,
        timeline: &timeline,
        scenario,
        info,
        abort,
        live,
    };
    let (harvester, aborted) = runtime.block_on(harvest::harvest(inbox, watch, signals));
    progress.finish();
    if let Some(server) = metrics_server {
        runtime.block_on(server.stop());
    }
    for thread in threads {
        if thread.join().is_err() {
            tracing::error!("a worker thread panicked; its last interval is lost");
        }
    }
    Ok(Executed {
        harvester,
        elapsed: timeline.start.elapsed(),
        aborted,
        start,
        warm_up_warning,
    })
}

/// The live metrics endpoint of `--metrics-addr`, served on the control
/// runtime for the length of the run.
struct MetricsServer {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl MetricsServer {
    async fn stop(self) {
        let _ = self.stop.send(());
        match self.task.await {
            Ok(Err(err)) => tracing::warn!(%err, "the metrics endpoint failed"),
            Err(err) => tracing::warn!(%err, "the metrics endpoint panicked"),
            Ok(Ok(())) => {}
        }
    }
}

type Live = Option<Arc<LiveMetrics>>;

fn start_metrics(
    runtime: &tokio::runtime::Runtime,
    addr: Option<std::net::SocketAddr>,
) -> anyhow::Result<(Live, Option<MetricsServer>)> {
    let Some(addr) = addr else {
        return Ok((None, None));
    };
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .with_context(|| format!("--metrics-addr {addr}: cannot listen there"))?;
    let live = LiveMetrics::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    // The address bound, not the one asked for: port 0 picks a free one,
    // and the user (or a test) needs to know which.
    let bound = listener.local_addr().unwrap_or(addr);
    let task = runtime.spawn(openmetrics::serve(listener, live.clone(), shutdown));
    eprintln!("chatload: live metrics at http://{bound}/metrics");
    Ok((Some(live), Some(MetricsServer { stop, task })))
}

/// The HTTP policy as the scenario file spells it.
fn http_name(http: scenario::HttpVersion) -> &'static str {
    match http {
        scenario::HttpVersion::Http1 => "1.1",
        scenario::HttpVersion::Http2 => "2",
        scenario::HttpVersion::Auto => "auto",
    }
}

/// The connection policy in words, such as `shared, at most 64`.
fn connections_text(connections: scenario::Connections) -> String {
    match connections {
        scenario::Connections::Shared { max: Some(max) } => format!("shared, at most {max}"),
        scenario::Connections::Shared { max: None } => "shared".to_owned(),
        scenario::Connections::PerClient => "per_client".to_owned(),
    }
}

fn run_info(scenario: &Scenario, target_url: &str, started_at: SystemTime) -> RunInfo {
    RunInfo {
        scenario: scenario.name.clone(),
        target: target_url.to_owned(),
        started_at,
        duration: Duration::ZERO,
        segment: scenario.load.segment.to_string(),
        insecure: scenario.target.insecure,
        http: http_name(scenario.target.http).to_owned(),
        connections: connections_text(scenario.target.connections),
        scenario_toml: scenario.to_toml(),
    }
}

/// Starts one worker thread per gate.
fn spawn_workers(
    run: Execution<'_>,
    control: &Control,
    gates: Vec<warm_up::Gate>,
    reports: tokio::sync::mpsc::UnboundedSender<worker::Report>,
) -> anyhow::Result<Vec<std::thread::JoinHandle<()>>> {
    let segment = run.scenario.load.segment;
    let workers = gates.len();
    let mut threads = Vec::with_capacity(workers);
    for (index, gate) in gates.into_iter().enumerate() {
        let spec = WorkerSpec {
            index,
            workers,
            scenario: run.scenario.clone(),
            shared: run.target.transport.clone(),
            control: control.clone(),
            reports: reports.clone(),
            seed: segment::worker_seed(run.seed, segment, index),
            segment,
            schedule_seed: run.seed,
        };
        let thread = std::thread::Builder::new()
            .name(format!("chatload-worker-{index}"))
            .spawn(move || {
                if let Err(err) = worker::run(spec, gate) {
                    tracing::error!(worker = index, %err, "worker could not start");
                }
            })
            .context("starting a worker thread")?;
        threads.push(thread);
    }
    Ok(threads)
}

/// The results directory, refused before anything starts if it exists:
/// results are never written over an earlier run's.
fn results_dir(
    options: &RunOptions,
    scenario: &Scenario,
    now: SystemTime,
) -> anyhow::Result<PathBuf> {
    let dir = match &options.out {
        Some(dir) => dir.clone(),
        None => report::default_dir(&options.results_root, now, &scenario.name),
    };
    if !dir.exists() {
        return Ok(dir);
    }
    // Name the flag only if the user gave it: a default directory that
    // exists means a run of the same name began in the same second.
    let message = match &options.out {
        Some(_) => format!(
            "--out {}: the directory exists; results are never overwritten, name a new one",
            dir.display()
        ),
        None => format!(
            "results directory {} exists: a run of this scenario began in the same second; \
             results are never overwritten, run again or pass --out with a new directory",
            dir.display()
        ),
    };
    Err(crate::exit::usage(message))
}

/// Creates the results directory once the target has answered and before
/// the load starts, so that a run never measures for minutes and then
/// finds it cannot write (exit 3, naming the directory).
fn create_results_dir(dir: &Path) -> anyhow::Result<()> {
    report::claim_results_dir(dir).with_context(|| {
        format!(
            "results directory {} cannot be created; pass --out with a writable path",
            dir.display()
        )
    })
}

/// The workers to start: as asked, but in the open model no more than the
/// shard's client cap, since each worker holds a share of it and a worker
/// with a share of zero would drop every arrival it is dealt.
fn worker_count(wanted: usize, scenario: &Scenario) -> usize {
    let cap = match scenario.load.model {
        scenario::LoadModel::Open { max_clients, .. } => {
            let segment = scenario.load.segment;
            segment::split(max_clients, segment, 0, 1) as usize
        }
        scenario::LoadModel::Closed { .. } => usize::MAX,
    };
    if wanted > cap {
        tracing::debug!(
            wanted,
            cap,
            "fewer workers than asked: each needs a client slot"
        );
    }
    wanted.min(cap).max(1)
}

fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Open files the run may need: a connection per active client (long polls
/// hold one each over HTTP/1.1), with room for the rest.
fn wanted_files(scenario: &Scenario) -> u64 {
    let peak = scenario.load.peak();
    let clients = match scenario.load.model {
        scenario::LoadModel::Closed { .. } => peak as u64,
        scenario::LoadModel::Open { max_clients, .. } => max_clients,
    };
    // Two descriptors per connection when the mock runs in this process.
    clients.saturating_mul(4).saturating_add(4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_scenario(max_clients: u64, segment: &str) -> Scenario {
        let text = format!(
            "name = \"w\"\n[load]\nmodel = \"open\"\nmax_clients = {max_clients}\n\
             stages = [{{ duration = \"1s\", rate = 5 }}]\n"
        );
        let mut scenario = scenario::parse(&text, "w.toml").unwrap();
        scenario.load.segment = segment.parse().unwrap();
        scenario
    }

    #[test]
    fn an_open_run_has_no_worker_without_a_client_slot() {
        assert_eq!(worker_count(4, &open_scenario(2, "1/1")), 2);
        assert_eq!(worker_count(4, &open_scenario(100, "1/1")), 4);
        // Shard 3 of 3 gets one of the five slots.
        assert_eq!(worker_count(2, &open_scenario(5, "3/3")), 1);
        assert_eq!(worker_count(0, &open_scenario(5, "1/1")), 1);
    }

    fn scenario() -> Scenario {
        let text = "name = \"t\"\n[load]\nstages = [{ duration = \"1s\", clients = 1 }]\n";
        scenario::parse(text, "t.toml").unwrap()
    }

    #[test]
    fn an_existing_results_directory_is_named_by_the_flag_only_if_given() {
        let tmp = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let defaults = RunOptions {
            results_root: tmp.path().to_path_buf(),
            ..RunOptions::default()
        };
        let dir = results_dir(&defaults, &scenario(), now).unwrap();
        std::fs::create_dir_all(&dir).unwrap();

        let err = results_dir(&defaults, &scenario(), now).unwrap_err();
        let message = err.to_string();
        assert!(crate::exit::is_usage(&err), "{message}");
        assert!(message.starts_with("results directory "), "{message}");
        assert!(message.contains(&dir.display().to_string()), "{message}");

        let given = RunOptions {
            out: Some(dir.clone()),
            ..RunOptions::default()
        };
        let message = results_dir(&given, &scenario(), now)
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("--out {}", dir.display())),
            "{message}"
        );
    }
}
