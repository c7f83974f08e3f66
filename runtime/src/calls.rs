//! The engine's calls by name, with the arguments as one JSON object and the result as JSON: the
//! surface the Python and Node packages drive (each gives every call its typed method around
//! it), and that any host speaking JSON can use.
//!
//! ```
//! use backorder::calls::{JsonEngine, Simulation};
//! let e = JsonEngine::open_simulated("memory:", Simulation::starting("2026-03-02T00:00:00Z".parse().unwrap())).unwrap();
//! e.call("create_account", r#"{"account": {"id": "ann", "currency": "USD"}}"#).unwrap();
//! let t = e.call("fund", r#"{"account": "ann", "amount": "10.00", "idempotency_key": "k1"}"#).unwrap();
//! assert!(t.contains(r#""amount":"10.00""#));
//! let refused = e.call("balance", r#"{"account": "nobody"}"#).unwrap_err();
//! assert_eq!(refused.code(), backorder::ErrorCode::AccountNotFound);
//! ```

use std::collections::BTreeMap;

use backorder_core::alert::NewSubscription;
use backorder_core::catalog::ImportOptions;
use backorder_core::search::SearchQuery;
use backorder_core::{CatchOutcome, Contacts, DomainName, Error, PlaceBackorder, TldPolicy};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Engine, ManualClock, NewAccount, SimulatedRegistry};

/// How to set up an engine for tests and simulations: a manual clock starting at `start`, and a
/// seeded simulated registry, with outcomes fixed for some names.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    /// Where the clock starts.
    pub start: DateTime<Utc>,
    /// Drives the registry's outcomes and the auth codes.
    #[serde(default)]
    pub seed: u64,
    /// The catch probability for names with one backorderer, in thousandths.
    pub catch_permille: Option<u32>,
    /// The same for names with several backorderers.
    pub contested_catch_permille: Option<u32>,
    /// The share of names that do not drop in the window, in thousandths.
    pub not_dropped_permille: Option<u32>,
    /// What the registry answers for these names, whatever the seed says.
    #[serde(default)]
    pub outcomes: BTreeMap<String, CatchOutcome>,
}

impl Simulation {
    /// A simulation starting at `start`, with seed 0 and the registry's default odds.
    pub fn starting(start: DateTime<Utc>) -> Simulation {
        Simulation {
            start,
            ..Default::default()
        }
    }

    /// The engine on the store `url` names, and its clock.
    pub fn open(self, url: &str) -> Result<(Engine, ManualClock), Error> {
        let clock = ManualClock::new(self.start);
        let mut registry = SimulatedRegistry::new(self.seed);
        if let Some(p) = self.catch_permille {
            registry = registry.with_catch_permille(p);
        }
        if let Some(p) = self.contested_catch_permille {
            registry = registry.with_contested_catch_permille(p);
        }
        if let Some(p) = self.not_dropped_permille {
            registry = registry.with_not_dropped_permille(p);
        }
        for (domain, outcome) in self.outcomes {
            registry.set_outcome(DomainName::parse(&domain)?.as_str(), outcome);
        }
        let engine = Engine::builder()
            .url(url)
            .clock(clock.clone())
            .seed(self.seed)
            .registry(Box::new(registry))
            .build()?;
        Ok((engine, clock))
    }
}

/// An engine driven by call names and JSON. Safe to share between threads.
pub struct JsonEngine {
    engine: Engine,
    /// Set for a simulated engine: `set_time` moves it.
    clock: Option<ManualClock>,
}

fn invalid(what: String) -> Error {
    Error::InvalidArgument(what)
}

/// Argument `name` of a call (missing is JSON `null`).
fn arg<T: DeserializeOwned>(args: &Map<String, Value>, name: &str) -> Result<T, Error> {
    let value = args.get(name).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| invalid(format!("{name}: {e}")))
}

/// An amount argument: decimal text (see [`backorder_core::money::parse_amount`]). A number is refused as the wrong
/// type ([`Error::InvalidArgument`]): a JSON number is a float to most hosts' encoders.
fn amount_arg(args: &Map<String, Value>, name: &str) -> Result<Decimal, Error> {
    match args.get(name) {
        Some(Value::String(text)) => backorder_core::money::parse_amount(text, name),
        _ => arg::<Decimal>(args, name),
    }
}

/// A record from JSON text: [`Error::InvalidArgument`] naming what does not fit.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| invalid(format!("not the expected JSON: {e}")))
}

fn encode<T: Serialize>(value: T) -> Result<String, Error> {
    serde_json::to_string(&value).map_err(|e| Error::Internal(format!("cannot encode: {e}")))
}

impl JsonEngine {
    /// An engine on the store `url` names, with the system clock.
    pub fn open(url: &str) -> Result<JsonEngine, Error> {
        Ok(JsonEngine {
            engine: Engine::open(url)?,
            clock: None,
        })
    }

    /// A simulated engine (see [`Simulation`]).
    pub fn open_simulated(url: &str, simulation: Simulation) -> Result<JsonEngine, Error> {
        let (engine, clock) = simulation.open(url)?;
        Ok(JsonEngine {
            engine,
            clock: Some(clock),
        })
    }

