//! Command-line flags of `chatload run` applied on top of a scenario.
//! Each flag is checked on its own, and a value that would make the
//! scenario invalid is reported under the flag's name, not the file's.

use std::path::PathBuf;
use std::time::Duration;

use super::model::{DurationRange, LoadModel, Scenario, Stage};
use super::read::{DEFAULT_MAX_CLIENTS, HTTP_NAMES, check_url};
use super::values;
use crate::cli::RunArgs;
use crate::exit::usage;

/// Applies every flag given in `args` to `scenario`.
pub(crate) fn apply(scenario: &mut Scenario, args: &RunArgs) -> anyhow::Result<()> {
    apply_target(scenario, args)?;

    if let Some(clients) = args.clients {
        set_clients(scenario, clients)?;
    }
    if let Some(rate) = args.rate {
        set_rate(scenario, rate)?;
    }
    if let Some(text) = &args.duration {
        set_duration(scenario, text)?;
    }
    if let Some(text) = &args.segment {
        scenario.load.segment = text
            .parse()
            .map_err(|err| usage(format!("--segment: {err}")))?;
    }
    Ok(())
}

fn apply_target(scenario: &mut Scenario, args: &RunArgs) -> anyhow::Result<()> {
    let target = &mut scenario.target;
    if let Some(url) = &args.target {
        check_url(url).map_err(|m| usage(format!("--target {url}: {m}")))?;
        target.url = Some(url.trim_end_matches('/').to_owned());
    }
    if let Some(path) = &args.ca_cert {
        target.ca_cert = Some(PathBuf::from(path));
    }
    if args.insecure {
        target.insecure = true;
    }
    if let Some(http) = &args.http {
        let found = HTTP_NAMES.iter().find(|(name, _)| name == http);
        let (_, version) = found.ok_or_else(|| {
            usage(format!(
                "--http {http}: unknown HTTP version; use 1.1, 2 or auto"
            ))
        })?;
        target.http = *version;
    }
    Ok(())
}

fn set_clients(scenario: &mut Scenario, clients: u64) -> anyhow::Result<()> {
    if clients == 0 {
        return Err(usage("--clients 0: must be at least 1"));
    }
    let load = &mut scenario.load;
    if !matches!(load.model, LoadModel::Closed { .. }) {
        load.model = LoadModel::Closed {
            pause: DurationRange::default(),
        };
    }
    for stage in &mut load.stages {
        stage.target = clients as f64;
    }
    Ok(())
}

fn set_rate(scenario: &mut Scenario, rate: f64) -> anyhow::Result<()> {
    if !rate.is_finite() || rate <= 0.0 {
        return Err(usage(format!(
            "--rate {rate}: must be a number of chats per second above 0"
        )));
    }
    let load = &mut scenario.load;
    if !matches!(load.model, LoadModel::Open { .. }) {
        load.model = LoadModel::Open {
            arrival: Default::default(),
            max_clients: DEFAULT_MAX_CLIENTS,
        };
    }
    for stage in &mut load.stages {
        stage.target = rate;
    }
    Ok(())
}

