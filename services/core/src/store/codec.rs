//! Versioned value encoding: every stored value is one format-version byte followed by its postcard bytes.
//!
//! When a stored type changes shape, bump [`FORMAT_VERSION`] and decode the older version through a
//! migration here (the pattern of Garage's `Migrate` chain, house-style.md §3); readers then never see
//! old shapes.

use serde::{de::DeserializeOwned, Serialize};

use super::engine::{Keyspace, StoreError, StoreResult};

/// The format version written by this build.
pub(crate) const FORMAT_VERSION: u8 = 1;

/// Encodes `value` with the current format version.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = vec![FORMAT_VERSION];
    // Serialising plain data into a Vec cannot fail: postcard only fails on unsupported serde features,
    // which the domain types do not use.
    bytes.extend(postcard::to_stdvec(value).expect("domain types serialise with postcard"));
    bytes
}

/// Decodes a value written by [`encode`].
pub(crate) fn decode<T: DeserializeOwned>(keyspace: Keyspace, bytes: &[u8]) -> StoreResult<T> {
    match bytes.split_first() {
        Some((&FORMAT_VERSION, body)) => {
            postcard::from_bytes(body).map_err(|err| StoreError::Corrupt {
                keyspace,
                reason: err.to_string(),
            })
        }
        Some((&found, _)) => Err(StoreError::UnsupportedFormat {
            found,
            supported: FORMAT_VERSION,
        }),
        None => Err(StoreError::Corrupt {
            keyspace,
            reason: "empty value".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_carry_the_format_version() {
        let bytes = encode(&(7u64, "seven".to_string()));
        assert_eq!(bytes[0], FORMAT_VERSION);
        let back: (u64, String) = decode(Keyspace::Meta, &bytes).unwrap();
        assert_eq!(back, (7, "seven".to_string()));
    }

    #[test]
    fn an_unknown_format_version_is_refused_not_misread() {
        let mut bytes = encode(&7u64);
        bytes[0] = FORMAT_VERSION + 1;
        let err = decode::<u64>(Keyspace::Meta, &bytes).unwrap_err();
        assert!(
            matches!(err, StoreError::UnsupportedFormat { found, .. } if found == FORMAT_VERSION + 1)
        );
        assert!(decode::<u64>(Keyspace::Meta, &[]).is_err());
    }
}
