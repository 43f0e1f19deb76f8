//! Sizing: the quantity of a BUY. SELLs always close the whole position.
//!
//! - `constant`: `default_qty`.
//! - `volatility`: `qty = capital * risk_fraction * strength / (price * vol)`,
//!   where `vol` is the symbol's EWMA volatility of close-to-close returns
//!   (floored at `vol_floor`), rounded down to a whole lot and capped at
//!   `max_qty`; below `min_qty` the order is dropped (`zero_qty`).
//!
//! Hot-path rules: no allocation after [`Sizer::new`]; `observe` is O(1).

use tradeengine_model::SymbolId;

/// Which sizing model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SizingModel {
    Constant,
    Volatility,
}

/// Sizing parameters (validated by the config loader).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizingParams {
    pub model: SizingModel,
    pub default_qty: f64,
    pub lot_size: f64,
    pub min_qty: f64,
    pub max_qty: f64,
    /// Fraction of capital put at risk per unit of signal strength.
    pub risk_fraction: f64,
    /// EWMA half-life of the volatility estimate, in closes.
    pub vol_halflife: f64,
    /// Volatility used below this (and before two closes were seen).
    pub vol_floor: f64,
}

impl Default for SizingParams {
    fn default() -> Self {
        Self {
            model: SizingModel::Constant,
            default_qty: 1.0,
            lot_size: 1.0,
            min_qty: 1.0,
            max_qty: 1_000_000.0,
            risk_fraction: 0.01,
            vol_halflife: 20.0,
            vol_floor: 0.001,
        }
    }
}

/// The sizing stage, with per-symbol volatility state.
#[derive(Debug)]
pub struct Sizer {
    p: SizingParams,
    alpha: f64,
    last_close: Vec<f64>,
    variance: Vec<f64>,
}

impl Sizer {
    /// A sizer for `symbols` symbols. Start-up only.
    pub fn new(p: SizingParams, symbols: usize) -> Self {
        let alpha = 1.0 - 0.5f64.powf(1.0 / p.vol_halflife.max(1.0));
        Self { p, alpha, last_close: vec![0.0; symbols], variance: vec![0.0; symbols] }
    }

    /// The parameters.
    pub fn params(&self) -> &SizingParams {
        &self.p
    }

    /// Feeds a close of `s` into its volatility estimate (no-op for `constant`).
    #[inline]
    pub fn observe(&mut self, s: SymbolId, close: f64) {
        if self.p.model != SizingModel::Volatility {
            return;
        }
        let i = s as usize;
        let prev = self.last_close[i];
        if prev > 0.0 {
            let r = close / prev - 1.0;
            self.variance[i] += self.alpha * (r * r - self.variance[i]);
        }
        self.last_close[i] = close;
    }

    /// Current volatility estimate of `s` (per close, floored).
    #[inline]
    pub fn volatility(&self, s: SymbolId) -> f64 {
        self.variance[s as usize].sqrt().max(self.p.vol_floor)
    }

    /// Quantity of a BUY of `s` at `price` with `strength`, for an account
    /// with `capital`. 0 means "below one tradable lot": drop.
    #[inline]
    pub fn buy_qty(&self, s: SymbolId, strength: f64, price: f64, capital: f64) -> f64 {
        match self.p.model {
            SizingModel::Constant => self.p.default_qty,
            SizingModel::Volatility => {
                let strength = strength.clamp(0.0, 1.0);
                let raw = capital * self.p.risk_fraction * strength / (price * self.volatility(s));
                if !raw.is_finite() {
                    return 0.0;
                }
                let lots = (raw / self.p.lot_size).floor();
                let q = (lots * self.p.lot_size).min(self.p.max_qty);
                if q.is_finite() && q >= self.p.min_qty {
                    q
                } else {
                    0.0
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol_params() -> SizingParams {
        SizingParams {
            model: SizingModel::Volatility,
            lot_size: 10.0,
            min_qty: 10.0,
            max_qty: 5_000.0,
            risk_fraction: 0.01,
            ..Default::default()
        }
    }

    #[test]
    fn constant_model_ignores_inputs() {
        let s = Sizer::new(SizingParams::default(), 4);
        assert_eq!(s.buy_qty(0, 0.0, 123.0, 1.0), 1.0);
        assert_eq!(s.buy_qty(3, 1.0, 1e-3, 1e12), 1.0);
    }

    #[test]
    fn volatility_model_bounds_and_lots() {
        let mut s = Sizer::new(vol_params(), 2);
        // Before any return is seen, the floor (0.001) applies: raw = 1e6*0.01*0.5/(100*0.001) = 50,000 → capped.
        assert_eq!(s.buy_qty(0, 0.5, 100.0, 1e6), 5_000.0);
        for i in 0..200 {
            s.observe(0, if i % 2 == 0 { 100.0 } else { 102.0 });
        }
        let vol = s.volatility(0);
        assert!(vol > 0.015 && vol < 0.025, "vol {vol}");
        let q = s.buy_qty(0, 0.5, 100.0, 1e6);
        assert_eq!(q % 10.0, 0.0, "whole lots");
        assert!(q > 0.0 && q < 5_000.0, "{q}");
        assert!(s.buy_qty(0, 1.0, 100.0, 1e6) > q, "stronger signal, larger order");
        assert!(s.buy_qty(0, 0.5, 100.0, 2e6) > q, "more capital, larger order");
        assert_eq!(s.buy_qty(0, 0.0, 100.0, 1e6), 0.0, "no strength, no order");
        assert_eq!(s.buy_qty(0, 0.001, 100.0, 1e4), 0.0, "below min_qty");
        assert_eq!(s.buy_qty(0, 7.0, 100.0, 1e6), s.buy_qty(0, 1.0, 100.0, 1e6), "strength clamped");
        assert_eq!(s.buy_qty(1, 0.5, 0.0, 1e6), 0.0, "non-finite size is no order");
    }
}
