//! `--max-regression`: how much worse a statistic may get before the
//! noise test is asked at all. One default for every statistic, and an
//! override per statistic name. `--min-change` adds a floor in
//! milliseconds for percentiles, since a relative change of a value near
//! zero (0.001 ms to 1.4 ms) is huge and says nothing.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exit::usage;
use crate::scenario::suggest;

use super::rows::CompareStat;

/// The tolerance when none is given: 10 %.
pub const DEFAULT: f64 = 0.10;

/// Tolerances as shares of the base value (0.1 for 10 %).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tolerance {
    /// For statistics without their own.
    pub default: f64,
    /// Per statistic name.
    pub overrides: BTreeMap<&'static str, f64>,
    /// A percentile that rose by less than this many milliseconds is never
    /// a regression, however large the rise relative to its base.
    pub min_change_ms: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            default: DEFAULT,
            overrides: BTreeMap::new(),
            min_change_ms: 1.0,
        }
    }
}

impl Tolerance {
    /// Reads `--max-regression` values: `15%` sets the default, `p99=20%`
    /// one statistic's. None given means 10 % for all.
    pub fn parse(specs: &[String]) -> anyhow::Result<Tolerance> {
        let mut tolerance = Tolerance::default();
        let mut default_given = false;
        for spec in specs {
            match spec.split_once('=') {
                Some((name, value)) => {
                    let stat = statistic(spec, name.trim())?;
                    tolerance
                        .overrides
                        .insert(stat.name(), percent(spec, value)?);
                }
                None if default_given => {
                    return Err(usage(format!(
                        "--max-regression \"{spec}\": the default tolerance is given twice; \
                         keep one, and name a statistic for the others, as in p99=20%"
                    )));
                }
                None => {
                    tolerance.default = percent(spec, spec)?;
                    default_given = true;
                }
            }
        }
        Ok(tolerance)
    }

    /// Sets the latency floor from `--min-change`, such as `1ms` or `500us`.
    pub fn with_min_change(mut self, text: &str) -> anyhow::Result<Tolerance> {
        let floor = humantime::parse_duration(text.trim()).map_err(|err| {
            usage(format!(
                "--min-change \"{text}\": {err}; write a duration such as 1ms, 500us or 0s"
            ))
        })?;
        self.min_change_ms = floor.as_secs_f64() * 1000.0;
        Ok(self)
    }

    /// The tolerance of `stat`.
    pub fn of(&self, stat: CompareStat) -> f64 {
        self.overrides
            .get(stat.name())
            .copied()
            .unwrap_or(self.default)
    }

    /// `10 %, latency at least 1 ms` or `10 %; p99 20 %, latency at least
    /// 1 ms`, for report headers.
    pub fn describe(&self) -> String {
        let mut text = format!("{} %", self.default * 100.0);
        for (name, value) in &self.overrides {
            text.push_str(&format!("; {name} {} %", value * 100.0));
        }
        if self.min_change_ms > 0.0 {
            text.push_str(&format!(", latency at least {} ms", self.min_change_ms));
        }
        text
    }
}

fn statistic(spec: &str, name: &str) -> anyhow::Result<CompareStat> {
    CompareStat::from_name(name).ok_or_else(|| {
        let names = CompareStat::ALL.map(CompareStat::name);
        let hint = suggest::hint(name, &names);
        usage(format!(
            "--max-regression \"{spec}\": unknown statistic \"{name}\"{hint}"
        ))
    })
}

fn percent(spec: &str, value: &str) -> anyhow::Result<f64> {
    let number = value.trim().strip_suffix('%').map(str::trim);
    let share = number
        .and_then(|n| n.parse::<f64>().ok())
        .filter(|p| p.is_finite() && *p >= 0.0)
        .map(|p| p / 100.0);
    share.ok_or_else(|| {
        usage(format!(
            "--max-regression \"{spec}\": \"{value}\" is not a percentage; write one such as \
             10% or p99=20%"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::is_usage;

    fn parsed(specs: &[&str]) -> anyhow::Result<Tolerance> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        Tolerance::parse(&specs)
    }

    #[test]
    fn no_flag_means_ten_percent_everywhere() {
        let t = parsed(&[]).unwrap();
        assert_eq!(t.of(CompareStat::P99), 0.1);
        assert_eq!(t.describe(), "10 %, latency at least 1 ms");
    }

    #[test]
    fn a_default_and_overrides_combine() {
        let t = parsed(&["p99=20%", "5%", "error_rate = 50 %"]).unwrap();
        assert_eq!(t.of(CompareStat::P50), 0.05);
        assert_eq!(t.of(CompareStat::P99), 0.2);
        assert_eq!(t.of(CompareStat::ErrorRate), 0.5);
        assert_eq!(
            t.describe(),
            "5 %; error_rate 50 %; p99 20 %, latency at least 1 ms"
        );

        let t = t.with_min_change("250us").unwrap();
        assert_eq!(t.min_change_ms, 0.25);
        assert!(t.describe().ends_with("at least 0.25 ms"));
        let t = t.with_min_change("0s").unwrap();
        assert_eq!(t.describe(), "5 %; error_rate 50 %; p99 20 %");
        let err = parsed(&[]).unwrap().with_min_change("1").unwrap_err();
        assert!(is_usage(&err) && err.to_string().contains("--min-change"));
    }

    #[test]
    fn bad_values_are_usage_errors_with_advice() {
        for (spec, expected) in [
            (&["10"][..], "not a percentage"),
            (&["p98=10%"], "did you mean \"p99\""),
            (&["10%", "20%"], "given twice"),
            (&["p99=-5%"], "not a percentage"),
        ] {
            let err = parsed(spec).unwrap_err();
            assert!(is_usage(&err), "{err:#}");
            assert!(err.to_string().contains(expected), "{spec:?}: {err}");
        }
    }
}
