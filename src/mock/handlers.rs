//! One function per API method, each taking an identified caller and
//! returning a response or an [`ApiError`].

use std::sync::Arc;

use bytes::Bytes;
use http::Response;
use http::header::CONTENT_TYPE;
use http::request::Parts;
use hyper::body::Incoming;

use crate::api::bodies::{
    ActiveChat, Availability, CaseHistory, CaseSession, ChatCreated, FileUploaded,
    NotificationSubscription, RequestChat, ServiceState, SmsRequested,
};
use crate::api::events::{ChatState, ClientEvent, EventsBody};
use crate::api::lenient::{Flag, Seconds};
use crate::api::{ErrorCode, Route};

use super::center::Center;
use super::chat::Chat;
use super::conversation::LogFull;
use super::files::StoredFile;
use super::fixed::{PHOTO, PHOTO_TYPE};
use super::lifecycle::agent_party;
use super::multipart;
use super::poll::PollOutcome;
use super::reply::{self, ApiError, MockBody};
use super::request::{BodyError, Caller, json_body_error, read_body, read_json, slow_body};

/// Room for the multipart framing around an upload's file.
const MULTIPART_OVERHEAD: usize = 64 * 1024;

/// A request whose caller passed the tenant and authorization checks.
pub(crate) struct Call<'a> {
    pub center: &'a Center,
    pub route: Route<'a>,
    pub caller: Caller,
}

type Reply = Result<Response<MockBody>, ApiError>;

/// Answers a GET method; its body, if any, was already discarded.
pub(crate) async fn get(call: &Call<'_>) -> Reply {
    use crate::api::Endpoint as E;
    let fixed = &call.center.fixed;
    match call.route.endpoint {
        E::Availability => Ok(availability(call.center)),
        E::Version => Ok(reply::json(fixed.version.clone())),
        E::Configuration => Ok(reply::json(fixed.configuration.clone())),
        E::Parameters => Ok(reply::json(fixed.parameters.clone())),
        E::IceServers => Ok(reply::json(fixed.ice_servers.clone())),
        E::ActiveChat => active_chat(call),
        E::PollEvents => poll_events(call).await,
        E::History => history(call),
        E::GetFile => get_file(call),
        E::ProfilePhoto => profile_photo(call),
        E::CaseHistory => case_history(call),
        other => Err(ApiError::detail(
            ErrorCode::UNSPECIFIED,
            format!("{other} is not a GET"),
        )),
    }
}

/// Answers a POST method.
pub(crate) async fn post(call: &Call<'_>, parts: &Parts, body: Incoming) -> Reply {
    use crate::api::Endpoint as E;
    match call.route.endpoint {
        E::RequestChat => request_chat(call, body).await,
        E::RequestSms => request_sms(call, body).await,
        E::SendEvents => send_events(call, body).await,
        E::UploadFile => upload_file(call, parts, body).await,
        E::Notifications => notifications(call, body).await,
        E::CloseCase => close_case(call, body).await,
        other => Err(ApiError::detail(
            ErrorCode::UNSPECIFIED,
            format!("{other} is not a POST"),
        )),
    }
}

fn availability(center: &Center) -> Response<MockBody> {
    if center.config.closed {
        return reply::json(center.fixed.closed.clone());
    }
    match center.dispatch.ewt_now() {
        0 => reply::json(center.fixed.open_now.clone()),
        ewt => reply::json_of(&Availability {
            chat: ServiceState::Available,
            ewt: Some(Seconds(ewt)),
        }),
    }
}

/// The caller's chat named in the path, ended or not.
fn own_chat(call: &Call<'_>) -> Result<Arc<Chat>, ApiError> {
    let id = call.route.chat_id.unwrap_or("");
    call.center
        .store
        .chat(id)
        .filter(|chat| chat.owner == call.caller.key)
        .ok_or(ApiError::new(ErrorCode::CHAT_NOT_FOUND))
}

/// The caller's chat named in the path, if it has not ended.
fn live_chat(call: &Call<'_>) -> Result<Arc<Chat>, ApiError> {
    let chat = own_chat(call)?;
    if chat.lock().ended {
        return Err(ApiError::new(ErrorCode::CHAT_NOT_FOUND));
    }
    Ok(chat)
}

