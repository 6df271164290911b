//! Property tests for the three parsers that read what others wrote: the
//! `Authorization` header, server and client events, and scenario files.
//! Each runs a bounded number of generated cases, so CI time stays fixed.

use chatload::api::events::{ClientEvent, EventsBody, ServerEvent};
use chatload::api::{AUTH_SCHEME, Credentials};
use chatload::scenario::{self, QUICKSTART};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// Cases per property: enough to find the shallow bugs on every run while
/// keeping the whole file under a few seconds.
const CASES: u32 = 256;

/// Server event names the protocol model knows.
const SERVER_EVENTS: [&str; 20] = [
    "chat_session_status",
    "chat_session_ended",
    "chat_session_party_joined",
    "chat_session_party_left",
    "chat_session_message",
    "chat_session_message_delivered",
    "chat_session_message_read",
    "chat_session_typing",
    "chat_session_not_typing",
    "chat_session_form_show",
    "chat_session_secure_form_show",
    "chat_session_secure_form_cancel",
    "chat_session_timeout_warning",
    "chat_session_inactivity_timeout",
    "chat_session_file",
    "chat_session_signaling",
    "chat_session_location",
    "chat_session_cobrowsing_requested",
    "chat_session_info",
    "chat_session_case_set",
];

/// Client event names the protocol model gives a variant of their own.
const CLIENT_EVENTS: [&str; 17] = [
    "chat_session_message",
    "chat_session_message_delivered",
    "chat_session_message_read",
    "chat_session_typing",
    "chat_session_not_typing",
    "chat_session_form_data",
    "chat_session_secure_form_data",
    "chat_session_secure_form_cancel",
    "chat_session_end",
    "chat_session_disconnect",
    "chat_session_file",
    "chat_session_navigation",
    "chat_session_signaling",
    "chat_session_location",
    "chat_session_cobrowsing_rejected",
    "chat_session_cobrowsing_started",
    "chat_session_cobrowsing_ended",
];

/// Field names the events use, mixed with made-up ones, so that generated
/// objects often come close to a real event.
const FIELDS: [&str; 12] = [
    "party_id",
    "timestamp",
    "msg",
    "msg_id",
    "state",
    "ewt",
    "type",
    "ref_msg_id",
    "file_id",
    "first_name",
    "form_request_id",
    "events",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(SERVER_EVENTS.to_vec()).prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
        "[a-z_]{1,10}",
    ]
}

fn event_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(SERVER_EVENTS.to_vec()).prop_map(str::to_owned),
        prop::sample::select(CLIENT_EVENTS.to_vec()).prop_map(str::to_owned),
        "chat_session_[a-z_]{1,12}",
        ".{0,10}",
    ]
}

/// An object with an `event` name and fields of any shape.
fn event_object() -> impl Strategy<Value = (String, Value)> {
    let fields = prop::collection::vec((field_name(), json_value()), 0..6);
    (event_name(), fields).prop_map(|(name, fields)| {
        let mut object: Map<String, Value> = fields.into_iter().collect();
        object.insert("event".to_owned(), Value::String(name.clone()));
        (name, Value::Object(object))
    })
}

