//! The long poll: exactly one Get New Chat Events outstanding for the whole
//! life of a chat, re-issued as soon as the previous one answers.

use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

use super::caller::{Caller, Reply};
use super::chat_view::{ChatView, ServerEnd};
use crate::api::{Endpoint, EventsBody, ServerEvent};

/// Wait before re-polling after a failed poll, so that a broken target is
/// not hammered by every client at once.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Polls until the chat ends; the conversation drops the task when it is
/// done with the chat.
pub async fn poll_loop(caller: Rc<Caller>, view: Rc<ChatView>) {
    // Joined to the tenant query once: the poll is sent again and again.
    let path = caller.with_tenant(&Endpoint::PollEvents.path(caller.ctx.api(), &view.chat_id, ""));
    let receipts = caller.ctx.scenario.conversation.receipts && caller.ctx.api().is_v2();
    let mut intended = Instant::now();

    while view.ended.get().is_none() && !view.closing.get() {
        let reply = caller.poll(intended, &path, &view.closing).await;
        let at = Instant::now();
        // The reply is used up by a function before any wait: kept across
        // the retry's sleep, it would size every client's poll task.
        if take_reply(&caller, &view, reply, at, receipts) {
            intended = at;
        } else {
            intended = at + RETRY_AFTER;
            tokio::time::sleep_until(intended).await;
        }
    }
}

/// Applies one poll's reply; false when the poll should be tried again
/// after a pause.
fn take_reply(caller: &Caller, view: &ChatView, reply: Reply, at: Instant, receipts: bool) -> bool {
    match reply {
        Reply::Response(ex) if ex.status == 200 => {
            apply_events(caller, view, &ex.body, at, receipts);
            true
        }
        Reply::Response(ex) if ex.status == 404 => {
            view.end(ServerEnd::NotFound);
            true
        }
        Reply::Response(_) | Reply::Failed => false,
    }
}

fn apply_events(caller: &Caller, view: &ChatView, body: &[u8], at: Instant, receipts: bool) {
    let events = match serde_json::from_slice::<EventsBody<ServerEvent>>(body) {
        Ok(parsed) => parsed.events,
        Err(err) => {
            caller.protocol_error(Endpoint::PollEvents, &err.to_string());
            return;
        }
    };
    let mut unknown = 0;
    for event in &events {
        if !view.apply(event, at, receipts) {
            unknown += 1;
        }
    }
    if unknown > 0 {
        let mut metrics = caller.ctx.metrics.borrow_mut();
        (0..unknown).for_each(|_| metrics.unknown_event());
    }
    if !events.is_empty() {
        view.changed.notify_waiters();
    }
}
