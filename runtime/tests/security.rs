//! Secrets stay secret: what a host may print (`Debug` of every type that carries a password, an
//! auth code, a session id or a private key) and what a running `backorder serve` writes to its
//! logs, whatever it is sent. The rest of the security evidence lives beside what it guards; see
//! the Security rows of RELIABILITY.md for where (account isolation, authentication failures,
//! TLS verification, caps, XML attacks).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use backorder::epp::client::{SessionConfig, Transport};
use backorder::gateway::{Accounts, HashCost};
use backorder_core::api::{Limits, Request};
use backorder_core::epp::command::{ClientFrame, Login};
use backorder_core::{EventKind, Secret};

mod common;

const PASSWORD: &str = "Pw-5ecret-7391";
const KEY: &[u8] = b"-----PRIVATE-KEY-7391-----";

/// `secret` does not appear in `text`.
fn assert_absent(text: &str, secret: &str, what: &str) {
    assert!(
        !text.contains(secret),
        "{what} shows the secret {secret:?}:\n{text}"
    );
}

/// A fresh directory of this test process's own.
fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("backorder-security-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An accounts file in `dir` with one login, `ann`, whose password is `password`.
fn accounts_file(dir: &std::path::Path, password: &str) -> std::path::PathBuf {
    let path = dir.join("accounts.toml");
    let text = format!(
        "[[account]]\nlogin = \"ann\"\npassword = \"{password}\"\nbalance = \"100\"\ncurrency = \"USD\"\n"
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn secrets_never_print_in_debug() {
    // The registry login and a TLS client key, as a host configures the EPP catcher.
    let mut config = SessionConfig::tls(
        "epp.example:700",
        "epp.example",
        vec![b"CA".to_vec()],
        Login::new("registrar1", PASSWORD),
    );
    config.login.new_password = Some(Secret::new("NewPw-5ecret-7391".into()));
    config.transport = Transport::Tls {
        roots: vec![b"CA".to_vec()],
        client: Some((vec![b"CERT".to_vec()], KEY.to_vec())),
    };
    for text in [format!("{config:?}"), format!("{config:#?}")] {
        assert_absent(&text, PASSWORD, "SessionConfig");
        assert_absent(&text, "NewPw-5ecret", "SessionConfig");
        assert_absent(&text, &format!("{:?}", KEY.to_vec()), "SessionConfig");
        assert_absent(&text, &format!("{:#?}", KEY.to_vec()), "SessionConfig");
        assert!(
            text.contains("registrar1") && text.contains("private key (***)"),
            "{text}"
        );
    }

    // The same login as it arrives at a registry (the simulator decodes it).
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><login><clID>registrar1</clID><pw>{PASSWORD}</pw><options><version>1.0</version><lang>en</lang></options><svcs><objURI>urn:ietf:params:xml:ns:domain-1.0</objURI></svcs></login><clTRID>T1</clTRID></command></epp>"#
    );
    let frame = ClientFrame::from_xml(xml.as_bytes()).expect("a login frame");
    assert_absent(&format!("{frame:?}"), PASSWORD, "a decoded <login>");

    // A gateway request: s_pw, s_session and the command's PASSWORD and AUTH parameters.
    let query = format!("s_entity=54cd&s_login=ann&s_pw={PASSWORD}&s_session=SESSION7391");
    let body = "s_command=command%3DModifyDomain%0Adomain%3Djohn.com%0Aauth%3DAUTH7391%0Anewpassword%3DPASS7391";
    let request =
        Request::from_form(query.as_bytes(), body.as_bytes(), &Limits::default()).unwrap();
    let text = format!("{request:?}");
    for secret in [PASSWORD, "SESSION7391", "AUTH7391", "PASS7391"] {
        assert_absent(&text, secret, "a gateway request");
    }

    // The accounts file: passwords are hashed at load and never kept, nor printed.
    let accounts = Accounts::parse(
        &format!(
            "[[account]]\nlogin = \"ann\"\npassword = \"{PASSWORD}\"\nbalance = \"1\"\ncurrency = \"USD\"\n"
        ),
        HashCost::TESTING,
    )
    .unwrap();
    assert_absent(&format!("{accounts:?}"), PASSWORD, "Accounts");

    // The auth code a winner is given, in the event that tells the host.
    let event = EventKind::AuthCodeIssued {
        auth_code: Secret::new("AuthCode-7391".into()),
    };
    assert_absent(
        &format!("{event:?}"),
        "AuthCode-7391",
        "an AuthCodeIssued event",
    );
}

/// `backorder serve` with its output captured.
struct Serve {
    child: Child,
    addr: String,
    first_line: String,
    /// Reads the rest of stdout as it comes, so the server never blocks on a full pipe.
    stdout: std::thread::JoinHandle<String>,
}

impl Serve {
    fn start(db: &str, accounts: &std::path::Path) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_backorder"))
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0", "--accounts"])
            .arg(accounts)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first_line = String::new();
        out.read_line(&mut first_line).unwrap();
        if first_line.is_empty() {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("backorder serve did not start: {err}");
        }
        let addr = first_line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap_or_else(|| panic!("no address in {first_line:?}"))
            .to_string();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        Serve {
            child,
            addr,
            first_line,
            stdout,
        }
    }

    fn post(&self, query: &str, body: &str) -> String {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "POST /api/call.cgi?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    }

    /// Stops the server and returns everything it printed.
    fn finish(mut self) -> String {
        let _ = self.child.kill();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let _ = self.child.wait();
        let rest = self.stdout.join().unwrap_or_default();
        format!("{}{rest}{err}", self.first_line)
    }
}

#[test]
fn secrets_never_reach_the_logs() {
    let dir = scratch("logs");
    let accounts = accounts_file(&dir, PASSWORD);
    let db = format!("sqlite:{}", dir.join("gw.db").display());
    let serve = Serve::start(&db, &accounts);

    // A wrong password, the right one, a session, a command with an auth code, the session ended.
    let wrong = serve.post(
        "s_entity=54cd&s_login=ann&s_pw=Wrong-5ecret-7391",
        "command=CheckAuthentication",
    );
    assert!(wrong.contains("CODE = 530"), "{wrong}");
    let started = serve.post(
        &format!("s_entity=54cd&s_login=ann&s_pw={PASSWORD}"),
        "command=StartSession",
    );
    let session = started
        .lines()
        .find_map(|l| l.strip_prefix("PROPERTY[SESSION][0] = "))
        .unwrap_or_else(|| panic!("no session in {started}"))
        .trim()
        .to_string();
    let modify = serve.post(
        &format!("s_entity=54cd&s_session={session}"),
        "command=ModifyDomainApplication&application=1&auth=AUTH-7391",
    );
    assert!(modify.contains("CODE = "), "{modify}");
    serve.post(
        &format!("s_entity=54cd&s_session={session}"),
        "command=EndSession",
    );

    let logs = serve.finish();
    for secret in [PASSWORD, "Wrong-5ecret-7391", session.as_str(), "AUTH-7391"] {
        assert_absent(&logs, secret, "backorder serve's output");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_database_password_never_reaches_the_logs() {
    let dir = scratch("db");
    let accounts = accounts_file(&dir, "x");

    // Refused at once (nothing listens on port 1): the error names the URL, redacted.
    let out = Command::new(env!("CARGO_BIN_EXE_backorder"))
        .args([
            "serve",
            "--db",
            "postgres://bo:DbPw-7391@127.0.0.1:1/bo?password=DbPw2-7391",
            "--listen",
            "127.0.0.1:0",
            "--accounts",
        ])
        .arg(&accounts)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(logs.contains("bo:***@127.0.0.1:1"), "{logs}");
    assert_absent(&logs, "DbPw-7391", "a failed start");
    assert_absent(&logs, "DbPw2-7391", "a failed start");

    // Serving: the banner names the store, redacted. (The throwaway server trusts local logins,
    // so the password is carried but never asked for.)
    let Some(url) = common::fresh_postgres("security") else {
        let _ = std::fs::remove_dir_all(&dir);
        return;
    };
    let with_password = url.replacen("postgres://postgres@", "postgres://postgres:DbPw-7391@", 1);
    assert_ne!(
        with_password, url,
        "the test server's URL has the expected form"
    );
    let logs = Serve::start(&with_password, &accounts).finish();
    assert!(logs.contains("postgres:***@"), "{logs}");
    assert_absent(&logs, "DbPw-7391", "backorder serve's banner");
    let _ = std::fs::remove_dir_all(&dir);
}
