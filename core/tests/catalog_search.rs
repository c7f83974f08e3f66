//! Every search filter and ordering, checked against a brute-force oracle: random catalogs, random
//! queries, and the indexed answer must equal a plain filter-and-sort over every name.

use backorder_core::search::{CatalogIndex, KeywordMode, MatchAt, OrderBy, SearchQuery, SearchRow};
use backorder_core::{DomainName, PendingDeletion, PolicyTable};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

const ZONES: [&str; 4] = ["com", "net", "info", "org"];
/// Pieces names are made of: short words that overlap, digits, hyphens, and a non-ASCII letter.
const PIECES: [&str; 10] = ["shop", "ho", "op", "car", "a", "b", "7", "-x", "ü", "sho"];
const KEYWORDS: [&str; 9] = ["shop", "ho", "op", "car", "a", "sho", "ü", "7", "zzz"];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 3, 1, 0, 0, 0).unwrap()
}

prop_compose! {
    fn entry()(pieces in prop::collection::vec(0usize..PIECES.len(), 1..4),
               zone in 0usize..ZONES.len(),
               hours in 0i64..96,
               withdrawn in prop::bool::weighted(0.1)) -> Option<PendingDeletion> {
        let label: String = pieces.iter().map(|p| PIECES[*p]).collect();
        let domain = DomainName::parse(&format!("{label}.{}", ZONES[zone])).ok()?;
        Some(PendingDeletion {
            domain,
            drop_at: base() + Duration::hours(hours),
            withdrawn,
            updated_at: base(),
        })
    }
}

fn catalog() -> impl Strategy<Value = Vec<PendingDeletion>> {
    prop::collection::vec(entry(), 0..120).prop_map(|v| {
        let mut seen = std::collections::HashSet::new();
        v.into_iter()
            .flatten()
            .filter(|e| seen.insert(e.domain.clone()))
            .collect()
    })
}

prop_compose! {
    fn query()(keywords in prop::collection::vec(0usize..KEYWORDS.len(), 0..3),
               or in any::<bool>(),
               at in 0u8..3,
               zones in prop::collection::vec(0usize..ZONES.len(), 0..3),
               day in prop::option::weighted(0.3, 0i64..5),
               from in prop::option::weighted(0.3, 0i64..100),
               span in 0i64..60,
               to_set in any::<bool>(),
               min_len in prop::option::weighted(0.3, 0u32..8),
               max_len in prop::option::weighted(0.3, 0u32..12),
               flags in (any::<bool>(), any::<bool>(), any::<bool>()),
               regex in prop::option::weighted(0.2, 0usize..3),
               label_regex in prop::option::weighted(0.2, 0usize..3),
               order in 0u8..3,
               descending in any::<bool>(),
               first in 0u64..20,
               limit in 0u32..30) -> SearchQuery {
        let fin_from = from.map(|h| base() + Duration::hours(h - 4));
        SearchQuery {
            keywords: keywords.iter().map(|k| KEYWORDS[*k].to_string()).collect(),
            keyword_mode: if or { KeywordMode::Or } else { KeywordMode::And },
            match_at: [MatchAt::Begin, MatchAt::End, MatchAt::Any][at as usize],
            zones: zones.iter().map(|z| ZONES[*z].to_string()).collect(),
            deletion_day: day.map(|d| NaiveDate::from_ymd_opt(2030, 3, 1).unwrap() + Duration::days(d)),
            finalization_from: fin_from,
            finalization_to: if to_set { Some(fin_from.unwrap_or(base()) + Duration::hours(span)) } else { None },
            min_length: min_len,
            max_length: max_len.map(|m| m.max(min_len.unwrap_or(0))),
            no_hyphens: flags.0,
            no_numbers: flags.1,
            no_idns: flags.2,
            regex: regex.map(|r| ["^shop", r"\.com$", "(car|ho)"][r].to_string()),
            label_regex: label_regex.map(|r| ["^[a-z]+$", "s$", "^[^-]*-"][r].to_string()),
            order_by: [OrderBy::Name, OrderBy::DeletionDay, OrderBy::FinalizationDate][order as usize],
            descending,
            first,
            limit,
        }
    }
}

