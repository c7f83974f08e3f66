//! Every response code the command API answers, with its description. The numbers and texts are
//! HEXONET's (its per-command reference; most come from RRP, RFC 2832): 2xx success, 4xx
//! temporary failure (try again), 5xx permanent error. A description may be followed by `; ` and
//! a detail. `docs/hexonet-api.md` tables every code with when it is answered; a test keeps that
//! table and [`Code::ALL`] the same.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A response code of the command API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Code {
    /// 200.
    Ok,
    /// 421: the store failed; try again.
    TryAgain,
    /// 500.
    UnknownCommand,
    /// 504.
    MissingAttribute,
    /// 505.
    InvalidSyntax,
    /// 530.
    AuthenticationFailed,
    /// 531.
    AuthorizationFailed,
    /// 540.
    NotUnique,
    /// 541.
    InvalidValue,
    /// 545.
    NotFound,
    /// 546.
    CreditLimitExceeded,
    /// 549.
    CommandFailed,
    /// 552.
    StatusProhibits,
}

impl Code {
    /// Every code, in number order.
    pub const ALL: [Code; 13] = [
        Code::Ok,
        Code::TryAgain,
        Code::UnknownCommand,
        Code::MissingAttribute,
        Code::InvalidSyntax,
        Code::AuthenticationFailed,
        Code::AuthorizationFailed,
        Code::NotUnique,
        Code::InvalidValue,
        Code::NotFound,
        Code::CreditLimitExceeded,
        Code::CommandFailed,
        Code::StatusProhibits,
    ];

    /// The number on the wire.
    ///
    /// ```
    /// assert_eq!(backorder_core::api::Code::NotFound.number(), 545);
    /// ```
    pub fn number(self) -> u16 {
        match self {
            Code::Ok => 200,
            Code::TryAgain => 421,
            Code::UnknownCommand => 500,
            Code::MissingAttribute => 504,
            Code::InvalidSyntax => 505,
            Code::AuthenticationFailed => 530,
            Code::AuthorizationFailed => 531,
            Code::NotUnique => 540,
            Code::InvalidValue => 541,
            Code::NotFound => 545,
            Code::CreditLimitExceeded => 546,
            Code::CommandFailed => 549,
            Code::StatusProhibits => 552,
        }
    }

    /// The description on the wire.
    pub fn description(self) -> &'static str {
        match self {
            Code::Ok => "Command completed successfully",
            Code::TryAgain => "Command failed due to server error. Client should try again",
            Code::UnknownCommand => "Invalid command name",
            Code::MissingAttribute => "Missing required attribute",
            Code::InvalidSyntax => "Invalid attribute value syntax",
            Code::AuthenticationFailed => "Authentication failed",
            Code::AuthorizationFailed => "Authorization failed",
            Code::NotUnique => "Attribute value is not unique",
            Code::InvalidValue => "Invalid attribute value",
            Code::NotFound => "Object not found",
            Code::CreditLimitExceeded => "Credit limit exceeded",
            Code::CommandFailed => "Command failed",
            Code::StatusProhibits => "Object status does not allow for operation",
        }
    }

    /// The code with this number.
    pub fn from_number(n: u16) -> Option<Code> {
        Code::ALL.into_iter().find(|c| c.number() == n)
    }

    /// True for 2xx.
    pub fn is_success(self) -> bool {
        self.number() < 300
    }
}

/// The code and detail an engine error answers with. Store and internal errors keep their text
/// to themselves (it may name tables or files); the rest say what was wrong.
pub fn for_error(e: &Error) -> (Code, String) {
    use Error as E;
    let code = match e {
        E::InvalidDomainName { .. }
        | E::UnknownTld(_)
        | E::InvalidCurrency(_)
        | E::InvalidAmount(_)
        | E::CurrencyMismatch { .. }
        | E::InvalidArgument(_)
        | E::IdempotencyConflict(_)
        | E::PremiumName(_)
        | E::LiteNotOffered(_)
        | E::BidTooLow { .. } => Code::InvalidValue,
        E::AccountNotFound(_)
        | E::BackorderNotFound(_)
        | E::AuctionNotFound(_)
        | E::ReservationNotFound(_) => Code::NotFound,
        E::AccountExists(_) | E::DuplicateBackorder { .. } | E::NameAlreadyBackordered(_) => {
            Code::NotUnique
        }
        E::InsufficientFunds { .. } => Code::CreditLimitExceeded,
        E::ReservationResolved(_)
        | E::CaptureExceedsReservation { .. }
        | E::InvalidTransition { .. }
        | E::StatusDoesNotAllow { .. }
        | E::PlacementClosed { .. }
        | E::CancellationClosed { .. }
        | E::CancellationNotAllowed(_)
        | E::AuctionNotOpen(_)
        | E::PaymentNotDue(_) => Code::StatusProhibits,
        E::Store(_) | E::StoreConflict(_) | E::Registry(_) => {
            return (Code::TryAgain, String::new())
        }
        E::Internal(_) => return (Code::CommandFailed, String::new()),
    };
    (code, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_in_number_order_and_read_back() {
        let n: Vec<u16> = Code::ALL.iter().map(|c| c.number()).collect();
        assert!(n.windows(2).all(|w| w[0] < w[1]));
        for c in Code::ALL {
            assert_eq!(Code::from_number(c.number()), Some(c));
        }
    }

    #[test]
    fn store_and_internal_errors_do_not_leak_their_text() {
        let (c, d) = for_error(&Error::Store("table backorders is locked".into()));
        assert_eq!((c, d.as_str()), (Code::TryAgain, ""));
        let (c, d) = for_error(&Error::Internal("invariant".into()));
        assert_eq!((c, d.as_str()), (Code::CommandFailed, ""));
    }
}
