//! One shard's results directory read back for a merge: its summary, its
//! interval log with the precise wall-clock start, and its timeline rows,
//! which hold the per-second figures the log does not (gauges and errors).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::exit::usage;
use crate::metrics::IntervalHistogram;
use crate::metrics::hlog::{parse_hlog, start_time};
use crate::report::Summary;
use crate::report::results_dir::{HLOG_FILE, SCENARIO_FILE, SUMMARY_FILE, TIMELINE_FILE};

/// One second of a shard's timeline.csv.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelineRow {
    /// Seconds from the shard's start.
    pub second: u64,
    /// Active virtual clients at the end of the second.
    pub active_clients: u64,
    /// Active chats at the end of the second.
    pub active_chats: u64,
    /// Requests completed in the second.
    pub requests: u64,
    /// Of which errors.
    pub errors: u64,
}

/// What a merge needs of one shard.
#[derive(Debug, Clone)]
pub struct Shard {
    /// Where it was read from, for messages.
    pub dir: PathBuf,
    /// Its summary.json.
    pub summary: Summary,
    /// Its wall-clock start to the millisecond, from the log's StartTime.
    pub started_at: SystemTime,
    /// Its interval histograms, every tag.
    pub intervals: Vec<IntervalHistogram>,
    /// Its timeline, one row per second.
    pub rows: Vec<TimelineRow>,
    /// Its scenario.toml, as written.
    pub scenario_toml: String,
}

impl Shard {
    /// Wall-clock end: the start plus the shard's duration.
    pub fn ended_at(&self) -> SystemTime {
        self.started_at + Duration::from_secs_f64(self.summary.duration_s.max(0.0))
    }

    /// Length of the shard's second `k`: a whole second, or what was left of
    /// the run for its last one.
    pub fn interval_length(&self, k: u64) -> Duration {
        let left = self.summary.duration_s - k as f64;
        Duration::from_secs_f64(left.clamp(0.0, 1.0))
    }
}

/// Reads a shard's results directory. A missing or unreadable file is a
/// usage error naming it.
pub fn read_shard(dir: &Path) -> anyhow::Result<Shard> {
    let summary = read_summary(&dir.join(SUMMARY_FILE))?;
    let hlog_path = dir.join(HLOG_FILE);
    let hlog = read(&hlog_path)?;
    let intervals = parse_hlog(hlog.as_bytes())
        .with_context(|| format!("reading interval log {}", hlog_path.display()))
        .map_err(|err| usage(format!("{err:#}")))?;

    // The summary's start is rounded to the second; the log keeps the
    // milliseconds, which alignment needs when shards started apart.
    let started_at = match start_time(hlog.as_bytes()) {
        Some(at) => at,
        None => humantime::parse_rfc3339(&summary.started_at).map_err(|err| {
            usage(format!(
                "{}: started_at: {err}",
                dir.join(SUMMARY_FILE).display()
            ))
        })?,
    };
    let timeline_path = dir.join(TIMELINE_FILE);
    let rows = parse_timeline(&read(&timeline_path)?)
        .map_err(|err| usage(format!("{}: {err}", timeline_path.display())))?;

    Ok(Shard {
        dir: dir.to_owned(),
        summary,
        started_at,
        intervals,
        rows,
        scenario_toml: read(&dir.join(SCENARIO_FILE))?,
    })
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).map_err(|err| {
        usage(format!(
            "{}: {err}; is it the results directory of a chatload run?",
            path.display()
        ))
    })
}

fn read_summary(path: &Path) -> anyhow::Result<Summary> {
    let text = read(path)?;
    serde_json::from_str(&text)
        .map_err(|err| usage(format!("{}: not a chatload summary: {err}", path.display())))
}

/// Parses timeline.csv by its header's column names, so that columns added
/// later do not break old merges.
pub fn parse_timeline(text: &str) -> Result<Vec<TimelineRow>, String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| format!("no `{name}` column in the header"))
    };
    let time = crate::report::timeline::time_column(header.iter().copied())
        .ok_or_else(|| "no `t_s` (or older `second`) column in the header".to_owned())?;
    let columns = [
        time,
        column("active_clients")?,
        column("active_chats")?,
        column("requests")?,
        column("errors")?,
    ];

    let mut rows = Vec::new();
    for (number, line) in lines.enumerate().filter(|(_, l)| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let value = |i: usize| -> Result<u64, String> {
            let cell = cells.get(columns[i]).copied().unwrap_or_default();
            cell.parse()
                .map_err(|_| format!("line {}: `{cell}` is not a whole number", number + 2))
        };
        rows.push(TimelineRow {
            second: value(0)?,
            active_clients: value(1)?,
            active_chats: value(2)?,
            requests: value(3)?,
            errors: value(4)?,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_rows_are_read_by_column_name() {
        let text = "second,active_clients,active_chats,requests,errors,x_p50_ms\n\
                    0,3,2,10,1,4.5\n1,4,4,12,0,\n";
        let rows = parse_timeline(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[1],
            TimelineRow {
                second: 1,
                active_clients: 4,
                active_chats: 4,
                requests: 12,
                errors: 0
            }
        );
    }

    #[test]
    fn a_timeline_written_before_t_s_reads_alike() {
        let old = "second,active_clients,active_chats,requests,errors\n0,3,2,10,1\n";
        let new = old.replacen("second", "t_s", 1);
        assert_eq!(parse_timeline(old).unwrap(), parse_timeline(&new).unwrap());
        assert_eq!(parse_timeline(&new).unwrap()[0].requests, 10);
    }

    #[test]
    fn a_bad_timeline_names_the_line_or_column() {
        let err = parse_timeline("second,active_clients\n").unwrap_err();
        assert!(err.contains("`active_chats`"), "{err}");
        let text = "second,active_clients,active_chats,requests,errors\n0,1,1,x,0\n";
        assert!(parse_timeline(text).unwrap_err().contains("line 2"));
    }
}
