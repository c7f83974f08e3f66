//! Customer accounts and their contact handles.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ledger::{self, Transfer};
use crate::money::{Currency, Money};
use crate::policy::RequiredContacts;
use crate::store::Store;

/// Checks a host-supplied account id: 1 to 64 printable ASCII characters without spaces, not
/// starting with `@` (reserved for the ledger's own accounts).
///
/// ```
/// assert!(backorder_core::check_account_id("reseller-42").is_ok());
/// assert!(backorder_core::check_account_id("@revenue").is_err());
/// ```
pub fn check_account_id(id: &str) -> Result<()> {
    if id.is_empty()
        || id.len() > 64
        || id.starts_with('@')
        || !id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(Error::InvalidArgument(format!(
            "account id '{}' must be 1-64 printable ASCII characters, no spaces, not starting with '@'",
            id.chars().take(64).collect::<String>().escape_debug()
        )));
    }
    Ok(())
}

/// Contact handles (registry contact ids) for the four roles. Unknown roles are refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    /// Registrant.
    pub owner: Option<crate::key::Key>,
    /// Administrative contact.
    pub admin: Option<crate::key::Key>,
    /// Technical contact.
    pub tech: Option<crate::key::Key>,
    /// Billing contact.
    pub billing: Option<crate::key::Key>,
}

impl Contacts {
    /// Checks the handles' syntax (RFC 5730 `clIDType`: 3 to 16 characters, here printable ASCII).
    pub fn validate(&self) -> Result<()> {
        for (role, h) in self.roles() {
            if let Some(h) = h {
                if h.len() < 3 || h.len() > 16 || !h.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(Error::InvalidArgument(format!(
                        "{role} contact handle must be 3-16 printable ASCII characters"
                    )));
                }
            }
        }
        Ok(())
    }

    fn roles(&self) -> [(&'static str, &Option<crate::key::Key>); 4] {
        [
            ("owner", &self.owner),
            ("admin", &self.admin),
            ("tech", &self.tech),
            ("billing", &self.billing),
        ]
    }

    /// These handles, with the gaps filled from `fallback`.
    pub fn or(&self, fallback: &Contacts) -> Contacts {
        Contacts {
            owner: self.owner.clone().or_else(|| fallback.owner.clone()),
            admin: self.admin.clone().or_else(|| fallback.admin.clone()),
            tech: self.tech.clone().or_else(|| fallback.tech.clone()),
            billing: self.billing.clone().or_else(|| fallback.billing.clone()),
        }
    }

    /// True when every role the zone requires has a handle.
    pub fn satisfies(&self, required: &RequiredContacts) -> bool {
        (!required.owner || self.owner.is_some())
            && (!required.admin || self.admin.is_some())
            && (!required.tech || self.tech.is_some())
            && (!required.billing || self.billing.is_some())
    }
}

/// A customer account of the registrar. Its money lives in the ledger under the same id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The host's id for the customer.
    pub id: crate::key::Key,
    /// The currency of its prepaid balance.
    pub currency: Currency,
    /// Default contact handles for its backorders.
    pub contacts: Contacts,
    /// What the customer owes the registrar outside the engine (host-maintained). When above zero, a
    /// refund goes to the balance; otherwise to the original payment method (exclusive model).
    pub outstanding: Decimal,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// The ledger key for an idempotency key a host supplied: scoped to the operation and the account,
/// so one customer's key can never collide with another's, nor with the engine's own keys (which
/// never start with `host:`).
///
/// ```
/// assert_eq!(backorder_core::account::host_key("fund", "alice", "t-1").unwrap(), "host:fund:alice:t-1");
/// assert!(backorder_core::account::host_key("fund", "alice", "").is_err());
/// ```
pub fn host_key(operation: &str, account: &str, key: &str) -> Result<String> {
    if key.is_empty() || key.len() > 200 || key.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(
            "idempotency key must be 1-200 bytes without control characters".into(),
        ));
    }
    let mut scoped = String::with_capacity(7 + operation.len() + account.len() + key.len());
    for part in ["host:", operation, ":", account, ":", key] {
        scoped.push_str(part);
    }
    Ok(scoped)
}

/// Runs a host command once per idempotency key, in the caller's transaction: the first time,
/// `run` does it and the scoped key is recorded with a fingerprint of `request`; a repeat with
/// the same key and request changes nothing and answers with `replay` (the record as it is now);
/// the key on another request is [`Error::IdempotencyConflict`]. A refused command records
/// nothing, so its key may be used again.
pub fn once<S: Store + ?Sized, T>(
    tx: &mut S,
    operation: &str,
    account: &str,
    key: &str,
    request: &str,
    run: impl FnOnce(&mut S) -> Result<T>,
    replay: impl FnOnce(&mut S) -> Result<T>,
) -> Result<T> {
    let scoped = host_key(operation, account, key)?;
    let fingerprint = crate::rng::hash64(0x0ce, request.as_bytes());
    if let Some(done) = tx.command(&scoped)? {
        if done.fingerprint != fingerprint {
            return Err(Error::IdempotencyConflict(key.chars().take(200).collect()));
        }
        return replay(tx);
    }
    let v = run(tx)?;
    tx.put_command(crate::store::CommandRecord {
        key: scoped.as_str().into(),
        fingerprint,
        result: 0,
    })?;
    Ok(v)
}

/// Tops up a customer's prepaid balance in the account's currency; repeating `key` returns the
/// first top-up (a different amount under the same key is [`Error::IdempotencyConflict`]).
pub fn top_up<S: Store + ?Sized>(
    tx: &mut S,
    account: &str,
    amount: rust_decimal::Decimal,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Transfer> {
    let scoped = host_key("fund", account, key)?;
    let currency = tx
        .account(account)?
        .ok_or_else(|| Error::AccountNotFound(account.chars().take(64).collect()))?
        .currency;
    ledger::fund(tx, &scoped, account, &Money::new(amount, currency), now).map_err(|e| match e {
        Error::IdempotencyConflict(_) => Error::IdempotencyConflict(key.to_string()),
        other => other,
    })
}
