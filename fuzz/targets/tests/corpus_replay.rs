//! Replays the committed fuzz corpora on stable Rust, as part of `cargo test`: every file in
//! `fuzz/corpus/<target>/` and, when present, every crash regression in `fuzz/artifacts/<target>/`
//! goes through its target, which asserts its invariants. Each corpus must hold at least one input
//! the parser accepts, so the replay reaches past the first refusal.

use std::path::{Path, PathBuf};

use riskgate_fuzz_targets::{Verdict, TARGETS};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("fuzz/targets has a parent")
        .to_path_buf()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let run = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, run)| *run)
        .expect("a known target");
    let corpus = files(&fuzz_dir().join("corpus").join(target));
    assert!(!corpus.is_empty(), "fuzz/corpus/{target}/ is empty");
    let mut accepted = 0;
    for path in &corpus {
        let data = std::fs::read(path).expect("a readable corpus file");
        if run(&data) == Verdict::Accepted {
            accepted += 1;
        }
    }
    assert!(
        accepted > 0,
        "no input in fuzz/corpus/{target}/ is accepted by the parser"
    );
    for path in files(&fuzz_dir().join("artifacts").join(target)) {
        let data = std::fs::read(path).expect("a readable artifact");
        run(&data);
    }
}

#[test]
fn lookout_event_corpus_replays() {
    replay("lookout_event");
}

#[test]
fn lookout_device_corpus_replays() {
    replay("lookout_device");
}

#[test]
fn zimperium_threat_corpus_replays() {
    replay("zimperium_threat");
}

#[test]
fn ingest_validation_corpus_replays() {
    replay("ingest_validation");
}

#[test]
fn stream_cursor_corpus_replays() {
    replay("stream_cursor");
}

#[test]
fn webhook_payload_corpus_replays() {
    replay("webhook_payload");
}

#[test]
fn rpc_decode_corpus_replays() {
    replay("rpc_decode");
}

/// `rpc_decode` covers every RPC the API declares, so a new one cannot skip the decoding check.
#[test]
fn rpc_decode_lists_every_rpc_of_the_api() {
    use prost::Message as _;
    let set = prost_types::FileDescriptorSet::decode(riskgate_proto::FILE_DESCRIPTOR_SET)
        .expect("the API's descriptor set");
    let mut declared: Vec<String> = set
        .file
        .iter()
        .flat_map(|file| {
            file.service.iter().flat_map(move |service| {
                service.method.iter().map(move |method| {
                    format!("/{}.{}/{}", file.package(), service.name(), method.name())
                })
            })
        })
        .collect();
    let mut listed: Vec<String> = riskgate_fuzz_targets::RPCS
        .iter()
        .map(|(path, _)| (*path).to_owned())
        .collect();
    declared.sort();
    listed.sort();
    assert_eq!(listed, declared);
}

#[test]
fn every_target_has_a_fuzz_target_file() {
    for (target, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{target}.rs"));
        let source =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            source.contains(&format!("riskgate_fuzz_targets::{target}(data)")),
            "{} does not call its target",
            path.display()
        );
    }
}
