//! A request before its connection is known, and its headers. Over
//! HTTP/1.1 the client in `h1.rs` writes it straight from these parts;
//! over HTTP/2 it becomes a request in hyper's form.

use bytes::Bytes;
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

/// A request before its connection is known.
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
    /// The request in hyper's form for an HTTP/2 connection: an absolute
    /// URI, from which hyper makes the `:scheme` and `:authority`
    /// pseudo-headers, and no `Host` (RFC 9113 section 8.3.1). It stays
    /// good for any HTTP/2 connection to the target, so a request one
    /// connection refused goes to another as it is.
    pub(super) fn into_http2(
        self,
        shared: &TransportShared,
    ) -> Result<Request<ReqBody>, http::Error> {
        let mut parts = uri::Parts::default();
        parts.scheme = Some(shared.scheme.clone());
        parts.authority = Some(shared.authority.clone());
        parts.path_and_query = Some(self.target);

        let mut request = Request::new(Full::new(self.body));
        *request.method_mut() = self.method;
        *request.headers_mut() = self.headers.joined();
        *request.uri_mut() = Uri::from_parts(parts)?;
        *request.version_mut() = Version::HTTP_2;
        Ok(request)
    }
}
