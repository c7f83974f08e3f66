//! The commands of the API, read from a request's parameters into typed values. Reading checks
//! syntax only (504 for a missing parameter, 505 for one that does not parse, 541 for a value
//! outside its set); the engine checks the rest when the command runs.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::codes::Code;
use super::wire::{printable, Params, Refusal};
use crate::account::Contacts;
use crate::lifecycle::Status;
use crate::search::{KeywordMode, MatchAt, OrderBy, SearchQuery};

/// The most rows one list command returns.
pub const MAX_LIMIT: u64 = 10_000;
/// The rows a list command returns when `LIMIT` is not given.
pub const DEFAULT_LIMIT: u64 = 100;
/// The most names one `ConvertIDN` converts.
pub const MAX_CONVERT: usize = 100;
/// The longest `DOMAIN` or `CLASS` pattern a list accepts (a name is at most 253).
pub const MAX_PATTERN_CHARS: usize = 255;

/// `AddDomainApplication` with `CLASS=BACKORDER`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddApplication {
    /// `DOMAIN`.
    pub domain: String,
    /// `CLASS` as given: `BACKORDER`, or the zone's class such as `COM_BACKORDER`.
    pub class: String,
    /// `PERIOD`, in years: when given, must be the zone's registration period.
    pub period: Option<u32>,
    /// `OWNERCONTACT0`, `ADMINCONTACT0`, `TECHCONTACT0`, `BILLINGCONTACT0`.
    pub contacts: Contacts,
    /// `X-BACKORDER-LITE=1`.
    pub lite: bool,
    /// `INCOMPLETE=1`: accept the application without the contacts the zone needs; it waits
    /// INCOMPLETE until the account has them. Without it such an application is refused (504).
    pub incomplete: bool,
    /// `NEW=1`: place a new application even when the account has an open one for the name
    /// (which the engine refuses: `540`). Without it, an open application of the account for the
    /// same name with the same data (lite flag and contacts) is answered instead.
    pub new: bool,
    /// `X-IDEMPOTENCY-KEY` (this API's own): a retry with the same key answers the first
    /// application instead of placing another.
    pub idempotency_key: Option<String>,
}

/// Whose applications a list shows (`USERDEPTH`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserDepth {
    /// `SELF`: the account's own.
    SelfOnly,
    /// `SUBUSER`: its sub-users' only.
    SubUsers,
    /// `ALL` (the default): its own and its sub-users'.
    #[default]
    All,
}

/// The column an application list is ordered by (`ORDERBY`; `…DESC` reverses it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ApplicationOrder {
    /// `APPLICATION` (the default): oldest first.
    #[default]
    Application,
    /// `CLASS`.
    Class,
    /// `DOMAIN`.
    Domain,
    /// `USER`: the account.
    User,
    /// `STATUS`.
    Status,
    /// `CREATEDDATE`.
    CreatedDate,
    /// `UPDATEDDATE`.
    UpdatedDate,
    /// `REGISTRATIONEXPIRATIONDATE`: when a caught name's registration ends (none last).
    RegistrationExpirationDate,
    /// `DROPDATE`: the name's deletion time (unknown ones last).
    DropDate,
}

/// `QueryDomainApplicationList`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationQuery {
    /// `FIRST`: rows to skip.
    pub first: u64,
    /// `LIMIT`: rows to return.
    pub limit: u64,
    /// `ORDERBY`.
    pub order: ApplicationOrder,
    /// `ORDERBY=…DESC` or `ORDER=DESC`.
    pub descending: bool,
    /// `USERDEPTH`.
    pub depth: UserDepth,
    /// `STATUS` (or `STATUS0`, `STATUS1`, …): only these statuses.
    pub statuses: Vec<Status>,
    /// `DOMAIN` (or `DOMAIN0`, …): names or patterns with `*` (any run) and `?` (one
    /// character); a row matching one of them is kept.
    pub domains: Vec<String>,
    /// `DOMAINREGEX`: a regular expression the name (ASCII form) must match.
    pub domain_regex: Option<String>,
    /// `CLASS` (or `CLASS0`, …): classes or patterns (`COM_BACKORDER`, `*_BACKORDER`).
    pub classes: Vec<String>,
    /// `OWNERCONTACT`: only applications with this owner handle.
    pub owner_contact: Option<String>,
    /// `WIDE=1`: every column, not only the key ones.
    pub wide: bool,
}

