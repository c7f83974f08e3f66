//! Private auctions among the ACTIVE backorderers of a caught name (SPEC §2 step 5).
//!
//! The auction record and its time-driven steps (open, close, payment deadline, second-chance
//! offers) live here; how bids are accepted and ranked is an [`AuctionHouse`], so an external
//! auction house can replace the built-in [`ProxyAuction`].

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::backorder::{emit, load, load_owned, refund, save, set_status, Backorder};
use crate::catch::allocate;
use crate::error::{Error, Result};
use crate::event::EventKind;
use crate::ledger::{self, ReservationState};
use crate::lifecycle::{Reason, Status};
use crate::money::{require_positive, Currency, Money};
use crate::name::DomainName;
use crate::policy::{AuctionSettings, PolicyTable, TldPolicy};
use crate::secret::Secret;
use crate::store::{Store, WakeKey};

/// Where an auction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuctionState {
    /// Waiting for its start.
    Scheduled,
    /// Taking bids.
    Open,
    /// Closed; the current offeree must pay by `pay_by`.
    AwaitingPayment,
    /// Paid and handed over.
    Sold,
    /// Every offer lapsed; the registrar keeps the name.
    Unsold,
}

/// A backorderer invited to the auction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Their backorder (it names their account).
    pub backorder: u64,
    /// When their backorder was placed: the time of their implicit opening bid.
    pub joined_at: DateTime<Utc>,
}

/// A proxy (maximum) bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    /// The bidder's backorder.
    pub backorder: u64,
    /// The most the bidder will pay.
    pub max: Decimal,
    /// When placed.
    pub at: DateTime<Utc>,
}

/// A participant's place in the ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// Their backorder.
    pub backorder: u64,
    /// Their maximum (the opening price if they never bid).
    pub max: Decimal,
    /// When they reached that maximum (ties go to the earlier).
    pub since: DateTime<Utc>,
}

/// A private auction for one caught name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Auction {
    /// Id.
    pub id: u64,
    /// The name.
    pub domain: DomainName,
    /// The drop it was caught at.
    pub drop_at: DateTime<Utc>,
    /// Currency of every amount.
    pub currency: Currency,
    /// Opening price: the backorder fee.
    pub opening_price: Decimal,
    /// Exactly the backorderers that were ACTIVE at the catch.
    pub participants: Vec<Participant>,
    /// Bids in the order received.
    pub bids: Vec<Bid>,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End (moves on anti-sniping extensions).
    pub ends_at: DateTime<Utc>,
    /// State.
    pub state: AuctionState,
    /// Final ranking, best first (set at close).
    pub ranking: Vec<Standing>,
    /// The winner's price (set at close).
    pub price: Option<Decimal>,
    /// Index in `ranking` of the current offer (0 = the winner; more = second-chance offers).
    pub offer: usize,
    /// Payment deadline of the current offer.
    pub pay_by: Option<DateTime<Utc>>,
    /// The backorder that paid.
    pub sold_to: Option<u64>,
}

/// What a participant may see of an auction: the price and their own position, never other bids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionView {
    /// Id.
    pub id: u64,
    /// The name.
    pub domain: DomainName,
    /// State.
    pub state: AuctionState,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Currency.
    pub currency: Currency,
    /// Opening price.
    pub opening_price: Decimal,
    /// Current price (final price once closed).
    pub price: Decimal,
    /// The lowest bid this participant may place now.
    pub minimum_bid: Decimal,
    /// This participant's maximum.
    pub your_max: Decimal,
    /// This participant leads (or won).
    pub leading: bool,
    /// Number of participants.
    pub participants: usize,
    /// Number of bids placed.
    pub bids: usize,
}

