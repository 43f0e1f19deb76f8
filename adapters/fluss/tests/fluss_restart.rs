//! A commit cut short after its primary-key rows landed but before its
//! checkpoint (an engine killed, or stopped by a cluster that went silent,
//! whose last writes the servers applied afterwards): on restart the start
//! state is the checkpoint's — this engine's own rows past the commit's
//! marker are left out (the replayed inputs write them again), while other
//! engines' rows written meanwhile are kept. A finished commit's rows are
//! all start state.

use std::time::Duration;

use tradeengine_adapters::store::{CommitBatch, Names, Store};
use tradeengine_fluss::{FlussClient, FlussStore, Value};
use tradeengine_model::{JournalEvent, RollupChange, RollupOp};

#[path = "../../../tests/common/fluss.rs"]
mod fluss;
use fluss::Cluster;

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

/// An `open_positions_rollup` row of `account` in AAA.
fn position(account: &str, net: f64, engine: i64, seq: i64) -> Vec<Value> {
    let r = Value::Real;
    vec![
        t(account),
        t("AAA"),
        r(net),
        r(10.0),
        r(0.0),
        r(11.0),
        Value::Int(engine),
        Value::Int(seq),
        Value::Int(seq * 10),
    ]
}

/// (id, value) pairs: (account, net quantity) or (symbol, mark).
type Pairs = Vec<(u32, f64)>;

/// The start state's checkpoint, positions (account, net quantity; sorted)
/// and marks.
fn positions(s: &mut FlussStore) -> (Option<u64>, Pairs, Pairs) {
    let st = s.restart_state().unwrap();
    let mut p: Vec<(u32, f64)> = st.positions.iter().map(|r| (r.account, r.net_qty)).collect();
    p.sort_by_key(|x| x.0);
    (st.checkpoint, p, st.marks)
}

#[test]
fn a_commit_cut_short_restarts_from_the_checkpoints_state() {
    let cluster = Cluster::start("restart");
    let names = Names { accounts: vec!["ACC-0".into(), "ACC-1".into()], symbols: vec!["AAA".into()] };
    let open = || FlussStore::open(&cluster.bootstrap, "cut", names.clone(), 1).unwrap();

    // A finished commit through input 5: ACC-0 holds 1 AAA, mark 10.
    let mut s = open();
    let rc = RollupChange {
        op: RollupOp::Upsert as u8,
        account: 0,
        symbol: 0,
        net_qty: 1.0,
        avg_price: 10.0,
        last_price: 10.0,
        engine: 1,
        seq: 5,
        ts_event: 50,
        ..Default::default()
    };
    let recs = [JournalEvent::from(rc)];
    s.commit(&CommitBatch { records: &recs, through: 5, last_ts: 50, marks: &[(0, 10.0)], ..Default::default() })
        .unwrap();
    drop(s);

    // What a commit through 9 leaves when it dies before its checkpoint: its
    // marker, then its own rows (ACC-0 now 2, mark 11); meanwhile engine 2
    // writes a position of its account ACC-1.
    let mut c = FlussClient::connect(&cluster.bootstrap, "cut", Duration::from_secs(30)).unwrap();
    let marker = format!(
        "open_positions_rollup={};symbol_marks={}",
        c.end_offset("open_positions_rollup").unwrap(),
        c.end_offset("symbol_marks").unwrap()
    );
    c.upsert("engine_pending", &[vec![Value::Int(1), Value::Int(9), t(&marker)]], false).unwrap();
    c.upsert("open_positions_rollup", &[position("ACC-0", 2.0, 1, 8)], false).unwrap();
    c.upsert("symbol_marks", &[vec![t("AAA"), Value::Real(11.0)]], false).unwrap();
    c.upsert("open_positions_rollup", &[position("ACC-1", 3.0, 2, 7)], false).unwrap();

    // Restart: the checkpoint's own state, plus the other engine's row.
    let (checkpoint, held, marks) = positions(&mut open());
    assert_eq!(checkpoint, Some(5));
    assert_eq!(held, vec![(0, 1.0), (1, 3.0)], "own rows as of the checkpoint, the other engine's as written");
    assert_eq!(marks, vec![(0, 10.0)]);

    // Once a commit through 9 finishes (its checkpoint written), everything counts.
    let mut s = open();
    s.commit(&CommitBatch { records: &[], through: 9, last_ts: 90, ..Default::default() }).unwrap();
    drop(s);
    let (checkpoint, held, marks) = positions(&mut open());
    assert_eq!(checkpoint, Some(9));
    assert_eq!(held, vec![(0, 2.0), (1, 3.0)]);
    assert_eq!(marks, vec![(0, 11.0)]);
}
