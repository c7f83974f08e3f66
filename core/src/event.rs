//! The events outbox (SPEC §8): written in the same transaction as the state change it reports,
//! drained by the host with a cursor, at least once.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lifecycle::{Reason, Status};
use crate::money::Currency;
use crate::name::DomainName;
use crate::secret::Secret;

/// Where a refund goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RefundDestination {
    /// Back to the prepaid balance (the deposit was released).
    Balance,
    /// To the payment method the customer paid with; the host executes the payout.
    OriginalPaymentMethod,
}

/// What happened. Amounts are in the currency named beside them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(missing_docs)] // field names say it; each variant is documented
pub enum EventKind {
    /// A backorder changed status.
    StatusChanged {
        from: Option<Status>,
        to: Status,
        reason: Reason,
    },
    /// A deposit was reserved from the balance.
    DepositSecured { amount: Decimal, currency: Currency },
    /// The balance did not cover a deposit (sent once per backorder).
    LowBalance {
        needed: Decimal,
        available: Decimal,
        currency: Currency,
    },
    /// Exclusive model: a backorder waits for payment.
    PaymentDue {
        amount: Decimal,
        currency: Currency,
        due_by: Option<DateTime<Utc>>,
    },
    /// A deposit or payment was returned.
    Refunded {
        amount: Decimal,
        currency: Currency,
        destination: RefundDestination,
    },
    /// Money was taken for good (deposit captured, auction price charged).
    Charged { amount: Decimal, currency: Currency },
    /// The name was registered and allocated to the account.
    Allocated { registered_until: DateTime<Utc> },
    /// The account is invited to a private auction.
    AuctionInvitation {
        auction: u64,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        opening_price: Decimal,
        currency: Currency,
    },
    /// The auction was won (or a second-chance offer made) and the price is due.
    AuctionWon {
        auction: u64,
        price: Decimal,
        currency: Currency,
        pay_by: DateTime<Utc>,
        second_chance: bool,
    },
    /// The auction was lost.
    AuctionLost { auction: u64 },
    /// The name was paid and the auth code issued for the hand-over.
    AuthCodeIssued { auth_code: Secret },
    /// A name matching an alert subscription appeared in the pending-delete list.
    Alert { subscription: u64 },
    /// A caught name could not be allocated to anyone (every offer lapsed); the registrar keeps it.
    NameUnallocated { auction: u64 },
}

impl EventKind {
    /// The event's type as it appears in JSON, e.g. `deposit_secured`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::StatusChanged { .. } => "status_changed",
            EventKind::DepositSecured { .. } => "deposit_secured",
            EventKind::LowBalance { .. } => "low_balance",
            EventKind::PaymentDue { .. } => "payment_due",
            EventKind::Refunded { .. } => "refunded",
            EventKind::Charged { .. } => "charged",
            EventKind::Allocated { .. } => "allocated",
            EventKind::AuctionInvitation { .. } => "auction_invitation",
            EventKind::AuctionWon { .. } => "auction_won",
            EventKind::AuctionLost { .. } => "auction_lost",
            EventKind::AuthCodeIssued { .. } => "auth_code_issued",
            EventKind::Alert { .. } => "alert",
            EventKind::NameUnallocated { .. } => "name_unallocated",
        }
    }
}

/// One outbox entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the outbox, strictly increasing; the cursor.
    pub seq: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The customer to notify, if any.
    pub account: Option<crate::key::Key>,
    /// The backorder concerned, if any.
    pub backorder: Option<u64>,
    /// The name concerned, if any.
    pub domain: Option<DomainName>,
    /// What happened.
    pub kind: EventKind,
}