/// Decides how bids are accepted and ranked. The built-in one is [`ProxyAuction`]; an external
/// auction house implements the same and is given to the engine instead.
pub trait AuctionHouse: Send + Sync {
    /// Validates and records a bid (may move `ends_at` for anti-sniping).
    fn bid(
        &self,
        settings: &AuctionSettings,
        auction: &mut Auction,
        backorder: u64,
        max: Decimal,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Every participant, best first.
    fn standings(&self, auction: &Auction) -> Vec<Standing>;
    /// The price the leader pays now (the final price once closed), given `standings`.
    fn price(
        &self,
        settings: &AuctionSettings,
        auction: &Auction,
        standings: &[Standing],
    ) -> Decimal;
    /// The lowest bid `backorder` may place now, given `standings`.
    fn minimum_bid(
        &self,
        settings: &AuctionSettings,
        auction: &Auction,
        standings: &[Standing],
        backorder: u64,
    ) -> Decimal;
}

/// The built-in auction: proxy (maximum) bids, an increments table, ties to the earlier bid,
/// anti-sniping extension. Every participant starts with an implicit bid of the opening price at the
/// time they placed their backorder, so an auction nobody bids in goes to the earliest backorder at
/// the opening price.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProxyAuction;

impl AuctionHouse for ProxyAuction {
    fn bid(
        &self,
        settings: &AuctionSettings,
        auction: &mut Auction,
        backorder: u64,
        max: Decimal,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if auction.state != AuctionState::Open || now < auction.starts_at || now >= auction.ends_at
        {
            return Err(Error::AuctionNotOpen(auction.id));
        }
        require_positive(&Money::new(max, auction.currency))?;
        let standings = self.standings(auction);
        let minimum = self.minimum_bid(settings, auction, &standings, backorder);
        if max < minimum {
            return Err(Error::BidTooLow {
                minimum: Money::new(minimum, auction.currency).to_string(),
            });
        }
        auction.bids.push(Bid {
            backorder,
            max,
            at: now,
        });
        let window = Duration::seconds(settings.anti_sniping_window_secs);
        if auction.ends_at - now < window {
            let extended = now + Duration::seconds(settings.anti_sniping_extension_secs);
            if extended > auction.ends_at {
                auction.ends_at = extended;
            }
        }
        Ok(())
    }

    fn standings(&self, auction: &Auction) -> Vec<Standing> {
        // Everyone starts at the opening price, from when they joined; a bidder stands at their
        // highest maximum from when they first reached it.
        let mut out: Vec<Standing> = auction
            .participants
            .iter()
            .map(|p| Standing {
                backorder: p.backorder,
                max: auction.opening_price,
                since: p.joined_at,
            })
            .collect();
        let sorted = out.windows(2).all(|w| w[0].backorder < w[1].backorder);
        let by_id: crate::fast::HashMap<u64, usize> = if sorted {
            Default::default()
        } else {
            out.iter()
                .enumerate()
                .map(|(i, s)| (s.backorder, i))
                .collect()
        };
        let mut raised = vec![false; out.len()];
        for b in &auction.bids {
            let slot = if sorted {
                out.binary_search_by_key(&b.backorder, |s| s.backorder).ok()
            } else {
                by_id.get(&b.backorder).copied()
            };
            if let Some(i) = slot {
                if b.max > out[i].max {
                    out[i].max = b.max;
                    out[i].since = b.at;
                    raised[i] = true;
                }
            }
        }
        // Those who bid above the opening price lead, best first; everyone else stands at the
        // opening price in the order they joined. Backorder ids are unique, so both orders are
        // total and unstable sorts are deterministic.
        let mut ranked = Vec::with_capacity(out.len());
        let mut rest = Vec::with_capacity(out.len());
        for (s, r) in out.into_iter().zip(raised) {
            if r {
                ranked.push(s);
            } else {
                rest.push(s);
            }
        }
        ranked.sort_unstable_by(|a, b| {
            b.max
                .cmp(&a.max)
                .then(a.since.cmp(&b.since))
                .then(a.backorder.cmp(&b.backorder))
        });
        if !rest.is_sorted_by_key(|s| (s.since, s.backorder)) {
            rest.sort_unstable_by_key(|s| (s.since, s.backorder));
        }
        ranked.append(&mut rest);
        ranked
    }

    fn price(
        &self,
        settings: &AuctionSettings,
        auction: &Auction,
        standings: &[Standing],
    ) -> Decimal {
        let s = standings;
        match (s.first(), s.get(1)) {
            (Some(leader), Some(second)) => {
                if leader.max == second.max {
                    leader.max
                } else {
                    (second.max + settings.increment_at(second.max)).min(leader.max)
                }
            }
            _ => auction.opening_price,
        }
        .max(auction.opening_price)
    }

