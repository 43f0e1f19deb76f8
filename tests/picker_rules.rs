//! TradePicker, sizing, risk and position rules, through the real hot engine
//! with the inline simulated venue and a real journal ring.

mod common;

use common::{active, policy, Harness};
use tradeengine::cold::{JournalExpander, JournalSummary};
use tradeengine::hot::{HotEngine, HotParams, JournalOut, SizingModel, SizingParams, TieBreak};
use tradeengine_adapters::feeds::{Workload, WorkloadKind};
use tradeengine_adapters::venue::{ExecBatch, SimVenue, Venue};
use tradeengine_model::*;

#[test]
fn buy_goes_to_least_loaded_non_holder_lowest_id() {
    let mut h = Harness::with_accounts(3, 5);
    let d = h.buy(0, 100.0);
    assert_eq!((d.account, d.route()), (0, Route::Open));
    // account 0 now holds symbol 0 and has 1 open: the next BUY of 0 goes to 1.
    assert_eq!(h.buy(0, 100.0).account, 1);
    // symbol 1: accounts 0 and 1 have one open each, account 2 none → 2.
    assert_eq!(h.buy(1, 50.0).account, 2);
    // symbol 2: all have one open; lowest id wins.
    assert_eq!(h.buy(2, 50.0).account, 0);
}

#[test]
fn capacity_limit_is_respected() {
    let mut h = Harness::new(
        HotParams { symbols: 16, slots_per_account: 4, allow_scale_in: false, ..Default::default() },
        &[policy(0, AccountStatus::Active, 2), policy(1, AccountStatus::Active, 1)],
    );
    assert_eq!(h.buy(0, 10.0).account, 0);
    assert_eq!(h.buy(1, 10.0).account, 1);
    assert_eq!(h.buy(2, 10.0).account, 0);
    // account 0 is at 2/2 and account 1 at 1/1: nobody has capacity.
    let d = h.buy(3, 10.0);
    assert_eq!(d.outcome(), Outcome::NoEligibleAccount);
    assert_eq!(d.account, NO_ACCOUNT);
    assert_eq!((h.open_count(0), h.open_count(1)), (2, 1));
    // Closing frees the slot at once.
    assert_eq!(h.sell(2, 11.0).account, 0);
    assert_eq!(h.buy(3, 10.0).account, 0);
}

#[test]
fn a_full_position_book_drops_new_positions_until_one_closes() {
    // capacity.positions = 2: two accounts with free slots, but only two
    // positions may be open at once in all.
    let mut h = Harness::new(
        HotParams { symbols: 16, slots_per_account: 4, position_pool: 2, allow_scale_in: true, ..Default::default() },
        &active(2, 4),
    );
    assert_eq!(h.buy(0, 10.0).account, 0);
    assert_eq!(h.buy(1, 10.0).account, 1);
    let d = h.buy(2, 10.0);
    assert_eq!((d.outcome(), d.account), (Outcome::PositionPoolFull, 0));
    assert_eq!((h.open_count(0), h.qty(0, 2)), (1, 0.0), "nothing reserved for the dropped BUY");
    // a close frees room at once, and the book keeps the other position intact
    assert_eq!(h.sell(0, 12.0).account, 0);
    assert_eq!(h.buy(2, 10.0).account, 0);
    assert_eq!((h.qty(0, 2), h.qty(1, 1), h.qty(0, 0)), (1.0, 1.0, 0.0));
}

#[test]
fn scale_in_on_and_off() {
    // Two accounts with one slot each, both used: a BUY of a held symbol.
    for scale_in in [true, false] {
        let mut h = Harness::new(
            HotParams { symbols: 8, slots_per_account: 1, allow_scale_in: scale_in, ..Default::default() },
            &active(2, 1),
        );
        assert_eq!(h.buy(5, 10.0).account, 0);
        assert_eq!(h.buy(6, 10.0).account, 1);
        let d = h.buy(6, 12.0);
        if scale_in {
            assert_eq!((d.account, d.route(), d.outcome()), (1, Route::ScaleIn, Outcome::Routed));
            assert_eq!(h.qty(1, 6), 2.0);
            assert_eq!(h.open_count(1), 1, "scale-in uses no new slot");
        } else {
            assert_eq!(d.outcome(), Outcome::NoEligibleAccount);
            assert_eq!(h.qty(1, 6), 1.0);
        }
        // A symbol nobody holds cannot scale in either way.
        assert_eq!(h.buy(7, 10.0).outcome(), Outcome::NoEligibleAccount);
    }
}

