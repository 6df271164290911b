//! The `chatload` binary: parse the command line, run the library, turn
//! the outcome into an exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = chatload::cli::Cli::parse();
    chatload::diagnostics::init(&cli.log);
    match chatload::run_command(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("chatload: error: {err:#}");
            chatload::exit::code_for(&err)
        }
    }
}
