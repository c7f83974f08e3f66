//! Replays every committed corpus input through its fuzz harness: what a fuzzing run kept (and
//! every input that once found a bug) stays a test on stable Rust, without libFuzzer.

use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut inputs: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("corpus entry").path();
            let bytes = std::fs::read(&path).expect("corpus file");
            (path, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let inputs = corpus(target);
    for (path, bytes) in &inputs {
        let outcome = std::panic::catch_unwind(|| harness(bytes));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    inputs.len()
}

#[test]
fn epp_decode_corpus() {
    replay("epp_decode", backorder_fuzz::epp_decode);
}

#[test]
fn command_api_corpus() {
    replay("command_api", backorder_fuzz::command_api);
}

#[test]
fn domain_name_corpus() {
    replay("domain_name", backorder_fuzz::domain_name);
}

#[test]
fn list_parsers_corpus() {
    replay("list_parsers", backorder_fuzz::list_parsers);
}

#[test]
fn auction_bid_corpus() {
    replay("auction_bid", backorder_fuzz::auction_bid);
}

/// The EPP corpus starts from every frame the codec's own samples hold, so a fuzzing run begins
/// from documents that decode. `BACKORDER_WRITE_SEED_CORPUS=1` writes the missing ones.
#[test]
fn the_epp_corpus_holds_every_codec_sample() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/epp_decode");
    let write = std::env::var_os("BACKORDER_WRITE_SEED_CORPUS").is_some();
    let mut missing = Vec::new();
    let samples = backorder_core::epp::samples::client_frames()
        .into_iter()
        .map(|(name, f)| (format!("client-{name}"), f.to_xml()))
        .chain(
            backorder_core::epp::samples::server_frames()
                .into_iter()
                .map(|(name, f)| (format!("server-{name}"), f.to_xml())),
        );
    for (name, xml) in samples {
        let path = dir.join(format!(
            "seed-{}.xml",
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ));
        if std::fs::read(&path).ok().as_deref() != Some(xml.as_bytes()) {
            if write {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(&path, xml).unwrap();
            } else {
                missing.push(path.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "run with BACKORDER_WRITE_SEED_CORPUS=1: {missing:#?}"
    );
}
