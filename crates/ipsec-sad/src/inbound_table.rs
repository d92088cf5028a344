//! The inbound SAs by SPI (RFC 4301 §4.4.2): a hash map from SPI to an index into a dense
//! vector of entries. The map's buckets are 8 bytes (SPI and index), so a million SAs'
//! buckets fit in the last-level cache, and finding an entry touches only the map: the
//! entries, with their key schedules, are not read until the packet is processed. Removal
//! moves the last entry into the hole.

use std::collections::HashMap;

use foldhash::fast::FixedState;

/// The seed of the SPI map's hash. SPIs are ours, chosen at random (RFC 4301 §4.1), so a
/// fixed-seed fast hash is safe: a peer can probe the table but not shape it.
const SPI_HASH_SEED: u64 = 0x6970_7365_632d_7361;

#[derive(Debug)]
pub(crate) struct InboundTable<E> {
    index: HashMap<u32, u32, FixedState>,
    entries: Vec<E>,
    /// The SPI of each entry, to re-index the one a removal moves.
    spis: Vec<u32>,
}

impl<E> InboundTable<E> {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            index: HashMap::with_capacity_and_hasher(
                capacity,
                FixedState::with_seed(SPI_HASH_SEED),
            ),
            entries: Vec::with_capacity(capacity),
            spis: Vec::with_capacity(capacity),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn contains(&self, spi: u32) -> bool {
        self.index.contains_key(&spi)
    }

    pub(crate) fn get(&self, spi: u32) -> Option<&E> {
        let at = *self.index.get(&spi)?;
        self.entries.get(at as usize)
    }

    pub(crate) fn get_mut(&mut self, spi: u32) -> Option<&mut E> {
        let at = *self.index.get(&spi)?;
        self.entries.get_mut(at as usize)
    }

    /// Installs `entry` under `spi`; gives it back if the SPI is taken or the table holds
    /// 2^32 entries already.
    pub(crate) fn insert(&mut self, spi: u32, entry: E) -> Result<(), E> {
        let Ok(at) = u32::try_from(self.entries.len()) else {
            return Err(entry);
        };
        if self.index.contains_key(&spi) {
            return Err(entry);
        }
        self.index.insert(spi, at);
        self.spis.push(spi);
        self.entries.push(entry);
        Ok(())
    }

    pub(crate) fn remove(&mut self, spi: u32) -> Option<E> {
        let at = self.index.remove(&spi)? as usize;
        if at >= self.entries.len() {
            return None;
        }
        let entry = self.entries.swap_remove(at);
        self.spis.swap_remove(at);
        if let (Some(moved), Ok(at)) = (self.spis.get(at), u32::try_from(at)) {
            self.index.insert(*moved, at);
        }
        Some(entry)
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &E> + '_ {
        self.entries.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::InboundTable;

    #[test]
    fn removal_moves_the_last_entry_and_keeps_every_spi_found() {
        let mut table = InboundTable::with_capacity(2);
        for (spi, name) in [(0x1000, "a"), (0x2000, "b"), (0x3000, "c")] {
            assert!(table.insert(spi, name).is_ok());
        }
        assert_eq!(table.insert(0x1000, "again"), Err("again"));
        assert_eq!(table.remove(0x1000), Some("a"));
        assert_eq!(table.remove(0x1000), None);
        assert_eq!(table.get(0x1000), None);
        assert_eq!(
            table.get(0x3000),
            Some(&"c"),
            "the moved entry is re-indexed"
        );
        assert_eq!(table.get(0x2000), Some(&"b"));
        assert_eq!(table.remove(0x3000), Some("c"));
        assert_eq!(table.get(0x2000), Some(&"b"));
        assert!(table.insert(0x4000, "d").is_ok());
        assert_eq!(table.len(), 2);
        let mut names: Vec<_> = table.values().copied().collect();
        names.sort_unstable();
        assert_eq!(names, ["b", "d"]);
    }
}
