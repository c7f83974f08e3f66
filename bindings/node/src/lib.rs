//! The native half of the Node package `backorder`: an engine whose calls take their arguments
//! as one JSON object and answer JSON, by the facade's own call names ([`engine::calls`]), and
//! whose backorder calls — a registrar's hot path — take JavaScript values and answer objects
//! built in Rust ([`records`]) instead. The JavaScript half (`index.js`) gives each call its camelCase method, turns times into `Date`s
//! (amounts stay decimal strings) and errors into `Error`s with the engine's `code`. Long work
//! (`tick`, imports) runs on libuv's thread pool and answers a Promise.

mod records;

use std::sync::Arc;

use engine::calls::{JsonEngine, Simulation};
use engine::core::{Contacts, Key};
use engine::{Backorder, PlaceBackorder};
use napi::bindgen_prelude::{AsyncTask, Buffer, JsValue, Unknown};
use napi::{Env, Task};
use napi_derive::napi;
use records::{BackorderRow, BackorderRows};

/// An engine error as JavaScript sees it: `code` is the engine's code name (`INSUFFICIENT_FUNDS`).
fn error(e: engine::Error) -> napi::Error {
    napi::Error::new(
        napi::Status::GenericFailure,
        format!("{}\u{1f}{}", e.code().as_str(), e),
    )
}

/// The engine's error codes as [name, number] pairs, in number order: `CODES` in index.js is
/// checked against it.
#[napi]
pub fn error_codes() -> Vec<(String, u32)> {
    engine::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str().to_string(), *c as u32))
        .collect()
}

/// Contact handles as JavaScript passes them (index.js fills every role, `null` when not given).
#[napi(object, object_to_js = false, use_nullable = true)]
pub struct ContactsInput {
    pub owner: Option<String>,
    pub admin: Option<String>,
    pub tech: Option<String>,
    pub billing: Option<String>,
}

impl From<ContactsInput> for Contacts {
    fn from(c: ContactsInput) -> Self {
        Contacts {
            owner: c.owner.map(Key::from),
            admin: c.admin.map(Key::from),
            tech: c.tech.map(Key::from),
            billing: c.billing.map(Key::from),
        }
    }
}

/// An id from JavaScript (index.js checked it is a safe non-negative integer).
fn id(id: i64) -> napi::Result<u64> {
    u64::try_from(id).map_err(|_| {
        error(engine::Error::InvalidArgument(format!(
            "id must be a non-negative integer, not {id}"
        )))
    })
}

fn row(result: Result<Backorder, engine::Error>, build: Unknown<'_>) -> napi::Result<BackorderRow> {
    let record = result.map_err(error)?;
    Ok(BackorderRow {
        record,
        build: build.raw(),
    })
}

/// An open engine.
#[napi]
pub struct NativeEngine {
    inner: Arc<JsonEngine>,
}

#[napi]
impl NativeEngine {
    /// Opens an engine on the store `url` names, with the system clock.
    #[napi(factory)]
    pub fn open(url: String) -> napi::Result<NativeEngine> {
        JsonEngine::open(&url)
            .map(|e| NativeEngine { inner: Arc::new(e) })
            .map_err(error)
    }

    /// Opens an engine on a manual clock with a seeded, scripted simulated registry.
    #[napi(factory)]
    pub fn open_simulated(url: String, simulation_json: String) -> napi::Result<NativeEngine> {
        let simulation: Simulation = engine::calls::from_json(&simulation_json).map_err(error)?;
        JsonEngine::open_simulated(&url, simulation)
            .map(|e| NativeEngine { inner: Arc::new(e) })
            .map_err(error)
    }

    /// Runs the engine call `op` with its arguments as a JSON object; its result as JSON.
    #[napi]
    pub fn call(&self, op: String, args_json: String) -> napi::Result<String> {
        self.inner.call(&op, &args_json).map_err(error)
    }

