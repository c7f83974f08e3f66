//! The pending-delete catalog through the engine: importing lists (resync, malformed lines, zips,
//! held names), keyword alerts (once per subscription and name, across imports), and the
//! `backorder` command line.

use std::io::Write;

use backorder::core::alert::NewSubscription;
use backorder::core::catalog::ImportOptions;
use backorder::core::search::{KeywordMode, MatchAt, SearchQuery};
use backorder::{
    full_contacts, Currency, Engine, ErrorCode, EventKind, ManualClock, NewAccount, PlaceBackorder,
    Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal_macros::dec;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 1, 0, 0, 0).unwrap()
}

fn engine() -> (Engine, ManualClock) {
    let clock = ManualClock::new(t0());
    let e = Engine::builder()
        .clock(clock.clone())
        .seed(1)
        .held_names(|d: &str| d == "ours.com")
        .build()
        .unwrap();
    for a in ["alice", "bob"] {
        e.create_account(NewAccount {
            id: a.into(),
            currency: Currency::USD,
            contacts: full_contacts("H-1"),
        })
        .unwrap();
        e.fund(a, dec!(500), "initial").unwrap();
    }
    (e, clock)
}

fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        for (name, bytes) in entries {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

fn alerts(e: &Engine) -> Vec<(u64, String)> {
    e.events(0, u32::MAX)
        .unwrap()
        .into_iter()
        .filter_map(|ev| match ev.kind {
            EventKind::Alert { subscription } => {
                Some((subscription, ev.domain.unwrap().to_string()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_reimport_adds_moves_and_withdraws_and_the_backorders_follow() {
    let (e, _clock) = engine();
    let first = b"john.com;2030-03-10 18:00:00\nstay.com;2030-03-10 18:00:00\ngone.com;2030-03-10 18:00:00\nours.com;2030-03-10 18:00:00\n";
    let r = e
        .import_pending_list(first, ImportOptions::default())
        .unwrap();
    assert_eq!((r.names_read, r.added, r.excluded_held), (3, 3, 1));
    assert!(e.pending_deletion("ours.com").unwrap().is_none());
    let john = e
        .place_backorder(PlaceBackorder {
            account: "alice".into(),
            domain: "john.com".into(),
            ..Default::default()
        })
        .unwrap();
    let gone = e
        .place_backorder(PlaceBackorder {
            account: "bob".into(),
            domain: "gone.com".into(),
            ..Default::default()
        })
        .unwrap();
    let fin_before = john.finalization_at.unwrap();

    // john.com moves a day later, stay.com stays, gone.com vanished (restored), new.com is new.
    let second = b"john.com;2030-03-11 18:00:00\nstay.com;2030-03-10 18:00:00\nnew.com;2030-03-12 08:00:00\n";
    let r = e
        .import_pending_list(second, ImportOptions::default())
        .unwrap();
    assert_eq!(
        (
            r.added,
            r.moved,
            r.unchanged,
            r.withdrawn,
            r.backorders_moved,
            r.backorders_cancelled
        ),
        (1, 1, 1, 1, 1, 1)
    );
    let john = e.backorder("alice", john.id).unwrap();
    assert_eq!(
        john.finalization_at.unwrap(),
        fin_before + Duration::days(1)
    );
    assert_eq!(
        john.drop_at.unwrap(),
        Utc.with_ymd_and_hms(2030, 3, 11, 18, 0, 0).unwrap()
    );
    let gone = e.backorder("bob", gone.id).unwrap();
    assert_eq!(gone.status, Status::Cancelled);
    assert_eq!(
        gone.history.last().unwrap().reason,
        backorder::core::Reason::NameWithdrawn
    );
    assert!(e.pending_deletion("gone.com").unwrap().unwrap().withdrawn);
    // The withdrawn name is no longer found.
    let q = SearchQuery {
        limit: 10,
        ..Default::default()
    };
    let names: Vec<String> = e
        .search_pending(&q)
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.domain)
        .collect();
    assert_eq!(names, ["john.com", "new.com", "stay.com"]);
    assert!(e.audit().unwrap().is_clean());

    // A partial list withdraws nothing; gone.com listed again counts as added.
    let r = e
        .import_pending_list(
            b"gone.com;2030-03-20 18:00:00\n",
            ImportOptions {
                withdraw_missing: false,
            },
        )
        .unwrap();
    assert_eq!((r.added, r.withdrawn), (1, 0));
    assert_eq!(e.search_pending(&q).unwrap().total, 4);
}

#[test]
fn names_whose_deletion_has_passed_are_not_withdrawn() {
    let (e, clock) = engine();
    e.import_pending_list(
        b"early.com;2030-03-02 00:00:00\nlate.com;2030-03-20 00:00:00\n",
        ImportOptions::default(),
    )
    .unwrap();
    clock.set(t0() + Duration::days(3));
    let r = e
        .import_pending_list(b"late.com;2030-03-20 00:00:00\n", ImportOptions::default())
        .unwrap();
    assert_eq!(r.withdrawn, 0);
    assert!(!e.pending_deletion("early.com").unwrap().unwrap().withdrawn);
}

#[test]
fn malformed_lines_are_reported_with_their_numbers_and_the_rest_imported() {
    let (e, _) = engine();
    let list = "good.com;2030-03-10 18:00:00\n\
                comma.com,2030-03-10 18:00:00\n\
                baddate.com;2030-13-45 25:00:00\n\
                -invalid-.com;2030-03-10 18:00:00\n\
                three;fields;here\n\
                unknown.zzz;2030-03-10 18:00:00\n\
                good.com;2030-03-11 18:00:00\n\
                \n\
                münchen.com;2030-03-10 18:00:00\n";
    let mut bytes = list.as_bytes().to_vec();
    bytes.extend_from_slice(b"bin\xff\xfe.com;2030-03-10 18:00:00\nlast.net;2030-03-10 18:00:00");
    let r = e
        .import_pending_list(&bytes, ImportOptions::default())
        .unwrap();
    assert_eq!(r.names_read, 3, "{:?}", r.bad_lines);
    let lines: Vec<u64> = r.bad_lines.iter().map(|b| b.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 10]);
    let reasons: Vec<&str> = r.bad_lines.iter().map(|b| b.reason.as_str()).collect();
    assert!(reasons[0].contains("expected 2 fields"), "{reasons:?}");
    assert!(reasons[1].contains("deletion time"), "{reasons:?}");
    assert!(reasons[4].contains("not offered"), "{reasons:?}");
    assert!(
        reasons[5].contains("listed twice (first on line 1)"),
        "{reasons:?}"
    );
    assert!(reasons[6].contains("UTF-8"), "{reasons:?}");
    assert!(e.pending_deletion("xn--mnchen-3ya.com").unwrap().is_some());
    assert_eq!(r.bad_line_count, 7);
}

#[test]
fn a_list_of_bad_lines_keeps_the_first_ten_thousand_and_counts_them_all() {
    use backorder::core::droplist::{self, MAX_BAD_LINES};
    // 400,000 two-byte bad lines (3 MiB, so the parallel reader cuts it), a few good ones among
    // them, and one bad line of 2 MiB.
    let mut bytes = b"good.com;2030-03-10 18:00:00\n".to_vec();
    for i in 0..400_000u32 {
        bytes.extend_from_slice(b"x\n");
        if i % 100_000 == 0 {
            bytes.extend_from_slice(format!("good{i}.com;2030-03-10 18:00:00\n").as_bytes());
        }
    }
    bytes.extend(std::iter::repeat_n(b'y', 2 << 20));
    let parallel = backorder::catalog::parse_list(&bytes).unwrap();
    assert_eq!(
        parallel,
        droplist::parse(&bytes).unwrap(),
        "parallel = sequential"
    );
    assert_eq!(parallel.entries.len(), 5);
    assert_eq!(parallel.bad_lines.len(), MAX_BAD_LINES);
    assert_eq!(parallel.bad_line_count, 400_001);
    assert_eq!(parallel.bad_lines[0].line, 2);
    let (e, _) = engine();
    let r = e
        .import_parsed_list(parallel, ImportOptions::default())
        .unwrap();
    assert_eq!((r.names_read, r.bad_line_count), (5, 400_001));
    assert_eq!(r.bad_lines.len(), MAX_BAD_LINES);
    // A refused line's text is cut, whatever its length.
    let (_, bad, count) = droplist::parse_body(
        droplist::ListFormat::Hexonet,
        &bytes[bytes.len() - (2 << 20)..],
        9,
    );
    assert_eq!((bad.len(), count, bad[0].line), (1, 1, 9));
    assert_eq!(bad[0].text.chars().count(), 120);
}

#[test]
fn lists_that_cannot_be_read_are_refused_and_change_nothing() {
    let (e, _) = engine();
    e.import_pending_list(b"keep.com;2030-03-10 18:00:00\n", ImportOptions::default())
        .unwrap();
    let events = e.events(0, u32::MAX).unwrap().len();
    let no_csv = zip(&[("readme.txt", b"hello"), ("other.txt", b"x")]);
    let only_bad = b"a.com,tomorrow\nb.com;yesterday\n".to_vec();
    for (what, bytes) in [
        ("empty", Vec::new()),
        ("blank lines", b"\n\n\r\n".to_vec()),
        ("zip without the CSV", no_csv),
        ("broken zip", b"PK\x03\x04garbage".to_vec()),
        ("no good line", only_bad),
        ("header only", b"TLD,DOMAIN,EXPIRED,PURGED\n".to_vec()),
    ] {
        let err = e
            .import_pending_list(&bytes, ImportOptions::default())
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{what}: {err}");
        assert!(
            !e.pending_deletion("keep.com").unwrap().unwrap().withdrawn,
            "{what}"
        );
    }
    assert_eq!(e.events(0, u32::MAX).unwrap().len(), events);
}

#[test]
fn zipped_and_ietf_lists_are_read() {
    let (e, _) = engine();
    let hexonet = zip(&[(
        "pending_delete_domain_list.csv",
        b"zipped.com;2030-03-10 18:00:00\n",
    )]);
    let r = e
        .import_pending_list(&hexonet, ImportOptions::default())
        .unwrap();
    assert_eq!(r.added, 1);
    let ietf = b"TLD,DOMAIN,EXPIRED,PURGED\ncom,zipped,2030-02-01,2030-03-10T18:00:00Z\nnet,other.net,2030-02-01,2030-03-11\n";
    let r = e
        .import_pending_list(ietf, ImportOptions::default())
        .unwrap();
    assert_eq!((r.added, r.unchanged), (1, 1));
}

#[test]
fn alerts_fire_once_per_subscription_and_name_across_imports() {
    let (e, _) = engine();
    let shop = e
        .subscribe_alerts(NewSubscription {
            account: "alice".into(),
            keywords: vec!["Shop".into()],
            match_at: MatchAt::Any,
            zones: vec!["com".into()],
            address: "alice@example.com".into(),
            ..Default::default()
        })
        .unwrap();
    let both = e
        .subscribe_alerts(NewSubscription {
            account: "bob".into(),
            keywords: vec!["car".into(), "shop".into()],
            keyword_mode: KeywordMode::And,
            match_at: MatchAt::Any,
            max_length: Some(10),
            no_numbers: true,
            ..Default::default()
        })
        .unwrap();
    e.import_pending_list(
        b"myshop.com;2030-03-10 18:00:00\ncarshop.com;2030-03-10 18:00:00\ncarshop.net;2030-03-10 18:00:00\ncarshop1.org;2030-03-10 18:00:00\nplain.com;2030-03-10 18:00:00\n",
        ImportOptions::default(),
    )
    .unwrap();
    let mut got = alerts(&e);
    got.sort();
    let mut want = vec![
        (shop.id, "myshop.com".to_string()),
        (shop.id, "carshop.com".to_string()),
        (both.id, "carshop.com".to_string()),
        (both.id, "carshop.net".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
    // The same list again, a moved time, a withdrawal and a relisting: no alert twice.
    e.import_pending_list(
        b"myshop.com;2030-03-11 18:00:00\ncarshop.com;2030-03-10 18:00:00\n",
        ImportOptions::default(),
    )
    .unwrap();
    e.import_pending_list(
        b"myshop.com;2030-03-11 18:00:00\ncarshop.com;2030-03-10 18:00:00\ncarshop.net;2030-03-10 18:00:00\nbestshop.com;2030-03-12 18:00:00\n",
        ImportOptions::default(),
    )
    .unwrap();
    let after = alerts(&e);
    assert_eq!(after.len(), 5, "{after:?}");
    assert!(after.contains(&(shop.id, "bestshop.com".to_string())));
    // Alerts carry the account; unsubscribing stops them.
    e.unsubscribe_alerts("alice", shop.id).unwrap();
    e.add_pending_deletion("shopnow.com", t0() + Duration::days(20))
        .unwrap();
    assert_eq!(alerts(&e).len(), 5);
    assert_eq!(
        e.unsubscribe_alerts("bob", shop.id).unwrap_err().code(),
        ErrorCode::InvalidArgument
    );
    assert_eq!(e.alert_subscriptions("bob").unwrap(), vec![both]);
}

#[test]
fn bad_subscriptions_are_refused() {
    let (e, _) = engine();
    let ok = NewSubscription {
        account: "alice".into(),
        keywords: vec!["shop".into()],
        ..Default::default()
    };
    for (what, req) in [
        (
            "no keyword",
            NewSubscription {
                keywords: vec![],
                ..ok.clone()
            },
        ),
        (
            "empty keyword",
            NewSubscription {
                keywords: vec![" ".into()],
                ..ok.clone()
            },
        ),
        (
            "too many",
            NewSubscription {
                keywords: vec!["k".into(); 21],
                ..ok.clone()
            },
        ),
        (
            "dot",
            NewSubscription {
                keywords: vec!["a.com".into()],
                ..ok.clone()
            },
        ),
        (
            "address",
            NewSubscription {
                address: "a\r\nb".into(),
                ..ok.clone()
            },
        ),
    ] {
        let err = e.subscribe_alerts(req).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{what}");
    }
    let err = e
        .subscribe_alerts(NewSubscription {
            account: "nobody".into(),
            ..ok
        })
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AccountNotFound);
}

/// The acceptance line, through the real binary, against a count made here from the file.
#[test]
fn the_command_line_search_counts_what_a_scan_of_the_file_counts() {
    let dir = std::env::temp_dir().join(format!("backorder-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut csv = String::new();
    let words = ["shop", "blue", "car", "7", "my", "-x", "tech"];
    let mut n = 0u64;
    for a in 0..words.len() {
        for b in 0..words.len() {
            for zone in ["com", "net"] {
                let label = format!("{}{}", words[a], words[b]);
                n += 1;
                if label.starts_with('-') {
                    continue;
                }
                csv.push_str(&format!("{label}.{zone};2030-04-0{} 12:00:00\n", 1 + n % 9));
            }
        }
    }
    let path = dir.join("pending_delete_domain_list.csv.zip");
    std::fs::write(
        &path,
        zip(&[("pending_delete_domain_list.csv", csv.as_bytes())]),
    )
    .unwrap();
    let expected = csv
        .lines()
        .filter(|l| {
            let name = l.split(';').next().unwrap();
            let (label, zone) = name.rsplit_once('.').unwrap();
            zone == "com"
                && label.contains("shop")
                && label.chars().count() <= 10
                && !label.chars().any(|c| c.is_ascii_digit())
        })
        .count() as u64;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_backorder"))
        .args(["search", "--list"])
        .arg(&path)
        .args([
            "--keyword",
            "shop",
            "--match",
            "ANY",
            "--zone",
            "com",
            "--max-length",
            "10",
            "--nonumbers",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"].as_u64().unwrap(), expected);
    assert!(expected > 0);
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len() as u64, expected.min(100));
    for r in rows {
        for field in ["domain", "zone", "drop_at", "finalization_at"] {
            assert!(r.get(field).is_some(), "row lacks {field}: {r}");
        }
    }
    // --help documents every flag.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_backorder"))
        .args(["search", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--keyword",
        "--match",
        "--keywords-mode",
        "--zone",
        "--deletion-day",
        "--finalization-from",
        "--finalization-to",
        "--min-length",
        "--max-length",
        "--nohyphens",
        "--nonumbers",
        "--noidns",
        "--regex",
        "--order-by",
        "--desc",
        "--first",
        "--limit",
        "--json",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    // Import keeps the catalog in SQLite by default (here in the test's own directory): the
    // second import of the same list finds every name already there.
    let import = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_backorder"))
            .current_dir(&dir)
            .env_remove("BACKORDER_STORE")
            .args(["import", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = import();
    let names = csv.lines().count() as u64;
    assert_eq!(first["names_read"].as_u64().unwrap(), names);
    assert_eq!(first["added"].as_u64().unwrap(), names);
    assert!(dir.join("backorder.db").exists());
    let second = import();
    assert_eq!(second["added"].as_u64().unwrap(), 0);
    assert_eq!(second["unchanged"].as_u64().unwrap(), names);
    std::fs::remove_dir_all(&dir).ok();
}

/// A large list is read in pieces on several threads: the result, line numbers included, is the
/// same as reading it in one go.
#[test]
fn reading_a_large_list_in_pieces_gives_what_reading_it_whole_gives() {
    let mut text = String::from("\u{feff}# a comment\n\ndomain;time\n");
    for i in 0..60_000u32 {
        match i % 997 {
            0 => text.push_str("broken line without separator\n"),
            1 => text.push('\n'),
            2 => text.push_str(&format!("n{i}.com;2030-02-30 00:00:00\r\n")),
            _ => text.push_str(&format!("name{i}.com;2030-03-{:02} 10:00:00\n", 1 + i % 28)),
        }
    }
    text.push_str("last.com;2030-03-01 00:00:00");
    assert!(text.len() > 1 << 20);
    let whole = backorder::core::droplist::parse(text.as_bytes()).unwrap();
    let pieces = backorder::catalog::parse_list(text.as_bytes()).unwrap();
    assert_eq!(pieces, whole);
    assert_eq!(whole.bad_lines[0].line, 4);
    assert_eq!(whole.entries.last().unwrap().line, 60_004);
}
