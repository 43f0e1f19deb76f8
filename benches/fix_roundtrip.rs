//! FIX figures (`cargo bench --bench fix_roundtrip`; starts its own
//! QuickFIX/J Executor with tools/fix/executor.sh):
//! - engine side: an order request taken from the ring becomes NewOrderSingle
//!   bytes (application mapping + session header + framing), per order;
//! - round trip: order pushed on the orders ring → FIX link → Executor (JVM)
//!   → fill ExecutionReport back on the exec ring, one order at a time over
//!   loopback. This is dominated by the JVM peer.
//!
//! Prints p50/p99/p99.9/max in nanoseconds.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use ringbuffers::{channel, WaitStrategy, Waiter};
use tradeengine_adapters::fix::{FixApp, FixLink, LinkConfig, SeqStore, Session, SessionConfig};
use tradeengine_model::{ExecType, OrderRequest, OrderType, Side};

#[path = "../tests/common/executor.rs"]
#[allow(dead_code)]
mod executor;

fn line(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<40} n={:>7} p50={:>9} p99={:>9} p99.9={:>9} max={:>9}",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn order(id: u64) -> OrderRequest {
    OrderRequest {
        action: OrderRequest::NEW,
        side: if id % 2 == 0 { Side::Buy } else { Side::Sell } as u8,
        order_type: OrderType::Market as u8,
        account: 0,
        symbol: (id % 2) as u32,
        order_id: id,
        qty: 100.0,
        price: 12.3,
        ..Default::default()
    }
}

fn session() -> Session {
    Session::new(
        SessionConfig { sender: "TE".into(), target: "EXEC".into(), heartbeat_secs: 30, reset_on_logon: true },
        SeqStore::in_memory(),
    )
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick" || a == "--test");
    let clock = quanta::Clock::new();

    // 1. Engine side: order → NewOrderSingle bytes.
    let app = FixApp::new(0, vec!["ACC-0000".into()], vec!["AAA".into(), "BBB".into()]);
    let mut s = session();
    // Log on against a scripted peer so the session is active.
    s.on_connected(0);
    let logon = {
        let mut b = tradeengine_adapters::fix::codec::MsgBuilder::new();
        b.begin("A").str(49, "EXEC").str(56, "TE").u64(34, 1).time(52, 0).u64(98, 0).u64(108, 30).char(141, b'Y');
        b.finish().unwrap().to_vec()
    };
    let m = tradeengine_adapters::fix::codec::FixMsg::parse(&logon).unwrap();
    s.on_message(&m, 0, &mut |_| {});
    let n = if quick { 20_000 } else { 200_000 };
    let mut enc = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    for i in 0..n + n / 10 {
        let o = order(i + 1);
        let t0 = clock.raw();
        let now = 1_700_000_000_000_000_000 + i;
        let seq = s.send_app(FixApp::msg_type(&o), now, |b| app.encode(&o, now, b));
        let dt = clock.delta_as_nanos(t0, clock.raw());
        let len = s.outbound().len();
        s.consumed(len);
        assert!(seq.is_some());
        if i >= n / 10 {
            let _ = enc.record(dt.max(1));
        }
    }
    line("order -> NewOrderSingle bytes (ns)", &enc);

    // 2. Round trip through the Executor.
    let ex = executor::Executor::start("bench");
    let (mut orders_tx, orders_rx) = channel("orders", 1024);
    let (reports_tx, mut reports_rx) = channel("exec", 1024);
    let link =
        FixLink::spawn(LinkConfig::new(ex.addr()), session(), app_for_link(), orders_rx, reports_tx, || {}).unwrap();
    let t0 = Instant::now();
    while !link.counters.is_active() {
        assert!(t0.elapsed() < Duration::from_secs(30), "no logon");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (warm, meas) = if quick { (200, 1_000) } else { (2_000, 10_000) };
    let mut rt = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
    let mut w = Waiter::new(WaitStrategy::BusySpin);
    for i in 0..warm + meas {
        let id = 1_000_000 + i;
        let t0 = clock.raw();
        orders_tx.push_slice(&[order(id)], &mut w).unwrap();
        let mut done = false;
        let started = Instant::now();
        while !done {
            reports_rx.drain(usize::MAX, |b| {
                done |= b.iter().any(|r| r.order_id == id && r.exec_type() == Some(ExecType::Fill));
            });
            assert!(started.elapsed() < Duration::from_secs(10), "no fill for order {id}");
        }
        if i >= warm {
            let _ = rt.record(clock.delta_as_nanos(t0, clock.raw()).max(1));
        }
    }
    line("NOS -> fill ExecutionReport via Executor (ns)", &rt);
    link.stop();
}

fn app_for_link() -> FixApp {
    FixApp::new(0, vec!["ACC-0000".into()], vec!["AAA".into(), "BBB".into()])
}
