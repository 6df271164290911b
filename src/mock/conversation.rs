//! The customer's events and the agent's answers.
//!
//! Every client event but signaling goes into the chat's log in the form
//! History gives it back (the customer's party id is the chat id);
//! signaling is not kept in history, as API.md §4.2 says. A customer message makes
//! the agent type at once and answer after the reply delay, with delivered
//! and read receipts on v2 chats; `chat_session_end` ends the chat.
//!
//! The log's cap (`max_chat_events`) is kept under the chat's lock with
//! room for every server event already due: the answers still owed, the
//! agent's join and the end. So a batch is refused if what it would cause,
//! not just what it is, does not fit.

use std::sync::Arc;

use serde_json::Value;
use tokio::time::Instant;

use crate::api::ApiVersion;
use crate::api::events::{ClientEvent, ServerEvent};
use crate::api::lenient::Timestamp;

use super::center::Center;
use super::chat::{Chat, ChatInner};
use super::lifecycle::{Ender, agent_party};
use super::timers::Action;

/// Most server events an agent's join logs: joined, connected, the case,
/// and typing for messages it finds unanswered.
const JOIN_EVENTS: usize = 4;

/// Most server events an end logs: a fault's announcement, the agent
/// leaving, and `chat_session_ended`.
const END_EVENTS: usize = 3;

/// Send Events would take the chat's log past its cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogFull {
    /// Events the log holds now.
    pub held: usize,
    /// Events the log may hold, answers still due included.
    pub cap: usize,
}

/// Server events an answer logs: the read receipt on v2, the message and
/// `chat_session_not_typing`.
fn answer_events(version: ApiVersion) -> usize {
    if version.is_v2() { 3 } else { 2 }
}

/// Log entries a client event can cost in all: itself, and for a message
/// the delivered receipt (v2), the agent's typing and the answer.
fn event_cost(event: &ClientEvent, version: ApiVersion) -> usize {
    match event {
        ClientEvent::Message { .. } => {
            let at_once = if version.is_v2() { 2 } else { 1 };
            1 + at_once + answer_events(version)
        }
        ClientEvent::Signaling { .. } => 0,
        _ => 1,
    }
}

/// Log entries the chat is already committed to: what it holds, the
/// answers still owed, and the join and the end still to come.
fn committed(chat: &Chat, inner: &ChatInner) -> usize {
    let owed = inner.unanswered.len() * answer_events(chat.version);
    let join = if inner.agent.is_none() {
        JOIN_EVENTS
    } else {
        0
    };
    let end = if inner.ended { 0 } else { END_EVENTS };
    inner.log_len() + owed + join + end
}

impl Center {
    /// Applies the customer's events in order, or none of them if the log
    /// has no room for all they would cause. Events after
    /// `chat_session_end` are ignored: the chat is over.
    pub fn customer_events(
        &self,
        chat: &Arc<Chat>,
        events: Vec<ClientEvent>,
    ) -> Result<(), LogFull> {
        let mut replies = 0;
        let mut ends = false;
        {
            let mut inner = chat.lock();
            let cost: usize = events.iter().map(|e| event_cost(e, chat.version)).sum();
            let cap = self.config.max_chat_events;
            if committed(chat, &inner).saturating_add(cost) > cap {
                let held = inner.log_len();
                return Err(LogFull { held, cap });
            }

            inner.last_activity = Instant::now();
            for event in events {
                ends = matches!(event, ClientEvent::End {});
                replies += usize::from(self.customer_event(chat, &mut inner, event));
                if ends {
                    break;
                }
            }
        }

        chat.wake();
        for _ in 0..replies {
            self.timers
                .schedule(self.reply_at(), Action::Reply(chat.clone()));
        }
        if ends {
            self.end_chat(chat, Ender::Customer);
        }
        Ok(())
    }

    /// Logs one event; true if and only if the agent now owes a reply.
    fn customer_event(&self, chat: &Chat, inner: &mut ChatInner, event: ClientEvent) -> bool {
        let now = Timestamp::now();
        let message_id = match &event {
            ClientEvent::Message { msg_id, .. } => Some(msg_id.clone()),
            _ => None,
        };
        if let Some(entry) = history_form(event, &chat.id, now) {
            inner.push_client(entry);
        }

        let Some(msg_id) = message_id else {
            return false;
        };
        inner.unanswered.push_back(msg_id.clone());
        let Some(agent) = inner.agent else {
            // Answered when an agent joins.
            return false;
        };
        let party_id = agent_party(agent);
        if chat.version.is_v2() {
            let receipt = ServerEvent::MessageDelivered {
                party_id: party_id.clone(),
                ref_msg_id: msg_id,
                timestamp: now,
            };
            inner.push_server([receipt]);
        }
        inner.push_server([ServerEvent::Typing {
            party_id,
            timestamp: now,
        }]);
        true
    }

