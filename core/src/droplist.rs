//! Deletion lists as registries and registrars publish them, parsed line by line.
//!
//! Three formats are read, told apart by their first line:
//!
//! - **HEXONET** (`pending_delete_domain_list.csv`): `domain;YYYY-MM-DD HH:MM:SS`, UTC, no header.
//! - **IETF drop list**: a header `TLD,DOMAIN,EXPIRED,PURGED`, then one name a line; the deletion
//!   time is `PURGED`. `DOMAIN` may be the whole name or the part left of the TLD.
//! - **Plain CSV or TSV**: `name,time` or `name<TAB>time`, with or without a header line whose first
//!   field is `domain` or `name`.
//!
//! Times are `YYYY-MM-DD HH:MM:SS` (UTC), RFC 3339 (`2026-06-01T12:00:00Z`, any offset), or a bare
//! date `YYYY-MM-DD` (midnight UTC). A line that cannot be read is reported with its number and the
//! reason, and the other lines are still read: nothing is dropped silently. Blank lines and lines
//! starting with `#` are skipped (and counted as neither good nor bad). The input is bytes, so a list
//! in another encoding is reported line by line as not UTF-8 rather than refused whole.
//!
//! Reading a zip archive is the runtime's job; this module reads the CSV text inside it.
//!
//! ```
//! use backorder_core::droplist::{parse, ListFormat};
//! let list = parse(b"john.com;2026-06-04 18:00:00\nbad line\nshop.net;2026-06-05 10:30:00\n").unwrap();
//! assert_eq!(list.format, ListFormat::Hexonet);
//! assert_eq!(list.entries.len(), 2);
//! assert_eq!(list.bad_lines[0].line, 2);
//! ```

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::name::DomainName;

/// Which kind of list a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ListFormat {
    /// HEXONET's `domain;YYYY-MM-DD HH:MM:SS`.
    Hexonet,
    /// The IETF draft drop list, `TLD,DOMAIN,EXPIRED,PURGED` with a header.
    IetfDropList,
    /// `name,time`.
    Csv,
    /// `name<TAB>time`.
    Tsv,
}

/// One name of a list with its deletion time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedName {
    /// The line it came from (1-based).
    pub line: u64,
    /// The name, normalised.
    pub domain: DomainName,
    /// When the registry deletes it.
    pub drop_at: DateTime<Utc>,
}

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadLine {
    /// Its number (1-based).
    pub line: u64,
    /// Why it was refused.
    pub reason: String,
    /// The start of the line as read (at most 120 characters, invalid UTF-8 replaced).
    pub text: String,
}

/// A parsed list: the good lines and the bad ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedList {
    /// The format recognised.
    pub format: ListFormat,
    /// The names read, in file order.
    pub entries: Vec<ListedName>,
    /// The lines refused, in file order.
    pub bad_lines: Vec<BadLine>,
}

/// Parses a deletion list; see the module documentation for the formats.
///
/// An input with no line at all (empty, or only blank lines and comments) is
/// [`Error::InvalidArgument`]: an empty list is far more often a failed download than a day on which
/// nothing is deleted, and resyncing against it would withdraw every name.
pub fn parse(bytes: &[u8]) -> Result<ParsedList> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut lines = bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(i, l)| (i as u64 + 1, l.strip_suffix(b"\r").unwrap_or(l)))
        .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace) && !l.starts_with(b"#"))
        .peekable();
    let Some(&(_, first)) = lines.peek() else {
        return Err(Error::InvalidArgument("the deletion list is empty".into()));
    };
    let first_text = String::from_utf8_lossy(first).to_ascii_lowercase();
    let (format, header) = detect(&first_text);
    if header {
        lines.next();
    }
    let mut list = ParsedList {
        format,
        entries: Vec::new(),
        bad_lines: Vec::new(),
    };
    for (n, raw) in lines {
        match parse_line(format, raw) {
            Ok((domain, drop_at)) => list.entries.push(ListedName {
                line: n,
                domain,
                drop_at,
            }),
            Err(reason) => list.bad_lines.push(BadLine {
                line: n,
                reason,
                text: String::from_utf8_lossy(raw).chars().take(120).collect(),
            }),
        }
    }
    Ok(list)
}

fn detect(first: &str) -> (ListFormat, bool) {
    let fields: Vec<&str> = first.split(',').map(str::trim).collect();
    if fields.len() == 4 && fields[0] == "tld" && fields[1] == "domain" && fields[3] == "purged" {
        return (ListFormat::IetfDropList, true);
    }
    let format = if first.contains(';') {
        ListFormat::Hexonet
    } else if first.contains('\t') {
        ListFormat::Tsv
    } else {
        ListFormat::Csv
    };
    let sep = separator(format);
    let head = first.split(sep).next().unwrap_or("").trim();
    (format, head == "domain" || head == "name")
}

