//! The FIX adapter against a FIX engine nobody here wrote: the QuickFIX/J
//! example Executor (tools/fix/executor.sh), over loopback.
//!
//! - logon, heartbeats both ways, TestRequest answered by a Heartbeat;
//! - market order filled at DefaultMarketPrice, marketable limit filled in
//!   full, non-marketable limit acknowledged only, cancel answered with a
//!   BusinessMessageReject (the order stays live);
//! - a message lost on the way in (a proxy drops it): the gap is seen, a
//!   ResendRequest goes out, the Executor resends, nothing is missing;
//! - the Executor killed and restarted with a fresh store mid-session: the
//!   link reconnects, both sides reset their sequence numbers, the order that
//!   waited while it was down goes out exactly once.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringbuffers::{channel, Consumer, Producer, WaitStrategy, Waiter};
use tradeengine_adapters::fix::codec::{display, split_frame, FixMsg, Frame};
use tradeengine_adapters::fix::{FixApp, FixLink, LinkConfig, SeqStore, Session, SessionConfig};
use tradeengine_model::{ExecReport, ExecType, OrderRequest, OrderType, Side};

#[path = "../../tests/common/executor.rs"]
mod executor;
use executor::{free_port, Executor};

fn session(hb: u32) -> Session {
    Session::new(
        SessionConfig { sender: "TE".into(), target: "EXEC".into(), heartbeat_secs: hb, reset_on_logon: true },
        SeqStore::in_memory(),
    )
}

struct Rig {
    link: Option<FixLink>,
    orders: Producer<OrderRequest>,
    reports: Consumer<ExecReport>,
    got: Vec<ExecReport>,
}

impl Rig {
    fn start(addr: SocketAddr, hb: u32, seq_file: Option<&std::path::Path>) -> Rig {
        let (orders, orders_rx) = channel("orders", 1024);
        let (reports_tx, reports) = channel("exec", 1024);
        let mut s = session(hb);
        if let Some(p) = seq_file {
            s = Session::new(
                SessionConfig { sender: "TE".into(), target: "EXEC".into(), heartbeat_secs: hb, reset_on_logon: false },
                SeqStore::open(p).unwrap(),
            );
        }
        let app = FixApp::new(0, vec!["ACC-0".into(), "ACC-1".into()], vec!["AAA".into(), "BBB".into()]);
        let mut cfg = LinkConfig::new(addr);
        cfg.reconnect_min = Duration::from_millis(50);
        cfg.reconnect_max = Duration::from_millis(400);
        let link = FixLink::spawn(cfg, s, app, orders_rx, reports_tx, || {}).unwrap();
        Rig { link: Some(link), orders, reports, got: Vec::new() }
    }

    fn link(&self) -> &FixLink {
        self.link.as_ref().unwrap()
    }

