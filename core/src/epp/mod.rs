//! EPP, the protocol registries speak (RFC 5730-5734, RGP RFC 3915, fees RFC 8748): the frames a
//! drop-catcher and a registry exchange, as typed values, written and read without I/O.
//!
//! - [`frame`]: RFC 5734's framing (a four-byte length before each document), with a size cap.
//! - [`command`]: what a client sends (`<hello>`, login, logout, poll, domain check, create,
//!   info and transfer query, with the fee extension) — written by the catcher, read by the
//!   registry simulator.
//! - [`response`]: what a server sends (the greeting and responses with their result codes,
//!   `resData` and extensions) — written by the simulator, read by the catcher.
//! - [`outcome`]: result codes mapped to what a catcher acts on (available, taken, not yet
//!   dropped, rate limited, billing failure, premium mismatch, …).
//!
//! Reading resolves namespaces by URI, never by prefix; a document with a DTD or any entity
//! other than XML's five and character references is refused, so nothing is ever expanded; depth
//! and size are capped. Every frame written validates against the IETF schemas
//! (`../shared/epp-xsd/epp-all.xsd`; runtime's `epp_schema` test runs `xmllint` on each kind).
//!
//! ```
//! use backorder_core::epp::command::{ClientFrame, Command, Create};
//! use backorder_core::epp::response::{Response, ServerFrame};
//! use backorder_core::epp::outcome::CreateOutcome;
//!
//! let create = ClientFrame::command(
//!     Command::Create(Create::new("example.com", "2fooBAR")),
//!     "ABC-12345",
//! );
//! let xml = create.to_xml();
//! assert_eq!(ClientFrame::from_xml(xml.as_bytes()).unwrap(), create);
//!
//! let taken = br#"<?xml version="1.0" encoding="UTF-8"?>
//! <e:epp xmlns:e="urn:ietf:params:xml:ns:epp-1.0"><e:response>
//!   <e:result code="2302"><e:msg>Object exists</e:msg></e:result>
//!   <e:trID><e:clTRID>ABC-12345</e:clTRID><e:svTRID>SV-1</e:svTRID></e:trID>
//! </e:response></e:epp>"#;
//! let ServerFrame::Response(r) = ServerFrame::from_xml(taken).unwrap() else { panic!() };
//! assert_eq!(CreateOutcome::of(&r), CreateOutcome::Taken);
//! ```

pub mod command;
pub mod frame;
pub mod outcome;
pub mod response;
pub mod samples;
mod stream;
mod xml;

use thiserror::Error;

/// The EPP namespace.
pub const EPP_NS: &str = "urn:ietf:params:xml:ns:epp-1.0";
/// The domain mapping (RFC 5731).
pub const DOMAIN_NS: &str = "urn:ietf:params:xml:ns:domain-1.0";
/// The contact mapping (RFC 5733), announced at login.
pub const CONTACT_NS: &str = "urn:ietf:params:xml:ns:contact-1.0";
/// The host mapping (RFC 5732), announced at login.
pub const HOST_NS: &str = "urn:ietf:params:xml:ns:host-1.0";
/// The redemption grace period extension (RFC 3915).
pub const RGP_NS: &str = "urn:ietf:params:xml:ns:rgp-1.0";
/// The fee extension (RFC 8748).
pub const FEE_NS: &str = "urn:ietf:params:xml:ns:epp:fee-1.0";

/// The frame-size cap when none is configured: 1 MiB, far above any frame of the commands a
/// catcher sends or the answers it reads.
pub const DEFAULT_MAX_FRAME: usize = 1 << 20;

/// Why a frame could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum EppError {
    /// The frame is larger than the cap.
    #[error("EPP frame of {len} bytes is over the {max}-byte cap")]
    FrameTooLarge {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// The frame's length header is impossible (under its own four bytes).
    #[error("EPP frame header says {0} bytes, fewer than the header itself")]
    BadLength(u32),
    /// Not well-formed XML, or not UTF-8.
    #[error("malformed EPP XML: {0}")]
    Malformed(String),
    /// A DTD or an entity other than XML's own: refused, never expanded.
    #[error("EPP XML may not declare a DTD or use entity '{0}'")]
    Entity(String),
    /// Nested deeper than the reader allows.
    #[error("EPP XML nested deeper than {0} elements")]
    TooDeep(usize),
    /// Well-formed XML that is not the EPP this reader knows: a missing or unexpected element
    /// or a bad value.
    #[error("not the expected EPP: {0}")]
    Unexpected(String),
}

impl From<EppError> for crate::Error {
    fn from(e: EppError) -> Self {
        crate::Error::Registry(e.to_string())
    }
}

fn unexpected(what: impl Into<String>) -> EppError {
    EppError::Unexpected(what.into())
}

