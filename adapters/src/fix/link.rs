//! The FIX adapter thread: one TCP connection to the venue (mio, non-blocking),
//! the session and application layers, and the two rings to the hot thread
//! (orders in, execution reports out). Cold path: it runs on a cold core and
//! never touches the hot thread's state.
//!
//! - Connects, logs on, and reconnects with exponential backoff when the
//!   connection drops or the logon fails. Orders wait in the orders ring while
//!   the session is down (a full ring is back-pressure to the hot thread).
//! - Reads until the socket would block, frames and validates messages (bad
//!   frames are skipped and counted by kind), and publishes the resulting
//!   execution reports in one batch per pass.
//! - On stop: logs out (bounded wait for the peer's Logout) and persists the
//!   sequence numbers.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ringbuffers::{Consumer, Producer, WaitStrategy, Waiter};
use tradeengine_model::{ExecReport, OrderRequest};

use super::app::{AppStats, FixApp};
use super::codec::{split_frame, FixMsg, Frame, FrameError};
use super::session::{Action, Session, SessionStats, State};

/// How the link connects.
#[derive(Clone, Debug)]
pub struct LinkConfig {
    /// The venue's address (loopback in tests).
    pub addr: SocketAddr,
    /// First reconnect delay; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    /// Longest sleep in the I/O poll when idle.
    pub idle_poll: Duration,
    /// How long a clean logout may wait for the peer's Logout.
    pub logout_wait: Duration,
}

impl LinkConfig {
    /// Defaults for `addr`: reconnect 100 ms .. 5 s, 50 µs idle poll, 2 s logout.
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            reconnect_min: Duration::from_millis(100),
            reconnect_max: Duration::from_secs(5),
            idle_poll: Duration::from_micros(50),
            logout_wait: Duration::from_secs(2),
        }
    }
}

/// Counters readable while the link runs.
#[derive(Debug, Default)]
pub struct LinkCounters {
    pub connects: AtomicU64,
    pub connect_failures: AtomicU64,
    pub disconnects: AtomicU64,
    pub logons: AtomicU64,
    pub orders_sent: AtomicU64,
    pub reports: AtomicU64,
    pub garbage: AtomicU64,
    pub bad_body_length: AtomicU64,
    pub bad_trailer: AtomicU64,
    pub bad_checksum: AtomicU64,
    pub bad_fields: AtomicU64,
    /// 1 while the session is logged on.
    pub active: AtomicU64,
    /// Next outgoing and expected incoming MsgSeqNum.
    pub next_out: AtomicU64,
    pub next_in: AtomicU64,
}

