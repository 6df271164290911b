//! The connections of one transport, and which request gets which.
//!
//! An HTTP/1.1 connection carries one exchange at a time. Ready ones wait
//! on a stack, the most recently used on top, so a few hot connections do
//! the work and the rest age out. A request takes the top one, opens a new
//! one while under the cap, or else queues for the next one to come back:
//! that queueing is the `pool_wait` the report shows. An HTTP/2 connection
//! carries up to [`MAX_STREAMS`] exchanges before another is opened, and
//! the cap does not apply to it.
//!
//! With `auto` over TLS the protocol is unknown until the first handshake,
//! so the first request opens one connection alone and the others wait to
//! see what ALPN chose; otherwise a burst of first requests against an
//! HTTP/2 server would open a connection each.
//!
//! A warm-up opens connections before any request asks for one, through
//! the same reservations: up to the cap over HTTP/1.1, one over HTTP/2
//! (which carries [`MAX_STREAMS`] exchanges), and under `auto` the first
//! alone until it has learnt the protocol.
//!
//! A transport belongs to one thread, so the state is in a `RefCell`: no
//! borrow of it is held across an `await`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::TransportShared;
use super::dial::{Conn, Dialer};
use super::h1::H1Conn;
use super::lease::{Checkout, DialKind, DialPermit, Http2Conn, Live, Taken};
use super::waiters::{Ticket, Waiters};
use crate::scenario::HttpVersion;

/// Exchanges one HTTP/2 connection carries at once before another is
/// opened. RFC 9113 advises servers to allow at least 100 concurrent
/// streams; staying at that keeps requests out of a server's own stream
/// queue, where `pool_wait` could not see them. A held long poll takes a
/// stream for its whole hold, so 50 000 held polls use 500 connections.
pub(super) const MAX_STREAMS: usize = 100;

/// How long an idle HTTP/1.1 connection stays usable. Shorter than the
/// keep-alive of common servers (nginx closes after 75 s), so the pool
/// seldom picks a connection the server is closing at that moment.
const IDLE_TIMEOUT: Duration = Duration::from_secs(55);

/// One transport's connections.
pub(super) struct Pool {
    pub(super) dialer: Dialer,
    /// Cap on HTTP/1.1 connections, those being opened included.
    cap: Option<usize>,
    state: RefCell<State>,
    /// Wakes the requests waiting for a connection being opened: the first
    /// one of an `auto` pool, or a new HTTP/2 one.
    changed: Notify,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Http1,
    Http2,
    /// Not known yet, and no connection is being opened to learn it.
    Unknown,
    /// The first connection is being opened; the others wait for it.
    Probing,
}

struct State {
    protocol: Protocol,
    idle: Vec<Idle>,
    /// HTTP/1.1 connections idle, in use or being opened: what the cap
    /// counts.
    http1_open: usize,
    waiters: Waiters<Grant>,
    http2: Vec<Rc<Http2Conn>>,
    http2_dialing: usize,
    /// Requests waiting for an HTTP/2 connection being opened.
    http2_expecting: usize,
}

struct Idle {
    conn: Box<H1Conn>,
    since: Instant,
}

/// What a queued request is given.
pub(super) enum Grant {
    /// A connection that came back.
    Conn(Box<H1Conn>),
    /// A place under the cap, freed by a connection that closed.
    Dial,
    /// The target turned out to speak HTTP/2: look again.
    Recheck,
}

/// What a request does next, decided in one borrow of the state.
enum Step {
    Live(Taken),
    Dial(DialKind),
    Queue(Ticket<Grant>),
    AwaitChange { expecting: bool },
}

impl Pool {
    /// An empty pool for the target of `shared`.
    pub(super) fn new(shared: Arc<TransportShared>, cap: Option<usize>) -> Pool {
        let over_tls = shared.server_name.is_some();
        let protocol = if shared.is_http2_only() {
            Protocol::Http2
        } else if over_tls && shared.http == HttpVersion::Auto {
            Protocol::Unknown
        } else {
            Protocol::Http1
        };
        let state = State {
            protocol,
            idle: Vec::new(),
            http1_open: 0,
            waiters: Waiters::new(),
            http2: Vec::new(),
            http2_dialing: 0,
            http2_expecting: 0,
        };
        Pool {
            dialer: Dialer::new(shared),
            cap,
            state: RefCell::new(state),
            changed: Notify::new(),
        }
    }

