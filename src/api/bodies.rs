//! Request and response bodies of the methods other than events.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::events::{ChatState, ServerEvent};
use super::lenient::{Flag, Seconds, Timestamp};

/// Check Availability's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Availability {
    /// `available` or `notAvailable`.
    pub chat: ServiceState,
    /// Estimated wait in seconds, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ewt: Option<Seconds>,
}

/// Whether the entry is within its hours of operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceState {
    /// Open.
    #[serde(rename = "available")]
    Available,
    /// Closed. The Android SDK's `unavailable` is read as this too.
    #[serde(rename = "notAvailable", alias = "unavailable")]
    NotAvailable,
}

/// Get Version's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Server software version, for display.
    pub server_version: String,
}

/// Request Chat's body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestChat {
    /// Callback number, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// Free text naming the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Pre-chat data; values need not be strings.
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// Request SMS Chat Session's answer. Its body is a [`RequestChat`] whose
/// `phone_number` is the customer's SMS number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsRequested {
    /// 0 on success; other values come from the SMS server (5 no gateway,
    /// 6 database failure, 10 timeout, 11 a session already exists, 21 an
    /// unknown launch point). Written as a number, read from either form.
    #[serde(deserialize_with = "sms_code")]
    pub sms_error_code: u32,
    /// Empty on success.
    #[serde(default)]
    pub error_message: String,
}

impl SmsRequested {
    /// The answer of a session that started.
    pub fn started() -> SmsRequested {
        SmsRequested {
            sms_error_code: 0,
            error_message: String::new(),
        }
    }
}

fn sms_code<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let text = super::lenient::string_or_number(d)?;
    text.trim().parse().map_err(|_| {
        serde::de::Error::custom(format!("sms_error_code {text:?} is not a whole number"))
    })
}

/// Request Chat's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatCreated {
    /// The chat id used in every later path.
    pub chat_id: String,
    /// State at creation, usually `queued` or `ivr`.
    pub state: ChatState,
    /// Estimated wait, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ewt: Option<Seconds>,
    /// False when the client's existing chat was returned.
    #[serde(default = "yes")]
    pub is_new_chat: Flag,
    /// Echo of the callback number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

fn yes() -> Flag {
    Flag(true)
}

/// Get Active Chat's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveChat {
    /// The chat id.
    pub chat_id: String,
    /// Its state.
    pub state: ChatState,
    /// Estimated wait, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ewt: Option<Seconds>,
    /// Callback number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// Upload File's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUploaded {
    /// The id to share with `chat_session_file`.
    pub file_id: String,
    /// The stored name; real servers send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
}

/// Expected Parameters' answer, in the `{name, type}` form the web widget
/// reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameters {
    /// The pre-chat fields.
    pub parameters: Vec<ParameterSpec>,
}

/// One pre-chat field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParameterSpec {
    /// The key to send in Request Chat's `parameters`.
    pub name: String,
    /// `FIRST_NAME`, `EMAIL`, `PHONE` and so on.
    #[serde(rename = "type")]
    pub kind: String,
}

/// Get ICE Servers' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServers {
    /// STUN and TURN servers.
    pub servers: Vec<IceServer>,
}

/// One ICE server; note the singular `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:` or `turn:` URL.
    pub url: String,
    /// TURN user, when needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password, when needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Mobile Notification Subscription's body (v2): at most one kind of push
/// token; none unsubscribes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSubscription {
    /// APNs device token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios_apns_device_token: Option<String>,
    /// APNs topic for the APNs token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios_app_bundle_id: Option<String>,
    /// Firebase token of an iOS device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios_firebase_device_token: Option<String>,
    /// Firebase token of an Android device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub android_firebase_device_token: Option<String>,
}

impl NotificationSubscription {
    /// How many kinds of token the body names; more than one is refused
    /// with 5603.
    pub fn token_kinds(&self) -> usize {
        [
            &self.ios_apns_device_token,
            &self.ios_firebase_device_token,
            &self.android_firebase_device_token,
        ]
        .iter()
        .filter(|t| t.is_some())
        .count()
    }
}

/// Get Case History's answer (v2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseHistory {
    /// Every chat of the case.
    pub sessions: Vec<CaseSession>,
}

/// One chat of a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSession {
    /// The chat.
    pub chat_id: String,
    /// When it was created (Unix seconds, number or string).
    pub created_time: Timestamp,
    /// Its events.
    #[serde(default)]
    pub events: Vec<ServerEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sms_answer_reads_its_code_as_number_or_string() {
        let number: SmsRequested =
            serde_json::from_str(r#"{"sms_error_code": 11, "error_message": "exists"}"#).unwrap();
        assert_eq!(number.sms_error_code, 11);
        let text: SmsRequested = serde_json::from_str(r#"{"sms_error_code": "0"}"#).unwrap();
        assert_eq!(text, SmsRequested::started());
        let written = serde_json::to_string(&SmsRequested::started()).unwrap();
        assert_eq!(written, r#"{"sms_error_code":0,"error_message":""}"#);
    }
    use serde_json::json;

    #[test]
    fn availability_reads_every_spelling_of_closed() {
        for word in ["notAvailable", "unavailable"] {
            let a: Availability = serde_json::from_value(json!({"chat": word})).unwrap();
            assert_eq!(a.chat, ServiceState::NotAvailable);
        }
        let open: Availability =
            serde_json::from_value(json!({"chat": "available", "ewt": "3"})).unwrap();
        assert_eq!(open.ewt, Some(Seconds(3)));
        let text = serde_json::to_string(&open).unwrap();
        assert_eq!(text, r#"{"chat":"available","ewt":"3"}"#);
    }

    #[test]
    fn chat_created_reads_quoted_is_new_chat_and_missing_ewt() {
        let created: ChatCreated = serde_json::from_value(json!({
            "state": "ivr", "chat_id": "d6c1", "is_new_chat": "false"
        }))
        .unwrap();
        assert_eq!(created.is_new_chat, Flag(false));
        assert_eq!(created.ewt, None);
        assert_eq!(created.state, ChatState::Ivr);
    }

    #[test]
    fn request_chat_keeps_nested_parameters() {
        let body: RequestChat = serde_json::from_value(json!({
            "phone_number": "", "from": "John",
            "parameters": {"first_name": "John", "user_platform": {"os": "iOS"}}
        }))
        .unwrap();
        assert_eq!(body.parameters["user_platform"]["os"], "iOS");
        let empty: RequestChat = serde_json::from_str("{}").unwrap();
        assert!(empty.parameters.is_empty());
    }

    #[test]
    fn notification_bodies_count_their_token_kinds() {
        let none: NotificationSubscription = serde_json::from_str("{}").unwrap();
        assert_eq!(none.token_kinds(), 0);
        let two: NotificationSubscription = serde_json::from_value(json!({
            "ios_apns_device_token": "a", "ios_app_bundle_id": "b",
            "android_firebase_device_token": "c"
        }))
        .unwrap();
        assert_eq!(two.token_kinds(), 2);
    }

    #[test]
    fn case_history_reads_numeric_and_string_times() {
        let history: CaseHistory = serde_json::from_value(json!({"sessions": [
            {"chat_id": "a", "created_time": 1614739000, "events": []},
            {"chat_id": "b", "created_time": "1614749000"}
        ]}))
        .unwrap();
        assert_eq!(history.sessions[1].created_time.seconds(), 1_614_749_000);
    }
}
