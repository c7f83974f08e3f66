//! The wire format of HEXONET's command API: requests as form fields, responses as `[RESPONSE]`
//! text.
//!
//! A request carries its credentials in `s_*` fields (`s_entity s_login s_pw s_session s_user`)
//! and its command either as `s_command` (one `KEY=VALUE` per line) or as plain fields
//! (`command=AddDomainApplication&class=BACKORDER&domain=john.com`), or both. Keys are
//! case-insensitive; list values are numbered (`DOMAIN0`, `DOMAIN1`, …).
//!
//! ```
//! use backorder_core::api::{Limits, Request};
//! let req = Request::from_form(
//!     b"s_entity=54cd&s_login=ann&s_pw=secret",
//!     b"command=AddDomainApplication&class=BACKORDER&domain=john.com",
//!     &Limits::default(),
//! ).unwrap();
//! assert_eq!(req.credentials.login.as_deref(), Some("ann"));
//! assert_eq!(req.params.get("COMMAND"), Some("AddDomainApplication"));
//! assert_eq!(req.params.get("Domain"), Some("john.com"));
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::codes::Code;
use crate::secret::Secret;

/// Caps on what one request may carry. A request over any of them is refused whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Parameters in one request, `s_command` lines and plain fields together.
    pub max_params: usize,
    /// Bytes in one key.
    pub max_key_bytes: usize,
    /// Bytes in one value (after decoding).
    pub max_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_params: 256,
            max_key_bytes: 64,
            max_value_bytes: 4096,
        }
    }
}

/// Who is calling: the `s_*` fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// `s_entity`: which system (HEXONET: `54cd` live, `1234` test).
    pub entity: Option<String>,
    /// `s_login`.
    pub login: Option<String>,
    /// `s_pw`.
    pub password: Option<Secret>,
    /// `s_session`: a session from `StartSession`, instead of login and password.
    pub session: Option<Secret>,
    /// `s_user`: act as this sub-user of the caller.
    pub user: Option<String>,
}

/// The command's parameters, keys upper-cased, in the order given. `Debug` shows `PASSWORD` and
/// `AUTH` values as `***`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params {
    entries: Vec<(String, String)>,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.entries {
            let secret = k.contains("PASSWORD") || k.starts_with("AUTH");
            m.entry(k, if secret { &"***" } else { v });
        }
        m.finish()
    }
}

impl Params {
    /// The value of `key` (any case).
    ///
    /// ```
    /// let mut p = backorder_core::api::Params::default();
    /// p.insert("domain", "john.com").unwrap();
    /// assert_eq!(p.get("DOMAIN"), Some("john.com"));
    /// ```
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// A list parameter: `KEY0`, `KEY1`, … in order; a bare `KEY` alone counts as `KEY0`. A gap
    /// in the numbers, or a bare `KEY` beside numbered ones, is refused (505): a list silently cut
    /// short would answer a filter as if it had not been given.
    ///
    /// ```
    /// let mut p = backorder_core::api::Params::default();
    /// p.insert("DOMAIN1", "b.com").unwrap();
    /// p.insert("domain0", "a.com").unwrap();
    /// assert_eq!(p.list("domain").unwrap(), vec!["a.com", "b.com"]);
    /// p.insert("DOMAIN3", "d.com").unwrap();
    /// assert!(p.list("DOMAIN").is_err());
    /// ```
    pub fn list(&self, key: &str) -> Result<Vec<&str>, Refusal> {
        let mut numbered: Vec<(usize, &str)> = Vec::new();
        let mut bare = None;
        for (k, v) in &self.entries {
            let Some(rest) = k
                .get(..key.len())
                .filter(|head| head.eq_ignore_ascii_case(key))
                .map(|_| &k[key.len()..])
            else {
                continue;
            };
            if rest.is_empty() {
                bare = Some(v.as_str());
            } else if rest.bytes().all(|b| b.is_ascii_digit()) {
                let i = rest
                    .parse::<usize>()
                    .map_err(|_| Refusal::syntax(format!("{k} is not a list index")))?;
                numbered.push((i, v.as_str()));
            }
        }
        let upper = key.to_ascii_uppercase();
        match (bare, numbered.is_empty()) {
            (Some(v), true) => return Ok(vec![v]),
            (Some(_), false) => {
                return Err(Refusal::syntax(format!(
                    "{upper} and {upper}0, {upper}1, … given together"
                )))
            }
            _ => {}
        }
        numbered.sort_unstable_by_key(|(i, _)| *i);
        for (expected, (i, _)) in numbered.iter().enumerate() {
            if *i != expected {
                return Err(Refusal::syntax(format!(
                    "{upper}{expected} is missing before {upper}{i}"
                )));
            }
        }
        Ok(numbered.into_iter().map(|(_, v)| v).collect())
    }

