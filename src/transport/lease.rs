//! A request's hold on a connection, from checkout to the end of its
//! exchange: a connection taken from the pool, or the right to open one.
//!
//! Dropping a hold at any point (the request timed out, its task was
//! cancelled) settles the pool's books. An HTTP/1.1 connection dropped in
//! the middle of an exchange is closed, because what is left of it on the
//! wire is unknown, and its place under the cap passes on; only a
//! [`Live::release`] after a whole response puts it back for reuse.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Instant;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::client::conn::{TrySendError, http2};

use super::dial::{DialError, ReqBody};
use super::h1::H1Conn;
use super::pool::Pool;

/// What [`Pool::checkout`] gives a request.
pub(super) enum Checkout<'p> {
    /// A connection ready for the request.
    Live(Live<'p>),
    /// The right to open a connection.
    Dial(DialPermit<'p>),
}

impl<'p> Checkout<'p> {
    /// The connection, opened first if need be.
    pub(super) async fn connect(self) -> Result<Live<'p>, DialError> {
        match self {
            Checkout::Live(live) => Ok(live),
            Checkout::Dial(permit) => permit.dial().await,
        }
    }
}

/// Which reservation of the pool a dial holds.
#[derive(Clone, Copy, Debug)]
pub(super) enum DialKind {
    /// A place under the HTTP/1.1 cap.
    Http1,
    /// A new HTTP/2 connection.
    Http2,
    /// The first connection of an `auto` pool, which learns the protocol.
    Probe,
}

/// The right to open one connection; dropped unused, it frees its place.
pub(super) struct DialPermit<'p> {
    pool: &'p Pool,
    kind: DialKind,
    armed: bool,
}

impl<'p> DialPermit<'p> {
    /// A permit for a reservation `pool` has made.
    pub(super) fn new(pool: &'p Pool, kind: DialKind) -> Self {
        DialPermit {
            pool,
            kind,
            armed: true,
        }
    }

    async fn dial(mut self) -> Result<Live<'p>, DialError> {
        // Boxed: a TLS handshake's state is kilobytes, and kept inline it
        // would be copied along with every request's future, dial or not.
        let outcome = Box::pin(self.pool.dialer.dial()).await;
        self.armed = false;
        match outcome {
            Ok(conn) => Ok(self.pool.dialed(self.kind, conn)),
            Err(err) => {
                self.pool.dial_failed(self.kind);
                Err(err)
            }
        }
    }
}

impl Drop for DialPermit<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.pool.dial_failed(self.kind);
        }
    }
}

/// An HTTP/2 connection and the exchanges it carries now.
pub(super) struct Http2Conn {
    sender: RefCell<http2::SendRequest<ReqBody>>,
    streams: Cell<usize>,
    /// Set once the server said it takes no new streams here (GOAWAY):
    /// the connection only finishes what it has.
    going_away: Cell<bool>,
}

impl Http2Conn {
    /// A connection carrying the exchange that opened it.
    pub(super) fn new(sender: http2::SendRequest<ReqBody>) -> Self {
        Http2Conn {
            sender: RefCell::new(sender),
            streams: Cell::new(1),
            going_away: Cell::new(false),
        }
    }

    /// Exchanges in flight.
    pub(super) fn streams(&self) -> usize {
        self.streams.get()
    }

    /// Counts one more exchange.
    pub(super) fn start_stream(&self) {
        self.streams.set(self.streams.get() + 1);
    }

    /// True once the connection has ended or takes no new streams.
    pub(super) fn is_closed(&self) -> bool {
        self.going_away.get() || self.sender.borrow().is_closed()
    }

    fn end_stream(&self) {
        self.streams.set(self.streams.get().saturating_sub(1));
    }
}

enum LiveConn {
    Http1(Box<H1Conn>),
    Http2(Rc<Http2Conn>),
}

/// A connection picked inside the pool's state, before it is tied to the
/// pool as a [`Live`].
pub(super) struct Taken {
    conn: LiveConn,
    reused: bool,
}

