//! The registrar's own ledger accounts (`@funding:USD`, `@revenue:USD`, `@payout:USD`) on a
//! shared database (PostgreSQL, schema 5).
//!
//! Every deposit, capture, release and top-up moves one of these few accounts. Written as rows,
//! they would be written by every transaction of every process, and under `SERIALIZABLE` a
//! second writer of a row fails and runs again: several processes would go slower than one. The
//! ledger never decides anything on these accounts' totals
//! ([`LedgerStore::add_to_system_account`](backorder_core::ledger::LedgerStore::add_to_system_account)),
//! so a write adds its change to this connection's share row in `ledger_account_shares` without
//! reading anything (the shard is the server process id, which no two open connections share).
//! An account's totals are its row in `ledger_accounts` (written before schema 5, or by a direct
//! put), if any, plus the sum of its shares.

use backorder_core::ledger::{LedgerAccount, LedgerAccountKind, SystemAccountChange};
use backorder_core::{Currency, Error, Result};
use rust_decimal::Decimal;

use super::sql::Row;

/// Each key's shares summed, from `$from` (a table or a `WITH` part with the share columns, and
/// any condition): the columns [`combined`] reads after the key and the row.
macro_rules! share_sums {
    ($($from:expr),+) => {
        concat!(
            "SELECT key, min(kind) AS kind, min(currency) AS currency, \
               sum(debits_pending)::text AS dp, sum(debits_posted)::text AS dpo, \
               sum(credits_pending)::text AS cp, sum(credits_posted)::text AS cpo FROM ",
            $($from),+,
            " GROUP BY key"
        )
    };
}
pub(crate) use share_sums;

/// `SELECT` of the ledger accounts whose keys `$keys` (a subquery with a `key` column)
/// gives, each with its row and the sum of its shares (none for a customer), in the columns
/// [`combined`] reads, by key.
macro_rules! accounts_with_shares {
    ($keys:literal) => {
        concat!(
            "SELECT k.key, l.body, s.kind, s.currency, s.dp, s.dpo, s.cp, s.cpo FROM (",
            $keys,
            ") k LEFT JOIN ledger_accounts l ON l.key = k.key LEFT JOIN (",
            share_sums!("ledger_account_shares WHERE key IN (", $keys, ")"),
            ") s ON s.key = k.key ORDER BY k.key"
        )
    };
}
pub(crate) use accounts_with_shares;

/// The write statement's part that adds a transaction's changes to this connection's shares:
/// parameters `$1`…`$7` are the keys, kinds, currencies and the four changes, as text arrays.
macro_rules! add_to_shares {
    ($k:literal, $kind:literal, $cur:literal, $dp:literal, $dpo:literal, $cp:literal, $cpo:literal) => {
        concat!(
            "INSERT INTO ledger_account_shares (key, shard, kind, currency, debits_pending, \
               debits_posted, credits_pending, credits_posted) \
             SELECT x.key, pg_backend_pid(), x.kind, x.currency, x.dp::numeric, x.dpo::numeric, \
               x.cp::numeric, x.cpo::numeric \
             FROM unnest(?",
            $k,
            "::text[], ?",
            $kind,
            "::text[], ?",
            $cur,
            "::text[], ?",
            $dp,
            "::text[], ?",
            $dpo,
            "::text[], ?",
            $cp,
            "::text[], ?",
            $cpo,
            "::text[]) AS x(key, kind, currency, dp, dpo, cp, cpo) \
             ON CONFLICT (key, shard) DO UPDATE SET \
               debits_pending = ledger_account_shares.debits_pending + excluded.debits_pending, \
               debits_posted = ledger_account_shares.debits_posted + excluded.debits_posted, \
               credits_pending = ledger_account_shares.credits_pending + excluded.credits_pending, \
               credits_posted = ledger_account_shares.credits_posted + excluded.credits_posted"
        )
    };
}
pub(crate) use add_to_shares;

fn decimal(text: &str) -> Result<Decimal> {
    text.parse().map_err(|e| {
        Error::Store(format!(
            "a share of a ledger account holds '{text}', not an amount: {e}"
        ))
    })
}

/// The account an [`accounts_with_shares!`] row describes: its row plus its shares; `None`
/// when it has neither.
pub(crate) fn combined(r: &dyn Row) -> Result<Option<LedgerAccount>> {
    let key = r.text(0)?;
    let row: Option<LedgerAccount> = match r.opt_text(1)? {
        Some(body) => Some(
            serde_json::from_str(&body)
                .map_err(|e| Error::Store(format!("ledger account {key}: {e}")))?,
        ),
        None => None,
    };
    let Some(kind) = r.opt_text(2)? else {
        return Ok(row);
    };
    let kind = LedgerAccountKind::parse(&kind)
        .ok_or_else(|| Error::Store(format!("a share of {key} is of no kind named '{kind}'")))?;
    let currency: Currency = r.text(3)?.parse()?;
    let mut account = row.unwrap_or_else(|| LedgerAccount::new(&key, kind, currency));
    SystemAccountChange {
        debits_pending: decimal(&r.text(4)?)?,
        debits_posted: decimal(&r.text(5)?)?,
        credits_pending: decimal(&r.text(6)?)?,
        credits_posted: decimal(&r.text(7)?)?,
    }
    .apply_to(&mut account)?;
    Ok(Some(account))
}

/// What turns `from` into `to`: a direct put of one of these accounts becomes a change to this
/// connection's share.
pub(crate) fn difference(from: &LedgerAccount, to: &LedgerAccount) -> Result<SystemAccountChange> {
    let sub = |a: Decimal, b: Decimal| {
        a.checked_sub(b)
            .ok_or_else(|| Error::InvalidAmount("the total would overflow".into()))
    };
    Ok(SystemAccountChange {
        debits_pending: sub(to.debits_pending, from.debits_pending)?,
        debits_posted: sub(to.debits_posted, from.debits_posted)?,
        credits_pending: sub(to.credits_pending, from.credits_pending)?,
        credits_posted: sub(to.credits_posted, from.credits_posted)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_applied_gives_the_target() {
        let mut from =
            LedgerAccount::new("@revenue:USD", LedgerAccountKind::Revenue, Currency::USD);
        from.credits_pending = Decimal::new(4900, 2);
        let mut to = from.clone();
        to.credits_pending = Decimal::ZERO;
        to.credits_posted = Decimal::new(4900, 2);
        let change = difference(&from, &to).unwrap();
        change.apply_to(&mut from).unwrap();
        assert_eq!(from, to);
    }
}
