//! TLD policies: how each zone's backorders are priced, timed and allocated (SPEC §3).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::money::{Currency, Money};
use crate::name::DomainName;

/// How a caught name is allocated among the customers who backordered it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AllocationModel {
    /// HEXONET: free to place, any number of backorderers, deposit 72 h ahead, private auction when
    /// several are ACTIVE at the catch.
    Auction,
    /// Alibaba: the first customer to place and pay holds the name exclusively; no bidding, no
    /// cancellation once paid.
    Exclusive,
}

/// When a registry purges its deleted names (SPEC §6). Used by the drop scheduler.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DropSchedule {
    /// A daily batch starting about a time of day (UTC), order inside the batch unknown (Verisign).
    DailyBatch {
        /// Minutes after midnight UTC the batch usually starts.
        start_minute_utc: u32,
        /// How long the batch usually lasts, in minutes.
        window_minutes: u32,
    },
    /// Names released on their published day from a time of day (UTC) (.se/.nu).
    DailyRelease {
        /// Minutes after midnight UTC releases begin.
        from_minute_utc: u32,
    },
    /// A weekly release session (CIRA's To-Be-Released, Wednesday 19:00 UTC).
    Weekly {
        /// Day of the week, 1 = Monday … 7 = Sunday.
        weekday: u32,
        /// Minutes after midnight UTC the session starts.
        start_minute_utc: u32,
    },
    /// Each name is purged at its own published instant.
    ExactInstant,
}

/// One step of an auction's increments table: from `from` upwards, bids rise by at least `step`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Increment {
    /// The price from which this step applies.
    pub from: Decimal,
    /// The smallest raise at that price.
    pub step: Decimal,
}

/// Settings of the private auctions of a zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionSettings {
    /// Delay from the catch to the auction's start, in seconds (seed: within 3 working days).
    pub start_delay_secs: i64,
    /// How long the auction runs, in seconds.
    pub duration_secs: i64,
    /// Increments table, ascending by `from`; the first entry must start at zero.
    pub increments: Vec<Increment>,
    /// A bid this close to the end (seconds) extends the auction.
    pub anti_sniping_window_secs: i64,
    /// The end moves to the bid time plus this many seconds.
    pub anti_sniping_extension_secs: i64,
    /// The winner must pay within this many seconds of the end (or of a second-chance offer).
    pub payment_window_secs: i64,
}

impl Default for AuctionSettings {
    fn default() -> Self {
        let inc = |from: i64, step: i64| Increment {
            from: Decimal::from(from),
            step: Decimal::from(step),
        };
        AuctionSettings {
            start_delay_secs: 24 * 3600,
            duration_secs: 3 * 24 * 3600,
            increments: vec![
                inc(0, 1),
                inc(100, 5),
                inc(1_000, 10),
                inc(5_000, 50),
                inc(10_000, 100),
            ],
            anti_sniping_window_secs: 10 * 60,
            anti_sniping_extension_secs: 10 * 60,
            payment_window_secs: 3 * 24 * 3600,
        }
    }
}

impl AuctionSettings {
    /// The smallest raise over `price`, from the increments table.
    pub fn increment_at(&self, price: Decimal) -> Decimal {
        self.increments
            .iter()
            .rev()
            .find(|i| price >= i.from)
            .map(|i| i.step)
            .unwrap_or(Decimal::ONE)
    }
}

/// Which contact handles the zone requires before a backorder leaves INCOMPLETE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredContacts {
    /// Registrant.
    pub owner: bool,
    /// Administrative contact.
    pub admin: bool,
    /// Technical contact.
    pub tech: bool,
    /// Billing contact.
    pub billing: bool,
}

impl RequiredContacts {
    /// All four handles.
    pub const ALL: RequiredContacts = RequiredContacts {
        owner: true,
        admin: true,
        tech: true,
        billing: true,
    };
}

/// The longest duration a policy may set (10 years, in seconds), so that every window computed from
/// a deletion time stays in the calendar.
pub const MAX_DURATION_SECS: i64 = 10 * 365 * 24 * 3600;

