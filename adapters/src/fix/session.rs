//! The FIX 4.4 session layer, without I/O: the link feeds it whole messages
//! and the clock, and sends what it queues in [`Session::outbound`].
//!
//! - Logon (ResetSeqNumFlag as configured, or forced after a failed logon),
//!   heartbeats, TestRequest when the peer is silent, disconnect when a
//!   TestRequest goes unanswered.
//! - Sequence numbers in a [`SeqStore`] (persisted across restarts); a gap
//!   sends one ResendRequest and messages past the gap wait for the resend;
//!   PossDup repeats are ignored; a MsgSeqNum too low without PossDup ends
//!   the session (logout) and the next logon resets both sides.
//! - A peer's ResendRequest is answered with SequenceReset-GapFill: orders
//!   are never re-sent (a stale order is worse than a missing one).
//! - SequenceReset, Reject, Logout; application messages go to the caller.

use super::codec::{display, FixMsg, MsgBuilder};
use super::store::SeqStore;

/// Session identity and timing.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// SenderCompID (49) of our messages.
    pub sender: String,
    /// TargetCompID (56): the peer.
    pub target: String,
    /// HeartBtInt (108), seconds.
    pub heartbeat_secs: u32,
    /// Send ResetSeqNumFlag=Y on every logon (both sides start at 1).
    pub reset_on_logon: bool,
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Disconnected,
    LogonSent,
    Active,
    LogoutSent,
}

/// What the link must do after feeding the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Continue,
    /// Close the connection (after sending what is queued), with the reason.
    Disconnect(String),
}

/// Counters of the session layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub logons: u64,
    pub heartbeats_sent: u64,
    pub test_requests_sent: u64,
    pub resend_requests_sent: u64,
    pub gap_fills_sent: u64,
    pub sequence_resets: u64,
    pub rejects_received: u64,
    pub duplicates_ignored: u64,
    /// Messages past a gap, dropped while waiting for the resend.
    pub held_back: u64,
    /// Messages without a usable MsgSeqNum, or from another session.
    pub invalid: u64,
}

/// One FIX session.
pub struct Session {
    cfg: SessionConfig,
    state: State,
    store: SeqStore,
    builder: MsgBuilder,
    out: Vec<u8>,
    /// Force ResetSeqNumFlag=Y on the next logon.
    reset_next: bool,
    last_sent_ns: u64,
    last_recv_ns: u64,
    /// A TestRequest we sent: its id and when.
    test_req: Option<(u64, u64)>,
    test_req_id: u64,
    /// A ResendRequest is outstanding until the peer reaches this seq.
    resend_until: Option<u64>,
    stats: SessionStats,
    last_logout_text: String,
}

impl Session {
    /// A session over `store`. Start-up only (the outbound buffer is preallocated).
    pub fn new(cfg: SessionConfig, store: SeqStore) -> Self {
        Self {
            cfg,
            state: State::Disconnected,
            store,
            builder: MsgBuilder::new(),
            out: Vec::with_capacity(1 << 20),
            reset_next: false,
            last_sent_ns: 0,
            last_recv_ns: 0,
            test_req: None,
            test_req_id: 0,
            resend_until: None,
            stats: SessionStats::default(),
            last_logout_text: String::new(),
        }
    }

    /// The session's state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Counters.
    pub fn stats(&self) -> &SessionStats {
        &self.stats
    }

    /// Next MsgSeqNum to send / expected.
    pub fn seqs(&self) -> (u64, u64) {
        (self.store.next_out(), self.store.next_in())
    }

    /// The configured identity.
    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// Text of the last Logout received (why the peer ended the session).
    pub fn last_logout_text(&self) -> &str {
        &self.last_logout_text
    }

    /// Bytes queued for the socket.
    pub fn outbound(&self) -> &[u8] {
        &self.out
    }

    /// Drops `n` bytes the link wrote.
    pub fn consumed(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
    }

    /// Persists the sequence numbers to disk.
    pub fn sync(&self) {
        self.store.sync();
    }

    fn send(&mut self, msg_type: &str, now_ns: u64, body: impl FnOnce(&mut MsgBuilder)) -> Option<u64> {
        self.send_with_seq(msg_type, now_ns, None, body)
    }

