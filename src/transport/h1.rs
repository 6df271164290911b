//! An HTTP/1.1 client connection made for this one job: one exchange at a
//! time, driven by the request that uses it.
//!
//! hyper's HTTP/1.1 client runs every connection as a task of its own and
//! hands requests and responses to it over channels, so each exchange costs
//! two task hand-offs besides the work. Here the request's own task writes
//! the request and reads the response, and nothing runs while a connection
//! sits idle. The price is that an idle connection does not notice by
//! itself that the server closed it: [`H1Conn::is_closed`] asks the socket,
//! without a system call unless the socket has something to say.
//!
//! What it speaks: requests with a `Content-Length` body; responses framed
//! by `Content-Length`, by chunked transfer coding, or by the end of the
//! connection; `1xx` interim responses skipped; `Connection: close` and
//! HTTP/1.0 honoured. A connection stays reusable only after a whole
//! response that did not ask to close it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::request::Headers;

/// Most headers a response head may carry; hyper allows as many.
const MAX_HEADERS: usize = 100;

/// Largest response head accepted, as a bound on a server that never ends
/// its head.
const MAX_HEAD: usize = 64 * 1024;

/// Largest response body accepted. A long poll with thousands of events is
/// well under it; a runaway server is not.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Free room kept in the read buffer before each read.
const READ_ROOM: usize = 4096;

/// Buffers grown past this by one big exchange are let go afterwards, so a
/// connection does not keep a large one for its whole life.
const KEEP_BUFFER: usize = 64 * 1024;

/// The byte stream under a connection.
pub(super) enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP; boxed, as its state is kilobytes.
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(tls) => tls.get_ref().0,
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Stream::Tls(tls) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Why an exchange failed. Whatever the cause, the connection is done.
#[derive(Debug, thiserror::Error)]
pub(super) enum H1Error {
    /// Writing the request or reading the response failed.
    #[error("connection error")]
    Io(#[from] io::Error),
    /// The server closed the connection before the response was whole.
    #[error("the connection closed before the response was complete ({got} bytes of {part})")]
    Closed {
        /// Which part of the response was being read.
        part: &'static str,
        /// How many bytes of that part had arrived.
        got: usize,
    },
    /// The response is not HTTP/1.1 as this client reads it.
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// A response's status and headers.
#[derive(Debug)]
pub(super) struct Head {
    /// The status code.
    pub(super) status: u16,
    /// The head as received, status line and headers.
    pub(super) bytes: Bytes,
}

/// How a response's body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    UntilClose,
}

/// What the head says, before the body is read.
struct Parsed {
    status: u16,
    head: Bytes,
    framing: Framing,
    keep_alive: bool,
}

/// The parts of one request, borrowed for as long as it is written.
pub(super) struct H1Request<'a> {
    /// The method.
    pub(super) method: &'a Method,
    /// Path and query, such as `/clientweb/api/v2/chats?tenantUrl=x`.
    pub(super) target: &'a str,
    /// The `Host` header, unless `headers` has one.
    pub(super) host: &'a HeaderValue,
    /// The request's headers.
    pub(super) headers: Headers<'a>,
    /// The body, possibly empty.
    pub(super) body: &'a [u8],
}

/// One HTTP/1.1 connection.
pub(super) struct H1Conn {
    io: Stream,
    /// Bytes read and not yet used.
    read: BytesMut,
    /// The request being written; its allocation is kept between requests.
    write: Vec<u8>,
    /// True while the connection may carry another exchange.
    reusable: bool,
}

impl H1Conn {
    /// A connection over `io`, ready for its first request.
    pub(super) fn new(io: Stream) -> H1Conn {
        H1Conn {
            io,
            read: BytesMut::new(),
            write: Vec::new(),
            reusable: true,
        }
    }

    /// True when the last exchange ended cleanly and the server did not
    /// ask to close.
    pub(super) fn is_reusable(&self) -> bool {
        self.reusable
    }

