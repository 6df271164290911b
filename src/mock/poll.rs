//! Get New Chat Events: the long poll.
//!
//! A poll answers at once when server events are pending. Otherwise it
//! marks the chat as polled and waits on the chat's notify, up to the hold
//! time, without a task or a lock of its own. A guard clears the mark even
//! when the client goes away and hyper drops the waiting future.

use std::sync::Arc;

use bytes::Bytes;
use tokio::time::Instant;

use super::center::Center;
use super::chat::Chat;
use super::stats::Stats;

/// The body of a poll that found nothing.
const NO_EVENTS: &[u8] = b"{\"events\":[]}";

/// How a poll ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PollOutcome {
    /// A `{"events":[…]}` body, possibly empty.
    Events(Bytes),
    /// The chat ended and nothing is left to deliver.
    Ended,
    /// Another poll of this chat is being held.
    Busy,
}

impl Center {
    /// Answers a poll of `chat`, holding it up to `poll_hold` if nothing is
    /// pending.
    pub async fn poll(&self, chat: &Arc<Chat>) -> PollOutcome {
        if let Some(outcome) = self.poll_now(chat) {
            return outcome;
        }

        let _held = HeldPoll::new(chat, &self.stats);
        let deadline = Instant::now() + self.config.poll_hold;
        loop {
            tokio::select! {
                () = chat.woken() => {}
                () = tokio::time::sleep_until(deadline) => break,
            }
            let mut inner = chat.lock();
            if let Some(events) = self.take(&mut inner) {
                return PollOutcome::Events(events);
            }
            if inner.ended || self.is_closing() {
                break;
            }
        }
        PollOutcome::Events(Bytes::from_static(NO_EVENTS))
    }

    /// The answer that needs no wait, or `None` after marking the chat as
    /// polled.
    fn poll_now(&self, chat: &Chat) -> Option<PollOutcome> {
        let mut inner = chat.lock();
        if inner.poll_held {
            return Some(PollOutcome::Busy);
        }
        if let Some(events) = self.take(&mut inner) {
            return Some(PollOutcome::Events(events));
        }
        if inner.ended {
            return Some(PollOutcome::Ended);
        }
        if self.is_closing() {
            return Some(PollOutcome::Events(Bytes::from_static(NO_EVENTS)));
        }
        inner.poll_held = true;
        None
    }

    fn take(&self, inner: &mut super::chat::ChatInner) -> Option<Bytes> {
        let (body, count) = inner.take_pending()?;
        let sent = &self.stats.events_sent;
        sent.fetch_add(count as u64, std::sync::atomic::Ordering::Relaxed);
        Some(body)
    }
}

/// Marks a chat as polled for as long as it lives.
struct HeldPoll<'a> {
    chat: &'a Chat,
    stats: &'a Stats,
}

impl<'a> HeldPoll<'a> {
    fn new(chat: &'a Chat, stats: &'a Stats) -> Self {
        Stats::up(&stats.polls_held);
        HeldPoll { chat, stats }
    }
}

impl Drop for HeldPoll<'_> {
    fn drop(&mut self) {
        self.chat.lock().poll_held = false;
        Stats::down(&self.stats.polls_held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiVersion;
    use crate::mock::config::MockConfig;
    use crate::mock::lifecycle::Ender;
    use crate::mock::store::ClientKey;
    use std::time::Duration;

    fn center() -> Arc<Center> {
        let config = MockConfig {
            poll_hold: Duration::from_secs(10),
            ..MockConfig::default()
        };
        Arc::new(Center::new(config))
    }

    fn new_chat(center: &Center) -> Arc<Chat> {
        let key = ClientKey::new("t", "a", "c");
        center
            .request_chat(&key, ApiVersion::V2, None)
            .unwrap()
            .chat
    }

    #[tokio::test(start_paused = true)]
    async fn pending_events_come_back_at_once() {
        let center = center();
        let chat = new_chat(&center);
        let start = Instant::now();
        let PollOutcome::Events(body) = center.poll(&chat).await else {
            panic!("no events")
        };
        assert!(body.len() > NO_EVENTS.len());
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_poll_is_held_for_the_hold_time() {
        let center = center();
        let chat = new_chat(&center);
        center.poll(&chat).await;

        let start = Instant::now();
        let outcome = center.poll(&chat).await;
        assert_eq!(outcome, PollOutcome::Events(Bytes::from_static(NO_EVENTS)));
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        assert!(!chat.lock().poll_held);
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_poll_is_refused_while_one_is_held() {
        let center = center();
        let chat = new_chat(&center);
        center.poll(&chat).await;

        let held = tokio::spawn({
            let (center, chat) = (center.clone(), chat.clone());
            async move { center.poll(&chat).await }
        });
        tokio::task::yield_now().await;
        assert_eq!(center.stats.snapshot().polls_held, 1);
        assert_eq!(center.poll(&chat).await, PollOutcome::Busy);

        center.agent_reply(&chat);
        center.end_chat(&chat, Ender::Customer);
        let PollOutcome::Events(body) = held.await.unwrap() else {
            panic!("not events")
        };
        assert!(String::from_utf8_lossy(&body).contains("chat_session_ended"));
        assert_eq!(center.poll(&chat).await, PollOutcome::Ended);
        assert_eq!(center.stats.snapshot().polls_held, 0);
    }
}
