//! The resolved plan as `chatload validate` prints it: what would run,
//! stage by stage, with the figures a capacity planner checks before
//! starting (peak clients, total time, expected chats).

use std::fmt::Write as _;
use std::time::Duration;

use super::model::{
    Connections, Conversation, CountRange, DurationRange, LoadModel, Scenario, Target,
};
use crate::engine::profile::expected_arrivals;

/// The plan of `scenario` as readable text, one fact per line.
pub fn render(scenario: &Scenario) -> String {
    let mut out = String::new();
    row(&mut out, "scenario", &scenario.name);
    target(&mut out, scenario);
    load(&mut out, scenario);
    conversation(&mut out, &scenario.conversation);
    thresholds(&mut out, &scenario.thresholds);
    out
}

fn row(out: &mut String, label: &str, text: &str) {
    let _ = writeln!(out, "{label:<13}{text}");
}

fn more(out: &mut String, text: &str) {
    row(out, "", text);
}

fn target(out: &mut String, s: &Scenario) {
    let t = &s.target;
    match &t.url {
        Some(url) => {
            row(out, "target", url);
            more(
                out,
                &format!("tenant {}, app id {}", t.tenant_url, t.app_id),
            );
        }
        None => {
            let m = &s.mock;
            row(out, "target", "embedded mock");
            more(
                out,
                &format!(
                    "{} agents x {} chats, replies after {}",
                    m.agents,
                    m.chats_per_agent,
                    range(m.reply_delay)
                ),
            );
            let text = format!(
                "polls held {}, idle chats ended after {}",
                human(m.poll_hold),
                human(m.idle_end)
            );
            more(out, &text);
        }
    }
    more(
        out,
        &format!(
            "api {}, HTTP {}, {}",
            api(t),
            http(t),
            connections(t.connections)
        ),
    );
    tls(out, t);
    client(out, t);
}

fn tls(out: &mut String, t: &Target) {
    if t.insecure {
        more(out, "certificate NOT verified (insecure = true)");
        return;
    }
    match (&t.ca_cert, &t.url) {
        (Some(ca), Some(_)) => more(
            out,
            &format!("certificates verified, also trusting {}", ca.display()),
        ),
        (Some(ca), None) => more(
            out,
            &format!(
                "ca_cert {} not used: the mock's certificate is trusted",
                ca.display()
            ),
        ),
        (None, _) => {}
    }
}

/// How each request goes out: its time limit, its client identity, the
/// local addresses it leaves from, and whether the pool is opened before
/// the plan starts.
fn client(out: &mut String, t: &Target) {
    let identity = if t.webchat {
        "WebChat clients (cookie)"
    } else {
        "a UUID clientId per client"
    };
    let text = format!(
        "request timeout {}, {identity}, User-Agent \"{}\"",
        human(t.request_timeout),
        t.user_agent
    );
    more(out, &text);
    if !t.source_addrs.is_empty() {
        let addrs: Vec<String> = t.source_addrs.iter().map(|a| a.to_string()).collect();
        more(out, &format!("source addresses {}", addrs.join(", ")));
    }
    if !t.warm_up {
        more(out, "no warm-up: connections opened by the first requests");
    }
}

fn api(t: &Target) -> &'static str {
    if t.api.is_v2() { "v2" } else { "v1" }
}

fn http(t: &Target) -> &'static str {
    match t.http {
        super::HttpVersion::Http1 => "1.1",
        super::HttpVersion::Http2 => "2",
        super::HttpVersion::Auto => "auto (ALPN)",
    }
}

fn connections(c: Connections) -> String {
    match c {
        Connections::Shared { max: Some(max) } => format!("shared pool of at most {max}"),
        Connections::Shared { max: None } => "shared pool sized to the long polls".to_owned(),
        Connections::PerClient => "connections per client".to_owned(),
    }
}

fn load(out: &mut String, s: &Scenario) {
    let load = &s.load;
    let unit = match load.model {
        LoadModel::Closed { pause } => {
            row(
                out,
                "model",
                &format!("closed, pause {} between chats", range(pause)),
            );
            "clients"
        }
        LoadModel::Open {
            arrival,
            max_clients,
        } => {
            let spacing = format!("{arrival:?}").to_lowercase();
            let text = format!("open, {spacing} arrivals, at most {max_clients} clients at once");
            row(out, "model", &text);
            "chats/s"
        }
    };
    stages(out, s, unit);

    let total = load.duration() + load.grace;
    let text = format!(
        "{} of stages + {} grace = {}",
        human(load.duration()),
        human(load.grace),
        human(total)
    );
    row(out, "duration", &text);
    peak(out, s);
}

