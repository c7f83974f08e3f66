//! Runs a command for an authenticated caller against a [`Backend`] (the host's engine) and
//! writes the response. Nothing here checks passwords or holds sessions: the gateway does, and
//! hands over who the caller is.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::codes::{self, Code};
use super::command::{AddApplication, ApplicationOrder, ApplicationQuery, Command, UserDepth};
use super::wire::{printable, Response};
use crate::account::{Account, Contacts};
use crate::auction::{AuctionState, AuctionView};
use crate::backorder::{Backorder, PlaceBackorder};
use crate::error::{Error, Result};
use crate::ledger::{Balance, StatementLine, TransferKind};
use crate::name::DomainName;
use crate::policy::TldPolicy;
use crate::search::{SearchQuery, SearchResult};
use crate::secret::Secret;

/// What the dispatcher needs from the host: the engine's calls, scoped to an account, and the
/// gateway's sessions. `backorder::Engine` implements the engine part.
pub trait Backend {
    /// An account.
    fn account(&self, id: &str) -> Result<Account>;
    /// A zone's policy.
    fn policy(&self, zone: &str) -> Result<TldPolicy>;
    /// Places a backorder.
    fn place_backorder(&self, req: PlaceBackorder) -> Result<Backorder>;
    /// One of the account's backorders (another's is not found).
    fn backorder(&self, account: &str, id: u64) -> Result<Backorder>;
    /// Every backorder of the account, oldest first.
    fn backorders(&self, account: &str) -> Result<Vec<Backorder>>;
    /// Sets the roles `contacts` gives on a backorder and keeps the others, in one transaction.
    fn modify_backorder(&self, account: &str, id: u64, contacts: Contacts) -> Result<Backorder>;
    /// Cancels a backorder, once per key when a key is given.
    fn cancel_backorder(&self, account: &str, id: u64, key: Option<&str>) -> Result<Backorder>;
    /// Pays what is due on a backorder, once per key when a key is given.
    fn pay(&self, account: &str, id: u64, key: Option<&str>) -> Result<Backorder>;
    /// Bids in a backorder's auction, once per key when a key is given.
    fn bid(&self, account: &str, id: u64, max: Decimal, key: Option<&str>) -> Result<AuctionView>;
    /// A backorder's auction as its bidder sees it.
    fn auction(&self, account: &str, id: u64) -> Result<AuctionView>;
    /// Searches the pending-delete catalog.
    fn search_pending(&self, query: &SearchQuery) -> Result<SearchResult>;
    /// Balance, reserved deposits, available.
    fn balance(&self, account: &str) -> Result<Balance>;
    /// The account's journal lines after transfer `after`, at most `limit`.
    fn statement(&self, account: &str, after: u64, limit: u32) -> Result<Vec<StatementLine>>;
    /// Whether `login` is one of the caller's sub-users and `password` is its password.
    fn check_sub_user(&self, caller: &Caller, login: &str, password: &Secret) -> Result<bool>;
    /// Opens a session for the caller, ending after `idle_secs` without use or `max_secs` in all,
    /// and returns its id.
    fn start_session(&self, caller: &Caller, idle_secs: u32, max_secs: u32) -> Result<Secret>;
    /// Ends the caller's session (the one the request came with).
    fn end_session(&self, caller: &Caller) -> Result<()>;
    /// The account's sub-users at every depth, for lists with `USERDEPTH` `SUBUSER` or `ALL`.
    fn sub_users(&self, account: &str) -> Vec<String>;
}

/// Who a request runs for, once the gateway has authenticated it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// The login that authenticated.
    pub login: String,
    /// The account the command acts on: the login's, or the sub-user's named by `s_user`.
    pub account: String,
    /// The session the request came with, if any.
    pub session: Option<Secret>,
}

/// Runs `command` for `caller` and answers. An error from the engine becomes its code
/// (see [`codes::for_error`]) and changes nothing.
pub fn execute(backend: &dyn Backend, caller: &Caller, command: &Command) -> Response {
    match run(backend, caller, command) {
        Ok(r) => r,
        Err(e) => {
            let (code, detail) = codes::for_error(&e);
            Response::error(code, &detail)
        }
    }
}

