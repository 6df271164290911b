//! One side of a comparison read from disk: the results directory's
//! summary.json and its latency.hlog, with every interval of each
//! response-time tag added into one distribution. Logs of merged runs hold
//! every shard's intervals, so the sum is the whole run either way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;

use crate::exit::usage;
use crate::metrics::hlog::{SERVICE_SUFFIX, read_hlog};
use crate::report::rerun::read_summary;
use crate::report::results_dir::HLOG_FILE;
use crate::report::summary::Summary;

/// A run's figures and full response-time distributions.
#[derive(Debug, Clone)]
pub struct Results {
    /// The results directory.
    pub dir: PathBuf,
    /// Its summary.json.
    pub summary: Summary,
    /// Response time in microseconds per endpoint or measure name, over
    /// the whole run.
    pub latencies: BTreeMap<String, Histogram<u64>>,
}

impl Results {
    /// Reads `dir`. A missing directory or file, or one that cannot be
    /// read as what it should be, is a usage error naming it; `role`
    /// (`base` or `current`) says which argument was wrong.
    pub fn load(role: &str, dir: &Path) -> anyhow::Result<Results> {
        let in_role = |err: anyhow::Error| usage(format!("{role} run: {err}"));
        let summary = read_summary(dir).map_err(in_role)?;
        let latencies = read_latencies(dir).map_err(in_role)?;
        Ok(Results {
            dir: dir.to_owned(),
            summary,
            latencies,
        })
    }

    /// The response-time distribution of `name`, if it has samples.
    pub fn latency(&self, name: &str) -> Option<&Histogram<u64>> {
        self.latencies.get(name).filter(|h| !h.is_empty())
    }
}

fn read_latencies(dir: &Path) -> anyhow::Result<BTreeMap<String, Histogram<u64>>> {
    let path = dir.join(HLOG_FILE);
    if !path.is_file() {
        return Err(usage(format!(
            "{} is missing; compare needs the latency log the run wrote beside summary.json",
            path.display()
        )));
    }
    let intervals = read_hlog(&path).map_err(|e| usage(format!("{e:#}")))?;

    let mut latencies: BTreeMap<String, Histogram<u64>> = BTreeMap::new();
    for interval in intervals {
        if interval.tag.ends_with(SERVICE_SUFFIX) {
            continue;
        }
        match latencies.get_mut(&interval.tag) {
            Some(sum) => sum.add(&interval.histogram).map_err(|e| {
                usage(format!(
                    "{}: interval `{}` cannot be added: {e:?}",
                    path.display(),
                    interval.tag
                ))
            })?,
            None => {
                latencies.insert(interval.tag, interval.histogram);
            }
        }
    }
    Ok(latencies)
}
