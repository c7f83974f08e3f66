//! Searching the pending-delete catalog, with the filters of HEXONET's
//! `QueryDomainPendingDeleteList`.
//!
//! What a filter looks at:
//!
//! - **Keywords** match the name without its zone (`shop` in `myshop.com` is `myshop`), in its
//!   Unicode form, lower case: at the beginning (`BEGIN`), the end (`END`) or anywhere (`ANY`); with
//!   several keywords, `AND` wants all of them, `OR` any.
//! - **Length** is the number of characters of that same part (Unicode form).
//! - `NOHYPHENS` and `NONUMBERS` look at that part; `NOIDNS` drops internationalised names.
//! - **Zones** are the policy zones (`com`, `co.uk`); the **deletion day** is the UTC date of the
//!   deletion time; the **finalization range** is inclusive at both ends.
//! - The **regex** is matched against the whole name in its Unicode form (`^[a-z]{4}\.com$`);
//!   the **label regex** (HEXONET's `REGEXP`) against the name without its zone (`^[0-9]+$`).
//!
//! Results are ordered by name (ASCII form), deletion time or finalization date, ties broken by
//! name; descending order reverses the whole order. `first` skips rows, `limit` caps the page, and
//! `total` counts every match.
//!
//! An index answers without looking at every name where one serves: trigram postings for keywords
//! of three bytes or more, sorted arrays of the labels (and of the reversed labels) for `BEGIN` and
//! `END`, per-zone lists, and the names sorted by deletion time and by finalization date for the day
//! and the range. The smallest of the candidate sets these give is then checked against every
//! filter. A query with none of them (only a length, a flag or a regex) reads every name.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::PendingDeletion;
use crate::error::{Error, Result};
use crate::fast::HashMap;
use crate::name::DomainName;
use crate::policy::PolicyTable;

/// How several keywords combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum KeywordMode {
    /// Every keyword must match.
    #[default]
    And,
    /// One keyword is enough.
    Or,
}

/// Where in the name a keyword must stand.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchAt {
    /// At the beginning.
    Begin,
    /// At the end (just before the zone).
    End,
    /// Anywhere.
    #[default]
    Any,
}

/// The order of the results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderBy {
    /// By name (ASCII form).
    #[default]
    Name,
    /// By deletion time.
    DeletionDay,
    /// By finalization date.
    FinalizationDate,
}

/// The longest page a search returns.
pub const MAX_LIMIT: u32 = 100_000;

/// A catalog search. Every filter left empty matches everything; a field it does not have (a
/// misspelt filter) is refused rather than searching without it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchQuery {
    /// Keywords (1-63 characters each, at most 20).
    pub keywords: Vec<String>,
    /// How the keywords combine.
    pub keyword_mode: KeywordMode,
    /// Where a keyword must stand.
    pub match_at: MatchAt,
    /// Zones to search (`com`, `net`); empty = all.
    pub zones: Vec<String>,
    /// Only names deleted on this UTC date.
    pub deletion_day: Option<NaiveDate>,
    /// Only names whose finalization date is at or after this.
    pub finalization_from: Option<DateTime<Utc>>,
    /// Only names whose finalization date is at or before this.
    pub finalization_to: Option<DateTime<Utc>>,
    /// Shortest name (characters, without the zone).
    pub min_length: Option<u32>,
    /// Longest name (characters, without the zone).
    pub max_length: Option<u32>,
    /// No hyphens in the name.
    pub no_hyphens: bool,
    /// No digits in the name.
    pub no_numbers: bool,
    /// No internationalised names.
    pub no_idns: bool,
    /// A regular expression the whole name (Unicode form) must match (at most 1,000 characters).
    pub regex: Option<String>,
    /// A regular expression the name without its zone (Unicode form) must match: HEXONET's
    /// `REGEXP` (`^[0-9]+$` finds the all-digit names). At most 1,000 characters.
    pub label_regex: Option<String>,
    /// The order of the rows.
    pub order_by: OrderBy,
    /// Reverse the order.
    pub descending: bool,
    /// Rows to skip.
    pub first: u64,
    /// Rows to return (at most [`MAX_LIMIT`]).
    pub limit: u32,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            keywords: Vec::new(),
            keyword_mode: KeywordMode::And,
            match_at: MatchAt::Any,
            zones: Vec::new(),
            deletion_day: None,
            finalization_from: None,
            finalization_to: None,
            min_length: None,
            max_length: None,
            no_hyphens: false,
            no_numbers: false,
            no_idns: false,
            regex: None,
            label_regex: None,
            order_by: OrderBy::Name,
            descending: false,
            first: 0,
            limit: 100,
        }
    }
}

