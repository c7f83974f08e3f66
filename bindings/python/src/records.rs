//! Backorders as native Python objects. Every place, read, modify, cancel and pay answers one, so
//! it is built straight from the engine's record, with no JSON between: each attribute is made
//! into its Python value (`decimal.Decimal`, an aware `datetime`, the package's `Contacts`,
//! `Money` and `HistoryEntry` records) when it is read.

use chrono::{DateTime, Utc};
use engine::core::{AllocationModel, Backorder as Record};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyList, PyType};
use rust_decimal::Decimal;

static CONTACTS: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static MONEY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static HISTORY_ENTRY: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A backorder (an application, in HEXONET's words). Immutable; equal to another when every
/// attribute is.
#[pyclass(frozen, eq, module = "backorder._backorder", name = "Backorder")]
#[derive(PartialEq)]
pub struct Backorder(pub Record);

/// The attribute names, in the record's order (for `repr`).
const FIELDS: [&str; 24] = [
    "id",
    "account",
    "domain",
    "model",
    "status",
    "lite",
    "contacts",
    "price",
    "drop_at",
    "finalization_at",
    "deposit_opens_at",
    "deposit_deadline_at",
    "deposit_retry_secs",
    "created_at",
    "updated_at",
    "reservation",
    "low_balance_notified",
    "auction",
    "amount_due",
    "pay_by",
    "paid",
    "auth_code",
    "registered_until",
    "history",
];

#[pymethods]
impl Backorder {
    /// The application id.
    #[getter]
    fn id(&self) -> u64 {
        self.0.id
    }
    /// The customer.
    #[getter]
    fn account(&self) -> &str {
        &self.0.account
    }
    /// The name (ASCII form).
    #[getter]
    fn domain(&self) -> &str {
        self.0.domain.as_str()
    }
    /// `AUCTION` or `EXCLUSIVE`: the zone's allocation model when placed.
    #[getter]
    fn model(&self) -> &'static str {
        match self.0.model {
            AllocationModel::Auction => "AUCTION",
            AllocationModel::Exclusive => "EXCLUSIVE",
        }
    }
    /// The status, e.g. `ACTIVE`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.status.as_str()
    }
    /// A lite (lower-priority) backorder.
    #[getter]
    fn lite(&self) -> bool {
        self.0.lite
    }
    /// The contact handles given with the backorder, as `backorder.Contacts`.
    #[getter]
    fn contacts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = &self.0.contacts;
        let handle = |k: &Option<engine::core::Key>| k.as_deref().map(str::to_owned);
        CONTACTS.import(py, "backorder", "Contacts")?.call1((
            handle(&c.owner),
            handle(&c.admin),
            handle(&c.tech),
            handle(&c.billing),
        ))
    }
    /// The fee or price, as `backorder.Money`.
    #[getter]
    fn price<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        MONEY
            .import(py, "backorder", "Money")?
            .call1((self.0.price.amount, self.0.price.currency.as_str()))
    }
    /// When the name is expected to drop, once known.
    #[getter]
    fn drop_at(&self) -> Option<DateTime<Utc>> {
        self.0.drop_at
    }
    /// The final backorder date.
    #[getter]
    fn finalization_at(&self) -> Option<DateTime<Utc>> {
        self.0.finalization_at
    }
    /// When the deposit is first tried.
    #[getter]
    fn deposit_opens_at(&self) -> Option<DateTime<Utc>> {
        self.0.deposit_opens_at
    }
    /// Unfunded after this, the backorder expires.
    #[getter]
    fn deposit_deadline_at(&self) -> Option<DateTime<Utc>> {
        self.0.deposit_deadline_at
    }
    /// How often the deposit is retried while INACTIVE (seconds).
    #[getter]
    fn deposit_retry_secs(&self) -> i64 {
        self.0.deposit_retry_secs
    }
    /// When placed.
    #[getter]
    fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Last change.
    #[getter]
    fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The ledger reservation holding the deposit or payment.
    #[getter]
    fn reservation(&self) -> Option<u64> {
        self.0.reservation
    }
    /// The one low-balance notification was sent.
    #[getter]
    fn low_balance_notified(&self) -> bool {
        self.0.low_balance_notified
    }
    /// The private auction, if the name went to one.
    #[getter]
    fn auction(&self) -> Option<u64> {
        self.0.auction
    }
    /// What the customer owes now.
    #[getter]
    fn amount_due(&self) -> Option<Decimal> {
        self.0.amount_due
    }
    /// The payment deadline for `amount_due`.
    #[getter]
    fn pay_by(&self) -> Option<DateTime<Utc>> {
        self.0.pay_by
    }
    /// Total captured and charged on this backorder.
    #[getter]
    fn paid(&self) -> Decimal {
        self.0.paid
    }
    /// The auth code handed to the paid auction winner.
    #[getter]
    fn auth_code(&self) -> Option<&str> {
        self.0.auth_code.as_ref().map(|s| s.expose())
    }
    /// Registered until (after a catch and allocation).
    #[getter]
    fn registered_until(&self) -> Option<DateTime<Utc>> {
        self.0.registered_until
    }
    /// Every status change, oldest first, as `backorder.HistoryEntry` records.
    #[getter]
    fn history<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let entry = HISTORY_ENTRY.import(py, "backorder", "HistoryEntry")?;
        let entries = self
            .0
            .history
            .iter()
            .map(|h| {
                entry.call1((
                    h.at,
                    h.from.map(|s| s.as_str()),
                    h.to.as_str(),
                    h.reason.as_str(),
                ))
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, entries)
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let mut text = String::from("Backorder(");
        for (i, name) in FIELDS.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(name);
            text.push('=');
            text.push_str(&slf.getattr(*name)?.repr()?.to_cow()?);
        }
        text.push(')');
        Ok(text)
    }
}