/// A command of the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// `AddDomainApplication`: place a backorder.
    AddDomainApplication(AddApplication),
    /// `StatusDomainApplication`: one backorder (`APPLICATION`).
    StatusDomainApplication {
        /// `APPLICATION`.
        application: u64,
    },
    /// `QueryDomainApplicationList`: the caller's backorders, filtered and paged.
    QueryDomainApplicationList(ApplicationQuery),
    /// `ModifyDomainApplication`: change a backorder's contacts.
    ModifyDomainApplication {
        /// `APPLICATION`.
        application: u64,
        /// The contacts to set (`OWNERCONTACT0`, …); roles not given are left as they are.
        contacts: Contacts,
    },
    /// `DeleteDomainApplication`: cancel a backorder.
    DeleteDomainApplication {
        /// `APPLICATION`.
        application: u64,
        /// `X-IDEMPOTENCY-KEY`.
        idempotency_key: Option<String>,
    },
    /// `PayDomainApplication`: pay what is due (exclusive price, auction price).
    PayDomainApplication {
        /// `APPLICATION`.
        application: u64,
        /// `X-IDEMPOTENCY-KEY`.
        idempotency_key: Option<String>,
    },
    /// `BidDomainApplication`: a proxy bid in the application's private auction.
    BidDomainApplication {
        /// `APPLICATION`.
        application: u64,
        /// `AMOUNT`: the most the customer will pay.
        amount: Decimal,
        /// `X-IDEMPOTENCY-KEY`.
        idempotency_key: Option<String>,
    },
    /// `QueryDomainPendingDeleteList`: search the pending-delete catalog.
    QueryDomainPendingDeleteList(SearchQuery),
    /// `QueryDepositList`: the account's balance, reserved deposits and statement.
    QueryDepositList {
        /// `FIRST`.
        first: u64,
        /// `LIMIT`.
        limit: u64,
    },
    /// `CheckAuthentication`: succeeds when the credentials do; with `SUBUSER` and `PASSWORD`,
    /// when that sub-user's do.
    CheckAuthentication {
        /// `SUBUSER`.
        sub_user: Option<String>,
        /// `PASSWORD`.
        password: Option<crate::secret::Secret>,
    },
    /// `StartSession`: a session id to use as `s_session` instead of the password.
    StartSession {
        /// `TIMEOUT`: seconds idle before the session ends (60 to 3,600; 600).
        idle_secs: u32,
        /// `MAXTTL`: seconds the session lives at most (60 to 86,400; 86,400).
        max_secs: u32,
    },
    /// `EndSession`: ends the session the request came with.
    EndSession,
    /// `ConvertIDN`: names (`DOMAIN0`, `DOMAIN1`, …) to their ASCII and Unicode forms.
    ConvertIdn {
        /// The names as given.
        domains: Vec<String>,
    },
}

impl Command {
    /// Every command name, as written on the wire.
    pub const NAMES: [&'static str; 13] = [
        "AddDomainApplication",
        "StatusDomainApplication",
        "QueryDomainApplicationList",
        "ModifyDomainApplication",
        "DeleteDomainApplication",
        "PayDomainApplication",
        "BidDomainApplication",
        "QueryDomainPendingDeleteList",
        "QueryDepositList",
        "CheckAuthentication",
        "StartSession",
        "EndSession",
        "ConvertIDN",
    ];

