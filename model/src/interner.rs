//! Interning of names (accounts, symbols, strategies) to dense `u32` ids.
//! Used only at the edges (config load, feed decoding, output): it allocates.

use std::collections::HashMap;

/// Maps names to dense ids `0..len()` in first-seen order and back.
#[derive(Clone, Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of `name`, assigning the next dense id if it is new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// The id of `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    /// The name of `id`, if assigned.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize).map(String::as_str)
    }

    /// Number of names interned.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True if no name was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// All names in id order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ids_in_first_seen_order() {
        let mut i = Interner::new();
        assert_eq!(i.intern("SYM001"), 0);
        assert_eq!(i.intern("SYM000"), 1);
        assert_eq!(i.intern("SYM001"), 0);
        assert_eq!(i.get("SYM000"), Some(1));
        assert_eq!(i.get("nope"), None);
        assert_eq!(i.name(1), Some("SYM000"));
        assert_eq!(i.name(2), None);
        assert_eq!(i.len(), 2);
    }
}