    /// Adds a parameter. A key given twice, a key that is not letters, digits, `-` and `_`, or a
    /// value with control characters is refused.
    pub fn insert(&mut self, key: &str, value: &str) -> Result<(), Refusal> {
        let key = key.trim();
        if key.is_empty()
            || !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Refusal::syntax(format!(
                "parameter name '{}' must be letters, digits, '-' and '_'",
                printable(key, 64)
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(Refusal::syntax(format!(
                "{} has control characters",
                key.to_ascii_uppercase()
            )));
        }
        if self.get(key).is_some() {
            return Err(Refusal::syntax(format!(
                "{} given twice",
                key.to_ascii_uppercase()
            )));
        }
        self.entries
            .push((key.to_ascii_uppercase(), value.trim().to_string()));
        Ok(())
    }

    /// Every parameter, keys upper-cased, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// No parameters.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A decoded request.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The `s_*` fields.
    pub credentials: Credentials,
    /// The command and its parameters, from `s_command` and the plain fields.
    pub params: Params,
}

/// Why a request was refused before it reached a command: the code and the detail to answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The response code.
    pub code: Code,
    /// What was wrong (never echoes a secret).
    pub detail: String,
}

impl Refusal {
    /// A refusal with `code`.
    pub fn new(code: Code, detail: impl Into<String>) -> Refusal {
        Refusal {
            code,
            detail: detail.into(),
        }
    }

    pub(crate) fn syntax(detail: impl Into<String>) -> Refusal {
        Refusal::new(Code::InvalidSyntax, detail)
    }

    /// The response to send for it.
    pub fn response(&self) -> Response {
        Response::error(self.code, &self.detail)
    }
}

impl Request {
    /// Decodes a request from its URL query string and its form-encoded body
    /// (`application/x-www-form-urlencoded`); either may be empty. Both are read the same way; a
    /// field in both is refused as given twice.
    pub fn from_form(query: &[u8], body: &[u8], limits: &Limits) -> Result<Request, Refusal> {
        let mut req = Request::default();
        let mut s_command: Option<String> = None;
        for part in [query, body] {
            for field in part.split(|b| *b == b'&').filter(|f| !f.is_empty()) {
                let (name, value) = match field.iter().position(|b| *b == b'=') {
                    Some(i) => (&field[..i], &field[i + 1..]),
                    None => (field, &b""[..]),
                };
                let name = decode_component(name, limits.max_key_bytes, "parameter name")?;
                let value = decode_component(value, value_cap(&name, limits), &name)?;
                req.take_field(&name, value, &mut s_command, limits)?;
            }
        }
        if let Some(lines) = s_command {
            for line in lines.split('\n') {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line.trim().is_empty() {
                    continue;
                }
                let Some((key, value)) = line.split_once('=') else {
                    return Err(Refusal::syntax(format!(
                        "s_command line '{}' is not KEY=VALUE",
                        printable(line, 64)
                    )));
                };
                req.push_param(key, value, limits)?;
            }
        }
        Ok(req)
    }

    fn take_field(
        &mut self,
        name: &str,
        value: String,
        s_command: &mut Option<String>,
        limits: &Limits,
    ) -> Result<(), Refusal> {
        let lower = name.trim().to_ascii_lowercase();
        let slot = match lower.as_str() {
            "s_command" => {
                if s_command.is_some() {
                    return Err(Refusal::syntax("s_command given twice"));
                }
                *s_command = Some(value);
                return Ok(());
            }
            "s_entity" => Slot::Plain(&mut self.credentials.entity),
            "s_login" => Slot::Plain(&mut self.credentials.login),
            "s_user" => Slot::Plain(&mut self.credentials.user),
            "s_pw" => Slot::Secret(&mut self.credentials.password),
            "s_session" => Slot::Secret(&mut self.credentials.session),
            _ => return self.push_param(name, &value, limits),
        };
        if value.chars().any(char::is_control) {
            return Err(Refusal::syntax(format!("{lower} has control characters")));
        }
        let given_twice = || Refusal::syntax(format!("{lower} given twice"));
        match slot {
            Slot::Plain(s) if s.is_none() => *s = Some(value),
            Slot::Secret(s) if s.is_none() => *s = Some(Secret::new(value)),
            _ => return Err(given_twice()),
        }
        Ok(())
    }