    /// Reads the command `COMMAND` names (any case) from the parameters.
    ///
    /// ```
    /// use backorder_core::api::{Command, Params};
    /// let mut p = Params::default();
    /// p.insert("command", "statusdomainapplication").unwrap();
    /// p.insert("application", "7").unwrap();
    /// assert_eq!(Command::parse(&p).unwrap(), Command::StatusDomainApplication { application: 7 });
    /// ```
    pub fn parse(p: &Params) -> Result<Command, Refusal> {
        let name = p
            .get("COMMAND")
            .ok_or_else(|| Refusal::new(Code::UnknownCommand, "no COMMAND"))?;
        let known = Command::NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .ok_or_else(|| Refusal::new(Code::UnknownCommand, printable(name, 64)))?;
        Ok(match *known {
            "AddDomainApplication" => Command::AddDomainApplication(add(p)?),
            "StatusDomainApplication" => Command::StatusDomainApplication {
                application: application(p)?,
            },
            "QueryDomainApplicationList" => Command::QueryDomainApplicationList(list(p)?),
            "ModifyDomainApplication" => {
                // Only the contacts of a backorder can change; anything else HEXONET's command
                // takes is refused rather than answered as if it had been applied.
                unsupported(
                    p,
                    &["X-BACKORDER-LITE", "PERIOD", "NAMESERVER", "AUTH", "CLASS"],
                )?;
                Command::ModifyDomainApplication {
                    application: application(p)?,
                    contacts: contacts(p)?,
                }
            }
            "DeleteDomainApplication" => Command::DeleteDomainApplication {
                application: application(p)?,
                idempotency_key: key(p),
            },
            "PayDomainApplication" => Command::PayDomainApplication {
                application: application(p)?,
                idempotency_key: key(p),
            },
            "BidDomainApplication" => Command::BidDomainApplication {
                application: application(p)?,
                amount: decimal(p, "AMOUNT")?,
                idempotency_key: key(p),
            },
            "QueryDomainPendingDeleteList" => Command::QueryDomainPendingDeleteList(search(p)?),
            "QueryDepositList" => {
                // Another account's statement is asked for with s_user, not SUBUSER.
                unsupported(p, &["ACCOUNTINGTYPE", "SUBUSER"])?;
                if let Some(d) =
                    optional(p, "USERDEPTH").filter(|d| !d.eq_ignore_ascii_case("SELF"))
                {
                    return Err(bad_value(
                        "USERDEPTH",
                        d,
                        "SELF (use s_user for a sub-user)",
                    ));
                }
                Command::QueryDepositList {
                    first: number(p, "FIRST")?.unwrap_or(0),
                    limit: limit(p)?,
                }
            }
            "CheckAuthentication" => {
                let sub_user = optional(p, "SUBUSER").map(String::from);
                let password =
                    optional(p, "PASSWORD").map(|s| crate::secret::Secret::new(s.into()));
                if sub_user.is_some() && password.is_none() {
                    return Err(missing("PASSWORD"));
                }
                if password.is_some() && sub_user.is_none() {
                    return Err(missing("SUBUSER"));
                }
                Command::CheckAuthentication { sub_user, password }
            }
            "StartSession" => Command::StartSession {
                idle_secs: bounded(p, "TIMEOUT", 60, 3600, 600)?,
                max_secs: bounded(p, "MAXTTL", 60, 86_400, 86_400)?,
            },
            "EndSession" => Command::EndSession,
            "ConvertIDN" => {
                let domains: Vec<String> =
                    p.list("DOMAIN")?.into_iter().map(String::from).collect();
                if domains.is_empty() {
                    return Err(missing("DOMAIN0"));
                }
                if domains.len() > MAX_CONVERT {
                    return Err(Refusal::syntax(format!(
                        "at most {MAX_CONVERT} names at once"
                    )));
                }
                Command::ConvertIdn { domains }
            }
            _ => unreachable!("every name in NAMES is matched"),
        })
    }