async fn request_chat(call: &Call<'_>, body: Incoming) -> Reply {
    let config = &call.center.config;
    let bytes = read_body(body, config.max_json_body, config.body_timeout)
        .await
        .map_err(json_body_error)?;
    let request: RequestChat = if bytes.iter().all(u8::is_ascii_whitespace) {
        RequestChat::default()
    } else {
        serde_json::from_slice(&bytes).map_err(bad_json)?
    };

    let version = call.route.version;
    let phone = request.phone_number.filter(|p| !p.is_empty());
    let requested = call.center.request_chat(&call.caller.key, version, phone)?;
    let chat = &requested.chat;
    let state = if requested.is_new {
        ChatState::Queued
    } else {
        chat.lock().state
    };
    Ok(reply::json_of(&ChatCreated {
        chat_id: chat.id.to_string(),
        state,
        ewt: Some(Seconds(requested.ewt)),
        is_new_chat: Flag(requested.is_new),
        phone_number: chat.phone_number.clone(),
    }))
}

/// Starts an SMS conversation, which lives outside the chat API: the mock
/// checks the body and answers success, and no chat is made.
async fn request_sms(call: &Call<'_>, body: Incoming) -> Reply {
    let config = &call.center.config;
    let bytes = read_body(body, config.max_json_body, config.body_timeout)
        .await
        .map_err(json_body_error)?;
    let request: RequestChat = serde_json::from_slice(&bytes).map_err(bad_json)?;
    if request.phone_number.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::detail(
            ErrorCode::BAD_JSON,
            "phone_number is required: the customer's SMS number",
        ));
    }
    Ok(reply::json_of(&SmsRequested::started()))
}

fn active_chat(call: &Call<'_>) -> Reply {
    let chat = call.center.store.active_chat(&call.caller.key);
    let chat = chat.ok_or(ApiError::new(ErrorCode::CHAT_NOT_FOUND))?;
    let state = chat.lock().state;
    Ok(reply::json_of(&ActiveChat {
        chat_id: chat.id.to_string(),
        state,
        ewt: Some(Seconds(call.center.current_ewt(&chat))),
        phone_number: chat.phone_number.clone(),
    }))
}

async fn send_events(call: &Call<'_>, body: Incoming) -> Reply {
    let chat = live_chat(call)?;
    let config = &call.center.config;
    let sent: EventsBody<ClientEvent> =
        read_json(body, config.max_json_body, config.body_timeout).await?;
    let version = call.route.version;
    if let Some(bad) = sent
        .events
        .iter()
        .find(|e| !e.is_known() || (e.is_v2_only() && !version.is_v2()))
    {
        let detail = format!(
            "client event {:?} is not accepted on {}; send a documented client event",
            bad.name(),
            version.prefix()
        );
        return Err(ApiError::detail(ErrorCode::BAD_JSON, detail));
    }
    call.center
        .customer_events(&chat, sent.events)
        .map_err(|full| log_full(&chat, full))?;
    if version.is_v2() {
        Ok(reply::empty())
    } else {
        Ok(reply::json(Bytes::from_static(b"{\"events\":[]}")))
    }
}

/// Events that would take a chat's log past the mock's cap. The API
/// names no code for it, so it is an unspecified server error (500) whose
/// message says what to do.
fn log_full(chat: &Chat, full: LogFull) -> ApiError {
    let LogFull { held, cap } = full;
    let detail = format!(
        "chat {} already holds {held} events and the mock keeps at most {cap} per chat, \
         answers still due included; end the chat and request a new one",
        chat.id
    );
    ApiError::detail(ErrorCode::UNSPECIFIED, detail)
}

async fn poll_events(call: &Call<'_>) -> Reply {
    let chat = own_chat(call)?;
    match call.center.poll(&chat).await {
        PollOutcome::Events(body) => Ok(reply::json(body)),
        PollOutcome::Ended => Err(ApiError::new(ErrorCode::CHAT_NOT_FOUND)),
        PollOutcome::Busy => Err(ApiError::new(ErrorCode::TOO_MANY_POLLS)),
    }
}

fn history(call: &Call<'_>) -> Reply {
    let chat = live_chat(call)?;
    let body = chat.lock().history();
    Ok(reply::json(body))
}

