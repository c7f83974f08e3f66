//! `cargo fuzz run command_api`: see `backorder_fuzz::command_api`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| backorder_fuzz::command_api(data));