/// The policy of one zone.
///
/// ```
/// use backorder_core::{default_policies, AllocationModel};
/// let com = default_policies().into_iter().find(|p| p.zone == "com").unwrap();
/// assert_eq!(com.model, AllocationModel::Auction);
/// assert_eq!(com.deposit_lead_secs, 72 * 3600);
/// assert_eq!(com.cutoff_secs, 3 * 3600);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TldPolicy {
    /// The zone, lower-case ASCII without a dot (`com`).
    pub zone: String,
    /// How caught names are allocated.
    pub model: AllocationModel,
    /// The backorder fee (auction model: the deposit and the opening price) or the default price
    /// (exclusive model).
    pub price: Money,
    /// Price of a lite (lower-priority) backorder; `None` when the zone offers none.
    pub lite_price: Option<Decimal>,
    /// Deposits are first tried this many seconds before the deletion time (72 h).
    pub deposit_lead_secs: i64,
    /// Deposits are retried until this many seconds before the deletion time (24 h); unfunded
    /// backorders then expire.
    pub deposit_deadline_secs: i64,
    /// While INACTIVE, the deposit is retried every this many seconds.
    pub deposit_retry_secs: i64,
    /// Placing and cancelling close this many seconds before the deletion time (3 h): the
    /// finalization date.
    pub cutoff_secs: i64,
    /// Years registered on a catch (the minimum registration period).
    pub registration_years: u32,
    /// Contact handles needed before a backorder can proceed.
    pub required_contacts: RequiredContacts,
    /// Auction settings (auction model).
    pub auction: AuctionSettings,
    /// The registry that runs the zone.
    pub registry: String,
    /// That registry's drop schedule.
    pub drop_schedule: DropSchedule,
    /// Exclusive model: prices that differ from `price`, by normalised name.
    pub name_prices: BTreeMap<String, Decimal>,
    /// Names flagged premium: they cannot be backordered.
    pub premium_names: BTreeSet<String>,
}

impl TldPolicy {
    /// A policy with the shipped defaults for timings and auctions.
    pub fn new(zone: &str, model: AllocationModel, price: Money) -> TldPolicy {
        TldPolicy {
            zone: zone.to_ascii_lowercase(),
            model,
            price,
            lite_price: None,
            deposit_lead_secs: 72 * 3600,
            deposit_deadline_secs: 24 * 3600,
            deposit_retry_secs: 3600,
            cutoff_secs: 3 * 3600,
            registration_years: 1,
            required_contacts: RequiredContacts::ALL,
            auction: AuctionSettings::default(),
            registry: "generic".into(),
            drop_schedule: DropSchedule::ExactInstant,
            name_prices: BTreeMap::new(),
            premium_names: BTreeSet::new(),
        }
    }

