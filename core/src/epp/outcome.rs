//! Result codes as a catcher acts on them. RFC 5730 gives the codes; what a registry means by
//! "object exists" at a drop (still pending delete, or registered by someone else) it says in
//! the result's reasons or the check's reason, which these read.
//!
//! ```
//! use backorder_core::epp::outcome::{CreateOutcome, NOT_YET_DROPPED};
//! use backorder_core::epp::response::Response;
//! let mut r = Response::with_result(2302, "Object exists", "SV-1");
//! assert_eq!(CreateOutcome::of(&r), CreateOutcome::Taken);
//! r.results[0].reasons.push(NOT_YET_DROPPED.into());
//! assert_eq!(CreateOutcome::of(&r), CreateOutcome::NotYetDropped);
//! assert_eq!(CreateOutcome::of(&Response::with_result(2502, "Rate limit", "SV-2")), CreateOutcome::RateLimited);
//! ```

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::response::{FeeData, Response, ResponseData};

/// The reason a registry gives for a name that exists only because it has not been purged yet:
/// RFC 3915's `pendingDelete` status. The simulator writes it; readers also accept
/// `redemptionPeriod` and `pendingRestore`, which mean the same to a catcher.
pub const NOT_YET_DROPPED: &str = "pendingDelete";

/// The fee class a registry gives premium names.
pub const PREMIUM_CLASS: &str = "premium";

fn means_not_yet_dropped(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    [
        "pendingdelete",
        "redemptionperiod",
        "pendingrestore",
        "not yet",
    ]
    .iter()
    .any(|word| r.contains(word))
}

/// What a `domain:create` came to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateOutcome {
    /// Registered to us (1000 or 1001).
    Created {
        /// What the registry charged, when its fee extension said.
        fee: Option<Decimal>,
    },
    /// Registered by another (2302 without a pending-delete reason).
    Taken,
    /// Not purged yet (2302 with a pending-delete reason): try again.
    NotYetDropped,
    /// Over the registry's command rate (2502): wait, the session is closing.
    RateLimited,
    /// Our account at the registry cannot pay (2104).
    BillingFailure,
    /// A premium name and no fee or too low a fee sent (2003 or 2004 with the fee extension's
    /// price, RFC 8748 §3.8).
    PremiumMismatch {
        /// The registry's price, when it gave one.
        price: Option<Decimal>,
    },
    /// The session is gone (2500, 2501): reconnect.
    SessionClosed,
    /// Anything else.
    Failed {
        /// The code.
        code: u16,
        /// The message.
        message: String,
    },
}

impl CreateOutcome {
    /// The outcome a create's response says.
    pub fn of(r: &Response) -> CreateOutcome {
        let fee = match &r.fee {
            Some(FeeData::Create { fee, .. }) => Some(*fee),
            _ => None,
        };
        match r.code() {
            1000 | 1001 => CreateOutcome::Created { fee },
            2302 if r.reasons().any(means_not_yet_dropped) => CreateOutcome::NotYetDropped,
            2302 => CreateOutcome::Taken,
            2502 => CreateOutcome::RateLimited,
            2104 => CreateOutcome::BillingFailure,
            2003 | 2004 if r.reasons().any(|x| x.to_ascii_lowercase().contains("fee")) => {
                CreateOutcome::PremiumMismatch { price: fee }
            }
            2500 | 2501 => CreateOutcome::SessionClosed,
            code => CreateOutcome::Failed {
                code,
                message: r
                    .results
                    .first()
                    .map(|x| x.message.clone())
                    .unwrap_or_default(),
            },
        }
    }
}

/// What a `domain:check` says of one name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckOutcome {
    /// Free to create now.
    Available {
        /// The create price when it is premium (fee class `premium`).
        premium: Option<Decimal>,
    },
    /// Still pending delete.
    NotYetDropped,
    /// Registered.
    Taken,
}

/// What a check response says of each name, in order; `None` when the response has no check
/// data (a failed check: see [`CreateOutcome::of`]-like codes on the response itself).
pub fn check_outcomes(r: &Response) -> Option<Vec<(String, CheckOutcome)>> {
    let Some(ResponseData::Check(names)) = &r.data else {
        return None;
    };
    let prices = match &r.fee {
        Some(FeeData::Check { names, .. }) => names.as_slice(),
        _ => &[],
    };
    Some(
        names
            .iter()
            .map(|n| {
                let outcome = if n.available {
                    let premium = prices
                        .iter()
                        .find(|p| p.name.eq_ignore_ascii_case(&n.name))
                        .filter(|p| p.class.as_deref() == Some(PREMIUM_CLASS))
                        .and_then(|p| p.create_fee);
                    CheckOutcome::Available { premium }
                } else if n.reason.as_deref().is_some_and(means_not_yet_dropped) {
                    CheckOutcome::NotYetDropped
                } else {
                    CheckOutcome::Taken
                };
                (n.name.clone(), outcome)
            })
            .collect(),
    )
}
