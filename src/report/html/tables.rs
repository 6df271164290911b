//! The report's figures as HTML: headline tiles, the endpoint and measure
//! tables (the terminal table's rows, with service time beside response
//! time), errors by kind, threshold verdicts and the run's configuration.

use std::fmt::Write;

use crate::api::Endpoint;
use crate::metrics::{ErrorKind, LatencyStats, Measure};
use crate::report::summary::{EndpointSummary, MeasureSummary, Summary};

use super::page::escape;

/// The headline figures as tiles; failures are coloured.
pub fn tiles(summary: &Summary) -> String {
    let requests = &summary.requests;
    let chats = &summary.chats;
    let error_class = if requests.errors > 0 { "bad" } else { "good" };
    let mut html = String::from("<div class=\"tiles\">\n");

    let (class, label) = match summary.aborted {
        Some(_) => ("bad", "duration (aborted)"),
        None => ("", "duration"),
    };
    tile(
        &mut html,
        class,
        &format!("{:.1} s", summary.duration_s),
        label,
    );
    tile(&mut html, "", &format!("{:.1}/s", requests.rps), "requests");
    let errors = format!("{:.2} %", requests.error_rate * 100.0);
    tile(
        &mut html,
        error_class,
        &errors,
        &format!("errors ({})", requests.errors),
    );
    tile(
        &mut html,
        "",
        &summary.clients.peak_active.to_string(),
        "peak clients",
    );
    tile(&mut html, "", &chats.peak_active.to_string(), "peak chats");
    let done = format!("{} / {}", chats.completed, chats.started);
    tile(&mut html, "", &done, "chats completed / started");
    let lost = chats.failed + chats.dropped;
    let lost_class = if lost > 0 { "bad" } else { "" };
    let lost_text = format!("{} / {}", chats.failed, chats.dropped);
    tile(&mut html, lost_class, &lost_text, "chats failed / dropped");
    if !summary.thresholds.is_empty() {
        thresholds_tile(&mut html, summary);
    }

    html.push_str("</div>\n");
    html
}

fn thresholds_tile(html: &mut String, summary: &Summary) {
    let passed = summary.thresholds.iter().filter(|t| t.passed).count();
    let total = summary.thresholds.len();
    let class = if passed == total { "good" } else { "bad" };
    tile(
        html,
        class,
        &format!("{passed} / {total}"),
        "thresholds held",
    );
}

fn tile(html: &mut String, class: &str, value: &str, label: &str) {
    let _ = writeln!(
        html,
        "<div class=\"tile {class}\"><b>{}</b><span>{}</span></div>",
        escape(value),
        escape(label)
    );
}

/// Endpoints in [`Endpoint::ALL`] order; names this build does not know
/// (from a newer summary) follow in name order.
pub fn endpoints_in_order(summary: &Summary) -> Vec<(&str, &EndpointSummary)> {
    let mut rows: Vec<_> = summary
        .endpoints
        .iter()
        .map(|(n, e)| (n.as_str(), e))
        .collect();
    rows.sort_by_key(|(name, _)| Endpoint::from_name(name).map_or(usize::MAX, Endpoint::index));
    rows
}

/// Measures in [`Measure::ALL`] order, those without samples left out;
/// names this build does not know (from a newer summary) follow in name
/// order.
pub fn measures_in_order(summary: &Summary) -> Vec<(&str, &MeasureSummary)> {
    let mut rows: Vec<_> = summary
        .measures
        .iter()
        .map(|(n, m)| (n.as_str(), m))
        .collect();
    rows.sort_by_key(|(name, _)| Measure::from_name(name).map_or(usize::MAX, Measure::index));
    rows
}