    fn minimum_bid(
        &self,
        settings: &AuctionSettings,
        auction: &Auction,
        standings: &[Standing],
        backorder: u64,
    ) -> Decimal {
        let s = standings;
        let price = self.price(settings, auction, standings);
        let over_price = price + settings.increment_at(price);
        match s.first() {
            Some(leader) if leader.backorder == backorder => {
                (leader.max + settings.increment_at(leader.max)).max(over_price)
            }
            _ => over_price,
        }
    }
}

/// The auction a backorder takes part in; a backorder that never went to auction cannot have one.
fn auction_of(b: &Backorder, operation: &str) -> Result<u64> {
    b.auction.ok_or_else(|| Error::StatusDoesNotAllow {
        status: b.status.to_string(),
        operation: operation.into(),
    })
}

fn load_auction<S: Store + ?Sized>(tx: &mut S, id: u64) -> Result<Auction> {
    tx.auction(id)?.ok_or(Error::AuctionNotFound(id))
}

/// Creates the private auction for a caught name and moves every backorder to AUCTION-PENDING.
pub(crate) fn schedule<S: Store + ?Sized>(
    tx: &mut S,
    policy: &TldPolicy,
    now: DateTime<Utc>,
    domain: &DomainName,
    drop_at: DateTime<Utc>,
    backorders: Vec<Backorder>,
) -> Result<u64> {
    let id = tx.next_auction_id()?;
    // The opening price is the fee the backorders were placed at (a lite order's deposit is lower,
    // and a later price change applies to later backorders only).
    let (opening_price, currency) = backorders
        .iter()
        .map(|b| (b.price.amount, b.price.currency))
        .max_by_key(|(amount, _)| *amount)
        .unwrap_or((policy.price.amount, policy.price.currency));
    let starts_at = now + Duration::seconds(policy.auction.start_delay_secs);
    let ends_at = starts_at + Duration::seconds(policy.auction.duration_secs);
    let a = Auction {
        id,
        domain: domain.clone(),
        drop_at,
        currency,
        opening_price,
        participants: backorders
            .iter()
            .map(|b| Participant {
                backorder: b.id,
                joined_at: b.created_at,
            })
            .collect(),
        bids: Vec::new(),
        starts_at,
        ends_at,
        state: AuctionState::Scheduled,
        ranking: Vec::new(),
        price: None,
        offer: 0,
        pay_by: None,
        sold_to: None,
    };
    let (opening_price, currency) = (a.opening_price, a.currency);
    tx.put_auction(a)?;
    tx.set_wake(WakeKey::Auction(id), Some(starts_at))?;
    for mut b in backorders {
        b.auction = Some(id);
        set_status(
            tx,
            &mut b,
            Status::AuctionPending,
            Reason::AuctionScheduled,
            now,
        )?;
        emit(
            tx,
            now,
            &b,
            EventKind::AuctionInvitation {
                auction: id,
                starts_at,
                ends_at,
                opening_price,
                currency,
            },
        )?;
        save(tx, b, None)?;
    }
    Ok(id)
}

/// The participant's view of their auction. Another account's backorder is "not found".
pub fn view<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    house: &dyn AuctionHouse,
    account: &str,
    backorder: u64,
) -> Result<AuctionView> {
    let b = load_owned(tx, account, backorder)?;
    let aid = auction_of(&b, "view auction")?;
    let a = load_auction(tx, aid)?;
    let settings = &policies.get(a.domain.zone())?.auction;
    Ok(make_view(house, settings, &a, backorder))
}

fn make_view(
    house: &dyn AuctionHouse,
    settings: &AuctionSettings,
    a: &Auction,
    backorder: u64,
) -> AuctionView {
    let standings = if a.ranking.is_empty() {
        house.standings(a)
    } else {
        a.ranking.clone()
    };
    let mine = standings.iter().position(|s| s.backorder == backorder);
    let leading = match a.state {
        AuctionState::AwaitingPayment | AuctionState::Sold => mine == Some(a.offer),
        AuctionState::Unsold => false,
        _ => mine == Some(0),
    };
    AuctionView {
        id: a.id,
        domain: a.domain.clone(),
        state: a.state,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        currency: a.currency,
        opening_price: a.opening_price,
        price: a
            .price
            .unwrap_or_else(|| house.price(settings, a, &standings)),
        minimum_bid: house.minimum_bid(settings, a, &standings, backorder),
        your_max: mine.map(|i| standings[i].max).unwrap_or(a.opening_price),
        leading,
        participants: a.participants.len(),
        bids: a.bids.len(),
    }
}

