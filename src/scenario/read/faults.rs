//! The `[[mock.faults]]` tables: faults the embedded mock injects. The same
//! reader takes the inline table that `chatload serve --fault` is given, so
//! a fault reads the same way in a file and on the command line.
//!
//! Each kind has its own keys beside the shared `kind`, `endpoints` and
//! `rate`; a key of another kind is reported as unknown with the nearest
//! valid one suggested.

use std::time::Duration;

use toml::de::DeTable;

use super::table::{Field, Read, Section};
use crate::api::Endpoint;
use crate::scenario::model::{Fault, FaultKind, ResetPoint, ServerEnd};
use crate::scenario::suggest;

/// The kinds of fault, as written in files.
pub(crate) const KIND_NAMES: &[&str] = &[
    "latency",
    "error",
    "stall",
    "reset",
    "malformed",
    "truncate",
    "slow_body",
    "end_chat",
];

/// Where a reset happens, as written in files.
pub(crate) const RESET_NAMES: &[(&str, ResetPoint)] = &[
    ("request", ResetPoint::Request),
    ("response", ResetPoint::Response),
];

/// How a server-ended chat is announced, as written in files.
pub(crate) const SERVER_END_NAMES: &[(&str, ServerEnd)] = &[
    ("agent", ServerEnd::Agent),
    ("inactivity", ServerEnd::Inactivity),
    ("failed", ServerEnd::Failed),
];

/// The error an error fault answers with unless told otherwise: 503 with
/// 5001, what a server with no chat capacity left sends.
pub(crate) const DEFAULT_ERROR: (u16, u16) = (503, 5001);

/// The pause before each byte of a slow body unless told otherwise.
pub(crate) const DEFAULT_BYTE_EVERY: Duration = Duration::from_millis(10);

/// Reads the array under `mock.faults`.
pub(crate) fn read_all(field: &Field<'_, '_>) -> Read<Vec<Fault>> {
    field.array()?.iter().map(fault).collect()
}

/// Reads the body of one inline table, as `--fault` takes it, such as
/// `kind = "error", rate = 0.1, status = 500, code = 5500`. The message
/// of an error names the key path under `fault`.
pub(crate) fn read_spec(spec: &str) -> Result<Fault, String> {
    let text = format!("fault = {{ {spec} }}");
    let document = DeTable::parse(&text)
        .map_err(|err| format!("invalid TOML: {}", err.message().trim_end()))?;
    let top = Section::open("", document.get_ref(), document.span(), &["fault"])
        .map_err(|diag| diag.message)?;
    let field = top
        .require("fault", "kind = \"stall\"")
        .map_err(|diag| diag.message)?;
    fault(&field).map_err(|diag| diag.message)
}

fn fault(f: &Field<'_, '_>) -> Read<Fault> {
    let kind_name = kind_name(f)?;
    let s = f.section(&allowed_keys(kind_name))?;
    let kind = kind(&s, kind_name)?;

    let endpoints = match s.get("endpoints") {
        Some(e) => e.array()?.iter().map(endpoint).collect::<Read<_>>()?,
        None => Vec::new(),
    };
    let rate = match s.get("rate") {
        Some(r) => rate(&r)?,
        None => 1.0,
    };
    Ok(Fault {
        endpoints,
        rate,
        kind,
    })
}

/// The `kind` key, read before the table's other keys are checked,
/// because it decides which keys are valid.
fn kind_name<'a>(f: &Field<'a, '_>) -> Read<&'a str> {
    let s = f.section_free()?;
    let k = s.require("kind", "kind = \"latency\"")?;
    let name = k.str()?;
    if KIND_NAMES.contains(&name) {
        return Ok(name);
    }
    let hint = suggest::hint(name, KIND_NAMES);
    Err(k.error(format!("unknown fault kind \"{name}\"{hint}")))
}

fn allowed_keys(kind: &str) -> Vec<&'static str> {
    let own: &[&str] = match kind {
        "latency" => &["delay", "rate"],
        "error" => &["status", "code", "rate"],
        "stall" => &["every", "hold"],
        "reset" => &["at", "rate"],
        "slow_body" => &["byte_every", "rate"],
        "end_chat" => &["how", "rate"],
        _ => &["rate"],
    };
    let mut keys = vec!["kind", "endpoints"];
    keys.extend_from_slice(own);
    keys
}

fn kind(s: &Section<'_, '_>, name: &str) -> Read<FaultKind> {
    let kind = match name {
        "latency" => FaultKind::Latency {
            delay: s
                .require("delay", "delay = \"50ms..200ms\"")?
                .duration_range()?,
        },
        "error" => error(s)?,
        "stall" => stall(s)?,
        "reset" => FaultKind::Reset {
            at: choice_or(s, "at", RESET_NAMES, ResetPoint::Request)?,
        },
        "malformed" => FaultKind::Malformed,
        "truncate" => FaultKind::Truncate,
        "slow_body" => FaultKind::SlowBody {
            byte_every: match s.get("byte_every") {
                Some(b) => b.positive_duration()?,
                None => DEFAULT_BYTE_EVERY,
            },
        },
        _ => FaultKind::EndChat {
            how: choice_or(s, "how", SERVER_END_NAMES, ServerEnd::Agent)?,
        },
    };
    Ok(kind)
}

