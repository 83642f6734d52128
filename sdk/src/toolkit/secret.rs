//! Secrets in a connector's configuration: an API key given literally (`secret`), by the name of an
//! environment variable holding it (`secret_env`), or by the path of a file holding it
//! (`secret_file`, as container orchestrators mount secrets). Exactly one of the three is given.

use std::{fmt, path::PathBuf};

use serde::Deserialize;

use super::config::ConfigError;

/// A secret value. Its `Debug` never shows the value; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq<str> for Secret {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// The three ways of giving secret `key`, as read from the configuration: the `key`, `key_env` and
/// `key_file` fields.
#[derive(Debug, Clone, Default)]
pub struct SecretSource {
    /// The configuration key of the literal value, such as `secret` or `application_key`; the other
    /// two are named `{key}_env` and `{key}_file`.
    pub key: &'static str,
    /// The value itself.
    pub literal: Option<Secret>,
    /// The name of the environment variable holding it.
    pub env: Option<String>,
    /// The file holding it (one trailing line break is dropped).
    pub file: Option<PathBuf>,
}

impl SecretSource {
    /// Reads the secret from the one place given, reading environment variables with `env`
    /// (`|name| std::env::var(name).ok()` in production, a fake in tests). An empty secret is
    /// refused. Errors name the key.
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Result<Secret, ConfigError> {
        let key = self.key;
        let secret = self.read(env)?;
        if secret.0.is_empty() {
            return Err(ConfigError(format!("{key}: must not be empty")));
        }
        Ok(secret)
    }

    fn read(self, env: impl Fn(&str) -> Option<String>) -> Result<Secret, ConfigError> {
        let key = self.key;
        match (self.literal, self.env, self.file) {
            (Some(literal), None, None) => Ok(literal),
            (None, Some(var), None) => env(&var).map(Secret).ok_or_else(|| {
                ConfigError(format!("{key}_env: environment variable {var} is not set"))
            }),
            (None, None, Some(path)) => read_file(key, &path),
            (None, None, None) => Err(ConfigError(format!(
                "{key}: required (or {key}_env, or {key}_file)"
            ))),
            (literal, var, path) => {
                let given = [
                    literal.map(|_| key.to_owned()),
                    var.map(|_| format!("{key}_env")),
                    path.map(|_| format!("{key}_file")),
                ];
                let given: Vec<String> = given.into_iter().flatten().collect();
                Err(ConfigError(format!("{}: give only one", given.join(", "))))
            }
        }
    }
}

/// Secret `key` from its three configuration fields, `key`, `key_env` and `key_file`, of which
/// exactly one is given: [`SecretSource::resolve`] in one call, reading environment variables with
/// `env`.
pub fn resolve(
    key: &'static str,
    literal: Option<Secret>,
    env_name: Option<String>,
    file: Option<PathBuf>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Secret, ConfigError> {
    SecretSource {
        key,
        literal,
        env: env_name,
        file,
    }
    .resolve(env)
}

/// The secret in the file at `path`, without its trailing line break (files written by `echo` or
/// editors end with one).
fn read_file(key: &str, path: &std::path::Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("{key}_file: cannot read {}: {e}", path.display())))?;
    let value = text.strip_suffix('\n').map_or(text.as_str(), |line| {
        line.strip_suffix('\r').unwrap_or(line)
    });
    Ok(Secret(value.to_owned()))
}
