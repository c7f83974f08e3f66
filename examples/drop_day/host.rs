//! The simulated registrar's side of the engine: every call the drop day makes, and with
//! `--db sqlite:PATH` a journal of their answers that lets a killed run resume.
//!
//! Resuming works like this. Each answer is appended to `PATH.journal` (one JSON line) before the
//! next call is made. A restarted run replays the simulation from the start with the same seed:
//! while the journal has an answer, the engine is not called and the recorded answer is used (the
//! database already holds the call's effect); the first call without one is the only one in
//! doubt — the kill may have come after the engine committed it and before its answer was
//! written — so every mutating call carries an idempotency key (placements, fundings,
//! cancellations, payments, bids) or is one that may simply run again (contact updates, ticks,
//! reads). From there on the run is live again. The drop figures are counted from events, which
//! the journal replays exactly, not from tick reports: a tick killed half-way cannot report what
//! it did.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use backorder::{
    Contacts, Engine, Error, ErrorCode, Event, NewAccount, PlaceBackorder, TickReport,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A customer request the engine refused (the run counts these by code).
#[derive(Debug)]
pub struct Refused(pub ErrorCode);

/// One journal line: the answer to one call.
#[derive(Serialize, Deserialize)]
enum Answer<T> {
    #[serde(rename = "ok")]
    Ok(T),
    #[serde(rename = "refused")]
    Refused(ErrorCode),
}

struct Journal {
    file: File,
    /// Answers recorded by earlier runs, not yet replayed, in call order.
    recorded: std::vec::IntoIter<String>,
}

/// The engine, with the journal when the run can be resumed.
pub struct Host {
    /// Shared with the catcher when drops are worked over EPP.
    pub engine: Arc<Engine>,
    journal: Option<Journal>,
    resumed: bool,
}

/// Errors that end the run (the store failed, a bug); customer refusals are [`Refused`].
fn fatal(e: &Error) -> bool {
    matches!(e.code(), ErrorCode::Internal | ErrorCode::Store)
}

impl Host {
    /// No journal: the run cannot be resumed (memory, a scratch file, a shared database).
    pub fn plain(engine: Arc<Engine>) -> Host {
        Host {
            engine,
            journal: None,
            resumed: false,
        }
    }

    /// The journal of the SQLite database at `db` (`db` + `.journal`), for a run with the
    /// arguments `header`: a new one for a new database, the recorded one to resume.
    pub fn journal_path(db: &Path) -> PathBuf {
        let mut p = db.as_os_str().to_owned();
        p.push(".journal");
        PathBuf::from(p)
    }

    /// Opens or creates the journal at `path`, once the engine holds the database `db` (which
    /// `db_existed` before this run); refuses a database that existed without a journal (it was
    /// not made by a resumable run) or a journal of other arguments.
    pub fn open_journal(
        path: &Path,
        db: &Path,
        db_existed: bool,
        header: &str,
    ) -> Result<Option<Vec<String>>, Error> {
        let io = |e: std::io::Error| Error::Store(format!("{}: {e}", path.display()));
        if !path.exists() {
            if db_existed {
                return Err(Error::InvalidArgument(format!(
                    "{} exists but has no journal ({}): resume only what drop_day started there, \
                     or give a new path",
                    db.display(),
                    path.display()
                )));
            }
            // Written whole and then renamed, so a kill leaves no journal without its header.
            let tmp = path.with_extension("journal-new");
            let mut f = File::create(&tmp).map_err(io)?;
            f.write_all(format!("{header}\n").as_bytes()).map_err(io)?;
            std::fs::rename(&tmp, path).map_err(io)?;
            return Ok(None);
        }
        let mut text = String::new();
        File::open(path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(io)?;
        // A line cut short by the kill is no answer: drop it (the file is cut back on open).
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let mut lines: Vec<String> = text[..complete].lines().map(str::to_string).collect();
        if lines.is_empty() || lines[0] != header {
            return Err(Error::InvalidArgument(format!(
                "{} was written by a run with other arguments ({}): resume with the same ones",
                path.display(),
                lines.first().map_or("none", |l| l.as_str())
            )));
        }
        lines.remove(0);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io)?;
        f.set_len(complete as u64).map_err(io)?;
        Ok(Some(lines))
    }

    /// With the journal at `path` (opened by [`Host::open_journal`]) and what it recorded.
    pub fn journaled(
        engine: Arc<Engine>,
        path: &Path,
        recorded: Option<Vec<String>>,
    ) -> Result<Host, Error> {
        let io = |e: std::io::Error| Error::Store(format!("{}: {e}", path.display()));
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let resumed = recorded.is_some();
        Ok(Host {
            engine,
            journal: Some(Journal {
                file,
                recorded: recorded.unwrap_or_default().into_iter(),
            }),
            resumed,
        })
    }

    /// True when this run took up an earlier one's journal.
    pub fn resumed(&self) -> bool {
        self.resumed
    }