/// Places a proxy bid for the account's AUCTION-PENDING backorder.
pub fn bid<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    house: &dyn AuctionHouse,
    now: DateTime<Utc>,
    account: &str,
    backorder: u64,
    max: Decimal,
) -> Result<AuctionView> {
    let b = load_owned(tx, account, backorder)?;
    if b.status != Status::AuctionPending {
        return Err(Error::StatusDoesNotAllow {
            status: b.status.to_string(),
            operation: "bid".into(),
        });
    }
    let aid = auction_of(&b, "bid")?;
    let mut a = load_auction(tx, aid)?;
    let settings = &policies.get(a.domain.zone())?.auction;
    let ends_before = a.ends_at;
    house.bid(settings, &mut a, backorder, max, now)?;
    let view = make_view(house, settings, &a, backorder);
    if a.ends_at != ends_before {
        tx.set_wake(WakeKey::Auction(aid), Some(a.ends_at))?;
    }
    tx.put_auction(a)?;
    Ok(view)
}

/// Time-driven work of an auction: open at the start, close at the end, and at each payment
/// deadline pass the name to the next-highest bidder (second chance) or leave it unsold.
pub fn wake<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    house: &dyn AuctionHouse,
    now: DateTime<Utc>,
    id: u64,
) -> Result<()> {
    let Some(mut a) = tx.auction(id)? else {
        return tx.set_wake(WakeKey::Auction(id), None);
    };
    let settings = policies.get(a.domain.zone())?.auction.clone();
    if a.state == AuctionState::Scheduled && now >= a.starts_at {
        a.state = AuctionState::Open;
    }
    let wake_at = match a.state {
        AuctionState::Scheduled => Some(a.starts_at),
        AuctionState::Open if now >= a.ends_at => close(tx, house, &settings, now, &mut a)?,
        AuctionState::Open => Some(a.ends_at),
        AuctionState::AwaitingPayment if a.pay_by.is_some_and(|p| now >= p) => {
            lapse(tx, &settings, now, &mut a)?
        }
        AuctionState::AwaitingPayment => a.pay_by,
        AuctionState::Sold | AuctionState::Unsold => None,
    };
    tx.put_auction(a)?;
    tx.set_wake(WakeKey::Auction(id), wake_at)
}

fn close<S: Store + ?Sized>(
    tx: &mut S,
    house: &dyn AuctionHouse,
    settings: &AuctionSettings,
    now: DateTime<Utc>,
    a: &mut Auction,
) -> Result<Option<DateTime<Utc>>> {
    a.ranking = house.standings(a);
    let price = house.price(settings, a, &a.ranking);
    a.price = Some(price);
    a.offer = 0;
    a.state = AuctionState::AwaitingPayment;
    let pay_by = now + Duration::seconds(settings.payment_window_secs);
    a.pay_by = Some(pay_by);
    let ranking = a.ranking.clone();
    for (i, s) in ranking.iter().enumerate() {
        let mut b = load(tx, s.backorder)?;
        if i == 0 {
            b.amount_due = Some(price);
            b.pay_by = Some(pay_by);
            set_status(tx, &mut b, Status::AuctionWon, Reason::AuctionWon, now)?;
            emit(
                tx,
                now,
                &b,
                EventKind::AuctionWon {
                    auction: a.id,
                    price,
                    currency: a.currency,
                    pay_by,
                    second_chance: false,
                },
            )?;
        } else {
            set_status(tx, &mut b, Status::AuctionLost, Reason::AuctionLost, now)?;
            refund(tx, now, &b)?;
            emit(tx, now, &b, EventKind::AuctionLost { auction: a.id })?;
        }
        save(tx, b, None)?;
    }
    Ok(Some(pay_by))
}