impl Taken {
    /// An HTTP/1.1 connection; `reused` when it carried an exchange before.
    pub(super) fn http1(conn: Box<H1Conn>, reused: bool) -> Self {
        Taken {
            conn: LiveConn::Http1(conn),
            reused,
        }
    }

    /// A stream of an HTTP/2 connection, already counted.
    pub(super) fn http2(conn: Rc<Http2Conn>, reused: bool) -> Self {
        Taken {
            conn: LiveConn::Http2(conn),
            reused,
        }
    }

    /// True for HTTP/2.
    pub(super) fn is_http2(&self) -> bool {
        matches!(self.conn, LiveConn::Http2(_))
    }

    /// Ties the connection to `pool`, which from now on gets it back.
    pub(super) fn attach(self, pool: &Pool) -> Live<'_> {
        let stream = match &self.conn {
            LiveConn::Http1(_) => None,
            LiveConn::Http2(conn) => Some(conn.clone()),
        };
        Live {
            conn: self.conn,
            reused: self.reused,
            claim: Claim {
                pool,
                stream,
                armed: true,
            },
        }
    }
}

/// A connection held for one exchange.
pub(super) struct Live<'p> {
    conn: LiveConn,
    reused: bool,
    claim: Claim<'p>,
}

impl Live<'_> {
    /// True when the connection carried an exchange before this one.
    pub(super) fn is_reused(&self) -> bool {
        self.reused
    }

    /// Marks an HTTP/2 connection the server is closing (it sent GOAWAY),
    /// so that no new request is given to it.
    pub(super) fn going_away(&self) {
        if let LiveConn::Http2(conn) = &self.conn {
            conn.going_away.set(true);
        }
    }

    /// The connection, unless it closed while idle: then `None`, and the
    /// pool's books are settled as for any closed connection.
    pub(super) fn ready(mut self) -> Option<Self> {
        let closed = match &mut self.conn {
            LiveConn::Http1(conn) => conn.is_closed(),
            LiveConn::Http2(_) => false,
        };
        (!closed).then_some(self)
    }

    /// The HTTP/1.1 connection, which the caller drives itself.
    pub(super) fn http1(&mut self) -> Option<&mut H1Conn> {
        match &mut self.conn {
            LiveConn::Http1(conn) => Some(conn),
            LiveConn::Http2(_) => None,
        }
    }

    /// Sends `request` on an HTTP/2 stream. A request the connection
    /// refused before writing any of it comes back inside the error, so it
    /// can go elsewhere. hyper's future is handed on as it is, not wrapped
    /// in one of ours that would keep a second copy of the request for as
    /// long as a long poll is held.
    ///
    /// # Panics
    ///
    /// On an HTTP/1.1 connection, which the caller drives itself.
    pub(super) fn send_http2(
        &mut self,
        request: Request<ReqBody>,
    ) -> impl Future<Output = Result<Response<Incoming>, TrySendError<Request<ReqBody>>>> + use<>
    {
        match &self.conn {
            LiveConn::Http2(conn) => conn.sender.borrow_mut().try_send_request(request),
            LiveConn::Http1(_) => unreachable!("send_http2 on an HTTP/1.1 connection"),
        }
    }

    /// Returns the connection after a whole response ended at `at`. An
    /// HTTP/1.1 connection the response asked to close is closed instead.
    pub(super) fn release(self, at: Instant) {
        let Live {
            conn, mut claim, ..
        } = self;
        if let LiveConn::Http1(conn) = conn
            && conn.is_reusable()
        {
            claim.armed = false;
            claim.pool.give_back(conn, at);
        }
    }
}

/// Settles the pool's books when a [`Live`] goes away without a release
/// (HTTP/1.1), or at all (an HTTP/2 stream).
struct Claim<'p> {
    pool: &'p Pool,
    stream: Option<Rc<Http2Conn>>,
    armed: bool,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match &self.stream {
            Some(conn) => conn.end_stream(),
            None => self.pool.http1_closed(),
        }
    }
}
