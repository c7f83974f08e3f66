//! The catalog's speed targets:
//!
//! - importing a 1,000,000-line HEXONET zip into a fresh engine (≤ 1.5 s), and re-importing the
//!   same list (the hourly resync) into an engine that has it;
//! - a keyword search over those names (≤ 5 ms median);
//! - 100,000 alert subscriptions matched against 100,000 new names (≤ 1 s), automaton build
//!   included;
//! - building the search index over 1,000,000 names (paid by the first search after a change).
//!
//! `cargo bench -p backorder --bench catalog`. The lists are synthetic (see
//! `examples/pending_list/synthetic.rs`) and deterministic.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use backorder::core::alert::{AlertMatcher, Subscription};
use backorder::core::catalog::ImportOptions;
use backorder::core::search::{CatalogIndex, KeywordMode, MatchAt, SearchQuery};
use backorder::core::DomainName;
use backorder::Engine;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

#[path = "../../examples/pending_list/synthetic.rs"]
mod synthetic;

fn zipped(csv: &str) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut w = zip::ZipWriter::new(&mut buf);
    w.start_file(
        "pending_delete_domain_list.csv",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    w.write_all(csv.as_bytes()).unwrap();
    w.finish().unwrap();
    buf.into_inner()
}

/// The sizes of the targets under `cargo bench`; a hundredth under `cargo test`, which runs each
/// benchmark once to check it still works.
fn size(full: usize) -> usize {
    if std::env::args().any(|a| a == "--bench") {
        full
    } else {
        full / 100
    }
}

fn engine() -> Engine {
    Engine::builder().seed(1).build().unwrap()
}

fn import(c: &mut Criterion) {
    let names = size(1_000_000);
    let zip = zipped(&synthetic::hexonet_list(names, 1));
    let mut g = c.benchmark_group("import");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("hexonet_zip_1m_fresh", |b| {
        b.iter_batched(
            engine,
            |e| {
                let r = e
                    .import_pending_list(&zip, ImportOptions::default())
                    .unwrap();
                assert_eq!(r.added, names as u64);
                e
            },
            BatchSize::PerIteration,
        )
    });
    let loaded = engine();
    loaded
        .import_pending_list(&zip, ImportOptions::default())
        .unwrap();
    g.bench_function("hexonet_zip_1m_resync_unchanged", |b| {
        b.iter(|| {
            let r = loaded
                .import_pending_list(&zip, ImportOptions::default())
                .unwrap();
            assert_eq!(r.unchanged, names as u64);
        })
    });
    g.finish();
}

fn search(c: &mut Criterion) {
    let e = engine();
    e.import_pending_list(
        &zipped(&synthetic::hexonet_list(size(1_000_000), 1)),
        ImportOptions::default(),
    )
    .unwrap();
    e.catalog_index().unwrap();
    let mut g = c.benchmark_group("search_1m");
    let queries = [
        (
            "keyword_any",
            SearchQuery {
                keywords: vec!["shop".into()],
                ..Default::default()
            },
        ),
        (
            "keyword_any_com_max10_nonumbers",
            SearchQuery {
                keywords: vec!["shop".into()],
                zones: vec!["com".into()],
                max_length: Some(10),
                no_numbers: true,
                ..Default::default()
            },
        ),
        (
            "two_keywords_and_begin",
            SearchQuery {
                keywords: vec!["blue".into(), "car".into()],
                keyword_mode: KeywordMode::And,
                match_at: MatchAt::Begin,
                ..Default::default()
            },
        ),
        (
            "no_index_length_and_flags_only",
            SearchQuery {
                min_length: Some(4),
                max_length: Some(5),
                no_hyphens: true,
                no_numbers: true,
                ..Default::default()
            },
        ),
        (
            "rare_keyword_ordered_by_deletion_desc",
            SearchQuery {
                keywords: vec!["foxzen".into()],
                order_by: backorder::core::search::OrderBy::DeletionDay,
                descending: true,
                ..Default::default()
            },
        ),
    ];
    for (name, q) in queries {
        g.bench_function(name, |b| {
            b.iter(|| black_box(e.search_pending(&q).unwrap().total))
        });
    }
    g.finish();
}

/// Building the search index over 1,000,000 names: what the first search after an import pays.
fn index(c: &mut Criterion) {
    let list = synthetic::hexonet_list(size(1_000_000), 1);
    let entries: Vec<backorder::core::PendingDeletion> =
        backorder::core::droplist::parse(list.as_bytes())
            .unwrap()
            .entries
            .into_iter()
            .map(|e| backorder::core::PendingDeletion {
                domain: e.domain,
                drop_at: e.drop_at,
                withdrawn: false,
                updated_at: e.drop_at,
            })
            .collect();
    let policies = backorder::core::PolicyTable::defaults();
    let mut g = c.benchmark_group("index");
    g.sample_size(10);
    g.bench_function("build_1m", |b| {
        b.iter(|| black_box(CatalogIndex::build(&entries, &policies).len()))
    });
    g.finish();
}

fn alerts(c: &mut Criterion) {
    let keywords = synthetic::keywords(size(100_000), 2);
    let subs: Vec<Subscription> = keywords
        .into_iter()
        .enumerate()
        .map(|(i, k)| Subscription {
            id: i as u64 + 1,
            account: format!("cust-{}", i % 5000).as_str().into(),
            keywords: vec![k],
            keyword_mode: KeywordMode::Or,
            match_at: [MatchAt::Any, MatchAt::Begin, MatchAt::End][i % 3],
            zones: if i % 4 == 0 {
                vec!["com".into()]
            } else {
                vec![]
            },
            max_length: (i % 5 == 0).then_some(12),
            no_hyphens: i % 7 == 0,
            no_numbers: i % 11 == 0,
            no_idns: false,
            address: String::new(),
            created_at: chrono::DateTime::UNIX_EPOCH,
        })
        .collect();
    let names: Vec<DomainName> = synthetic::hexonet_list(size(100_000), 3)
        .lines()
        .map(|l| DomainName::parse(l.split(';').next().unwrap()).unwrap())
        .collect();
    let mut g = c.benchmark_group("alerts");
    g.sample_size(10);
    g.bench_function("100k_subscriptions_x_100k_names_with_build", |b| {
        b.iter(|| {
            let m = AlertMatcher::new(subs.clone());
            let mut scratch = backorder::core::alert::Scratch::default();
            let hits: usize = names
                .iter()
                .map(|n| m.matches_with(n, &mut scratch).len())
                .sum();
            black_box(hits)
        })
    });
    g.finish();
}

criterion_group!(benches, import, search, index, alerts);
criterion_main!(benches);