#[test]
fn scale_in_prefers_least_loaded_holder() {
    let mut h = Harness::new(HotParams { symbols: 8, slots_per_account: 3, ..Default::default() }, &active(3, 3));
    // Give every account symbol 0, then load accounts 0 and 1 more than 2.
    for _ in 0..3 {
        h.buy(0, 10.0);
    }
    h.buy(1, 10.0); // → 0 (all at 1, lowest id)
    h.buy(2, 10.0); // → 1
    h.buy(3, 10.0); // → 2
    h.buy(4, 10.0); // → 0 (3/3)
    h.buy(5, 10.0); // → 1 (3/3)
    h.buy(6, 10.0); // → 2 (3/3): everyone full
    assert_eq!((h.open_count(0), h.open_count(1), h.open_count(2)), (3, 3, 3));
    h.sell(6, 10.0); // account 2 back to 2/3, still holds 0
                     // A BUY of 0: account 2 has capacity but holds 0; scale-in picks the least
                     // loaded holder, account 2.
    let d = h.buy(0, 10.0);
    assert_eq!((d.account, d.route()), (2, Route::ScaleIn));
}

#[test]
fn round_robin_tie_break_rotates() {
    let mut h = Harness::new(
        HotParams { symbols: 32, slots_per_account: 10, tie_break: TieBreak::RoundRobin, ..Default::default() },
        &active(3, 10),
    );
    let picks: Vec<u32> = (0..6).map(|s| h.buy(s, 10.0).account).collect();
    assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    // Lowest-id would have given 0,1,2,0,1,2 too (equal loads); unequal loads
    // still win over rotation:
    h.sell(0, 10.0); // account 0 back to 1 open
    assert_eq!(h.buy(10, 10.0).account, 0, "least open count beats the rotation");
    let mut lo = Harness::with_accounts(3, 10);
    lo.buy(0, 1.0);
    lo.sell(0, 1.0);
    // lowest-id: with all flat again, account 0 is chosen again; round-robin moves on.
    assert_eq!(lo.buy(1, 1.0).account, 0);
    let mut rr = Harness::new(
        HotParams { symbols: 32, slots_per_account: 10, tie_break: TieBreak::RoundRobin, ..Default::default() },
        &active(3, 10),
    );
    rr.buy(0, 1.0);
    rr.sell(0, 1.0);
    assert_eq!(rr.buy(1, 1.0).account, 1);
}

#[test]
fn blocked_account_cannot_buy_but_can_sell() {
    let mut h = Harness::new(
        HotParams { symbols: 8, slots_per_account: 5, ..Default::default() },
        &[policy(0, AccountStatus::Active, 5), policy(1, AccountStatus::Active, 5)],
    );
    assert_eq!(h.buy(3, 20.0).account, 0);
    // Block account 0 through a policy update; account 1 is now the only buyer.
    h.policy(policy(0, AccountStatus::Blocked, 5));
    assert_eq!(h.buy(4, 20.0).account, 1);
    assert_eq!(h.buy(4, 20.0).account, 1, "scale-in never goes to a BLOCKED holder");
    // Block account 1 too: BUYs drop, the SELL of 3 still closes account 0's position.
    h.control(ControlOp::SetStatus, 1, AccountStatus::Blocked as u8);
    assert_eq!(h.buy(5, 20.0).outcome(), Outcome::NoEligibleAccount);
    let d = h.sell(3, 25.0);
    assert_eq!((d.account, d.outcome(), d.route()), (0, Outcome::Routed, Route::Close));
    assert_eq!(h.qty(0, 3), 0.0);
    assert_eq!(h.engine.accounts()[0].realized_pnl, 5.0);
}

#[test]
fn sell_goes_to_lowest_id_holder_and_closes_all() {
    let mut h = Harness::with_accounts(3, 5);
    h.buy(9, 10.0); // → 0
    h.buy(9, 10.0); // → 1
    h.buy(9, 10.0); // → 2
    let d = h.sell(9, 12.0);
    assert_eq!((d.account, d.qty), (0, 1.0));
    assert_eq!(h.sell(9, 12.0).account, 1);
    assert_eq!(h.sell(9, 12.0).account, 2);
    assert_eq!(h.sell(9, 12.0).outcome(), Outcome::NoHolder);
}

