//! Command-line definitions (clap derive) and nothing else: each command's
//! arguments are turned into typed configuration by the module that runs
//! it.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Load generator for the Bright Pattern Mobile/Web chat API.
#[derive(Debug, Parser)]
#[command(name = "chatload", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Diagnostics on stderr: error, warn, info, debug or trace (or a
    /// tracing filter such as `chatload=debug`). Also read from RUST_LOG.
    #[arg(long, global = true, default_value = "warn", env = "CHATLOAD_LOG")]
    pub log: String,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario; with no target, against the embedded mock.
    Run(RunArgs),
    /// Run the mock contact center.
    Serve(ServeArgs),
    /// Check a scenario and print the resolved plan.
    Validate(ValidateArgs),
    /// Re-print the summary and threshold verdicts of a results directory.
    ///
    /// Reads DIR/summary.json and prints the table (or the JSON with
    /// --json) as the run did. The exit code is the stored verdict: 1 if a
    /// threshold failed.
    Report(ReportArgs),
    /// Check CURRENT against BASE for regressions, endpoint by endpoint.
    ///
    /// Compares p50, p99 and p99.9 of the response time, the request rate
    /// and the error rate of every endpoint and chat measure. A change is a
    /// regression only when both hold:
    ///
    /// 1. it is worse than the base by more than the tolerance
    ///    (--max-regression), relative to the base value, and for a
    ///    percentile by at least --min-change (1ms) in absolute terms;
    ///
    /// 2. it is unlikely to be noise. Percentiles: the 99 % confidence
    ///    intervals of the percentile in the two runs do not overlap. Each
    ///    interval comes from the full distribution in latency.hlog, by
    ///    order statistics: the count of samples below a percentile is
    ///    binomial, so its rank is known to within 2.58 standard deviations.
    ///    Request rate: a one-sided test on the two Poisson counts over the
    ///    run lengths at 1 %. Error rate: a one-sided two-proportion z-test
    ///    at 1 %.
    ///
    /// Exit 1 on a regression, 2 on unusable input (missing files, or runs
    /// of different scenarios without --force).
    Compare(CompareArgs),
    /// Merge the results of the shards of one run into one results
    /// directory, exactly.
    Merge(MergeArgs),
}

/// Arguments of `chatload run`.
#[derive(Debug, Args, Clone, Default)]
pub struct RunArgs {
    /// Scenario file (TOML). Without one, the quickstart defaults are used.
    pub scenario: Option<PathBuf>,

    /// Base URL of the target, such as https://chat.example.com; overrides
    /// the scenario. Without one, the embedded mock is started.
    #[arg(long)]
    pub target: Option<String>,

    /// Closed model: active clients, replacing every stage's value.
    #[arg(long, conflicts_with = "rate")]
    pub clients: Option<u64>,

    /// Open model: new chats per second, replacing every stage's value.
    #[arg(long)]
    pub rate: Option<f64>,

    /// Total duration, such as 30s or 5m: one stage of this length at the
    /// scenario's peak value.
    #[arg(long)]
    pub duration: Option<String>,

    /// Results directory (default: results/<UTC time>-<scenario>).
    #[arg(long)]
    pub out: Option<PathBuf>,

    /// PEM file of certificates to trust beside the system roots.
    #[arg(long)]
    pub ca_cert: Option<PathBuf>,

    /// Do not verify the target's certificate (reported in the summary).
    #[arg(long)]
    pub insecure: bool,

    /// HTTP version: 1.1, 2 or auto (ALPN).
    #[arg(long, value_parser = ["1.1", "2", "auto"])]
    pub http: Option<String>,

    /// Worker threads, each with its own event loop (default: one per
    /// core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,

    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,

    /// Print summary.json to stdout instead of the table.
    #[arg(long)]
    pub json: bool,

    /// A pass/fail condition such as 'send_events.p99 < 300ms'; repeatable.
    /// Replaces a scenario threshold on the same figure. Exit 1 if one
    /// fails.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Stop the run once a threshold fails, judged from this long after the
    /// start (such as 10m), for long runs that are already lost.
    #[arg(long, value_name = "DELAY")]
    pub abort_on_fail: Option<String>,
    /// Serve live metrics during the run at http://ADDR/metrics, in
    /// OpenMetrics text for Prometheus, such as 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// Run only shard K of N (one-based, such as 2/3): a share of the
    /// clients or of the arrival rate, so that N shards add up to the whole
    /// run. Overrides `segment` in the scenario.
    #[arg(long, value_name = "K/N", env = "CHATLOAD_SEGMENT")]
    pub segment: Option<String>,

