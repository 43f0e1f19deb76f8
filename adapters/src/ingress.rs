//! Live signal ingress: a TCP listener (mio, loopback by default) that takes
//! strategy signals from any number of connections and publishes them into
//! the hot thread's signals ring. Cold path: its own thread.
//!
//! Two forms, chosen by a connection's first byte:
//! - **JSON lines** (first byte `{`): one StrategySignal object per line with
//!   the seed's fields (`runId, symbol, timestamp, close, sma5, sma21, signal,
//!   signalStrength`; see `feeds::import`).
//! - **Binary frames** (anything else): a 4-byte little-endian length (64)
//!   followed by the 64-byte `StrategySignal` (symbol = id in the configured
//!   symbol list; its `seq` and `ingress` are ignored).
//!
//! Every accepted signal gets the next input sequence number and the ingress
//! stamp, and is answered `ok <seq>`; a bad line or frame is answered
//! `error line <n>: <what>` / `error frame <n>: <what>` and the connection
//! goes on (its good signals are kept). A frame of the wrong length cannot be
//! resynchronised: it is answered and the connection closed.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ringbuffers::{Producer, WaitStrategy, Waiter};
use tradeengine_model::{Side, StrategySignal};

use crate::feeds::import::{parse_json_row, SignalRow};

/// Largest JSON line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// Size of a binary frame's payload.
pub const FRAME: usize = 64;

/// Counters readable while the ingress runs.
#[derive(Debug, Default)]
pub struct IngressCounters {
    pub connections: AtomicU64,
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    /// Next input sequence number.
    pub next_seq: AtomicU64,
}

/// A running ingress.
pub struct Ingress {
    addr: SocketAddr,
    pub counters: Arc<IngressCounters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<(Vec<String>, Producer<StrategySignal>)>>,
}

/// Turns text rows and binary frames into engine signals.
pub struct SignalDecoder {
    symbols: HashMap<String, u32>,
    n_symbols: u32,
    strategies: HashMap<String, u16>,
    strategy_names: Vec<String>,
}

impl SignalDecoder {
    /// A decoder for the given symbols (ids in list order).
    pub fn new(symbols: &[String]) -> Self {
        Self {
            symbols: symbols.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect(),
            n_symbols: symbols.len() as u32,
            strategies: HashMap::new(),
            strategy_names: Vec::new(),
        }
    }

    /// Strategy (run id) names seen, in id order.
    pub fn strategies(&self) -> &[String] {
        &self.strategy_names
    }

    /// A JSON line to a signal (seq and stamp left 0).
    pub fn json(&mut self, line: &str) -> Result<StrategySignal, String> {
        let row: SignalRow = parse_json_row(line).map_err(|e| e.to_string())?;
        let symbol = *self
            .symbols
            .get(&row.symbol)
            .ok_or_else(|| format!("field symbol: `{}` is not a traded symbol (live.symbols)", row.symbol))?;
        let strategy = match self.strategies.get(&row.run_id) {
            Some(&id) => id,
            None => {
                let id = u16::try_from(self.strategy_names.len())
                    .map_err(|_| "field runId: too many run ids".to_string())?;
                self.strategies.insert(row.run_id.clone(), id);
                self.strategy_names.push(row.run_id.clone());
                id
            }
        };
        Ok(StrategySignal {
            ts_event: row.ts_event,
            close: row.close,
            sma5: row.sma5,
            sma21: row.sma21,
            strength: row.strength,
            symbol,
            strategy,
            side: row.side as u8,
            ..Default::default()
        })
    }

    /// A binary frame's payload to a signal, checked.
    pub fn frame(&self, payload: &[u8]) -> Result<StrategySignal, String> {
        if payload.len() != FRAME {
            return Err(format!("length {}, expected {FRAME}", payload.len()));
        }
        let s: StrategySignal = bytemuck::pod_read_unaligned(payload);
        if Side::from_u8(s.side).is_none() {
            return Err(format!("side {} is neither 1 (BUY) nor 2 (SELL)", s.side));
        }
        if s.symbol >= self.n_symbols {
            return Err(format!("symbol id {} is not a traded symbol (0..{})", s.symbol, self.n_symbols));
        }
        if !(s.close.is_finite() && s.close > 0.0) {
            return Err(format!("close {} is not a positive price", s.close));
        }
        if !(0.0..=1.0).contains(&s.strength) {
            return Err(format!("strength {} is outside [0, 1]", s.strength));
        }
        if !s.sma5.is_finite() || !s.sma21.is_finite() {
            return Err("sma5/sma21 are not finite".into());
        }
        Ok(StrategySignal { seq: 0, ingress: 0, ..s })
    }
}

#[derive(PartialEq, Eq)]
enum Mode {
    Unknown,
    Json,
    Binary,
}

