//! HEXONET's command API, so existing HEXONET clients and scripts can drive the engine unchanged
//! (SPEC §9): the wire format ([`Request`], [`Response`]), the commands ([`Command`]), the codes
//! ([`Code`]) and the dispatcher ([`execute`]) that runs a command against a [`Backend`].
//!
//! Pure like the rest of the core: the gateway in the `backorder` crate reads HTTP, checks
//! passwords, keeps sessions and hands each request here.
//!
//! ```
//! use backorder_core::api::{Code, Command, Limits, Request};
//! let req = Request::from_form(b"", b"command=ConvertIDN&domain0=b%C3%BCcher.de", &Limits::default())
//!     .unwrap();
//! let cmd = Command::parse(&req.params).unwrap();
//! assert_eq!(cmd, Command::ConvertIdn { domains: vec!["bücher.de".into()] });
//! assert_eq!(Code::NotFound.number(), 545);
//! ```

mod codes;
mod command;
mod dispatch;
mod wire;

pub use codes::{for_error, Code};
pub use command::{
    AddApplication, ApplicationOrder, ApplicationQuery, Command, UserDepth, DEFAULT_LIMIT,
    MAX_CONVERT, MAX_LIMIT,
};
pub use dispatch::{class_of, execute, Backend, Caller};
pub use wire::{format_time, Credentials, Limits, Params, Refusal, Request, Response, NO_TIME};
