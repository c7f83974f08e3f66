//! Synthetic deletion lists and alert subscriptions for benchmarks: names built from common
//! syllables (so keywords hit), some digits and hyphens, spread over the seed zones and four weeks.
//! Deterministic for a seed.

use backorder::core::rng::SplitMix64;

const SYLLABLES: [&str; 40] = [
    "shop", "blue", "car", "tech", "home", "best", "my", "go", "web", "data", "sun", "net", "pro",
    "art", "max", "zen", "red", "fox", "bit", "box", "lab", "hub", "kit", "ace", "cloud", "star",
    "green", "fast", "smart", "top", "bio", "eco", "gold", "jet", "sky", "one", "city", "food",
    "play", "love",
];
const ZONES: [&str; 12] = [
    "com", "com", "com", "com", "com", "net", "org", "info", "biz", "cc", "tv", "mobi",
];

/// `n` distinct lines of a HEXONET list (`domain;YYYY-MM-DD HH:MM:SS`), deleted in December 2030.
pub fn hexonet_list(n: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = String::with_capacity(n * 40);
    while seen.len() < n {
        let mut label = String::new();
        for _ in 0..1 + rng.below(3) {
            label.push_str(SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]);
        }
        match rng.below(100) {
            0..=14 => label.push_str(&rng.below(1000).to_string()),
            15..=21 => {
                label.push('-');
                label.push_str(SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize]);
            }
            _ => {}
        }
        let name = format!("{label}.{}", ZONES[rng.below(ZONES.len() as u64) as usize]);
        if !seen.insert(name.clone()) {
            continue;
        }
        out.push_str(&format!(
            "{name};2030-12-{:02} {:02}:{:02}:{:02}\n",
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ));
    }
    out
}

/// `n` keywords as customers write them: mostly two syllables, some with a letter or two added,
/// some three syllables long (about 130,000 distinct words), so each matches a few dozen names of
/// a list, and the popular short ones more.
#[allow(dead_code)] // used by the catalog benchmark, not by the example
pub fn keywords(n: usize, seed: u64) -> Vec<String> {
    let mut rng = SplitMix64::new(seed);
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    let syllable = |rng: &mut SplitMix64| SYLLABLES[rng.below(SYLLABLES.len() as u64) as usize];
    (0..n)
        .map(|_| {
            let mut k = String::new();
            k.push_str(syllable(&mut rng));
            k.push_str(syllable(&mut rng));
            match rng.below(10) {
                0..=3 => k.push(letters[rng.below(26) as usize] as char),
                4..=5 => k.push_str(syllable(&mut rng)),
                _ => {}
            }
            k
        })
        .collect()
}
