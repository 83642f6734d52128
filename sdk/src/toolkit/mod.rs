//! A toolkit for connector authors: the pieces every vendor client needs and that are easy to get
//! subtly wrong by hand.
//!
//! - [`retry`]: exponential backoff with jitter, and `Retry-After` (seconds or an HTTP date);
//! - [`time`]: RFC 3339 timestamps with any offset in, RFC 3339 UTC out, epoch milliseconds;
//! - [`secret`]: API keys given literally, by environment variable or by file, never logged;
//! - [`config`]: the configuration bytes into a `serde` struct, errors naming the key.
//!
//! The riskgate connectors (Lookout, Zimperium, webhook) are built on it; see the README's
//! "Toolkit" section for an example of each.

pub mod config;
pub mod retry;
pub mod secret;
pub mod time;

pub use config::{from_json, from_json_or_toml, ConfigError};
pub use retry::{retry_after, Backoff, Jitter, RetryPolicy};
pub use secret::{Secret, SecretSource};
pub use time::{format_rfc3339, format_rfc3339_millis, parse_rfc3339, TimeError};
