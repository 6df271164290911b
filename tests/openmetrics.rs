//! The live metrics endpoint: its text checked against the OpenMetrics
//! rules by a small parser, and the server scraped on a loopback port
//! while figures keep arriving, as during a run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chatload::api::Endpoint;
use chatload::metrics::{ErrorKind, Measure, Outcome, Snapshot, WorkerMetrics};
use chatload::report::openmetrics::{self, CONTENT_TYPE, LiveMetrics};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MS: Duration = Duration::from_millis(1);

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses OpenMetrics text and checks the rules a scraper relies on:
/// every family declared once with `# TYPE` before its samples, which
/// follow it without another family between; sample names that fit their
/// type (counters end in `_total`); histograms whose buckets rise, end
/// with `le="+Inf"` and match `_count`; and `# EOF` as the last line.
fn check_openmetrics(text: &str) -> Result<Vec<Sample>, String> {
    let lines: Vec<&str> = text
        .strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect();
    if lines.last() != Some(&"# EOF") {
        return Err("the last line is not `# EOF`".into());
    }

    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    let mut samples = Vec::new();

    for (n, line) in lines[..lines.len() - 1].iter().enumerate() {
        let at = |msg: String| format!("line {}: {msg}: `{line}`", n + 1);
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let (keyword, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let detail = parts.next().unwrap_or("");
            check_name(name).map_err(at)?;
            match keyword {
                "TYPE" => {
                    if types.contains_key(name) {
                        return Err(at(format!("family {name} declared twice")));
                    }
                    if !["counter", "gauge", "histogram"].contains(&detail) {
                        return Err(at(format!("unexpected type {detail}")));
                    }
                    current = Some(name.to_owned());
                    types.insert(name.to_owned(), detail.to_owned());
                }
                "HELP" | "UNIT" if current.as_deref() == Some(name) => {}
                "UNIT" | "HELP" => return Err(at("metadata outside its family".into())),
                _ => return Err(at("unknown comment".into())),
            }
            continue;
        }

        let sample = parse_sample(line).map_err(at)?;
        let family = current
            .as_deref()
            .ok_or_else(|| at("sample before any # TYPE".into()))?;
        let kind = &types[family];
        let suffix = sample.name.strip_prefix(family).unwrap_or("?");
        let allowed: &[&str] = match kind.as_str() {
            "counter" => &["_total"],
            "gauge" => &[""],
            _ => &["_bucket", "_sum", "_count"],
        };
        // Samples belong to the family declared last, so one that resumes
        // an earlier family fails here by name.
        if !allowed.contains(&suffix) {
            return Err(at(format!(
                "sample does not belong to the {kind} family {family}"
            )));
        }
        samples.push(sample);
    }

    check_histograms(&types, &samples)?;
    Ok(samples)
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(format!("`{name}` is not a metric name"))
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let (head, value) = line.rsplit_once(' ').ok_or("no value")?;
    let value: f64 = value
        .parse()
        .map_err(|_| format!("value `{value}` is not a number"))?;
    let (name, labels) = match head.split_once('{') {
        Some((name, rest)) => {
            let body = rest.strip_suffix('}').ok_or("unclosed label set")?;
            (name, parse_labels(body)?)
        }
        None => (head, BTreeMap::new()),
    };
    check_name(name)?;
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

fn parse_labels(body: &str) -> Result<BTreeMap<String, String>, String> {
    let mut labels = BTreeMap::new();
    for pair in body.split(',').filter(|p| !p.is_empty()) {
        let (key, quoted) = pair
            .split_once('=')
            .ok_or(format!("label `{pair}` has no ="))?;
        let value = quoted
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(format!("label value `{quoted}` is not quoted"))?;
        check_name(key)?;
        if labels.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!("label {key} repeated"));
        }
    }
    Ok(labels)
}

/// Labels of a histogram series, `le` left out.
type LabelSet = Vec<(String, String)>;

/// Per histogram and label set: le rising, counts cumulative, `+Inf` last
/// and equal to `_count`.
fn check_histograms(types: &BTreeMap<String, String>, samples: &[Sample]) -> Result<(), String> {
    for (family, _) in types.iter().filter(|(_, kind)| *kind == "histogram") {
        let bucket_name = format!("{family}_bucket");
        let mut series: BTreeMap<LabelSet, Vec<(f64, f64)>> = BTreeMap::new();
        for sample in samples.iter().filter(|s| s.name == bucket_name) {
            let le = sample.labels.get("le").ok_or("bucket without le")?;
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().map_err(|_| le)?
            };
            let key = sample.labels.iter().filter(|(k, _)| *k != "le");
            let key = key.map(|(k, v)| (k.clone(), v.clone())).collect();
            series.entry(key).or_default().push((bound, sample.value));
        }
        for (key, buckets) in series {
            let rising = buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
            let last = buckets.last().copied().unwrap_or((0.0, 0.0));
            if !rising || last.0 != f64::INFINITY {
                return Err(format!("{family} {key:?}: buckets {buckets:?}"));
            }
            let count = samples.iter().find(|s| {
                s.name == format!("{family}_count")
                    && s.labels.iter().eq(key.iter().map(|(k, v)| (k, v)))
            });
            if count.map(|s| s.value) != Some(last.1) {
                return Err(format!(
                    "{family} {key:?}: _count differs from the +Inf bucket"
                ));
            }
        }
    }
    Ok(())
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && s.labels.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v))
        })
        .map(|s| s.value)
}

