//! # backorder-core
//!
//! The pure model of libbackorder, a drop-catch (domain backorder) engine for registrars: domain
//! names, TLD policies, money, the two-phase deposit ledger, the backorder life cycle of both
//! allocation models (HEXONET's auction model and Alibaba's exclusive model), private auctions, the
//! events outbox, the `Store` and `Registry` traits and the in-memory store.
//!
//! Nothing here does I/O, reads a clock, spawns a thread or draws unseeded randomness: every
//! function that needs the time takes it as an argument. Hosts use the `backorder` crate, whose
//! `Engine` runs these functions inside store transactions.
#![warn(missing_docs)]

pub mod account;
pub mod alert;
pub mod api;
pub mod auction;
pub mod audit;
pub mod backorder;
pub mod catalog;
pub mod catch;
pub mod droplist;
pub mod epp;
pub mod error;
pub mod event;
pub mod key;
pub mod ledger;
pub mod lifecycle;
pub mod memory;
pub mod money;
pub mod name;
pub mod policy;
pub mod registry;
pub mod rng;
pub mod schedule;
pub mod search;
pub mod secret;
pub mod store;

/// Hash maps and sets with a fast hasher that is still seeded per process (keys come from
/// customers, so a fixed hash would invite collisions on purpose). Iteration order is never
/// observable through the API.
pub(crate) mod fast {
    pub(crate) type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
    pub(crate) type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
}

pub use account::{check_account_id, Account, Contacts};
pub use auction::{Auction, AuctionHouse, AuctionState, AuctionView, ProxyAuction};
pub use audit::{audit, AuditReport};
pub use backorder::{Allocation, Backorder, PlaceBackorder, WakeOutcome};
pub use catalog::PendingDeletion;
pub use catch::{CatchOutcome, DropJob, DropResult};
pub use error::{Error, ErrorCode, Result};
pub use event::{Event, EventKind, RefundDestination};
pub use key::Key;
pub use ledger::{Balance, LedgerAccount, Reservation, ReservationState, Transfer, TransferKind};
pub use lifecycle::{HistoryEntry, Reason, Status, TRANSITIONS};
pub use memory::MemoryStore;
pub use money::{Currency, Money};
pub use name::DomainName;
pub use policy::{
    default_policies, AllocationModel, AuctionSettings, DropSchedule, PolicyTable, TldPolicy,
};
pub use registry::{CatchProgress, Registry};
pub use secret::Secret;
pub use store::{in_transaction, Store, WakeKey};
