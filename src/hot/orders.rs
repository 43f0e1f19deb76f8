//! Orders in flight: a fixed-capacity table keyed by order id (open
//! addressing, linear probing, backward-shift deletion) and the order state
//! machine.
//!
//! Hot-path rules: no allocation after [`OrderTable::new`]; every operation
//! is O(1) expected at the configured load (at most half full).

use tradeengine_model::{AccountId, OrderState, Route, Side, SymbolId};

/// One order in flight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Order {
    pub id: u64,
    pub account: AccountId,
    pub symbol: SymbolId,
    pub side: Side,
    pub route: Route,
    pub state: OrderState,
    pub qty: f64,
    pub price: f64,
    pub cum_qty: f64,
    /// Input sequence of the signal that created it.
    pub seq: u64,
}

impl Order {
    /// Quantity not yet filled.
    #[inline]
    pub fn leaves_qty(&self) -> f64 {
        (self.qty - self.cum_qty).max(0.0)
    }
}

/// Why an order transition was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransitionError {
    /// No order in flight has this id (unknown, or already terminal).
    UnknownOrder,
    /// The order's state does not allow this event.
    InvalidTransition { from: OrderState, to: OrderState },
}

/// Checks one step of the state machine.
#[inline]
pub fn transition(from: OrderState, to: OrderState) -> Result<OrderState, TransitionError> {
    use OrderState::*;
    let ok = matches!(
        (from, to),
        (New, Acked | PartiallyFilled | Filled | Cancelled | Rejected)
            | (Acked, PartiallyFilled | Filled | Cancelled | Rejected)
            | (PartiallyFilled, PartiallyFilled | Filled | Cancelled)
    );
    if ok {
        Ok(to)
    } else {
        Err(TransitionError::InvalidTransition { from, to })
    }
}

const EMPTY: u64 = 0;

/// Orders in flight, keyed by id (0 is never a valid id).
#[derive(Debug)]
pub struct OrderTable {
    keys: Vec<u64>,
    orders: Vec<Order>,
    mask: usize,
    live: usize,
    capacity: usize,
}

impl OrderTable {
    /// Room for `capacity` orders in flight. Start-up only.
    pub fn new(capacity: usize) -> Self {
        let slots = (capacity.max(1) * 2).next_power_of_two();
        let blank = Order {
            id: 0,
            account: 0,
            symbol: 0,
            side: Side::Buy,
            route: Route::None,
            state: OrderState::New,
            qty: 0.0,
            price: 0.0,
            cum_qty: 0.0,
            seq: 0,
        };
        Self { keys: vec![EMPTY; slots], orders: vec![blank; slots], mask: slots - 1, live: 0, capacity }
    }

    /// Orders in flight.
    #[inline]
    pub fn live(&self) -> usize {
        self.live
    }

    /// True if no more orders fit.
    #[inline]
    pub fn is_full(&self) -> bool {
        self.live >= self.capacity
    }

    #[inline]
    fn home(&self, id: u64) -> usize {
        // Ids are sequence-derived and mostly consecutive: identity hashing
        // keeps the live orders in neighbouring slots (cache friendly) and
        // cannot collide until ids `capacity * 2` apart are in flight together.
        id as usize & self.mask
    }

    /// Inserts a new order; false if the table is full or the id is 0 / in use.
    #[inline]
    pub fn insert(&mut self, o: Order) -> bool {
        if o.id == EMPTY || self.is_full() {
            return false;
        }
        let mut i = self.home(o.id);
        loop {
            let k = self.keys[i];
            if k == EMPTY {
                self.keys[i] = o.id;
                self.orders[i] = o;
                self.live += 1;
                return true;
            }
            if k == o.id {
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn slot_of(&self, id: u64) -> Option<usize> {
        // Nothing in flight (the inline venue): no probe into the table.
        if id == EMPTY || self.live == 0 {
            return None;
        }
        let mut i = self.home(id);
        loop {
            let k = self.keys[i];
            if k == id {
                return Some(i);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & self.mask;
        }
    }

    /// The order with this id, if in flight.
    #[inline]
    pub fn get(&self, id: u64) -> Option<&Order> {
        self.slot_of(id).map(|i| &self.orders[i])
    }

    /// The order with this id, if in flight, mutable.
    #[inline]
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Order> {
        self.slot_of(id).map(|i| &mut self.orders[i])
    }

    /// Removes the order (when it reaches a terminal state). Returns it.
    #[inline]
    pub fn remove(&mut self, id: u64) -> Option<Order> {
        let mut hole = self.slot_of(id)?;
        let out = self.orders[hole];
        self.live -= 1;
        // Backward-shift deletion keeps every probe chain unbroken.
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let k = self.keys[j];
            if k == EMPTY {
                break;
            }
            let h = self.home(k);
            let between = if hole <= j { hole < h && h <= j } else { hole < h || h <= j };
            if !between {
                self.keys[hole] = k;
                self.orders[hole] = self.orders[j];
                hole = j;
            }
        }
        self.keys[hole] = EMPTY;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(id: u64) -> Order {
        Order {
            id,
            account: 1,
            symbol: 2,
            side: Side::Buy,
            route: Route::Open,
            state: OrderState::New,
            qty: 1.0,
            price: 1.0,
            cum_qty: 0.0,
            seq: id,
        }
    }

    #[test]
    fn state_machine() {
        use OrderState::*;
        assert_eq!(transition(New, Acked), Ok(Acked));
        assert_eq!(transition(Acked, PartiallyFilled), Ok(PartiallyFilled));
        assert_eq!(transition(PartiallyFilled, Filled), Ok(Filled));
        assert_eq!(transition(New, Filled), Ok(Filled));
        assert!(transition(Filled, Cancelled).is_err());
        assert!(transition(Rejected, Acked).is_err());
        assert!(transition(PartiallyFilled, Rejected).is_err());
        assert!(transition(Acked, New).is_err());
    }

    #[test]
    fn insert_get_remove_under_churn() {
        let mut t = OrderTable::new(64);
        let mut live = std::collections::BTreeSet::new();
        let mut rng = 99u64;
        for id in 1..20_000u64 {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if live.len() < 64 {
                assert!(t.insert(order(id)));
                live.insert(id);
            } else {
                assert!(!t.insert(order(id)), "full table refuses");
            }
            if rng >> 62 != 0 && !live.is_empty() {
                let victim = *live.iter().nth((rng as usize >> 8) % live.len()).unwrap();
                assert_eq!(t.remove(victim).map(|o| o.id), Some(victim));
                live.remove(&victim);
            }
            for &k in live.iter().take(3) {
                assert_eq!(t.get(k).map(|o| o.id), Some(k));
            }
            assert_eq!(t.live(), live.len());
        }
        assert!(t.get(0).is_none());
        assert!(!t.insert(order(0)));
        let some = *live.iter().next().unwrap();
        assert!(!t.insert(order(some)), "duplicate id refused");
        t.get_mut(some).unwrap().cum_qty = 0.5;
        assert_eq!(t.get(some).unwrap().leaves_qty(), 0.5);
    }
}
