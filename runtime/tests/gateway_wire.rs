//! The HEXONET gateway driven over raw HTTP on loopback, as the seed's curl lines drive HEXONET:
//! `curl -d "command=AddDomainApplication&class=BACKORDER&domain=john.com"
//! ".../api/call.cgi?s_entity=54cd&s_login=$USER&s_pw=$PASS"`.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use backorder::gateway::{serve, Accounts, Gateway, GatewayOptions, HashCost};
use backorder::{Engine, ManualClock, PlaceBackorder, SimulatedRegistry};
use backorder_core::api::{Code, Response};
use backorder_core::{CatchOutcome, CatchProgress, DropJob, Registry};
use chrono::{DateTime, Duration, TimeZone, Utc};

const ACCOUNTS: &str = r#"
[[account]]
login = "test.user"
password = "test.passw0rd"
balance = "1000.00"
currency = "USD"
contacts = { owner = "P-TEST1", admin = "P-TEST1", tech = "P-TEST1", billing = "P-TEST1" }

[[account]]
login = "shop.test.user"
password = "shop pass"
balance = "200"
currency = "USD"
parent = "test.user"
contacts = { owner = "P-SHOP1", admin = "P-SHOP1", tech = "P-SHOP1", billing = "P-SHOP1" }

[[account]]
login = "rival"
password = "rival pass"
balance = "1000"
currency = "USD"
contacts = { owner = "P-RIVAL1", admin = "P-RIVAL1", tech = "P-RIVAL1", billing = "P-RIVAL1" }

[[account]]
login = "bare"
password = "bare pass"
balance = "10"
currency = "USD"
"#;

const CREDENTIALS: &str = "s_entity=54cd&s_login=test.user&s_pw=test.passw0rd";

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap()
}

/// An engine on the memory store with its clock stopped at [`start_time`].
fn manual_engine() -> Engine {
    Engine::builder()
        .clock(ManualClock::new(start_time()))
        .build()
        .unwrap()
}

/// A registry that works every drop on its own time, as the EPP catcher does: the backorders
/// stay PROCESSING until the test records the outcome.
struct Underway;

impl Registry for Underway {
    fn attempt(&mut self, _job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        CatchProgress::Underway
    }
}

struct Server {
    addr: SocketAddr,
    gateway: Arc<Gateway>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(engine: Engine) -> Server {
        Server::start_with(engine, GatewayOptions::default())
    }

