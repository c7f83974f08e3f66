//! The backorder life cycle: statuses, the one transition table, and history (SPEC §2).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A backorder's status: exactly the strings of SPEC §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Status {
    /// Placed; waiting for the deposit window.
    #[serde(rename = "REQUESTED")]
    Requested,
    /// Placed, but the account lacks the contact handles the zone needs.
    #[serde(rename = "INCOMPLETE")]
    Incomplete,
    /// Deposit reserved; will be processed at the drop.
    #[serde(rename = "ACTIVE")]
    Active,
    /// The deposit could not be reserved yet (low balance); retried until the deadline.
    #[serde(rename = "INACTIVE")]
    Inactive,
    /// Exclusive model: placed, waiting for payment.
    #[serde(rename = "PENDING-PAYMENT")]
    PendingPayment,
    /// Exclusive model: paid; this customer holds the name's backorder exclusively.
    #[serde(rename = "BACKORDERED")]
    Backordered,
    /// The name is dropping; registration attempts are under way.
    #[serde(rename = "PROCESSING")]
    Processing,
    /// Caught and allocated to this customer.
    #[serde(rename = "SUCCESSFUL")]
    Successful,
    /// Not caught (or premium at registration); the deposit was released.
    #[serde(rename = "FAILED")]
    Failed,
    /// Caught with several backorderers; a private auction is scheduled or running.
    #[serde(rename = "AUCTION-PENDING")]
    AuctionPending,
    /// This customer won the auction (or holds a second-chance offer) and owes the price.
    #[serde(rename = "AUCTION-WON")]
    AuctionWon,
    /// This customer lost the auction (or did not pay); the deposit was released.
    #[serde(rename = "AUCTION-LOST")]
    AuctionLost,
    /// Cancelled by the customer, or refused because another customer paid first, or the name was withdrawn.
    #[serde(rename = "CANCELLED")]
    Cancelled,
    /// Void: no deposit (or no payment) by the deadline.
    #[serde(rename = "EXPIRED")]
    Expired,
}

impl Status {
    /// Every status, in life-cycle order.
    pub const ALL: [Status; 14] = [
        Status::Requested,
        Status::Incomplete,
        Status::Active,
        Status::Inactive,
        Status::PendingPayment,
        Status::Backordered,
        Status::Processing,
        Status::Successful,
        Status::Failed,
        Status::AuctionPending,
        Status::AuctionWon,
        Status::AuctionLost,
        Status::Cancelled,
        Status::Expired,
    ];

    /// The status string, e.g. `AUCTION-PENDING`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Requested => "REQUESTED",
            Status::Incomplete => "INCOMPLETE",
            Status::Active => "ACTIVE",
            Status::Inactive => "INACTIVE",
            Status::PendingPayment => "PENDING-PAYMENT",
            Status::Backordered => "BACKORDERED",
            Status::Processing => "PROCESSING",
            Status::Successful => "SUCCESSFUL",
            Status::Failed => "FAILED",
            Status::AuctionPending => "AUCTION-PENDING",
            Status::AuctionWon => "AUCTION-WON",
            Status::AuctionLost => "AUCTION-LOST",
            Status::Cancelled => "CANCELLED",
            Status::Expired => "EXPIRED",
        }
    }

    /// True when no transition leaves this status.
    pub fn is_terminal(self) -> bool {
        !TRANSITIONS.iter().any(|(from, _)| *from == Some(self))
    }

    /// True before processing began: the backorder still follows its name's deletion time (a
    /// changed time moves it) and may still be modified.
    pub fn awaits_drop(self) -> bool {
        matches!(
            self,
            Status::Requested
                | Status::Incomplete
                | Status::Active
                | Status::Inactive
                | Status::PendingPayment
                | Status::Backordered
        )
    }

    /// True while the backorder still waits for its drop (it blocks a second backorder by the same
    /// account on the same name).
    pub fn is_open(self) -> bool {
        self.awaits_drop() || self == Status::Processing
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Status, Error> {
        Status::ALL
            .iter()
            .copied()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| Error::InvalidArgument(format!("unknown status '{s}'")))
    }
}

/// Every allowed transition; `None` as the source is a new backorder. Nothing else is allowed.
pub const TRANSITIONS: &[(Option<Status>, Status)] = {
    use Status::*;
    &[
        (None, Requested),
        (None, Incomplete),
        (None, PendingPayment),
        (Some(Incomplete), Requested),
        (Some(Incomplete), Cancelled),
        (Some(Incomplete), Expired),
        (Some(Requested), Incomplete),
        (Some(Requested), Active),
        (Some(Requested), Inactive),
        (Some(Requested), Cancelled),
        (Some(Requested), Expired),
        (Some(Inactive), Active),
        (Some(Inactive), Cancelled),
        (Some(Inactive), Expired),
        (Some(Active), Processing),
        (Some(Active), Cancelled),
        (Some(PendingPayment), Backordered),
        (Some(PendingPayment), Cancelled),
        (Some(PendingPayment), Expired),
        (Some(Backordered), Processing),
        // Only when the name leaves the deletion list (its holder restored it): the customer
        // cannot cancel a paid exclusive backorder.
        (Some(Backordered), Cancelled),
        (Some(Processing), Successful),
        (Some(Processing), Failed),
        (Some(Processing), AuctionPending),
        (Some(AuctionPending), AuctionWon),
        (Some(AuctionPending), AuctionLost),
        (Some(AuctionWon), AuctionLost),
        (Some(AuctionLost), AuctionWon),
    ]
};

