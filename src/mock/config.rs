//! What the mock contact center does: agents, delays, holds and limits.
//!
//! [`MockConfig`] is built from the scenario's `[mock]` table when `chatload
//! run` embeds the mock, or from `chatload serve`'s flags; the server reads
//! nothing else.

use std::time::Duration;

use crate::cli::ServeArgs;
use crate::exit::usage;
use crate::scenario::{DurationRange, Fault, MockSettings};

/// Behaviour and limits of one mock contact center.
#[derive(Debug, Clone, PartialEq)]
pub struct MockConfig {
    /// Simulated agents.
    pub agents: u32,
    /// Chats each agent takes at once; further chats wait in the queue.
    pub chats_per_agent: u32,
    /// Delay between a customer message and the agent's answer, drawn
    /// uniformly.
    pub reply_delay: DurationRange,
    /// How long an idle long poll is held before it answers `{"events":[]}`.
    pub poll_hold: Duration,
    /// Customer silence after which the agent ends the chat.
    pub idle_end: Duration,
    /// Most chats alive at once; beyond it Request Chat answers 503 (5001).
    pub max_chats: usize,
    /// Check Availability answers `notAvailable`.
    pub closed: bool,
    /// HTTP status of authorization failures on both versions; `None`
    /// means 401 on v1 and 403 on v2.
    pub auth_status: Option<u16>,
    /// How long an ended chat is kept so that a poll can still collect its
    /// last events; after it the chat is forgotten.
    pub ended_grace: Duration,
    /// Largest accepted upload, in bytes.
    pub max_file_bytes: usize,
    /// Most files kept; the oldest is evicted first.
    pub max_files: usize,
    /// Most bytes of files kept in total; the oldest are evicted first.
    pub max_stored_bytes: usize,
    /// Largest JSON request body, in bytes.
    pub max_json_body: usize,
    /// Most events one chat's log keeps; Send Events beyond it is refused,
    /// so a client that never ends its chat cannot grow the mock without
    /// bound.
    pub max_chat_events: usize,
    /// Longest a client may take to deliver a request's head, from the
    /// connection's start or from the head's first byte: bounds slowloris
    /// clients.
    pub header_timeout: Duration,
    /// Longest a connection may sit with no request in progress before the
    /// mock closes it. Longer than chatload's client pool keeps an idle
    /// connection (55 s), so the client always gives one up first and
    /// never sends a request on a connection the mock is closing.
    pub idle_timeout: Duration,
    /// Longest a client may take to send a request's whole body.
    pub body_timeout: Duration,
    /// Interval of the HTTP/2 pings that find peers gone silent while
    /// their streams are open.
    pub h2_ping_interval: Duration,
    /// How long a ping may go unanswered before the connection is closed.
    pub h2_ping_timeout: Duration,
    /// Faults injected around the handlers, in order.
    pub faults: Vec<Fault>,
}

impl Default for MockConfig {
    fn default() -> Self {
        MockConfig::from_settings(&MockSettings::default())
    }
}

impl MockConfig {
    /// The embedded mock's configuration from a scenario's settings; the
    /// limits the scenario does not name take their defaults.
    pub fn from_settings(s: &MockSettings) -> MockConfig {
        MockConfig {
            agents: s.agents,
            chats_per_agent: s.chats_per_agent,
            reply_delay: s.reply_delay,
            poll_hold: s.poll_hold,
            idle_end: s.idle_end,
            max_chats: 1_000_000,
            closed: false,
            auth_status: None,
            ended_grace: Duration::from_secs(30),
            max_file_bytes: 25 * 1024 * 1024,
            max_files: 1000,
            // 1000 files of 25 MB would be 25 GB: the byte cap keeps a
            // long upload test from exhausting the machine.
            max_stored_bytes: 512 * 1024 * 1024,
            max_json_body: 1024 * 1024,
            // A long soak chat sends a message every few seconds: ten
            // thousand events is hours of it, and about a megabyte.
            max_chat_events: 10_000,
            header_timeout: Duration::from_secs(10),
            // nginx's default keep-alive, and well over the client's 55 s.
            idle_timeout: Duration::from_secs(75),
            // A 25 MB upload in a minute is over 400 kB/s: slower clients
            // are not what a load test measures.
            body_timeout: Duration::from_secs(60),
            h2_ping_interval: Duration::from_secs(30),
            h2_ping_timeout: Duration::from_secs(20),
            faults: s.faults.clone(),
        }
    }

