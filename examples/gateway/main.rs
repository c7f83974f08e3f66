//! The HEXONET-compatible gateway, served for trying out or measured under load.
//!
//! ```text
//! cargo run --release --example gateway                 # serve a demo on 127.0.0.1:8080
//! cargo run --release --example gateway -- --bench      # requests per second, memory and SQLite
//! ```
//!
//! Serving, it prints a `curl` line to try (the seed's own request). With `--bench` it serves the
//! gateway on loopback twice, on the memory store and on a SQLite file, and drives each from
//! keep-alive connections in this process: one `StartSession` (the only password hash), then
//! `AddDomainApplication` for a new name per request. It prints requests per second, latency
//! percentiles and the process's peak memory, and the SQLite/memory ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backorder::gateway::{run, Accounts, Gateway, GatewayOptions, HashCost, RunOptions};
use backorder::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DEMO_ACCOUNTS: &str = r#"
[[account]]
login = "test.user"
password = "test.passw0rd"
balance = "1000.00"
currency = "USD"
contacts = { owner = "P-TEST1", admin = "P-TEST1", tech = "P-TEST1", billing = "P-TEST1" }

[[account]]
login = "shop.test.user"
password = "shop.passw0rd"
balance = "100.00"
currency = "USD"
parent = "test.user"
contacts = { owner = "P-SHOP1", admin = "P-SHOP1", tech = "P-SHOP1", billing = "P-SHOP1" }
"#;

struct Args {
    bench: bool,
    listen: String,
    db: String,
    requests: u64,
    connections: u64,
    workers: usize,
    json: bool,
}

fn args() -> Args {
    let mut a = Args {
        bench: false,
        listen: "127.0.0.1:8080".into(),
        db: "memory:".into(),
        requests: 200_000,
        connections: 32,
        workers: 2,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value"));
        match flag.as_str() {
            "--bench" => a.bench = true,
            "--json" => a.json = true,
            "--listen" => a.listen = value("--listen"),
            "--db" => a.db = value("--db"),
            "--requests" => a.requests = value("--requests").parse().expect("--requests N"),
            "--connections" => {
                a.connections = value("--connections").parse().expect("--connections N")
            }
            "--workers" => a.workers = value("--workers").parse().expect("--workers N"),
            "--help" | "-h" => {
                println!(
                    "gateway [--listen ADDR] [--db URL]\n\
                     gateway --bench [--requests N] [--connections N] [--workers N] [--json]"
                );
                std::process::exit(0);
            }
            other => panic!("unknown flag {other}; try --help"),
        }
    }
    a
}

fn main() {
    let a = args();
    if a.bench {
        bench(&a);
    } else {
        demo(&a);
    }
}

fn demo(a: &Args) {
    let accounts = Accounts::parse(DEMO_ACCOUNTS, HashCost::DEFAULT).expect("demo accounts");
    let engine = Arc::new(Engine::open(&a.db).expect("store"));
    let gateway = Gateway::new(engine, accounts, GatewayOptions::default()).expect("gateway");
    let listener = std::net::TcpListener::bind(&a.listen).expect("listen");
    let addr = listener.local_addr().expect("address");
    println!(
        "serving HEXONET's command API on http://{addr}/api/call.cgi (store {}); try:",
        a.db
    );
    println!(
        "  curl -d \"command=AddDomainApplication&class=BACKORDER&domain=john.com\" \
         \"http://{addr}/api/call.cgi?s_entity=54cd&s_login=test.user&s_pw=test.passw0rd\""
    );
    println!("Ctrl-C stops.");
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    run(Arc::new(gateway), listener, RunOptions::default(), stop).expect("serve");
}

