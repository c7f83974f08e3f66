//! The status every export returns, the calling thread's last error, and the library's version.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

use engine::ErrorCode;

/// What a call did: `BO_OK`, or why it changed nothing. The numbers are the engine's error codes,
/// the same in Rust, C, Python and Node.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum bo_status {
    /// Done.
    BO_OK = 0,
    /// The text is not a valid domain name.
    BO_INVALID_DOMAIN_NAME = 100,
    /// No backorders are offered in the name's zone.
    BO_UNKNOWN_TLD = 101,
    /// Not an ISO 4217 currency code.
    BO_INVALID_CURRENCY = 102,
    /// Not a valid amount (not a decimal, not positive, too many decimals).
    BO_INVALID_AMOUNT = 103,
    /// Two amounts in different currencies met.
    BO_CURRENCY_MISMATCH = 104,
    /// An argument is missing or malformed: a NULL pointer, text that is not UTF-8, JSON that
    /// does not describe the expected record.
    BO_INVALID_ARGUMENT = 105,
    /// No such account.
    BO_ACCOUNT_NOT_FOUND = 200,
    /// The account exists already.
    BO_ACCOUNT_EXISTS = 201,
    /// No such backorder (or it is another account's).
    BO_BACKORDER_NOT_FOUND = 202,
    /// No such auction (or the account does not take part).
    BO_AUCTION_NOT_FOUND = 203,
    /// No such reservation.
    BO_RESERVATION_NOT_FOUND = 204,
    /// The available balance is short.
    BO_INSUFFICIENT_FUNDS = 300,
    /// An idempotency key was used before with different fields.
    BO_IDEMPOTENCY_CONFLICT = 301,
    /// The reservation was captured or released already.
    BO_RESERVATION_RESOLVED = 302,
    /// A capture larger than its reservation.
    BO_CAPTURE_EXCEEDS_RESERVATION = 303,
    /// The transition table does not allow the change.
    BO_INVALID_TRANSITION = 400,
    /// The backorder's status does not allow the request.
    BO_STATUS_DOES_NOT_ALLOW = 401,
    /// Placing is closed for the name (its finalization date passed).
    BO_PLACEMENT_CLOSED = 402,
    /// Cancelling is closed (the finalization date passed).
    BO_CANCELLATION_CLOSED = 403,
    /// This backorder cannot be cancelled (a paid exclusive one).
    BO_CANCELLATION_NOT_ALLOWED = 404,
    /// The account has an open backorder on the name already.
    BO_DUPLICATE_BACKORDER = 405,
    /// Exclusive model: another customer has paid for the name.
    BO_NAME_ALREADY_BACKORDERED = 406,
    /// The name is premium: not offered.
    BO_PREMIUM_NAME = 407,
    /// The zone offers no lite backorders.
    BO_LITE_NOT_OFFERED = 408,
    /// The auction does not take bids now.
    BO_AUCTION_NOT_OPEN = 500,
    /// The bid is below the minimum.
    BO_BID_TOO_LOW = 501,
    /// Nothing is due on this backorder.
    BO_PAYMENT_NOT_DUE = 502,
    /// The store failed (database unreachable, disk full, a conflict that kept recurring).
    BO_STORE = 900,
    /// The registry failed.
    BO_REGISTRY = 901,
    /// A bug in libbackorder (a panic is reported so, never unwound into C).
    BO_INTERNAL = 999,
}

/// The status of an engine error code (a `const fn`, so the check below runs at compile time).
const fn status_of(code: ErrorCode) -> bo_status {
    use bo_status::*;
    match code {
        ErrorCode::InvalidDomainName => BO_INVALID_DOMAIN_NAME,
        ErrorCode::UnknownTld => BO_UNKNOWN_TLD,
        ErrorCode::InvalidCurrency => BO_INVALID_CURRENCY,
        ErrorCode::InvalidAmount => BO_INVALID_AMOUNT,
        ErrorCode::CurrencyMismatch => BO_CURRENCY_MISMATCH,
        ErrorCode::InvalidArgument => BO_INVALID_ARGUMENT,
        ErrorCode::AccountNotFound => BO_ACCOUNT_NOT_FOUND,
        ErrorCode::AccountExists => BO_ACCOUNT_EXISTS,
        ErrorCode::BackorderNotFound => BO_BACKORDER_NOT_FOUND,
        ErrorCode::AuctionNotFound => BO_AUCTION_NOT_FOUND,
        ErrorCode::ReservationNotFound => BO_RESERVATION_NOT_FOUND,
        ErrorCode::InsufficientFunds => BO_INSUFFICIENT_FUNDS,
        ErrorCode::IdempotencyConflict => BO_IDEMPOTENCY_CONFLICT,
        ErrorCode::ReservationResolved => BO_RESERVATION_RESOLVED,
        ErrorCode::CaptureExceedsReservation => BO_CAPTURE_EXCEEDS_RESERVATION,
        ErrorCode::InvalidTransition => BO_INVALID_TRANSITION,
        ErrorCode::StatusDoesNotAllow => BO_STATUS_DOES_NOT_ALLOW,
        ErrorCode::PlacementClosed => BO_PLACEMENT_CLOSED,
        ErrorCode::CancellationClosed => BO_CANCELLATION_CLOSED,
        ErrorCode::CancellationNotAllowed => BO_CANCELLATION_NOT_ALLOWED,
        ErrorCode::DuplicateBackorder => BO_DUPLICATE_BACKORDER,
        ErrorCode::NameAlreadyBackordered => BO_NAME_ALREADY_BACKORDERED,
        ErrorCode::PremiumName => BO_PREMIUM_NAME,
        ErrorCode::LiteNotOffered => BO_LITE_NOT_OFFERED,
        ErrorCode::AuctionNotOpen => BO_AUCTION_NOT_OPEN,
        ErrorCode::BidTooLow => BO_BID_TOO_LOW,
        ErrorCode::PaymentNotDue => BO_PAYMENT_NOT_DUE,
        ErrorCode::Store => BO_STORE,
        ErrorCode::Registry => BO_REGISTRY,
        ErrorCode::Internal => BO_INTERNAL,
    }
}