#[cfg(test)]
mod tests {
    use super::command::{ClientFrame, Command};
    use super::outcome::{check_outcomes, CheckOutcome, CreateOutcome};
    use super::response::ServerFrame;
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn every_frame_kind_reads_back_as_written() {
        for (kind, frame) in samples::client_frames() {
            let xml = frame.to_xml();
            assert_eq!(
                ClientFrame::from_xml(xml.as_bytes()),
                Ok(frame),
                "{kind}: {xml}"
            );
        }
        for (kind, frame) in samples::server_frames() {
            let xml = frame.to_xml();
            assert_eq!(
                ServerFrame::from_xml(xml.as_bytes()),
                Ok(frame),
                "{kind}: {xml}"
            );
        }
    }

    fn response(kind: &str) -> response::Response {
        let (_, frame) = samples::server_frames()
            .into_iter()
            .find(|(k, _)| *k == kind)
            .expect("a sample");
        let ServerFrame::Response(r) = ServerFrame::from_xml(frame.to_xml().as_bytes()).unwrap()
        else {
            panic!("{kind} is a response")
        };
        r
    }

    #[test]
    fn result_codes_become_what_a_catcher_acts_on() {
        let cases = [
            (
                "created",
                CreateOutcome::Created {
                    fee: Some(Decimal::new(899, 2)),
                },
            ),
            ("taken", CreateOutcome::Taken),
            ("not-yet-dropped", CreateOutcome::NotYetDropped),
            ("rate-limited", CreateOutcome::RateLimited),
            ("billing-failure", CreateOutcome::BillingFailure),
            (
                "premium-mismatch",
                CreateOutcome::PremiumMismatch { price: None },
            ),
            (
                "failed-twice",
                CreateOutcome::Failed {
                    code: 2400,
                    message: "Command failed".into(),
                },
            ),
        ];
        for (kind, outcome) in cases {
            assert_eq!(CreateOutcome::of(&response(kind)), outcome, "{kind}");
        }
        assert_eq!(
            check_outcomes(&response("check")),
            Some(vec![
                (
                    "free.com".into(),
                    CheckOutcome::Available {
                        premium: Some(Decimal::new(250_000, 2))
                    }
                ),
                ("example.com".into(), CheckOutcome::NotYetDropped),
                ("taken.com".into(), CheckOutcome::Taken),
            ])
        );
        assert_eq!(check_outcomes(&response("taken")), None);
    }

    #[test]
    fn frames_of_the_wrong_kind_or_shape_are_typed_errors() {
        let hello = ClientFrame::Hello.to_xml();
        assert!(matches!(
            ServerFrame::from_xml(hello.as_bytes()),
            Err(EppError::Unexpected(_))
        ));
        let cases: [&[u8]; 7] = [
            // Not EPP's namespace.
            br#"<epp xmlns="urn:example:other"><hello/></epp>"#,
            // Two bodies.
            br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/><hello/></epp>"#,
            // A create of another object type.
            br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><c:create xmlns:c="urn:ietf:params:xml:ns:contact-1.0"/></create></command></epp>"#,
            // A create without its auth code.
            br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><d:create xmlns:d="urn:ietf:params:xml:ns:domain-1.0"><d:name>a.com</d:name></d:create></create></command></epp>"#,
            // A period in days.
            br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><create><d:create xmlns:d="urn:ietf:params:xml:ns:domain-1.0"><d:name>a.com</d:name><d:period unit="d">5</d:period><d:authInfo><d:pw>x</d:pw></d:authInfo></d:create></create></command></epp>"#,
            // A check of nothing.
            br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><check><d:check xmlns:d="urn:ietf:params:xml:ns:domain-1.0"/></check></command></epp>"#,
            // A command we do not speak.
            br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><command><renew><d:renew xmlns:d="urn:ietf:params:xml:ns:domain-1.0"/></renew></command></epp>"#,
        ];
        for xml in cases {
            assert!(
                matches!(ClientFrame::from_xml(xml), Err(EppError::Unexpected(_))),
                "{}",
                String::from_utf8_lossy(xml)
            );
        }
        let bad_code = br#"<epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><response><result code="99"><msg>x</msg></result><trID><svTRID>abc</svTRID></trID></response></epp>"#;
        assert!(matches!(
            ServerFrame::from_xml(bad_code),
            Err(EppError::Unexpected(_))
        ));
        let entity = br#"<!DOCTYPE epp [<!ENTITY x SYSTEM "file:///etc/passwd">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0"><hello/></epp>"#;
        assert!(matches!(
            ClientFrame::from_xml(entity),
            Err(EppError::Entity(_))
        ));
        assert!(matches!(
            ClientFrame::from_xml(b"<epp xmlns=\"urn:ietf:params:xml:ns:epp-1.0\"><hello>"),
            Err(EppError::Malformed(_))
        ));
    }

    #[test]
    fn text_is_escaped_on_the_way_out() {
        let frame = ClientFrame::command(
            Command::Info {
                name: "a<b>&\"c".into(),
                auth_code: None,
            },
            "T-<&>",
        );
        let xml = frame.to_xml();
        assert!(xml.contains("a&lt;b&gt;&amp;&quot;c"), "{xml}");
        assert_eq!(ClientFrame::from_xml(xml.as_bytes()), Ok(frame));
    }
}
