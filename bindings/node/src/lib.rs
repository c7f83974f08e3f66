//! The native half of the Node package `backorder`: an engine whose calls take their arguments
//! as one JSON object and answer JSON, by the facade's own call names ([`engine::calls`]). The
//! JavaScript half (`index.js`) gives each call its camelCase method, turns times into `Date`s
//! (amounts stay decimal strings) and errors into `Error`s with the engine's `code`. Long work
//! (`tick`, imports) runs on libuv's thread pool and answers a Promise.

use std::sync::Arc;

use engine::calls::{JsonEngine, Simulation};
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Task};
use napi_derive::napi;

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
