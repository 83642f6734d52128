//! Log lines on stderr, which the connector host forwards to its own log: `riskgate-lookout LEVEL message`.

/// An informational line.
pub(crate) fn info(message: &str) {
    eprintln!("riskgate-lookout INFO {message}");
}

/// A warning line.
pub(crate) fn warn(message: &str) {
    eprintln!("riskgate-lookout WARN {message}");
}