async fn upload_file(call: &Call<'_>, parts: &Parts, body: Incoming) -> Reply {
    let max = call.center.config.max_file_bytes;
    let within = call.center.config.body_timeout;
    let bytes = read_body(body, max + MULTIPART_OVERHEAD, within)
        .await
        .map_err(upload_error)?;
    let content_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let part = multipart::file_part(content_type.unwrap_or(""), &bytes)
        .map_err(|err| ApiError::detail(ErrorCode::BAD_JSON, err.to_string()))?;
    if part.data.len() > max {
        return Err(too_large(max));
    }

    let name = part.file_name.unwrap_or_else(|| "file".to_owned());
    let content_type = part
        .content_type
        .unwrap_or_else(|| "application/octet-stream".into());
    let file = StoredFile {
        content_type,
        data: part.data,
    };
    let file_id = call.center.files.put(file);
    Ok(reply::json_of(&FileUploaded {
        file_id,
        file_name: Some(name),
    }))
}

fn get_file(call: &Call<'_>) -> Reply {
    live_chat(call)?;
    let id = call.route.item_id.unwrap_or("");
    let file = call
        .center
        .files
        .get(id)
        .ok_or(ApiError::new(ErrorCode::FILE_NOT_FOUND))?;
    Ok(reply::raw(&file.content_type, file.data.clone()))
}

fn profile_photo(call: &Call<'_>) -> Reply {
    let chat = live_chat(call)?;
    let agent = chat.lock().agent;
    let party = call.route.item_id.unwrap_or("");
    if agent.is_none_or(|a| !agent_party(a).eq_ignore_ascii_case(party)) {
        return Err(ApiError::detail(
            ErrorCode::FILE_NOT_FOUND,
            "no such agent in this chat",
        ));
    }
    Ok(reply::raw(PHOTO_TYPE, Bytes::from_static(PHOTO)))
}

async fn notifications(call: &Call<'_>, body: Incoming) -> Reply {
    live_chat(call)?;
    let config = &call.center.config;
    let subscription: NotificationSubscription =
        read_json(body, config.max_json_body, config.body_timeout).await?;
    if subscription.token_kinds() > 1 {
        let detail = "send one kind of push token per call";
        return Err(ApiError::detail(ErrorCode::TOO_MANY_PARAMETERS, detail));
    }
    Ok(reply::json(Bytes::from_static(b"{}")))
}

/// The chat a case method is about: the one in the path, or the caller's
/// active chat for the path form without a chat id.
fn case_chat(call: &Call<'_>) -> Result<(Arc<Chat>, String), ApiError> {
    let chat = match call.route.chat_id {
        Some(_) => live_chat(call)?,
        None => call
            .center
            .store
            .active_chat(&call.caller.key)
            .ok_or(ErrorCode::CHAT_NOT_FOUND)?,
    };
    let case_id = chat.lock().case_id.clone().ok_or(ErrorCode::NO_CASE)?;
    Ok((chat, case_id))
}

fn case_history(call: &Call<'_>) -> Reply {
    let (chat, _) = case_chat(call)?;
    let events = chat.lock().events();
    let session = CaseSession {
        chat_id: chat.id.to_string(),
        created_time: chat.created,
        events,
    };
    Ok(reply::json_of(&CaseHistory {
        sessions: vec![session],
    }))
}

async fn close_case(call: &Call<'_>, body: Incoming) -> Reply {
    // Android sends an events body here and iOS none: neither matters.
    let config = &call.center.config;
    let _ = read_body(body, config.max_json_body, config.body_timeout).await;
    case_chat(call)?;
    Ok(reply::json(Bytes::from_static(b"{}")))
}

fn upload_error(err: BodyError) -> ApiError {
    match err {
        BodyError::TooLarge(limit) => too_large(limit),
        BodyError::Broken(reason) => ApiError::detail(ErrorCode::BAD_JSON, reason),
        BodyError::TimedOut(within) => slow_body(within),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::detail(
        ErrorCode::UPLOAD_TOO_LARGE,
        format!("body over the {limit}-byte limit; send a smaller one"),
    )
}

fn bad_json(err: serde_json::Error) -> ApiError {
    ApiError::detail(ErrorCode::BAD_JSON, err.to_string())
}
