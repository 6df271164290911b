//! A span-aware view of the parsed TOML tree. Every value read through it
//! knows its key path and byte range, so any error it reports already
//! says where and which key; unknown keys are caught when a table is
//! opened, with the nearest valid key suggested.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::scenario::location::Diag;
use crate::scenario::model::{CountRange, DurationRange};
use crate::scenario::{suggest, values};

/// Result of reading one piece of the scenario.
pub(crate) type Read<T> = Result<T, Diag>;

/// One table of the file, its keys already checked against the valid ones.
pub(crate) struct Section<'a, 'i> {
    path: String,
    table: &'a DeTable<'i>,
    span: Range<usize>,
}

impl<'a, 'i> Section<'a, 'i> {
    /// Opens `table` at key path `path` (empty for the top level) and
    /// rejects the first key not in `allowed`.
    pub fn open(
        path: impl Into<String>,
        table: &'a DeTable<'i>,
        span: Range<usize>,
        allowed: &[&str],
    ) -> Read<Self> {
        let section = Section {
            path: path.into(),
            table,
            span,
        };
        section.reject_unknown(allowed)?;
        Ok(section)
    }

    fn reject_unknown(&self, allowed: &[&str]) -> Read<()> {
        let mut keys: Vec<_> = self.table.keys().collect();
        keys.sort_by_key(|k| k.span().start);

        match keys
            .into_iter()
            .find(|k| !allowed.contains(&k.get_ref().as_ref()))
        {
            None => Ok(()),
            Some(key) => {
                let word = key.get_ref().as_ref();
                let place = self.place();
                let hint = suggest::hint(word, allowed);
                Err(Diag::new(
                    key.span(),
                    format!("unknown key \"{word}\" {place}{hint}"),
                ))
            }
        }
    }

    /// The value under `key`, if present.
    pub fn get(&self, key: &str) -> Option<Field<'a, 'i>> {
        let (k, v) = self.table.get_key_value(key)?;
        let path = self.child_path(key);
        Some(Field {
            path,
            value: v.get_ref(),
            span: v.span(),
            key_span: k.span(),
        })
    }

    /// The value under `key`, or an error saying it is missing.
    pub fn require(&self, key: &str, example: &str) -> Read<Field<'a, 'i>> {
        self.get(key).ok_or_else(|| {
            let message = format!("missing key \"{key}\" {}; add e.g. {example}", self.place());
            Diag::new(self.span.clone(), message)
        })
    }

    /// Byte range of the table, for errors about it as a whole.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Entries in file order, for tables whose keys are free (thresholds).
    pub fn entries(&self) -> Vec<(&'a Spanned<std::borrow::Cow<'i, str>>, Field<'a, 'i>)> {
        let mut entries: Vec<_> = self
            .table
            .iter()
            .map(|(k, v)| {
                let path = self.child_path(k.get_ref());
                (
                    k,
                    Field {
                        path,
                        value: v.get_ref(),
                        span: v.span(),
                        key_span: k.span(),
                    },
                )
            })
            .collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        entries
    }

    /// Where this table is, as messages say it: "at the top level", "in
    /// [load]" for a section, the dotted path for anything nested deeper.
    fn place(&self) -> String {
        if self.path.is_empty() {
            "at the top level".to_owned()
        } else if self.path.contains(['.', '[']) {
            format!("in {}", self.path)
        } else {
            format!("in [{}]", self.path)
        }
    }

    fn child_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

/// One value with its key path and position.
pub(crate) struct Field<'a, 'i> {
    /// Dotted key path, such as `load.stages[0].clients`.
    pub path: String,
    value: &'a DeValue<'i>,
    span: Range<usize>,
    key_span: Range<usize>,
}

impl<'a, 'i> Field<'a, 'i> {
    /// An error about this value: `path: message`.
    pub fn error(&self, message: impl std::fmt::Display) -> Diag {
        Diag::new(self.span.clone(), format!("{}: {message}", self.path))
    }

    /// An error about this key as written, for keys that may not appear.
    pub fn key_error(&self, message: impl std::fmt::Display) -> Diag {
        Diag::new(self.key_span.clone(), format!("{}: {message}", self.path))
    }

    fn wrong_type(&self, expected: &str) -> Diag {
        self.error(format!("expected {expected}, found {}", self.describe()))
    }

    fn describe(&self) -> String {
        match self.value {
            DeValue::String(s) => format!("the string \"{s}\""),
            DeValue::Integer(i) => format!("the integer {i}"),
            DeValue::Float(f) => format!("the number {f}"),
            DeValue::Boolean(b) => format!("the boolean {b}"),
            other => format!("a {}", other.type_str()),
        }
    }

