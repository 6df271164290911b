//! The results directory of a run, `results/<UTC time>-<scenario>/`, and
//! the files written into it. Each file appears whole or not at all: it is
//! written under a temporary name in the same directory, then renamed.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;

use crate::metrics::RunData;
use crate::metrics::hlog::write_hlog;

use super::run_info::RunInfo;
use super::summary::{Summary, utc_seconds};
use super::timeline::render_timeline;

/// The summary's file name.
pub const SUMMARY_FILE: &str = "summary.json";
/// The interval log's file name.
pub const HLOG_FILE: &str = "latency.hlog";
/// The timeline's file name.
pub const TIMELINE_FILE: &str = "timeline.csv";
/// The resolved scenario's file name.
pub const SCENARIO_FILE: &str = "scenario.toml";

/// `<root>/<UTC time>-<scenario>`, such as
/// `results/20261203T180000Z-quickstart`. Characters of the scenario name
/// that are unsafe in a file name become `-`.
pub fn default_dir(root: &Path, started_at: SystemTime, scenario: &str) -> PathBuf {
    let stamp: String = utc_seconds(started_at)
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let name: String = scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    root.join(format!("{stamp}-{name}"))
}

/// Creates `dir` and its parents for a new run's results. An existing empty
/// directory is accepted; one with anything in it is refused, so that no
/// earlier run is ever overwritten. The engine may call it before the run
/// to fail early.
pub fn create_results_dir(dir: &Path) -> anyhow::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("creating results root {}", parent.display()))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists && is_empty_dir(dir) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => anyhow::bail!(
            "results directory {} already exists and is not empty; pass another --out or \
             move it away",
            dir.display()
        ),
        Err(err) => {
            Err(err).with_context(|| format!("creating results directory {}", dir.display()))
        }
    }
}

/// Creates `dir` for a run about to start, and only if it does not exist
/// yet, even empty: of two runs that chose the same name in the same
/// second, the second is refused (a usage error) instead of writing over
/// the first's files when both finish.
pub fn claim_results_dir(dir: &Path) -> anyhow::Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .with_context(|| format!("creating results root {}", parent.display()))?;
    }
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Err(crate::exit::usage(format!(
            "results directory {} was made by another run meanwhile; results are never \
                 overwritten, run again or pass --out with a new directory",
            dir.display()
        ))),
        Err(err) => {
            Err(err).with_context(|| format!("creating results directory {}", dir.display()))
        }
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// Creates `dir` (see [`create_results_dir`]) and writes summary.json,
/// latency.hlog, timeline.csv and scenario.toml into it.
pub fn write_results(
    dir: &Path,
    info: &RunInfo,
    data: &RunData,
    summary: &Summary,
) -> anyhow::Result<()> {
    create_results_dir(dir)?;

    let mut json = serde_json::to_vec_pretty(summary).context("encoding summary.json")?;
    json.push(b'\n');
    write_atomically(&dir.join(SUMMARY_FILE), |out| out.write_all(&json))?;

    write_atomically(&dir.join(HLOG_FILE), |out| {
        write_hlog(out, data.started_at, &data.hlog)
    })?;
    let timeline = render_timeline(data);
    write_atomically(&dir.join(TIMELINE_FILE), |out| {
        out.write_all(timeline.as_bytes())
    })?;
    write_atomically(&dir.join(SCENARIO_FILE), |out| {
        out.write_all(info.scenario_toml.as_bytes())
    })?;

    tracing::info!(dir = %dir.display(), "results written");
    Ok(())
}

/// Writes `path` through a temporary file beside it, synced before the
/// rename so that a crash leaves the old state or the new, never half.
pub(crate) fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>,
) -> anyhow::Result<()> {
    let temp = temp_path(path);
    let result = write_temp(&temp, fill).and_then(|()| fs::rename(&temp, path));
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.with_context(|| format!("writing {}", path.display()))
}

fn write_temp(
    temp: &Path,
    fill: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = io::BufWriter::new(File::create_new(temp)?);
    fill(&mut out)?;
    let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn default_dir_names_the_utc_second_and_the_scenario() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_320_800);
        let dir = default_dir(Path::new("results"), at, "quickstart");
        assert_eq!(dir, Path::new("results/20261203T180000Z-quickstart"));
    }

    #[test]
    fn default_dir_makes_the_scenario_name_safe() {
        let dir = default_dir(Path::new("r"), SystemTime::UNIX_EPOCH, "ramp to/5k");
        assert_eq!(dir, Path::new("r/19700101T000000Z-ramp-to-5k"));
    }
}
