//! `report.html`: one self-contained page with the run's charts and
//! tables, for the capacity planner who reads a run after it is over.
//!
//! Charts are drawn by plotters as inline SVG and the style sheet is
//! inline, so the file opens offline and fetches nothing. The page is
//! built from what a results directory holds: summary.json for the
//! figures, latency.hlog for latency over time and the spectra,
//! timeline.csv for load over time, scenario.toml for the configuration.
//! At the end of a run the same page is rendered from memory.

mod activity;
mod charts;
mod figures;
mod page;
mod series;
mod tables;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;

use crate::metrics::{IntervalHistogram, IntervalRecord, Measure, read_hlog};

pub use activity::ActivityRow;

use super::results_dir::{HLOG_FILE, SCENARIO_FILE, SUMMARY_FILE, TIMELINE_FILE};
use super::summary::Summary;
use figures::LatencyData;

/// The report's file name.
pub const REPORT_FILE: &str = "report.html";

/// Chat measures that get charts even without samples, because a capacity
/// plan is read from them and an absent chart must say so.
const CHARTED_MEASURES: [Measure; 2] = [Measure::QueueWait, Measure::AgentReply];

/// Everything a report shows.
#[derive(Debug, Clone, Copy)]
pub struct ReportSources<'a> {
    /// The run's figures.
    pub summary: &'a Summary,
    /// The interval histograms of latency.hlog.
    pub intervals: &'a [IntervalHistogram],
    /// Load per second; empty when unknown, and then requests per second
    /// are counted from the histograms.
    pub activity: &'a [ActivityRow],
    /// The scenario as resolved for the run, when known.
    pub scenario_toml: Option<&'a str>,
}

/// Renders report.html from what is on disk (summary.json + latency.hlog +
/// timeline data recomputed from the hlog, so it needs nothing else), and
/// writes it atomically into `dir`.
///
/// timeline.csv and scenario.toml are read when present; without them the
/// page says what is missing rather than failing.
pub fn write_report(dir: &Path) -> anyhow::Result<PathBuf> {
    let summary = read_summary(&dir.join(SUMMARY_FILE))?;
    let intervals = read_hlog(&dir.join(HLOG_FILE))?;
    let activity = read_activity(&dir.join(TIMELINE_FILE));
    let scenario_toml = fs::read_to_string(dir.join(SCENARIO_FILE)).ok();

    let html = render_sources(&ReportSources {
        summary: &summary,
        intervals: &intervals,
        activity: &activity,
        scenario_toml: scenario_toml.as_deref(),
    })?;

    let path = dir.join(REPORT_FILE);
    super::results_dir::write_atomically(&path, |out| out.write_all(html.as_bytes()))?;
    tracing::info!(path = %path.display(), "report written");
    Ok(path)
}

/// The same from memory, for the end of a run (no re-reading).
///
/// Load over time is then counted from the histograms alone; use
/// [`render_sources`] with [`activity_from_records`] to show active
/// clients, chats and errors as well.
pub fn render(summary: &Summary, intervals: &[IntervalHistogram]) -> anyhow::Result<String> {
    render_sources(&ReportSources {
        summary,
        intervals,
        activity: &[],
        scenario_toml: None,
    })
}

/// Load per second from the harvester's interval records, for
/// [`ReportSources::activity`] at the end of a run.
pub fn activity_from_records(records: &[IntervalRecord]) -> Vec<ActivityRow> {
    activity::from_records(records)
}

/// The whole page.
pub fn render_sources(sources: &ReportSources<'_>) -> anyhow::Result<String> {
    let summary = sources.summary;
    let start = run_start(summary, sources.intervals);
    let data = LatencyData {
        series: series::by_tag(sources.intervals, start),
        intervals: sources.intervals,
        run_s: summary.duration_s,
    };

    let mut body = header(summary);
    if let Some(aborted) = &summary.aborted {
        let text = page::escape(&aborted.describe());
        body.push_str(&format!("<p class=\"banner\">{text}</p>\n"));
    }
    body.push_str(&tables::tiles(summary));
    body.push_str(&page::section(
        "Thresholds",
        &tables::threshold_table(summary),
    ));
    body.push_str(&load_section(sources, start)?);
    body.push_str(&endpoint_section(summary, &data)?);
    body.push_str(&measure_section(summary, &data)?);
    let configuration = tables::configuration(summary, sources.scenario_toml);
    body.push_str(&page::section("Configuration", &configuration));
    body.push_str(&footer());

    let title = format!("chatload: {} at {}", summary.scenario, summary.started_at);
    Ok(page::document(&title, &body))
}