    /// A string.
    pub fn str(&self) -> Read<&'a str> {
        match self.value {
            DeValue::String(s) => Ok(s.as_ref()),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// `true` or `false`.
    pub fn bool(&self) -> Read<bool> {
        self.value
            .as_bool()
            .ok_or_else(|| self.wrong_type("true or false"))
    }

    /// A whole number, zero or more.
    pub fn count(&self) -> Read<u64> {
        let DeValue::Integer(i) = self.value else {
            return Err(self.wrong_type("a whole number"));
        };
        match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) if n < 0 => Err(self.error(format!("must not be negative, found {n}"))),
            Ok(n) => Ok(n.unsigned_abs()),
            Err(_) => Err(self.error(format!("the number {i} is too large"))),
        }
    }

    /// A whole number of at least one.
    pub fn positive_count(&self) -> Read<u64> {
        match self.count()? {
            0 => Err(self.error("must be at least 1, found 0")),
            n => Ok(n),
        }
    }

    /// A finite number, whole or not, zero or more.
    pub fn number(&self) -> Read<f64> {
        let parsed = match self.value {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok(),
            _ => return Err(self.wrong_type("a number")),
        };
        match parsed {
            Some(n) if !n.is_finite() => Err(self.error("must be a finite number")),
            Some(n) if n < 0.0 => Err(self.error(format!("must not be negative, found {n}"))),
            Some(n) => Ok(n),
            None => Err(self.error(format!("cannot read {} as a number", self.describe()))),
        }
    }

    /// A duration string; zero allowed.
    pub fn duration(&self) -> Read<Duration> {
        values::duration(self.duration_text()?).map_err(|m| self.error(m))
    }

    /// A duration string above zero.
    pub fn positive_duration(&self) -> Read<Duration> {
        let d = self.duration()?;
        if d.is_zero() {
            return Err(self.error("must be longer than zero"));
        }
        Ok(d)
    }

    fn duration_text(&self) -> Read<&'a str> {
        match self.value {
            DeValue::Integer(i) => Err(self.error(format!(
                "a duration needs a unit: write \"{i}s\" or \"{i}ms\", not the bare number {i}"
            ))),
            _ => self
                .str()
                .map_err(|_| self.wrong_type("a duration such as \"2s\"")),
        }
    }

    /// A range of durations, "a..b" or one duration.
    pub fn duration_range(&self) -> Read<DurationRange> {
        values::duration_range(self.duration_text()?).map_err(|m| self.error(m))
    }

    /// A range of counts, "a..b", one number as a string, or an integer.
    pub fn count_range(&self) -> Read<CountRange> {
        match self.value {
            DeValue::Integer(_) => self.count().map(CountRange::fixed),
            DeValue::String(s) => values::count_range(s).map_err(|m| self.error(m)),
            _ => Err(self.wrong_type("a range such as \"3..8\" or a whole number")),
        }
    }

    /// A byte size, "64KiB" or an integer.
    pub fn size(&self) -> Read<u64> {
        match self.value {
            DeValue::Integer(_) => self.count(),
            DeValue::String(s) => values::size(s).map_err(|m| self.error(m)),
            _ => Err(self.wrong_type("a size such as \"64KiB\" or a number of bytes")),
        }
    }

    /// One of the named `choices`, with a suggestion for a near miss.
    pub fn choice<T: Copy>(&self, choices: &[(&str, T)]) -> Read<T> {
        let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
        let word = self
            .str()
            .map_err(|_| self.wrong_type(&suggest::list(&names)))?;
        match choices.iter().find(|(n, _)| *n == word) {
            Some((_, value)) => Ok(*value),
            None => {
                let hint = suggest::hint(word, &names);
                Err(self.error(format!("unknown value \"{word}\"{hint}")))
            }
        }
    }

    /// The items of an array, each with its own path and position.
    pub fn array(&self) -> Read<Vec<Field<'a, 'i>>> {
        let items = self
            .value
            .as_array()
            .ok_or_else(|| self.wrong_type("an array"))?;
        let fields = items
            .iter()
            .enumerate()
            .map(|(i, item)| Field {
                path: format!("{}[{i}]", self.path),
                value: item.get_ref(),
                span: item.span(),
                key_span: item.span(),
            })
            .collect();
        Ok(fields)
    }

    /// This value as a table whose keys must be among `allowed`.
    pub fn section(&self, allowed: &[&str]) -> Read<Section<'a, 'i>> {
        let table = self
            .value
            .as_table()
            .ok_or_else(|| self.wrong_type("a table"))?;
        Section::open(self.path.clone(), table, self.span.clone(), allowed)
    }

    /// This value as a table whose keys are free, such as thresholds.
    pub fn section_free(&self) -> Read<Section<'a, 'i>> {
        let table = self
            .value
            .as_table()
            .ok_or_else(|| self.wrong_type("a table"))?;
        Ok(Section {
            path: self.path.clone(),
            table,
            span: self.span.clone(),
        })
    }

    /// The raw value, for free-form data such as chat parameters.
    pub fn value(&self) -> &'a DeValue<'i> {
        self.value
    }
}
