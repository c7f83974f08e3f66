//! The HEXONET-compatible HTTP gateway (SPEC §9): `POST /api/call.cgi` with HEXONET's form fields,
//! answered in HEXONET's `[RESPONSE]` text, so existing HEXONET clients and scripts drive the
//! engine unchanged.
//!
//! - Logins come from a TOML accounts file ([`Accounts`]), kept as argon2 hashes and checked in
//!   constant time; an unknown login costs what a wrong password does.
//! - `StartSession` gives a session id to send as `s_session` instead of the password, so the
//!   hashing is paid once per session, not per request.
//! - `s_user` acts as one of the caller's sub-users (their `parent` chain leads to the caller);
//!   any other is `531 Authorization failed`.
//! - Another account's application answers exactly as a missing one: `545 Object not found`.
//! - Every answer is HTTP 200 with the response body, refusals included; only another path (404)
//!   or method (405) is answered otherwise.
//!
//! [`Gateway::call`] is the whole request without HTTP; [`serve`] puts it on a TCP listener.
//!
//! ```
//! use std::sync::Arc;
//! use backorder::gateway::{Accounts, Gateway, GatewayOptions, HashCost};
//! use backorder::Engine;
//!
//! let accounts = Accounts::parse(
//!     "[[account]]\nlogin = 'ann'\npassword = 'pw'\nbalance = '100'\ncurrency = 'USD'\n\
//!      contacts = { owner = 'P-ANN1', admin = 'P-ANN1', tech = 'P-ANN1', billing = 'P-ANN1' }",
//!     HashCost::TESTING,
//! ).unwrap();
//! let engine = Arc::new(Engine::open("memory:").unwrap());
//! let gateway = Gateway::new(engine, accounts, GatewayOptions::default()).unwrap();
//! let body = gateway.call(
//!     b"s_entity=54cd&s_login=ann&s_pw=pw",
//!     b"command=AddDomainApplication&class=BACKORDER&domain=john.com",
//! );
//! let text = String::from_utf8(body).unwrap();
//! assert!(text.contains("CODE = 200"));
//! assert!(text.contains("PROPERTY[CLASS][0] = COM_BACKORDER"));
//! assert!(text.contains("PROPERTY[STATUS][0] = REQUESTED"));
//! ```

mod accounts;
mod http;
mod sessions;

use std::sync::Arc;
use std::time::{Duration, Instant};

use backorder_core::api::{self, Backend, Caller, Code, Command, Limits, Request, Response};
use backorder_core::ledger::StatementLine;
use backorder_core::search::{SearchQuery, SearchResult};
use backorder_core::{
    Account, AuctionView, Backorder, Balance, Contacts, Error, PlaceBackorder, Result, Secret,
    TldPolicy,
};
use rust_decimal::Decimal;

pub use accounts::{Accounts, GatewayAccount, HashCost, Verdict};
pub use http::{serve, ServeReport};
pub use sessions::{Sessions, MAX_SESSIONS, MAX_SESSIONS_PER_LOGIN, SESSION_ID_CHARS};

use crate::Engine;

/// How a gateway answers: which system it is, and its caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayOptions {
    /// The `s_entity` it answers to (HEXONET: `54cd` live, `1234` test). A request naming another
    /// is refused (530); one naming none is taken as meant for this one.
    pub entity: String,
    /// Caps on parameters.
    pub limits: Limits,
    /// The largest request body (and query string) read, in bytes.
    pub max_body_bytes: usize,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
}

impl Default for GatewayOptions {
    fn default() -> Self {
        GatewayOptions {
            entity: "54cd".into(),
            limits: Limits::default(),
            max_body_bytes: 64 * 1024,
            max_connections: 1024,
            header_timeout: Duration::from_secs(30),
        }
    }
}

/// The gateway: the engine, the logins, the sessions.
pub struct Gateway {
    engine: Arc<Engine>,
    accounts: Accounts,
    sessions: Sessions,
    options: GatewayOptions,
}

impl Gateway {
    /// A gateway over `engine` for `accounts`, opening in the engine the accounts it lacks (see
    /// [`Accounts::provision`]).
    pub fn new(
        engine: Arc<Engine>,
        accounts: Accounts,
        options: GatewayOptions,
    ) -> Result<Gateway> {
        accounts.provision(&engine)?;
        Ok(Gateway {
            engine,
            accounts,
            sessions: Sessions::default(),
            options,
        })
    }