    /// Checks that the policy is coherent; a host-supplied policy is refused otherwise.
    /// Every duration must lie in 0..=[`MAX_DURATION_SECS`].
    pub fn validate(&self) -> Result<()> {
        let bad = |why: &str| {
            Err(Error::InvalidArgument(format!(
                "policy {}: {why}",
                self.zone
            )))
        };
        if self.zone.is_empty()
            || !self
                .zone
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return bad("zone must be a lower-case ASCII label");
        }
        if !self.price.is_positive() {
            return bad("price must be positive");
        }
        if let Some(lite) = self.lite_price {
            if lite <= Decimal::ZERO {
                return bad("lite price must be positive");
            }
        }
        if self.name_prices.values().any(|p| *p <= Decimal::ZERO) {
            return bad("name prices must be positive");
        }
        if !(self.deposit_lead_secs > self.deposit_deadline_secs
            && self.deposit_deadline_secs >= self.cutoff_secs
            && self.cutoff_secs >= 0)
        {
            return bad("needs deposit lead > deposit deadline >= cutoff >= 0");
        }
        let a = &self.auction;
        let durations = [
            self.deposit_lead_secs,
            self.deposit_deadline_secs,
            self.cutoff_secs,
            self.deposit_retry_secs,
            a.start_delay_secs,
            a.duration_secs,
            a.anti_sniping_window_secs,
            a.anti_sniping_extension_secs,
            a.payment_window_secs,
        ];
        if durations.iter().any(|d| *d > MAX_DURATION_SECS) {
            return bad("durations must be at most MAX_DURATION_SECS (10 years)");
        }
        if self.deposit_retry_secs <= 0 || !(1..=10).contains(&self.registration_years) {
            return bad("retry interval must be positive and registration years 1-10");
        }
        if a.start_delay_secs < 0
            || a.duration_secs <= 0
            || a.anti_sniping_window_secs < 0
            || a.anti_sniping_extension_secs < 0
            || a.payment_window_secs <= 0
        {
            return bad("auction durations must not be negative");
        }
        if a.increments.first().map(|i| i.from) != Some(Decimal::ZERO)
            || a.increments.windows(2).any(|w| w[0].from >= w[1].from)
            || a.increments.iter().any(|i| i.step <= Decimal::ZERO)
        {
            return bad("increments must start at 0, ascend and have positive steps");
        }
        Ok(())
    }

    /// The price of a backorder on `name`: the per-name override (exclusive model), the lite price, or
    /// the zone's price.
    pub fn price_for(&self, name: &DomainName, lite: bool) -> Money {
        let amount = if lite {
            self.lite_price.unwrap_or(self.price.amount)
        } else if self.model == AllocationModel::Exclusive {
            self.name_prices
                .get(name.as_str())
                .copied()
                .unwrap_or(self.price.amount)
        } else {
            self.price.amount
        };
        Money::new(amount, self.price.currency)
    }

    /// True when the name is flagged premium.
    pub fn is_premium(&self, name: &DomainName) -> bool {
        self.premium_names.contains(name.as_str())
    }

    /// The finalization date (FINAL BACKORDER DATE): the deletion time minus the cutoff.
    pub fn finalization(&self, drop_at: DateTime<Utc>) -> DateTime<Utc> {
        drop_at - Duration::seconds(self.cutoff_secs)
    }

    /// When the deposit is first tried.
    pub fn deposit_opens(&self, drop_at: DateTime<Utc>) -> DateTime<Utc> {
        drop_at - Duration::seconds(self.deposit_lead_secs)
    }

    /// After this instant an unfunded backorder is void.
    pub fn deposit_deadline(&self, drop_at: DateTime<Utc>) -> DateTime<Utc> {
        drop_at - Duration::seconds(self.deposit_deadline_secs)
    }
}

fn usd(units: i64) -> Money {
    Money::new(Decimal::from(units), Currency::USD)
}

