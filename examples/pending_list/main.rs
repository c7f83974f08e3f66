//! Writes a synthetic HEXONET deletion list, zipped as HEXONET ships it, for timing imports:
//!
//! ```text
//! cargo run --release --example pending_list -- --names 1000000 --out /tmp/pending_delete_domain_list.csv.zip
//! /usr/bin/time -v ./target/release/backorder import /tmp/pending_delete_domain_list.csv.zip
//! ```

use std::io::Write;
use std::process::ExitCode;

mod synthetic;

fn main() -> ExitCode {
    let mut names = 1_000_000usize;
    let mut seed = 1u64;
    let mut out = String::from("pending_delete_domain_list.csv.zip");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let value = args.next();
        match (a.as_str(), value) {
            ("--names", Some(v)) if v.parse::<usize>().is_ok() => {
                names = v.parse().unwrap_or(names)
            }
            ("--seed", Some(v)) if v.parse::<u64>().is_ok() => seed = v.parse().unwrap_or(seed),
            ("--out", Some(v)) => out = v,
            _ => {
                eprintln!("usage: pending_list [--names N] [--seed N] [--out FILE.zip]");
                return ExitCode::from(2);
            }
        }
    }
    let csv = synthetic::hexonet_list(names, seed);
    let file = match std::fs::File::create(&out) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{out}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut zip = zip::ZipWriter::new(file);
    let written = zip
        .start_file(
            "pending_delete_domain_list.csv",
            zip::write::SimpleFileOptions::default(),
        )
        .map_err(|e| e.to_string())
        .and_then(|_| zip.write_all(csv.as_bytes()).map_err(|e| e.to_string()))
        .and_then(|_| zip.finish().map(|_| ()).map_err(|e| e.to_string()));
    match written {
        Ok(()) => {
            println!("{out}: {names} names");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{out}: {e}");
            ExitCode::FAILURE
        }
    }
}
