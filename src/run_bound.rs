//! What bounded a throughput run: the hot thread, the journal side or the
//! feeder, read from the counters the rings and the hot loop keep anyway.
//! Cold path, after a run: `bench w1` prints it on stderr beside its result
//! line, so that a rate is not taken for the engine's when the harness around
//! it was the limit.

use std::fmt;

use ringbuffers::RingSnapshot;

use crate::hot::LoopStats;

/// Which side of the pipeline held the rate down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunBound {
    /// The hot thread was behind: the feeder found the signals ring full and
    /// the journal never pushed back. The rate is the engine's.
    HotThread,
    /// The journal ring was full: the hot thread waited on the journal
    /// consumer, so the rate understates the engine.
    Journal,
    /// The signals ring never filled: the feeder could not keep the hot
    /// thread busy, so the rate understates the engine.
    Feeder,
}

impl RunBound {
    /// Reads the bound from the ring counters: a journal that pushed back
    /// comes first (it stalls the hot thread itself), then a signals ring
    /// the feeder found full.
    pub fn of(signals: &RingSnapshot, journal: &RingSnapshot) -> Self {
        if journal.stalls > 0 {
            RunBound::Journal
        } else if signals.stalls > 0 {
            RunBound::HotThread
        } else {
            RunBound::Feeder
        }
    }
}

impl fmt::Display for RunBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunBound::HotThread => "hot-thread",
            RunBound::Journal => "journal",
            RunBound::Feeder => "feeder",
        })
    }
}

/// The stderr line of a throughput run: the hot loop's turns, each ring's
/// producer stalls and deepest fill, and the bound they imply, as
/// `key=value` fields after `tradeengine: pipeline`.
pub fn pipeline_line(stats: &LoopStats, signals: &RingSnapshot, journal: &RingSnapshot) -> String {
    format!(
        "tradeengine: pipeline busy_turns={} idle_turns={} signals_full={} signals_high_water={}/{} \
         journal_full={} journal_high_water={}/{} bound={}",
        stats.busy_turns,
        stats.idle_turns,
        signals.stalls,
        signals.high_water,
        signals.capacity,
        journal.stalls,
        journal.high_water,
        journal.capacity,
        RunBound::of(signals, journal)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(capacity: u64, stalls: u64, high_water: u64) -> RingSnapshot {
        RingSnapshot { capacity, pushed: 1000, popped: 1000, stalls, high_water }
    }

    #[test]
    fn the_bound_follows_the_stalls() {
        assert_eq!(RunBound::of(&ring(64, 10, 64), &ring(256, 0, 40)), RunBound::HotThread);
        assert_eq!(RunBound::of(&ring(64, 10, 64), &ring(256, 3, 256)), RunBound::Journal);
        assert_eq!(RunBound::of(&ring(64, 0, 12), &ring(256, 0, 40)), RunBound::Feeder);
        assert_eq!(RunBound::of(&ring(64, 0, 12), &ring(256, 1, 256)), RunBound::Journal);
    }

    #[test]
    fn the_line_carries_every_counter() {
        let stats = LoopStats { busy_turns: 39_063, idle_turns: 17_308 };
        let line = pipeline_line(&stats, &ring(65_536, 36_422, 65_280), &ring(262_144, 0, 38_912));
        assert_eq!(
            line,
            "tradeengine: pipeline busy_turns=39063 idle_turns=17308 signals_full=36422 \
             signals_high_water=65280/65536 journal_full=0 journal_high_water=38912/262144 bound=hot-thread"
        );
    }
}
