//! Per-SA outbound policies: each installed outbound SA is found by the traffic selectors
//! it was negotiated for, as the kernel finds the per-SA policies charon installs
//! (RFC 4301 §4.4.1.2: the SPD-S entries made for negotiated SAs; §5.1: an outbound packet
//! goes out on an SA whose selectors it matches).
//!
//! A gateway connection whose remote side is a /16 serves any number of peers, each with
//! its own narrowed selectors and SAs, so the SA for a packet cannot be a property of the
//! configured entry. This index finds it without scanning the SAs.
//!
//! # The index
//!
//! Every selector is filed under the narrower of its two address ranges (local or remote),
//! covered by at most two prefixes, in one of four tables (IPv4 and IPv6, local and
//! remote). A table is a hash map from (prefix length, prefix) to the selectors filed
//! there, and the set of prefix lengths in use. A lookup probes, in the two tables of the
//! packet's family, one bucket per prefix length in use, and checks every selector of those
//! buckets in full. So it costs one hash probe per prefix length in use (one, typically, on
//! a gateway whose peers each have a /32) plus the selectors that share a bucket with the
//! packet's address: independent of the number of SAs.
//!
//! # Which SA wins
//!
//! When several SAs' selectors match a packet, the most specific selector wins, as charon
//! ranks the kernel policies it installs: the most fixed address bits (local plus remote),
//! then a named protocol, then the most fixed port bits. Among equals the SA installed last
//! wins, so that a rekey's successor takes over from the SA it replaces, and a peer that
//! reconnects takes over from its stale SAs.

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::{FixedState, RandomState};

use crate::flow::Flow;
use crate::sad::OutboundHandle;
use crate::selector::{AddrRange, Direction, NextLayer, Selector};

/// The seed of the handle map: handles are ours, not chosen by any peer.
const HANDLE_HASH_SEED: u64 = 0x7361_2d70_6f6c_6963;

/// How one selector ranks against another that also matches (larger wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    address_bits: u16,
    protocol: bool,
    port_bits: u16,
    /// Install order: a later SA wins among equally specific ones.
    sequence: u64,
}

impl Rank {
    fn of(selector: &Selector, sequence: u64) -> Self {
        Self {
            address_bits: selector.local.fixed_bits() + selector.remote.fixed_bits(),
            protocol: selector.protocol != NextLayer::Any,
            port_bits: selector.local_port.fixed_bits() + selector.remote_port.fixed_bits(),
            sequence,
        }
    }
}

/// The four tables: IPv4 and IPv6, by local and by remote address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TableId {
    V4Local,
    V4Remote,
    V6Local,
    V6Remote,
}

impl TableId {
    fn index(self) -> usize {
        match self {
            Self::V4Local => 0,
            Self::V4Remote => 1,
            Self::V6Local => 2,
            Self::V6Remote => 3,
        }
    }
}

/// Where one selector is filed: a table and a prefix in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    table: TableId,
    len: u8,
    prefix: u128,
}

/// A selector filed in a bucket, with its SA and rank.
#[derive(Debug, Clone)]
struct Candidate {
    sa: OutboundHandle,
    selector: Selector,
    rank: Rank,
}

/// One table: selectors by prefix, and how many are filed under each prefix length.
#[derive(Debug, Clone, Default)]
struct Table {
    buckets: HashMap<(u8, u128), Vec<Candidate>, RandomState>,
    /// Selectors filed per prefix length, 0 to 128.
    per_length: Vec<u32>,
    /// The prefix lengths with selectors filed, in ascending order.
    lengths: Vec<u8>,
}

impl Table {
    fn file(&mut self, len: u8, prefix: u128, candidate: Candidate) {
        self.buckets
            .entry((len, prefix))
            .or_default()
            .push(candidate);
        if self.per_length.is_empty() {
            self.per_length = vec![0; 129];
        }
        if let Some(count) = self.per_length.get_mut(usize::from(len)) {
            *count += 1;
            if *count == 1
                && let Err(position) = self.lengths.binary_search(&len)
            {
                self.lengths.insert(position, len);
            }
        }
    }

    fn unfile(&mut self, len: u8, prefix: u128, sa: OutboundHandle) {
        let Some(bucket) = self.buckets.get_mut(&(len, prefix)) else {
            return;
        };
        let before = bucket.len();
        bucket.retain(|c| c.sa != sa);
        let removed = before - bucket.len();
        if bucket.is_empty() {
            self.buckets.remove(&(len, prefix));
        }
        if let Some(count) = self.per_length.get_mut(usize::from(len)) {
            *count = count.saturating_sub(u32::try_from(removed).unwrap_or(u32::MAX));
            if *count == 0 {
                self.lengths.retain(|l| *l != len);
            }
        }
        if self.buckets.is_empty() {
            // Give the memory back when the last SA goes.
            *self = Self::default();
        }
    }

