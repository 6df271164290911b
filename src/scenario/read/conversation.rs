//! The `[conversation]` section: what each virtual client does in a chat.
//!
//! Checks that depend on the API version live here too: v1 has neither
//! Get Version nor receipts, so a scenario asking for them on v1 is an
//! error; left unwritten, receipts default to on for v2 and off for v1.

use serde_json::{Map, Number, Value};
use toml::de::DeValue;

use super::table::{Field, Read, Section};
use crate::api::{ApiVersion, Endpoint};
use crate::scenario::model::{Conversation, EndMode, MAX_MESSAGE_LENGTH};
use crate::scenario::suggest;

const KEYS: &[&str] = &[
    "probe",
    "pre_chat",
    "from",
    "phone_number",
    "parameters",
    "messages",
    "typing",
    "receipts",
    "wait_for_reply",
    "agent_timeout",
    "upload",
    "end",
];
const MESSAGE_KEYS: &[&str] = &["count", "think", "length"];

/// The methods a client may call without a chat: the only ones allowed as
/// pre-chat calls or as a probe.
pub(crate) const CHATLESS: &[Endpoint] = &[
    Endpoint::Availability,
    Endpoint::Version,
    Endpoint::Configuration,
    Endpoint::Parameters,
    Endpoint::IceServers,
];

/// The ways a chat ends, as written in files.
pub(crate) const END_NAMES: &[(&str, EndMode)] = &[
    ("customer", EndMode::Customer),
    ("agent", EndMode::Agent),
    ("abandon", EndMode::Abandon),
];

/// Reads `[conversation]` for a target speaking `api`.
pub(crate) fn read(field: Option<Field<'_, '_>>, api: ApiVersion) -> Read<Conversation> {
    let mut c = Conversation {
        receipts: api.is_v2(),
        ..Conversation::default()
    };
    let Some(field) = field else {
        return Ok(c);
    };
    let s = field.section(KEYS)?;

    if let Some(f) = s.get("probe") {
        c.probe = Some(chatless(&f, api)?);
    }
    if let Some(f) = s.get("pre_chat") {
        c.pre_chat = f
            .array()?
            .iter()
            .map(|e| chatless(e, api))
            .collect::<Read<_>>()?;
    }
    read_request(&s, &mut c)?;
    read_messages(&s, &mut c)?;
    read_behaviour(&s, &mut c, api)?;
    Ok(c)
}

fn read_request(s: &Section<'_, '_>, c: &mut Conversation) -> Read<()> {
    if let Some(f) = s.get("from") {
        c.from = f.str()?.to_owned();
    }
    if let Some(f) = s.get("phone_number") {
        c.phone_number = Some(f.str()?.to_owned());
    }
    if let Some(f) = s.get("parameters") {
        c.parameters = parameters(&f)?;
    }
    Ok(())
}

fn read_messages(s: &Section<'_, '_>, c: &mut Conversation) -> Read<()> {
    let Some(f) = s.get("messages") else {
        return Ok(());
    };
    let m = f.section(MESSAGE_KEYS)?;

    if let Some(f) = m.get("count") {
        c.messages = f.count_range()?;
    }
    if let Some(f) = m.get("think") {
        c.think = f.duration_range()?;
    }
    if let Some(f) = m.get("length") {
        c.length = f.count_range()?;
        if c.length.min == 0 {
            return Err(f.error("messages must be at least 1 character long; start at 1"));
        }
        if c.length.max > MAX_MESSAGE_LENGTH {
            return Err(f.error(format!(
                "messages of {} characters are longer than the most, {MAX_MESSAGE_LENGTH}; \
                 lower the length",
                c.length.max
            )));
        }
    }
    Ok(())
}

fn read_behaviour(s: &Section<'_, '_>, c: &mut Conversation, api: ApiVersion) -> Read<()> {
    if let Some(f) = s.get("typing") {
        c.typing = f.bool()?;
    }
    if let Some(f) = s.get("receipts") {
        c.receipts = f.bool()?;
        if c.receipts && !api.is_v2() {
            return Err(f.error("receipts need api = \"v2\"; set receipts = false or use v2"));
        }
    }
    if let Some(f) = s.get("wait_for_reply") {
        c.wait_for_reply = f.bool()?;
    }
    if let Some(f) = s.get("agent_timeout") {
        c.agent_timeout = f.positive_duration()?;
    }
    if let Some(f) = s.get("upload") {
        c.upload_bytes = Some(upload(&f)?);
    }
    if let Some(f) = s.get("end") {
        c.end = f.choice(END_NAMES)?;
    }
    Ok(())
}

fn upload(f: &Field<'_, '_>) -> Read<u64> {
    match f.size()? {
        0 => Err(f.error("an upload of 0 bytes; leave upload out to skip the upload")),
        n => Ok(n),
    }
}

fn chatless(f: &Field<'_, '_>, api: ApiVersion) -> Read<Endpoint> {
    let names: Vec<&str> = CHATLESS.iter().map(|e| e.name()).collect();
    let word = f.str()?;
    let Some(endpoint) = CHATLESS.iter().copied().find(|e| e.name() == word) else {
        let valid = suggest::list(&names);
        let hint = suggest::nearest(word, &names)
            .map(|n| format!("did you mean \"{n}\"? "))
            .unwrap_or_default();
        return Err(f.error(format!(
            "\"{word}\" is not a method callable without a chat; {hint}valid: {valid}"
        )));
    };
    if !endpoint.exists_in(api) {
        return Err(f.error(format!(
            "\"{word}\" exists only in api = \"v2\"; remove it or use v2"
        )));
    }
    Ok(endpoint)
}

fn parameters(f: &Field<'_, '_>) -> Read<Map<String, Value>> {
    let DeValue::Table(table) = f.value() else {
        return Err(f.error("expected a table such as { first_name = \"Load\" }"));
    };
    let mut map = Map::new();
    for (key, value) in table.iter() {
        map.insert(key.get_ref().to_string(), json(value.get_ref()));
    }
    Ok(map)
}

// Parameters travel to the server as JSON; TOML dates have no JSON type,
// so they go as the text written, which is what a form field would send.
fn json(value: &DeValue<'_>) -> Value {
    match value {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(i.to_string())),
        DeValue::Float(x) => x
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(x.to_string()), Value::Number),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => Value::Array(items.iter().map(|v| json(v.get_ref())).collect()),
        DeValue::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.get_ref().to_string(), json(v.get_ref())))
                .collect(),
        ),
    }
}
