//! The customer's events and the agent's answers.
//!
//! Every client event goes into the chat's log in the form History gives it
//! back (the customer's party id is the chat id). A customer message makes
//! the agent type at once and answer after the reply delay, with delivered
//! and read receipts on v2 chats; `chat_session_end` ends the chat.

use std::sync::Arc;

use serde_json::Value;
use tokio::time::Instant;

use crate::api::events::{ClientEvent, ServerEvent};
use crate::api::lenient::Timestamp;

use super::center::Center;
use super::chat::{Chat, ChatInner};
use super::lifecycle::{Ender, agent_party};
use super::timers::Action;

impl Center {
    /// Applies the customer's events in order. Events after
    /// `chat_session_end` are ignored: the chat is over.
    pub fn customer_events(&self, chat: &Arc<Chat>, events: Vec<ClientEvent>) {
        let mut replies = 0;
        let mut ends = false;
        {
            let mut inner = chat.lock();
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
    }

    /// Logs one event; true if and only if the agent now owes a reply.
    fn customer_event(&self, chat: &Chat, inner: &mut ChatInner, event: ClientEvent) -> bool {
        let now = Timestamp::now();
        let message_id = match &event {
            ClientEvent::Message { msg_id, .. } => Some(msg_id.clone()),
            _ => None,
        };
        inner.push_client(history_form(event, &chat.id, now));

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
/// chat id, with the time it arrived.
fn history_form(event: ClientEvent, chat_id: &str, timestamp: Timestamp) -> ServerEvent {
    let party_id = chat_id.to_owned();
    match event {
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
        other => ServerEvent::Unknown(stamped(other, party_id, timestamp)),
    }
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
        let center = Center::new(MockConfig::default());
        let key = ClientKey::new("t", "a", "c");
        let chat = center
            .request_chat(&key, ApiVersion::V2, None)
            .unwrap()
            .chat;
        center.customer_events(&chat, vec![message("m1")]);
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
        let center = Center::new(MockConfig::default());
        let key = ClientKey::new("t", "a", "c");
        let chat = center
            .request_chat(&key, ApiVersion::V1, None)
            .unwrap()
            .chat;
        center.customer_events(&chat, vec![message("m1")]);
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
        let center = Center::new(config);
        let key = ClientKey::new("t", "a", "c");
        let chat = center
            .request_chat(&key, ApiVersion::V1, None)
            .unwrap()
            .chat;
        center.customer_events(&chat, vec![message("m1")]);
        assert_eq!(chat.lock().unanswered.len(), 1);

        assert!(center.join(&chat, 7));
        center.agent_reply(&chat);
        assert!(chat.lock().unanswered.is_empty());
        assert_eq!(
            names(&chat).last().map(String::as_str),
            Some("chat_session_not_typing")
        );
    }

    #[test]
    fn passthrough_events_keep_their_fields_and_gain_a_sender() {
        let raw = serde_json::json!({"event": "chat_session_location", "latitude": "1"});
        let event: ClientEvent = serde_json::from_value(raw).unwrap();
        let stored = history_form(event, "chat-1", Timestamp { millis: 5_000 });
        let ServerEvent::Unknown(value) = stored else {
            panic!("modelled: {stored:?}")
        };
        assert_eq!(value["latitude"], "1");
        assert_eq!(
            (value["party_id"].as_str(), value["timestamp"].as_str()),
            (Some("chat-1"), Some("5"))
        );
    }
}
