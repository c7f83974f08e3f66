//! One of every frame kind this module writes, with the optional parts filled: what the schema
//! check (`xmllint` in runtime's `epp_schema` test), the round-trip tests and fuzzing seeds use.
//!
//! ```
//! use backorder_core::epp::{command::ClientFrame, samples};
//! for (kind, frame) in samples::client_frames() {
//!     assert_eq!(ClientFrame::from_xml(frame.to_xml().as_bytes()).unwrap(), frame, "{kind}");
//! }
//! ```

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::command::{ClientFrame, Command, Create, Fee, FeeQuery, Login};
use super::outcome::{NOT_YET_DROPPED, PREMIUM_CLASS};
use super::response::{
    CheckedName, CreatedName, DomainInfo, EppResult, FeeCheck, FeeData, Greeting, MessageQueue,
    Response, ResponseData, ServerFrame, TransferInfo,
};
use super::{DOMAIN_NS, FEE_NS, HOST_NS, RGP_NS};
use crate::secret::Secret;

/// A registry's answer to a create as registries write it, indented: RFC 5731 §3.2.1's example.
/// The codec benchmark reads it, and the streaming reader's tests vary it.
pub const CREATE_ANSWER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<epp xmlns="urn:ietf:params:xml:ns:epp-1.0">
  <response>
    <result code="1000">
      <msg>Command completed successfully</msg>
    </result>
    <resData>
      <domain:creData xmlns:domain="urn:ietf:params:xml:ns:domain-1.0">
        <domain:name>example.com</domain:name>
        <domain:crDate>1999-04-03T22:00:00.0Z</domain:crDate>
        <domain:exDate>2001-04-03T22:00:00.0Z</domain:exDate>
      </domain:creData>
    </resData>
    <trID>
      <clTRID>ABC-12345</clTRID>
      <svTRID>54321-XYZ</svTRID>
    </trID>
  </response>
</epp>
"#;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("a sample time")
        .with_timezone(&Utc)
}

/// Every client frame kind, named.
pub fn client_frames() -> Vec<(&'static str, ClientFrame)> {
    let command = |c| ClientFrame::command(c, "CATCH-0001");
    let mut login = Login::new("catcher1", "s3cret-pass");
    login.new_password = Some(Secret::new("n3w-secret-pass".into()));
    let mut create = Create::new("example.com", "Auth-2fooBAR");
    create.period_years = 2;
    create.registrant = Some("REG-1".into());
    create.contacts = vec![
        ("admin".into(), "ADM-1".into()),
        ("tech".into(), "TEC-1".into()),
        ("billing".into(), "BIL-1".into()),
    ];
    create.fee = Some(Fee {
        currency: "USD".into(),
        amount: Decimal::new(12_500, 2),
    });
    vec![
        ("hello", ClientFrame::Hello),
        ("login", command(Command::Login(login))),
        ("logout", command(Command::Logout)),
        ("poll-request", command(Command::PollRequest)),
        (
            "poll-ack",
            command(Command::PollAck {
                message: "12345".into(),
            }),
        ),
        (
            "check",
            command(Command::Check {
                names: vec!["example.com".into(), "example.net".into()],
                fee: None,
            }),
        ),
        (
            "check-fee",
            command(Command::Check {
                names: vec!["premium.com".into()],
                fee: Some(FeeQuery {
                    currency: Some("USD".into()),
                    period_years: 1,
                }),
            }),
        ),
        (
            "create",
            command(Command::Create(Create::new("example.com", "Auth-2fooBAR"))),
        ),
        ("create-fee", command(Command::Create(create))),
        (
            "info",
            command(Command::Info {
                name: "example.com".into(),
                auth_code: Some(Secret::new("Auth-2fooBAR".into())),
            }),
        ),
        (
            "transfer-query",
            command(Command::TransferQuery {
                name: "example.com".into(),
                auth_code: Some(Secret::new("Auth-2fooBAR".into())),
            }),
        ),
        (
            "no-transaction-id",
            ClientFrame::Command {
                command: Command::Logout,
                transaction: None,
            },
        ),
    ]
}

fn response(code: u16, message: &str) -> Response {
    let mut r = Response::with_result(code, message, "SIM-000001");
    r.client_transaction = Some("CATCH-0001".into());
    r
}

