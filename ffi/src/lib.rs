//! libbackorder's C ABI.
//!
//! Every export returns a [`bo_status`] (`BO_OK`, or the engine's error code), leaves a message
//! for the calling thread in [`bo_last_error_message`], never unwinds into C (a panic becomes
//! `BO_INTERNAL`) and, when it fails, changes nothing and writes no output. Engines are opaque
//! handles freed with [`bo_engine_free`]; strings the library returns are freed with
//! [`bo_string_free`]. Text in is UTF-8, NUL-terminated; times are Unix milliseconds; amounts
//! are decimal strings (`"49.00"`); records come back as JSON documents whose fields are those
//! of the Rust types of the same name (see `include/backorder.h`).
//!
//! The header `include/backorder.h` is generated from this crate by cbindgen and committed;
//! `cargo test -p backorder-ffi` fails when it drifts (`BO_BLESS=1` rewrites it).
#![allow(non_camel_case_types)]
#![warn(missing_docs)]

mod call;
pub mod engine;
pub mod status;

pub use engine::*;
pub use status::*;

/// The library's major version (`BO_VERSION_MAJOR` in C); a test checks it against Cargo.toml.
pub const BO_VERSION_MAJOR: u32 = 0;
/// The library's minor version.
pub const BO_VERSION_MINOR: u32 = 1;
/// The library's patch version.
pub const BO_VERSION_PATCH: u32 = 0;
