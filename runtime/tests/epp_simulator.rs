//! The registry simulator and the EPP client over TLS on loopback: the life cycle of a dropping
//! name through real sockets, certificate verification, client certificates, rate limits with
//! their penalty, premium prices, the session pool reconnecting — and the simulator spoken to by
//! a second, independent client path (hand-written frames over a bare TLS socket), so that it
//! is shown compatible with EPP and not only with our own client.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use backorder::core::epp::command::{Command, Create, Fee, FeeQuery, Login};
use backorder::core::epp::outcome::{check_outcomes, CheckOutcome, CreateOutcome};
use backorder::core::epp::response::ResponseData;
use backorder::core::Secret;
use backorder::epp::{Backoff, Session, SessionConfig, SessionError, SessionPool, Transport};
use backorder::simulator::{Competitor, Registry, RegistryConfig, ServerOptions, Simulator};
use backorder::{Clock, ManualClock};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn batch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 7, 19, 0, 0).unwrap()
}

fn config() -> RegistryConfig {
    let mut c = RegistryConfig::new(11);
    c.add_registrar("catcher1", "s3cret-pass", Decimal::from(1000));
    c.add_registrar("poor1", "s3cret-pass", Decimal::from(1));
    c.premium.insert("premium.com".into(), Decimal::from(2500));
    c
}

async fn start(registry: Registry, clock: &ManualClock, options: ServerOptions) -> Simulator {
    Simulator::start(registry, Arc::new(clock.clone()) as Arc<dyn Clock>, options)
        .await
        .expect("the simulator starts")
}

fn session_config(sim: &Simulator, client_id: &str) -> SessionConfig {
    SessionConfig::tls(
        &sim.addr.to_string(),
        "localhost",
        vec![sim.certificate.clone().expect("a TLS simulator")],
        Login::new(client_id, "s3cret-pass"),
    )
}

#[tokio::test]
async fn a_name_drops_and_is_caught_over_tls() {
    let clock = ManualClock::new(batch() - Duration::minutes(1));
    let mut registry = Registry::new(config());
    registry.schedule_batch(&["drop.com".into()], batch(), Duration::zero());
    registry.register("held.com", "someone", batch() - Duration::days(30));
    let sim = start(registry, &clock, ServerOptions::default()).await;
    let mut s = Session::connect(&session_config(&sim, "catcher1"))
        .await
        .unwrap();
    assert_eq!(s.greeting().server_id, "backorder registry simulator");

    let check = |names: &[&str]| Command::Check {
        names: names.iter().map(|n| n.to_string()).collect(),
        fee: None,
    };
    let before = s
        .send(check(&["drop.com", "held.com", "free.com"]))
        .await
        .unwrap();
    assert_eq!(
        check_outcomes(&before).unwrap(),
        vec![
            ("drop.com".into(), CheckOutcome::NotYetDropped),
            ("held.com".into(), CheckOutcome::Taken),
            ("free.com".into(), CheckOutcome::Available { premium: None }),
        ]
    );
    let create = || Command::Create(Create::new("drop.com", "Auth-1xyz"));
    let early = s.send(create()).await.unwrap();
    assert_eq!(CreateOutcome::of(&early), CreateOutcome::NotYetDropped);
    let info = s
        .send(Command::Info {
            name: "drop.com".into(),
            auth_code: None,
        })
        .await
        .unwrap();
    assert_eq!(info.rgp_statuses, ["pendingDelete"]);

    clock.set(batch() + Duration::milliseconds(5));
    let caught = s.send(create()).await.unwrap();
    assert_eq!(
        CreateOutcome::of(&caught),
        CreateOutcome::Created {
            fee: Some(Decimal::new(899, 2))
        }
    );
    assert!(matches!(caught.data, Some(ResponseData::Create(ref c)) if c.name == "drop.com"));
    let again = s.send(create()).await.unwrap();
    assert_eq!(CreateOutcome::of(&again), CreateOutcome::Taken);
    // The auth code is checked by a transfer query: right, then wrong.
    let query = |code: &str| Command::TransferQuery {
        name: "drop.com".into(),
        auth_code: Some(Secret::new(code.into())),
    };
    let mut other = Session::connect(&session_config(&sim, "poor1"))
        .await
        .unwrap();
    assert!(other.send(query("Auth-1xyz")).await.unwrap().succeeded());
    assert_eq!(other.send(query("wrong-code")).await.unwrap().code(), 2202);
    // Poll: the registry queued a message for the create.
    let polled = s.send(Command::PollRequest).await.unwrap();
    assert_eq!(polled.code(), 1301);
    let id = polled.queue.unwrap().id;
    assert!(s
        .send(Command::PollAck { message: id })
        .await
        .unwrap()
        .succeeded());
    assert_eq!(s.send(Command::PollRequest).await.unwrap().code(), 1300);
    s.hello().await.unwrap();
    assert_eq!(s.logout().await.unwrap().code(), 1500);
    assert_eq!(
        sim.registry
            .lock()
            .unwrap()
            .holder("drop.com", clock.now())
            .as_deref(),
        Some("catcher1")
    );
}

