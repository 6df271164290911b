//! Scenario files: every shipped scenario is valid, every kind of mistake
//! is reported at its line and column with a useful hint, overrides work,
//! and `chatload validate` prints the plan or exits 2.

use std::path::{Path, PathBuf};
use std::process::Command;

use chatload::cli::RunArgs;
use chatload::exit::is_usage;
use chatload::scenario::{self, LoadModel, Scenario};

const SHIPPED: &[&str] = &["quickstart", "ramp", "arrival", "probe", "soak"];

fn shipped(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(format!("{name}.toml"))
}

/// The error message for `text`, which must be a usage error.
fn error(text: &str) -> String {
    let err = scenario::parse(text, "t.toml").expect_err("the scenario should be rejected");
    assert!(is_usage(&err), "not a usage error: {err:#}");
    format!("{err:#}")
}

const BASE: &str = "name = \"t\"\n[load]\nstages = [{ duration = \"10s\", clients = 5 }]\n";

#[test]
fn every_shipped_scenario_parses_and_validates() {
    for name in SHIPPED {
        let path = shipped(name);
        let loaded = scenario::load(Some(&path), &RunArgs::default());
        assert!(loaded.is_ok(), "{name}: {:#}", loaded.unwrap_err());
    }
}

#[test]
fn every_shipped_scenario_survives_to_toml_and_back() {
    for name in SHIPPED {
        let s = scenario::load(Some(&shipped(name)), &RunArgs::default()).unwrap();
        let again = scenario::parse(&s.to_toml(), "resolved").unwrap();
        assert_eq!(again, s, "{name}");
    }
}

#[test]
fn no_file_means_the_quickstart_scenario() {
    let built_in = scenario::load(None, &RunArgs::default()).unwrap();
    let file = scenario::load(Some(&shipped("quickstart")), &RunArgs::default()).unwrap();
    assert_eq!(built_in, file);
    assert!(built_in.target.url.is_none());
    assert!(built_in.load.duration() + built_in.load.grace <= std::time::Duration::from_secs(30));
}

#[test]
fn a_minimal_scenario_gets_the_defaults() {
    let s = scenario::parse(BASE, "t.toml").unwrap();
    assert_eq!(s.name, "t");
    assert!(matches!(s.load.model, LoadModel::Closed { .. }));
    assert_eq!(s.load.stages.len(), 1);
    assert_eq!(s.load.grace, std::time::Duration::from_secs(30));
    assert!(s.conversation.receipts);
    assert!(s.thresholds.is_empty());
    assert!(
        s.target.warm_up,
        "connections are opened before the plan by default"
    );
}

#[test]
fn warm_up_can_be_turned_off_and_says_so_in_the_resolved_file() {
    let s = scenario::parse(&format!("{BASE}[target]\nwarm_up = false\n"), "t.toml").unwrap();
    assert!(!s.target.warm_up);
    let written = s.to_toml();
    assert!(written.contains("\nwarm_up = false\n"), "{written}");
    assert_eq!(scenario::parse(&written, "again").unwrap(), s);

    let default = scenario::parse(BASE, "t.toml").unwrap().to_toml();
    assert!(default.contains("\nwarm_up = true\n"), "{default}");
}