struct Conn {
    stream: mio::net::TcpStream,
    inbuf: Vec<u8>,
    out: Vec<u8>,
    mode: Mode,
    /// Lines or frames seen.
    count: u64,
    /// The peer closed its side (or a fatal error): close once `out` is written.
    closing: bool,
}

impl Ingress {
    /// Binds `listen` and starts the ingress thread; signals get sequence
    /// numbers from `first_seq` on. `on_start` runs first on the thread.
    pub fn spawn(
        listen: SocketAddr,
        symbols: &[String],
        first_seq: u64,
        tx: Producer<StrategySignal>,
        on_start: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Ingress> {
        let listener = mio::net::TcpListener::bind(listen)?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(IngressCounters::default());
        counters.next_seq.store(first_seq, Ordering::Relaxed);
        let stop = Arc::new(AtomicBool::new(false));
        let decoder = SignalDecoder::new(symbols);
        let (c, s) = (counters.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("te-ingress".into()).spawn(move || {
            on_start();
            run(listener, decoder, first_seq, tx, &c, &s)
        })?;
        Ok(Ingress { addr, counters, stop, thread: Some(thread) })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes every connection and the signals ring
    /// (the hot loop ends once it has drained it).
    pub fn stop(self) {
        drop(self.stop_keep_ring());
    }

    /// Stops accepting and closes every connection, but hands back the
    /// signals ring's producer so the caller decides when the hot thread's
    /// input ends (e.g. after draining orders in flight).
    pub fn stop_keep_ring(mut self) -> Option<Producer<StrategySignal>> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().and_then(|t| t.join().ok()).map(|(_, tx)| tx)
    }
}

impl Drop for Ingress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const LISTENER: mio::Token = mio::Token(usize::MAX);

fn run(
    mut listener: mio::net::TcpListener,
    mut decoder: SignalDecoder,
    first_seq: u64,
    mut tx: Producer<StrategySignal>,
    counters: &IngressCounters,
    stop: &AtomicBool,
) -> (Vec<String>, Producer<StrategySignal>) {
    let clock = quanta::Clock::new();
    let Ok(mut poll) = mio::Poll::new() else { return (Vec::new(), tx) };
    let _ = poll.registry().register(&mut listener, LISTENER, mio::Interest::READABLE);
    let mut events = mio::Events::with_capacity(64);
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut next_seq = first_seq;
    let mut waiter = Waiter::new(WaitStrategy::for_full_ring(tx.capacity()));
    let mut batch: Vec<StrategySignal> = Vec::with_capacity(1024);
    while !stop.load(Ordering::Relaxed) {
        let _ = poll.poll(&mut events, Some(Duration::from_millis(20)));
        for ev in events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut stream, _)) = listener.accept() {
                    let _ = stream.set_nodelay(true);
                    let slot = conns.iter().position(Option::is_none).unwrap_or_else(|| {
                        conns.push(None);
                        conns.len() - 1
                    });
                    let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
                    if poll.registry().register(&mut stream, mio::Token(slot), interest).is_ok() {
                        counters.connections.fetch_add(1, Ordering::Relaxed);
                        conns[slot] = Some(Conn {
                            stream,
                            inbuf: Vec::with_capacity(8192),
                            out: Vec::new(),
                            mode: Mode::Unknown,
                            count: 0,
                            closing: false,
                        });
                    }
                }
            }
        }
        // Serve every connection each pass (edge-triggered: read to WouldBlock).
        for entry in conns.iter_mut() {
            let Some(c) = entry.as_mut() else { continue };
            let mut chunk = [0u8; 16 * 1024];
            loop {
                if c.closing {
                    break;
                }
                match c.stream.read(&mut chunk) {
                    Ok(0) => c.closing = true,
                    Ok(n) => c.inbuf.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        c.closing = true;
                        c.inbuf.clear();
                    }
                }
                if c.inbuf.len() >= MAX_LINE + FRAME + 4 {
                    break; // process what we have before reading more
                }
            }
            let stamp = clock.raw();
            let mut off = 0;
            loop {
                if c.mode == Mode::Unknown {
                    match c.inbuf.get(off) {
                        None => break,
                        Some(b'{') => c.mode = Mode::Json,
                        Some(_) => c.mode = Mode::Binary,
                    }
                }
                let result = match c.mode {
                    Mode::Json => {
                        let Some(nl) = c.inbuf[off..].iter().position(|&b| b == b'\n') else {
                            if c.inbuf.len() - off > MAX_LINE {
                                c.count += 1;
                                let _ = writeln!(c.out, "error line {}: longer than {MAX_LINE} bytes", c.count);
                                counters.refused.fetch_add(1, Ordering::Relaxed);
                                c.closing = true;
                                off = c.inbuf.len();
                            }
                            break;
                        };
                        let line = &c.inbuf[off..off + nl];
                        off += nl + 1;
                        let line = std::str::from_utf8(line).map(|l| l.trim_end_matches('\r'));
                        if line.is_ok_and(|l| l.trim().is_empty()) {
                            continue;
                        }
                        c.count += 1;
                        line.map_err(|_| "not UTF-8".to_string()).and_then(|l| decoder.json(l))
                    }
                    Mode::Binary => {
                        if c.inbuf.len() - off < 4 {
                            break;
                        }
                        let len = u32::from_le_bytes(c.inbuf[off..off + 4].try_into().unwrap_or([0; 4])) as usize;
                        c.count += 1;
                        if len != FRAME {
                            let _ = writeln!(c.out, "error frame {}: length {len}, expected {FRAME}; closing", c.count);
                            counters.refused.fetch_add(1, Ordering::Relaxed);
                            c.closing = true;
                            off = c.inbuf.len();
                            break;
                        }
                        if c.inbuf.len() - off < 4 + FRAME {
                            c.count -= 1;
                            break;
                        }
                        let payload = &c.inbuf[off + 4..off + 4 + FRAME];
                        off += 4 + FRAME;
                        decoder.frame(payload)
                    }
                    Mode::Unknown => break,
                };
                match result {
                    Ok(s) => {
                        batch.push(StrategySignal { seq: next_seq, ingress: stamp, ..s });
                        let _ = writeln!(c.out, "ok {next_seq}");
                        next_seq += 1;
                    }
                    Err(what) => {
                        let unit = if c.mode == Mode::Json { "line" } else { "frame" };
                        let _ = writeln!(c.out, "error {unit} {}: {what}", c.count);
                        counters.refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if batch.len() == batch.capacity() {
                    publish(&mut tx, &mut batch, &mut waiter, counters);
                }
            }
            c.inbuf.drain(..off);
            publish(&mut tx, &mut batch, &mut waiter, counters);
            counters.next_seq.store(next_seq, Ordering::Relaxed);
            // Replies.
            while !c.out.is_empty() {
                match c.stream.write(&c.out) {
                    Ok(0) => break,
                    Ok(n) => {
                        c.out.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => {
                        c.out.clear();
                        c.closing = true;
                    }
                }
            }
            if c.closing && c.out.is_empty() {
                let _ = poll.registry().deregister(&mut c.stream);
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
                *entry = None;
            }
        }
    }
    // The caller drops `tx` to close the signals ring (the hot loop ends after draining it).
    (decoder.strategy_names, tx)
}

