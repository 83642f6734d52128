//! `riskctl`: the command-line client of riskgate-core.
//!
//! It parses the command line ([`cli`]), connects ([`connect`]), runs one command ([`commands`]),
//! and turns any failure into one line on stderr and a documented exit code ([`error`]).

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod connect;
mod error;
mod files;
mod json;
mod names;
mod output;
mod policy_file;
mod text;

use std::process::ExitCode;

use clap::Parser as _;

use crate::{cli::Cli, error::CliError};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(&CliError::Other(format!("cannot start the runtime: {err}"))),
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}

fn fail(err: &CliError) -> ExitCode {
    eprintln!("riskctl: {err}");
    ExitCode::from(err.exit_code())
}