    /// The configuration `chatload serve`'s flags describe. A malformed
    /// duration, range or status is a usage error naming the flag.
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<MockConfig> {
        let auth_status = match args.auth_status.as_deref() {
            None => None,
            Some(text) => Some(parse_auth_status(text)?),
        };
        Ok(MockConfig {
            agents: args.agents,
            chats_per_agent: args.chats_per_agent,
            reply_delay: parse_range("--reply-delay", &args.reply_delay)?,
            poll_hold: parse_duration("--poll-hold", &args.poll_hold)?,
            idle_end: parse_duration("--idle-end", &args.idle_end)?,
            max_chats: args.max_chats,
            closed: args.closed,
            auth_status,
            faults: parse_faults(&args.faults)?,
            ..MockConfig::default()
        })
    }
}

fn parse_faults(specs: &[String]) -> anyhow::Result<Vec<Fault>> {
    specs
        .iter()
        .map(|spec| crate::scenario::parse_fault(spec))
        .collect()
}

fn parse_auth_status(text: &str) -> anyhow::Result<u16> {
    match text.trim() {
        "401" => Ok(401),
        "403" => Ok(403),
        other => Err(usage(format!(
            "--auth-status {other:?} is not 401 or 403; pick one of them"
        ))),
    }
}

/// Reads `1s..3s`, or a single duration for a fixed value.
pub(crate) fn parse_range(flag: &str, text: &str) -> anyhow::Result<DurationRange> {
    let Some((low, high)) = text.split_once("..") else {
        return parse_duration(flag, text).map(DurationRange::fixed);
    };

    let min = parse_duration(flag, low)?;
    let max = parse_duration(flag, high)?;
    if min > max {
        return Err(usage(format!(
            "{flag} {text:?} runs backwards; write the smaller bound first, such as 1s..3s"
        )));
    }
    Ok(DurationRange { min, max })
}

fn parse_duration(flag: &str, text: &str) -> anyhow::Result<Duration> {
    humantime::parse_duration(text.trim()).map_err(|err| {
        usage(format!(
            "{flag} {text:?} is not a duration ({err}); write one such as 500ms or 10s"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn serve_args(extra: &[&str]) -> ServeArgs {
        let mut argv = vec!["chatload", "serve"];
        argv.extend_from_slice(extra);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Serve(args) => args,
            other => panic!("not serve: {other:?}"),
        }
    }

    #[test]
    fn ranges_read_both_bounds_or_one_value() {
        let range = parse_range("--reply-delay", "1s..3s").unwrap();
        assert_eq!(
            (range.min, range.max),
            (Duration::from_secs(1), Duration::from_secs(3))
        );
        let fixed = parse_range("--reply-delay", "250ms").unwrap();
        assert_eq!(fixed, DurationRange::fixed(Duration::from_millis(250)));
    }

    #[test]
    fn bad_ranges_are_usage_errors_naming_the_flag() {
        for text in ["3s..1s", "soon", "1s..", "..2s"] {
            let err = parse_range("--reply-delay", text).unwrap_err();
            assert!(crate::exit::is_usage(&err), "{text}");
            assert!(err.to_string().contains("--reply-delay"), "{err}");
        }
    }

    #[test]
    fn flags_become_the_configuration() {
        let args = serve_args(&[
            "--agents",
            "3",
            "--reply-delay",
            "1s..2s",
            "--poll-hold",
            "5s",
            "--closed",
            "--auth-status",
            "401",
            "--max-chats",
            "10",
        ]);
        let config = MockConfig::from_args(&args).unwrap();
        assert_eq!(config.agents, 3);
        assert_eq!(config.reply_delay.max, Duration::from_secs(2));
        assert_eq!(config.poll_hold, Duration::from_secs(5));
        assert!(config.closed);
        assert_eq!(config.auth_status, Some(401));
        assert_eq!(config.max_chats, 10);
    }

    #[test]
    fn each_fault_flag_adds_a_fault() {
        let args = serve_args(&[
            "--fault",
            r#"kind = "stall", every = "1s", hold = "250ms""#,
            "--fault",
            r#"kind = "error", rate = 0.1, endpoints = ["request_chat"]"#,
        ]);
        let config = MockConfig::from_args(&args).unwrap();
        assert_eq!(config.faults.len(), 2);
        assert_eq!(config.faults[1].rate, 0.1);
    }

    #[test]
    fn a_bad_fault_flag_is_a_usage_error_naming_the_flag() {
        let args = serve_args(&["--fault", r#"kind = "stall", every = "1s""#]);
        let err = MockConfig::from_args(&args).unwrap_err();
        assert!(crate::exit::is_usage(&err));
        assert!(err.to_string().contains("--fault"), "{err}");
        assert!(err.to_string().contains("hold"), "{err}");
    }

    #[test]
    fn defaults_follow_the_scenario_defaults() {
        let config = MockConfig::default();
        assert_eq!(config.poll_hold, MockSettings::default().poll_hold);
        assert_eq!(config.max_file_bytes, 25 * 1024 * 1024);
        assert_eq!(config.max_files, 1000);
    }
}
