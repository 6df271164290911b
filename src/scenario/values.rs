//! The small value languages inside scenario strings: durations ("250ms"),
//! ranges ("2s..8s", "3..8") and sizes ("64KiB"). Each parser returns a
//! message naming the bad text and the expected form; the caller adds the
//! key and the position.

use std::time::Duration;

use super::model::{CountRange, DurationRange};

/// Parses a duration such as "250ms", "2s", "1m 30s"; zero is allowed
/// here and rejected by callers that need a positive value.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|_| {
        format!("expected a duration such as \"250ms\", \"2s\" or \"1m\", found \"{text}\"")
    })
}

/// Parses "a..b" or a single duration into an ordered range.
pub(crate) fn duration_range(text: &str) -> Result<DurationRange, String> {
    let (min, max) = match text.split_once("..") {
        Some((a, b)) => (duration(a)?, duration(b)?),
        None => {
            let d = duration(text)?;
            (d, d)
        }
    };
    if min > max {
        return Err(format!(
            "the range \"{text}\" starts above its end; write the smaller value first"
        ));
    }
    Ok(DurationRange { min, max })
}

/// Parses "a..b" or a single whole number into an ordered range.
pub(crate) fn count_range(text: &str) -> Result<CountRange, String> {
    let count = |s: &str| {
        s.trim().parse::<u64>().map_err(|_| {
            format!("expected a whole number or a range such as \"3..8\", found \"{text}\"")
        })
    };
    let (min, max) = match text.split_once("..") {
        Some((a, b)) => (count(a)?, count(b)?),
        None => {
            let n = count(text)?;
            (n, n)
        }
    };
    if min > max {
        return Err(format!(
            "the range \"{text}\" starts above its end; write the smaller value first"
        ));
    }
    Ok(CountRange { min, max })
}

/// Parses a byte size: a whole number with an optional unit, decimal
/// ("KB", "MB", "GB") or binary ("KiB", "MiB", "GiB"), any letter case.
pub(crate) fn size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits_end);

    let bad = || format!("expected a size such as \"64KiB\", \"1MB\" or 4096, found \"{text}\"");
    let number: u64 = number.parse().map_err(|_| bad())?;
    let multiplier = unit_multiplier(unit.trim()).ok_or_else(bad)?;
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("the size \"{text}\" is too large"))
}

fn unit_multiplier(unit: &str) -> Option<u64> {
    let multiplier = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "kib" => 1 << 10,
        "mb" => 1_000_000,
        "mib" => 1 << 20,
        "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    Some(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_in_several_units() {
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert!(duration("-1s").unwrap_err().contains("\"-1s\""));
        assert!(duration("30").is_err());
    }

    #[test]
    fn reads_duration_ranges_and_single_values() {
        let r = duration_range("2s..8s").unwrap();
        assert_eq!(
            (r.min, r.max),
            (Duration::from_secs(2), Duration::from_secs(8))
        );
        assert_eq!(
            duration_range("1s"),
            Ok(DurationRange::fixed(Duration::from_secs(1)))
        );
        assert!(
            duration_range("8s..2s")
                .unwrap_err()
                .contains("smaller value first")
        );
    }

    #[test]
    fn reads_count_ranges() {
        assert_eq!(count_range("3..8"), Ok(CountRange { min: 3, max: 8 }));
        assert_eq!(count_range(" 5 "), Ok(CountRange::fixed(5)));
        assert!(count_range("8..3").is_err());
        assert!(count_range("-1..3").is_err());
    }

    #[test]
    fn reads_decimal_and_binary_sizes() {
        assert_eq!(size("64KiB"), Ok(65_536));
        assert_eq!(size("1MB"), Ok(1_000_000));
        assert_eq!(size("2 mib"), Ok(2 << 20));
        assert_eq!(size("512"), Ok(512));
        assert!(size("12 parsecs").unwrap_err().contains("\"12 parsecs\""));
        assert!(size("99999999999999GiB").unwrap_err().contains("too large"));
    }
}
