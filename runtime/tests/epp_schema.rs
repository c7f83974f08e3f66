//! Every EPP frame kind the catcher and the registry simulator write validates against the IETF
//! schemas (`../shared/epp-xsd/epp-all.xsd`), checked by `xmllint`. scripts/test installs
//! xmllint (Debian's libxml2-utils) when it is missing; run alone without it, this test says how
//! to get it and passes only when `CI` is unset.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use backorder::core::epp::command::{ClientFrame, Command, Create, Login};
use backorder::core::epp::response::ServerFrame;
use backorder::core::epp::samples;
use backorder::core::Secret;
use backorder::simulator::rules::{syntax_error, Registry, RegistryConfig};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

/// What the simulator answers to each sample command, at moments that reach each kind of
/// answer: before the drop, after it, twice, and to a frame it cannot read.
fn simulator_frames() -> Vec<(String, ServerFrame)> {
    let batch = Utc.with_ymd_and_hms(2026, 3, 7, 19, 0, 0).unwrap();
    let mut config = RegistryConfig::new(3);
    config.add_registrar("catcher1", "s3cret-pass", Decimal::from(10_000));
    config.add_registrar("other1", "s3cret-pass", Decimal::from(10_000));
    config
        .premium
        .insert("premium.com".into(), Decimal::from(2500));
    config.commands_per_second = Some(100);
    let mut registry = Registry::new(config);
    registry.schedule_batch(
        &["example.com".into(), "example.net".into()],
        batch,
        Duration::zero(),
    );
    let session = registry.open_session();
    let mut frames = vec![(
        "greeting".to_string(),
        ServerFrame::Greeting(registry.greeting(batch)),
    )];
    frames.push((
        "syntax-error".into(),
        ServerFrame::Response(syntax_error("bad frame")),
    ));
    for (round, at) in [
        ("before", batch - Duration::seconds(1)),
        ("after", batch),
        ("again", batch),
    ] {
        for (kind, frame) in samples::client_frames() {
            let ClientFrame::Command {
                command,
                transaction,
            } = frame
            else {
                continue;
            };
            if matches!(command, Command::Logout) {
                continue;
            }
            let answer = registry.handle(session, &command, transaction.as_deref(), at);
            frames.push((
                format!("sim-{round}-{kind}"),
                ServerFrame::Response(answer.response),
            ));
        }
    }
    let extra = [
        (
            "premium-without-fee",
            Command::Create(Create::new("premium.com", "Auth-1xyz")),
        ),
        (
            "wrong-auth-code",
            Command::TransferQuery {
                name: "example.com".into(),
                auth_code: Some(Secret::new("nope".into())),
            },
        ),
    ];
    let stranger = registry.open_session();
    registry.handle(
        stranger,
        &Command::Login(Login::new("other1", "s3cret-pass")),
        None,
        batch,
    );
    for (kind, command) in extra {
        let answer = registry.handle(stranger, &command, Some("EXTRA-1"), batch);
        frames.push((
            format!("sim-{kind}"),
            ServerFrame::Response(answer.response),
        ));
    }
    let answer = registry.handle(session, &Command::Logout, None, batch);
    frames.push(("sim-logout".into(), ServerFrame::Response(answer.response)));
    frames
}

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
    Process::new("xmllint").arg("--version").output().is_ok()
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
    let simulated = simulator_frames();
    let codes: std::collections::BTreeSet<u16> = simulated
        .iter()
        .filter_map(|(_, f)| match f {
            ServerFrame::Response(r) => Some(r.code()),
            ServerFrame::Greeting(_) => None,
        })
        .collect();
    // The simulator's answers cover success, messages, not-yet-dropped/taken, premium,
    // syntax, use, authorization and session-ending codes.
    for code in [1000, 1300, 1301, 1500, 2001, 2002, 2004, 2202, 2302] {
        assert!(
            codes.contains(&code),
            "no simulator answer with {code}: {codes:?}"
        );
    }
    for (kind, frame) in simulated {
        let path = dir.join(format!("server-{kind}.xml"));
        std::fs::write(&path, frame.to_xml()).unwrap();
        files.push(path);
    }
    let output = Process::new("xmllint")
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
    let output = Process::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema())
        .arg(&path)
        .output()
        .expect("xmllint runs");
    std::fs::remove_file(&path).ok();
    assert!(!output.status.success());
}
