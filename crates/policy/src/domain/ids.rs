//! Validated identifiers: a device id and a connector id can only be built from valid strings.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest device id accepted, in bytes.
pub(crate) const MAX_DEVICE_ID_LEN: usize = 256;
/// The longest connector id accepted, in bytes.
pub(crate) const MAX_CONNECTOR_ID_LEN: usize = 128;

/// A device identifier: 1 to 256 bytes without control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks `raw` and wraps it. The error says what is wrong, without the field name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("required".into());
        }
        if raw.len() > MAX_DEVICE_ID_LEN {
            return Err(format!("longer than {MAX_DEVICE_ID_LEN} bytes"));
        }
        if raw.chars().any(char::is_control) {
            return Err("contains control characters".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A connector identifier: 1 to 128 bytes of `[A-Za-z0-9._-]`, so it is safe in logs, paths and keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ConnectorId(String);

impl ConnectorId {
    /// Checks `raw` and wraps it. The error says what is wrong, without the field name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("required".into());
        }
        if raw.len() > MAX_CONNECTOR_ID_LEN {
            return Err(format!("longer than {MAX_CONNECTOR_ID_LEN} bytes"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err("may contain only A-Z, a-z, 0-9, '.', '_' and '-'".into());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ConnectorId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}
