//! Domain names: parsed, validated and normalised to their ASCII (A-label) form.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Longest whole name in ASCII form, without the trailing dot (RFC 1035, 253 octets).
pub const MAX_NAME_LEN: usize = 253;
/// Longest single label (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;

/// A validated, normalised domain name such as `example.com` or `xn--mnchen-3ya.de`.
///
/// Input may be Unicode (U-labels) or ASCII (A-labels), in any case, with or without one trailing dot;
/// the stored form is lower-case ASCII. Whether the zone is one the registrar offers is the policy
/// table's question, not this type's.
///
/// ```
/// use backorder_core::DomainName;
/// let n = DomainName::parse("MÜNCHEN.com.").unwrap();
/// assert_eq!(n.as_str(), "xn--mnchen-3ya.com");
/// assert_eq!(n.to_unicode(), "münchen.com");
/// assert_eq!(n.zone(), "com");
/// assert_eq!(n.label(), "xn--mnchen-3ya");
/// assert!(n.is_idn());
/// assert!(DomainName::parse("-bad.com").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DomainName(std::sync::Arc<str>);

impl DomainName {
    /// Parses and normalises a name; see [`Error::InvalidDomainName`] for what is refused.
    pub fn parse(input: &str) -> Result<DomainName, Error> {
        let invalid = |why: &str| Error::InvalidDomainName {
            name: input.chars().take(80).collect(),
            reason: why.to_string(),
        };
        if input.is_empty() {
            return Err(invalid("empty"));
        }
        // Bound the work before IDNA processing: a U-label expands, but never by more than 4x in bytes.
        if input.len() > MAX_NAME_LEN * 4 + 1 {
            return Err(invalid("longer than 253 characters"));
        }
        let trimmed = input.strip_suffix('.').unwrap_or(input);
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("contains white space or control characters"));
        }
        let ascii = if trimmed.is_ascii() {
            trimmed.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii_strict(trimmed)
                .map_err(|_| invalid("not a valid internationalised name"))?
        };
        Self::check_ascii(&ascii).map_err(|why| invalid(&why))?;
        Ok(DomainName(ascii.into()))
    }

    fn check_ascii(ascii: &str) -> Result<(), String> {
        if ascii.len() > MAX_NAME_LEN {
            return Err(format!("longer than {MAX_NAME_LEN} characters"));
        }
        if !ascii.contains('.') {
            return Err("needs a name and a zone".into());
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err("has an empty label".into());
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(format!(
                    "label '{label}' is longer than {MAX_LABEL_LEN} characters"
                ));
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!(
                    "label '{label}' has characters other than letters, digits and hyphens"
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(format!("label '{label}' starts or ends with a hyphen"));
            }
            if label.len() >= 4 && &label[2..4] == "--" {
                if !label.starts_with("xn--") {
                    return Err(format!("label '{label}' has hyphens in positions 3 and 4"));
                }
                let (unicode, result) = idna::domain_to_unicode(label);
                if result.is_err() || unicode == *label {
                    return Err(format!("label '{label}' is not valid punycode"));
                }
                // The punycode must decode to a label IDNA itself would write back the same:
                // `xn---bb-n--b-vza` decodes to a U-label starting with a hyphen, which no
                // registry accepts and whose Unicode form would not parse (found by fuzzing).
                if idna::domain_to_ascii_strict(&unicode).ok().as_deref() != Some(label) {
                    return Err(format!(
                        "label '{label}' is not a valid internationalised label"
                    ));
                }
            }
        }
        let zone = ascii.rsplit('.').next().unwrap_or(ascii);
        if zone.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the zone is numeric".into());
        }
        Ok(())
    }

    /// The normalised ASCII form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Unicode form (U-labels), for display.
    pub fn to_unicode(&self) -> String {
        let (unicode, result) = idna::domain_to_unicode(&self.0);
        if result.is_ok() {
            unicode
        } else {
            self.0.to_string()
        }
    }

    /// The zone (top-level domain), e.g. `com`.
    pub fn zone(&self) -> &str {
        match self.0.rfind('.') {
            Some(i) => &self.0[i + 1..],
            None => &self.0,
        }
    }

    /// The name without its zone, e.g. `example` for `example.com`.
    pub fn label(&self) -> &str {
        match self.0.rfind('.') {
            Some(i) => &self.0[..i],
            None => &self.0,
        }
    }

    /// True when any label is an IDN A-label (`xn--`).
    pub fn is_idn(&self) -> bool {
        self.0.split('.').any(|l| l.starts_with("xn--"))
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainName({})", self.0)
    }
}

impl std::str::FromStr for DomainName {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        DomainName::parse(s)
    }
}

impl Serialize for DomainName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DomainName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DomainName::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_trailing_dot() {
        assert_eq!(DomainName::parse("John.COM.").unwrap().as_str(), "john.com");
    }

    #[test]
    fn idna_both_ways() {
        let n = DomainName::parse("bücher.de").unwrap();
        assert_eq!(n.as_str(), "xn--bcher-kva.de");
        let back = DomainName::parse("xn--bcher-kva.de").unwrap();
        assert_eq!(back.to_unicode(), "bücher.de");
        assert_eq!(n, back);
    }

    #[test]
    fn refuses_bad_names() {
        let label63 = "a".repeat(63);
        let label64 = "a".repeat(64);
        assert!(DomainName::parse(&format!("{label63}.com")).is_ok());
        for bad in [
            "",
            "com",
            ".com",
            "a..com",
            "-a.com",
            "a-.com",
            "a b.com",
            "a_b.com",
            "ab--cd.com",
            "xn--zz.com",
            // Punycode for a U-label that starts with a hyphen (a fuzzing finding).
            "xn---bb-n--b-vza.xde",
            "a.123",
            "a\n.com",
            &format!("{label64}.com"),
            &format!("{}.com", vec!["a".repeat(60); 5].join(".")),
        ] {
            let err = DomainName::parse(bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidDomainName, "{bad:?}");
        }
    }

    #[test]
    fn name_of_253_is_accepted_and_254_refused() {
        // 3 labels of 63 + "." separators + a 60-char label and ".com" = 253.
        let base = format!("{0}.{0}.{0}", "a".repeat(63));
        let ok = format!("{base}.{}.com", "b".repeat(253 - base.len() - 5));
        assert_eq!(ok.len(), 253);
        assert!(DomainName::parse(&ok).is_ok());
        let long = format!("{base}.{}.com", "b".repeat(254 - base.len() - 5));
        assert!(DomainName::parse(&long).is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        let n = DomainName::parse("shop.net").unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"shop.net\"");
        let back: DomainName = serde_json::from_str(&json).unwrap();
        assert_eq!(back, n);
        assert!(serde_json::from_str::<DomainName>("\"-x.net\"").is_err());
    }
}
