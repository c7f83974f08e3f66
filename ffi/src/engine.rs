//! The engine facade for C: one export per `Engine` call, with the same name (`bo_engine_` and
//! the call's name).
//!
//! Records go in and come out as JSON documents whose fields are those of the Rust types named
//! in each function's documentation (amounts as decimal strings, times as RFC 3339 text in UTC).
//! An engine handle may be used from several threads at once; each call is one transaction.

use std::ffi::{c_char, CString};

use engine::core::alert::NewSubscription;
use engine::core::catalog::ImportOptions;
use engine::core::search::SearchQuery;
use engine::{
    Backorder, CatchOutcome, Contacts, Engine, Error, ManualClock, NewAccount, PlaceBackorder,
    TldPolicy,
};
use serde::{Deserialize, Serialize};

use crate::call::{
    amount, guard, json, optional_text, out_ptr, text, time, write_json, write_text,
};
use crate::status::bo_status;

/// An open engine: its store, clock, registry and auctions. Opaque; freed with
/// [`bo_engine_free`].
pub struct bo_engine {
    engine: Engine,
    /// Set for an engine opened with [`bo_engine_open_simulated`]: its time moves only when
    /// told to.
    clock: Option<ManualClock>,
}

/// The engine behind a handle.
///
/// # Safety
/// `p` is NULL or a handle from `bo_engine_open*` not yet freed.
unsafe fn engine<'a>(p: *const bo_engine) -> Result<&'a bo_engine, Error> {
    p.as_ref()
        .ok_or_else(|| Error::InvalidArgument("engine is NULL".into()))
}

/// Runs `work` on the engine and writes its result to `out` as JSON.
///
/// # Safety
/// As [`engine`]; `out` is NULL or points to storage for one pointer.
unsafe fn respond<T: Serialize>(
    e: *const bo_engine,
    out: *mut *mut c_char,
    work: impl FnOnce(&Engine) -> Result<T, Error>,
) -> bo_status {
    guard(|| {
        let e = engine(e)?;
        out_ptr(out, "out")?;
        let value = work(&e.engine)?;
        write_json(out, &value)
    })
}

/// Runs `work` on the engine and writes its result to `out` with `write`: for backorders,
/// `engine::json`'s writer (the same text serde writes, faster: placing and reading backorders
/// is every host's hot path).
///
/// # Safety
/// As [`respond`].
unsafe fn respond_written<T>(
    e: *const bo_engine,
    out: *mut *mut c_char,
    work: impl FnOnce(&Engine) -> Result<T, Error>,
    write: impl FnOnce(&mut Vec<u8>, &T),
) -> bo_status {
    guard(|| {
        let e = engine(e)?;
        out_ptr(out, "out")?;
        let value = work(&e.engine)?;
        write_text(out, |bytes| {
            write(bytes, &value);
            Ok(())
        })
    })
}

/// Runs `work` on the engine; nothing to write back.
///
/// # Safety
/// As [`engine`].
unsafe fn run(e: *const bo_engine, work: impl FnOnce(&Engine) -> Result<(), Error>) -> bo_status {
    guard(|| work(&engine(e)?.engine))
}

/// How [`bo_engine_open_simulated`] sets up an engine, as JSON:
/// `{"start_unix_ms": 1772409600000, "seed": 1, "catch_permille": 650,
/// "contested_catch_permille": 500, "outcomes": {"miss.com": {"outcome": "TAKEN"}}}`; only
/// `start_unix_ms` is required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Simulation {
    /// Where the clock starts.
    start_unix_ms: i64,
    /// Drives the registry's outcomes and the auth codes.
    #[serde(default)]
    seed: u64,
    /// The registry's catch probability for names with one backorderer, in thousandths.
    catch_permille: Option<u32>,
    /// The same for names with several backorderers.
    contested_catch_permille: Option<u32>,
    /// The share of names that do not drop in the window, in thousandths.
    not_dropped_permille: Option<u32>,
    /// What the registry answers for these names, whatever the seed says.
    #[serde(default)]
    outcomes: std::collections::BTreeMap<String, CatchOutcome>,
}

