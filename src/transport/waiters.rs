//! Requests queued for a connection, served first come, first served.
//!
//! A pool at its cap hands each connection that comes back straight to the
//! request that has waited longest, so a request arriving later cannot
//! overtake it and no waiter is woken for nothing. Everything lives on one
//! thread: a waiter is an `Rc` shared by the queue and the waiting request,
//! and a request that gives up simply drops its half.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// The queue, holding whatever the pool grants (`G`).
pub(super) struct Waiters<G> {
    queue: VecDeque<Rc<Slot<G>>>,
}

/// One waiter's place: the grant once given, and whom to wake.
struct Slot<G> {
    grant: Cell<Option<G>>,
    waker: Cell<Option<Waker>>,
}

/// A request's place in the queue. Dropping it leaves the queue; a grant
/// that arrived but was never taken is handed back by [`Ticket::unclaimed`].
pub(super) struct Ticket<G> {
    slot: Rc<Slot<G>>,
}

impl<G> Waiters<G> {
    /// An empty queue.
    pub(super) fn new() -> Self {
        Waiters {
            queue: VecDeque::new(),
        }
    }

    /// Puts a new waiter at the back.
    pub(super) fn join(&mut self) -> Ticket<G> {
        let slot = Rc::new(Slot {
            grant: Cell::new(None),
            waker: Cell::new(None),
        });
        self.queue.push_back(slot.clone());
        Ticket { slot }
    }

    /// The longest waiter still there, taken off the queue.
    pub(super) fn pop(&mut self) -> Option<Waiter<G>> {
        while let Some(slot) = self.queue.pop_front() {
            // The queue's own reference is the last one: its request gave
            // up, so the next in line is served instead.
            if Rc::strong_count(&slot) > 1 {
                return Some(Waiter { slot });
            }
        }
        None
    }

    /// Gives every waiter a grant made by `grant`, emptying the queue.
    pub(super) fn serve_all(&mut self, grant: impl Fn() -> G) {
        while let Some(waiter) = self.pop() {
            waiter.grant(grant());
        }
    }
}

/// A waiter taken off the queue, to be granted something.
pub(super) struct Waiter<G> {
    slot: Rc<Slot<G>>,
}

impl<G> Waiter<G> {
    /// Hands `grant` over and wakes the waiting request.
    pub(super) fn grant(self, grant: G) {
        self.slot.grant.set(Some(grant));
        if let Some(waker) = self.slot.waker.take() {
            waker.wake();
        }
    }
}

impl<G> Ticket<G> {
    /// Waits for the grant.
    pub(super) async fn granted(&self) -> G {
        poll_fn(|cx| match self.slot.grant.take() {
            Some(grant) => Poll::Ready(grant),
            None => {
                self.slot.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }

    /// A grant given but not taken, for the owner to hand back when it
    /// gives up its place.
    pub(super) fn unclaimed(&self) -> Option<G> {
        self.slot.grant.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn grants_go_to_the_longest_waiter_first() {
        let mut waiters = Waiters::new();
        let first = waiters.join();
        let second = waiters.join();

        waiters.pop().unwrap().grant(1);
        waiters.pop().unwrap().grant(2);
        assert_eq!(first.granted().await, 1);
        assert_eq!(second.granted().await, 2);
        assert!(waiters.pop().is_none());
    }

    #[tokio::test]
    async fn a_waiter_that_left_is_skipped() {
        let mut waiters = Waiters::new();
        drop(waiters.join());
        let staying = waiters.join();

        waiters.pop().unwrap().grant(7);
        assert_eq!(staying.granted().await, 7);
        assert!(waiters.pop().is_none());
    }

    #[test]
    fn a_grant_never_taken_can_be_handed_back() {
        let mut waiters = Waiters::new();
        let ticket = waiters.join();
        waiters.pop().unwrap().grant("conn");
        assert_eq!(ticket.unclaimed(), Some("conn"));
        assert_eq!(ticket.unclaimed(), None);
    }

    #[test]
    fn serving_all_empties_the_queue() {
        let mut waiters = Waiters::new();
        let tickets = [waiters.join(), waiters.join()];
        waiters.serve_all(|| 0);
        assert!(tickets.iter().all(|t| t.unclaimed() == Some(0)));
        assert!(waiters.pop().is_none());
    }
}