fn error(s: &Section<'_, '_>) -> Read<FaultKind> {
    let (mut status, mut code) = DEFAULT_ERROR;
    if let Some(f) = s.get("status") {
        status = match f.count()? {
            n @ 400..=599 => n as u16,
            n => return Err(f.error(format!("{n} is not an error status; use 400 to 599"))),
        };
    }
    if let Some(f) = s.get("code") {
        code = match u16::try_from(f.positive_count()?) {
            Ok(n) => n,
            Err(_) => return Err(f.error("API error codes are at most 65535, such as 5001")),
        };
    }
    Ok(FaultKind::Error { status, code })
}

fn stall(s: &Section<'_, '_>) -> Read<FaultKind> {
    let every_field = s.require("every", "every = \"1s\"")?;
    let every = every_field.positive_duration()?;
    let hold_field = s.require("hold", "hold = \"250ms\"")?;
    let hold = hold_field.positive_duration()?;
    if hold >= every {
        let (h, e) = (
            humantime::format_duration(hold),
            humantime::format_duration(every),
        );
        return Err(hold_field.error(format!(
            "a stall of {h} every {e} never ends; make hold shorter than every"
        )));
    }
    Ok(FaultKind::Stall { every, hold })
}

fn choice_or<T: Copy>(s: &Section<'_, '_>, key: &str, names: &[(&str, T)], or: T) -> Read<T> {
    match s.get(key) {
        Some(f) => f.choice(names),
        None => Ok(or),
    }
}

fn endpoint(f: &Field<'_, '_>) -> Read<Endpoint> {
    let name = f.str()?;
    if let Some(endpoint) = Endpoint::from_name(name) {
        return Ok(endpoint);
    }
    let names: Vec<&str> = Endpoint::ALL.iter().map(|e| e.name()).collect();
    let hint = suggest::hint(name, &names);
    Err(f.error(format!("unknown API method \"{name}\"{hint}")))
}

fn rate(f: &Field<'_, '_>) -> Read<f64> {
    let rate = f.number()?;
    if rate > 1.0 {
        return Err(f.error(format!(
            "{rate} is a share of requests and cannot pass 1; write 0.1 for one in ten"
        )));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_reads_like_a_table_in_a_file() {
        let fault = read_spec(r#"kind = "error", rate = 0.25, status = 500, code = 5500"#).unwrap();
        assert_eq!(fault.rate, 0.25);
        assert!(fault.endpoints.is_empty());
        assert_eq!(
            fault.kind,
            FaultKind::Error {
                status: 500,
                code: 5500
            }
        );
    }

    #[test]
    fn defaults_fill_the_keys_left_out() {
        let error = read_spec(r#"kind = "error""#).unwrap();
        assert_eq!(
            error.kind,
            FaultKind::Error {
                status: 503,
                code: 5001
            }
        );
        assert_eq!(error.rate, 1.0);
        let reset = read_spec(r#"kind = "reset""#).unwrap();
        assert_eq!(
            reset.kind,
            FaultKind::Reset {
                at: ResetPoint::Request
            }
        );
    }

    #[test]
    fn endpoints_are_read_by_their_names() {
        let fault =
            read_spec(r#"kind = "malformed", endpoints = ["request_chat", "version"]"#).unwrap();
        assert_eq!(
            fault.endpoints,
            vec![Endpoint::RequestChat, Endpoint::Version]
        );
    }

    #[test]
    fn bad_specs_name_the_key_and_the_fix() {
        let cases = [
            (r#"kind = "stal""#, "did you mean"),
            (
                r#"kind = "stall", every = "1s", hold = "2s""#,
                "shorter than every",
            ),
            (
                r#"kind = "stall", every = "1s", hold = "1ms", rate = 0.5"#,
                "rate",
            ),
            (r#"kind = "error", status = 200"#, "400 to 599"),
            (r#"kind = "error", rate = 2"#, "cannot pass 1"),
            (r#"kind = "latency""#, "delay"),
            (r#"kind = "reset", at = "middle""#, "middle"),
            (
                r#"kind = "truncate", endpoints = ["chats"]"#,
                "unknown API method",
            ),
            (r#"rate = 1"#, "missing key \"kind\""),
            ("kind = ", "invalid"),
        ];
        for (spec, needle) in cases {
            let err = read_spec(spec).unwrap_err();
            let lower = err.to_lowercase();
            assert!(lower.contains(&needle.to_lowercase()), "{spec}: {err}");
        }
    }
}
