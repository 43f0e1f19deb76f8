//! The harness thread's loop: send when due, drain the orders ring in
//! between (stamp arrivals, answer with fills), drain the journal. Cold path,
//! but latency-critical: nothing here allocates inside the loop either.

use anyhow::bail;
use hdrhistogram::Histogram;
use ringbuffers::{Consumer, Producer, WaitStrategy, Waiter};
use tradeengine_adapters::feeds::WorkloadGenerator;
use tradeengine_model::{ExecReport, ExecType, JournalEvent, OrderRequest, Side, StrategySignal};

use crate::pinning::CoreLayout;

use super::report::LatencySummary;

/// What to measure.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyParams {
    /// Signals (and probes) per second; `None`: as fast as the rings allow.
    pub rate: Option<f64>,
    /// Events of each kind (engine signals, floor probes) measured after warm-up.
    pub samples: u64,
    /// Events sent first and not measured.
    pub warmup: u64,
    /// Events per block; blocks alternate between engine and floor.
    pub block: u64,
    /// Seed of the W1 stream.
    pub seed: u64,
}

impl Default for LatencyParams {
    fn default() -> Self {
        Self { rate: Some(1_000_000.0), samples: 5_100_000, warmup: 500_000, block: 1_000, seed: 42 }
    }
}

/// The raw measurements.
#[derive(Clone, Debug)]
pub struct Measured {
    /// Tick-to-trade of routed signals, ns.
    pub engine: Histogram<u64>,
    /// Ring round trip of probes, ns.
    pub floor: Histogram<u64>,
    /// `engine` split by the order's side: BUY, then SELL (their paths
    /// through the decision differ).
    pub engine_by_side: [Histogram<u64>; 2],
    /// Events sent (signals and probes, warm-up included).
    pub sent: u64,
    /// Orders received (routed signals, warm-up included).
    pub orders: u64,
    /// Journal records drained.
    pub journal_records: u64,
    /// Times a send was due but found the signals ring full.
    pub send_stalls: u64,
    /// Largest lag of a send behind its intended time, ns (paced runs).
    pub max_send_lag_ns: u64,
    /// Wall time of the measured part, seconds.
    pub secs: f64,
}

/// A finished latency run.
#[derive(Clone, Debug)]
pub struct LatencyRun {
    pub summary: LatencySummary,
    pub measured: Measured,
    pub hot_counters: crate::hot::HotCounters,
    pub layout: CoreLayout,
    pub hot_pinned: bool,
}

const HIGHEST_NS: u64 = 60_000_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("valid histogram bounds")
}

/// Which kind of event index `i` is: blocks alternate engine, floor, engine…
#[inline]
fn is_probe(i: u64, block: u64) -> bool {
    (i / block.max(1)) % 2 == 1
}

