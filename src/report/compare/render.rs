//! A comparison on stdout: an aligned table for a terminal, Markdown for a
//! pull-request comment, or JSON for programs.

use std::io::{self, Write};

use serde::Serialize;

use super::rows::{CompareStat, Comparison, Judgement, Row};

/// The rule in one paragraph, printed under the tables so a reader of a
/// pull-request comment need not look it up.
const RULE: &str = "A regression is worse than the base by more than the tolerance and \
unlikely to be noise: percentiles whose 99 % confidence intervals (order statistics of the \
full distributions) do not overlap; rate and error rate tested at 1 % (Poisson, two \
proportions).";

/// Prints the aligned table and a verdict line.
pub fn text(comparison: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "scenario  {}", comparison.scenario)?;
    writeln!(out, "base      {}", comparison.base)?;
    writeln!(out, "current   {}", comparison.current)?;
    writeln!(out, "tolerance {}", comparison.tolerance.describe())?;
    writeln!(out)?;

    writeln!(
        out,
        "{:<20} {:<10} {:>12} {:>12} {:>9}  verdict",
        "name", "statistic", "base", "current", "change"
    )?;
    for row in &comparison.rows {
        writeln!(
            out,
            "{:<20} {:<10} {:>12} {:>12} {:>9}  {}",
            row.name,
            row.statistic.name(),
            value(row.statistic, row.base),
            value(row.statistic, row.current),
            change(row),
            label(row.judgement)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "{}", verdict_line(comparison))
}

/// Prints a Markdown section: a heading with the verdict, a table of the
/// regressions alone, the full table with ✅ and ❌ marks folded in a
/// `<details>` block, and the rule. A run has dozens of statistics; the
/// few that failed must not hide among them.
pub fn markdown(comparison: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let mark = if comparison.regressions().next().is_some() {
        "❌"
    } else {
        "✅"
    };
    writeln!(
        out,
        "### {mark} chatload compare: {}",
        verdict_line(comparison)
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Scenario `{}`; base `{}`, current `{}`; tolerance {}.",
        comparison.scenario,
        comparison.base,
        comparison.current,
        comparison.tolerance.describe()
    )?;
    writeln!(out)?;

    let regressions: Vec<&Row> = comparison.regressions().collect();
    if !regressions.is_empty() {
        writeln!(out, "#### Regressions")?;
        writeln!(out)?;
        markdown_table(&regressions, out)?;
        writeln!(out)?;
    }
    let all: Vec<&Row> = comparison.rows.iter().collect();
    writeln!(
        out,
        "<details><summary>All {} statistics</summary>",
        all.len()
    )?;
    writeln!(out)?;
    markdown_table(&all, out)?;
    writeln!(out)?;
    writeln!(out, "</details>")?;
    writeln!(out)?;
    writeln!(out, "{RULE}")
}

fn markdown_table(rows: &[&Row], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "| | name | statistic | base | current | change | verdict |"
    )?;
    writeln!(out, "|:-:|:--|:--|--:|--:|--:|:--|")?;
    for row in rows {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            emoji(row.judgement),
            row.name,
            row.statistic.name(),
            value(row.statistic, row.base),
            value(row.statistic, row.current),
            change(row),
            label(row.judgement)
        )?;
    }
    Ok(())
}

/// Prints the comparison as one JSON document, with its verdict.
pub fn json(comparison: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    #[derive(Serialize)]
    struct Document<'a> {
        verdict: &'static str,
        regressions: usize,
        #[serde(flatten)]
        comparison: &'a Comparison,
    }
    let regressions = comparison.regressions().count();
    let document = Document {
        verdict: if regressions > 0 { "failed" } else { "passed" },
        regressions,
        comparison,
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

/// `no regression` or `2 regressions: send_events p99, history rate`.
fn verdict_line(comparison: &Comparison) -> String {
    let found: Vec<String> = comparison
        .regressions()
        .map(|r| format!("{} {}", r.name, r.statistic.name()))
        .collect();
    match found.len() {
        0 => "no regression".to_owned(),
        1 => format!("1 regression: {}", found[0]),
        n => format!("{n} regressions: {}", found.join(", ")),
    }
}

fn value(stat: CompareStat, value: Option<f64>) -> String {
    let Some(v) = value else {
        return "-".to_owned();
    };
    match stat {
        CompareStat::P50 | CompareStat::P99 | CompareStat::P999 => format!("{v:.2} ms"),
        CompareStat::Rate => format!("{v:.1}/s"),
        CompareStat::ErrorRate => format!("{:.2} %", v * 100.0),
    }
}

fn change(row: &Row) -> String {
    match (row.change, row.base, row.current) {
        (Some(c), _, _) => format!("{:+.1} %", c * 100.0),
        (None, Some(b), Some(c)) if b == 0.0 && c > 0.0 => "new".to_owned(),
        (None, Some(_), Some(_)) => "0.0 %".to_owned(),
        _ => "-".to_owned(),
    }
}

fn label(judgement: Judgement) -> &'static str {
    match judgement {
        Judgement::Ok => "ok",
        Judgement::Noise => "within noise",
        Judgement::Regression => "REGRESSION",
        Judgement::Missing => "n/a",
    }
}

