//! The report's charts, each built from the data it plots: load over time
//! from the activity rows, and for every endpoint and chat measure its
//! percentiles over time beside its percentile spectrum.

use std::collections::BTreeMap;

use crate::metrics::IntervalHistogram;
use crate::metrics::hlog::SERVICE_SUFFIX;

use super::activity::ActivityRow;
use super::charts::{self, BLUE, GREEN, HALF_WIDTH, HEIGHT, Line, LineChart, ORANGE, RED};
use super::charts::{XAxis, YAxis};
use super::page::{escape, figure, grid, note};
use super::series::{self, TimePoint};

/// The interval data the latency charts draw from.
pub struct LatencyData<'a> {
    /// Per tag, its seconds in order.
    pub series: BTreeMap<&'a str, Vec<TimePoint>>,
    /// The raw intervals, for whole-run spectra.
    pub intervals: &'a [IntervalHistogram],
    /// The run's length in seconds: where every time axis ends.
    pub run_s: f64,
}

/// Requests and errors per second beside active clients and chats. When
/// the rows lack a column, `fallback_rps` (from the histograms) stands in
/// for requests, and the other charts say what is missing.
pub fn load_over_time(
    rows: &[ActivityRow],
    fallback_rps: Vec<(f64, f64)>,
    run_s: f64,
) -> anyhow::Result<String> {
    let column = |pick: fn(&ActivityRow) -> Option<f64>| -> Vec<(f64, f64)> {
        rows.iter()
            .filter_map(|r| pick(r).map(|v| (r.second, v)))
            .collect()
    };
    let mut requests = column(|r| r.requests_per_s);
    if requests.is_empty() {
        requests = fallback_rps;
    }
    let errors = column(|r| r.errors_per_s);
    let clients = column(|r| r.active_clients);
    let chats = column(|r| r.active_chats);

    let rate = time_chart(
        run_s,
        YAxis::Count,
        vec![
            line("requests/s", BLUE, requests),
            line("errors/s", RED, errors),
        ],
    );
    let active = time_chart(
        run_s,
        YAxis::Count,
        vec![
            line("clients", GREEN, clients),
            line("chats", ORANGE, chats),
        ],
    );
    Ok(grid(&[
        chart_figure("Requests and errors per second", "all endpoints", &rate)?,
        chart_figure(
            "Active clients and chats",
            "at the end of each second",
            &active,
        )?,
    ]))
}

/// For each name (an endpoint or a measure), its percentiles per second
/// and its percentile spectrum; endpoints show service time beside
/// response time in the spectrum.
pub fn latency_cards(
    names: &[&str],
    data: &LatencyData<'_>,
    with_service: bool,
) -> anyhow::Result<String> {
    let mut html = String::new();
    for name in names {
        html.push_str(&format!("<h3>{}</h3>\n", escape(name)));
        let points = data.series.get(name).map_or(&[][..], Vec::as_slice);
        let over_time = percentiles_over_time(points, data.run_s);
        let spectrum = spectrum_chart(name, data, with_service);
        let spectrum_note = if with_service {
            "response and service time"
        } else {
            "whole run"
        };
        html.push_str(&grid(&[
            chart_figure("Percentiles over time", "ms, per second", &over_time)?,
            chart_figure("Percentile spectrum", spectrum_note, &spectrum)?,
        ]));
    }
    Ok(html)
}

fn percentiles_over_time(points: &[TimePoint], run_s: f64) -> LineChart {
    let pick = |f: fn(&TimePoint) -> f64| points.iter().map(|p| (p.second, f(p))).collect();
    time_chart(
        run_s,
        YAxis::Millis,
        vec![
            line("p50", BLUE, pick(|p| p.p50)),
            line("p90", ORANGE, pick(|p| p.p90)),
            line("p99", RED, pick(|p| p.p99)),
        ],
    )
}

fn spectrum_chart(name: &str, data: &LatencyData<'_>, with_service: bool) -> LineChart {
    let spectrum_of = |tag: &str| {
        series::merged(data.intervals, tag).map_or_else(Vec::new, |h| series::spectrum(&h))
    };
    let label = if with_service { "response time" } else { name };
    let mut lines = vec![line(label, RED, spectrum_of(name))];
    if with_service {
        // Service time is never above response time and often equal to
        // it; drawn wider beneath, the response line shows as a red border
        // rather than vanishing under the blue.
        lines[0].width = 5;
        let service = spectrum_of(&format!("{name}{SERVICE_SUFFIX}"));
        lines.push(line("service time", BLUE, service));
    }
    LineChart {
        size: (HALF_WIDTH, HEIGHT),
        x: XAxis::Percentile,
        y: YAxis::LogMillis,
        lines,
        x_end: None,
    }
}

fn time_chart(run_s: f64, y: YAxis, lines: Vec<Line>) -> LineChart {
    LineChart {
        size: (HALF_WIDTH, HEIGHT),
        x: XAxis::Time,
        y,
        lines,
        x_end: Some(run_s),
    }
}

fn line(label: &str, colour: plotters::style::RGBColor, points: Vec<(f64, f64)>) -> Line {
    Line {
        label: label.to_owned(),
        colour,
        points,
        width: 2,
    }
}

/// The chart under its caption, or a note where there is nothing to plot,
/// so that an empty frame never passes for a flat line.
fn chart_figure(caption: &str, aside: &str, chart: &LineChart) -> anyhow::Result<String> {
    if chart.is_empty() {
        return Ok(format!(
            "<figure>\n<figcaption>{}</figcaption>\n{}</figure>\n",
            escape(caption),
            note("no data recorded")
        ));
    }
    Ok(figure(caption, aside, &charts::draw(chart)?))
}