fn separator(format: ListFormat) -> char {
    match format {
        ListFormat::Hexonet => ';',
        ListFormat::Tsv => '\t',
        ListFormat::Csv | ListFormat::IetfDropList => ',',
    }
}

fn parse_line(
    format: ListFormat,
    raw: &[u8],
) -> std::result::Result<(DomainName, DateTime<Utc>), String> {
    let line = std::str::from_utf8(raw).map_err(|_| "not UTF-8".to_string())?;
    let sep = separator(format);
    let fields: Vec<&str> = line.split(sep).map(str::trim).collect();
    let (name, time) = match format {
        ListFormat::IetfDropList => {
            if fields.len() != 4 {
                return Err(format!(
                    "expected 4 fields separated by ',' (TLD,DOMAIN,EXPIRED,PURGED), found {}",
                    fields.len()
                ));
            }
            let tld = fields[0].trim_start_matches('.');
            let domain = fields[1];
            let suffix_ok = domain.len() > tld.len()
                && domain.as_bytes()[domain.len() - tld.len() - 1] == b'.'
                && domain[domain.len() - tld.len()..].eq_ignore_ascii_case(tld);
            let name = if suffix_ok || tld.is_empty() {
                domain.to_string()
            } else {
                format!("{domain}.{tld}")
            };
            (name, fields[3])
        }
        _ => {
            if fields.len() != 2 {
                return Err(format!(
                    "expected 2 fields separated by '{}', found {}",
                    sep.escape_default(),
                    fields.len()
                ));
            }
            (fields[0].to_string(), fields[1])
        }
    };
    let domain = DomainName::parse(&name).map_err(|e| e.to_string())?;
    let drop_at = parse_time(time).ok_or_else(|| {
        format!(
            "deletion time '{}' is not YYYY-MM-DD HH:MM:SS, RFC 3339 or YYYY-MM-DD",
            time.chars().take(40).collect::<String>()
        )
    })?;
    crate::catalog::check_drop_time(drop_at).map_err(|e| e.to_string())?;
    Ok((domain, drop_at))
}

/// Reads `YYYY-MM-DD HH:MM:SS` (UTC), RFC 3339, or `YYYY-MM-DD` (midnight UTC).
///
/// ```
/// use backorder_core::droplist::parse_time;
/// assert_eq!(parse_time("2026-06-04 18:00:00").unwrap().to_rfc3339(), "2026-06-04T18:00:00+00:00");
/// assert_eq!(parse_time("2026-06-04T20:00:00+02:00").unwrap().to_rfc3339(), "2026-06-04T18:00:00+00:00");
/// assert!(parse_time("04.06.2026").is_none());
/// ```
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if s.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_recognised() {
        let ietf = b"TLD,DOMAIN,EXPIRED,PURGED\ncom,john,2026-05-01,2026-06-04T18:00:00Z\nnet,shop.net,2026-05-01,2026-06-05\n";
        let l = parse(ietf).unwrap();
        assert_eq!(l.format, ListFormat::IetfDropList);
        assert_eq!(l.entries[0].domain.as_str(), "john.com");
        assert_eq!(l.entries[1].domain.as_str(), "shop.net");
        assert_eq!(l.entries[0].line, 2);
        let tsv = parse(b"domain\ttime\njohn.com\t2026-06-04 18:00:00\n").unwrap();
        assert_eq!(tsv.format, ListFormat::Tsv);
        assert_eq!(tsv.entries.len(), 1);
        let csv = parse(b"john.com,2026-06-04 18:00:00\r\n").unwrap();
        assert_eq!(csv.format, ListFormat::Csv);
        assert_eq!(csv.entries.len(), 1);
    }

    #[test]
    fn bad_lines_are_reported_and_the_rest_read() {
        let l = parse(
            b"a.com;2026-06-04 18:00:00\nb.com,2026-06-04 18:00:00\nc.com;04.06.2026\n-x.com;2026-06-04 18:00:00\n\xff\xfe.com;2026-06-04 18:00:00\nd.com;2026-06-04 18:00:00",
        )
        .unwrap();
        assert_eq!(l.entries.len(), 2);
        let lines: Vec<u64> = l.bad_lines.iter().map(|b| b.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5]);
        assert!(l.bad_lines[3].reason.contains("UTF-8"));
    }

    #[test]
    fn an_empty_list_is_refused() {
        assert!(parse(b"").is_err());
        assert!(parse(b"\n\n# nothing\n").is_err());
        // A header alone is a list with no names: read, with nothing in it.
        assert!(parse(b"TLD,DOMAIN,EXPIRED,PURGED\n")
            .unwrap()
            .entries
            .is_empty());
    }
}