    /// True when an idle connection can no longer be used: the server
    /// closed it, reset it, or sent bytes no request asked for. Costs a
    /// system call only when the socket has become readable.
    pub(super) fn is_closed(&mut self) -> bool {
        if !self.reusable || !self.read.is_empty() {
            return true;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let tcp = self.io.tcp();
        match tcp.poll_read_ready(&mut cx) {
            Poll::Pending => false,
            Poll::Ready(Err(_)) => true,
            // Readable while idle: an end of stream, a reset or stray
            // bytes (over TLS, likely a close alert). Any of them ends the
            // connection; only "nothing after all" keeps it.
            Poll::Ready(Ok(())) => !matches!(
                tcp.try_read(&mut [0u8; 1]),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock
            ),
        }
    }

    /// Sends one request and reads its whole response.
    pub(super) async fn exchange(
        &mut self,
        request: &H1Request<'_>,
    ) -> Result<(Head, Bytes), H1Error> {
        self.reusable = false;
        encode_request(&mut self.write, request);
        self.io.write_all(&self.write).await?;
        self.io.flush().await?;
        trim(&mut self.write);

        let parsed = loop {
            let parsed = self.read_head().await?;
            // Interim responses (100 Continue, 103 Early Hints) precede the
            // real one.
            if !(100..200).contains(&parsed.status) {
                break parsed;
            }
        };

        let body = self.read_body(parsed.framing).await?;
        self.reusable = parsed.keep_alive && parsed.framing != Framing::UntilClose;
        if self.read.capacity() > KEEP_BUFFER {
            self.read = BytesMut::new();
        }

        let head = Head {
            status: parsed.status,
            bytes: parsed.head,
        };
        Ok((head, body))
    }

    /// Reads until a whole head is buffered, and parses it.
    async fn read_head(&mut self) -> Result<Parsed, H1Error> {
        loop {
            if !self.read.is_empty()
                && let Some(parsed) = take_head(&mut self.read)?
            {
                return Ok(parsed);
            }
            if self.read.len() > MAX_HEAD {
                return Err(H1Error::Malformed(format!(
                    "the response head is longer than {MAX_HEAD} bytes"
                )));
            }
            if self.fill().await? == 0 {
                return Err(H1Error::Closed {
                    part: "the head",
                    got: self.read.len(),
                });
            }
        }
    }

    async fn read_body(&mut self, framing: Framing) -> Result<Bytes, H1Error> {
        match framing {
            Framing::Length(len) => self.read_exact_body(len).await,
            Framing::Chunked => self.read_chunked().await,
            Framing::UntilClose => self.read_until_close().await,
        }
    }

    async fn read_exact_body(&mut self, len: usize) -> Result<Bytes, H1Error> {
        if len > MAX_BODY {
            return Err(too_large(len));
        }
        while self.read.len() < len {
            self.read.reserve(len - self.read.len());
            if self.fill().await? == 0 {
                return Err(H1Error::Closed {
                    part: "the body",
                    got: self.read.len(),
                });
            }
        }
        Ok(self.read.split_to(len).freeze())
    }

    async fn read_chunked(&mut self) -> Result<Bytes, H1Error> {
        let mut body = BytesMut::new();
        loop {
            let size = self.chunk_size(body.len()).await?;
            if size == 0 {
                self.skip_trailers(body.len()).await?;
                return Ok(body.freeze());
            }
            if body.len() + size > MAX_BODY {
                return Err(too_large(body.len() + size));
            }

            self.buffer_at_least(size + 2, body.len()).await?;
            body.extend_from_slice(&self.read[..size]);
            if &self.read[size..size + 2] != b"\r\n" {
                return Err(H1Error::Malformed("a chunk does not end in CRLF".into()));
            }
            let _ = self.read.split_to(size + 2);
        }
    }

    /// Reads the next chunk-size line and consumes it.
    async fn chunk_size(&mut self, got: usize) -> Result<usize, H1Error> {
        loop {
            match httparse::parse_chunk_size(&self.read) {
                Ok(httparse::Status::Complete((used, size))) => {
                    let _ = self.read.split_to(used);
                    return usize::try_from(size).map_err(|_| too_large(usize::MAX));
                }
                Ok(httparse::Status::Partial) => self.fill_or_closed(got).await?,
                Err(_) => return Err(H1Error::Malformed("a chunk size is not hex".into())),
            }
        }
    }

    /// Consumes the trailer section after the last chunk, up to its empty
    /// line. Trailers are not kept: nothing in the API sends them.
    async fn skip_trailers(&mut self, got: usize) -> Result<(), H1Error> {
        loop {
            match self.read.windows(2).position(|pair| pair == b"\r\n") {
                Some(0) => {
                    let _ = self.read.split_to(2);
                    return Ok(());
                }
                Some(end) => {
                    let _ = self.read.split_to(end + 2);
                }
                None if self.read.len() > MAX_HEAD => {
                    return Err(H1Error::Malformed("the trailers never end".into()));
                }
                None => self.fill_or_closed(got).await?,
            }
        }
    }

    async fn buffer_at_least(&mut self, len: usize, got: usize) -> Result<(), H1Error> {
        while self.read.len() < len {
            self.read.reserve(len - self.read.len());
            self.fill_or_closed(got).await?;
        }
        Ok(())
    }

    async fn fill_or_closed(&mut self, got: usize) -> Result<(), H1Error> {
        match self.fill().await? {
            0 => Err(H1Error::Closed {
                part: "the chunked body",
                got,
            }),
            _ => Ok(()),
        }
    }

    async fn read_until_close(&mut self) -> Result<Bytes, H1Error> {
        loop {
            if self.read.len() > MAX_BODY {
                return Err(too_large(self.read.len()));
            }
            match self.fill().await {
                Ok(0) => return Ok(self.read.split().freeze()),
                Ok(_) => {}
                // A TLS peer that closes without its close alert still
                // ended the body the only way this framing has.
                Err(H1Error::Io(err)) if err.kind() == io::ErrorKind::UnexpectedEof => {
                    return Ok(self.read.split().freeze());
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// One read into the buffer; 0 at the end of the stream.
    async fn fill(&mut self) -> Result<usize, H1Error> {
        if self.read.capacity() - self.read.len() < READ_ROOM / 2 {
            self.read.reserve(READ_ROOM.max(self.read.len()));
        }
        Ok(self.io.read_buf(&mut self.read).await?)
    }
}

/// Writes the request's head and body into `out`.
fn encode_request(out: &mut Vec<u8>, request: &H1Request<'_>) {
    out.clear();
    out.reserve(256 + request.body.len());
    out.extend_from_slice(request.method.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(request.target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");

    if !request.headers.contains(&HOST) {
        put_header(out, HOST.as_str(), request.host.as_bytes());
    }
    for (name, value) in request.headers.iter() {
        put_header(out, name.as_str(), value.as_bytes());
    }
    let bodyless = matches!(*request.method, Method::GET | Method::HEAD);
    if !request.headers.contains(&CONTENT_LENGTH) && (!bodyless || !request.body.is_empty()) {
        let mut digits = itoa::Buffer::new();
        put_header(
            out,
            "content-length",
            digits.format(request.body.len()).as_bytes(),
        );
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(request.body);
}

fn put_header(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Lets go of a write buffer one big request grew.
fn trim(write: &mut Vec<u8>) {
    if write.capacity() > KEEP_BUFFER {
        *write = Vec::new();
    }
}

/// Header slots tried first. Typical responses carry under a dozen
/// headers, and every slot is zeroed before each parse.
const FEW_HEADERS: usize = 24;

/// Takes a whole head off the front of `read`, or `None` while it is
/// incomplete. Only what framing needs is read from its headers here; the
/// head is kept whole, and a header asked for later is found in it then
/// ([`header_in`]), because callers seldom ask.
fn take_head(read: &mut BytesMut) -> Result<Option<Parsed>, H1Error> {
    let Some((head_len, summary)) = summarize::<FEW_HEADERS>(read)? else {
        return Ok(None);
    };
    let head = read.split_to(head_len).freeze();
    Ok(Some(Parsed { head, ..summary }))
}

/// Parses the head at the front of `buf` with room for `N` headers, and
/// again with room for [`MAX_HEADERS`] when that is too few. Returns the
/// head's length and what it says; its `head` is left empty.
fn summarize<const N: usize>(buf: &[u8]) -> Result<Option<(usize, Parsed)>, H1Error> {
    let mut slots = [httparse::EMPTY_HEADER; N];
    let mut response = httparse::Response::new(&mut slots);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) if N < MAX_HEADERS => {
            return summarize::<MAX_HEADERS>(buf);
        }
        Err(err) => return Err(H1Error::Malformed(format!("bad response head: {err}"))),
    };
    let status = response.code.unwrap_or_default();
    let http10 = response.version == Some(0);

    let parsed = Parsed {
        status,
        head: Bytes::new(),
        framing: framing(status, response.headers)?,
        keep_alive: keep_alive(response.headers, http10),
    };
    Ok(Some((head_len, parsed)))
}

/// How the body of a response with `status` and `headers` ends (RFC 9112
/// section 6.3).
fn framing(status: u16, headers: &[httparse::Header<'_>]) -> Result<Framing, H1Error> {
    if matches!(status, 204 | 304) || (100..200).contains(&status) {
        return Ok(Framing::Length(0));
    }
    let mut length = None;
    for header in headers {
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            return Ok(if last_token_is(header.value, b"chunked") {
                Framing::Chunked
            } else {
                Framing::UntilClose
            });
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            let len = parse_length(header.value)?;
            if length.is_some_and(|earlier| earlier != len) {
                return Err(H1Error::Malformed(
                    "conflicting Content-Length headers".into(),
                ));
            }
            length = Some(len);
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

fn parse_length(value: &[u8]) -> Result<usize, H1Error> {
    let text = std::str::from_utf8(value).unwrap_or_default().trim();
    text.parse().map_err(|_| {
        H1Error::Malformed(format!(
            "Content-Length {:?} is not a length",
            String::from_utf8_lossy(value)
        ))
    })
}

/// True when the connection may be used again after this response.
fn keep_alive(headers: &[httparse::Header<'_>], http10: bool) -> bool {
    let mut tokens = headers
        .iter()
        .filter(|header| header.name.eq_ignore_ascii_case("connection"))
        .flat_map(|header| header.value.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii);
    if http10 {
        tokens.any(|token| token.eq_ignore_ascii_case(b"keep-alive"))
    } else {
        !tokens.any(|token| token.eq_ignore_ascii_case(b"close"))
    }
}

fn last_token_is(list: &[u8], token: &[u8]) -> bool {
    list.split(|&b| b == b',')
        .next_back()
        .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(token))
}

/// The first value of header `name` in a head this client read, as a
/// slice of it.
pub(super) fn header_in(head: &Bytes, name: &HeaderName) -> Option<HeaderValue> {
    let mut first = None;
    each_header(head, |found, value| {
        if first.is_none() && found == *name {
            first = Some(value);
        }
    });
    first
}

/// Every header of a head this client read, as a map whose values are
/// slices of the head.
pub(super) fn header_map(head: &Bytes) -> HeaderMap {
    let mut map = HeaderMap::new();
    each_header(head, |name, value| {
        map.append(name, value);
    });
    map
}

/// Calls `visit` with each header of `head`, in order. The head parsed
/// once already, so a header that fails now is skipped.
fn each_header(head: &Bytes, mut visit: impl FnMut(HeaderName, HeaderValue)) {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    if response.parse(head).is_err() {
        return;
    }
    for header in response.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes());
        let value = HeaderValue::from_maybe_shared(head.slice_ref(header.value));
        if let (Ok(name), Ok(value)) = (name, value) {
            visit(name, value);
        }
    }
}

fn too_large(len: usize) -> H1Error {
    H1Error::Malformed(format!(
        "the response body ({len} bytes) is larger than the {MAX_BODY}-byte limit"
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::header::{ACCEPT, AUTHORIZATION};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A server on loopback that answers each request it reads with the
    /// next of `replies`, written in the given pieces, then closes. Returns
    /// a connection to it and the requests it saw.
    async fn serve(
        replies: Vec<Vec<&'static [u8]>>,
    ) -> (H1Conn, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            for pieces in replies {
                seen.push(read_request(&mut socket).await);
                for piece in pieces {
                    socket.write_all(piece).await.unwrap();
                    socket.flush().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            seen
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        (H1Conn::new(Stream::Plain(tcp)), server)
    }

    /// Reads one request head and its Content-Length body.
    async fn read_request(socket: &mut TcpStream) -> String {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n\r\n") {
            socket.read_exact(&mut byte).await.unwrap();
            got.push(byte[0]);
        }
        let text = String::from_utf8(got).unwrap();
        let len = text
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .map_or(0, |len| len.parse().unwrap());
        let mut body = vec![0u8; len];
        socket.read_exact(&mut body).await.unwrap();
        text + std::str::from_utf8(&body).unwrap()
    }

    fn get<'a>(headers: &'a HeaderMap, host: &'a HeaderValue) -> H1Request<'a> {
        H1Request {
            method: &Method::GET,
            target: "/clientweb/api/v2/availability?tenantUrl=x",
            host,
            headers: Headers::shared(headers),
            body: b"",
        }
    }

    fn host() -> HeaderValue {
        HeaderValue::from_static("127.0.0.1:9")
    }

    #[tokio::test]
    async fn a_length_framed_response_is_read_and_the_connection_kept() {
        let reply: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\n\r\nhello";
        let (mut conn, server) = serve(vec![vec![reply], vec![reply]]).await;
        let (headers, host) = (HeaderMap::new(), host());

        for round in 0..2 {
            let (head, body) = conn.exchange(&get(&headers, &host)).await.unwrap();
            assert_eq!(head.status, 200);
            let cookie = header_in(&head.bytes, &HeaderName::from_static("set-cookie"));
            assert_eq!(cookie.unwrap(), "a=1");
            assert_eq!(&body[..], b"hello");
            assert!(conn.is_reusable());
            // The server waits for the next request: nothing to read.
            assert!(round == 1 || !conn.is_closed());
        }
        let seen = server.await.unwrap();
        assert!(seen[0].starts_with("GET /clientweb/api/v2/availability?tenantUrl=x HTTP/1.1\r\n"));
        assert!(seen[0].contains("host: 127.0.0.1:9\r\n"), "{}", seen[0]);
        assert!(
            !seen[0].contains("content-length"),
            "a GET has no body: {}",
            seen[0]
        );
    }

    #[tokio::test]
    async fn a_post_carries_its_headers_and_length() {
        let reply: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        let (mut conn, server) = serve(vec![vec![reply]]).await;
        let mut shared = HeaderMap::new();
        shared.insert("user-agent", HeaderValue::from_static("shared"));
        shared.insert("accept", HeaderValue::from_static("text/plain"));
        let (identity, json) = (
            HeaderValue::from_static("MOBILE-API-140-327-PLAIN x"),
            HeaderValue::from_static("application/json"),
        );
        let own = [(&AUTHORIZATION, &identity), (&ACCEPT, &json)];
        let host = host();
        let request = H1Request {
            method: &Method::POST,
            target: "/chats",
            host: &host,
            headers: Headers {
                shared: &shared,
                own: &own,
            },
            body: b"{\"a\":1}",
        };

        conn.exchange(&request).await.unwrap();
        let seen = server.await.unwrap();
        assert!(seen[0].contains("authorization: MOBILE-API-140-327-PLAIN x\r\n"));
        assert!(seen[0].contains("user-agent: shared\r\n"), "{}", seen[0]);
        // An own header replaces the shared one of its name.
        assert_eq!(seen[0].matches("accept:").count(), 1, "{}", seen[0]);
        assert!(
            seen[0].contains("accept: application/json\r\n"),
            "{}",
            seen[0]
        );
        assert!(seen[0].contains("content-length: 7\r\n"), "{}", seen[0]);
        assert!(seen[0].ends_with("\r\n\r\n{\"a\":1}"), "{}", seen[0]);
    }

    #[tokio::test]
    async fn chunks_split_across_reads_are_joined_and_trailers_skipped() {
        let pieces: Vec<&[u8]> = vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
            b"lo\r\n6;ext=1\r\n, worl\r\n1\r",
            b"\nd\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ];
        let next: &[u8] = b"HTTP/1.1 204 No Content\r\n\r\n";
        let (mut conn, server) = serve(vec![pieces, vec![next]]).await;
        let (headers, host) = (HeaderMap::new(), host());

        let (_, body) = conn.exchange(&get(&headers, &host)).await.unwrap();
        assert_eq!(&body[..], b"hello, world");
        assert!(conn.is_reusable());
        let (head, body) = conn.exchange(&get(&headers, &host)).await.unwrap();
        assert_eq!((head.status, body.len()), (204, 0));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_body_without_length_ends_with_the_connection() {
        let pieces: Vec<&[u8]> = vec![b"HTTP/1.1 200 OK\r\n\r\nall of ", b"it"];
        let (mut conn, server) = serve(vec![pieces]).await;
        let (headers, host) = (HeaderMap::new(), host());

        let (_, body) = conn.exchange(&get(&headers, &host)).await.unwrap();
        assert_eq!(&body[..], b"all of it");
        assert!(!conn.is_reusable());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn connection_close_and_http_1_0_are_not_reused() {
        let close: &[u8] =
            b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n";
        let old: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        for reply in [close, old] {
            let (mut conn, server) = serve(vec![vec![reply]]).await;
            let (headers, host) = (HeaderMap::new(), host());
            conn.exchange(&get(&headers, &host)).await.unwrap();
            assert!(!conn.is_reusable(), "{}", String::from_utf8_lossy(reply));
            server.await.unwrap();
        }
    }

    #[tokio::test]
    async fn an_interim_response_is_skipped() {
        let pieces: Vec<&[u8]> = vec![
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx",
        ];
        let (mut conn, server) = serve(vec![pieces]).await;
        let (headers, host) = (HeaderMap::new(), host());

        let (head, body) = conn.exchange(&get(&headers, &host)).await.unwrap();
        assert_eq!((head.status, &body[..]), (201, &b"x"[..]));
        server.await.unwrap();
    }

    #[tokio::test]
    async fn many_headers_are_read() {
        let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n".to_vec();
        for i in 0..(FEW_HEADERS + 10) {
            reply.extend_from_slice(format!("x-h{i}: {i}\r\n").as_bytes());
        }
        reply.extend_from_slice(b"\r\n");
        let reply: &'static [u8] = reply.leak();
        let (mut conn, server) = serve(vec![vec![reply]]).await;
        let (headers, host) = (HeaderMap::new(), host());

        let (head, _) = conn.exchange(&get(&headers, &host)).await.unwrap();
        let map = header_map(&head.bytes);
        assert_eq!(map.len(), FEW_HEADERS + 11);
        assert_eq!(map["x-h30"], "30");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_response_cut_short_or_garbled_is_an_error() {
        let cases: Vec<(&[u8], &str)> = vec![
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                "bytes of the body",
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Le", "bytes of the head"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab",
                "chunked body",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "not hex",
            ),
            (b"SMTP ready\r\n\r\n", "bad response head"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "conflicting",
            ),
        ];
        for (reply, expect) in cases {
            let (mut conn, server) = serve(vec![vec![reply]]).await;
            let (headers, host) = (HeaderMap::new(), host());
            let err = conn.exchange(&get(&headers, &host)).await.unwrap_err();
            assert!(err.to_string().contains(expect), "{expect}: {err}");
            assert!(!conn.is_reusable());
            server.await.unwrap();
        }
    }

    #[tokio::test]
    async fn an_idle_connection_the_server_closed_is_seen_closed() {
        let reply: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        let (mut conn, server) = serve(vec![vec![reply]]).await;
        let (headers, host) = (HeaderMap::new(), host());

        conn.exchange(&get(&headers, &host)).await.unwrap();
        server.await.unwrap();

        // The server's end of stream reaches the socket in its own time;
        // the runtime's I/O driver notices it between polls.
        let mut seen = false;
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if conn.is_closed() {
                seen = true;
                break;
            }
        }
        assert!(seen, "the closed connection still looked usable after 1 s");
    }
}