    /// A connection for one exchange, or the right to open one. `now` ages
    /// idle connections. Waits while the pool is at its cap.
    pub(super) async fn checkout(&self, now: Instant) -> Checkout<'_> {
        loop {
            let step = self.state.borrow_mut().take(self.cap, now);
            match step {
                Step::Live(live) => {
                    if let Some(live) = live.attach(self).ready() {
                        return Checkout::Live(live);
                    }
                }
                Step::Dial(kind) => return Checkout::Dial(DialPermit::new(self, kind)),
                Step::Queue(ticket) => {
                    if let Some(checkout) = self.queue(ticket).await {
                        return checkout;
                    }
                }
                Step::AwaitChange { expecting } => {
                    let notified = self.changed.notified();
                    let _expecting = expecting.then(|| Expecting(self));
                    notified.await;
                }
            }
        }
    }

    /// The right to open one more connection ahead of any request (a
    /// warm-up), or `None` when the pool should open no more now: at its
    /// cap, with an HTTP/2 connection open or opening, or while the first
    /// connection of an `auto` pool is still learning the protocol.
    pub(super) fn spare_dial(&self) -> Option<DialPermit<'_>> {
        let kind = self.state.borrow_mut().take_spare(self.cap)?;
        Some(DialPermit::new(self, kind))
    }

    /// Waits in the queue; `None` means look again.
    async fn queue(&self, ticket: Ticket<Grant>) -> Option<Checkout<'_>> {
        let queued = Queued { pool: self, ticket };
        match queued.ticket.granted().await {
            Grant::Conn(conn) => {
                let live = Taken::http1(conn, true).attach(self);
                live.ready().map(Checkout::Live)
            }
            Grant::Dial => Some(Checkout::Dial(DialPermit::new(self, DialKind::Http1))),
            Grant::Recheck => None,
        }
    }

    /// Books a connection just opened under `kind`'s reservation.
    pub(super) fn dialed(&self, kind: DialKind, conn: Conn) -> Live<'_> {
        let mut state = self.state.borrow_mut();
        match kind {
            DialKind::Http1 | DialKind::Probe => state.http1_open -= 1,
            DialKind::Http2 => state.http2_dialing -= 1,
        }

        let taken = match conn {
            Conn::Http1(conn) => {
                state.http1_open += 1;
                if state.protocol == Protocol::Probing {
                    tracing::debug!("the target chose HTTP/1.1");
                    state.protocol = Protocol::Http1;
                }
                Taken::http1(conn, false)
            }
            Conn::Http2(sender) => {
                let conn = Rc::new(Http2Conn::new(sender));
                state.http2.push(conn.clone());
                state.speaks_http2();
                Taken::http2(conn, false)
            }
        };
        drop(state);

        if !matches!(kind, DialKind::Http1) || taken.is_http2() {
            self.changed.notify_waiters();
        }
        taken.attach(self)
    }

    /// Frees `kind`'s reservation after a failed or abandoned dial.
    pub(super) fn dial_failed(&self, kind: DialKind) {
        match kind {
            DialKind::Http1 => return self.http1_closed(),
            DialKind::Http2 => self.state.borrow_mut().http2_dialing -= 1,
            DialKind::Probe => {
                let mut state = self.state.borrow_mut();
                state.http1_open -= 1;
                state.protocol = Protocol::Unknown;
            }
        }
        self.changed.notify_waiters();
    }

    /// Takes back an HTTP/1.1 connection whose exchange ended cleanly at
    /// `at`: to the longest waiter, or onto the idle stack.
    pub(super) fn give_back(&self, conn: Box<H1Conn>, at: Instant) {
        let mut state = self.state.borrow_mut();
        match state.waiters.pop() {
            Some(waiter) => waiter.grant(Grant::Conn(conn)),
            None => state.idle.push(Idle { conn, since: at }),
        }
    }

    /// Forgets an HTTP/1.1 connection that closed or was dropped mid-way;
    /// its place under the cap goes to the longest waiter.
    pub(super) fn http1_closed(&self) {
        let mut state = self.state.borrow_mut();
        match state.waiters.pop() {
            Some(waiter) => waiter.grant(Grant::Dial),
            None => state.http1_open -= 1,
        }
    }
}

