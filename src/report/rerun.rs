//! `chatload report DIR`: the terminal summary of a finished run, printed
//! again from its summary.json, with the threshold verdicts it recorded.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use crate::cli::ReportArgs;
use crate::exit::{Verdict, usage};

use super::results_dir::SUMMARY_FILE;
use super::summary::{SCHEMA, Summary};
use super::thresholds::{print_thresholds, verdict};
use super::{print_json, print_table};

/// Runs `chatload report`: prints the table and thresholds (or the JSON)
/// from DIR/summary.json. The verdict is the recorded thresholds', so a
/// CI step that only has the results directory still gets exit code 1.
pub fn report_command(args: ReportArgs) -> anyhow::Result<Verdict> {
    let summary = read_summary(&args.dir)?;

    let page = crate::report::html::write_report(&args.dir)?;
    eprintln!("report: {}", page.display());

    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.json {
        print_json(&summary, &mut out)?;
    } else {
        print_table(&summary, &mut out)?;
        print_thresholds(&summary.thresholds, &mut out)?;
    }
    out.flush()?;
    Ok(verdict(&summary.thresholds))
}

/// Reads `dir/summary.json`. A missing directory or file, or one that is
/// not a summary of this layout, is a usage error naming it.
pub fn read_summary(dir: &Path) -> anyhow::Result<Summary> {
    if !dir.is_dir() {
        return Err(usage(format!(
            "{} is not a results directory; pass the directory a run wrote, such as \
             results/20261203T180000Z-quickstart",
            dir.display()
        )));
    }
    let path = dir.join(SUMMARY_FILE);
    let text = fs::read_to_string(&path)
        .map_err(|e| usage(format!("{}: cannot read the summary: {e}", path.display())))?;

    let summary: Summary = serde_json::from_str(&text)
        .map_err(|e| usage(format!("{}: not a chatload summary: {e}", path.display())))?;
    if summary.schema != SCHEMA {
        return Err(usage(format!(
            "{}: summary layout {} is not the {SCHEMA} this chatload reads; use the chatload \
             version that wrote it",
            path.display(),
            summary.schema
        )));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::is_usage;
    use crate::report::{summarize, test_data};

    #[test]
    fn a_missing_directory_or_summary_is_a_usage_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        let err = read_summary(&gone).unwrap_err();
        assert!(
            is_usage(&err) && err.to_string().contains("gone"),
            "{err:#}"
        );

        let err = read_summary(dir.path()).unwrap_err();
        assert!(
            is_usage(&err) && err.to_string().contains("summary.json"),
            "{err:#}"
        );

        fs::write(dir.path().join(SUMMARY_FILE), "{\"schema\": 1}").unwrap();
        let err = read_summary(dir.path()).unwrap_err();
        assert!(is_usage(&err) && err.to_string().contains("not a chatload summary"));
    }

    #[test]
    fn a_written_summary_reads_back_whole() {
        let (info, data) = test_data::run();
        let summary = summarize(&info, &data);
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(SUMMARY_FILE),
            serde_json::to_vec(&summary).unwrap(),
        )
        .unwrap();
        assert_eq!(read_summary(dir.path()).unwrap(), summary);
    }
}