    fn push_param(&mut self, key: &str, value: &str, limits: &Limits) -> Result<(), Refusal> {
        if self.params.len() >= limits.max_params {
            return Err(Refusal::syntax(format!(
                "more than {} parameters",
                limits.max_params
            )));
        }
        if key.trim().len() > limits.max_key_bytes {
            return Err(Refusal::syntax(format!(
                "a parameter name is longer than {} bytes",
                limits.max_key_bytes
            )));
        }
        if value.len() > limits.max_value_bytes {
            return Err(Refusal::syntax(format!(
                "{} is longer than {} bytes",
                printable(key.trim(), 64).to_ascii_uppercase(),
                limits.max_value_bytes
            )));
        }
        self.params.insert(key, value)
    }
}

enum Slot<'a> {
    Plain(&'a mut Option<String>),
    Secret(&'a mut Option<Secret>),
}

/// `s_command` holds a whole command: it may be as long as all its lines together.
fn value_cap(name: &str, limits: &Limits) -> usize {
    if name.trim().eq_ignore_ascii_case("s_command") {
        limits
            .max_params
            .saturating_mul(limits.max_key_bytes + limits.max_value_bytes + 2)
    } else {
        limits.max_value_bytes
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn decode_component(raw: &[u8], cap: usize, what: &str) -> Result<String, Refusal> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (
                    raw.get(i + 1).and_then(|b| hex(*b)),
                    raw.get(i + 2).and_then(|b| hex(*b)),
                ) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => {
                        return Err(Refusal::syntax(format!(
                            "{} has a bad %-escape",
                            printable(what, 64)
                        )))
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        if out.len() > cap {
            return Err(Refusal::syntax(format!(
                "{} is longer than {cap} bytes",
                printable(what, 64)
            )));
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| Refusal::syntax(format!("{} is not UTF-8", printable(what, 64))))
}

/// At most `max` characters of `s`, control characters shown as `?`: safe to put in a
/// description.
pub(crate) fn printable(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A response: code, description, properties. Written as HEXONET's plain-text format.
///
/// ```
/// use backorder_core::api::{Code, Response};
/// let mut r = Response::ok();
/// r.add("APPLICATION", "17");
/// let text = String::from_utf8(r.to_bytes(None)).unwrap();
/// assert_eq!(text, "[RESPONSE]\nCODE = 200\nDESCRIPTION = Command completed successfully\n\
///     PROPERTY[APPLICATION][0] = 17\nEOF\n");
/// assert_eq!(Response::error(Code::NotFound, "application 9").code(), Code::NotFound);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    code: Code,
    detail: Option<String>,
    properties: Vec<(String, Vec<String>)>,
}

impl Response {
    /// `200 Command completed successfully`, no properties yet.
    pub fn ok() -> Response {
        Response {
            code: Code::Ok,
            detail: None,
            properties: Vec::new(),
        }
    }

    /// An error: the code's description, then `; detail` when there is one.
    pub fn error(code: Code, detail: &str) -> Response {
        Response {
            code,
            detail: (!detail.is_empty()).then(|| printable(detail, 512)),
            properties: Vec::new(),
        }
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The description line: the code's text, and the detail after `; `.
    pub fn description(&self) -> String {
        match &self.detail {
            Some(d) => format!("{}; {d}", self.code.description()),
            None => self.code.description().to_string(),
        }
    }

    /// Appends `value` to property `name` (upper case by convention).
    pub fn add(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.properties.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => values.push(value),
            None => self.properties.push((name.to_string(), vec![value])),
        }
    }

    /// Appends a time as `YYYY-MM-DD HH:MM:SS` (UTC); no time is `0000-00-00 00:00:00`, as
    /// HEXONET writes it (clients cut dates at fixed widths).
    pub fn add_time(&mut self, name: &str, at: Option<DateTime<Utc>>) {
        match at {
            Some(t) => self.add(name, format_time(t)),
            None => self.add(name, NO_TIME),
        }
    }

    /// The values of property `name`.
    pub fn property(&self, name: &str) -> &[String] {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }

    /// Every property, in the order first added.
    pub fn properties(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.properties
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// Writes the response: `[RESPONSE]`, `CODE`, `DESCRIPTION`, the properties,
    /// `RUNTIME` (seconds, three decimals, when given), `QUEUETIME`, `EOF`. Control characters in values are
    /// written as spaces, so no value can start a line of its own.
    pub fn write_to(&self, out: &mut Vec<u8>, runtime: Option<Duration>) {
        let mut s = String::with_capacity(64 + self.properties.len() * 40);
        s.push_str("[RESPONSE]\n");
        let _ = writeln!(s, "CODE = {}", self.code.number());
        s.push_str("DESCRIPTION = ");
        push_clean(&mut s, &self.description());
        s.push('\n');
        for (name, values) in &self.properties {
            for (i, v) in values.iter().enumerate() {
                let _ = write!(s, "PROPERTY[{name}][{i}] =");
                if !v.is_empty() {
                    s.push(' ');
                    push_clean(&mut s, v);
                }
                s.push('\n');
            }
        }
        if let Some(r) = runtime {
            let _ = writeln!(s, "RUNTIME = {}.{:03}", r.as_secs(), r.subsec_millis());
            s.push_str("QUEUETIME = 0\n");
        }
        s.push_str("EOF\n");
        out.extend_from_slice(s.as_bytes());
    }

    /// The response as bytes (see [`Response::write_to`]).
    pub fn to_bytes(&self, runtime: Option<Duration>) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_to(&mut out, runtime);
        out
    }

    /// Reads a response written by [`Response::write_to`] (or by HEXONET): for clients and
    /// tests. `RUNTIME` and `QUEUETIME` are skipped; keys are case-insensitive.
    pub fn parse(text: &str) -> Result<Response, String> {
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if lines.next() != Some("[RESPONSE]") {
            return Err("does not start with [RESPONSE]".into());
        }
        let mut code = None;
        let mut description = String::new();
        let mut properties: Vec<(String, Vec<String>)> = Vec::new();
        let mut ended = false;
        for line in lines {
            if line.eq_ignore_ascii_case("EOF") {
                ended = true;
                break;
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line '{line}' is not KEY = VALUE"))?;
            let (key, value) = (key.trim(), value.trim());
            let upper = key.to_ascii_uppercase();
            if upper == "CODE" {
                let n: u16 = value.parse().map_err(|_| format!("bad code '{value}'"))?;
                code = Some(Code::from_number(n).ok_or_else(|| format!("unknown code {n}"))?);
            } else if upper == "DESCRIPTION" {
                description = value.to_string();
            } else if let Some(rest) = upper.strip_prefix("PROPERTY[") {
                let (name, index) = rest
                    .split_once("][")
                    .and_then(|(n, i)| Some((n, i.strip_suffix(']')?.parse::<usize>().ok()?)))
                    .ok_or_else(|| format!("bad property line '{line}'"))?;
                let slot = match properties.iter().position(|(n, _)| n == name) {
                    Some(p) => p,
                    None => {
                        properties.push((name.to_string(), Vec::new()));
                        properties.len() - 1
                    }
                };
                let values = &mut properties[slot].1;
                if index != values.len() {
                    return Err(format!("property {name} index {index} out of order"));
                }
                values.push(value.to_string());
            }
        }
        if !ended {
            return Err("no EOF".into());
        }
        let code = code.ok_or("no CODE")?;
        let detail = description
            .strip_prefix(code.description())
            .map(|d| d.trim_start_matches(';').trim().to_string())
            .unwrap_or(description);
        Ok(Response {
            code,
            detail: (!detail.is_empty()).then_some(detail),
            properties,
        })
    }
}

fn push_clean(s: &mut String, v: &str) {
    s.extend(v.chars().map(|c| if c.is_control() { ' ' } else { c }));
}

/// How HEXONET writes a date that is not set.
pub const NO_TIME: &str = "0000-00-00 00:00:00";

/// A time as HEXONET writes it: `YYYY-MM-DD HH:MM:SS`, UTC.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// let t = Utc.with_ymd_and_hms(2026, 3, 1, 19, 5, 0).unwrap();
/// assert_eq!(backorder_core::api::format_time(t), "2026-03-01 19:05:00");
/// ```
pub fn format_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(query: &str, body: &str) -> Result<Request, Refusal> {
        Request::from_form(query.as_bytes(), body.as_bytes(), &Limits::default())
    }

    #[test]
    fn plain_fields_and_s_command_lines_make_one_parameter_list() {
        let r = form(
            "s_login=ann&s_pw=p%40ss",
            "s_command=command%3DQueryDomainApplicationList%0D%0ALIMIT+%3D+10%0A%0Astatus%3DACTIVE&wide=1",
        )
        .unwrap();
        assert_eq!(r.credentials.password.as_ref().unwrap().expose(), "p@ss");
        assert_eq!(r.params.get("command"), Some("QueryDomainApplicationList"));
        assert_eq!(r.params.get("limit"), Some("10"));
        assert_eq!(r.params.get("STATUS"), Some("ACTIVE"));
        assert_eq!(r.params.get("Wide"), Some("1"));
    }

    #[test]
    fn bad_forms_are_refused_with_505() {
        for (q, b) in [
            ("", "domain=a%0Ab.com"),
            ("", "domain=a.com&DOMAIN=b.com"),
            ("s_login=a&s_login=b", ""),
            ("", "domain=%zz"),
            ("", "domain=%C3"),
            ("", "s_command=nokey"),
            ("", "bad%20key=1"),
            ("s_login=a%0D", ""),
        ] {
            let e = form(q, b).unwrap_err();
            assert_eq!(e.code, Code::InvalidSyntax, "{q} {b}");
        }
    }

    #[test]
    fn lists_with_gaps_are_refused_not_cut_short() {
        let r = form("", "status1=ACTIVE").unwrap();
        assert_eq!(
            r.params.list("STATUS").unwrap_err().code,
            Code::InvalidSyntax
        );
        let r = form("", "domain=a.com&domain1=b.com").unwrap();
        assert!(r.params.list("DOMAIN").is_err());
        let r = form("", "domainregex=x&domain=a.com").unwrap();
        assert_eq!(r.params.list("DOMAIN").unwrap(), ["a.com"]);
        let r = form("", "s_command=DOMAIN1%3Db.com%0ADOMAIN0%3Da.com").unwrap();
        assert_eq!(r.params.list("DOMAIN").unwrap(), ["a.com", "b.com"]);
        let r = form("", "password=hunter2&x=1").unwrap();
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    #[test]
    fn caps_are_enforced() {
        let limits = Limits {
            max_params: 2,
            max_key_bytes: 8,
            max_value_bytes: 4,
        };
        assert!(Request::from_form(b"", b"a=1&b=2", &limits).is_ok());
        assert!(Request::from_form(b"", b"a=1&b=2&c=3", &limits).is_err());
        assert!(Request::from_form(b"", b"a=12345", &limits).is_err());
        assert!(Request::from_form(b"", b"abcdefghi=1", &limits).is_err());
    }

    #[test]
    fn responses_never_let_a_value_start_a_line() {
        let mut r = Response::error(Code::InvalidValue, "bad\r\nCODE = 200");
        r.add("DOMAIN", "x\nEOF");
        let text = String::from_utf8(r.to_bytes(Some(Duration::from_micros(1500)))).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("CODE")).count(), 1);
        assert_eq!(text.lines().filter(|l| *l == "EOF").count(), 1);
        assert!(text.contains("RUNTIME = 0.001\n"));
        let back = Response::parse(&text).unwrap();
        assert_eq!(back.code(), Code::InvalidValue);
        assert_eq!(back.property("DOMAIN"), ["x EOF"]);
    }

    #[test]
    fn responses_read_back() {
        let mut r = Response::ok();
        r.add("A", "1");
        r.add("A", "2");
        r.add("B", "");
        let back = Response::parse(&String::from_utf8(r.to_bytes(None)).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
