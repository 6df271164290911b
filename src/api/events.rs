//! Client and server events: the `{"event": "…", …}` objects that travel in
//! `{"events": […]}` containers.
//!
//! Each direction is one enum tagged by `event`. A type we do not know, or a
//! known type whose fields do not fit, lands in `Unknown` with its raw JSON:
//! real servers send undocumented events, and a load test must count them,
//! not stop on them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient::{Seconds, Timestamp, string_or_number};

/// The container used by Send Events, Get New Chat Events and History.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsBody<E> {
    /// The events, in order.
    #[serde(default = "Vec::new")]
    pub events: Vec<E>,
}

/// The same container borrowing its events, for sending without a copy.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct EventsRef<'a, E> {
    /// The events, in order.
    pub events: &'a [E],
}

/// State of a chat, as in Request Chat, Get Active Chat and status events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatState {
    /// Running the entry's scenario (IVR, bot) before queueing.
    Ivr,
    /// Waiting for an agent.
    Queued,
    /// An agent is being connected.
    Connecting,
    /// Listed by the v1 docs next to connecting.
    Establishing,
    /// An agent is in the chat.
    Connected,
    /// The chat failed; it is gone.
    Failed,
    /// The chat is over.
    Completed,
    /// A state this model does not know.
    #[serde(other)]
    Unknown,
}

/// Kind of a chat participant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartyType {
    /// An agent of the contact center.
    Internal,
    /// A party outside the contact center.
    External,
    /// The automated scenario or bot.
    Scenario,
    /// A type this model does not know.
    #[serde(other)]
    Unknown,
}