/// The shipped defaults: the seed documents' TLDs (gTLDs `asia biz com info mobi net org`, ccTLDs
/// `ca cc ch co li me nu se tv us`).
///
/// `com net org` and every ccTLD use the auction model (HEXONET); `asia biz info mobi` use the
/// exclusive model (Alibaba's pre-release, offered on some gTLDs). Prices are in USD and are
/// examples: a registrar replaces them with its own list.
pub fn default_policies() -> Vec<TldPolicy> {
    let verisign = DropSchedule::DailyBatch {
        start_minute_utc: 19 * 60,
        window_minutes: 60,
    };
    let mut out = Vec::new();
    let mut add = |zone: &str, model, price, registry: &str, schedule: DropSchedule| {
        let mut p = TldPolicy::new(zone, model, usd(price));
        p.registry = registry.into();
        p.drop_schedule = schedule;
        if model == AllocationModel::Auction {
            p.lite_price = Some(Decimal::from(price) / Decimal::from(2));
        }
        out.push(p);
    };
    use AllocationModel::{Auction, Exclusive};
    add("com", Auction, 49, "verisign", verisign.clone());
    add("net", Auction, 49, "verisign", verisign.clone());
    add("cc", Auction, 59, "verisign", verisign.clone());
    add("tv", Auction, 59, "verisign", verisign);
    add("org", Auction, 49, "pir", DropSchedule::ExactInstant);
    add("asia", Exclusive, 39, "dotasia", DropSchedule::ExactInstant);
    add(
        "biz",
        Exclusive,
        39,
        "godaddy-registry",
        DropSchedule::ExactInstant,
    );
    add(
        "info",
        Exclusive,
        39,
        "identity-digital",
        DropSchedule::ExactInstant,
    );
    add(
        "mobi",
        Exclusive,
        39,
        "identity-digital",
        DropSchedule::ExactInstant,
    );
    add(
        "ca",
        Auction,
        69,
        "cira",
        DropSchedule::Weekly {
            weekday: 3,
            start_minute_utc: 19 * 60,
        },
    );
    let iis = DropSchedule::DailyRelease {
        from_minute_utc: 4 * 60,
    };
    add("se", Auction, 69, "iis", iis.clone());
    add("nu", Auction, 69, "iis", iis);
    add("ch", Auction, 69, "switch", DropSchedule::ExactInstant);
    add("li", Auction, 69, "switch", DropSchedule::ExactInstant);
    add("co", Auction, 49, "co-registry", DropSchedule::ExactInstant);
    add("me", Auction, 49, "dotme", DropSchedule::ExactInstant);
    add(
        "us",
        Auction,
        49,
        "godaddy-registry",
        DropSchedule::ExactInstant,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_cover_the_seed_tlds_and_validate() {
        let zones: BTreeSet<String> = default_policies().into_iter().map(|p| p.zone).collect();
        for z in "asia biz com info mobi net org ca cc ch co li me nu se tv us".split(' ') {
            assert!(zones.contains(z), "{z}");
        }
        for p in default_policies() {
            p.validate().unwrap();
        }
    }

    #[test]
    fn increments_table() {
        let a = AuctionSettings::default();
        assert_eq!(a.increment_at(Decimal::from(49)), Decimal::from(1));
        assert_eq!(a.increment_at(Decimal::from(100)), Decimal::from(5));
        assert_eq!(a.increment_at(Decimal::from(20_000)), Decimal::from(100));
    }

    #[test]
    fn incoherent_policies_are_refused() {
        let mut p = TldPolicy::new("com", AllocationModel::Auction, usd(49));
        p.deposit_deadline_secs = p.deposit_lead_secs;
        assert!(p.validate().is_err());
        let mut p = TldPolicy::new("com", AllocationModel::Auction, usd(49));
        p.price = usd(0);
        assert!(p.validate().is_err());
        let mut p = TldPolicy::new("COM!", AllocationModel::Auction, usd(49));
        p.zone = "co m".into();
        assert!(p.validate().is_err());
    }
}

/// The policies in force, by zone.
#[derive(Clone, Debug, Default)]
pub struct PolicyTable {
    zones: crate::fast::HashMap<String, TldPolicy>,
}

impl PolicyTable {
    /// A table holding `policies` (each validated).
    pub fn new(policies: Vec<TldPolicy>) -> Result<PolicyTable> {
        let mut t = PolicyTable::default();
        for p in policies {
            t.insert(p)?;
        }
        Ok(t)
    }

    /// The shipped defaults.
    pub fn defaults() -> PolicyTable {
        PolicyTable {
            zones: default_policies()
                .into_iter()
                .map(|p| (p.zone.clone(), p))
                .collect(),
        }
    }

    /// Adds or replaces a zone's policy after validating it.
    pub fn insert(&mut self, policy: TldPolicy) -> Result<()> {
        policy.validate()?;
        self.zones.insert(policy.zone.clone(), policy);
        Ok(())
    }

    /// The policy of a zone, or [`Error::UnknownTld`].
    pub fn get(&self, zone: &str) -> Result<&TldPolicy> {
        self.zones
            .get(zone)
            .ok_or_else(|| Error::UnknownTld(zone.chars().take(63).collect()))
    }

    /// Every policy, sorted by zone.
    pub fn all(&self) -> Vec<TldPolicy> {
        let mut v: Vec<TldPolicy> = self.zones.values().cloned().collect();
        v.sort_by(|a, b| a.zone.cmp(&b.zone));
        v
    }
}