/// Drives one run; returns when every event was sent and every answer drained.
pub(super) fn drive(
    p: &LatencyParams,
    mut generator: WorkloadGenerator,
    sig_tx: Producer<StrategySignal>,
    mut orders_rx: Consumer<OrderRequest>,
    mut exec_tx: Producer<ExecReport>,
    mut journal_rx: Consumer<JournalEvent>,
) -> anyhow::Result<Measured> {
    let clock = quanta::Clock::new();
    let total = p.warmup + 2 * p.samples;
    let block = p.block.max(1);
    // raw clock ticks per second, for the schedule
    let ticks_per_s = {
        let ns = clock.delta_as_nanos(0, 1_000_000_000).max(1);
        1e9 * 1e9 / ns as f64
    };
    let period_ticks = p.rate.map(|r| ticks_per_s / r);
    let mut engine = histogram();
    let mut engine_by_side = [histogram(), histogram()];
    let mut floor = histogram();
    let mut fills = vec![ExecReport::default(); 1024];
    let mut fill_waiter = Waiter::new(WaitStrategy::BusySpin);
    let mut sig_tx = Some(sig_tx);
    let (mut sent, mut orders, mut journal_records, mut send_stalls, mut max_send_lag_ns) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    let t0 = clock.raw();
    let intended = |i: u64| -> u64 { period_ticks.map_or(0, |pt| t0 + (i as f64 * pt) as u64) };
    // The next signal, generated ahead of its due time.
    let mut next: Option<StrategySignal> = None;
    loop {
        // 1. Send everything that is due; close the stream after the last.
        while let Some(tx) = sig_tx.as_mut() {
            if sent == total {
                sig_tx = None;
                break;
            }
            let i = sent;
            let now = clock.raw();
            if period_ticks.is_some() && now < intended(i) {
                break;
            }
            let mut ev = if is_probe(i, block) {
                StrategySignal { side: StrategySignal::PROBE, ..Default::default() }
            } else {
                match next.take().or_else(|| generator.next_signal()) {
                    Some(s) => s,
                    None => bail!("the W1 generator ended early at event {i}"),
                }
            };
            ev.seq = i;
            ev.ingress = now;
            if !tx.try_push(ev) {
                send_stalls += 1;
                if !is_probe(i, block) {
                    next = Some(ev);
                }
                break; // the hot thread is behind: drain its answers, retry
            }
            if period_ticks.is_some() {
                max_send_lag_ns = max_send_lag_ns.max(clock.delta_as_nanos(intended(i), now));
            }
            sent += 1;
        }
        if next.is_none() && sent < total && !is_probe(sent, block) {
            next = generator.next_signal();
        }
        // 2. Drain the orders ring: stamp arrivals, answer with fills.
        let mut nfills = 0;
        orders_rx.drain(fills.len(), |batch| {
            let arrival = clock.raw();
            for o in batch {
                let start = if period_ticks.is_some() { intended(o.seq).min(o.ingress) } else { o.ingress };
                let ns = clock.delta_as_nanos(start, arrival).max(1);
                let measured = o.seq >= p.warmup;
                if o.action == OrderRequest::PROBE {
                    if measured {
                        floor.saturating_record(ns);
                    }
                } else {
                    orders += 1;
                    if measured {
                        engine.saturating_record(ns);
                        engine_by_side[usize::from(o.side != Side::Buy as u8)].saturating_record(ns);
                    }
                    fills[nfills] = ExecReport {
                        exec_type: ExecType::Fill as u8,
                        side: o.side,
                        account: o.account,
                        symbol: o.symbol,
                        order_id: o.order_id,
                        last_qty: o.qty,
                        last_px: o.price,
                        cum_qty: o.qty,
                        ts_event: o.ts_event,
                        recv: arrival,
                        ..Default::default()
                    };
                    nfills += 1;
                }
            }
        });
        // After the stream closed, the hot thread may stop reading exec
        // reports before the last fills reach it: those are not needed.
        if nfills > 0 && exec_tx.push_slice(&fills[..nfills], &mut fill_waiter).is_err() && sig_tx.is_some() {
            bail!("the hot thread stopped reading exec reports");
        }
        // 3. Drain the journal. The hot thread closes it after its last turn,
        //    when every order it sent is already in the orders ring.
        let finished = journal_rx.is_finished();
        journal_records += journal_rx.drain(usize::MAX, |_| {}) as u64;
        if finished && orders_rx.is_empty() {
            break;
        }
        if sig_tx.is_some() && journal_rx.is_abandoned() {
            bail!("the hot thread stopped before the run ended");
        }
    }
    Ok(Measured {
        engine,
        floor,
        engine_by_side,
        sent,
        orders,
        journal_records,
        send_stalls,
        max_send_lag_ns,
        secs: clock.delta(t0, clock.raw()).as_secs_f64(),
    })
}

/// Probes among events `0..total`.
#[cfg(test)]
fn probe_count(total: u64, block: u64) -> u64 {
    (0..total.div_ceil(block)).filter(|b| b % 2 == 1).map(|b| (total - b * block).min(block)).sum()
}

impl Measured {
    /// One line of the engine's tick-to-trade by side, ns:
    /// `by side: BUY p50=… p90=… p99=… SELL p50=… p90=… p99=…`.
    pub fn by_side_line(&self) -> String {
        let part = |name: &str, h: &Histogram<u64>| {
            format!(
                "{name} p50={} p90={} p99={}",
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99)
            )
        };
        format!("by side: {} {}", part("BUY", &self.engine_by_side[0]), part("SELL", &self.engine_by_side[1]))
    }
}

impl LatencyRun {
    /// The last line, for scripts (the contract form, nanoseconds).
    pub fn latency_line(&self) -> String {
        self.summary.latency_line()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_alternate_and_probes_are_counted() {
        assert!(!is_probe(0, 10) && !is_probe(9, 10) && is_probe(10, 10) && !is_probe(20, 10));
        assert_eq!(probe_count(35, 10), 15);
        assert_eq!(probe_count(15, 10), 5);
        assert_eq!(probe_count(9, 10), 0);
        assert_eq!(probe_count(40, 10), (0..40).filter(|&i| is_probe(i, 10)).count() as u64);
    }
}
