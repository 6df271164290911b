//! A chat from Request Chat to its expiry: creation, queueing, an agent
//! joining, the end (by the customer or by the agent after silence) and
//! the grace period after which an ended chat is forgotten.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::api::ApiVersion;
use crate::api::ErrorCode;
use crate::api::events::{ChatState, PartyType, ServerEvent};
use crate::api::lenient::{Seconds, Timestamp};

use super::agents::Placement;
use super::center::Center;
use super::chat::Chat;
use super::stats::Stats;
use super::store::{Claim, ClientKey};
use super::timers::Action;

/// Who ended a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ender {
    /// The customer sent `chat_session_end`; nobody polls for the rest.
    Customer,
    /// The agent closed it after the customer's silence.
    Agent,
}

/// What ending a chat leaves to undo outside the chat's lock.
struct Ended {
    /// The agent whose seat frees up.
    agent: Option<u32>,
    /// The queue ticket of a chat that was still waiting.
    queued_ticket: Option<u64>,
    /// How long the agent had it, for the handling-time average.
    handled_for: Duration,
}

/// The outcome of Request Chat.
pub(crate) struct Requested {
    /// The chat.
    pub chat: Arc<Chat>,
    /// False when the client's live chat was returned.
    pub is_new: bool,
    /// Estimated wait in seconds.
    pub ewt: u64,
}

/// The party id of an agent: stable, and shaped like a real one.
pub(crate) fn agent_party(agent: u32) -> String {
    const BASE: u128 = 0xa9e7_0000_0000_4000_8000_0000_0000_0000;
    uuid::Uuid::from_u128(BASE + u128::from(agent))
        .to_string()
        .to_uppercase()
}

impl Center {
    /// Returns the client's live chat, or creates one and hands it to an
    /// agent or the queue. Fails with 5001 beyond `max_chats`.
    pub fn request_chat(
        &self,
        key: &ClientKey,
        version: ApiVersion,
        phone_number: Option<String>,
    ) -> Result<Requested, ErrorCode> {
        let ewt = self.dispatch.ewt_now();
        let claim = self.store.claim(key, || {
            self.reserve_slot()?;
            let chat = Chat::new(key.clone(), version, phone_number);
            // Queued from the moment another request can see it, so that
            // an end that comes before `place` still undoes the gauge.
            let mut inner = chat.lock();
            inner.queued = true;
            inner.push_server([ServerEvent::Status {
                state: ChatState::Queued,
                ewt: Some(Seconds(ewt)),
            }]);
            drop(inner);
            Stats::up(&self.stats.queued_chats);
            self.stats.chat_opened(key);
            Ok(chat)
        })?;

        let chat = match claim {
            Claim::Existing(chat) => {
                let ewt = self.current_ewt(&chat);
                return Ok(Requested {
                    chat,
                    is_new: false,
                    ewt,
                });
            }
            Claim::Created(chat) => chat,
        };
        Stats::up(&self.stats.chats_created);
        self.stats.client_seen(key);
        self.watch_idle(&chat, Instant::now());
        let ewt = self.place(&chat);
        Ok(Requested {
            chat,
            is_new: true,
            ewt,
        })
    }

    fn reserve_slot(&self) -> Result<(), ErrorCode> {
        let active = &self.stats.active_chats;
        let before = active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if before >= self.config.max_chats as u64 {
            Stats::down(active);
            return Err(ErrorCode::NO_SERVER);
        }
        Ok(())
    }

    /// The wait estimate of a chat: zero once an agent has it.
    pub fn current_ewt(&self, chat: &Chat) -> u64 {
        let (queued, ticket) = {
            let inner = chat.lock();
            (inner.queued, inner.ticket)
        };
        if queued {
            self.dispatch.ewt_for(ticket)
        } else {
            0
        }
    }

    /// Seats a new chat with an agent or leaves it queued; returns its wait
    /// estimate.
    fn place(&self, chat: &Arc<Chat>) -> u64 {
        match self.dispatch.place(chat) {
            Placement::Agent(agent) => {
                if !self.join(chat, agent) {
                    self.seat_next(self.dispatch.vacate(agent));
                }
                0
            }
            Placement::Queued { ticket, ewt } => {
                let mut inner = chat.lock();
                inner.ticket = ticket;
                let ended = inner.ended;
                drop(inner);
                // An end that came before the queue had it found nothing
                // to take out.
                if ended {
                    self.dispatch.withdraw(ticket, chat);
                }
                ewt
            }
        }
    }

