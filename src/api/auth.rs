//! The `Authorization` header: `MOBILE-API-140-327-PLAIN appId="…", clientId="…"`.
//!
//! Formatting always quotes the values, as the documentation does. Parsing
//! accepts the quoted form and the unquoted one that Bright Pattern's own
//! SDKs send, and names each defect with the error code a server answers.

use std::fmt;

use super::error::ErrorCode;

/// The scheme token. It carries no secret: the header only identifies the
/// application entry and the client installation.
pub const AUTH_SCHEME: &str = "MOBILE-API-140-327-PLAIN";

/// Who is calling: the chat scenario entry and one client installation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Credentials {
    /// The unique identifier of the messaging scenario entry.
    pub app_id: String,
    /// One client installation: a UUID, or `WebChat` for cookie mode.
    pub client_id: String,
}

impl Credentials {
    /// Credentials for one app entry and client.
    pub fn new(app_id: impl Into<String>, client_id: impl Into<String>) -> Self {
        Credentials {
            app_id: app_id.into(),
            client_id: client_id.into(),
        }
    }

    /// The header value, with both parameters quoted.
    pub fn header_value(&self) -> String {
        format!(
            "{AUTH_SCHEME} appId=\"{}\", clientId=\"{}\"",
            self.app_id, self.client_id
        )
    }

    /// Parses a header value in the quoted or the unquoted form.
    ///
    /// Parameters are split on commas and trimmed; keys are case-sensitive
    /// and unknown keys are ignored, so a client that sends more than the
    /// two documented parameters still gets through.
    pub fn parse(header: Option<&str>) -> Result<Credentials, AuthError> {
        let header = header.map(str::trim).filter(|h| !h.is_empty());
        let header = header.ok_or(AuthError::Missing)?;
        let (scheme, params) = header
            .split_once(char::is_whitespace)
            .unwrap_or((header, ""));
        if scheme != AUTH_SCHEME {
            return Err(AuthError::Scheme);
        }

        let mut app_id = None;
        let mut client_id = None;
        for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = param.split_once('=').ok_or(AuthError::Format)?;
            let value = unquote(value.trim()).ok_or(AuthError::Format)?;
            match key.trim() {
                "appId" => app_id = Some(value),
                "clientId" => client_id = Some(value),
                _ => {}
            }
        }

        let app_id = app_id
            .filter(|v| !v.is_empty())
            .ok_or(AuthError::AppIdMissing)?;
        let client_id = client_id
            .filter(|v| !v.is_empty())
            .ok_or(AuthError::ClientIdMissing)?;
        Ok(Credentials::new(app_id, client_id))
    }
}

/// Strips one pair of double quotes; a lone quote on one side is a format
/// error, not part of the value.
fn unquote(value: &str) -> Option<&str> {
    match (
        value.starts_with('"'),
        value.len() >= 2 && value.ends_with('"'),
    ) {
        (true, true) => Some(&value[1..value.len() - 1]),
        (false, false) if !value.ends_with('"') => Some(value),
        _ => None,
    }
}

/// What is wrong with an `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No header, or an empty one.
    Missing,
    /// A parameter is not `key=value` or has unbalanced quotes.
    Format,
    /// The scheme is not `MOBILE-API-140-327-PLAIN`.
    Scheme,
    /// No `appId` parameter.
    AppIdMissing,
    /// No `clientId` parameter.
    ClientIdMissing,
}

impl AuthError {
    /// The API error code a server answers with for this defect.
    pub fn code(self) -> ErrorCode {
        match self {
            AuthError::Missing => ErrorCode::AUTH_MISSING,
            AuthError::Format => ErrorCode::AUTH_FORMAT,
            AuthError::Scheme => ErrorCode::AUTH_SCHEME,
            AuthError::AppIdMissing => ErrorCode::APP_ID_MISSING,
            AuthError::ClientIdMissing => ErrorCode::CLIENT_ID_MISSING,
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code().message())
    }
}

impl std::error::Error for AuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f2c9a1e-2d4b-4c7e-9f00-1a2b3c4d5e6f";

    #[test]
    fn formats_quoted_parameters() {
        let header = Credentials::new("LoadTest", ID).header_value();
        assert_eq!(
            header,
            format!("MOBILE-API-140-327-PLAIN appId=\"LoadTest\", clientId=\"{ID}\"")
        );
    }

    #[test]
    fn parses_what_it_formats() {
        let creds = Credentials::new("LoadTest", ID);
        assert_eq!(Credentials::parse(Some(&creds.header_value())), Ok(creds));
    }

    #[test]
    fn parses_the_unquoted_form_the_sdks_send() {
        let header = format!("MOBILE-API-140-327-PLAIN appId=Android, clientId={ID}");
        assert_eq!(
            Credentials::parse(Some(&header)),
            Ok(Credentials::new("Android", ID))
        );
    }

    #[test]
    fn parses_mixed_quoting_extra_spaces_and_unknown_keys() {
        let header = format!("MOBILE-API-140-327-PLAIN  clientId = {ID} ,appId=\"A\", x=1");
        assert_eq!(
            Credentials::parse(Some(&header)),
            Ok(Credentials::new("A", ID))
        );
    }

    #[test]
    fn names_each_defect_with_its_code() {
        let cases = [
            (None, 2000),
            (Some(""), 2000),
            (Some("Bearer abc"), 2002),
            (Some("MOBILE-API-140-327-PLAIN appId"), 2001),
            (Some("MOBILE-API-140-327-PLAIN appId=\"A, clientId=B"), 2001),
            (Some("MOBILE-API-140-327-PLAIN clientId=B"), 2003),
            (
                Some("MOBILE-API-140-327-PLAIN appId=\"\", clientId=B"),
                2003,
            ),
            (Some("MOBILE-API-140-327-PLAIN appId=A"), 2004),
            (Some("MOBILE-API-140-327-PLAIN"), 2003),
        ];
        for (header, code) in cases {
            let err = Credentials::parse(header).unwrap_err();
            assert_eq!(err.code().0, code, "{header:?}");
        }
    }
}
