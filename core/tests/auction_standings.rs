//! The proxy auction's ranking, checked against a plain restatement of its rule on random
//! auctions: every participant stands at their highest maximum above the opening price (from when
//! they first reached it), or at the opening price from when they joined; higher stands first, then
//! earlier, then the lower backorder id.

use backorder_core::auction::{
    Auction, AuctionHouse, AuctionState, Bid, Participant, ProxyAuction, Standing,
};
use backorder_core::{Currency, DomainName};
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn t(s: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + Duration::days(20_000) + Duration::seconds(s)
}

fn reference(a: &Auction) -> Vec<Standing> {
    let mut out: Vec<Standing> = a
        .participants
        .iter()
        .map(|p| {
            let mut best: Option<&Bid> = None;
            for b in a.bids.iter().filter(|b| b.backorder == p.backorder) {
                if best.is_none_or(|x| b.max > x.max) {
                    best = Some(b);
                }
            }
            match best {
                Some(b) if b.max > a.opening_price => Standing {
                    backorder: p.backorder,
                    max: b.max,
                    since: b.at,
                },
                _ => Standing {
                    backorder: p.backorder,
                    max: a.opening_price,
                    since: p.joined_at,
                },
            }
        })
        .collect();
    out.sort_by(|x, y| {
        y.max
            .cmp(&x.max)
            .then(x.since.cmp(&y.since))
            .then(x.backorder.cmp(&y.backorder))
    });
    out
}

prop_compose! {
    fn auction()(
        joined in prop::collection::vec((1u64..60, 0i64..50), 1..25),
        shuffle in any::<bool>(),
        bids in prop::collection::vec((0usize..25, 0u32..40, 0i64..80), 0..60),
    ) -> Auction {
        let mut participants: Vec<Participant> = Vec::new();
        for (id, at) in joined {
            if participants.iter().all(|p| p.backorder != id) {
                participants.push(Participant { backorder: id, joined_at: t(at) });
            }
        }
        if !shuffle {
            participants.sort_by_key(|p| p.backorder);
        }
        let bids = bids
            .into_iter()
            .map(|(who, max, at)| Bid {
                backorder: participants[who % participants.len()].backorder,
                // Maxima around the opening price of 10, at mixed scales (10 and 10.00 are equal).
                max: Decimal::new(i64::from(max) * 50, 2 + (max % 2)),
                at: t(100 + at),
            })
            .collect();
        Auction {
            id: 1,
            domain: DomainName::parse("x.com").unwrap(),
            drop_at: t(0),
            currency: Currency::USD,
            opening_price: Decimal::new(10, 0),
            participants,
            bids,
            starts_at: t(0),
            ends_at: t(1000),
            state: AuctionState::Open,
            ranking: Vec::new(),
            price: None,
            offer: 0,
            pay_by: None,
            sold_to: None,
        }
    }
}

proptest! {
    #[test]
    fn standings_follow_the_ranking_rule(a in auction()) {
        prop_assert_eq!(ProxyAuction.standings(&a), reference(&a));
    }
}
