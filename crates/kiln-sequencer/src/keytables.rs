//! Precomputed tables of senders' public keys ([`PointTable`]), so that an account that
//! sends again has its signatures verified with about a third of the curve arithmetic.
//! A table is built at an account's second transaction (a sender seen once pays nothing
//! extra), outside any lock, and kept for at most [`MAX_TABLES`] accounts (about 2 KB
//! each); past that an arbitrary one makes room. Each table is stored with its key and
//! used only for that key.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use kiln_rollup::babyjub::{Point, PointTable};

/// Most tables kept (about 34 MB).
pub const MAX_TABLES: usize = 16_384;
/// Most accounts remembered as seen once.
const MAX_SEEN: usize = 4 * MAX_TABLES;

#[derive(Default)]
struct Cache {
    tables: HashMap<u32, (Point, Arc<PointTable>)>,
    seen_once: HashSet<u32>,
}

/// The tables of recent senders' keys.
#[derive(Default)]
pub struct KeyTables {
    cache: Mutex<Cache>,
}

impl KeyTables {
    /// The table of `key`, the key of account `index`, if it has sent before (building it
    /// at its second transaction); `None` for a first transaction.
    pub fn get(&self, index: u32, key: &Point) -> Option<Arc<PointTable>> {
        {
            let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            match c.tables.get(&index) {
                Some((k, t)) if k == key => return Some(t.clone()),
                _ => {}
            }
            if c.seen_once.len() >= MAX_SEEN {
                c.seen_once.clear();
            }
            if c.seen_once.insert(index) {
                return None;
            }
            c.seen_once.remove(&index);
        }
        let table = Arc::new(PointTable::new(key));
        let mut c = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if c.tables.len() >= MAX_TABLES && !c.tables.contains_key(&index) {
            if let Some(&victim) = c.tables.keys().next() {
                c.tables.remove(&victim);
            }
        }
        c.tables.insert(index, (*key, table.clone()));
        Some(table)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_rollup::wallet::key_from_seed;

    #[test]
    fn a_table_is_built_at_the_second_use_and_only_for_its_key() {
        let tables = KeyTables::default();
        let (a, b) = (key_from_seed(1).public(), key_from_seed(2).public());
        assert!(tables.get(5, &a).is_none());
        let t = tables.get(5, &a).expect("built at the second use");
        assert!(Arc::ptr_eq(&t, &tables.get(5, &a).unwrap()));
        // Another key at the same index never gets the first key's table.
        assert!(tables.get(5, &b).is_none());
        let tb = tables.get(5, &b).unwrap();
        assert!(!Arc::ptr_eq(&t, &tb));
    }
}
