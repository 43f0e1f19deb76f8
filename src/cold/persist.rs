//! The persistence thread: drains the journal ring into a [`Store`] in
//! batched transactions, each committed with the checkpoint of the last input
//! it completes. Records of the newest input are held back until that input
//! is complete (a later input's record arrived, or the stream ended), so a
//! checkpoint never covers half an input. A store error stops the thread
//! loudly (the hot thread then sees its journal consumer gone); nothing
//! accepted is dropped silently.

use std::time::{Duration, Instant};

use ringbuffers::{Consumer, WaitStrategy, Waiter};
use tradeengine_adapters::store::{CommitBatch, Store, StoreError};
use tradeengine_model::{JournalEvent, TradeSignal};

use std::sync::Arc;

use super::{AccountCapacity, EngineMetrics, JournalExpander, JournalSummary, Portfolio};

/// Where the persistence thread reports progress for the metrics endpoint.
#[derive(Clone, Debug)]
pub struct MetricsHook {
    pub metrics: Arc<EngineMetrics>,
    /// (name, maxOpenSymbols) by account id, for capacity use.
    pub accounts: Vec<(String, u32)>,
    /// How often per-account capacity is refreshed.
    pub accounts_every: Duration,
}

/// Batching of the persistence thread.
#[derive(Clone, Copy, Debug)]
pub struct PersistParams {
    /// Commit once this many complete records are pending.
    pub batch_records: usize,
    /// …or once the oldest pending record waited this long.
    pub max_delay: Duration,
    /// How the thread waits when the journal is empty.
    pub wait: WaitStrategy,
    /// Live mode: once the journal has been quiet for `max_delay`, commit
    /// everything pending. A live input's records arrive over time (an
    /// order's fills come long after its signal), so "a later input has
    /// started" cannot be the only sign that an input is complete.
    pub idle_commit: bool,
}

impl Default for PersistParams {
    fn default() -> Self {
        Self {
            batch_records: 65_536,
            max_delay: Duration::from_millis(50),
            wait: WaitStrategy::SpinThenPark { park: WaitStrategy::DEFAULT_PARK },
            idle_commit: false,
        }
    }
}

/// What the persistence thread did.
#[derive(Clone, Debug, Default)]
pub struct PersistOutcome {
    pub summary: JournalSummary,
    pub commits: u64,
    pub records: u64,
    /// Checkpoint of the last commit.
    pub through: Option<u64>,
    /// Slowest commit, seconds.
    pub max_commit_secs: f64,
    /// Time spent committing, seconds.
    pub commit_secs: f64,
    /// Tick-to-trade as the cold side sees it: from a routed signal's
    /// ingress stamp to its decision reaching this thread (ns). An upper
    /// bound of the engine's tick-to-trade (it adds the journal hop); at a
    /// full-speed replay it is mostly time queued in the signals ring.
    pub tick_to_trade: Option<hdrhistogram::Histogram<u64>>,
}

