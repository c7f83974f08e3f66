//! The simulated registry's rules, apart from its sockets: names and their RGP life cycle, a drop
//! batch that purges names in a seeded random order within a window, competing registrars that
//! register purged names at their own speed, registrar accounts with balances and passwords,
//! premium prices through the fee extension, and per-session command-rate limits with a penalty.
//! Everything is decided from the seed and the times given, so a run can be repeated.
//!
//! ```
//! use backorder::simulator::rules::{Registry, RegistryConfig};
//! use backorder::core::epp::command::{ClientFrame, Command, Create, Login};
//! use backorder::core::epp::outcome::CreateOutcome;
//! use chrono::{Duration, TimeZone, Utc};
//!
//! let batch = Utc.with_ymd_and_hms(2026, 3, 7, 19, 0, 0).unwrap();
//! let mut config = RegistryConfig::new(7);
//! config.add_registrar("catcher1", "s3cret-pass", 1000.into());
//! let mut registry = Registry::new(config);
//! registry.schedule_batch(&["example.com".to_string()], batch, Duration::zero());
//! let session = registry.open_session();
//! let login = Command::Login(Login::new("catcher1", "s3cret-pass"));
//! assert!(registry.handle(session, &login, None, batch).response.succeeded());
//! let create = Command::Create(Create::new("example.com", "Auth-1x"));
//! let before = registry.handle(session, &create, None, batch - Duration::seconds(1));
//! assert_eq!(CreateOutcome::of(&before.response), CreateOutcome::NotYetDropped);
//! let after = registry.handle(session, &create, None, batch + Duration::seconds(1));
//! assert!(matches!(CreateOutcome::of(&after.response), CreateOutcome::Created { .. }));
//! ```

use std::collections::{HashMap, VecDeque};

use backorder_core::epp::command::{Command, Create, Login};
use backorder_core::epp::outcome::{NOT_YET_DROPPED, PREMIUM_CLASS};
use backorder_core::epp::response::{
    CheckedName, CreatedName, DomainInfo, FeeCheck, FeeData, Greeting, MessageQueue, Response,
    ResponseData, TransferInfo,
};
use backorder_core::epp::{DOMAIN_NS, FEE_NS, HOST_NS, RGP_NS};
use backorder_core::rng::{hash64, SplitMix64};
use backorder_core::Secret;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

/// A registrar competing with the catcher for dropped names.
#[derive(Clone, Debug)]
pub struct Competitor {
    /// Its id at the registry (who a name it catches is registered to).
    pub id: String,
    /// How many create attempts a second it aims at each dropping name: after a name is purged
    /// it registers it within `1 / attempts_per_second` (at a seeded moment in that interval),
    /// plus `latency`.
    pub attempts_per_second: f64,
    /// Its network delay to the registry.
    pub latency: Duration,
}

/// How the simulated registry behaves.
#[derive(Clone, Debug)]
pub struct RegistryConfig {
    /// Drives the purge order, the competitors' timing and the ids.
    pub seed: u64,
    /// `<svID>`.
    pub server_id: String,
    /// Registrar accounts: id → (password, balance).
    pub registrars: HashMap<String, (String, Decimal)>,
    /// Commands a session may send per second (over any one second) before the registry closes
    /// it with 2502; `None` for no limit.
    pub commands_per_second: Option<u32>,
    /// How long a registrar that went over the limit may not log in again.
    pub penalty: Duration,
    /// The standard create fee a year.
    pub standard_fee: Decimal,
    /// The registry's currency.
    pub currency: String,
    /// Premium names and their create price a year.
    pub premium: HashMap<String, Decimal>,
    /// The competing registrars.
    pub competitors: Vec<Competitor>,
}

impl RegistryConfig {
    /// A registry with no registrars, no rate limit, no competitors, 8.99 USD a year.
    pub fn new(seed: u64) -> RegistryConfig {
        RegistryConfig {
            seed,
            server_id: "backorder registry simulator".into(),
            registrars: HashMap::new(),
            commands_per_second: None,
            penalty: Duration::seconds(10),
            standard_fee: Decimal::new(899, 2),
            currency: "USD".into(),
            premium: HashMap::new(),
            competitors: Vec::new(),
        }
    }

    /// Adds a registrar account.
    pub fn add_registrar(&mut self, id: &str, password: &str, balance: Decimal) {
        self.registrars
            .insert(id.into(), (password.into(), balance));
    }
}