#[tokio::test]
async fn premium_names_need_their_fee_and_billing_is_checked() {
    let clock = ManualClock::new(batch());
    let sim = start(Registry::new(config()), &clock, ServerOptions::default()).await;
    let mut s = Session::connect(&session_config(&sim, "catcher1"))
        .await
        .unwrap();
    let checked = s
        .send(Command::Check {
            names: vec!["premium.com".into()],
            fee: Some(FeeQuery {
                currency: Some("USD".into()),
                period_years: 1,
            }),
        })
        .await
        .unwrap();
    assert_eq!(
        check_outcomes(&checked).unwrap()[0].1,
        CheckOutcome::Available {
            premium: Some(Decimal::from(2500))
        }
    );
    let mut create = Create::new("premium.com", "Auth-1xyz");
    let refused = s.send(Command::Create(create.clone())).await.unwrap();
    assert_eq!(
        CreateOutcome::of(&refused),
        CreateOutcome::PremiumMismatch {
            price: Some(Decimal::from(2500))
        }
    );
    create.fee = Some(Fee {
        currency: "USD".into(),
        amount: Decimal::from(2400),
    });
    let low = s.send(Command::Create(create.clone())).await.unwrap();
    assert!(matches!(
        CreateOutcome::of(&low),
        CreateOutcome::PremiumMismatch { .. }
    ));
    // catcher1 has 1000: the price is 2500.
    create.fee = Some(Fee {
        currency: "USD".into(),
        amount: Decimal::from(2500),
    });
    assert_eq!(
        CreateOutcome::of(&s.send(Command::Create(create)).await.unwrap()),
        CreateOutcome::BillingFailure
    );
    let mut poor = Session::connect(&session_config(&sim, "poor1"))
        .await
        .unwrap();
    let cheap = poor
        .send(Command::Create(Create::new("cheap.com", "Auth-1xyz")))
        .await
        .unwrap();
    assert_eq!(CreateOutcome::of(&cheap), CreateOutcome::BillingFailure);
}

#[tokio::test]
async fn certificates_are_verified_and_logins_checked() {
    let clock = ManualClock::new(batch());
    let sim = start(Registry::new(config()), &clock, ServerOptions::default()).await;
    // A certificate the client does not trust.
    let stranger = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let mut untrusted = session_config(&sim, "catcher1");
    untrusted.transport = Transport::Tls {
        roots: vec![stranger.cert.der().to_vec()],
        client: None,
    };
    assert!(matches!(
        Session::connect(&untrusted).await,
        Err(SessionError::Tls(_))
    ));
    // The right certificate under a name it does not carry.
    let mut misnamed = session_config(&sim, "catcher1");
    misnamed.server_name = "registry.example".into();
    assert!(matches!(
        Session::connect(&misnamed).await,
        Err(SessionError::Tls(_))
    ));
    // No roots at all: refused before connecting, verification cannot be turned off.
    let mut rootless = session_config(&sim, "catcher1");
    rootless.transport = Transport::Tls {
        roots: vec![],
        client: None,
    };
    assert!(matches!(
        Session::connect(&rootless).await,
        Err(SessionError::Tls(_))
    ));
    // A wrong password.
    let mut wrong = session_config(&sim, "catcher1");
    wrong.login = Login::new("catcher1", "not-the-password");
    assert!(matches!(
        Session::connect(&wrong).await,
        Err(SessionError::LoginRefused { code: 2200, .. })
    ));
}

#[tokio::test]
async fn a_registry_asking_for_client_certificates_gets_ours() {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let client_cert = rcgen::CertificateParams::new(vec!["catcher1".into()])
        .unwrap()
        .signed_by(&client_key, &ca)
        .unwrap();
    let clock = ManualClock::new(batch());
    let options = ServerOptions {
        client_ca: Some(ca.der().to_vec()),
        ..Default::default()
    };
    let sim = start(Registry::new(config()), &clock, options).await;
    let without = session_config(&sim, "catcher1");
    assert!(Session::connect(&without).await.is_err());
    let mut with = session_config(&sim, "catcher1");
    with.transport = Transport::Tls {
        roots: vec![sim.certificate.clone().unwrap()],
        client: Some((vec![client_cert.der().to_vec()], client_key.serialize_der())),
    };
    let s = Session::connect(&with).await.unwrap();
    assert_eq!(s.logout().await.unwrap().code(), 1500);
}

