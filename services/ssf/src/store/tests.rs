use super::*;

fn record(id: &str) -> StreamRecord {
    StreamRecord {
        stream_id: id.to_owned(),
        owner: "okta".to_owned(),
        audience: "https://okta.example".to_owned(),
        events_requested: vec!["x".to_owned()],
        delivery: StoredDelivery::Poll,
        description: None,
        status: StreamStatus::Enabled,
        status_reason: None,
        subjects_added: Vec::new(),
        subjects_removed: vec![Subject::Email {
            email: "a@b.example".to_owned(),
        }],
        delivered: Some(Position {
            position: 7,
            cursor: "c7".to_owned(),
        }),
        acked: vec!["s.8.0".to_owned()],
        last_verification: Some(1),
    }
}

#[test]
fn saved_records_are_read_back_in_order_of_id() {
    let dir = tempfile::tempdir().unwrap();
    let (store, records) = StreamStore::open(dir.path()).unwrap();
    assert!(records.is_empty());
    store.save(&record("b")).unwrap();
    store.save(&record("a")).unwrap();
    let mut changed = record("a");
    changed.status = StreamStatus::Paused;
    store.save(&changed).unwrap();
    let (_, records) = StreamStore::open(dir.path()).unwrap();
    assert_eq!(records, vec![changed, record("b")]);
}

#[test]
fn deleted_records_are_gone_and_deleting_twice_is_fine() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = StreamStore::open(dir.path()).unwrap();
    store.save(&record("a")).unwrap();
    store.delete("a").unwrap();
    store.delete("a").unwrap();
    assert!(StreamStore::open(dir.path()).unwrap().1.is_empty());
}

#[test]
fn a_corrupt_record_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.json"), b"{").unwrap();
    let err = StreamStore::open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("x.json") && err.contains("corrupt"), "{err}");
}

#[test]
fn the_newer_progress_counts_but_never_for_a_disabled_stream() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = StreamStore::open(dir.path()).unwrap();
    let mut ahead = record("a");
    store.save(&ahead).unwrap();
    ahead.delivered = Some(Position {
        position: 9,
        cursor: "c9".to_owned(),
    });
    ahead.acked = vec!["a.10.0".to_owned()];
    store.save_progress(&ahead).unwrap();
    let (_, records) = StreamStore::open(dir.path()).unwrap();
    assert_eq!(records, vec![ahead.clone()], "the progress file is newer");

    let mut disabled = record("a");
    disabled.status = StreamStatus::Disabled;
    disabled.delivered = None;
    store.save(&disabled).unwrap();
    let (_, records) = StreamStore::open(dir.path()).unwrap();
    assert_eq!(records, vec![disabled], "a disabled stream holds nothing");

    std::fs::write(dir.path().join("a.progress"), b"{tor").unwrap();
    store.save(&record("a")).unwrap();
    let (_, records) = StreamStore::open(dir.path()).unwrap();
    assert_eq!(
        records,
        vec![record("a")],
        "a torn progress file falls back to the record"
    );
    store.delete("a").unwrap();
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "both files gone"
    );
}