    /// The agent answers the oldest unanswered message: a read receipt on
    /// v2, the message, then `chat_session_not_typing`.
    pub fn agent_reply(&self, chat: &Arc<Chat>) {
        let mut inner = chat.lock();
        let Some(agent) = inner.agent.filter(|_| !inner.ended) else {
            return;
        };
        let Some(ref_msg_id) = inner.unanswered.pop_front() else {
            return;
        };

        let party_id = agent_party(agent);
        let timestamp = Timestamp::now();
        if chat.version.is_v2() {
            let party_id = party_id.clone();
            inner.push_server([ServerEvent::MessageRead {
                party_id,
                ref_msg_id,
                timestamp,
            }]);
        }
        let msg_id = inner.next_msg_id();
        let text = format!("Thank you, I am looking into it (answer {msg_id}).");
        inner.push_server([
            ServerEvent::Message {
                party_id: party_id.clone(),
                msg_id,
                msg: text.clone(),
                msg_text: Some(text),
                timestamp,
            },
            ServerEvent::NotTyping {
                party_id,
                timestamp,
            },
        ]);
        drop(inner);
        chat.wake();
    }
}

/// A client event as History shows it: sent by the party whose id is the
/// chat id, with the time it arrived. None for signaling, which History
/// leaves out.
fn history_form(event: ClientEvent, chat_id: &str, timestamp: Timestamp) -> Option<ServerEvent> {
    let party_id = chat_id.to_owned();
    let entry = match event {
        ClientEvent::Message {
            msg_id,
            msg,
            msg_text,
            ..
        } => ServerEvent::Message {
            party_id,
            msg_id,
            msg,
            msg_text,
            timestamp,
        },
        ClientEvent::Typing { .. } => ServerEvent::Typing {
            party_id,
            timestamp,
        },
        ClientEvent::NotTyping {} => ServerEvent::NotTyping {
            party_id,
            timestamp,
        },
        ClientEvent::MessageDelivered { ref_msg_id } => ServerEvent::MessageDelivered {
            party_id,
            ref_msg_id,
            timestamp,
        },
        ClientEvent::MessageRead { ref_msg_id } => ServerEvent::MessageRead {
            party_id,
            ref_msg_id,
            timestamp,
        },
        ClientEvent::File {
            msg_id,
            file_id,
            file_type,
            file_name,
        } => ServerEvent::File {
            party_id,
            msg_id,
            file_id,
            file_type,
            file_name,
            timestamp,
        },
        ClientEvent::Location {
            msg_id,
            latitude,
            longitude,
            url,
        } => ServerEvent::Location {
            party_id,
            msg_id,
            latitude,
            longitude,
            url,
            timestamp,
        },
        ClientEvent::Signaling { .. } => return None,
        // No server event has these fields and a sender, so History keeps
        // the customer's own JSON with both added.
        other => ServerEvent::Unknown(stamped(other, party_id, timestamp)),
    };
    Some(entry)
}

