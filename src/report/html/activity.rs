//! The per-second activity of a run that latency.hlog does not hold:
//! active clients and chats, requests and errors. It comes from the
//! harvester's records at the end of a run, or from timeline.csv when a
//! report is rendered again.

use std::collections::HashMap;

use anyhow::Context;

use crate::metrics::IntervalRecord;

/// One second of activity. A column missing from the source is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ActivityRow {
    /// Start of the interval, in seconds after the start of the run.
    pub second: f64,
    /// Virtual clients active at the end of the interval.
    pub active_clients: Option<f64>,
    /// Chats active at the end of the interval.
    pub active_chats: Option<f64>,
    /// Requests completed per second.
    pub requests_per_s: Option<f64>,
    /// Errors per second.
    pub errors_per_s: Option<f64>,
}

/// Rows from the harvester's interval records.
pub fn from_records(records: &[IntervalRecord]) -> Vec<ActivityRow> {
    records
        .iter()
        .map(|r| {
            let seconds = r.length.as_secs_f64().max(1e-3);
            ActivityRow {
                second: r.index as f64,
                active_clients: Some(r.active_clients as f64),
                active_chats: Some(r.active_chats as f64),
                requests_per_s: Some(r.requests as f64 / seconds),
                errors_per_s: Some(r.errors as f64 / seconds),
            }
        })
        .collect()
}

/// Rows from the text of timeline.csv. Columns are found by their header
/// name, so files with more or fewer columns still read; `second` is the
/// one column that must be there. Each row covers one second, so counts
/// are rates already.
pub fn parse_timeline(csv: &str) -> anyhow::Result<Vec<ActivityRow>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header = lines
        .next()
        .context("timeline.csv is empty; expected a header line")?;
    let columns: HashMap<&str, usize> = header
        .split(',')
        .enumerate()
        .map(|(i, name)| (name.trim(), i))
        .collect();
    let second = crate::report::timeline::time_column(header.split(',')).with_context(|| {
        format!("timeline.csv header `{header}` has no `t_s` (or older `second`) column")
    })?;

    lines
        .enumerate()
        .map(|(n, line)| {
            parse_row(line, second, &columns)
                .with_context(|| format!("timeline.csv line {}: `{line}`", n + 2))
        })
        .collect()
}

fn parse_row(
    line: &str,
    second: usize,
    columns: &HashMap<&str, usize>,
) -> anyhow::Result<ActivityRow> {
    let cells: Vec<&str> = line.split(',').map(str::trim).collect();
    let cell = |name: &str| -> Option<f64> {
        let text = cells.get(*columns.get(name)?)?;
        text.parse().ok()
    };

    let second = cells
        .get(second)
        .and_then(|s| s.parse::<f64>().ok())
        .context("the `second` cell is not a number")?;
    Ok(ActivityRow {
        second,
        active_clients: cell("active_clients"),
        active_chats: cell("active_chats"),
        requests_per_s: cell("requests"),
        errors_per_s: cell("errors"),
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn columns_are_found_by_name_in_any_order() {
        let csv = "errors,second,requests,active_clients,x_p50_ms\n0,0,10,4,1.5\n2,1,12,5,\n";
        let rows = parse_timeline(csv).unwrap();

        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].second, 1.0);
        assert_eq!(rows[1].requests_per_s, Some(12.0));
        assert_eq!(rows[1].errors_per_s, Some(2.0));
        assert_eq!(rows[1].active_clients, Some(5.0));
        assert_eq!(rows[1].active_chats, None);
    }

    #[test]
    fn a_timeline_without_seconds_is_refused_with_its_header() {
        let err = parse_timeline("requests,errors\n1,2\n").unwrap_err();
        assert!(err.to_string().contains("`requests,errors`"), "{err:#}");
        let err = parse_timeline("second,requests\nabc,1\n").unwrap_err();
        assert!(format!("{err:#}").contains("line 2"), "{err:#}");
        let rows = parse_timeline("t_s,requests\n0,4\n").unwrap();
        assert_eq!(rows[0].requests_per_s, Some(4.0));
    }

    #[test]
    fn a_short_last_interval_is_scaled_to_a_rate() {
        let record = IntervalRecord {
            index: 4,
            length: Duration::from_millis(500),
            active_clients: 3,
            active_chats: 2,
            requests: 10,
            errors: 1,
            endpoints: Vec::new(),
        };
        let rows = from_records(&[record]);
        assert_eq!(rows[0].second, 4.0);
        assert_eq!(rows[0].requests_per_s, Some(20.0));
        assert_eq!(rows[0].errors_per_s, Some(2.0));
    }
}
