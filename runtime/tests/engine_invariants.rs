//! SPEC §4's invariants as properties of the whole engine: random customers do random things
//! (fund, place, cancel, modify, pay, bid, change contacts and outstanding) while the clock runs
//! through deposit windows, drops, auctions and payment deadlines; after every step each invariant
//! is checked, through the engine's own API and through the auditor.

use std::collections::{BTreeMap, BTreeSet};

use backorder::core::{
    rng::hash64, CatchOutcome, CatchProgress, DropJob, Reason, Registry, TRANSITIONS,
};
use backorder::{
    full_contacts, Backorder, Contacts, Currency, Engine, ErrorCode, ManualClock, NewAccount,
    PlaceBackorder, Status,
};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

const ACCOUNTS: [&str; 4] = ["ann", "ben", "cy", "dot"];
const NAMES: [&str; 8] = [
    "alpha.com",
    "beta.com",
    "gamma.net",
    "delta.net",
    "one.info",
    "two.info",
    "three.biz",
    "four.biz",
];

/// Catches, loses or finds premium by a hash of the name and a seed.
struct Dice(u64);

impl Registry for Dice {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        let outcome = match hash64(self.0, job.domain.as_str().as_bytes()) % 10 {
            0..=5 => CatchOutcome::Caught,
            6 => CatchOutcome::Premium { price: None },
            _ => CatchOutcome::Taken,
        };
        outcome.into()
    }
}

#[derive(Clone, Debug)]
enum Step {
    Advance {
        hours: u8,
    },
    Fund {
        account: usize,
        amount: u16,
        key: u8,
    },
    Place {
        account: usize,
        name: usize,
        key: Option<u8>,
    },
    Cancel {
        account: usize,
        pick: usize,
    },
    Modify {
        account: usize,
        pick: usize,
    },
    Pay {
        account: usize,
        pick: usize,
    },
    Bid {
        account: usize,
        pick: usize,
        max: u16,
    },
    Contacts {
        account: usize,
        complete: bool,
    },
    Outstanding {
        account: usize,
        owes: bool,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let account = 0..ACCOUNTS.len();
    prop_oneof![
        3 => (1u8..30).prop_map(|hours| Step::Advance { hours }),
        2 => (account.clone(), 1u16..200, 0u8..4)
            .prop_map(|(account, amount, key)| Step::Fund { account, amount, key }),
        4 => (account.clone(), 0..NAMES.len(), proptest::option::of(0u8..3))
            .prop_map(|(account, name, key)| Step::Place { account, name, key }),
        1 => (account.clone(), 0usize..8).prop_map(|(account, pick)| Step::Cancel { account, pick }),
        1 => (account.clone(), 0usize..8).prop_map(|(account, pick)| Step::Modify { account, pick }),
        2 => (account.clone(), 0usize..8).prop_map(|(account, pick)| Step::Pay { account, pick }),
        2 => (account.clone(), 0usize..8, 40u16..400)
            .prop_map(|(account, pick, max)| Step::Bid { account, pick, max }),
        1 => (account.clone(), any::<bool>())
            .prop_map(|(account, complete)| Step::Contacts { account, complete }),
        1 => (account, any::<bool>()).prop_map(|(account, owes)| Step::Outstanding { account, owes }),
    ]
}

struct Sim {
    e: Engine,
    clock: ManualClock,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let start = Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap();
        let clock = ManualClock::new(start);
        let e = Engine::builder()
            .clock(clock.clone())
            .seed(seed)
            .registry(Box::new(Dice(seed)))
            .build()
            .unwrap();
        for (i, name) in NAMES.iter().enumerate() {
            let drop = start + Duration::hours(60 + 13 * i as i64);
            e.add_pending_deletion(name, drop).unwrap();
        }
        for (i, a) in ACCOUNTS.iter().enumerate() {
            let contacts = if i == 3 {
                Contacts::default()
            } else {
                full_contacts(&format!("H-{a}"))
            };
            e.create_account(NewAccount {
                id: (*a).into(),
                currency: Currency::USD,
                contacts,
            })
            .unwrap();
        }
        Sim { e, clock }
    }

    fn backorders(&self, account: usize) -> Vec<Backorder> {
        self.e.backorders(ACCOUNTS[account]).unwrap()
    }

    fn pick(&self, account: usize, pick: usize) -> Option<u64> {
        let all = self.backorders(account);
        all.get(pick % all.len().max(1)).map(|b| b.id)
    }

