//! The live progress line on stderr. It is hidden with `--quiet` or when
//! stderr is not a terminal, so logs and pipes never fill with redraws.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::metrics::LiveStats;

/// A redraw rate low enough to cost nothing beside the load itself.
const REFRESH_HZ: u8 = 4;

/// The progress display of a run.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    planned: Duration,
}

impl Progress {
    /// A display for a run planned to last `planned`; hidden when `quiet`
    /// or when stderr is not a terminal.
    pub fn new(quiet: bool, planned: Duration) -> Progress {
        let bar = if quiet || !std::io::stderr().is_terminal() {
            ProgressBar::hidden()
        } else {
            visible_bar(planned)
        };
        Progress { bar, planned }
    }

    /// Shows the latest figures under `stage`, such as `ramp-up` or `drain`.
    pub fn update(&self, stage: &str, live: &LiveStats) {
        self.bar
            .set_position(live.elapsed.as_secs().min(self.planned.as_secs()));
        self.bar
            .set_message(progress_line(stage, live, self.planned));
    }

    /// Removes the line, so that the report starts on a clean terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn visible_bar(planned: Duration) -> ProgressBar {
    let target = ProgressDrawTarget::stderr_with_hz(REFRESH_HZ);
    let bar = ProgressBar::with_draw_target(Some(planned.as_secs().max(1)), target);
    // The template is a constant known to parse; the fallback only keeps a
    // broken one from stopping a run.
    let style = ProgressStyle::with_template("[{bar:20}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// The text of the progress line.
pub fn progress_line(stage: &str, live: &LiveStats, planned: Duration) -> String {
    let elapsed = live.elapsed.as_secs();
    let remaining = planned.as_secs().saturating_sub(elapsed);
    let busiest: Vec<String> = live
        .busiest
        .iter()
        .map(|(e, p99)| format!("{e} {}", ms_text(*p99)))
        .collect();

    let mut line = format!(
        "{stage} {elapsed}s/{remaining}s left | clients {} chats {} | {:.0} req/s | \
         errors {} ({:.0}/s) | chats {}/{}/{} started/completed/failed",
        live.active_clients,
        live.active_chats,
        live.requests_per_s,
        live.errors,
        live.errors_per_s,
        live.chats_started,
        live.chats_completed,
        live.chats_failed,
    );
    if !busiest.is_empty() {
        line.push_str(" | p99 ");
        line.push_str(&busiest.join(", "));
    }
    line
}

/// Milliseconds with the digits that matter at their size: `0.42ms`,
/// `12.5ms`, `840ms`; a fast endpoint would otherwise read `0ms`.
fn ms_text(ms: f64) -> String {
    match ms {
        ms if ms < 10.0 => format!("{ms:.2}ms"),
        ms if ms < 100.0 => format!("{ms:.1}ms"),
        ms => format!("{ms:.0}ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Endpoint;

    #[test]
    fn the_line_shows_stage_time_load_and_busiest_p99() {
        let live = LiveStats {
            elapsed: Duration::from_secs(12),
            active_clients: 200,
            active_chats: 180,
            requests_per_s: 950.4,
            errors: 3,
            busiest: vec![
                (Endpoint::RequestChat, 120.4),
                (Endpoint::SendEvents, 0.414),
            ],
            chats_started: 300,
            ..LiveStats::default()
        };

        let line = progress_line("steady", &live, Duration::from_secs(30));
        assert!(line.starts_with("steady 12s/18s left"), "{line}");
        assert!(line.contains("clients 200 chats 180"), "{line}");
        assert!(line.contains("950 req/s"), "{line}");
        assert!(
            line.contains("request_chat 120ms, send_events 0.41ms"),
            "{line}"
        );
    }

    #[test]
    fn a_quiet_display_is_hidden() {
        let progress = Progress::new(true, Duration::from_secs(5));
        assert!(progress.bar.is_hidden());
        progress.update("steady", &LiveStats::default());
        progress.finish();
    }
}
