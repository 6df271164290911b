//! The open model's probe arrivals, served by a fixed set of tasks.
//!
//! A probe arrival is a single request, so making a task for each one
//! would cost a task's allocation and set-up per request, at tens of
//! thousands a second. Instead the arrival loop queues the intended start
//! and wakes an idle prober. As many probers run as the worker has
//! connections, so a queued arrival waits only while every connection is
//! busy. That wait is the target's doing, not the generator's: it is
//! recorded as pool wait, as it would be had the arrival been a task of
//! its own queued in the pool. Both count in its send lag and response
//! time.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::caller::{Caller, WorkerCtx};

/// Intended starts waiting for a prober.
pub struct ProbeQueue {
    due: RefCell<VecDeque<Arrival>>,
    /// Probers asleep on `ready` that no arrival has claimed yet.
    idle: Cell<usize>,
    ready: Notify,
}

/// A queued arrival.
struct Arrival {
    /// When the plan meant it to start.
    at: Instant,
    /// When it was queued with every prober busy, and so began to wait for
    /// a connection; `None` when an idle prober was woken for it.
    waiting_since: Option<Instant>,
}

impl ProbeQueue {
    /// Starts `count` probers on the current worker and returns their
    /// queue. They live as long as the worker's event loop, and are asleep
    /// and idle once the caller has yielded.
    pub fn start(ctx: &Rc<WorkerCtx>, count: usize) -> Rc<ProbeQueue> {
        let queue = Rc::new(ProbeQueue {
            due: RefCell::new(VecDeque::new()),
            idle: Cell::new(0),
            ready: Notify::new(),
        });
        for _ in 0..count.max(1) {
            tokio::task::spawn_local(prober(ctx.clone(), queue.clone()));
        }
        queue
    }

    /// Queues an arrival meant to start at `at`. It counts as an active
    /// client from now until its request is done, as a spawned client
    /// would, so that the client cap and the end of the run see it.
    pub fn push(&self, ctx: &WorkerCtx, at: Instant) {
        ctx.active_clients.set(ctx.active_clients.get() + 1);
        ctx.metrics.borrow_mut().client_started();

        // An idle prober is woken for this arrival alone. With none idle,
        // a busy one takes it as soon as its request is done, since a
        // prober looks at the queue before it sleeps: no permit is left
        // on `ready`, which keeps `idle` exact.
        let idle = self.idle.get();
        let waiting_since = if idle > 0 {
            self.idle.set(idle - 1);
            self.ready.notify_one();
            None
        } else {
            Some(Instant::now())
        };
        self.due
            .borrow_mut()
            .push_back(Arrival { at, waiting_since });
    }
}

async fn prober(ctx: Rc<WorkerCtx>, queue: Rc<ProbeQueue>) {
    let Some((endpoint, path)) = ctx.probe_path.clone() else {
        return;
    };
    let caller = Caller::new(ctx.clone());
    let path = caller.with_tenant(&path);
    loop {
        let next = queue.due.borrow_mut().pop_front();
        let Some(arrival) = next else {
            queue.idle.set(queue.idle.get() + 1);
            queue.ready.notified().await;
            continue;
        };
        let waited = arrival
            .waiting_since
            .map(|since| since.elapsed())
            .unwrap_or_default();
        caller
            .call_waited(endpoint, arrival.at, waited, &path)
            .await;
        ctx.active_clients.set(ctx.active_clients.get() - 1);
    }
}