    /// The engine underneath.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Imports a deletion list's bytes with [`ImportOptions`] as JSON; the report as JSON.
    pub fn import_pending_list(&self, data: &[u8], options_json: &str) -> Result<String, Error> {
        let options: ImportOptions =
            serde_json::from_str(options_json).map_err(|e| invalid(format!("options: {e}")))?;
        encode(self.engine.import_pending_list(data, options)?)
    }

    /// Runs the call `op` (an [`Engine`] method's name, or `set_time`) with its arguments as a
    /// JSON object, named as the method's parameters (`account`, `id`, `amount`, …; a record
    /// argument by its type: `account` for `create_account`, `request`, `contacts`, `policy`,
    /// `query`); amounts as decimal strings, times as RFC 3339. The result as JSON.
    pub fn call(&self, op: &str, args_json: &str) -> Result<String, Error> {
        let args: Map<String, Value> = serde_json::from_str(args_json)
            .map_err(|e| invalid(format!("arguments of {op}: {e}")))?;
        let e = &self.engine;
        let account = || arg::<String>(&args, "account");
        let id = || arg::<u64>(&args, "id");
        let key = || arg::<Option<String>>(&args, "idempotency_key");
        let domain = || arg::<String>(&args, "domain");
        match op {
            "now" => encode(e.now()),
            "set_time" => self.set_time(arg(&args, "at")?).and_then(encode),
            "policies" => encode(e.policies()),
            "set_policy" => encode(e.set_policy(arg::<TldPolicy>(&args, "policy")?)?),
            "create_account" => encode(e.create_account(arg::<NewAccount>(&args, "account")?)?),
            "account" => encode(e.account(&account()?)?),
            "set_contacts" => {
                encode(e.set_contacts(&account()?, arg::<Contacts>(&args, "contacts")?)?)
            }
            "set_outstanding" => {
                encode(e.set_outstanding(&account()?, amount_arg(&args, "amount")?)?)
            }
            "fund" => encode(e.fund(
                &account()?,
                amount_arg(&args, "amount")?,
                &arg::<String>(&args, "idempotency_key")?,
            )?),
            "balance" => encode(e.balance(&account()?)?),
            "statement" => encode(e.statement(
                &account()?,
                arg::<u64>(&args, "after")?,
                arg::<u32>(&args, "limit")?,
            )?),
            "add_pending_deletion" => {
                encode(e.add_pending_deletion(&domain()?, arg(&args, "drop_at")?)?)
            }
            "pending_deletion" => encode(e.pending_deletion(&domain()?)?),
            "withdraw_pending_deletion" => encode(e.withdraw_pending_deletion(&domain()?)?),
            "search_pending" => encode(e.search_pending(&arg::<SearchQuery>(&args, "query")?)?),
            "subscribe_alerts" => {
                encode(e.subscribe_alerts(arg::<NewSubscription>(&args, "request")?)?)
            }
            "unsubscribe_alerts" => encode(e.unsubscribe_alerts(&account()?, id()?)?),
            "alert_subscriptions" => encode(e.alert_subscriptions(&account()?)?),
            "place_backorder" => {
                encode(e.place_backorder(arg::<PlaceBackorder>(&args, "request")?)?)
            }
            "backorder" => encode(e.backorder(&account()?, id()?)?),
            "backorders" => encode(e.backorders(&account()?)?),
            "modify_backorder" => encode(e.modify_backorder(
                &account()?,
                id()?,
                arg::<Contacts>(&args, "contacts")?,
            )?),
            "cancel_backorder" => {
                encode(e.cancel_backorder_with_key(&account()?, id()?, key()?.as_deref())?)
            }
            "pay" => encode(e.pay_with_key(&account()?, id()?, key()?.as_deref())?),
            "bid" => {
                let max = amount_arg(&args, "max")?;
                encode(e.bid_with_key(&account()?, id()?, max, key()?.as_deref())?)
            }
            "auction" => encode(e.auction(&account()?, id()?)?),
            "tick" => encode(e.tick()?),
            "next_wake" => encode(e.next_wake()?),
            "events" => encode(e.events(arg::<u64>(&args, "after")?, arg::<u32>(&args, "limit")?)?),
            "ack_events" => encode(e.ack_events(arg::<u64>(&args, "upto")?)?),
            "audit" => encode(e.audit()?),
            "status_counts" => encode(
                e.status_counts()?
                    .into_iter()
                    .map(|(s, n)| (s.as_str().to_string(), n))
                    .collect::<BTreeMap<_, _>>(),
            ),
            other => Err(invalid(format!(
                "no engine call named '{}'",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// Moves a simulated engine's clock forward to `at`.
    pub fn set_time(&self, at: DateTime<Utc>) -> Result<(), Error> {
        let Some(clock) = &self.clock else {
            return Err(invalid(
                "the engine runs on the system clock: open it simulated to set its time".into(),
            ));
        };
        let now = self.engine.now();
        if at < now {
            return Err(invalid(format!(
                "time cannot go back (from {} to {})",
                now.to_rfc3339(),
                at.to_rfc3339()
            )));
        }
        clock.set(at);
        Ok(())
    }
}
