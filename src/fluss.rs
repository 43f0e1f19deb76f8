//! The engine's side of Apache Fluss (`--features fluss`), cold path only:
//! opening the store as `[fluss]` configures it, and the changelog follower
//! that feeds changes made elsewhere back to the hot thread.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ringbuffers::{Producer, WaitStrategy, Waiter};
use tradeengine_adapters::store::Names;
use tradeengine_fluss::{
    policy_from_row, rollup_from_row, FlussClient, FlussStore, FollowFrom, OwnPolicyWrites, Value,
};
use tradeengine_model::{AccountPolicy, RollupChange, RollupOp, Side, StrategySignal};

use crate::config::{Config, FlussSection};
use crate::pipeline::{SideFeed, SideFeedStop};

/// Opens the Fluss store of `[fluss]` for this engine (`[engine] id`; tables
/// created if missing), with its write timeout and, when `[partition]`
/// splits the accounts, this engine's slice of `names.accounts`.
pub fn open_store(cfg: &Config, names: Names) -> anyhow::Result<FlussStore> {
    let f = &cfg.fluss;
    let owned = cfg.partition.owned(&names.accounts);
    let mut s = FlussStore::open(&f.bootstrap_servers, &f.database, names, cfg.engine.id)?;
    s.set_write_timeout(Duration::from_secs(f.write_timeout_secs.max(1)));
    if let Some(owned) = owned {
        s.set_owned_accounts(owned);
    }
    Ok(s)
}

/// How summaries and errors name the Fluss store `f`.
pub fn store_name(f: &FlussSection) -> String {
    format!("fluss {} database {}", f.bootstrap_servers, f.database)
}

/// The changelog follower as a side feed of the hot thread's rollup and
/// policy rings, when `cfg` follows the changelogs (see
/// [`Config::follows_changelog`]); it starts from the offsets `store` took
/// at open. Its stop gives the summary line.
pub fn changelog_feed(cfg: &Config, store: &FlussStore, names: &Names) -> Option<SideFeed> {
    if !cfg.follows_changelog() {
        return None;
    }
    let (f, from, own, names, id) =
        (cfg.fluss.clone(), store.follow_from(), store.own_policy_writes(), names.clone(), cfg.engine.id);
    Some(Box::new(move |rollups, policies| {
        let follower = Follower::start(&f, from, own, &names, id, rollups, policies)?;
        Ok(Box::new(move || Ok(follower.finish()?.to_string())) as SideFeedStop)
    }))
}

/// What a changelog follower did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowReport {
    /// Position changes made elsewhere, forwarded to the hot thread.
    pub rollups: u64,
    /// Account policy changes made elsewhere, forwarded.
    pub policies: u64,
    /// Changes recognised as this engine's own, not applied again.
    pub own: u64,
    /// Rows naming an account or symbol this engine does not know.
    pub unknown: u64,
}

impl std::fmt::Display for FollowReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "changelog: {} position and {} policy changes from elsewhere applied, {} own skipped, {} unknown",
            self.rollups, self.policies, self.own, self.unknown
        )
    }
}

/// A running changelog follower: stop it with [`Follower::finish`].
pub struct Follower {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<anyhow::Result<FollowReport>>>,
}

