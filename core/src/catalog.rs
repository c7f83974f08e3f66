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