fn run(backend: &dyn Backend, caller: &Caller, command: &Command) -> Result<Response> {
    let account = caller.account.as_str();
    let mut r = Response::ok();
    match command {
        Command::AddDomainApplication(add) => return add_application(backend, account, add),
        Command::StatusDomainApplication { application } => {
            let b = backend.backorder(account, *application)?;
            let period = backend
                .policy(b.domain.zone())
                .ok()
                .map(|p| p.registration_years);
            application_properties(&mut r, &b, &in_effect(backend, &b), period);
            status_properties(&mut r, &b);
            if b.auction.is_some() {
                auction_properties(&mut r, &backend.auction(account, b.id)?);
            }
        }
        Command::QueryDomainApplicationList(q) => {
            let mut all = Vec::new();
            if q.depth != UserDepth::SubUsers {
                all.extend(backend.backorders(account)?);
            }
            if q.depth != UserDepth::SelfOnly {
                for sub in backend.sub_users(account) {
                    all.extend(backend.backorders(&sub)?);
                }
            }
            let mut defaults = std::collections::BTreeMap::new();
            for b in &all {
                if !defaults.contains_key(b.account.as_str()) {
                    let contacts = backend.account(&b.account)?.contacts;
                    defaults.insert(b.account.to_string(), contacts);
                }
            }
            return application_list(all, &defaults, q);
        }
        Command::ModifyDomainApplication {
            application,
            contacts,
        } => {
            let b = backend.modify_backorder(account, *application, contacts.clone())?;
            application_properties(&mut r, &b, &in_effect(backend, &b), None);
        }
        Command::DeleteDomainApplication {
            application,
            idempotency_key,
        } => {
            let b = backend.cancel_backorder(account, *application, idempotency_key.as_deref())?;
            application_properties(&mut r, &b, &in_effect(backend, &b), None);
        }
        Command::PayDomainApplication {
            application,
            idempotency_key,
        } => {
            let b = backend.pay(account, *application, idempotency_key.as_deref())?;
            application_properties(&mut r, &b, &in_effect(backend, &b), None);
            r.add("PAID", money(b.paid));
            if let Some(code) = &b.auth_code {
                r.add("AUTH", code.expose());
            }
        }
        Command::BidDomainApplication {
            application,
            amount,
            idempotency_key,
        } => {
            let view = backend.bid(account, *application, *amount, idempotency_key.as_deref())?;
            r.add("APPLICATION", application.to_string());
            auction_properties(&mut r, &view);
        }
        Command::QueryDomainPendingDeleteList(q) => return pending_list(backend, q),
        Command::QueryDepositList { first, limit } => {
            return deposit_list(backend, account, *first, *limit)
        }
        Command::CheckAuthentication { sub_user, password } => {
            if let (Some(login), Some(password)) = (sub_user, password) {
                if !backend.check_sub_user(caller, login, password)? {
                    return refuse(Code::AuthenticationFailed, "");
                }
            }
        }
        Command::StartSession {
            idle_secs,
            max_secs,
        } => {
            let id = backend.start_session(caller, *idle_secs, *max_secs)?;
            r.add("SESSION", id.expose());
        }
        Command::EndSession => {
            if caller.session.is_none() {
                return refuse(
                    Code::MissingAttribute,
                    "s_session (EndSession ends the session the request comes with)",
                );
            }
            backend.end_session(caller)?
        }
        Command::ConvertIdn { domains } => {
            for d in domains {
                let name = DomainName::parse(d)?;
                r.add("ACE", name.as_str());
                r.add("IDN", name.to_unicode());
            }
        }
    }
    Ok(r)
}

/// The class HEXONET gives a backorder: its zone upper-cased and `_BACKORDER` (`COM_BACKORDER`).
///
/// ```
/// let n = backorder_core::DomainName::parse("john.com").unwrap();
/// assert_eq!(backorder_core::api::class_of(&n), "COM_BACKORDER");
/// ```
pub fn class_of(name: &DomainName) -> String {
    format!("{}_BACKORDER", name.zone().to_ascii_uppercase())
}

