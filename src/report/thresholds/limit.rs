//! The condition half of a threshold, such as `< 800ms`: a comparison
//! and a limit whose unit must suit the statistic. The unit as written is
//! kept, so the observed value can be reported in the same unit.

use std::fmt;

use super::metric::Quantity;

/// A comparison between the observed value and the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    /// True if and only if `observed` stands in this relation to `limit`.
    pub fn holds(self, observed: f64, limit: f64) -> bool {
        match self {
            Op::Lt => observed < limit,
            Op::Le => observed <= limit,
            Op::Gt => observed > limit,
            Op::Ge => observed >= limit,
        }
    }

    /// True for `>` and `>=`, which more events can turn from failing to
    /// holding.
    pub fn is_lower_bound(self) -> bool {
        matches!(self, Op::Gt | Op::Ge)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

/// The unit a limit was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// `us` or `µs`.
    Micros,
    /// `ms`.
    Millis,
    /// `s`.
    Seconds,
    /// `m` or `min`.
    Minutes,
    /// `%`.
    Percent,
    /// A share written as a plain number from 0 to 1.
    Fraction,
    /// `/s`, or a plain number for a rate.
    PerSecond,
    /// A plain number of events.
    Plain,
}

impl Unit {
    /// Milliseconds per unit for times, 0.01 for percent, 1 otherwise: the
    /// factor from this unit to the statistic's canonical one.
    fn scale(self) -> f64 {
        match self {
            Unit::Micros => 0.001,
            Unit::Seconds => 1000.0,
            Unit::Minutes => 60_000.0,
            Unit::Percent => 0.01,
            Unit::Millis | Unit::Fraction | Unit::PerSecond | Unit::Plain => 1.0,
        }
    }

    /// A canonical value (milliseconds, share, per second, count) in this
    /// unit.
    pub fn from_canonical(self, value: f64) -> f64 {
        value / self.scale()
    }

    /// The unit's name in summary.json: the suffix as written, with `min`
    /// for minutes and `count` and `fraction` for the plain numbers.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Minutes => "min",
            Unit::Fraction => "fraction",
            Unit::Plain => "count",
            unit => unit.suffix(),
        }
    }

    /// The suffix printed after a value in this unit.
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Micros => "us",
            Unit::Millis => "ms",
            Unit::Seconds => "s",
            Unit::Minutes => "m",
            Unit::Percent => "%",
            Unit::PerSecond => "/s",
            Unit::Fraction | Unit::Plain => "",
        }
    }
}

/// The limit of a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// The value in the statistic's canonical unit: milliseconds, a share
    /// from 0 to 1, per second or a count.
    pub value: f64,
    /// The unit it was written in.
    pub unit: Unit,
}

/// Splits `< 800ms` into its comparison and the rest, trimmed. `None` when
/// it does not start with a comparison.
pub fn split_op(condition: &str) -> Option<(Op, &str)> {
    let condition = condition.trim_start();
    let (op, len) = if condition.starts_with("<=") {
        (Op::Le, 2)
    } else if condition.starts_with(">=") {
        (Op::Ge, 2)
    } else if condition.starts_with('<') {
        (Op::Lt, 1)
    } else if condition.starts_with('>') {
        (Op::Gt, 1)
    } else {
        return None;
    };
    Some((op, condition[len..].trim()))
}

/// Splits `800ms` into the number and its unit suffix, trimmed.
pub fn split_number(text: &str) -> (&str, &str) {
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    (&text[..end], text[end..].trim())
}

/// Reads a limit such as `800ms`, `1%` or `25` for a statistic of
/// `quantity`. The error says what to write instead.
pub fn parse_limit(text: &str, quantity: Quantity) -> Result<Limit, String> {
    let (number, suffix) = split_number(text);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("\"{text}\" is not a number with a unit, such as 800ms or 1%"))?;

    let unit = unit_for(suffix, quantity)?;
    if unit == Unit::Fraction && value > 1.0 {
        return Err(format!(
            "\"{text}\" is more than 1 as a share; write {text}% for a percentage"
        ));
    }
    Ok(Limit {
        value: value * unit.scale(),
        unit,
    })
}

