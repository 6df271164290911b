//! The `chatload` binary under interruption, bad input and the security
//! defaults: each case runs the real executable, with a time limit, and
//! checks its exit code, its message and what it left on disk.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest any single run of the binary may take here.
const LIMIT: Duration = Duration::from_secs(60);

/// A short valid scenario against the embedded mock, with chats that send
/// messages, so that logs and results have something to show.
const SHORT: &str = r#"
name = "it-short"
[load]
model = "closed"
stages = [{ duration = "2s", clients = 4 }]
pause = "50ms"
grace = "2s"
[conversation]
messages = { count = "2", think = "50ms", length = "20..60" }
agent_timeout = "5s"
[mock]
reply_delay = "10ms..30ms"
poll_hold = "1s"
"#;

/// About twenty seconds of chats that last a few seconds each, so that an
/// interrupt always finds chats in progress.
const LONG: &str = r#"
name = "it-interrupt"
[load]
model = "closed"
stages = [{ duration = "1s", clients = 20 }, { duration = "19s", clients = 20 }]
pause = "100ms"
grace = "5s"
[conversation]
messages = { count = "3..5", think = "500ms..1s", length = "10..40" }
agent_timeout = "5s"
end = "customer"
[mock]
reply_delay = "50ms..100ms"
poll_hold = "2s"
"#;

/// How a run of the binary ended.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A scratch directory with a scenario file in it; the binary runs there,
/// so a default results directory would land inside it too.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write a scratch file");
        path.display().to_string()
    }

    /// Starts the binary with `args`; stdout and stderr go to files, so a
    /// chatty child can never block on a full pipe.
    fn spawn(&self, args: &[&str]) -> Child {
        let out = std::fs::File::create(self.path("stdout.txt")).expect("stdout file");
        let err = std::fs::File::create(self.path("stderr.txt")).expect("stderr file");
        Command::new(env!("CARGO_BIN_EXE_chatload"))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env_remove("CHATLOAD_LOG")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the chatload binary starts")
    }

    /// Waits for `child` up to `limit`; kills it and fails past that.
    fn wait(&self, mut child: Child, limit: Duration) -> Finished {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for chatload") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chatload did not end within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let read = |name| std::fs::read_to_string(self.path(name)).unwrap_or_default();
        Finished {
            status,
            stdout: read("stdout.txt"),
            stderr: read("stderr.txt"),
        }
    }

    fn run(&self, args: &[&str]) -> Finished {
        let child = self.spawn(args);
        self.wait(child, LIMIT)
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {name} failed");
}