/// A name the registry knows.
#[derive(Clone, Debug)]
enum Name {
    /// Deleted, in its RGP pending-delete period until `purge_at`; then free (or caught by the
    /// first competitor at `caught`).
    PendingDelete {
        purge_at: DateTime<Utc>,
        competitor: Option<(String, DateTime<Utc>)>,
    },
    /// Registered.
    Registered {
        registrar: String,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        auth_code: String,
        roid: String,
    },
}

/// One session's state.
#[derive(Debug, Default)]
struct Session {
    registrar: Option<String>,
    /// The times of its recent commands, for the rate limit.
    recent: VecDeque<DateTime<Utc>>,
}

/// What the server does after answering.
#[derive(Debug)]
pub struct Answer {
    /// The response to send.
    pub response: Response,
    /// Close the connection after sending it (logout, rate limit).
    pub close: bool,
}

/// The registry: names, registrars and sessions.
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    names: HashMap<String, Name>,
    sessions: HashMap<u64, Session>,
    next_session: u64,
    balances: HashMap<String, Decimal>,
    locked_until: HashMap<String, DateTime<Utc>>,
    queues: HashMap<String, VecDeque<(u64, DateTime<Utc>, String)>>,
    next_message: u64,
    transactions: u64,
    /// Names created, by registrar (for the figures: who caught what).
    pub created_by: HashMap<String, u64>,
}

fn response(code: u16, message: &str) -> Response {
    Response::with_result(code, message, "")
}

fn with_reason(mut r: Response, reason: &str, name: Option<&str>) -> Response {
    r.results[0].reasons.push(reason.into());
    r.results[0].subject = name.map(str::to_owned);
    r
}

impl Registry {
    /// An empty registry.
    pub fn new(config: RegistryConfig) -> Registry {
        let balances = config
            .registrars
            .iter()
            .map(|(id, (_, balance))| (id.clone(), *balance))
            .collect();
        Registry {
            config,
            names: HashMap::new(),
            sessions: HashMap::new(),
            next_session: 1,
            balances,
            locked_until: HashMap::new(),
            queues: HashMap::new(),
            next_message: 1,
            transactions: 0,
            created_by: HashMap::new(),
        }
    }

    /// The greeting at `now`.
    pub fn greeting(&self, now: DateTime<Utc>) -> Greeting {
        Greeting {
            server_id: self.config.server_id.clone(),
            server_date: now,
            objects: vec![DOMAIN_NS.into(), HOST_NS.into()],
            extensions: vec![RGP_NS.into(), FEE_NS.into()],
        }
    }

    /// Registers `name` to `registrar` (a name the registry already holds, e.g. one taken).
    pub fn register(&mut self, name: &str, registrar: &str, now: DateTime<Utc>) {
        let roid = self.roid(name);
        self.names.insert(
            name.to_ascii_lowercase(),
            Name::Registered {
                registrar: registrar.into(),
                created_at: now,
                expires_at: now + Duration::days(365),
                auth_code: format!("Auth-{:016x}", hash64(self.config.seed, name.as_bytes())),
                roid,
            },
        );
    }

    /// Puts `names` in pending delete and schedules their purge: a batch starting at `start`
    /// purging them one after another in a seeded random order, spread evenly over `window`
    /// (all at `start` when it is zero). Competitors' catch times are drawn here too. Returns
    /// each name's purge instant.
    pub fn schedule_batch(
        &mut self,
        names: &[String],
        start: DateTime<Utc>,
        window: Duration,
    ) -> Vec<(String, DateTime<Utc>)> {
        let mut order: Vec<&String> = names.iter().collect();
        let mut rng = SplitMix64::new(self.config.seed ^ 0xD20B);
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let step = window / (order.len().max(1) as i32);
        let mut purges = Vec::with_capacity(order.len());
        for (i, name) in order.into_iter().enumerate() {
            let purge_at = start + step * i as i32;
            let competitor = self.first_competitor(name, purge_at);
            self.names.insert(
                name.to_ascii_lowercase(),
                Name::PendingDelete {
                    purge_at,
                    competitor,
                },
            );
            purges.push((name.clone(), purge_at));
        }
        purges
    }

