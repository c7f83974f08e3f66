//! The fuzz targets' harnesses: each takes arbitrary bytes, feeds them to one of the engine's
//! entry points for untrusted input, and panics when a property breaks. `cargo fuzz run NAME`
//! drives them with libFuzzer (`fuzz_targets/`); `tests/replay.rs` replays the committed corpora
//! (`corpus/NAME/`) through the same functions, so every input a run kept stays a test.
//!
//! A returned error is never a finding: only a panic, a hang, or a broken property is.

use std::sync::{Arc, OnceLock};

use backorder::gateway::{Accounts, Gateway, GatewayOptions, HashCost};
use backorder::{Clock, Engine, ManualClock, NewAccount, PlaceBackorder, SimulatedRegistry};
use backorder_core::api::{Command, Limits, Request, Response};
use backorder_core::epp::command::ClientFrame;
use backorder_core::epp::frame::FrameReader;
use backorder_core::epp::response::ServerFrame;
use backorder_core::lifecycle::history_follows_table;
use backorder_core::{CatchOutcome, Currency, DomainName, ErrorCode, Status};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

/// The EPP decoders: server and client documents, and the RFC 5734 frame reader. What decodes
/// must encode and decode again to the same document (the codec reads what it writes).
pub fn epp_decode(data: &[u8]) {
    // The streaming path for plain responses answers what the general reader does, or stands
    // aside: the two readers agree on every input, errors included.
    assert_eq!(
        ServerFrame::from_xml(data),
        ServerFrame::from_xml_general(data),
        "the streaming and the general reader disagree"
    );
    if let Ok(frame) = ServerFrame::from_xml(data) {
        let written = frame.to_xml();
        let again = ServerFrame::from_xml(written.as_bytes()).unwrap_or_else(|e| {
            panic!("its own server document did not read back: {e}\n{written}")
        });
        assert_eq!(again.to_xml(), written, "server document not stable");
    }
    if let Ok(frame) = ClientFrame::from_xml(data) {
        let written = frame.to_xml();
        let again = ClientFrame::from_xml(written.as_bytes()).unwrap_or_else(|e| {
            panic!("its own client document did not read back: {e}\n{written}")
        });
        assert_eq!(again.to_xml(), written, "client document not stable");
    }
    let mut frames = FrameReader::new(4096);
    for piece in data.chunks(97) {
        frames.push(piece);
        while let Ok(Some(frame)) = frames.next_frame() {
            assert!(frame.len() <= 4096, "a frame over the cap came out");
        }
    }
}

const API_ACCOUNTS: &str = "[[account]]\nlogin = 'ann'\npassword = 'pw'\nbalance = '1000'\n\
    currency = 'USD'\ncontacts = { owner = 'P-ANN1', admin = 'P-ANN1', tech = 'P-ANN1', billing = 'P-ANN1' }\n\
    [[account]]\nlogin = 'kid'\npassword = 'pw'\nbalance = '10'\ncurrency = 'USD'\nparent = 'ann'\n\
    [[account]]\nlogin = 'eve'\npassword = 'pw'\nbalance = '10'\ncurrency = 'USD'\n";

fn gateway() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        let engine = Engine::builder()
            .clock(ManualClock::new(start))
            .seed(1)
            .build()
            .expect("engine");
        for (i, name) in ["john.com", "doe.net", "shop.biz", "bücher.de"]
            .iter()
            .enumerate()
        {
            let _ = engine.add_pending_deletion(name, start + Duration::days(2 + i as i64));
        }
        let accounts = Accounts::parse(API_ACCOUNTS, HashCost::TESTING).expect("accounts");
        Gateway::new(Arc::new(engine), accounts, GatewayOptions::default()).expect("gateway")
    })
}