#[tokio::test]
async fn going_over_the_rate_closes_the_session_and_the_pool_reconnects_after_the_penalty() {
    let clock = ManualClock::new(batch());
    let mut c = config();
    c.commands_per_second = Some(3);
    c.penalty = Duration::seconds(30);
    let sim = start(Registry::new(c), &clock, ServerOptions::default()).await;
    let pool = SessionPool::new(
        session_config(&sim, "catcher1"),
        1,
        Backoff {
            first: StdDuration::from_millis(10),
            max: StdDuration::from_millis(50),
        },
    );
    let check = || Command::Check {
        names: vec!["a.com".into()],
        fee: None,
    };
    {
        let mut lease = pool.lease().await.unwrap();
        // The login was the first command of the second; two more fit.
        for _ in 0..2 {
            assert!(lease.session().send(check()).await.unwrap().succeeded());
        }
        let over = lease.session().send(check()).await.unwrap();
        assert_eq!(CreateOutcome::of(&over), CreateOutcome::RateLimited);
        assert!(lease.session().send(check()).await.is_err());
        lease.broken();
    }
    // Within the penalty the login is refused; after it the pool logs in again.
    clock.set(batch() + Duration::seconds(10));
    assert!(pool.lease().await.is_err());
    clock.set(batch() + Duration::seconds(31));
    let mut lease = pool.lease().await.unwrap();
    assert!(lease.session().send(check()).await.unwrap().succeeded());
}

