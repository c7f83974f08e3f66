//! Processing at the drop (SPEC §2 steps 3-4): ACTIVE/BACKORDERED → PROCESSING, then the outcome of
//! the registration attempt decides FAILED, SUCCESSFUL or a private auction.

use chrono::{DateTime, Duration, Months, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auction;
use crate::backorder::{emit, load, refund, save, set_status, Allocation, Backorder};
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ledger;
use crate::lifecycle::{Reason, Status};
use crate::name::DomainName;
use crate::policy::{AllocationModel, PolicyTable};
use crate::store::{Store, WakeKey};

/// What the registry said to our registration attempts for one drop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CatchOutcome {
    /// Our `domain:create` succeeded.
    Caught,
    /// Another registrar registered it first.
    Taken,
    /// The name did not become available within the attempt window.
    NotDropped,
    /// The registry priced it as premium at registration time.
    Premium {
        /// The registry's premium price, when it said.
        price: Option<Decimal>,
    },
    /// The registry kept failing; the attempt was abandoned.
    RegistryError {
        /// What it said.
        message: String,
    },
}

/// A drop to work: a name, its drop time and the backorders now PROCESSING for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropJob {
    /// The name.
    pub domain: DomainName,
    /// The drop time.
    pub drop_at: DateTime<Utc>,
    /// The zone's model.
    pub model: AllocationModel,
    /// The backorders processing (ids ascending).
    pub backorders: Vec<u64>,
    /// Sum of their prices: with the count, the catch priority.
    pub value: Decimal,
}

/// How long a PROCESSING backorder waits for an outcome before its drop is worked again (a host
/// that crashed mid-drop picks it up on the next tick after this).
pub const OUTCOME_TIMEOUT_SECS: i64 = 300;

fn processing_for<S: Store + ?Sized>(
    tx: &mut S,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
    statuses: &[Status],
) -> Result<Vec<Backorder>> {
    let mut out = Vec::new();
    for head in tx.backorders_for_name(domain, None)? {
        if head.drop_at == Some(drop_at) && statuses.contains(&head.status) {
            out.push(load(tx, head.id)?);
        }
    }
    Ok(out)
}

/// Takes up at once the drops a process left half-done — begun, their outcome never recorded,
/// because it died while the registry was being asked — instead of after the outcome timeout:
/// each such backorder is due again at its drop time. Only for a store no other process uses (a
/// PROCESSING backorder in a shared database may be another process's drop under way). Returns
/// how many backorders were found.
pub fn resume_interrupted_drops<S: Store + ?Sized>(tx: &mut S) -> Result<u64> {
    let processing = tx.count_by_status()?;
    if processing.get(&Status::Processing).copied().unwrap_or(0) == 0 {
        return Ok(0);
    }
    let mut found = Vec::new();
    tx.for_each_backorder(&mut |b| {
        if let (Status::Processing, Some(drop_at)) = (b.status, b.drop_at) {
            found.push((b.id, drop_at));
        }
        Ok(())
    })?;
    for (id, drop_at) in &found {
        tx.set_wake(WakeKey::Backorder(*id), Some(*drop_at))?;
    }
    Ok(found.len() as u64)
}

/// Starts the drop of `domain`: every ACTIVE (auction model) or BACKORDERED (exclusive model)
/// backorder of that drop becomes PROCESSING. Returns the job, or `None` when no backorder is
/// funded for it (then nothing should be attempted at the registry).
pub fn begin_drop<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
) -> Result<Option<DropJob>> {
    let mut job: Option<DropJob> = None;
    let candidates = processing_for(
        tx,
        domain,
        drop_at,
        &[Status::Active, Status::Backordered, Status::Processing],
    )?;
    for mut b in candidates {
        // A backorder already PROCESSING belongs to a drop under way (in this process or
        // another on a shared database) until its outcome timeout passes: only then is the drop
        // taken up again, so a drop is never attempted twice at once.
        if b.status == Status::Processing
            && tx
                .wake_of(WakeKey::Backorder(b.id))?
                .is_none_or(|t| t > now)
        {
            continue;
        }
        if b.status != Status::Processing {
            set_status(tx, &mut b, Status::Processing, Reason::DropStarted, now)?;
        }
        let j = job.get_or_insert_with(|| DropJob {
            domain: domain.clone(),
            drop_at,
            model: b.model,
            backorders: Vec::new(),
            value: Decimal::ZERO,
        });
        j.backorders.push(b.id);
        j.value += b.price.amount;
        save(tx, b, Some(now + Duration::seconds(OUTCOME_TIMEOUT_SECS)))?;
    }
    Ok(job)
}

