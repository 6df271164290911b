//! The virtual client: one customer device running chats one after another
//! (closed model) or a single chat (open model), or probing one method in a
//! closed loop.
//!
//! Every step has an intended start: the scheduled arrival, or the end of
//! the previous step plus its think time. Requests are recorded against it,
//! so a slow server or a stalled worker shows in the response time.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;

use super::caller::{Body, Caller, Reply, WorkerCtx};
use super::chat_view::{ChatView, ServerEnd, Wait, sleep_while_running};
use super::control::Phase;
use super::poll::poll_loop;
use crate::api::bodies::{ChatCreated, FileUploaded, RequestChat};
use crate::api::events::EventsRef;
use crate::api::{ClientEvent, Endpoint, EventsBody, ServerEvent};
use crate::metrics::Measure;
use crate::scenario::{CountRange, DurationRange, EndMode, MAX_MESSAGE_LENGTH};

/// How a client's life is bounded.
pub enum Lifetime {
    /// Closed model: chat after chat until the run drains or the driver
    /// retires the client (ramp-down).
    Closed {
        /// Set by the driver to retire this client after its current chat.
        retire: Rc<Cell<bool>>,
    },
    /// Open model: one chat, then leave.
    Open,
}

/// Starts one virtual client on the current worker. It counts as active
/// from this call on, not from its first poll by the executor, so that a
/// worker waiting for its clients never misses one still queued.
pub fn spawn_client(ctx: &Rc<WorkerCtx>, first: Instant, lifetime: Lifetime) {
    let active = Active::new(ctx.clone());
    tokio::task::spawn_local(run_client(active, first, lifetime));
}

/// Holds a client's place in the worker's active count until dropped,
/// whether the client ends normally or is dropped with its worker.
struct Active(Rc<WorkerCtx>);

impl Active {
    fn new(ctx: Rc<WorkerCtx>) -> Active {
        ctx.active_clients.set(ctx.active_clients.get() + 1);
        ctx.metrics.borrow_mut().client_started();
        Active(ctx)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        let clients = &self.0.active_clients;
        clients.set(clients.get().saturating_sub(1));
    }
}

async fn run_client(active: Active, first: Instant, lifetime: Lifetime) {
    // The worker is reached through the caller rather than a local of its
    // own: one pointer less puts the client's task (1 304 bytes) in a
    // smaller 128-byte step of tokio's task cells.
    let caller = Rc::new(Caller::new(active.0.clone()));
    let mut phase = caller.ctx.phase.clone();

    tokio::time::sleep_until(first).await;
    match caller.ctx.scenario.conversation.probe {
        Some(endpoint) => probe(&caller, endpoint, first, &lifetime).await,
        None => chats(&caller, first, &lifetime, &mut phase).await,
    }
    drop(active);
}

fn is_retired(lifetime: &Lifetime) -> bool {
    match lifetime {
        Lifetime::Closed { retire } => retire.get(),
        Lifetime::Open => false,
    }
}

async fn chats(
    caller: &Rc<Caller>,
    first: Instant,
    lifetime: &Lifetime,
    phase: &mut watch::Receiver<Phase>,
) {
    let mut intended = first;
    loop {
        if *phase.borrow() != Phase::Running {
            return;
        }
        let requested = run_chat(caller, intended, phase).await;
        if matches!(lifetime, Lifetime::Open) || is_retired(lifetime) {
            return;
        }

        let LoadPause(mut pause) = LoadPause::draw(&caller.ctx);
        if !requested {
            pause = pause.max(RETRY_REQUEST_CHAT);
        }
        intended = Instant::now() + pause;
        if !sleep_while_running(phase, intended).await {
            return;
        }
    }
}

/// Least wait before a client tries Request Chat again after it failed.
/// Real clients wait too (the web widget retries every 4 s); without it, a
/// target that refuses connections turns every client into a hot loop.
const RETRY_REQUEST_CHAT: Duration = Duration::from_secs(1);

