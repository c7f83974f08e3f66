//! The deposit workload of `cargo bench -p backorder --bench store` (a deposit reserved, then
//! released, each its own operation) through sqlx-ledger on a PostgreSQL server, so the two
//! ledgers can be compared on one machine and one server.
//!
//! A reservation is an entry pair in sqlx-ledger's ENCUMBERED layer (customer debited, revenue
//! credited); a release is the reverse pair. "single": one operation per transaction;
//! "batched": a thousand per transaction, each in its own savepoint (sqlx-ledger commits the
//! transaction it is handed).
//!
//! ```text
//! BACKORDER_BENCH_POSTGRES=postgres://USER@HOST:PORT/DB \
//! SQLX_LEDGER_MIGRATIONS=/path/to/sqlx-ledger/migrations \
//! cargo run --release --manifest-path compare/sqlx-ledger/Cargo.toml
//! ```
//!
//! The crate ships no schema: its migrations come from its repository (`migrations/`).

use std::time::Instant;

use rust_decimal::Decimal;
use sqlx_ledger::{account::*, journal::*, tx_template::*, *};

const SINGLE: u64 = 2_000;
const BATCHED: u64 = 10_000;
const BATCH: u64 = 1_000;

async fn template(ledger: &SqlxLedger, code: &str, journal: JournalId, customer_debited: bool) {
    let params = vec![
        ParamDefinition::builder()
            .name("customer")
            .r#type(ParamDataType::UUID)
            .build()
            .unwrap(),
        ParamDefinition::builder()
            .name("revenue")
            .r#type(ParamDataType::UUID)
            .build()
            .unwrap(),
        ParamDefinition::builder()
            .name("amount")
            .r#type(ParamDataType::DECIMAL)
            .build()
            .unwrap(),
    ];
    let (customer, revenue) = if customer_debited {
        ("DEBIT", "CREDIT")
    } else {
        ("CREDIT", "DEBIT")
    };
    let entry = |side: &str, account: &str, kind: &str| {
        EntryInput::builder()
            .entry_type(format!("'{kind}'"))
            .account_id(format!("params.{account}"))
            .layer("ENCUMBERED")
            .direction(side)
            .units("params.amount")
            .currency("'USD'")
            .build()
            .unwrap()
    };
    let new = NewTxTemplate::builder()
        .id(uuid::Uuid::new_v4())
        .code(code)
        .params(params)
        .tx_input(
            TxInput::builder()
                .effective("date()")
                .journal_id(format!("uuid('{journal}')"))
                .build()
                .unwrap(),
        )
        .entries(vec![
            entry(customer, "customer", &format!("{code}_CUSTOMER")),
            entry(revenue, "revenue", &format!("{code}_REVENUE")),
        ])
        .build()
        .unwrap();
    ledger.tx_templates().create(new).await.unwrap();
}

fn params(customer: AccountId, revenue: AccountId) -> TxParams {
    let mut p = TxParams::new();
    p.insert("customer", customer);
    p.insert("revenue", revenue);
    p.insert("amount", Decimal::new(4900, 2));
    p
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let server = std::env::var("BACKORDER_BENCH_POSTGRES").expect("BACKORDER_BENCH_POSTGRES");
    let migrations = std::env::var("SQLX_LEDGER_MIGRATIONS").expect("SQLX_LEDGER_MIGRATIONS");
    let name = format!("sqlx_ledger_bench_{}", std::process::id());
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let (base, _) = server.rsplit_once('/').unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&format!("{base}/{name}"))
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(std::path::Path::new(&migrations))
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();

    let ledger = SqlxLedger::new(&pool);
    let journal = JournalId::new();
    ledger
        .journals()
        .create(
            NewJournal::builder()
                .id(journal)
                .name("bench")
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let account = |label: &str| {
        let id = AccountId::new();
        let new = NewAccount::builder()
            .id(id)
            .name(format!("{label}-{id}"))
            .code(format!("{label}-{id}"))
            .build()
            .unwrap();
        (id, new)
    };
    let (customer, new_customer) = account("customer");
    let (revenue, new_revenue) = account("revenue");
    ledger.accounts().create(new_customer).await.unwrap();
    ledger.accounts().create(new_revenue).await.unwrap();
    template(&ledger, "HOLD", journal, true).await;
    template(&ledger, "RELEASE", journal, false).await;
    let op = |n: u64| if n % 2 == 0 { "HOLD" } else { "RELEASE" };

    let started = Instant::now();
    for n in 0..SINGLE {
        ledger
            .post_transaction(TransactionId::new(), op(n), Some(params(customer, revenue)))
            .await
            .unwrap();
    }
    let single = SINGLE as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let mut n = 0;
    while n < BATCHED {
        let mut outer = pool.begin().await.unwrap();
        for _ in 0..BATCH {
            let savepoint = sqlx::Acquire::begin(&mut *outer).await.unwrap();
            ledger
                .post_transaction_in_tx(
                    savepoint,
                    TransactionId::new(),
                    op(n),
                    Some(params(customer, revenue)),
                )
                .await
                .unwrap();
            n += 1;
        }
        outer.commit().await.unwrap();
    }
    let batched = BATCHED as f64 / started.elapsed().as_secs_f64();
    println!("sqlx-ledger 0.11.14: single {single:.0} ops/s, batched {batched:.0} ops/s");
}
