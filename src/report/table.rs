//! The report on stdout: a table for people, or summary.json for programs.

use std::io::{self, Write};

use crate::api::Endpoint;
use crate::metrics::{ErrorKind, LatencyStats, Measure};

use super::summary::Summary;

const NAME_WIDTH: usize = 20;

/// Prints the end-of-run table: one row per endpoint called and per chat
/// measure recorded, with count, rate, errors and response-time
/// percentiles in milliseconds; then errors by kind, chats and warnings.
pub fn print_table(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{} against {}: {:.1} s, segment {}, started {}",
        summary.scenario, summary.target, summary.duration_s, summary.segment, summary.started_at
    )?;
    if let Some(aborted) = &summary.aborted {
        writeln!(
            out,
            "ABORTED {:.1} s after the start by --abort-on-fail; thresholds failed: {}",
            aborted.after_s,
            aborted.thresholds.join(", ")
        )?;
    }
    writeln!(out)?;

    writeln!(
        out,
        "latency in ms; endpoints show response time, from the intended start"
    )?;
    header(out, "endpoint")?;
    for (name, endpoint) in endpoint_rows(summary) {
        let rps = endpoint.rps;
        row(
            out,
            name,
            endpoint.count,
            rps,
            Some(endpoint.errors),
            &endpoint.response_time_ms,
        )?;
    }
    if !summary.measures.is_empty() {
        writeln!(out)?;
        header(out, "chat measure")?;
    }
    for measure in Measure::ALL {
        if let Some(m) = summary.measures.get(measure.name()) {
            row(out, measure.name(), m.count, m.rate, None, &m.time_ms)?;
        }
    }

    writeln!(out)?;
    totals(summary, out)
}

/// Prints summary.json, pretty, with a final newline.
pub fn print_json(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    writeln!(out)
}

/// Endpoints in the order of [`Endpoint::ALL`]; names this build does not
/// know (from a newer summary) follow in name order.
fn endpoint_rows(summary: &Summary) -> Vec<(&str, &super::summary::EndpointSummary)> {
    let mut rows: Vec<_> = summary
        .endpoints
        .iter()
        .map(|(n, e)| (n.as_str(), e))
        .collect();
    rows.sort_by_key(|(name, _)| Endpoint::from_name(name).map_or(usize::MAX, Endpoint::index));
    rows
}

fn header(out: &mut dyn Write, title: &str) -> io::Result<()> {
    writeln!(
        out,
        "{title:<NAME_WIDTH$} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "count", "rate/s", "errors", "p50", "p90", "p99", "p99.9", "max"
    )
}

fn row(
    out: &mut dyn Write,
    name: &str,
    count: u64,
    rate: f64,
    errors: Option<u64>,
    ms: &LatencyStats,
) -> io::Result<()> {
    let errors = errors.map_or_else(|| "-".to_owned(), |e| e.to_string());
    writeln!(
        out,
        "{name:<NAME_WIDTH$} {count:>8} {rate:>8.1} {errors:>7} {:>8.2} {:>8.2} {:>8.2} {:>8.2} \
         {:>8.2}",
        ms.p50, ms.p90, ms.p99, ms.p999, ms.max
    )
}

fn totals(summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let requests = &summary.requests;
    writeln!(
        out,
        "requests: {} at {:.1}/s, {} errors ({:.2} %)",
        requests.count,
        requests.rps,
        requests.errors,
        requests.error_rate * 100.0
    )?;

    let kinds: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|k| {
            format!(
                "{} {}",
                k.name(),
                summary.errors.get(k.name()).copied().unwrap_or(0)
            )
        })
        .collect();
    writeln!(out, "errors: {}", kinds.join(", "))?;

    let chats = &summary.chats;
    let missed = match chats.missed {
        0 => String::new(),
        n => format!(" ({n} missed: past their time)"),
    };
    // Two lines: the outcomes of the started chats, which add up to the
    // started, then the rest; one line would pass 100 columns.
    writeln!(
        out,
        "chats: started {}, completed {}, failed {}, ended by the server {}, ended by the run {}",
        chats.started, chats.completed, chats.failed, chats.ended_by_server, chats.interrupted,
    )?;
    writeln!(
        out,
        "chats: dropped {}{missed}, peak active {}",
        chats.dropped, chats.peak_active
    )?;
    writeln!(
        out,
        "clients: started {}, peak active {}",
        summary.clients.started, summary.clients.peak_active
    )?;

    for warning in &summary.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{summarize, test_data};

    fn rendered() -> String {
        let (info, data) = test_data::run();
        let mut out = Vec::new();
        print_table(&summarize(&info, &data), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_table_has_a_row_per_endpoint_called_in_api_order() {
        let table = rendered();
        let rows: Vec<&str> = table
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|name| Endpoint::from_name(name).is_some())
            .collect();
        assert_eq!(
            rows,
            ["availability", "request_chat", "send_events", "poll_events"]
        );
    }

    #[test]
    fn the_table_shows_measures_errors_and_chats() {
        let table = rendered();
        let poll = table
            .lines()
            .find(|l| l.starts_with("poll_events"))
            .unwrap();
        let cells: Vec<&str> = poll.split_whitespace().collect();
        assert_eq!(&cells[1..4], ["2", "0.8", "2"]);

        assert!(
            table.lines().any(|l| l.starts_with("queue_wait")),
            "{table}"
        );
        assert!(
            table.contains("errors: connect 0, tls 0, timeout 1,"),
            "{table}"
        );
        let outcomes = "chats: started 2, completed 1, failed 1, ended by the server 0, \
                        ended by the run 0\nchats: dropped 1,";
        assert!(table.contains(outcomes), "{table}");
        let rows = table.lines().filter(|l| !l.starts_with("warning:"));
        assert!(rows.into_iter().all(|l| l.len() <= 100), "{table}");
    }

    #[test]
    fn json_output_parses_back() {
        let (info, data) = test_data::run();
        let summary = summarize(&info, &data);
        let mut out = Vec::new();
        print_json(&summary, &mut out).unwrap();
        assert!(out.ends_with(b"}\n"));
        assert_eq!(serde_json::from_slice::<Summary>(&out).unwrap(), summary);
    }
}
