//! Delayed work of the simulated agents, kept in one heap and run by one
//! task.
//!
//! With a hundred thousand chats, a sleeping task per chat would cost far
//! more than a heap entry, so agent replies, idle checks and the expiry of
//! ended chats are entries ordered by due time. Each chat has at most one
//! idle check and one expiry outstanding, and a reply entry per unanswered
//! message.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::chat::Chat;

/// Most actions run between two looks at the clock, so a burst of due
/// work cannot starve the rest of the runtime.
pub(crate) const BATCH: usize = 1024;

/// Something an agent or the housekeeping does later.
#[derive(Debug)]
pub(crate) enum Action {
    /// The agent answers the oldest unanswered message.
    Reply(Arc<Chat>),
    /// End the chat if the customer has been silent long enough.
    IdleCheck(Arc<Chat>),
    /// Forget an ended chat.
    Expire(Arc<Chat>),
}

#[derive(Debug)]
struct Due {
    at: Instant,
    seq: u64,
    action: Action,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// The heap of delayed actions.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: Mutex<BinaryHeap<Reverse<Due>>>,
    seq: AtomicU64,
    changed: Notify,
}

impl Timers {
    fn heap(&self) -> MutexGuard<'_, BinaryHeap<Reverse<Due>>> {
        // Heap operations leave the heap valid even if a panic interrupts
        // the caller afterwards.
        self.heap.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `action` at `at`. Entries due at the same instant run in the
    /// order they were scheduled.
    pub fn schedule(&self, at: Instant, action: Action) {
        let seq = self.seq.fetch_add(1, AtomicOrdering::Relaxed);
        let mut heap = self.heap();
        let earliest = heap.peek().is_none_or(|Reverse(head)| at < head.at);
        heap.push(Reverse(Due { at, seq, action }));
        drop(heap);

        if earliest {
            self.changed.notify_one();
        }
    }

    /// Removes up to [`BATCH`] actions due by `now`, and tells when the
    /// next one is due.
    pub fn take_due(&self, now: Instant) -> (Vec<Action>, Option<Instant>) {
        let mut heap = self.heap();
        let mut due = Vec::new();
        while due.len() < BATCH {
            match heap.peek() {
                Some(Reverse(head)) if head.at <= now => {}
                _ => break,
            }
            if let Some(Reverse(entry)) = heap.pop() {
                due.push(entry.action);
            }
        }
        let next = heap.peek().map(|Reverse(head)| head.at);
        (due, next)
    }

    /// Waits until `next`, or until an earlier entry is scheduled.
    pub async fn wait(&self, next: Option<Instant>) {
        match next {
            Some(at) => {
                tokio::select! {
                    () = tokio::time::sleep_until(at) => {}
                    () = self.changed.notified() => {}
                }
            }
            None => self.changed.notified().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiVersion;
    use crate::mock::store::ClientKey;
    use std::time::Duration;

    fn chat() -> Arc<Chat> {
        Arc::new(Chat::new(
            ClientKey::new("t", "a", "c"),
            ApiVersion::V2,
            None,
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn actions_come_out_in_due_order_and_only_when_due() {
        let timers = Timers::default();
        let now = Instant::now();
        let late = chat();
        timers.schedule(now + Duration::from_secs(2), Action::Expire(late.clone()));
        timers.schedule(now + Duration::from_secs(1), Action::Reply(chat()));

        let (due, next) = timers.take_due(now);
        assert!(due.is_empty());
        assert_eq!(next, Some(now + Duration::from_secs(1)));

        let (due, next) = timers.take_due(now + Duration::from_secs(5));
        assert!(matches!(due[0], Action::Reply(_)));
        assert!(matches!(&due[1], Action::Expire(c) if Arc::ptr_eq(c, &late)));
        assert_eq!(next, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_entry_wakes_the_waiter() {
        let timers = Arc::new(Timers::default());
        let far = Instant::now() + Duration::from_secs(3600);
        let waiter = tokio::spawn({
            let timers = timers.clone();
            async move { timers.wait(Some(far)).await }
        });
        tokio::task::yield_now().await;
        timers.schedule(
            Instant::now() + Duration::from_secs(1),
            Action::Reply(chat()),
        );
        waiter.await.unwrap();
        assert!(Instant::now() < far);
    }
}