/// HEXONET's command API: the form decoder and command reader, then the whole gateway (logins,
/// sessions, every command, against an engine kept across inputs). The bytes before the first
/// `#` are the query string, the rest the body. Every answer must be one well-formed response:
/// `[RESPONSE]` first, one `CODE`, `EOF` last, no line a value could have forged.
pub fn command_api(data: &[u8]) {
    let (query, body) = match data.iter().position(|b| *b == b'#') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    // The reader alone, as the gateway uses it: any input, no panic.
    if let Ok(request) = Request::from_form(query, body, &Limits::default()) {
        let _ = Command::parse(&request.params);
    }
    let answer = gateway().call(query, body);
    let text = std::str::from_utf8(&answer).expect("answers are UTF-8");
    assert!(
        text.starts_with("[RESPONSE]\n") && text.ends_with("\nEOF\n"),
        "{text}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("CODE = ")).count(),
        1,
        "{text}"
    );
    assert_eq!(lines.iter().filter(|l| **l == "EOF").count(), 1, "{text}");
    assert!(
        lines.iter().all(|l| l.starts_with("PROPERTY[")
            || [
                "[RESPONSE]",
                "CODE = ",
                "DESCRIPTION = ",
                "RUNTIME = ",
                "QUEUETIME = ",
                "EOF"
            ]
            .iter()
            .any(|p| l.starts_with(p))),
        "{text}"
    );
    Response::parse(text).unwrap_or_else(|e| panic!("{e}: {text}"));
}

/// Domain names: what parses is at most 253 bytes of lower-case ASCII in labels of 1 to 63, and
/// reads back to itself from both its ASCII and its Unicode form.
pub fn domain_name(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(name) = DomainName::parse(text) else {
        return;
    };
    let ascii = name.as_str();
    assert!(ascii.len() <= 253, "{ascii}");
    assert!(
        ascii
            .bytes()
            .all(|b| b.is_ascii() && !b.is_ascii_uppercase()),
        "{ascii}"
    );
    assert!(
        ascii.split('.').all(|l| (1..=63).contains(&l.len())),
        "{ascii}"
    );
    assert_eq!(DomainName::parse(ascii).as_ref(), Ok(&name), "ASCII form");
    let unicode = name.to_unicode();
    assert_eq!(
        DomainName::parse(&unicode).as_ref(),
        Ok(&name),
        "Unicode form {unicode}"
    );
}

/// Deletion lists: the parallel reader gives exactly what the sequential one does (lines, bad
/// lines and their numbers); a zip is opened or refused, never trusted.
pub fn list_parsers(data: &[u8]) {
    let sequential = backorder_core::droplist::parse(data);
    let parallel = backorder::catalog::parse_list(data);
    match (&sequential, &parallel) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        _ => panic!("the readers disagree: {sequential:?} / {parallel:?}"),
    }
    if let Ok(text) = backorder::catalog::list_text(data) {
        let _ = backorder_core::droplist::parse(&text);
    }
}

