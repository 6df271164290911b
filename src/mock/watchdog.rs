//! Time limits on a connection between requests: a request's head must
//! arrive promptly, and a connection with no request in progress is closed
//! once it has been idle for long.
//!
//! hyper's HTTP/1.1 header timer starts as soon as the server waits for a
//! head, so it cannot tell a slow head (slowloris) from a kept-alive
//! connection waiting for its next request; HTTP/2 has no such timer at
//! all, and hyper_util's protocol sniffing waits for the first bytes with
//! no limit. [`Watchdog`] wraps the stream under hyper and fails its reads
//! when a limit passes, which ends the connection:
//!
//! - from accepting the connection, and on HTTP/1.1 from the first byte
//!   read while no request is in progress, until a request reaches the
//!   service: the head limit;
//! - from the end of the last response while no other is in progress:
//!   the idle limit, longer than a client pool keeps idle connections so
//!   that a client never reuses one the mock is about to close.
//!
//! While a request is in progress nothing here applies: its body has its
//! own limit, and a held poll its hold time. [`Activity`] is how the
//! service tells the watchdog what is in progress.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// The HTTP/2 connection preface; a connection that starts with anything
/// else is HTTP/1.1.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The two limits of a connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest a client may take to deliver a request's head.
    pub head: Duration,
    /// Longest a connection may sit with no request in progress.
    pub idle: Duration,
}

/// What the service has in progress on one connection.
#[derive(Debug)]
pub(crate) struct Activity {
    opened: Instant,
    in_flight: AtomicUsize,
    /// Requests that reached the service so far.
    started: AtomicU64,
    /// When the last request finished, in milliseconds since `opened`.
    last_done_ms: AtomicU64,
    /// The connection's task, woken when the last request finishes so
    /// that the idle limit starts even if hyper is not reading just then.
    waker: Mutex<Option<Waker>>,
}

impl Activity {
    /// The activity of a connection accepted now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            started: AtomicU64::new(0),
            last_done_ms: AtomicU64::new(0),
            waker: Mutex::new(None),
        })
    }

    /// Marks a request in progress until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.started.fetch_add(1, Ordering::SeqCst);
        InFlight(self.clone())
    }

    fn idle_since(&self) -> Instant {
        self.opened + Duration::from_millis(self.last_done_ms.load(Ordering::SeqCst))
    }

    fn remember(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(PoisonError::into_inner);
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

/// A request in progress; dropped when its response has been sent or the
/// request was abandoned.
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let activity = &self.0;
        let done = activity.opened.elapsed().as_millis();
        let done = u64::try_from(done).unwrap_or(u64::MAX);
        activity.last_done_ms.fetch_max(done, Ordering::SeqCst);
        if activity.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
            let waker = activity
                .waker
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// A response body that keeps its request counted as in progress until
/// hyper has sent it all (or given up) and drops it.
pub(crate) struct Tracked<B> {
    body: B,
    _in_flight: InFlight,
}

impl<B> Tracked<B> {
    /// Ties `in_flight` to `body`.
    pub fn new(body: B, in_flight: InFlight) -> Tracked<B> {
        Tracked {
            body,
            _in_flight: in_flight,
        }
    }
}

impl<B: Body<Data = Bytes> + Unpin> Body for Tracked<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Which protocol the connection turned out to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// Fewer bytes than the preface so far, all matching it.
    Unknown,
    Http1,
    Http2,
}

/// What the deadline is armed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Armed {
    /// A head is under way; lifted once the service has seen more than
    /// this many requests.
    Head { started: u64 },
    /// Nothing in progress since this instant.
    Idle { since: Instant },
    /// A request is in progress.
    Off,
}

/// A stream whose reads fail once a [`Limits`] deadline passes.
pub(crate) struct Watchdog<S> {
    inner: S,
    activity: Arc<Activity>,
    limits: Limits,
    protocol: Protocol,
    sniffed: usize,
    armed: Armed,
    deadline: Pin<Box<Sleep>>,
}

impl<S> Watchdog<S> {
    /// Wraps the stream of a connection accepted just now: its first
    /// request's head is due within the head limit.
    pub fn new(inner: S, activity: Arc<Activity>, limits: Limits) -> Watchdog<S> {
        Watchdog {
            inner,
            activity,
            limits,
            protocol: Protocol::Unknown,
            sniffed: 0,
            armed: Armed::Head { started: 0 },
            deadline: Box::pin(tokio::time::sleep(limits.head)),
        }
    }

