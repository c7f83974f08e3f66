//! The native half of the Python package `backorder`: an engine whose calls take their arguments
//! as one JSON object and answer JSON, by the facade's own call names ([`engine::calls`]), and
//! whose backorder calls — a registrar's hot path — take Python values and answer native
//! [`records::Backorder`] objects instead. The Python half (`python/backorder/__init__.py`)
//! gives each call its typed method, turns amounts into `decimal.Decimal` and times into aware
//! `datetime`s, and raises the exception class of each error code. Calls run without the GIL.

mod records;

use engine::calls::{JsonEngine, Simulation};
use engine::core::{Contacts, Key};
use engine::{Error, PlaceBackorder};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString, PyTuple};

use records::Backorder;

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

/// A refused argument: the engine's `INVALID_ARGUMENT`, as every other bad input.
fn refused(name: &str, what: &str, value: &Bound<'_, PyAny>) -> PyErr {
    let given = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    raise(Error::InvalidArgument(format!(
        "{name} must be {what}, not {given}"
    )))
}

fn text(value: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    match value.cast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.into_owned()),
        Err(_) => Err(refused(name, "a str", value)),
    }
}

fn optional_text(value: &Bound<'_, PyAny>, name: &str) -> PyResult<Option<String>> {
    if value.is_none() {
        Ok(None)
    } else {
        text(value, name).map(Some)
    }
}

fn id(value: &Bound<'_, PyAny>, name: &str) -> PyResult<u64> {
    if value.is_instance_of::<PyBool>() {
        return Err(refused(name, "an int", value));
    }
    value
        .extract::<u64>()
        .map_err(|_| refused(name, "a non-negative int", value))
}

fn flag(value: &Bound<'_, PyAny>, name: &str) -> PyResult<bool> {
    match value.cast::<PyBool>() {
        Ok(b) => Ok(b.is_true()),
        Err(_) => Err(refused(name, "a bool", value)),
    }
}

/// Contact handles from the tuple `(owner, admin, tech, billing)`, each a str or None.
fn contacts(value: &Bound<'_, PyAny>) -> PyResult<Contacts> {
    let tuple = value
        .cast::<PyTuple>()
        .ok()
        .filter(|t| t.len() == 4)
        .ok_or_else(|| refused("contacts", "four handles", value))?;
    let handle = |i: usize, name: &str| -> PyResult<Option<Key>> {
        Ok(optional_text(&tuple.get_item(i)?, name)?.map(Key::from))
    };
    Ok(Contacts {
        owner: handle(0, "contacts.owner")?,
        admin: handle(1, "contacts.admin")?,
        tech: handle(2, "contacts.tech")?,
        billing: handle(3, "contacts.billing")?,
    })
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

    /// Places a backorder; `contacts` is `(owner, admin, tech, billing)`.
    fn place_backorder(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        domain: &Bound<'_, PyAny>,
        lite: &Bound<'_, PyAny>,
        contacts: &Bound<'_, PyAny>,
        idempotency_key: &Bound<'_, PyAny>,
    ) -> PyResult<Backorder> {
        let request = PlaceBackorder {
            account: text(account, "account")?,
            domain: text(domain, "domain")?,
            lite: flag(lite, "lite")?,
            contacts: self::contacts(contacts)?,
            idempotency_key: optional_text(idempotency_key, "idempotency_key")?,
        };
        py.detach(|| self.0.engine().place_backorder(request))
            .map(Backorder)
            .map_err(raise)
    }

    /// One of the account's backorders.
    fn backorder(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        id: &Bound<'_, PyAny>,
    ) -> PyResult<Backorder> {
        let (account, id) = (text(account, "account")?, self::id(id, "id")?);
        py.detach(|| self.0.engine().backorder(&account, id))
            .map(Backorder)
            .map_err(raise)
    }

    /// Every backorder of the account, oldest first.
    fn backorders(&self, py: Python<'_>, account: &Bound<'_, PyAny>) -> PyResult<Vec<Backorder>> {
        let account = text(account, "account")?;
        py.detach(|| self.0.engine().backorders(&account))
            .map(|list| list.into_iter().map(Backorder).collect())
            .map_err(raise)
    }

    /// Changes a backorder's contact handles (`(owner, admin, tech, billing)`).
    fn modify_backorder(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        id: &Bound<'_, PyAny>,
        contacts: &Bound<'_, PyAny>,
    ) -> PyResult<Backorder> {
        let (account, id) = (text(account, "account")?, self::id(id, "id")?);
        let contacts = self::contacts(contacts)?;
        py.detach(|| self.0.engine().modify_backorder(&account, id, contacts))
            .map(Backorder)
            .map_err(raise)
    }

    /// Cancels a backorder; with a key, a repeat answers the first result.
    fn cancel_backorder(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        id: &Bound<'_, PyAny>,
        idempotency_key: &Bound<'_, PyAny>,
    ) -> PyResult<Backorder> {
        let (account, id) = (text(account, "account")?, self::id(id, "id")?);
        let key = optional_text(idempotency_key, "idempotency_key")?;
        let e = self.0.engine();
        py.detach(|| e.cancel_backorder_with_key(&account, id, key.as_deref()))
            .map(Backorder)
            .map_err(raise)
    }

    /// Pays what is due on a backorder; with a key, a repeat answers the first result.
    fn pay(
        &self,
        py: Python<'_>,
        account: &Bound<'_, PyAny>,
        id: &Bound<'_, PyAny>,
        idempotency_key: &Bound<'_, PyAny>,
    ) -> PyResult<Backorder> {
        let (account, id) = (text(account, "account")?, self::id(id, "id")?);
        let key = optional_text(idempotency_key, "idempotency_key")?;
        let e = self.0.engine();
        py.detach(|| e.pay_with_key(&account, id, key.as_deref()))
            .map(Backorder)
            .map_err(raise)
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
    m.add_class::<Backorder>()?;
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