#[test]
fn unknown_keys_are_reported_with_the_nearest_valid_key() {
    let cases = [
        (
            "name = \"t\"\n[load]\nstage = [{ duration = \"10s\", clients = 5 }]\n",
            "t.toml:3:1: unknown key \"stage\" in [load]; did you mean \"stages\"?",
        ),
        (
            "nmae = \"t\"\n",
            "t.toml:1:1: unknown key \"nmae\" at the top level; did you mean \"name\"?",
        ),
        (
            &format!("{BASE}[laod]\n"),
            "t.toml:4:2: unknown key \"laod\" at the top level; did you mean \"load\"?",
        ),
        (
            "name = \"t\"\n[load]\nstages = [{ duration = \"10s\", clints = 5 }]\n",
            "t.toml:3:31: unknown key \"clints\" in load.stages[0]; did you mean \"clients\"?",
        ),
        (
            &format!("{BASE}[conversation]\nmessages = {{ cont = 3 }}\n"),
            "t.toml:5:14: unknown key \"cont\" in conversation.messages; did you mean \"count\"?",
        ),
        (
            &format!("{BASE}[target]\nconnections = {{ mod = \"shared\" }}\n"),
            "t.toml:5:17: unknown key \"mod\" in target.connections; did you mean \"mode\"?",
        ),
        (
            &format!("{BASE}[mock]\nagnets = 5\n"),
            "t.toml:5:1: unknown key \"agnets\" in [mock]; did you mean \"agents\"?",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(error(text), expected);
    }
}

#[test]
fn wrong_types_and_values_name_the_key_and_its_position() {
    let cases = [
        (
            format!("{BASE}grace = 30\n"),
            "t.toml:4:9: load.grace: a duration needs a unit",
        ),
        (
            format!("{BASE}[conversation]\ntyping = \"yes\"\n"),
            "t.toml:5:10: conversation.typing: expected true or false, found the string \"yes\"",
        ),
        (
            format!("{BASE}[target]\nwarm_up = \"no\"\n"),
            "t.toml:5:11: target.warm_up: expected true or false, found the string \"no\"",
        ),
        (
            format!("{BASE}[target]\nwarm_up = 1\n"),
            "t.toml:5:11: target.warm_up: expected true or false",
        ),
        (
            format!("{BASE}[target]\nrequest_timeout = \"0s\"\n"),
            "t.toml:5:19: target.request_timeout: must be longer than zero",
        ),
        (
            format!("{BASE}[target]\napi = \"v3\"\n"),
            "t.toml:5:7: target.api: unknown value \"v3\"; did you mean \"v1\" or \"v2\"?",
        ),
        (
            format!("{BASE}[conversation]\nend = \"custmer\"\n"),
            "t.toml:5:7: conversation.end: unknown value \"custmer\"; did you mean \"customer\"?",
        ),
        (
            format!("{BASE}[conversation]\nmessages = {{ think = \"8s..2s\" }}\n"),
            "t.toml:5:22: conversation.messages.think: the range \"8s..2s\" starts above its end",
        ),
        (
            format!("{BASE}[conversation]\nupload = \"12 parsecs\"\n"),
            "t.toml:5:10: conversation.upload: expected a size such as",
        ),
    ];
    for (text, expected) in cases {
        let message = error(&text);
        assert!(
            message.starts_with(expected),
            "got: {message}\nwanted: {expected}"
        );
    }
}

#[test]
fn bad_stages_are_rejected() {
    let stages = |s: &str| format!("name = \"t\"\n[load]\nstages = [{s}]\n");
    let cases = [
        (
            stages(""),
            "t.toml:3:10: load.stages: needs at least one stage",
        ),
        (
            stages("{ duration = \"1s\", clients = -5 }"),
            "t.toml:3:40: load.stages[0].clients: must not be negative, found -5",
        ),
        (
            stages("{ duration = \"1s\", rate = -0.5 }"),
            "t.toml:3:37: load.stages[0].rate: must not be negative, found -0.5",
        ),
        (
            stages("{ duration = \"1s\", clients = 5, rate = 2 }"),
            "t.toml:3:43: load.stages[0].rate: a stage gives clients (closed model) or rate",
        ),
        (
            stages("{ duration = \"1s\", clients = 5 }, { duration = \"1s\", rate = 2 }"),
            "t.toml:3:64: load.stages[1].rate: the first stage gives clients but this one",
        ),
        (
            stages("{ duration = \"1s\" }"),
            "t.toml:3:11: load.stages[0]: a stage needs clients = N (closed model) or rate = R",
        ),
        (
            stages("{ duration = \"1s\", clients = 0 }"),
            "t.toml:3:10: load.stages: every stage's value is 0",
        ),
        (
            stages("{ duration = \"0s\", clients = 3 }"),
            "t.toml:3:10: load.stages: every stage lasts 0s",
        ),
        (
            stages("{ duration = \"-1s\", clients = 3 }"),
            "t.toml:3:24: load.stages[0].duration: expected a duration such as",
        ),
        (
            "name = \"t\"\n[load]\nmodel = \"open\"\n\
             stages = [{ duration = \"1s\", clients = 3 }]\n"
                .to_owned(),
            "t.toml:3:9: load.model: model \"open\" counts new chats per second",
        ),
        (
            format!("{BASE}arrival = \"poisson\"\n"),
            "t.toml:4:1: load.arrival: only applies to",
        ),
    ];
    for (text, expected) in cases {
        let message = error(&text);
        assert!(
            message.starts_with(expected),
            "got: {message}\nwanted: {expected}"
        );
    }
}

#[test]
fn conversation_checks_name_the_valid_choices() {
    let cases = [
        (
            format!("{BASE}[conversation]\npre_chat = [\"availabilty\"]\n"),
            "t.toml:5:13: conversation.pre_chat[0]: \"availabilty\" is not a method callable \
             without a chat; did you mean \"availability\"? valid: \"availability\", \"version\", \
             \"configuration\", \"parameters\" or \"iceservers\"",
        ),
        (
            format!("{BASE}[conversation]\nprobe = \"request_chat\"\n"),
            "t.toml:5:9: conversation.probe: \"request_chat\" is not a method callable without",
        ),
        (
            format!("{BASE}[target]\napi = \"v1\"\n[conversation]\nreceipts = true\n"),
            "t.toml:7:12: conversation.receipts: receipts need api = \"v2\"",
        ),
        (
            format!("{BASE}[target]\napi = \"v1\"\n[conversation]\npre_chat = [\"version\"]\n"),
            "t.toml:7:13: conversation.pre_chat[0]: \"version\" exists only in api = \"v2\"",
        ),
    ];
    for (text, expected) in cases {
        let message = error(&text);
        assert!(
            message.starts_with(expected),
            "got: {message}\nwanted: {expected}"
        );
    }
}

#[test]
fn receipts_default_off_on_v1() {
    let s = scenario::parse(&format!("{BASE}[target]\napi = \"v1\"\n"), "t.toml").unwrap();
    assert!(!s.conversation.receipts);
}

#[test]
fn malformed_toml_reports_the_parser_message_at_its_position() {
    let message = error("name = \"t\"\n[load\n");
    assert!(
        message.starts_with("t.toml:2:6: invalid TOML: "),
        "{message}"
    );

    let message = error("name = \"t\"\nname = \"u\"\n");
    assert!(
        message.starts_with("t.toml:2:1: invalid TOML: duplicate key"),
        "{message}"
    );
}

#[test]
fn missing_sections_say_what_to_add() {
    assert!(error("name = \"t\"\n").contains("missing key \"load\" at the top level"));
    assert!(error("[load]\nstages = []\n").contains("missing key \"name\""));
}

#[test]
fn thresholds_keep_file_order_and_join_dotted_keys() {
    let text = format!(
        "{BASE}[thresholds]\n\"version.p99\" = \"< 1s\"\navailability.p50 = \"< 2s\"\n\
         \"errors.rate\" = \"< 1%\"\n"
    );
    let s = scenario::parse(&text, "t.toml").unwrap();
    let names: Vec<&str> = s.thresholds.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["version.p99", "availability.p50", "errors.rate"]);
    assert_eq!(scenario::parse(&s.to_toml(), "again").unwrap(), s);
}

