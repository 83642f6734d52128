//! The [`KvEngine`] contract, run against every key-value engine: sled and in-memory.

use std::{ops::Bound, sync::Arc};

use crate::engine::{Keyspace, KvEngine, WriteBatch};

fn put(engine: &dyn KvEngine, keyspace: Keyspace, key: &[u8], value: &[u8]) {
    let mut batch = WriteBatch::default();
    batch.put(keyspace, key.to_vec(), value.to_vec());
    engine.apply(batch).unwrap();
}

fn keys(
    engine: &dyn KvEngine,
    keyspace: Keyspace,
    start: Bound<&[u8]>,
    end: Bound<&[u8]>,
) -> Vec<Vec<u8>> {
    engine
        .range(keyspace, start, end)
        .map(|item| item.unwrap().0)
        .collect()
}

/// Every behaviour the layers above rely on.
pub fn engine_suite(engine: Arc<dyn KvEngine>) {
    let engine = engine.as_ref();

    // Point reads see applied writes; a missing key reads as None.
    put(engine, Keyspace::Devices, b"d1", b"v1");
    assert_eq!(
        engine.get(Keyspace::Devices, b"d1").unwrap(),
        Some(b"v1".to_vec())
    );
    assert_eq!(engine.get(Keyspace::Devices, b"missing").unwrap(), None);

    // Keyspaces are separate: the same key in another keyspace is another entry.
    assert_eq!(engine.get(Keyspace::Events, b"d1").unwrap(), None);
    put(engine, Keyspace::Events, b"d1", b"other");
    assert_eq!(
        engine.get(Keyspace::Devices, b"d1").unwrap(),
        Some(b"v1".to_vec())
    );

    // A batch spans keyspaces, overwrites, and deletes, applied in order.
    let mut batch = WriteBatch::default();
    batch.put(Keyspace::Devices, b"d2".to_vec(), b"v2".to_vec());
    batch.put(Keyspace::Checkpoints, b"c".to_vec(), b"cp".to_vec());
    batch.put(Keyspace::Devices, b"d1".to_vec(), b"v1b".to_vec());
    batch.delete(Keyspace::Events, b"d1".to_vec());
    engine.apply(batch).unwrap();
    assert_eq!(
        engine.get(Keyspace::Devices, b"d1").unwrap(),
        Some(b"v1b".to_vec())
    );
    assert_eq!(
        engine.get(Keyspace::Devices, b"d2").unwrap(),
        Some(b"v2".to_vec())
    );
    assert_eq!(
        engine.get(Keyspace::Checkpoints, b"c").unwrap(),
        Some(b"cp".to_vec())
    );
    assert_eq!(engine.get(Keyspace::Events, b"d1").unwrap(), None);

    // Ranges are ordered by bytes, honour each kind of bound, and stay inside their keyspace.
    for position in [3u64, 1, 256, 2] {
        put(engine, Keyspace::Events, &position.to_be_bytes(), b"e");
    }
    put(engine, Keyspace::Dedup, &[0], b"neighbour below");
    put(engine, Keyspace::Meta, &[0xff; 4], b"neighbour above");
    let all = keys(engine, Keyspace::Events, Bound::Unbounded, Bound::Unbounded);
    let expected: Vec<Vec<u8>> = [1u64, 2, 3, 256]
        .iter()
        .map(|p| p.to_be_bytes().to_vec())
        .collect();
    assert_eq!(all, expected);
    let two = 2u64.to_be_bytes();
    let three = 3u64.to_be_bytes();
    assert_eq!(
        keys(
            engine,
            Keyspace::Events,
            Bound::Excluded(&two),
            Bound::Unbounded
        ),
        expected[2..].to_vec()
    );
    assert_eq!(
        keys(
            engine,
            Keyspace::Events,
            Bound::Included(&two),
            Bound::Included(&three)
        ),
        expected[1..3].to_vec()
    );
    assert_eq!(
        keys(
            engine,
            Keyspace::Events,
            Bound::Unbounded,
            Bound::Excluded(&three)
        ),
        expected[..2].to_vec()
    );

    // Flush succeeds on a healthy engine.
    engine.flush().unwrap();
    assert!(engine.size_on_disk().is_ok());
}
