//! The feeder and recorder threads of a replay. Cold path.
//!
//! - The feeder publishes a run's inputs into the hot thread's rings: signals
//!   from the generator or a capture file (batched, stamped with the ingress
//!   time as they are copied into the ring, optionally paced on event time),
//!   or every kind of input from a recording. A recording is replayed in its
//!   consumption order exactly: before switching to another ring the feeder
//!   waits until the hot thread has consumed everything it published on the
//!   previous one, so ring priorities cannot reorder inputs.
//! - The recorder drains the hot thread's recording ring into a capture file
//!   of [`RecordedInput`]s and finishes it with the run's dictionary.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use bytemuck::Pod;
use ringbuffers::{Consumer, Producer, WaitStrategy, Waiter};
use tradeengine_adapters::feeds::{CaptureFile, CaptureWriter, Dictionary, InputKind, RecordedInput};
use tradeengine_model::{AccountPolicy, Control, ExecReport, RollupChange, StrategySignal};

use crate::feed::SignalSource;
use crate::pipeline::RunControl;

/// Event-time pacing: signal `s` is due `(s.ts_event − first ts_event) / speed`
/// after the first was sent.
pub struct Pacer {
    speed: f64,
    t0: Instant,
    first_event: Option<u64>,
}

impl Pacer {
    /// A pacer at `speed` × the recorded pace.
    pub fn new(speed: f64) -> Self {
        Self { speed, t0: Instant::now(), first_event: None }
    }

    fn due_after(&mut self, s: &StrategySignal) -> Duration {
        if self.first_event.is_none() {
            self.first_event = Some(s.ts_event);
            self.t0 = Instant::now();
        }
        let event_ns = s.ts_event.saturating_sub(self.first_event.unwrap_or(0));
        Duration::from_secs_f64(event_ns as f64 / 1e9 / self.speed)
    }

    /// How many leading signals of `batch` are due now.
    pub fn due(&mut self, batch: &[StrategySignal]) -> usize {
        let now = self.t0.elapsed();
        let mut k = 0;
        while k < batch.len() && self.due_after(&batch[k]) <= now {
            k += 1;
        }
        k
    }

    /// Sleeps until `s` is due (at most 50 ms at a time, so a stop is seen).
    pub fn wait_for(&mut self, s: &StrategySignal) {
        let left = self.due_after(s).saturating_sub(self.t0.elapsed());
        if left > Duration::from_micros(200) {
            thread::sleep(left.min(Duration::from_millis(50)));
        } else {
            thread::yield_now();
        }
    }
}

/// Publishes `batch` on the signals ring, paced by `pace` and stamped with
/// the ingress time. Returns false if the run was stopped while waiting.
fn publish_signals(
    tx: &mut Producer<StrategySignal>,
    mut batch: &[StrategySignal],
    pace: &mut Option<Pacer>,
    control: &RunControl,
    clock: &quanta::Clock,
    waiter: &mut Waiter,
) -> anyhow::Result<bool> {
    while !batch.is_empty() {
        let k = match pace.as_mut() {
            None => batch.len(),
            Some(p) => match p.due(batch) {
                0 => {
                    if control.stopped() {
                        return Ok(false);
                    }
                    p.wait_for(&batch[0]);
                    continue;
                }
                k => k,
            },
        };
        let stamp = clock.raw();
        let stamped = |s: &StrategySignal| StrategySignal { ingress: stamp, ..*s };
        tx.push_slice_map(&batch[..k], waiter, stamped)
            .map_err(|_| anyhow!("the hot thread stopped consuming signals"))?;
        if let Some(p) = &control.progress {
            p.fetch_add(k as u64, Ordering::Relaxed);
        }
        batch = &batch[k..];
    }
    Ok(true)
}

