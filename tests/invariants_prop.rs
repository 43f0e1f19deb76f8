//! Property tests over random signal streams (mixed with status changes and
//! foreign rollups): routing never takes an account beyond its
//! `maxOpenSymbols`, and every position equals the sum of its journaled fills.

mod common;

use std::collections::HashMap;

use common::{policy, Harness};
use proptest::prelude::*;
use tradeengine::hot::{HotParams, TieBreak};
use tradeengine_model::*;

#[derive(Clone, Debug)]
enum Input {
    Signal { buy: bool, symbol: u32, price_tick: u16 },
    Block(u32),
    Unblock(u32),
    ForeignUpsert { account: u32, symbol: u32, qty: u8 },
    ForeignDelete { account: u32, symbol: u32 },
}

fn input(accounts: u32, symbols: u32) -> impl Strategy<Value = Input> {
    prop_oneof![
        20 => (any::<bool>(), 0..symbols, 1u16..2000).prop_map(|(buy, symbol, price_tick)| Input::Signal { buy, symbol, price_tick }),
        1 => (0..accounts).prop_map(Input::Block),
        1 => (0..accounts).prop_map(Input::Unblock),
        1 => (0..accounts, 0..symbols, 1u8..5).prop_map(|(account, symbol, qty)| Input::ForeignUpsert { account, symbol, qty }),
        1 => (0..accounts, 0..symbols).prop_map(|(account, symbol)| Input::ForeignDelete { account, symbol }),
    ]
}

fn scenario() -> impl Strategy<Value = (Vec<u32>, u32, bool, bool, Vec<Input>)> {
    (1u32..6, 1u32..12).prop_flat_map(|(accounts, symbols)| {
        (
            proptest::collection::vec(1u32..5, accounts as usize),
            Just(symbols),
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(input(accounts, symbols), 1..400),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn capacity_and_positions_hold((max_open, symbols, scale_in, rr, inputs) in scenario()) {
        let policies: Vec<AccountPolicy> =
            max_open.iter().enumerate().map(|(i, &m)| policy(i as u32, AccountStatus::Active, m)).collect();
        let params = HotParams {
            symbols: symbols as usize,
            slots_per_account: *max_open.iter().max().unwrap() as usize,
            allow_scale_in: scale_in,
            tie_break: if rr { TieBreak::RoundRobin } else { TieBreak::LowestId },
            ..Default::default()
        };
        let mut h = Harness::new(params, &policies);
        // Positions rebuilt from the journal: fills, plus foreign rollups applied.
        let mut expect: HashMap<(u32, u32), f64> = HashMap::new();
        for (seq, inp) in inputs.iter().enumerate() {
            let seen = h.journal.len();
            let before: Vec<u32> = (0..max_open.len() as u32).map(|a| h.open_count(a)).collect();
            match *inp {
                Input::Signal { buy, symbol, price_tick } => {
                    let side = if buy { Side::Buy } else { Side::Sell };
                    h.send_full(StrategySignal {
                        seq: seq as u64, close: price_tick as f64 / 10.0, strength: 0.5, symbol, side: side as u8, ..Default::default()
                    });
                }
                Input::Block(a) => h.control(ControlOp::SetStatus, a, AccountStatus::Blocked as u8),
                Input::Unblock(a) => h.control(ControlOp::SetStatus, a, AccountStatus::Active as u8),
                Input::ForeignUpsert { account, symbol, qty } => h.rollup(RollupChange {
                    op: RollupOp::Upsert as u8, account, symbol, engine: 99, net_qty: qty as f64, avg_price: 10.0, ..Default::default()
                }),
                Input::ForeignDelete { account, symbol } => h.rollup(RollupChange {
                    op: RollupOp::Delete as u8, account, symbol, engine: 99, ..Default::default()
                }),
            }
            for ev in &h.journal[seen..] {
                if let Some(f) = ev.get::<Fill>() {
                    let q = expect.entry((f.account, f.symbol)).or_insert(0.0);
                    *q += if f.side == Side::Buy as u8 { f.qty } else { -f.qty };
                }
                if let Some(r) = ev.get::<RollupChange>() {
                    if r.engine == 99 {
                        expect.insert((r.account, r.symbol), r.net_qty);
                    }
                }
            }
            // Routing never takes an account above its maxOpenSymbols. (A
            // foreign rollup may: it reports a position that exists elsewhere,
            // and the book must reflect it.)
            if let Input::Signal { .. } = inp {
                for (a, &m) in max_open.iter().enumerate() {
                    let oc = h.open_count(a as u32);
                    prop_assert!(oc <= m.max(before[a]), "account {a} routed to {oc} > maxOpenSymbols {m}");
                }
            }
        }
        // The cold side's mirror (which derives the rollups of fast-lane
        // fills) holds exactly the engine's positions.
        prop_assert_eq!(h.expander.mismatched(), 0);
        prop_assert_eq!(h.expander.open_positions() as u64, h.engine.book().open_total());
        for a in 0..max_open.len() as u32 {
            for s in 0..symbols {
                let book = h.engine.book();
                let hot = book.find(a, s).map(|r| *book.get(r)).filter(|p| p.net_qty > 0.0);
                let cold = h.expander.position(a, s);
                prop_assert_eq!(
                    hot.map(|p| (p.net_qty, p.avg_price, p.realized_pnl)),
                    cold.map(|p| (p.net_qty, p.avg_price, p.realized_pnl)),
                    "({}, {}): hot book vs cold mirror", a, s
                );
                let want = expect.get(&(a, s)).copied().unwrap_or(0.0);
                prop_assert!((h.qty(a, s) - want).abs() < 1e-9, "({a},{s}): book {} vs fills {}", h.qty(a, s), want);
                prop_assert!(h.qty(a, s) >= 0.0);
            }
        }
        let c = h.engine.counters();
        prop_assert_eq!(c.routed_buy + c.routed_sell + c.dropped(), c.signals);
        prop_assert_eq!(h.engine.orders().live(), 0, "the inline venue leaves no order in flight");
    }
}
