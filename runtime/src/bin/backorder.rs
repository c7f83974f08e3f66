//! `backorder`: the operator's command line for libbackorder.
//!
//! ```text
//! backorder import FILE [--partial] [--store URL] [--json]
//! backorder search --list FILE [filters] [--json]
//! backorder serve --db URL --listen ADDR --accounts FILE [--entity 54cd] [--pending-list FILE]
//!                 [--workers N] [--no-tick]
//! ```
//!
//! Run `backorder --help` and `backorder search --help` for every flag.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use backorder::core::catalog::ImportOptions;
use backorder::core::droplist::parse_time;
use backorder::core::search::{KeywordMode, MatchAt, OrderBy, SearchQuery};
use backorder::Engine;
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Operate libbackorder: import deletion lists and search the pending-delete catalog.
#[derive(Parser)]
#[command(name = "backorder", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import a deletion list into the engine's catalog and report what changed: names added,
    /// moved, withdrawn, left out, and every bad line with its number.
    Import(ImportArgs),
    /// Search a deletion list with the filters of HEXONET's QueryDomainPendingDeleteList.
    Search(SearchArgs),
    /// Serve HEXONET's command API over HTTP (`POST /api/call.cgi`), so HEXONET clients and
    /// scripts drive the engine unchanged; tick the engine meanwhile. Stops on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// The engine's store: `sqlite:PATH`, `postgres://…` or `memory:`.
    #[arg(
        long,
        alias = "store",
        env = "BACKORDER_STORE",
        default_value = "sqlite:backorder.db"
    )]
    db: String,
    /// Where to listen (`ADDR:PORT`; port 0 picks a free one, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// The accounts file (TOML, one `[[account]]` table each with login, password, balance,
    /// currency, optional parent and contacts). Read at start; passwords are kept hashed.
    #[arg(long, value_name = "FILE")]
    accounts: PathBuf,
    /// The `s_entity` answered (HEXONET: 54cd live, 1234 test).
    #[arg(long, default_value = "54cd")]
    entity: String,
    /// A deletion list to import at start (as `backorder import --partial`).
    #[arg(long, value_name = "FILE")]
    pending_list: Option<PathBuf>,
    /// Threads answering requests (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Do not tick the engine: another process sharing the store (one running the EPP catcher)
    /// does the time-driven work. Without this flag `serve` ticks it, and drops are decided by the
    /// engine's built-in simulated registry, not caught at a real one.
    #[arg(long)]
    no_tick: bool,
}