/// The closed model's pause between chats, drawn per chat.
struct LoadPause(Duration);

impl LoadPause {
    fn draw(ctx: &WorkerCtx) -> LoadPause {
        match ctx.scenario.load.model {
            crate::scenario::LoadModel::Closed { pause } => LoadPause(draw_duration(ctx, pause)),
            crate::scenario::LoadModel::Open { .. } => LoadPause(Duration::ZERO),
        }
    }
}

/// Calls one chat-less method: once at the arrival time (open model), or
/// back to back (closed model), each request's intended start being the
/// end of the previous one.
async fn probe(caller: &Caller, endpoint: Endpoint, first: Instant, lifetime: &Lifetime) {
    let path = caller.with_tenant(&endpoint.path(caller.ctx.api(), "", ""));
    if matches!(lifetime, Lifetime::Open) {
        caller
            .call_joined(endpoint, first, &path, Body::empty())
            .await;
        return;
    }
    let mut intended = first;
    while caller.ctx.phase() == Phase::Running && !is_retired(lifetime) {
        caller
            .call_joined(endpoint, intended, &path, Body::empty())
            .await;
        intended = Instant::now();
    }
}

/// How a chat turned out, for the chat counters.
enum ChatEnd {
    Completed,
    Failed,
    /// The server ended it before the customer was done: an outcome of its
    /// own, not an error of the load generator's or the target's.
    EndedByServer,
    Interrupted,
}

/// One chat: pre-chat calls, Request Chat, the conversation with one long
/// poll outstanding throughout, then the end.
async fn run_chat(
    caller: &Rc<Caller>,
    intended: Instant,
    phase: &mut watch::Receiver<Phase>,
) -> bool {
    let ctx = &caller.ctx;
    let next = pre_chat(caller, intended).await;
    // Started means requested: a chat whose Request Chat fails is a started
    // chat that failed, so that started = completed + failed + ended by
    // the run. It is active from then on, so that a run that lets go of
    // its clients mid-request still counts it as ended by the run.
    ctx.metrics.borrow_mut().chat_started();
    ctx.active_chats.set(ctx.active_chats.get() + 1);
    let Some(created) = request_chat(caller, next).await else {
        ctx.active_chats.set(ctx.active_chats.get() - 1);
        ctx.metrics.borrow_mut().chat_failed();
        return false;
    };

    let view = Rc::new(ChatView::new(created.chat_id.clone()));
    let resumed = !created.is_new_chat.0;
    if resumed {
        history(caller, &view).await;
    }

    let poller = tokio::task::spawn_local(poll_loop(caller.clone(), view.clone()));
    let end = converse(caller, &view, next, resumed, phase).await;
    finish(caller, &view, poller, end, next).await;
    true
}

/// Fetches a resumed chat's History and applies it to the view, the way
/// real clients redraw the transcript. The poll only brings what is new,
/// so the agent's join, which happened in the earlier life of the chat, is
/// known from here alone.
async fn history(caller: &Caller, view: &ChatView) {
    let path = Endpoint::History.path(caller.ctx.api(), &view.chat_id, "");
    let reply = caller
        .call(Endpoint::History, Instant::now(), &path, Body::empty())
        .await;
    let Some(exchange) = reply.ok() else { return };
    let events = match serde_json::from_slice::<EventsBody<ServerEvent>>(&exchange.body) {
        Ok(parsed) => parsed.events,
        Err(err) => {
            caller.protocol_error(Endpoint::History, &err.to_string());
            return;
        }
    };

    // Old agent messages were acknowledged, or not, in the chat's earlier
    // life: receipts are for what arrives from now on.
    let at = Instant::now();
    for event in &events {
        view.apply(event, at, false);
    }
}