#[test]
fn rollup_open_closed_open_with_avg_price_and_pnl() {
    let mut h = Harness::new(HotParams { symbols: 8, slots_per_account: 1, ..Default::default() }, &active(1, 1));
    h.buy(2, 100.0);
    h.buy(2, 110.0); // scale-in (one slot)
    h.buy(2, 90.0);
    assert_eq!(h.qty(0, 2), 3.0);
    let p = *h.engine.book().get(h.engine.book().find(0, 2).unwrap());
    let avg2 = (100.0 * 1.0 + 110.0) / 2.0;
    assert_eq!(p.avg_price, (avg2 * 2.0 + 90.0) / 3.0);
    h.sell(2, 120.0);
    assert_eq!(h.engine.book().find(0, 2), None, "CLOSED position frees its slot");
    h.buy(2, 50.0);
    let rollups = h.records::<RollupChange>();
    let ops: Vec<RollupOp> = rollups.iter().map(|r| r.op()).collect();
    assert_eq!(ops, vec![RollupOp::Upsert, RollupOp::Upsert, RollupOp::Upsert, RollupOp::Delete, RollupOp::Upsert]);
    assert_eq!(rollups[2].net_qty, 3.0);
    assert_eq!(rollups[3].net_qty, 0.0);
    let pnl = (120.0 - p.avg_price) * 3.0;
    assert_eq!(rollups[3].realized_pnl, pnl);
    assert_eq!(h.engine.accounts()[0].realized_pnl, pnl);
    assert_eq!((rollups[4].net_qty, rollups[4].avg_price, rollups[4].realized_pnl), (1.0, 50.0, 0.0));
    assert!(rollups.iter().all(|r| r.engine == 0 && r.symbol == 2 && r.account == 0));
    // Fills mirror the orders.
    let fills = h.records::<Fill>();
    assert_eq!(fills.len(), 5);
    assert!(fills.iter().all(|f| f.order_state == OrderState::Filled as u8));
    assert_eq!(fills[3].qty, 3.0);
}

#[test]
fn sizing_model_from_volatility() {
    let sizing = SizingParams {
        model: SizingModel::Volatility,
        lot_size: 5.0,
        min_qty: 5.0,
        max_qty: 500.0,
        risk_fraction: 0.001,
        ..Default::default()
    };
    let mut h =
        Harness::new(HotParams { symbols: 4, slots_per_account: 4, sizing, ..Default::default() }, &active(1, 4));
    // Warm up a volatile symbol with SELLs that drop (nobody holds it).
    for i in 0..100 {
        h.sell(1, if i % 2 == 0 { 100.0 } else { 110.0 });
    }
    let strong = h.send_full(StrategySignal {
        seq: 1000,
        close: 100.0,
        strength: 1.0,
        symbol: 1,
        side: 1,
        ..Default::default()
    });
    assert_eq!(strong.outcome(), Outcome::Routed);
    assert!(strong.qty >= 5.0 && strong.qty <= 500.0 && strong.qty % 5.0 == 0.0, "{}", strong.qty);
    let weak = h.send_full(StrategySignal {
        seq: 1001,
        close: 100.0,
        strength: 0.0001,
        symbol: 1,
        side: 1,
        ..Default::default()
    });
    assert_eq!(weak.outcome(), Outcome::ZeroQty);
    // A quiet symbol (floor volatility) is capped at max_qty.
    let capped = h.send_full(StrategySignal {
        seq: 1002,
        close: 100.0,
        strength: 1.0,
        symbol: 2,
        side: 1,
        ..Default::default()
    });
    assert_eq!(capped.qty, 500.0);
}

#[test]
fn pre_trade_risk_rejects_are_journaled() {
    let mut p = policy(0, AccountStatus::Active, 5);
    p.max_order_qty = 10.0;
    p.max_order_notional = 1_000.0;
    p.max_capital_usage = 0.002; // 2,000 of 1,000,000
    let mut h = Harness::new(HotParams { symbols: 8, slots_per_account: 5, ..Default::default() }, &[p]);
    assert_eq!(h.buy(0, 900.0).outcome(), Outcome::Routed);
    assert_eq!(h.buy(1, 2_000.0).outcome(), Outcome::MaxOrderNotional);
    assert_eq!(h.buy(2, 900.0).outcome(), Outcome::Routed);
    let d = h.buy(3, 900.0);
    assert_eq!((d.outcome(), d.account), (Outcome::CapitalUsage, 0));
    assert_eq!(h.open_count(0), 2, "a rejected BUY reserves nothing");
    let risk = h.records::<RiskEvent>();
    assert_eq!(risk.len(), 2);
    assert_eq!(risk[1].rule, Outcome::CapitalUsage as u8);
    assert_eq!((risk[1].value, risk[1].limit), (2_700.0, 2_000.0));
    h.control(ControlOp::KillAccount, 0, 0);
    assert_eq!(h.sell(0, 900.0).outcome(), Outcome::AccountKilled);
    h.control(ControlOp::ReleaseAccount, 0, 0);
    h.control(ControlOp::KillAll, 0, 0);
    assert_eq!(h.sell(0, 900.0).outcome(), Outcome::KillSwitch);
    h.control(ControlOp::ReleaseAll, 0, 0);
    assert_eq!(h.sell(0, 900.0).outcome(), Outcome::Routed);
    assert_eq!(h.engine.counters().dropped(), 4);
}