/// Waits until `path` exists: the run creates its results directory once
/// the target answered, just before the load starts.
fn wait_for(path: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_summary(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json written");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

fn number(summary: &Value, path: &[&str]) -> u64 {
    let value = path.iter().fold(summary, |v, key| &v[key]);
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{path:?} in {summary:#}"))
}

/// Checks that the results of a run are whole: summary.json parses with
/// every chat accounted for, and latency.hlog reads back.
fn assert_complete_results(dir: &Path) -> Value {
    let summary = read_summary(dir);
    let chats = |key| number(&summary, &["chats", key]);
    let ended = chats("completed") + chats("failed") + chats("interrupted");
    assert_eq!(chats("started"), ended, "every chat ended: {summary:#}");

    let intervals = chatload::report::read_hlog(&dir.join("latency.hlog")).expect("hlog parses");
    assert!(
        intervals.iter().any(|i| i.tag == "request_chat"),
        "request_chat intervals in latency.hlog"
    );
    summary
}

/// Interrupts a run of [`LONG`] once its load has started; returns the
/// child and the results directory.
fn interrupted_run(scratch: &Scratch) -> (Child, PathBuf) {
    let scenario = scratch.write("long.toml", LONG);
    let out = scratch.path("out");
    let out_arg = out.display().to_string();
    let child = scratch.spawn(&["run", &scenario, "--out", &out_arg, "-q"]);
    wait_for(&out, Duration::from_secs(20));
    // Long enough for chats to be under way, well short of the 20 s plan.
    std::thread::sleep(Duration::from_secs(3));
    signal(&child, "-INT");
    (child, out)
}

#[test]
fn an_interrupted_run_ends_its_chats_and_writes_whole_results() {
    let scratch = Scratch::new();
    let (child, out) = interrupted_run(&scratch);
    let interrupted_at = Instant::now();
    let finished = scratch.wait(child, Duration::from_secs(30));

    // 10 s is the longest the workers wait for chats to end.
    assert!(interrupted_at.elapsed() < Duration::from_secs(15));
    assert!(
        matches!(finished.code(), Some(0 | 1)),
        "a finished run's code: {:?}\n{}",
        finished.status,
        finished.stderr
    );
    assert!(
        finished.stderr.contains("interrupted"),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stdout.contains("ended by the run"),
        "{}",
        finished.stdout
    );

    let summary = assert_complete_results(&out);
    assert!(
        number(&summary, &["chats", "interrupted"]) > 0,
        "{summary:#}"
    );
    let duration = summary["duration_s"].as_f64().unwrap_or(f64::MAX);
    assert!(duration < 15.0, "the run stopped early: {duration}");
}

/// [`LONG`] with every Send Events held 6 s by the mock, so that ending
/// the chats after a first interrupt takes seconds.
fn slow_to_end() -> String {
    format!(
        "{LONG}\n[[mock.faults]]\nkind = \"latency\"\nendpoints = [\"send_events\"]\n\
         delay = \"6s\"\n"
    )
}

#[test]
fn a_second_interrupt_skips_the_grace_and_still_writes_results() {
    let scratch = Scratch::new();
    let scenario = scratch.write("slow.toml", &slow_to_end());
    let out = scratch.path("out");
    let child = scratch.spawn(&["run", &scenario, "--out", &out.display().to_string(), "-q"]);
    wait_for(&out, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    signal(&child, "-INT");

    // Every chat_session_end takes 6 s, so the run is still ending; a
    // second interrupt must cut that short.
    std::thread::sleep(Duration::from_secs(1));
    signal(&child, "-INT");
    let second_at = Instant::now();
    let finished = scratch.wait(child, Duration::from_secs(30));

    assert!(
        second_at.elapsed() < Duration::from_secs(4),
        "the second interrupt did not stop the run at once: {:?}",
        second_at.elapsed()
    );
    assert!(
        matches!(finished.code(), Some(0 | 1)),
        "{:?}\n{}",
        finished.status,
        finished.stderr
    );
    assert!(
        finished.stderr.contains("stopping at once"),
        "{}",
        finished.stderr
    );
    let summary = assert_complete_results(&out);
    assert!(number(&summary, &["chats", "started"]) > 0, "{summary:#}");
}

#[test]
fn sigterm_ends_a_run_like_an_interrupt() {
    let scratch = Scratch::new();
    let scenario = scratch.write("long.toml", LONG);
    let out = scratch.path("out");
    let child = scratch.spawn(&["run", &scenario, "--out", &out.display().to_string(), "-q"]);
    wait_for(&out, Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(2));
    signal(&child, "-TERM");
    let finished = scratch.wait(child, Duration::from_secs(30));

    assert!(
        matches!(finished.code(), Some(0 | 1)),
        "{}",
        finished.stderr
    );
    assert_complete_results(&out);
}

#[test]
fn an_existing_results_directory_is_refused_and_left_alone() {
    let scratch = Scratch::new();
    let scenario = scratch.write("short.toml", SHORT);
    let out = scratch.path("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("summary.json"), "earlier run").unwrap();

    let out_arg = out.display().to_string();
    let finished = scratch.run(&["run", &scenario, "--out", &out_arg, "-q"]);
    assert_eq!(finished.code(), Some(2), "{}", finished.stderr);
    assert!(finished.stderr.contains(&out_arg), "{}", finished.stderr);

    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["summary.json"]);
    let kept = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(kept, "earlier run");
}

/// One row of bad input: what to run, the exit code DESIGN.md gives, and
/// the words the message must hold to say what is wrong and where.
struct Refusal {
    case: &'static str,
    args: Vec<String>,
    code: i32,
    says: Vec<String>,
}

impl Refusal {
    fn new(case: &'static str, args: &[&str], code: i32, says: &[&str]) -> Refusal {
        Refusal {
            case,
            args: args.iter().map(|s| s.to_string()).collect(),
            code,
            says: says.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn check(&self, scratch: &Scratch) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let finished = scratch.run(&args);
        assert_eq!(
            finished.code(),
            Some(self.code),
            "{}: {}",
            self.case,
            finished.stderr
        );
        for words in &self.says {
            assert!(
                finished.stderr.contains(words.as_str()),
                "{}: message lacks {words:?}: {}",
                self.case,
                finished.stderr
            );
        }
    }
}

const STAGE: &str = r#"stages = [{ duration = "1s", clients = 1 }]"#;

/// Scenario files that are wrong, each with the message it must give.
fn bad_scenarios() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let with_load = |load: &str| format!("name = \"x\"\n[load]\n{load}\n");
    vec![
        (
            "malformed TOML",
            "name = \"x\n".to_owned(),
            vec!["bad.toml:1:", "invalid TOML"],
        ),
        (
            "unknown key",
            format!("name = \"x\"\n[lod]\n{STAGE}\n"),
            vec!["bad.toml:2:", "\"lod\"", "did you mean \"load\""],
        ),
        (
            "wrong type",
            with_load(r#"stages = [{ duration = "1s", clients = "ten" }]"#),
            vec!["bad.toml:3:", "load.stages[0].clients", "\"ten\""],
        ),
        (
            "zero duration",
            with_load(r#"stages = [{ duration = "0s", clients = 1 }]"#),
            vec!["bad.toml:3:", "load.stages", "0s"],
        ),
        (
            "negative duration",
            with_load(r#"stages = [{ duration = "-1s", clients = 1 }]"#),
            vec!["bad.toml:3:", "load.stages[0].duration", "-1s"],
        ),
        (
            "zero clients",
            with_load(r#"stages = [{ duration = "1s", clients = 0 }]"#),
            vec!["bad.toml:3:", "load.stages", "0"],
        ),
        (
            "negative clients",
            with_load(r#"stages = [{ duration = "1s", clients = -1 }]"#),
            vec!["bad.toml:3:", "load.stages[0].clients", "-1"],
        ),
        (
            "zero rate",
            with_load("model = \"open\"\nstages = [{ duration = \"1s\", rate = 0 }]"),
            vec!["bad.toml:4:", "load.stages"],
        ),
        (
            "negative rate",
            with_load("model = \"open\"\nstages = [{ duration = \"1s\", rate = -2 }]"),
            vec!["bad.toml:4:", "load.stages[0].rate", "-2"],
        ),
        (
            "no stages",
            with_load("stages = []"),
            vec!["bad.toml:3:", "load.stages", "at least one stage"],
        ),
        (
            "no load at all",
            "name = \"x\"\n".to_owned(),
            vec!["bad.toml:", "[load]"],
        ),
        (
            "both clients and rate",
            with_load(r#"stages = [{ duration = "1s", clients = 1, rate = 2 }]"#),
            vec!["bad.toml:3:", "load.stages[0].rate", "not both"],
        ),
    ]
}

#[test]
fn bad_scenarios_are_refused_with_their_place_and_exit_code_2() {
    let scratch = Scratch::new();
    for (case, text, says) in bad_scenarios() {
        let file = scratch.write("bad.toml", &text);
        let out = scratch.path("out").display().to_string();
        Refusal::new(case, &["run", &file, "--out", &out, "-q"], 2, &says).check(&scratch);
    }
}

#[test]
fn bad_flags_are_refused_with_the_flag_and_exit_code_2() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out").display().to_string();
    let rows = [
        (
            "zero --clients",
            vec!["--clients", "0"],
            vec!["--clients 0"],
        ),
        (
            "zero --duration",
            vec!["--duration", "0s"],
            vec!["--duration 0s"],
        ),
        ("negative --rate", vec!["--rate=-5"], vec!["--rate -5"]),
        (
            "negative --clients",
            vec!["--clients=-1"],
            vec!["--clients", "-1"],
        ),
        (
            "both --clients and --rate",
            vec!["--clients", "2", "--rate", "2"],
            vec!["--rate"],
        ),
    ];
    for (case, extra, says) in rows {
        let mut args = vec!["run", &file, "--out", &out, "-q"];
        args.extend(extra);
        Refusal::new(case, &args, 2, &says).check(&scratch);
    }
}

#[test]
fn a_missing_or_invalid_ca_file_is_named() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out").display().to_string();
    let missing = scratch.path("missing.pem").display().to_string();
    let garbage = scratch.write("garbage.pem", "not a certificate\n");
    let target = "https://127.0.0.1:9";

    for (case, ca) in [("missing CA file", &missing), ("invalid CA file", &garbage)] {
        let args = [
            "run",
            &file,
            "--out",
            &out,
            "-q",
            "--target",
            target,
            "--ca-cert",
            ca,
        ];
        Refusal::new(case, &args, 2, &["--ca-cert", ca]).check(&scratch);
    }
}

#[test]
fn a_target_that_refuses_connections_stops_the_run_with_exit_code_3() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out");
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let target = format!("http://127.0.0.1:{port}");

    let args = [
        "run",
        &file,
        "--out",
        &out.display().to_string(),
        "-q",
        "--target",
        &target,
    ];
    Refusal::new("refused", &args, 3, &[&target, "cannot be reached"]).check(&scratch);
    assert!(
        !out.exists(),
        "no results directory for a run that never started"
    );
}

/// `chatload serve` on a loopback port; killed on drop.
struct Served {
    child: Child,
    url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--reply-delay",
            "10ms..20ms",
        ])
        .args(["--poll-hold", "1s"])
        .args(extra)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chatload serve starts");
    let stdout = child.stdout.take().expect("serve's stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("serve prints its URL");
    Served {
        child,
        url: line.trim().to_owned(),
    }
}

#[test]
fn a_certificate_for_another_name_stops_the_run_with_exit_code_3() {
    let scratch = Scratch::new();
    let made = rcgen::generate_simple_self_signed(vec!["other.example".to_owned()]).unwrap();
    let cert = scratch.write("other.pem", &made.cert.pem());
    let key = scratch.write("other.key", &made.signing_key.serialize_pem());
    let served = serve(&["--cert", &cert, "--key", &key]);
    assert!(
        served.url.starts_with("https://127.0.0.1:"),
        "{}",
        served.url
    );

    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out").display().to_string();
    let args = [
        "run",
        &file,
        "--out",
        &out,
        "-q",
        "--target",
        &served.url,
        "--ca-cert",
        &cert,
    ];
    Refusal::new(
        "name mismatch",
        &args,
        3,
        &[served.url.as_str(), "certificate"],
    )
    .check(&scratch);
}

#[test]
fn an_unwritable_results_directory_stops_the_run_with_exit_code_3() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    // A directory inside a regular file cannot be made, even by root.
    let blocker = scratch.write("a-file", "");
    let out = format!("{blocker}/results");
    let args = ["run", &file, "--out", &out, "-q"];
    Refusal::new("unwritable --out", &args, 3, &[&out, "--out"]).check(&scratch);
}

#[test]
fn a_threshold_on_an_unknown_endpoint_is_refused_with_the_nearest_name() {
    let scratch = Scratch::new();
    let text =
        format!("name = \"x\"\n[load]\n{STAGE}\n[thresholds]\n\"request_chta.p99\" = \"< 1s\"\n");
    let file = scratch.write("bad.toml", &text);
    let out = scratch.path("out").display().to_string();
    let says = ["bad.toml:5:", "request_chta", "request_chat"];
    Refusal::new(
        "threshold endpoint",
        &["run", &file, "--out", &out, "-q"],
        2,
        &says,
    )
    .check(&scratch);
}

#[test]
fn an_invalid_segment_is_refused() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out").display().to_string();
    for segment in ["3/2", "0/2", "1-2", "x"] {
        let args = ["run", &file, "--out", &out, "-q", "--segment", segment];
        Refusal::new("segment", &args, 2, &["--segment", segment]).check(&scratch);
    }
}

#[test]
fn report_of_a_missing_results_directory_is_refused() {
    let scratch = Scratch::new();
    let missing = scratch.path("no-such-run").display().to_string();
    Refusal::new("report", &["report", &missing], 2, &[&missing]).check(&scratch);
}

#[test]
fn compare_with_a_missing_results_directory_is_refused() {
    let scratch = Scratch::new();
    let missing = scratch.path("no-such-run").display().to_string();
    let args = ["compare", &missing, &missing];
    Refusal::new("compare", &args, 2, &[&missing]).check(&scratch);
}

#[test]
fn merge_of_a_missing_results_directory_is_refused() {
    let scratch = Scratch::new();
    let missing = scratch.path("no-such-run").display().to_string();
    let out = scratch.path("merged").display().to_string();
    let args = ["merge", &missing, "--out", &out];
    Refusal::new("merge", &args, 2, &[&missing]).check(&scratch);
}

#[test]
fn a_run_against_the_embedded_mock_verifies_certificates() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out");
    let finished = scratch.run(&["run", &file, "--out", &out.display().to_string(), "-q"]);
    assert!(
        matches!(finished.code(), Some(0 | 1)),
        "{}",
        finished.stderr
    );

    let summary = read_summary(&out);
    assert_eq!(summary["insecure"], Value::Bool(false), "{summary:#}");
    let warnings = summary["warnings"].to_string();
    assert!(!warnings.contains("insecure"), "{warnings}");
}

#[test]
fn a_tls_target_is_verified_unless_insecure_is_asked_for_and_then_reported() {
    let scratch = Scratch::new();
    let served = serve(&[]);
    let file = scratch.write("ok.toml", SHORT);

    let refused = scratch.path("refused").display().to_string();
    let args = [
        "run",
        &file,
        "--out",
        &refused,
        "-q",
        "--target",
        &served.url,
    ];
    Refusal::new("unknown issuer", &args, 3, &[served.url.as_str()]).check(&scratch);

    let out = scratch.path("insecure");
    let out_arg = out.display().to_string();
    let args = [
        "run",
        &file,
        "--out",
        &out_arg,
        "-q",
        "--target",
        &served.url,
        "--insecure",
    ];
    let finished = scratch.run(&args);
    assert!(
        matches!(finished.code(), Some(0 | 1)),
        "{}",
        finished.stderr
    );
    assert!(
        finished.stdout.contains("insecure"),
        "summary warns: {}",
        finished.stdout
    );

    let summary = read_summary(&out);
    assert_eq!(summary["insecure"], Value::Bool(true), "{summary:#}");
    assert!(
        summary["warnings"].to_string().contains("insecure"),
        "{summary:#}"
    );
    assert!(number(&summary, &["chats", "completed"]) > 0, "{summary:#}");
}

#[test]
fn info_logs_carry_no_authorization_and_no_message_text() {
    let scratch = Scratch::new();
    let file = scratch.write("ok.toml", SHORT);
    let out = scratch.path("out");
    let out_arg = out.display().to_string();
    let finished = scratch.run(&["run", &file, "--out", &out_arg, "-q", "--log", "info"]);
    assert!(
        matches!(finished.code(), Some(0 | 1)),
        "{}",
        finished.stderr
    );

    // Info logs were on: the lifecycle lines are there.
    assert!(
        finished.stderr.contains("results written"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("MOBILE-API-140-327-PLAIN"),
        "{}",
        finished.stderr
    );
    // Every customer message is cut from one text that opens with this.
    assert!(
        !finished.stderr.contains("Hello, I have"),
        "{}",
        finished.stderr
    );
    assert!(
        !finished.stderr.contains("chat_session_message"),
        "{}",
        finished.stderr
    );
    let summary = read_summary(&out);
    assert!(
        number(&summary, &["endpoints", "send_events", "count"]) > 0,
        "{summary:#}"
    );
}

/// Waits until the first line of `path` is complete and returns it.
fn first_line(path: &Path, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if let Some((line, _)) = text.split_once('\n') {
            return line.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "nothing printed within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Starts `chatload serve` with a fresh certificate written to the scratch
/// directory; returns the child, its URL and the certificate's path.
fn serve_with_cert_out(scratch: &Scratch) -> (Child, String, PathBuf) {
    let cert = scratch.path("cert.pem");
    let cert_arg = cert.display().to_string();
    let args = ["serve", "--listen", "127.0.0.1:0", "--cert-out", &cert_arg];
    let child = scratch.spawn(&args);
    let url = first_line(&scratch.path("stdout.txt"), LIMIT);
    (child, url, cert)
}

/// GET `url` over HTTPS, trusting only the certificate in `cert`.
fn get_trusting(url: &str, cert: &Path) -> (http::StatusCode, bytes::Bytes) {
    use http_body_util::{BodyExt, Empty};
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(cert).expect("the certificate file reads") {
        roots
            .add(der.expect("a PEM certificate"))
            .expect("a usable root");
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, Empty<bytes::Bytes>>(connector);
        let request = client.get(url.parse().expect("a URL"));
        let response = tokio::time::timeout(LIMIT, request)
            .await
            .expect("an answer in time")
            .expect("the HTTPS request succeeds");
        let status = response.status();
        let body = response.into_body().collect().await.expect("a body");
        (status, body.to_bytes())
    })
}

/// The signals a process catches, from Linux's `/proc`, or None elsewhere.
fn caught_signals(child: &Child) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    let mask = status.lines().find_map(|l| l.strip_prefix("SigCgt:"))?;
    u64::from_str_radix(mask.trim(), 16).ok()
}

#[test]
fn serve_answers_over_its_certificate_and_stops_cleanly_on_sigterm() {
    let scratch = Scratch::new();
    let (child, url, cert) = serve_with_cert_out(&scratch);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let (status, body) = get_trusting(&format!("{url}{}", chatload::mock::STATS_PATH), &cert);
    assert_eq!(status, http::StatusCode::OK);
    let stats: chatload::mock::StatsSnapshot = serde_json::from_slice(&body).expect("stats JSON");
    assert_eq!(stats.active_chats, 0);

    signal(&child, "-TERM");
    let finished = scratch.wait(child, Duration::from_secs(30));
    assert_eq!(
        finished.code(),
        Some(0),
        "{:?}\n{}",
        finished.status,
        finished.stderr
    );
}

#[test]
fn serve_catches_sigterm_from_the_moment_it_prints_its_url() {
    // SIGTERM's and SIGINT's bits in a signal mask.
    const TERM_AND_INT: u64 = (1 << (15 - 1)) | (1 << (2 - 1));
    // The window this guards was microseconds wide, so a regression shows
    // only now and then here; the unit test of the handlers in
    // src/mock/command.rs catches it every time.
    for round in 0..3 {
        let scratch = Scratch::new();
        let (child, url, _) = serve_with_cert_out(&scratch);
        if let Some(mask) = caught_signals(&child) {
            assert_eq!(mask & TERM_AND_INT, TERM_AND_INT, "round {round}: {mask:x}");
        }
        signal(&child, "-TERM");
        let finished = scratch.wait(child, Duration::from_secs(30));
        assert_eq!(
            finished.code(),
            Some(0),
            "round {round}, {url}: {:?}\n{}",
            finished.status,
            finished.stderr
        );
    }
}
