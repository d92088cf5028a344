//! Giving back the memory of tables that shrank: a flood fills the endpoint's maps, and
//! they must not keep its size once it has passed.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hash};

/// Entries below which a map keeps its capacity whatever it holds.
const KEEP: usize = 64;

/// Shrinks `map` when at most a quarter of its capacity is used, to twice what it holds.
/// Called after each removal; each shrink follows at least `capacity / 2` removals since
/// the map was last that large, so the cost is O(1) per removal amortized.
pub(crate) fn release<K: Eq + Hash, V, S: BuildHasher>(map: &mut HashMap<K, V, S>) {
    let capacity = map.capacity();
    if capacity > KEEP && map.len().saturating_mul(4) <= capacity {
        map.shrink_to(map.len().saturating_mul(2).max(KEEP));
    }
}

/// [`release`] for a set.
pub(crate) fn release_set<K: Eq + Hash, S: BuildHasher>(set: &mut HashSet<K, S>) {
    let capacity = set.capacity();
    if capacity > KEEP && set.len().saturating_mul(4) <= capacity {
        set.shrink_to(set.len().saturating_mul(2).max(KEEP));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_that_emptied_gives_its_memory_back() {
        let mut map: HashMap<u32, u32> = HashMap::new();
        for i in 0..100_000 {
            map.insert(i, i);
        }
        let full = map.capacity();
        for i in 0..100_000 {
            map.remove(&i);
            release(&mut map);
        }
        assert!(map.capacity() <= 2 * KEEP, "{} of {full}", map.capacity());
    }
}
