//! The bodies of the fuzz targets (`fuzz/`), shared with the stable test
//! that replays their corpora (`adapters/tests/fuzz_corpus.rs`). Each takes
//! arbitrary bytes, must never panic, and checks what holds for any input.

use std::path::Path;

use tradeengine_model::StrategySignal;

use super::bars::bars_to_signals;
use super::capture::{verify, CaptureFile, CaptureWriter, Dictionary};
use super::import::{parse_json_row, CsvColumns};

/// Verifies `data` as a signals capture file and as a recording. A file that
/// verifies must hold blocks whose counts add up to the header's count.
pub fn capture_decode(data: &[u8]) {
    let p = Path::new("fuzz.cap");
    if let Ok((h, blocks, _)) = verify::<StrategySignal>(p, data) {
        let n: u64 = blocks.iter().map(|b| b.count as u64).sum();
        assert_eq!(n, h.record_count, "verified block counts disagree with the header");
    }
    let _ = verify::<super::capture::RecordedInput>(p, data);
}

/// Text as a CSV of signals (first line the header) and as JSON lines.
pub fn signal_text(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.lines();
    if let Some(Ok(cols)) = lines.next().map(CsvColumns::from_header) {
        for l in lines {
            if let Ok(row) = cols.parse_row(l) {
                assert!(row.close > 0.0 && row.close.is_finite() && (0.0..=1.0).contains(&row.strength));
            }
        }
    }
    for l in text.lines() {
        if let Ok(row) = parse_json_row(l) {
            assert!(row.close > 0.0 && row.sma5.is_finite() && row.sma21.is_finite());
        }
    }
}

/// Text as daily bars: converted signals are in time order with valid sides
/// and strengths in [0, 1].
pub fn bars_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok((sigs, dict, rep)) = bars_to_signals(text, "fuzz.csv") {
        assert_eq!(sigs.len() as u64, rep.signals);
        for w in sigs.windows(2) {
            assert!(w[0].ts_event <= w[1].ts_event && w[0].seq < w[1].seq);
        }
        for s in &sigs {
            assert!((s.symbol as usize) < dict.symbols.len());
            assert!(s.side().is_some() && (0.0..=1.0).contains(&s.strength));
        }
    }
}

/// Any bytes as a FIX byte stream: framing always makes progress, framed
/// messages parse or are refused, and a session and the application mapping
/// take whatever parses without panicking.
pub fn fix_decode(data: &[u8]) {
    use crate::fix::codec::{split_frame, FixMsg, Frame};
    use crate::fix::{FixApp, SeqStore, Session, SessionConfig};
    let cfg = SessionConfig { sender: "TE".into(), target: "EXEC".into(), heartbeat_secs: 30, reset_on_logon: true };
    let mut session = Session::new(cfg, SeqStore::in_memory());
    session.on_connected(0);
    let mut app = FixApp::new(0, vec!["A".into()], vec!["S".into()]);
    let mut off = 0;
    while off < data.len() {
        match split_frame(&data[off..]) {
            Frame::Incomplete => break,
            Frame::Skip(n, _) => {
                assert!(n >= 1, "framing must make progress");
                off += n;
            }
            Frame::Message(n) => {
                assert!(n >= 1);
                if let Ok(m) = FixMsg::parse(&data[off..off + n]) {
                    let _ = session.on_message(&m, 1, &mut |am| {
                        let _ = app.decode(am, 0, 0);
                    });
                    let _ = app.decode(&m, 0, 0);
                }
                off += n;
            }
        }
    }
    let _ = session.on_timer(u64::MAX / 2);
}

/// A small valid capture file (`n` signals), as bytes: a seed for the corpus.
pub fn sample_capture(n: u64, dir: &Path) -> Vec<u8> {
    let p = dir.join(format!("seed-{n}.cap"));
    let mut w = CaptureWriter::<StrategySignal>::create(&p).expect("create");
    for i in 0..n {
        let s = StrategySignal { seq: i, ts_event: i, close: 1.0, side: 1, ..Default::default() };
        w.push(&s).expect("push");
    }
    w.finish(&Dictionary { symbols: vec!["S".into()], ..Default::default() }).expect("finish");
    let _ = CaptureFile::<StrategySignal>::open(&p).expect("reopen");
    std::fs::read(&p).expect("read")
}