    fn start_with(engine: Engine, options: GatewayOptions) -> Server {
        let accounts = Accounts::parse(ACCOUNTS, HashCost::TESTING).unwrap();
        let gateway = Arc::new(Gateway::new(Arc::new(engine), accounts, options).unwrap());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = gateway.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                serve(served, listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        Server {
            addr,
            gateway,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn engine(&self) -> &Engine {
        self.gateway.engine()
    }

    fn conn(&self) -> Conn {
        Conn::open(self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One keep-alive HTTP/1.1 connection, written and read by hand.
struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            reader: BufReader::new(stream),
        }
    }

    /// Sends raw request bytes and reads one response: (status, headers, body).
    fn raw(&mut self, request: &[u8]) -> (u16, String, String) {
        self.reader.get_mut().write_all(request).unwrap();
        let mut status_line = String::new();
        self.reader.read_line(&mut status_line).unwrap();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = String::new();
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            headers.push_str(&line);
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).unwrap();
        (status, headers, String::from_utf8(body).unwrap())
    }

    /// What `curl -d "$body" "http://…/api/call.cgi?$query"` sends.
    fn curl(&mut self, query: &str, body: &str) -> (u16, String) {
        let request = format!(
            "POST /api/call.cgi?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.5.0\r\n\
             Accept: */*\r\nContent-Length: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n{body}",
            body.len()
        );
        let (status, _, body) = self.raw(request.as_bytes());
        (status, body)
    }

    /// A call that must answer HTTP 200: the parsed response.
    fn call(&mut self, query: &str, body: &str) -> Response {
        let (status, text) = self.curl(query, body);
        assert_eq!(status, 200, "{text}");
        assert!(
            text.starts_with("[RESPONSE]\n") && text.ends_with("EOF\n"),
            "{text}"
        );
        Response::parse(&text).unwrap()
    }
}

fn one(r: &Response, name: &str) -> String {
    let v = r.property(name);
    assert_eq!(v.len(), 1, "{name} in {r:?}");
    v[0].clone()
}

/// Moves the clock to the engine's next wake-up (at most `limit` ahead) and ticks.
fn step(engine: &Engine, clock: &ManualClock, limit: DateTime<Utc>) -> bool {
    match engine.next_wake().unwrap() {
        Some(t) if t <= limit => {
            if t > engine.now() {
                clock.set(t);
            }
            engine.tick().unwrap();
            true
        }
        _ => false,
    }
}

#[test]
fn the_seed_request_places_a_backorder_that_status_follows_to_its_end() {
    let clock = ManualClock::new(start_time());
    let engine = Engine::builder()
        .clock(clock.clone())
        .registry(Box::new(Underway))
        .build()
        .unwrap();
    let drop_at = start_time() + Duration::days(5);
    engine.add_pending_deletion("john.com", drop_at).unwrap();
    let server = Server::start(engine);
    let mut c = server.conn();

    // Exactly the seed's request.
    let (status, text) = c.curl(
        CREDENTIALS,
        "command=AddDomainApplication&class=BACKORDER&domain=john.com",
    );
    assert_eq!(status, 200);
    assert!(text.contains("\nCODE = 200\n"), "{text}");
    assert!(text.contains("\nDESCRIPTION = Command completed successfully\n"));
    assert!(
        text.contains("\nPROPERTY[CLASS][0] = COM_BACKORDER\n"),
        "{text}"
    );
    assert!(
        text.contains("\nPROPERTY[STATUS][0] = REQUESTED\n"),
        "{text}"
    );
    assert!(text.contains("\nRUNTIME = ") && text.contains("\nQUEUETIME = 0\n"));
    let r = Response::parse(&text).unwrap();
    let application = one(&r, "APPLICATION");
    assert!(application.parse::<u64>().is_ok());

    let status_of = |c: &mut Conn| {
        let r = c.call(
            CREDENTIALS,
            &format!("command=StatusDomainApplication&application={application}"),
        );
        assert_eq!(r.code(), Code::Ok, "{r:?}");
        r
    };
    let r = status_of(&mut c);
    assert_eq!(one(&r, "STATUS"), "REQUESTED");
    assert_eq!(one(&r, "DOMAIN"), "john.com");
    assert_eq!(one(&r, "DROPDATE"), "2026-03-07 12:00:00");
    assert_eq!(one(&r, "FINALIZATIONDATE"), "2026-03-07 09:00:00");
    assert_eq!(one(&r, "PERIOD"), "1");
    // The handles in effect: none given, so the account's defaults.
    assert_eq!(one(&r, "OWNERCONTACT"), "P-TEST1");

    // Three days before the drop the deposit is secured.
    let engine = server.engine();
    let manual = clock.clone();
    manual.set(drop_at - Duration::hours(72));
    engine.tick().unwrap();
    let r = status_of(&mut c);
    assert_eq!(one(&r, "STATUS"), "ACTIVE");
    assert_eq!(one(&r, "REASON"), "DEPOSIT_SECURED");
    let deposits = c.call(CREDENTIALS, "command=QueryDepositList");
    assert_eq!(one(&deposits, "RESERVED"), "49.00");
    assert_eq!(deposits.property("TYPE"), ["FUND", "RESERVE"]);
    assert_eq!(deposits.property("DEPOSIT")[1], "49.00");

    // At the drop it is PROCESSING while the registry works the name.
    manual.set(drop_at);
    engine.tick().unwrap();
    assert_eq!(one(&status_of(&mut c), "STATUS"), "PROCESSING");

    // Caught with one backorderer: SUCCESSFUL.
    engine
        .record_catch("john.com", drop_at, &CatchOutcome::Caught)
        .unwrap();
    let r = status_of(&mut c);
    assert_eq!(one(&r, "STATUS"), "SUCCESSFUL");
    assert_eq!(
        r.property("HISTORYSTATUS"),
        ["REQUESTED", "ACTIVE", "PROCESSING", "SUCCESSFUL"]
    );
    assert_eq!(one(&r, "REGISTRATIONEXPIRATIONDATE"), "2027-03-07 12:00:00");
}

#[test]
fn a_thousand_applications_page_a_hundred_at_a_time_each_row_once() {
    let engine = manual_engine();
    let server = Server::start(engine);
    let mut placed = BTreeSet::new();
    for i in 0..1000 {
        let b = server
            .engine()
            .place_backorder(PlaceBackorder {
                account: "test.user".into(),
                domain: format!("name{i:04}.com"),
                ..Default::default()
            })
            .unwrap();
        placed.insert(b.id);
    }
    // A sub-user's application is in the default (USERDEPTH=ALL) list, not in SELF.
    server
        .engine()
        .place_backorder(PlaceBackorder {
            account: "shop.test.user".into(),
            domain: "shop.com".into(),
            ..Default::default()
        })
        .unwrap();
    let mut c = server.conn();
    let session = one(&c.call(CREDENTIALS, "command=StartSession"), "SESSION");
    let auth = format!("s_entity=54cd&s_session={session}");
    let mut seen = Vec::new();
    for page in 0..10u64 {
        let first = page * 100;
        let r = c.call(
            &auth,
            &format!("command=QueryDomainApplicationList&userdepth=SELF&first={first}&limit=100"),
        );
        assert_eq!(r.code(), Code::Ok);
        assert_eq!(one(&r, "FIRST"), first.to_string());
        assert_eq!(one(&r, "LAST"), (first + 99).to_string());
        assert_eq!(one(&r, "COUNT"), "100");
        assert_eq!(one(&r, "LIMIT"), "100");
        assert_eq!(one(&r, "TOTAL"), "1000");
        assert_eq!(r.property("DOMAIN").len(), 100);
        seen.extend(
            r.property("APPLICATION")
                .iter()
                .map(|a| a.parse::<u64>().unwrap()),
        );
    }
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 1000);
    assert_eq!(unique, placed);
    // Past the end: an empty page, LAST empty.
    let r = c.call(
        &auth,
        "command=QueryDomainApplicationList&userdepth=SELF&first=1000&limit=100",
    );
    assert_eq!(
        (one(&r, "COUNT"), one(&r, "LAST"), one(&r, "TOTAL")),
        ("0".into(), "".into(), "1000".into())
    );
    let all = c.call(
        &auth,
        "command=QueryDomainApplicationList&limit=1&orderby=DOMAINDESC",
    );
    assert_eq!(one(&all, "TOTAL"), "1001");
    assert_eq!(one(&all, "DOMAIN"), "shop.com");
    assert_eq!(one(&all, "USER"), "shop.test.user");
    // Filters: a pattern, a regex, a status.
    let r = c.call(
        &auth,
        "command=QueryDomainApplicationList&domain=name00*.com&limit=1000",
    );
    assert_eq!(one(&r, "TOTAL"), "100");
    let r = c.call(
        &auth,
        "command=QueryDomainApplicationList&domainregex=^name099[0-4]&limit=1000",
    );
    assert_eq!(one(&r, "TOTAL"), "5");
    let r = c.call(&auth, "command=QueryDomainApplicationList&status=ACTIVE");
    assert_eq!(one(&r, "TOTAL"), "0");
    let r = c.call(&auth, "command=EndSession");
    assert_eq!(r.code(), Code::Ok);
    let r = c.call(&auth, "command=QueryDomainApplicationList");
    assert_eq!(r.code(), Code::AuthenticationFailed);
}

/// The response text without its `RUNTIME` line, for comparing two answers.
fn without_runtime(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("RUNTIME"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn credentials_sessions_and_sub_users_are_enforced() {
    let engine = manual_engine();
    let server = Server::start(engine);
    let mut c = server.conn();
    let add = "command=AddDomainApplication&class=BACKORDER&domain=john.com";
    for query in [
        "s_entity=54cd&s_login=test.user&s_pw=wrong",
        "s_entity=54cd&s_login=nobody&s_pw=test.passw0rd",
        "s_entity=1234&s_login=test.user&s_pw=test.passw0rd",
        "s_entity=54cd&s_login=test.user",
        "s_entity=54cd&s_session=not-a-session",
        "",
    ] {
        let r = c.call(query, add);
        assert_eq!(r.code(), Code::AuthenticationFailed, "{query}");
    }
    // A wrong password and an unknown login answer alike.
    let (_, a) = c.curl("s_login=test.user&s_pw=wrong", add);
    let (_, b) = c.curl("s_login=nobody&s_pw=wrong", add);
    assert_eq!(without_runtime(&a), without_runtime(&b));
    assert!(server.engine().backorders("test.user").unwrap().is_empty());

    // Credentials in the body's s_* fields work as in the query string.
    let r = c.call(
        "",
        "s_entity=54cd&s_login=test.user&s_pw=test.passw0rd&s_command=COMMAND%3DCheckAuthentication",
    );
    assert_eq!(r.code(), Code::Ok);
    let r = c.call(
        CREDENTIALS,
        "command=CheckAuthentication&subuser=shop.test.user&password=shop+pass",
    );
    assert_eq!(r.code(), Code::Ok);
    let r = c.call(
        CREDENTIALS,
        "command=CheckAuthentication&subuser=shop.test.user&password=nope",
    );
    assert_eq!(r.code(), Code::AuthenticationFailed);
    let r = c.call(
        CREDENTIALS,
        "command=CheckAuthentication&subuser=rival&password=rival+pass",
    );
    assert_eq!(r.code(), Code::AuthenticationFailed);

    // s_user: a sub-user yes, anyone else no.
    let r = c.call(&format!("{CREDENTIALS}&s_user=shop.test.user"), add);
    assert_eq!(r.code(), Code::Ok);
    assert_eq!(one(&r, "USER"), "shop.test.user");
    let shop_application = one(&r, "APPLICATION");
    let r = c.call(&format!("{CREDENTIALS}&s_user=rival"), add);
    assert_eq!(r.code(), Code::AuthorizationFailed);
    let r = c.call(
        "s_login=shop.test.user&s_pw=shop+pass&s_user=test.user",
        add,
    );
    assert_eq!(r.code(), Code::AuthorizationFailed);

    // Another account's application answers exactly like a missing one.
    let status = |id: &str| format!("command=StatusDomainApplication&application={id}");
    let (_, theirs) = c.curl("s_login=rival&s_pw=rival+pass", &status(&shop_application));
    let (_, missing) = c.curl("s_login=rival&s_pw=rival+pass", &status("999999"));
    assert!(theirs.contains("CODE = 545"), "{theirs}");
    assert_eq!(
        without_runtime(&theirs).replace(&shop_application, "ID"),
        without_runtime(&missing).replace("999999", "ID")
    );
    for cmd in [
        "DeleteDomainApplication",
        "ModifyDomainApplication",
        "PayDomainApplication",
    ] {
        let r = c.call(
            "s_login=rival&s_pw=rival+pass",
            &format!("command={cmd}&application={shop_application}&ownercontact0=P-RIVAL1"),
        );
        assert_eq!(r.code(), Code::NotFound, "{cmd}");
    }
    assert_eq!(
        server.engine().backorders("shop.test.user").unwrap()[0].status,
        backorder::Status::Requested
    );

    // A session stands for the login; the password is not needed again.
    let session = one(
        &c.call(CREDENTIALS, "command=StartSession&timeout=600"),
        "SESSION",
    );
    assert_eq!(session.len(), 64);
    let r = c.call(
        &format!("s_session={session}&s_user=shop.test.user"),
        &status(&shop_application),
    );
    assert_eq!(one(&r, "STATUS"), "REQUESTED");
    assert_eq!(
        c.call(&format!("s_session={session}"), "command=EndSession")
            .code(),
        Code::Ok
    );
    assert_eq!(
        c.call(
            &format!("s_session={session}"),
            "command=CheckAuthentication"
        )
        .code(),
        Code::AuthenticationFailed
    );
}

#[test]
fn bad_requests_are_refused_and_change_nothing() {
    let engine = manual_engine();
    let server = Server::start(engine);
    let mut c = server.conn();
    let cases: Vec<(String, Code)> = vec![
        (
            "command=AddDomainApplication&class=BACKORDER&domain=john.com%0D%0ACODE%3D200".into(),
            Code::InvalidSyntax,
        ),
        (
            "command=AddDomainApplication&class=BACKORDER&domain=%FF.com".into(),
            Code::InvalidSyntax,
        ),
        (
            "command=AddDomainApplication&class=BACKORDER&domain=a.com&DOMAIN=b.com".into(),
            Code::InvalidSyntax,
        ),
        (
            "command=AddDomainApplication&class=BACKORDER".into(),
            Code::MissingAttribute,
        ),
        (
            "command=AddDomainApplication&domain=john.com".into(),
            Code::MissingAttribute,
        ),
        (
            "command=AddDomainApplication&class=PREORDER&domain=john.com".into(),
            Code::InvalidValue,
        ),
        (
            "command=AddDomainApplication&class=BACKORDER&domain=john.invalidtld".into(),
            Code::InvalidValue,
        ),
        (
            "command=AddDomainApplication&class=BACKORDER&domain=-bad-.com".into(),
            Code::InvalidValue,
        ),
        (
            "command=AddDomainApplication&class=BACKORDER&domain=john.com&period=3".into(),
            Code::InvalidValue,
        ),
        (
            "command=RenewDomain&domain=john.com".into(),
            Code::UnknownCommand,
        ),
        ("domain=john.com".into(), Code::UnknownCommand),
        (
            format!(
                "command=AddDomainApplication&class=BACKORDER&domain=john.com&x={}",
                "a".repeat(5000)
            ),
            Code::InvalidSyntax,
        ),
        (
            (0..300)
                .map(|i| format!("k{i}=v"))
                .collect::<Vec<_>>()
                .join("&"),
            Code::InvalidSyntax,
        ),
        (
            "command=StatusDomainApplication&application=-1".into(),
            Code::InvalidSyntax,
        ),
    ];
    for (body, code) in &cases {
        let r = c.call(CREDENTIALS, body);
        assert_eq!(r.code(), *code, "{body:.120}");
    }
    // Without the contacts the zone needs, an application is refused unless INCOMPLETE=1.
    let bare = "s_login=bare&s_pw=bare+pass";
    let r = c.call(
        bare,
        "command=AddDomainApplication&class=BACKORDER&domain=john.com",
    );
    assert_eq!(r.code(), Code::MissingAttribute);
    assert!(
        r.description().contains("OWNERCONTACT0"),
        "{}",
        r.description()
    );
    assert!(server.engine().backorders("bare").unwrap().is_empty());
    let r = c.call(
        bare,
        "command=AddDomainApplication&class=BACKORDER&domain=john.com&incomplete=1",
    );
    assert_eq!(one(&r, "STATUS"), "INCOMPLETE");

    // Oversized body: refused in the API's own words, over HTTP 200.
    let big = "a=".to_string() + &"b".repeat(70 * 1024);
    let (status, text) = c.curl(CREDENTIALS, &big);
    assert_eq!(status, 200);
    assert!(text.contains("CODE = 505"), "{text}");
    // Another path or method is not the API.
    let mut c = server.conn();
    let (status, _, _) = c.raw(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 404);
    let (status, _, _) = c.raw(b"DELETE /api/call.cgi HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(status, 405);
    // GET with everything in the query string works too.
    let (status, _, body) = c.raw(
        format!("GET /api/call.cgi?{CREDENTIALS}&command=ConvertIDN&domain0=b%C3%BCcher.de&domain1=xn--mller-kva.com HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
    );
    assert_eq!(status, 200);
    let r = Response::parse(&body).unwrap();
    assert_eq!(r.property("ACE"), ["xn--bcher-kva.de", "xn--mller-kva.com"]);
    assert_eq!(r.property("IDN"), ["bücher.de", "müller.com"]);
    let report = server.engine().audit().unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn the_pending_delete_list_is_searched_with_hexonets_filters() {
    let engine = manual_engine();
    for (name, days) in [
        ("car-shop.com", 3),
        ("cars.net", 4),
        ("car4u.com", 5),
        ("shop.com", 5),
    ] {
        engine
            .add_pending_deletion(name, start_time() + Duration::days(days))
            .unwrap();
    }
    let server = Server::start(engine);
    let mut c = server.conn();
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainPendingDeleteList&keyword0=car&keywordmatch=BEGIN&filter0=NOHYPHENS&orderby=NAMEDESC",
    );
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert_eq!(r.property("DOMAIN"), ["cars.net", "car4u.com"]);
    assert_eq!(r.property("SUBCLASS"), ["NET", "COM"]);
    assert_eq!(one(&r, "TOTAL"), "2");
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainPendingDeleteList&zone0=com&regexp=^[a-z]%2B$",
    );
    assert_eq!(r.property("DOMAIN"), ["shop.com"]);
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainPendingDeleteList&deletionday=2026-03-07&limit=1",
    );
    assert_eq!(
        (one(&r, "TOTAL"), one(&r, "COUNT")),
        ("2".into(), "1".into())
    );
    assert_eq!(r.property("COLUMN")[0], "DOMAIN");
    let r = c.call(CREDENTIALS, "command=QueryDomainPendingDeleteList&regexp=(");
    assert_eq!(r.code(), Code::InvalidValue);
}

#[test]
fn a_contested_name_goes_to_auction_bid_won_and_paid_over_the_wire() {
    let clock = ManualClock::new(start_time());
    let mut registry = SimulatedRegistry::new(7);
    registry.set_outcome("prize.com", CatchOutcome::Caught);
    let engine = Engine::builder()
        .clock(clock.clone())
        .seed(7)
        .registry(Box::new(registry))
        .build()
        .unwrap();
    let drop_at = start_time() + Duration::days(4);
    engine.add_pending_deletion("prize.com", drop_at).unwrap();
    let server = Server::start(engine);
    let mut c = server.conn();
    let rival = "s_login=rival&s_pw=rival+pass";
    let add = "command=AddDomainApplication&class=BACKORDER&domain=prize.com";
    let mine = one(&c.call(CREDENTIALS, add), "APPLICATION");
    let theirs = one(&c.call(rival, add), "APPLICATION");
    // The same add again answers the open application; NEW=1 asks for a second one, refused.
    assert_eq!(one(&c.call(CREDENTIALS, add), "APPLICATION"), mine);
    assert_eq!(
        c.call(CREDENTIALS, &format!("{add}&new=1")).code(),
        Code::NotUnique
    );

    let engine = server.engine();
    let status = |c: &mut Conn, who: &str, id: &str| {
        c.call(
            who,
            &format!("command=StatusDomainApplication&application={id}"),
        )
    };
    let end = drop_at + Duration::days(30);
    while one(&status(&mut c, CREDENTIALS, &mine), "STATUS") != "AUCTION-PENDING" {
        assert!(step(engine, &clock, end), "no auction");
    }
    let r = status(&mut c, CREDENTIALS, &mine);
    assert_eq!(one(&r, "AUCTION-STATUS"), "SCHEDULED");
    // Everyone stands at the opening price; the earlier backorder leads the tie.
    assert_eq!(one(&r, "AUCTION-BIDDERSTATUS"), "LEADING");
    assert_eq!(one(&r, "AUCTION-MAXBID"), one(&r, "AUCTION-MINIMUMBID"));
    // Wait for the auction to open, then bid over the wire.
    let opens = DateTime::parse_from_str(
        &format!("{} +0000", one(&r, "AUCTION-STARTDATE")),
        "%Y-%m-%d %H:%M:%S %z",
    )
    .unwrap()
    .with_timezone(&Utc);
    clock.set(opens);
    engine.tick().unwrap();
    let r = c.call(
        CREDENTIALS,
        &format!("command=BidDomainApplication&application={mine}&amount=120"),
    );
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert_eq!(one(&r, "AUCTION-BIDDERSTATUS"), "LEADING");
    let r = c.call(
        rival,
        &format!("command=BidDomainApplication&application={theirs}&amount=80"),
    );
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert_eq!(one(&r, "AUCTION-BIDDERSTATUS"), "OUTBID");
    let r = c.call(
        rival,
        &format!("command=BidDomainApplication&application={theirs}&amount=1"),
    );
    assert_eq!(r.code(), Code::InvalidValue);
    while one(&status(&mut c, CREDENTIALS, &mine), "STATUS") != "AUCTION-WON" {
        assert!(step(engine, &clock, end), "no winner");
    }
    assert_eq!(
        one(&status(&mut c, rival, &theirs), "STATUS"),
        "AUCTION-LOST"
    );
    let r = status(&mut c, CREDENTIALS, &mine);
    assert_eq!(one(&r, "AUCTION-STATUS"), "AWAITING-PAYMENT");
    let price = one(&r, "AUCTION-PRICE");
    assert!(!price.is_empty());
    let r = c.call(
        CREDENTIALS,
        &format!("command=PayDomainApplication&application={mine}"),
    );
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert!(!one(&r, "AUTH").is_empty());
    assert_eq!(one(&r, "PAID"), price);
    let again = c.call(
        CREDENTIALS,
        &format!("command=PayDomainApplication&application={mine}"),
    );
    assert_eq!(again.code(), Code::StatusProhibits);
    assert!(engine.audit().unwrap().is_clean());
}

#[test]
fn concurrent_clients_each_get_their_own_answers() {
    let engine = manual_engine();
    let server = Server::start(engine);
    let addr = server.addr;
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Conn::open(addr);
                let session = one(&c.call(CREDENTIALS, "command=StartSession"), "SESSION");
                let mut ids = Vec::new();
                for i in 0..50 {
                    let r = c.call(
                        &format!("s_session={session}"),
                        &format!(
                            "command=AddDomainApplication&class=BACKORDER&domain=t{t}n{i}.com"
                        ),
                    );
                    assert_eq!(one(&r, "DOMAIN"), format!("t{t}n{i}.com"));
                    ids.push(one(&r, "APPLICATION"));
                }
                ids
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for t in threads {
        all.extend(t.join().unwrap());
    }
    assert_eq!(all.len(), 400);
    assert_eq!(server.engine().backorders("test.user").unwrap().len(), 400);
}

#[test]
fn the_documented_code_table_is_every_code_the_api_answers() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/hexonet-api.md"),
    )
    .unwrap();
    let rows: Vec<&str> = doc
        .lines()
        .filter(|l| l.starts_with("| ") && l.as_bytes()[2].is_ascii_digit())
        .collect();
    assert_eq!(rows.len(), Code::ALL.len(), "{rows:#?}");
    for (row, code) in rows.iter().zip(Code::ALL) {
        let prefix = format!("| {} | {} |", code.number(), code.description());
        assert!(row.starts_with(&prefix), "{row} should start {prefix}");
    }
}

#[test]
fn applications_are_modified_listed_wide_and_deleted() {
    let engine = manual_engine();
    let server = Server::start(engine);
    let mut c = server.conn();
    // A multi-line s_command with numbered keys, as the SDKs send it.
    let r = c.call(
        CREDENTIALS,
        "s_command=COMMAND%3DAddDomainApplication%0D%0ACLASS%3DCOM_BACKORDER%0D%0ADOMAIN%3Dalpha.com\
         %0D%0AX-BACKORDER-LITE%3D1%0D%0AOWNERCONTACT0%3DP-OWN1",
    );
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert_eq!(one(&r, "X-BACKORDER-LITE"), "1");
    assert_eq!(
        (one(&r, "OWNERCONTACT"), one(&r, "TECHCONTACT")),
        ("P-OWN1".into(), "P-TEST1".into())
    );
    let alpha = one(&r, "APPLICATION");
    let beta = one(
        &c.call(
            CREDENTIALS,
            "command=AddDomainApplication&class=BACKORDER&domain=beta.com",
        ),
        "APPLICATION",
    );
    let shop = c.call(
        &format!("{CREDENTIALS}&s_user=shop.test.user"),
        "command=AddDomainApplication&class=BACKORDER&domain=gamma.com",
    );
    assert_eq!(shop.code(), Code::Ok);

    // Modify one role: the others stay.
    let r = c.call(
        CREDENTIALS,
        &format!("command=ModifyDomainApplication&application={alpha}&techcontact0=P-TECH9"),
    );
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert_eq!(
        (one(&r, "OWNERCONTACT"), one(&r, "TECHCONTACT")),
        ("P-OWN1".into(), "P-TECH9".into())
    );
    let r = c.call(
        CREDENTIALS,
        &format!("command=ModifyDomainApplication&application={alpha}&x-backorder-lite=0"),
    );
    assert_eq!(r.code(), Code::InvalidValue);

    // Lists: WIDE columns, ORDER=DESC, USERDEPTH=SUBUSER, the owner filter on handles in effect.
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainApplicationList&wide=1&orderby=DOMAIN&order=DESC&userdepth=SELF",
    );
    assert_eq!(r.property("DOMAIN"), ["beta.com", "alpha.com"]);
    assert_eq!(r.property("OWNERCONTACT"), ["P-TEST1", "P-OWN1"]);
    assert_eq!(r.property("TECHCONTACT"), ["P-TEST1", "P-TECH9"]);
    assert_eq!(r.property("X-BACKORDER-LITE"), ["0", "1"]);
    assert_eq!(r.property("DROPDATE"), ["0000-00-00 00:00:00"; 2]);
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainApplicationList&userdepth=SUBUSER",
    );
    assert_eq!(r.property("DOMAIN"), ["gamma.com"]);
    assert_eq!(r.property("USER"), ["shop.test.user"]);
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainApplicationList&ownercontact=P-TEST1",
    );
    assert_eq!(r.property("DOMAIN"), ["beta.com"]);
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainApplicationList&status1=REQUESTED",
    );
    assert_eq!(
        r.code(),
        Code::InvalidSyntax,
        "a gap in a numbered list is refused, not ignored"
    );

    // Delete: CANCELLED, and listed so.
    let r = c.call(
        CREDENTIALS,
        &format!("command=DeleteDomainApplication&application={beta}"),
    );
    assert_eq!(one(&r, "STATUS"), "CANCELLED");
    let r = c.call(
        CREDENTIALS,
        "command=QueryDomainApplicationList&status=CANCELLED",
    );
    assert_eq!(r.property("APPLICATION"), std::slice::from_ref(&beta));
    let r = c.call(
        CREDENTIALS,
        &format!("command=DeleteDomainApplication&application={beta}"),
    );
    assert_eq!(r.code(), Code::StatusProhibits);

    // The deposit list pages like the others.
    let r = c.call(CREDENTIALS, "command=QueryDepositList&first=0&limit=1");
    assert_eq!(
        (one(&r, "COUNT"), one(&r, "TOTAL"), one(&r, "LAST")),
        ("1".into(), "1".into(), "0".into())
    );
    assert_eq!(
        (one(&r, "TYPE"), one(&r, "AMOUNT"), one(&r, "BALANCE")),
        ("FUND".into(), "1000.00".into(), "1000.00".into())
    );
    let r = c.call(CREDENTIALS, "command=QueryDepositList&first=1");
    assert_eq!((one(&r, "COUNT"), one(&r, "LAST")), ("0".into(), "".into()));
    let r = c.call(CREDENTIALS, "command=EndSession");
    assert_eq!(r.code(), Code::MissingAttribute);
}

