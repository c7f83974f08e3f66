//! The in-process simulated registry: decides each drop's outcome from a seed, so simulations and
//! tests are repeatable. EPP over TLS replaces it for real registries.

use std::collections::{HashMap, HashSet};

use backorder_core::rng::hash64;
use backorder_core::{CatchOutcome, CatchProgress, DropJob, Registry};
use chrono::{DateTime, Utc};

/// Catches each name or loses it to competing registrars with seeded probabilities; names marked
/// premium come back premium. The outcome depends only on the seed, the name and its drop time,
/// never on the order of attempts.
///
/// ```
/// use backorder::SimulatedRegistry;
/// let registry = SimulatedRegistry::new(42).with_catch_permille(700);
/// assert_eq!(registry.catch_permille(), 700);
/// ```
#[derive(Clone, Debug)]
pub struct SimulatedRegistry {
    seed: u64,
    catch_permille: u32,
    contested_catch_permille: u32,
    not_dropped_permille: u32,
    premium: HashSet<String>,
    /// Names whose outcome is set, whatever the seed says.
    outcomes: HashMap<String, CatchOutcome>,
    attempts: u64,
}

impl SimulatedRegistry {
    /// A registry that catches 65 % of names with one backorderer, 50 % of contested ones (more
    /// registrars chase popular names), and where 2 % of names do not drop in the window.
    pub fn new(seed: u64) -> SimulatedRegistry {
        SimulatedRegistry {
            seed,
            catch_permille: 650,
            contested_catch_permille: 500,
            not_dropped_permille: 20,
            premium: HashSet::new(),
            outcomes: HashMap::new(),
            attempts: 0,
        }
    }

    /// Sets the catch probability for names with one backorderer, in thousandths.
    pub fn with_catch_permille(mut self, permille: u32) -> Self {
        self.catch_permille = permille.min(1000);
        self
    }

    /// Sets the catch probability for names with several backorderers, in thousandths.
    pub fn with_contested_catch_permille(mut self, permille: u32) -> Self {
        self.contested_catch_permille = permille.min(1000);
        self
    }

    /// Sets the share of names that do not drop within the window, in thousandths.
    pub fn with_not_dropped_permille(mut self, permille: u32) -> Self {
        self.not_dropped_permille = permille.min(1000);
        self
    }

    /// Marks a name (normalised ASCII) premium at registration time.
    pub fn mark_premium(&mut self, domain: &str) {
        self.premium.insert(domain.to_string());
    }

    /// Sets what the registry answers for a name (normalised ASCII) at every drop, whatever the
    /// seed says: scripted scenarios, the same in every language binding.
    ///
    /// ```
    /// use backorder::{CatchOutcome, SimulatedRegistry};
    /// let mut registry = SimulatedRegistry::new(7);
    /// registry.set_outcome("miss.com", CatchOutcome::Taken);
    /// ```
    pub fn set_outcome(&mut self, domain: &str, outcome: CatchOutcome) {
        self.outcomes.insert(domain.to_string(), outcome);
    }

    /// The catch probability for single backorders, in thousandths.
    pub fn catch_permille(&self) -> u32 {
        self.catch_permille
    }

    /// How many drops were attempted.
    pub fn attempts(&self) -> u64 {
        self.attempts
    }
}

impl Registry for SimulatedRegistry {
    fn attempt(&mut self, job: &DropJob, _now: DateTime<Utc>) -> CatchProgress {
        self.decide(job).into()
    }
}

impl SimulatedRegistry {
    fn decide(&mut self, job: &DropJob) -> CatchOutcome {
        self.attempts += 1;
        if self.premium.contains(job.domain.as_str()) {
            return CatchOutcome::Premium { price: None };
        }
        if let Some(outcome) = self.outcomes.get(job.domain.as_str()) {
            return outcome.clone();
        }
        let key = format!("{}@{}", job.domain, job.drop_at.timestamp());
        let roll = hash64(self.seed, key.as_bytes()) % 1000;
        let catch = if job.backorders.len() > 1 {
            self.contested_catch_permille
        } else {
            self.catch_permille
        } as u64;
        if roll < self.not_dropped_permille as u64 {
            CatchOutcome::NotDropped
        } else if roll < self.not_dropped_permille as u64 + catch {
            CatchOutcome::Caught
        } else {
            CatchOutcome::Taken
        }
    }
}
