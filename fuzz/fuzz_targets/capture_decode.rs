//! Any bytes as a capture file: verification returns an error or a sound
//! file, never panics; a file that verifies yields exactly its records.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradeengine_adapters::feeds::fuzzing::capture_decode(data);
});
