//! Live-mode routing: orders are in flight until the venue answers. A routed
//! BUY reserves the account's capacity and marks the symbol held at routing
//! time, so a burst of signals cannot over-fill an account before its fills
//! arrive; a reject or a cancel releases the reservation.

mod common;

use common::{active, Harness};
use tradeengine::hot::{HotEngine, HotParams, JournalOut, RingVenue};
use tradeengine_model::*;

fn answer(h: &mut Harness, d: &TradeSignal, t: ExecType) {
    h.exec(ExecReport {
        exec_type: t as u8,
        side: d.side,
        account: d.account,
        symbol: d.symbol,
        order_id: d.order_id,
        last_qty: if t == ExecType::Fill { d.qty } else { 0.0 },
        last_px: d.price,
        cum_qty: if t == ExecType::Fill { d.qty } else { 0.0 },
        ..Default::default()
    });
}

#[test]
fn a_burst_cannot_over_fill_and_rejects_release() {
    // Two accounts of 2 symbols each; no answers yet.
    let params = HotParams { symbols: 64, slots_per_account: 2, allow_scale_in: false, ..Default::default() };
    let mut h = Harness::live(params, &active(2, 2));
    let burst: Vec<TradeSignal> = (0..6).map(|s| h.buy(s, 10.0)).collect();
    let routed: Vec<&TradeSignal> = burst.iter().filter(|d| d.is_routed()).collect();
    assert_eq!(routed.len(), 4, "2 accounts × 2 symbols, whatever the fills have not yet said");
    assert!(burst[4..].iter().all(|d| d.outcome() == Outcome::NoEligibleAccount));
    for a in 0..2 {
        assert_eq!(routed.iter().filter(|d| d.account == a).count(), 2);
    }
    assert_eq!(h.engine.orders().live(), 4, "all four are in flight");
    // The same symbol again: held (by reservation) already, no scale-in: dropped.
    assert_eq!(h.buy(0, 10.0).outcome(), Outcome::NoEligibleAccount);

    // A reject frees its slot: the next BUY is routed to that account.
    let first = *routed[0];
    answer(&mut h, &first, ExecType::Ack);
    answer(&mut h, &first, ExecType::Rejected);
    assert_eq!(h.engine.orders().live(), 3);
    let again = h.buy(7, 10.0);
    assert!(again.is_routed() && again.account == first.account, "{again:?}");

    // A cancel frees too.
    let second = *routed[1];
    answer(&mut h, &second, ExecType::Cancelled);
    let d = h.buy(8, 10.0);
    assert!(d.is_routed() && d.account == second.account, "{d:?}");

    // Fills make positions; the account stays at capacity.
    for d in [*routed[2], *routed[3], again, d] {
        answer(&mut h, &d, ExecType::Fill);
    }
    assert_eq!(h.engine.orders().live(), 0);
    assert_eq!(h.engine.open_positions(), 4);
    assert_eq!(h.buy(9, 10.0).outcome(), Outcome::NoEligibleAccount, "every slot holds a filled position");
    // A SELL while its BUY is still in flight has nothing to close yet.
    let mut h2 = Harness::live(HotParams { symbols: 8, slots_per_account: 2, ..Default::default() }, &active(1, 2));
    let b = h2.buy(3, 10.0);
    assert!(b.is_routed());
    assert_eq!(h2.sell(3, 11.0).outcome(), Outcome::CloseInFlight);
    answer(&mut h2, &b, ExecType::Fill);
    assert!(h2.sell(3, 11.0).is_routed());
}

#[test]
fn the_last_order_of_a_batch_leaves_before_its_upkeep_which_still_happens() {
    let (orders_tx, mut orders_rx) = ringbuffers::channel::<OrderRequest>("orders", 64);
    let (journal_tx, mut journal_rx) = ringbuffers::channel::<JournalEvent>("journal", 1024);
    let params = HotParams { symbols: 64, slots_per_account: 2, ..Default::default() };
    let mut e = HotEngine::new(params, &active(2, 2), RingVenue::new(orders_tx, 64), JournalOut::new(journal_tx, 64));
    let buy = |seq: u64, symbol: u32| StrategySignal {
        seq,
        symbol,
        close: 10.0,
        strength: 0.5,
        side: Side::Buy as u8,
        ..Default::default()
    };
    let mut out: Vec<OrderRequest> = Vec::new();
    e.on_signal(&buy(0, 1));
    assert_eq!(orders_rx.drain(usize::MAX, |b| out.extend_from_slice(b)), 0, "staged until a flush");
    e.on_signal_and_publish(&buy(1, 2));
    orders_rx.drain(usize::MAX, |b| out.extend_from_slice(b));
    assert_eq!(out.iter().map(|o| (o.seq, o.account, o.symbol)).collect::<Vec<_>>(), vec![(0, 0, 1), (1, 1, 2)]);
    // the upkeep after the publish: both orders tracked, both slots reserved
    assert_eq!(e.orders().live(), 2);
    assert_eq!((e.book().open_count(0), e.book().open_count(1)), (1, 1));
    assert_eq!(e.accounts()[1].open_orders, 1);
    // a third BUY of symbol 2 sees the reservation: account 1 holds it already
    e.on_signal_and_publish(&buy(2, 2));
    orders_rx.drain(usize::MAX, |b| out.extend_from_slice(b));
    assert_eq!((out[2].account, out[2].symbol), (0, 2));
    e.flush();
    let mut decisions = Vec::new();
    journal_rx.drain(usize::MAX, |b| decisions.extend(b.iter().filter_map(|r| r.get::<TradeSignal>().copied())));
    assert_eq!(
        decisions.iter().map(|d| (d.seq, d.account, d.is_routed())).collect::<Vec<_>>(),
        vec![(0, 0, true), (1, 1, true), (2, 0, true)]
    );
}