// The single stage is held from the first instant: a zero-length step up
// to the peak, then the hold. Without the step the stage would ramp from
// zero, which is not what a user asking for "30s at peak" expects.
fn set_duration(scenario: &mut Scenario, text: &str) -> anyhow::Result<()> {
    let duration = values::duration(text).map_err(|m| usage(format!("--duration {text}: {m}")))?;
    if duration.is_zero() {
        return Err(usage(format!(
            "--duration {text}: must be longer than zero"
        )));
    }

    let peak = scenario.load.peak();
    scenario.load.stages = vec![
        Stage {
            duration: Duration::ZERO,
            target: peak,
        },
        Stage {
            duration,
            target: peak,
        },
    ];
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::is_usage;

    fn quickstart() -> Scenario {
        crate::scenario::parse(crate::scenario::QUICKSTART, "quickstart").unwrap()
    }

    #[test]
    fn clients_replace_every_stage_value() {
        let mut s = quickstart();
        apply(
            &mut s,
            &RunArgs {
                clients: Some(7),
                ..RunArgs::default()
            },
        )
        .unwrap();
        assert!(s.load.stages.iter().all(|st| st.target == 7.0));
    }

    #[test]
    fn rate_switches_a_closed_scenario_to_open() {
        let mut s = quickstart();
        apply(
            &mut s,
            &RunArgs {
                rate: Some(2.5),
                ..RunArgs::default()
            },
        )
        .unwrap();
        assert!(matches!(s.load.model, LoadModel::Open { .. }));
        assert!(s.load.stages.iter().all(|st| st.target == 2.5));
    }

    #[test]
    fn duration_holds_the_peak_from_the_start() {
        let mut s = quickstart();
        let args = RunArgs {
            duration: Some("45s".into()),
            ..RunArgs::default()
        };
        apply(&mut s, &args).unwrap();
        assert_eq!(s.load.duration(), Duration::from_secs(45));
        assert_eq!(
            crate::engine::profile::value_at(&s.load.stages, Duration::ZERO),
            200.0
        );
    }

    #[test]
    fn invalid_flags_are_usage_errors_naming_the_flag() {
        let cases = [
            (
                RunArgs {
                    clients: Some(0),
                    ..RunArgs::default()
                },
                "--clients 0: must be at least 1",
            ),
            (
                RunArgs {
                    rate: Some(-1.0),
                    ..RunArgs::default()
                },
                "--rate -1",
            ),
            (
                RunArgs {
                    duration: Some("0s".into()),
                    ..RunArgs::default()
                },
                "--duration 0s",
            ),
            (
                RunArgs {
                    duration: Some("soon".into()),
                    ..RunArgs::default()
                },
                "--duration soon",
            ),
            (
                RunArgs {
                    target: Some("chat.example".into()),
                    ..RunArgs::default()
                },
                "--target",
            ),
        ];
        for (args, expected) in cases {
            let err = apply(&mut quickstart(), &args).unwrap_err();
            assert!(is_usage(&err));
            assert!(err.to_string().starts_with(expected), "{err}");
        }
    }

    #[test]
    fn target_and_transport_flags_are_applied() {
        let mut s = quickstart();
        let args = RunArgs {
            target: Some("https://chat.example.com/".into()),
            http: Some("2".into()),
            insecure: true,
            ca_cert: Some("ca.pem".into()),
            ..RunArgs::default()
        };
        apply(&mut s, &args).unwrap();
        assert_eq!(s.target.url.as_deref(), Some("https://chat.example.com"));
        assert_eq!(s.target.http, crate::scenario::HttpVersion::Http2);
        assert!(s.target.insecure);
        assert_eq!(s.target.ca_cert, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn the_segment_flag_overrides_the_file_and_is_checked() {
        let text = crate::scenario::QUICKSTART.replace(
            "grace = \"5s\"",
            "grace = \"5s\"\nsegment = \"1/2\"\nseed = 9",
        );
        let mut s = crate::scenario::parse(&text, "q").unwrap();
        assert_eq!(s.load.segment.to_string(), "1/2");
        assert_eq!(s.load.seed, Some(9));
        let args = RunArgs {
            segment: Some("3/4".into()),
            ..RunArgs::default()
        };
        apply(&mut s, &args).unwrap();
        assert_eq!(s.load.segment.to_string(), "3/4");

        // The resolved file describes the whole run: the seed stays, the
        // segment does not.
        let again = crate::scenario::parse(&s.to_toml(), "again").unwrap();
        assert_eq!(
            (again.load.seed, again.load.segment.is_whole()),
            (Some(9), true)
        );

        let args = RunArgs {
            segment: Some("4/3".into()),
            ..RunArgs::default()
        };
        let err = apply(&mut s, &args).unwrap_err();
        assert!(is_usage(&err));
        assert!(
            err.to_string().starts_with("--segment: segment \"4/3\""),
            "{err}"
        );
    }
}