/// One name found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRow {
    /// The name (ASCII form).
    pub domain: String,
    /// The name in Unicode form (the same as `domain` unless internationalised).
    pub unicode: String,
    /// Its zone.
    pub zone: String,
    /// When the registry deletes it.
    pub drop_at: DateTime<Utc>,
    /// The last moment to place or cancel a backorder on it.
    pub finalization_at: DateTime<Utc>,
}

/// A page of results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Every match, not only this page.
    pub total: u64,
    /// Rows skipped.
    pub first: u64,
    /// The page size asked for.
    pub limit: u32,
    /// This page.
    pub rows: Vec<SearchRow>,
}

/// A keyword as matched (lower case, trimmed), or why it cannot be one. Alerts use the same rule.
pub(crate) fn normalise_keyword(k: &str) -> Result<String> {
    let k = k.trim().to_lowercase();
    if k.is_empty() || k.chars().count() > 63 || k.chars().any(|c| c.is_control() || c == '.') {
        return Err(Error::InvalidArgument(format!(
            "keyword '{}' must be 1-63 characters, without dots or control characters",
            k.chars().take(63).collect::<String>().escape_debug()
        )));
    }
    Ok(k)
}

/// A zone as matched: lower case, without a leading dot.
pub(crate) fn normalise_zone(z: &str) -> String {
    z.trim().trim_start_matches('.').to_ascii_lowercase()
}

/// A checked query: keywords normalised, regex compiled.
struct Prepared {
    keywords: Vec<String>,
    zones: Vec<String>,
    /// Per zone of the index, whether the query wants it (when it names zones).
    zone_wanted: Vec<bool>,
    regex: Option<regex::Regex>,
    label_regex: Option<regex::Regex>,
}

/// Compiles a caller's regular expression within the caps every search applies (1,000
/// characters, 1 MiB compiled); `what` names it in the error. The command API's `DOMAINREGEX`
/// uses the same, case-insensitive.
pub(crate) fn compile_with(r: &str, what: &str, case_insensitive: bool) -> Result<regex::Regex> {
    if r.len() > 1000 {
        return Err(Error::InvalidArgument(format!(
            "{what} must be at most 1000 characters"
        )));
    }
    regex::RegexBuilder::new(r)
        .case_insensitive(case_insensitive)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| Error::InvalidArgument(format!("{what}: {e}")))
}

fn compile(r: &str, what: &str) -> Result<regex::Regex> {
    compile_with(r, what, false)
}

fn prepare(q: &SearchQuery) -> Result<Prepared> {
    if q.keywords.len() > 20 {
        return Err(Error::InvalidArgument("at most 20 keywords".into()));
    }
    if q.zones.len() > 100 {
        return Err(Error::InvalidArgument("at most 100 zones".into()));
    }
    if q.limit > MAX_LIMIT {
        return Err(Error::InvalidArgument(format!(
            "limit must be at most {MAX_LIMIT}"
        )));
    }
    if let (Some(a), Some(b)) = (q.min_length, q.max_length) {
        if a > b {
            return Err(Error::InvalidArgument(
                "min length is above max length".into(),
            ));
        }
    }
    let keywords = q
        .keywords
        .iter()
        .map(|k| normalise_keyword(k))
        .collect::<Result<Vec<_>>>()?;
    let zones = q.zones.iter().map(|z| normalise_zone(z)).collect();
    let regex = q
        .regex
        .as_deref()
        .map(|r| compile(r, "regex"))
        .transpose()?;
    let label_regex = q
        .label_regex
        .as_deref()
        .map(|r| compile(r, "label regex"))
        .transpose()?;
    Ok(Prepared {
        keywords,
        zones,
        zone_wanted: Vec::new(),
        regex,
        label_regex,
    })
}

