//! Methods, verbs and paths of the API, in both directions: building a path
//! for a request, and recognising one in the mock's router.

use std::fmt;

/// The two URL generations. v2 is a superset of v1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum ApiVersion {
    /// `/clientweb/api/v1`: auth errors are 401, a second poll is 400.
    V1,
    /// `/clientweb/api/v2`: auth errors are 403, a second poll is 429.
    #[default]
    V2,
}

impl ApiVersion {
    /// The path prefix, without a trailing slash.
    pub fn prefix(self) -> &'static str {
        match self {
            ApiVersion::V1 => "/clientweb/api/v1",
            ApiVersion::V2 => "/clientweb/api/v2",
        }
    }

    /// True if and only if this is v2.
    pub fn is_v2(self) -> bool {
        self == ApiVersion::V2
    }
}

/// HTTP verb of a method; kept here so the client and the router agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// GET
    Get,
    /// POST
    Post,
}

/// One API method. The names double as histogram names in results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// Check Availability.
    Availability,
    /// Get Version (v2 only).
    Version,
    /// Get Chat Widget Configuration.
    Configuration,
    /// Expected Parameters.
    Parameters,
    /// Get ICE Servers.
    IceServers,
    /// Request Chat.
    RequestChat,
    /// Get Active Chat.
    ActiveChat,
    /// Send Events.
    SendEvents,
    /// Get New Chat Events (the long poll).
    PollEvents,
    /// Get Chat History.
    History,
    /// Upload File.
    UploadFile,
    /// Get File.
    GetFile,
    /// Get Agent Profile Photo.
    ProfilePhoto,
    /// Mobile Notification Subscription (v2 only).
    Notifications,
    /// Get Case History (v2 only).
    CaseHistory,
    /// Close Case (v2 only).
    CloseCase,
    /// Request SMS Chat Session (v1 only): starts an SMS conversation with
    /// a phone number instead of a chat.
    RequestSms,
}

impl Endpoint {
    /// Every method, in the order reports list them.
    pub const ALL: [Endpoint; 17] = [
        Endpoint::Availability,
        Endpoint::Version,
        Endpoint::Configuration,
        Endpoint::Parameters,
        Endpoint::IceServers,
        Endpoint::RequestChat,
        Endpoint::ActiveChat,
        Endpoint::SendEvents,
        Endpoint::PollEvents,
        Endpoint::History,
        Endpoint::UploadFile,
        Endpoint::GetFile,
        Endpoint::ProfilePhoto,
        Endpoint::Notifications,
        Endpoint::CaseHistory,
        Endpoint::CloseCase,
        Endpoint::RequestSms,
    ];

