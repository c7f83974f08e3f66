//! The native half of the Python package `backorder`: an engine whose calls take their arguments
//! as one JSON object and answer JSON, by the facade's own call names. The Python half
//! (`python/backorder/__init__.py`) gives each call its typed method, turns amounts into
//! `decimal.Decimal` and times into aware `datetime`s, and raises the exception class of each
//! error code. Calls run without the GIL.

use engine::core::alert::NewSubscription;
use engine::core::catalog::ImportOptions;
use engine::core::search::SearchQuery;
use engine::{
    CatchOutcome, Contacts, Engine, Error, ManualClock, NewAccount, PlaceBackorder,
    SimulatedRegistry, TldPolicy,
};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

create_exception!(
    _backorder,
    NativeError,
    PyException,
    "An engine error: args are (code name, code number, message)."
);

fn raise(e: Error) -> PyErr {
    let code = e.code();
    NativeError::new_err((code.as_str(), code as u32, e.to_string()))
}

fn invalid(what: String) -> Error {
    Error::InvalidArgument(what)
}

/// Argument `name` of a call.
fn arg<T: DeserializeOwned>(args: &Map<String, Value>, name: &str) -> Result<T, Error> {
    let value = args.get(name).cloned().unwrap_or(Value::Null);
    serde_json::from_value(value).map_err(|e| invalid(format!("{name}: {e}")))
}

fn encode<T: Serialize>(value: T) -> Result<String, Error> {
    serde_json::to_string(&value).map_err(|e| Error::Internal(format!("cannot encode: {e}")))
}

/// How `Engine.open_simulated` sets up an engine (the C ABI's `bo_engine_open_simulated` takes
/// the same document).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Simulation {
    start: chrono::DateTime<chrono::Utc>,
    #[serde(default)]
    seed: u64,
    catch_permille: Option<u32>,
    contested_catch_permille: Option<u32>,
    not_dropped_permille: Option<u32>,
    #[serde(default)]
    outcomes: std::collections::BTreeMap<String, CatchOutcome>,
}

/// An open engine.
#[pyclass(frozen, module = "backorder._backorder")]
struct NativeEngine {
    engine: Engine,
    clock: Option<ManualClock>,
}

impl NativeEngine {
    fn dispatch(&self, op: &str, args: &Map<String, Value>) -> Result<String, Error> {
        let e = &self.engine;
        let account = || arg::<String>(args, "account");
        let id = || arg::<u64>(args, "id");
        let key = || arg::<Option<String>>(args, "idempotency_key");
        match op {
            "now" => encode(e.now()),
            "set_time" => {
                let at: chrono::DateTime<chrono::Utc> = arg(args, "at")?;
                let Some(clock) = &self.clock else {
                    return Err(invalid(
                        "the engine runs on the system clock: open it with \
                         Engine.open_simulated to set its time"
                            .into(),
                    ));
                };
                if at < e.now() {
                    return Err(invalid(format!(
                        "time cannot go back (from {} to {})",
                        e.now().to_rfc3339(),
                        at.to_rfc3339()
                    )));
                }
                clock.set(at);
                encode(())
            }
            "policies" => encode(e.policies()),
            "set_policy" => encode(e.set_policy(arg::<TldPolicy>(args, "policy")?)?),
            "create_account" => encode(e.create_account(arg::<NewAccount>(args, "account")?)?),
            "account" => encode(e.account(&account()?)?),
            "set_contacts" => {
                encode(e.set_contacts(&account()?, arg::<Contacts>(args, "contacts")?)?)
            }
            "set_outstanding" => {
                encode(e.set_outstanding(&account()?, arg::<Decimal>(args, "amount")?)?)
            }
            "fund" => encode(e.fund(
                &account()?,
                arg::<Decimal>(args, "amount")?,
                &arg::<String>(args, "idempotency_key")?,
            )?),
            "balance" => encode(e.balance(&account()?)?),
            "statement" => encode(e.statement(
                &account()?,
                arg::<u64>(args, "after")?,
                arg::<u32>(args, "limit")?,
            )?),
            "add_pending_deletion" => encode(
                e.add_pending_deletion(&arg::<String>(args, "domain")?, arg(args, "drop_at")?)?,
            ),
            "pending_deletion" => encode(e.pending_deletion(&arg::<String>(args, "domain")?)?),
            "withdraw_pending_deletion" => {
                encode(e.withdraw_pending_deletion(&arg::<String>(args, "domain")?)?)
            }
            "search_pending" => encode(e.search_pending(&arg::<SearchQuery>(args, "query")?)?),
            "subscribe_alerts" => {
                encode(e.subscribe_alerts(arg::<NewSubscription>(args, "request")?)?)
            }
            "unsubscribe_alerts" => encode(e.unsubscribe_alerts(&account()?, id()?)?),
            "alert_subscriptions" => encode(e.alert_subscriptions(&account()?)?),
            "place_backorder" => {
                encode(e.place_backorder(arg::<PlaceBackorder>(args, "request")?)?)
            }
            "backorder" => encode(e.backorder(&account()?, id()?)?),
            "backorders" => encode(e.backorders(&account()?)?),
            "modify_backorder" => encode(e.modify_backorder(
                &account()?,
                id()?,
                arg::<Contacts>(args, "contacts")?,
            )?),
            "cancel_backorder" => encode(match key()? {
                Some(k) => e.cancel_backorder_once(&account()?, id()?, &k)?,
                None => e.cancel_backorder(&account()?, id()?)?,
            }),
            "pay" => encode(match key()? {
                Some(k) => e.pay_once(&account()?, id()?, &k)?,
                None => e.pay(&account()?, id()?)?,
            }),
            "bid" => {
                let max = arg::<Decimal>(args, "max")?;
                encode(match key()? {
                    Some(k) => e.bid_once(&account()?, id()?, max, &k)?,
                    None => e.bid(&account()?, id()?, max)?,
                })
            }
            "auction" => encode(e.auction(&account()?, id()?)?),
            "tick" => encode(e.tick()?),
            "next_wake" => encode(e.next_wake()?),
            "events" => encode(e.events(arg::<u64>(args, "after")?, arg::<u32>(args, "limit")?)?),
            "ack_events" => encode(e.ack_events(arg::<u64>(args, "upto")?)?),
            "audit" => encode(e.audit()?),
            "status_counts" => encode(
                e.status_counts()?
                    .into_iter()
                    .map(|(s, n)| (s.as_str().to_string(), n))
                    .collect::<std::collections::BTreeMap<_, _>>(),
            ),
            other => Err(invalid(format!("no engine call named '{other}'"))),
        }
    }
}