    fn send_with_seq(
        &mut self,
        msg_type: &str,
        now_ns: u64,
        fixed_seq: Option<u64>,
        body: impl FnOnce(&mut MsgBuilder),
    ) -> Option<u64> {
        let seq = fixed_seq.unwrap_or(self.store.next_out());
        let b = &mut self.builder;
        b.begin(msg_type).str(49, &self.cfg.sender).str(56, &self.cfg.target).u64(34, seq).time(52, now_ns);
        body(b);
        let bytes = b.finish()?;
        self.out.extend_from_slice(bytes);
        if fixed_seq.is_none() {
            let next_in = self.store.next_in();
            self.store.set(seq + 1, next_in);
        }
        self.last_sent_ns = now_ns;
        Some(seq)
    }

    /// Sends an application message built by `body` (after the standard
    /// header); returns its MsgSeqNum, or `None` when not logged on or the
    /// message would exceed the size limit.
    pub fn send_app(&mut self, msg_type: &str, now_ns: u64, body: impl FnOnce(&mut MsgBuilder)) -> Option<u64> {
        if self.state != State::Active {
            return None;
        }
        self.send(msg_type, now_ns, body)
    }

    /// A new connection: queue the Logon.
    pub fn on_connected(&mut self, now_ns: u64) {
        self.out.clear();
        self.test_req = None;
        self.resend_until = None;
        self.last_recv_ns = now_ns;
        let reset = self.cfg.reset_on_logon || self.reset_next;
        if reset {
            self.store.set(1, 1);
        }
        let hb = self.cfg.heartbeat_secs;
        self.send("A", now_ns, |b| {
            b.u64(98, 0).u64(108, hb as u64);
            if reset {
                b.char(141, b'Y');
            }
        });
        self.state = State::LogonSent;
    }

    /// The connection is gone.
    pub fn on_disconnected(&mut self) {
        if self.state == State::LogonSent {
            // The peer refused or dropped our logon: start both sides over next time.
            self.reset_next = true;
        }
        self.state = State::Disconnected;
        self.out.clear();
        self.store.sync();
    }

    /// Starts a clean logout.
    pub fn logout(&mut self, now_ns: u64, text: &str) {
        if matches!(self.state, State::Active | State::LogonSent) {
            self.send("5", now_ns, |b| {
                b.str(58, text);
            });
            self.state = State::LogoutSent;
        }
    }

    /// Timers: heartbeat when we have been quiet, TestRequest when the peer
    /// has, disconnect when a TestRequest goes unanswered.
    pub fn on_timer(&mut self, now_ns: u64) -> Action {
        if self.state == State::Disconnected {
            return Action::Continue;
        }
        let hb = self.cfg.heartbeat_secs.max(1) as u64 * 1_000_000_000;
        if let Some((_, sent)) = self.test_req {
            if now_ns.saturating_sub(sent) > hb {
                return Action::Disconnect(format!("no answer to TestRequest within {} s", self.cfg.heartbeat_secs));
            }
        } else if self.state == State::Active && now_ns.saturating_sub(self.last_recv_ns) > hb + hb / 5 {
            self.test_request(now_ns);
        }
        if self.state == State::Active && now_ns.saturating_sub(self.last_sent_ns) >= hb {
            self.send("0", now_ns, |_| {});
            self.stats.heartbeats_sent += 1;
        }
        Action::Continue
    }

    /// Sends a TestRequest (112 = a new id) and expects the peer's Heartbeat
    /// with that id within one heartbeat interval; returns the id.
    pub fn test_request(&mut self, now_ns: u64) -> u64 {
        self.test_req_id += 1;
        let id = self.test_req_id;
        self.send("1", now_ns, |b| {
            b.u64(112, id);
        });
        self.stats.test_requests_sent += 1;
        self.test_req = Some((id, now_ns));
        id
    }

    /// True while a TestRequest waits for its Heartbeat.
    pub fn test_request_pending(&self) -> bool {
        self.test_req.is_some()
    }

