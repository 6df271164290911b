//! chatload: a load generator for the Bright Pattern Mobile/Web chat API,
//! with a mock contact center to aim it at.
//!
//! # Layout
//!
//! The modules follow the pipeline of a run:
//!
//! - [`cli`]: command-line definitions only.
//! - [`scenario`]: the scenario file, validated into a [`scenario::Scenario`].
//! - [`engine`]: load profiles, the scheduler, the virtual client, run control.
//! - [`transport`]: the HTTP client, TLS and connection policy.
//! - [`metrics`]: per-worker histograms and counters, harvested each second.
//! - [`report`]: the terminal summary, summary.json, the interval log, the
//!   timeline, progress, and the merge of a run's shards.
//! - [`api`]: the protocol as types, shared by the client side and the mock.
//! - [`mock`]: the mock contact center behind `chatload serve`.
//! - [`exit`]: exit codes; [`diagnostics`]: tracing set-up.
//!
//! # Terms
//!
//! A *virtual client* plays one customer device: one `clientId`, at most one
//! active chat, one long poll outstanding while the chat lives. A *target*
//! is the server under test. *Response time* runs from the moment a request
//! was meant to start, *service time* from the moment it was sent; the gap
//! between them is what coordinated omission would hide. A *worker* is one
//! OS thread running its share of the virtual clients on its own event loop.

pub mod api;
pub mod cli;
pub mod diagnostics;
pub mod engine;
pub mod exit;
pub mod metrics;
pub mod mock;
pub mod report;
pub mod scenario;
pub mod transport;

use std::process::ExitCode;

use cli::Command;

/// Runs one command and returns its exit code; errors map through
/// [`exit::code_for`].
pub fn run_command(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run(args) => engine::run_command(args).map(ExitCode::from),
        Command::Serve(args) => mock::serve_command(args).map(|()| ExitCode::SUCCESS),
        Command::Validate(args) => scenario::validate_command(args).map(|()| ExitCode::SUCCESS),
        Command::Report(args) => report::rerun::report_command(args).map(ExitCode::from),
        Command::Compare(args) => report::compare::compare_command(args).map(ExitCode::from),
        Command::Merge(args) => report::merge::merge_command(args).map(ExitCode::from),
    }
}
