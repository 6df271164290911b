//! A resolved [`Scenario`] written back as TOML. Every field is written,
//! defaults included, so the file in a results directory says exactly
//! what ran even after defaults change; parsing it gives the same value.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::Value as Json;

use super::model::{
    Connections, Conversation, CountRange, DurationRange, Fault, FaultKind, Load, LoadModel,
    MockSettings, Scenario, Target,
};
use super::read::{API_NAMES, ARRIVAL_NAMES, END_NAMES, HTTP_NAMES, RESET_NAMES, SERVER_END_NAMES};

impl Scenario {
    /// The scenario as resolved (defaults and overrides applied), as TOML
    /// that [`parse`](crate::scenario::parse) reads back to an equal value.
    /// It is what a run stores as `scenario.toml` beside its results.
    pub fn to_toml(&self) -> String {
        let mut out = format!("name = {}\n", quote(&self.name));
        write_target(&mut out, &self.target);
        write_load(&mut out, &self.load);
        write_conversation(&mut out, &self.conversation);
        write_mock(&mut out, &self.mock);
        write_thresholds(&mut out, &self.thresholds);
        out
    }
}

fn write_target(out: &mut String, t: &Target) {
    out.push_str("\n[target]\n");
    if let Some(url) = &t.url {
        line(out, "url", quote(url));
    }
    line(out, "tenant_url", quote(&t.tenant_url));
    line(out, "app_id", quote(&t.app_id));
    line(out, "api", quote(name_of(API_NAMES, t.api)));
    line(out, "http", quote(name_of(HTTP_NAMES, t.http)));
    line(out, "connections", connections(t.connections));
    if let Some(path) = &t.ca_cert {
        line(out, "ca_cert", quote(&path.to_string_lossy()));
    }
    line(out, "insecure", t.insecure.to_string());
    line(out, "request_timeout", duration(t.request_timeout));
    line(out, "user_agent", quote(&t.user_agent));
    line(out, "webchat", t.webchat.to_string());
    let addrs: Vec<String> = t
        .source_addrs
        .iter()
        .map(|a| quote(&a.to_string()))
        .collect();
    line(out, "source_addrs", format!("[{}]", addrs.join(", ")));
    line(out, "warm_up", t.warm_up.to_string());
}

fn connections(c: Connections) -> String {
    match c {
        Connections::Shared { max: Some(max) } => format!("{{ mode = \"shared\", max = {max} }}"),
        Connections::Shared { max: None } => "{ mode = \"shared\" }".to_owned(),
        Connections::PerClient => "{ mode = \"per_client\" }".to_owned(),
    }
}

fn write_load(out: &mut String, load: &Load) {
    out.push_str("\n[load]\n");
    let (model, key) = match load.model {
        LoadModel::Closed { .. } => ("closed", "clients"),
        LoadModel::Open { .. } => ("open", "rate"),
    };
    line(out, "model", quote(model));

    out.push_str("stages = [\n");
    for stage in &load.stages {
        let value = match load.model {
            LoadModel::Closed { .. } => format!("{}", stage.target.round() as u64),
            LoadModel::Open { .. } => format!("{:?}", stage.target),
        };
        let _ = writeln!(
            out,
            "  {{ duration = {}, {key} = {value} }},",
            duration(stage.duration)
        );
    }
    out.push_str("]\n");

    match load.model {
        LoadModel::Closed { pause } => line(out, "pause", duration_range(pause)),
        LoadModel::Open {
            arrival,
            max_clients,
        } => {
            line(out, "arrival", quote(name_of(ARRIVAL_NAMES, arrival)));
            line(out, "max_clients", max_clients.to_string());
        }
    }
    line(out, "grace", duration(load.grace));
    // The segment is left out on purpose: the file describes the whole run,
    // so a shard's copy, or a merge's, runs all of it again.
    if let Some(seed) = load.seed {
        line(out, "seed", seed);
    }
}