    /// Tells HTTP/1.1 from HTTP/2 by the first bytes.
    fn sniff(&mut self, read: &[u8]) {
        if self.protocol != Protocol::Unknown {
            return;
        }
        let expected = &H2_PREFACE[self.sniffed..];
        let n = read.len().min(expected.len());
        if read[..n] != expected[..n] {
            self.protocol = Protocol::Http1;
            return;
        }
        self.sniffed += n;
        if self.sniffed == H2_PREFACE.len() {
            self.protocol = Protocol::Http2;
        }
    }

    /// Bytes arrived: on HTTP/1.1 with nothing in progress they begin a
    /// head. HTTP/2 frames between streams (pings, window updates) say
    /// nothing about a request, so there only the idle limit runs.
    fn on_bytes(&mut self) {
        self.update();
        if self.protocol == Protocol::Http2 || !matches!(self.armed, Armed::Idle { .. }) {
            return;
        }
        let started = self.activity.started.load(Ordering::SeqCst);
        self.arm(Armed::Head { started }, Instant::now() + self.limits.head);
    }

    /// Brings the deadline up to date with the service's activity.
    fn update(&mut self) {
        let activity = &self.activity;
        let started = activity.started.load(Ordering::SeqCst);
        if activity.in_flight.load(Ordering::SeqCst) > 0 {
            self.armed = Armed::Off;
            return;
        }
        if let Armed::Head { started: seen } = self.armed
            && seen == started
        {
            return;
        }
        let since = activity.idle_since();
        if self.armed != (Armed::Idle { since }) {
            self.arm(Armed::Idle { since }, since + self.limits.idle);
        }
    }

    fn arm(&mut self, armed: Armed, at: Instant) {
        self.armed = armed;
        self.deadline.as_mut().reset(at);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watchdog<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if polled.is_ready() {
            if buf.filled().len() > before {
                this.sniff(&buf.filled()[before..]);
                this.on_bytes();
            }
            return polled;
        }

        this.activity.remember(cx.waker());
        this.update();
        if this.armed == Armed::Off || this.deadline.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let limit = match this.armed {
            Armed::Head { .. } => "no whole request head within the head limit",
            _ => "the connection sat idle past the idle limit",
        };
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, limit)))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watchdog<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LIMITS: Limits = Limits {
        head: Duration::from_secs(10),
        idle: Duration::from_secs(75),
    };

    const REQUEST: &[u8] = b"GET / HTTP/1.1\r\n\r\n";

    fn watched() -> (
        tokio::io::DuplexStream,
        Watchdog<tokio::io::DuplexStream>,
        Arc<Activity>,
    ) {
        let (client, server) = tokio::io::duplex(1024);
        let activity = Activity::new();
        (
            client,
            Watchdog::new(server, activity.clone(), LIMITS),
            activity,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_cut_off_at_the_head_limit() {
        let (_client, mut server, _) = watched();
        let started = Instant::now();
        let err = server.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), LIMITS.head);
    }

    #[tokio::test(start_paused = true)]
    async fn between_requests_the_idle_limit_applies_then_a_new_head_has_its_own() {
        let (mut client, mut server, activity) = watched();
        client.write_all(REQUEST).await.unwrap();
        server.read_exact(&mut [0; REQUEST.len()]).await.unwrap();
        drop(activity.begin());

        // Idle for longer than the head limit, well within the idle one.
        let answered = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            client.write_all(b"GET /again").await.unwrap();
            client
        });
        let read = server.read(&mut [0; 64]).await.unwrap();
        assert_eq!(read, b"GET /again".len());
        let _client = answered.await.unwrap();

        // The rest of that head never comes.
        let started = Instant::now();
        let err = server.read(&mut [0; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), LIMITS.head);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_closes_at_the_idle_limit_and_not_while_busy() {
        let (mut client, mut server, activity) = watched();
        client.write_all(REQUEST).await.unwrap();
        server.read_exact(&mut [0; REQUEST.len()]).await.unwrap();
        let busy = activity.begin();
        let done = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(300)).await;
            drop(busy);
        });

        let started = Instant::now();
        let err = server.read(&mut [0; 64]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(300) + LIMITS.idle);
        done.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn http2_frames_between_streams_do_not_start_a_head() {
        let (mut client, mut server, activity) = watched();
        client.write_all(H2_PREFACE).await.unwrap();
        server.read_exact(&mut [0; 24]).await.unwrap();
        drop(activity.begin());

        let pinging = tokio::spawn(async move {
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_secs(10)).await;
                client.write_all(b"ping").await.unwrap();
            }
            client
        });
        let started = Instant::now();
        let mut buf = [0; 64];
        let err = loop {
            match server.read(&mut buf).await {
                Ok(_) => continue,
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), LIMITS.idle);
        drop(pinging.await.unwrap());
    }
}
