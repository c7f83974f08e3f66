//! What every export does around its work: catch panics, check arguments, turn errors into a
//! status and the thread's last error message, write outputs only on success.

use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use engine::Error;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::status::{bo_status, clear_last_error, set_last_error};

/// Runs an export's work: `BO_OK` and no last error, or the error's status and message; a panic
/// is `BO_INTERNAL`, never unwound into C.
pub(crate) fn guard(work: impl FnOnce() -> Result<(), Error>) -> bo_status {
    match catch_unwind(AssertUnwindSafe(work)) {
        Ok(Ok(())) => {
            clear_last_error();
            bo_status::BO_OK
        }
        Ok(Err(e)) => set_last_error(e.code().into(), &e.to_string()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            set_last_error(
                bo_status::BO_INTERNAL,
                &format!("libbackorder panicked (a bug, please report it): {what}"),
            )
        }
    }
}

fn invalid(what: String) -> Error {
    Error::InvalidArgument(what)
}

/// A text argument: UTF-8, NUL-terminated, not NULL.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(invalid(format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|e| invalid(format!("{name} is not UTF-8: {e}")))
}

/// A decimal amount given as text (`"49.00"`); never a float.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn amount(p: *const c_char, name: &str) -> Result<Decimal, Error> {
    engine::core::money::parse_amount(text(p, name)?, name)
}

/// An optional text argument: NULL is `None`.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn optional_text<'a>(
    p: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    match p.is_null() {
        true => Ok(None),
        false => text(p, name).map(Some),
    }
}

/// A record given as a JSON document.
///
/// # Safety
/// As [`text`].
pub(crate) unsafe fn json<T: DeserializeOwned>(p: *const c_char, name: &str) -> Result<T, Error> {
    let s = text(p, name)?;
    serde_json::from_str(s).map_err(|e| invalid(format!("{name} is not the expected JSON: {e}")))
}

/// A time in Unix milliseconds.
pub(crate) fn time(ms: i64, name: &str) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    chrono::DateTime::from_timestamp_millis(ms)
        .ok_or_else(|| invalid(format!("{name} ({ms} ms) is out of range")))
}

/// Checks an output pointer before the work, so that a call that cannot report its result
/// changes nothing.
pub(crate) fn out_ptr<T>(p: *mut T, name: &str) -> Result<(), Error> {
    if p.is_null() {
        return Err(invalid(format!("{name} is NULL")));
    }
    Ok(())
}

/// Writes `value` as a JSON string the caller frees with `bo_string_free`.
///
/// # Safety
/// `out` was checked with [`out_ptr`] and points to writable storage for one pointer.
pub(crate) unsafe fn write_json<T: Serialize>(
    out: *mut *mut c_char,
    value: &T,
) -> Result<(), Error> {
    write_text(out, |bytes| {
        serde_json::to_writer(bytes, value)
            .map_err(|e| Error::Internal(format!("cannot encode the result: {e}")))
    })
}

/// Writes the JSON text `write` appends to a buffer as a string the caller frees with
/// `bo_string_free`.
///
/// # Safety
/// As [`write_json`].
pub(crate) unsafe fn write_text(
    out: *mut *mut c_char,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    // Room for a backorder record at once (growing a small buffer copied it several times),
    // and for the NUL, so that the string is handed over without another copy.
    let mut bytes = Vec::with_capacity(1536);
    write(&mut bytes)?;
    bytes.push(0);
    // serde_json escapes a NUL inside a string as \u0000: the text has none but the last.
    let c = CString::from_vec_with_nul(bytes)
        .map_err(|e| Error::Internal(format!("result has a NUL: {e}")))?;
    *out = c.into_raw();
    Ok(())
}
