//! EPP with real registries: sessions over TLS ([`client`]) and pools of them ([`pool`]). The
//! frames themselves are `backorder_core::epp`'s.

pub mod client;
mod departure;
pub mod pool;

pub use client::{Prepared, Session, SessionConfig, SessionError, Transport};
pub use pool::{Backoff, Lease, SessionPool};