#[derive(Args)]
struct ImportArgs {
    /// The list: HEXONET's pending_delete_domain_list.csv(.zip), the IETF drop-list CSV
    /// (TLD,DOMAIN,EXPIRED,PURGED), or a plain CSV/TSV of name and deletion time.
    file: PathBuf,
    /// The list is partial (one zone's, or additions only): do not withdraw listed names it lacks.
    #[arg(long)]
    partial: bool,
    /// The engine's store: `sqlite:PATH` (kept between runs: a second import reports what changed
    /// since the first) or `memory:` (nothing kept).
    #[arg(long, env = "BACKORDER_STORE", default_value = "sqlite:backorder.db")]
    store: String,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Match {
    /// The keyword begins the name.
    Begin,
    /// The keyword ends the name (before the zone).
    End,
    /// The keyword stands anywhere in the name.
    Any,
}

#[derive(Clone, Copy, ValueEnum)]
enum Combine {
    /// Every keyword must match.
    And,
    /// One keyword is enough.
    Or,
}

#[derive(Clone, Copy, ValueEnum)]
enum Order {
    /// By name.
    Name,
    /// By deletion time.
    DeletionDay,
    /// By finalization date.
    FinalizationDate,
}

#[derive(Args)]
struct SearchArgs {
    /// The deletion list to search (plain or zipped; see `backorder import --help`).
    #[arg(long, value_name = "FILE")]
    list: PathBuf,
    /// A keyword (repeat for several). Matched against the name without its zone, lower case.
    #[arg(long = "keyword", value_name = "WORD")]
    keywords: Vec<String>,
    /// Where a keyword must stand (MATCH=BEGIN|END|ANY).
    #[arg(long = "match", value_enum, ignore_case = true, default_value = "any")]
    match_at: Match,
    /// How several keywords combine (AND: all of them, OR: any).
    #[arg(
        long = "keywords-mode",
        value_enum,
        ignore_case = true,
        default_value = "and"
    )]
    keywords_mode: Combine,
    /// A zone to search, such as `com` (repeat for several; default all).
    #[arg(long = "zone", value_name = "ZONE")]
    zones: Vec<String>,
    /// Only names deleted on this UTC day (YYYY-MM-DD).
    #[arg(long, value_name = "YYYY-MM-DD")]
    deletion_day: Option<NaiveDate>,
    /// Only names whose finalization date is at or after this (YYYY-MM-DD[ HH:MM:SS] or RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    finalization_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Only names whose finalization date is at or before this.
    #[arg(long, value_name = "TIME", value_parser = time_arg)]
    finalization_to: Option<chrono::DateTime<chrono::Utc>>,
    /// Shortest name, in characters, without the zone.
    #[arg(long, value_name = "N")]
    min_length: Option<u32>,
    /// Longest name, in characters, without the zone.
    #[arg(long, value_name = "N")]
    max_length: Option<u32>,
    /// Leave out names with hyphens.
    #[arg(long)]
    nohyphens: bool,
    /// Leave out names with digits.
    #[arg(long)]
    nonumbers: bool,
    /// Leave out internationalised names.
    #[arg(long)]
    noidns: bool,
    /// A regular expression the whole name (Unicode form, with its zone) must match.
    #[arg(long, value_name = "REGEX")]
    regex: Option<String>,
    /// A regular expression the name without its zone must match (HEXONET's REGEXP).
    #[arg(long, value_name = "REGEX")]
    label_regex: Option<String>,
    /// The order of the rows.
    #[arg(long, value_enum, default_value = "name")]
    order_by: Order,
    /// Descending order.
    #[arg(long)]
    desc: bool,
    /// Rows to skip (FIRST).
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Rows to print (LIMIT, at most 100000); the total counts every match.
    #[arg(long, default_value_t = 100)]
    limit: u32,
    /// Print `{"total": N, "rows": [...]}`.
    #[arg(long)]
    json: bool,
}

fn time_arg(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    parse_time(s).ok_or_else(|| format!("'{s}' is not YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339"))
}

/// Phase lines on stderr, when a person is watching it.
struct Progress {
    on: bool,
    started: Instant,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
            started: Instant::now(),
        }
    }

    fn say(&self, what: &str) {
        if self.on {
            eprintln!("[{:>7.2}s] {what}", self.started.elapsed().as_secs_f64());
        }
    }
}

fn load(
    engine: &Engine,
    file: &std::path::Path,
    options: ImportOptions,
    progress: &Progress,
) -> backorder::Result<backorder::core::catalog::ImportReport> {
    progress.say(&format!("reading {}", file.display()));
    let list = backorder::catalog::read_list_file(file)?;
    progress.say(&format!(
        "parsed {} names, {} bad lines ({:?}); importing",
        list.entries.len(),
        list.bad_line_count,
        list.format
    ));
    let report = engine.import_parsed_list(list, options)?;
    progress.say("imported");
    Ok(report)
}

fn serve(args: ServeArgs) -> backorder::Result<()> {
    use backorder::gateway::{run, Accounts, Gateway, GatewayOptions, HashCost, RunOptions};
    let progress = Progress::new();
    progress.say(&format!(
        "hashing the passwords of {}",
        args.accounts.display()
    ));
    let accounts = Accounts::load(&args.accounts, HashCost::DEFAULT)?;
    let engine = std::sync::Arc::new(Engine::open(&args.db)?);
    if let Some(list) = &args.pending_list {
        let report = load(
            &engine,
            list,
            ImportOptions {
                withdraw_missing: false,
            },
            &progress,
        )?;
        eprintln!(
            "backorder: imported {}: {} names added, {} moved",
            list.display(),
            report.added,
            report.moved
        );
    }
    let logins = accounts.len();
    let gateway = Gateway::new(
        engine,
        accounts,
        GatewayOptions {
            entity: args.entity,
            ..GatewayOptions::default()
        },
    )?;
    let listener = std::net::TcpListener::bind(&args.listen).map_err(|e| {
        backorder::Error::InvalidArgument(format!("cannot listen on {}: {e}", args.listen))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| backorder::Error::Internal(e.to_string()))?;
    println!(
        "backorder: serving {logins} logins on http://{addr}/api/call.cgi (store {})",
        backorder::store::redact_url(&args.db)
    );
    let mut options = RunOptions {
        tick: !args.no_tick,
        ..RunOptions::default()
    };
    if let Some(w) = args.workers {
        options.workers = w;
    }
    if options.tick {
        println!(
            "backorder: ticking the engine; drops are decided by the built-in simulated registry \
             (use --no-tick beside a process that runs the EPP catcher on the same store)"
        );
    }
    let stop = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let term = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    };
    let report = run(std::sync::Arc::new(gateway), listener, options, stop)
        .map_err(|e| backorder::Error::Internal(format!("serving failed: {e}")))?;
    println!(
        "backorder: stopped after {} connections",
        report.connections
    );
    Ok(())
}