    /// The competitor that registers `name` first after its purge, and when.
    fn first_competitor(
        &self,
        name: &str,
        purge_at: DateTime<Utc>,
    ) -> Option<(String, DateTime<Utc>)> {
        self.config
            .competitors
            .iter()
            .filter(|c| c.attempts_per_second > 0.0)
            .map(|c| {
                let h = hash64(
                    self.config.seed ^ hash64(0, c.id.as_bytes()),
                    name.as_bytes(),
                );
                let phase = (h >> 11) as f64 / (1u64 << 53) as f64;
                let wait_us = (phase / c.attempts_per_second * 1e6) as i64;
                (
                    c.id.clone(),
                    purge_at + Duration::microseconds(wait_us) + c.latency,
                )
            })
            .min_by_key(|(_, at)| *at)
    }

    fn roid(&self, name: &str) -> String {
        format!("D{:X}-SIM", hash64(self.config.seed, name.as_bytes()) >> 16)
    }

    /// A new session's id.
    pub fn open_session(&mut self) -> u64 {
        let id = self.next_session;
        self.next_session += 1;
        self.sessions.insert(id, Session::default());
        id
    }

    /// Forgets a closed session.
    pub fn close_session(&mut self, session: u64) {
        self.sessions.remove(&session);
    }

    /// Settles a pending name whose purge and first competitor are past: it becomes the
    /// competitor's.
    fn settle(&mut self, name: &str, now: DateTime<Utc>) {
        if let Some(Name::PendingDelete {
            competitor: Some((registrar, at)),
            ..
        }) = self.names.get(name)
        {
            if *at <= now {
                let (registrar, at) = (registrar.clone(), *at);
                *self.created_by.entry(registrar.clone()).or_default() += 1;
                self.register(name, &registrar, at);
            }
        }
    }

    /// Answers one command of `session` at `now`.
    pub fn handle(
        &mut self,
        session: u64,
        command: &Command,
        transaction: Option<&str>,
        now: DateTime<Utc>,
    ) -> Answer {
        self.transactions += 1;
        let mut answer = self.answer(session, command, now);
        answer.response.client_transaction = transaction.map(str::to_owned);
        answer.response.server_transaction = format!("SIM-{:08}", self.transactions);
        answer
    }

    fn answer(&mut self, session: u64, command: &Command, now: DateTime<Utc>) -> Answer {
        let open = |r| Answer {
            response: r,
            close: false,
        };
        // The rate limit counts every command of the session over the last second.
        if let Some(limit) = self.config.commands_per_second {
            let s = self.sessions.entry(session).or_default();
            while s
                .recent
                .front()
                .is_some_and(|t| *t <= now - Duration::seconds(1))
            {
                s.recent.pop_front();
            }
            s.recent.push_back(now);
            if s.recent.len() > limit as usize {
                if let Some(registrar) = s.registrar.clone() {
                    self.locked_until
                        .insert(registrar, now + self.config.penalty);
                }
                return Answer {
                    response: response(2502, "Session limit exceeded; server closing connection"),
                    close: true,
                };
            }
        }
        let registrar = self
            .sessions
            .get(&session)
            .and_then(|s| s.registrar.clone());
        match (command, registrar) {
            (Command::Login(login), None) => self.login(session, login, now),
            (Command::Login(_), Some(_)) => {
                open(response(2002, "Command use error: already logged in"))
            }
            (Command::Logout, _) => Answer {
                response: response(1500, "Command completed successfully; ending session"),
                close: true,
            },
            (_, None) => open(response(2002, "Command use error: log in first")),
            (Command::PollRequest, Some(registrar)) => open(self.poll(&registrar)),
            (Command::PollAck { message }, Some(registrar)) => open(self.ack(&registrar, message)),
            (Command::Check { names, fee }, Some(_)) => open(self.check(names, fee.is_some(), now)),
            (Command::Create(create), Some(registrar)) => {
                open(self.create(&registrar, create, now))
            }
            (Command::Info { name, auth_code }, Some(registrar)) => {
                open(self.info(&registrar, name, auth_code.as_ref(), now))
            }
            (Command::TransferQuery { name, auth_code }, Some(registrar)) => {
                open(self.transfer_query(&registrar, name, auth_code.as_ref(), now))
            }
        }
    }

