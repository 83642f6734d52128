//! The store metadata in the Meta keyspace: created on first use, checked for its format on every open.

use crate::{
    backend::StoreMeta,
    codec::{self, decode, encode},
    engine::{Keyspace, KvEngine, StoreError, StoreResult, WriteBatch},
    keys,
};

/// The stored metadata, creating an empty store durably first if there is none.
pub(super) fn load_or_create(engine: &dyn KvEngine) -> StoreResult<StoreMeta> {
    let Some(format) = engine.get(Keyspace::Meta, keys::META_FORMAT)? else {
        let meta = StoreMeta::fresh();
        engine.apply(creation(&meta))?;
        engine.flush()?;
        return Ok(meta);
    };
    check_format(engine, &format)?;
    let read = |key: &[u8]| -> StoreResult<Vec<u8>> {
        engine
            .get(Keyspace::Meta, key)?
            .ok_or_else(|| StoreError::Corrupt {
                keyspace: Keyspace::Meta,
                reason: format!("missing {}", String::from_utf8_lossy(key)),
            })
    };
    Ok(StoreMeta {
        epoch: decode(Keyspace::Meta, &read(keys::META_EPOCH)?)?,
        cursor_key: decode(Keyspace::Meta, &read(keys::META_CURSOR_KEY)?)?,
        head: decode(Keyspace::Meta, &read(keys::META_HEAD)?)?,
        device_count: decode(Keyspace::Meta, &read(keys::META_DEVICE_COUNT)?)?,
        first_retained: decode(Keyspace::Meta, &read(keys::META_FIRST_RETAINED)?)?,
    })
}

/// The writes that create a store with `meta`.
fn creation(meta: &StoreMeta) -> WriteBatch {
    let mut batch = WriteBatch::default();
    let mut put = |key: &[u8], value: Vec<u8>| batch.put(Keyspace::Meta, key.to_vec(), value);
    put(keys::META_FORMAT, vec![codec::FORMAT_VERSION]);
    put(keys::META_EPOCH, encode(&meta.epoch));
    put(keys::META_HEAD, encode(&meta.head));
    put(keys::META_DEVICE_COUNT, encode(&meta.device_count));
    put(keys::META_FIRST_RETAINED, encode(&meta.first_retained));
    put(keys::META_CURSOR_KEY, encode(&meta.cursor_key));
    batch
}

/// Refuses a store of a newer format; raises an older one's marker.
///
/// An older store's values are migrated as they are read and rewritten in the current format as they
/// change. Its marker is raised first, so that an older build, which could not read those values, refuses
/// the whole store instead of failing on its first such value.
fn check_format(engine: &dyn KvEngine, format: &[u8]) -> StoreResult<()> {
    match format {
        [version] if *version == codec::FORMAT_VERSION => Ok(()),
        [version] if *version < codec::FORMAT_VERSION => {
            let mut batch = WriteBatch::default();
            batch.put(
                Keyspace::Meta,
                keys::META_FORMAT.to_vec(),
                vec![codec::FORMAT_VERSION],
            );
            engine.apply(batch)?;
            engine.flush()
        }
        [version] => Err(StoreError::UnsupportedFormat {
            found: *version,
            supported: codec::FORMAT_VERSION,
        }),
        _ => Err(StoreError::Corrupt {
            keyspace: Keyspace::Meta,
            reason: "bad format marker".into(),
        }),
    }
}
