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
use crate::error::Result;
use crate::policy::PolicyTable;
use crate::store::Store;

/// Adds a name to the pending-delete catalog, or moves its deletion time; the open backorders of
/// the name follow (their finalization date and deposit window with them). Returns how many
/// backorders moved.
pub fn upsert<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
) -> Result<usize> {
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