    /// The best candidate for `flow` among the buckets that `address` falls in.
    fn best<'a>(
        &'a self,
        address: u128,
        width: u32,
        flow: &Flow,
        mut best: Option<&'a Candidate>,
    ) -> Option<&'a Candidate> {
        for &len in &self.lengths {
            let Some(bucket) = self.buckets.get(&(len, mask(address, len, width))) else {
                continue;
            };
            for candidate in bucket {
                if best.is_none_or(|b| candidate.rank > b.rank)
                    && candidate.selector.matches(flow, Direction::Outbound)
                {
                    best = Some(candidate);
                }
            }
        }
        best
    }
}

/// The first `len` bits of `address`, an address of `width` bits.
fn mask(address: u128, len: u8, width: u32) -> u128 {
    let host = width.saturating_sub(u32::from(len));
    address
        .checked_shr(host)
        .and_then(|a| a.checked_shl(host))
        .unwrap_or(0)
}

/// The longest prefix holding both `start` and `end`: its length and first address.
fn covering(start: u128, end: u128, width: u32) -> (u8, u128) {
    let differing = 128 - (start ^ end).leading_zeros();
    let len = width.saturating_sub(differing);
    let len = u8::try_from(len).unwrap_or(0);
    (len, mask(start, len, width))
}

/// At most two prefixes that together cover `start..=end`, each at most twice the size of
/// the part it covers: the covering prefix if the range fills it, else the prefixes
/// covering the range's parts in the lower and the upper half of it.
fn cover(start: u128, end: u128, width: u32) -> Vec<(u8, u128)> {
    let (len, prefix) = covering(start, end, width);
    let host = width.saturating_sub(u32::from(len));
    let last = prefix | u128::MAX.checked_shr(128 - host).unwrap_or(0);
    if start == prefix && end == last || host == 0 {
        return vec![(len, prefix)];
    }
    // `start` lies in the lower half and `end` in the upper: split at the upper's start.
    let upper = prefix | (1u128 << (host - 1));
    vec![
        covering(start, upper - 1, width),
        covering(upper, end, width),
    ]
}

/// The number of addresses in a range, less one (saturated for `Any`).
fn span(range: &AddrRange) -> u128 {
    match range {
        AddrRange::Any => u128::MAX,
        AddrRange::V4 { start, end } => u128::from(end.to_bits().saturating_sub(start.to_bits())),
        AddrRange::V6 { start, end } => end.to_bits().saturating_sub(start.to_bits()),
    }
}

/// Where `selector` is filed: under its narrower address range (ties: the remote one).
fn keys(selector: &Selector) -> Vec<Key> {
    let (range, local) = if span(&selector.local) < span(&selector.remote) {
        (&selector.local, true)
    } else {
        (&selector.remote, false)
    };
    let (tables, start, end, width) = match range {
        AddrRange::V4 { start, end } => (
            vec![if local {
                TableId::V4Local
            } else {
                TableId::V4Remote
            }],
            u128::from(start.to_bits()),
            u128::from(end.to_bits()),
            32,
        ),
        AddrRange::V6 { start, end } => (
            vec![if local {
                TableId::V6Local
            } else {
                TableId::V6Remote
            }],
            start.to_bits(),
            end.to_bits(),
            128,
        ),
        // Both ranges are ANY: the selector matches packets of both families.
        AddrRange::Any => (vec![TableId::V4Remote, TableId::V6Remote], 0, u128::MAX, 0),
    };
    if start > end {
        // An empty range matches nothing: nothing to file.
        return Vec::new();
    }
    tables
        .into_iter()
        .flat_map(|table| {
            let prefixes = if width == 0 {
                vec![(0, 0)]
            } else {
                cover(start, end, width)
            };
            prefixes
                .into_iter()
                .map(move |(len, prefix)| Key { table, len, prefix })
        })
        .collect()
}

/// What the index keeps per SA, to unfile it.
#[derive(Debug, Clone)]
struct Installed {
    keys: Vec<Key>,
}

/// Outbound SAs by the traffic selectors they were negotiated for.
#[derive(Debug, Clone)]
pub(crate) struct SaPolicies {
    installed: HashMap<OutboundHandle, Installed, FixedState>,
    tables: [Table; 4],
    next_sequence: u64,
}

