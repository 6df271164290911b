//! The contact center's shared state and the task that runs its timers.
//!
//! One [`Center`] per server: configuration, chats, agents, files, counters
//! and the timer heap. Requests reach it through the handlers; the chat
//! lifecycle and the agents' side of a conversation are in the neighbouring
//! `lifecycle` and `conversation` modules.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rand::Rng;
use tokio::time::Instant;

use super::agents::Dispatch;
use super::chat::Chat;
use super::config::MockConfig;
use super::files::Files;
use super::fixed::FixedBodies;
use super::stats::Stats;
use super::store::Store;
use super::timers::{Action, BATCH, Timers};

/// Everything one mock server knows.
#[derive(Debug)]
pub(crate) struct Center {
    pub config: MockConfig,
    pub store: Store,
    pub dispatch: Dispatch,
    pub timers: Timers,
    pub files: Files,
    pub stats: Stats,
    pub fixed: FixedBodies,
    closing: AtomicBool,
}

impl Center {
    /// A center with no chats yet.
    pub fn new(config: MockConfig) -> Center {
        Center {
            dispatch: Dispatch::new(config.agents, config.chats_per_agent),
            files: Files::new(config.max_files, config.max_stored_bytes),
            store: Store::new(),
            timers: Timers::default(),
            stats: Stats::default(),
            fixed: FixedBodies::new(),
            closing: AtomicBool::new(false),
            config,
        }
    }

    /// True once shutdown began: held polls answer at once.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    /// Starts shutdown: every held poll is woken and answers.
    pub fn close(&self) {
        self.closing.store(true, Ordering::Relaxed);
        for chat in self.store.all() {
            chat.wake();
        }
    }

    /// A reply delay drawn from the configured range.
    pub fn reply_at(&self) -> Instant {
        let range = self.config.reply_delay;
        let delay = if range.max > range.min {
            rand::rng().random_range(range.min..=range.max)
        } else {
            range.min
        };
        Instant::now() + delay
    }

    /// Runs timer actions as they fall due, until the task is aborted.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let (due, next) = self.timers.take_due(Instant::now());
            let full_batch = due.len() >= BATCH;
            for action in due {
                self.fire(action);
            }
            if full_batch {
                tokio::task::yield_now().await;
                continue;
            }
            self.timers.wait(next).await;
        }
    }

    /// Runs one timer action.
    pub(crate) fn fire(&self, action: Action) {
        match action {
            Action::Reply(chat) => self.agent_reply(&chat),
            Action::IdleCheck(chat) => self.idle_check(&chat),
            Action::Expire(chat) => self.store.forget(&chat),
        }
    }

    /// Schedules the idle check of a chat that was last active at `since`.
    pub fn watch_idle(&self, chat: &Arc<Chat>, since: Instant) {
        let at = since + self.config.idle_end;
        self.timers.schedule(at, Action::IdleCheck(chat.clone()));
    }
}
