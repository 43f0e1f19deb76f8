//! The FIX 4.4 application layer: orders from the hot thread become
//! NewOrderSingle (market or limit) and OrderCancelRequest; ExecutionReports
//! (new, partial fill, fill, cancelled, rejected), BusinessMessageRejects and
//! session Rejects become [`ExecReport`]s for the hot thread. Allocation-free
//! per message after start-up.
//!
//! ClOrdID is `TE<engine>-<order id>`; the engine's order id is the input
//! sequence number + 1, so an order re-created for the same input after a
//! restart carries the same ClOrdID and the venue refuses it as a duplicate
//! instead of filling it twice. Cancel requests use `TE<engine>-<order id>-C`.

use std::collections::HashMap;

use tradeengine_model::{ExecReport, ExecType, OrderRequest, OrderType, Side};

use super::codec::{FixMsg, MsgBuilder};

/// What was sent under one MsgSeqNum (to map Rejects and
/// BusinessMessageRejects back to orders).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Sent {
    seq: u64,
    order_id: u64,
    /// 1 = new order, 2 = cancel.
    kind: u8,
}

/// Counters of the application layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppStats {
    pub new_orders: u64,
    pub cancels: u64,
    pub acks: u64,
    pub fills: u64,
    pub cancelled: u64,
    pub rejected: u64,
    /// Cancel requests the venue refused (the order stays live).
    pub cancel_rejects: u64,
    pub business_rejects: u64,
    /// Reports for ClOrdIDs that are not ours, or that do not parse.
    pub unknown: u64,
    /// Reports with an OrdStatus this engine does not act on (pending states…).
    pub ignored: u64,
}

/// Maps between the engine's orders and FIX messages.
pub struct FixApp {
    engine: u32,
    accounts: Vec<String>,
    symbols: Vec<String>,
    symbol_ids: HashMap<String, u32>,
    sent: Box<[Sent]>,
    stats: AppStats,
}

const SENT_WINDOW: usize = 1 << 16;

/// Reject reasons carried in [`ExecReport::reason`].
pub mod reason {
    /// The venue rejected the order (ExecutionReport OrdStatus=8).
    pub const VENUE: u8 = 1;
    /// BusinessMessageReject (35=j) of the NewOrderSingle.
    pub const BUSINESS_REJECT: u8 = 2;
    /// Session-level Reject (35=3) of the NewOrderSingle.
    pub const SESSION_REJECT: u8 = 3;
}