    /// The stable name used in results, thresholds and logs.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Availability => "availability",
            Endpoint::Version => "version",
            Endpoint::Configuration => "configuration",
            Endpoint::Parameters => "parameters",
            Endpoint::IceServers => "iceservers",
            Endpoint::RequestChat => "request_chat",
            Endpoint::ActiveChat => "active_chat",
            Endpoint::SendEvents => "send_events",
            Endpoint::PollEvents => "poll_events",
            Endpoint::History => "history",
            Endpoint::UploadFile => "upload_file",
            Endpoint::GetFile => "get_file",
            Endpoint::ProfilePhoto => "profile_photo",
            Endpoint::Notifications => "notifications",
            Endpoint::CaseHistory => "case_history",
            Endpoint::CloseCase => "close_case",
            Endpoint::RequestSms => "request_sms",
        }
    }

    /// The endpoint with this result name.
    pub fn from_name(name: &str) -> Option<Endpoint> {
        Endpoint::ALL.into_iter().find(|e| e.name() == name)
    }

    /// Position in [`Endpoint::ALL`], for array-indexed recorders.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The HTTP verb.
    pub fn verb(self) -> Verb {
        match self {
            Endpoint::RequestChat
            | Endpoint::SendEvents
            | Endpoint::UploadFile
            | Endpoint::Notifications
            | Endpoint::CloseCase
            | Endpoint::RequestSms => Verb::Post,
            _ => Verb::Get,
        }
    }

    /// True if and only if the method exists only under v2.
    pub fn is_v2_only(self) -> bool {
        matches!(
            self,
            Endpoint::Version
                | Endpoint::Notifications
                | Endpoint::CaseHistory
                | Endpoint::CloseCase
        )
    }

    /// True if and only if the method exists only under v1.
    pub fn is_v1_only(self) -> bool {
        self == Endpoint::RequestSms
    }

    /// True if and only if the method exists under `version`'s prefix.
    pub fn exists_in(self, version: ApiVersion) -> bool {
        match version {
            ApiVersion::V1 => !self.is_v2_only(),
            ApiVersion::V2 => !self.is_v1_only(),
        }
    }

    /// Builds the path (no query) for this method.
    ///
    /// `chat_id` is used by the chat-scoped methods and `item_id` by Get
    /// File (the file id) and Get Agent Profile Photo (the party id); the
    /// others ignore them. Case History and Close Case take the chat-scoped
    /// form the SDKs use.
    pub fn path(self, version: ApiVersion, chat_id: &str, item_id: &str) -> String {
        let p = version.prefix();
        match self {
            Endpoint::Availability => format!("{p}/availability"),
            Endpoint::Version => format!("{p}/version"),
            Endpoint::Configuration => format!("{p}/configuration"),
            Endpoint::Parameters => format!("{p}/parameters"),
            Endpoint::IceServers => format!("{p}/iceservers"),
            Endpoint::RequestChat => format!("{p}/chats"),
            Endpoint::ActiveChat => format!("{p}/chats/active"),
            Endpoint::SendEvents | Endpoint::PollEvents => format!("{p}/chats/{chat_id}/events"),
            Endpoint::History => format!("{p}/chats/{chat_id}/history"),
            Endpoint::UploadFile => format!("{p}/files"),
            Endpoint::GetFile => format!("{p}/chats/{chat_id}/files/{item_id}"),
            Endpoint::ProfilePhoto => format!("{p}/chats/{chat_id}/profilephotos/{item_id}"),
            Endpoint::Notifications => format!("{p}/chats/{chat_id}/notifications"),
            Endpoint::CaseHistory => format!("{p}/chats/{chat_id}/casehistory"),
            Endpoint::CloseCase => format!("{p}/chats/{chat_id}/closecase"),
            Endpoint::RequestSms => format!("{p}/requestsms"),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request path recognised as an API method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route<'a> {
    /// Which prefix the path used.
    pub version: ApiVersion,
    /// The method.
    pub endpoint: Endpoint,
    /// The chat id segment, for chat-scoped methods.
    pub chat_id: Option<&'a str>,
    /// The file id (Get File) or party id (Get Agent Profile Photo).
    pub item_id: Option<&'a str>,
}

/// Why a path is not a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteError {
    /// Not under either API prefix, or an unknown method path.
    NotFound,
    /// A known path with the other verb.
    WrongVerb,
}

