//! The agents and their queue: who takes a chat, who waits, and how long
//! the wait is estimated to be.
//!
//! Each agent takes up to `chats_per_agent` chats; a chat that finds every
//! agent full waits in a FIFO queue. The estimated wait (`ewt`) of the
//! queue's n-th chat is n times the average handling time divided by the
//! number of agent seats. A chat that ends while it waits leaves the queue
//! at once, so it neither counts in later estimates nor stays in memory
//! when no agent would ever take it. The chat itself is not touched here:
//! callers lock a chat only after this module's lock is released.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::chat::Chat;

/// Handling time assumed before any chat has ended.
const FIRST_GUESS: Duration = Duration::from_secs(60);

/// Where a new chat went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// This agent took it.
    Agent(u32),
    /// It waits with this ticket and estimated wait in seconds.
    Queued {
        /// Position marker, compared with the count of chats taken.
        ticket: u64,
        /// Estimated wait in seconds.
        ewt: u64,
    },
}

/// The agent pool and the queue.
#[derive(Debug)]
pub(crate) struct Dispatch {
    inner: Mutex<Pool>,
    seats_per_agent: u32,
    seats: u64,
}

#[derive(Debug)]
struct Pool {
    load: Vec<u32>,
    /// Agents with a free seat; each appears at most once.
    spare: Vec<u32>,
    /// Waiting chats by ticket; tickets only grow, so the queue stays
    /// sorted and a chat's place is found by binary search.
    queue: VecDeque<(u64, Arc<Chat>)>,
    enqueued: u64,
    handled: u64,
    handled_time: Duration,
}

impl Dispatch {
    /// `agents` agents of `seats_per_agent` seats each.
    pub fn new(agents: u32, seats_per_agent: u32) -> Dispatch {
        let spare = if seats_per_agent > 0 {
            (0..agents).rev().collect()
        } else {
            Vec::new()
        };
        let pool = Pool {
            load: vec![0; agents as usize],
            spare,
            queue: VecDeque::new(),
            enqueued: 0,
            handled: 0,
            handled_time: Duration::ZERO,
        };
        Dispatch {
            inner: Mutex::new(pool),
            seats_per_agent,
            seats: u64::from(agents) * u64::from(seats_per_agent),
        }
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        // Every update below leaves the pool consistent at each step.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives the chat to an agent with a free seat, or queues it.
    pub fn place(&self, chat: &Arc<Chat>) -> Placement {
        let mut pool = self.pool();
        if let Some(agent) = self.take_seat(&mut pool) {
            return Placement::Agent(agent);
        }

        pool.enqueued += 1;
        let ticket = pool.enqueued;
        pool.queue.push_back((ticket, chat.clone()));
        let ewt = self.estimate(&pool, pool.queue.len() as u64);
        Placement::Queued { ticket, ewt }
    }

    /// Takes an ended chat out of the queue, if it is still there. The
    /// ticket finds it; the chat itself is compared too, for a chat that
    /// ended before its ticket was recorded.
    pub fn withdraw(&self, ticket: u64, chat: &Arc<Chat>) {
        let mut pool = self.pool();
        let at = match pool.queue.binary_search_by_key(&ticket, |(t, _)| *t) {
            Ok(at) if Arc::ptr_eq(&pool.queue[at].1, chat) => Some(at),
            _ => pool.queue.iter().position(|(_, c)| Arc::ptr_eq(c, chat)),
        };
        if let Some(at) = at {
            pool.queue.remove(at);
        }
    }

    /// Frees the agent's seat after a chat it handled for `handled_for`,
    /// and hands the seat to the oldest queued chat, if any. The caller
    /// joins that chat, or gives the seat back with [`Dispatch::vacate`]
    /// if the chat ended meanwhile.
    pub fn release(&self, agent: u32, handled_for: Duration) -> Option<(u32, Arc<Chat>)> {
        let mut pool = self.pool();
        pool.handled += 1;
        pool.handled_time += handled_for;
        self.free_seat(&mut pool, agent);
        self.next_queued(&mut pool)
    }

    /// Gives back a seat whose chat never joined, and hands it on.
    pub fn vacate(&self, agent: u32) -> Option<(u32, Arc<Chat>)> {
        let mut pool = self.pool();
        self.free_seat(&mut pool, agent);
        self.next_queued(&mut pool)
    }

    /// Estimated wait in seconds of the queued chat holding `ticket`: its
    /// place among the chats still waiting.
    pub fn ewt_for(&self, ticket: u64) -> u64 {
        let pool = self.pool();
        let ahead = match pool.queue.binary_search_by_key(&ticket, |(t, _)| *t) {
            Ok(at) | Err(at) => at,
        };
        self.estimate(&pool, ahead as u64 + 1)
    }

    /// Estimated wait in seconds of a chat requested now.
    pub fn ewt_now(&self) -> u64 {
        let pool = self.pool();
        if !pool.spare.is_empty() {
            return 0;
        }
        self.estimate(&pool, pool.queue.len() as u64 + 1)
    }

    /// Chats waiting for a seat.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.pool().queue.len()
    }

