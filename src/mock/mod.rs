//! The mock contact center behind `chatload serve`, also embedded by
//! `chatload run` when no target is given.
//!
//! It speaks the Mobile/Web API from [`crate::api`] over HTTP/1.1 and
//! HTTP/2, plain or TLS: simulated agents take chats from a FIFO queue,
//! join, answer each customer message after a reply delay and end chats
//! left idle; polls are held until events arrive or the hold time passes;
//! the API's error codes come back where a real server would send them.
//! v2 chats also get delivered and read receipts, and the joining agent
//! sets a CRM case on them, so Case History and Close Case work there.
//!
//! Layout: [`serve`] runs the accept loop (`server`), `service` routes and
//! checks each request and `handlers` answer the methods. The shared state
//! is a `center` of chats (`store`, `chat`), agents (`agents`), delayed
//! work (`timers`), files and counters; `lifecycle` and `conversation`
//! hold the behaviour, `poll` the long poll. `faults` wraps the request
//! handling with the faults the configuration asks for.

mod agents;
mod center;
mod chat;
mod command;
mod config;
mod conversation;
mod embedded;
mod faults;
mod files;
mod fixed;
mod handlers;
mod lifecycle;
mod multipart;
mod poll;
mod reply;
mod request;
mod server;
mod service;
mod stats;
mod store;
mod timers;
mod tls;
mod watchdog;

pub use command::serve_command;
pub use config::MockConfig;
pub use embedded::{EmbeddedMock, start_embedded};
pub use server::serve;
pub use stats::{STATS_PATH, StatsSnapshot};
pub use tls::{SelfSigned, from_pem_files, self_signed};