async fn pre_chat(caller: &Caller, intended: Instant) -> Instant {
    let mut next = intended;
    for &endpoint in &caller.ctx.scenario.conversation.pre_chat {
        let path = endpoint.path(caller.ctx.api(), "", "");
        caller.call(endpoint, next, &path, Body::empty()).await;
        next = Instant::now();
    }
    next
}

async fn request_chat(caller: &Caller, intended: Instant) -> Option<ChatCreated> {
    let conv = &caller.ctx.scenario.conversation;
    let body = RequestChat {
        phone_number: conv.phone_number.clone(),
        from: Some(conv.from.clone()),
        parameters: conv.parameters.clone(),
    };
    let body = Body::json(serde_json::to_vec(&body).unwrap_or_default());
    let path = Endpoint::RequestChat.path(caller.ctx.api(), "", "");

    let exchange = caller
        .call(Endpoint::RequestChat, intended, &path, body)
        .await
        .ok()?;
    match serde_json::from_slice::<ChatCreated>(&exchange.body) {
        Ok(created) if !created.chat_id.is_empty() => Some(created),
        Ok(_) => {
            caller.protocol_error(Endpoint::RequestChat, "empty chat_id");
            None
        }
        Err(err) => {
            caller.protocol_error(Endpoint::RequestChat, &err.to_string());
            None
        }
    }
}

/// The conversation proper: wait for the agent, then the messages. An
/// `async` block, as every client holds it (engine module docs).
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn stores its arguments twice (engine module docs)"
)]
fn converse<'a>(
    caller: &'a Caller,
    view: &'a ChatView,
    started: Instant,
    resumed: bool,
    phase: &'a mut watch::Receiver<Phase>,
) -> impl Future<Output = ChatEnd> + 'a {
    async move {
        let ctx = &caller.ctx;
        let conv = &ctx.scenario.conversation;

        let joined = |v: &ChatView| v.joined_at.get().is_some();
        match view
            .wait_until(phase, started + conv.agent_timeout, joined)
            .await
        {
            Wait::Met => {}
            other => return end_of_wait(other),
        }
        // A resumed chat's agent joined before this Request Chat: its queue
        // wait was measured, if at all, in the chat's first life.
        if let (Some(at), false) = (view.joined_at.get(), resumed) {
            ctx.metrics
                .borrow_mut()
                .record_measure(Measure::QueueWait, at - started);
        }

        let count = draw_count(ctx, conv.messages);
        let mut step_end = Instant::now();
        for n in 1..=count {
            let think = draw_duration(ctx, conv.think);
            match send_message(caller, view, n, step_end, think, phase).await {
                Wait::Met => {}
                Wait::TimedOut if !conv.wait_for_reply => {}
                Wait::TimedOut => return ChatEnd::Failed,
                other => return end_of_wait(other),
            }
            if n == 1 {
                upload(caller, view).await;
            }
            step_end = Instant::now();
        }

        // Under end = "agent" the server's end after the last message is the
        // one the customer waits for: a completion, not an early end.
        match conv.end {
            EndMode::Agent => {
                let ended = |v: &ChatView| v.ended.get().is_some();
                let deadline = Instant::now() + conv.agent_timeout;
                match view.wait_until(phase, deadline, ended).await {
                    Wait::Met | Wait::ServerEnded => ChatEnd::Completed,
                    Wait::TimedOut => ChatEnd::Failed,
                    Wait::Interrupted => ChatEnd::Interrupted,
                }
            }
            EndMode::Customer | EndMode::Abandon => ChatEnd::Completed,
        }
    }
}

fn end_of_wait(wait: Wait) -> ChatEnd {
    match wait {
        Wait::Interrupted => ChatEnd::Interrupted,
        Wait::ServerEnded => ChatEnd::EndedByServer,
        Wait::Met | Wait::TimedOut => ChatEnd::Failed,
    }
}