    /// The command's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Command::AddDomainApplication(_) => "AddDomainApplication",
            Command::StatusDomainApplication { .. } => "StatusDomainApplication",
            Command::QueryDomainApplicationList(_) => "QueryDomainApplicationList",
            Command::ModifyDomainApplication { .. } => "ModifyDomainApplication",
            Command::DeleteDomainApplication { .. } => "DeleteDomainApplication",
            Command::PayDomainApplication { .. } => "PayDomainApplication",
            Command::BidDomainApplication { .. } => "BidDomainApplication",
            Command::QueryDomainPendingDeleteList(_) => "QueryDomainPendingDeleteList",
            Command::QueryDepositList { .. } => "QueryDepositList",
            Command::CheckAuthentication { .. } => "CheckAuthentication",
            Command::StartSession { .. } => "StartSession",
            Command::EndSession => "EndSession",
            Command::ConvertIdn { .. } => "ConvertIDN",
        }
    }
}

fn missing(key: &str) -> Refusal {
    Refusal::new(Code::MissingAttribute, key)
}

fn bad_syntax(key: &str, value: &str, expected: &str) -> Refusal {
    Refusal::syntax(format!(
        "{key} '{}' is not {expected}",
        printable(value, 64)
    ))
}

fn bad_value(key: &str, value: &str, expected: &str) -> Refusal {
    Refusal::new(
        Code::InvalidValue,
        format!("{key} '{}' is not {expected}", printable(value, 64)),
    )
}

fn required<'a>(p: &'a Params, key: &str) -> Result<&'a str, Refusal> {
    p.get(key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(key))
}

fn optional<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).filter(|v| !v.is_empty())
}

fn application(p: &Params) -> Result<u64, Refusal> {
    let v = required(p, "APPLICATION")?;
    v.parse()
        .map_err(|_| bad_syntax("APPLICATION", v, "an application number"))
}

fn number(p: &Params, key: &str) -> Result<Option<u64>, Refusal> {
    optional(p, key)
        .map(|v| v.parse().map_err(|_| bad_syntax(key, v, "a whole number")))
        .transpose()
}

fn limit(p: &Params) -> Result<u64, Refusal> {
    match number(p, "LIMIT")? {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(n) => Err(bad_value(
            "LIMIT",
            &n.to_string(),
            &format!("from 1 to {MAX_LIMIT}"),
        )),
    }
}

fn bounded(p: &Params, key: &str, min: u32, max: u32, default: u32) -> Result<u32, Refusal> {
    match number(p, key)? {
        None => Ok(default),
        Some(n) if (u64::from(min)..=u64::from(max)).contains(&n) => Ok(n as u32),
        Some(n) => Err(bad_value(
            key,
            &n.to_string(),
            &format!("from {min} to {max}"),
        )),
    }
}

/// Refuses filters HEXONET documents that this API does not apply, rather than answering as if
/// they had been applied.
fn unsupported(p: &Params, keys: &[&str]) -> Result<(), Refusal> {
    for key in keys {
        if !p.list(key)?.is_empty() {
            return Err(Refusal::new(
                Code::InvalidValue,
                format!("{key} is not supported by this registrar"),
            ));
        }
    }
    Ok(())
}

fn flag(p: &Params, key: &str) -> Result<bool, Refusal> {
    match optional(p, key) {
        None | Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(v) => Err(bad_syntax(key, v, "0 or 1")),
    }
}

fn decimal(p: &Params, key: &str) -> Result<Decimal, Refusal> {
    let v = required(p, key)?;
    v.parse::<Decimal>()
        .map_err(|_| bad_syntax(key, v, "a decimal amount"))
}

fn key(p: &Params) -> Option<String> {
    optional(p, "X-IDEMPOTENCY-KEY").map(String::from)
}

fn contacts(p: &Params) -> Result<Contacts, Refusal> {
    let role = |key: &str| -> Result<Option<crate::key::Key>, Refusal> {
        let list = p.list(key)?;
        match list.as_slice() {
            [] => Ok(None),
            [""] => Ok(None),
            [one] => Ok(Some((*one).into())),
            _ => Err(Refusal::new(
                Code::InvalidValue,
                format!("one {key} only (a backorder has one handle per role)"),
            )),
        }
    };
    let c = Contacts {
        owner: role("OWNERCONTACT")?,
        admin: role("ADMINCONTACT")?,
        tech: role("TECHCONTACT")?,
        billing: role("BILLINGCONTACT")?,
    };
    c.validate()
        .map_err(|e| Refusal::new(Code::InvalidValue, e.to_string()))?;
    Ok(c)
}

