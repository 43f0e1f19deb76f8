//! Live-mode routing: orders are in flight until the venue answers. A routed
//! BUY reserves the account's capacity and marks the symbol held at routing
//! time, so a burst of signals cannot over-fill an account before its fills
//! arrive; a reject or a cancel releases the reservation.

mod common;

use common::{active, Harness};
use tradeengine::hot::HotParams;
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
