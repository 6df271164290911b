//! The validated scenario: what a run does, in types the engine reads.
//!
//! Everything here is already checked: durations are positive, ranges are
//! ordered, stages exist. The file format and its error reporting live in
//! the parser beside this module; defaults live here, next to the fields
//! they fill.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::api::{ApiVersion, Endpoint};

pub use super::segment::{Segment, SegmentError};

/// A whole run description.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Short name, used in the results directory name.
    pub name: String,
    /// Where the load goes and how it travels.
    pub target: Target,
    /// How many clients or chats, over what time.
    pub load: Load,
    /// What each virtual client does in one chat.
    pub conversation: Conversation,
    /// The embedded mock's settings, used when `target.url` is `None`.
    pub mock: MockSettings,
    /// Thresholds as written, `"request_chat.p99" = "< 800ms"`, in file
    /// order. Checked for names before the run; evaluated after it.
    pub thresholds: Vec<(String, String)>,
}

/// The server under test and the connection policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Base URL such as `https://chat.example.com`; `None` starts the
    /// embedded mock on loopback.
    pub url: Option<String>,
    /// Value of the `tenantUrl` query parameter.
    pub tenant_url: String,
    /// The messaging scenario entry's unique identifier.
    pub app_id: String,
    /// URL generation to use.
    pub api: ApiVersion,
    /// HTTP version policy.
    pub http: HttpVersion,
    /// How connections are pooled.
    pub connections: Connections,
    /// Extra PEM file of trusted roots, beside the system ones.
    pub ca_cert: Option<PathBuf>,
    /// Skip certificate verification. Only when asked; reported.
    pub insecure: bool,
    /// Per-request timeout, long polls included.
    pub request_timeout: Duration,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// Identify clients as `WebChat` with cookies instead of a UUID.
    pub webchat: bool,
    /// Local addresses to spread connections over; empty means the system
    /// choice. One loopback address runs out of ports near 28 000
    /// connections to one server port.
    pub source_addrs: Vec<IpAddr>,
    /// Open the shared pools' connections before the plan's clock starts,
    /// so that the first arrivals do not wait for them.
    pub warm_up: bool,
}

/// Which HTTP version to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/1.1 only.
    Http1,
    /// HTTP/2 only (prior knowledge on plain HTTP).
    Http2,
    /// Offer both over ALPN and take the server's choice; HTTP/1.1 on plain.
    #[default]
    Auto,
}

/// Connection policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connections {
    /// One pool shared by all clients of a worker thread. `max` caps open
    /// connections in total; `None` sizes it so that every active long
    /// poll can hold its own HTTP/1.1 connection.
    Shared {
        /// Connection cap over the whole run.
        max: Option<usize>,
    },
    /// Each virtual client opens its own connections, like a real device.
    PerClient,
}

/// Load model and stages.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// Closed (a number of clients) or open (new chats per second).
    pub model: LoadModel,
    /// The stages; each ramps linearly from the previous stage's value
    /// (zero before the first) to its own over its duration.
    pub stages: Vec<Stage>,
    /// After the last stage: how long running chats may finish before the
    /// rest are ended with `chat_session_end`.
    pub grace: Duration,
    /// The part of the load this process runs when a run is spread over
    /// several; [`Segment::WHOLE`] for all of it.
    pub segment: Segment,
    /// Seed of the run's random schedule (Poisson arrivals, think times).
    /// Every shard must use the same one for their arrivals to partition
    /// the whole run's; `None` derives it from the scenario itself.
    pub seed: Option<u64>,
}

impl Load {
    /// Total planned time of the stages, grace excluded.
    pub fn duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The largest stage value: peak clients, or peak chats per second.
    pub fn peak(&self) -> f64 {
        self.stages.iter().map(|s| s.target).fold(0.0, f64::max)
    }
}

/// The two load models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadModel {
    /// Stage values are active virtual clients. A client whose chat ends
    /// starts its next one after `pause`.
    Closed {
        /// Pause between one chat's end and the next chat's request.
        pause: DurationRange,
    },
    /// Stage values are new chats per second.
    Open {
        /// How arrivals are spaced.
        arrival: Arrival,
        /// Cap on simultaneously active clients; an arrival beyond it is
        /// counted as dropped.
        max_clients: u64,
    },
}

/// Spacing of arrivals in the open model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrival {
    /// Evenly spaced at the current rate.
    #[default]
    Even,
    /// Exponential gaps: a Poisson process at the current rate.
    Poisson,
}

/// One stage of the load profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// Clients (closed) or chats per second (open) reached at its end.
    pub target: f64,
}

/// An inclusive range of durations, drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DurationRange {
    /// Smallest value.
    pub min: Duration,
    /// Largest value; equal to `min` for a fixed value.
    pub max: Duration,
}

impl DurationRange {
    /// A range holding one value.
    pub const fn fixed(d: Duration) -> Self {
        DurationRange { min: d, max: d }
    }
}

/// An inclusive range of counts, drawn uniformly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CountRange {
    /// Smallest value.
    pub min: u64,
    /// Largest value; equal to `min` for a fixed value.
    pub max: u64,
}

impl CountRange {
    /// A range holding one value.
    pub const fn fixed(n: u64) -> Self {
        CountRange { min: n, max: n }
    }
}