/// One row per endpoint called: counts, statuses, response-time
/// percentiles and service-time p50 and p99, in milliseconds.
pub fn endpoint_table(summary: &Summary) -> String {
    let mut html = String::from(
        "<table>\n<thead>\n<tr><th></th><th colspan=\"5\"></th>\
         <th colspan=\"5\">response time (ms)</th><th colspan=\"2\">service time (ms)</th></tr>\n\
         <tr><th>endpoint</th><th>count</th><th>rate/s</th><th>errors</th><th>error %</th>\
         <th>statuses</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th>\
         <th>p50</th><th>p99</th></tr>\n</thead>\n<tbody>\n",
    );
    for (name, endpoint) in endpoints_in_order(summary) {
        endpoint_row(&mut html, name, endpoint);
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

fn endpoint_row(html: &mut String, name: &str, e: &EndpointSummary) {
    let rate = if e.count == 0 {
        0.0
    } else {
        e.errors as f64 / e.count as f64 * 100.0
    };
    let class = if e.errors > 0 { " class=\"bad\"" } else { "" };
    let statuses: Vec<String> = e
        .status
        .iter()
        .map(|(code, n)| format!("{code}: {n}"))
        .collect();
    let r = &e.response_time_ms;
    let s = &e.service_time_ms;

    let _ = write!(
        html,
        "<tr><td>{}</td><td>{}</td><td>{:.1}</td><td{class}>{}</td><td{class}>{rate:.2}</td>\
         <td class=\"text\">{}</td>",
        escape(name),
        e.count,
        e.rps,
        e.errors,
        escape(&statuses.join(", ")),
    );
    latency_cells(html, r);
    let _ = writeln!(html, "<td>{:.2}</td><td>{:.2}</td></tr>", s.p50, s.p99);
}

fn latency_cells(html: &mut String, ms: &LatencyStats) {
    for value in [ms.p50, ms.p90, ms.p99, ms.p999, ms.max] {
        let _ = write!(html, "<td>{value:.2}</td>");
    }
}

/// One row per chat-level measure with samples.
pub fn measure_table(summary: &Summary) -> String {
    let mut html = String::from(
        "<table>\n<thead><tr><th>measure (ms)</th><th>count</th><th>rate/s</th><th>p50</th>\
         <th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead>\n<tbody>\n",
    );
    for (name, measure) in measures_in_order(summary) {
        let _ = write!(
            html,
            "<tr><td>{name}</td><td>{}</td><td>{:.2}</td>",
            measure.count, measure.rate
        );
        latency_cells(&mut html, &measure.time_ms);
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// Errors by kind, every kind shown so that a zero reads as a zero.
pub fn error_table(summary: &Summary) -> String {
    let mut head = String::new();
    let mut cells = String::new();
    for kind in ErrorKind::ALL {
        let count = summary.errors.get(kind.name()).copied().unwrap_or(0);
        let class = if count > 0 { " class=\"bad\"" } else { "" };
        let _ = write!(head, "<th>{}</th>", kind.name());
        let _ = write!(cells, "<td{class}>{count}</td>");
    }
    format!(
        "<table>\n<thead><tr><th>errors by kind</th>{head}</tr></thead>\n\
         <tbody><tr><td>requests</td>{cells}</tr></tbody>\n</table>\n"
    )
}

/// The threshold verdicts, in scenario order.
pub fn threshold_table(summary: &Summary) -> String {
    if summary.thresholds.is_empty() {
        return "<p class=\"note\">No thresholds were set for this run.</p>\n".into();
    }
    let mut html = String::from(
        "<table>\n<thead><tr><th>threshold</th><th>observed</th><th>verdict</th></tr></thead>\n\
         <tbody>\n",
    );
    for threshold in &summary.thresholds {
        let (class, verdict) = if threshold.passed {
            ("good", "passed")
        } else {
            ("bad", "FAILED")
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=\"verdict {class}\">{verdict}</td></tr>",
            escape(&threshold.name),
            observed_text(threshold)
        );
    }
    html.push_str("</tbody>\n</table>\n");
    html
}

/// The observed value, or why there is none.
fn observed_text(threshold: &crate::report::summary::ThresholdResult) -> String {
    match (threshold.observed, &threshold.note) {
        (Some(value), _) => {
            let unit = crate::report::thresholds::observed_unit(threshold);
            escape(format!("{value} {unit}").trim_end())
        }
        (None, Some(note)) => escape(note),
        (None, None) => "no data".to_owned(),
    }
}

/// The settings of the run, its warnings, and the scenario as resolved.
pub fn configuration(summary: &Summary, scenario_toml: Option<&str>) -> String {
    let tls = if summary.insecure {
        "not verified (insecure)"
    } else {
        "verified"
    };
    let rows = [
        ("scenario", summary.scenario.clone()),
        ("target", summary.target.clone()),
        ("started", summary.started_at.clone()),
        ("duration", format!("{:.1} s", summary.duration_s)),
        ("segment", summary.segment.clone()),
        ("HTTP", summary.http.clone()),
        ("connections", summary.connections.clone()),
        ("certificates", tls.to_owned()),
        ("clients started", summary.clients.started.to_string()),
        ("unknown server events", summary.unknown_events.to_string()),
        ("summary schema", summary.schema.to_string()),
    ];

    let mut html = String::from("<table>\n<tbody>\n");
    for (name, value) in rows {
        let _ = writeln!(
            html,
            "<tr><td>{name}</td><td class=\"text\">{}</td></tr>",
            escape(&value)
        );
    }
    html.push_str("</tbody>\n</table>\n");
    html.push_str(&warnings(summary));
    match scenario_toml {
        Some(toml) => {
            let _ = write!(
                html,
                "<h3>scenario.toml</h3>\n<pre>{}</pre>\n",
                escape(toml)
            );
        }
        None => html.push_str("<p class=\"note\">scenario.toml was not found.</p>\n"),
    }
    html
}

fn warnings(summary: &Summary) -> String {
    if summary.warnings.is_empty() {
        return String::new();
    }
    let items: String = summary
        .warnings
        .iter()
        .map(|w| format!("<li>{}</li>\n", escape(w)))
        .collect();
    format!("<h3>Warnings</h3>\n<ul class=\"warnings\">\n{items}</ul>\n")
}
