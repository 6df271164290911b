//! The request in the form its connection wants. HTTP/1.1 takes the path
//! alone with a `Host` header; HTTP/2 takes an absolute URI, from which
//! hyper makes the `:scheme` and `:authority` pseudo-headers. Which one is
//! known only once the connection is, so the form is chosen then.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::HOST;
use http::uri::{self, PathAndQuery};
use http::{HeaderMap, Method, Request, Uri, Version};
use http_body_util::Full;

use super::TransportShared;
use super::dial::ReqBody;

/// A request before it is aimed at a connection.
pub(super) struct Outgoing<'a> {
    /// The method.
    pub(super) method: Method,
    /// Path and query, such as `/clientweb/api/v2/chats?tenantUrl=x`.
    pub(super) target: PathAndQuery,
    /// The caller's headers: moved into the request when they are its own,
    /// copied once when borrowed.
    pub(super) headers: Cow<'a, HeaderMap>,
    /// The body, possibly empty.
    pub(super) body: Bytes,
}

impl Outgoing<'_> {
    /// The request for a connection speaking HTTP/2 if `http2`, else
    /// HTTP/1.1.
    pub(super) fn into_request(
        self,
        shared: &TransportShared,
        http2: bool,
    ) -> Result<Request<ReqBody>, http::Error> {
        let mut request = Request::new(Full::new(self.body));
        *request.method_mut() = self.method;
        *request.headers_mut() = self.headers.into_owned();
        aim(&mut request, self.target, shared, http2)?;
        Ok(request)
    }
}

/// Re-aims a request that one connection refused unsent at another, which
/// may speak the other protocol.
pub(super) fn reaim(
    request: &mut Request<ReqBody>,
    shared: &TransportShared,
    http2: bool,
) -> Result<(), http::Error> {
    let target = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    if http2 {
        // RFC 9113 section 8.3.1: HTTP/2 carries the authority in its
        // pseudo-header, not in `Host`.
        request.headers_mut().remove(HOST);
    }
    aim(request, target, shared, http2)
}

fn aim(
    request: &mut Request<ReqBody>,
    target: PathAndQuery,
    shared: &TransportShared,
    http2: bool,
) -> Result<(), http::Error> {
    if http2 {
        let mut parts = uri::Parts::default();
        parts.scheme = Some(shared.scheme.clone());
        parts.authority = Some(shared.authority.clone());
        parts.path_and_query = Some(target);
        *request.uri_mut() = Uri::from_parts(parts)?;
        *request.version_mut() = Version::HTTP_2;
    } else {
        *request.uri_mut() = Uri::from(target);
        *request.version_mut() = Version::HTTP_11;
        request
            .headers_mut()
            .entry(HOST)
            .or_insert_with(|| shared.host.clone());
    }
    Ok(())
}
