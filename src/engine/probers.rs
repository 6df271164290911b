//! The open model's probe arrivals, served by a fixed set of tasks.
//!
//! A probe arrival is a single request, so making a task for each one
//! would cost a task's allocation and set-up per request, at tens of
//! thousands a second. Instead the arrival loop queues the intended start
//! and wakes an idle prober; as many probers run as the worker has
//! connections, so a queued arrival waits only while every connection is
//! busy, and that wait still counts in its response time and send lag.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::caller::{Body, Caller, WorkerCtx};

/// Intended starts waiting for a prober.
pub struct ProbeQueue {
    due: RefCell<VecDeque<Instant>>,
    ready: Notify,
}

impl ProbeQueue {
    /// Starts `count` probers on the current worker and returns their
    /// queue. They live as long as the worker's event loop.
    pub fn start(ctx: &Rc<WorkerCtx>, count: usize) -> Rc<ProbeQueue> {
        let queue = Rc::new(ProbeQueue {
            due: RefCell::new(VecDeque::new()),
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
        self.due.borrow_mut().push_back(at);
        // Wakes one sleeping prober, or leaves a permit for the next one
        // to look, so that no arrival waits while a prober sleeps.
        self.ready.notify_one();
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
        let Some(at) = next else {
            queue.ready.notified().await;
            continue;
        };
        caller.call_joined(endpoint, at, &path, Body::empty()).await;
        ctx.active_clients.set(ctx.active_clients.get() - 1);
    }
}
