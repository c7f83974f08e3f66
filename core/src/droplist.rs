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

/// How many bad lines a list's reading keeps with their number, reason and text; past it they
/// are only counted. A hostile or broken file of short bad lines would otherwise take a hundred
/// times its own size in memory.
pub const MAX_BAD_LINES: usize = 10_000;

/// A parsed list: the good lines and the bad ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedList {
    /// The format recognised.
    pub format: ListFormat,
    /// The names read, in file order.
    pub entries: Vec<ListedName>,
    /// The first [`MAX_BAD_LINES`] lines refused, in file order.
    pub bad_lines: Vec<BadLine>,
    /// Every line refused, those past [`MAX_BAD_LINES`] included.
    pub bad_line_count: u64,
}

/// Parses a deletion list; see the module documentation for the formats.
///
/// An input with no line at all (empty, or only blank lines and comments) is
/// [`Error::InvalidArgument`]: an empty list is far more often a failed download than a day on which
/// nothing is deleted, and resyncing against it would withdraw every name.
pub fn parse(bytes: &[u8]) -> Result<ParsedList> {
    let layout = layout(bytes)?;
    let (entries, bad_lines, bad_line_count) = parse_body(
        layout.format,
        &bytes[layout.body_start..],
        layout.body_first_line,
    );
    Ok(ParsedList {
        format: layout.format,
        entries,
        bad_lines,
        bad_line_count,
    })
}

/// Where a list's names start, and in which format: what [`parse`] learns from the first line.
/// With it a host may cut the body at line ends and read the pieces with [`parse_body`] in
/// parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The format recognised.
    pub format: ListFormat,
    /// The byte offset of the first line after any byte-order mark and header.
    pub body_start: usize,
    /// The number of that line (1-based).
    pub body_first_line: u64,
}

/// Reads the first line of a list: its format, and where the names start. An input with no line
/// at all is [`Error::InvalidArgument`].
pub fn layout(bytes: &[u8]) -> Result<Layout> {
    let mut start = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut line = 1u64;
    loop {
        if start >= bytes.len() {
            return Err(Error::InvalidArgument("the deletion list is empty".into()));
        }
        let end = bytes[start..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |p| start + p);
        let raw = &bytes[start..end];
        if !skipped(raw) {
            let text = String::from_utf8_lossy(trim_cr(raw)).to_ascii_lowercase();
            let (format, header) = detect(&text);
            return Ok(if header {
                Layout {
                    format,
                    body_start: (end + 1).min(bytes.len()),
                    body_first_line: line + 1,
                }
            } else {
                Layout {
                    format,
                    body_start: start,
                    body_first_line: line,
                }
            });
        }
        start = end + 1;
        line += 1;
    }
}

fn trim_cr(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// Blank lines and `#` comments.
fn skipped(l: &[u8]) -> bool {
    l.iter().all(u8::is_ascii_whitespace) || l.starts_with(b"#")
}

/// Reads lines of a list's body, the first of them numbered `first_line`: the names read, the
/// first [`MAX_BAD_LINES`] bad lines, and how many bad lines there were in all.
pub fn parse_body(
    format: ListFormat,
    body: &[u8],
    first_line: u64,
) -> (Vec<ListedName>, Vec<BadLine>, u64) {
    let mut entries = Vec::with_capacity(body.len() / 32);
    let mut bad = Vec::new();
    let mut bad_count = 0u64;
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let raw = trim_cr(raw);
        if skipped(raw) {
            continue;
        }
        let n = first_line + i as u64;
        match parse_line(format, raw) {
            Ok((domain, drop_at)) => entries.push(ListedName {
                line: n,
                domain,
                drop_at,
            }),
            Err(reason) => {
                bad_count += 1;
                if bad.len() < MAX_BAD_LINES {
                    let shown = &raw[..raw.len().min(4 * 120)];
                    bad.push(BadLine {
                        line: n,
                        reason,
                        text: String::from_utf8_lossy(shown).chars().take(120).collect(),
                    });
                }
            }
        }
    }
    (entries, bad, bad_count)
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
    if let Some(t) = fixed_time(s.as_bytes()) {
        return Some(t);
    }
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

/// `YYYY-MM-DD HH:MM:SS` read digit by digit: the format of almost every line, a dozen times
/// faster than a general parser.
fn fixed_time(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)
        .map(|t| t.and_utc())
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
    fn the_fast_time_reader_agrees_with_chrono() {
        for s in [
            "2026-06-04 18:00:00",
            "2024-02-29 23:59:59",
            "2023-02-29 10:00:00",
            "2026-13-01 00:00:00",
            "2026-06-04 24:00:00",
            "2026-06-04 18:60:00",
            "2026-06-04 18:00:60",
            "2026-06-0a 18:00:00",
            "0000-01-01 00:00:00",
            "9999-12-31 23:59:59",
        ] {
            let chrono = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc());
            assert_eq!(parse_time(s), chrono, "{s}");
            if let Some(t) = fixed_time(s.as_bytes()) {
                assert_eq!(Some(t), chrono, "{s}");
            }
        }
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