fn refuse(code: Code, detail: impl Into<String>) -> Result<Response> {
    Ok(Response::error(code, &detail.into()))
}

fn add_application(backend: &dyn Backend, account: &str, add: &AddApplication) -> Result<Response> {
    let name = DomainName::parse(&add.domain)?;
    let class = add.class.to_ascii_uppercase();
    if class != "BACKORDER" && class != class_of(&name) {
        return refuse(
            Code::InvalidValue,
            format!(
                "CLASS '{}' is not BACKORDER or {}",
                printable(&add.class, 64),
                class_of(&name)
            ),
        );
    }
    let policy = backend.policy(name.zone())?;
    if let Some(years) = add.period {
        if years != policy.registration_years {
            return refuse(
                Code::InvalidValue,
                format!(
                    "PERIOD must be {}: a caught .{} name is registered for {} year(s)",
                    policy.registration_years, policy.zone, policy.registration_years
                ),
            );
        }
    }
    let required = policy.required_contacts;
    let have = add.contacts.or(&backend.account(account)?.contacts);
    if !add.incomplete {
        for (role, needed, present) in [
            ("OWNERCONTACT0", required.owner, have.owner.is_some()),
            ("ADMINCONTACT0", required.admin, have.admin.is_some()),
            ("TECHCONTACT0", required.tech, have.tech.is_some()),
            ("BILLINGCONTACT0", required.billing, have.billing.is_some()),
        ] {
            if needed && !present {
                return refuse(
                    Code::MissingAttribute,
                    format!("{role} (or INCOMPLETE=1 to add it later)"),
                );
            }
        }
    }
    let placed = backend.place_backorder(PlaceBackorder {
        account: account.to_string(),
        domain: name.as_str().to_string(),
        lite: add.lite,
        contacts: add.contacts.clone(),
        idempotency_key: add.idempotency_key.clone(),
    });
    let b = match placed {
        Ok(b) => b,
        // The same application again (a script re-run on the day's list): answer the open one,
        // unless NEW=1 asks for another or the data differ.
        Err(Error::DuplicateBackorder { existing, .. }) if !add.new => {
            let b = backend.backorder(account, existing)?;
            if b.lite != add.lite || add.contacts.or(&b.contacts) != b.contacts {
                return Err(placed.unwrap_err());
            }
            b
        }
        Err(e) => return Err(e),
    };
    let mut r = Response::ok();
    application_properties(
        &mut r,
        &b,
        &b.contacts.or(&have),
        Some(policy.registration_years),
    );
    Ok(r)
}