/// Typing, think time, the message, not typing; then, if configured, the
/// wait for the agent's reply and the receipts for it. Returns how the
/// reply wait ended (`TimedOut` when no reply was awaited). An `async`
/// block, as every client holds it between messages.
#[allow(
    clippy::manual_async_fn,
    reason = "an async fn stores its arguments twice (engine module docs)"
)]
fn send_message<'a>(
    caller: &'a Caller,
    view: &'a ChatView,
    n: u64,
    after: Instant,
    think: Duration,
    phase: &'a mut watch::Receiver<Phase>,
) -> impl Future<Output = Wait> + 'a {
    async move {
        let ctx = &caller.ctx;
        let conv = &ctx.scenario.conversation;
        if conv.typing {
            send_event(caller, view, after, &ClientEvent::Typing { msg: None }).await;
        }

        let due = after + think;
        match view.wait_until(phase, due, |_| false).await {
            Wait::TimedOut => {}
            other => return other,
        }
        let length = draw_count(ctx, conv.length) as usize;
        let message = ClientEvent::Message {
            msg_id: format!("{}:{n}", view.chat_id),
            msg: message_text(length).to_owned(),
            msg_text: None,
            channel: None,
        };
        let before = view.agent_messages.get();
        let sent = send_event(caller, view, due, &message).await;
        if conv.typing {
            send_event(caller, view, Instant::now(), &ClientEvent::NotTyping {}).await;
        }
        if !conv.wait_for_reply {
            send_receipts(caller, view).await;
            return Wait::TimedOut;
        }

        let replied = move |v: &ChatView| v.agent_messages.get() > before;
        let wait = view
            .wait_until(phase, Instant::now() + conv.agent_timeout, replied)
            .await;
        if let (Wait::Met, Some(sent), Some(at)) = (wait, sent, view.last_agent_message_at.get()) {
            ctx.metrics
                .borrow_mut()
                .record_measure(Measure::AgentReply, at.saturating_duration_since(sent));
        }
        send_receipts(caller, view).await;
        wait
    }
}

/// Sends one client event; returns when it was sent, if it got a 2xx.
async fn send_event(
    caller: &Caller,
    view: &ChatView,
    intended: Instant,
    event: &ClientEvent,
) -> Option<Instant> {
    let path = Endpoint::SendEvents.path(caller.ctx.api(), &view.chat_id, "");
    let body = EventsRef {
        events: std::slice::from_ref(event),
    };
    let body = Body::json(serde_json::to_vec(&body).unwrap_or_default());
    match caller
        .call(Endpoint::SendEvents, intended, &path, body)
        .await
    {
        Reply::Response(ex) if (200..300).contains(&ex.status) => Some(Instant::from_std(ex.sent)),
        Reply::Response(ex) if ex.status == 404 => {
            view.end(ServerEnd::NotFound);
            None
        }
        _ => None,
    }
}

/// Delivered and read receipts for every agent message not yet
/// acknowledged (v2 only).
async fn send_receipts(caller: &Caller, view: &ChatView) {
    let ctx = &caller.ctx;
    if !ctx.scenario.conversation.receipts || !ctx.api().is_v2() {
        return;
    }
    loop {
        let next = view.unacknowledged.borrow_mut().pop_front();
        let Some(id) = next else { return };
        let delivered = ClientEvent::MessageDelivered {
            ref_msg_id: id.clone(),
        };
        send_event(caller, view, Instant::now(), &delivered).await;
        let read = ClientEvent::MessageRead { ref_msg_id: id };
        send_event(caller, view, Instant::now(), &read).await;
    }
}

/// Uploads a file and shares it in the chat.
async fn upload(caller: &Caller, view: &ChatView) {
    let Some(size) = caller.ctx.scenario.conversation.upload_bytes else {
        return;
    };
    let path = Endpoint::UploadFile.path(caller.ctx.api(), "", "");
    let reply = caller
        .call(
            Endpoint::UploadFile,
            Instant::now(),
            &path,
            Body::file_upload(size),
        )
        .await;
    let Some(exchange) = reply.ok() else { return };
    let Ok(uploaded) = serde_json::from_slice::<FileUploaded>(&exchange.body) else {
        caller.protocol_error(Endpoint::UploadFile, "no file_id in the answer");
        return;
    };
    let event = ClientEvent::File {
        msg_id: String::new(),
        file_id: uploaded.file_id,
        file_type: "attachment".to_owned(),
        file_name: uploaded.file_name,
    };
    send_event(caller, view, Instant::now(), &event).await;
}

