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
use tradeengine_model::{AccountPolicy, RollupChange, RollupOp};

use crate::config::FlussSection;

/// Opens the Fluss store of `[fluss]` for engine `engine_id` (tables created
/// if missing), with its write timeout.
pub fn open_store(f: &FlussSection, names: Names, engine_id: u32) -> anyhow::Result<FlussStore> {
    let mut s = FlussStore::open(&f.bootstrap_servers, &f.database, names, engine_id)?;
    s.set_write_timeout(Duration::from_secs(f.write_timeout_secs.max(1)));
    Ok(s)
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
            FlussClient::connect(&f.bootstrap_servers, &f.database, Duration::from_secs(30))
                .map_err(|e| anyhow::anyhow!("changelog follower: {e}"))
        };
        let (rc, pc) = (connect()?, connect()?);
        let mut threads = Vec::new();
        let s = stop.clone();
        let acc = accounts.clone();
        threads.push(std::thread::Builder::new().name("te-follow-pos".into()).spawn(move || {
            let mut rep = FollowReport::default();
            let mut waiter = Waiter::new(WaitStrategy::SpinThenPark { park: WaitStrategy::DEFAULT_PARK });
            rc.follow("open_positions_rollup", from.rollups, POLL, &s, |kind, row| {
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
            pc.follow("account_policy", from.policies, POLL, &s, |kind, row| {
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
