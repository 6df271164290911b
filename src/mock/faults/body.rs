//! The body of every mock response once faults had their say: the
//! handler's body as it is, or one sent a byte at a time, or one cut
//! short.
//!
//! A cut body pauses after its partial data so that hyper flushes the
//! head and that data to the socket before the body fails or ends early;
//! without the pause hyper may tear the connection down with them still in
//! its buffer, and the client would see no response at all instead of a
//! broken one.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::plan::BodyFault;
use crate::mock::reply::MockBody;

/// Pause between the partial data of a cut body and its end.
const CUT_PAUSE: Duration = Duration::from_millis(20);

/// Ends a malformed body: a character that cannot follow any prefix of a
/// JSON text, so the result never parses, even when the body was empty.
const NOT_JSON: &[u8] = b"#";

/// A response body, perhaps shaped by a fault.
#[derive(Debug)]
pub(crate) struct FaultBody(Shape);

#[derive(Debug)]
enum Shape {
    Whole(MockBody),
    Slow(Slow),
    Cut(Cut),
}

/// The error a cut body ends with; hyper then closes the connection
/// (HTTP/1.1) or resets the stream (HTTP/2).
#[derive(Debug, thiserror::Error)]
#[error("the response body was cut by an injected fault")]
pub(crate) struct BodyCut;

impl FaultBody {
    /// The handler's body, unchanged.
    pub fn whole(body: MockBody) -> FaultBody {
        FaultBody(Shape::Whole(body))
    }
}

/// Applies `fault` to the handler's `response`.
pub(super) async fn reshape(response: Response<MockBody>, fault: BodyFault) -> Response<FaultBody> {
    let (mut parts, body) = response.into_parts();
    // A `Full` body is ready at once and cannot fail.
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(never) => match never {},
    };
    let half = bytes.slice(..bytes.len() / 2);

    let shape = match fault {
        BodyFault::Malformed => Shape::Whole(Full::new(malformed(&bytes))),
        BodyFault::Slow(every) => Shape::Slow(Slow::new(bytes, every)),
        BodyFault::Truncate => {
            let declared = bytes.len().max(1);
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(declared));
            Shape::Cut(Cut::new(half, CutEnd::Close))
        }
        BodyFault::Reset => {
            parts.headers.remove(CONTENT_LENGTH);
            Shape::Cut(Cut::new(half, CutEnd::Fail))
        }
    };
    Response::from_parts(parts, FaultBody(shape))
}

/// An API error answer in place of the handler's.
pub(super) fn error(status: u16, code: u16) -> Response<FaultBody> {
    use crate::api::{ErrorBody, ErrorCode};
    let body = ErrorBody::with_detail(ErrorCode(code), "injected by a mock fault");
    let bytes = serde_json::to_vec(&body)
        .map(Bytes::from)
        .unwrap_or_default();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    crate::mock::reply::json_status(status, bytes).map(FaultBody::whole)
}

fn malformed(body: &Bytes) -> Bytes {
    let mut text = body[..body.len() / 2].to_vec();
    text.extend_from_slice(NOT_JSON);
    Bytes::from(text)
}

impl Body for FaultBody {
    type Data = Bytes;
    type Error = BodyCut;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        match &mut self.get_mut().0 {
            Shape::Whole(full) => match ready!(Pin::new(full).poll_frame(cx)) {
                Some(Ok(frame)) => Poll::Ready(Some(Ok(frame))),
                Some(Err(never)) => match never {},
                None => Poll::Ready(None),
            },
            Shape::Slow(slow) => slow.poll_byte(cx),
            Shape::Cut(cut) => cut.poll_part(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.0 {
            Shape::Whole(full) => full.is_end_stream(),
            Shape::Slow(slow) => slow.rest.is_empty(),
            Shape::Cut(_) => false,
        }
    }

    // A cut body keeps the default, unknown size: hyper must frame it by
    // the header set above (or by chunks), never by a length of its own.
    fn size_hint(&self) -> SizeHint {
        match &self.0 {
            Shape::Whole(full) => full.size_hint(),
            Shape::Slow(slow) => SizeHint::with_exact(slow.rest.len() as u64),
            Shape::Cut(_) => SizeHint::default(),
        }
    }
}

/// A body sent one byte per pause.
#[derive(Debug)]
struct Slow {
    rest: Bytes,
    every: Duration,
    pause: Pin<Box<Sleep>>,
}

impl Slow {
    fn new(rest: Bytes, every: Duration) -> Slow {
        let pause = Box::pin(tokio::time::sleep(every));
        Slow { rest, every, pause }
    }

