//! The bad-input catalogue (`tests/bad_input/`), Rust's share: every engine call case through the
//! JSON call surface the bindings use, and the command API, EPP and deletion-list cases. Each case
//! asserts its typed error and that nothing a host can read changed. The Python and Node suites
//! run the same `engine_calls.json`.

use std::sync::Arc;

use backorder::calls::{JsonEngine, Simulation};
use backorder::gateway::{Accounts, Gateway, GatewayOptions, HashCost};
use backorder::Engine;
use backorder_core::api::Response;
use backorder_core::epp::command::ClientFrame;
use backorder_core::epp::frame::FrameReader;
use backorder_core::epp::response::ServerFrame;
use backorder_core::epp::EppError;
use serde_json::Value;

fn catalogue(file: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/bad_input")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn call(e: &JsonEngine, op: &str, args: &Value) -> Result<String, backorder::Error> {
    e.call(op, &args.to_string())
}

fn snapshot(e: &JsonEngine, calls: &[Value]) -> Vec<String> {
    calls
        .iter()
        .map(|c| {
            let op = c[0].as_str().unwrap();
            call(e, op, &c[1]).unwrap_or_else(|err| format!("{op}: {err}"))
        })
        .collect()
}

#[test]
fn every_engine_call_case_is_refused_with_its_code_and_changes_nothing() {
    let cat = catalogue("engine_calls.json");
    let start = cat["start"].as_str().unwrap().parse().unwrap();
    let e = JsonEngine::open_simulated("memory:", Simulation::starting(start)).unwrap();
    for step in cat["setup"].as_array().unwrap() {
        call(&e, step[0].as_str().unwrap(), &step[1]).unwrap();
    }
    let reads = cat["snapshot"].as_array().unwrap();
    let cases = cat["cases"].as_array().unwrap();
    assert!(cases.len() >= 50, "{}", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let before = snapshot(&e, reads);
        match call(&e, case["op"].as_str().unwrap(), &case["args"]) {
            Ok(v) => failures.push(format!("{id}: accepted: {v:.200}")),
            Err(err) => {
                if err.code().as_str() != case["code"].as_str().unwrap() {
                    failures.push(format!(
                        "{id}: {} ({err}), catalogue says {}",
                        err.code().as_str(),
                        case["code"]
                    ));
                }
            }
        }
        if snapshot(&e, reads) != before {
            failures.push(format!("{id}: the refused call changed state"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_command_api_case_is_answered_with_its_code_and_changes_nothing() {
    let cat = catalogue("command_api.json");
    let accounts = Accounts::parse(cat["accounts"].as_str().unwrap(), HashCost::TESTING).unwrap();
    let engine = Arc::new(Engine::open("memory:").unwrap());
    engine
        .add_pending_deletion("john.com", chrono::Utc::now() + chrono::Duration::days(5))
        .unwrap();
    let gateway = Gateway::new(engine.clone(), accounts, GatewayOptions::default()).unwrap();
    for step in cat["setup"].as_array().unwrap() {
        let r = gateway.respond(
            step[0].as_str().unwrap().as_bytes(),
            step[1].as_str().unwrap().as_bytes(),
        );
        assert_eq!(r.code().number(), 200, "{step}: {r:?}");
    }
    let state = || {
        ["ann", "eve"]
            .iter()
            .map(|a| {
                format!(
                    "{:?} {:?} {:?}",
                    engine.backorders(a).unwrap(),
                    engine.balance(a).unwrap(),
                    engine.statement(a, 0, 1000).unwrap()
                )
            })
            .collect::<Vec<_>>()
    };
    let mut failures = Vec::new();
    let cases = cat["cases"].as_array().unwrap();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let before = state();
        let text = String::from_utf8(gateway.call(
            case["query"].as_str().unwrap().as_bytes(),
            case["body"].as_str().unwrap().as_bytes(),
        ))
        .unwrap();
        let r = Response::parse(&text).unwrap();
        let want = case["code"].as_u64().unwrap() as u16;
        if r.code().number() != want {
            failures.push(format!(
                "{id}: {} {}, catalogue says {want}",
                r.code().number(),
                r.description()
            ));
        }
        if state() != before {
            failures.push(format!("{id}: the refused request changed state"));
        }
    }
    assert!(cases.len() >= 15);
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A hostile EPP document: its name, its bytes, and the error it must get.
type EppCase = (&'static str, Vec<u8>, fn(&EppError) -> bool);

/// Hostile EPP: what a registry (or something pretending to be one) could send.
#[test]
fn every_epp_case_is_refused_with_its_error() {
    let deep = format!(
        "<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\">{}{}</epp>",
        "<a>".repeat(200),
        "</a>".repeat(200)
    );
    let cases: Vec<EppCase> = vec![
        ("billion laughs", br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&lol2;</epp>"#.to_vec(), |e| matches!(e, EppError::Entity(_))),
        ("external entity", br#"<!DOCTYPE epp [<!ENTITY x SYSTEM "file:///etc/passwd">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#.to_vec(), |e| matches!(e, EppError::Entity(_))),
        ("undefined entity", br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&x;</epp>"#.to_vec(), |e| matches!(e, EppError::Entity(_) | EppError::Malformed(_))),
        ("deep nesting", deep.into_bytes(), |e| matches!(e, EppError::TooDeep(_))),
        ("not utf-8", b"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\">\xff</epp>".to_vec(), |e| matches!(e, EppError::Malformed(_))),
        ("unclosed", b"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><greeting>".to_vec(), |e| matches!(e, EppError::Malformed(_))),
        ("wrong namespace", b"<epp xmlns=\"urn:example:not-epp\"><hello/></epp>".to_vec(), |e| matches!(e, EppError::Unexpected(_))),
        ("prefix bound elsewhere", b"<e:epp xmlns:e=\"urn:example\"><e:greeting/></e:epp>".to_vec(), |e| matches!(e, EppError::Unexpected(_))),
        ("two bodies", b"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><greeting/><response/></epp>".to_vec(), |e| matches!(e, EppError::Unexpected(_))),
        ("empty", Vec::new(), |e| matches!(e, EppError::Malformed(_) | EppError::Unexpected(_))),
    ];
    let mut failures = Vec::new();
    for (id, bytes, expected) in &cases {
        match ServerFrame::from_xml(bytes) {
            Ok(f) => failures.push(format!("{id}: read as {f:?}")),
            Err(e) if !expected(&e) => failures.push(format!("{id}: {e:?}")),
            Err(_) => {}
        }
        if let Ok(f) = ClientFrame::from_xml(bytes) {
            failures.push(format!("{id}: read as a client frame {f:?}"));
        }
    }
    // Frames: a length over the cap, and one under the header's own four bytes.
    let mut reader = FrameReader::new(1024);
    reader.push(&[0, 1, 0, 0, b'<']);
    assert!(matches!(
        reader.next_frame(),
        Err(EppError::FrameTooLarge { .. })
    ));
    let mut reader = FrameReader::new(1024);
    reader.push(&[0, 0, 0, 3]);
    assert!(matches!(reader.next_frame(), Err(EppError::BadLength(3))));
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Deletion lists: bad lines are reported with their numbers and kept out; a file that is no
/// list is refused whole.
#[test]
fn every_list_case_is_refused_or_its_bad_lines_reported() {
    let whole_refusals: Vec<(&str, Vec<u8>)> = vec![(
        "a zip that is not one",
        b"PK\x03\x04 not really a zip".to_vec(),
    )];
    for (id, bytes) in &whole_refusals {
        assert!(backorder::catalog::list_text(bytes).is_err(), "{id}");
    }
    // (case, the list, the number of its one bad line)
    let lines: Vec<(&str, &str, usize)> = vec![
        ("bad name", "john.com;2026-03-05 19:00:00\n-bad-.com;2026-03-05 19:00:00\n", 2),
        ("bad time", "john.com;2026-03-05 19:00:00\ndoe.net;yesterday\n", 2),
        ("crlf inside a name", "john.com;2026-03-05 19:00:00\njo\rhn.com;2026-03-05 19:00:00\n", 2),
        ("a missing field", "john.com;2026-03-05 19:00:00\ndoe.net\n", 2),
        ("an over-long name", &*Box::leak(format!("john.com;2026-03-05 19:00:00\n{}.com;2026-03-05 19:00:00\n", "a".repeat(300)).into_boxed_str()), 2),
        ("the IETF format with a bad purge time", "TLD,DOMAIN,EXPIRED,PURGED\ncom,john.com,2026-02-01,2026-03-05T19:00:00Z\ncom,doe.com,2026-02-01,soon\n", 3),
    ];
    let mut failures = Vec::new();
    for (id, text, bad_line) in &lines {
        match backorder_core::droplist::parse(text.as_bytes()) {
            Ok(list) => {
                let numbers: Vec<u64> = list.bad_lines.iter().map(|b| b.line).collect();
                if numbers != [*bad_line as u64] || list.entries.len() != 1 {
                    failures.push(format!(
                        "{id}: {} good, bad lines {numbers:?}",
                        list.entries.len()
                    ));
                }
            }
            Err(e) => failures.push(format!("{id}: refused whole: {e}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