    /// Handles one inbound message; application messages (and Rejects) in
    /// sequence go to `app`.
    pub fn on_message(&mut self, m: &FixMsg<'_>, now_ns: u64, app: &mut dyn FnMut(&FixMsg<'_>)) -> Action {
        self.last_recv_ns = now_ns;
        let Some(seq) = m.seq() else {
            self.stats.invalid += 1;
            return Action::Continue;
        };
        if m.str(49) != Some(self.cfg.target.as_str()) || m.str(56) != Some(self.cfg.sender.as_str()) {
            self.stats.invalid += 1;
            return Action::Continue;
        }
        let t = m.msg_type();
        let poss_dup = m.char(43) == Some(b'Y');
        // A SequenceReset in reset mode applies whatever its own MsgSeqNum.
        if t == b"4" && m.char(123) != Some(b'Y') {
            if let Some(new) = m.u64(36) {
                self.stats.sequence_resets += 1;
                let out = self.store.next_out();
                self.store.set(out, new);
                self.clear_resend(new);
            }
            return Action::Continue;
        }
        if t == b"A" {
            return self.on_logon(m, seq, now_ns);
        }
        if self.state == State::LogonSent {
            return Action::Disconnect(format!("expected Logon, got {}", display(m.bytes())));
        }
        let expected = self.store.next_in();
        if seq < expected {
            if poss_dup {
                self.stats.duplicates_ignored += 1;
                return Action::Continue;
            }
            let text = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            self.logout(now_ns, &text);
            self.reset_next = true;
            return Action::Disconnect(text);
        }
        if seq > expected {
            if t == b"5" {
                return self.on_logout(m, now_ns);
            }
            self.request_resend(expected, seq, now_ns);
            self.stats.held_back += 1;
            return Action::Continue;
        }
        // In sequence.
        let out = self.store.next_out();
        if t == b"4" {
            // Gap fill: jump to NewSeqNo.
            let new = m.u64(36).filter(|&n| n > seq).unwrap_or(seq + 1);
            self.store.set(out, new);
            self.clear_resend(new);
            return Action::Continue;
        }
        self.store.set(out, seq + 1);
        self.clear_resend(seq + 1);
        match t {
            b"0" => {
                if let (Some((id, _)), Some(got)) = (self.test_req, m.u64(112)) {
                    if id == got {
                        self.test_req = None;
                    }
                }
                Action::Continue
            }
            b"1" => {
                let id = m.str(112).unwrap_or("");
                self.send("0", now_ns, |b| {
                    b.str(112, id);
                });
                self.stats.heartbeats_sent += 1;
                Action::Continue
            }
            b"2" => {
                self.on_resend_request(m, now_ns);
                Action::Continue
            }
            b"5" => self.on_logout(m, now_ns),
            b"3" => {
                self.stats.rejects_received += 1;
                app(m);
                Action::Continue
            }
            _ => {
                app(m);
                Action::Continue
            }
        }
    }

    fn clear_resend(&mut self, next_in: u64) {
        if self.resend_until.is_some_and(|u| next_in > u) {
            self.resend_until = None;
        }
    }

    fn request_resend(&mut self, from: u64, seen: u64, now_ns: u64) {
        if self.resend_until.is_some() {
            return; // the outstanding request (EndSeqNo 0: everything) covers it
        }
        self.send("2", now_ns, |b| {
            b.u64(7, from).u64(16, 0);
        });
        self.stats.resend_requests_sent += 1;
        self.resend_until = Some(seen);
    }

    fn on_logon(&mut self, m: &FixMsg<'_>, seq: u64, now_ns: u64) -> Action {
        if self.state != State::LogonSent {
            return Action::Disconnect("unexpected Logon on an active session".into());
        }
        let expected = self.store.next_in();
        let peer_reset = m.char(141) == Some(b'Y');
        if seq < expected && !peer_reset {
            // The peer starts over (e.g. a fresh store after its restart):
            // log out and log on again with both sides reset.
            let text = format!("MsgSeqNum too low, expecting {expected} but received {seq}");
            self.state = State::Active;
            self.logout(now_ns, &text);
            self.reset_next = true;
            return Action::Disconnect(text);
        }
        self.state = State::Active;
        self.reset_next = false;
        self.stats.logons += 1;
        let out = self.store.next_out();
        if seq > expected && !peer_reset {
            self.store.set(out, expected);
            self.request_resend(expected, seq, now_ns);
        } else {
            self.store.set(out, seq + 1);
        }
        Action::Continue
    }

    fn on_logout(&mut self, m: &FixMsg<'_>, now_ns: u64) -> Action {
        self.last_logout_text = m.str(58).unwrap_or("").to_string();
        if self.state != State::LogoutSent {
            self.send("5", now_ns, |_| {});
        }
        if self.last_logout_text.contains("too low") || self.last_logout_text.contains("expecting") {
            self.reset_next = true;
        }
        Action::Disconnect(format!("peer logged out: {}", self.last_logout_text))
    }

    fn on_resend_request(&mut self, m: &FixMsg<'_>, now_ns: u64) {
        let next_out = self.store.next_out();
        let begin = m.u64(7).unwrap_or(1).clamp(1, next_out);
        if begin >= next_out {
            return;
        }
        self.send_with_seq("4", now_ns, Some(begin), |b| {
            b.char(43, b'Y').char(123, b'Y').u64(36, next_out);
        });
        self.stats.gap_fills_sent += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::codec::{split_frame, Frame};
    use super::*;

    fn cfg() -> SessionConfig {
        SessionConfig { sender: "TE".into(), target: "EXEC".into(), heartbeat_secs: 1, reset_on_logon: false }
    }

    /// Messages "from the peer".
    fn peer(msg_type: &str, seq: u64, extra: impl FnOnce(&mut MsgBuilder)) -> Vec<u8> {
        let mut b = MsgBuilder::new();
        b.begin(msg_type).str(49, "EXEC").str(56, "TE").u64(34, seq).time(52, 0);
        extra(&mut b);
        b.finish().unwrap().to_vec()
    }

    /// The messages the session queued, as (type, seq, whole text).
    fn sent(s: &mut Session) -> Vec<(String, u64, String)> {
        let mut out = Vec::new();
        let mut buf = s.outbound().to_vec();
        s.consumed(buf.len());
        while let Frame::Message(n) = split_frame(&buf) {
            let m = FixMsg::parse(&buf[..n]).unwrap();
            out.push((String::from_utf8_lossy(m.msg_type()).into(), m.seq().unwrap(), display(m.bytes())));
            buf.drain(..n);
        }
        out
    }

    fn feed(s: &mut Session, bytes: &[u8], now: u64) -> (Action, Vec<String>) {
        let m = FixMsg::parse(bytes).unwrap();
        let mut apps = Vec::new();
        let a = s.on_message(&m, now, &mut |m| apps.push(display(m.bytes())));
        (a, apps)
    }

    fn logged_on() -> Session {
        let mut s = Session::new(cfg(), SeqStore::in_memory());
        s.on_connected(0);
        let out = sent(&mut s);
        assert_eq!(out[0].0, "A");
        assert!(out[0].2.contains("|98=0|108=1|"), "{}", out[0].2);
        assert_eq!(
            feed(
                &mut s,
                &peer("A", 1, |b| {
                    b.u64(98, 0).u64(108, 1);
                }),
                0
            )
            .0,
            Action::Continue
        );
        assert_eq!(s.state(), State::Active);
        s
    }

    #[test]
    fn heartbeat_and_test_request() {
        let mut s = logged_on();
        // Quiet for a heartbeat interval: we send a heartbeat.
        s.on_timer(1_000_000_001);
        assert_eq!(sent(&mut s)[0].0, "0");
        // Peer silent for 1.2 intervals: TestRequest; answered: cleared.
        s.on_timer(1_300_000_000);
        let tr = sent(&mut s);
        assert_eq!(tr[0].0, "1");
        assert!(tr[0].2.contains("|112=1|"));
        feed(
            &mut s,
            &peer("0", 2, |b| {
                b.u64(112, 1);
            }),
            1_400_000_000,
        );
        assert_eq!(s.on_timer(2_000_000_000), Action::Continue);
        assert!(sent(&mut s).iter().all(|m| m.0 != "1"), "the peer spoke 0.6 s ago: no TestRequest");
        // Their TestRequest gets a Heartbeat with the id.
        feed(
            &mut s,
            &peer("1", 3, |b| {
                b.str(112, "abc");
            }),
            2_000_000_000,
        );
        assert!(sent(&mut s).iter().any(|m| m.0 == "0" && m.2.contains("|112=abc|")));
        // Silent again: a TestRequest; unanswered for an interval: disconnect.
        assert_eq!(s.on_timer(3_300_000_000), Action::Continue);
        assert!(sent(&mut s).iter().any(|m| m.0 == "1" && m.2.contains("|112=2|")));
        assert!(matches!(s.on_timer(4_400_000_000), Action::Disconnect(ref t) if t.contains("TestRequest")));
    }

    #[test]
    fn gap_resend_and_gap_fill() {
        let mut s = logged_on();
        // Seq 3 arrives where 2 was expected: one ResendRequest from 2, held back.
        let (_, apps) = feed(&mut s, &peer("8", 3, |_| {}), 1);
        assert!(apps.is_empty());
        let rr = sent(&mut s);
        assert_eq!(rr.len(), 1);
        assert!(rr[0].0 == "2" && rr[0].2.contains("|7=2|16=0|"), "{:?}", rr);
        feed(&mut s, &peer("8", 4, |_| {}), 1);
        assert!(sent(&mut s).is_empty(), "no second ResendRequest for the same gap");
        // The peer resends 2 (PossDup) and gap-fills to 5.
        let (_, apps) = feed(
            &mut s,
            &peer("8", 2, |b| {
                b.char(43, b'Y');
            }),
            2,
        );
        assert_eq!(apps.len(), 1);
        feed(
            &mut s,
            &peer("4", 3, |b| {
                b.char(43, b'Y').char(123, b'Y').u64(36, 5);
            }),
            2,
        );
        assert_eq!(s.seqs().1, 5);
        let (_, apps) = feed(&mut s, &peer("8", 5, |_| {}), 3);
        assert_eq!(apps.len(), 1);
        // A repeat with PossDup is ignored; without it, too low: logout.
        let (a, apps) = feed(
            &mut s,
            &peer("8", 5, |b| {
                b.char(43, b'Y');
            }),
            3,
        );
        assert!(a == Action::Continue && apps.is_empty());
        let (a, _) = feed(&mut s, &peer("8", 2, |_| {}), 3);
        assert!(matches!(a, Action::Disconnect(ref t) if t.contains("too low")));
        assert!(sent(&mut s).iter().any(|m| m.0 == "5"));
        s.on_disconnected();
        s.on_connected(4);
        assert!(sent(&mut s)[0].2.contains("|141=Y|"), "the next logon resets");
        assert_eq!(s.seqs(), (2, 1));
    }

    #[test]
    fn their_resend_request_gets_a_gap_fill() {
        let mut s = logged_on();
        for _ in 0..3 {
            s.send_app("D", 1, |b| {
                b.str(11, "x");
            });
        }
        sent(&mut s);
        feed(
            &mut s,
            &peer("2", 2, |b| {
                b.u64(7, 2).u64(16, 0);
            }),
            2,
        );
        let gf = sent(&mut s);
        assert_eq!(gf.len(), 1);
        assert_eq!(gf[0].1, 2, "a gap fill carries the first resent seq");
        assert!(gf[0].2.contains("|43=Y|123=Y|36=5|"), "{}", gf[0].2);
        assert_eq!(s.seqs().0, 5, "a gap fill does not use a new seq");
    }

    #[test]
    fn peer_restarting_from_one_forces_a_reset() {
        let mut s = logged_on();
        s.send_app("D", 1, |_| {});
        feed(&mut s, &peer("8", 2, |_| {}), 1);
        s.on_disconnected();
        s.on_connected(2);
        sent(&mut s);
        // The peer lost its store: Logon with seq 1 while we expect 3.
        let (a, _) = feed(
            &mut s,
            &peer("A", 1, |b| {
                b.u64(98, 0).u64(108, 1);
            }),
            3,
        );
        assert!(matches!(a, Action::Disconnect(ref t) if t.contains("expecting 3 but received 1")));
        s.on_disconnected();
        s.on_connected(4);
        let logon = sent(&mut s);
        assert!(logon[0].2.contains("|34=1|") && logon[0].2.contains("|141=Y|"), "{:?}", logon);
        feed(
            &mut s,
            &peer("A", 1, |b| {
                b.u64(98, 0).u64(108, 1).char(141, b'Y');
            }),
            5,
        );
        assert_eq!((s.state(), s.seqs()), (State::Active, (2, 2)));
    }

    #[test]
    fn foreign_or_unsequenced_messages_are_counted() {
        let mut s = logged_on();
        let mut b = MsgBuilder::new();
        b.begin("8").str(49, "OTHER").str(56, "TE").u64(34, 2);
        let m = b.finish().unwrap().to_vec();
        feed(&mut s, &m, 1);
        b.begin("8").str(49, "EXEC").str(56, "TE");
        let m = b.finish().unwrap().to_vec();
        feed(&mut s, &m, 1);
        assert_eq!(s.stats().invalid, 2);
        assert_eq!(s.seqs().1, 2);
    }
}