/// An event the server sends, by poll or in History.
///
/// In History the customer's own messages come back as `Message` with
/// `party_id` equal to the chat id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum ServerEvent {
    /// The chat changed state.
    #[serde(rename = "chat_session_status")]
    Status {
        /// New state.
        state: ChatState,
        /// Estimated wait in seconds, when the server has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ewt: Option<Seconds>,
    },
    /// The chat ended normally; stop polling.
    #[serde(rename = "chat_session_ended")]
    Ended {},
    /// A participant joined.
    #[serde(rename = "chat_session_party_joined")]
    PartyJoined {
        /// The participant's id.
        party_id: String,
        /// First name.
        #[serde(default)]
        first_name: String,
        /// Last name.
        #[serde(default)]
        last_name: String,
        /// Name to show.
        #[serde(default)]
        display_name: String,
        /// Agent, external or scenario.
        #[serde(rename = "type")]
        party_type: PartyType,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A participant left.
    #[serde(rename = "chat_session_party_left")]
    PartyLeft {
        /// The participant's id.
        party_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A chat message.
    #[serde(rename = "chat_session_message")]
    Message {
        /// Sender; the chat id for the customer's own messages in History.
        party_id: String,
        /// The message id, opaque.
        #[serde(deserialize_with = "string_or_number")]
        msg_id: String,
        /// The message, possibly HTML.
        msg: String,
        /// Plain-text form, sent by newer servers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        msg_text: Option<String>,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A party received the customer's message (v2).
    #[serde(rename = "chat_session_message_delivered")]
    MessageDelivered {
        /// Who received it.
        party_id: String,
        /// Which message.
        #[serde(deserialize_with = "string_or_number")]
        ref_msg_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A party read the customer's message (v2).
    #[serde(rename = "chat_session_message_read")]
    MessageRead {
        /// Who read it.
        party_id: String,
        /// Which message.
        #[serde(deserialize_with = "string_or_number")]
        ref_msg_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// The agent started typing.
    #[serde(rename = "chat_session_typing")]
    Typing {
        /// Who.
        party_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// The agent stopped typing.
    #[serde(rename = "chat_session_not_typing")]
    NotTyping {
        /// Who.
        party_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// The scenario asks for a form.
    #[serde(rename = "chat_session_form_show")]
    FormShow {
        /// Echoed back in the answer.
        #[serde(deserialize_with = "string_or_number")]
        form_request_id: String,
        /// Which form; empty means "the next typed message".
        #[serde(default)]
        form_name: String,
        /// Seconds the form stays open, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form_timeout: Option<Seconds>,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// The scenario asks for a secure (for example payment) form.
    #[serde(rename = "chat_session_secure_form_show")]
    SecureFormShow {
        /// Echoed back in the answer or the cancellation.
        #[serde(deserialize_with = "string_or_number")]
        form_request_id: String,
        /// Which secure form.
        #[serde(default, deserialize_with = "string_or_number")]
        form_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// The server withdrew a secure form.
    #[serde(rename = "chat_session_secure_form_cancel")]
    SecureFormCancel {
        /// From the `chat_session_secure_form_show` withdrawn.
        #[serde(deserialize_with = "string_or_number")]
        form_request_id: String,
    },
    /// The customer was idle: a warning first.
    #[serde(rename = "chat_session_timeout_warning")]
    TimeoutWarning {
        /// Text to show.
        #[serde(default)]
        msg: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// The chat was closed because the customer was idle; it is gone.
    #[serde(rename = "chat_session_inactivity_timeout")]
    InactivityTimeout {
        /// Text to show.
        #[serde(default)]
        msg: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A file for the customer.
    #[serde(rename = "chat_session_file")]
    File {
        /// Sender (some servers send `session_id` instead, left out here).
        #[serde(default)]
        party_id: String,
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// The id for Get File.
        file_id: String,
        /// `image` or `attachment`.
        #[serde(default)]
        file_type: String,
        /// The file's name, sent by real servers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_name: Option<String>,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A WebRTC signaling envelope from an agent (API.md §4.4).
    #[serde(rename = "chat_session_signaling")]
    Signaling {
        /// Sender: real servers send it, the docs leave it out.
        #[serde(default)]
        party_id: String,
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// The payload; a load test never looks inside it.
        #[serde(default)]
        data: Value,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// A position shared by an agent.
    #[serde(rename = "chat_session_location")]
    Location {
        /// Sender, which the SDKs read though the docs leave it out.
        #[serde(default)]
        party_id: String,
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// Latitude as text: the docs quote it, the web widget does not.
        #[serde(deserialize_with = "string_or_number")]
        latitude: String,
        /// Longitude, in the same form as `latitude`.
        #[serde(deserialize_with = "string_or_number")]
        longitude: String,
        /// A map link, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// An agent asks to start co-browsing.
    #[serde(rename = "chat_session_cobrowsing_requested")]
    CobrowsingRequested {
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
    },
    /// The name of the service, sent by real servers though undocumented;
    /// the web widget shows it.
    #[serde(rename = "chat_session_info")]
    Info {
        /// The service's display name.
        #[serde(default)]
        service_name: String,
    },
    /// A CRM case was attached (v2).
    #[serde(rename = "chat_session_case_set")]
    CaseSet {
        /// The case.
        #[serde(deserialize_with = "string_or_number")]
        case_id: String,
        /// When.
        #[serde(default)]
        timestamp: Timestamp,
    },
    /// Anything else, kept whole: types nobody documented, and known types
    /// whose fields do not fit.
    #[serde(untagged)]
    Unknown(Value),
}

impl ServerEvent {
    /// The `event` name.
    pub fn name(&self) -> &str {
        match self {
            ServerEvent::Status { .. } => "chat_session_status",
            ServerEvent::Ended {} => "chat_session_ended",
            ServerEvent::PartyJoined { .. } => "chat_session_party_joined",
            ServerEvent::PartyLeft { .. } => "chat_session_party_left",
            ServerEvent::Message { .. } => "chat_session_message",
            ServerEvent::MessageDelivered { .. } => "chat_session_message_delivered",
            ServerEvent::MessageRead { .. } => "chat_session_message_read",
            ServerEvent::Typing { .. } => "chat_session_typing",
            ServerEvent::NotTyping { .. } => "chat_session_not_typing",
            ServerEvent::FormShow { .. } => "chat_session_form_show",
            ServerEvent::SecureFormShow { .. } => "chat_session_secure_form_show",
            ServerEvent::SecureFormCancel { .. } => "chat_session_secure_form_cancel",
            ServerEvent::TimeoutWarning { .. } => "chat_session_timeout_warning",
            ServerEvent::InactivityTimeout { .. } => "chat_session_inactivity_timeout",
            ServerEvent::File { .. } => "chat_session_file",
            ServerEvent::Signaling { .. } => "chat_session_signaling",
            ServerEvent::Location { .. } => "chat_session_location",
            ServerEvent::CobrowsingRequested { .. } => "chat_session_cobrowsing_requested",
            ServerEvent::Info { .. } => "chat_session_info",
            ServerEvent::CaseSet { .. } => "chat_session_case_set",
            ServerEvent::Unknown(raw) => raw.get("event").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// True if and only if this event means the chat is over.
    pub fn ends_chat(&self) -> bool {
        matches!(
            self,
            ServerEvent::Ended {}
                | ServerEvent::InactivityTimeout { .. }
                | ServerEvent::Status {
                    state: ChatState::Failed | ChatState::Completed,
                    ..
                }
        )
    }
}

/// An event the client sends with Send Events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum ClientEvent {
    /// A customer message.
    #[serde(rename = "chat_session_message")]
    Message {
        /// Client-chosen id, opaque to the server.
        #[serde(deserialize_with = "string_or_number")]
        msg_id: String,
        /// The text (HTML allowed).
        msg: String,
        /// Plain-text form, as the iOS SDK sends it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        msg_text: Option<String>,
        /// Channel name such as `web` (v2).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        channel: Option<String>,
    },
    /// The customer received an agent message (v2).
    #[serde(rename = "chat_session_message_delivered")]
    MessageDelivered {
        /// Which message.
        #[serde(deserialize_with = "string_or_number")]
        ref_msg_id: String,
    },
    /// The customer read an agent message (v2).
    #[serde(rename = "chat_session_message_read")]
    MessageRead {
        /// Which message.
        #[serde(deserialize_with = "string_or_number")]
        ref_msg_id: String,
    },
    /// The customer started typing.
    #[serde(rename = "chat_session_typing")]
    Typing {
        /// The draft, as the web widget sends it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        msg: Option<String>,
    },
    /// The customer stopped typing.
    #[serde(rename = "chat_session_not_typing")]
    NotTyping {},
    /// The answer to a form.
    #[serde(rename = "chat_session_form_data")]
    FormData {
        /// From the `chat_session_form_show` being answered.
        #[serde(deserialize_with = "string_or_number")]
        form_request_id: String,
        /// The form's name.
        #[serde(default)]
        form_name: String,
        /// The answers.
        #[serde(default)]
        data: Value,
    },
    /// The answer to a secure form.
    #[serde(rename = "chat_session_secure_form_data")]
    SecureFormData {
        /// From the `chat_session_secure_form_show` being answered.
        #[serde(deserialize_with = "string_or_number")]
        form_request_id: String,
        /// The form's name.
        #[serde(default)]
        form_name: String,
        /// The answers.
        #[serde(default)]
        data: Value,
    },
    /// The customer cancelled a secure form.
    #[serde(rename = "chat_session_secure_form_cancel")]
    SecureFormCancel {
        /// From the `chat_session_secure_form_show` cancelled.
        #[serde(deserialize_with = "string_or_number")]
        form_request_id: String,
        /// The form's name, as the web widget sends it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        form_name: Option<String>,
    },
    /// The customer ends the chat.
    #[serde(rename = "chat_session_end")]
    End {},
    /// The customer leaves but the chat stays under scenario control.
    #[serde(rename = "chat_session_disconnect")]
    Disconnect {},
    /// A previously uploaded file is shared in the chat.
    #[serde(rename = "chat_session_file")]
    File {
        /// Message id; some servers want it empty.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// From Upload File.
        file_id: String,
        /// `image` or `attachment`.
        #[serde(default)]
        file_type: String,
        /// The file's name.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_name: Option<String>,
    },
    /// The page the customer is on.
    #[serde(rename = "chat_session_navigation")]
    Navigation {
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// URL of the page.
        #[serde(default)]
        page: String,
        /// Title of the page.
        #[serde(default)]
        title: String,
    },
    /// A WebRTC signaling envelope towards an agent (API.md §4.4).
    #[serde(rename = "chat_session_signaling")]
    Signaling {
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// The agent party it is meant for.
        #[serde(default)]
        destination_party_id: String,
        /// The payload; a load test never looks inside it.
        #[serde(default)]
        data: Value,
    },
    /// The customer shares a position.
    #[serde(rename = "chat_session_location")]
    Location {
        /// Message id.
        #[serde(default, deserialize_with = "string_or_number")]
        msg_id: String,
        /// Latitude as text: the docs quote it, the web widget does not.
        #[serde(deserialize_with = "string_or_number")]
        latitude: String,
        /// Longitude, in the same form as `latitude`.
        #[serde(deserialize_with = "string_or_number")]
        longitude: String,
        /// A map link, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    /// The customer declined co-browsing.
    #[serde(rename = "chat_session_cobrowsing_rejected")]
    CobrowsingRejected {},
    /// The customer accepted and started co-browsing.
    #[serde(rename = "chat_session_cobrowsing_started")]
    CobrowsingStarted {
        /// The co-browsing product.
        #[serde(default)]
        provider_type: String,
        /// Where the agent joins the session.
        #[serde(default)]
        cobrowsing_url: String,
    },
    /// Co-browsing finished.
    #[serde(rename = "chat_session_cobrowsing_ended")]
    CobrowsingEnded {},
    /// Anything unknown, and known types whose fields do not fit, kept
    /// whole; the mock rejects them with 400.
    #[serde(untagged)]
    Other(Value),
}

impl ClientEvent {
    /// The `event` name.
    pub fn name(&self) -> &str {
        match self {
            ClientEvent::Message { .. } => "chat_session_message",
            ClientEvent::MessageDelivered { .. } => "chat_session_message_delivered",
            ClientEvent::MessageRead { .. } => "chat_session_message_read",
            ClientEvent::Typing { .. } => "chat_session_typing",
            ClientEvent::NotTyping {} => "chat_session_not_typing",
            ClientEvent::FormData { .. } => "chat_session_form_data",
            ClientEvent::SecureFormData { .. } => "chat_session_secure_form_data",
            ClientEvent::SecureFormCancel { .. } => "chat_session_secure_form_cancel",
            ClientEvent::End {} => "chat_session_end",
            ClientEvent::Disconnect {} => "chat_session_disconnect",
            ClientEvent::File { .. } => "chat_session_file",
            ClientEvent::Navigation { .. } => "chat_session_navigation",
            ClientEvent::Signaling { .. } => "chat_session_signaling",
            ClientEvent::Location { .. } => "chat_session_location",
            ClientEvent::CobrowsingRejected {} => "chat_session_cobrowsing_rejected",
            ClientEvent::CobrowsingStarted { .. } => "chat_session_cobrowsing_started",
            ClientEvent::CobrowsingEnded {} => "chat_session_cobrowsing_ended",
            ClientEvent::Other(raw) => raw.get("event").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// True if and only if this is a documented client event with fields
    /// that fit it.
    pub fn is_known(&self) -> bool {
        !matches!(self, ClientEvent::Other(_))
    }

    /// True if and only if the event is valid only on v2.
    pub fn is_v2_only(&self) -> bool {
        matches!(
            self,
            ClientEvent::MessageDelivered { .. } | ClientEvent::MessageRead { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CAPTURED: &str = r#"{"events":[
      {"event":"chat_session_status","state":"queued","ewt":"20"},
      {"event":"chat_session_party_joined","party_id":"FA71","first_name":"Ann",
       "last_name":"Smith","display_name":"Ann","type":"internal","timestamp":"1614739600"},
      {"event":"chat_session_status","state":"connected","ewt":"0"},
      {"event":"chat_session_typing","party_id":"FA71","timestamp":"1614739605"},
      {"event":"chat_session_message","party_id":"FA71","msg_id":"4",
       "msg":"Hello, how can I help?","msg_text":"Hello, how can I help?","timestamp":"1614739607"},
      {"event":"chat_session_file","file_id":"6fda","file_name":"apktool",
       "file_type":"attachment","msg_id":"5","party_id":"FA71","timestamp":"1614739612"},
      {"event":"chat_session_info","service_name":"Support"}
    ]}"#;

    #[test]
    fn parses_a_captured_poll_response() {
        let body: EventsBody<ServerEvent> = serde_json::from_str(CAPTURED).unwrap();
        let names: Vec<&str> = body.events.iter().map(ServerEvent::name).collect();
        assert_eq!(
            names,
            [
                "chat_session_status",
                "chat_session_party_joined",
                "chat_session_status",
                "chat_session_typing",
                "chat_session_message",
                "chat_session_file",
                "chat_session_info"
            ]
        );
        assert_eq!(
            body.events[6],
            ServerEvent::Info {
                service_name: "Support".into()
            }
        );
        match &body.events[4] {
            ServerEvent::Message {
                msg_id, timestamp, ..
            } => {
                assert_eq!(msg_id, "4");
                assert_eq!(timestamp.seconds(), 1_614_739_607);
            }
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn lenient_fields_take_numbers_and_milliseconds() {
        let event: ServerEvent = serde_json::from_value(json!({
            "event": "chat_session_status", "state": "queued", "ewt": 12
        }))
        .unwrap();
        assert_eq!(
            event,
            ServerEvent::Status {
                state: ChatState::Queued,
                ewt: Some(Seconds(12))
            }
        );

        let event: ServerEvent = serde_json::from_value(json!({
            "event": "chat_session_form_show", "form_request_id": 3, "form_name": "survey_form",
            "form_timeout": 60, "timestamp": 1614739612345u64
        }))
        .unwrap();
        match event {
            ServerEvent::FormShow {
                form_request_id,
                timestamp,
                ..
            } => {
                assert_eq!(form_request_id, "3");
                assert_eq!(timestamp.millis, 1_614_739_612_345);
            }
            other => panic!("not a form: {other:?}"),
        }
    }

    #[test]
    fn server_events_write_string_seconds() {
        let event = ServerEvent::Typing {
            party_id: "a".into(),
            timestamp: Timestamp {
                millis: 1_614_739_605_999,
            },
        };
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(
            text,
            r#"{"event":"chat_session_typing","party_id":"a","timestamp":"1614739605"}"#
        );
        let ended = serde_json::to_string(&ServerEvent::Ended {}).unwrap();
        assert_eq!(ended, r#"{"event":"chat_session_ended"}"#);
    }

    #[test]
    fn unknown_states_and_party_types_do_not_fail() {
        let event: ServerEvent = serde_json::from_value(json!({
            "event": "chat_session_status", "state": "transferring"
        }))
        .unwrap();
        assert_eq!(
            event,
            ServerEvent::Status {
                state: ChatState::Unknown,
                ewt: None
            }
        );
    }

    #[test]
    fn ending_events_are_recognised() {
        let ended = [
            json!({"event": "chat_session_ended"}),
            json!({"event": "chat_session_inactivity_timeout", "msg": "bye"}),
            json!({"event": "chat_session_status", "state": "failed"}),
        ];
        for raw in ended {
            let event: ServerEvent = serde_json::from_value(raw.clone()).unwrap();
            assert!(event.ends_chat(), "{raw}");
        }
        let queued: ServerEvent =
            serde_json::from_value(json!({"event": "chat_session_status", "state": "queued"}))
                .unwrap();
        assert!(!queued.ends_chat());
    }

    #[test]
    fn client_events_round_trip() {
        let events = vec![
            ClientEvent::Typing { msg: None },
            ClientEvent::Message {
                msg_id: "c:1".into(),
                msg: "Hi".into(),
                msg_text: None,
                channel: None,
            },
            ClientEvent::NotTyping {},
            ClientEvent::MessageRead {
                ref_msg_id: "7".into(),
            },
            ClientEvent::File {
                msg_id: String::new(),
                file_id: "f".into(),
                file_type: "image".into(),
                file_name: Some("photo.jpg".into()),
            },
            ClientEvent::End {},
        ];
        let body = EventsBody { events };
        let text = serde_json::to_string(&body).unwrap();
        assert!(
            text.starts_with(r#"{"events":[{"event":"chat_session_typing"}"#),
            "{text}"
        );
        let back: EventsBody<ClientEvent> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, body);
    }

    /// The examples of API.md §4.2, and the rows of its tables that have none.
    const CLIENT_EXAMPLES: [&str; 7] = [
        r#"{"event":"chat_session_secure_form_data","form_request_id":"3","form_name":"pay",
           "data":{"card":"4111"}}"#,
        r#"{"event":"chat_session_secure_form_cancel","form_request_id":3,"form_name":"pay"}"#,
        r#"{"event":"chat_session_signaling","msg_id":"9","destination_party_id":"FA71",
           "data":{"type":"ICE_CANDIDATE","sdpMid":"0","sdpMLineIndex":"0","candidate":"c:1"}}"#,
        r#"{"event":"chat_session_location","msg_id":"5","latitude":"37.77",
           "longitude":"-122.41","url":"https://maps.example/x"}"#,
        r#"{"event":"chat_session_cobrowsing_rejected"}"#,
        r#"{"event":"chat_session_cobrowsing_started","provider_type":"surfly",
           "cobrowsing_url":"https://cobrowse.example/s/1"}"#,
        r#"{"event":"chat_session_cobrowsing_ended"}"#,
    ];

    #[test]
    fn documented_client_events_get_their_own_variants() {
        for text in CLIENT_EXAMPLES {
            let event: ClientEvent = serde_json::from_str(text).unwrap();
            assert!(event.is_known(), "{text}");
            assert!(!matches!(event, ClientEvent::Other(_)), "{text}");
            let raw: Value = serde_json::from_str(text).unwrap();
            assert_eq!(Some(event.name()), raw["event"].as_str());
        }

        let signaling: ClientEvent = serde_json::from_str(CLIENT_EXAMPLES[2]).unwrap();
        let ClientEvent::Signaling {
            destination_party_id,
            data,
            ..
        } = signaling
        else {
            panic!("not signaling: {signaling:?}")
        };
        assert_eq!(destination_party_id, "FA71");
        assert_eq!(data["type"], "ICE_CANDIDATE");

        let cancel: ClientEvent = serde_json::from_str(CLIENT_EXAMPLES[1]).unwrap();
        assert_eq!(
            cancel,
            ClientEvent::SecureFormCancel {
                form_request_id: "3".into(),
                form_name: Some("pay".into())
            }
        );
    }

    #[test]
    fn locations_take_quoted_and_bare_coordinates() {
        let quoted: ClientEvent = serde_json::from_str(CLIENT_EXAMPLES[3]).unwrap();
        let bare: ClientEvent = serde_json::from_value(json!({
            "event": "chat_session_location", "msg_id": 5, "latitude": 37.77,
            "longitude": -122.41, "url": "https://maps.example/x"
        }))
        .unwrap();
        assert_eq!(bare, quoted);
        let ClientEvent::Location {
            latitude,
            longitude,
            ..
        } = bare
        else {
            panic!("not a location: {bare:?}")
        };
        assert_eq!(
            (latitude.as_str(), longitude.as_str()),
            ("37.77", "-122.41")
        );
    }

    #[test]
    fn new_client_events_round_trip() {
        let events: Vec<ClientEvent> = CLIENT_EXAMPLES
            .iter()
            .map(|text| serde_json::from_str(text).unwrap())
            .collect();
        let body = EventsBody { events };
        let text = serde_json::to_string(&body).unwrap();
        let back: EventsBody<ClientEvent> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, body);
    }

    #[test]
    fn documented_server_events_get_their_own_variants() {
        let events: EventsBody<ServerEvent> = serde_json::from_value(json!({"events": [
            {"event": "chat_session_secure_form_show", "form_request_id": "8",
             "form_id": "payment", "timestamp": "1614739612"},
            {"event": "chat_session_secure_form_cancel", "form_request_id": 8},
            {"event": "chat_session_signaling", "party_id": "FA71", "msg_id": "10",
             "data": {"type": "OFFER_CALL", "offerVideo": "false", "sdp": "v=0"},
             "timestamp": "1614739613"},
            {"event": "chat_session_location", "party_id": "FA71", "msg_id": "11",
             "latitude": 37.77, "longitude": "-122.41", "timestamp": 1614739614000u64},
            {"event": "chat_session_cobrowsing_requested", "msg_id": "12"},
            {"event": "chat_session_info", "service_name": "Support"}
        ]}))
        .unwrap();
        let names: Vec<&str> = events.events.iter().map(ServerEvent::name).collect();
        assert_eq!(
            names,
            [
                "chat_session_secure_form_show",
                "chat_session_secure_form_cancel",
                "chat_session_signaling",
                "chat_session_location",
                "chat_session_cobrowsing_requested",
                "chat_session_info"
            ]
        );
        for event in &events.events {
            assert!(!matches!(event, ServerEvent::Unknown(_)), "{event:?}");
        }
        assert_eq!(
            events.events[3],
            ServerEvent::Location {
                party_id: "FA71".into(),
                msg_id: "11".into(),
                latitude: "37.77".into(),
                longitude: "-122.41".into(),
                url: None,
                timestamp: Timestamp {
                    millis: 1_614_739_614_000
                },
            }
        );
        let ServerEvent::Signaling { data, .. } = &events.events[2] else {
            panic!("not signaling: {:?}", events.events[2])
        };
        assert_eq!(data["sdp"], "v=0");

        let text = serde_json::to_string(&events).unwrap();
        let back: EventsBody<ServerEvent> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, events);
    }

    #[test]
    fn unknown_and_misfitting_events_are_kept_raw() {
        let bogus: ClientEvent =
            serde_json::from_value(json!({"event": "chat_session_dance"})).unwrap();
        assert!(!bogus.is_known());
        let no_tag: ClientEvent = serde_json::from_value(json!({"msg": "x"})).unwrap();
        assert!(!no_tag.is_known());

        let nowhere = json!({"event": "chat_session_location", "latitude": "1"});
        let client: ClientEvent = serde_json::from_value(nowhere.clone()).unwrap();
        assert_eq!(client, ClientEvent::Other(nowhere.clone()));
        assert_eq!(client.name(), "chat_session_location");
        let server: ServerEvent = serde_json::from_value(nowhere.clone()).unwrap();
        assert_eq!(server, ServerEvent::Unknown(nowhere));
    }

    #[test]
    fn read_receipts_are_v2_only() {
        assert!(
            ClientEvent::MessageDelivered {
                ref_msg_id: "1".into()
            }
            .is_v2_only()
        );
        assert!(!ClientEvent::End {}.is_v2_only());
    }
}
