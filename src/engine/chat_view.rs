//! What a client knows of its chat, as the long poll learns it, and how the
//! conversation waits on it.
//!
//! The poll task writes, the conversation reads; both run on the same
//! worker thread, so plain cells do, and a `Notify` wakes the conversation
//! after each poll response.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::control::Phase;
use crate::api::ServerEvent;
use crate::api::events::{ChatState, PartyType};

/// Why a chat ended on the server's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEnd {
    /// `chat_session_ended`, inactivity timeout, or status failed/completed.
    Event,
    /// The chat is gone: 404 (5005) on a poll or a send.
    NotFound,
}

/// The chat as seen through the poll.
pub struct ChatView {
    /// The chat id, to tell the customer's own messages from the agent's.
    pub chat_id: String,
    /// When the poll first showed an agent in the chat.
    pub joined_at: Cell<Option<Instant>>,
    /// Set once the server ended the chat.
    pub ended: Cell<Option<ServerEnd>>,
    /// Set when the customer is about to end the chat: the poll must not
    /// be re-issued, or it would reach a chat already gone (404).
    pub closing: Cell<bool>,
    /// Agent messages received so far.
    pub agent_messages: Cell<u64>,
    /// When the latest agent message arrived.
    pub last_agent_message_at: Cell<Option<Instant>>,
    /// Agent message ids not yet acknowledged with receipts.
    pub unacknowledged: RefCell<VecDeque<String>>,
    /// Woken after every poll response that changed something.
    pub changed: Notify,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The condition held.
    Met,
    /// The deadline passed first.
    TimedOut,
    /// The server ended the chat.
    ServerEnded,
    /// The run moved to ending or stopping.
    Interrupted,
}

impl ChatView {
    /// A fresh view of chat `chat_id`.
    pub fn new(chat_id: String) -> ChatView {
        ChatView {
            chat_id,
            joined_at: Cell::new(None),
            ended: Cell::new(None),
            closing: Cell::new(false),
            agent_messages: Cell::new(0),
            last_agent_message_at: Cell::new(None),
            unacknowledged: RefCell::new(VecDeque::new()),
            changed: Notify::new(),
        }
    }

    /// Applies one server event received at `at`. Returns false for an
    /// event the protocol model does not know.
    pub fn apply(&self, event: &ServerEvent, at: Instant, track_receipts: bool) -> bool {
        match event {
            ServerEvent::PartyJoined {
                party_type: PartyType::Internal,
                ..
            }
            | ServerEvent::Status {
                state: ChatState::Connected,
                ..
            } if self.joined_at.get().is_none() => self.joined_at.set(Some(at)),
            ServerEvent::Message {
                party_id, msg_id, ..
            } if *party_id != self.chat_id => {
                self.agent_messages.set(self.agent_messages.get() + 1);
                self.last_agent_message_at.set(Some(at));
                if track_receipts {
                    self.unacknowledged.borrow_mut().push_back(msg_id.clone());
                }
            }
            ServerEvent::Unknown(_) => return false,
            _ => {}
        }
        if event.ends_chat() {
            self.end(ServerEnd::Event);
        }
        true
    }

    /// Marks the chat as ended by the server and wakes the conversation.
    pub fn end(&self, how: ServerEnd) {
        if self.ended.get().is_none() {
            self.ended.set(Some(how));
        }
        self.changed.notify_waiters();
    }

    /// Waits until `done` holds, the chat ends, the run is interrupted, or
    /// `deadline` passes. With a `done` that never holds it is a sleep that
    /// an ending run or chat cuts short.
    pub async fn wait_until(
        &self,
        phase: &mut watch::Receiver<Phase>,
        deadline: Instant,
        done: impl Fn(&ChatView) -> bool,
    ) -> Wait {
        loop {
            // Registered before the checks, so a notification sent between
            // the checks and the await is not lost.
            let changed = self.changed.notified();
            if done(self) {
                return Wait::Met;
            }
            if self.ended.get().is_some() {
                return Wait::ServerEnded;
            }
            if *phase.borrow() >= Phase::Ending {
                return Wait::Interrupted;
            }
            tokio::select! {
                _ = changed => {}
                _ = tokio::time::sleep_until(deadline) => return Wait::TimedOut,
                result = phase.changed() => {
                    if result.is_err() {
                        return Wait::Interrupted;
                    }
                }
            }
        }
    }
}

/// Sleeps until `deadline`; returns false if the run left
/// [`Phase::Running`] first.
pub async fn sleep_while_running(phase: &mut watch::Receiver<Phase>, deadline: Instant) -> bool {
    loop {
        if *phase.borrow() != Phase::Running {
            return false;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return true,
            result = phase.changed() => {
                if result.is_err() {
                    return false;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::lenient::Timestamp;
    use std::time::Duration;

    fn message(party: &str, id: &str) -> ServerEvent {
        ServerEvent::Message {
            party_id: party.into(),
            msg_id: id.into(),
            msg: "hi".into(),
            msg_text: None,
            timestamp: Timestamp::default(),
        }
    }

    #[test]
    fn agent_messages_are_told_from_the_customers_own() {
        let view = ChatView::new("chat-1".into());
        let now = Instant::now();
        assert!(view.apply(&message("chat-1", "1"), now, true));
        assert_eq!(view.agent_messages.get(), 0);
        assert!(view.apply(&message("agent", "2"), now, true));
        assert_eq!(view.agent_messages.get(), 1);
        assert_eq!(
            view.unacknowledged.borrow().front().map(String::as_str),
            Some("2")
        );
    }

    #[test]
    fn unknown_events_are_reported_and_ending_events_end() {
        let view = ChatView::new("c".into());
        let raw = serde_json::json!({"event": "chat_session_dance"});
        assert!(!view.apply(&ServerEvent::Unknown(raw), Instant::now(), false));
        assert!(view.apply(&ServerEvent::Ended {}, Instant::now(), false));
        assert_eq!(view.ended.get(), Some(ServerEnd::Event));
    }

    #[tokio::test(start_paused = true)]
    async fn waits_end_on_condition_deadline_or_phase() {
        let view = ChatView::new("c".into());
        let (tx, mut rx) = watch::channel(Phase::Running);
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            view.wait_until(&mut rx, deadline, |_| false).await,
            Wait::TimedOut
        );

        view.joined_at.set(Some(Instant::now()));
        let joined = |v: &ChatView| v.joined_at.get().is_some();
        let later = Instant::now() + Duration::from_secs(5);
        assert_eq!(view.wait_until(&mut rx, later, joined).await, Wait::Met);

        tx.send_replace(Phase::Ending);
        let later = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            view.wait_until(&mut rx, later, |_| false).await,
            Wait::Interrupted
        );
    }
}