/// An amount as HEXONET writes money: at least two decimals (`49.00`).
fn money(d: Decimal) -> String {
    let mut d = d;
    if d.scale() < 2 {
        d.rescale(2);
    }
    d.to_string()
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

fn contact(c: &Option<crate::key::Key>) -> String {
    c.as_ref().map(|k| k.to_string()).unwrap_or_default()
}

/// The properties every answer about one application carries (HEXONET's names).
fn application_properties(
    r: &mut Response,
    b: &Backorder,
    contacts: &Contacts,
    period: Option<u32>,
) {
    r.add("APPLICATION", b.id.to_string());
    r.add("CLASS", class_of(&b.domain));
    r.add("SUBCLASS", class_of(&b.domain));
    r.add("DOMAIN", b.domain.as_str());
    r.add("DOMAINUMLAUT", b.domain.to_unicode());
    r.add("STATUS", b.status.as_str());
    r.add("USER", b.account.to_string());
    if let Some(years) = period {
        r.add("PERIOD", years.to_string());
    }
    r.add("X-BACKORDER-LITE", flag(b.lite));
    r.add("OWNERCONTACT", contact(&contacts.owner));
    r.add("ADMINCONTACT", contact(&contacts.admin));
    r.add("TECHCONTACT", contact(&contacts.tech));
    r.add("BILLINGCONTACT", contact(&contacts.billing));
    r.add_time("CREATEDDATE", Some(b.created_at));
    r.add_time("UPDATEDDATE", Some(b.updated_at));
}

/// The handles in effect for an application: its own, gaps filled from its account's. Called
/// after a change has committed, so a failure to read the account must not turn the answer into
/// an error: the application's own handles are answered then.
fn in_effect(backend: &dyn Backend, b: &Backorder) -> Contacts {
    match backend.account(&b.account) {
        Ok(a) => b.contacts.or(&a.contacts),
        Err(_) => b.contacts.clone(),
    }
}

/// What `StatusDomainApplication` adds: dates, money, the reason and the history.
fn status_properties(r: &mut Response, b: &Backorder) {
    r.add("REASON", b.reason().map(|x| x.as_str()).unwrap_or(""));
    r.add_time("DROPDATE", b.drop_at);
    r.add_time("FINALIZATIONDATE", b.finalization_at);
    r.add_time("DEPOSITDATE", b.deposit_opens_at);
    r.add_time("DEPOSITDEADLINE", b.deposit_deadline_at);
    r.add("PRICE", money(b.price.amount));
    r.add("CURRENCY", b.price.currency.as_str());
    r.add("PAID", money(b.paid));
    r.add("AMOUNTDUE", b.amount_due.map(money).unwrap_or_default());
    r.add_time("PAYBY", b.pay_by);
    r.add_time("REGISTRATIONEXPIRATIONDATE", b.registered_until);
    if let Some(code) = &b.auth_code {
        r.add("AUTH", code.expose());
    }
    for h in &b.history {
        r.add_time("HISTORYDATE", Some(h.at));
        r.add("HISTORYSTATUS", h.to.as_str());
        r.add("HISTORYREASON", h.reason.as_str());
    }
}

fn auction_state(s: AuctionState) -> &'static str {
    match s {
        AuctionState::Scheduled => "SCHEDULED",
        AuctionState::Open => "OPEN",
        AuctionState::AwaitingPayment => "AWAITING-PAYMENT",
        AuctionState::Sold => "SOLD",
        AuctionState::Unsold => "UNSOLD",
    }
}

/// HEXONET's `AUCTION-*` properties, and this engine's `AUCTION` (the auction's id) and
/// `AUCTION-MAXBID` (the caller's standing maximum).
fn auction_properties(r: &mut Response, a: &AuctionView) {
    let closed = matches!(
        a.state,
        AuctionState::AwaitingPayment | AuctionState::Sold | AuctionState::Unsold
    );
    r.add("AUCTION", a.id.to_string());
    r.add("AUCTION-STATUS", auction_state(a.state));
    r.add_time("AUCTION-STARTDATE", Some(a.starts_at));
    r.add_time("AUCTION-ENDDATE", Some(a.ends_at));
    r.add("AUCTION-CURRENCY", a.currency.as_str());
    r.add("AUCTION-MINIMUMBID", money(a.opening_price));
    r.add("AUCTION-MINIMUMNEXTBID", money(a.minimum_bid));
    r.add("AUCTION-BESTBID", money(a.price));
    r.add(
        "AUCTION-PRICE",
        if closed {
            money(a.price)
        } else {
            String::new()
        },
    );
    r.add("AUCTION-MAXBID", money(a.your_max));
    // Every participant stands at the opening price until bids come; ties go to the earlier
    // backorder, so someone always leads.
    r.add(
        "AUCTION-BIDDERSTATUS",
        if a.leading { "LEADING" } else { "OUTBID" },
    );
    r.add("AUCTION-NUMBEROFBIDS", a.bids.to_string());
    r.add("AUCTION-NUMBEROFBIDDERS", a.participants.to_string());
}

/// `FIRST`, `LAST`, `COUNT`, `LIMIT`, `TOTAL` of a page. `LAST` is the index of the page's last
/// row (`FIRST + COUNT - 1`), left empty when the page has no rows.
fn paging(r: &mut Response, first: u64, count: usize, limit: u64, total: u64) {
    r.add("FIRST", first.to_string());
    let last = if count == 0 {
        String::new()
    } else {
        (first + count as u64 - 1).to_string()
    };
    r.add("LAST", last);
    r.add("COUNT", count.to_string());
    r.add("LIMIT", limit.to_string());
    r.add("TOTAL", total.to_string());
}

