//! The pending-delete catalog on the engine: importing deletion lists (files and zip archives),
//! searching, keyword alert subscriptions.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use backorder_core::alert::{self, AlertMatcher, NewSubscription, Subscription};
use backorder_core::catalog::{self, ImportOptions, ImportReport};
use backorder_core::droplist;
use backorder_core::search::{CatalogIndex, SearchQuery, SearchResult};
use backorder_core::{DomainName, Error, Result};

use crate::engine::Engine;

/// The host's answer to "does one of our own customers still hold this name?".
pub type HeldNames = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The CSV file HEXONET ships inside `pending_delete_domain_list.csv.zip`.
pub const HEXONET_CSV: &str = "pending_delete_domain_list.csv";

/// The largest list read, uncompressed (a guard against zip bombs): 1 GiB.
pub const MAX_LIST_BYTES: u64 = 1 << 30;

/// The text of a deletion list: the bytes as given, or, for a zip archive, its
/// `pending_delete_domain_list.csv` (or its only `.csv` file).
///
/// ```
/// let text = backorder::catalog::list_text(b"john.com;2026-06-04 18:00:00\n").unwrap();
/// assert_eq!(text.len(), 29);
/// assert!(backorder::catalog::list_text(b"PK\x03\x04 not really a zip").is_err());
/// ```
pub fn list_text(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if !bytes.starts_with(b"PK\x03\x04") && !bytes.starts_with(b"PK\x05\x06") {
        return Ok(std::borrow::Cow::Borrowed(bytes));
    }
    let bad = |why: String| Error::InvalidArgument(format!("zip archive: {why}"));
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let base = |n: &str| n.rsplit('/').next().unwrap_or(n).to_ascii_lowercase();
    let chosen = names
        .iter()
        .find(|n| base(n) == HEXONET_CSV)
        .or_else(|| {
            let csvs: Vec<&String> = names.iter().filter(|n| base(n).ends_with(".csv")).collect();
            (csvs.len() == 1).then(|| csvs[0])
        })
        .ok_or_else(|| {
            bad(format!(
                "holds no {HEXONET_CSV} (entries: {})",
                names
                    .iter()
                    .take(5)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?
        .clone();
    let file = zip.by_name(&chosen).map_err(|e| bad(e.to_string()))?;
    if file.size() > MAX_LIST_BYTES {
        return Err(bad(format!("{chosen} is larger than 1 GiB")));
    }
    let mut out = Vec::with_capacity(file.size() as usize);
    file.take(MAX_LIST_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| bad(format!("{chosen}: {e}")))?;
    if out.len() as u64 > MAX_LIST_BYTES {
        return Err(bad(format!("{chosen} is larger than 1 GiB")));
    }
    Ok(std::borrow::Cow::Owned(out))
}

/// Parses a list's text (see [`droplist::parse`]), cutting a large body at line ends and reading
/// the pieces on every processor: the same result, line numbers included, in a fraction of the time.
pub fn parse_list(bytes: &[u8]) -> Result<droplist::ParsedList> {
    let layout = droplist::layout(bytes)?;
    let body = &bytes[layout.body_start..];
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    if threads == 1 || body.len() < 1 << 20 {
        return droplist::parse(bytes);
    }
    // Pieces end just after a line end; each knows the number of its first line.
    let mut pieces: Vec<(usize, usize, u64)> = Vec::with_capacity(threads);
    let (mut start, mut line) = (0usize, layout.body_first_line);
    for k in 1..=threads {
        let end = if k == threads {
            body.len()
        } else {
            let target = (body.len() * k / threads).max(start);
            body[target..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(body.len(), |p| target + p + 1)
        };
        if end > start {
            pieces.push((start, end, line));
            line += body[start..end].iter().filter(|b| **b == b'\n').count() as u64;
            start = end;
        }
    }
    let parsed = std::thread::scope(|scope| {
        let handles: Vec<_> = pieces
            .iter()
            .map(|&(a, b, first)| {
                scope.spawn(move || droplist::parse_body(layout.format, &body[a..b], first))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join())
            .collect::<std::result::Result<Vec<_>, _>>()
    })
    .map_err(|_| Error::Internal("a list reader thread panicked".into()))?;
    let mut list = droplist::ParsedList {
        format: layout.format,
        entries: Vec::with_capacity(parsed.iter().map(|p| p.0.len()).sum()),
        bad_lines: Vec::new(),
        bad_line_count: 0,
    };
    // Pieces in file order: the first MAX_BAD_LINES of all are the reading's own.
    for (entries, bad, bad_count) in parsed {
        list.entries.extend(entries);
        let room = droplist::MAX_BAD_LINES.saturating_sub(list.bad_lines.len());
        list.bad_lines.extend(bad.into_iter().take(room));
        list.bad_line_count += bad_count;
    }
    Ok(list)
}

/// Reads a deletion list file (plain or zipped) and parses it.
pub fn read_list_file(path: &Path) -> Result<droplist::ParsedList> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_LIST_BYTES {
        return Err(Error::InvalidArgument(format!(
            "{}: larger than 1 GiB",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Error::InvalidArgument(format!("{}: {e}", path.display())))?;
    parse_list(&list_text(&bytes)?)
}

impl Engine {
    /// Imports a deletion list (HEXONET `;` CSV, the IETF drop list, plain CSV/TSV, or a zip
    /// holding one) and resyncs the catalog with it: see [`catalog::import`]. Names the
    /// [`crate::EngineBuilder::held_names`] filter claims are left out; bad lines are reported with
    /// their numbers; newly listed names raise keyword alerts. All in one transaction: an error
    /// changes nothing.
    pub fn import_pending_list(
        &self,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<ImportReport> {
        let list = parse_list(&list_text(bytes)?)?;
        self.import_parsed_list(list, options)
    }

    /// As [`Engine::import_pending_list`], reading the file at `path`.
    pub fn import_pending_file(
        &self,
        path: impl AsRef<Path>,
        options: ImportOptions,
    ) -> Result<ImportReport> {
        let list = read_list_file(path.as_ref())?;
        self.import_parsed_list(list, options)
    }

    /// Imports a list already parsed.
    pub fn import_parsed_list(
        &self,
        list: droplist::ParsedList,
        options: ImportOptions,
    ) -> Result<ImportReport> {
        let now = self.now();
        let mut guard = self.lock();
        let matcher = Engine::alert_matcher_locked(&mut guard, now)?;
        let held = guard.held.clone();
        let is_held = |d: &DomainName| held.as_ref().is_some_and(|h| h(d.as_str()));
        let report = Engine::write_locked(&mut guard, now, |tx, policies, now, _| {
            let mut report = catalog::import(tx, policies, now, &list, &is_held, options)?;
            if !matcher.is_empty() {
                report.alerts = alert::emit_alerts(tx, now, &matcher, &report.new_names)?;
            }
            Ok(report)
        })?;
        guard.index = None;
        Ok(report)
    }

    /// Takes a name off the catalog (its holder restored it): its waiting backorders are cancelled
    /// with reason `NAME_WITHDRAWN` and refunded. Returns how many were cancelled.
    pub fn withdraw_pending_deletion(&self, domain: &str) -> Result<usize> {
        let name = DomainName::parse(domain)?;
        let n = self.write(|tx, _, now, _| catalog::withdraw(tx, now, &name))?;
        self.lock().index = None;
        Ok(n)
    }

    /// Searches the catalog (every filter of HEXONET's `QueryDomainPendingDeleteList`; see
    /// [`backorder_core::search`]). The index is built on the first search after a change.
    ///
    /// ```
    /// use backorder::core::search::SearchQuery;
    /// let engine = backorder::Engine::open("memory:").unwrap();
    /// engine.import_pending_list(b"myshop.com;2030-01-01 00:00:00\nother.net;2030-01-02 00:00:00\n",
    ///     Default::default()).unwrap();
    /// let q = SearchQuery { keywords: vec!["shop".into()], ..Default::default() };
    /// let found = engine.search_pending(&q).unwrap();
    /// assert_eq!(found.total, 1);
    /// assert_eq!(found.rows[0].domain, "myshop.com");
    /// ```
    pub fn search_pending(&self, query: &SearchQuery) -> Result<SearchResult> {
        self.catalog_index()?.search(query)
    }

    /// The catalog index, built now if the catalog or the policies changed since the last one.
    pub fn catalog_index(&self) -> Result<Arc<CatalogIndex>> {
        if let Some(index) = self.lock().index.clone() {
            return Ok(index);
        }
        let now = self.now();
        let mut guard = self.lock();
        if let Some(index) = guard.index.clone() {
            return Ok(index);
        }
        let entries = Engine::write_locked(&mut guard, now, |tx, _, _, _| tx.pending_deletions())?;
        let index = Arc::new(CatalogIndex::build(&entries, &guard.policies));
        guard.index = Some(index.clone());
        Ok(index)
    }

    /// Subscribes an account to keyword alerts.
    pub fn subscribe_alerts(&self, request: NewSubscription) -> Result<Subscription> {
        let s = self.write(|tx, _, now, _| alert::subscribe(tx, now, &request))?;
        self.lock().alerts = None;
        Ok(s)
    }

    /// Ends one of `account`'s subscriptions (another account's is "not found").
    pub fn unsubscribe_alerts(&self, account: &str, id: u64) -> Result<()> {
        self.write(|tx, _, _, _| match tx.subscription(id)? {
            Some(s) if s.account == account => tx.delete_subscription(id),
            _ => Err(Error::InvalidArgument(format!(
                "alert subscription {id} not found"
            ))),
        })?;
        self.lock().alerts = None;
        Ok(())
    }

    /// An account's alert subscriptions.
    pub fn alert_subscriptions(&self, account: &str) -> Result<Vec<Subscription>> {
        let all = self.write(|tx, _, _, _| tx.subscriptions())?;
        Ok(all.into_iter().filter(|s| s.account == account).collect())
    }

    /// The subscriptions compiled for matching, built now if they changed since the last time.
    pub(crate) fn alert_matcher_locked(
        guard: &mut crate::engine::Inner,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Arc<AlertMatcher>> {
        if let Some(m) = guard.alerts.clone() {
            return Ok(m);
        }
        let subs = Engine::write_locked(guard, now, |tx, _, _, _| tx.subscriptions())?;
        let m = Arc::new(AlertMatcher::new(subs));
        guard.alerts = Some(m.clone());
        Ok(m)
    }
}