    /// The agent takes the chat. False if the chat ended meanwhile, in
    /// which case the seat is still the caller's to give back.
    pub fn join(&self, chat: &Arc<Chat>, agent: u32) -> bool {
        let party_id = agent_party(agent);
        let mut inner = chat.lock();
        if inner.ended {
            return false;
        }

        let was_queued = std::mem::replace(&mut inner.queued, false);
        inner.state = ChatState::Connected;
        inner.agent = Some(agent);
        inner.connected_at = Some(Instant::now());
        let now = Timestamp::now();
        inner.push_server([
            ServerEvent::PartyJoined {
                party_id: party_id.clone(),
                first_name: "Agent".into(),
                last_name: agent.to_string(),
                display_name: format!("Agent {agent}"),
                party_type: PartyType::Internal,
                timestamp: now,
            },
            ServerEvent::Status {
                state: ChatState::Connected,
                ewt: Some(Seconds(0)),
            },
        ]);
        if chat.version.is_v2() {
            let case_id = uuid::Uuid::new_v4().to_string();
            inner.case_id = Some(case_id.clone());
            inner.push_server([ServerEvent::CaseSet {
                case_id,
                timestamp: now,
            }]);
        }
        let owed = inner.unanswered.len();
        if owed > 0 {
            inner.push_server([ServerEvent::Typing {
                party_id,
                timestamp: now,
            }]);
        }
        drop(inner);

        chat.wake();
        if was_queued {
            Stats::down(&self.stats.queued_chats);
        }
        for _ in 0..owed {
            self.timers
                .schedule(self.reply_at(), Action::Reply(chat.clone()));
        }
        true
    }

    /// Hands freed seats to queued chats until one joins or none is left.
    fn seat_next(&self, mut next: Option<(u32, Arc<Chat>)>) {
        while let Some((agent, chat)) = next {
            if self.join(&chat, agent) {
                return;
            }
            next = self.dispatch.vacate(agent);
        }
    }

    /// Ends a chat: the agent leaves, `chat_session_ended` is queued for the
    /// poll, the client may request a new chat, and the seat goes to the
    /// queue. A queued chat leaves the queue. Ending an ended chat does
    /// nothing.
    pub fn end_chat(&self, chat: &Arc<Chat>, by: Ender) {
        let Some(ended) = self.mark_ended(chat, by) else {
            return;
        };
        chat.wake();

        self.store.release(chat);
        Stats::down(&self.stats.active_chats);
        self.stats.chat_closed(&chat.owner);
        if let Some(ticket) = ended.queued_ticket {
            self.dispatch.withdraw(ticket, chat);
            Stats::down(&self.stats.queued_chats);
        }
        let expiry = Instant::now() + self.config.ended_grace;
        self.timers.schedule(expiry, Action::Expire(chat.clone()));
        if let Some(agent) = ended.agent {
            self.seat_next(self.dispatch.release(agent, ended.handled_for));
        }
    }

    fn mark_ended(&self, chat: &Chat, by: Ender) -> Option<Ended> {
        let mut inner = chat.lock();
        if inner.ended {
            return None;
        }
        inner.ended = true;
        inner.state = ChatState::Completed;

        let timestamp = Timestamp::now();
        if let Some(agent) = inner.agent {
            let party_id = agent_party(agent);
            inner.push_server([ServerEvent::PartyLeft {
                party_id,
                timestamp,
            }]);
        }
        inner.push_server([ServerEvent::Ended {}]);
        if by == Ender::Customer && !inner.poll_held {
            inner.drop_pending();
        }

        let was_queued = std::mem::replace(&mut inner.queued, false);
        let handled_for = inner
            .connected_at
            .map(|at| at.elapsed())
            .unwrap_or_default();
        Some(Ended {
            agent: inner.agent,
            queued_ticket: was_queued.then_some(inner.ticket),
            handled_for,
        })
    }

