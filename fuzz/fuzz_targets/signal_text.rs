//! Any text as a signals CSV (header + rows) and as JSON lines: every row
//! parses or gets an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradeengine_adapters::feeds::fuzzing::signal_text(data);
});