/// Drains `journal` into `store` until the journal's producer closes, each
/// record as `expander` expands it (seeded with the positions the hot thread
/// started from). The `portfolio` is advanced by exactly the records each
/// commit carries, and its changed rows commit with them.
pub fn persist_journal(
    mut journal: Consumer<JournalEvent>,
    mut expander: JournalExpander,
    store: &mut dyn Store,
    portfolio: &mut Portfolio,
    p: PersistParams,
    hook: Option<&MetricsHook>,
) -> Result<PersistOutcome, StoreError> {
    let mut out = PersistOutcome::default();
    let mut accounts_at: Option<Instant> = None;
    let mut report = |out: &PersistOutcome, portfolio: &Portfolio, last_seq: Option<u64>, force: bool| {
        let Some(h) = hook else { return };
        let m = &h.metrics;
        m.set_summary(&out.summary);
        m.journaled_seq.store(last_seq.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
        m.persisted_seq.store(out.through.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
        m.store_commits.store(out.commits, std::sync::atomic::Ordering::Relaxed);
        m.store_commit_seconds_total.set(out.commit_secs);
        m.store_commit_seconds_max.set(out.max_commit_secs);
        if force || accounts_at.is_none_or(|t| t.elapsed() >= h.accounts_every) {
            accounts_at = Some(Instant::now());
            m.set_accounts(
                h.accounts
                    .iter()
                    .enumerate()
                    .map(|(a, (name, max))| AccountCapacity {
                        name: name.clone(),
                        open_positions: portfolio.row(a as u32).map_or(0, |r| r.open_positions),
                        max_open_symbols: *max,
                    })
                    .collect(),
            );
        }
    };
    let mut waiter = Waiter::new(p.wait);
    let clock = quanta::Clock::new();
    let mut t2t = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 600_000_000_000, 3).ok();
    let mut pending: Vec<JournalEvent> = Vec::with_capacity(p.batch_records * 2);
    // pending[..ready] holds only complete inputs (all seq < last_seq).
    let mut ready = 0usize;
    let mut last_seq: Option<u64> = None;
    let mut oldest: Option<Instant> = None;
    let mut last_drain = Instant::now();
    loop {
        let finished = journal.is_finished();
        let n = journal.drain(p.batch_records.clamp(1, 8192), |batch| {
            let seen = clock.raw();
            for raw in batch {
                expander.expand(raw, |ev| {
                    if let (Some(h), Some(t)) = (t2t.as_mut(), ev.get::<TradeSignal>()) {
                        if t.is_routed() && t.ingress != 0 {
                            let _ = h.record(clock.delta_as_nanos(t.ingress, seen).max(1));
                        }
                    }
                    out.summary.add(ev);
                    let s = ev.seq();
                    if last_seq.is_none_or(|l| s > l) {
                        ready = pending.len();
                        last_seq = Some(s);
                    }
                    pending.push(*ev);
                });
            }
        });
        if n > 0 {
            last_drain = Instant::now();
            if oldest.is_none() {
                oldest = Some(last_drain);
            }
        }
        if p.idle_commit && n == 0 && !pending.is_empty() && last_drain.elapsed() >= p.max_delay {
            if let Some(through) = last_seq {
                commit(store, portfolio, &pending, through, &mut out)?;
                pending.clear();
                ready = 0;
                oldest = None;
                report(&out, portfolio, last_seq, false);
            }
        }
        let due = oldest.is_some_and(|t| t.elapsed() >= p.max_delay);
        if ready > 0 && (ready >= p.batch_records || due) {
            let through = pending[ready - 1].seq();
            commit(store, portfolio, &pending[..ready], through, &mut out)?;
            pending.drain(..ready);
            ready = 0;
            oldest = (!pending.is_empty()).then(Instant::now);
            report(&out, portfolio, last_seq, false);
        }
        if finished && n == 0 {
            if let Some(through) = last_seq.filter(|_| !pending.is_empty()) {
                commit(store, portfolio, &pending, through, &mut out)?;
            }
            out.summary.mismatched = expander.mismatched();
            report(&out, portfolio, last_seq, true);
            out.tick_to_trade = t2t.filter(|h| !h.is_empty());
            return Ok(out);
        }
        if n == 0 {
            waiter.wait();
        } else {
            waiter.reset();
        }
    }
}

fn commit(
    store: &mut dyn Store,
    portfolio: &mut Portfolio,
    recs: &[JournalEvent],
    through: u64,
    out: &mut PersistOutcome,
) -> Result<(), StoreError> {
    let t = Instant::now();
    for ev in recs {
        portfolio.on_record(ev);
    }
    let (rows, pnl, marks) = portfolio.take();
    store.commit(&CommitBatch {
        records: recs,
        portfolio: &rows,
        pnl: &pnl,
        marks: &marks,
        through,
        last_ts: portfolio.last_ts(),
    })?;
    let secs = t.elapsed().as_secs_f64();
    out.commits += 1;
    out.records += recs.len() as u64;
    out.through = Some(through);
    out.commit_secs += secs;
    out.max_commit_secs = out.max_commit_secs.max(secs);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use tradeengine_adapters::store::RestartState;
    use tradeengine_model::{AccountPolicy, TradeSignal};

    /// Records every commit.
    #[derive(Default)]
    struct Recorder {
        commits: Vec<(Vec<u64>, u64)>,
    }

    impl Store for Recorder {
        fn name(&self) -> &'static str {
            "recorder"
        }
        fn init_policies(&mut self, _: &[AccountPolicy]) -> Result<(), StoreError> {
            Ok(())
        }
        fn commit(&mut self, b: &CommitBatch<'_>) -> Result<(), StoreError> {
            self.commits.push((b.records.iter().map(|e| e.seq()).collect(), b.through));
            Ok(())
        }
        fn restart_state(&mut self) -> Result<RestartState, StoreError> {
            Ok(RestartState::default())
        }
        fn dump(&mut self, _: &str, _: &mut dyn Write) -> Result<(), StoreError> {
            Ok(())
        }
    }

    #[test]
    fn batches_end_on_input_boundaries_and_everything_is_committed() {
        let (mut tx, rx) = ringbuffers::channel::<JournalEvent>("j", 64);
        // inputs 0..10, each with 1–3 records
        let mut all = Vec::new();
        for s in 0..10u64 {
            for _ in 0..(s % 3 + 1) {
                all.push(JournalEvent::from(TradeSignal { seq: s, ..Default::default() }));
            }
        }
        let mut w = Waiter::new(WaitStrategy::BusySpin);
        tx.push_slice(&all, &mut w).unwrap();
        drop(tx);
        let mut store = Recorder::default();
        let p = PersistParams {
            batch_records: 4,
            max_delay: Duration::from_secs(60),
            wait: WaitStrategy::BusySpin,
            idle_commit: false,
        };
        let mut portfolio = Portfolio::new(&[1.0], 1, 0);
        let out = persist_journal(rx, JournalExpander::new(0), &mut store, &mut portfolio, p, None).unwrap();
        let flat: Vec<u64> = store.commits.iter().flat_map(|(r, _)| r.clone()).collect();
        assert_eq!(flat, all.iter().map(|e| e.seq()).collect::<Vec<_>>(), "every record once, in order");
        for (recs, through) in &store.commits {
            assert_eq!(recs.last(), Some(through), "a batch ends with its checkpoint input");
            assert!(recs.iter().all(|s| s <= through));
        }
        // No input is split across two commits.
        for w in store.commits.windows(2) {
            assert!(w[0].1 < *w[1].0.first().unwrap());
        }
        assert_eq!(out.through, Some(9));
        assert_eq!(out.records, all.len() as u64);
        assert!(out.commits >= 3);
    }
}
