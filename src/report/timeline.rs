//! `timeline.csv`: one row per second with the gauges, the request and
//! error counts, and each called endpoint's response-time p50 and p99.
//! The first column, `t_s`, is the start of the row's second in seconds
//! after the run's start; files written before it was named so call it
//! `second`, and the readers take either.

use std::fmt::Write;

use crate::api::Endpoint;
use crate::metrics::{IntervalRecord, RunData};

/// The time column's name: seconds after the start, as the unit says.
pub const TIME_COLUMN: &str = "t_s";

/// What the time column was called before [`TIME_COLUMN`].
const OLD_TIME_COLUMN: &str = "second";

/// The index of the time column among a header's cells, under its current
/// name or the one older files use.
pub fn time_column<'a>(header: impl IntoIterator<Item = &'a str>) -> Option<usize> {
    header
        .into_iter()
        .position(|name| matches!(name.trim(), TIME_COLUMN | OLD_TIME_COLUMN))
}

/// The whole file. Columns are those of the endpoints called at least once
/// in the run; a second in which one was not called leaves its cells
/// empty rather than claiming a zero latency.
pub fn render_timeline(data: &RunData) -> String {
    let endpoints: Vec<Endpoint> = data.totals.called().map(|(e, _)| e).collect();
    let mut csv = header(&endpoints);
    for record in &data.intervals {
        push_row(&mut csv, record, &endpoints);
    }
    csv
}

fn header(endpoints: &[Endpoint]) -> String {
    let mut line = format!("{TIME_COLUMN},active_clients,active_chats,requests,errors");
    for endpoint in endpoints {
        let _ = write!(line, ",{endpoint}_p50_ms,{endpoint}_p99_ms");
    }
    line.push('\n');
    line
}

fn push_row(csv: &mut String, record: &IntervalRecord, endpoints: &[Endpoint]) {
    let IntervalRecord {
        index,
        active_clients,
        active_chats,
        requests,
        errors,
        ..
    } = record;
    // Writing to a String cannot fail.
    let _ = write!(
        csv,
        "{index},{active_clients},{active_chats},{requests},{errors}"
    );

    for endpoint in endpoints {
        match record.endpoints.iter().find(|p| p.endpoint == *endpoint) {
            Some(point) => {
                let _ = write!(csv, ",{:.3},{:.3}", point.p50_ms, point.p99_ms);
            }
            None => csv.push_str(",,"),
        }
    }
    csv.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::test_data;

    #[test]
    fn one_row_per_second_with_columns_for_called_endpoints() {
        let (_, data) = test_data::run();
        let csv = render_timeline(&data);
        let lines: Vec<&str> = csv.lines().collect();

        assert_eq!(
            lines[0],
            "t_s,active_clients,active_chats,requests,errors,availability_p50_ms,\
             availability_p99_ms,request_chat_p50_ms,request_chat_p99_ms,send_events_p50_ms,\
             send_events_p99_ms,poll_events_p50_ms,poll_events_p99_ms"
        );
        assert_eq!(lines.len(), 4);
        // Percentiles are the top of their histogram bucket, within 0.1 %.
        assert_eq!(lines[1], "0,2,2,3,0,1.000,1.000,5.003,7.003,,,,");
        assert_eq!(lines[2], "1,2,1,5,2,,,,,2.000,2.000,20.015,70.015");
        assert_eq!(lines[3], "2,0,0,0,0,,,,,,,,");
    }

    #[test]
    fn the_time_column_is_found_under_either_name() {
        assert_eq!(time_column("t_s,requests".split(',')), Some(0));
        assert_eq!(time_column("requests, second".split(',')), Some(1));
        assert_eq!(time_column("requests,errors".split(',')), None);
    }
}