#[test]
fn served_with_run_the_engine_ticks_and_status_moves_on_its_own() {
    use backorder::gateway::{run, RunOptions};
    let clock = ManualClock::new(start_time());
    let engine = Engine::builder()
        .clock(clock.clone())
        .registry(Box::new(Underway))
        .build()
        .unwrap();
    let drop_at = start_time() + Duration::days(5);
    engine.add_pending_deletion("john.com", drop_at).unwrap();
    let accounts = Accounts::parse(ACCOUNTS, HashCost::TESTING).unwrap();
    let gateway =
        Arc::new(Gateway::new(Arc::new(engine), accounts, GatewayOptions::default()).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = gateway.clone();
    let server = std::thread::spawn(move || {
        let options = RunOptions {
            workers: 2,
            tick: true,
            tick_every: std::time::Duration::from_millis(20),
        };
        run(served, listener, options, async {
            let _ = stopped.await;
        })
        .unwrap()
    });
    let mut c = Conn::open(addr);
    let id = one(
        &c.call(
            CREDENTIALS,
            "command=AddDomainApplication&class=BACKORDER&domain=john.com",
        ),
        "APPLICATION",
    );
    let status = |c: &mut Conn| {
        one(
            &c.call(
                CREDENTIALS,
                &format!("command=StatusDomainApplication&application={id}"),
            ),
            "STATUS",
        )
    };
    let wait_for = |c: &mut Conn, want: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while status(c) != want {
            assert!(std::time::Instant::now() < deadline, "never {want}");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    };
    // Nobody calls tick here: the gateway's own ticker does, as time passes.
    clock.set(drop_at - Duration::hours(72));
    wait_for(&mut c, "ACTIVE");
    clock.set(drop_at);
    wait_for(&mut c, "PROCESSING");
    let _ = stop.send(());
    let report = server.join().unwrap();
    assert!(report.connections >= 1);
}

#[test]
fn an_exclusive_name_is_paid_first_come_over_the_wire() {
    let engine = manual_engine();
    engine
        .add_pending_deletion("first.biz", start_time() + Duration::days(2))
        .unwrap();
    let server = Server::start(engine);
    let mut c = server.conn();
    let add = "command=AddDomainApplication&class=BACKORDER&domain=first.biz";
    let r = c.call(CREDENTIALS, add);
    assert_eq!(r.code(), Code::Ok, "{r:?}");
    assert_eq!(
        (one(&r, "STATUS"), one(&r, "CLASS")),
        ("PENDING-PAYMENT".into(), "BIZ_BACKORDER".into())
    );
    let mine = one(&r, "APPLICATION");
    let r = c.call(
        CREDENTIALS,
        &format!("command=PayDomainApplication&application={mine}"),
    );
    assert_eq!(one(&r, "STATUS"), "BACKORDERED");
    // The payment is held as a deposit until the drop (captured when caught, refunded if not).
    let price = one(
        &c.call(
            CREDENTIALS,
            &format!("command=StatusDomainApplication&application={mine}"),
        ),
        "PRICE",
    );
    assert_eq!(
        one(&c.call(CREDENTIALS, "command=QueryDepositList"), "RESERVED"),
        price
    );
    // Someone else is refused: the name is held.
    let r = c.call("s_login=rival&s_pw=rival+pass", add);
    assert_eq!(r.code(), Code::NotUnique, "{r:?}");
    // A paid exclusive backorder cannot be cancelled; an unfunded payment is refused.
    let r = c.call(
        CREDENTIALS,
        &format!("command=DeleteDomainApplication&application={mine}"),
    );
    assert_eq!(r.code(), Code::StatusProhibits);
    let bare = "s_login=bare&s_pw=bare+pass";
    server
        .engine()
        .add_pending_deletion("second.biz", start_time() + Duration::days(2))
        .unwrap();
    let r = c.call(
        bare,
        "command=AddDomainApplication&class=BACKORDER&domain=second.biz&incomplete=1",
    );
    let theirs = one(&r, "APPLICATION");
    let r = c.call(
        bare,
        &format!("command=PayDomainApplication&application={theirs}"),
    );
    assert_eq!(r.code(), Code::CreditLimitExceeded, "{r:?}");
    assert!(server.engine().audit().unwrap().is_clean());
}