#[test]
fn bad_signals_are_dropped_not_panics() {
    let mut h = Harness::with_accounts(2, 5);
    let cases = [
        (StrategySignal { seq: 1, close: f64::NAN, side: 1, ..Default::default() }, Outcome::InvalidSignal),
        (StrategySignal { seq: 2, close: -3.0, side: 1, ..Default::default() }, Outcome::InvalidSignal),
        (StrategySignal { seq: 3, close: 10.0, side: 9, ..Default::default() }, Outcome::InvalidSignal),
        (
            StrategySignal { seq: 4, close: 10.0, side: 1, symbol: 1_000_000, ..Default::default() },
            Outcome::UnknownSymbol,
        ),
        (StrategySignal { seq: u64::MAX, close: 10.0, side: 1, ..Default::default() }, Outcome::InvalidSignal),
    ];
    for (sig, want) in cases {
        assert_eq!(h.send_full(sig).outcome(), want, "{sig:?}");
    }
    assert_eq!(h.engine.counters().dropped_by[Outcome::InvalidSignal as usize], 4);
}

#[test]
fn foreign_rollups_update_the_picker_and_own_ones_are_skipped() {
    let mut h = Harness::with_accounts(2, 2);
    // Another engine says account 0 holds symbol 4: it now has one open, so the
    // next BUY goes to the less loaded account 1.
    h.rollup(RollupChange {
        op: RollupOp::Upsert as u8,
        account: 0,
        symbol: 4,
        engine: 7,
        net_qty: 3.0,
        avg_price: 10.0,
        ..Default::default()
    });
    assert_eq!(h.open_count(0), 1);
    assert_eq!(h.buy(5, 10.0).account, 1);
    assert_eq!(h.sell(4, 12.0).account, 0, "the foreign position can be closed here");
    assert_eq!(h.engine.accounts()[0].realized_pnl, 6.0);
    // Our own change coming back is skipped.
    h.rollup(RollupChange {
        op: RollupOp::Upsert as u8,
        account: 0,
        symbol: 6,
        engine: 0,
        net_qty: 3.0,
        ..Default::default()
    });
    assert_eq!(h.engine.book().find(0, 6), None);
    assert_eq!(h.engine.counters().rollups_own, 1);
    // A foreign DELETE frees the slot.
    h.rollup(RollupChange {
        op: RollupOp::Upsert as u8,
        account: 1,
        symbol: 2,
        engine: 7,
        net_qty: 1.0,
        avg_price: 5.0,
        ..Default::default()
    });
    h.rollup(RollupChange { op: RollupOp::Delete as u8, account: 1, symbol: 2, engine: 7, ..Default::default() });
    assert_eq!(h.engine.book().find(1, 2), None);
    // Out-of-range ids are refused, not a panic.
    h.rollup(RollupChange {
        op: RollupOp::Upsert as u8,
        account: 99,
        symbol: 2,
        engine: 7,
        net_qty: 1.0,
        ..Default::default()
    });
    assert_eq!(h.engine.counters().rollups_invalid, 1);
}

#[test]
fn exec_reports_for_unknown_orders_are_counted() {
    let mut h = Harness::with_accounts(1, 2);
    h.engine.on_exec(&ExecReport {
        exec_type: ExecType::Fill as u8,
        order_id: 12345,
        last_qty: 1.0,
        last_px: 1.0,
        ..Default::default()
    });
    h.engine.on_exec(&ExecReport { exec_type: 99, order_id: 1, ..Default::default() });
    assert_eq!(h.engine.counters().exec_unknown, 1);
    assert_eq!(h.engine.counters().exec_invalid, 1);
    assert_eq!(h.engine.book().open_total(), 0);
}

/// The simulated venue without its fast lane: every fill comes back as an
/// execution report from `submit`.
struct ReportsOnly(SimVenue);

impl Venue for ReportsOnly {
    fn submit(&mut self, o: &OrderRequest, out: &mut ExecBatch) {
        self.0.submit(o, out)
    }
}