/// An id as clients send them: anything but a comma, which the header's
/// parameter list has no way to escape.
fn header_id() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9-]{1,36}", "[^,]{1,24}"]
        .prop_filter("an id with content", |id| !id.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn the_authorization_parser_never_panics(text in ".{0,80}", tail in ".{0,80}") {
        let _ = Credentials::parse(Some(&text));
        let _ = Credentials::parse(Some(&format!("{AUTH_SCHEME} {tail}")));
        let _ = Credentials::parse(Some(&format!("{AUTH_SCHEME} appId={text}, clientId={tail}")));
    }

    #[test]
    fn the_authorization_parser_reads_back_what_it_formats(
        app in header_id(),
        client in header_id(),
    ) {
        let creds = Credentials::new(app, client);
        let parsed = Credentials::parse(Some(&creds.header_value()));
        prop_assert_eq!(parsed, Ok(creds));
    }

    #[test]
    fn server_events_of_any_shape_parse_and_keep_their_name((name, raw) in event_object()) {
        let event: ServerEvent = serde_json::from_value(raw.clone())
            .map_err(|e| TestCaseError::fail(format!("{e} for {raw}")))?;
        prop_assert_eq!(event.name(), name.as_str());
        if !SERVER_EVENTS.contains(&name.as_str()) {
            prop_assert_eq!(event, ServerEvent::Unknown(raw));
        }
    }

    #[test]
    fn client_events_of_any_shape_parse_and_keep_their_name((name, raw) in event_object()) {
        let event: ClientEvent = serde_json::from_value(raw.clone())
            .map_err(|e| TestCaseError::fail(format!("{e} for {raw}")))?;
        prop_assert_eq!(event.name(), name.as_str());
        if !CLIENT_EVENTS.contains(&name.as_str()) {
            prop_assert_eq!(event, ClientEvent::Other(raw));
        }
    }

    #[test]
    fn a_poll_body_keeps_every_event_whatever_its_shape(
        events in prop::collection::vec(prop_oneof![
            event_object().prop_map(|(_, raw)| raw),
            json_value(),
        ], 0..8),
    ) {
        let body = serde_json::json!({ "events": events });
        let parsed: EventsBody<ServerEvent> = serde_json::from_value(body)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.events.len(), events.len());
    }

    #[test]
    fn event_bodies_as_arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        let _ = serde_json::from_slice::<EventsBody<ServerEvent>>(&bytes);
        let _ = serde_json::from_slice::<EventsBody<ClientEvent>>(&bytes);
    }

    #[test]
    fn scenario_errors_from_arbitrary_text_name_file_line_and_column(text in "\\PC{0,200}") {
        check_scenario_text(&text)?;
    }

    #[test]
    fn scenario_errors_from_damaged_scenarios_name_file_line_and_column(
        at in 0..QUICKSTART.len(),
        cut in 0usize..40,
        insert in prop_oneof![
            Just(String::new()),
            Just("\"".to_owned()),
            Just("= -1".to_owned()),
            Just("[load]\n".to_owned()),
            Just("stages = []\n".to_owned()),
            "[ -~\n]{0,20}",
            "\\PC{0,8}",
        ],
    ) {
        let at = floor_boundary(QUICKSTART, at);
        let end = floor_boundary(QUICKSTART, (at + cut).min(QUICKSTART.len()));
        let text = format!("{}{insert}{}", &QUICKSTART[..at], &QUICKSTART[end..]);
        check_scenario_text(&text)?;
    }
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Parses `text`; an error must start with `p.toml:LINE:COLUMN: ` where the
/// line and column lie within the text.
fn check_scenario_text(text: &str) -> Result<(), TestCaseError> {
    let Err(err) = scenario::parse(text, "p.toml") else {
        return Ok(());
    };
    let message = err.to_string();
    let mut parts = message.splitn(4, ':');
    prop_assert_eq!(parts.next(), Some("p.toml"), "{}", message);

    let line: usize = number(parts.next(), &message)?;
    let column: usize = number(parts.next(), &message)?;
    let lines = text.split('\n').count();
    prop_assert!(
        (1..=lines).contains(&line),
        "line {} of {}: {}",
        line,
        lines,
        message
    );
    prop_assert!(column >= 1, "{}", message);
    let rest = parts.next().unwrap_or_default();
    prop_assert!(
        rest.starts_with(' ') && rest.trim().len() > 3,
        "{}",
        message
    );
    Ok(())
}

fn number(part: Option<&str>, message: &str) -> Result<usize, TestCaseError> {
    part.and_then(|p| p.parse().ok())
        .ok_or_else(|| TestCaseError::fail(format!("no line:column in {message}")))
}