fn open_simulated(url: &str, sim: Simulation) -> Result<Box<bo_engine>, Error> {
    let (engine, clock) = engine::calls::Simulation {
        start: time(sim.start_unix_ms, "start_unix_ms")?,
        seed: sim.seed,
        catch_permille: sim.catch_permille,
        contested_catch_permille: sim.contested_catch_permille,
        not_dropped_permille: sim.not_dropped_permille,
        outcomes: sim.outcomes,
    }
    .open(url)?;
    Ok(Box::new(bo_engine {
        engine,
        clock: Some(clock),
    }))
}

/// Opens an engine on the store `url` names (`memory:`, `sqlite:PATH`, `postgres://…`) with the
/// system clock, and writes its handle to `*out`.
///
/// # Safety
/// `url` is a NUL-terminated string; `out` points to storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_open(url: *const c_char, out: *mut *mut bo_engine) -> bo_status {
    guard(|| {
        let url = text(url, "url")?;
        out_ptr(out, "out")?;
        *out = Box::into_raw(Box::new(bo_engine {
            engine: Engine::open(url)?,
            clock: None,
        }));
        Ok(())
    })
}

/// Opens an engine for tests and simulations: its clock moves only by [`bo_engine_set_time`],
/// and a seeded simulated registry catches names, so the same calls give the same results.
/// `simulation_json`: `{"start_unix_ms": 1772409600000, "seed": 1, "catch_permille": 650,
/// "contested_catch_permille": 500, "not_dropped_permille": 20, "outcomes": {"miss.com":
/// {"outcome": "TAKEN"}}}`, only `start_unix_ms` required; an outcome is one of `CAUGHT`,
/// `TAKEN`, `NOT_DROPPED`, `PREMIUM`.
///
/// # Safety
/// `url` and `simulation_json` are NUL-terminated strings; `out` points to storage for one
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_open_simulated(
    url: *const c_char,
    simulation_json: *const c_char,
    out: *mut *mut bo_engine,
) -> bo_status {
    guard(|| {
        let url = text(url, "url")?;
        let sim = json::<Simulation>(simulation_json, "simulation_json")?;
        out_ptr(out, "out")?;
        *out = Box::into_raw(open_simulated(url, sim)?);
        Ok(())
    })
}

/// Closes an engine and frees its handle. NULL is ignored.
///
/// # Safety
/// `e` is NULL or a handle from `bo_engine_open*`, not used again after this call.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_free(e: *mut bo_engine) {
    if !e.is_null() {
        // Dropping closes the store; a panic there must not unwind into C.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(Box::from_raw(e))));
    }
}

/// Frees a string the library returned. NULL is ignored.
///
/// # Safety
/// `s` is NULL or a string from this library, not used again after this call.
#[no_mangle]
pub unsafe extern "C" fn bo_string_free(s: *mut c_char) {
    if !s.is_null() {
        drop(CString::from_raw(s));
    }
}

/// The engine's time, in Unix milliseconds.
///
/// # Safety
/// `e` is a live handle; `out_unix_ms` points to an `int64_t`.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_now(e: *const bo_engine, out_unix_ms: *mut i64) -> bo_status {
    guard(|| {
        let e = engine(e)?;
        out_ptr(out_unix_ms, "out_unix_ms")?;
        *out_unix_ms = e.engine.now().timestamp_millis();
        Ok(())
    })
}

/// Moves a simulated engine's clock to `unix_ms` (never back: an earlier time is refused).
/// `BO_INVALID_ARGUMENT` for an engine on the system clock.
///
/// # Safety
/// `e` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_set_time(e: *const bo_engine, unix_ms: i64) -> bo_status {
    guard(|| {
        let e = engine(e)?;
        let t = time(unix_ms, "unix_ms")?;
        let Some(clock) = &e.clock else {
            return Err(Error::InvalidArgument(
                "the engine runs on the system clock: open it with bo_engine_open_simulated \
                 to set its time"
                    .into(),
            ));
        };
        if t < e.engine.now() {
            return Err(Error::InvalidArgument(format!(
                "time cannot go back (from {} to {})",
                e.engine.now().to_rfc3339(),
                t.to_rfc3339()
            )));
        }
        clock.set(t);
        Ok(())
    })
}

