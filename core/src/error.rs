//! The one error type of the core, with a stable code for every variant shared by every binding.

use serde::{Deserialize, Serialize};

/// Stable error codes: the same number and name in Rust, C, Python and Node.
///
/// Codes never change meaning once released; new codes are appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[repr(u32)]
#[allow(missing_docs)] // each code is documented on the matching `Error` variant
pub enum ErrorCode {
    InvalidDomainName = 100,
    UnknownTld = 101,
    InvalidCurrency = 102,
    InvalidAmount = 103,
    CurrencyMismatch = 104,
    InvalidArgument = 105,
    AccountNotFound = 200,
    AccountExists = 201,
    BackorderNotFound = 202,
    AuctionNotFound = 203,
    ReservationNotFound = 204,
    InsufficientFunds = 300,
    IdempotencyConflict = 301,
    ReservationResolved = 302,
    CaptureExceedsReservation = 303,
    InvalidTransition = 400,
    StatusDoesNotAllow = 401,
    PlacementClosed = 402,
    CancellationClosed = 403,
    CancellationNotAllowed = 404,
    DuplicateBackorder = 405,
    NameAlreadyBackordered = 406,
    PremiumName = 407,
    LiteNotOffered = 408,
    AuctionNotOpen = 500,
    BidTooLow = 501,
    PaymentNotDue = 502,
    Store = 900,
    Registry = 901,
    Internal = 999,
}

impl ErrorCode {
    /// Every code, in number order: what the bindings check their own tables against.
    pub const ALL: [ErrorCode; 30] = {
        use ErrorCode::*;
        [
            InvalidDomainName,
            UnknownTld,
            InvalidCurrency,
            InvalidAmount,
            CurrencyMismatch,
            InvalidArgument,
            AccountNotFound,
            AccountExists,
            BackorderNotFound,
            AuctionNotFound,
            ReservationNotFound,
            InsufficientFunds,
            IdempotencyConflict,
            ReservationResolved,
            CaptureExceedsReservation,
            InvalidTransition,
            StatusDoesNotAllow,
            PlacementClosed,
            CancellationClosed,
            CancellationNotAllowed,
            DuplicateBackorder,
            NameAlreadyBackordered,
            PremiumName,
            LiteNotOffered,
            AuctionNotOpen,
            BidTooLow,
            PaymentNotDue,
            Store,
            Registry,
            Internal,
        ]
    };

    /// The code's name, e.g. `INSUFFICIENT_FUNDS`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidDomainName => "INVALID_DOMAIN_NAME",
            UnknownTld => "UNKNOWN_TLD",
            InvalidCurrency => "INVALID_CURRENCY",
            InvalidAmount => "INVALID_AMOUNT",
            CurrencyMismatch => "CURRENCY_MISMATCH",
            InvalidArgument => "INVALID_ARGUMENT",
            AccountNotFound => "ACCOUNT_NOT_FOUND",
            AccountExists => "ACCOUNT_EXISTS",
            BackorderNotFound => "BACKORDER_NOT_FOUND",
            AuctionNotFound => "AUCTION_NOT_FOUND",
            ReservationNotFound => "RESERVATION_NOT_FOUND",
            InsufficientFunds => "INSUFFICIENT_FUNDS",
            IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            ReservationResolved => "RESERVATION_RESOLVED",
            CaptureExceedsReservation => "CAPTURE_EXCEEDS_RESERVATION",
            InvalidTransition => "INVALID_TRANSITION",
            StatusDoesNotAllow => "STATUS_DOES_NOT_ALLOW",
            PlacementClosed => "PLACEMENT_CLOSED",
            CancellationClosed => "CANCELLATION_CLOSED",
            CancellationNotAllowed => "CANCELLATION_NOT_ALLOWED",
            DuplicateBackorder => "DUPLICATE_BACKORDER",
            NameAlreadyBackordered => "NAME_ALREADY_BACKORDERED",
            PremiumName => "PREMIUM_NAME",
            LiteNotOffered => "LITE_NOT_OFFERED",
            AuctionNotOpen => "AUCTION_NOT_OPEN",
            BidTooLow => "BID_TOO_LOW",
            PaymentNotDue => "PAYMENT_NOT_DUE",
            Store => "STORE",
            Registry => "REGISTRY",
            Internal => "INTERNAL",
        }
    }
}

