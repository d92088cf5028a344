//! Per-SA outbound policies: each installed outbound SA is found by the traffic selectors
//! it was negotiated for, under the SPD entry it was negotiated for (RFC 4301 §4.4.1.2:
//! the SPD-S entries made for negotiated SAs; §5.1: an outbound packet goes out on an SA of
//! the entry that decided to protect it, whose selectors it matches).
//!
//! A gateway connection whose remote side is a /16 serves any number of peers, each with
//! its own narrowed selectors and SAs, so the SA for a packet cannot be a property of the
//! configured entry. This index finds it without scanning the SAs.
//!
//! # The index
//!
//! Every selector is filed under both of its address ranges, each covered by at most two
//! prefixes, in one of two tables (IPv4, IPv6): a hash map from (local prefix length, local
//! prefix, remote prefix length, remote prefix) to the selectors filed there, and the set
//! of prefix-length pairs in use. A lookup probes one bucket per pair of lengths in use
//! (one or two on a gateway whose peers each have a /32 behind one local range) and checks
//! every selector of those buckets in full. A bucket holds only selectors whose two address
//! ranges share the same prefixes, so the cost does not grow with the number of SAs.
//!
//! # Which SA wins
//!
//! Only SAs filed under the SPD entry that decided are candidates, so an SA negotiated for
//! one connection never carries traffic another connection's policy decided. Among those
//! whose selectors match, the most specific selector wins, as charon ranks the kernel
//! policies it installs: the most fixed address bits (local plus remote), then a named
//! protocol, then the most fixed port bits. Among equals the SA filed first wins: a peer
//! that later negotiates the same selectors cannot take another peer's traffic over. A
//! rekey's successor takes over because the caller removes its predecessor's policy when
//! it adds the successor's.

use std::collections::HashMap;
use std::net::IpAddr;

use foldhash::fast::{FixedState, RandomState};

use crate::flow::Flow;
use crate::sad::OutboundHandle;
use crate::selector::{AddrRange, Direction, NextLayer, Selector};
use crate::spd::SpdEntryId;

/// The seed of the handle map: handles are ours, not chosen by any peer.
const HANDLE_HASH_SEED: u64 = 0x7361_2d70_6f6c_6963;

/// How one selector ranks against another that also matches (larger wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    address_bits: u16,
    protocol: bool,
    port_bits: u16,
    /// Install order, reversed: an earlier SA wins among equally specific ones.
    earlier: std::cmp::Reverse<u64>,
}

impl Rank {
    fn of(selector: &Selector, sequence: u64) -> Self {
        Self {
            address_bits: selector.local.fixed_bits() + selector.remote.fixed_bits(),
            protocol: selector.protocol != NextLayer::Any,
            port_bits: selector.local_port.fixed_bits() + selector.remote_port.fixed_bits(),
            earlier: std::cmp::Reverse(sequence),
        }
    }
}

/// A prefix: its length and first address, in an address of the family's width.
type Prefix = (u8, u128);

/// Where one selector is filed: a family's table and a pair of prefixes in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    v6: bool,
    local: Prefix,
    remote: Prefix,
}

/// A selector filed in a bucket, with its SA, its SPD entry and its rank.
#[derive(Debug, Clone)]
struct Candidate {
    sa: OutboundHandle,
    entry: SpdEntryId,
    selector: Selector,
    rank: Rank,
}

/// One family's table: selectors by their two prefixes, and how many are filed under each
/// pair of prefix lengths.
#[derive(Debug, Clone, Default)]
struct Table {
    buckets: HashMap<(Prefix, Prefix), Vec<Candidate>, RandomState>,
    /// Selectors filed per (local length, remote length), and the pairs in use.
    per_lengths: HashMap<(u8, u8), u32, FixedState>,
    lengths: Vec<(u8, u8)>,
}

impl Table {
    fn file(&mut self, local: Prefix, remote: Prefix, candidate: Candidate) {
        // Grown one at a time: most buckets hold one peer's selector, and a gateway has
        // many buckets.
        let bucket = self.buckets.entry((local, remote)).or_default();
        bucket.reserve_exact(1);
        bucket.push(candidate);
        let count = self.per_lengths.entry((local.0, remote.0)).or_default();
        *count += 1;
        if *count == 1 {
            self.lengths.push((local.0, remote.0));
        }
    }

    fn unfile(&mut self, local: Prefix, remote: Prefix, sa: OutboundHandle) {
        let Some(bucket) = self.buckets.get_mut(&(local, remote)) else {
            return;
        };
        let before = bucket.len();
        bucket.retain(|c| c.sa != sa);
        let removed = u32::try_from(before - bucket.len()).unwrap_or(u32::MAX);
        if bucket.is_empty() {
            self.buckets.remove(&(local, remote));
        }
        let lengths = (local.0, remote.0);
        if let Some(count) = self.per_lengths.get_mut(&lengths) {
            *count = count.saturating_sub(removed);
            if *count == 0 {
                self.per_lengths.remove(&lengths);
                self.lengths.retain(|l| *l != lengths);
            }
        }
        if self.buckets.is_empty() {
            // Give the memory back when the last SA goes.
            *self = Self::default();
        }
    }

