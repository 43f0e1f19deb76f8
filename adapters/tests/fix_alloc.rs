//! The FIX codec, session and application mapping allocate nothing per
//! message after start-up: a counting global allocator watches a loop that
//! encodes orders (NewOrderSingle and cancels) through the session, and
//! frames, parses and maps execution reports, heartbeats, rejects and
//! garbage coming back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tradeengine_adapters::fix::codec::{split_frame, FixMsg, Frame, MsgBuilder};
use tradeengine_adapters::fix::{FixApp, SeqStore, Session, SessionConfig};
use tradeengine_model::{OrderRequest, OrderType, Side};

struct Counting;
static ON: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn peer(b: &mut MsgBuilder, msg_type: &str, seq: u64, body: impl FnOnce(&mut MsgBuilder)) -> Vec<u8> {
    b.begin(msg_type).str(49, "EXEC").str(56, "TE").u64(34, seq).time(52, 1_700_000_000_000_000_000);
    body(b);
    b.finish().unwrap().to_vec()
}

#[test]
fn codec_session_and_mapping_allocate_nothing_per_message() {
    // Start-up: everything allocated here is allowed.
    let cfg = SessionConfig { sender: "TE".into(), target: "EXEC".into(), heartbeat_secs: 30, reset_on_logon: true };
    let mut s = Session::new(cfg, SeqStore::in_memory());
    let mut app = FixApp::new(0, vec!["ACC-0000".into()], vec!["AAA".into(), "BBB".into()]);
    let mut b = MsgBuilder::new();
    s.on_connected(0);
    let logon = peer(&mut b, "A", 1, |b| {
        b.u64(98, 0).u64(108, 30).char(141, b'Y');
    });
    s.on_message(&FixMsg::parse(&logon).unwrap(), 0, &mut |_| {});
    let n = s.outbound().len();
    s.consumed(n);
    // The inbound stream, prepared before counting: reports, a heartbeat,
    // a BusinessMessageReject, garbage and a bad checksum, over and over.
    let mut inbound = Vec::new();
    let mut seq = 2;
    for i in 0..500u64 {
        let id = i + 1;
        inbound.extend(peer(&mut b, "8", seq, |b| {
            b.str(11, &format!("TE0-{id}")).char(39, b'0').char(54, b'1').str(55, "AAA");
        }));
        inbound.extend(peer(&mut b, "8", seq + 1, |b| {
            b.str(11, &format!("TE0-{id}"))
                .char(39, b'2')
                .char(54, b'1')
                .str(55, "AAA")
                .f64(32, 5.0)
                .f64(31, 12.3)
                .f64(14, 5.0);
        }));
        inbound.extend(peer(&mut b, "0", seq + 2, |_| {}));
        inbound.extend(peer(&mut b, "j", seq + 3, |b| {
            b.u64(45, 3 + 2 * i).str(372, "F").u64(380, 3); // our cancel of order i + 1
        }));
        inbound.extend_from_slice(b"junk\x01");
        let mut bad = peer(&mut b, "0", 99_999, |_| {});
        let k = bad.len() - 2;
        bad[k] = if bad[k] == b'0' { b'1' } else { b'0' };
        inbound.extend(bad);
        seq += 4;
    }
    let mut reports = Vec::with_capacity(4096);

    // The counter itself sees allocations.
    ON.store(true, Ordering::SeqCst);
    drop(std::hint::black_box(Vec::<u8>::with_capacity(16)));
    ON.store(false, Ordering::SeqCst);
    assert_eq!(COUNT.swap(0, Ordering::SeqCst), 1, "the counting allocator must see an allocation");

    ON.store(true, Ordering::SeqCst);
    let mut now = 1_700_000_000_000_000_000u64;
    for i in 0..500u64 {
        // Out: a new order and a cancel through the session.
        for action in [OrderRequest::NEW, OrderRequest::CANCEL] {
            let o = OrderRequest {
                action,
                side: Side::Buy as u8,
                order_type: if i % 2 == 0 { OrderType::Market } else { OrderType::Limit } as u8,
                account: 0,
                symbol: (i % 2) as u32,
                order_id: i + 1,
                qty: 5.0,
                price: 12.25,
                ..Default::default()
            };
            let seq = s.send_app(FixApp::msg_type(&o), now, |b| app.encode(&o, now, b)).unwrap();
            app.sent(seq, &o);
        }
        let n = s.outbound().len();
        s.consumed(n);
        now += 1_000_000;
    }
    // In: frame, parse, session, mapping.
    let mut off = 0;
    while off < inbound.len() {
        match split_frame(&inbound[off..]) {
            Frame::Incomplete => break,
            Frame::Skip(k, _) => off += k,
            Frame::Message(k) => {
                if let Ok(m) = FixMsg::parse(&inbound[off..off + k]) {
                    s.on_message(&m, now, &mut |am| {
                        if let Some(r) = app.decode(am, 0, now) {
                            reports.push(r);
                        }
                    });
                }
                off += k;
            }
        }
    }
    let n = s.outbound().len();
    s.consumed(n);
    ON.store(false, Ordering::SeqCst);

    assert_eq!(COUNT.load(Ordering::SeqCst), 0, "the FIX path allocated per message");
    assert_eq!(app.stats().new_orders, 500);
    assert_eq!(app.stats().acks + app.stats().fills, 1000, "{:?}", app.stats());
    assert_eq!(app.stats().cancel_rejects, 500);
    assert_eq!(reports.len(), 1000);
}