    /// The engine.
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The options.
    pub fn options(&self) -> &GatewayOptions {
        &self.options
    }

    /// The live sessions.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Answers one request: its URL query string and its form body, as bytes; the answer is the
    /// response body, `RUNTIME` included.
    pub fn call(&self, query: &[u8], body: &[u8]) -> Vec<u8> {
        let started = Instant::now();
        let response = self.respond(query, body);
        response.to_bytes(Some(started.elapsed()))
    }

    /// As [`Gateway::call`], the response unwritten.
    pub fn respond(&self, query: &[u8], body: &[u8]) -> Response {
        let request = match Request::from_form(query, body, &self.options.limits) {
            Ok(r) => r,
            Err(refusal) => return refusal.response(),
        };
        let caller = match self.authenticate(&request) {
            Ok(c) => c,
            Err(refusal) => return refusal,
        };
        let command = match Command::parse(&request.params) {
            Ok(c) => c,
            Err(refusal) => return refusal.response(),
        };
        api::execute(&EngineBackend { gateway: self }, &caller, &command)
    }

    fn authenticate(&self, request: &Request) -> std::result::Result<Caller, Response> {
        let c = &request.credentials;
        let denied = |detail: &str| Response::error(Code::AuthenticationFailed, detail);
        if c.entity.as_ref().is_some_and(|e| *e != self.options.entity) {
            return Err(denied("this is not that s_entity"));
        }
        // An empty field is an absent one (clients send `s_session=` when they have none).
        let session = c.session.as_ref().filter(|s| !s.expose().is_empty());
        let login = match (session, &c.login, &c.password) {
            (Some(session), _, _) => self
                .sessions
                .login(session)
                .ok_or_else(|| denied("session not found or expired"))?,
            (None, Some(login), Some(password)) => match self.accounts.verify(login, password) {
                Verdict::Granted => login.clone(),
                Verdict::Denied => return Err(denied("")),
                Verdict::Busy => {
                    return Err(Response::error(
                        Code::TryAgain,
                        "too many password checks at once: try again, or log in once with StartSession and send s_session",
                    ))
                }
            },
            (None, _, _) => return Err(denied("s_login and s_pw, or s_session, are required")),
        };
        let account = match c.user.as_ref().filter(|u| !u.is_empty()) {
            Some(user) if *user != login => {
                if !self.accounts.is_sub_user(&login, user) {
                    return Err(Response::error(
                        Code::AuthorizationFailed,
                        "s_user is not a sub-user of this login",
                    ));
                }
                user.clone()
            }
            _ => login.clone(),
        };
        Ok(Caller {
            login,
            account,
            session: session.cloned(),
        })
    }
}

/// The engine and the gateway's sessions, as the dispatcher sees them.
struct EngineBackend<'a> {
    gateway: &'a Gateway,
}