/// Everything that can go wrong in the engine. A call that returns an error has changed nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a valid domain name (syntax, length, IDNA).
    #[error("invalid domain name '{name}': {reason}")]
    InvalidDomainName {
        /// The name as given (cut to 80 characters).
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The zone has no policy: the registrar does not offer backorders there.
    #[error("no backorders are offered in the zone '{0}'")]
    UnknownTld(String),
    /// Not an ISO 4217 code.
    #[error("invalid currency code '{0}'")]
    InvalidCurrency(String),
    /// Not a decimal, not positive where it must be, too many decimals, or overflow.
    #[error("invalid amount: {0}")]
    InvalidAmount(String),
    /// Two amounts in different currencies met.
    #[error("currency mismatch: expected {expected}, found {found}")]
    CurrencyMismatch {
        /// The currency required.
        expected: String,
        /// The currency given.
        found: String,
    },
    /// Another argument is malformed.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// No such account (or not yours).
    #[error("account '{0}' not found")]
    AccountNotFound(String),
    /// An account with that id exists already.
    #[error("account '{0}' exists already")]
    AccountExists(String),
    /// No such backorder (or not yours: the two are indistinguishable on purpose).
    #[error("backorder {0} not found")]
    BackorderNotFound(u64),
    /// No such auction (or not one you take part in).
    #[error("auction {0} not found")]
    AuctionNotFound(u64),
    /// No such deposit reservation.
    #[error("reservation {0} not found")]
    ReservationNotFound(u64),
    /// The available balance does not cover the amount.
    #[error("insufficient funds in account '{account}': needs {needed}, available {available}")]
    InsufficientFunds {
        /// The account.
        account: String,
        /// What the operation needs.
        needed: String,
        /// What is available (balance less reserved deposits).
        available: String,
    },
    /// The idempotency key was used before for a different request.
    #[error("idempotency key '{0}' was already used with different fields")]
    IdempotencyConflict(String),
    /// The reservation was already captured or released.
    #[error("reservation {0} is already resolved")]
    ReservationResolved(u64),
    /// A capture larger than the amount reserved.
    #[error("capture of {requested} exceeds the reserved {reserved}")]
    CaptureExceedsReservation {
        /// Amount asked for.
        requested: String,
        /// Amount reserved.
        reserved: String,
    },
    /// A status change the transition table does not allow.
    #[error("transition from {from} to {to} is not allowed")]
    InvalidTransition {
        /// Current status (or `NEW`).
        from: String,
        /// Requested status.
        to: String,
    },
    /// The backorder's status does not allow the operation.
    #[error("status {status} does not allow {operation}")]
    StatusDoesNotAllow {
        /// Current status.
        status: String,
        /// The operation refused.
        operation: String,
    },
    /// Placing is closed: the finalization date has passed.
    #[error("backorders for {name} closed at the finalization date {finalization}")]
    PlacementClosed {
        /// The name.
        name: String,
        /// The finalization date (RFC 3339).
        finalization: String,
    },
    /// Cancelling is closed: the finalization date has passed.
    #[error("backorder {id} can no longer be cancelled: the finalization date {finalization} has passed")]
    CancellationClosed {
        /// The backorder.
        id: u64,
        /// The finalization date (RFC 3339).
        finalization: String,
    },
    /// The model does not allow cancelling a paid backorder (exclusive model).
    #[error("backorder {0} is paid and cannot be cancelled")]
    CancellationNotAllowed(u64),
    /// The account already has an open backorder for the name.
    #[error("account already has backorder {existing} for {name}")]
    DuplicateBackorder {
        /// The name.
        name: String,
        /// The open backorder.
        existing: u64,
    },
    /// Exclusive model: another customer placed and paid first.
    #[error("{0} is already backordered by another customer")]
    NameAlreadyBackordered(String),
    /// Premium names cannot be backordered.
    #[error("{0} is a premium name and cannot be backordered")]
    PremiumName(String),
    /// The zone offers no lite backorders.
    #[error("the zone '{0}' offers no lite backorders")]
    LiteNotOffered(String),
    /// The auction is not taking bids now.
    #[error("auction {0} is not open for bids")]
    AuctionNotOpen(u64),
    /// The bid is under the minimum.
    #[error("bid too low: the minimum is {minimum}")]
    BidTooLow {
        /// The lowest acceptable bid.
        minimum: String,
    },
    /// Nothing is owed on this backorder now.
    #[error("no payment is due on backorder {0}")]
    PaymentNotDue(u64),
    /// The store failed; the operation was rolled back.
    #[error("store error: {0}")]
    Store(String),
    /// Another engine process changed what this transaction read (a serialization conflict in a
    /// shared database); the operation was rolled back and may simply be run again. The engine
    /// retries it a few times before a host ever sees it, under the code `STORE`.
    #[error("store conflict: {0}")]
    StoreConflict(String),
    /// The registry connection failed.
    #[error("registry error: {0}")]
    Registry(String),
    /// A bug: an invariant the engine relies on did not hold. Nothing was changed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        use Error as E;
        use ErrorCode as C;
        match self {
            E::InvalidDomainName { .. } => C::InvalidDomainName,
            E::UnknownTld(_) => C::UnknownTld,
            E::InvalidCurrency(_) => C::InvalidCurrency,
            E::InvalidAmount(_) => C::InvalidAmount,
            E::CurrencyMismatch { .. } => C::CurrencyMismatch,
            E::InvalidArgument(_) => C::InvalidArgument,
            E::AccountNotFound(_) => C::AccountNotFound,
            E::AccountExists(_) => C::AccountExists,
            E::BackorderNotFound(_) => C::BackorderNotFound,
            E::AuctionNotFound(_) => C::AuctionNotFound,
            E::ReservationNotFound(_) => C::ReservationNotFound,
            E::InsufficientFunds { .. } => C::InsufficientFunds,
            E::IdempotencyConflict(_) => C::IdempotencyConflict,
            E::ReservationResolved(_) => C::ReservationResolved,
            E::CaptureExceedsReservation { .. } => C::CaptureExceedsReservation,
            E::InvalidTransition { .. } => C::InvalidTransition,
            E::StatusDoesNotAllow { .. } => C::StatusDoesNotAllow,
            E::PlacementClosed { .. } => C::PlacementClosed,
            E::CancellationClosed { .. } => C::CancellationClosed,
            E::CancellationNotAllowed(_) => C::CancellationNotAllowed,
            E::DuplicateBackorder { .. } => C::DuplicateBackorder,
            E::NameAlreadyBackordered(_) => C::NameAlreadyBackordered,
            E::PremiumName(_) => C::PremiumName,
            E::LiteNotOffered(_) => C::LiteNotOffered,
            E::AuctionNotOpen(_) => C::AuctionNotOpen,
            E::BidTooLow { .. } => C::BidTooLow,
            E::PaymentNotDue(_) => C::PaymentNotDue,
            E::Store(_) | E::StoreConflict(_) => C::Store,
            E::Registry(_) => C::Registry,
            E::Internal(_) => C::Internal,
        }
    }
}

/// Shorthand for results of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod code_tests {
    use super::ErrorCode;

    #[test]
    fn every_code_is_listed_once_in_number_order_with_its_own_name() {
        let numbers: Vec<u32> = ErrorCode::ALL.iter().map(|c| *c as u32).collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
