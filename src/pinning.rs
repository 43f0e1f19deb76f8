//! CPU pinning: resolves the configured core layout against the machine and
//! pins threads. Where pinning is impossible the engine still runs (slower)
//! and the layout says why. Cold path.

use crate::config::{parse_core_list, parse_core_spec, Config, CoreChoice, CoreListChoice};

/// Which cores the hot and cold threads run on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreLayout {
    /// The hot thread's core (`None`: unpinned).
    pub hot: Option<usize>,
    /// The cold threads' cores (empty: unpinned).
    pub cold: Vec<usize>,
    /// Cores the machine lets this process use.
    pub available: Vec<usize>,
    /// Why something is not pinned as configured (empty when all is well).
    pub warnings: Vec<String>,
}

impl CoreLayout {
    /// Resolves `[engine] hot_core / cold_cores` against the available cores.
    pub fn resolve(cfg: &Config) -> Self {
        let available: Vec<usize> =
            core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect();
        let mut warnings = Vec::new();
        let hot = match parse_core_spec(&cfg.engine.hot_core).unwrap_or(CoreChoice::Auto) {
            CoreChoice::Unpinned => None,
            CoreChoice::Auto if available.len() >= 2 => available.last().copied(),
            CoreChoice::Auto => {
                warnings.push(format!(
                    "hot thread not pinned: only {} core(s) available, a dedicated core needs at least 2",
                    available.len()
                ));
                None
            }
            CoreChoice::Core(c) if available.contains(&c) => Some(c),
            CoreChoice::Core(c) => {
                warnings.push(format!("hot thread not pinned: core {c} is not available (available: {available:?})"));
                None
            }
        };
        let cold = match parse_core_list(&cfg.engine.cold_cores).unwrap_or(CoreListChoice::Auto) {
            CoreListChoice::Unpinned => Vec::new(),
            CoreListChoice::Auto => available.iter().copied().filter(|c| Some(*c) != hot).collect(),
            CoreListChoice::Cores(v) => {
                let (ok, bad): (Vec<usize>, Vec<usize>) = v.into_iter().partition(|c| available.contains(c));
                if !bad.is_empty() {
                    warnings.push(format!("cold cores {bad:?} are not available and were skipped"));
                }
                if let Some(h) = hot.filter(|h| ok.contains(h)) {
                    warnings
                        .push(format!("cold cores include the hot core {h}: cold threads will disturb the hot thread"));
                }
                ok
            }
        };
        Self { hot, cold, available, warnings }
    }

    /// The core for the `i`-th cold thread (round-robin over the cold cores).
    pub fn cold_core(&self, i: usize) -> Option<usize> {
        if self.cold.is_empty() {
            None
        } else {
            Some(self.cold[i % self.cold.len()])
        }
    }
}

/// Pins the calling thread to `core`; returns false if that failed or `core` is `None`.
pub fn pin_current(core: Option<usize>) -> bool {
    match core {
        Some(id) => core_affinity::set_for_current(core_affinity::CoreId { id }),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_layout_separates_hot_and_cold() {
        let l = CoreLayout::resolve(&Config::builtin());
        if l.available.len() >= 2 {
            let hot = l.hot.expect("auto pins the hot thread when there are 2+ cores");
            assert!(!l.cold.contains(&hot));
            assert_eq!(l.cold.len(), l.available.len() - 1);
            assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        } else {
            assert_eq!(l.hot, None);
            assert!(!l.warnings.is_empty());
        }
    }

    #[test]
    fn impossible_core_is_reported_not_fatal() {
        let c = Config::from_toml_str("[engine]\nhot_core = 4000\ncold_cores = [4001]\n", "t").unwrap();
        let l = CoreLayout::resolve(&c);
        assert_eq!(l.hot, None);
        assert!(l.cold.is_empty());
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(l.warnings[0].contains("core 4000 is not available"));
        assert!(!pin_current(None));
    }
}