    /// Runs a step; typed refusals are fine, an internal or store error is not.
    fn run(&self, s: &Step) -> Result<(), TestCaseError> {
        let a = |i: usize| ACCOUNTS[i];
        let result = match s {
            Step::Advance { hours } => {
                self.clock.advance(Duration::hours(*hours as i64));
                let r = self.e.tick().unwrap();
                prop_assert!(r.errors.is_empty(), "tick errors: {:?}", r.errors);
                Ok(())
            }
            Step::Fund {
                account,
                amount,
                key,
            } => self
                .e
                .fund(a(*account), Decimal::from(*amount), &format!("k{key}"))
                .map(|_| ()),
            Step::Place { account, name, key } => self
                .e
                .place_backorder(PlaceBackorder {
                    account: a(*account).into(),
                    domain: NAMES[*name].into(),
                    idempotency_key: key.map(|k| format!("p{k}")),
                    ..Default::default()
                })
                .map(|_| ()),
            Step::Cancel { account, pick } => match self.pick(*account, *pick) {
                Some(id) => self.e.cancel_backorder(a(*account), id).map(|_| ()),
                None => Ok(()),
            },
            Step::Modify { account, pick } => match self.pick(*account, *pick) {
                Some(id) => self
                    .e
                    .modify_backorder(a(*account), id, full_contacts("MOD-1"))
                    .map(|_| ()),
                None => Ok(()),
            },
            Step::Pay { account, pick } => match self.pick(*account, *pick) {
                Some(id) => self.e.pay(a(*account), id).map(|_| ()),
                None => Ok(()),
            },
            Step::Bid { account, pick, max } => match self.pick(*account, *pick) {
                Some(id) => self.e.bid(a(*account), id, Decimal::from(*max)).map(|_| ()),
                None => Ok(()),
            },
            Step::Contacts { account, complete } => {
                let c = if *complete {
                    full_contacts("LATE-1")
                } else {
                    Contacts::default()
                };
                self.e.set_contacts(a(*account), c).map(|_| ())
            }
            Step::Outstanding { account, owes } => {
                let amount = if *owes { Decimal::TEN } else { Decimal::ZERO };
                self.e.set_outstanding(a(*account), amount).map(|_| ())
            }
        };
        if let Err(e) = result {
            prop_assert!(
                !matches!(e.code(), ErrorCode::Internal | ErrorCode::Store),
                "{s:?} failed inside the engine: {e}"
            );
        }
        Ok(())
    }

    /// Every invariant of SPEC §4, plus the transition table and single allocation.
    fn check(&self) -> Result<(), TestCaseError> {
        let audit = self.e.audit().unwrap();
        prop_assert!(audit.is_clean(), "audit: {:?}", audit.problems);
        prop_assert_eq!(audit.total_debits, audit.total_credits);
        let mut winners: BTreeMap<(String, Option<DateTime<Utc>>), u32> = BTreeMap::new();
        let table: BTreeSet<_> = TRANSITIONS.iter().copied().collect();
        for (account, id) in ACCOUNTS.iter().enumerate() {
            let balance = self.e.balance(id).unwrap();
            // A customer's available balance never goes below zero.
            prop_assert!(balance.available >= Decimal::ZERO);
            // Reserved equals the sum of the deposits the open backorders hold.
            let mut held = Decimal::ZERO;
            for b in self.backorders(account) {
                let holds = matches!(
                    b.status,
                    Status::Active
                        | Status::Backordered
                        | Status::Processing
                        | Status::AuctionPending
                ) || (b.status == Status::AuctionWon
                    && b.amount_due.is_some()
                    && b.reason() == Some(Reason::AuctionWon));
                if holds {
                    held += b.price.amount;
                }
                // Statuses only move along the table.
                for h in &b.history {
                    prop_assert!(table.contains(&(h.from, h.to)), "{:?}", h);
                }
                if b.status == Status::Successful
                    || (b.status == Status::AuctionWon && b.auth_code.is_some())
                {
                    *winners
                        .entry((b.domain.to_string(), b.drop_at))
                        .or_default() += 1;
                }
            }
            prop_assert_eq!(balance.reserved, held, "account {}", id);
        }
        // A caught name is allocated at most once.
        prop_assert!(winners.values().all(|n| *n == 1), "{:?}", winners);
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// SPEC §4 and §2 at the engine level: available ≥ 0, reserved = open deposits, debits =
    /// credits, each reservation resolved at most once and every failed/lost/cancelled/expired
    /// deposit released exactly once (the auditor), histories follow the table, one allocation per
    /// caught drop — after every step of a random day.
    #[test]
    fn invariants_hold_after_every_step(seed in any::<u64>(), steps in proptest::collection::vec(step(), 1..60)) {
        let sim = Sim::new(seed);
        for s in &steps {
            sim.run(s)?;
            sim.check()?;
        }
        // Run the clock out: every drop, auction and payment deadline passes.
        for _ in 0..20 {
            sim.run(&Step::Advance { hours: 29 })?;
        }
        sim.check()?;
        for account in 0..ACCOUNTS.len() {
            for b in sim.backorders(account) {
                prop_assert!(
                    !matches!(b.status, Status::Processing | Status::AuctionPending),
                    "backorder {} still {} after every deadline", b.id, b.status
                );
            }
        }
    }
}