/// A name as the index keeps it.
#[derive(Clone, Debug)]
struct Row {
    domain: DomainName,
    drop_at: DateTime<Utc>,
    finalization_at: DateTime<Utc>,
    /// The name without its zone, Unicode form: where it starts in the label arena, its length in
    /// bytes and in characters.
    label_start: u32,
    label_bytes: u16,
    chars: u16,
    /// The zone's place in `zone_names`.
    zone: u16,
    flags: u8,
}

const HYPHEN: u8 = 1;
const DIGIT: u8 = 2;
const IDN: u8 = 4;

/// The catalog indexed for searching. Built from the listed (not withdrawn) names; rebuilt when the
/// catalog or the policies change.
pub struct CatalogIndex {
    rows: Vec<Row>,
    /// Every label, in row order, one after the other: checking candidates walks it forwards.
    arena: String,
    zone_names: Vec<Box<str>>,
    /// Row ids by deletion time and by finalization date, and each row's place in every order.
    by_drop: Vec<u32>,
    by_final: Vec<u32>,
    rank_name: Vec<u32>,
    rank_drop: Vec<u32>,
    rank_final: Vec<u32>,
    /// Row ids by label, and by reversed label (for `BEGIN` and `END`).
    by_label: Vec<u32>,
    by_reversed: Vec<u32>,
    reversed: Vec<Box<str>>,
    /// Row ids, ascending, of the labels holding each three-byte sequence.
    trigrams: HashMap<[u8; 3], Vec<u32>>,
    zones: HashMap<Box<str>, Vec<u32>>,
}

