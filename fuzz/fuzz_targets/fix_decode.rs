//! Any bytes as a FIX stream through the framing, field parser, session and
//! application mapping: refused or handled, never a panic or a stuck loop.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradeengine_adapters::feeds::fuzzing::fix_decode(data);
});