impl FixApp {
    /// A mapper for engine `engine` with the run's account and symbol names.
    pub fn new(engine: u32, accounts: Vec<String>, symbols: Vec<String>) -> Self {
        let symbol_ids = symbols.iter().enumerate().map(|(i, s)| (s.clone(), i as u32)).collect();
        Self {
            engine,
            accounts,
            symbols,
            symbol_ids,
            sent: vec![Sent::default(); SENT_WINDOW].into_boxed_slice(),
            stats: AppStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> &AppStats {
        &self.stats
    }

    /// The MsgType for `o`: `D` NewOrderSingle or `F` OrderCancelRequest.
    pub fn msg_type(o: &OrderRequest) -> &'static str {
        if o.action == OrderRequest::CANCEL {
            "F"
        } else {
            "D"
        }
    }

    /// Writes the body of the message for `o` (after the session header).
    pub fn encode(&self, o: &OrderRequest, now_ns: u64, b: &mut MsgBuilder) {
        let side = if o.side == Side::Sell as u8 { b'2' } else { b'1' };
        let symbol = self.symbols.get(o.symbol as usize).map_or("?", String::as_str);
        let account = self.accounts.get(o.account as usize).map_or("?", String::as_str);
        let engine = self.engine as u64;
        if o.action == OrderRequest::CANCEL {
            b.id(41, "TE", engine, "-", o.order_id, "");
            b.id(11, "TE", engine, "-", o.order_id, "-C");
            b.str(1, account).str(55, symbol).char(54, side).f64(38, o.qty).time(60, now_ns);
        } else {
            b.id(11, "TE", engine, "-", o.order_id, "");
            b.str(1, account).str(55, symbol).char(54, side).f64(38, o.qty);
            match o.order_type() {
                OrderType::Limit => {
                    b.char(40, b'2').f64(44, o.price);
                }
                OrderType::Market => {
                    b.char(40, b'1');
                }
            }
            b.char(59, b'0').time(60, now_ns);
        }
    }

    /// Remembers that `seq` carried `o` (after the session sent it).
    pub fn sent(&mut self, seq: u64, o: &OrderRequest) {
        let kind = if o.action == OrderRequest::CANCEL { 2 } else { 1 };
        if kind == 2 {
            self.stats.cancels += 1;
        } else {
            self.stats.new_orders += 1;
        }
        self.sent[seq as usize % SENT_WINDOW] = Sent { seq, order_id: o.order_id, kind };
    }

    /// Our order id in a ClOrdID (`TE<engine>-<id>` or `…-C`), if it is ours.
    pub fn order_id_of(&self, clordid: &[u8]) -> Option<u64> {
        let s = std::str::from_utf8(clordid).ok()?;
        let rest = s.strip_prefix("TE")?;
        let (engine, id) = rest.split_once('-')?;
        if engine.parse::<u32>().ok()? != self.engine {
            return None;
        }
        let id = id.strip_suffix("-C").unwrap_or(id);
        id.parse::<u64>().ok().filter(|&v| v > 0)
    }

    /// Maps an inbound application message (or a session Reject) to the
    /// report the hot thread needs, if any. `recv` is the arrival stamp.
    pub fn decode(&mut self, m: &FixMsg<'_>, recv: u64, now_ns: u64) -> Option<ExecReport> {
        match m.msg_type() {
            b"8" => self.execution_report(m, recv, now_ns),
            b"j" => {
                self.stats.business_rejects += 1;
                self.reject_of(m.u64(45), reason::BUSINESS_REJECT, recv, now_ns)
            }
            b"3" => self.reject_of(m.u64(45), reason::SESSION_REJECT, recv, now_ns),
            _ => {
                self.stats.ignored += 1;
                None
            }
        }
    }

    fn reject_of(&mut self, ref_seq: Option<u64>, why: u8, recv: u64, now_ns: u64) -> Option<ExecReport> {
        let s = self.sent[ref_seq? as usize % SENT_WINDOW];
        if Some(s.seq) != ref_seq || s.order_id == 0 {
            self.stats.unknown += 1;
            return None;
        }
        if s.kind == 2 {
            self.stats.cancel_rejects += 1;
            return None;
        }
        self.stats.rejected += 1;
        Some(ExecReport {
            exec_type: ExecType::Rejected as u8,
            reason: why,
            order_id: s.order_id,
            ts_event: now_ns,
            recv,
            ..Default::default()
        })
    }

    fn execution_report(&mut self, m: &FixMsg<'_>, recv: u64, now_ns: u64) -> Option<ExecReport> {
        let Some(id) =
            m.get(11).and_then(|c| self.order_id_of(c)).or_else(|| m.get(41).and_then(|c| self.order_id_of(c)))
        else {
            self.stats.unknown += 1;
            return None;
        };
        let side = match m.char(54) {
            Some(b'2') | Some(b'5') => Side::Sell as u8,
            _ => Side::Buy as u8,
        };
        let symbol = m.str(55).and_then(|s| self.symbol_ids.get(s).copied()).unwrap_or(u32::MAX);
        let base = ExecReport {
            side,
            symbol,
            order_id: id,
            ts_event: now_ns,
            recv,
            cum_qty: m.f64(14).unwrap_or(0.0),
            ..Default::default()
        };
        let last_qty = m.f64(32).unwrap_or(0.0);
        match m.char(39) {
            Some(b'1') | Some(b'2') if last_qty > 0.0 => {
                self.stats.fills += 1;
                Some(ExecReport {
                    exec_type: ExecType::Fill as u8,
                    last_qty,
                    last_px: m.f64(31).unwrap_or(0.0),
                    ..base
                })
            }
            Some(b'0') => {
                self.stats.acks += 1;
                Some(ExecReport { exec_type: ExecType::Ack as u8, ..base })
            }
            Some(b'4') | Some(b'C') => {
                self.stats.cancelled += 1;
                Some(ExecReport { exec_type: ExecType::Cancelled as u8, ..base })
            }
            Some(b'8') => {
                self.stats.rejected += 1;
                Some(ExecReport { exec_type: ExecType::Rejected as u8, reason: reason::VENUE, ..base })
            }
            _ => {
                self.stats.ignored += 1;
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::codec::display;
    use super::*;

    fn app() -> FixApp {
        FixApp::new(3, vec!["ACC-0000".into(), "ACC-0001".into()], vec!["AAA".into(), "BBB".into()])
    }

    fn order(action: u8, ty: OrderType) -> OrderRequest {
        OrderRequest {
            action,
            side: Side::Buy as u8,
            order_type: ty as u8,
            account: 1,
            symbol: 1,
            order_id: 43,
            qty: 5.0,
            price: 12.5,
            ..Default::default()
        }
    }

    fn encode(a: &FixApp, o: &OrderRequest) -> (String, String) {
        let mut b = MsgBuilder::new();
        b.begin("X");
        a.encode(o, 1_700_000_000_000_000_000, &mut b);
        (FixApp::msg_type(o).to_string(), display(b.finish().unwrap()))
    }

    #[test]
    fn orders_encode_as_fix44() {
        let a = app();
        let (t, m) = encode(&a, &order(OrderRequest::NEW, OrderType::Market));
        assert_eq!(t, "D");
        assert!(m.contains("|11=TE3-43|1=ACC-0001|55=BBB|54=1|38=5|40=1|59=0|60=20231114-22:13:20.000|"), "{m}");
        let (_, m) = encode(&a, &order(OrderRequest::NEW, OrderType::Limit));
        assert!(m.contains("|40=2|44=12.5|"), "{m}");
        let (t, m) = encode(&a, &order(OrderRequest::CANCEL, OrderType::Market));
        assert_eq!(t, "F");
        assert!(m.contains("|41=TE3-43|11=TE3-43-C|1=ACC-0001|55=BBB|54=1|38=5|60="), "{m}");
    }

    fn report(fields: &str) -> Vec<u8> {
        let mut b = MsgBuilder::new();
        b.begin("8");
        for kv in fields.split('|') {
            let (k, v) = kv.split_once('=').unwrap();
            b.str(k.parse().unwrap(), v);
        }
        b.finish().unwrap().to_vec()
    }

    #[test]
    fn execution_reports_map_to_exec_reports() {
        let mut a = app();
        let dec = |a: &mut FixApp, f: &str| a.decode(&FixMsg::parse(&report(f)).unwrap(), 7, 9);
        let ack = dec(&mut a, "11=TE3-43|39=0|150=0|54=1|55=BBB|14=0|32=0").unwrap();
        assert_eq!((ack.exec_type(), ack.order_id, ack.symbol), (Some(ExecType::Ack), 43, 1));
        let fill = dec(&mut a, "11=TE3-43|39=2|150=F|54=1|55=BBB|14=5|32=5|31=12.3").unwrap();
        assert_eq!(
            (fill.exec_type(), fill.last_qty, fill.last_px, fill.cum_qty),
            (Some(ExecType::Fill), 5.0, 12.3, 5.0)
        );
        assert_eq!(fill.recv, 7);
        let part = dec(&mut a, "11=TE3-43|39=1|54=2|55=AAA|14=2|32=2|31=10").unwrap();
        assert_eq!((part.exec_type(), part.side, part.symbol), (Some(ExecType::Fill), Side::Sell as u8, 0));
        assert_eq!(
            dec(&mut a, "11=TE3-43-C|41=TE3-43|39=4|54=1|55=BBB").unwrap().exec_type(),
            Some(ExecType::Cancelled)
        );
        let rej = dec(&mut a, "11=TE3-43|39=8|54=1|55=BBB|58=no").unwrap();
        assert_eq!((rej.exec_type(), rej.reason), (Some(ExecType::Rejected), reason::VENUE));
        assert!(dec(&mut a, "11=TE4-43|39=0|54=1|55=BBB").is_none(), "another engine's order");
        assert!(dec(&mut a, "11=banana|39=0|54=1|55=BBB").is_none());
        assert!(dec(&mut a, "11=TE3-43|39=A|54=1|55=BBB").is_none(), "pending new is not acted on");
        assert_eq!((a.stats().unknown, a.stats().ignored), (2, 1));
    }

    #[test]
    fn rejects_map_through_the_sent_window() {
        let mut a = app();
        a.sent(10, &order(OrderRequest::NEW, OrderType::Market));
        a.sent(11, &order(OrderRequest::CANCEL, OrderType::Market));
        let mut b = MsgBuilder::new();
        b.begin("j").u64(45, 10).str(372, "D").u64(380, 3);
        let bmr = b.finish().unwrap().to_vec();
        let r = a.decode(&FixMsg::parse(&bmr).unwrap(), 0, 0).unwrap();
        assert_eq!((r.exec_type(), r.order_id, r.reason), (Some(ExecType::Rejected), 43, reason::BUSINESS_REJECT));
        b.begin("j").u64(45, 11).str(372, "F").u64(380, 3);
        let bmr = b.finish().unwrap().to_vec();
        assert!(a.decode(&FixMsg::parse(&bmr).unwrap(), 0, 0).is_none(), "a refused cancel leaves the order live");
        assert_eq!(a.stats().cancel_rejects, 1);
        b.begin("3").u64(45, 99);
        let rej = b.finish().unwrap().to_vec();
        assert!(a.decode(&FixMsg::parse(&rej).unwrap(), 0, 0).is_none(), "unknown ref seq");
    }
}
