//! One chat: its owner, its state and its ordered event log.
//!
//! The log holds client and server events alike, so History is the log
//! itself; a cursor marks how far polls have delivered the server events.
//! Everything mutable sits behind one small per-chat mutex that is never
//! held across an await, and a [`Notify`] wakes the chat's held poll.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::{BufMut, Bytes, BytesMut};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::api::ApiVersion;
use crate::api::events::{ChatState, ServerEvent};
use crate::api::lenient::Timestamp;

use super::store::ClientKey;

/// A chat of one client.
#[derive(Debug)]
pub(crate) struct Chat {
    /// The id clients put in paths.
    pub id: Arc<str>,
    /// The client that requested it; only it may use the chat.
    pub owner: ClientKey,
    /// The API generation of Request Chat; v2 chats get receipts and a case.
    pub version: ApiVersion,
    /// When it was created.
    pub created: Timestamp,
    /// Request Chat's callback number, echoed back.
    pub phone_number: Option<String>,
    inner: Mutex<ChatInner>,
    notify: Notify,
}

/// The mutable part of a chat.
#[derive(Debug)]
pub(crate) struct ChatInner {
    /// Current state as reported to the client.
    pub state: ChatState,
    /// A poll is being held; a second one is refused.
    pub poll_held: bool,
    /// The chat is over; it stays only so a poll can collect its last events.
    pub ended: bool,
    /// The agent serving the chat, once one took it.
    pub agent: Option<u32>,
    /// Waiting in the agents' queue.
    pub queued: bool,
    /// Queue ticket, for the wait estimate.
    pub ticket: u64,
    /// Customer messages the agent still has to answer, oldest first.
    pub unanswered: VecDeque<String>,
    /// Last client event, for the idle end.
    pub last_activity: Instant,
    /// When the agent joined, for the handling-time average.
    pub connected_at: Option<Instant>,
    /// The CRM case, once the agent set one (v2 chats only).
    pub case_id: Option<String>,
    next_msg_id: u32,
    log: Vec<Entry>,
    cursor: usize,
}

#[derive(Debug)]
struct Entry {
    event: ServerEvent,
    from_server: bool,
}

impl Chat {
    /// A new, queued chat.
    pub fn new(owner: ClientKey, version: ApiVersion, phone_number: Option<String>) -> Chat {
        let inner = ChatInner {
            state: ChatState::Queued,
            poll_held: false,
            ended: false,
            agent: None,
            queued: false,
            ticket: 0,
            unanswered: VecDeque::new(),
            last_activity: Instant::now(),
            connected_at: None,
            case_id: None,
            next_msg_id: 1,
            log: Vec::new(),
            cursor: 0,
        };
        Chat {
            id: uuid::Uuid::new_v4().to_string().into(),
            owner,
            version,
            created: Timestamp::now(),
            phone_number,
            inner: Mutex::new(inner),
            notify: Notify::new(),
        }
    }

    /// Locks the mutable part. A panic while it was held leaves a log that
    /// is still well formed, so a poisoned lock is used as it is.
    pub fn lock(&self) -> MutexGuard<'_, ChatInner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes the held poll, or lets the next poll pass its first wait.
    pub fn wake(&self) {
        self.notify.notify_one();
    }

    /// Resolves at the next [`Chat::wake`], or at once if one came while no
    /// poll waited.
    pub async fn woken(&self) {
        self.notify.notified().await;
    }
}

impl ChatInner {
    /// Appends server events; the caller wakes the chat afterwards.
    pub fn push_server(&mut self, events: impl IntoIterator<Item = ServerEvent>) {
        let entries = events.into_iter().map(|event| Entry {
            event,
            from_server: true,
        });
        self.log.extend(entries);
    }

    /// How many events the log holds, client and server ones alike.
    pub fn log_len(&self) -> usize {
        self.log.len()
    }

    /// Appends a client event in the form History gives it back. Send
    /// Events checks the chat's cap, under the same lock, before it calls
    /// this.
    pub fn push_client(&mut self, event: ServerEvent) {
        self.log.push(Entry {
            event,
            from_server: false,
        });
    }

    /// Marks every server event as delivered, for a chat the customer ended
    /// with no poll waiting: nobody will collect them.
    pub fn drop_pending(&mut self) {
        self.cursor = self.log.len();
    }

    /// The next agent message id, as a string.
    pub fn next_msg_id(&mut self) -> String {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id.to_string()
    }

    /// Takes the undelivered server events as a poll body and their count,
    /// or `None` when there are none.
    pub fn take_pending(&mut self) -> Option<(Bytes, usize)> {
        let pending = self.log[self.cursor..].iter().filter(|e| e.from_server);
        let (body, count) = events_body(pending.map(|e| &e.event));
        self.cursor = self.log.len();
        (count > 0).then_some((body, count))
    }

    /// Every event of the chat, client and server, as a History body.
    pub fn history(&self) -> Bytes {
        events_body(self.log.iter().map(|e| &e.event)).0
    }

    /// Copies of every event, for Case History.
    pub fn events(&self) -> Vec<ServerEvent> {
        self.log.iter().map(|e| e.event.clone()).collect()
    }
}

/// Writes `{"events":[…]}` straight into one buffer.
fn events_body<'a>(events: impl Iterator<Item = &'a ServerEvent>) -> (Bytes, usize) {
    let mut out = BytesMut::with_capacity(128).writer();
    let mut count = 0;
    out.get_mut().put_slice(b"{\"events\":[");
    for event in events {
        if count > 0 {
            out.get_mut().put_u8(b',');
        }
        // Serialising our own enum into memory cannot fail: every field is
        // a string, a number or a JSON value.
        if serde_json::to_writer(&mut out, event).is_ok() {
            count += 1;
        }
    }
    out.get_mut().put_slice(b"]}");
    (out.into_inner().freeze(), count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> Chat {
        Chat::new(ClientKey::new("t", "a", "c"), ApiVersion::V2, None)
    }

    #[test]
    fn polls_take_only_server_events_and_only_once() {
        let chat = chat();
        let mut inner = chat.lock();
        inner.push_client(ServerEvent::Ended {});
        assert!(inner.take_pending().is_none());
        inner.push_server([ServerEvent::Ended {}, ServerEvent::Ended {}]);
        let (body, count) = inner.take_pending().unwrap();
        assert_eq!(count, 2);
        let text = std::str::from_utf8(&body).unwrap();
        assert_eq!(
            text,
            r#"{"events":[{"event":"chat_session_ended"},{"event":"chat_session_ended"}]}"#
        );
        assert!(inner.take_pending().is_none());
    }

    #[test]
    fn history_keeps_client_and_server_events_in_order() {
        let chat = chat();
        let mut inner = chat.lock();
        inner.push_server([ServerEvent::Ended {}]);
        inner.push_client(ServerEvent::Typing {
            party_id: "p".into(),
            timestamp: Timestamp::default(),
        });
        let history: serde_json::Value = serde_json::from_slice(&inner.history()).unwrap();
        assert_eq!(history["events"][0]["event"], "chat_session_ended");
        assert_eq!(history["events"][1]["event"], "chat_session_typing");
    }

    #[test]
    fn message_ids_count_up() {
        let chat = chat();
        let mut inner = chat.lock();
        assert_eq!(
            (inner.next_msg_id(), inner.next_msg_id()),
            ("1".into(), "2".into())
        );
    }
}
