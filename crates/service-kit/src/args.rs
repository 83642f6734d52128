//! Command-line parsing with the exit codes of sysexits(3).

/// Exit code for a command-line usage error (sysexits(3) `EX_USAGE`).
pub const EX_USAGE: i32 = 64;

/// [`EX_USAGE`] as the exit code of a `main` that returns one: for a bad configuration file, which is a
/// usage error just as a bad flag is.
pub fn usage_error() -> std::process::ExitCode {
    std::process::ExitCode::from(EX_USAGE as u8)
}

/// Parses the command line into `A`. On `--help` or `--version` prints and exits 0; on a usage error
/// prints it and exits with [`EX_USAGE`], so a supervisor can tell a bad invocation from a crash.
pub fn parse_or_exit<A: clap::Parser>() -> A {
    match A::try_parse() {
        Ok(args) => args,
        Err(err) => {
            let _ = err.print();
            std::process::exit(if err.use_stderr() { EX_USAGE } else { 0 });
        }
    }
}