/// One measured run.
struct Figures {
    store: String,
    requests: u64,
    seconds: f64,
    p50_us: u64,
    p99_us: u64,
    peak_rss_kib: u64,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn bench(a: &Args) {
    let dir = std::env::temp_dir().join(format!("backorder-gateway-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let sqlite = format!("sqlite:{}", dir.join("bench.db").display());
    let direct = direct_places(a.requests);
    if !a.json {
        println!(
            "baseline: Engine::place_backorder called directly on one thread, memory store: {direct:.0}/s"
        );
    }
    let mut all = Vec::new();
    for store in ["memory:".to_string(), sqlite] {
        let f = measure(&store, a);
        if !a.json {
            println!(
                "{:<8} {:>8} requests in {:>6.2} s: {:>8.0} AddDomainApplication/s, latency p50 {} µs, p99 {} µs, peak RSS {} MiB",
                if f.store.starts_with("memory") { "memory" } else { "sqlite" },
                f.requests,
                f.seconds,
                f.per_second(),
                f.p50_us,
                f.p99_us,
                f.peak_rss_kib / 1024
            );
        }
        all.push(f);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let ratio = all[1].per_second() / all[0].per_second();
    if a.json {
        let runs: Vec<serde_json::Value> = all
            .iter()
            .map(|f| {
                serde_json::json!({
                    "store": if f.store.starts_with("memory") { "memory" } else { "sqlite" },
                    "requests": f.requests,
                    "seconds": f.seconds,
                    "requests_per_second": f.per_second().round(),
                    "latency_us_p50": f.p50_us,
                    "latency_us_p99": f.p99_us,
                    "peak_rss_kib": f.peak_rss_kib,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "direct_places_per_second": direct.round(),
                "memory_gateway_over_direct": (all[0].per_second() / direct * 1000.0).round() / 1000.0,
                "connections": a.connections,
                "workers": a.workers,
                "runs": runs,
                "sqlite_over_memory": (ratio * 1000.0).round() / 1000.0,
            })
        );
    } else {
        println!(
            "sqlite/memory: {ratio:.3}; memory gateway/direct: {:.3}",
            all[0].per_second() / direct
        );
    }
}

/// The baseline: the same placements straight into a memory engine, no HTTP, one thread.
fn direct_places(requests: u64) -> f64 {
    let engine = Engine::open("memory:").expect("store");
    engine
        .create_account(backorder::NewAccount {
            id: "bench".into(),
            currency: backorder::Currency::USD,
            contacts: backorder::full_contacts("P-B1"),
        })
        .expect("account");
    let place = |i: u64| {
        engine
            .place_backorder(backorder::PlaceBackorder {
                account: "bench".into(),
                domain: format!("d{i}.com"),
                ..Default::default()
            })
            .expect("place");
    };
    (0..requests / 20).for_each(|i| place(u64::MAX - i));
    let started = Instant::now();
    (0..requests).for_each(place);
    requests as f64 / started.elapsed().as_secs_f64()
}

fn measure(store: &str, a: &Args) -> Figures {
    let accounts = Accounts::parse(
        "[[account]]\nlogin = 'bench'\npassword = 'bench password'\nbalance = '0'\n\
         currency = 'USD'\ncontacts = { owner = 'P-B1', admin = 'P-B1', tech = 'P-B1', billing = 'P-B1' }",
        HashCost::DEFAULT,
    )
    .expect("accounts");
    let engine = Arc::new(Engine::open(store).expect("store"));
    let gateway =
        Arc::new(Gateway::new(engine, accounts, GatewayOptions::default()).expect("gateway"));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().expect("address");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let options = RunOptions {
        workers: a.workers,
        tick: false,
        ..RunOptions::default()
    };
    let served = gateway.clone();
    let server = std::thread::spawn(move || {
        run(served, listener, options, async {
            let _ = stop_rx.await;
        })
        .expect("serve")
    });
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let figures = client.block_on(async {
        let mut first = Client::connect(addr).await;
        let started = first
            .call("s_entity=54cd&s_login=bench&s_pw=bench+password&command=StartSession")
            .await;
        let session = started
            .lines()
            .find_map(|l| l.strip_prefix("PROPERTY[SESSION][0] = "))
            .expect("a session")
            .to_string();
        // Warm up: connections open, caches filled, allocator settled.
        drive(addr, &session, a.connections, a.requests / 20, "w").await;
        let started = Instant::now();
        let mut latencies = drive(addr, &session, a.connections, a.requests, "m").await;
        let seconds = started.elapsed().as_secs_f64();
        latencies.sort_unstable();
        let at =
            |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_micros() as u64;
        Figures {
            store: store.to_string(),
            requests: latencies.len() as u64,
            seconds,
            p50_us: at(0.5),
            p99_us: at(0.99),
            peak_rss_kib: peak_rss_kib(),
        }
    });
    let _ = stop_tx.send(());
    server.join().expect("server thread");
    let placed = gateway
        .engine()
        .backorders("bench")
        .expect("backorders")
        .len() as u64;
    let c = a.connections;
    assert_eq!(placed, a.requests / c * c + a.requests / 20 / c * c);
    figures
}

/// `requests` AddDomainApplication calls spread over `connections` keep-alive connections, each
/// for a name of its own; the latency of every call.
async fn drive(
    addr: std::net::SocketAddr,
    session: &str,
    connections: u64,
    requests: u64,
    tag: &str,
) -> Vec<Duration> {
    let per = requests / connections;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let session = session.to_string();
        let tag = tag.to_string();
        tasks.spawn(async move {
                let mut client = Client::connect(addr).await;
                let mut latencies = Vec::with_capacity(per as usize);
                for i in 0..per {
                    let body = format!(
                        "s_entity=54cd&s_session={session}&command=AddDomainApplication&class=BACKORDER&domain={tag}{c}x{i}.com"
                    );
                    let t = Instant::now();
                    let answer = client.call(&body).await;
                    latencies.push(t.elapsed());
                    assert!(answer.contains("\nCODE = 200\n"), "{answer}");
                }
                latencies
        });
    }
    let mut all = Vec::with_capacity(requests as usize);
    while let Some(r) = tasks.join_next().await {
        all.extend(r.expect("client task"));
    }
    all
}

/// A keep-alive HTTP/1.1 client that knows just enough to read the gateway's answers.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Client {
            stream,
            buf: Vec::with_capacity(4096),
        }
    }

    async fn call(&mut self, body: &str) -> String {
        let request = format!(
            "POST /api/call.cgi HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        self.buf.clear();
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).expect("headers");
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .expect("content-length");
                let total = end + 4 + length;
                while self.buf.len() < total {
                    self.read().await;
                }
                let body = String::from_utf8(self.buf[end + 4..total].to_vec()).expect("utf-8");
                self.buf.drain(..total);
                return body;
            }
            self.read().await;
        }
    }

    async fn read(&mut self) {
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the gateway closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
