//! A deadline on a connection's first bytes, for the moment before hyper's
//! own header timeout can apply.
//!
//! hyper_util's auto builder reads up to the length of the HTTP/2 preface
//! to tell HTTP/1.1 from HTTP/2, and waits for those bytes without a time
//! limit; hyper's HTTP/1.1 header timeout only starts after that. So a
//! client that connects and sends nothing, or a few bytes of the preface,
//! would hold a task for ever. [`FirstBytes`] fails the read once the
//! deadline passes, which ends the connection.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// Bytes the auto builder needs to choose a protocol: the length of the
/// HTTP/2 connection preface.
const SNIFF_BYTES: usize = 24;

/// A stream whose first [`SNIFF_BYTES`] must arrive within a deadline.
pub(crate) struct FirstBytes<S> {
    inner: S,
    /// Disarmed (None) once enough bytes arrived.
    deadline: Option<Pin<Box<Sleep>>>,
    missing: usize,
}

impl<S> FirstBytes<S> {
    /// Wraps `inner`; its first bytes are due within `limit` from now.
    pub(crate) fn new(inner: S, limit: Duration) -> FirstBytes<S> {
        FirstBytes {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep(limit))),
            missing: SNIFF_BYTES,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstBytes<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if polled.is_ready() {
            let read = buf.filled().len().saturating_sub(before);
            this.missing = this.missing.saturating_sub(read);
            if this.missing == 0 || read == 0 {
                this.deadline = None;
            }
            return polled;
        }

        let expired = match this.deadline.as_mut() {
            Some(sleep) => sleep.as_mut().poll(cx).is_ready(),
            None => false,
        };
        if expired {
            let err = io::Error::new(
                io::ErrorKind::TimedOut,
                "no request within the header timeout",
            );
            return Poll::Ready(Err(err));
        }
        Poll::Pending
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstBytes<S> {
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

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_is_cut_off_at_the_deadline() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = FirstBytes::new(server, Duration::from_secs(10));
        let started = tokio::time::Instant::now();

        let err = server.read(&mut [0; 8]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= Duration::from_secs(10));
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn enough_bytes_lift_the_deadline() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = FirstBytes::new(server, Duration::from_secs(10));
        client.write_all(&[b'x'; SNIFF_BYTES]).await.unwrap();
        let mut buf = [0; SNIFF_BYTES];
        server.read_exact(&mut buf).await.unwrap();

        // Long after the deadline a read still waits for data, then gets it.
        tokio::time::sleep(Duration::from_secs(60)).await;
        client.write_all(b"late").await.unwrap();
        let read = server.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..read], b"late");
    }
}
