//! Exit statuses in words, for the causes the supervisor reports and the conformance suite prints.

use std::{os::unix::process::ExitStatusExt as _, process::ExitStatus};

/// A process status in words, naming the signal if it was killed by one.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {}", signal_name(signal)),
        _ => status.to_string(),
    }
}

/// The conventional name of a signal number.
pub fn signal_name(signal: i32) -> String {
    match signal {
        4 => "SIGILL".to_owned(),
        6 => "SIGABRT".to_owned(),
        7 => "SIGBUS".to_owned(),
        8 => "SIGFPE".to_owned(),
        9 => "SIGKILL".to_owned(),
        11 => "SIGSEGV".to_owned(),
        15 => "SIGTERM".to_owned(),
        other => format!("signal {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_names_its_code_or_its_signal() {
        // A wait(2) status: the exit code in the second byte, or the signal in the low bits.
        assert_eq!(describe(ExitStatus::from_raw(70 << 8)), "exit code 70");
        assert_eq!(
            describe(ExitStatus::from_raw(11)),
            "killed by signal SIGSEGV"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(10)),
            "killed by signal signal 10"
        );
    }
}