#[tokio::test]
async fn competitors_take_names_at_their_speed() {
    let names: Vec<String> = (0..400).map(|i| format!("n{i}.com")).collect();
    let mut c = config();
    c.competitors = vec![Competitor {
        id: "fastreg".into(),
        attempts_per_second: 10.0,
        latency: Duration::milliseconds(2),
    }];
    let mut registry = Registry::new(c);
    let purges = registry.schedule_batch(&names, batch(), Duration::seconds(40));
    // A seeded random order, spread over the window.
    let order: Vec<&str> = purges.iter().map(|(n, _)| n.as_str()).collect();
    assert_ne!(order, names.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(purges.windows(2).all(|w| w[0].1 <= w[1].1));
    assert!(purges.last().unwrap().1 < batch() + Duration::seconds(40));
    // Long after the batch every name is the competitor's; a tenth of a second after its purge
    // (the competitor's whole attempt interval plus latency) none is left for a slow catcher.
    let (name, purge) = purges[7].clone();
    assert_eq!(
        registry.holder(&name, purge - Duration::milliseconds(1)),
        None
    );
    assert_eq!(
        registry
            .holder(&name, purge + Duration::milliseconds(103))
            .as_deref(),
        Some("fastreg")
    );
}

/// The second client path: frames written by hand, framed by hand, over tokio-rustls without
/// our client or codec.
#[tokio::test]
async fn the_simulator_answers_hand_written_frames() {
    let clock = ManualClock::new(batch() + Duration::seconds(1));
    let mut registry = Registry::new(config());
    registry.schedule_batch(&["raw.com".into()], batch(), Duration::zero());
    let sim = start(registry, &clock, ServerOptions::default()).await;

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(
            sim.certificate.clone().unwrap(),
        ))
        .unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(sim.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .unwrap();

    async fn read(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
        let mut header = [0u8; 4];
        stream.read_exact(&mut header).await.unwrap();
        let mut body = vec![0u8; u32::from_be_bytes(header) as usize - 4];
        stream.read_exact(&mut body).await.unwrap();
        String::from_utf8(body).unwrap()
    }
    async fn send(stream: &mut (impl tokio::io::AsyncWrite + Unpin), xml: &str) {
        stream
            .write_all(&((xml.len() + 4) as u32).to_be_bytes())
            .await
            .unwrap();
        stream.write_all(xml.as_bytes()).await.unwrap();
    }

    let greeting = read(&mut stream).await;
    assert!(
        greeting.contains("<greeting>") && greeting.contains("urn:ietf:params:xml:ns:domain-1.0")
    );
    // Prefixes of our own choosing, whitespace and comments: namespaces are matched by URI.
    send(
        &mut stream,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<e:epp xmlns:e="urn:ietf:params:xml:ns:epp-1.0">
  <!-- a login, written by hand -->
  <e:command>
    <e:login><e:clID>catcher1</e:clID><e:pw>s3cret-pass</e:pw>
      <e:options><e:version>1.0</e:version><e:lang>en</e:lang></e:options>
      <e:svcs><e:objURI>urn:ietf:params:xml:ns:domain-1.0</e:objURI></e:svcs>
    </e:login>
    <e:clTRID>RAW-1</e:clTRID>
  </e:command>
</e:epp>"#,
    )
    .await;
    let login = read(&mut stream).await;
    assert!(
        login.contains(r#"<result code="1000">"#) && login.contains("<clTRID>RAW-1</clTRID>"),
        "{login}"
    );
    send(&mut stream, r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create>
<dom:create xmlns:dom="urn:ietf:params:xml:ns:domain-1.0"><dom:name>raw.com</dom:name>
<dom:period unit="m">12</dom:period><dom:authInfo><dom:pw>Raw-Auth-1</dom:pw></dom:authInfo></dom:create>
</create><clTRID>RAW-2</clTRID></command></epp>"#).await;
    let created = read(&mut stream).await;
    assert!(
        created.contains(r#"<result code="1000">"#)
            && created.contains("<domain:name>raw.com</domain:name>"),
        "{created}"
    );
    // Not EPP: a syntax error, and the session goes on.
    send(
        &mut stream,
        "<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><command><bogus/></command></epp>",
    )
    .await;
    assert!(read(&mut stream).await.contains(r#"<result code="2001">"#));
    send(&mut stream, r#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><logout/><clTRID>RAW-3</clTRID></command></epp>"#).await;
    assert!(read(&mut stream).await.contains(r#"<result code="1500">"#));
    // The server closes after logout.
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).await.unwrap_or(0), 0);
}

#[tokio::test]
async fn an_oversized_frame_ends_the_connection() {
    let clock = ManualClock::new(batch());
    let options = ServerOptions {
        max_frame: 1024,
        ..Default::default()
    };
    let sim = start(Registry::new(config()), &clock, options).await;
    let mut s = Session::connect(&session_config(&sim, "catcher1"))
        .await
        .unwrap();
    let names = (0..100)
        .map(|i| format!("long-name-number-{i}.com"))
        .collect();
    // The server answers 2001 and closes; the client sees the answer or the close.
    match s.send(Command::Check { names, fee: None }).await {
        Ok(r) => assert_eq!(r.code(), 2001),
        Err(e) => assert!(
            matches!(
                e,
                SessionError::Closed | SessionError::Io(_) | SessionError::Protocol(_)
            ),
            "{e}"
        ),
    }
    assert!(s.send(Command::PollRequest).await.is_err());
}

/// A timed create goes out split (all but its last byte ahead, the last at the instant) and the
/// registry reads it whole, whether the simulator sleeps between frames or polls on a thread of
/// its own; one due already goes out at once, whole. Either way the kernel stamps when it left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_create_is_read_whole_by_a_sleeping_or_polling_registry() {
    for polling in [false, true] {
        let clock = ManualClock::new(batch() + Duration::seconds(1));
        let mut registry = Registry::new(config());
        let names = ["timed.com".to_string(), "late.com".to_string()];
        registry.schedule_batch(&names, batch(), Duration::zero());
        let options = ServerOptions {
            polling,
            ..ServerOptions::default()
        };
        let sim = start(registry, &clock, options).await;
        let mut s = Session::connect(&session_config(&sim, "catcher1"))
            .await
            .unwrap();
        for (name, ahead) in [("timed.com", 20_000), ("late.com", 0)] {
            let prepared = s.prepare(Command::Create(Create::new(name, "Auth-1xyz")));
            let at = std::time::Instant::now() + std::time::Duration::from_micros(ahead);
            let late = s.write_prepared_at(&prepared, at).await.unwrap();
            assert!(std::time::Instant::now() >= at);
            // Linux stamps the frame's departure, which cannot come after the write returned
            // (the two clocks are matched to within a few microseconds; 1 ms of room).
            if cfg!(target_os = "linux") {
                let left = s.last_departure().expect("a transmit timestamp on Linux");
                assert!(
                    left <= late + std::time::Duration::from_millis(1),
                    "{left:?} after {late:?}"
                );
            }
            let answer = s.read_response(&prepared).await.unwrap();
            assert!(
                matches!(CreateOutcome::of(&answer), CreateOutcome::Created { .. }),
                "{name}, polling {polling}: {answer:?}"
            );
            let holder = sim.registry.lock().unwrap().holder(name, clock.now());
            assert_eq!(holder.as_deref(), Some("catcher1"));
        }
        sim.stop();
    }
}
