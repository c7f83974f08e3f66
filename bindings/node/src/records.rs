//! Backorders for JavaScript without JSON. Every place, read, modify, cancel and pay answers one,
//! so the engine's record goes across as the arguments of one call to index.js's
//! `backorderFrom`, which makes index.d.ts's `Backorder` with one object literal: V8 builds a
//! literal of a known shape far faster than native code can set properties or array elements
//! one by one (by name it cost about 8 µs a backorder, most of it looking up the names; by
//! array element about 4). A test holds the objects equal to the JSON calls' for backorders in
//! every state the seed flows reach.

use engine::core::{AllocationModel, Backorder, Key};
use napi::bindgen_prelude::{Null, ToNapiValue};
use napi::sys;

/// A backorder and the JavaScript function that makes its object (`backorderFrom`): the values
/// go to it as arguments in this order —
/// `id, account, domain, model, status, lite, owner, admin, tech, billing, price amount,
/// price currency, drop_at, finalization_at, deposit_opens_at, deposit_deadline_at,
/// deposit_retry_secs, created_at, updated_at, reservation, low_balance_notified, auction,
/// amount_due, pay_by, paid, auth_code, registered_until`, then four a history entry: `at, from,
/// to, reason`. Times are Unix milliseconds, amounts decimal strings, absent values `null`.
pub struct BackorderRow {
    /// The record.
    pub record: Backorder,
    /// `backorderFrom`, as index.js passed it to the call.
    pub build: sys::napi_value,
}

/// How many arguments come before the history entries.
pub const HISTORY_AT: usize = 27;

/// One value of the row.
enum Value<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Text(&'a str),
    Owned(String),
}

fn number<'a>(n: u64) -> Value<'a> {
    // Ids are exact in a JavaScript number below 2^53, as every id the engine hands out is.
    Value::Number(n as f64)
}

fn time<'a>(at: &chrono::DateTime<chrono::Utc>) -> Value<'a> {
    Value::Number(at.timestamp_millis() as f64)
}

fn optional<'a, T>(v: &'a Option<T>, f: impl Fn(&'a T) -> Value<'a>) -> Value<'a> {
    v.as_ref().map(f).unwrap_or(Value::Null)
}

fn handle(k: &Option<Key>) -> Value<'_> {
    optional(k, |k| Value::Text(k))
}

impl Value<'_> {
    unsafe fn to_napi(&self, env: sys::napi_env) -> napi::Result<sys::napi_value> {
        match self {
            Value::Null => Null::to_napi_value(env, Null),
            Value::Bool(b) => bool::to_napi_value(env, *b),
            Value::Number(n) => f64::to_napi_value(env, *n),
            Value::Text(s) => <&str>::to_napi_value(env, s),
            Value::Owned(s) => <&str>::to_napi_value(env, s.as_str()),
        }
    }
}

impl ToNapiValue for BackorderRow {
    unsafe fn to_napi_value(env: sys::napi_env, row: Self) -> napi::Result<sys::napi_value> {
        let b = &row.record;
        let mut values = vec![
            number(b.id),
            Value::Text(&b.account),
            Value::Text(b.domain.as_str()),
            Value::Text(match b.model {
                AllocationModel::Auction => "AUCTION",
                AllocationModel::Exclusive => "EXCLUSIVE",
            }),
            Value::Text(b.status.as_str()),
            Value::Bool(b.lite),
            handle(&b.contacts.owner),
            handle(&b.contacts.admin),
            handle(&b.contacts.tech),
            handle(&b.contacts.billing),
            Value::Owned(b.price.amount.to_string()),
            Value::Text(b.price.currency.as_str()),
            optional(&b.drop_at, time),
            optional(&b.finalization_at, time),
            optional(&b.deposit_opens_at, time),
            optional(&b.deposit_deadline_at, time),
            Value::Number(b.deposit_retry_secs as f64),
            time(&b.created_at),
            time(&b.updated_at),
            optional(&b.reservation, |n| number(*n)),
            Value::Bool(b.low_balance_notified),
            optional(&b.auction, |n| number(*n)),
            optional(&b.amount_due, |d| Value::Owned(d.to_string())),
            optional(&b.pay_by, time),
            Value::Owned(b.paid.to_string()),
            optional(&b.auth_code, |s| Value::Text(s.expose())),
            optional(&b.registered_until, time),
        ];
        debug_assert_eq!(values.len(), HISTORY_AT);
        for h in &b.history {
            values.push(time(&h.at));
            values.push(optional(&h.from, |s| Value::Text(s.as_str())));
            values.push(Value::Text(h.to.as_str()));
            values.push(Value::Text(h.reason.as_str()));
        }
        let args = values
            .iter()
            .map(|v| v.to_napi(env))
            .collect::<napi::Result<Vec<_>>>()?;
        let mut this = std::ptr::null_mut();
        napi::check_status!(
            sys::napi_get_undefined(env, &mut this),
            "cannot make undefined"
        )?;
        let mut object = std::ptr::null_mut();
        napi::check_status!(
            sys::napi_call_function(env, this, row.build, args.len(), args.as_ptr(), &mut object),
            "cannot make the backorder's object"
        )?;
        Ok(object)
    }
}

/// A list of backorders: an array of their objects, each made as [`BackorderRow`] says.
pub struct BackorderRows {
    /// The records.
    pub records: Vec<Backorder>,
    /// `backorderFrom`.
    pub build: sys::napi_value,
}

impl ToNapiValue for BackorderRows {
    unsafe fn to_napi_value(env: sys::napi_env, rows: Self) -> napi::Result<sys::napi_value> {
        let mut array = std::ptr::null_mut();
        napi::check_status!(
            sys::napi_create_array_with_length(env, rows.records.len(), &mut array),
            "cannot make the list's array"
        )?;
        for (i, record) in rows.records.into_iter().enumerate() {
            let row = BackorderRow {
                record,
                build: rows.build,
            };
            let element = BackorderRow::to_napi_value(env, row)?;
            napi::check_status!(
                sys::napi_set_element(env, array, i as u32, element),
                "cannot fill the list's array"
            )?;
        }
        Ok(array)
    }
}
