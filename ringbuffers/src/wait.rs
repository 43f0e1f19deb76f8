//! Wait strategies for a thread that found its ring empty (consumer) or full
//! (producer). Only `BusySpin` is free of system calls; the others yield or
//! park and belong on cold threads.

use std::str::FromStr;
use std::time::Duration;

use crossbeam_utils::Backoff;

/// How a thread waits for its ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Spin with a CPU pause hint: lowest latency, burns its core. The hot thread's default.
    BusySpin,
    /// Spin with exponential backoff, then `yield` to the scheduler.
    SpinThenYield,
    /// Spin, then yield, then park for up to `park` at a time. For idle cold threads.
    SpinThenPark { park: Duration },
}

impl WaitStrategy {
    /// The default park time of `spin-then-park`.
    pub const DEFAULT_PARK: Duration = Duration::from_micros(100);

    /// Rings of at least this many slots let a cold producer that finds
    /// them full sleep ([`WaitStrategy::for_full_ring`]): at 25 M items/s
    /// (the hot thread's peak) they hold ~650 µs of its work, several
    /// [`WaitStrategy::DEFAULT_PARK`] periods with the timer's slack, so
    /// the consumer never finds them empty while the producer sleeps.
    pub const PARK_WHEN_RING_HOLDS: usize = 16_384;

    /// How a cold producer (a feeder, the ingress listener) waits while its
    /// ring of `capacity` slots is full: spin-then-park where the ring
    /// covers a park ([`WaitStrategy::PARK_WHEN_RING_HOLDS`]), else
    /// spin-then-yield. A saturated engine keeps its input ring full for a
    /// whole run, and yielding kept the producer's core in `sched_yield`
    /// throughout (`bench w2`: ~1.1 s of CPU for 10 M signals, against ~0.2
    /// s parked), the core that the journal and persistence threads share.
    pub fn for_full_ring(capacity: usize) -> Self {
        if capacity >= Self::PARK_WHEN_RING_HOLDS {
            WaitStrategy::SpinThenPark { park: Self::DEFAULT_PARK }
        } else {
            WaitStrategy::SpinThenYield
        }
    }

    /// The config spelling of this strategy.
    pub fn name(&self) -> &'static str {
        match self {
            WaitStrategy::BusySpin => "busy-spin",
            WaitStrategy::SpinThenYield => "spin-then-yield",
            WaitStrategy::SpinThenPark { .. } => "spin-then-park",
        }
    }
}

impl FromStr for WaitStrategy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "busy-spin" => Ok(WaitStrategy::BusySpin),
            "spin-then-yield" => Ok(WaitStrategy::SpinThenYield),
            "spin-then-park" => Ok(WaitStrategy::SpinThenPark { park: Self::DEFAULT_PARK }),
            other => {
                Err(format!("unknown wait strategy `{other}` (expected busy-spin, spin-then-yield or spin-then-park)"))
            }
        }
    }
}

/// The state of one waiting thread: call [`Waiter::wait`] each time there was
/// nothing to do and [`Waiter::reset`] after doing work.
#[derive(Debug)]
pub struct Waiter {
    strategy: WaitStrategy,
    backoff: Backoff,
}

impl Waiter {
    /// A waiter using `strategy`.
    pub fn new(strategy: WaitStrategy) -> Self {
        Self { strategy, backoff: Backoff::new() }
    }

    /// The strategy in use.
    pub fn strategy(&self) -> WaitStrategy {
        self.strategy
    }

    /// Waits a little, escalating while nothing happens.
    #[inline]
    pub fn wait(&mut self) {
        match self.strategy {
            WaitStrategy::BusySpin => core::hint::spin_loop(),
            WaitStrategy::SpinThenYield => self.backoff.snooze(),
            WaitStrategy::SpinThenPark { park } => {
                if self.backoff.is_completed() {
                    std::thread::park_timeout(park);
                } else {
                    self.backoff.snooze();
                }
            }
        }
    }

    /// Starts over from the cheapest wait (call after useful work).
    #[inline]
    pub fn reset(&mut self) {
        if !matches!(self.strategy, WaitStrategy::BusySpin) {
            self.backoff.reset();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_config_names() {
        for s in ["busy-spin", "spin-then-yield", "spin-then-park"] {
            assert_eq!(s.parse::<WaitStrategy>().unwrap().name(), s);
        }
        let e = "spin".parse::<WaitStrategy>().unwrap_err();
        assert!(e.contains("unknown wait strategy `spin`"), "{e}");
    }

    #[test]
    fn producers_sleep_on_full_rings_that_cover_a_park_and_yield_on_smaller_ones() {
        let parks = |c| matches!(WaitStrategy::for_full_ring(c), WaitStrategy::SpinThenPark { .. });
        assert!(parks(WaitStrategy::PARK_WHEN_RING_HOLDS));
        assert!(parks(65_536));
        assert!(!parks(WaitStrategy::PARK_WHEN_RING_HOLDS - 1));
        assert!(!parks(1_024));
    }

    #[test]
    fn park_waiter_returns() {
        let mut w = Waiter::new(WaitStrategy::SpinThenPark { park: Duration::from_micros(10) });
        for _ in 0..100 {
            w.wait();
        }
        w.reset();
    }
}