/// The rule, restated on every name with no index.
fn oracle(
    entries: &[PendingDeletion],
    q: &SearchQuery,
    policies: &PolicyTable,
) -> (u64, Vec<SearchRow>) {
    let re = q.regex.as_ref().map(|r| regex::Regex::new(r).unwrap());
    let label_re = q
        .label_regex
        .as_ref()
        .map(|r| regex::Regex::new(r).unwrap());
    let keywords: Vec<String> = q.keywords.iter().map(|k| k.to_lowercase()).collect();
    let mut rows: Vec<SearchRow> = Vec::new();
    for e in entries.iter().filter(|e| !e.withdrawn) {
        let unicode = e.domain.to_unicode();
        let zone = e.domain.zone().to_string();
        let label = unicode[..unicode.len() - zone.len() - 1].to_string();
        let finalization = policies.get(&zone).unwrap().finalization(e.drop_at);
        let hit = |k: &String| match q.match_at {
            MatchAt::Begin => label.starts_with(k.as_str()),
            MatchAt::End => label.ends_with(k.as_str()),
            MatchAt::Any => label.contains(k.as_str()),
        };
        let keywords_ok = keywords.is_empty()
            || match q.keyword_mode {
                KeywordMode::And => keywords.iter().all(hit),
                KeywordMode::Or => keywords.iter().any(hit),
            };
        let len = label.chars().count() as u32;
        let ok = keywords_ok
            && (q.zones.is_empty() || q.zones.contains(&zone))
            && q.deletion_day.is_none_or(|d| e.drop_at.date_naive() == d)
            && q.finalization_from.is_none_or(|f| finalization >= f)
            && q.finalization_to.is_none_or(|t| finalization <= t)
            && q.min_length.is_none_or(|m| len >= m)
            && q.max_length.is_none_or(|m| len <= m)
            && !(q.no_hyphens && label.contains('-'))
            && !(q.no_numbers && label.chars().any(|c| c.is_ascii_digit()))
            && !(q.no_idns && e.domain.as_str().contains("xn--"))
            && re.as_ref().is_none_or(|r| r.is_match(&unicode))
            && label_re.as_ref().is_none_or(|r| r.is_match(&label));
        if ok {
            rows.push(SearchRow {
                domain: e.domain.to_string(),
                unicode,
                zone,
                drop_at: e.drop_at,
                finalization_at: finalization,
            });
        }
    }
    rows.sort_by(|a, b| {
        let key = match q.order_by {
            OrderBy::Name => std::cmp::Ordering::Equal,
            OrderBy::DeletionDay => a.drop_at.cmp(&b.drop_at),
            OrderBy::FinalizationDate => a.finalization_at.cmp(&b.finalization_at),
        };
        key.then(a.domain.cmp(&b.domain))
    });
    if q.descending {
        rows.reverse();
    }
    let total = rows.len() as u64;
    let page = rows
        .into_iter()
        .skip(q.first as usize)
        .take(q.limit as usize)
        .collect();
    (total, page)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn every_filter_and_order_agrees_with_a_scan(entries in catalog(), q in query()) {
        let policies = PolicyTable::defaults();
        let index = CatalogIndex::build(&entries, &policies);
        let got = index.search(&q).unwrap();
        let (total, rows) = oracle(&entries, &q, &policies);
        prop_assert_eq!(got.total, total);
        prop_assert_eq!(got.rows, rows);
    }
}

#[test]
fn bad_queries_are_refused() {
    let index = CatalogIndex::build(&[], &PolicyTable::defaults());
    let bad = [
        SearchQuery {
            regex: Some("(".into()),
            ..Default::default()
        },
        SearchQuery {
            limit: 100_001,
            ..Default::default()
        },
        SearchQuery {
            keywords: vec!["".into()],
            ..Default::default()
        },
        SearchQuery {
            keywords: vec!["a.b".into()],
            ..Default::default()
        },
        SearchQuery {
            keywords: vec!["k".into(); 21],
            ..Default::default()
        },
        SearchQuery {
            min_length: Some(5),
            max_length: Some(4),
            ..Default::default()
        },
        SearchQuery {
            regex: Some("a".repeat(1001)),
            ..Default::default()
        },
    ];
    for q in bad {
        let e = index.search(&q).unwrap_err();
        assert_eq!(
            e.code(),
            backorder_core::ErrorCode::InvalidArgument,
            "{q:?}"
        );
    }
}