/// The drops due from `from` to before `to` with backorders to catch for (ACTIVE, BACKORDERED or
/// PROCESSING), by drop time then name: a catcher's plan. Reads the catalog's entries in the
/// window and each one's backorders.
pub fn upcoming_drops<S: Store + ?Sized>(
    tx: &mut S,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<DropJob>> {
    let mut entries: Vec<_> = tx
        .pending_deletions()?
        .into_iter()
        .filter(|p| !p.withdrawn && p.drop_at >= from && p.drop_at < to)
        .collect();
    entries.sort_by(|a, b| a.drop_at.cmp(&b.drop_at).then(a.domain.cmp(&b.domain)));
    let mut jobs = Vec::new();
    for entry in entries {
        let waiting = processing_for(
            tx,
            &entry.domain,
            entry.drop_at,
            &[Status::Active, Status::Backordered, Status::Processing],
        )?;
        let Some(first) = waiting.first() else {
            continue;
        };
        jobs.push(DropJob {
            domain: entry.domain.clone(),
            drop_at: entry.drop_at,
            model: first.model,
            backorders: waiting.iter().map(|b| b.id).collect(),
            value: waiting.iter().map(|b| b.price.amount).sum(),
        });
    }
    Ok(jobs)
}

/// What happened to a drop, for the caller's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropResult {
    /// The name was caught.
    pub caught: bool,
    /// An auction was scheduled (its id).
    pub auction: Option<u64>,
    /// Backorders that ended SUCCESSFUL.
    pub successful: Vec<u64>,
    /// Backorders that ended FAILED.
    pub failed: Vec<u64>,
}

/// Records the outcome of a drop's registration attempts (SPEC §2 step 4).
pub fn record_outcome<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
    outcome: &CatchOutcome,
) -> Result<DropResult> {
    let mut processing = processing_for(tx, domain, drop_at, &[Status::Processing])?;
    let mut result = DropResult::default();
    if processing.is_empty() {
        return Ok(result);
    }
    let policy = policies.get(domain.zone())?;
    let reason = match outcome {
        CatchOutcome::Caught => {
            result.caught = true;
            if processing.len() == 1 {
                let b = processing
                    .pop()
                    .ok_or_else(|| Error::Internal("empty".into()))?;
                result.successful.push(b.id);
                allocate_single(tx, now, b, policy.registration_years)?;
            } else if processing
                .iter()
                .any(|b| b.model == AllocationModel::Auction)
            {
                // The model the backorders were placed under decides, not the zone's current one.
                let id = auction::schedule(tx, policy, now, domain, drop_at, processing)?;
                result.auction = Some(id);
            } else {
                return Err(Error::Internal(format!(
                    "{domain}: {} exclusive backorders processing",
                    processing.len()
                )));
            }
            return Ok(result);
        }
        CatchOutcome::Taken => Reason::Taken,
        CatchOutcome::NotDropped => Reason::NotDropped,
        CatchOutcome::Premium { .. } => Reason::Premium,
        CatchOutcome::RegistryError { .. } => Reason::RegistryError,
    };
    for b in processing {
        result.failed.push(b.id);
        fail(tx, now, b, reason)?;
    }
    Ok(result)
}

/// FAILED: the deposit (or exclusive payment) is refunded at once.
fn fail<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    mut b: Backorder,
    reason: Reason,
) -> Result<()> {
    set_status(tx, &mut b, Status::Failed, reason, now)?;
    refund(tx, now, &b)?;
    save(tx, b, None)
}

/// SUCCESSFUL: the deposit (or payment) is captured in full and the name allocated.
fn allocate_single<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    mut b: Backorder,
    years: u32,
) -> Result<()> {
    let rid = b
        .reservation
        .ok_or_else(|| Error::Internal(format!("backorder {} has no deposit", b.id)))?;
    let t = ledger::capture(
        tx,
        &format!("bo:{}:capture", b.id),
        rid,
        b.price.amount,
        now,
    )?;
    b.paid += t.amount;
    set_status(tx, &mut b, Status::Successful, Reason::Caught, now)?;
    emit(
        tx,
        now,
        &b,
        EventKind::Charged {
            amount: t.amount,
            currency: t.currency,
        },
    )?;
    allocate(tx, now, &mut b, years)?;
    save(tx, b, None)
}

/// Records the allocation of the backorder's drop to its account (at most once per drop).
pub(crate) fn allocate<S: Store + ?Sized>(
    tx: &mut S,
    now: DateTime<Utc>,
    b: &mut Backorder,
    years: u32,
) -> Result<()> {
    let drop_at = b
        .drop_at
        .ok_or_else(|| Error::Internal(format!("backorder {} has no drop time", b.id)))?;
    if let Some(existing) = tx.allocation(&b.domain, drop_at)? {
        return Err(Error::Internal(format!(
            "{} already allocated to backorder {}",
            b.domain, existing.backorder
        )));
    }
    let until = now
        .checked_add_months(Months::new(12 * years))
        .ok_or_else(|| Error::Internal("date overflow".into()))?;
    b.registered_until = Some(until);
    tx.put_allocation(&Allocation {
        domain: b.domain.clone(),
        drop_at,
        account: b.account.clone(),
        backorder: b.id,
        at: now,
    })?;
    tx.set_wake(WakeKey::Backorder(b.id), None)?;
    emit(
        tx,
        now,
        b,
        EventKind::Allocated {
            registered_until: until,
        },
    )
}
