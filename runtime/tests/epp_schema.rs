//! Every EPP frame kind the catcher and the registry simulator write validates against the IETF
//! schemas (`../shared/epp-xsd/epp-all.xsd`), checked by `xmllint`. scripts/test installs
//! xmllint (Debian's libxml2-utils) when it is missing; run alone without it, this test says how
//! to get it and passes only when `CI` is unset.

use std::path::{Path, PathBuf};
use std::process::Command;

use backorder::core::epp::samples;

fn schema() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("BACKORDER_EPP_XSD").map(PathBuf::from),
        Some(here.join("../../shared/epp-xsd/epp-all.xsd")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .expect(
        "the EPP schemas: ../shared/epp-xsd/epp-all.xsd beside the checkout, or BACKORDER_EPP_XSD",
    )
}

fn xmllint_present() -> bool {
    Command::new("xmllint").arg("--version").output().is_ok()
}

#[test]
fn every_frame_kind_validates_against_the_epp_schemas() {
    if !xmllint_present() {
        assert!(
            std::env::var_os("CI").is_none(),
            "xmllint is required in CI (apt-get install libxml2-utils)"
        );
        eprintln!("skipped: xmllint not found (apt-get install libxml2-utils to run this test)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("backorder-epp-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (kind, frame) in samples::client_frames() {
        let path = dir.join(format!("client-{kind}.xml"));
        std::fs::write(&path, frame.to_xml()).unwrap();
        files.push(path);
    }
    for (kind, frame) in samples::server_frames() {
        let path = dir.join(format!("server-{kind}.xml"));
        std::fs::write(&path, frame.to_xml()).unwrap();
        files.push(path);
    }
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .args(&files)
        .output()
        .expect("xmllint runs");
    let report = String::from_utf8_lossy(&output.stderr);
    std::fs::remove_dir_all(&dir).ok();
    assert!(output.status.success(), "{report}");
    // One "validates" line a file: nothing was skipped.
    assert_eq!(
        report.lines().filter(|l| l.ends_with(" validates")).count(),
        files.len(),
        "{report}"
    );
}

#[test]
fn the_schema_check_catches_an_invalid_frame() {
    if !xmllint_present() {
        return;
    }
    // A create whose auth code is missing: the schema requires <domain:authInfo>.
    let bad = r#"<?xml version="1.0" encoding="UTF-8"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><domain:create xmlns:domain="urn:ietf:params:xml:ns:domain-1.0"><domain:name>a.com</domain:name></domain:create></create><clTRID>ABC-1</clTRID></command></epp>"#;
    let path = std::env::temp_dir().join(format!("backorder-epp-bad-{}.xml", std::process::id()));
    std::fs::write(&path, bad).unwrap();
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(&path)
        .output()
        .expect("xmllint runs");
    std::fs::remove_file(&path).ok();
    assert!(!output.status.success());
}