/// True when the table allows `from → to`.
pub fn transition_allowed(from: Option<Status>, to: Status) -> bool {
    TRANSITIONS.contains(&(from, to))
}

/// Fails with [`Error::InvalidTransition`] unless the table allows `from → to`.
pub fn check_transition(from: Option<Status>, to: Status) -> Result<(), Error> {
    if transition_allowed(from, to) {
        Ok(())
    } else {
        Err(Error::InvalidTransition {
            from: from.map(Status::as_str).unwrap_or("NEW").to_string(),
            to: to.as_str().to_string(),
        })
    }
}

/// Why a status changed: kept in the history and sent with the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(missing_docs)] // the names say it; `as_str` gives the wire form
pub enum Reason {
    Placed,
    MissingContacts,
    ContactsCompleted,
    ContactsRemoved,
    DepositSecured,
    InsufficientFunds,
    DepositDeadlinePassed,
    PaymentReceived,
    PaymentDeadlinePassed,
    NameBackorderedByAnother,
    CancelledByCustomer,
    NameWithdrawn,
    DropStarted,
    Caught,
    /// Another registrar registered the name first.
    Taken,
    /// The name did not become available in the attempt window.
    NotDropped,
    /// The registry priced the name as premium at registration.
    Premium,
    RegistryError,
    AuctionScheduled,
    AuctionWon,
    AuctionLost,
    AuctionUnpaid,
    SecondChanceOffer,
    SecondChanceLapsed,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Reason; 24] = [
        Reason::Placed,
        Reason::MissingContacts,
        Reason::ContactsCompleted,
        Reason::ContactsRemoved,
        Reason::DepositSecured,
        Reason::InsufficientFunds,
        Reason::DepositDeadlinePassed,
        Reason::PaymentReceived,
        Reason::PaymentDeadlinePassed,
        Reason::NameBackorderedByAnother,
        Reason::CancelledByCustomer,
        Reason::NameWithdrawn,
        Reason::DropStarted,
        Reason::Caught,
        Reason::Taken,
        Reason::NotDropped,
        Reason::Premium,
        Reason::RegistryError,
        Reason::AuctionScheduled,
        Reason::AuctionWon,
        Reason::AuctionLost,
        Reason::AuctionUnpaid,
        Reason::SecondChanceOffer,
        Reason::SecondChanceLapsed,
    ];

    /// The wire form, e.g. `PREMIUM`.
    pub fn as_str(self) -> &'static str {
        use Reason::*;
        match self {
            Placed => "PLACED",
            MissingContacts => "MISSING_CONTACTS",
            ContactsCompleted => "CONTACTS_COMPLETED",
            ContactsRemoved => "CONTACTS_REMOVED",
            DepositSecured => "DEPOSIT_SECURED",
            InsufficientFunds => "INSUFFICIENT_FUNDS",
            DepositDeadlinePassed => "DEPOSIT_DEADLINE_PASSED",
            PaymentReceived => "PAYMENT_RECEIVED",
            PaymentDeadlinePassed => "PAYMENT_DEADLINE_PASSED",
            NameBackorderedByAnother => "NAME_BACKORDERED_BY_ANOTHER",
            CancelledByCustomer => "CANCELLED_BY_CUSTOMER",
            NameWithdrawn => "NAME_WITHDRAWN",
            DropStarted => "DROP_STARTED",
            Caught => "CAUGHT",
            Taken => "TAKEN",
            NotDropped => "NOT_DROPPED",
            Premium => "PREMIUM",
            RegistryError => "REGISTRY_ERROR",
            AuctionScheduled => "AUCTION_SCHEDULED",
            AuctionWon => "AUCTION_WON",
            AuctionLost => "AUCTION_LOST",
            AuctionUnpaid => "AUCTION_UNPAID",
            SecondChanceOffer => "SECOND_CHANCE_OFFER",
            SecondChanceLapsed => "SECOND_CHANCE_LAPSED",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One status change in a backorder's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When it changed.
    pub at: DateTime<Utc>,
    /// The status before (`None` when the backorder was created).
    pub from: Option<Status>,
    /// The status after.
    pub to: Status,
    /// Why.
    pub reason: Reason,
}

/// True when every step of a history is allowed by the table and the steps chain.
pub fn history_follows_table(history: &[HistoryEntry]) -> bool {
    let mut current: Option<Status> = None;
    for (i, h) in history.iter().enumerate() {
        if h.from != current || !transition_allowed(h.from, h.to) {
            return false;
        }
        if i > 0 && h.at < history[i - 1].at {
            return false;
        }
        current = Some(h.to);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_strings_round_trip() {
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        assert!("DONE".parse::<Status>().is_err());
    }

    #[test]
    fn every_pair_is_decided_by_the_table_alone() {
        let mut allowed = 0;
        for from in std::iter::once(None).chain(Status::ALL.iter().copied().map(Some)) {
            for to in Status::ALL {
                let in_table = TRANSITIONS.contains(&(from, to));
                assert_eq!(transition_allowed(from, to), in_table);
                assert_eq!(check_transition(from, to).is_ok(), in_table);
                if in_table {
                    allowed += 1;
                } else {
                    let err = check_transition(from, to).unwrap_err();
                    assert_eq!(err.code(), crate::ErrorCode::InvalidTransition);
                }
            }
        }
        assert_eq!(allowed, TRANSITIONS.len());
    }

    #[test]
    fn terminal_statuses() {
        use Status::*;
        let terminal: Vec<Status> = Status::ALL
            .into_iter()
            .filter(|s| s.is_terminal())
            .collect();
        assert_eq!(terminal, vec![Successful, Failed, Cancelled, Expired]);
    }
}