impl Backend for EngineBackend<'_> {
    fn account(&self, id: &str) -> Result<Account> {
        self.gateway.engine.account(id)
    }

    fn policy(&self, zone: &str) -> Result<TldPolicy> {
        self.gateway.engine.policy(zone)
    }

    fn place_backorder(&self, req: PlaceBackorder) -> Result<Backorder> {
        self.gateway.engine.place_backorder(req)
    }

    fn backorder(&self, account: &str, id: u64) -> Result<Backorder> {
        self.gateway.engine.backorder(account, id)
    }

    fn backorders(&self, account: &str) -> Result<Vec<Backorder>> {
        self.gateway.engine.backorders(account)
    }

    fn modify_backorder(&self, account: &str, id: u64, contacts: Contacts) -> Result<Backorder> {
        // Read and write in one transaction, so two clients changing different roles at once
        // both keep their change.
        self.gateway.engine.write(|tx, policies, now, _| {
            let b = backorder_core::backorder::load_owned(tx, account, id)?;
            let merged = contacts.or(&b.contacts);
            backorder_core::backorder::modify_contacts(tx, policies, now, account, id, &merged)
        })
    }

    fn cancel_backorder(&self, account: &str, id: u64, key: Option<&str>) -> Result<Backorder> {
        self.gateway
            .engine
            .cancel_backorder_with_key(account, id, key)
    }

    fn pay(&self, account: &str, id: u64, key: Option<&str>) -> Result<Backorder> {
        self.gateway.engine.pay_with_key(account, id, key)
    }

    fn bid(&self, account: &str, id: u64, max: Decimal, key: Option<&str>) -> Result<AuctionView> {
        self.gateway.engine.bid_with_key(account, id, max, key)
    }

    fn auction(&self, account: &str, id: u64) -> Result<AuctionView> {
        self.gateway.engine.auction(account, id)
    }

    fn search_pending(&self, query: &SearchQuery) -> Result<SearchResult> {
        self.gateway.engine.search_pending(query)
    }

    fn balance(&self, account: &str) -> Result<Balance> {
        self.gateway.engine.balance(account)
    }

    fn statement(&self, account: &str, after: u64, limit: u32) -> Result<Vec<StatementLine>> {
        self.gateway.engine.statement(account, after, limit)
    }

    fn check_sub_user(&self, caller: &Caller, login: &str, password: &Secret) -> Result<bool> {
        // The hash is checked whatever the relation, so the answer's timing tells nothing.
        match self.gateway.accounts.verify(login, password) {
            Verdict::Granted => Ok(self.gateway.accounts.is_sub_user(&caller.account, login)),
            Verdict::Denied => Ok(false),
            Verdict::Busy => Err(Error::Store("too many password checks at once".into())),
        }
    }

    fn start_session(&self, caller: &Caller, idle_secs: u32, max_secs: u32) -> Result<Secret> {
        self.gateway.sessions.start(
            &caller.login,
            Duration::from_secs(idle_secs.into()),
            Duration::from_secs(max_secs.into()),
        )
    }

    fn sub_users(&self, account: &str) -> Vec<String> {
        self.gateway.accounts.sub_users(account)
    }

    fn end_session(&self, caller: &Caller) -> Result<()> {
        match &caller.session {
            Some(id) if self.gateway.sessions.end(id) => Ok(()),
            Some(_) => Err(Error::InvalidArgument(
                "the session has ended already".into(),
            )),
            None => Err(Error::InvalidArgument(
                "EndSession ends the session given as s_session; none was given".into(),
            )),
        }
    }
}

/// How [`run`] serves: where, on how many threads, and whether it drives the engine's time.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Threads answering requests (the engine's blocking calls get their own pool).
    pub workers: usize,
    /// Call the engine's `tick` whenever work falls due (deposits, drops, auctions), at least
    /// every `tick_every`. A host that ticks the engine itself turns this off.
    pub tick: bool,
    /// The longest wait between ticks.
    pub tick_every: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            tick: true,
            tick_every: Duration::from_secs(1),
        }
    }
}

/// Serves `gateway` on `listener` until `stop` completes, ticking the engine meanwhile when
/// asked: what `backorder serve` runs. Blocks the calling thread.
pub fn run(
    gateway: Arc<Gateway>,
    listener: std::net::TcpListener,
    options: RunOptions,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<ServeReport> {
    use std::sync::atomic::{AtomicBool, Ordering};
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.workers.max(1))
        .thread_name("backorder-gateway")
        .enable_all()
        .build()?;
    let stopping = Arc::new(AtomicBool::new(false));
    let ticker = options.tick.then(|| {
        let engine = gateway.engine().clone();
        let stopping = stopping.clone();
        let every = options.tick_every;
        std::thread::Builder::new()
            .name("backorder-tick".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    if let Err(e) = engine.tick() {
                        eprintln!("backorder: tick failed (retried): {e}");
                    }
                    let wait = match engine.next_wake() {
                        Ok(Some(t)) => (t - engine.now()).to_std().unwrap_or_default().min(every),
                        _ => every,
                    };
                    std::thread::park_timeout(wait.max(Duration::from_millis(10)));
                }
            })
    });
    let ticker = ticker.transpose()?;
    let report = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        serve(gateway, listener, stop).await
    });
    stopping.store(true, Ordering::Relaxed);
    if let Some(t) = ticker {
        t.thread().unpark();
        let _ = t.join();
    }
    report
}
