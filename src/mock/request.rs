//! Reading a request: the tenant, the caller's identity and the body.
//!
//! Unknown query parameters are ignored (clients add cache busters), both
//! quoted and unquoted `Authorization` forms are accepted, a `WebChat`
//! client is told apart by a cookie the mock sets, and bodies are read up
//! to a limit so that no client can make the mock buffer without bound.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderValue;
use http::header::{AUTHORIZATION, COOKIE};
use http::request::Parts;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Body;

use crate::api::{Credentials, ErrorCode, TENANT_QUERY, WEBCHAT_CLIENT_ID, WEBCHAT_COOKIE};

use super::reply::ApiError;
use super::store::ClientKey;

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// Tenant, app entry and client (the cookie id for `WebChat`).
    pub key: ClientKey,
    /// A `Set-Cookie` value for a `WebChat` client that came without one.
    pub set_cookie: Option<HeaderValue>,
}

/// Checks `tenantUrl` (1000) and `Authorization` (2000–2004) and names the
/// caller.
pub(crate) fn identify(parts: &Parts) -> Result<Caller, ApiError> {
    let tenant = query_param(parts.uri.query().unwrap_or(""), TENANT_QUERY)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::detail(
                ErrorCode::TENANT_URL,
                "add ?tenantUrl=<your tenant> to the URL",
            )
        })?;
    let header = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let creds = Credentials::parse(header).map_err(|err| ApiError::new(err.code()))?;

    if creds.client_id != WEBCHAT_CLIENT_ID {
        let key = ClientKey::new(tenant, &creds.app_id, &creds.client_id);
        return Ok(Caller {
            key,
            set_cookie: None,
        });
    }
    match cookie(parts, WEBCHAT_COOKIE) {
        Some(id) => Ok(Caller {
            key: ClientKey::new(tenant, &creds.app_id, id),
            set_cookie: None,
        }),
        None => Ok(new_webchat_client(tenant, &creds.app_id)),
    }
}

fn new_webchat_client(tenant: &str, app_id: &str) -> Caller {
    let id = uuid::Uuid::new_v4().to_string();
    let cookie = format!("{WEBCHAT_COOKIE}={id}; Path=/; HttpOnly");
    Caller {
        key: ClientKey::new(tenant, app_id, &id),
        set_cookie: HeaderValue::from_str(&cookie).ok(),
    }
}

/// The raw value of a query parameter; the first one wins.
fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The value of a cookie in any `Cookie` header.
fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the limit, in bytes.
    TooLarge(usize),
    /// The connection failed while the body was read.
    Broken(String),
    /// The whole body did not arrive within this time.
    TimedOut(Duration),
}

/// Reads the whole body, up to `limit` bytes and for at most `within`: a
/// client that stops halfway must not hold the request for ever.
pub(crate) async fn read_body<B>(
    body: B,
    limit: usize,
    within: Duration,
) -> Result<Bytes, BodyError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let collected = tokio::time::timeout(within, Limited::new(body, limit).collect()).await;
    let Ok(collected) = collected else {
        return Err(BodyError::TimedOut(within));
    };
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => Err(BodyError::TooLarge(limit)),
        Err(err) => Err(BodyError::Broken(err.to_string())),
    }
}

/// A JSON body, or the 5003 error naming what is wrong.
pub(crate) async fn read_json<B, T>(body: B, limit: usize, within: Duration) -> Result<T, ApiError>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    T: serde::de::DeserializeOwned,
{
    let bytes = read_body(body, limit, within)
        .await
        .map_err(json_body_error)?;
    serde_json::from_slice(&bytes)
        .map_err(|err| ApiError::detail(ErrorCode::BAD_JSON, err.to_string()))
}

/// The 5003 error for a JSON body that could not be read.
pub(crate) fn json_body_error(err: BodyError) -> ApiError {
    match err {
        BodyError::TooLarge(limit) => ApiError::detail(
            ErrorCode::BAD_JSON,
            format!("body over the {limit}-byte limit; send smaller bodies"),
        ),
        BodyError::Broken(reason) => ApiError::detail(ErrorCode::BAD_JSON, reason),
        BodyError::TimedOut(within) => slow_body(within),
    }
}

/// The 5003 error for a body that did not arrive in time.
pub(crate) fn slow_body(within: Duration) -> ApiError {
    let detail = format!("the body did not arrive within {within:?}; send it whole and promptly");
    ApiError::detail(ErrorCode::BAD_JSON, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = http::Request::builder().uri(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    const SOON: Duration = Duration::from_secs(5);

    const AUTH: &str = "MOBILE-API-140-327-PLAIN appId=A, clientId=C";

    #[test]
    fn the_tenant_is_required_and_extra_parameters_are_ignored() {
        let missing = identify(&parts("/x?nonce=1", &[("authorization", AUTH)])).unwrap_err();
        assert_eq!(missing.code, ErrorCode::TENANT_URL);
        let empty = identify(&parts("/x?tenantUrl=", &[("authorization", AUTH)])).unwrap_err();
        assert_eq!(empty.code, ErrorCode::TENANT_URL);
        let ok = identify(&parts(
            "/x?nonce=1&tenantUrl=t&timestamp=2",
            &[("authorization", AUTH)],
        ));
        assert_eq!(ok.unwrap().key, ClientKey::new("t", "A", "C"));
    }

    #[test]
    fn authorization_defects_keep_their_codes() {
        let err = identify(&parts("/x?tenantUrl=t", &[])).unwrap_err();
        assert_eq!(err.code, ErrorCode::AUTH_MISSING);
        let err = identify(&parts("/x?tenantUrl=t", &[("authorization", "Basic x")])).unwrap_err();
        assert_eq!(err.code, ErrorCode::AUTH_SCHEME);
    }

    #[test]
    fn webchat_clients_are_named_by_their_cookie() {
        let auth = "MOBILE-API-140-327-PLAIN appId=A, clientId=WebChat";
        let first = identify(&parts("/x?tenantUrl=t", &[("authorization", auth)])).unwrap();
        let cookie = first.set_cookie.clone().unwrap();
        let pair = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();

        let again = parts(
            "/x?tenantUrl=t",
            &[("authorization", auth), ("cookie", &pair)],
        );
        let again = identify(&again).unwrap();
        assert_eq!(again.key, first.key);
        assert!(again.set_cookie.is_none());
    }

    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        let body = Full::new(Bytes::from_static(b"0123456789"));
        assert!(matches!(
            read_body(body, 4, SOON).await,
            Err(BodyError::TooLarge(4))
        ));
        let body = Full::new(Bytes::from_static(b"{\"a\":1}"));
        let value: serde_json::Value = read_json(body, 100, SOON).await.unwrap();
        assert_eq!(value["a"], 1);
        let bad = read_json::<_, serde_json::Value>(Full::new(Bytes::from_static(b"{")), 100, SOON);
        assert_eq!(bad.await.unwrap_err().code, ErrorCode::BAD_JSON);
    }

    /// A body whose first bytes come and the rest never does.
    struct Stalled(Option<Bytes>);

    impl Body for Stalled {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
            match self.0.take() {
                Some(data) => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(data)))),
                None => std::task::Poll::Pending,
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_stops_coming_times_out() {
        let body = Stalled(Some(Bytes::from_static(b"{\"half")));
        let started = tokio::time::Instant::now();
        let read = read_body(body, 100, SOON).await;
        assert!(matches!(read, Err(BodyError::TimedOut(SOON))), "{read:?}");
        assert_eq!(started.elapsed(), SOON);
    }
}