    /// Ends the chat if the customer has been silent for `idle_end`, or
    /// checks again when that would next be true.
    pub fn idle_check(&self, chat: &Arc<Chat>) {
        let last = {
            let inner = chat.lock();
            if inner.ended {
                return;
            }
            inner.last_activity
        };
        if last.elapsed() >= self.config.idle_end {
            self.end_chat(chat, Ender::Agent);
        } else {
            self.watch_idle(chat, last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::config::MockConfig;

    fn center(agents: u32, max_chats: usize) -> Center {
        let config = MockConfig {
            agents,
            chats_per_agent: 1,
            max_chats,
            ..MockConfig::default()
        };
        Center::new(config)
    }

    fn key(n: u32) -> ClientKey {
        ClientKey::new("t", "a", &n.to_string())
    }

    #[tokio::test(start_paused = true)]
    async fn a_second_request_returns_the_same_chat() {
        let center = center(1, 10);
        let first = center.request_chat(&key(1), ApiVersion::V2, None).unwrap();
        let again = center.request_chat(&key(1), ApiVersion::V2, None).unwrap();
        assert!(first.is_new && !again.is_new);
        assert!(Arc::ptr_eq(&first.chat, &again.chat));
        assert_eq!(center.stats.snapshot().chats_created, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn chats_beyond_the_limit_are_refused() {
        let center = center(1, 1);
        center.request_chat(&key(1), ApiVersion::V2, None).unwrap();
        let refused = center.request_chat(&key(2), ApiVersion::V2, None).err();
        assert_eq!(refused, Some(ErrorCode::NO_SERVER));
        assert_eq!(center.stats.snapshot().active_chats, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn ending_a_chat_seats_the_next_in_queue() {
        let center = center(1, 10);
        let first = center.request_chat(&key(1), ApiVersion::V1, None).unwrap();
        let second = center.request_chat(&key(2), ApiVersion::V1, None).unwrap();
        assert!(second.ewt > 0);
        assert_eq!(center.stats.snapshot().queued_chats, 1);

        center.end_chat(&first.chat, Ender::Agent);
        assert_eq!(second.chat.lock().agent, Some(0));
        let snap = center.stats.snapshot();
        assert_eq!((snap.active_chats, snap.queued_chats), (1, 0));
        assert!(center.store.active_chat(&key(1)).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn chats_ended_in_the_queue_leave_it_and_the_wait_estimate() {
        let center = center(1, 1000);
        center.request_chat(&key(0), ApiVersion::V2, None).unwrap();
        for n in 1..=300 {
            let queued = center.request_chat(&key(n), ApiVersion::V2, None).unwrap();
            center.end_chat(&queued.chat, Ender::Customer);
        }

        assert_eq!(center.dispatch.waiting(), 0);
        assert_eq!(center.stats.snapshot().queued_chats, 0);
        assert_eq!(
            center.dispatch.ewt_now(),
            60,
            "first in line, 60 s guess, one seat"
        );
        let next = center
            .request_chat(&key(301), ApiVersion::V2, None)
            .unwrap();
        assert_eq!(next.ewt, 60);
        assert_eq!(center.current_ewt(&next.chat), 60);
    }

    #[tokio::test(start_paused = true)]
    async fn with_no_agents_an_ended_chat_is_freed_after_its_grace() {
        let center = center(0, 10);
        let chat = center
            .request_chat(&key(1), ApiVersion::V2, None)
            .unwrap()
            .chat;
        center.end_chat(&chat, Ender::Customer);
        assert_eq!(center.dispatch.waiting(), 0);

        let later = center.config.idle_end.max(center.config.ended_grace);
        tokio::time::advance(later).await;
        let (due, _) = center.timers.take_due(Instant::now());
        for action in due {
            center.fire(action);
        }
        assert!(center.store.chat(&chat.id).is_none());
        assert_eq!(
            Arc::strong_count(&chat),
            1,
            "something still holds the chat"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_ends_and_asks_again_has_had_one_chat_at_a_time() {
        let center = center(1, 10);
        let first = center.request_chat(&key(1), ApiVersion::V2, None).unwrap();
        center.end_chat(&first.chat, Ender::Customer);
        center.request_chat(&key(1), ApiVersion::V2, None).unwrap();
        center.request_chat(&key(2), ApiVersion::V2, None).unwrap();
        let snap = center.stats.snapshot();
        assert_eq!((snap.chats_created, snap.max_chats_per_client), (3, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_chat_is_ended_by_its_agent() {
        let center = center(1, 10);
        let requested = center.request_chat(&key(1), ApiVersion::V2, None).unwrap();
        tokio::time::advance(center.config.idle_end).await;
        center.idle_check(&requested.chat);
        let mut inner = requested.chat.lock();
        assert!(inner.ended);
        let (body, _) = inner.take_pending().unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.ends_with(r#"{"event":"chat_session_ended"}]}"#),
            "{text}"
        );
    }
}