fn write_conversation(out: &mut String, c: &Conversation) {
    out.push_str("\n[conversation]\n");
    if let Some(probe) = c.probe {
        line(out, "probe", quote(probe.name()));
    }
    let pre_chat: Vec<String> = c.pre_chat.iter().map(|e| quote(e.name())).collect();
    line(out, "pre_chat", format!("[{}]", pre_chat.join(", ")));
    line(out, "from", quote(&c.from));
    if let Some(phone) = &c.phone_number {
        line(out, "phone_number", quote(phone));
    }
    let parameters = Json::Object(c.parameters.clone());
    line(
        out,
        "parameters",
        json_to_toml(&parameters).map_or_else(String::new, |v| v.to_string()),
    );

    let messages = format!(
        "{{ count = {}, think = {}, length = {} }}",
        count_range(c.messages),
        duration_range(c.think),
        count_range(c.length)
    );
    line(out, "messages", messages);
    line(out, "typing", c.typing.to_string());
    line(out, "receipts", c.receipts.to_string());
    line(out, "wait_for_reply", c.wait_for_reply.to_string());
    line(out, "agent_timeout", duration(c.agent_timeout));
    if let Some(bytes) = c.upload_bytes {
        line(out, "upload", bytes.to_string());
    }
    line(out, "end", quote(name_of(END_NAMES, c.end)));
}

fn write_mock(out: &mut String, m: &MockSettings) {
    out.push_str("\n[mock]\n");
    line(out, "agents", m.agents.to_string());
    line(out, "chats_per_agent", m.chats_per_agent.to_string());
    line(out, "reply_delay", duration_range(m.reply_delay));
    line(out, "poll_hold", duration(m.poll_hold));
    line(out, "idle_end", duration(m.idle_end));
    for fault in &m.faults {
        write_fault(out, fault);
    }
}

fn write_fault(out: &mut String, f: &Fault) {
    out.push_str("\n[[mock.faults]]\n");
    let (kind, keys) = fault_keys(f.kind);
    line(out, "kind", quote(kind));
    let endpoints: Vec<String> = f.endpoints.iter().map(|e| quote(e.name())).collect();
    line(out, "endpoints", format!("[{}]", endpoints.join(", ")));
    if !matches!(f.kind, FaultKind::Stall { .. }) {
        line(out, "rate", format!("{:?}", f.rate));
    }
    for (key, value) in keys {
        line(out, key, value);
    }
}

/// The kind's name and its own keys, each with its value as TOML.
fn fault_keys(kind: FaultKind) -> (&'static str, Vec<(&'static str, String)>) {
    match kind {
        FaultKind::Latency { delay } => ("latency", vec![("delay", duration_range(delay))]),
        FaultKind::Error { status, code } => (
            "error",
            vec![("status", status.to_string()), ("code", code.to_string())],
        ),
        FaultKind::Stall { every, hold } => (
            "stall",
            vec![("every", duration(every)), ("hold", duration(hold))],
        ),
        FaultKind::Reset { at } => ("reset", vec![("at", quote(name_of(RESET_NAMES, at)))]),
        FaultKind::Malformed => ("malformed", Vec::new()),
        FaultKind::Truncate => ("truncate", Vec::new()),
        FaultKind::SlowBody { byte_every } => {
            ("slow_body", vec![("byte_every", duration(byte_every))])
        }
        FaultKind::EndChat { how } => (
            "end_chat",
            vec![("how", quote(name_of(SERVER_END_NAMES, how)))],
        ),
    }
}

fn write_thresholds(out: &mut String, thresholds: &[(String, String)]) {
    if thresholds.is_empty() {
        return;
    }
    out.push_str("\n[thresholds]\n");
    for (name, condition) in thresholds {
        line(out, &quote(name), quote(condition));
    }
}

fn line(out: &mut String, key: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{key} = {value}");
}

fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn name_of<T: PartialEq + Copy>(names: &[(&'static str, T)], value: T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(n, _)| n)
}

fn duration(d: Duration) -> String {
    quote(&humantime::format_duration(d).to_string())
}

fn duration_range(r: DurationRange) -> String {
    if r.min == r.max {
        return duration(r.min);
    }
    let (min, max) = (
        humantime::format_duration(r.min),
        humantime::format_duration(r.max),
    );
    quote(&format!("{min}..{max}"))
}

fn count_range(r: CountRange) -> String {
    if r.min == r.max {
        r.min.to_string()
    } else {
        quote(&format!("{}..{}", r.min, r.max))
    }
}

// JSON null has no TOML form; a parameter set to null is left out, which
// is also how the server treats a missing optional parameter.
fn json_to_toml(value: &Json) -> Option<toml::Value> {
    let converted = match value {
        Json::Null => return None,
        Json::Bool(b) => toml::Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Json::String(s) => toml::Value::String(s.clone()),
        Json::Array(items) => toml::Value::Array(items.iter().filter_map(json_to_toml).collect()),
        Json::Object(map) => toml::Value::Table(
            map.iter()
                .filter_map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect(),
        ),
    };
    Some(converted)
}
