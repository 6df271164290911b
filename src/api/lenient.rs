//! Field types that accept every spelling seen in the wild.
//!
//! Documentation, SDKs and captured payloads disagree on whether numbers are
//! strings, whether booleans are quoted and whether timestamps count seconds
//! or milliseconds. Each type here reads all of those forms and writes the
//! one real servers send, so the mock looks like a server and the client
//! copes with any of them.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A whole number of seconds, such as `ewt`: read from `"3"`, `3` or `3.0`,
/// written as the string `"3"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Seconds(pub u64);

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = d.deserialize_any(NumberVisitor)?;
        if value < 0.0 || !value.is_finite() {
            return Err(de::Error::custom(format!(
                "seconds must be >= 0, got {value}"
            )));
        }
        Ok(Seconds(value as u64))
    }
}

/// A point in time from a `timestamp` field, kept in milliseconds since the
/// Unix epoch.
///
/// Read from a string or a number; a value above 10^12 is taken as
/// milliseconds and anything smaller as seconds, because the sources use
/// both. Written as a string of whole seconds, as real servers send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    /// Milliseconds since the Unix epoch.
    pub millis: u64,
}

impl Timestamp {
    /// The current wall-clock time.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            millis: since.as_millis() as u64,
        }
    }

    /// Whole seconds since the Unix epoch.
    pub fn seconds(self) -> u64 {
        self.millis / 1000
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.seconds())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = d.deserialize_any(NumberVisitor)?;
        if value < 0.0 || !value.is_finite() {
            return Err(de::Error::custom(format!(
                "timestamp must be >= 0, got {value}"
            )));
        }
        let millis = if value > 1e12 { value } else { value * 1000.0 };
        Ok(Timestamp {
            millis: millis as u64,
        })
    }
}

/// A boolean that may arrive quoted (`"true"`), as the v1 docs show
/// `is_new_chat`. Written as a plain JSON boolean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FlagVisitor;
        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean or the string \"true\" or \"false\"")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Flag, E> {
                Ok(Flag(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Flag, E> {
                match v.trim() {
                    s if s.eq_ignore_ascii_case("true") => Ok(Flag(true)),
                    s if s.eq_ignore_ascii_case("false") => Ok(Flag(false)),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        d.deserialize_any(FlagVisitor)
    }
}

/// Reads a string or a number into a `String`, for ids such as
/// `form_request_id` that some clients type as integers.
pub fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    struct TextVisitor;
    impl Visitor<'_> for TextVisitor {
        type Value = String;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
            Ok(v.to_owned())
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
    }
    d.deserialize_any(TextVisitor)
}

/// Reads a number given as a JSON number or as a numeric string.
struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or a numeric string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        v.trim()
            .parse::<f64>()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_reads_strings_and_numbers_and_writes_a_string() {
        let a: Seconds = serde_json::from_str("\"3\"").unwrap();
        let b: Seconds = serde_json::from_str("3").unwrap();
        let c: Seconds = serde_json::from_str("3.7").unwrap();
        assert_eq!((a, b, c), (Seconds(3), Seconds(3), Seconds(3)));
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"3\"");
        assert!(serde_json::from_str::<Seconds>("\"soon\"").is_err());
        assert!(serde_json::from_str::<Seconds>("-1").is_err());
    }

    #[test]
    fn timestamp_tells_seconds_from_milliseconds() {
        let s: Timestamp = serde_json::from_str("\"1614739612\"").unwrap();
        let n: Timestamp = serde_json::from_str("1614739612").unwrap();
        let ms: Timestamp = serde_json::from_str("1614739612345").unwrap();
        let ms_str: Timestamp = serde_json::from_str("\"1614739612345\"").unwrap();
        assert_eq!(s.millis, 1_614_739_612_000);
        assert_eq!(n, s);
        assert_eq!(ms.millis, 1_614_739_612_345);
        assert_eq!(ms_str, ms);
        assert_eq!(serde_json::to_string(&ms).unwrap(), "\"1614739612\"");
    }

    #[test]
    fn flag_reads_booleans_quoted_or_not() {
        for (text, want) in [("true", true), ("false", false), ("\"true\"", true)] {
            let flag: Flag = serde_json::from_str(text).unwrap();
            assert_eq!(flag, Flag(want), "{text}");
        }
        assert!(serde_json::from_str::<Flag>("\"yes\"").is_err());
        assert_eq!(serde_json::to_string(&Flag(false)).unwrap(), "false");
    }

    #[test]
    fn string_or_number_keeps_integer_ids_as_text() {
        #[derive(Deserialize)]
        struct Form {
            #[serde(deserialize_with = "string_or_number")]
            id: String,
        }
        let a: Form = serde_json::from_str(r#"{"id": 7}"#).unwrap();
        let b: Form = serde_json::from_str(r#"{"id": "7"}"#).unwrap();
        assert_eq!((a.id.as_str(), b.id.as_str()), ("7", "7"));
    }
}