#[test]
fn a_fully_written_scenario_survives_to_toml_and_back() {
    let text = r#"
name = "full"
[target]
url = "https://chat.example.com:8443"
api = "v2"
http = "2"
connections = { mode = "shared", max = 64 }
ca_cert = "ca.pem"
insecure = true
source_addrs = ["127.0.0.1", "::1"]
webchat = true
warm_up = false
[load]
model = "open"
stages = [{ duration = "1m 30s", rate = 0.25 }, { duration = "250ms", rate = 12.5 }]
arrival = "poisson"
max_clients = 77
grace = "0s"
[conversation]
pre_chat = ["iceservers", "configuration"]
phone_number = "+15550100"
parameters = { name = "x", age = 42, vip = true, tags = ["a", "b"], nested = { k = 1.5 } }
messages = { count = 0, think = "0s", length = "1..2" }
upload = 1000
end = "abandon"
[mock]
reply_delay = "1s"
"#;
    let s: Scenario = scenario::parse(text, "full.toml").unwrap();
    assert_eq!(scenario::parse(&s.to_toml(), "again").unwrap(), s);
}

#[test]
fn overrides_that_break_the_scenario_name_the_flag() {
    let args = RunArgs {
        clients: Some(0),
        ..RunArgs::default()
    };
    let err = scenario::load(None, &args).unwrap_err();
    assert!(is_usage(&err));
    assert_eq!(err.to_string(), "--clients 0: must be at least 1");

    // A probe at a fixed rate is the constant-throughput benchmark.
    let args = RunArgs {
        rate: Some(5.0),
        ..RunArgs::default()
    };
    let probe = scenario::load(Some(&shipped("probe")), &args).unwrap();
    assert!(matches!(probe.load.model, LoadModel::Open { .. }));
}

#[test]
fn a_missing_file_is_a_usage_error_naming_it() {
    let err = scenario::load(Some(Path::new("no/such.toml")), &RunArgs::default()).unwrap_err();
    assert!(is_usage(&err));
    assert!(
        err.to_string()
            .starts_with("no/such.toml: cannot read the scenario"),
        "{err}"
    );
}

#[test]
fn validate_prints_the_plan() {
    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args(["validate", shipped("arrival").to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("embedded mock"));
    assert!(stdout.contains("open, poisson arrivals"));
    assert!(stdout.contains(" 5. 9m -> 10m"), "{stdout}");
    assert!(stdout.contains("6750 expected"), "{stdout}");
    assert!(
        stdout.contains("10m of stages + 1m grace = 11m"),
        "{stdout}"
    );
    assert!(stdout.contains("request_chat.p99 < 1s"));
}

#[test]
fn validate_exits_2_on_a_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "name = \"bad\"\n[load]\nstage = []\n").unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bad.toml:3:1: unknown key \"stage\" in [load]"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn stages_may_be_written_as_an_array_of_tables() {
    let inline = scenario::parse(BASE, "t.toml").unwrap();
    let text = "name = \"t\"\n[[load.stages]]\nduration = \"10s\"\nclients = 5\n";
    assert_eq!(scenario::parse(text, "t.toml").unwrap(), inline);
}

