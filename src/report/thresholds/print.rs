//! Threshold verdicts under the terminal table: one line each, with the
//! observed value in the unit the threshold was written in.

use std::io::{self, Write};

use crate::report::summary::ThresholdResult;

use super::limit::split_number;

/// Prints `thresholds:` and one line per verdict; nothing when there are
/// none. Works from the results alone, so a re-read summary.json prints
/// the same as the run did.
pub fn print_thresholds(results: &[ThresholdResult], out: &mut dyn Write) -> io::Result<()> {
    if results.is_empty() {
        return Ok(());
    }
    let width = results.iter().map(|r| r.name.len()).max().unwrap_or(0);

    writeln!(out)?;
    writeln!(out, "thresholds:")?;
    for result in results {
        let mark = if result.passed { "pass" } else { "FAIL" };
        let name = &result.name;
        writeln!(out, "  {mark}  {name:<width$}  {}", observed(result))?;
    }

    let failed = results.iter().filter(|r| !r.passed).count();
    if failed > 0 {
        writeln!(out, "{failed} of {} thresholds failed", results.len())?;
    }
    Ok(())
}

fn observed(result: &ThresholdResult) -> String {
    match (result.observed, &result.note) {
        (Some(value), _) => format!("observed {value}{}", observed_unit(result)),
        (None, Some(note)) => format!("not observed: {note}"),
        (None, None) => "not observed".to_owned(),
    }
}

/// The suffix to print after the observed value: `ms`, `%`, `/s`, or
/// nothing for a count or fraction. From the recorded unit, or for a
/// summary written before units were recorded, from the threshold's name.
pub fn observed_unit(result: &ThresholdResult) -> &str {
    match result.unit.as_str() {
        "" => unit_of(&result.name),
        "count" | "fraction" => "",
        "min" => "m",
        unit => unit,
    }
}

/// The unit suffix of the limit at the end of a threshold's name, such as
/// `ms` in `request_chat.p99 < 800ms`: the observed value is in it.
fn unit_of(name: &str) -> &str {
    let limit = name.rsplit([' ', '<', '>', '=']).next().unwrap_or_default();
    split_number(limit).1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, passed: bool, observed: Option<f64>) -> ThresholdResult {
        ThresholdResult {
            name: name.to_owned(),
            passed,
            observed,
            unit: String::new(),
            note: observed
                .is_none()
                .then(|| "history was never called".to_owned()),
        }
    }

    fn printed(results: &[ThresholdResult]) -> String {
        let mut out = Vec::new();
        print_thresholds(results, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn verdicts_print_with_the_observed_value_in_the_written_unit() {
        let text = printed(&[
            result("request_chat.p99 < 800ms", true, Some(3.5)),
            result("errors.rate < 1%", false, Some(2.5)),
            result("history.p99 < 1s", false, None),
            result("dropped < 1", true, Some(0.0)),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], "thresholds:");
        assert_eq!(lines[2], "  pass  request_chat.p99 < 800ms  observed 3.5ms");
        assert_eq!(lines[3], "  FAIL  errors.rate < 1%          observed 2.5%");
        assert!(lines[4].ends_with("not observed: history was never called"));
        assert!(lines[5].ends_with("observed 0"), "{text}");
        assert_eq!(lines[6], "2 of 4 thresholds failed");
    }

    #[test]
    fn no_thresholds_print_nothing() {
        assert_eq!(printed(&[]), "");
    }
}