/// Feeds a signal source until it ends or the run is stopped.
pub fn feed_signals(
    mut source: Box<dyn SignalSource>,
    mut tx: Producer<StrategySignal>,
    control: RunControl,
) -> anyhow::Result<()> {
    let clock = quanta::Clock::new();
    let mut waiter = Waiter::new(WaitStrategy::for_full_ring(tx.capacity()));
    let mut pace = control.speed.map(Pacer::new);
    while !control.stopped() {
        let batch = source.next_batch(256);
        if batch.is_empty() {
            break;
        }
        if !publish_signals(&mut tx, batch, &mut pace, &control, &clock, &mut waiter)? {
            break;
        }
    }
    Ok(())
}

/// The hot thread's input rings, from the feeder's side (replaying a recording).
pub struct InputProducers {
    pub signals: Producer<StrategySignal>,
    pub control: Producer<Control>,
    pub policies: Producer<AccountPolicy>,
    pub rollups: Producer<RollupChange>,
    /// Exec reports (a live run's recording); none when the venue is inline.
    pub exec: Option<Producer<ExecReport>>,
}

impl InputProducers {
    fn is_drained(&self, kind: InputKind) -> bool {
        match kind {
            InputKind::Signal => self.signals.is_drained(),
            InputKind::Control => self.control.is_drained(),
            InputKind::Policy => self.policies.is_drained(),
            InputKind::Rollup => self.rollups.is_drained(),
            InputKind::ExecReport => self.exec.as_ref().is_none_or(Producer::is_drained),
        }
    }
}

fn events<E: Pod>(run: &[RecordedInput], buf: &mut Vec<E>) {
    buf.clear();
    buf.extend(run.iter().map(|r| bytemuck::cast::<[u64; 8], E>(r.event)));
}

/// Replays a recording: every input on its ring, in the recorded order.
pub fn feed_recording(
    file: Arc<CaptureFile<RecordedInput>>,
    mut rings: InputProducers,
    control: RunControl,
) -> anyhow::Result<()> {
    let clock = quanta::Clock::new();
    // Waits for the order between rings (a ring drained before the next
    // kind goes out: short, and as frequent as the kinds alternate) and on
    // the small side rings keep yielding; only a full signals ring sleeps.
    let mut waiter = Waiter::new(WaitStrategy::SpinThenYield);
    let mut signals_waiter = Waiter::new(WaitStrategy::for_full_ring(rings.signals.capacity()));
    let mut pace = control.speed.map(Pacer::new);
    let mut last: Option<InputKind> = None;
    let (mut sigs, mut ctl, mut pol, mut rol, mut exe) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let gone = |_| anyhow!("the hot thread stopped consuming its inputs");
    for block in file.blocks() {
        let mut rest = block;
        while !rest.is_empty() {
            if control.stopped() {
                return Ok(());
            }
            let kind = InputKind::from_u8(rest[0].kind)
                .ok_or_else(|| anyhow!("recording index {}: unknown input kind {}", rest[0].index, rest[0].kind))?;
            let n = rest.iter().take_while(|r| r.kind == rest[0].kind).count();
            let (run, tail) = rest.split_at(n);
            rest = tail;
            if let Some(prev) = last.filter(|p| *p != kind) {
                waiter.reset();
                while !rings.is_drained(prev) {
                    waiter.wait();
                }
            }
            last = Some(kind);
            match kind {
                InputKind::Signal => {
                    events(run, &mut sigs);
                    if !publish_signals(&mut rings.signals, &sigs, &mut pace, &control, &clock, &mut signals_waiter)? {
                        return Ok(());
                    }
                }
                InputKind::Control => {
                    events(run, &mut ctl);
                    rings.control.push_slice(&ctl, &mut waiter).map_err(gone)?;
                }
                InputKind::Policy => {
                    events(run, &mut pol);
                    rings.policies.push_slice(&pol, &mut waiter).map_err(gone)?;
                }
                InputKind::Rollup => {
                    events(run, &mut rol);
                    rings.rollups.push_slice(&rol, &mut waiter).map_err(gone)?;
                }
                InputKind::ExecReport => {
                    events(run, &mut exe);
                    let tx = rings.exec.as_mut().ok_or_else(|| {
                        anyhow!("the recording holds execution reports but this run has no exec-reports ring")
                    })?;
                    tx.push_slice(&exe, &mut waiter).map_err(gone)?;
                }
            }
        }
    }
    Ok(())
}