    fn poll_byte(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        if self.rest.is_empty() {
            return Poll::Ready(None);
        }
        ready!(self.pause.as_mut().poll(cx));
        let byte = self.rest.split_to(1);
        self.pause.as_mut().reset(Instant::now() + self.every);
        Poll::Ready(Some(Ok(Frame::data(byte))))
    }
}

/// How a cut body ends after its partial data.
#[derive(Debug, Clone, Copy)]
enum CutEnd {
    /// It just ends, short of its declared length.
    Close,
    /// It fails.
    Fail,
}

/// A body that sends part of itself, pauses, then ends as `end` says.
#[derive(Debug)]
struct Cut {
    part: Option<Bytes>,
    end: CutEnd,
    pause: Option<Pin<Box<Sleep>>>,
}

impl Cut {
    fn new(part: Bytes, end: CutEnd) -> Cut {
        Cut {
            part: Some(part).filter(|p| !p.is_empty()),
            end,
            pause: None,
        }
    }

    fn poll_part(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BodyCut>>> {
        if let Some(part) = self.part.take() {
            return Poll::Ready(Some(Ok(Frame::data(part))));
        }
        let pause = self
            .pause
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(CUT_PAUSE)));
        ready!(pause.as_mut().poll(cx));
        match self.end {
            CutEnd::Close => Poll::Ready(None),
            CutEnd::Fail => Poll::Ready(Some(Err(BodyCut))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(text: &str) -> Response<MockBody> {
        crate::mock::reply::json(Bytes::from(text.to_owned()))
    }

    async fn frames(body: FaultBody) -> (Vec<u8>, bool) {
        let mut body = std::pin::pin!(body);
        let mut data = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            match frame {
                Ok(frame) => data.extend_from_slice(frame.data_ref().unwrap()),
                Err(BodyCut) => return (data, false),
            }
        }
        (data, true)
    }

    #[tokio::test]
    async fn an_error_answer_carries_the_status_and_the_api_code() {
        let answer = error(500, 5500);
        assert_eq!(answer.status(), 500);
        let (data, _) = frames(answer.into_body()).await;
        let body: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(body["error_code"], "5500");
    }

    #[tokio::test]
    async fn a_malformed_body_never_parses() {
        for text in [r#"{"chat_id":"abc"}"#, "", "[]"] {
            let shaped = reshape(response(text), BodyFault::Malformed).await;
            let (data, ended) = frames(shaped.into_body()).await;
            assert!(ended);
            assert!(serde_json::from_slice::<serde_json::Value>(&data).is_err());
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_truncated_body_declares_more_than_it_sends() {
        let shaped = reshape(response(r#"{"events":[]}"#), BodyFault::Truncate).await;
        assert_eq!(shaped.headers()[CONTENT_LENGTH], "13");
        let (data, ended) = frames(shaped.into_body()).await;
        assert_eq!((data.as_slice(), ended), (&br#"{"even"#[..], true));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reset_body_fails_after_half_of_it() {
        let shaped = reshape(response("0123456789"), BodyFault::Reset).await;
        assert!(shaped.headers().get(CONTENT_LENGTH).is_none());
        let (data, ended) = frames(shaped.into_body()).await;
        assert_eq!((data.as_slice(), ended), (&b"01234"[..], false));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_body_takes_a_pause_per_byte() {
        let every = Duration::from_millis(100);
        let shaped = reshape(response("abcd"), BodyFault::Slow(every)).await;
        let started = Instant::now();
        let (data, ended) = frames(shaped.into_body()).await;
        assert_eq!((data.as_slice(), ended), (&b"abcd"[..], true));
        assert_eq!(started.elapsed(), every * 4);
    }
}
