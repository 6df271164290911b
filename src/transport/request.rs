//! The request in the form its connection wants. HTTP/1.1 takes the path
//! alone with a `Host` header; HTTP/2 takes an absolute URI, from which
//! hyper makes the `:scheme` and `:authority` pseudo-headers. Which one is
//! known only once the connection is, so the form is chosen then.

use bytes::Bytes;
use http::header::HOST;
use http::uri::{self, PathAndQuery};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, Version};
use http_body_util::Full;

use super::TransportShared;
use super::dial::ReqBody;

/// A request's headers: a set that many requests share, borrowed, and the
/// few that are this request's own, which win over shared ones of the same
/// name. HTTP/1.1 writes both straight onto the wire, so a request copies
/// no header; HTTP/2 joins them into hyper's map.
#[derive(Clone, Copy, Debug)]
pub struct Headers<'a> {
    /// Headers shared with other requests.
    pub shared: &'a HeaderMap,
    /// This request's own headers. Borrowed too: a request's future keeps
    /// whatever it holds for as long as a long poll is held.
    pub own: &'a [(&'a HeaderName, &'a HeaderValue)],
}

impl<'a> Headers<'a> {
    /// Only shared headers.
    pub fn shared(shared: &'a HeaderMap) -> Self {
        Headers { shared, own: &[] }
    }

    /// True when either part has header `name`.
    pub(super) fn contains(&self, name: &HeaderName) -> bool {
        self.own.iter().any(|(own, _)| *own == name) || self.shared.contains_key(name)
    }

    /// Every header once, own ones in place of shared ones of their name.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)> {
        let own = self.own;
        let shared = self
            .shared
            .iter()
            .filter(move |(name, _)| !own.iter().any(|(mine, _)| mine == name));
        shared.chain(own.iter().copied())
    }

    /// Both parts joined in one map.
    fn joined(&self) -> HeaderMap {
        let mut map = self.shared.clone();
        for &(name, value) in self.own {
            map.insert(name.clone(), value.clone());
        }
        map
    }
}

/// A request before it is aimed at a connection.
pub(super) struct Outgoing<'a> {
    /// The method.
    pub(super) method: Method,
    /// Path and query, such as `/clientweb/api/v2/chats?tenantUrl=x`.
    pub(super) target: PathAndQuery,
    /// The caller's headers.
    pub(super) headers: Headers<'a>,
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
        *request.headers_mut() = self.headers.joined();
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