    /// Answers a call: from the journal while it has answers, else from the engine (journaled).
    fn call<T: Serialize + DeserializeOwned>(
        &mut self,
        name: &'static str,
        live: impl FnOnce(&Engine) -> Result<T, Error>,
    ) -> Result<Result<T, Refused>, Error> {
        if let Some(j) = &mut self.journal {
            if let Some(line) = j.recorded.next() {
                let (recorded, answer): (String, Answer<T>) =
                    serde_json::from_str(&line).map_err(|e| {
                        Error::Store(format!("the journal does not match this run: {e}: {line}"))
                    })?;
                if recorded != name {
                    return Err(Error::Store(format!(
                        "the journal does not match this run: it recorded {recorded} where this \
                         run calls {name}"
                    )));
                }
                return Ok(match answer {
                    Answer::Ok(v) => Ok(v),
                    Answer::Refused(code) => Err(Refused(code)),
                });
            }
        }
        let answer = match live(&self.engine) {
            Ok(v) => Answer::Ok(v),
            Err(e) if fatal(&e) => return Err(e),
            Err(e) => Answer::Refused(e.code()),
        };
        if let Some(j) = &mut self.journal {
            let mut line = serde_json::to_string(&(name, &answer))
                .map_err(|e| Error::Internal(format!("journal: {e}")))?;
            line.push('\n');
            j.file
                .write_all(line.as_bytes())
                .map_err(|e| Error::Store(format!("journal: {e}")))?;
        }
        Ok(match answer {
            Answer::Ok(v) => Ok(v),
            Answer::Refused(code) => Err(Refused(code)),
        })
    }

    /// A call the run cannot do without: a refusal ends it too.
    fn must<T: Serialize + DeserializeOwned>(
        &mut self,
        name: &'static str,
        live: impl FnOnce(&Engine) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.call(name, live)?.map_err(|Refused(code)| {
            Error::Internal(format!("{name} was refused: {}", code.as_str()))
        })
    }

    pub fn add_pending_deletion(&mut self, domain: &str, at: DateTime<Utc>) -> Result<(), Error> {
        self.must("add_pending_deletion", |e| {
            e.add_pending_deletion(domain, at).map(|_| ())
        })
    }

    pub fn create_account(&mut self, new: NewAccount) -> Result<(), Error> {
        // In doubt after a kill, the account may exist already: that is the answer wanted.
        self.must("create_account", |e| match e.create_account(new) {
            Err(err) if err.code() == ErrorCode::AccountExists => Ok(()),
            other => other.map(|_| ()),
        })
    }

    pub fn fund(
        &mut self,
        account: &str,
        amount: Decimal,
        key: &str,
    ) -> Result<Result<(), Refused>, Error> {
        self.call("fund", |e| e.fund(account, amount, key).map(|_| ()))
    }

    /// Places a backorder; the answer is its id.
    pub fn place(&mut self, req: PlaceBackorder) -> Result<Result<u64, Refused>, Error> {
        self.call("place", |e| e.place_backorder(req).map(|b| b.id))
    }

    // Keys matter only to a run that may be resumed; without a journal the plain calls do the
    // same with less work.

    pub fn cancel(
        &mut self,
        account: &str,
        id: u64,
        key: &str,
    ) -> Result<Result<(), Refused>, Error> {
        let keyed = self.journal.is_some();
        self.call("cancel", |e| match keyed {
            true => e.cancel_backorder_once(account, id, key).map(|_| ()),
            false => e.cancel_backorder(account, id).map(|_| ()),
        })
    }

    pub fn pay(&mut self, account: &str, id: u64, key: &str) -> Result<Result<(), Refused>, Error> {
        let keyed = self.journal.is_some();
        self.call("pay", |e| match keyed {
            true => e.pay_once(account, id, key).map(|_| ()),
            false => e.pay(account, id).map(|_| ()),
        })
    }

    pub fn bid(
        &mut self,
        account: &str,
        id: u64,
        max: Decimal,
        key: &str,
    ) -> Result<Result<(), Refused>, Error> {
        let keyed = self.journal.is_some();
        self.call("bid", |e| match keyed {
            true => e.bid_once(account, id, max, key).map(|_| ()),
            false => e.bid(account, id, max).map(|_| ()),
        })
    }

    pub fn set_contacts(
        &mut self,
        account: &str,
        contacts: Contacts,
    ) -> Result<Result<(), Refused>, Error> {
        self.call("set_contacts", |e| {
            e.set_contacts(account, contacts).map(|_| ())
        })
    }

    pub fn next_wake(&mut self) -> Result<Option<DateTime<Utc>>, Error> {
        self.must("next_wake", |e| e.next_wake())
    }

    pub fn tick(&mut self) -> Result<TickReport, Error> {
        self.must("tick", |e| e.tick())
    }

    pub fn events(&mut self, after: u64, limit: u32) -> Result<Vec<Event>, Error> {
        self.must("events", |e| e.events(after, limit))
    }

    pub fn ack_events(&mut self, upto: u64) -> Result<(), Error> {
        self.must("ack_events", |e| e.ack_events(upto))
    }
}
