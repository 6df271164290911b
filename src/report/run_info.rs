//! What the engine knows about a run that the measurements do not: its
//! name, target, settings and timing.

use std::time::{Duration, SystemTime};

/// The run's identity and settings, as reported beside its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RunInfo {
    /// Scenario name.
    pub scenario: String,
    /// Base URL of the target (the embedded mock's loopback URL included).
    pub target: String,
    /// Wall-clock start; shards of one run share it.
    pub started_at: SystemTime,
    /// Time from the start to the end of the last interval.
    pub duration: Duration,
    /// This shard and the shard count, `K/N`; `1/1` for a lone run.
    pub segment: String,
    /// True if and only if certificates were not verified.
    pub insecure: bool,
    /// HTTP version policy as configured: `1.1`, `2` or `auto`.
    pub http: String,
    /// Connection policy in words, such as `shared, max 2000`.
    pub connections: String,
    /// The scenario as resolved for the run, in TOML.
    pub scenario_toml: String,
}