#[pymethods]
impl NativeEngine {
    /// Opens an engine on the store `url` names, with the system clock.
    #[staticmethod]
    fn open(py: Python<'_>, url: String) -> PyResult<NativeEngine> {
        py.detach(|| Engine::open(&url))
            .map(|engine| NativeEngine {
                engine,
                clock: None,
            })
            .map_err(raise)
    }

    /// Opens an engine on a manual clock with a seeded, scripted simulated registry.
    #[staticmethod]
    fn open_simulated(
        py: Python<'_>,
        url: String,
        simulation_json: String,
    ) -> PyResult<NativeEngine> {
        py.detach(|| -> Result<NativeEngine, Error> {
            let sim: Simulation = serde_json::from_str(&simulation_json)
                .map_err(|e| invalid(format!("simulation: {e}")))?;
            let clock = ManualClock::new(sim.start);
            let mut registry = SimulatedRegistry::new(sim.seed);
            if let Some(p) = sim.catch_permille {
                registry = registry.with_catch_permille(p);
            }
            if let Some(p) = sim.contested_catch_permille {
                registry = registry.with_contested_catch_permille(p);
            }
            if let Some(p) = sim.not_dropped_permille {
                registry = registry.with_not_dropped_permille(p);
            }
            for (domain, outcome) in sim.outcomes {
                let name = engine::core::DomainName::parse(&domain)?;
                registry.set_outcome(name.as_str(), outcome);
            }
            let engine = Engine::builder()
                .url(&url)
                .clock(clock.clone())
                .seed(sim.seed)
                .registry(Box::new(registry))
                .build()?;
            Ok(NativeEngine {
                engine,
                clock: Some(clock),
            })
        })
        .map_err(raise)
    }

    /// Runs the engine call `op` with its arguments as a JSON object; its result as JSON.
    fn call(&self, py: Python<'_>, op: String, args_json: String) -> PyResult<String> {
        py.detach(|| {
            let args: Map<String, Value> = serde_json::from_str(&args_json)
                .map_err(|e| invalid(format!("arguments of {op}: {e}")))?;
            self.dispatch(&op, &args)
        })
        .map_err(raise)
    }

    /// Imports a deletion list's bytes with its options as JSON; the report as JSON.
    fn import_pending_list(
        &self,
        py: Python<'_>,
        data: Vec<u8>,
        options_json: String,
    ) -> PyResult<String> {
        py.detach(|| {
            let options: ImportOptions = serde_json::from_str(&options_json)
                .map_err(|e| invalid(format!("options: {e}")))?;
            encode(self.engine.import_pending_list(&data, options)?)
        })
        .map_err(raise)
    }
}

/// The native module.
#[pymodule]
fn _backorder(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeEngine>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
