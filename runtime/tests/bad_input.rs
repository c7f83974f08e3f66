//! SPEC §10: every bad input gets a clear, typed error and changes nothing.
//!
//! Each case calls one `Engine` entry point with bad input and checks the exact error, then that a
//! snapshot of everything a host can read (accounts, balances, every backorder in full,
//! statements, the whole outbox and its length, policies, the catalog entries, status counts,
//! the next wake-up) is the same before and after.

use std::fmt::Debug;

use backorder::core::catalog;
use backorder::core::policy::MAX_DURATION_SECS;
use backorder::core::{AuctionState, PendingDeletion, TldPolicy};
use backorder::{
    full_contacts, Account, Backorder, Balance, Contacts, Currency, Engine, Error, ErrorCode,
    Event, EventKind, ManualClock, NewAccount, PlaceBackorder, SimulatedRegistry, StatementLine,
    Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const ACCOUNTS: [&str; 3] = ["alice", "bob", "carol"];
const NAMES: [&str; 5] = ["john.com", "shop.info", "soon.com", "x.org", "edge.com"];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

fn drop_at() -> DateTime<Utc> {
    t0() + Duration::days(5)
}

/// Everything a host can read back.
#[derive(Debug, PartialEq)]
struct Snapshot {
    accounts: Vec<Account>,
    balances: Vec<Balance>,
    backorders: Vec<Vec<Backorder>>,
    statements: Vec<Vec<StatementLine>>,
    event_count: usize,
    events: Vec<Event>,
    policies: Vec<TldPolicy>,
    catalog: Vec<Option<PendingDeletion>>,
    status_counts: Vec<(Status, u64)>,
    next_wake: Option<DateTime<Utc>>,
}

/// Three customers (alice and bob in USD, carol in EUR), funded; `john.com` backordered by alice
/// and bob, `shop.info` (exclusive) by alice, unpaid; `soon.com` drops in 2 h (placing closed).
struct Fx {
    e: Engine,
    clock: ManualClock,
    alice_john: u64,
    bob_john: u64,
    alice_shop: u64,
}

fn fixture() -> Fx {
    let clock = ManualClock::new(t0());
    let registry = SimulatedRegistry::new(1)
        .with_catch_permille(1000)
        .with_contested_catch_permille(1000)
        .with_not_dropped_permille(0);
    let e = Engine::builder()
        .clock(clock.clone())
        .seed(1)
        .registry(Box::new(registry))
        .build()
        .unwrap();
    for (id, currency) in [
        ("alice", Currency::USD),
        ("bob", Currency::USD),
        ("carol", Currency::EUR),
    ] {
        e.create_account(NewAccount {
            id: id.into(),
            currency,
            contacts: full_contacts(&format!("H-{id}")),
        })
        .unwrap();
        e.fund(id, dec!(200), "seed").unwrap();
    }
    e.add_pending_deletion("john.com", drop_at()).unwrap();
    e.add_pending_deletion("shop.info", drop_at()).unwrap();
    e.add_pending_deletion("soon.com", t0() + Duration::hours(2))
        .unwrap();
    e.add_pending_deletion("x.org", drop_at()).unwrap();
    let place = |account: &str, domain: &str, key: Option<&str>| {
        e.place_backorder(PlaceBackorder {
            account: account.into(),
            domain: domain.into(),
            idempotency_key: key.map(str::to_string),
            ..Default::default()
        })
        .unwrap()
        .id
    };
    let alice_john = place("alice", "john.com", Some("order-1"));
    let bob_john = place("bob", "john.com", None);
    let alice_shop = place("alice", "shop.info", None);
    Fx {
        e,
        clock,
        alice_john,
        bob_john,
        alice_shop,
    }
}

impl Fx {
    fn snapshot(&self) -> Snapshot {
        let e = &self.e;
        let events = e.events(0, u32::MAX).unwrap();
        Snapshot {
            accounts: ACCOUNTS.iter().map(|a| e.account(a).unwrap()).collect(),
            balances: ACCOUNTS.iter().map(|a| e.balance(a).unwrap()).collect(),
            backorders: ACCOUNTS.iter().map(|a| e.backorders(a).unwrap()).collect(),
            statements: ACCOUNTS
                .iter()
                .map(|a| e.statement(a, 0, u32::MAX).unwrap())
                .collect(),
            event_count: events.len(),
            events,
            policies: e.policies(),
            catalog: NAMES
                .iter()
                .map(|n| e.pending_deletion(n).unwrap())
                .collect(),
            status_counts: e.status_counts().unwrap().into_iter().collect(),
            next_wake: e.next_wake().unwrap(),
        }
    }

    /// Calls `f`, which must fail with `code` and change nothing; returns the error.
    fn refused<T: Debug>(
        &self,
        what: &str,
        code: ErrorCode,
        f: impl FnOnce(&Engine) -> backorder::Result<T>,
    ) -> Error {
        let before = self.snapshot();
        let err = match f(&self.e) {
            Ok(v) => panic!("{what}: accepted, returned {v:?}"),
            Err(e) => e,
        };
        assert_eq!(err.code(), code, "{what}: wrong error: {err}");
        assert!(!err.to_string().is_empty());
        let after = self.snapshot();
        assert!(
            before == after,
            "{what} changed state:\nbefore {before:#?}\nafter {after:#?}"
        );
        assert!(self.e.audit().unwrap().is_clean(), "{what}: audit");
        err
    }

    fn place(&self, account: &str, domain: &str) -> PlaceBackorder {
        PlaceBackorder {
            account: account.into(),
            domain: domain.into(),
            ..Default::default()
        }
    }

    /// Moves the clock to `t` and ticks.
    fn at(&self, t: DateTime<Utc>) {
        self.clock.set(t);
        let r = self.e.tick().unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }

    /// Runs `john.com` to its drop: caught with two ACTIVE backorders, so a private auction is
    /// scheduled; then to the auction's start. Returns the time it opened.
    fn open_auction(&self) -> DateTime<Utc> {
        self.at(drop_at());
        let b = self.e.backorder("alice", self.alice_john).unwrap();
        assert_eq!(b.status, Status::AuctionPending);
        let view = self.e.auction("alice", self.alice_john).unwrap();
        self.at(view.starts_at);
        assert_eq!(
            self.e.auction("alice", self.alice_john).unwrap().state,
            AuctionState::Open
        );
        view.starts_at
    }
}

fn bad_names() -> Vec<String> {
    let label63 = "a".repeat(63);
    // Four labels of 63 and "com": 4 * 64 + 3 = 259 > 253, every label valid on its own.
    let too_long = format!("{0}.{0}.{0}.{0}.com", label63);
    vec![
        String::new(),
        " ".into(),
        "a b.com".into(),
        " john.com".into(),
        "john.com\r\n".into(),
        "-a.com".into(),
        "a-.com".into(),
        format!("{}.com", "a".repeat(64)),
        too_long,
        "x".repeat(5000),
        "a..com".into(),
        ".com".into(),
        "com".into(),
        "a_b.com".into(),
        "ab--cd.com".into(),
        "xn--zz.com".into(),
        "a.123".into(),
        "john.com..".into(),
    ]
}

#[test]
fn malformed_names_are_refused_by_every_entry_point_that_takes_one() {
    let fx = fixture();
    for bad in bad_names() {
        let shown: String = bad.chars().take(80).collect();
        for (what, err) in [
            (
                "place_backorder",
                fx.refused("place", ErrorCode::InvalidDomainName, |e| {
                    e.place_backorder(fx.place("alice", &bad))
                }),
            ),
            (
                "add_pending_deletion",
                fx.refused("add_pending_deletion", ErrorCode::InvalidDomainName, |e| {
                    e.add_pending_deletion(&bad, drop_at())
                }),
            ),
            (
                "pending_deletion",
                fx.refused("pending_deletion", ErrorCode::InvalidDomainName, |e| {
                    e.pending_deletion(&bad)
                }),
            ),
        ] {
            match err {
                Error::InvalidDomainName { name, reason } => {
                    assert_eq!(name, shown, "{what}({bad:?}) names the input, cut to 80");
                    assert!(!reason.is_empty());
                }
                other => panic!("{what}({bad:?}): {other:?}"),
            }
        }
    }
}

#[test]
fn a_name_of_exactly_253_characters_and_a_label_of_63_are_accepted() {
    let fx = fixture();
    let label63 = "a".repeat(63);
    let name = format!("{0}.{0}.{0}.{1}.com", label63, "b".repeat(57));
    assert_eq!(name.len(), 253);
    fx.e.add_pending_deletion(&name, drop_at()).unwrap();
    fx.e.place_backorder(fx.place("alice", &name)).unwrap();
}

#[test]
fn unknown_zones_are_refused() {
    let fx = fixture();
    for name in ["x.zz", "john.co.uk", "xn--bcher-kva.example"] {
        let zone = name.rsplit('.').next().unwrap();
        let err = fx.refused("place", ErrorCode::UnknownTld, |e| {
            e.place_backorder(fx.place("alice", name))
        });
        assert_eq!(err, Error::UnknownTld(zone.into()));
        let err = fx.refused("add_pending_deletion", ErrorCode::UnknownTld, |e| {
            e.add_pending_deletion(name, drop_at())
        });
        assert_eq!(err, Error::UnknownTld(zone.into()));
    }
}

#[test]
fn unknown_accounts_are_not_found_by_every_entry_point() {
    let fx = fixture();
    let nobody = || Error::AccountNotFound("nobody".into());
    let code = ErrorCode::AccountNotFound;
    assert_eq!(
        fx.refused("account", code, |e| e.account("nobody")),
        nobody()
    );
    assert_eq!(
        fx.refused("balance", code, |e| e.balance("nobody")),
        nobody()
    );
    assert_eq!(
        fx.refused("statement", code, |e| e.statement("nobody", 0, 10)),
        nobody()
    );
    assert_eq!(
        fx.refused("backorders", code, |e| e.backorders("nobody")),
        nobody()
    );
    assert_eq!(
        fx.refused("fund", code, |e| e.fund("nobody", dec!(10), "k1")),
        nobody()
    );
    assert_eq!(
        fx.refused("set_contacts", code, |e| e
            .set_contacts("nobody", full_contacts("H-1"))),
        nobody()
    );
    assert_eq!(
        fx.refused("set_outstanding", code, |e| e
            .set_outstanding("nobody", dec!(1))),
        nobody()
    );
    assert_eq!(
        fx.refused("place", code, |e| e
            .place_backorder(fx.place("nobody", "john.com"))),
        nobody()
    );
    // Calls that name a backorder: an unknown account owns none, so the backorder is not found.
    let id = fx.alice_john;
    let nf = ErrorCode::BackorderNotFound;
    fx.refused("backorder", nf, |e| e.backorder("nobody", id));
    fx.refused("cancel", nf, |e| e.cancel_backorder("nobody", id));
    fx.refused("modify", nf, |e| {
        e.modify_backorder("nobody", id, full_contacts("H-1"))
    });
    fx.refused("pay", nf, |e| e.pay("nobody", id));
    fx.refused("bid", nf, |e| e.bid("nobody", id, dec!(100)));
    fx.refused("auction", nf, |e| e.auction("nobody", id));
}

#[test]
fn the_ledger_own_accounts_are_not_customer_accounts() {
    let fx = fixture();
    for system in [
        "@funding:USD",
        "@revenue:USD",
        "@payout:USD",
        "@funding:EUR",
    ] {
        fx.refused("balance", ErrorCode::AccountNotFound, |e| e.balance(system));
        fx.refused("statement", ErrorCode::AccountNotFound, |e| {
            e.statement(system, 0, 10)
        });
        fx.refused("fund", ErrorCode::AccountNotFound, |e| {
            e.fund(system, dec!(10), "k1")
        });
        fx.refused("account", ErrorCode::AccountNotFound, |e| e.account(system));
        fx.refused("place", ErrorCode::AccountNotFound, |e| {
            e.place_backorder(fx.place(system, "john.com"))
        });
    }
}

#[test]
fn a_duplicate_account_is_refused() {
    let fx = fixture();
    for currency in [Currency::USD, Currency::EUR] {
        let err = fx.refused("create_account", ErrorCode::AccountExists, |e| {
            e.create_account(NewAccount {
                id: "alice".into(),
                currency,
                contacts: Contacts::default(),
            })
        });
        assert_eq!(err, Error::AccountExists("alice".into()));
    }
}

#[test]
fn invalid_account_ids_are_refused() {
    let fx = fixture();
    for id in [
        String::new(),
        "@x".into(),
        "@funding:USD".into(),
        "a".repeat(65),
        "a b".into(),
        " alice".into(),
        "a\tb".into(),
        "a\r\nb".into(),
        "ali\0ce".into(),
        "älice".into(),
    ] {
        fx.refused("create_account", ErrorCode::InvalidArgument, |e| {
            e.create_account(NewAccount {
                id: id.clone(),
                currency: Currency::USD,
                contacts: Contacts::default(),
            })
        });
    }
    // 64 characters is the longest id.
    fx.e.create_account(NewAccount {
        id: "a".repeat(64),
        currency: Currency::USD,
        contacts: Contacts::default(),
    })
    .unwrap();
}

#[test]
fn negative_zero_and_over_precise_amounts_are_refused_by_fund() {
    let fx = fixture();
    for amount in [
        dec!(0),
        dec!(-0.00),
        dec!(-1),
        dec!(-0.01),
        dec!(0.00001),
        dec!(10.12345),
        Decimal::MIN,
    ] {
        let err = fx.refused("fund", ErrorCode::InvalidAmount, |e| {
            e.fund("alice", amount, "new-key")
        });
        assert!(matches!(err, Error::InvalidAmount(_)), "{err:?}");
    }
    // Trailing zeros are not precision: 10.10000 is 10.1.
    fx.e.fund("alice", dec!(10.10000), "trailing").unwrap();
}

#[test]
fn a_top_up_that_would_overflow_the_balance_is_refused() {
    let fx = fixture();
    fx.refused("fund", ErrorCode::InvalidAmount, |e| {
        e.fund("alice", Decimal::MAX, "huge")
    });
}

#[test]
fn an_amount_the_auditor_cannot_total_is_refused() {
    let e = Engine::open("memory:").unwrap();
    e.create_account(NewAccount {
        id: "dave".into(),
        currency: Currency::USD,
        contacts: Contacts::default(),
    })
    .unwrap();
    let r = e.fund("dave", Decimal::MAX, "k");
    let audit = e.audit().unwrap();
    assert!(
        r.is_err() || audit.is_clean(),
        "fund of {} accepted ({:?}) and the audit says {:?}",
        Decimal::MAX,
        r,
        audit.problems
    );
}

#[test]
fn negative_and_unknown_outstanding_is_refused() {
    let fx = fixture();
    fx.refused("set_outstanding", ErrorCode::InvalidAmount, |e| {
        e.set_outstanding("alice", dec!(-0.01))
    });
}

#[test]
fn a_key_reused_with_other_fields_conflicts_and_an_exact_repeat_changes_nothing() {
    let fx = fixture();
    // Top-ups: "seed" was 200 for alice.
    let err = fx.refused("fund", ErrorCode::IdempotencyConflict, |e| {
        e.fund("alice", dec!(10), "seed")
    });
    assert_eq!(err, Error::IdempotencyConflict("seed".into()));
    // A repeat returns the first transfer and moves nothing.
    let first = fx.e.statement("alice", 0, 1).unwrap()[0].transfer;
    let before = fx.snapshot();
    let again = fx.e.fund("alice", dec!(200.00), "seed").unwrap();
    assert_eq!(again.id, first);
    assert!(before == fx.snapshot(), "an exact repeat changed state");
    // Keys are scoped to the account: bob's "seed" is his own.
    assert_ne!(fx.e.fund("bob", dec!(200), "seed").unwrap().id, first);

    // Placements: "order-1" was alice's john.com, full, no own contacts.
    let order = |domain: &str, lite: bool, contacts: Contacts| PlaceBackorder {
        account: "alice".into(),
        domain: domain.into(),
        lite,
        contacts,
        idempotency_key: Some("order-1".into()),
    };
    for (what, req) in [
        ("another name", order("x.org", false, Contacts::default())),
        ("lite", order("john.com", true, Contacts::default())),
        (
            "contacts",
            order("john.com", false, full_contacts("OTHER-1")),
        ),
        (
            "the name in capitals",
            order("JOHN.COM", false, Contacts::default()),
        ),
    ] {
        let err = fx.refused(what, ErrorCode::IdempotencyConflict, |e| {
            e.place_backorder(req.clone())
        });
        assert_eq!(err, Error::IdempotencyConflict("order-1".into()), "{what}");
    }
    let before = fx.snapshot();
    let b =
        fx.e.place_backorder(order("john.com", false, Contacts::default()))
            .unwrap();
    assert_eq!(b.id, fx.alice_john);
    assert!(before == fx.snapshot(), "an exact repeat changed state");
}

#[test]
fn an_empty_or_oversized_idempotency_key_is_refused() {
    let fx = fixture();
    for key in [String::new(), "k".repeat(201)] {
        fx.refused("fund", ErrorCode::InvalidArgument, |e| {
            e.fund("alice", dec!(10), &key)
        });
        fx.refused("place", ErrorCode::InvalidArgument, |e| {
            e.place_backorder(PlaceBackorder {
                idempotency_key: Some(key.clone()),
                ..fx.place("alice", "x.org")
            })
        });
    }
    fx.e.place_backorder(PlaceBackorder {
        idempotency_key: Some("k".repeat(200)),
        ..fx.place("alice", "x.org")
    })
    .unwrap();
}

#[test]
fn a_top_up_key_of_200_bytes_is_accepted() {
    let fx = fixture();
    for len in [184, 185, 200] {
        let r = fx.e.fund("alice", dec!(10), &"k".repeat(len));
        assert!(r.is_ok(), "key of {len} bytes: {r:?}");
    }
}

#[test]
fn control_characters_in_an_idempotency_key_are_refused() {
    let fx = fixture();
    for key in ["k\r\nEOF", "k\nCODE = 200", "k\0", "k\u{7f}"] {
        fx.refused("fund", ErrorCode::InvalidArgument, |e| {
            e.fund("alice", dec!(10), key)
        });
        fx.refused("place", ErrorCode::InvalidArgument, |e| {
            e.place_backorder(PlaceBackorder {
                idempotency_key: Some(key.into()),
                ..fx.place("alice", "x.org")
            })
        });
    }
}

/// An entry point taking a backorder id, called as alice.
type IdOp = Box<dyn Fn(&Engine, u64) -> Option<Error>>;

/// Another customer's backorder is "not found", exactly as an id that does not exist: same error,
/// same message once the id is masked.
#[test]
fn another_accounts_backorder_is_indistinguishable_from_a_missing_one() {
    let fx = fixture();
    let missing = 987_654;
    let shape = |e: &Error, id: u64| e.to_string().replace(&id.to_string(), "#");
    let ops: Vec<(&str, IdOp)> = vec![
        (
            "backorder",
            Box::new(|e, id| e.backorder("alice", id).err()),
        ),
        (
            "cancel",
            Box::new(|e, id| e.cancel_backorder("alice", id).err()),
        ),
        (
            "modify",
            Box::new(|e, id| e.modify_backorder("alice", id, full_contacts("H-9")).err()),
        ),
        ("pay", Box::new(|e, id| e.pay("alice", id).err())),
        ("bid", Box::new(|e, id| e.bid("alice", id, dec!(100)).err())),
        ("auction", Box::new(|e, id| e.auction("alice", id).err())),
    ];
    let check = |phase: &str| {
        for (what, op) in &ops {
            for id in [fx.bob_john, missing, 0, u64::MAX] {
                let before = fx.snapshot();
                let err = op(&fx.e, id).unwrap_or_else(|| panic!("{phase} {what}({id}) succeeded"));
                assert_eq!(err, Error::BackorderNotFound(id), "{phase} {what}({id})");
                assert_eq!(
                    shape(&err, id),
                    shape(&Error::BackorderNotFound(missing), missing),
                    "{phase} {what}"
                );
                assert!(
                    before == fx.snapshot(),
                    "{phase} {what}({id}) changed state"
                );
            }
        }
    };
    check("before the drop");
    // Also while bob's backorder is in a private auction (bid/auction/pay have something to show).
    fx.open_auction();
    check("during the auction");
    // And bob cannot see alice's either.
    for id in [fx.alice_john, fx.alice_shop] {
        assert_eq!(
            fx.e.backorder("bob", id).unwrap_err(),
            Error::BackorderNotFound(id)
        );
        assert_eq!(
            fx.e.auction("bob", id).unwrap_err(),
            Error::BackorderNotFound(id)
        );
    }
}

fn bad_handles() -> Vec<Contacts> {
    let one = |h: &str| Contacts {
        admin: Some(h.into()),
        ..full_contacts("H-OK")
    };
    vec![
        one("ab"),
        one(""),
        one(&"h".repeat(17)),
        one("a b c"),
        one("hé-1"),
        one("H-1\r\n"),
    ]
}

#[test]
fn contact_handles_too_short_too_long_or_not_printable_are_refused() {
    let fx = fixture();
    for c in bad_handles() {
        fx.refused("create_account", ErrorCode::InvalidArgument, |e| {
            e.create_account(NewAccount {
                id: "dave".into(),
                currency: Currency::USD,
                contacts: c.clone(),
            })
        });
        fx.refused("set_contacts", ErrorCode::InvalidArgument, |e| {
            e.set_contacts("alice", c.clone())
        });
        fx.refused("modify_backorder", ErrorCode::InvalidArgument, |e| {
            e.modify_backorder("alice", fx.alice_john, c.clone())
        });
        fx.refused("place", ErrorCode::InvalidArgument, |e| {
            e.place_backorder(PlaceBackorder {
                contacts: c.clone(),
                ..fx.place("bob", "x.org")
            })
        });
    }
    // 3 and 16 characters are the bounds.
    fx.e.set_contacts("alice", full_contacts("abc")).unwrap();
    fx.e.set_contacts("alice", full_contacts(&"h".repeat(16)))
        .unwrap();
}

#[test]
fn lite_is_refused_where_the_zone_offers_none_and_in_the_exclusive_model() {
    let fx = fixture();
    let mut org =
        fx.e.policies()
            .into_iter()
            .find(|p| p.zone == "org")
            .unwrap();
    org.lite_price = None;
    fx.e.set_policy(org).unwrap();
    for (name, zone) in [("x.org", "org"), ("shop.info", "info"), ("new.biz", "biz")] {
        let err = fx.refused("lite", ErrorCode::LiteNotOffered, |e| {
            e.place_backorder(PlaceBackorder {
                lite: true,
                ..fx.place("bob", name)
            })
        });
        assert_eq!(err, Error::LiteNotOffered(zone.into()));
    }
    // com offers lite.
    fx.e.place_backorder(PlaceBackorder {
        lite: true,
        ..fx.place("bob", "x.com")
    })
    .unwrap();
}

#[test]
fn placing_after_the_finalization_date_is_refused() {
    let fx = fixture();
    let err = fx.refused("place", ErrorCode::PlacementClosed, |e| {
        e.place_backorder(fx.place("alice", "soon.com"))
    });
    assert_eq!(
        err,
        Error::PlacementClosed {
            name: "soon.com".into(),
            finalization: "2026-03-02T11:00:00Z".into(),
        }
    );
    // Exactly at the finalization date it is closed; a second before it is open.
    fx.e.add_pending_deletion("edge.com", t0() + Duration::hours(3))
        .unwrap();
    fx.refused(
        "place at the finalization date",
        ErrorCode::PlacementClosed,
        |e| e.place_backorder(fx.place("alice", "edge.com")),
    );
    fx.e.add_pending_deletion("edge.com", t0() + Duration::hours(3) + Duration::seconds(1))
        .unwrap();
    fx.e.place_backorder(fx.place("alice", "edge.com")).unwrap();
    // Exclusive model too, and paying closes with it.
    fx.clock.set(drop_at() - Duration::hours(3));
    fx.refused("place info", ErrorCode::PlacementClosed, |e| {
        e.place_backorder(fx.place("bob", "shop.info"))
    });
    fx.refused("pay info", ErrorCode::PlacementClosed, |e| {
        e.pay("alice", fx.alice_shop)
    });
    fx.refused("cancel", ErrorCode::CancellationClosed, |e| {
        e.cancel_backorder("alice", fx.alice_john)
    });
}

#[test]
fn a_second_open_backorder_by_the_same_account_is_refused() {
    let fx = fixture();
    for name in ["john.com", "JOHN.com.", "shop.info"] {
        let existing = if name.contains("shop") {
            fx.alice_shop
        } else {
            fx.alice_john
        };
        let err = fx.refused("place", ErrorCode::DuplicateBackorder, |e| {
            e.place_backorder(fx.place("alice", name))
        });
        let normalised = name.to_ascii_lowercase().trim_end_matches('.').to_string();
        assert_eq!(
            err,
            Error::DuplicateBackorder {
                name: normalised,
                existing,
            }
        );
    }
}

#[test]
fn other_refusals_of_the_life_cycle_change_nothing() {
    let fx = fixture();
    // Mixed currencies: carol's balance is in EUR, john.com's fee in USD.
    let err = fx.refused("place", ErrorCode::CurrencyMismatch, |e| {
        e.place_backorder(fx.place("carol", "john.com"))
    });
    assert_eq!(
        err,
        Error::CurrencyMismatch {
            expected: "EUR".into(),
            found: "USD".into(),
        }
    );
    // Premium names cannot be backordered.
    let mut com =
        fx.e.policies()
            .into_iter()
            .find(|p| p.zone == "com")
            .unwrap();
    com.premium_names.insert("gold.com".into());
    fx.e.set_policy(com).unwrap();
    let err = fx.refused("premium", ErrorCode::PremiumName, |e| {
        e.place_backorder(fx.place("alice", "GOLD.com"))
    });
    assert_eq!(err, Error::PremiumName("gold.com".into()));
    // Nothing is due on a REQUESTED backorder.
    let err = fx.refused("pay", ErrorCode::PaymentNotDue, |e| {
        e.pay("alice", fx.alice_john)
    });
    assert_eq!(err, Error::PaymentNotDue(fx.alice_john));
    // No auction for a backorder that never went to one.
    fx.refused("bid", ErrorCode::StatusDoesNotAllow, |e| {
        e.bid("alice", fx.alice_john, dec!(100))
    });
    fx.refused("auction", ErrorCode::StatusDoesNotAllow, |e| {
        e.auction("alice", fx.alice_john)
    });
    // Exclusive: alice pays; the name is hers; bob cannot place; alice cannot cancel.
    fx.e.pay("alice", fx.alice_shop).unwrap();
    let err = fx.refused("place", ErrorCode::NameAlreadyBackordered, |e| {
        e.place_backorder(fx.place("bob", "shop.info"))
    });
    assert_eq!(err, Error::NameAlreadyBackordered("shop.info".into()));
    let err = fx.refused("cancel", ErrorCode::CancellationNotAllowed, |e| {
        e.cancel_backorder("alice", fx.alice_shop)
    });
    assert_eq!(err, Error::CancellationNotAllowed(fx.alice_shop));
    fx.refused("pay twice", ErrorCode::PaymentNotDue, |e| {
        e.pay("alice", fx.alice_shop)
    });
    // A cancelled backorder cannot be cancelled again.
    fx.e.cancel_backorder("bob", fx.bob_john).unwrap();
    fx.refused("cancel twice", ErrorCode::StatusDoesNotAllow, |e| {
        e.cancel_backorder("bob", fx.bob_john)
    });
    fx.refused("modify cancelled", ErrorCode::StatusDoesNotAllow, |e| {
        e.modify_backorder("bob", fx.bob_john, full_contacts("H-2"))
    });
}

#[test]
fn negative_zero_over_precise_and_low_bids_are_refused() {
    let fx = fixture();
    // Before the auction opens.
    fx.at(drop_at());
    let err = fx.refused("bid before the start", ErrorCode::AuctionNotOpen, |e| {
        e.bid("alice", fx.alice_john, dec!(100))
    });
    let auction = fx.e.auction("alice", fx.alice_john).unwrap();
    assert_eq!(err, Error::AuctionNotOpen(auction.id));
    fx.open_auction();
    for max in [dec!(0), dec!(-1), dec!(-100), dec!(100.00001), Decimal::MIN] {
        let err = fx.refused("bid", ErrorCode::InvalidAmount, |e| {
            e.bid("alice", fx.alice_john, max)
        });
        assert!(matches!(err, Error::InvalidAmount(_)), "{max}: {err:?}");
    }
    let minimum = fx.e.auction("bob", fx.bob_john).unwrap().minimum_bid;
    for max in [dec!(1), dec!(49), minimum - dec!(0.01)] {
        let err = fx.refused("low bid", ErrorCode::BidTooLow, |e| {
            e.bid("bob", fx.bob_john, max)
        });
        assert!(matches!(err, Error::BidTooLow { .. }), "{err:?}");
    }
    fx.e.bid("bob", fx.bob_john, minimum).unwrap();
    // After the end.
    let view = fx.e.auction("bob", fx.bob_john).unwrap();
    fx.at(view.ends_at);
    fx.refused("bid after the end", ErrorCode::StatusDoesNotAllow, |e| {
        e.bid("bob", fx.bob_john, dec!(500))
    });
}

#[test]
fn a_bid_beyond_any_price_is_refused_with_invalid_amount() {
    let fx = fixture();
    fx.open_auction();
    fx.refused("huge bid", ErrorCode::InvalidAmount, |e| {
        e.bid("alice", fx.alice_john, Decimal::MAX)
    });
}

fn policy(zone: &str, fx: &Fx) -> TldPolicy {
    fx.e.policies()
        .into_iter()
        .find(|p| p.zone == zone)
        .unwrap()
}

/// One way to spoil a policy.
type PolicyEdit = Box<dyn Fn(&mut TldPolicy)>;

#[test]
fn an_incoherent_policy_is_refused() {
    let fx = fixture();
    let base = policy("com", &fx);
    let edits: Vec<(&str, PolicyEdit)> = vec![
        ("empty zone", Box::new(|p| p.zone = String::new())),
        ("zone with a space", Box::new(|p| p.zone = "co m".into())),
        ("upper-case zone", Box::new(|p| p.zone = "COM".into())),
        ("dotted zone", Box::new(|p| p.zone = ".com".into())),
        ("zero price", Box::new(|p| p.price.amount = dec!(0))),
        ("negative price", Box::new(|p| p.price.amount = dec!(-49))),
        (
            "zero lite price",
            Box::new(|p| p.lite_price = Some(dec!(0))),
        ),
        (
            "zero name price",
            Box::new(|p| {
                p.name_prices.insert("john.com".into(), dec!(0));
            }),
        ),
        (
            "deadline not before the lead",
            Box::new(|p| p.deposit_deadline_secs = p.deposit_lead_secs),
        ),
        (
            "cutoff after the deadline",
            Box::new(|p| p.cutoff_secs = p.deposit_deadline_secs + 1),
        ),
        ("negative cutoff", Box::new(|p| p.cutoff_secs = -1)),
        ("zero retry", Box::new(|p| p.deposit_retry_secs = 0)),
        ("zero years", Box::new(|p| p.registration_years = 0)),
        (
            "negative start delay",
            Box::new(|p| p.auction.start_delay_secs = -1),
        ),
        ("zero duration", Box::new(|p| p.auction.duration_secs = 0)),
        (
            "zero payment window",
            Box::new(|p| p.auction.payment_window_secs = 0),
        ),
        (
            "negative anti-sniping",
            Box::new(|p| p.auction.anti_sniping_window_secs = -1),
        ),
        ("no increments", Box::new(|p| p.auction.increments.clear())),
        (
            "increments not from zero",
            Box::new(|p| p.auction.increments[0].from = dec!(1)),
        ),
        (
            "increments not ascending",
            Box::new(|p| p.auction.increments.swap(1, 2)),
        ),
        (
            "zero increment",
            Box::new(|p| p.auction.increments[1].step = dec!(0)),
        ),
    ];
    for (what, edit) in edits {
        let mut p = base.clone();
        edit(&mut p);
        let err = fx.refused(what, ErrorCode::InvalidArgument, |e| {
            e.set_policy(p.clone())
        });
        assert!(matches!(err, Error::InvalidArgument(_)), "{what}: {err:?}");
    }
}

#[test]
fn a_policy_whose_durations_leave_the_calendar_is_refused() {
    let fx = fixture();
    let base = policy("com", &fx);
    type Edit = fn(&mut TldPolicy, i64);
    let fields: [(&str, Edit); 6] = [
        ("deposit_lead_secs", |p, v| p.deposit_lead_secs = v),
        ("deposit_retry_secs", |p, v| p.deposit_retry_secs = v),
        ("auction.start_delay_secs", |p, v| {
            p.auction.start_delay_secs = v
        }),
        ("auction.duration_secs", |p, v| p.auction.duration_secs = v),
        ("auction.anti_sniping_extension_secs", |p, v| {
            p.auction.anti_sniping_extension_secs = v
        }),
        ("auction.payment_window_secs", |p, v| {
            p.auction.payment_window_secs = v
        }),
    ];
    for (what, edit) in fields {
        for v in [i64::MAX, 1_000_000_000_000_000, MAX_DURATION_SECS + 1] {
            let mut p = base.clone();
            edit(&mut p, v);
            fx.refused(what, ErrorCode::InvalidArgument, |e| {
                e.set_policy(p.clone())
            });
        }
        // The longest allowed duration is taken, and a backorder can then be placed.
        let mut p = base.clone();
        edit(&mut p, MAX_DURATION_SECS);
        fx.e.set_policy(p)
            .unwrap_or_else(|e| panic!("{what} = MAX: {e}"));
    }
    fx.e.add_pending_deletion("new.com", drop_at()).unwrap();
    fx.e.place_backorder(fx.place("alice", "new.com")).unwrap();
    let mut p = base.clone();
    p.registration_years = 11;
    fx.refused("registration_years", ErrorCode::InvalidArgument, |e| {
        e.set_policy(p.clone())
    });
}

#[test]
fn a_deletion_time_out_of_range_is_refused() {
    let fx = fixture();
    let too_late = DateTime::<Utc>::from_timestamp(catalog::LATEST_DROP_SECS + 1, 0).unwrap();
    let too_early = DateTime::<Utc>::from_timestamp(-1, 0).unwrap();
    for t in [
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
        too_late,
        too_early,
    ] {
        // john.com has open backorders, new.com is not listed yet: both refused, nothing changed.
        for name in ["john.com", "new.com"] {
            fx.refused(name, ErrorCode::InvalidArgument, |e| {
                e.add_pending_deletion(name, t)
            });
        }
    }
    // The edges of the range are taken (the last one even with backorders following it).
    let latest = DateTime::<Utc>::from_timestamp(catalog::LATEST_DROP_SECS, 0).unwrap();
    fx.e.add_pending_deletion("john.com", latest).unwrap();
    fx.e.add_pending_deletion("new.com", DateTime::<Utc>::UNIX_EPOCH)
        .unwrap();
}

#[test]
fn unsupported_store_urls_are_refused() {
    for url in [
        "sqlite:",
        "sqlite::memory:",
        "sqlite:/x?synchronous=off",
        "postgres:/user@host/db",
        "mysql://user@host/db",
        "",
        "memory",
        "mem:",
        "file:/tmp/x",
        "memory:/x",
    ] {
        match Engine::open(url) {
            Ok(_) => panic!("Engine::open({url:?}) accepted"),
            Err(e) => assert_eq!(e.code(), ErrorCode::InvalidArgument, "{url:?}: {e}"),
        }
    }
    assert!(Engine::open("memory:").is_ok());
}

#[test]
fn account_not_found_never_echoes_more_than_64_characters() {
    let fx = fixture();
    let long = "x".repeat(10_000);
    let errs = [
        fx.e.account(&long).unwrap_err(),
        fx.e.backorders(&long).unwrap_err(),
        fx.e.fund(&long, dec!(1), "k").unwrap_err(),
        fx.e.set_outstanding(&long, dec!(1)).unwrap_err(),
        fx.e.balance(&long).unwrap_err(),
        fx.e.statement(&long, 0, 1).unwrap_err(),
    ];
    for e in errs {
        match e {
            Error::AccountNotFound(id) => assert!(id.len() <= 64, "{} chars echoed", id.len()),
            other => panic!("{other:?}"),
        }
    }
}

/// The auth code is handed over once (the event's payload, for the host to deliver) but never
/// appears in `Debug` output of an event, a backorder or an error.
#[test]
fn debug_output_never_contains_an_issued_auth_code() {
    let fx = fixture();
    fx.open_auction();
    fx.e.bid("bob", fx.bob_john, dec!(80)).unwrap();
    let view = fx.e.auction("bob", fx.bob_john).unwrap();
    fx.at(view.ends_at);
    let won = fx.e.backorder("bob", fx.bob_john).unwrap();
    assert_eq!(won.status, Status::AuctionWon);
    let paid = fx.e.pay("bob", fx.bob_john).unwrap();
    let code = paid.auth_code.as_ref().unwrap().expose().to_string();
    assert!(code.len() >= 12, "{code}");
    let events = fx.e.events(0, u32::MAX).unwrap();
    let issued: Vec<&Event> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::AuthCodeIssued { .. }))
        .collect();
    assert_eq!(issued.len(), 1);
    match &issued[0].kind {
        EventKind::AuthCodeIssued { auth_code } => assert_eq!(auth_code.expose(), code),
        _ => unreachable!(),
    }
    for e in &events {
        for text in [format!("{e:?}"), format!("{e:#?}"), format!("{:?}", e.kind)] {
            assert!(!text.contains(&code), "auth code in {text}");
        }
    }
    for text in [
        format!("{paid:?}"),
        format!("{paid:#?}"),
        format!("{:?}", fx.e.backorders("bob").unwrap()),
        format!("{:?}", fx.e.auction("bob", fx.bob_john).unwrap()),
        format!("{:?}", fx.e.pay("bob", fx.bob_john).unwrap_err()),
        format!("{:?}", fx.e.audit().unwrap()),
    ] {
        assert!(!text.contains(&code), "auth code in {text}");
    }
}
