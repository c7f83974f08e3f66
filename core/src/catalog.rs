//! The pending-delete catalog: names the registries are about to delete, with their deletion times.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::name::DomainName;

/// A name on the pending-delete list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDeletion {
    /// The name.
    pub domain: DomainName,
    /// When the registry is expected to purge it.
    pub drop_at: DateTime<Utc>,
    /// The name left the list (restored by its holder); its backorders were cancelled.
    pub withdrawn: bool,
    /// When the entry was last written.
    pub updated_at: DateTime<Utc>,
}

use crate::backorder::{apply_drop_time, load, save};
use crate::error::{Error, Result};
use crate::policy::PolicyTable;
use crate::store::Store;

/// The earliest deletion time the catalog takes (1970-01-01T00:00:00Z, as seconds since the epoch).
pub const EARLIEST_DROP_SECS: i64 = 0;
/// The latest deletion time the catalog takes (9999-12-31T23:59:59Z): far enough that every window
/// a policy may set (each at most [`crate::policy::MAX_DURATION_SECS`]) stays in the calendar.
pub const LATEST_DROP_SECS: i64 = 253_402_300_799;

/// Refuses a deletion time outside the years 1970-9999.
///
/// ```
/// use chrono::{DateTime, Utc};
/// assert!(backorder_core::catalog::check_drop_time(DateTime::<Utc>::MIN_UTC).is_err());
/// assert!(backorder_core::catalog::check_drop_time(DateTime::<Utc>::UNIX_EPOCH).is_ok());
/// ```
pub fn check_drop_time(drop_at: DateTime<Utc>) -> Result<()> {
    if (EARLIEST_DROP_SECS..=LATEST_DROP_SECS).contains(&drop_at.timestamp()) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "deletion time {} is outside 1970-01-01 .. 9999-12-31",
            drop_at.timestamp()
        )))
    }
}

/// Adds a name to the pending-delete catalog, or moves its deletion time; the open backorders of
/// the name follow (their finalization date and deposit window with them). Returns how many
/// backorders moved. A deletion time outside 1970-9999 is [`Error::InvalidArgument`].
pub fn upsert<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
) -> Result<usize> {
    check_drop_time(drop_at)?;
    let policy = policies.get(domain.zone())?;
    let previous = tx.pending_deletion(domain)?;
    tx.put_pending_deletion(&PendingDeletion {
        domain: domain.clone(),
        drop_at,
        withdrawn: false,
        updated_at: now,
    })?;
    if previous.is_some_and(|p| p.drop_at == drop_at && !p.withdrawn) {
        return Ok(0);
    }
    let mut moved = 0;
    for head in tx.backorders_for_name(domain, None)? {
        if head.status.awaits_drop() && head.drop_at != Some(drop_at) {
            let mut b = load(tx, head.id)?;
            apply_drop_time(&mut b, policy, Some(drop_at));
            b.updated_at = now;
            save(tx, b.clone(), None)?;
            moved += 1;
        }
    }
    Ok(moved)
}