impl<'a> Route<'a> {
    /// Recognises `path` (without query) for `verb`.
    ///
    /// A method under the prefix of a generation that lacks it (a v2-only
    /// one under v1, Request SMS under v2) is `NotFound`, as on a real
    /// server. Case History and Close Case are accepted in both the
    /// Postman form (no chat id) and the SDK form (under the chat).
    pub fn parse(verb: Verb, path: &'a str) -> Result<Route<'a>, RouteError> {
        let (version, rest) = if let Some(rest) = path.strip_prefix("/clientweb/api/v2/") {
            (ApiVersion::V2, rest)
        } else if let Some(rest) = path.strip_prefix("/clientweb/api/v1/") {
            (ApiVersion::V1, rest)
        } else {
            return Err(RouteError::NotFound);
        };

        let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let (endpoint, chat_id, item_id) = match_segments(verb, &segments)?;
        if !endpoint.exists_in(version) {
            return Err(RouteError::NotFound);
        }
        Ok(Route {
            version,
            endpoint,
            chat_id,
            item_id,
        })
    }
}

type Matched<'a> = (Endpoint, Option<&'a str>, Option<&'a str>);

fn match_segments<'a>(verb: Verb, segments: &[&'a str]) -> Result<Matched<'a>, RouteError> {
    use Endpoint as E;
    let (endpoint, chat, item) = match segments {
        ["availability"] => (E::Availability, None, None),
        ["version"] => (E::Version, None, None),
        ["configuration"] => (E::Configuration, None, None),
        ["parameters"] => (E::Parameters, None, None),
        ["iceservers"] => (E::IceServers, None, None),
        ["files"] => (E::UploadFile, None, None),
        ["casehistory"] => (E::CaseHistory, None, None),
        ["closecase"] => (E::CloseCase, None, None),
        ["chats"] => (E::RequestChat, None, None),
        ["requestsms"] => (E::RequestSms, None, None),
        ["chats", "active"] => (E::ActiveChat, None, None),
        ["chats", id, "events"] if verb == Verb::Post => (E::SendEvents, Some(*id), None),
        ["chats", id, "events"] => (E::PollEvents, Some(*id), None),
        ["chats", id, "history"] => (E::History, Some(*id), None),
        ["chats", id, "notifications"] => (E::Notifications, Some(*id), None),
        ["chats", id, "casehistory"] => (E::CaseHistory, Some(*id), None),
        ["chats", id, "closecase"] => (E::CloseCase, Some(*id), None),
        ["chats", id, "files", file] => (E::GetFile, Some(*id), Some(*file)),
        ["chats", id, "profilephotos", party] => (E::ProfilePhoto, Some(*id), Some(*party)),
        _ => return Err(RouteError::NotFound),
    };
    if endpoint.verb() != verb {
        return Err(RouteError::WrongVerb);
    }
    if chat.is_some_and(str::is_empty) || item.is_some_and(str::is_empty) {
        return Err(RouteError::NotFound);
    }
    Ok((endpoint, chat, item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_parses_back_to_its_endpoint() {
        for version in [ApiVersion::V1, ApiVersion::V2] {
            for endpoint in Endpoint::ALL {
                let path = endpoint.path(version, "c-1", "f-2");
                let parsed = Route::parse(endpoint.verb(), &path);
                if !endpoint.exists_in(version) {
                    assert_eq!(parsed, Err(RouteError::NotFound), "{path}");
                    continue;
                }
                let route = parsed.unwrap_or_else(|e| panic!("{path}: {e:?}"));
                assert_eq!(
                    (route.version, route.endpoint),
                    (version, endpoint),
                    "{path}"
                );
            }
        }
    }

    #[test]
    fn paths_match_the_documentation() {
        let v2 = ApiVersion::V2;
        assert_eq!(
            Endpoint::RequestChat.path(v2, "", ""),
            "/clientweb/api/v2/chats"
        );
        assert_eq!(
            Endpoint::PollEvents.path(ApiVersion::V1, "abc", ""),
            "/clientweb/api/v1/chats/abc/events"
        );
        assert_eq!(
            Endpoint::ProfilePhoto.path(v2, "abc", "p1"),
            "/clientweb/api/v2/chats/abc/profilephotos/p1"
        );
        assert_eq!(
            Endpoint::RequestSms.path(ApiVersion::V1, "", ""),
            "/clientweb/api/v1/requestsms"
        );
    }

    #[test]
    fn request_sms_exists_only_under_v1() {
        let v1 = Route::parse(Verb::Post, "/clientweb/api/v1/requestsms").unwrap();
        assert_eq!(v1.endpoint, Endpoint::RequestSms);
        assert_eq!(
            Route::parse(Verb::Post, "/clientweb/api/v2/requestsms"),
            Err(RouteError::NotFound)
        );
        assert!(!Endpoint::RequestSms.exists_in(ApiVersion::V2));
        assert!(!Endpoint::Version.exists_in(ApiVersion::V1));
    }

    #[test]
    fn verb_tells_send_from_poll() {
        let path = "/clientweb/api/v2/chats/x/events";
        assert_eq!(
            Route::parse(Verb::Post, path).unwrap().endpoint,
            Endpoint::SendEvents
        );
        let poll = Route::parse(Verb::Get, path).unwrap();
        assert_eq!(
            (poll.endpoint, poll.chat_id),
            (Endpoint::PollEvents, Some("x"))
        );
    }

    #[test]
    fn case_methods_accept_the_postman_form() {
        let route = Route::parse(Verb::Get, "/clientweb/api/v2/casehistory").unwrap();
        assert_eq!(
            (route.endpoint, route.chat_id),
            (Endpoint::CaseHistory, None)
        );
        let route = Route::parse(Verb::Post, "/clientweb/api/v2/closecase").unwrap();
        assert_eq!(route.endpoint, Endpoint::CloseCase);
    }

    #[test]
    fn unknown_paths_and_wrong_verbs_are_told_apart() {
        assert_eq!(Route::parse(Verb::Get, "/other"), Err(RouteError::NotFound));
        assert_eq!(
            Route::parse(Verb::Get, "/clientweb/api/v2/nope"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::parse(Verb::Get, "/clientweb/api/v1/version"),
            Err(RouteError::NotFound)
        );
        assert_eq!(
            Route::parse(Verb::Post, "/clientweb/api/v2/availability"),
            Err(RouteError::WrongVerb)
        );
        assert_eq!(
            Route::parse(Verb::Get, "/clientweb/api/v2/chats//events"),
            Err(RouteError::NotFound)
        );
    }

    #[test]
    fn names_round_trip() {
        for endpoint in Endpoint::ALL {
            assert_eq!(Endpoint::from_name(endpoint.name()), Some(endpoint));
            assert_eq!(Endpoint::ALL[endpoint.index()], endpoint);
        }
        assert_eq!(Endpoint::from_name("nope"), None);
    }
}
