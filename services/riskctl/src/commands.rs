//! One module per command group; [`run`] connects and dispatches.

mod check;
mod connectors;
mod devices;
mod policies;
mod ssf;
mod watch;

use crate::{
    cli::{Cli, Command},
    connect::Connection,
    error::CliResult,
};

/// Runs the parsed command line.
pub(crate) async fn run(cli: Cli) -> CliResult<()> {
    let json = cli.global.json;
    // Files are read before connecting, so a bad file is reported even when the server is down.
    let prepared = policies::prepare(&cli.command)?;
    if let Command::Ssf(command) = cli.command {
        // The transmitter is not the core: no gRPC connection.
        return ssf::run(&cli.global, command, json).await;
    }
    let conn = Connection::open(&cli.global).await?;
    match cli.command {
        Command::Devices(command) => devices::run(&conn, command, json).await,
        Command::Connectors(command) => connectors::run(&conn, command, json).await,
        Command::Policies(command) => policies::run(&conn, command, prepared, json).await,
        Command::Check(command) => check::run(&conn, command, json).await,
        Command::Watch(args) => watch::run(&conn, args, json).await,
        Command::Ssf(_) => Ok(()),
    }
}
