//! What a run leaves behind: the summary built from the harvested data,
//! the table or JSON on stdout, the results directory (summary.json,
//! latency.hlog, timeline.csv, scenario.toml, report.html) and the live
//! progress line; thresholds on the figures, `chatload report`, `chatload
//! compare`, the merge of several shards' results into one, and the live
//! OpenMetrics endpoint.
//!
//! Everything here reads [`crate::metrics::RunData`] once the run is over,
//! or a results directory on disk, except [`Progress`], which shows the
//! harvester's live figures, and [`thresholds::AbortOnFail`].

pub mod compare;
pub mod html;
pub mod merge;
pub mod openmetrics;
pub mod progress;
pub mod rerun;
pub mod results_dir;
pub mod run_info;
pub mod summary;
pub mod table;
pub mod thresholds;
pub mod timeline;
pub mod warnings;

pub use crate::metrics::hlog::{IntervalHistogram, read_hlog};
pub use progress::Progress;
pub use results_dir::{claim_results_dir, create_results_dir, default_dir, write_results};
pub use run_info::RunInfo;
pub use summary::{Summary, summarize};
pub use table::{print_json, print_table};

#[cfg(test)]
mod test_data;