fn run_w1<V: Venue>(venue: V, signals: &[StrategySignal], w: &Workload) -> (HotEngine<V>, Vec<JournalEvent>) {
    let (tx, mut rx) = ringbuffers::channel("journal", 1 << 12);
    let params =
        HotParams { symbols: w.symbols as usize, slots_per_account: w.max_open_symbols as usize, ..Default::default() };
    let mut e = HotEngine::new(params, &w.account_policies(), venue, JournalOut::new(tx, 256));
    let mut journal = Vec::new();
    for chunk in signals.chunks(100) {
        chunk.iter().for_each(|s| e.on_signal(s));
        e.flush();
        rx.drain(usize::MAX, |b| journal.extend_from_slice(b));
    }
    (e, journal)
}

#[test]
fn the_venues_fast_lane_and_its_execution_reports_give_the_same_run() {
    // W1's 500 symbols, and the same signals spread over 12,000: 1.5 MB of
    // holder bits, more than the caches hold, where the holders are kept in
    // lists and the look-aheads run.
    for symbols in [500, 12_000] {
        fast_lane_and_reports_agree(symbols);
    }
}

fn fast_lane_and_reports_agree(symbols: u32) {
    let mut w = Workload::new(WorkloadKind::W1, 30_000, 42);
    let mut signals = vec![StrategySignal::default(); 30_000];
    w.generator().fill(&mut signals);
    if symbols != w.symbols {
        for s in &mut signals {
            s.symbol = (s.symbol * 24 + (s.seq % 24) as u32) % symbols;
        }
        w.symbols = symbols;
    }
    let (fast, fast_journal) = run_w1(SimVenue::new(), &signals, &w);
    let (reports, reports_journal) = run_w1(ReportsOnly(SimVenue::new()), &signals, &w);
    assert_eq!(fast.venue().fills(), fast.counters().fills, "every fill took the fast lane");
    assert!(fast.counters().fills > 20_000 && fast.counters().dropped() > 0, "{:?}", fast.counters());
    assert_eq!(fast.counters(), reports.counters());
    assert_eq!((fast.open_positions(), fast.checksum()), (reports.open_positions(), reports.checksum()));
    assert_eq!(fast.orders().live(), 0);
    // The fast lane takes each position straight to its end state; the
    // reports path reserves, then applies the fill: the same state, bit for
    // bit (capital in use, realized P&L, every position and its slot).
    assert!(fast.accounts().iter().eq(reports.accounts().iter()), "account state differs");
    for a in 0..w.accounts {
        assert!(fast.book().positions_of(a).eq(reports.book().positions_of(a)), "positions of account {a}");
    }
    // The fast lane journals one record per decision (a routed one as a
    // TradeFilled); the reports path its decision, fill and rollup.
    let count = |j: &[JournalEvent], k: JournalKind| j.iter().filter(|e| e.kind() == Some(k)).count() as u64;
    let c = fast.counters();
    assert_eq!(count(&fast_journal, JournalKind::TradeFilled), c.fills);
    assert_eq!(count(&fast_journal, JournalKind::TradeSignal), c.signals - c.fills);
    assert_eq!(count(&fast_journal, JournalKind::Fill) + count(&fast_journal, JournalKind::RollupChange), 0);
    assert_eq!(count(&reports_journal, JournalKind::Fill), c.fills);
    assert_eq!(count(&reports_journal, JournalKind::TradeFilled), 0);
    // Expanded as the cold side does, the fast lane's journal is the reports
    // path's, byte for byte; the reports path's passes through unchanged.
    let mut x = JournalExpander::new(0);
    let mut expanded = Vec::new();
    x.expand_into(&fast_journal, &mut expanded);
    assert_eq!(x.mismatched(), 0);
    assert_eq!(x.open_positions() as u64, fast.open_positions());
    assert_eq!(expanded.len(), reports_journal.len());
    assert!(expanded == reports_journal, "the expanded journal differs");
    let mut same = Vec::new();
    JournalExpander::new(0).expand_into(&reports_journal, &mut same);
    assert!(same == reports_journal);
    // The summary (what `bench w1` checks) counts a TradeFilled as the three records it stands for.
    let summary = |j: &[JournalEvent]| {
        let mut s = JournalSummary::default();
        j.iter().for_each(|e| s.add(e));
        s
    };
    assert_eq!(summary(&fast_journal), summary(&reports_journal));
    assert_eq!(summary(&fast_journal).records, reports_journal.len() as u64);
}