/// The zone policies, as a JSON array of `TldPolicy`.
///
/// # Safety
/// `e` is a live handle; `out` points to storage for one pointer. Every JSON string the
/// library writes to an `out` is freed with `bo_string_free`.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_policies(
    e: *const bo_engine,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| Ok(e.policies()))
}

/// Adds or replaces a zone policy given as a JSON `TldPolicy`.
///
/// # Safety
/// `e` is a live handle; `policy_json` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_set_policy(
    e: *const bo_engine,
    policy_json: *const c_char,
) -> bo_status {
    run(e, |e| {
        e.set_policy(json::<TldPolicy>(policy_json, "policy_json")?)
    })
}

/// Creates a customer account from a JSON `NewAccount` (`{"id": "C1", "currency": "USD",
/// "contacts": {…}}`); the account as JSON `Account`.
///
/// # Safety
/// `e` is a live handle; `account_json` is a NUL-terminated string; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_create_account(
    e: *const bo_engine,
    account_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        e.create_account(json::<NewAccount>(account_json, "account_json")?)
    })
}

/// An account, as JSON `Account`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_account(
    e: *const bo_engine,
    account: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| e.account(text(account, "account")?))
}

/// Sets an account's default contact handles (JSON `Contacts`); the account as JSON `Account`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_set_contacts(
    e: *const bo_engine,
    account: *const c_char,
    contacts_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let account = text(account, "account")?;
        e.set_contacts(account, json::<Contacts>(contacts_json, "contacts_json")?)
    })
}

/// Sets what the customer owes the registrar outside the engine (decimal text, zero or more): it
/// decides where exclusive-model refunds go. The account as JSON `Account`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_set_outstanding(
    e: *const bo_engine,
    account: *const c_char,
    amount_text: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let account = text(account, "account")?;
        e.set_outstanding(account, amount(amount_text, "amount")?)
    })
}

/// Adds `amount` (decimal text) to an account's prepaid balance; repeating `idempotency_key`
/// returns the first result. The journal entry as JSON `Transfer`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_fund(
    e: *const bo_engine,
    account: *const c_char,
    amount_text: *const c_char,
    idempotency_key: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let account = text(account, "account")?;
        let value = amount(amount_text, "amount")?;
        e.fund(account, value, text(idempotency_key, "idempotency_key")?)
    })
}

/// An account's balance, reserved and available amounts, as JSON `Balance`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_balance(
    e: *const bo_engine,
    account: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| e.balance(text(account, "account")?))
}

/// Up to `limit` lines of an account's statement after journal entry `after`, as a JSON array of
/// `StatementLine`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_statement(
    e: *const bo_engine,
    account: *const c_char,
    after: u64,
    limit: u32,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        e.statement(text(account, "account")?, after, limit)
    })
}

/// Adds a name to the pending-delete list (or moves its deletion time) to drop at
/// `drop_at_unix_ms`; the entry as JSON `PendingDeletion`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_add_pending_deletion(
    e: *const bo_engine,
    domain: *const c_char,
    drop_at_unix_ms: i64,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let domain = text(domain, "domain")?;
        e.add_pending_deletion(domain, time(drop_at_unix_ms, "drop_at_unix_ms")?)
    })
}

/// A name's pending-delete entry as JSON `PendingDeletion`, or `null` when it is not listed.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_pending_deletion(
    e: *const bo_engine,
    domain: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| e.pending_deletion(text(domain, "domain")?))
}

/// Takes a name off the pending-delete list (its holder restored it): its waiting backorders are
/// cancelled and refunded; `*out_cancelled` is how many.
///
/// # Safety
/// `e` is a live handle; `domain` a NUL-terminated string; `out_cancelled` points to a `size_t`.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_withdraw_pending_deletion(
    e: *const bo_engine,
    domain: *const c_char,
    out_cancelled: *mut usize,
) -> bo_status {
    guard(|| {
        let e = engine(e)?;
        let domain = text(domain, "domain")?;
        out_ptr(out_cancelled, "out_cancelled")?;
        *out_cancelled = e.engine.withdraw_pending_deletion(domain)?;
        Ok(())
    })
}

