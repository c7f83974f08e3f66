//! Keyword alerts: a customer subscribes with keywords and options, and is told when the catalog
//! gains a matching name, once per subscription and name.
//!
//! Matching follows the catalog search ([`crate::search`]): keywords match the name without its
//! zone, Unicode form, lower case, at the beginning, the end or anywhere, all of them (`AND`) or any
//! (`OR`); then zones, maximum length and the `NOHYPHENS`/`NONUMBERS`/`NOIDNS` filters. Every
//! subscription is matched at once: one Aho-Corasick automaton over all their keywords reads each
//! new name once, whatever the number of subscriptions.

use aho_corasick::{AhoCorasick, MatchKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::key::Key;
use crate::name::DomainName;
use crate::search::{KeywordMode, MatchAt};
use crate::store::Store;

/// The most keywords a subscription may hold.
pub const MAX_KEYWORDS: usize = 20;

/// What a customer asks to be alerted about.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewSubscription {
    /// The account subscribing.
    pub account: String,
    /// 1-20 keywords, 1-63 characters each.
    pub keywords: Vec<String>,
    /// How the keywords combine.
    pub keyword_mode: KeywordMode,
    /// Where a keyword must stand.
    pub match_at: MatchAt,
    /// Zones to watch; empty = all.
    pub zones: Vec<String>,
    /// Longest name (characters, without the zone).
    pub max_length: Option<u32>,
    /// No hyphens.
    pub no_hyphens: bool,
    /// No digits.
    pub no_numbers: bool,
    /// No internationalised names.
    pub no_idns: bool,
    /// Where the host sends the alert (an e-mail address, a webhook); carried on, not used.
    pub address: String,
}

/// A stored subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Its id.
    pub id: u64,
    /// The account.
    pub account: Key,
    /// Keywords, normalised (lower case, trimmed).
    pub keywords: Vec<String>,
    /// How the keywords combine.
    pub keyword_mode: KeywordMode,
    /// Where a keyword must stand.
    pub match_at: MatchAt,
    /// Zones watched (lower case); empty = all.
    pub zones: Vec<String>,
    /// Longest name.
    pub max_length: Option<u32>,
    /// No hyphens.
    pub no_hyphens: bool,
    /// No digits.
    pub no_numbers: bool,
    /// No internationalised names.
    pub no_idns: bool,
    /// Where to send alerts.
    pub address: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Checks a request and makes the subscription (the id is the store's).
pub fn subscribe<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    req: &NewSubscription,
) -> Result<Subscription> {
    let account = crate::backorder::load_account(tx, &req.account)?;
    if req.keywords.is_empty() || req.keywords.len() > MAX_KEYWORDS {
        return Err(Error::InvalidArgument(format!(
            "a subscription needs 1-{MAX_KEYWORDS} keywords"
        )));
    }
    let mut keywords = Vec::with_capacity(req.keywords.len());
    for k in &req.keywords {
        let k = k.trim().to_lowercase();
        if k.is_empty() || k.chars().count() > 63 || k.chars().any(|c| c.is_control() || c == '.') {
            return Err(Error::InvalidArgument(format!(
                "keyword '{}' must be 1-63 characters, without dots or control characters",
                k.chars().take(63).collect::<String>().escape_debug()
            )));
        }
        keywords.push(k);
    }
    if req.zones.len() > 100 {
        return Err(Error::InvalidArgument("at most 100 zones".into()));
    }
    let zones: Vec<String> = req
        .zones
        .iter()
        .map(|z| crate::search::normalise_zone(z))
        .collect();
    if zones.iter().any(|z| z.is_empty() || z.len() > 63) {
        return Err(Error::InvalidArgument(
            "zones must be 1-63 characters".into(),
        ));
    }
    if req.address.len() > 320 || req.address.chars().any(char::is_control) {
        return Err(Error::InvalidArgument(
            "address must be at most 320 bytes without control characters".into(),
        ));
    }
    let s = Subscription {
        id: tx.next_subscription_id()?,
        account: account.id,
        keywords,
        keyword_mode: req.keyword_mode,
        match_at: req.match_at,
        zones,
        max_length: req.max_length,
        no_hyphens: req.no_hyphens,
        no_numbers: req.no_numbers,
        no_idns: req.no_idns,
        address: req.address.clone(),
        created_at: now,
    };
    tx.put_subscription(&s)?;
    Ok(s)
}

/// A name as the matcher reads it.
struct Candidate<'a> {
    label: &'a str,
    zone: &'a str,
    chars: u32,
    idn: bool,
}

/// Every subscription's keywords in one automaton.
pub struct AlertMatcher {
    subscriptions: Vec<Subscription>,
    automaton: Option<AhoCorasick>,
    /// For each distinct keyword: (subscription index, bit of the keyword in it).
    owners: Vec<Vec<(u32, u32)>>,
}

