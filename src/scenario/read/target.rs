//! The `[target]` section: where the load goes and how it travels.

use std::net::IpAddr;
use std::path::PathBuf;

use super::table::{Field, Read, Section};
use crate::api::ApiVersion;
use crate::scenario::model::{Connections, HttpVersion, Target};

const KEYS: &[&str] = &[
    "url",
    "tenant_url",
    "app_id",
    "api",
    "http",
    "connections",
    "ca_cert",
    "insecure",
    "request_timeout",
    "user_agent",
    "webchat",
    "source_addrs",
    "warm_up",
];

/// The API versions as written in files.
pub(crate) const API_NAMES: &[(&str, ApiVersion)] =
    &[("v1", ApiVersion::V1), ("v2", ApiVersion::V2)];

/// The HTTP versions as written in files and on the command line.
pub(crate) const HTTP_NAMES: &[(&str, HttpVersion)] = &[
    ("1.1", HttpVersion::Http1),
    ("2", HttpVersion::Http2),
    ("auto", HttpVersion::Auto),
];

/// Reads `[target]`; a missing section means the embedded mock.
pub(crate) fn read(field: Option<Field<'_, '_>>) -> Read<Target> {
    let mut target = Target::default();
    let Some(field) = field else {
        return Ok(target);
    };
    let s = field.section(KEYS)?;

    if let Some(f) = s.get("url") {
        target.url = Some(url(&f)?);
    }
    if let Some(f) = s.get("tenant_url") {
        target.tenant_url = non_empty(&f)?;
    }
    if let Some(f) = s.get("app_id") {
        target.app_id = non_empty(&f)?;
    }
    if let Some(f) = s.get("user_agent") {
        target.user_agent = non_empty(&f)?;
    }

    read_transport(&s, &mut target)?;
    Ok(target)
}

fn read_transport(s: &Section<'_, '_>, target: &mut Target) -> Read<()> {
    if let Some(f) = s.get("api") {
        target.api = f.choice(API_NAMES)?;
    }
    if let Some(f) = s.get("http") {
        target.http = f.choice(HTTP_NAMES)?;
    }
    if let Some(f) = s.get("connections") {
        target.connections = connections(&f)?;
    }
    if let Some(f) = s.get("ca_cert") {
        target.ca_cert = Some(PathBuf::from(non_empty(&f)?));
    }
    if let Some(f) = s.get("insecure") {
        target.insecure = f.bool()?;
    }
    if let Some(f) = s.get("request_timeout") {
        target.request_timeout = f.positive_duration()?;
    }
    if let Some(f) = s.get("webchat") {
        target.webchat = f.bool()?;
    }
    if let Some(f) = s.get("warm_up") {
        target.warm_up = f.bool()?;
    }
    if let Some(f) = s.get("source_addrs") {
        target.source_addrs = f.array()?.iter().map(address).collect::<Read<_>>()?;
    }
    Ok(())
}

/// Checks that a target URL is absolute http(s) with a host.
pub(crate) fn check_url(text: &str) -> Result<(), String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => Ok(()),
        _ => Err(format!(
            "\"{text}\" is not a base URL; write it as https://host[:port], \
             such as \"https://chat.example.com\""
        )),
    }
}

fn url(f: &Field<'_, '_>) -> Read<String> {
    let text = f.str()?;
    check_url(text).map_err(|m| f.error(m))?;
    Ok(text.trim_end_matches('/').to_owned())
}

fn non_empty(f: &Field<'_, '_>) -> Read<String> {
    match f.str()? {
        "" => Err(f.error("must not be empty")),
        text => Ok(text.to_owned()),
    }
}

fn connections(f: &Field<'_, '_>) -> Read<Connections> {
    let s = f.section(&["mode", "max"])?;
    let mode = s.require("mode", "mode = \"shared\"")?;
    let per_client = mode.choice(&[("shared", false), ("per_client", true)])?;

    let max = s.get("max").map(|m| m.positive_count()).transpose()?;
    match (per_client, max, s.get("max")) {
        (true, Some(_), Some(m)) => {
            Err(m.key_error("only applies to mode \"shared\"; remove it or change the mode"))
        }
        (true, ..) => Ok(Connections::PerClient),
        (false, max, _) => Ok(Connections::Shared {
            max: max.map(saturating_usize),
        }),
    }
}

fn saturating_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn address(f: &Field<'_, '_>) -> Read<IpAddr> {
    let text = f.str()?;
    text.parse().map_err(|_| {
        f.error(format!(
            "\"{text}\" is not an IP address such as \"127.0.0.2\""
        ))
    })
}