impl Default for SaPolicies {
    fn default() -> Self {
        Self {
            installed: HashMap::with_hasher(FixedState::with_seed(HANDLE_HASH_SEED)),
            tables: Default::default(),
            next_sequence: 0,
        }
    }
}

impl SaPolicies {
    /// Files `sa` under each of `selectors`, replacing what it was filed under before.
    pub(crate) fn insert(&mut self, sa: OutboundHandle, selectors: &[Selector]) {
        self.remove(sa);
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.wrapping_add(1);
        let mut filed = Vec::new();
        for selector in selectors {
            let rank = Rank::of(selector, sequence);
            for key in keys(selector) {
                if let Some(table) = self.tables.get_mut(key.table.index()) {
                    table.file(
                        key.len,
                        key.prefix,
                        Candidate {
                            sa,
                            selector: *selector,
                            rank,
                        },
                    );
                    if !filed.contains(&key) {
                        filed.push(key);
                    }
                }
            }
        }
        self.installed.insert(sa, Installed { keys: filed });
    }

    /// Unfiles `sa`; whether it was filed.
    pub(crate) fn remove(&mut self, sa: OutboundHandle) -> bool {
        let Some(installed) = self.installed.remove(&sa) else {
            return false;
        };
        for key in installed.keys {
            if let Some(table) = self.tables.get_mut(key.table.index()) {
                table.unfile(key.len, key.prefix, sa);
            }
        }
        if self.installed.is_empty() {
            self.installed.shrink_to_fit();
        }
        true
    }

    /// The SAs filed.
    pub(crate) fn len(&self) -> usize {
        self.installed.len()
    }

    /// Whether `sa` is filed.
    pub(crate) fn contains(&self, sa: OutboundHandle) -> bool {
        self.installed.contains_key(&sa)
    }

    /// The SA whose selectors match the outbound `flow` most specifically.
    pub(crate) fn lookup(&self, flow: &Flow) -> Option<OutboundHandle> {
        let (local, remote, width, tables) = match (flow.source, flow.destination) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (
                u128::from(s.to_bits()),
                u128::from(d.to_bits()),
                32,
                [TableId::V4Local, TableId::V4Remote],
            ),
            (IpAddr::V6(s), IpAddr::V6(d)) => (
                s.to_bits(),
                d.to_bits(),
                128,
                [TableId::V6Local, TableId::V6Remote],
            ),
            _ => return None,
        };
        let mut best = None;
        for (table, address) in tables.into_iter().zip([local, remote]) {
            if let Some(table) = self.tables.get(table.index()) {
                best = table.best(address, width, flow, best);
            }
        }
        best.map(|c| c.sa)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_fixed_counts_prefix_bits() {
        use crate::selector::bits_fixed;
        assert_eq!(bits_fixed(5, 5, 32), 32);
        assert_eq!(bits_fixed(0, 255, 32), 24);
        assert_eq!(bits_fixed(0, 256, 32), 23);
        assert_eq!(bits_fixed(0, u128::from(u32::MAX), 32), 0);
        assert_eq!(bits_fixed(0, u128::MAX, 128), 0);
        assert_eq!(bits_fixed(9, 3, 32), 0);
    }

    #[test]
    fn cover_is_at_most_two_prefixes_holding_the_range() {
        let cases: [(u128, u128); 7] = [
            (0x0a00_0000, 0x0a00_00ff),
            (0x0a00_00ff, 0x0a00_0100),
            (0x7fff_ffff, 0x8000_0000),
            (1, 254),
            (0, u128::from(u32::MAX)),
            (7, 7),
            (0x0a00_0001, 0x0aff_fffe),
        ];
        for (start, end) in cases {
            let prefixes = cover(start, end, 32);
            assert!(
                !prefixes.is_empty() && prefixes.len() <= 2,
                "{start:x}-{end:x}"
            );
            for address in [start, end, start + (end - start) / 2] {
                assert!(
                    prefixes
                        .iter()
                        .any(|(len, prefix)| mask(address, *len, 32) == *prefix),
                    "{address:x} not covered by {prefixes:x?}"
                );
            }
            let covered: u128 = prefixes.iter().map(|(len, _)| 1u128 << (32 - len)).sum();
            assert!(
                covered <= 2 * (end - start + 1),
                "{start:x}-{end:x}: {covered}"
            );
        }
        assert_eq!(cover(0x0a00_0000, 0x0a00_00ff, 32), vec![(24, 0x0a00_0000)]);
        assert_eq!(
            cover(0x7fff_ffff, 0x8000_0000, 32),
            vec![(32, 0x7fff_ffff), (32, 0x8000_0000)]
        );
    }
}