fn stages(out: &mut String, s: &Scenario, unit: &str) {
    let (mut start, mut from) = (Duration::ZERO, 0.0);
    for (i, stage) in s.load.stages.iter().enumerate() {
        let end = start + stage.duration;
        let label = if i == 0 { "stages" } else { "" };
        let times = format!("{} -> {}", human(start), human(end));
        let text = format!(
            "{:>2}. {times:<18} {} -> {} {unit}",
            i + 1,
            number(from),
            number(stage.target)
        );
        row(out, label, &text);
        (start, from) = (end, stage.target);
    }
}

fn peak(out: &mut String, s: &Scenario) {
    let peak = s.load.peak();
    match s.load.model {
        LoadModel::Closed { .. } => row(out, "peak", &format!("{} clients", number(peak))),
        LoadModel::Open { max_clients, .. } => {
            let chats = expected_arrivals(&s.load.stages);
            row(
                out,
                "chats",
                &format!("{chats:.0} expected over the stages"),
            );
            let length = chat_length(s).as_secs_f64();
            let clients = (peak * length).min(max_clients as f64);
            let text = format!(
                "about {clients:.0} clients ({} chats/s x ~{length:.0}s a chat, cap {max_clients})",
                number(peak)
            );
            row(out, "peak", &text);
        }
    }
}

// Little's law: clients = arrival rate x time each spends. The time is the
// mean think time (plus the mock's mean reply delay when replies are
// awaited) per message; queue wait is unknown before a run and left out.
fn chat_length(s: &Scenario) -> Duration {
    let c = &s.conversation;
    let mut per_message = mean_duration(c.think);
    if c.wait_for_reply && s.target.url.is_none() {
        per_message += mean_duration(s.mock.reply_delay);
    }
    per_message.mul_f64(mean_count(c.messages))
}

fn conversation(out: &mut String, c: &Conversation) {
    if let Some(probe) = c.probe {
        row(
            out,
            "conversation",
            &format!("probe: {probe}, no chat (closed: back to back; open: one per arrival)"),
        );
        return;
    }
    let pre: Vec<&str> = c.pre_chat.iter().map(|e| e.name()).collect();
    let pre = if pre.is_empty() {
        "none".to_owned()
    } else {
        pre.join(", ")
    };
    row(out, "conversation", &format!("pre-chat calls: {pre}"));
    more(
        out,
        &format!(
            "{} messages of {} characters, think {}",
            counts(c.messages),
            counts(c.length),
            range(c.think)
        ),
    );

    let ending = format!("ended by {:?}", c.end).to_lowercase();
    more(
        out,
        &format!(
            "typing {}, receipts {}, {ending}",
            on(c.typing),
            on(c.receipts)
        ),
    );

    let replies = if c.wait_for_reply {
        "waits for each reply"
    } else {
        "sends without waiting"
    };
    let mut text = format!("{replies}, agent timeout {}", human(c.agent_timeout));
    if let Some(bytes) = c.upload_bytes {
        text.push_str(&format!(", uploads a {bytes}-byte file"));
    }
    more(out, &text);
}

fn thresholds(out: &mut String, thresholds: &[(String, String)]) {
    if thresholds.is_empty() {
        row(out, "thresholds", "none");
    }
    for (i, (name, condition)) in thresholds.iter().enumerate() {
        row(
            out,
            if i == 0 { "thresholds" } else { "" },
            &format!("{name} {condition}"),
        );
    }
}

fn on(flag: bool) -> &'static str {
    if flag { "on" } else { "off" }
}

fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn range(r: DurationRange) -> String {
    if r.min == r.max {
        human(r.min)
    } else {
        format!("{}..{}", human(r.min), human(r.max))
    }
}

fn counts(r: CountRange) -> String {
    if r.min == r.max {
        r.min.to_string()
    } else {
        format!("{}..{}", r.min, r.max)
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn mean_duration(r: DurationRange) -> Duration {
    (r.min + r.max) / 2
}

fn mean_count(r: CountRange) -> f64 {
    (r.min as f64 + r.max as f64) / 2.0
}