fn columns(r: &mut Response, names: &[&str]) {
    for n in names {
        r.add("COLUMN", *n);
    }
}

/// `*` matches any run of characters, `?` one; case-insensitive.
fn glob(pattern: &[char], text: &[char]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len()
            && (pattern[p] == '?' || pattern[p].to_lowercase().eq(text[t].to_lowercase()))
        {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

fn application_list(
    mut all: Vec<Backorder>,
    defaults: &std::collections::BTreeMap<String, Contacts>,
    q: &ApplicationQuery,
) -> Result<Response> {
    let in_effect = |b: &Backorder| match defaults.get(b.account.as_str()) {
        Some(d) => b.contacts.or(d),
        None => b.contacts.clone(),
    };
    let regex = match q
        .domain_regex
        .as_deref()
        .map(|re| crate::search::compile_with(re, "DOMAINREGEX", true))
    {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return refuse(Code::InvalidSyntax, e.to_string()),
    };
    let chars = |s: &str| s.chars().collect::<Vec<char>>();
    let domains: Vec<Vec<char>> = q.domains.iter().map(|d| chars(d)).collect();
    let classes: Vec<Vec<char>> = q
        .classes
        .iter()
        .map(|c| match c.to_ascii_uppercase().as_str() {
            "BACKORDER" => chars("*_BACKORDER"),
            other => chars(other),
        })
        .collect();
    all.retain(|b| {
        let name = chars(b.domain.as_str());
        (q.statuses.is_empty() || q.statuses.contains(&b.status))
            && (classes.is_empty() || {
                let class = chars(&class_of(&b.domain));
                classes.iter().any(|c| glob(c, &class))
            })
            && (domains.is_empty()
                || domains.iter().any(|d| {
                    glob(d, &name) || (b.domain.is_idn() && glob(d, &chars(&b.domain.to_unicode())))
                }))
            && q.owner_contact.as_ref().is_none_or(|o| {
                in_effect(b)
                    .owner
                    .as_ref()
                    .is_some_and(|h| h.eq_ignore_ascii_case(o))
            })
            && regex.as_ref().is_none_or(|r| r.is_match(b.domain.as_str()))
    });
    let last = DateTime::<Utc>::MAX_UTC;
    match q.order {
        ApplicationOrder::Application => all.sort_by_key(|b| b.id),
        ApplicationOrder::Class => all.sort_by_cached_key(|b| (class_of(&b.domain), b.id)),
        ApplicationOrder::Domain => all.sort_by_cached_key(|b| (b.domain.to_string(), b.id)),
        ApplicationOrder::User => all.sort_by_cached_key(|b| (b.account.to_string(), b.id)),
        ApplicationOrder::Status => all.sort_by_key(|b| (b.status.as_str(), b.id)),
        ApplicationOrder::CreatedDate => all.sort_by_key(|b| (b.created_at, b.id)),
        ApplicationOrder::UpdatedDate => all.sort_by_key(|b| (b.updated_at, b.id)),
        ApplicationOrder::RegistrationExpirationDate => {
            all.sort_by_key(|b| (b.registered_until.unwrap_or(last), b.id))
        }
        ApplicationOrder::DropDate => all.sort_by_key(|b| (b.drop_at.unwrap_or(last), b.id)),
    }
    if q.descending {
        all.reverse();
    }
    let total = all.len() as u64;
    let page: Vec<&Backorder> = all
        .iter()
        .skip(usize::try_from(q.first).unwrap_or(usize::MAX))
        .take(q.limit as usize)
        .collect();
    let mut r = Response::ok();
    paging(&mut r, q.first, page.len(), q.limit, total);
    for b in &page {
        r.add("APPLICATION", b.id.to_string());
        r.add("CLASS", class_of(&b.domain));
        r.add("DOMAIN", b.domain.as_str());
        r.add("STATUS", b.status.as_str());
        r.add("USER", b.account.to_string());
        if q.wide {
            r.add("DOMAINUMLAUT", b.domain.to_unicode());
            r.add("X-BACKORDER-LITE", flag(b.lite));
            let contacts = in_effect(b);
            r.add("OWNERCONTACT", contact(&contacts.owner));
            r.add("ADMINCONTACT", contact(&contacts.admin));
            r.add("TECHCONTACT", contact(&contacts.tech));
            r.add("BILLINGCONTACT", contact(&contacts.billing));
            r.add_time("CREATEDDATE", Some(b.created_at));
            r.add_time("UPDATEDDATE", Some(b.updated_at));
            r.add_time("DROPDATE", b.drop_at);
            r.add_time("FINALIZATIONDATE", b.finalization_at);
            r.add_time("EXPIRATIONDATE", b.registered_until);
        }
    }
    Ok(r)
}

fn pending_list(backend: &dyn Backend, q: &SearchQuery) -> Result<Response> {
    let found = match backend.search_pending(q) {
        Ok(f) => f,
        // A regular expression or keyword the catalog refuses is the caller's value.
        Err(Error::InvalidArgument(m)) => return refuse(Code::InvalidValue, m),
        Err(e) => return Err(e),
    };
    let mut r = Response::ok();
    paging(
        &mut r,
        found.first,
        found.rows.len(),
        u64::from(found.limit),
        found.total,
    );
    columns(
        &mut r,
        &[
            "DOMAIN",
            "DOMAINUMLAUT",
            "DELETIONDATE",
            "FINALIZATIONDATE",
            "SUBCLASS",
        ],
    );
    for row in &found.rows {
        r.add("DOMAIN", row.domain.as_str());
        r.add("DOMAINUMLAUT", row.unicode.as_str());
        r.add_time("DELETIONDATE", Some(row.drop_at));
        r.add_time("FINALIZATIONDATE", Some(row.finalization_at));
        r.add("SUBCLASS", row.zone.to_ascii_uppercase());
    }
    Ok(r)
}

fn deposit_list(backend: &dyn Backend, account: &str, first: u64, limit: u64) -> Result<Response> {
    let balance = backend.balance(account)?;
    let lines = backend.statement(account, 0, u32::MAX)?;
    let page: Vec<&StatementLine> = lines
        .iter()
        .skip(usize::try_from(first).unwrap_or(usize::MAX))
        .take(limit as usize)
        .collect();
    let mut r = Response::ok();
    paging(&mut r, first, page.len(), limit, lines.len() as u64);
    r.add("BALANCE", money(balance.balance));
    r.add("RESERVED", money(balance.reserved));
    r.add("AVAILABLE", money(balance.available));
    for l in &page {
        let kind = l.kind.as_str();
        r.add("DEPOSITID", l.transfer.to_string());
        r.add(
            "ACCOUNTINGTYPE",
            match l.kind {
                TransferKind::Fund | TransferKind::Payout => "PAYMENT",
                _ => "BACKORDER",
            },
        );
        r.add("TYPE", kind);
        r.add_time("CREATEDDATE", Some(l.at));
        r.add_time("UPDATEDDATE", Some(l.at));
        r.add("CURRENCY", balance.currency.as_str());
        // HEXONET's sign: a deposit held from the credit is positive, one given back negative.
        r.add("DEPOSIT", money(l.reserved_change));
        r.add("AMOUNT", money(l.amount));
        r.add("BALANCECHANGE", money(l.balance_change));
        r.add(
            "APPLICATION",
            l.backorder.map(|b| b.to_string()).unwrap_or_default(),
        );
        r.add(
            "DESCRIPTION",
            match l.backorder {
                Some(b) => format!("{kind} application {b}"),
                None => kind.to_string(),
            },
        );
        r.add("USER", account);
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(p: &str, t: &str) -> bool {
        glob(
            &p.chars().collect::<Vec<_>>(),
            &t.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn domain_patterns_match_like_shell_globs() {
        assert!(g("*.com", "john.com"));
        assert!(g("JOHN.COM", "john.com"));
        assert!(g("j?hn.*", "john.net"));
        assert!(g("*oh*", "john.com"));
        assert!(!g("*.net", "john.com"));
        assert!(!g("john", "john.com"));
        assert!(g("*", ""));
    }
}