fn unit_for(suffix: &str, quantity: Quantity) -> Result<Unit, String> {
    let unit = match (quantity, suffix) {
        (Quantity::Time, "us" | "µs") => Unit::Micros,
        (Quantity::Time, "ms") => Unit::Millis,
        (Quantity::Time, "s") => Unit::Seconds,
        (Quantity::Time, "m" | "min") => Unit::Minutes,
        (Quantity::Fraction, "%") => Unit::Percent,
        (Quantity::Fraction, "") => Unit::Fraction,
        (Quantity::PerSecond, "" | "/s") => Unit::PerSecond,
        (Quantity::Count, "") => Unit::Plain,
        (Quantity::Time, _) => return Err(wrong_unit(suffix, "a time: write us, ms, s or m")),
        (Quantity::Fraction, _) => {
            return Err(wrong_unit(suffix, "a share: write 1% or 0.01"));
        }
        (Quantity::PerSecond, _) => {
            return Err(wrong_unit(suffix, "a rate: write 50 or 50/s"));
        }
        (Quantity::Count, _) => return Err(wrong_unit(suffix, "a count: write a plain number")),
    };
    Ok(unit)
}

fn wrong_unit(suffix: &str, advice: &str) -> String {
    if suffix.is_empty() {
        format!("the limit needs a unit, since this statistic is {advice}")
    } else {
        format!("unit \"{suffix}\" does not fit, since this statistic is {advice}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(text: &str, quantity: Quantity) -> Limit {
        parse_limit(text, quantity).unwrap()
    }

    #[test]
    fn every_comparison_is_read() {
        assert_eq!(split_op("< 800ms"), Some((Op::Lt, "800ms")));
        assert_eq!(split_op("<=800ms"), Some((Op::Le, "800ms")));
        assert_eq!(split_op(" > 5 "), Some((Op::Gt, "5")));
        assert_eq!(split_op(">= 5"), Some((Op::Ge, "5")));
        assert_eq!(split_op("= 5"), None);
        assert_eq!(split_op("800ms"), None);
    }

    #[test]
    fn comparisons_hold_as_written() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && !Op::Le.holds(2.1, 2.0));
        assert!(Op::Gt.holds(3.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
        assert!(Op::Ge.holds(2.0, 2.0) && !Op::Ge.holds(1.9, 2.0));
    }

    #[test]
    fn times_become_milliseconds_in_every_unit() {
        assert_eq!(limit("250us", Quantity::Time).value, 0.25);
        assert_eq!(limit("250µs", Quantity::Time).value, 0.25);
        assert_eq!(limit("800ms", Quantity::Time).value, 800.0);
        assert_eq!(limit("1.5s", Quantity::Time).value, 1500.0);
        assert_eq!(limit("2m", Quantity::Time).value, 120_000.0);
        assert_eq!(limit("2 min", Quantity::Time).unit, Unit::Minutes);
    }

    #[test]
    fn shares_rates_and_counts_take_their_own_units() {
        assert_eq!(limit("1%", Quantity::Fraction).value, 0.01);
        assert_eq!(limit("0.05", Quantity::Fraction).unit, Unit::Fraction);
        assert_eq!(limit("50/s", Quantity::PerSecond).value, 50.0);
        assert_eq!(limit("50", Quantity::PerSecond).unit, Unit::PerSecond);
        assert_eq!(limit("10", Quantity::Count).value, 10.0);
    }

    #[test]
    fn units_that_do_not_fit_are_refused_with_advice() {
        let err = parse_limit("800", Quantity::Time).unwrap_err();
        assert!(err.contains("needs a unit") && err.contains("ms"), "{err}");
        let err = parse_limit("5%", Quantity::Time).unwrap_err();
        assert!(err.contains("\"%\""), "{err}");
        let err = parse_limit("5", Quantity::Fraction).unwrap_err();
        assert!(err.contains("5%"), "{err}");
        assert!(parse_limit("10ms", Quantity::Count).is_err());
        assert!(parse_limit("fast", Quantity::Time).is_err());
        assert!(parse_limit("", Quantity::Count).is_err());
    }

    #[test]
    fn observed_values_convert_back_to_the_written_unit() {
        assert_eq!(Unit::Seconds.from_canonical(1500.0), 1.5);
        assert_eq!(Unit::Percent.from_canonical(0.25), 25.0);
        assert_eq!(Unit::Micros.from_canonical(0.5), 500.0);
    }
}