impl Follower {
    /// Starts two cold threads following the `open_positions_rollup` and
    /// `account_policy` changelogs from the offsets the store took at open
    /// ([`FlussStore::follow_from`]), and
    /// forwarding every change made by anyone else (another engine, a manual
    /// correction) to the hot thread's rollup and policy rings. This engine's
    /// own changes are recognised (its engine id on positions; the rows its
    /// store wrote for policies, `own`) and skipped. A full ring is back-pressure.
    pub fn start(
        f: &FlussSection,
        from: FollowFrom,
        own: OwnPolicyWrites,
        names: &Names,
        engine_id: u32,
        mut rollups: Producer<RollupChange>,
        mut policies: Producer<AccountPolicy>,
    ) -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let index = |v: &[String]| v.iter().enumerate().map(|(k, n)| (n.clone(), k as u32)).collect::<HashMap<_, _>>();
        let (accounts, symbols) = (index(&names.accounts), index(&names.symbols));
        let id = |m: &HashMap<String, u32>, v: &Value| match v {
            Value::Text(s) => m.get(&**s).copied(),
            _ => None,
        };
        let connect = || {
            FlussClient::connect_follower(&f.bootstrap_servers, &f.database, Duration::from_secs(30))
                .map_err(|e| anyhow::anyhow!("changelog follower: {e}"))
        };
        let (rc, pc) = (connect()?, connect()?);
        let mut threads = Vec::new();
        let s = stop.clone();
        let acc = accounts.clone();
        threads.push(std::thread::Builder::new().name("te-follow-pos".into()).spawn(move || {
            let mut rep = FollowReport::default();
            let mut waiter = Waiter::new(WaitStrategy::SpinThenPark { park: WaitStrategy::DEFAULT_PARK });
            rc.follow("open_positions_rollup", from.rollups, POLL, &s, |_, kind, row| {
                let op = match kind {
                    "UpdateBefore" => return true,
                    "Delete" => RollupOp::Delete,
                    _ => RollupOp::Upsert,
                };
                let (Some(a), Some(sym)) = (id(&acc, &row[0]), id(&symbols, &row[1])) else {
                    rep.unknown += 1;
                    return true;
                };
                let ev = rollup_from_row(&row, a, sym, op);
                if ev.engine == engine_id {
                    rep.own += 1;
                    return true;
                }
                rep.rollups += 1;
                rollups.push_slice(&[ev], &mut waiter).is_ok()
            })?;
            Ok(rep)
        })?);
        let s = stop.clone();
        threads.push(std::thread::Builder::new().name("te-follow-pol".into()).spawn(move || {
            let mut rep = FollowReport::default();
            let mut waiter = Waiter::new(WaitStrategy::SpinThenPark { park: WaitStrategy::DEFAULT_PARK });
            pc.follow("account_policy", from.policies, POLL, &s, |_, kind, row| {
                if kind == "UpdateBefore" || kind == "Delete" {
                    return true;
                }
                let Some(a) = id(&accounts, &row[0]) else {
                    rep.unknown += 1;
                    return true;
                };
                if own.lock().unwrap_or_else(|e| e.into_inner()).get(&row[0].to_csv()) == Some(&row) {
                    rep.own += 1;
                    return true;
                }
                rep.policies += 1;
                let (p, _) = policy_from_row(&row, a);
                policies.push_slice(&[p], &mut waiter).is_ok()
            })?;
            Ok(rep)
        })?);
        Ok(Self { stop, threads })
    }

    /// Stops the follower threads and sums what they did.
    pub fn finish(self) -> anyhow::Result<FollowReport> {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = FollowReport::default();
        for t in self.threads {
            let r = t.join().map_err(|_| anyhow::anyhow!("a changelog follower panicked"))??;
            total.rollups += r.rollups;
            total.policies += r.policies;
            total.own += r.own;
            total.unknown += r.unknown;
        }
        Ok(total)
    }
}

/// How long a follower's poll waits for new changes.
const POLL: Duration = Duration::from_millis(50);

/// What the signal log follower did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalLogReport {
    /// Signals taken into the engine.
    pub taken: u64,
    /// Signals of symbols another engine takes (`[partition]`).
    pub others: u64,
    /// Rows refused (unknown symbol, bad side or price), each reported.
    pub refused: u64,
}

/// Live signals from the Fluss log table `strategy_signals` (`[live] input
/// = "fluss"`): a cold thread follows the log from offset `from` and pushes
/// each row into the hot thread's signal ring with input sequence = the
/// row's log offset, so a restart resumes exactly after the checkpoint.
pub struct SignalLog {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<(Producer<StrategySignal>, SignalLogReport)>>,
}