/// Every server frame kind, named.
pub fn server_frames() -> Vec<(&'static str, ServerFrame)> {
    let greeting = Greeting {
        server_id: "Registry Simulator".into(),
        server_date: at("2026-03-07T19:00:00.25Z"),
        objects: vec![DOMAIN_NS.into(), HOST_NS.into()],
        extensions: vec![RGP_NS.into(), FEE_NS.into()],
    };
    let mut created = response(1000, "Command completed successfully");
    created.data = Some(ResponseData::Create(CreatedName {
        name: "example.com".into(),
        created_at: at("2026-03-07T19:00:01.123456Z"),
        expires_at: Some(at("2027-03-07T19:00:01.123456Z")),
    }));
    created.fee = Some(FeeData::Create {
        currency: "USD".into(),
        fee: Decimal::new(899, 2),
    });
    let mut not_yet = response(2302, "Object exists");
    not_yet.results[0].reasons.push(NOT_YET_DROPPED.into());
    not_yet.results[0].subject = Some("example.com".into());
    let mut premium = response(2004, "Parameter value range error");
    premium.results[0]
        .reasons
        .push("fee does not match the premium price".into());
    let mut checked = response(1000, "Command completed successfully");
    checked.data = Some(ResponseData::Check(vec![
        CheckedName {
            name: "free.com".into(),
            available: true,
            reason: None,
        },
        CheckedName {
            name: "example.com".into(),
            available: false,
            reason: Some(NOT_YET_DROPPED.into()),
        },
        CheckedName {
            name: "taken.com".into(),
            available: false,
            reason: Some("In use".into()),
        },
    ]));
    checked.fee = Some(FeeData::Check {
        currency: "USD".into(),
        names: vec![
            FeeCheck {
                name: "free.com".into(),
                class: Some(PREMIUM_CLASS.into()),
                create_fee: Some(Decimal::new(250_000, 2)),
                reason: None,
            },
            FeeCheck {
                name: "taken.com".into(),
                class: None,
                create_fee: None,
                reason: Some("In use".into()),
            },
        ],
    });
    let mut info = response(1000, "Command completed successfully");
    info.data = Some(ResponseData::Info(DomainInfo {
        name: "example.com".into(),
        roid: "EXAMPLE1-REP".into(),
        statuses: vec!["pendingDelete".into(), "serverHold".into()],
        registrar: "oldregistrar".into(),
        created_at: Some(at("2020-03-07T10:00:00Z")),
        expires_at: Some(at("2026-02-01T10:00:00Z")),
        auth_code: Some(Secret::new("Auth-2fooBAR".into())),
    }));
    info.rgp_statuses = vec!["pendingDelete".into()];
    let mut transfer = response(1000, "Command completed successfully");
    transfer.data = Some(ResponseData::Transfer(TransferInfo {
        name: "example.com".into(),
        status: "pending".into(),
        requested_by: "catcher1".into(),
        requested_at: at("2026-03-10T10:00:00Z"),
        action_by: "oldregistrar".into(),
        action_at: at("2026-03-15T10:00:00Z"),
        expires_at: Some(at("2027-03-07T19:00:01Z")),
    }));
    let mut queued = response(1301, "Command completed successfully; ack to dequeue");
    queued.queue = Some(MessageQueue {
        count: 2,
        id: "12345".into(),
        queued_at: Some(at("2026-03-07T19:00:02Z")),
        message: Some("Transfer requested.".into()),
    });
    let mut two_results = response(2400, "Command failed");
    two_results.results.push(EppResult {
        code: 2400,
        message: "Registry busy & closing <soon>".into(),
        reasons: vec!["maintenance".into()],
        subject: None,
    });
    vec![
        ("greeting", ServerFrame::Greeting(greeting)),
        ("created", ServerFrame::Response(created)),
        (
            "taken",
            ServerFrame::Response(response(2302, "Object exists")),
        ),
        ("not-yet-dropped", ServerFrame::Response(not_yet)),
        (
            "rate-limited",
            ServerFrame::Response(response(
                2502,
                "Session limit exceeded; server closing connection",
            )),
        ),
        (
            "billing-failure",
            ServerFrame::Response(response(2104, "Billing failure")),
        ),
        ("premium-mismatch", ServerFrame::Response(premium)),
        ("check", ServerFrame::Response(checked)),
        ("info", ServerFrame::Response(info)),
        ("transfer-query", ServerFrame::Response(transfer)),
        ("poll-message", ServerFrame::Response(queued)),
        (
            "poll-empty",
            ServerFrame::Response(response(
                1300,
                "Command completed successfully; no messages",
            )),
        ),
        (
            "logout",
            ServerFrame::Response(response(
                1500,
                "Command completed successfully; ending session",
            )),
        ),
        ("failed-twice", ServerFrame::Response(two_results)),
    ]
}