/// Imports a deletion list of `len` bytes (HEXONET `;` CSV, the IETF drop list, plain CSV/TSV,
/// or a zip holding one) with JSON `ImportOptions` (NULL: the defaults); the report as JSON
/// `ImportReport`. One transaction: an error changes nothing.
///
/// # Safety
/// `e` is a live handle; `bytes` points to `len` readable bytes (it may be NULL when `len` is
/// 0); `options_json` is NULL or a NUL-terminated string; `out` points to storage for one
/// pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_import_pending_list(
    e: *const bo_engine,
    bytes: *const u8,
    len: usize,
    options_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let data: &[u8] = match (bytes.is_null(), len) {
            (_, 0) => &[],
            (true, _) => return Err(Error::InvalidArgument("bytes is NULL".into())),
            (false, n) => std::slice::from_raw_parts(bytes, n),
        };
        let options = match options_json.is_null() {
            true => ImportOptions::default(),
            false => json::<ImportOptions>(options_json, "options_json")?,
        };
        e.import_pending_list(data, options)
    })
}

/// Searches the pending-delete catalog with a JSON `SearchQuery`; the rows as JSON
/// `SearchResult`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_search_pending(
    e: *const bo_engine,
    query_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        e.search_pending(&json::<SearchQuery>(query_json, "query_json")?)
    })
}

/// Subscribes an account to keyword alerts (JSON `NewSubscription`); the subscription as JSON
/// `Subscription`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_subscribe_alerts(
    e: *const bo_engine,
    request_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        e.subscribe_alerts(json::<NewSubscription>(request_json, "request_json")?)
    })
}

/// Ends one of an account's alert subscriptions.
///
/// # Safety
/// `e` is a live handle; `account` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_unsubscribe_alerts(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
) -> bo_status {
    run(e, |e| e.unsubscribe_alerts(text(account, "account")?, id))
}

/// An account's alert subscriptions, as a JSON array of `Subscription`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_alert_subscriptions(
    e: *const bo_engine,
    account: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| e.alert_subscriptions(text(account, "account")?))
}

/// Places a backorder from a JSON `PlaceBackorder` (`{"account": "C1", "domain": "john.com",
/// "lite": false, "contacts": {…}, "idempotency_key": "…"}`); the backorder as JSON `Backorder`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_place_backorder(
    e: *const bo_engine,
    request_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond_written(
        e,
        out,
        |e| e.place_backorder(json::<PlaceBackorder>(request_json, "request_json")?),
        engine::json::write_backorder,
    )
}

/// One of the account's backorders, as JSON `Backorder` (another account's is
/// `BO_BACKORDER_NOT_FOUND`).
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_backorder(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
    out: *mut *mut c_char,
) -> bo_status {
    respond_written(
        e,
        out,
        |e| e.backorder(text(account, "account")?, id),
        engine::json::write_backorder,
    )
}

/// Every backorder of the account, oldest first, as a JSON array of `Backorder`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_backorders(
    e: *const bo_engine,
    account: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond_written(
        e,
        out,
        |e| e.backorders(text(account, "account")?),
        |out, list: &Vec<Backorder>| engine::json::write_backorders(out, list),
    )
}

/// Changes a backorder's contact handles (JSON `Contacts`); the backorder as JSON `Backorder`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_modify_backorder(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
    contacts_json: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond_written(
        e,
        out,
        |e| {
            let account = text(account, "account")?;
            e.modify_backorder(
                account,
                id,
                json::<Contacts>(contacts_json, "contacts_json")?,
            )
        },
        engine::json::write_backorder,
    )
}

