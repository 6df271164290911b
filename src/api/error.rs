//! The error body `{"error_code": "…", "error_message": "…"}` and the table
//! of codes with the HTTP status a server pairs with each.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize, Serializer};

use super::lenient::string_or_number;

/// An API error code such as 5005. Read from a string or a number, written
/// as a string as the documentation and the SDKs have it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    /// Missing or invalid `tenantUrl`.
    pub const TENANT_URL: ErrorCode = ErrorCode(1000);
    /// No `Authorization` header.
    pub const AUTH_MISSING: ErrorCode = ErrorCode(2000);
    /// A malformed `Authorization` parameter.
    pub const AUTH_FORMAT: ErrorCode = ErrorCode(2001);
    /// The wrong `Authorization` scheme.
    pub const AUTH_SCHEME: ErrorCode = ErrorCode(2002);
    /// No `appId` in `Authorization`.
    pub const APP_ID_MISSING: ErrorCode = ErrorCode(2003);
    /// No `clientId` in `Authorization`.
    pub const CLIENT_ID_MISSING: ErrorCode = ErrorCode(2004);
    /// Unknown application id.
    pub const APP_ID_INVALID: ErrorCode = ErrorCode(3000);
    /// The chat server took too long.
    pub const TIMEOUT: ErrorCode = ErrorCode(5000);
    /// No chat server can take the chat.
    pub const NO_SERVER: ErrorCode = ErrorCode(5001);
    /// The request body is not valid JSON or not a known event.
    pub const BAD_JSON: ErrorCode = ErrorCode(5003);
    /// The chat server disconnected.
    pub const DISCONNECTED: ErrorCode = ErrorCode(5004);
    /// The chat does not exist, has ended, or belongs to another client.
    pub const CHAT_NOT_FOUND: ErrorCode = ErrorCode(5005);
    /// The launch point is unknown.
    pub const LAUNCH_POINT_NOT_FOUND: ErrorCode = ErrorCode(5006);
    /// An internal server error.
    pub const INTERNAL: ErrorCode = ErrorCode(5500);
    /// An upload over the size limit.
    pub const UPLOAD_TOO_LARGE: ErrorCode = ErrorCode(5501);
    /// No such file.
    pub const FILE_NOT_FOUND: ErrorCode = ErrorCode(5502);
    /// A second poll while one is held for the same chat.
    pub const TOO_MANY_POLLS: ErrorCode = ErrorCode(5509);
    /// A poll that found no events, on servers that answer so.
    pub const NO_EVENTS: ErrorCode = ErrorCode(5511);
    /// A file operation failed.
    pub const FILE_ERROR: ErrorCode = ErrorCode(5558);
    /// An unspecified server error.
    pub const UNSPECIFIED: ErrorCode = ErrorCode(5955);
    /// No CRM case is attached to the chat.
    pub const NO_CASE: ErrorCode = ErrorCode(5601);
    /// The CRM refused.
    pub const CRM_ERROR: ErrorCode = ErrorCode(5602);
    /// Too many parameters, such as two push tokens.
    pub const TOO_MANY_PARAMETERS: ErrorCode = ErrorCode(5603);

    /// The message a server sends with this code.
    pub fn message(self) -> &'static str {
        match self.0 {
            1000 => "Missing or invalid tenantUrl",
            2000 => "Authorization header is missing",
            2001 => "Authorization parameter format is incorrect",
            2002 => "Authorization scheme is incorrect",
            2003 => "Authorization parameter is missing: appId",
            2004 => "Authorization parameter is missing: clientId",
            3000 => "Missing or invalid application unique id",
            5000 => "Timeout - chat server takes too long to respond",
            5001 => "No server is available to accept chat connection",
            5003 => "Error decoding JSON request body",
            5004 => "Chat server disconnected",
            5005 => "Chat session is not found",
            5006 => "Mobile Launch Point (application) is not found",
            5500 => "Internal server error",
            5501 => "Upload size limit exceeded",
            5502 => "File not found",
            5509 => "Too many concurrent poll requests for the same session",
            5511 => "No events",
            5558 => "File operation error",
            5601 => "No case is specified for this session.",
            5602 => "CRM server responded with error.",
            5603 => "Too many parameters.",
            _ => "Unspecified server error",
        }
    }

    /// The HTTP status a server answers with for this code.
    ///
    /// Authorization failures are 403 on v2 and 401 on v1, and a second poll
    /// is 429 on v2 and 400 on v1; the caller passes the version's choice
    /// through `auth_status` and `v2`. The rest follow the documented method
    /// error lists where they exist and a plain mapping otherwise.
    pub fn status(self, auth_status: u16, v2: bool) -> u16 {
        match self.0 {
            1000..=2004 | 3000 => auth_status,
            5000 | 5001 | 5004 => 503,
            5003 | 5501 => 400,
            5005 | 5006 | 5502 => 404,
            5509 if v2 => 429,
            5509 => 400,
            5601 | 5603 => 406,
            _ => 500,
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = string_or_number(d)?;
        text.trim()
            .parse()
            .map(ErrorCode)
            .map_err(|_| serde::de::Error::custom(format!("error_code {text:?} is not a number")))
    }
}

/// The JSON body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The API error code.
    pub error_code: ErrorCode,
    /// Human-readable text; not stable across server versions.
    #[serde(default)]
    pub error_message: String,
}

impl ErrorBody {
    /// The body for a code with its standard message.
    pub fn new(code: ErrorCode) -> Self {
        ErrorBody {
            error_code: code,
            error_message: code.message().to_owned(),
        }
    }

    /// The body for a code with a message that says more.
    pub fn with_detail(code: ErrorCode, detail: impl std::fmt::Display) -> Self {
        ErrorBody {
            error_code: code,
            error_message: format!("{}: {detail}", code.message()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_round_trips_with_a_string_code() {
        let body = ErrorBody::new(ErrorCode::CHAT_NOT_FOUND);
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(
            text,
            r#"{"error_code":"5005","error_message":"Chat session is not found"}"#
        );
        assert_eq!(serde_json::from_str::<ErrorBody>(&text).unwrap(), body);
    }

    #[test]
    fn error_code_is_read_from_a_number_too() {
        let body: ErrorBody = serde_json::from_str(r#"{"error_code": 5509}"#).unwrap();
        assert_eq!(body.error_code, ErrorCode::TOO_MANY_POLLS);
        assert!(serde_json::from_str::<ErrorBody>(r#"{"error_code":"x"}"#).is_err());
    }

    #[test]
    fn statuses_follow_the_version() {
        assert_eq!(ErrorCode::TOO_MANY_POLLS.status(403, true), 429);
        assert_eq!(ErrorCode::TOO_MANY_POLLS.status(401, false), 400);
        assert_eq!(ErrorCode::AUTH_MISSING.status(401, false), 401);
        assert_eq!(ErrorCode::CHAT_NOT_FOUND.status(403, true), 404);
        assert_eq!(ErrorCode::NO_SERVER.status(403, true), 503);
        assert_eq!(ErrorCode::NO_CASE.status(403, true), 406);
    }
}