fn publish(
    tx: &mut Producer<StrategySignal>,
    batch: &mut Vec<StrategySignal>,
    waiter: &mut Waiter,
    counters: &IngressCounters,
) {
    if batch.is_empty() {
        return;
    }
    if tx.push_slice(batch, waiter).is_ok() {
        counters.accepted.fetch_add(batch.len() as u64, Ordering::Relaxed);
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_checks_json_and_frames() {
        let mut d = SignalDecoder::new(&["AAA".into(), "BBB".into()]);
        let s = d
            .json(r#"{"runId":"r1","symbol":"BBB","timestamp":"2024-01-02","close":10,"sma5":9,"sma21":8,"signal":"BUY","signalStrength":0.5}"#)
            .unwrap();
        assert_eq!((s.symbol, s.strategy, s.side), (1, 0, Side::Buy as u8));
        let e = d
            .json(r#"{"runId":"r1","symbol":"ZZZ","timestamp":"2024-01-02","close":10,"sma5":9,"sma21":8,"signal":"BUY","signalStrength":0.5}"#)
            .unwrap_err();
        assert!(e.contains("`ZZZ` is not a traded symbol"), "{e}");
        assert!(d.json("{").unwrap_err().starts_with("not JSON"));
        let good =
            StrategySignal { symbol: 1, side: 2, close: 5.0, strength: 1.0, seq: 99, ingress: 7, ..Default::default() };
        let f = d.frame(bytemuck::bytes_of(&good)).unwrap();
        assert_eq!((f.seq, f.ingress, f.symbol), (0, 0, 1), "seq and stamp are the engine's");
        for (bad, want) in [
            (StrategySignal { side: 0, ..good }, "side 0"),
            (StrategySignal { symbol: 2, ..good }, "symbol id 2"),
            (StrategySignal { close: f64::NAN, ..good }, "close NaN"),
            (StrategySignal { strength: 2.0, ..good }, "strength 2"),
        ] {
            assert!(d.frame(bytemuck::bytes_of(&bad)).unwrap_err().contains(want), "{want}");
        }
    }
}
