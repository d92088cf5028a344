//! The Security Policy Database (RFC 4301 §4.4.1): an ordered list of entries, each a list
//! of selector sets and an action, PROTECT, BYPASS or DISCARD.
//!
//! The configured entries decide what to do with a packet; the SA that protects it is
//! found, among the SAs negotiated for the deciding entry, by the selectors each was
//! negotiated for (the per-SA policies of [`Spd::add_sa`]): one entry whose remote side is
//! a /16 serves many peers, each with its own SAs (RFC 4301 §4.4.1.2, §5.1).
//!
//! # Lookup cost
//!
//! A lookup walks the configured entries in order and stops at the first match (RFC 4301
//! §4.4.1: the SPD is ordered, and the first matching entry decides), so it costs `O(entries
//! × selectors)` comparisons of a few integers each. Policies of hosts and gateways have tens
//! of entries, where a scan beats any index. RFC 4301 §4.4.1's decorrelation, which would
//! allow hashing or tries, is not done here; a caller with thousands of entries should
//! cache decisions per flow (the SPD cache of RFC 4301 §4.4.1.2) in front of this.
//!
//! A PROTECT decision then finds its SA in an index of the installed SAs' selectors: one
//! hash probe per pair of prefix lengths in use, whatever the number of SAs (see
//! `sa_policy.rs`).

use crate::error::SadError;
use crate::flow::{Flow, FlowError};
use crate::lifetime::LifetimeTemplate;
use crate::sa_policy::SaPolicies;
use crate::sad::{IpsecProtocol, Mode, OutboundHandle};
use crate::selector::{Direction, Selector, any_matches};

/// A stable identifier of an SPD entry: unlike its position, it does not change when other
/// entries are inserted or removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpdEntryId(u64);

impl SpdEntryId {
    /// The number behind the id.
    pub fn get(&self) -> u64 {
        self.0
    }
}

/// One acceptable set of algorithms for the SAs an entry asks for, by IANA transform IDs
/// (RFC 7296 §3.3.2, the numbers of `ipsec_crypto::iana`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgorithmProposal {
    /// Transform Type 1 (encryption) ID, e.g. 20 for ENCR_AES_GCM_16.
    pub encryption: u16,
    /// Key length in bits (the Key Length attribute).
    pub key_bits: u16,
    /// Transform Type 3 (integrity) ID; 0 (NONE) with an AEAD.
    pub integrity: u16,
    /// Whether extended sequence numbers are asked for (Transform Type 5).
    pub esn: bool,
}

/// What a PROTECT entry asks of the SAs that serve it (RFC 4301 §4.4.1.2 "processing
/// info"): the IKE initiator proposes these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaTemplate {
    /// Tunnel or transport mode.
    pub mode: Mode,
    /// The security protocol.
    pub protocol: IpsecProtocol,
    /// Acceptable algorithms, most preferred first.
    pub proposals: Vec<AlgorithmProposal>,
    /// The lifetime of each SA, counted from its installation.
    pub lifetime: LifetimeTemplate,
}

/// What to do with a packet an entry matches (RFC 4301 §4.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Protect it with IPsec, under an SA made from `template`: an installed SA whose
    /// negotiated selectors match the packet ([`Spd::add_sa`]), or one to negotiate.
    Protect {
        /// What the SA must be.
        template: SaTemplate,
    },
    /// Let it pass without IPsec.
    Bypass,
    /// Drop it.
    Discard,
}

/// One SPD entry: selector sets and an action (RFC 4301 §4.4.1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpdEntry {
    /// The entry matches a packet that any of these matches.
    pub selectors: Vec<Selector>,
    /// What to do with a match.
    pub action: Action,
}

impl SpdEntry {
    /// An entry.
    pub fn new(selectors: Vec<Selector>, action: Action) -> Self {
        Self { selectors, action }
    }

    /// Whether `flow`, travelling in `direction`, matches.
    pub fn matches(&self, flow: &Flow, direction: Direction) -> bool {
        any_matches(&self.selectors, flow, direction)
    }
}

/// The outcome of an SPD lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    /// Protect the packet with the outbound SA `sa`, the installed SA whose negotiated
    /// selectors match it most specifically.
    Protect {
        /// The entry that matched.
        id: SpdEntryId,
        /// The entry.
        entry: &'a SpdEntry,
        /// The SA to seal it with.
        sa: OutboundHandle,
    },
    /// The packet must be protected but no installed SA's selectors match it: negotiate one
    /// from
    /// `template` (RFC 4301 §5.1 step 3c, the ACQUIRE of PF_KEY), and drop or queue the
    /// packet meanwhile.
    Acquire {
        /// The entry that matched.
        id: SpdEntryId,
        /// The entry.
        entry: &'a SpdEntry,
        /// The SA the entry asks for.
        template: &'a SaTemplate,
    },
    /// Pass the packet without IPsec.
    Bypass {
        /// The entry that matched.
        id: SpdEntryId,
    },
    /// Drop the packet.
    Discard {
        /// The entry that matched.
        id: SpdEntryId,
    },
    /// No entry matched: drop the packet (RFC 4301 §5.1 step 2: with no match, discard).
    NoMatch,
}

/// The Security Policy Database (RFC 4301 §4.4.1), ordered: the first matching entry
/// decides; for PROTECT, the installed SA whose negotiated selectors match the packet most
/// specifically protects it.
#[derive(Debug, Clone, Default)]
pub struct Spd {
    entries: Vec<(SpdEntryId, SpdEntry)>,
    next_id: u64,
    sas: SaPolicies,
}