impl LinkCounters {
    fn frame_error(&self, e: FrameError) {
        match e {
            FrameError::Garbage => &self.garbage,
            FrameError::BadBodyLength => &self.bad_body_length,
            FrameError::BadTrailer => &self.bad_trailer,
            FrameError::BadChecksum => &self.bad_checksum,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    /// True while logged on.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed) == 1
    }
}

/// What the link thread returns when it stops.
#[derive(Clone, Debug)]
pub struct LinkReport {
    pub session: SessionStats,
    pub app: AppStats,
    /// Why each disconnect happened, oldest first (at most 32).
    pub disconnect_reasons: Vec<String>,
}

/// A running link.
pub struct FixLink {
    pub counters: Arc<LinkCounters>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<LinkReport>>,
}

impl FixLink {
    /// Starts the link thread; `on_start` runs first on it (e.g. pinning it
    /// to a cold core).
    pub fn spawn(
        cfg: LinkConfig,
        session: Session,
        app: FixApp,
        orders: Consumer<OrderRequest>,
        reports: Producer<ExecReport>,
        on_start: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<Self> {
        let counters = Arc::new(LinkCounters::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (counters.clone(), stop.clone());
        let thread = std::thread::Builder::new().name("te-fix".into()).spawn(move || {
            on_start();
            run_link(cfg, session, app, orders, reports, &c, &s)
        })?;
        Ok(Self { counters, stop, thread: Some(thread) })
    }

    /// Asks the link to log out and stop, and waits for it.
    pub fn stop(mut self) -> Option<LinkReport> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().and_then(|t| t.join().ok())
    }
}

impl Drop for FixLink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn unix_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

struct Conn {
    stream: mio::net::TcpStream,
    inbuf: Vec<u8>,
}

const INBUF: usize = 256 * 1024;
const OUT_HIGH_WATER: usize = 512 * 1024;

fn run_link(
    cfg: LinkConfig,
    mut session: Session,
    mut app: FixApp,
    mut orders: Consumer<OrderRequest>,
    mut reports: Producer<ExecReport>,
    counters: &LinkCounters,
    stop: &AtomicBool,
) -> LinkReport {
    let clock = quanta::Clock::new();
    let mut poll = mio::Poll::new().ok();
    let mut events = mio::Events::with_capacity(16);
    let mut conn: Option<Conn> = None;
    let mut backoff = cfg.reconnect_min;
    let mut next_attempt = Instant::now();
    let mut batch: Vec<ExecReport> = Vec::with_capacity(4096);
    let mut reasons: Vec<String> = Vec::new();
    let mut waiter = Waiter::new(WaitStrategy::SpinThenYield);
    let mut logout_deadline: Option<Instant> = None;
    let mut idle_since = Instant::now();
    loop {
        let now = Instant::now();
        if stop.load(Ordering::Relaxed) {
            match (&conn, session.state()) {
                (Some(_), State::Active) if logout_deadline.is_none() => {
                    session.logout(unix_ns(), "engine shutting down");
                    logout_deadline = Some(now + cfg.logout_wait);
                }
                (Some(_), _) if logout_deadline.is_some_and(|d| now < d) => {}
                _ => break,
            }
        }
        // Connect when due.
        if conn.is_none() && !stop.load(Ordering::Relaxed) && now >= next_attempt {
            match std::net::TcpStream::connect_timeout(&cfg.addr, Duration::from_secs(1)) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    let _ = s.set_nonblocking(true);
                    let mut stream = mio::net::TcpStream::from_std(s);
                    if let Some(p) = poll.as_mut() {
                        let _ = p.registry().register(&mut stream, mio::Token(0), mio::Interest::READABLE);
                    }
                    counters.connects.fetch_add(1, Ordering::Relaxed);
                    session.on_connected(unix_ns());
                    conn = Some(Conn { stream, inbuf: Vec::with_capacity(INBUF) });
                }
                Err(_) => {
                    counters.connect_failures.fetch_add(1, Ordering::Relaxed);
                    next_attempt = now + backoff;
                    backoff = (backoff * 2).min(cfg.reconnect_max);
                }
            }
        }
        let mut work = false;
        let mut drop_reason: Option<String> = None;
        if let Some(c) = conn.as_mut() {
            // Read everything available.
            loop {
                let len = c.inbuf.len();
                if len == INBUF {
                    // A full buffer without one whole frame: drop it as garbage.
                    c.inbuf.clear();
                    counters.garbage.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                c.inbuf.resize(INBUF, 0);
                match c.stream.read(&mut c.inbuf[len..]) {
                    Ok(0) => {
                        c.inbuf.truncate(len);
                        drop_reason = Some("connection closed by the peer".into());
                        break;
                    }
                    Ok(n) => {
                        c.inbuf.truncate(len + n);
                        work = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        c.inbuf.truncate(len);
                        break;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => c.inbuf.truncate(len),
                    Err(e) => {
                        c.inbuf.truncate(len);
                        drop_reason = Some(format!("read failed: {e}"));
                        break;
                    }
                }
            }
            // Frame, validate, hand to the session.
            let recv = clock.raw();
            let now_ns = unix_ns();
            let mut off = 0;
            while off < c.inbuf.len() {
                match split_frame(&c.inbuf[off..]) {
                    Frame::Incomplete => break,
                    Frame::Skip(n, e) => {
                        counters.frame_error(e);
                        off += n.max(1);
                    }
                    Frame::Message(n) => {
                        let bytes = &c.inbuf[off..off + n];
                        off += n;
                        match FixMsg::parse(bytes) {
                            Err(_) => {
                                counters.bad_fields.fetch_add(1, Ordering::Relaxed);
                            }
                            Ok(m) => {
                                let was_active = session.state() == State::Active;
                                let action = session.on_message(&m, now_ns, &mut |am| {
                                    if let Some(r) = app.decode(am, recv, now_ns) {
                                        batch.push(r);
                                    }
                                });
                                if !was_active && session.state() == State::Active {
                                    counters.logons.fetch_add(1, Ordering::Relaxed);
                                    backoff = cfg.reconnect_min;
                                }
                                if let Action::Disconnect(why) = action {
                                    drop_reason = Some(why);
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            c.inbuf.drain(..off);
        }
        if !batch.is_empty() {
            counters.reports.fetch_add(batch.len() as u64, Ordering::Relaxed);
            let _ = reports.push_slice(&batch, &mut waiter);
            batch.clear();
            work = true;
        }
        if drop_reason.is_none() {
            if let Action::Disconnect(why) = session.on_timer(unix_ns()) {
                drop_reason = Some(why);
            }
        }
        // Orders out while logged on and the socket keeps up.
        if conn.is_some()
            && session.state() == State::Active
            && !stop.load(Ordering::Relaxed)
            && session.outbound().len() < OUT_HIGH_WATER
        {
            let now_ns = unix_ns();
            let mut sent = 0u64;
            orders.drain(256, |os| {
                for o in os {
                    if o.action == OrderRequest::PROBE {
                        continue;
                    }
                    let seq = session.send_app(FixApp::msg_type(o), now_ns, |b| app.encode(o, now_ns, b));
                    if let Some(seq) = seq {
                        app.sent(seq, o);
                        sent += 1;
                    }
                }
            });
            if sent > 0 {
                counters.orders_sent.fetch_add(sent, Ordering::Relaxed);
                work = true;
            }
        }
        // Write what the session queued.
        if let Some(c) = conn.as_mut() {
            while !session.outbound().is_empty() {
                match c.stream.write(session.outbound()) {
                    Ok(0) => break,
                    Ok(n) => {
                        session.consumed(n);
                        work = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => {
                        drop_reason.get_or_insert(format!("write failed: {e}"));
                        break;
                    }
                }
            }
        }
        let (o, i) = session.seqs();
        counters.next_out.store(o, Ordering::Relaxed);
        counters.next_in.store(i, Ordering::Relaxed);
        counters.active.store((session.state() == State::Active) as u64, Ordering::Relaxed);
        if let Some(why) = drop_reason {
            if let Some(mut c) = conn.take() {
                if let Some(p) = poll.as_mut() {
                    let _ = p.registry().deregister(&mut c.stream);
                }
                let _ = c.stream.shutdown(std::net::Shutdown::Both);
            }
            session.on_disconnected();
            counters.disconnects.fetch_add(1, Ordering::Relaxed);
            counters.active.store(0, Ordering::Relaxed);
            if reasons.len() < 32 {
                reasons.push(why);
            }
            if logout_deadline.is_some() {
                break;
            }
            next_attempt = Instant::now() + backoff;
            backoff = (backoff * 2).min(cfg.reconnect_max);
            continue;
        }
        if work {
            idle_since = Instant::now();
            continue;
        }
        // Idle: a short poll (woken by inbound data) keeps order latency low
        // while busy; after a quiet millisecond, sleep the full idle poll.
        let timeout = if idle_since.elapsed() < Duration::from_millis(1) { Duration::ZERO } else { cfg.idle_poll };
        match poll.as_mut() {
            Some(p) if conn.is_some() => {
                let _ = p.poll(&mut events, Some(timeout));
            }
            _ => std::thread::sleep(cfg.idle_poll.max(Duration::from_micros(200))),
        }
        if timeout.is_zero() {
            std::thread::yield_now();
        }
    }
    session.sync();
    counters.active.store(0, Ordering::Relaxed);
    LinkReport { session: *session.stats(), app: *app.stats(), disconnect_reasons: reasons }
}