impl State {
    fn take(&mut self, cap: Option<usize>, now: Instant) -> Step {
        match self.protocol {
            Protocol::Http1 => self.take_http1(cap, now),
            Protocol::Http2 => self.take_http2(),
            Protocol::Unknown => Step::Dial(self.start_probe()),
            Protocol::Probing => Step::AwaitChange { expecting: false },
        }
    }

    /// Reserves a dial that no request asked for. Unlike [`State::take`]
    /// it never hands out an idle connection or queues: a warm-up wants new
    /// connections or none.
    fn take_spare(&mut self, cap: Option<usize>) -> Option<DialKind> {
        match self.protocol {
            Protocol::Unknown => Some(self.start_probe()),
            Protocol::Probing => None,
            Protocol::Http1 => self.reserve_http1(cap).then_some(DialKind::Http1),
            Protocol::Http2 => {
                let open = self.http2.iter().any(|conn| !conn.is_closed());
                if open || self.http2_dialing > 0 {
                    return None;
                }
                self.http2_dialing += 1;
                Some(DialKind::Http2)
            }
        }
    }

    fn take_http1(&mut self, cap: Option<usize>, now: Instant) -> Step {
        while let Some(mut idle) = self.idle.pop() {
            let stale = now.saturating_duration_since(idle.since) > IDLE_TIMEOUT;
            if stale || idle.conn.is_closed() {
                self.http1_open -= 1;
                continue;
            }
            return Step::Live(Taken::http1(idle.conn, true));
        }

        if self.reserve_http1(cap) {
            return Step::Dial(DialKind::Http1);
        }
        Step::Queue(self.waiters.join())
    }

    /// The first connection, opened alone to learn the protocol; it counts
    /// under the HTTP/1.1 cap until it is known.
    fn start_probe(&mut self) -> DialKind {
        self.protocol = Protocol::Probing;
        self.http1_open += 1;
        DialKind::Probe
    }

    /// Takes a place under the HTTP/1.1 cap for a new connection, if one
    /// is left.
    fn reserve_http1(&mut self, cap: Option<usize>) -> bool {
        let room = cap.is_none_or(|cap| self.http1_open < cap);
        if room {
            self.http1_open += 1;
        }
        room
    }

    fn take_http2(&mut self) -> Step {
        let free = self
            .http2
            .iter()
            .find(|conn| conn.streams() < MAX_STREAMS && !conn.is_closed());
        if let Some(conn) = free {
            conn.start_stream();
            return Step::Live(Taken::http2(conn.clone(), true));
        }

        self.http2.retain(|conn| !conn.is_closed());
        // Each connection being opened will take MAX_STREAMS - 1 more
        // exchanges besides the one that opens it.
        if self.http2_expecting < self.http2_dialing * (MAX_STREAMS - 1) {
            self.http2_expecting += 1;
            return Step::AwaitChange { expecting: true };
        }
        self.http2_dialing += 1;
        Step::Dial(DialKind::Http2)
    }

    /// Switches to HTTP/2 for good; HTTP/1.1 waiters look again.
    fn speaks_http2(&mut self) {
        if self.protocol != Protocol::Http2 {
            tracing::debug!("the target speaks HTTP/2; the HTTP/1.1 connection cap is lifted");
            self.protocol = Protocol::Http2;
            self.waiters.serve_all(|| Grant::Recheck);
        }
    }
}

/// A request's place in the queue; a grant it never took goes back.
struct Queued<'p> {
    pool: &'p Pool,
    ticket: Ticket<Grant>,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        match self.ticket.unclaimed() {
            Some(Grant::Conn(conn)) => self.pool.give_back(conn, super::exchange::now()),
            Some(Grant::Dial) => self.pool.http1_closed(),
            Some(Grant::Recheck) | None => {}
        }
    }
}

/// Counts a request waiting for an HTTP/2 connection being opened.
struct Expecting<'p>(&'p Pool);

impl Drop for Expecting<'_> {
    fn drop(&mut self) {
        self.0.state.borrow_mut().http2_expecting -= 1;
    }
}