/// Ends the chat as configured, stops the poll, and counts the outcome.
async fn finish(
    caller: &Caller,
    view: &ChatView,
    poller: tokio::task::JoinHandle<()>,
    end: ChatEnd,
    started: Instant,
) {
    let ctx = &caller.ctx;
    let server_ended = view.ended.get().is_some();
    let customer_ends = ctx.scenario.conversation.end == EndMode::Customer
        || matches!(end, ChatEnd::Failed | ChatEnd::Interrupted);
    view.closing.set(true);
    if customer_ends && !server_ended && ctx.phase() != Phase::Stopped {
        send_event(caller, view, Instant::now(), &ClientEvent::End {}).await;
    }
    stop_poll(view, poller).await;

    let mut metrics = ctx.metrics.borrow_mut();
    metrics.record_measure(Measure::ChatDuration, started.elapsed());
    match end {
        ChatEnd::Completed => metrics.chat_completed(),
        ChatEnd::Failed => metrics.chat_failed(),
        ChatEnd::EndedByServer => metrics.chat_ended_by_server(),
        ChatEnd::Interrupted => metrics.chat_interrupted(),
    }
    ctx.active_chats.set(ctx.active_chats.get() - 1);
}

/// Gives the poll a moment to see the end (the server answers a held poll
/// when the chat ends), then drops it: a chat never leaves a poll behind.
async fn stop_poll(view: &ChatView, mut poller: tokio::task::JoinHandle<()>) {
    if view.ended.get().is_none() {
        view.end(ServerEnd::Event);
    }
    let grace = tokio::time::sleep(Duration::from_millis(200));
    tokio::select! {
        _ = &mut poller => {}
        _ = grace => poller.abort(),
    }
}

fn draw_count(ctx: &WorkerCtx, range: CountRange) -> u64 {
    if range.min >= range.max {
        return range.min;
    }
    ctx.rng.borrow_mut().random_range(range.min..=range.max)
}

fn draw_duration(ctx: &WorkerCtx, range: DurationRange) -> Duration {
    if range.min >= range.max {
        return range.min;
    }
    let (min, max) = (range.min.as_micros() as u64, range.max.as_micros() as u64);
    Duration::from_micros(ctx.rng.borrow_mut().random_range(min..=max))
}

/// A message of `length` characters, cut from one text made once per
/// process, so that no text is generated per message. The text repeats a
/// paragraph of ordinary words up to the longest length a scenario may ask
/// for; validation refuses longer ones.
fn message_text(length: usize) -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    let text = TEXT.get_or_init(|| {
        const WORDS: &str = concat!(
            "Hello, I have a question about my order. It was supposed to arrive last week ",
            "but the tracking page still shows it at the warehouse. Could you check what ",
            "happened and when I can expect it? I also want to change the delivery address ",
            "to my office, if that is still possible at this point. Thank you for the help. ",
        );
        let most = MAX_MESSAGE_LENGTH as usize;
        WORDS.chars().cycle().take(most).collect()
    });
    // The words are ASCII, so every byte index is a character boundary.
    &text[..length.clamp(1, text.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_text_has_the_requested_length_up_to_the_most() {
        assert_eq!(message_text(20).len(), 20);
        assert_eq!(message_text(0).len(), 1);
        assert_eq!(message_text(1000).chars().count(), 1000);
        let most = MAX_MESSAGE_LENGTH as usize;
        assert_eq!(message_text(most).len(), most);
        assert_eq!(message_text(most + 1).len(), most);
    }
}
