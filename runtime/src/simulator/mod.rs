//! The registry simulator: a registry that speaks EPP, for tests, examples and benchmarks — an
//! RGP life cycle, a drop batch purging names in a seeded random order within a window,
//! competing registrars of configurable speed, per-session command-rate limits with penalties,
//! and premium names priced through the fee extension ([`rules`]), served over TLS on tokio
//! ([`server`]).

pub mod rules;
pub mod server;

pub use rules::{Competitor, Registry, RegistryConfig};
pub use server::{ServerOptions, Simulator};