/// Cancels a backorder (until its finalization date); the backorder as JSON `Backorder`. With an
/// `idempotency_key` (NULL: none) a repeat returns the first result.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings (`idempotency_key` may be
/// NULL); `out` points to storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_cancel_backorder(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
    idempotency_key: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond_written(
        e,
        out,
        |e| {
            let key = optional_text(idempotency_key, "idempotency_key")?;
            e.cancel_backorder_with_key(text(account, "account")?, id, key)
        },
        engine::json::write_backorder,
    )
}

/// Pays what is due on a backorder (the exclusive model's price, an auction's price or a
/// second-chance offer) from the prepaid balance; the backorder as JSON `Backorder`.
///
/// With an `idempotency_key` (NULL: none) a repeat returns the first result.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings (`idempotency_key` may be
/// NULL); `out` points to storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_pay(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
    idempotency_key: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond_written(
        e,
        out,
        |e| {
            let key = optional_text(idempotency_key, "idempotency_key")?;
            e.pay_with_key(text(account, "account")?, id, key)
        },
        engine::json::write_backorder,
    )
}

/// Bids up to `max` (decimal text) in the auction of the account's backorder `id` (proxy
/// bidding); what the bidder may see as JSON `AuctionView`.
///
/// With an `idempotency_key` (NULL: none) a repeat returns the first result.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings (`idempotency_key` may be
/// NULL); `out` points to storage for one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_bid(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
    max: *const c_char,
    idempotency_key: *const c_char,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let (account, max) = (text(account, "account")?, amount(max, "max")?);
        e.bid_with_key(
            account,
            id,
            max,
            optional_text(idempotency_key, "idempotency_key")?,
        )
    })
}

/// The auction of the account's backorder `id`, as JSON `AuctionView`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_auction(
    e: *const bo_engine,
    account: *const c_char,
    id: u64,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| e.auction(text(account, "account")?, id))
}

/// Does all time-driven work due now (deposit windows, drops, auctions, deadlines); what it did
/// as JSON `TickReport`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_tick(e: *const bo_engine, out: *mut *mut c_char) -> bo_status {
    respond(e, out, |e| e.tick())
}

/// When time-driven work is next due: `*out_has` is false when nothing is waiting, else
/// `*out_unix_ms` is the time.
///
/// # Safety
/// `e` is a live handle; the outputs point to an `int64_t` and a `bool`.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_next_wake(
    e: *const bo_engine,
    out_unix_ms: *mut i64,
    out_has: *mut bool,
) -> bo_status {
    guard(|| {
        let e = engine(e)?;
        out_ptr(out_unix_ms, "out_unix_ms")?;
        out_ptr(out_has, "out_has")?;
        let next = e.engine.next_wake()?;
        *out_has = next.is_some();
        *out_unix_ms = next.map_or(0, |t| t.timestamp_millis());
        Ok(())
    })
}

/// Up to `limit` outbox events after sequence number `after`, as a JSON array of `Event`.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_events(
    e: *const bo_engine,
    after: u64,
    limit: u32,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| e.events(after, limit))
}

/// Acknowledges the outbox events up to sequence number `upto`: they may be pruned.
///
/// # Safety
/// `e` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_ack_events(e: *const bo_engine, upto: u64) -> bo_status {
    run(e, |e| e.ack_events(upto))
}

/// Re-derives every balance from the journal and checks every invariant; the findings as JSON
/// `AuditReport` (`"problems": []` when clean).
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_audit(e: *const bo_engine, out: *mut *mut c_char) -> bo_status {
    respond(e, out, |e| e.audit())
}

/// How many backorders are in each status, as a JSON object from status string to count.
///
/// # Safety
/// `e` is a live handle; text arguments are NUL-terminated strings; `out` points to storage for
/// one pointer.
#[no_mangle]
pub unsafe extern "C" fn bo_engine_status_counts(
    e: *const bo_engine,
    out: *mut *mut c_char,
) -> bo_status {
    respond(e, out, |e| {
        let counts = e.status_counts()?;
        Ok(counts
            .into_iter()
            .map(|(s, n)| (s.as_str().to_string(), n))
            .collect::<std::collections::BTreeMap<_, _>>())
    })
}
