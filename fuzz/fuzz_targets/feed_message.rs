#![no_main]
//! `ccpor::fuzzing::feed_message` (what it feeds and asserts is documented there).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| ccpor::fuzzing::feed_message(data));