/// One second of a run: chat requests, polls (some timing out), a chat
/// measure, chats started and dropped.
fn second(requests: u64, clients: u64) -> Snapshot {
    let now = Instant::now();
    let mut worker = WorkerMetrics::new();
    for n in 0..requests {
        let done = now + MS * (2 + n as u32);
        worker.record_request(Endpoint::RequestChat, now, now, done, Outcome::Status(200));
        let outcome = if n == 0 {
            Outcome::Error(ErrorKind::Timeout)
        } else {
            Outcome::Status(200)
        };
        worker.record_request(Endpoint::PollEvents, now, now, now + MS * 5000, outcome);
        worker.chat_started();
        worker.record_measure(Measure::QueueWait, MS * 250);
    }
    worker.chat_dropped();
    worker.chat_ended_by_server();
    worker.set_active(clients, clients - 1);
    worker.take()
}

#[test]
fn the_text_parses_as_openmetrics_with_the_run_s_figures() {
    let live = LiveMetrics::new();
    assert!(
        check_openmetrics(&live.render()).is_ok(),
        "an empty run is valid too"
    );
    live.update(&second(5, 20));
    live.update(&second(3, 12));

    let text = live.render();
    let samples = check_openmetrics(&text).unwrap_or_else(|err| panic!("{err}\n{text}"));

    let requests = "chatload_requests_total";
    let ok = [("endpoint", "request_chat"), ("status", "200")];
    assert_eq!(value(&samples, requests, &ok), Some(8.0));
    let none = [("endpoint", "poll_events"), ("status", "none")];
    assert_eq!(value(&samples, requests, &none), Some(2.0));
    assert_eq!(
        value(&samples, "chatload_errors_total", &[("kind", "timeout")]),
        Some(2.0)
    );
    assert_eq!(value(&samples, "chatload_active_clients", &[]), Some(12.0));
    assert_eq!(value(&samples, "chatload_active_chats", &[]), Some(11.0));
    assert_eq!(
        value(&samples, "chatload_chats_total", &[("outcome", "started")]),
        Some(8.0)
    );
    assert_eq!(
        value(&samples, "chatload_chats_dropped_total", &[]),
        Some(2.0)
    );
    let by_server = [("outcome", "ended_by_server")];
    assert_eq!(
        value(&samples, "chatload_chats_total", &by_server),
        Some(2.0)
    );

    let count = "chatload_request_duration_seconds_count";
    assert_eq!(
        value(&samples, count, &[("endpoint", "poll_events")]),
        Some(8.0)
    );
    let under_5s = [("endpoint", "poll_events"), ("le", "2.5")];
    let bucket = "chatload_request_duration_seconds_bucket";
    assert_eq!(value(&samples, bucket, &under_5s), Some(0.0));
    let wait = [("measure", "queue_wait"), ("le", "0.25")];
    assert_eq!(
        value(&samples, "chatload_chat_measure_seconds_bucket", &wait),
        Some(8.0)
    );
}

#[test]
fn the_checker_rejects_what_a_scraper_would() {
    let cases = [
        "# TYPE a counter\na 1\n# EOF\n",
        "# TYPE a gauge\na 1\n",
        "a 1\n# EOF\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n# EOF\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n# EOF\n",
        "# TYPE a gauge\n# TYPE b gauge\nb 1\na 2\n# EOF\n",
    ];
    for case in cases {
        assert!(check_openmetrics(case).is_err(), "accepted: {case}");
    }
    assert!(check_openmetrics("# TYPE a counter\na_total 1\n# EOF\n").is_ok());
}

/// One HTTP/1.1 GET over a fresh connection: status, headers, body.
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String, String) {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        String::from_utf8(raw).unwrap()
    };
    let raw = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .expect("the metrics server answers within 10 s");

    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let status = head[9..12].parse().unwrap();
    (status, head.to_lowercase(), body.to_owned())
}

#[tokio::test]
async fn the_endpoint_answers_while_figures_arrive_and_stops_on_shutdown() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let live = LiveMetrics::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(openmetrics::serve(listener, Arc::clone(&live), async {
        let _ = stopped.await;
    }));

    live.update(&second(2, 4));
    let (status, head, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        head.contains(&format!("content-type: {CONTENT_TYPE}")),
        "{head}"
    );
    let first = check_openmetrics(&body).unwrap_or_else(|err| panic!("{err}\n{body}"));

    live.update(&second(4, 6));
    let (_, _, body) = get(addr, "/metrics").await;
    let later = check_openmetrics(&body).unwrap_or_else(|err| panic!("{err}\n{body}"));
    let chats = |s: &[Sample]| value(s, "chatload_chats_total", &[("outcome", "started")]);
    assert_eq!((chats(&first), chats(&later)), (Some(2.0), Some(6.0)));

    let (status, _, body) = get(addr, "/").await;
    assert_eq!(status, 404);
    assert!(body.contains("/metrics"), "{body}");

    stop.send(()).unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), server).await;
    ended
        .expect("serve returns after shutdown")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port is closed"
    );
}

