//! The journal: one 64-byte slot type that carries any journal record, told
//! apart by its first byte. The hot thread writes them to the journal ring;
//! cold threads summarise and persist them.

use bytemuck::{Pod, Zeroable};

use crate::{AccountPolicy, Control, Fill, OrderUpdate, RiskEvent, RollupChange, TradeFilled, TradeSignal};

/// What a [`JournalEvent`] holds (its first byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum JournalKind {
    TradeSignal = 1,
    Fill = 2,
    RollupChange = 3,
    OrderUpdate = 4,
    RiskEvent = 5,
    Policy = 6,
    Control = 7,
    /// A [`TradeFilled`]: written by the hot thread only, expanded by the
    /// cold side before anything else reads the journal.
    TradeFilled = 8,
}

impl JournalKind {
    /// Decodes the first byte of a journal slot.
    #[inline]
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => JournalKind::TradeSignal,
            2 => JournalKind::Fill,
            3 => JournalKind::RollupChange,
            4 => JournalKind::OrderUpdate,
            5 => JournalKind::RiskEvent,
            6 => JournalKind::Policy,
            7 => JournalKind::Control,
            8 => JournalKind::TradeFilled,
            _ => return None,
        })
    }
}

/// A record type that can travel in a [`JournalEvent`]: a 64-byte Pod whose first byte is `KIND`.
pub trait JournalRecord: Pod {
    /// The kind byte every record of this type carries.
    const KIND: JournalKind;
}

macro_rules! journal_record {
    ($($t:ty => $k:ident),+) => {$(
        impl JournalRecord for $t { const KIND: JournalKind = JournalKind::$k; }
        impl From<$t> for JournalEvent {
            #[inline]
            fn from(mut r: $t) -> Self {
                r.kind = JournalKind::$k as u8;
                bytemuck::cast(r)
            }
        }
    )+};
}

journal_record!(
    TradeSignal => TradeSignal,
    Fill => Fill,
    RollupChange => RollupChange,
    OrderUpdate => OrderUpdate,
    RiskEvent => RiskEvent,
    AccountPolicy => Policy,
    Control => Control
);

impl JournalRecord for TradeFilled {
    const KIND: JournalKind = JournalKind::TradeFilled;
}

impl From<TradeFilled> for JournalEvent {
    #[inline]
    fn from(mut r: TradeFilled) -> Self {
        r.0.kind = JournalKind::TradeFilled as u8;
        bytemuck::cast(r)
    }
}

/// One journal slot: 64 bytes, 8-byte aligned, any [`JournalRecord`].
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct JournalEvent {
    bytes: [u64; 8],
}

impl JournalEvent {
    /// The record kind (`None` for a corrupt slot).
    #[inline]
    pub fn kind(&self) -> Option<JournalKind> {
        JournalKind::from_u8(self.bytes[0].to_le_bytes()[0])
    }

    /// A typed view of the record, if it is of type `T`. Never copies.
    #[inline]
    pub fn get<T: JournalRecord>(&self) -> Option<&T> {
        if self.kind() == Some(T::KIND) {
            Some(bytemuck::cast_ref(self))
        } else {
            None
        }
    }

    /// The input sequence that produced this record (same offset in every record type).
    #[inline]
    pub fn seq(&self) -> u64 {
        // Every record type has `seq` at byte offset 16 (checked at compile time below).
        self.bytes[2]
    }
}

const _: () = {
    assert!(core::mem::size_of::<JournalEvent>() == 64);
    assert!(core::mem::offset_of!(TradeSignal, seq) == 16);
    assert!(core::mem::offset_of!(Fill, seq) == 16);
    assert!(core::mem::offset_of!(RollupChange, seq) == 16);
    assert!(core::mem::offset_of!(OrderUpdate, seq) == 16);
    assert!(core::mem::offset_of!(RiskEvent, seq) == 16);
    assert!(core::mem::offset_of!(AccountPolicy, seq) == 16);
    assert!(core::mem::offset_of!(Control, seq) == 16);
    assert!(core::mem::size_of::<TradeFilled>() == 64);
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trip_and_kind_mismatch() {
        let f = Fill { account: 7, symbol: 3, seq: 99, qty: 2.5, ..Default::default() };
        let j = JournalEvent::from(f);
        assert_eq!(j.kind(), Some(JournalKind::Fill));
        assert_eq!(j.seq(), 99);
        let back = j.get::<Fill>().unwrap();
        assert_eq!(back.account, 7);
        assert_eq!(back.qty, 2.5);
        assert!(j.get::<TradeSignal>().is_none());
        let t = TradeSignal { account: 3, seq: 5, qty: 1.0, ..Default::default() };
        let j = JournalEvent::from(TradeFilled(t));
        assert_eq!((j.kind(), j.seq()), (Some(JournalKind::TradeFilled), 5));
        assert_eq!(j.get::<TradeFilled>().unwrap().0.account, 3);
        assert!(j.get::<TradeSignal>().is_none(), "a TradeFilled is not read as a plain decision");
        assert_eq!(JournalEvent::default().kind(), None);
    }
}
