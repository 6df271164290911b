//! Faults on demand: the layer between the connection and the mock's
//! request handling, applying the faults of [`MockConfig::faults`].
//!
//! Each request to an API method rolls its [`Plan`] once: how long to
//! hold it (periodic stalls, added latency), an answer that replaces the
//! handler's (an API error, or a reset before anything is read), a new
//! shape for the handler's answer (malformed, truncated, cut, slow) and
//! whether its chat is then ended by the server. The stats page and paths
//! that are no method pass through untouched.
//!
//! A reset is as close to a TCP reset as a hyper service gets: the service
//! fails, and hyper closes an HTTP/1.1 connection at once (the kernel
//! sends RST when request bytes are left unread) or resets the HTTP/2
//! stream, leaving the connection's other streams alone.
//!
//! [`MockConfig::faults`]: crate::mock::MockConfig::faults

mod body;
mod chat_end;
mod plan;
mod stall;

use std::sync::Arc;

use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::api::Route;
use crate::api::paths::Verb;

use super::center::Center;
use super::reply::MockBody;
use super::service;
pub(crate) use body::FaultBody;
use plan::{Plan, Refusal};

/// The error that makes hyper drop a connection mid-request.
#[derive(Debug, thiserror::Error)]
#[error("connection reset by an injected fault")]
pub(crate) struct InjectedReset;

/// Answers one request with the configured faults applied around the
/// handler.
pub(crate) async fn handle(
    center: Arc<Center>,
    request: Request<Incoming>,
) -> Result<Response<FaultBody>, InjectedReset> {
    let Some((plan, chat_id)) = plan_for(&center, &request) else {
        return Ok(handled(center, request).await.map(FaultBody::whole));
    };

    if !plan.hold.is_zero() {
        tokio::time::sleep(plan.hold).await;
    }
    match plan.refusal {
        Some(Refusal::Reset) => return Err(InjectedReset),
        Some(Refusal::Error { status, code }) => return Ok(body::error(status, code)),
        None => {}
    }

    let response = handled(center.clone(), request).await;
    if let (Some(how), Some(id)) = (plan.end_chat, chat_id)
        && response.status().is_success()
    {
        chat_end::end_chat(&center, &id, how);
    }
    match plan.body {
        Some(fault) => Ok(body::reshape(response, fault).await),
        None => Ok(response.map(FaultBody::whole)),
    }
}

/// The plan for a request to an API method and the chat it names; `None`
/// when no fault can touch it.
fn plan_for(center: &Center, request: &Request<Incoming>) -> Option<(Plan, Option<String>)> {
    let faults = &center.config.faults;
    if faults.is_empty() {
        return None;
    }
    let verb = match *request.method() {
        Method::GET => Verb::Get,
        Method::POST => Verb::Post,
        _ => return None,
    };
    let route = Route::parse(verb, request.uri().path()).ok()?;

    let plan = Plan::roll(faults, route.endpoint, stall::wall_time(), &mut rand::rng());
    Some((plan, route.chat_id.map(str::to_owned)))
}

async fn handled(center: Arc<Center>, request: Request<Incoming>) -> Response<MockBody> {
    match service::handle(center, request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