    fn take_seat(&self, pool: &mut Pool) -> Option<u32> {
        let agent = *pool.spare.last()?;
        let load = &mut pool.load[agent as usize];
        *load += 1;
        if *load >= self.seats_per_agent {
            pool.spare.pop();
        }
        Some(agent)
    }

    fn free_seat(&self, pool: &mut Pool, agent: u32) {
        let Some(load) = pool.load.get_mut(agent as usize) else {
            return;
        };
        if *load == self.seats_per_agent {
            pool.spare.push(agent);
        }
        *load = load.saturating_sub(1);
    }

    fn next_queued(&self, pool: &mut Pool) -> Option<(u32, Arc<Chat>)> {
        let (ticket, chat) = pool.queue.pop_front()?;
        match self.take_seat(pool) {
            Some(agent) => Some((agent, chat)),
            None => {
                // Cannot happen right after a seat was freed; keep the chat
                // first in line rather than lose it.
                pool.queue.push_front((ticket, chat));
                None
            }
        }
    }

    fn estimate(&self, pool: &Pool, position: u64) -> u64 {
        if self.seats == 0 {
            return u64::from(u32::MAX);
        }
        let average = match pool.handled {
            0 => FIRST_GUESS,
            n => pool.handled_time / u32::try_from(n).unwrap_or(u32::MAX),
        };
        let total = average.as_secs_f64() * position as f64 / self.seats as f64;
        total.ceil() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiVersion;
    use crate::mock::store::ClientKey;

    fn chat() -> Arc<Chat> {
        Arc::new(Chat::new(
            ClientKey::new("t", "a", "c"),
            ApiVersion::V2,
            None,
        ))
    }

    #[test]
    fn seats_fill_before_the_queue() {
        let dispatch = Dispatch::new(2, 2);
        let agents: Vec<Placement> = (0..4).map(|_| dispatch.place(&chat())).collect();
        assert!(agents.iter().all(|p| matches!(p, Placement::Agent(_))));
        let Placement::Queued { ticket, ewt } = dispatch.place(&chat()) else {
            panic!("fifth chat was seated");
        };
        assert_eq!(ticket, 1);
        assert_eq!(ewt, 15, "60 s average over 4 seats");
    }

    #[test]
    fn a_freed_seat_goes_to_the_oldest_queued_chat() {
        let dispatch = Dispatch::new(1, 1);
        let Placement::Agent(agent) = dispatch.place(&chat()) else {
            panic!("not seated")
        };
        let first = chat();
        let second = chat();
        dispatch.place(&first);
        dispatch.place(&second);

        let (next_agent, next) = dispatch.release(agent, Duration::from_secs(10)).unwrap();
        assert_eq!(next_agent, agent);
        assert!(Arc::ptr_eq(&next, &first));
        assert_eq!(
            dispatch.ewt_now(),
            20,
            "one waiting, 10 s average, one seat"
        );
    }

    #[test]
    fn a_withdrawn_chat_no_longer_counts_ahead_of_others() {
        let dispatch = Dispatch::new(1, 1);
        dispatch.place(&chat());
        let (first, second, third) = (chat(), chat(), chat());
        let Placement::Queued { ticket, .. } = dispatch.place(&first) else {
            panic!("seated with the seat taken")
        };
        dispatch.place(&second);
        let Placement::Queued { ticket: last, .. } = dispatch.place(&third) else {
            panic!("seated with the seat taken")
        };
        let before = dispatch.ewt_for(last);

        dispatch.withdraw(ticket, &first);
        // A ticket not yet recorded: the chat itself is looked for.
        dispatch.withdraw(0, &second);
        assert_eq!(dispatch.waiting(), 1);
        assert_eq!(dispatch.ewt_for(last) * 3, before);
    }

    #[test]
    fn no_agents_means_everything_queues() {
        let dispatch = Dispatch::new(0, 4);
        assert!(matches!(dispatch.place(&chat()), Placement::Queued { .. }));
    }
}