fn add(p: &Params) -> Result<AddApplication, Refusal> {
    let class = required(p, "CLASS")?.to_string();
    let domain = required(p, "DOMAIN")?.to_string();
    let period = match optional(p, "PERIOD") {
        None => None,
        Some(v) => {
            let years = v.strip_suffix(['Y', 'y']).unwrap_or(v);
            Some(
                years
                    .parse::<u32>()
                    .map_err(|_| bad_syntax("PERIOD", v, "a number of years"))?,
            )
        }
    };
    Ok(AddApplication {
        domain,
        class,
        period,
        contacts: contacts(p)?,
        lite: flag(p, "X-BACKORDER-LITE")?,
        incomplete: flag(p, "INCOMPLETE")?,
        new: flag(p, "NEW")?,
        idempotency_key: key(p),
    })
}

/// `ORDERBY` and `ORDER`: the column and whether it is reversed.
fn order_by<T: Copy>(p: &Params, columns: &[(&str, T)], default: T) -> Result<(T, bool), Refusal> {
    let mut descending = match optional(p, "ORDER") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("ASC") => false,
        Some(v) if v.eq_ignore_ascii_case("DESC") => true,
        Some(v) => return Err(bad_value("ORDER", v, "ASC or DESC")),
    };
    let Some(v) = optional(p, "ORDERBY") else {
        return Ok((default, descending));
    };
    let upper = v.to_ascii_uppercase();
    let column = match upper.strip_suffix("DESC") {
        Some(c) if !c.is_empty() => {
            descending = true;
            c
        }
        _ => upper.as_str(),
    };
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    columns
        .iter()
        .find(|(n, _)| *n == column)
        .map(|(_, c)| (*c, descending))
        .ok_or_else(|| bad_value("ORDERBY", v, &format!("one of {}", names.join(", "))))
}

fn list(p: &Params) -> Result<ApplicationQuery, Refusal> {
    use ApplicationOrder as O;
    let (order, descending) = order_by(
        p,
        &[
            ("APPLICATION", O::Application),
            ("CLASS", O::Class),
            ("DOMAIN", O::Domain),
            ("USER", O::User),
            ("STATUS", O::Status),
            ("CREATEDDATE", O::CreatedDate),
            ("UPDATEDDATE", O::UpdatedDate),
            ("REGISTRATIONEXPIRATIONDATE", O::RegistrationExpirationDate),
            ("DROPDATE", O::DropDate),
        ],
        O::Application,
    )?;
    let depth = match optional(p, "USERDEPTH") {
        None => UserDepth::All,
        Some(v) if v.eq_ignore_ascii_case("SELF") => UserDepth::SelfOnly,
        Some(v) if v.eq_ignore_ascii_case("SUBUSER") => UserDepth::SubUsers,
        Some(v) if v.eq_ignore_ascii_case("ALL") => UserDepth::All,
        Some(v) => return Err(bad_value("USERDEPTH", v, "SELF, SUBUSER or ALL")),
    };
    let mut statuses = Vec::new();
    for s in p.list("STATUS")? {
        for one in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            statuses.push(
                one.to_ascii_uppercase()
                    .parse::<Status>()
                    .map_err(|_| bad_value("STATUS", one, "a backorder status"))?,
            );
        }
    }
    let strings = |key: &str| -> Result<Vec<String>, Refusal> {
        let values: Vec<String> = p
            .list(key)?
            .into_iter()
            .filter(|v| !v.is_empty())
            .map(String::from)
            .collect();
        if let Some(v) = values
            .iter()
            .find(|v| v.chars().count() > MAX_PATTERN_CHARS)
        {
            return Err(bad_syntax(
                key,
                v,
                &format!("a pattern of at most {MAX_PATTERN_CHARS} characters"),
            ));
        }
        Ok(values)
    };
    Ok(ApplicationQuery {
        first: number(p, "FIRST")?.unwrap_or(0),
        limit: limit(p)?,
        order,
        descending,
        depth,
        statuses,
        domains: strings("DOMAIN")?,
        domain_regex: optional(p, "DOMAINREGEX").map(String::from),
        classes: strings("CLASS")?,
        owner_contact: optional(p, "OWNERCONTACT").map(String::from),
        wide: flag(p, "WIDE")?,
    })
}