#[test]
fn end_by_agent_fits_the_embedded_mocks_idle_end_below_agent_timeout() {
    let text = format!("{BASE}[conversation]\nend = \"agent\"\nagent_timeout = \"20s\"\n");
    let s = scenario::parse(&text, "t.toml").unwrap();
    assert_eq!(s.mock.idle_end, std::time::Duration::from_secs(10));

    // A real target ends chats by its own rules; the mock's are left alone.
    let real = format!("{text}[target]\nurl = \"https://chat.test\"\n");
    let s = scenario::parse(&real, "t.toml").unwrap();
    assert_eq!(s.mock.idle_end, std::time::Duration::from_secs(120));

    let set = format!("{text}[mock]\nidle_end = \"5s\"\n");
    let s = scenario::parse(&set, "t.toml").unwrap();
    assert_eq!(s.mock.idle_end, std::time::Duration::from_secs(5));
}

#[test]
fn end_by_agent_refuses_an_idle_end_the_client_would_not_wait_for() {
    let text = format!(
        "{BASE}[conversation]\nend = \"agent\"\nagent_timeout = \"20s\"\n\
         [mock]\nidle_end = \"20s\"\n"
    );
    let message = error(&text);
    assert!(
        message.starts_with("t.toml:8:12: mock.idle_end: 20s"),
        "{message}"
    );
    assert!(
        message.contains("conversation.agent_timeout (20s)"),
        "{message}"
    );
    assert!(message.contains("make mock.idle_end shorter"), "{message}");
}

/// Every `.toml` in scenarios/, so that a scenario added later is checked
/// without being listed.
fn shipped_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_validates_and_runs_against_loopback_only() {
    let files = shipped_files();
    assert_eq!(files.len(), SHIPPED.len(), "{files:?}");
    for path in files {
        let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
            .args(["validate", path.to_str().unwrap()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}: {stderr}",
            path.display()
        );

        // Out of the box a scenario loads the embedded mock on 127.0.0.1,
        // never somebody's server; source addresses must reach it.
        let s = scenario::load(Some(&path), &RunArgs::default()).unwrap();
        assert_eq!(s.target.url, None, "{}", path.display());
        let outside = s.target.source_addrs.iter().find(|a| !a.is_loopback());
        assert_eq!(outside, None, "{}", path.display());
    }
}

#[test]
fn messages_longer_than_the_most_are_refused() {
    let ok = format!("{BASE}[conversation]\nmessages = {{ length = \"1000..65536\" }}\n");
    let s = scenario::parse(&ok, "t.toml").unwrap();
    assert_eq!(s.conversation.length.max, scenario::MAX_MESSAGE_LENGTH);

    let long = format!("{BASE}[conversation]\nmessages = {{ length = \"20..70000\" }}\n");
    let message = error(&long);
    assert!(
        message.contains("conversation.messages.length"),
        "{message}"
    );
    assert!(message.contains("70000 characters"), "{message}");
    assert!(message.contains("65536"), "{message}");
}

#[test]
fn the_quickstart_takes_every_step_of_a_chat() {
    use chatload::api::Endpoint;
    let s = scenario::load(None, &RunArgs::default()).unwrap();
    let c = &s.conversation;
    for endpoint in [
        Endpoint::Version,
        Endpoint::Availability,
        Endpoint::Configuration,
        Endpoint::Parameters,
        Endpoint::IceServers,
    ] {
        assert!(c.pre_chat.contains(&endpoint), "{endpoint:?}");
    }
    assert!(c.typing && c.receipts && c.wait_for_reply);
    assert!(c.upload_bytes.is_some() && c.messages.min > 0);
}

#[test]
fn validate_prints_how_requests_go_out() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("client.toml");
    let text = format!(
        "{BASE}[target]\nrequest_timeout = \"45s\"\nuser_agent = \"tester/1\"\nwebchat = true\n\
         source_addrs = [\"127.0.0.1\", \"127.0.0.3\"]\nca_cert = \"extra.pem\"\nwarm_up = false\n"
    );
    std::fs::write(&path, text).unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args(["validate", path.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for expected in [
        "request timeout 45s",
        "WebChat clients (cookie)",
        "User-Agent \"tester/1\"",
        "source addresses 127.0.0.1, 127.0.0.3",
        "ca_cert extra.pem not used",
        "idle chats ended after 2m",
        "no warm-up: connections opened by the first requests",
    ] {
        assert!(stdout.contains(expected), "{expected}: {stdout}");
    }
}