impl SignalLog {
    /// Starts following; `take` says, by symbol id, which symbols this engine
    /// takes (`None`: all of them; see `PartitionSection::owned`).
    pub fn start(
        f: &FlussSection,
        symbols: &[String],
        take: Option<Vec<bool>>,
        from: u64,
        mut tx: Producer<StrategySignal>,
    ) -> anyhow::Result<Self> {
        let client = FlussClient::connect_follower(&f.bootstrap_servers, &f.database, Duration::from_secs(30))
            .map_err(|e| anyhow::anyhow!("signal log: {e}"))?;
        client.ensure_schema().map_err(|e| anyhow::anyhow!("signal log: {e}"))?;
        let ids: HashMap<String, u32> = symbols.iter().enumerate().map(|(k, s)| (s.clone(), k as u32)).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::Builder::new().name("te-signal-log".into()).spawn(move || {
            let clock = quanta::Clock::new();
            let mut waiter = Waiter::new(WaitStrategy::SpinThenPark { park: WaitStrategy::DEFAULT_PARK });
            let mut rep = SignalLogReport::default();
            let mut runs: HashMap<String, u16> = HashMap::new();
            let mut ring_open = true;
            let followed = client.follow("strategy_signals", from as i64, POLL, &s, |offset, _, row| {
                let seq = offset as u64;
                match signal_from_row(&row, &ids, &mut runs) {
                    Ok(sig) if take.as_ref().is_none_or(|t| t.get(sig.symbol as usize).copied().unwrap_or(false)) => {
                        rep.taken += 1;
                        let sig = StrategySignal { seq, ingress: clock.raw(), ..sig };
                        ring_open = tx.push_slice(&[sig], &mut waiter).is_ok();
                    }
                    Ok(_) => rep.others += 1,
                    Err(e) => {
                        rep.refused += 1;
                        eprintln!("tradeengine: strategy_signals offset {seq}: {e} (row refused)");
                    }
                }
                ring_open
            });
            if let Err(e) = followed {
                // Said now, not only at the end of the run: no signal comes in after it.
                eprintln!("tradeengine: the signal log stopped: {e}");
                return Err(e.into());
            }
            Ok((tx, rep))
        })?;
        Ok(Self { stop, thread })
    }

    /// Stops following and hands the signal ring back still open (answers to
    /// orders in flight must still reach the hot thread).
    pub fn stop_keep_ring(self) -> anyhow::Result<(Producer<StrategySignal>, SignalLogReport)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().map_err(|_| anyhow::anyhow!("the signal log follower panicked"))?
    }
}

/// A `strategy_signals` row as a signal (seq and stamp left 0), checked:
/// a traded symbol, BUY or SELL, a positive finite close, a strength in
/// [0, 1]. Run ids are interned in `runs`.
fn signal_from_row(
    row: &tradeengine_fluss::Row,
    symbols: &HashMap<String, u32>,
    runs: &mut HashMap<String, u16>,
) -> Result<StrategySignal, String> {
    let text = |k: usize| match &row[k] {
        Value::Text(s) => Ok(s.to_string()),
        _ => Err(format!("column {k} is empty")),
    };
    let real = |k: usize, name: &str| match row[k] {
        Value::Real(x) if x.is_finite() => Ok(x),
        _ => Err(format!("{name} is not a finite number")),
    };
    let symbol_name = text(1)?;
    let symbol =
        *symbols.get(&symbol_name).ok_or_else(|| format!("symbol `{symbol_name}` is not traded (live.symbols)"))?;
    let side = match text(6)?.to_ascii_uppercase().as_str() {
        "BUY" => Side::Buy,
        "SELL" => Side::Sell,
        other => return Err(format!("side `{other}` is not BUY or SELL")),
    };
    let close = real(3, "close")?;
    if close <= 0.0 {
        return Err(format!("close {close} is not positive"));
    }
    let strength = real(7, "strength")?;
    if !(0.0..=1.0).contains(&strength) {
        return Err(format!("strength {strength} is outside [0, 1]"));
    }
    let ts_event = match row[2] {
        Value::Int(t) if t >= 0 => t as u64,
        _ => return Err("ts_event is not a non-negative integer".into()),
    };
    let run = text(0)?;
    let n = runs.len();
    let strategy = match runs.get(&run) {
        Some(&id) => id,
        None => {
            let id = u16::try_from(n).map_err(|_| "too many run ids".to_string())?;
            runs.insert(run, id);
            id
        }
    };
    Ok(StrategySignal {
        ts_event,
        close,
        sma5: real(4, "sma5")?,
        sma21: real(5, "sma21")?,
        strength,
        symbol,
        strategy,
        side: side as u8,
        ..Default::default()
    })
}