/// Drains the recording ring into `path` until the hot thread closes it,
/// then finishes the file with `dict`. Returns the records written.
pub fn record(
    mut rx: Consumer<RecordedInput>,
    path: PathBuf,
    dict: Dictionary,
    wait: WaitStrategy,
) -> anyhow::Result<u64> {
    let mut w = CaptureWriter::<RecordedInput>::create(&path)?;
    let mut waiter = Waiter::new(wait);
    let mut failed = None;
    loop {
        let n = rx.drain(4096, |b| {
            if failed.is_none() {
                if let Err(e) = w.push_all(b) {
                    failed = Some(e);
                }
            }
        });
        if let Some(e) = failed.take() {
            // Dropping the consumer makes the hot thread count the rest as lost.
            return Err(anyhow::Error::from(e).context("recording failed"));
        }
        if n > 0 {
            waiter.reset();
            continue;
        }
        if rx.is_finished() {
            break;
        }
        waiter.wait();
    }
    Ok(w.finish(&dict)?)
}

/// Opens the recording ring on `rings` and starts the recorder thread (on
/// `core`) that writes it to `path` with `dict`. Start-up only.
pub fn spawn_recorder(
    rings: &mut crate::pipeline::HotRings,
    capacity: usize,
    path: PathBuf,
    dict: Dictionary,
    core: Option<usize>,
    wait: WaitStrategy,
) -> anyhow::Result<thread::JoinHandle<anyhow::Result<u64>>> {
    let (tx, rx) = ringbuffers::channel("recording", capacity);
    rings.recording = Some(tx);
    thread::Builder::new()
        .name("te-record".into())
        .spawn(move || {
            crate::pinning::pin_current(core);
            record(rx, path, dict, wait)
        })
        .map_err(|e| anyhow!("spawning the recorder thread: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Signals with sequence numbers `0..n`, in batches.
    struct Numbered {
        next: u64,
        n: u64,
        buf: Vec<StrategySignal>,
    }

    impl SignalSource for Numbered {
        fn next_batch(&mut self, max: usize) -> &[StrategySignal] {
            let k = (max as u64).min(self.n - self.next) as usize;
            self.buf.clear();
            self.buf.extend((0..k as u64).map(|i| StrategySignal { seq: self.next + i, ..Default::default() }));
            self.next += k as u64;
            &self.buf
        }
    }

    #[test]
    fn a_feeder_sleeping_on_a_full_ring_delivers_every_signal_once_in_order() {
        let n = 300_000u64;
        let (tx, mut rx) = ringbuffers::channel::<StrategySignal>("signals", WaitStrategy::PARK_WHEN_RING_HOLDS);
        let stats = tx.stats().clone();
        let source = Numbered { next: 0, n, buf: Vec::new() };
        let feeder = thread::spawn(move || feed_signals(Box::new(source), tx, RunControl::default()));
        // a consumer slower than the feeder: the ring is full most of the time
        let mut expect = 0u64;
        loop {
            let got = rx.drain(4_096, |b| {
                for s in b {
                    assert_eq!(s.seq, expect, "signals lost, repeated or reordered");
                    expect += 1;
                }
            });
            if got == 0 && rx.is_finished() {
                break;
            }
            thread::sleep(Duration::from_micros(300));
        }
        feeder.join().expect("feeder thread").expect("feeder result");
        assert_eq!(expect, n);
        let snap = stats.snapshot();
        assert!(snap.stalls > 0, "the ring never filled: the test did not exercise the wait");
        assert_eq!((snap.pushed, snap.popped), (n, n));
    }
}