fn import(args: ImportArgs) -> backorder::Result<()> {
    let progress = Progress::new();
    let engine = Engine::open(&args.store)?;
    let options = ImportOptions {
        withdraw_missing: !args.partial,
    };
    let report = load(&engine, &args.file, options, &progress)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    println!(
        "{}: {} names read ({:?}); added {}, moved {}, unchanged {}, withdrawn {}, left out as held {}",
        args.file.display(),
        report.names_read,
        report.format,
        report.added,
        report.moved,
        report.unchanged,
        report.withdrawn,
        report.excluded_held
    );
    println!(
        "backorders moved {}, cancelled {}; alerts raised {}",
        report.backorders_moved, report.backorders_cancelled, report.alerts
    );
    println!("bad lines: {}", report.bad_line_count);
    for b in &report.bad_lines {
        println!("  line {}: {} [{}]", b.line, b.reason, b.text);
    }
    if report.bad_line_count > report.bad_lines.len() as u64 {
        println!("  (the first {} are listed)", report.bad_lines.len());
    }
    Ok(())
}

fn search(args: SearchArgs) -> backorder::Result<()> {
    let progress = Progress::new();
    let engine = Engine::open("memory:")?;
    let report = load(&engine, &args.list, ImportOptions::default(), &progress)?;
    if !report.bad_lines.is_empty() {
        eprintln!(
            "backorder: {} lines of {} not searched (first: line {}: {}); `backorder import` lists them",
            report.bad_line_count,
            args.list.display(),
            report.bad_lines[0].line,
            report.bad_lines[0].reason
        );
    }
    let query = SearchQuery {
        keywords: args.keywords,
        keyword_mode: match args.keywords_mode {
            Combine::And => KeywordMode::And,
            Combine::Or => KeywordMode::Or,
        },
        match_at: match args.match_at {
            Match::Begin => MatchAt::Begin,
            Match::End => MatchAt::End,
            Match::Any => MatchAt::Any,
        },
        zones: args.zones,
        deletion_day: args.deletion_day,
        finalization_from: args.finalization_from,
        finalization_to: args.finalization_to,
        min_length: args.min_length,
        max_length: args.max_length,
        no_hyphens: args.nohyphens,
        no_numbers: args.nonumbers,
        no_idns: args.noidns,
        regex: args.regex,
        label_regex: args.label_regex,
        order_by: match args.order_by {
            Order::Name => OrderBy::Name,
            Order::DeletionDay => OrderBy::DeletionDay,
            Order::FinalizationDate => OrderBy::FinalizationDate,
        },
        descending: args.desc,
        first: args.first,
        limit: args.limit,
    };
    progress.say("indexing");
    let result = engine.search_pending(&query)?;
    progress.say("searched");
    if args.json {
        let out = serde_json::json!({ "total": result.total, "rows": result.rows });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{} names match (showing {} from {})",
        result.total,
        result.rows.len(),
        result.first
    );
    for r in &result.rows {
        println!(
            "{:<40} {:<8} deleted {}  finalization {}",
            r.unicode,
            r.zone,
            r.drop_at.format("%Y-%m-%d %H:%M:%S"),
            r.finalization_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Import(a) => import(a),
        Command::Search(a) => search(a),
        Command::Serve(a) => serve(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("backorder: {e}");
            ExitCode::FAILURE
        }
    }
}