impl CatalogIndex {
    /// Indexes the listed names; names whose zone has no policy are left out.
    ///
    /// ```
    /// use backorder_core::search::{CatalogIndex, SearchQuery};
    /// use backorder_core::{DomainName, PendingDeletion, PolicyTable};
    /// use chrono::{TimeZone, Utc};
    /// let t = Utc.with_ymd_and_hms(2026, 6, 4, 18, 0, 0).unwrap();
    /// let entries = ["myshop.com", "shopping.net", "other.com"].map(|d| PendingDeletion {
    ///     domain: DomainName::parse(d).unwrap(), drop_at: t, withdrawn: false, updated_at: t,
    /// });
    /// let index = CatalogIndex::build(&entries, &PolicyTable::defaults());
    /// let q = SearchQuery { keywords: vec!["shop".into()], zones: vec!["com".into()], ..Default::default() };
    /// let found = index.search(&q).unwrap();
    /// assert_eq!(found.total, 1);
    /// assert_eq!(found.rows[0].domain, "myshop.com");
    /// ```
    pub fn build(entries: &[PendingDeletion], policies: &PolicyTable) -> CatalogIndex {
        // (name, drop, finalization, zone, Unicode label) of every listed name, in name order: a
        // row's id is its place by name, so candidate lists (ids, ascending) come out sorted by
        // name, and checking them walks the rows and the label arena forwards.
        let listed: Vec<(&PendingDeletion, DateTime<Utc>)> = entries
            .iter()
            .filter(|e| !e.withdrawn)
            .filter_map(|e| {
                let policy = policies.get(e.domain.zone()).ok()?;
                Some((e, policy.finalization(e.drop_at)))
            })
            .collect();
        let mut order: Vec<u32> = (0..listed.len() as u32).collect();
        sort_by_text(&mut order, |i| listed[i as usize].0.domain.as_str());
        let listed: Vec<(&PendingDeletion, DateTime<Utc>)> =
            order.into_iter().map(|i| listed[i as usize]).collect();
        let mut rows = Vec::with_capacity(listed.len());
        let mut arena = String::with_capacity(listed.len() * 12);
        let mut zone_names: Vec<Box<str>> = Vec::new();
        let mut zones: HashMap<Box<str>, Vec<u32>> = HashMap::default();
        for (i, (e, finalization_at)) in listed.into_iter().enumerate() {
            let idn = e.domain.is_idn();
            let unicode;
            let label = if idn {
                unicode = e.domain.to_unicode();
                let zone_len = e.domain.zone().len() + 1;
                &unicode[..unicode.len().saturating_sub(zone_len)]
            } else {
                e.domain.label()
            };
            let zone_id = match zones.get_mut(e.domain.zone()) {
                Some(list) => list,
                None => {
                    zone_names.push(e.domain.zone().into());
                    zones.entry(e.domain.zone().into()).or_default()
                }
            };
            zone_id.push(i as u32);
            let zone = zone_names
                .iter()
                .position(|z| **z == *e.domain.zone())
                .unwrap_or(0) as u16;
            let mut flags = 0;
            if label.contains('-') {
                flags |= HYPHEN;
            }
            if label.bytes().any(|b| b.is_ascii_digit()) {
                flags |= DIGIT;
            }
            if idn {
                flags |= IDN;
            }
            rows.push(Row {
                domain: e.domain.clone(),
                drop_at: e.drop_at,
                finalization_at,
                label_start: arena.len() as u32,
                label_bytes: label.len() as u16,
                chars: label.chars().count() as u16,
                zone,
                flags,
            });
            arena.push_str(label);
        }
        let label_of = |r: &Row| {
            &arena[r.label_start as usize..r.label_start as usize + r.label_bytes as usize]
        };
        let n = rows.len();
        let ids = || (0..n as u32).collect::<Vec<u32>>();
        let rank_name = ids();
        let mut by_drop = ids();
        by_drop.sort_unstable_by_key(|i| (rows[*i as usize].drop_at, *i));
        let mut by_final = ids();
        by_final.sort_unstable_by_key(|i| (rows[*i as usize].finalization_at, *i));
        let mut by_label = ids();
        sort_by_text(&mut by_label, |i| label_of(&rows[i as usize]));
        let reversed: Vec<Box<str>> = rows
            .iter()
            .map(|r| label_of(r).chars().rev().collect::<String>().into())
            .collect();
        let mut by_reversed = ids();
        sort_by_text(&mut by_reversed, |i| &reversed[i as usize]);
        let mut trigrams: HashMap<[u8; 3], Vec<u32>> = HashMap::default();
        for (i, r) in rows.iter().enumerate() {
            let i = i as u32;
            for w in label_of(r).as_bytes().windows(3) {
                let list = trigrams.entry([w[0], w[1], w[2]]).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        CatalogIndex {
            arena,
            zone_names,
            rank_drop: ranks(&by_drop),
            rank_final: ranks(&by_final),
            rank_name,
            by_drop,
            by_final,
            by_label,
            by_reversed,
            reversed,
            trigrams,
            zones,
            rows,
        }
    }

    /// How many names are indexed.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when no name is indexed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Runs a query; a bad query (too many keywords, a limit above [`MAX_LIMIT`], an invalid regex)
    /// is [`Error::InvalidArgument`].
    pub fn search(&self, q: &SearchQuery) -> Result<SearchResult> {
        let mut p = prepare(q)?;
        p.zone_wanted = self
            .zone_names
            .iter()
            .map(|z| p.zones.iter().any(|w| **w == **z))
            .collect();
        let mut found: Vec<u32> = match self.candidates(q, &p) {
            Some(c) => c.into_iter().filter(|i| self.matches(*i, q, &p)).collect(),
            None => (0..self.rows.len() as u32)
                .filter(|i| self.matches(*i, q, &p))
                .collect(),
        };
        let total = found.len() as u64;
        // Only the requested page needs ordering: select it, then sort just that.
        let rank = match q.order_by {
            OrderBy::Name => &self.rank_name,
            OrderBy::DeletionDay => &self.rank_drop,
            OrderBy::FinalizationDate => &self.rank_final,
        };
        let key = |i: &u32| {
            let r = rank[*i as usize];
            if q.descending {
                u32::MAX - r
            } else {
                r
            }
        };
        let first = usize::try_from(q.first).unwrap_or(usize::MAX);
        let end = first.saturating_add(q.limit as usize).min(found.len());
        let ordered = q.order_by == OrderBy::Name && !q.descending; // ids are name ranks
        if !ordered && first < end {
            if end < found.len() {
                found.select_nth_unstable_by_key(end - 1, key);
                found.truncate(end);
            }
            found.sort_unstable_by_key(key);
        }
        let rows = found
            .get(first.min(end)..end)
            .unwrap_or_default()
            .iter()
            .map(|i| {
                let r = &self.rows[*i as usize];
                SearchRow {
                    domain: r.domain.to_string(),
                    unicode: self.unicode(r).into_owned(),
                    zone: self.zone_names[r.zone as usize].to_string(),
                    drop_at: r.drop_at,
                    finalization_at: r.finalization_at,
                }
            })
            .collect();
        Ok(SearchResult {
            total,
            first: q.first,
            limit: q.limit,
            rows,
        })
    }

    /// The smallest candidate set an index gives (ids ascending, that is in name order), or `None`
    /// when no index serves the query.
    fn candidates(&self, q: &SearchQuery, p: &Prepared) -> Option<Vec<u32>> {
        // Each index says first how many names it would give; only the smallest set is built.
        enum Source<'a> {
            Keywords(Vec<u32>),
            Zones(Vec<&'a Vec<u32>>),
            Range(&'a [u32]),
        }
        let mut sources: Vec<(usize, Source<'_>)> = Vec::new();
        if let Some(k) = self.keyword_candidates(q, p) {
            sources.push((k.len(), Source::Keywords(k)));
        }
        if !p.zones.is_empty() {
            let mut lists: Vec<&Vec<u32>> = Vec::new();
            for (zone, list) in &self.zones {
                if p.zones.iter().any(|z| **z == **zone) {
                    lists.push(list);
                }
            }
            sources.push((lists.iter().map(|l| l.len()).sum(), Source::Zones(lists)));
        }
        if let Some(day) = q.deletion_day {
            let start = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
            let end = day
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc());
            let lo = start.map_or(0, |s| {
                self.by_drop
                    .partition_point(|i| self.rows[*i as usize].drop_at < s)
            });
            let hi = end.map_or(self.by_drop.len(), |e| {
                self.by_drop
                    .partition_point(|i| self.rows[*i as usize].drop_at < e)
            });
            let range = &self.by_drop[lo..hi.max(lo)];
            sources.push((range.len(), Source::Range(range)));
        }
        if q.finalization_from.is_some() || q.finalization_to.is_some() {
            let lo = q.finalization_from.map_or(0, |f| {
                self.by_final
                    .partition_point(|i| self.rows[*i as usize].finalization_at < f)
            });
            let hi = q.finalization_to.map_or(self.by_final.len(), |t| {
                self.by_final
                    .partition_point(|i| self.rows[*i as usize].finalization_at <= t)
            });
            let range = &self.by_final[lo..hi.max(lo)];
            sources.push((range.len(), Source::Range(range)));
        }
        let (_, smallest) = sources.into_iter().min_by_key(|(n, _)| *n)?;
        // Candidates go out ascending (in name order); zone lists are disjoint.
        Some(match smallest {
            Source::Keywords(k) => k,
            Source::Zones(lists) => {
                let mut ids: Vec<u32> = lists.into_iter().flatten().copied().collect();
                ids.sort_unstable();
                ids
            }
            Source::Range(range) => {
                let mut ids = range.to_vec();
                ids.sort_unstable();
                ids
            }
        })
    }

    /// Candidates for the keywords: for `AND` the smallest keyword's set, for `OR` the union;
    /// `None` when a keyword has no index (an `ANY` keyword shorter than three bytes).
    fn keyword_candidates(&self, q: &SearchQuery, p: &Prepared) -> Option<Vec<u32>> {
        if p.keywords.is_empty() {
            return None;
        }
        let mut per_keyword = Vec::with_capacity(p.keywords.len());
        for k in &p.keywords {
            per_keyword.push(self.keyword_set(k, q.match_at)?);
        }
        match q.keyword_mode {
            KeywordMode::And => per_keyword.into_iter().min_by_key(Vec::len),
            KeywordMode::Or => {
                let mut all: Vec<u32> = per_keyword.into_iter().flatten().collect();
                all.sort_unstable();
                all.dedup();
                Some(all)
            }
        }
    }

    fn keyword_set(&self, k: &str, at: MatchAt) -> Option<Vec<u32>> {
        match at {
            MatchAt::Begin => Some(prefix_range(&self.by_label, k, |i| self.label(i))),
            MatchAt::End => {
                let rk: String = k.chars().rev().collect();
                Some(prefix_range(&self.by_reversed, &rk, |i| &self.reversed[i]))
            }
            MatchAt::Any => {
                let b = k.as_bytes();
                if b.len() < 3 {
                    return None;
                }
                let mut lists: Vec<&Vec<u32>> = Vec::new();
                for w in b.windows(3) {
                    match self.trigrams.get(&[w[0], w[1], w[2]]) {
                        Some(l) => lists.push(l),
                        None => return Some(Vec::new()),
                    }
                }
                lists.sort_by_key(|l| l.len());
                let mut out: Vec<u32> = lists[0].clone();
                for l in &lists[1..] {
                    out = intersect(&out, l);
                    if out.is_empty() {
                        break;
                    }
                }
                Some(out)
            }
        }
    }

    fn label(&self, i: usize) -> &str {
        let r = &self.rows[i];
        &self.arena[r.label_start as usize..r.label_start as usize + r.label_bytes as usize]
    }

    /// The whole name in Unicode form.
    fn unicode<'a>(&self, r: &'a Row) -> std::borrow::Cow<'a, str> {
        if r.flags & IDN != 0 {
            std::borrow::Cow::Owned(r.domain.to_unicode())
        } else {
            std::borrow::Cow::Borrowed(r.domain.as_str())
        }
    }

    fn matches(&self, i: u32, q: &SearchQuery, p: &Prepared) -> bool {
        let r = &self.rows[i as usize];
        if !p.keywords.is_empty() {
            let label = self.label(i as usize);
            let hit = |k: &String| match q.match_at {
                MatchAt::Begin => label.starts_with(k.as_str()),
                MatchAt::End => label.ends_with(k.as_str()),
                MatchAt::Any => label.contains(k.as_str()),
            };
            let ok = match q.keyword_mode {
                KeywordMode::And => p.keywords.iter().all(hit),
                KeywordMode::Or => p.keywords.iter().any(hit),
            };
            if !ok {
                return false;
            }
        }
        if !p.zones.is_empty() && !p.zone_wanted[r.zone as usize] {
            return false;
        }
        if let Some(day) = q.deletion_day {
            if r.drop_at.date_naive() != day {
                return false;
            }
        }
        if q.finalization_from.is_some_and(|f| r.finalization_at < f)
            || q.finalization_to.is_some_and(|t| r.finalization_at > t)
        {
            return false;
        }
        let chars = u32::from(r.chars);
        if q.min_length.is_some_and(|m| chars < m) || q.max_length.is_some_and(|m| chars > m) {
            return false;
        }
        if (q.no_hyphens && r.flags & HYPHEN != 0)
            || (q.no_numbers && r.flags & DIGIT != 0)
            || (q.no_idns && r.flags & IDN != 0)
        {
            return false;
        }
        if let Some(re) = &p.regex {
            if !re.is_match(&self.unicode(r)) {
                return false;
            }
        }
        if let Some(re) = &p.label_regex {
            if !re.is_match(self.label(i as usize)) {
                return false;
            }
        }
        true
    }
}

/// Sorts ids by a text key, comparing the first eight bytes as one integer (taken once per id) and
/// reading the texts only when those are equal: most comparisons then touch no string at all.
fn sort_by_text<'a>(ids: &mut [u32], key: impl Fn(u32) -> &'a str) {
    let prefix = |t: &str| {
        let mut b = [0u8; 8];
        let n = t.len().min(8);
        b[..n].copy_from_slice(&t.as_bytes()[..n]);
        u64::from_be_bytes(b)
    };
    let mut keyed: Vec<(u64, u32)> = ids.iter().map(|i| (prefix(key(*i)), *i)).collect();
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| key(a.1).cmp(key(b.1))));
    for (slot, (_, i)) in ids.iter_mut().zip(keyed) {
        *slot = i;
    }
}

fn ranks(order: &[u32]) -> Vec<u32> {
    let mut rank = vec![0u32; order.len()];
    for (pos, id) in order.iter().enumerate() {
        rank[*id as usize] = pos as u32;
    }
    rank
}

/// The ids (ascending) of the entries of `sorted` whose key starts with `prefix`.
fn prefix_range<'a>(sorted: &[u32], prefix: &str, key: impl Fn(usize) -> &'a str) -> Vec<u32> {
    let lo = sorted.partition_point(|i| key(*i as usize) < prefix);
    let hi = lo + sorted[lo..].partition_point(|i| key(*i as usize).starts_with(prefix));
    let mut out = sorted[lo..hi].to_vec();
    out.sort_unstable();
    out
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}