/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC); a bare date is its first second (or, for the end
/// of a range, its last).
fn time(p: &Params, key: &str, end_of_day: bool) -> Result<Option<DateTime<Utc>>, Refusal> {
    let Some(v) = optional(p, key) else {
        return Ok(None);
    };
    if let Ok(t) = NaiveDateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S") {
        return Ok(Some(t.and_utc()));
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| bad_syntax(key, v, "YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"))?;
    let t = if end_of_day {
        d.and_hms_opt(23, 59, 59)
    } else {
        d.and_hms_opt(0, 0, 0)
    };
    Ok(t.map(|t| t.and_utc()))
}

fn search(p: &Params) -> Result<SearchQuery, Refusal> {
    unsupported(p, &["SCORE"])?;
    if let Some(v) = optional(p, "ORDERBY") {
        let v = v.to_ascii_uppercase();
        if v.starts_with("SCORE") || v == "RANDOM" {
            return Err(Refusal::new(
                Code::InvalidValue,
                format!("ORDERBY {v} is not supported by this registrar"),
            ));
        }
    }
    let (order_by, descending) = order_by(
        p,
        &[
            ("NAME", OrderBy::Name),
            ("DELETIONDAY", OrderBy::DeletionDay),
            ("FINALIZATIONDATE", OrderBy::FinalizationDate),
        ],
        OrderBy::Name,
    )?;
    let mut keywords = Vec::new();
    for k in p.list("KEYWORD")? {
        keywords.extend(k.split_whitespace().map(String::from));
    }
    let mut zones = Vec::new();
    for z in p.list("ZONE")? {
        zones.extend(
            z.split(',')
                .map(str::trim)
                .filter(|z| !z.is_empty())
                .map(|z| z.to_ascii_lowercase()),
        );
    }
    let keyword_mode = match optional(p, "KEYWORDCATENATION") {
        None => KeywordMode::And,
        Some(v) if v.eq_ignore_ascii_case("AND") => KeywordMode::And,
        Some(v) if v.eq_ignore_ascii_case("OR") => KeywordMode::Or,
        Some(v) => return Err(bad_value("KEYWORDCATENATION", v, "AND or OR")),
    };
    let match_at = match optional(p, "KEYWORDMATCH") {
        None => MatchAt::Any,
        Some(v) if v.eq_ignore_ascii_case("BEGIN") => MatchAt::Begin,
        Some(v) if v.eq_ignore_ascii_case("END") => MatchAt::End,
        Some(v) if v.eq_ignore_ascii_case("ANY") => MatchAt::Any,
        Some(v) => return Err(bad_value("KEYWORDMATCH", v, "BEGIN, END or ANY")),
    };
    let one = |key: &str| -> Result<Option<&str>, Refusal> {
        match p.list(key)?.as_slice() {
            [] => Ok(None),
            [v] => Ok(Some(*v).filter(|v| !v.is_empty())),
            _ => Err(Refusal::new(Code::InvalidValue, format!("one {key} only"))),
        }
    };
    let deletion_day = one("DELETIONDAY")?
        .map(|v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| bad_syntax("DELETIONDAY", v, "YYYY-MM-DD"))
        })
        .transpose()?;
    let mut finalization_from = time(p, "MINFINALIZATIONDATE", false)?;
    let mut finalization_to = time(p, "MAXFINALIZATIONDATE", true)?;
    if let Some(v) = one("FINALIZATIONDATE")? {
        // A day is the whole day; a time is that second.
        let mut day = Params::default();
        day.insert("FINALIZATIONDATE", v)?;
        let from = time(&day, "FINALIZATIONDATE", false)?;
        let to = time(&day, "FINALIZATIONDATE", true)?;
        finalization_from = finalization_from.max(from);
        finalization_to = match (finalization_to, to) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    let mut lengths = Vec::new();
    for v in p.list("LENGTH")? {
        let n: u32 = v
            .parse()
            .ok()
            .filter(|n| (1..=63).contains(n))
            .ok_or_else(|| bad_syntax("LENGTH", v, "a length from 1 to 63"))?;
        lengths.push(n);
    }
    lengths.sort_unstable();
    lengths.dedup();
    if lengths.windows(2).any(|w| w[1] != w[0] + 1) {
        return Err(Refusal::new(
            Code::InvalidValue,
            "LENGTH values must be consecutive (a range of lengths)",
        ));
    }
    let (mut no_hyphens, mut no_numbers, mut no_idns) = (false, false, false);
    for f in p.list("FILTER")? {
        match f.to_ascii_uppercase().as_str() {
            "NOHYPHENS" => no_hyphens = true,
            "NONUMBERS" => no_numbers = true,
            "NOIDNS" => no_idns = true,
            "" => {}
            _ => return Err(bad_value("FILTER", f, "NOHYPHENS, NONUMBERS or NOIDNS")),
        }
    }
    Ok(SearchQuery {
        keywords,
        keyword_mode,
        match_at,
        zones,
        deletion_day,
        finalization_from,
        finalization_to,
        min_length: lengths.first().copied(),
        max_length: lengths.last().copied(),
        no_hyphens,
        no_numbers,
        no_idns,
        regex: None,
        label_regex: optional(p, "REGEXP").map(String::from),
        order_by,
        descending,
        first: number(p, "FIRST")?.unwrap_or(0),
        limit: limit(p)? as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        let mut p = Params::default();
        for (k, v) in pairs {
            p.insert(k, v).unwrap();
        }
        p
    }

    #[test]
    fn the_seed_request_reads_as_a_backorder() {
        let p = params(&[
            ("command", "AddDomainApplication"),
            ("class", "BACKORDER"),
            ("domain", "john.com"),
        ]);
        let Command::AddDomainApplication(a) = Command::parse(&p).unwrap() else {
            panic!("not an add");
        };
        assert_eq!(
            (a.domain.as_str(), a.class.as_str()),
            ("john.com", "BACKORDER")
        );
        assert!(!a.lite && !a.incomplete && a.period.is_none());
    }

    #[test]
    fn missing_and_malformed_parameters_get_their_codes() {
        let cases: &[(&[(&str, &str)], Code)] = &[
            (&[], Code::UnknownCommand),
            (&[("command", "DropEverything")], Code::UnknownCommand),
            (
                &[("command", "AddDomainApplication"), ("class", "BACKORDER")],
                Code::MissingAttribute,
            ),
            (
                &[("command", "StatusDomainApplication")],
                Code::MissingAttribute,
            ),
            (
                &[
                    ("command", "StatusDomainApplication"),
                    ("application", "x1"),
                ],
                Code::InvalidSyntax,
            ),
            (
                &[("command", "QueryDomainApplicationList"), ("limit", "0")],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDomainApplicationList"),
                    ("orderby", "PRICE"),
                ],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDomainApplicationList"),
                    ("userdepth", "NONE"),
                ],
                Code::InvalidValue,
            ),
            (
                &[("command", "QueryDomainPendingDeleteList"), ("score0", "5")],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDomainPendingDeleteList"),
                    ("orderby", "RANDOM"),
                ],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDomainPendingDeleteList"),
                    ("length0", "3"),
                    ("length1", "5"),
                ],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDomainPendingDeleteList"),
                    ("filter0", "NOVOWELS"),
                ],
                Code::InvalidValue,
            ),
            (
                &[("command", "CheckAuthentication"), ("subuser", "kid")],
                Code::MissingAttribute,
            ),
            (
                &[("command", "StartSession"), ("timeout", "5")],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDepositList"),
                    ("accountingtype", "PAYMENT"),
                ],
                Code::InvalidValue,
            ),
            (
                &[
                    ("command", "QueryDomainApplicationList"),
                    ("status", "WAITING"),
                ],
                Code::InvalidValue,
            ),
            (
                &[("command", "QueryDomainApplicationList"), ("wide", "yes")],
                Code::InvalidSyntax,
            ),
            (
                &[
                    ("command", "BidDomainApplication"),
                    ("application", "1"),
                    ("amount", "1,5"),
                ],
                Code::InvalidSyntax,
            ),
            (
                &[
                    ("command", "QueryDomainPendingDeleteList"),
                    ("deletionday", "2026-13-01"),
                ],
                Code::InvalidSyntax,
            ),
            (&[("command", "ConvertIDN")], Code::MissingAttribute),
            (
                &[
                    ("command", "AddDomainApplication"),
                    ("class", "BACKORDER"),
                    ("domain", "a.com"),
                    ("ownercontact0", "x"),
                ],
                Code::InvalidValue,
            ),
        ];
        for (pairs, code) in cases {
            assert_eq!(
                Command::parse(&params(pairs)).unwrap_err().code,
                *code,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn list_order_and_filters_read() {
        let p = params(&[
            ("command", "QueryDomainApplicationList"),
            ("orderby", "domaindesc"),
            ("status0", "ACTIVE"),
            ("status1", "failed"),
            ("first", "100"),
            ("limit", "100"),
        ]);
        let Command::QueryDomainApplicationList(q) = Command::parse(&p).unwrap() else {
            panic!()
        };
        assert_eq!((q.order, q.descending), (ApplicationOrder::Domain, true));
        assert_eq!(q.statuses, [Status::Active, Status::Failed]);
        assert_eq!((q.first, q.limit), (100, 100));
    }

    #[test]
    fn pending_delete_filters_read() {
        let p = params(&[
            ("command", "QueryDomainPendingDeleteList"),
            ("keyword0", "car"),
            ("keyword1", "shop"),
            ("keywordcatenation", "or"),
            ("keywordmatch", "begin"),
            ("zone0", "COM"),
            ("zone1", "net"),
            ("deletionday", "2026-03-05"),
            ("minfinalizationdate", "2026-03-01"),
            ("maxfinalizationdate", "2026-03-04 12:00:00"),
            ("length0", "3"),
            ("length1", "4"),
            ("filter0", "NOHYPHENS"),
            ("filter1", "nonumbers"),
            ("filter2", "NOIDNS"),
            ("regexp", "^car"),
            ("orderby", "DELETIONDAYDESC"),
            ("limit", "50"),
        ]);
        let Command::QueryDomainPendingDeleteList(q) = Command::parse(&p).unwrap() else {
            panic!()
        };
        assert_eq!(q.keywords, ["car", "shop"]);
        assert_eq!(
            (q.keyword_mode, q.match_at),
            (KeywordMode::Or, MatchAt::Begin)
        );
        assert_eq!(q.zones, ["com", "net"]);
        assert_eq!(
            q.finalization_to.unwrap().to_rfc3339(),
            "2026-03-04T12:00:00+00:00"
        );
        assert_eq!(
            q.finalization_from.unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert!(q.no_hyphens && q.no_numbers && q.no_idns);
        assert_eq!(q.label_regex.as_deref(), Some("^car"));
        assert_eq!(
            (q.order_by, q.descending, q.limit),
            (OrderBy::DeletionDay, true, 50)
        );
        assert_eq!((q.min_length, q.max_length), (Some(3), Some(4)));
    }

    #[test]
    fn a_finalization_day_is_the_whole_day() {
        let p = params(&[
            ("command", "QueryDomainPendingDeleteList"),
            ("finalizationdate", "2026-03-04"),
        ]);
        let Command::QueryDomainPendingDeleteList(q) = Command::parse(&p).unwrap() else {
            panic!()
        };
        assert_eq!(
            q.finalization_from.unwrap().to_rfc3339(),
            "2026-03-04T00:00:00+00:00"
        );
        assert_eq!(
            q.finalization_to.unwrap().to_rfc3339(),
            "2026-03-04T23:59:59+00:00"
        );
    }
}