// Every status carries its engine code's number: C programs compare them with the codes the
// other bindings report.
const _: () = {
    let mut i = 0;
    while i < ErrorCode::ALL.len() {
        assert!(status_of(ErrorCode::ALL[i]) as u32 == ErrorCode::ALL[i] as u32);
        i += 1;
    }
};

impl From<ErrorCode> for bo_status {
    fn from(code: ErrorCode) -> bo_status {
        status_of(code)
    }
}

thread_local! {
    /// The calling thread's last error: its status and message (NUL-terminated for C).
    static LAST_ERROR: RefCell<(bo_status, CString)> =
        RefCell::new((bo_status::BO_OK, CString::default()));
}

/// Records the calling thread's last error and returns its status.
pub(crate) fn set_last_error(status: bo_status, message: &str) -> bo_status {
    // A message with a NUL in it (from a caller's text) keeps what comes before the NUL.
    let message = message.split('\0').next().unwrap_or_default();
    let text = CString::new(message).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = (status, text));
    status
}

/// Forgets the calling thread's last error (a call succeeded).
pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        if e.0 != bo_status::BO_OK {
            *e = (bo_status::BO_OK, CString::default());
        }
    });
}

/// The message of the calling thread's last failed call: `""` after a call that succeeded.
/// The pointer stays valid until the thread's next call into the library; do not free it.
#[no_mangle]
pub extern "C" fn bo_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().1.as_ptr())
}

/// The status of the calling thread's last call (`BO_OK` after one that succeeded).
#[no_mangle]
pub extern "C" fn bo_last_error_status() -> bo_status {
    LAST_ERROR.with(|e| e.borrow().0)
}

/// The status's name, e.g. `"INSUFFICIENT_FUNDS"` (`"OK"` for `BO_OK`): a static string, not to
/// be freed.
#[no_mangle]
pub extern "C" fn bo_status_name(status: bo_status) -> *const c_char {
    use bo_status::*;
    let name: &'static [u8] = match status {
        BO_OK => b"OK\0",
        BO_INVALID_DOMAIN_NAME => b"INVALID_DOMAIN_NAME\0",
        BO_UNKNOWN_TLD => b"UNKNOWN_TLD\0",
        BO_INVALID_CURRENCY => b"INVALID_CURRENCY\0",
        BO_INVALID_AMOUNT => b"INVALID_AMOUNT\0",
        BO_CURRENCY_MISMATCH => b"CURRENCY_MISMATCH\0",
        BO_INVALID_ARGUMENT => b"INVALID_ARGUMENT\0",
        BO_ACCOUNT_NOT_FOUND => b"ACCOUNT_NOT_FOUND\0",
        BO_ACCOUNT_EXISTS => b"ACCOUNT_EXISTS\0",
        BO_BACKORDER_NOT_FOUND => b"BACKORDER_NOT_FOUND\0",
        BO_AUCTION_NOT_FOUND => b"AUCTION_NOT_FOUND\0",
        BO_RESERVATION_NOT_FOUND => b"RESERVATION_NOT_FOUND\0",
        BO_INSUFFICIENT_FUNDS => b"INSUFFICIENT_FUNDS\0",
        BO_IDEMPOTENCY_CONFLICT => b"IDEMPOTENCY_CONFLICT\0",
        BO_RESERVATION_RESOLVED => b"RESERVATION_RESOLVED\0",
        BO_CAPTURE_EXCEEDS_RESERVATION => b"CAPTURE_EXCEEDS_RESERVATION\0",
        BO_INVALID_TRANSITION => b"INVALID_TRANSITION\0",
        BO_STATUS_DOES_NOT_ALLOW => b"STATUS_DOES_NOT_ALLOW\0",
        BO_PLACEMENT_CLOSED => b"PLACEMENT_CLOSED\0",
        BO_CANCELLATION_CLOSED => b"CANCELLATION_CLOSED\0",
        BO_CANCELLATION_NOT_ALLOWED => b"CANCELLATION_NOT_ALLOWED\0",
        BO_DUPLICATE_BACKORDER => b"DUPLICATE_BACKORDER\0",
        BO_NAME_ALREADY_BACKORDERED => b"NAME_ALREADY_BACKORDERED\0",
        BO_PREMIUM_NAME => b"PREMIUM_NAME\0",
        BO_LITE_NOT_OFFERED => b"LITE_NOT_OFFERED\0",
        BO_AUCTION_NOT_OPEN => b"AUCTION_NOT_OPEN\0",
        BO_BID_TOO_LOW => b"BID_TOO_LOW\0",
        BO_PAYMENT_NOT_DUE => b"PAYMENT_NOT_DUE\0",
        BO_STORE => b"STORE\0",
        BO_REGISTRY => b"REGISTRY\0",
        BO_INTERNAL => b"INTERNAL\0",
    };
    name.as_ptr().cast()
}

/// The library's version, e.g. `"0.1.0"`: a static string, not to be freed.
#[no_mangle]
pub extern "C" fn bo_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
