//! Replays the cargo-fuzz corpora (`fuzz/corpus/<target>/`) through the
//! fuzz targets' bodies on stable, plus a fixed budget of deterministic
//! mutations of every corpus file (bit flips, byte overwrites, truncations,
//! splices), so CI checks the decoders against hostile input without nightly.

use std::path::{Path, PathBuf};

use tradeengine_adapters::feeds::fuzzing;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
}

/// xorshift64*: deterministic mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut v = a.to_vec();
    match rng.below(5) {
        0 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] ^= 1 << rng.below(8);
        }
        1 if !v.is_empty() => {
            let i = rng.below(v.len());
            v[i] = [0u8, 0xFF, b',', b'\n', b'"', b'-', b'9'][rng.below(7)];
        }
        2 => v.truncate(rng.below(v.len() + 1)),
        3 => {
            let cut = rng.below(v.len() + 1);
            v.truncate(cut);
            v.extend_from_slice(&b[rng.below(b.len() + 1)..]);
        }
        _ => {
            let i = rng.below(v.len() + 1);
            let n = rng.below(16);
            for _ in 0..n {
                v.insert(i, rng.next() as u8);
            }
        }
    }
    v
}

fn run(target: &str, f: fn(&[u8]), mutations_per_file: usize) {
    let files = corpus(target);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    for (i, (_, bytes)) in files.iter().enumerate() {
        f(bytes);
        let other = &files[(i + 1) % files.len()].1;
        let mut cur = bytes.clone();
        for _ in 0..mutations_per_file {
            cur = mutate(&mut rng, &cur, other);
            f(&cur);
            if cur.len() > 1 << 16 {
                cur = bytes.clone();
            }
        }
    }
}

#[test]
fn capture_decode_corpus_and_mutations() {
    run("capture_decode", fuzzing::capture_decode, 200);
}

#[test]
fn signal_text_corpus_and_mutations() {
    run("signal_text", fuzzing::signal_text, 100);
}

#[test]
fn bars_csv_corpus_and_mutations() {
    run("bars_csv", fuzzing::bars_csv, 100);
}

#[test]
fn fix_decode_corpus_and_mutations() {
    run("fix_decode", fuzzing::fix_decode, 200);
}

#[test]
fn a_valid_seed_verifies() {
    let dir = std::env::temp_dir().join(format!("te-fuzz-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = fuzzing::sample_capture(5, &dir);
    let (h, blocks, dict) =
        tradeengine_adapters::feeds::capture::verify::<tradeengine_model::StrategySignal>(Path::new("x"), &bytes)
            .unwrap();
    assert_eq!((h.record_count, blocks.len(), dict.symbols.len()), (5, 1, 1));
}
