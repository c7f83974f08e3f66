//! `cargo fuzz run auction_bid`: see `backorder_fuzz::auction_bid`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backorder_fuzz::auction_bid(data));