/// The metric names a PromQL expression uses: words starting `chatload_`.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = expr;
    while let Some(at) = rest.find("chatload_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.push(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// The label names of every `by (...)` clause in a PromQL expression.
fn grouping_labels(expr: &str) -> Vec<String> {
    expr.split("by (")
        .skip(1)
        .filter_map(|part| part.split_once(')'))
        .flat_map(|(labels, _)| labels.split(',').map(|l| l.trim().to_owned()))
        .collect()
}

/// Every PromQL expression of the dashboard: panel targets and variable
/// queries.
fn dashboard_queries(dashboard: &serde_json::Value) -> Vec<String> {
    let panels = dashboard["panels"].as_array().expect("panels");
    let targets = panels
        .iter()
        .filter_map(|p| p["targets"].as_array())
        .flatten()
        .filter_map(|t| t["expr"].as_str());
    let variables = dashboard["templating"]["list"].as_array().unwrap();
    let definitions = variables.iter().filter_map(|v| v["definition"].as_str());
    targets.chain(definitions).map(str::to_owned).collect()
}

/// The shipped Grafana dashboard asks only for series the endpoint
/// serves, grouped only by labels those series carry, so no panel stays
/// empty after a rename; missed arrivals have a panel of their own.
#[test]
fn the_grafana_dashboard_queries_only_what_the_endpoint_serves() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/grafana/chatload.json");
    let text = std::fs::read_to_string(path).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("the dashboard parses");

    let live = LiveMetrics::new();
    live.update(&second(3, 5));
    let samples = check_openmetrics(&live.render()).unwrap();
    let served = |name: &str| samples.iter().any(|s| s.name == name);
    // Prometheus adds `job` to every series it scrapes.
    let labelled = |name: &str, label: &str| {
        label == "job"
            || samples
                .iter()
                .any(|s| s.name == name && s.labels.contains_key(label))
    };

    let queries = dashboard_queries(&dashboard);
    assert!(queries.len() > 10, "{queries:?}");
    for query in &queries {
        let names = metric_names(query);
        assert!(!names.is_empty(), "a query of no chatload series: {query}");
        for name in &names {
            assert!(served(name), "{name} is not served; in {query}");
        }
        for label in grouping_labels(query) {
            let carried = names.iter().any(|n| labelled(n, &label));
            assert!(carried, "no series of {query} carries the label {label}");
        }
    }
    assert!(
        queries
            .iter()
            .any(|q| q.contains("chatload_chats_missed_total")),
        "a panel shows missed arrivals"
    );

    let panels = dashboard["panels"].as_array().unwrap();
    let mut ids: Vec<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), panels.len(), "panel ids are unique");
    for panel in panels {
        let grid = &panel["gridPos"];
        let right = grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap();
        assert!(
            right <= 24,
            "{} is wider than the dashboard",
            panel["title"]
        );
    }
}

/// A real run with `--metrics-addr 127.0.0.1:0`: the binary says where it
/// listens, and scrapes during the run parse as OpenMetrics and count the
/// run's requests as they grow.
#[test]
fn a_real_run_serves_its_figures_while_it_goes() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("probe.toml");
    std::fs::write(
        &scenario,
        "name = \"it-live\"\n[load]\nmodel = \"closed\"\n\
         stages = [{ duration = \"0s\", clients = 2 }, { duration = \"4s\", clients = 2 }]\n\
         grace = \"1s\"\n[conversation]\nprobe = \"availability\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chatload"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "-q",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chatload starts");

    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut lines = stderr.lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let rest = line.split_once("live metrics at http://")?.1;
            Some(rest.trim_end_matches("/metrics").to_owned())
        })
        .expect("the run names its metrics address");
    let addr: std::net::SocketAddr = url.parse().expect("a socket address");
    // The rest of stderr is drained, so that the run never blocks on a
    // full pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while seen.len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1200));
        let (status, head, body) = runtime.block_on(get(addr, "/metrics"));
        assert_eq!(status, 200, "{head}");
        let samples = check_openmetrics(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
        let labels = [("endpoint", "availability"), ("status", "200")];
        if let Some(count) = value(&samples, "chatload_requests_total", &labels) {
            seen.push(count);
        }
    }
    let status = child.wait().expect("chatload ends");
    let _ = drain.join();

    assert!(status.success(), "{status:?}");
    assert_eq!(seen.len(), 2, "two scrapes with requests: {seen:?}");
    assert!(seen[0] > 0.0 && seen[1] > seen[0], "counts grow: {seen:?}");
}