    /// The best candidate of `entry` for `flow` among the buckets its addresses fall in.
    fn best(
        &self,
        addresses: (u128, u128),
        width: u32,
        entry: SpdEntryId,
        flow: &Flow,
    ) -> Option<&Candidate> {
        let mut best: Option<&Candidate> = None;
        for &(local_len, remote_len) in &self.lengths {
            let key = (
                (local_len, mask(addresses.0, local_len, width)),
                (remote_len, mask(addresses.1, remote_len, width)),
            );
            let Some(bucket) = self.buckets.get(&key) else {
                continue;
            };
            for candidate in bucket {
                if candidate.entry == entry
                    && best.is_none_or(|b| candidate.rank > b.rank)
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

/// The longest prefix holding both `start` and `end`.
fn covering(start: u128, end: u128, width: u32) -> Prefix {
    let differing = 128 - (start ^ end).leading_zeros();
    let len = width.saturating_sub(differing);
    let len = u8::try_from(len).unwrap_or(0);
    (len, mask(start, len, width))
}

/// At most two prefixes that together cover `start..=end`, each at most twice the size of
/// the part it covers: the covering prefix if the range fills it, else the prefixes
/// covering the range's parts in the lower and the upper half of it.
fn cover(start: u128, end: u128, width: u32) -> Vec<Prefix> {
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

/// A range's family (`None` for `Any`), and its prefixes.
fn prefixes(range: &AddrRange) -> Option<(Option<bool>, Vec<Prefix>)> {
    let (v6, start, end, width) = match range {
        AddrRange::Any => return Some((None, vec![(0, 0)])),
        AddrRange::V4 { start, end } => (
            false,
            u128::from(start.to_bits()),
            u128::from(end.to_bits()),
            32,
        ),
        AddrRange::V6 { start, end } => (true, start.to_bits(), end.to_bits(), 128),
    };
    // An empty range matches nothing: nothing to file.
    (start <= end).then(|| (Some(v6), cover(start, end, width)))
}

/// Where `selector` is filed: every pair of its local and remote prefixes, in the table of
/// its family (both tables when both ranges are ANY).
fn keys(selector: &Selector) -> Vec<Key> {
    let (Some((local_family, locals)), Some((remote_family, remotes))) =
        (prefixes(&selector.local), prefixes(&selector.remote))
    else {
        return Vec::new();
    };
    let families: Vec<bool> = match (local_family, remote_family) {
        (Some(a), Some(b)) if a != b => return Vec::new(),
        (Some(family), _) | (None, Some(family)) => vec![family],
        (None, None) => vec![false, true],
    };
    let mut out = Vec::new();
    for v6 in families {
        for local in &locals {
            for remote in &remotes {
                out.push(Key {
                    v6,
                    local: *local,
                    remote: *remote,
                });
            }
        }
    }
    out
}

/// What the index keeps per SA, to unfile it.
#[derive(Debug, Clone)]
struct Installed {
    keys: Box<[Key]>,
}

/// Outbound SAs by the SPD entry and traffic selectors they were negotiated for.
#[derive(Debug, Clone)]
pub(crate) struct SaPolicies {
    installed: HashMap<OutboundHandle, Installed, FixedState>,
    v4: Table,
    v6: Table,
    next_sequence: u64,
}

impl Default for SaPolicies {
    fn default() -> Self {
        Self {
            installed: HashMap::with_hasher(FixedState::with_seed(HANDLE_HASH_SEED)),
            v4: Table::default(),
            v6: Table::default(),
            next_sequence: 0,
        }
    }
}

impl SaPolicies {
    fn table(&mut self, v6: bool) -> &mut Table {
        if v6 { &mut self.v6 } else { &mut self.v4 }
    }

    /// Files `sa` under `entry` and each of `selectors`, replacing what it was filed under
    /// before (and its place in the install order).
    pub(crate) fn insert(&mut self, sa: OutboundHandle, entry: SpdEntryId, selectors: &[Selector]) {
        self.remove(sa);
        let sequence = self.next_sequence;
        self.next_sequence = self.next_sequence.wrapping_add(1);
        let mut filed = Vec::new();
        for selector in selectors {
            let rank = Rank::of(selector, sequence);
            for key in keys(selector) {
                let candidate = Candidate {
                    sa,
                    entry,
                    selector: *selector,
                    rank,
                };
                self.table(key.v6).file(key.local, key.remote, candidate);
                if !filed.contains(&key) {
                    filed.push(key);
                }
            }
        }
        self.installed.insert(
            sa,
            Installed {
                keys: filed.into_boxed_slice(),
            },
        );
    }

    /// Unfiles `sa`; whether it was filed.
    pub(crate) fn remove(&mut self, sa: OutboundHandle) -> bool {
        let Some(installed) = self.installed.remove(&sa) else {
            return false;
        };
        for key in installed.keys {
            self.table(key.v6).unfile(key.local, key.remote, sa);
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

    /// The SA of `entry` whose selectors match the outbound `flow` most specifically.
    pub(crate) fn lookup(&self, entry: SpdEntryId, flow: &Flow) -> Option<OutboundHandle> {
        let (table, addresses, width) = match (flow.source, flow.destination) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (
                &self.v4,
                (u128::from(s.to_bits()), u128::from(d.to_bits())),
                32,
            ),
            (IpAddr::V6(s), IpAddr::V6(d)) => (&self.v6, (s.to_bits(), d.to_bits()), 128),
            _ => return None,
        };
        table.best(addresses, width, entry, flow).map(|c| c.sa)
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
        assert_eq!(cover(0, u128::MAX, 128), vec![(0, 0)]);
    }
}
