//! The Bright Pattern Mobile/Web chat API as Rust types.
//!
//! This module is the one source of protocol truth: the load generator
//! builds its requests from it and the mock contact center routes and
//! answers with it, so a path, a header or an event name is spelled here
//! and nowhere else. Parsing is lenient wherever real servers and clients
//! disagree (numbers sent as strings, timestamps in seconds or
//! milliseconds), and an event of a type we do not know is kept as raw
//! JSON rather than rejected.

pub mod auth;
pub mod bodies;
pub mod error;
pub mod events;
pub mod lenient;
pub mod paths;

pub use auth::{AUTH_SCHEME, AuthError, Credentials};
pub use error::{ErrorBody, ErrorCode};
pub use events::{ClientEvent, EventsBody, ServerEvent};
pub use paths::{ApiVersion, Endpoint, Route};

/// Query parameter that names the tenant on every call.
pub const TENANT_QUERY: &str = "tenantUrl";

/// `User-Agent` that mobile clients are told to send.
pub const MOBILE_USER_AGENT: &str = "MobileClient";

/// The `clientId` value that makes the server identify a browser client by
/// cookie instead of by the id itself.
pub const WEBCHAT_CLIENT_ID: &str = "WebChat";

/// Cookie the mock sets to identify a `WebChat` client. The real name is not
/// documented; any client that replays its cookies works with it.
pub const WEBCHAT_COOKIE: &str = "bp_webchat_id";