    /// Wall-clock instant at which the plan starts, the same for every
    /// shard: RFC 3339 (2026-12-03T18:00:00Z) or Unix seconds. The run waits
    /// for it, opening its connections in the 2 s before; a shard that
    /// starts late (or warms up past it) catches up on the schedule.
    #[arg(long, value_name = "TIME", env = "CHATLOAD_START_AT")]
    pub start_at: Option<String>,
}

/// Arguments of `chatload serve`.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,

    /// Plain HTTP instead of TLS.
    #[arg(long, conflicts_with_all = ["cert", "key", "cert_out"])]
    pub plain: bool,

    /// Certificate chain (PEM) to serve; needs --key.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) for --cert.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,

    /// Where to write the self-signed certificate made at start, so that a
    /// client can trust exactly it.
    #[arg(long, conflicts_with = "cert")]
    pub cert_out: Option<PathBuf>,

    /// Simulated agents.
    #[arg(long, default_value_t = 1000)]
    pub agents: u32,

    /// Chats each agent takes at once.
    #[arg(long, default_value_t = 4)]
    pub chats_per_agent: u32,

    /// Delay before an agent answers, as a range such as 1s..3s.
    #[arg(long, default_value = "200ms..800ms")]
    pub reply_delay: String,

    /// How long an idle long poll is held before it answers with no events.
    #[arg(long, default_value = "10s")]
    pub poll_hold: String,

    /// Idle time after which the agent ends a chat.
    #[arg(long, default_value = "120s")]
    pub idle_end: String,

    /// Most chats alive at once; beyond it Request Chat answers 503 (5001).
    #[arg(long, default_value_t = 1_000_000)]
    pub max_chats: usize,

    /// Answer Check Availability with notAvailable.
    #[arg(long)]
    pub closed: bool,

    /// HTTP status for authorization failures on both versions (401 or 403).
    /// By default v1 answers 401 and v2 answers 403.
    #[arg(long, value_parser = ["401", "403"])]
    pub auth_status: Option<String>,

    /// A fault to inject, written as the inside of a [[mock.faults]] table,
    /// such as 'kind = "error", rate = 0.1, status = 500, code = 5500'.
    /// Repeat the flag for several faults.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
}

/// Arguments of `chatload validate`.
#[derive(Debug, Args, Clone)]
pub struct ValidateArgs {
    /// Scenario file (TOML).
    pub scenario: PathBuf,
}

/// Arguments of `chatload report`.
#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// Results directory of a run.
    pub dir: PathBuf,

    /// Print summary.json to stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `chatload merge`.
#[derive(Debug, Args, Clone)]
pub struct MergeArgs {
    /// Results directories of the shards (`chatload run --segment K/N`).
    #[arg(required = true, num_args = 1..)]
    pub dirs: Vec<PathBuf>,

    /// Where to write the merged results; must not exist yet.
    #[arg(long)]
    pub out: PathBuf,

    /// A pass/fail condition on the merged figures, such as
    /// 'send_events.p99 < 300ms'; repeatable. Replaces the shards' threshold
    /// on the same figure. Exit 1 if one fails.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,

    /// Print summary.json to stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `chatload compare`.
#[derive(Debug, Args, Clone)]
pub struct CompareArgs {
    /// Results directory of the baseline run.
    pub base: PathBuf,

    /// Results directory of the run to check.
    pub current: PathBuf,

    /// Tolerance: how much worse a statistic may get before it can count as
    /// a regression, such as 15% (default 10%); or one statistic's own,
    /// such as p99=20% (p50, p99, p999, rate, error_rate). Repeatable.
    #[arg(long, value_name = "[STAT=]PERCENT")]
    pub max_regression: Vec<String>,

    /// A percentile that rose by less than this is never a regression,
    /// however large the rise relative to the base (0.01 ms to 1 ms is
    /// +9900 %): such as 1ms, 500us, or 0s for none.
    #[arg(long, value_name = "DURATION", default_value = "1ms")]
    pub min_change: String,

    /// Output: an aligned table, a Markdown table for a pull-request
    /// comment, or JSON.
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,

    /// Compare runs of different scenarios.
    #[arg(long)]
    pub force: bool,
}

/// Output format of `chatload compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// An aligned table.
    Text,
    /// A Markdown table with a verdict line.
    Markdown,
    /// A JSON document.
    Json,
}