    fn login(&mut self, session: u64, login: &Login, now: DateTime<Utc>) -> Answer {
        let known = self
            .config
            .registrars
            .get(&login.client_id)
            .is_some_and(|(pw, _)| pw == login.password.expose());
        if !known {
            return Answer {
                response: response(2200, "Authentication error"),
                close: false,
            };
        }
        if self
            .locked_until
            .get(&login.client_id)
            .is_some_and(|until| *until > now)
        {
            return Answer {
                response: response(2502, "Session limit exceeded; penalty in force"),
                close: true,
            };
        }
        self.sessions.entry(session).or_default().registrar = Some(login.client_id.clone());
        Answer {
            response: response(1000, "Command completed successfully"),
            close: false,
        }
    }

    fn poll(&mut self, registrar: &str) -> Response {
        let queue = self.queues.entry(registrar.into()).or_default();
        match queue.front() {
            None => response(1300, "Command completed successfully; no messages"),
            Some((id, at, text)) => {
                let mut r = response(1301, "Command completed successfully; ack to dequeue");
                r.queue = Some(MessageQueue {
                    count: queue.len() as u64,
                    id: id.to_string(),
                    queued_at: Some(*at),
                    message: Some(text.clone()),
                });
                r
            }
        }
    }

    fn ack(&mut self, registrar: &str, message: &str) -> Response {
        let queue = self.queues.entry(registrar.into()).or_default();
        if queue
            .front()
            .is_some_and(|(id, _, _)| id.to_string() == message)
        {
            queue.pop_front();
            let mut r = response(1000, "Command completed successfully");
            if let Some((id, _, _)) = queue.front() {
                r.queue = Some(MessageQueue {
                    count: queue.len() as u64,
                    id: id.to_string(),
                    queued_at: None,
                    message: None,
                });
            }
            r
        } else {
            response(2303, "Object does not exist: no such message")
        }
    }

    fn price(&self, name: &str, years: u8) -> (Decimal, bool) {
        match self.config.premium.get(name) {
            Some(p) => (*p * Decimal::from(years), true),
            None => (self.config.standard_fee * Decimal::from(years), false),
        }
    }

    fn check(&mut self, names: &[String], with_fee: bool, now: DateTime<Utc>) -> Response {
        let mut checked = Vec::new();
        let mut fees = Vec::new();
        for name in names {
            let key = name.to_ascii_lowercase();
            self.settle(&key, now);
            let reason = match self.names.get(&key) {
                Some(Name::PendingDelete { purge_at, .. }) if *purge_at > now => {
                    Some(NOT_YET_DROPPED.to_string())
                }
                Some(Name::Registered { .. }) => Some("In use".to_string()),
                _ => None,
            };
            if with_fee {
                let (price, premium) = self.price(&key, 1);
                fees.push(FeeCheck {
                    name: name.clone(),
                    class: Some(if premium { PREMIUM_CLASS } else { "standard" }.into()),
                    create_fee: reason.is_none().then_some(price),
                    reason: reason.clone(),
                });
            }
            checked.push(CheckedName {
                name: name.clone(),
                available: reason.is_none(),
                reason,
            });
        }
        let mut r = response(1000, "Command completed successfully");
        r.data = Some(ResponseData::Check(checked));
        if with_fee {
            r.fee = Some(FeeData::Check {
                currency: self.config.currency.clone(),
                names: fees,
            });
        }
        r
    }

    fn create(&mut self, registrar: &str, create: &Create, now: DateTime<Utc>) -> Response {
        let key = create.name.to_ascii_lowercase();
        self.settle(&key, now);
        match self.names.get(&key) {
            Some(Name::PendingDelete { purge_at, .. }) if *purge_at > now => {
                return with_reason(
                    response(2302, "Object exists"),
                    NOT_YET_DROPPED,
                    Some(&create.name),
                );
            }
            Some(Name::Registered { .. }) => {
                return with_reason(
                    response(2302, "Object exists"),
                    "In use",
                    Some(&create.name),
                )
            }
            _ => {}
        }
        let (price, premium) = self.price(&key, create.period_years);
        let offered = create
            .fee
            .as_ref()
            .filter(|f| f.currency.is_empty() || f.currency == self.config.currency)
            .map(|f| f.amount);
        if premium && offered.is_none_or(|o| o < price) {
            let mut r = with_reason(
                response(2004, "Parameter value range error"),
                &format!(
                    "fee does not match the premium price {price} {}",
                    self.config.currency
                ),
                Some(&create.name),
            );
            r.fee = Some(FeeData::Create {
                currency: self.config.currency.clone(),
                fee: price,
            });
            return r;
        }
        let balance = self.balances.entry(registrar.into()).or_default();
        if *balance < price {
            return response(2104, "Billing failure");
        }
        *balance -= price;
        let expires_at = now + Duration::days(365 * i64::from(create.period_years));
        let roid = self.roid(&key);
        self.names.insert(
            key.clone(),
            Name::Registered {
                registrar: registrar.into(),
                created_at: now,
                expires_at,
                auth_code: create.auth_code.expose().to_owned(),
                roid,
            },
        );
        *self.created_by.entry(registrar.into()).or_default() += 1;
        let id = self.next_message;
        self.next_message += 1;
        self.queues.entry(registrar.into()).or_default().push_back((
            id,
            now,
            format!("Domain {key} created."),
        ));
        let mut r = response(1000, "Command completed successfully");
        r.data = Some(ResponseData::Create(CreatedName {
            name: create.name.clone(),
            created_at: now,
            expires_at: Some(expires_at),
        }));
        r.fee = Some(FeeData::Create {
            currency: self.config.currency.clone(),
            fee: price,
        });
        r
    }