    // The backorder calls take index.js's `backorderFrom` first and answer what it makes of the
    // record (see [`BackorderRow`]).

    /// Places a backorder.
    #[napi(ts_return_type = "unknown")]
    pub fn place_backorder(
        &self,
        build: Unknown<'_>,
        account: String,
        domain: String,
        lite: bool,
        contacts: ContactsInput,
        idempotency_key: Option<String>,
    ) -> napi::Result<BackorderRow> {
        row(
            self.inner.engine().place_backorder(PlaceBackorder {
                account,
                domain,
                lite,
                contacts: contacts.into(),
                idempotency_key,
            }),
            build,
        )
    }

    /// One of the account's backorders.
    #[napi(ts_return_type = "unknown")]
    pub fn backorder(
        &self,
        build: Unknown<'_>,
        account: String,
        id: i64,
    ) -> napi::Result<BackorderRow> {
        row(
            self.inner.engine().backorder(&account, self::id(id)?),
            build,
        )
    }

    /// Every backorder of the account, oldest first.
    #[napi(ts_return_type = "unknown[]")]
    pub fn backorders(&self, build: Unknown<'_>, account: String) -> napi::Result<BackorderRows> {
        let list = self.inner.engine().backorders(&account).map_err(error)?;
        Ok(BackorderRows {
            records: list,
            build: build.raw(),
        })
    }

    /// Changes a backorder's contact handles.
    #[napi(ts_return_type = "unknown")]
    pub fn modify_backorder(
        &self,
        build: Unknown<'_>,
        account: String,
        id: i64,
        contacts: ContactsInput,
    ) -> napi::Result<BackorderRow> {
        let id = self::id(id)?;
        row(
            self.inner
                .engine()
                .modify_backorder(&account, id, contacts.into()),
            build,
        )
    }

    /// Cancels a backorder; with a key, a repeat answers the first result.
    #[napi(ts_return_type = "unknown")]
    pub fn cancel_backorder(
        &self,
        build: Unknown<'_>,
        account: String,
        id: i64,
        idempotency_key: Option<String>,
    ) -> napi::Result<BackorderRow> {
        let (e, id) = (self.inner.engine(), self::id(id)?);
        row(
            e.cancel_backorder_with_key(&account, id, idempotency_key.as_deref()),
            build,
        )
    }

    /// Pays what is due on a backorder; with a key, a repeat answers the first result.
    #[napi(ts_return_type = "unknown")]
    pub fn pay(
        &self,
        build: Unknown<'_>,
        account: String,
        id: i64,
        idempotency_key: Option<String>,
    ) -> napi::Result<BackorderRow> {
        let (e, id) = (self.inner.engine(), self::id(id)?);
        row(
            e.pay_with_key(&account, id, idempotency_key.as_deref()),
            build,
        )
    }

    /// As `call`, on the thread pool: a Promise of the result.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn call_async(&self, op: String, args_json: String) -> AsyncTask<Call> {
        AsyncTask::new(Call {
            engine: self.inner.clone(),
            work: Work::Call(op, args_json),
        })
    }

    /// Imports a deletion list's bytes with its options as JSON, on the thread pool: a Promise
    /// of the report as JSON.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn import_pending_list(&self, data: Buffer, options_json: String) -> AsyncTask<Call> {
        AsyncTask::new(Call {
            engine: self.inner.clone(),
            work: Work::Import(data.to_vec(), options_json),
        })
    }
}

/// What runs on the thread pool.
pub enum Work {
    /// A call by name.
    Call(String, String),
    /// An import.
    Import(Vec<u8>, String),
}

/// A call run off the JavaScript thread.
pub struct Call {
    engine: Arc<JsonEngine>,
    work: Work,
}

impl Task for Call {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        match &self.work {
            Work::Call(op, args) => self.engine.call(op, args),
            Work::Import(data, options) => self.engine.import_pending_list(data, options),
        }
        .map_err(error)
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}
