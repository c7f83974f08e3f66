//! The native half of the Python package `backorder`: an engine whose calls take their arguments
//! as one JSON object and answer JSON, by the facade's own call names ([`engine::calls`]). The
//! Python half (`python/backorder/__init__.py`) gives each call its typed method, turns amounts
//! into `decimal.Decimal` and times into aware `datetime`s, and raises the exception class of
//! each error code. Calls run without the GIL.

use engine::calls::{JsonEngine, Simulation};
use engine::Error;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

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

/// An open engine.
#[pyclass(frozen, module = "backorder._backorder")]
struct NativeEngine(JsonEngine);

#[pymethods]
impl NativeEngine {
    /// Opens an engine on the store `url` names, with the system clock.
    #[staticmethod]
    fn open(py: Python<'_>, url: String) -> PyResult<NativeEngine> {
        py.detach(|| JsonEngine::open(&url))
            .map(NativeEngine)
            .map_err(raise)
    }

    /// Opens an engine on a manual clock with a seeded, scripted simulated registry.
    #[staticmethod]
    fn open_simulated(
        py: Python<'_>,
        url: String,
        simulation_json: String,
    ) -> PyResult<NativeEngine> {
        py.detach(|| {
            let simulation: Simulation = serde_json::from_str(&simulation_json)
                .map_err(|e| Error::InvalidArgument(format!("simulation: {e}")))?;
            JsonEngine::open_simulated(&url, simulation)
        })
        .map(NativeEngine)
        .map_err(raise)
    }

    /// Runs the engine call `op` with its arguments as a JSON object; its result as JSON.
    fn call(&self, py: Python<'_>, op: String, args_json: String) -> PyResult<String> {
        py.detach(|| self.0.call(&op, &args_json)).map_err(raise)
    }

    /// Imports a deletion list's bytes with its options as JSON; the report as JSON.
    fn import_pending_list(
        &self,
        py: Python<'_>,
        data: Vec<u8>,
        options_json: String,
    ) -> PyResult<String> {
        py.detach(|| self.0.import_pending_list(&data, &options_json))
            .map_err(raise)
    }
}

/// The engine's error codes as (name, number), in number order: the Python error classes are
/// checked against it.
#[pyfunction]
fn error_codes() -> Vec<(&'static str, u32)> {
    engine::ErrorCode::ALL
        .iter()
        .map(|c| (c.as_str(), *c as u32))
        .collect()
}

/// The native module.
#[pymodule]
fn _backorder(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeEngine>()?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
