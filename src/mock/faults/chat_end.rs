//! Chats the server ends early: the fault ends the chat a request named,
//! right after that request was answered, so the customer learns of it
//! from the long poll the way it would from a real contact center.

use crate::api::events::{ChatState, ServerEvent};
use crate::api::lenient::Timestamp;
use crate::mock::center::Center;
use crate::mock::lifecycle::Ender;
use crate::scenario::ServerEnd;

/// Ends the chat `chat_id`, announced as `how`; a chat that is unknown or
/// already over is left alone.
pub(super) fn end_chat(center: &Center, chat_id: &str, how: ServerEnd) {
    let Some(chat) = center.store.chat(chat_id) else {
        return;
    };
    let first = match how {
        ServerEnd::Agent => None,
        ServerEnd::Inactivity => Some(ServerEvent::InactivityTimeout {
            msg: "the chat was closed after customer inactivity".into(),
            timestamp: Timestamp::now(),
        }),
        ServerEnd::Failed => Some(ServerEvent::Status {
            state: ChatState::Failed,
            ewt: None,
        }),
    };
    {
        let mut inner = chat.lock();
        if inner.ended {
            return;
        }
        // The announcing event goes first: a client stops polling at the
        // first event that ends a chat, so it must be this one.
        inner.push_server(first);
    }
    tracing::debug!(chat = %chat.id, ?how, "fault: the server ends the chat");
    center.end_chat(&chat, Ender::Agent);
}
