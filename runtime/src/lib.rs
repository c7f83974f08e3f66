//! # backorder
//!
//! libbackorder: an embeddable drop-catch engine that lets a domain registrar run a backorder
//! service like HEXONET's Backorder (auction model) and Alibaba Cloud's Domain Name Pre-release
//! (exclusive model). Customers backorder names about to be deleted; the engine secures deposits
//! from a prepaid balance, catches names at the registry when they drop, allocates each caught name
//! (single backorderer, private auction, or first-paid-exclusive), refunds everyone else and writes
//! what to notify to an outbox.
//!
//! Hosts use [`Engine`]; the rules live in [`backorder_core`].
#![warn(missing_docs)]

pub mod calls;
pub mod catalog;
pub mod catcher;
pub mod clock;
pub mod engine;
pub mod epp;
pub mod gateway;
pub mod json;
pub mod registry;
pub mod simulator;
pub mod store;

pub use backorder_core as core;
pub use backorder_core::{
    Account, AllocationModel, AuctionView, AuditReport, Backorder, Balance, CatchOutcome, Contacts,
    Currency, Error, ErrorCode, Event, EventKind, PlaceBackorder, Result, Status, TldPolicy,
    Transfer,
};
pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use engine::{full_contacts, Engine, EngineBuilder, NewAccount, StatementLine, TickReport};
pub use registry::SimulatedRegistry;
pub use store::open_store;

/// The README's example, compiled and run as a doc test so it cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