fn header(summary: &Summary) -> String {
    format!(
        "<header>\n<h1>{}</h1>\n<p>against {} · started {} · {:.1} s · segment {}</p>\n\
         </header>\n",
        page::escape(&summary.scenario),
        page::escape(&summary.target),
        page::escape(&summary.started_at),
        summary.duration_s,
        page::escape(&summary.segment),
    )
}

fn load_section(sources: &ReportSources<'_>, start: SystemTime) -> anyhow::Result<String> {
    let endpoints: Vec<&str> = sources
        .summary
        .endpoints
        .keys()
        .map(String::as_str)
        .collect();
    let fallback = series::requests_per_second(sources.intervals, &endpoints, start);
    let run_s = sources.summary.duration_s;
    let mut html = figures::load_over_time(sources.activity, fallback, run_s)?;
    if sources.activity.is_empty() {
        html.push_str(&page::note(
            "timeline.csv was not available: requests per second are counted from \
             latency.hlog, and active clients, chats and errors over time are unknown.",
        ));
    }
    Ok(page::section("Load over time", &html))
}

fn endpoint_section(summary: &Summary, data: &LatencyData<'_>) -> anyhow::Result<String> {
    let rows = tables::endpoints_in_order(summary);
    let names: Vec<&str> = rows.iter().map(|(name, _)| *name).collect();

    let mut html = tables::endpoint_table(summary);
    html.push_str(&tables::error_table(summary));
    html.push_str(&page::note(
        "Response time runs from when a request was meant to start, service time from \
         when it was sent; a gap between them means requests started late.",
    ));
    html.push_str(&figures::latency_cards(&names, data, true)?);
    Ok(page::section("Endpoints", &html))
}

fn measure_section(summary: &Summary, data: &LatencyData<'_>) -> anyhow::Result<String> {
    let recorded = tables::measures_in_order(summary);
    let mut names: Vec<&str> = recorded.iter().map(|(name, _)| *name).collect();
    for measure in CHARTED_MEASURES {
        if !names.contains(&measure.name()) {
            names.push(measure.name());
        }
    }

    let mut html = if recorded.is_empty() {
        page::note("No chat-level measure was recorded.")
    } else {
        tables::measure_table(summary)
    };
    html.push_str(&figures::latency_cards(&names, data, false)?);
    Ok(page::section("Chat measures", &html))
}

fn footer() -> String {
    format!(
        "<p class=\"note\">Rendered by chatload {}. Latencies are HdrHistogram figures \
         to three significant digits.</p>\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The start that interval times count from: the summary's, to the
/// second, or else the earliest interval's.
fn run_start(summary: &Summary, intervals: &[IntervalHistogram]) -> SystemTime {
    humantime::parse_rfc3339(&summary.started_at)
        .ok()
        .or_else(|| intervals.iter().map(|i| i.start).min())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn read_summary(path: &Path) -> anyhow::Result<Summary> {
    let text = fs::read_to_string(path).with_context(|| {
        format!(
            "reading {}; is its directory the results of a run?",
            path.display()
        )
    })?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a chatload summary this version can read",
            path.display()
        )
    })
}

/// The timeline's rows, or none when it is missing or unreadable: the
/// page then says so, which beats failing the whole report over it.
fn read_activity(path: &Path) -> Vec<ActivityRow> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "timeline left out of the report");
            return Vec::new();
        }
    };
    activity::parse_timeline(&text).unwrap_or_else(|err| {
        tracing::warn!(path = %path.display(), "timeline left out of the report: {err:#}");
        Vec::new()
    })
}