impl Spd {
    /// An empty SPD, which discards everything.
    pub fn new() -> Self {
        Self::default()
    }

    fn new_id(&mut self) -> SpdEntryId {
        let id = SpdEntryId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        id
    }

    /// Appends `entry` after every other, as the least preferred.
    pub fn push(&mut self, entry: SpdEntry) -> SpdEntryId {
        let id = self.new_id();
        self.entries.push((id, entry));
        id
    }

    /// Inserts `entry` at `position` (0 is the first consulted).
    pub fn insert(&mut self, position: usize, entry: SpdEntry) -> Result<SpdEntryId, SadError> {
        if position > self.entries.len() {
            return Err(SadError::InvalidPosition {
                position,
                len: self.entries.len(),
            });
        }
        let id = self.new_id();
        self.entries.insert(position, (id, entry));
        Ok(id)
    }

    /// Removes the entry `id`.
    pub fn remove(&mut self, id: SpdEntryId) -> Option<SpdEntry> {
        let position = self.position(id)?;
        Some(self.entries.remove(position).1)
    }

    /// The entry's position in lookup order.
    pub fn position(&self, id: SpdEntryId) -> Option<usize> {
        self.entries.iter().position(|(i, _)| *i == id)
    }

    /// The entry `id`.
    pub fn get(&self, id: SpdEntryId) -> Option<&SpdEntry> {
        self.entries
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, entry)| entry)
    }

    /// The entry `id`, mutable.
    pub fn get_mut(&mut self, id: SpdEntryId) -> Option<&mut SpdEntry> {
        self.entries
            .iter_mut()
            .find(|(i, _)| *i == id)
            .map(|(_, entry)| entry)
    }

    /// Installs the per-SA policy of the outbound SA `sa`, negotiated for the PROTECT entry
    /// `entry`: from now on it protects the outbound packets that `entry` decides to protect
    /// and that match one of `selectors`, the traffic selectors it was negotiated for
    /// (RFC 4301 §4.4.1.2: the SPD-S entry made for a negotiated SA). Replaces the SA's
    /// earlier selectors.
    ///
    /// Where several SAs of the entry match a packet, the most specific selector wins (most
    /// fixed address bits, then a named protocol, then the most fixed port bits), and among
    /// equals the SA added first, so that a peer negotiating the same selectors later does
    /// not take over another's traffic: remove a rekeyed SA's policy when adding its
    /// successor's.
    pub fn add_sa(&mut self, sa: OutboundHandle, entry: SpdEntryId, selectors: &[Selector]) {
        self.sas.insert(sa, entry, selectors);
    }

    /// Removes the per-SA policy of `sa` (it expired, was replaced or deleted), so that its
    /// packets find another SA or ask for one; whether it had one.
    pub fn remove_sa(&mut self, sa: OutboundHandle) -> bool {
        self.sas.remove(sa)
    }

    /// Whether `sa` has a per-SA policy.
    pub fn has_sa(&self, sa: OutboundHandle) -> bool {
        self.sas.contains(sa)
    }

    /// The number of SAs with a per-SA policy.
    pub fn sa_count(&self) -> usize {
        self.sas.len()
    }

    /// The installed SA that protects the outbound `flow`: of the entry that decides it,
    /// the one whose selectors match most specifically.
    pub fn sa_for(&self, flow: &Flow) -> Option<OutboundHandle> {
        let (id, _) = self
            .entries
            .iter()
            .find(|(_, entry)| entry.matches(flow, Direction::Outbound))?;
        self.sas.lookup(*id, flow)
    }

    /// The entries in lookup order.
    pub fn entries(&self) -> impl Iterator<Item = (SpdEntryId, &SpdEntry)> + '_ {
        self.entries.iter().map(|(id, entry)| (*id, entry))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The decision for `flow` travelling in `direction`: the first entry that matches
    /// (RFC 4301 §5.1 step 2 outbound; §5.2 step 3a for inbound packets that arrived
    /// without IPsec, where a PROTECT decision means the packet should have been protected
    /// and is to be dropped).
    pub fn lookup(&self, flow: &Flow, direction: Direction) -> Decision<'_> {
        let Some((id, entry)) = self
            .entries
            .iter()
            .find(|(_, entry)| entry.matches(flow, direction))
        else {
            return Decision::NoMatch;
        };
        let id = *id;
        match &entry.action {
            Action::Protect { template } => {
                let sa = match direction {
                    Direction::Outbound => self.sas.lookup(id, flow),
                    Direction::Inbound => None,
                };
                match sa {
                    Some(sa) => Decision::Protect { id, entry, sa },
                    None => Decision::Acquire {
                        id,
                        entry,
                        template,
                    },
                }
            }
            Action::Bypass => Decision::Bypass { id },
            Action::Discard => Decision::Discard { id },
        }
    }

    /// The decision for an outbound packet's `flow` (RFC 4301 §5.1).
    pub fn lookup_outbound(&self, flow: &Flow) -> Decision<'_> {
        self.lookup(flow, Direction::Outbound)
    }

    /// The decision for the outbound IPv4 or IPv6 `packet` (RFC 4301 §5.1), its selector
    /// fields read by [`Flow::parse`].
    pub fn lookup_packet(&self, packet: &[u8]) -> Result<Decision<'_>, FlowError> {
        let flow = Flow::parse(packet)?;
        Ok(self.lookup_outbound(&flow))
    }
}
