//! `[partition]`: scale-out across engines. Each engine owns a disjoint
//! slice of the accounts and takes the signals of a disjoint slice of the
//! symbols; the slices come from one rule every engine computes alike, so
//! no coordination is needed and no account is ever routed by two engines.
//!
//! Rule: FNV-1a (64-bit) of the name, modulo `members`; the engine with
//! `member` equal to it owns the account / takes the symbol. Because one
//! engine takes every signal of a symbol and routes it only to its own
//! accounts, a SELL always finds its holders on the engine that bought.

use serde::{Deserialize, Serialize};

/// `[partition]`: how many engines share the accounts and which one this is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartitionSection {
    /// Engines sharing the accounts (1: this engine owns everything).
    pub members: u32,
    /// This engine's slice, `0..members`.
    pub member: u32,
}

impl Default for PartitionSection {
    fn default() -> Self {
        Self { members: 1, member: 0 }
    }
}

impl PartitionSection {
    /// True when the accounts are split between several engines.
    pub fn is_split(&self) -> bool {
        self.members > 1
    }

    /// The member that owns `name` (an account or a symbol).
    pub fn owner_of(&self, name: &str) -> u32 {
        (fnv1a(name.as_bytes()) % u64::from(self.members.max(1))) as u32
    }

    /// Does this engine own (route, or take signals of) `name`?
    pub fn owns(&self, name: &str) -> bool {
        self.owner_of(name) == self.member
    }

    /// By index, which of `names` (accounts, or symbols) this engine owns;
    /// `None` when the work is not split (it owns everything).
    pub fn owned(&self, names: &[String]) -> Option<Vec<bool>> {
        self.is_split().then(|| names.iter().map(|n| self.owns(n)).collect())
    }

    /// The error, if the section is inconsistent.
    pub fn check(&self) -> Result<(), String> {
        if self.members == 0 || self.member >= self.members {
            return Err(format!(
                "keys `partition.members` = {} and `partition.member` = {}: member must be in 0..members",
                self.members, self.member
            ));
        }
        Ok(())
    }
}

/// 64-bit FNV-1a: stable across platforms and releases (the partition rule
/// must not change under running engines).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_exactly_one_owner() {
        let parts: Vec<_> = (0..3).map(|m| PartitionSection { members: 3, member: m }).collect();
        let mut counts = [0; 3];
        for i in 0..3000 {
            let name = format!("ACC-{i:04}");
            let owners: Vec<u32> = parts.iter().filter(|p| p.owns(&name)).map(|p| p.member).collect();
            assert_eq!(owners.len(), 1, "{name}");
            counts[owners[0] as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 800), "roughly even: {counts:?}");
    }

    #[test]
    fn the_rule_is_fnv1a_and_stable() {
        // Known FNV-1a 64 values: "" and "a".
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert!(PartitionSection::default().owns("anything"));
    }

    #[test]
    fn a_member_outside_the_range_is_refused() {
        let e = PartitionSection { members: 2, member: 2 }.check().unwrap_err();
        assert!(e.contains("partition.member"), "{e}");
        assert!(PartitionSection { members: 0, member: 0 }.check().is_err());
    }
}