fn lapse<S: Store + ?Sized>(
    tx: &mut S,
    settings: &AuctionSettings,
    now: DateTime<Utc>,
    a: &mut Auction,
) -> Result<Option<DateTime<Utc>>> {
    if let Some(current) = a.ranking.get(a.offer) {
        let mut b = load(tx, current.backorder)?;
        if b.status == Status::AuctionWon {
            let reason = if a.offer == 0 {
                Reason::AuctionUnpaid
            } else {
                Reason::SecondChanceLapsed
            };
            b.amount_due = None;
            b.pay_by = None;
            set_status(tx, &mut b, Status::AuctionLost, reason, now)?;
            refund(tx, now, &b)?;
            emit(tx, now, &b, EventKind::AuctionLost { auction: a.id })?;
            save(tx, b, None)?;
        }
    }
    a.offer += 1;
    let Some(next) = a.ranking.get(a.offer).cloned() else {
        a.state = AuctionState::Unsold;
        a.pay_by = None;
        tx.append_event(crate::store::NewEvent {
            at: now,
            account: None,
            backorder: None,
            domain: Some(a.domain.clone()),
            kind: EventKind::NameUnallocated { auction: a.id },
        })?;
        return Ok(None);
    };
    let pay_by = now + Duration::seconds(settings.payment_window_secs);
    a.pay_by = Some(pay_by);
    let mut b = load(tx, next.backorder)?;
    b.amount_due = Some(next.max);
    b.pay_by = Some(pay_by);
    set_status(
        tx,
        &mut b,
        Status::AuctionWon,
        Reason::SecondChanceOffer,
        now,
    )?;
    emit(
        tx,
        now,
        &b,
        EventKind::AuctionWon {
            auction: a.id,
            price: next.max,
            currency: a.currency,
            pay_by,
            second_chance: true,
        },
    )?;
    save(tx, b, None)?;
    Ok(Some(pay_by))
}

/// The auction winner (or second-chance offeree) pays: the deposit counts toward the price, the rest
/// is charged from the available balance; then the name is allocated and the auth code issued for
/// the trustee hand-over.
pub fn pay<S: Store + ?Sized>(
    tx: &mut S,
    policies: &PolicyTable,
    now: DateTime<Utc>,
    account: &str,
    backorder: u64,
    auth_code: Secret,
) -> Result<Backorder> {
    let mut b = load_owned(tx, account, backorder)?;
    let (Status::AuctionWon, Some(due), Some(pay_by)) = (b.status, b.amount_due, b.pay_by) else {
        return Err(Error::PaymentNotDue(backorder));
    };
    if now >= pay_by {
        return Err(Error::PaymentNotDue(backorder));
    }
    let aid = auction_of(&b, "pay")?;
    let mut a = load_auction(tx, aid)?;
    let policy = policies.get(b.domain.zone())?;
    let deposit = match b.reservation {
        Some(rid) => match tx.reservation(rid)? {
            Some(r) if r.state == ReservationState::Pending => Some(r),
            _ => None,
        },
        None => None,
    };
    let from_deposit = deposit
        .as_ref()
        .map_or(Decimal::ZERO, |r| r.amount.min(due));
    let remainder = due - from_deposit;
    let currency = b.price.currency;
    if remainder > Decimal::ZERO {
        let t = ledger::charge(
            tx,
            &format!("bo:{backorder}:charge"),
            account,
            &Money::new(remainder, currency),
            Some(backorder),
            now,
        )?;
        b.paid += t.amount;
    }
    if let Some(r) = deposit {
        let t = ledger::capture(
            tx,
            &format!("bo:{backorder}:capture"),
            r.id,
            from_deposit,
            now,
        )?;
        b.paid += t.amount;
    }
    b.amount_due = None;
    b.pay_by = None;
    b.auth_code = Some(auth_code.clone());
    b.updated_at = now;
    emit(
        tx,
        now,
        &b,
        EventKind::Charged {
            amount: due,
            currency,
        },
    )?;
    allocate(tx, now, &mut b, policy.registration_years)?;
    emit(tx, now, &b, EventKind::AuthCodeIssued { auth_code })?;
    save(tx, b.clone(), None)?;
    a.state = AuctionState::Sold;
    a.sold_to = Some(backorder);
    a.pay_by = None;
    tx.put_auction(a)?;
    tx.set_wake(WakeKey::Auction(aid), None)?;
    Ok(b)
}
