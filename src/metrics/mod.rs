//! Measuring a run: per-worker recorders on the hot path, the snapshots
//! they hand over once a second, and the harvester that merges them into
//! totals, a timeline and an interval log.
//!
//! Latencies are HdrHistograms of microseconds at three significant
//! figures. Each endpoint has two views (decision 3 of the design):
//! response time, from when a request was meant to start, and service
//! time, from when it was sent. The chat-level [`Measure`]s sit beside
//! them. Nothing here locks, sends or allocates per request; see
//! [`WorkerMetrics`].

pub mod endpoint;
pub mod harvester;
pub mod hlog;
pub mod latency;
pub mod measure;
pub mod outcome;
pub mod snapshot;
pub mod worker;

pub use endpoint::EndpointStats;
pub use harvester::{EndpointPoint, Harvester, IntervalRecord, LiveStats, RunData};
pub use hlog::{IntervalHistogram, read_hlog};
pub use latency::{Latency, LatencyStats};
pub use measure::Measure;
pub use outcome::{ErrorKind, Outcome};
pub use snapshot::{Counters, Snapshot};
pub use worker::WorkerMetrics;