/// The auction bid path: three backorderers in a private auction, then bids (who, how much, how
/// long after the last) read from the bytes, then the clock runs out. No bid is refused with
/// anything but a typed, expected code; the ledger audit stays clean after every bid; at most one
/// backorder wins the name; every history follows the transition table.
pub fn auction_bid(data: &[u8]) {
    let start = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
    let clock = ManualClock::new(start);
    let mut registry = SimulatedRegistry::new(3);
    registry.set_outcome("prize.com", CatchOutcome::Caught);
    let engine = Engine::builder()
        .clock(clock.clone())
        .seed(3)
        .registry(Box::new(registry))
        .build()
        .expect("engine");
    let drop_at = start + Duration::days(4);
    engine
        .add_pending_deletion("prize.com", drop_at)
        .expect("listed");
    let mut ids = Vec::new();
    for (i, who) in ["a", "b", "c"].iter().enumerate() {
        engine
            .create_account(NewAccount {
                id: who.to_string(),
                currency: Currency::USD,
                contacts: backorder::full_contacts("P-X1"),
            })
            .expect("account");
        // One bidder is short of money, so payments can fail.
        let funds = if i == 2 { 60 } else { 5_000 };
        engine
            .fund(who, Decimal::from(funds), "seed")
            .expect("funded");
        let b = engine
            .place_backorder(PlaceBackorder {
                account: who.to_string(),
                domain: "prize.com".into(),
                ..Default::default()
            })
            .expect("placed");
        ids.push((who.to_string(), b.id));
    }
    let run_until = |until: chrono::DateTime<Utc>| {
        while let Some(t) = engine.next_wake().expect("next wake") {
            if t > until {
                break;
            }
            if t > clock.now() {
                clock.set(t);
            }
            engine.tick().expect("tick");
        }
    };
    // To the auction's opening.
    let opens = {
        let mut opens = None;
        for _ in 0..1000 {
            let b = engine.backorder("a", ids[0].1).expect("backorder");
            if b.status == Status::AuctionPending {
                let view = engine.auction("a", ids[0].1).expect("auction");
                opens = Some(view.starts_at);
                break;
            }
            let Some(t) = engine.next_wake().expect("next wake") else {
                break;
            };
            clock.set(t.max(clock.now()));
            engine.tick().expect("tick");
        }
        opens.expect("the caught name goes to auction")
    };
    run_until(opens);
    clock.set(opens.max(clock.now()));
    engine.tick().expect("tick");
    for chunk in data.chunks(4) {
        let who = chunk[0] as usize % 4;
        let cents =
            u32::from(*chunk.get(1).unwrap_or(&0)) << 8 | u32::from(*chunk.get(2).unwrap_or(&0));
        let control = *chunk.get(3).unwrap_or(&0);
        let mut amount = Decimal::new(i64::from(cents) * 7, u32::from(control % 3));
        if control & 0x80 != 0 {
            amount = -amount;
        }
        let (account, id) = match who {
            3 => ("a".to_string(), ids[1].1), // someone else's backorder: must be "not found"
            w => ids[w].clone(),
        };
        match engine.bid(&account, id, amount) {
            Ok(view) => {
                // An accepted proxy bid is the bidder's standing maximum, at or above the price.
                assert_eq!(view.your_max, amount, "bid {amount} by {account}");
                assert!(view.price <= view.your_max || !view.leading, "{view:?}");
            }
            Err(e) => {
                let allowed = [
                    ErrorCode::BidTooLow,
                    ErrorCode::AuctionNotOpen,
                    ErrorCode::InvalidAmount,
                    ErrorCode::StatusDoesNotAllow,
                    ErrorCode::BackorderNotFound,
                    ErrorCode::AuctionNotFound,
                ];
                assert!(
                    allowed.contains(&e.code()),
                    "bid {amount} by {account}: {e}"
                );
                if who == 3 {
                    assert_eq!(e.code(), ErrorCode::BackorderNotFound);
                }
            }
        }
        let audit = engine.audit().expect("audit");
        assert!(audit.is_clean(), "{audit:?}");
        let minutes = i64::from(control >> 2 & 0x1f) * 37;
        clock.set(clock.now() + Duration::minutes(minutes));
        engine.tick().expect("tick");
    }
    // Winners pay when they can.
    for (who, id) in &ids {
        let _ = engine.pay(who, *id);
    }
    run_until(start + Duration::days(120));
    for (who, id) in &ids {
        let _ = engine.pay(who, *id);
    }
    run_until(start + Duration::days(240));
    let audit = engine.audit().expect("audit");
    assert!(audit.is_clean(), "{audit:?}");
    let all: Vec<_> = ids
        .iter()
        .map(|(who, id)| engine.backorder(who, *id).expect("backorder"))
        .collect();
    let winners = all
        .iter()
        .filter(|b| matches!(b.status, Status::AuctionWon | Status::Successful))
        .count();
    assert!(
        winners <= 1,
        "{:?}",
        all.iter().map(|b| b.status).collect::<Vec<_>>()
    );
    for b in &all {
        assert!(history_follows_table(&b.history), "{:?}", b.history);
        assert!(b.auth_code.is_none() || b.status == Status::AuctionWon);
    }
}
