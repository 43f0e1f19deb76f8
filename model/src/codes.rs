//! Small `u8` enumerations stored inside Pod events, with their wire values
//! and printable names. Every enum converts from its `u8` with `from_u8`,
//! which returns `None` for an unknown value instead of panicking.

macro_rules! u8_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($(#[$vmeta])* $variant = $value),+ }

        impl $name {
            /// Every variant, in wire-value order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Decodes a wire value; `None` for a value no variant has.
            #[inline]
            pub const fn from_u8(v: u8) -> Option<Self> {
                match v { $($value => Some($name::$variant),)+ _ => None }
            }

            /// The stable, printable name (used in CSV, metrics and summaries).
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

u8_enum!(
    /// Direction of a signal or an order.
    Side { Buy = 1 => "BUY", Sell = 2 => "SELL" }
);

u8_enum!(
    /// Account status: BLOCKED accounts may still SELL to close.
    AccountStatus { Active = 1 => "ACTIVE", Blocked = 2 => "BLOCKED" }
);

u8_enum!(
    /// The outcome of one routing decision: `Routed`, or the reason it was dropped.
    Outcome {
        Routed = 0 => "routed",
        /// BUY: no ACTIVE account has capacity for the symbol (and no holder for scale-in).
        NoEligibleAccount = 1 => "no_eligible_account",
        /// SELL: no account holds the symbol.
        NoHolder = 2 => "no_holder",
        /// The symbol id is outside the configured symbol capacity.
        UnknownSymbol = 3 => "unknown_symbol",
        /// The global kill switch is on.
        KillSwitch = 4 => "kill_switch",
        /// The chosen account's kill switch is on.
        AccountKilled = 5 => "account_killed",
        /// Order quantity above the account's `max_order_qty`.
        MaxOrderQty = 6 => "max_order_qty",
        /// Order notional above the account's `max_order_notional`.
        MaxOrderNotional = 7 => "max_order_notional",
        /// The account already has `max_open_orders` orders in flight.
        MaxOpenOrders = 8 => "max_open_orders",
        /// The order would take the account's capital usage above its limit.
        CapitalUsage = 9 => "capital_usage",
        /// Every preallocated order slot is in use.
        OrderPoolFull = 10 => "order_pool_full",
        /// Sizing produced a quantity of zero (below one lot).
        ZeroQty = 11 => "zero_qty",
        /// The signal is malformed (non-finite or non-positive price, unknown side).
        InvalidSignal = 12 => "invalid_signal",
        /// SELL: every holder already has a closing order in flight.
        CloseInFlight = 13 => "close_in_flight",
        /// BUY blocked for the account by a post-trade risk control.
        BuysBlocked = 14 => "buys_blocked",
        /// Every preallocated position record is in use.
        PositionPoolFull = 15 => "position_pool_full",
    }
);

impl Outcome {
    /// True for every outcome except `Routed`.
    #[inline]
    pub const fn is_drop(self) -> bool {
        !matches!(self, Outcome::Routed)
    }

    /// True when the drop came from a pre-trade risk rule (journaled as a risk event too).
    #[inline]
    pub const fn is_risk_reject(self) -> bool {
        matches!(
            self,
            Outcome::KillSwitch
                | Outcome::AccountKilled
                | Outcome::MaxOrderQty
                | Outcome::MaxOrderNotional
                | Outcome::MaxOpenOrders
                | Outcome::CapitalUsage
                | Outcome::BuysBlocked
        )
    }
}

u8_enum!(
    /// How a routed order relates to the account's position.
    Route {
        /// No route (dropped decision).
        None = 0 => "none",
        /// BUY into a symbol the account did not hold (uses one `maxOpenSymbols` slot).
        Open = 1 => "open",
        /// BUY into a symbol the account already holds (scale-in).
        ScaleIn = 2 => "scale_in",
        /// SELL closing the account's whole position.
        Close = 3 => "close",
    }
);

u8_enum!(
    /// Order life cycle: New → Acked → PartiallyFilled → Filled, or Cancelled / Rejected.
    OrderState {
        New = 1 => "NEW",
        Acked = 2 => "ACKED",
        PartiallyFilled = 3 => "PARTIALLY_FILLED",
        Filled = 4 => "FILLED",
        Cancelled = 5 => "CANCELLED",
        Rejected = 6 => "REJECTED",
    }
);

impl OrderState {
    /// Terminal states free the order's slot.
    #[inline]
    pub const fn is_terminal(self) -> bool {
        matches!(self, OrderState::Filled | OrderState::Cancelled | OrderState::Rejected)
    }
}

u8_enum!(
    /// What an execution report says happened.
    ExecType {
        Ack = 1 => "ACK",
        Fill = 2 => "FILL",
        Cancelled = 3 => "CANCELLED",
        Rejected = 4 => "REJECTED",
    }
);

u8_enum!(
    /// Rollup change operation, as in the `open_positions_rollup` changelog.
    RollupOp { Upsert = 1 => "UPSERT", Delete = 2 => "DELETE" }
);

u8_enum!(
    /// Order type sent to the venue.
    OrderType { Market = 1 => "MARKET", Limit = 2 => "LIMIT" }
);

u8_enum!(
    /// Operator / risk control actions applied by the hot thread.
    ControlOp {
        /// Global kill switch on: no new orders at all.
        KillAll = 1 => "kill_all",
        /// Global kill switch off.
        ReleaseAll = 2 => "release_all",
        /// Per-account kill switch on.
        KillAccount = 3 => "kill_account",
        /// Per-account kill switch off.
        ReleaseAccount = 4 => "release_account",
        /// Set the account's status (`value` is an [`AccountStatus`]).
        SetStatus = 5 => "set_status",
        /// Block new BUYs for the account (SELLs to close still allowed).
        BlockBuys = 6 => "block_buys",
        /// Allow BUYs for the account again.
        AllowBuys = 7 => "allow_buys",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u8_round_trip_and_unknown_values() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::from_u8(*o as u8), Some(*o));
        }
        assert_eq!(Outcome::from_u8(200), None);
        assert_eq!(Side::from_u8(0), None);
        assert_eq!(Side::Buy.name(), "BUY");
        assert!(Outcome::CapitalUsage.is_risk_reject());
        assert!(!Outcome::NoHolder.is_risk_reject());
        assert!(OrderState::Rejected.is_terminal());
        assert!(!OrderState::Acked.is_terminal());
    }
}