fn emoji(judgement: Judgement) -> &'static str {
    match judgement {
        Judgement::Ok | Judgement::Noise => "✅",
        Judgement::Regression => "❌",
        Judgement::Missing => "➖",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::compare::tolerance::Tolerance;

    fn comparison(judgement: Judgement) -> Comparison {
        let row = Row {
            name: "send_events".into(),
            statistic: CompareStat::P99,
            base: Some(10.0),
            current: Some(15.0),
            change: Some(0.5),
            judgement,
        };
        let rate = Row {
            name: "send_events".into(),
            statistic: CompareStat::ErrorRate,
            base: Some(0.0),
            current: Some(0.01),
            change: None,
            judgement: Judgement::Noise,
        };
        Comparison {
            scenario: "bench".into(),
            base: "a".into(),
            current: "b".into(),
            tolerance: Tolerance::default(),
            rows: vec![row, rate],
        }
    }

    fn rendered(f: fn(&Comparison, &mut dyn Write) -> io::Result<()>, c: &Comparison) -> String {
        let mut out = Vec::new();
        f(c, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_aligns_columns_and_ends_with_the_verdict() {
        let text = rendered(text, &comparison(Judgement::Regression));
        let lines: Vec<&str> = text.lines().collect();
        let head = lines.iter().position(|l| l.starts_with("name")).unwrap();
        assert_eq!(
            lines[head].find("verdict"),
            lines[head + 1].find("REGRESSION")
        );
        assert!(lines[head + 1].contains("10.00 ms") && lines[head + 1].contains("+50.0 %"));
        assert!(lines[head + 2].contains("new") && lines[head + 2].contains("within noise"));
        assert_eq!(lines.last(), Some(&"1 regression: send_events p99"));
    }

    #[test]
    fn markdown_marks_rows_and_heads_with_the_verdict() {
        let md = rendered(markdown, &comparison(Judgement::Regression));
        assert!(
            md.starts_with("### ❌ chatload compare: 1 regression"),
            "{md}"
        );
        assert!(md.contains("| ❌ | send_events | p99 | 10.00 ms | 15.00 ms | +50.0 % |"));
        assert!(md.contains("| ✅ | send_events | error_rate |"), "{md}");

        let md = rendered(markdown, &comparison(Judgement::Ok));
        assert!(
            md.starts_with("### ✅ chatload compare: no regression"),
            "{md}"
        );
        assert!(!md.contains("#### Regressions"), "{md}");
    }

    #[test]
    fn markdown_lists_the_regressions_first_and_folds_the_full_table() {
        let md = rendered(markdown, &comparison(Judgement::Regression));
        let regressions = md.find("#### Regressions").expect("a regressions table");
        let details = md
            .find("<details><summary>All 2 statistics</summary>")
            .unwrap();
        assert!(regressions < details, "{md}");

        let short = &md[regressions..details];
        assert_eq!(short.matches("| ❌ |").count(), 1, "{md}");
        assert!(!short.contains("error_rate"), "only regressions: {md}");
        let full = &md[details..md.find("</details>").unwrap()];
        assert_eq!(full.matches("| send_events |").count(), 2, "{md}");
        // GitHub renders a table inside <details> only after a blank line.
        assert!(full.contains("</summary>\n\n| |"), "{md}");
    }

    #[test]
    fn json_carries_the_verdict_and_rows() {
        let text = rendered(json, &comparison(Judgement::Regression));
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["verdict"], "failed");
        assert_eq!(doc["regressions"], 1);
        assert_eq!(doc["rows"][0]["statistic"], "p99");
        assert_eq!(doc["rows"][0]["judgement"], "regression");
        assert_eq!(doc["tolerance"]["default"], 0.1);
    }
}