/// What one chat of a virtual client does.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// When set, the client makes no chat: it calls this chat-less method.
    /// Closed model: back to back with no think time (the workload compared
    /// with wrk and oha); open model: once per arrival, a constant request
    /// rate as wrk2 makes.
    pub probe: Option<Endpoint>,
    /// Calls made before Request Chat, in order. Only the methods that need
    /// no chat: availability, version, configuration, parameters,
    /// iceservers.
    pub pre_chat: Vec<Endpoint>,
    /// Request Chat's `from`.
    pub from: String,
    /// Request Chat's `phone_number`, if any.
    pub phone_number: Option<String>,
    /// Request Chat's `parameters`.
    pub parameters: Map<String, Value>,
    /// Customer messages per chat.
    pub messages: CountRange,
    /// Think time before each message (the typing time is part of it).
    pub think: DurationRange,
    /// Length of each message in characters.
    pub length: CountRange,
    /// Send `chat_session_typing` before and `chat_session_not_typing`
    /// after each message.
    pub typing: bool,
    /// Send delivered and read receipts for agent messages (v2 only).
    pub receipts: bool,
    /// Wait for the agent's reply before the next message.
    pub wait_for_reply: bool,
    /// Longest wait for an agent to join, or for a reply, before the chat
    /// is counted as failed and ended.
    pub agent_timeout: Duration,
    /// Upload a file of this many bytes and share it in the chat.
    pub upload_bytes: Option<u64>,
    /// How the chat ends.
    pub end: EndMode,
}

/// Longest customer message a scenario may ask for, in characters. Far past
/// anything a person types, and far below the 1 MiB the mock (and many
/// servers) take in one Send Events body.
pub const MAX_MESSAGE_LENGTH: u64 = 65_536;

/// Who ends a chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndMode {
    /// The customer sends `chat_session_end` after the last message.
    #[default]
    Customer,
    /// The customer waits for the server to end it (agent or inactivity).
    Agent,
    /// The customer stops polling and walks away without ending it.
    Abandon,
}

/// Settings for the embedded mock contact center.
#[derive(Debug, Clone, PartialEq)]
pub struct MockSettings {
    /// Simulated agents.
    pub agents: u32,
    /// Chats each agent takes at once.
    pub chats_per_agent: u32,
    /// Delay before an agent's reply.
    pub reply_delay: DurationRange,
    /// How long an idle poll is held.
    pub poll_hold: Duration,
    /// Idle time after which the agent ends a chat.
    pub idle_end: Duration,
    /// Faults injected into the mock's answers, in file order.
    pub faults: Vec<Fault>,
}

/// One fault the mock injects, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// The methods it touches; empty means every API method.
    pub endpoints: Vec<Endpoint>,
    /// Share of matching requests it hits, from 0 to 1; always 1 for a
    /// stall, which holds every request that arrives during it.
    pub rate: f64,
    /// What it does.
    pub kind: FaultKind,
}

/// What a fault does to a request it hits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultKind {
    /// Waits before answering, uniformly drawn from the range.
    Latency {
        /// Added delay.
        delay: DurationRange,
    },
    /// Answers with an API error instead of the method's answer.
    Error {
        /// HTTP status, 400 to 599.
        status: u16,
        /// API error code in the body, such as 5001.
        code: u16,
    },
    /// Every `every`, counted from the Unix epoch on the wall clock, holds
    /// each request that arrives in the first `hold` until `hold` is over.
    Stall {
        /// Period of the stalls.
        every: Duration,
        /// Length of each stall, shorter than `every`.
        hold: Duration,
    },
    /// Closes the connection.
    Reset {
        /// When, relative to the request.
        at: ResetPoint,
    },
    /// A 2xx answer whose body is not JSON.
    Malformed,
    /// A body shorter than its `Content-Length`, then the connection closes.
    Truncate,
    /// The body is sent one byte at a time.
    SlowBody {
        /// Pause before each byte.
        byte_every: Duration,
    },
    /// The server ends the chat the request belongs to, after answering.
    EndChat {
        /// How the server says it ended.
        how: ServerEnd,
    },
}

/// When a reset fault closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetPoint {
    /// Before the request body is read and before any answer.
    Request,
    /// After the head and part of the body of the answer.
    Response,
}

/// How a server-ended chat is announced to the customer's poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEnd {
    /// The agent leaves and `chat_session_ended` follows.
    Agent,
    /// `chat_session_inactivity_timeout`, as after customer silence.
    Inactivity,
    /// `chat_session_status` with state `failed`.
    Failed,
}

impl Default for MockSettings {
    fn default() -> Self {
        MockSettings {
            agents: 1000,
            chats_per_agent: 4,
            reply_delay: DurationRange {
                min: Duration::from_millis(200),
                max: Duration::from_millis(800),
            },
            poll_hold: Duration::from_secs(10),
            idle_end: Duration::from_secs(120),
            faults: Vec::new(),
        }
    }
}

impl Default for Target {
    fn default() -> Self {
        Target {
            url: None,
            tenant_url: "chatload.example".to_owned(),
            app_id: "chatload".to_owned(),
            api: ApiVersion::V2,
            http: HttpVersion::Auto,
            connections: Connections::Shared { max: None },
            ca_cert: None,
            insecure: false,
            request_timeout: Duration::from_secs(30),
            user_agent: crate::api::MOBILE_USER_AGENT.to_owned(),
            webchat: false,
            source_addrs: Vec::new(),
            warm_up: true,
        }
    }
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation {
            probe: None,
            pre_chat: Vec::new(),
            from: "chatload".to_owned(),
            phone_number: None,
            parameters: Map::new(),
            messages: CountRange { min: 3, max: 8 },
            think: DurationRange {
                min: Duration::from_secs(2),
                max: Duration::from_secs(8),
            },
            length: CountRange { min: 20, max: 160 },
            typing: true,
            receipts: true,
            wait_for_reply: true,
            agent_timeout: Duration::from_secs(60),
            upload_bytes: None,
            end: EndMode::Customer,
        }
    }
}