/// The event's own JSON with the sender and time added.
fn stamped(event: ClientEvent, party_id: String, timestamp: Timestamp) -> Value {
    let mut value = serde_json::to_value(&event).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("party_id".into(), Value::String(party_id));
        map.insert(
            "timestamp".into(),
            Value::String(timestamp.seconds().to_string()),
        );
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiVersion;
    use crate::mock::config::MockConfig;
    use crate::mock::store::ClientKey;

    fn names(chat: &Chat) -> Vec<String> {
        let history: Value = serde_json::from_slice(&chat.lock().history()).unwrap();
        let events = history["events"].as_array().cloned().unwrap_or_default();
        events
            .iter()
            .map(|e| e["event"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// A center with `config` and one client's chat in it.
    fn one_chat(config: MockConfig, version: ApiVersion) -> (Center, Arc<Chat>) {
        let center = Center::new(config);
        let key = ClientKey::new("t", "a", "c");
        let chat = center.request_chat(&key, version, None).unwrap().chat;
        (center, chat)
    }

    fn message(id: &str) -> ClientEvent {
        ClientEvent::Message {
            msg_id: id.into(),
            msg: "hi".into(),
            msg_text: None,
            channel: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_agent_types_answers_and_stops_typing_with_receipts_on_v2() {
        let (center, chat) = one_chat(MockConfig::default(), ApiVersion::V2);
        center.customer_events(&chat, vec![message("m1")]).unwrap();
        center.agent_reply(&chat);

        let names = names(&chat);
        let tail: Vec<&str> = names
            .iter()
            .rev()
            .take(6)
            .rev()
            .map(String::as_str)
            .collect();
        assert_eq!(
            tail,
            [
                "chat_session_message",
                "chat_session_message_delivered",
                "chat_session_typing",
                "chat_session_message_read",
                "chat_session_message",
                "chat_session_not_typing"
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn customer_messages_carry_the_chat_id_as_party() {
        let (center, chat) = one_chat(MockConfig::default(), ApiVersion::V1);
        center.customer_events(&chat, vec![message("m1")]).unwrap();
        let history: Value = serde_json::from_slice(&chat.lock().history()).unwrap();
        let mine = history["events"]
            .as_array()
            .and_then(|events| events.iter().find(|e| e["msg_id"] == "m1"))
            .cloned()
            .unwrap();
        assert_eq!(mine["party_id"], &*chat.id);
    }

    #[tokio::test(start_paused = true)]
    async fn a_message_to_a_queued_chat_is_answered_when_the_agent_joins() {
        let config = MockConfig {
            agents: 0,
            ..MockConfig::default()
        };
        let (center, chat) = one_chat(config, ApiVersion::V1);
        center.customer_events(&chat, vec![message("m1")]).unwrap();
        assert_eq!(chat.lock().unanswered.len(), 1);

        assert!(center.join(&chat, 7));
        center.agent_reply(&chat);
        assert!(chat.lock().unanswered.is_empty());
        assert_eq!(
            names(&chat).last().map(String::as_str),
            Some("chat_session_not_typing")
        );
    }

    /// Fills a chat's log with messages, lets every answer and the end
    /// happen, and returns how many messages got in and the final length.
    fn fill(agents: u32, version: ApiVersion, cap: usize) -> (usize, usize) {
        let config = MockConfig {
            agents,
            max_chat_events: cap,
            ..MockConfig::default()
        };
        let (center, chat) = one_chat(config, version);
        let mut accepted = 0;
        while center.customer_events(&chat, vec![message("m")]).is_ok() {
            accepted += 1;
            assert!(accepted <= cap, "no refusal");
        }

        if agents == 0 {
            assert!(center.join(&chat, 0));
        }
        for _ in 0..accepted {
            center.agent_reply(&chat);
        }
        center.end_chat(&chat, Ender::Agent);
        let len = chat.lock().log_len();
        (accepted, len)
    }

    #[tokio::test(start_paused = true)]
    async fn the_log_cap_holds_with_every_answer_and_the_end_counted() {
        for (agents, version) in [
            (1, ApiVersion::V2),
            (1, ApiVersion::V1),
            (0, ApiVersion::V2),
            (0, ApiVersion::V1),
        ] {
            let (accepted, len) = fill(agents, version, 40);
            assert!(
                accepted >= 4,
                "{agents} agents, {version:?}: {accepted} messages"
            );
            assert!(len <= 40, "{agents} agents, {version:?}: {len} events");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_batch_is_not_logged_at_all() {
        let config = MockConfig {
            max_chat_events: 12,
            ..MockConfig::default()
        };
        let (center, chat) = one_chat(config, ApiVersion::V2);
        let before = chat.lock().log_len();
        let full = center.customer_events(&chat, vec![message("a"), message("b")]);
        assert_eq!(
            full,
            Err(LogFull {
                held: before,
                cap: 12
            })
        );
        assert_eq!(chat.lock().log_len(), before);
    }

    #[test]
    fn events_without_a_server_form_keep_their_fields_and_gain_a_sender() {
        let raw = serde_json::json!({
            "event": "chat_session_secure_form_data", "form_request_id": 4,
            "form_name": "pay", "data": {"card": "x"}
        });
        let event: ClientEvent = serde_json::from_value(raw).unwrap();
        let stored = history_form(event, "chat-1", Timestamp { millis: 5_000 });
        let Some(ServerEvent::Unknown(value)) = stored else {
            panic!("modelled: {stored:?}")
        };
        assert_eq!(
            (
                value["form_request_id"].as_str(),
                value["data"]["card"].as_str()
            ),
            (Some("4"), Some("x"))
        );
        assert_eq!(
            (value["party_id"].as_str(), value["timestamp"].as_str()),
            (Some("chat-1"), Some("5"))
        );
    }

    #[test]
    fn a_location_is_logged_as_the_chat_ids_location() {
        let raw = serde_json::json!({
            "event": "chat_session_location", "msg_id": "5", "latitude": 37.77,
            "longitude": "-122.41"
        });
        let event: ClientEvent = serde_json::from_value(raw).unwrap();
        let stored = history_form(event, "chat-1", Timestamp { millis: 5_000 });
        let Some(ServerEvent::Location {
            party_id, latitude, ..
        }) = stored
        else {
            panic!("not a location: {stored:?}")
        };
        assert_eq!((party_id.as_str(), latitude.as_str()), ("chat-1", "37.77"));
    }

    #[tokio::test(start_paused = true)]
    async fn signaling_is_accepted_but_not_kept_in_history() {
        let (center, chat) = one_chat(MockConfig::default(), ApiVersion::V1);
        let before = chat.lock().log_len();
        let signaling = ClientEvent::Signaling {
            msg_id: "9".into(),
            destination_party_id: "p".into(),
            data: serde_json::json!({"type": "END_CALL"}),
        };
        let rejected = ClientEvent::CobrowsingRejected {};
        center
            .customer_events(&chat, vec![signaling, rejected])
            .unwrap();
        assert_eq!(chat.lock().log_len(), before + 1);
        assert_eq!(
            names(&chat).last().map(String::as_str),
            Some("chat_session_cobrowsing_rejected")
        );
    }
}
