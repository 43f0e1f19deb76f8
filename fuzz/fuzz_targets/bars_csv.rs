//! Any text as daily bars: SMA-cross conversion reports bad bars, never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    tradeengine_adapters::feeds::fuzzing::bars_csv(data);
});
