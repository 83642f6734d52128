//! Versioned value encoding: every stored value is one format-version byte followed by its postcard bytes.
//!
//! When a stored type changes shape, bump [`FORMAT_VERSION`] and teach that type's [`Stored`] impl to read
//! the older body (the pattern of Garage's `Migrate` chain): readers then never see old shapes, and a value
//! is rewritten in the current version the next time it is written. `golden.rs` pins every type's bytes per
//! version, so a shape change without a migration fails its tests.

use serde::{de::DeserializeOwned, Serialize};

use super::{
    engine::{Keyspace, StoreError, StoreResult},
    migrate_v1,
};
use riskgate_policy::{
    domain::{
        policy::{AppProtectionPolicy, CompliancePolicy, Connector, Resource, TenantSettings},
        Checkpoint, DeviceRecord, Event,
    },
    {evaluate::ConnectorStates, view::ComplianceMemo},
};

/// The format version written by this build.
pub(crate) const FORMAT_VERSION: u8 = 2;

/// A type the store persists, and how it reads the bodies older format versions wrote.
pub(crate) trait Stored: DeserializeOwned {
    /// Decodes a body written by format `version` (older than [`FORMAT_VERSION`]). The default reads it
    /// as the current shape, which is right for every type whose shape did not change since.
    fn decode_older(version: u8, body: &[u8]) -> postcard::Result<Self> {
        let _ = version;
        postcard::from_bytes(body)
    }
}

impl Stored for u64 {}
impl Stored for u128 {}
impl Stored for [u8; 32] {}
impl Stored for Event {}
impl Stored for Checkpoint {}
impl Stored for CompliancePolicy {}
impl Stored for AppProtectionPolicy {}

/// Implements [`Stored`] for a type whose version-1 shape is `$v1` (see `migrate_v1.rs`).
macro_rules! migrated_from_v1 {
    ($($type:ty => $v1:ty),* $(,)?) => {$(
        impl Stored for $type {
            fn decode_older(version: u8, body: &[u8]) -> postcard::Result<Self> {
                debug_assert_eq!(version, 1, "the only older format");
                postcard::from_bytes::<$v1>(body).map(Self::from)
            }
        }
    )*};
}

migrated_from_v1! {
    DeviceRecord => migrate_v1::DeviceRecordV1,
    Connector => migrate_v1::ConnectorV1,
    Resource => migrate_v1::ResourceV1,
    TenantSettings => migrate_v1::TenantSettingsV1,
}
impl Stored for ConnectorStates {}
impl Stored for ComplianceMemo {}

/// Encodes `value` with the current format version.
#[allow(
    clippy::expect_used,
    reason = "postcard fails only on serde features the stored types do not use (the golden tests encode every one)"
)]
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = vec![FORMAT_VERSION];
    // Serialising plain data into a Vec cannot fail: postcard only fails on unsupported serde features,
    // which the domain types do not use.
    bytes.extend(postcard::to_stdvec(value).expect("domain types serialise with postcard"));
    bytes
}

/// Decodes a value written by [`encode`] of this or an older format version.
pub(crate) fn decode<T: Stored>(keyspace: Keyspace, bytes: &[u8]) -> StoreResult<T> {
    let decoded = match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => postcard::from_bytes(body),
        Some((&version, body)) if (1..FORMAT_VERSION).contains(&version) => {
            T::decode_older(version, body)
        }
        Some((&found, _)) => {
            return Err(StoreError::UnsupportedFormat {
                found,
                supported: FORMAT_VERSION,
            })
        }
        None => {
            return Err(StoreError::Corrupt {
                keyspace,
                reason: "empty value".into(),
            })
        }
    };
    decoded.map_err(|err| StoreError::Corrupt {
        keyspace,
        reason: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_carry_the_format_version() {
        let bytes = encode(&7u64);
        assert_eq!(bytes[0], FORMAT_VERSION);
        let back: u64 = decode(Keyspace::Meta, &bytes).unwrap();
        assert_eq!(back, 7);
    }

    #[test]
    fn an_unknown_format_version_is_refused_not_misread() {
        let mut bytes = encode(&7u64);
        for unknown in [0, FORMAT_VERSION + 1] {
            bytes[0] = unknown;
            let err = decode::<u64>(Keyspace::Meta, &bytes).unwrap_err();
            assert!(
                matches!(err, StoreError::UnsupportedFormat { found, .. } if found == unknown),
                "{err:?}"
            );
        }
        assert!(decode::<u64>(Keyspace::Meta, &[]).is_err());
    }
}
