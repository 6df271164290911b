//! Building responses: JSON bodies, raw files and API error bodies.
//!
//! Every handler's body is [`MockBody`]; the fault layer reshapes it on the
//! way out (slow, malformed or cut bodies) without the handlers knowing.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use http::{Response, StatusCode};
use http_body_util::Full;

use crate::api::{ApiVersion, ErrorBody, ErrorCode};

/// The body type of every mock response.
pub(crate) type MockBody = Full<Bytes>;

const JSON: HeaderValue = HeaderValue::from_static("application/json; charset=utf-8");
const NO_CACHE: HeaderValue = HeaderValue::from_static("no-cache");

/// A failed call: the API code and, when it helps, what was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The API error code; it also decides the HTTP status.
    pub code: ErrorCode,
    /// Added to the standard message.
    pub detail: Option<String>,
}

impl ApiError {
    /// An error with the code's standard message.
    pub fn new(code: ErrorCode) -> ApiError {
        ApiError { code, detail: None }
    }

    /// An error whose message says more.
    pub fn detail(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            detail: Some(detail.into()),
        }
    }

    /// The error response. `auth_status` overrides the version's status
    /// for authorization failures.
    pub fn respond(&self, version: ApiVersion, auth_status: Option<u16>) -> Response<MockBody> {
        let auth = auth_status.unwrap_or(if version.is_v2() { 403 } else { 401 });
        let status = self.code.status(auth, version.is_v2());
        let body = match &self.detail {
            Some(detail) => ErrorBody::with_detail(self.code, detail),
            None => ErrorBody::new(self.code),
        };
        let bytes = serde_json::to_vec(&body)
            .map(Bytes::from)
            .unwrap_or_default();
        json_status(
            StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
            bytes,
        )
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> ApiError {
        ApiError::new(code)
    }
}

/// 200 with a JSON body.
pub(crate) fn json(body: Bytes) -> Response<MockBody> {
    json_status(StatusCode::OK, body)
}

/// A JSON body with any status.
pub(crate) fn json_status(status: StatusCode, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, JSON);
    headers.insert(CACHE_CONTROL, NO_CACHE);
    response
}

/// Serialises a body we built; our own types always serialise.
pub(crate) fn json_of(value: &impl serde::Serialize) -> Response<MockBody> {
    json(
        serde_json::to_vec(value)
            .map(Bytes::from)
            .unwrap_or_default(),
    )
}

/// 200 with no body, as v2 Send Events answers.
pub(crate) fn empty() -> Response<MockBody> {
    Response::new(Full::new(Bytes::new()))
}

/// 200 with raw bytes of the given content type.
pub(crate) fn raw(content_type: &str, body: Bytes) -> Response<MockBody> {
    let mut response = Response::new(Full::new(body));
    let value = HeaderValue::from_str(content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    response.headers_mut().insert(CONTENT_TYPE, value);
    response
}

/// A status with no API meaning, such as 404 for a path that is no method.
pub(crate) fn plain_status(status: StatusCode, detail: &str) -> Response<MockBody> {
    let body = ErrorBody::with_detail(ErrorCode::UNSPECIFIED, detail);
    let bytes = serde_json::to_vec(&body)
        .map(Bytes::from)
        .unwrap_or_default();
    json_status(status, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_errors_follow_the_version_unless_overridden() {
        let err = ApiError::new(ErrorCode::AUTH_MISSING);
        assert_eq!(err.respond(ApiVersion::V1, None).status(), 401);
        assert_eq!(err.respond(ApiVersion::V2, None).status(), 403);
        assert_eq!(err.respond(ApiVersion::V2, Some(401)).status(), 401);
    }

    #[test]
    fn a_second_poll_is_429_on_v2_and_400_on_v1() {
        let err = ApiError::new(ErrorCode::TOO_MANY_POLLS);
        assert_eq!(err.respond(ApiVersion::V2, None).status(), 429);
        assert_eq!(err.respond(ApiVersion::V1, None).status(), 400);
    }
}
