//! From an HTTP request to a response: the stats page, routing, the tenant
//! and authorization checks, then the method's handler.
//!
//! The fault layer (`faults`) wraps this: it holds, refuses or reshapes
//! requests around [`handle`].

use std::convert::Infallible;
use std::sync::Arc;

use http::header::SET_COOKIE;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode};
use hyper::body::{Body, Incoming};

use crate::api::Route;
use crate::api::paths::{RouteError, Verb};

use super::center::Center;
use super::handlers::{self, Call};
use super::reply::{self, MockBody};
use super::request::{identify, read_body};
use super::stats::STATS_PATH;

/// Answers one request; every failure is an HTTP response, never an error.
pub(crate) async fn handle(
    center: Arc<Center>,
    request: Request<Incoming>,
) -> Result<Response<MockBody>, Infallible> {
    let (parts, body) = request.into_parts();
    Ok(respond(&center, &parts, body).await)
}

async fn respond(center: &Center, parts: &Parts, body: Incoming) -> Response<MockBody> {
    if parts.uri.path() == STATS_PATH {
        return reply::json_of(&center.stats.snapshot());
    }
    let verb = match parts.method {
        Method::GET => Verb::Get,
        Method::POST => Verb::Post,
        _ => return reply::plain_status(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST"),
    };
    let route = match Route::parse(verb, parts.uri.path()) {
        Ok(route) => route,
        Err(RouteError::NotFound) => {
            return reply::plain_status(StatusCode::NOT_FOUND, "no API method at this path");
        }
        Err(RouteError::WrongVerb) => {
            return reply::plain_status(StatusCode::METHOD_NOT_ALLOWED, "wrong verb for this path");
        }
    };

    let auth_status = center.config.auth_status;
    let caller = match identify(parts) {
        Ok(caller) => caller,
        Err(err) => return err.respond(route.version, auth_status),
    };
    let set_cookie = caller.set_cookie.clone();
    let call = Call {
        center,
        route,
        caller,
    };
    let result = match verb {
        Verb::Get => {
            discard(center, body).await;
            handlers::get(&call).await
        }
        Verb::Post => handlers::post(&call, parts, body).await,
    };

    let mut response = result.unwrap_or_else(|err| err.respond(route.version, auth_status));
    if let Some(cookie) = set_cookie {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    tracing::trace!(endpoint = %route.endpoint, status = response.status().as_u16(), "answered");
    response
}

/// Reads and drops a GET body, which some clients send, so that an
/// HTTP/1.1 connection stays usable for the next request.
async fn discard(center: &Center, body: Incoming) {
    if !body.is_end_stream() {
        let config = &center.config;
        let _ = read_body(body, config.max_json_body, config.body_timeout).await;
    }
}