    fn info(
        &mut self,
        registrar: &str,
        name: &str,
        auth: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Response {
        let key = name.to_ascii_lowercase();
        self.settle(&key, now);
        match self.names.get(&key) {
            Some(Name::PendingDelete { purge_at, .. }) if *purge_at > now => {
                let mut r = response(1000, "Command completed successfully");
                r.data = Some(ResponseData::Info(DomainInfo {
                    name: key.clone(),
                    roid: self.roid(&key),
                    statuses: vec!["pendingDelete".into()],
                    registrar: "formerowner".into(),
                    created_at: None,
                    expires_at: None,
                    auth_code: None,
                }));
                r.rgp_statuses = vec!["pendingDelete".into()];
                r
            }
            Some(Name::Registered {
                registrar: sponsor,
                created_at,
                expires_at,
                auth_code,
                roid,
            }) => {
                let shown = sponsor == registrar || auth.is_some_and(|a| a.expose() == auth_code);
                let mut r = response(1000, "Command completed successfully");
                r.data = Some(ResponseData::Info(DomainInfo {
                    name: key.clone(),
                    roid: roid.clone(),
                    statuses: vec!["ok".into()],
                    registrar: sponsor.clone(),
                    created_at: Some(*created_at),
                    expires_at: Some(*expires_at),
                    auth_code: shown.then(|| Secret::new(auth_code.clone())),
                }));
                r
            }
            _ => with_reason(
                response(2303, "Object does not exist"),
                "not registered",
                Some(name),
            ),
        }
    }

    fn transfer_query(
        &mut self,
        registrar: &str,
        name: &str,
        auth: Option<&Secret>,
        now: DateTime<Utc>,
    ) -> Response {
        let key = name.to_ascii_lowercase();
        self.settle(&key, now);
        let Some(Name::Registered {
            registrar: sponsor,
            created_at,
            expires_at,
            auth_code,
            ..
        }) = self.names.get(&key)
        else {
            return with_reason(
                response(2303, "Object does not exist"),
                "not registered",
                Some(name),
            );
        };
        if sponsor != registrar && auth.is_none_or(|a| a.expose() != auth_code) {
            return response(2202, "Invalid authorization information");
        }
        let mut r = response(1000, "Command completed successfully");
        r.data = Some(ResponseData::Transfer(TransferInfo {
            name: key.clone(),
            status: "serverApproved".into(),
            requested_by: sponsor.clone(),
            requested_at: *created_at,
            action_by: sponsor.clone(),
            action_at: *created_at,
            expires_at: Some(*expires_at),
        }));
        r
    }

    /// A registrar's balance at the registry.
    pub fn balance(&self, registrar: &str) -> Decimal {
        self.balances.get(registrar).copied().unwrap_or_default()
    }

    /// Who holds `name` at `now` (after settling competitors), if anyone.
    pub fn holder(&mut self, name: &str, now: DateTime<Utc>) -> Option<String> {
        let key = name.to_ascii_lowercase();
        self.settle(&key, now);
        match self.names.get(&key) {
            Some(Name::Registered { registrar, .. }) => Some(registrar.clone()),
            _ => None,
        }
    }
}

/// The answer to a frame the server cannot read.
pub fn syntax_error(why: &str) -> Response {
    let mut r = Response::with_result(2001, "Command syntax error", "SIM-SYNTAX");
    r.results[0].reasons.push(why.chars().take(200).collect());
    r
}