    fn wait_active(&self) {
        let t0 = Instant::now();
        while !self.link().counters.is_active() {
            assert!(t0.elapsed() < Duration::from_secs(20), "no logon within 20 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn send(&mut self, o: OrderRequest) {
        let mut w = Waiter::new(WaitStrategy::SpinThenYield);
        self.orders.push_slice(&[o], &mut w).unwrap();
    }

    /// Waits until `pred` holds over the reports received so far.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&[ExecReport]) -> bool) {
        let t0 = Instant::now();
        loop {
            let got = &mut self.got;
            self.reports.drain(usize::MAX, |b| got.extend_from_slice(b));
            if pred(&self.got) {
                return;
            }
            assert!(t0.elapsed() < Duration::from_secs(20), "timed out waiting for {what}; got {:?}", self.got);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

fn order(id: u64, side: Side, ty: OrderType, qty: f64, price: f64) -> OrderRequest {
    OrderRequest {
        action: OrderRequest::NEW,
        side: side as u8,
        order_type: ty as u8,
        account: 1,
        symbol: 1,
        order_id: id,
        qty,
        price,
        ..Default::default()
    }
}

fn of(got: &[ExecReport], id: u64, t: ExecType) -> Vec<ExecReport> {
    got.iter().filter(|r| r.order_id == id && r.exec_type() == Some(t)).copied().collect()
}

#[test]
fn orders_fills_limits_and_cancel_reject() {
    let ex = Executor::start("orders");
    let mut rig = Rig::start(ex.addr(), 30, None);
    rig.wait_active();
    rig.send(order(1, Side::Buy, OrderType::Market, 100.0, 0.0));
    rig.send(order(2, Side::Buy, OrderType::Limit, 5.0, 13.0)); // marketable: 12.30 <= 13
    rig.send(order(3, Side::Buy, OrderType::Limit, 7.0, 10.0)); // not marketable
    rig.wait_for("fills of 1 and 2 and the ack of 3", |g| {
        of(g, 1, ExecType::Fill).len() == 1 && of(g, 2, ExecType::Fill).len() == 1 && of(g, 3, ExecType::Ack).len() == 1
    });
    let f1 = of(&rig.got, 1, ExecType::Fill)[0];
    assert_eq!((f1.last_qty, f1.last_px, f1.cum_qty, f1.symbol), (100.0, 12.3, 100.0, 1));
    let f2 = of(&rig.got, 2, ExecType::Fill)[0];
    assert_eq!((f2.last_qty, f2.last_px), (5.0, 12.3), "a marketable limit fills in full at the market");
    assert_eq!(of(&rig.got, 1, ExecType::Ack).len(), 1, "each order is acknowledged first");
    assert!(f1.recv > 0, "reports carry their arrival stamp");
    // Cancel the resting order: the Executor does not support cancels and
    // answers with a BusinessMessageReject; the order stays live.
    rig.send(OrderRequest { action: OrderRequest::CANCEL, ..order(3, Side::Buy, OrderType::Limit, 7.0, 10.0) });
    let t0 = Instant::now();
    let report = loop {
        let msgs = ex.messages();
        if msgs.iter().any(|m| m.contains("|35=j|")) {
            break msgs;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no BusinessMessageReject");
        std::thread::sleep(Duration::from_millis(20));
    };
    let bmr = report.iter().find(|m| m.contains("|35=j|")).unwrap();
    assert!(bmr.contains("|372=F|") && bmr.contains("|380=3|"), "{bmr}");
    let nos = report.iter().filter(|m| m.contains("|35=D|")).count();
    assert_eq!(nos, 3, "three NewOrderSingles reached the Executor");
    assert!(report.iter().any(|m| m.contains("|35=D|") && m.contains("|11=TE0-1|") && m.contains("|40=1|")));
    let link_report = rig.link.take().unwrap().stop().unwrap();
    assert_eq!(link_report.app.cancel_rejects, 1);
    assert_eq!(link_report.app.business_rejects, 1);
    assert!(of(&rig.got, 3, ExecType::Rejected).is_empty() && of(&rig.got, 3, ExecType::Cancelled).is_empty());
    assert!(ex.messages().iter().any(|m| m.contains("|35=5|")), "a clean logout on stop");
}

#[test]
fn logon_heartbeats_and_test_request() {
    let ex = Executor::start("hb");
    // The session over a plain blocking socket: logon with HeartBtInt=1.
    let mut s = TcpStream::connect(ex.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    let mut sess = session(1);
    sess.on_connected(now_ns());
    let mut buf = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let t0 = Instant::now();
    let mut asked = None;
    let mut answered = false;
    while t0.elapsed() < Duration::from_millis(3500) {
        s.write_all(sess.outbound()).unwrap();
        let n = sess.outbound().len();
        sess.consumed(n);
        let mut chunk = [0u8; 4096];
        if let Ok(k) = s.read(&mut chunk) {
            buf.extend_from_slice(&chunk[..k]);
        }
        while let Frame::Message(k) = split_frame(&buf) {
            let m = FixMsg::parse(&buf[..k]).unwrap();
            seen.push(display(m.bytes()));
            assert_eq!(
                sess.on_message(&m, now_ns(), &mut |_| {}),
                tradeengine_adapters::fix::session::Action::Continue
            );
            buf.drain(..k);
        }
        assert_eq!(sess.on_timer(now_ns()), tradeengine_adapters::fix::session::Action::Continue);
        if asked.is_none() && sess.state() == tradeengine_adapters::fix::session::State::Active {
            asked = Some(sess.test_request(now_ns()));
        }
        if asked.is_some() && !sess.test_request_pending() {
            answered = true;
        }
    }
    let id = asked.expect("logged on");
    assert!(seen.iter().any(|m| m.contains("|35=A|") && m.contains("|108=1|")), "logon answered: {seen:?}");
    assert!(answered, "TestRequest {id} answered");
    assert!(seen.iter().any(|m| m.contains("|35=0|") && m.contains(&format!("|112={id}|"))), "{seen:?}");
    let heartbeats = seen.iter().filter(|m| m.contains("|35=0|") && !m.contains("|112=")).count();
    assert!(heartbeats >= 2, "the Executor heartbeats every second: {seen:?}");
    assert!(sess.stats().heartbeats_sent >= 2, "and so do we");
}

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// A loopback proxy engine ⇄ Executor that can drop one message coming from
/// the Executor (the `drop_nth` whole FIX message, counting from 1).
fn proxy(upstream: SocketAddr, drop_nth: Arc<AtomicUsize>, stop: Arc<AtomicBool>) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        l.set_nonblocking(true).unwrap();
        while !stop.load(Ordering::Relaxed) {
            let Ok((down, _)) = l.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            let Ok(up) = TcpStream::connect(upstream) else { continue };
            let (mut d2, mut u2) = (down.try_clone().unwrap(), up.try_clone().unwrap());
            let (mut down, mut up) = (down, up);
            std::thread::spawn(move || {
                let mut b = [0u8; 4096];
                while let Ok(n) = d2.read(&mut b) {
                    if n == 0 || u2.write_all(&b[..n]).is_err() {
                        break;
                    }
                }
                let _ = u2.shutdown(std::net::Shutdown::Both);
            });
            let drop_nth = drop_nth.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut count = 0;
                let mut b = [0u8; 4096];
                while let Ok(n) = up.read(&mut b) {
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&b[..n]);
                    while let Frame::Message(k) = split_frame(&buf) {
                        count += 1;
                        if count != drop_nth.load(Ordering::Relaxed) && down.write_all(&buf[..k]).is_err() {
                            return;
                        }
                        buf.drain(..k);
                    }
                }
                let _ = down.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    addr
}

#[test]
fn a_lost_message_is_resent_after_a_resend_request() {
    let ex = Executor::start("gap");
    let stop = Arc::new(AtomicBool::new(false));
    // Message 1 is the Logon; drop message 2 (the first order's ack).
    let addr = proxy(ex.addr(), Arc::new(AtomicUsize::new(2)), stop.clone());
    let mut rig = Rig::start(addr, 30, None);
    rig.wait_active();
    rig.send(order(11, Side::Buy, OrderType::Market, 1.0, 0.0));
    rig.wait_for("the fill of 11, after the resend", |g| {
        of(g, 11, ExecType::Fill).len() == 1 && of(g, 11, ExecType::Ack).len() == 1
    });
    rig.send(order(12, Side::Sell, OrderType::Market, 1.0, 0.0));
    rig.wait_for("order 12 filled in sequence", |g| of(g, 12, ExecType::Fill).len() == 1);
    let report = rig.link.take().unwrap().stop().unwrap();
    assert_eq!(report.session.resend_requests_sent, 1, "one ResendRequest for the gap");
    let msgs = ex.messages();
    assert!(msgs.iter().any(|m| m.contains("|35=2|") && m.contains("|7=2|")), "the Executor got ResendRequest from 2");
    assert!(msgs.iter().any(|m| m.contains("|35=8|") && m.contains("|43=Y|")), "and resent with PossDupFlag");
    stop.store(true, Ordering::Relaxed);
}

#[test]
fn counterparty_killed_and_restarted_mid_session() {
    let port = free_port();
    let ex = Executor::start_on(port, "restart-a");
    let seq_file = std::env::temp_dir().join(format!("te-fix-restart-{}/TE-EXEC.seq", std::process::id()));
    let _ = std::fs::remove_file(&seq_file);
    let mut rig = Rig::start(ex.addr(), 30, Some(&seq_file));
    rig.wait_active();
    rig.send(order(21, Side::Buy, OrderType::Market, 2.0, 0.0));
    rig.wait_for("fill of 21", |g| of(g, 21, ExecType::Fill).len() == 1);
    let before = ex.messages();
    ex.stop();
    drop(ex);
    let t0 = Instant::now();
    while rig.link().counters.is_active() {
        assert!(t0.elapsed() < Duration::from_secs(10), "the link never saw the Executor go");
        std::thread::sleep(Duration::from_millis(5));
    }
    // An order while the venue is down waits in the ring.
    rig.send(order(22, Side::Buy, OrderType::Market, 3.0, 0.0));
    std::thread::sleep(Duration::from_millis(300));
    let ex2 = Executor::start_on(port, "restart-b");
    rig.wait_for("fill of 22 after the restart", |g| of(g, 22, ExecType::Fill).len() == 1);
    std::thread::sleep(Duration::from_millis(300));
    let c = &rig.link().counters;
    assert!(c.connects.load(Ordering::Relaxed) >= 2 && c.logons.load(Ordering::Relaxed) >= 2);
    let after = ex2.messages();
    let nos = |ms: &[String], id: &str| ms.iter().filter(|m| m.contains("|35=D|") && m.contains(id)).count();
    assert_eq!(nos(&before, "|11=TE0-21|"), 1);
    assert_eq!(nos(&after, "|11=TE0-21|"), 0, "the filled order is never sent again");
    assert_eq!(nos(&after, "|11=TE0-22|"), 1, "the waiting order goes out exactly once");
    assert_eq!(of(&rig.got, 21, ExecType::Fill).len() + of(&rig.got, 22, ExecType::Fill).len(), 2);
    assert!(after.iter().any(|m| m.contains("|35=A|") && m.contains("|141=Y|")), "sequence numbers were reset");
    rig.link.take().unwrap().stop();
}