impl AlertMatcher {
    /// Builds the automaton over the keywords of `subscriptions`.
    ///
    /// ```
    /// use backorder_core::alert::{AlertMatcher, Subscription};
    /// use backorder_core::search::{KeywordMode, MatchAt};
    /// use backorder_core::DomainName;
    /// use chrono::Utc as _;
    /// let sub = Subscription {
    ///     id: 7, account: "alice".into(), keywords: vec!["shop".into()],
    ///     keyword_mode: KeywordMode::Or, match_at: MatchAt::Begin, zones: vec![],
    ///     max_length: None, no_hyphens: false, no_numbers: false, no_idns: false,
    ///     address: "a@example.com".into(), created_at: chrono::DateTime::UNIX_EPOCH,
    /// };
    /// let m = AlertMatcher::new(vec![sub]);
    /// assert_eq!(m.matches(&DomainName::parse("shopping.com").unwrap()), vec![7]);
    /// assert!(m.matches(&DomainName::parse("myshop.com").unwrap()).is_empty());
    /// ```
    pub fn new(subscriptions: Vec<Subscription>) -> AlertMatcher {
        let mut index: crate::fast::HashMap<&str, usize> = crate::fast::HashMap::default();
        let mut patterns: Vec<&str> = Vec::new();
        let mut owners: Vec<Vec<(u32, u32)>> = Vec::new();
        for (si, s) in subscriptions.iter().enumerate() {
            for (ki, k) in s.keywords.iter().enumerate() {
                let p = *index.entry(k.as_str()).or_insert_with(|| {
                    patterns.push(k.as_str());
                    owners.push(Vec::new());
                    patterns.len() - 1
                });
                owners[p].push((si as u32, ki as u32));
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .ok()
        };
        AlertMatcher {
            subscriptions,
            automaton,
            owners,
        }
    }

    /// How many subscriptions it matches.
    pub fn len(&self) -> usize {
        self.subscriptions.len()
    }

    /// True when it holds no subscription.
    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty()
    }

    /// The ids of the subscriptions `domain` matches, ascending.
    pub fn matches(&self, domain: &DomainName) -> Vec<u64> {
        let mut scratch = Scratch::default();
        self.matches_with(domain, &mut scratch)
    }

    /// As [`AlertMatcher::matches`], reusing `scratch` between names.
    pub fn matches_with(&self, domain: &DomainName, scratch: &mut Scratch) -> Vec<u64> {
        self.matching(domain, scratch).map(|s| s.id).collect()
    }

    /// The subscriptions `domain` matches, ascending by id.
    fn matching<'a>(
        &'a self,
        domain: &DomainName,
        scratch: &mut Scratch,
    ) -> impl Iterator<Item = &'a Subscription> + 'a {
        self.matching_indices(domain, scratch)
            .into_iter()
            .map(|si| &self.subscriptions[si as usize])
    }

    fn matching_indices(&self, domain: &DomainName, scratch: &mut Scratch) -> Vec<u32> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let unicode;
        let label = if domain.is_idn() {
            unicode = domain.to_unicode();
            let zone_len = domain.zone().len() + 1;
            unicode[..unicode.len().saturating_sub(zone_len)].to_string()
        } else {
            domain.label().to_string()
        };
        let c = Candidate {
            label: &label,
            zone: domain.zone(),
            chars: label.chars().count() as u32,
            idn: domain.is_idn(),
        };
        scratch.touched.clear();
        if scratch.bits.len() < self.subscriptions.len() {
            scratch.bits.resize(self.subscriptions.len(), 0);
        }
        for m in ac.find_overlapping_iter(c.label) {
            for &(si, ki) in &self.owners[m.pattern().as_usize()] {
                let s = &self.subscriptions[si as usize];
                let placed = match s.match_at {
                    MatchAt::Begin => m.start() == 0,
                    MatchAt::End => m.end() == c.label.len(),
                    MatchAt::Any => true,
                };
                if placed {
                    let bits = &mut scratch.bits[si as usize];
                    if *bits == 0 {
                        scratch.touched.push(si);
                    }
                    *bits |= 1 << ki;
                }
            }
        }
        let mut out = Vec::new();
        for si in scratch.touched.drain(..) {
            let bits = std::mem::take(&mut scratch.bits[si as usize]);
            let s = &self.subscriptions[si as usize];
            let all = (1u32 << s.keywords.len()) - 1;
            let keywords_ok = match s.keyword_mode {
                KeywordMode::And => bits & all == all,
                KeywordMode::Or => bits != 0,
            };
            if keywords_ok && filters_pass(s, &c) {
                out.push(si);
            }
        }
        out.sort_unstable_by_key(|si| self.subscriptions[*si as usize].id);
        out
    }
}

/// Working memory for matching many names: per subscription, the keywords seen in the name at
/// hand (cleared after each name), and which subscriptions those are.
#[derive(Default)]
pub struct Scratch {
    bits: Vec<u32>,
    touched: Vec<u32>,
}

fn filters_pass(s: &Subscription, c: &Candidate<'_>) -> bool {
    (s.zones.is_empty() || s.zones.iter().any(|z| z == c.zone))
        && s.max_length.is_none_or(|m| c.chars <= m)
        && !(s.no_hyphens && c.label.contains('-'))
        && !(s.no_numbers && c.label.bytes().any(|b| b.is_ascii_digit()))
        && !(s.no_idns && c.idn)
}

/// Emits one `ALERT` event per subscription and newly listed name, skipping pairs alerted before
/// (a name withdrawn and listed again is not alerted twice). Returns how many were emitted.
pub fn emit_alerts<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    matcher: &AlertMatcher,
    names: &[DomainName],
) -> Result<u64> {
    let mut scratch = Scratch::default();
    let mut emitted = 0;
    for name in names {
        for s in matcher.matching(name, &mut scratch) {
            let id = s.id;
            if tx.alert_sent(id, name)? {
                continue;
            }
            tx.mark_alert_sent(id, name)?;
            tx.append_event(crate::store::NewEvent {
                at: now,
                account: Some(s.account.clone()),
                backorder: None,
                domain: Some(name.clone()),
                kind: crate::event::EventKind::Alert { subscription: id },
            })?;
            emitted += 1;
        }
    }
    Ok(emitted)
}
