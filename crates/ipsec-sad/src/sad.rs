//! The Security Association Database (RFC 4301 §4.4.2): inbound SAs by SPI, outbound SAs by
//! handle, each with its lifetime, counters and traffic selectors.
//!
//! # Lookup cost
//!
//! Inbound SAs live in a hash map keyed by SPI. The SPIs are chosen by this end, at random
//! ([`Sad::allocate_spi`]), so a peer cannot place keys that collide: the table's load is
//! spread evenly whatever hash is used, and an attacker who sends packets with chosen SPIs
//! only probes the table (a miss costs one short probe sequence in hashbrown's SwissTable,
//! never a walk of a long chain it built). That is why a fast, fixed-seed hash (foldhash)
//! is used instead of std's keyed SipHash: about 10 ns per lookup at a million SAs instead
//! of 55 ns, and lookups are deterministic across runs.
//!
//! Outbound SAs live in a slab: a [`OutboundHandle`] is an index plus a generation, so a
//! lookup is one bounds-checked index and a stale handle (its SA removed, the slot reused)
//! finds nothing instead of another SA.
//!
//! Time limits are kept in one ordered set of deadlines, so [`Sad::poll_timeout`] is
//! `O(log n)` however many SAs there are.

use std::collections::{BTreeSet, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use ipsec_ah::{InboundAhSa, IpVersion, OutboundAhSa};
use ipsec_crypto::SecureRandom;
use ipsec_esp::{InboundSa, OutboundSa};

use crate::drop::{DropCounters, DropReason, MalformedCause};
use crate::error::SadError;
use crate::flow::{self, Flow, FlowError, protocol};
use crate::inbound_table::InboundTable;
use crate::lifetime::{Lifetime, LimitKind};
use crate::selector::{Direction, Selector, any_matches};

/// SPIs from 0 to this are never chosen for an inbound SA (RFC 4303 §2.1).
const MAX_RESERVED_SPI: u32 = 255;

/// How many random SPIs [`Sad::allocate_spi`] draws before giving up.
const SPI_DRAWS: u32 = 64;

/// An IPsec security protocol (RFC 4301 §4.4.2.1 "IPsec protocol mode" and protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpsecProtocol {
    /// ESP (RFC 4303).
    Esp,
    /// AH (RFC 4302).
    Ah,
}

/// The encapsulation mode of an SA (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The payload is the upper-layer protocol's: the outer IP header is the packet's own.
    Transport,
    /// The payload is a whole inner IP packet.
    Tunnel,
}

/// The inbound half of an SA of either IPsec protocol.
#[derive(Debug)]
#[non_exhaustive]
pub enum InboundProtocolSa {
    /// An ESP SA (RFC 4303).
    Esp(InboundSa),
    /// An AH SA (RFC 4302).
    Ah(InboundAhSa),
}

impl InboundProtocolSa {
    /// The SPI its packets carry.
    pub fn spi(&self) -> u32 {
        match self {
            Self::Esp(sa) => sa.spi(),
            Self::Ah(sa) => sa.spi(),
        }
    }

    /// Its protocol.
    pub fn protocol(&self) -> IpsecProtocol {
        match self {
            Self::Esp(_) => IpsecProtocol::Esp,
            Self::Ah(_) => IpsecProtocol::Ah,
        }
    }
}

impl From<InboundSa> for InboundProtocolSa {
    fn from(sa: InboundSa) -> Self {
        Self::Esp(sa)
    }
}

impl From<InboundAhSa> for InboundProtocolSa {
    fn from(sa: InboundAhSa) -> Self {
        Self::Ah(sa)
    }
}

/// The outbound half of an SA of either IPsec protocol.
#[derive(Debug)]
#[non_exhaustive]
pub enum OutboundProtocolSa {
    /// An ESP SA (RFC 4303).
    Esp(OutboundSa),
    /// An AH SA (RFC 4302).
    Ah(OutboundAhSa),
}

impl OutboundProtocolSa {
    /// The SPI its packets carry (the peer's inbound SPI).
    pub fn spi(&self) -> u32 {
        match self {
            Self::Esp(sa) => sa.spi(),
            Self::Ah(sa) => sa.spi(),
        }
    }

    /// Its protocol.
    pub fn protocol(&self) -> IpsecProtocol {
        match self {
            Self::Esp(_) => IpsecProtocol::Esp,
            Self::Ah(_) => IpsecProtocol::Ah,
        }
    }

    /// Bytes the caller leaves before the payload: ESP's SPI, Sequence Number and IV; for
    /// AH, which sits in the IP packet, its header over IPv4 (see
    /// [`ah_header_len`](Self::ah_header_len)).
    pub fn header_len(&self) -> usize {
        match self {
            Self::Esp(sa) => sa.header_len(),
            Self::Ah(sa) => sa.ah_header_len(IpVersion::V4),
        }
    }

    /// The AH header's length in a packet of IP version `version` (RFC 4302 §2.2); `None`
    /// for ESP.
    pub fn ah_header_len(&self, version: IpVersion) -> Option<usize> {
        match self {
            Self::Esp(_) => None,
            Self::Ah(sa) => Some(sa.ah_header_len(version)),
        }
    }

    /// Bytes the caller leaves after a payload of `payload_len` (ESP: padding, trailer,
    /// ICV; AH: none).
    pub fn tail_len(&self, payload_len: usize) -> usize {
        match self {
            Self::Esp(sa) => sa.tail_len(payload_len),
            Self::Ah(_) => 0,
        }
    }

    /// The sealed packet's length for a payload of `payload_len` bytes (ESP; AH: its
    /// IPv4 header plus the payload, without the IP header).
    pub fn packet_len(&self, payload_len: usize) -> usize {
        match self {
            Self::Esp(sa) => sa.packet_len(payload_len),
            Self::Ah(sa) => sa.ah_header_len(IpVersion::V4).saturating_add(payload_len),
        }
    }

    /// The last sequence number sent; 0 before the first packet.
    pub fn last_sequence_number(&self) -> u64 {
        match self {
            Self::Esp(sa) => sa.last_sequence_number(),
            Self::Ah(sa) => sa.last_sequence_number(),
        }
    }

    /// The highest sequence number the SA may send (RFC 4303 §3.3.3, RFC 4302 §3.3.2).
    pub fn max_sequence_number(&self) -> u64 {
        match self {
            Self::Esp(sa) => sa.max_sequence_number(),
            Self::Ah(sa) => sa.max_sequence_number(),
        }
    }
}

impl From<OutboundSa> for OutboundProtocolSa {
    fn from(sa: OutboundSa) -> Self {
        Self::Esp(sa)
    }
}

impl From<OutboundAhSa> for OutboundProtocolSa {
    fn from(sa: OutboundAhSa) -> Self {
        Self::Ah(sa)
    }
}

/// What the SAD keeps about an SA besides its keys (RFC 4301 §4.4.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaConfig {
    /// Tunnel or transport mode.
    pub mode: Mode,
    /// The traffic selectors the SA was negotiated for, local and remote from this end's
    /// point of view. Inbound, a decrypted packet must match one of them (RFC 4301 §5.2
    /// step 4); an empty list matches nothing. For IKEv2 traffic selector lists TSi and
    /// TSr, put one selector per pair of the two lists.
    pub selectors: Vec<Selector>,
    /// Soft and hard limits.
    pub lifetime: Lifetime,
}

impl SaConfig {
    /// A configuration.
    pub fn new(mode: Mode, selectors: Vec<Selector>, lifetime: Lifetime) -> Self {
        Self {
            mode,
            selectors,
            lifetime,
        }
    }
}

/// Counters of one SA (RFC 4301 §4.4.2.1 "Lifetime" counters, and its drop counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaStats {
    /// Packets protected (outbound) or verified (inbound), dummy packets included.
    pub packets: u64,
    /// Payload bytes of those packets.
    pub bytes: u64,
    /// Inbound packets for this SA that were dropped, by reason.
    pub drops: DropCounters,
}

/// An outbound SA's place in the SAD: an index into the table and the slot's generation.
/// A handle outlives its SA harmlessly: once the SA is removed, the handle finds nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboundHandle {
    index: usize,
    generation: u32,
}

impl OutboundHandle {
    /// The slot index (reused after removal; with the generation, unique).
    pub fn index(&self) -> usize {
        self.index
    }
}

/// Which SA an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SaId {
    /// An inbound SA, by its SPI.
    Inbound {
        /// The SPI.
        spi: u32,
    },
    /// An outbound SA, by its handle.
    Outbound {
        /// The handle.
        handle: OutboundHandle,
        /// The SPI its packets carry.
        spi: u32,
    },
}

/// What the SAD reports through [`Sad::poll_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SadEvent {
    /// The SA crossed a soft limit: start rekeying it (RFC 4301 §4.4.2.1, RFC 7296 §2.8).
    /// Reported once per SA, for the first limit crossed.
    RekeyNeeded {
        /// The SA.
        sa: SaId,
        /// The limit crossed.
        limit: LimitKind,
    },
    /// The SA crossed a hard limit and no longer protects or accepts packets; its keys are
    /// dropped. The entry (and its counters) stays until removed, and its packets are
    /// dropped as [`DropReason::Expired`] (inbound) or [`SealError::Expired`] (outbound).
    Expired {
        /// The SA.
        sa: SaId,
        /// The limit crossed.
        limit: LimitKind,
    },
}

/// Why an outbound packet was not sealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// No SA has this handle (never installed, or removed).
    #[error("no outbound SA with handle {0:?}")]
    UnknownHandle(OutboundHandle),
    /// The SA reached a hard lifetime limit (RFC 4301 §4.4.2.1), sequence number
    /// exhaustion included (RFC 4303 §3.3.3).
    #[error("outbound SA {handle:?} has expired")]
    Expired {
        /// The SA.
        handle: OutboundHandle,
    },
    /// The protocol could not seal the packet (buffer too small, crypto failure).
    #[error(transparent)]
    Esp(ipsec_esp::SealError),
    /// AH could not seal the packet (not a valid IP packet, buffer too small).
    #[error(transparent)]
    Ah(ipsec_ah::SealError),
    /// The SA is of the other protocol: [`Sad::seal`] is for ESP, [`Sad::seal_ah`] for AH.
    #[error("outbound SA {handle:?} is not of this protocol")]
    WrongProtocol {
        /// The SA.
        handle: OutboundHandle,
    },
}

/// The addresses of the IP header an ESP packet arrived in, for the selector check of a
/// transport-mode SA (RFC 4301 §5.2 step 4).
///
/// With NAT traversal in transport mode, these are the original addresses the SA's
/// selectors speak of (RFC 3948 §3.1.2, from NAT-OA), not the translated ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OuterAddresses {
    /// The source address.
    pub source: IpAddr,
    /// The destination address.
    pub destination: IpAddr,
}

/// An inbound packet that passed every check.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened<'a> {
    /// The SA's SPI.
    pub spi: u32,
    /// The payload, decrypted in place. Tunnel mode: the inner IP packet, cut to the length
    /// its header gives (TFC padding removed, RFC 4303 §2.7). Transport mode: the
    /// upper-layer payload.
    pub payload: &'a mut [u8],
    /// Next Header from the trailer (RFC 4303 §2.6): 4 or 41 in tunnel mode, the upper-layer
    /// protocol in transport mode, 59 for a dummy packet.
    pub next_header: u8,
    /// The full sequence number.
    pub sequence_number: u64,
    /// The SA's mode.
    pub mode: Mode,
    /// The selector fields that were checked; `None` for a dummy packet.
    pub flow: Option<Flow>,
}

/// An AH-protected packet that passed every check (RFC 4302 §3.4).
#[derive(Debug, PartialEq, Eq)]
pub struct OpenedAh<'a> {
    /// The SA's SPI.
    pub spi: u32,
    /// What follows the AH header: the inner IP packet in tunnel mode (cut to the length
    /// its header gives), the upper-layer payload in transport mode.
    pub payload: &'a [u8],
    /// Next Header of the AH header: 4 or 41 in tunnel mode, the upper-layer protocol in
    /// transport mode.
    pub next_header: u8,
    /// The full sequence number.
    pub sequence_number: u64,
    /// The SA's mode.
    pub mode: Mode,
    /// The selector fields that were checked.
    pub flow: Flow,
}

impl Opened<'_> {
    /// A dummy packet (Next Header 59), to be discarded silently (RFC 4303 §2.6). It
    /// counts toward the SA's lifetime but has no selectors to check.
    pub fn is_dummy(&self) -> bool {
        self.next_header == protocol::NO_NEXT_HEADER
    }
}

/// One SA in the SAD: its keys while it lives, its configuration, counters and lifetime
/// state.
#[derive(Debug)]
pub struct SaEntry<S> {
    id: SaId,
    sa: Option<S>,
    config: SaConfig,
    stats: SaStats,
    rekey_requested: bool,
    expired: Option<LimitKind>,
}

/// An inbound SA's entry.
pub type InboundEntry = SaEntry<InboundProtocolSa>;

/// An outbound SA's entry.
pub type OutboundEntry = SaEntry<OutboundProtocolSa>;

/// Which of an SA's two deadlines a timer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Soft,
    Hard,
}

/// State every entry reports into: deadlines, events, global drop counters.
#[derive(Debug, Default)]
struct Shared {
    timers: BTreeSet<(Instant, SaId, Stage)>,
    events: VecDeque<SadEvent>,
    drops: DropCounters,
}

impl<S> SaEntry<S> {
    fn new(id: SaId, sa: S, config: SaConfig) -> Self {
        Self {
            id,
            sa: Some(sa),
            config,
            stats: SaStats::default(),
            rekey_requested: false,
            expired: None,
        }
    }

    /// The SA's identity in events.
    pub fn id(&self) -> SaId {
        self.id
    }

    /// The SPI its packets carry.
    pub fn spi(&self) -> u32 {
        match self.id {
            SaId::Inbound { spi } | SaId::Outbound { spi, .. } => spi,
        }
    }

    /// The SA and its keys; `None` once it has expired.
    pub fn sa(&self) -> Option<&S> {
        self.sa.as_ref()
    }

    /// Its configuration.
    pub fn config(&self) -> &SaConfig {
        &self.config
    }

    /// Its counters.
    pub fn stats(&self) -> &SaStats {
        &self.stats
    }

    /// Whether a soft limit was crossed ([`SadEvent::RekeyNeeded`] was reported).
    pub fn rekey_requested(&self) -> bool {
        self.rekey_requested
    }

    /// The hard limit that ended the SA, if one did.
    pub fn expired(&self) -> Option<LimitKind> {
        self.expired
    }

    /// The one deadline the entry waits for: its soft time limit until that is crossed
    /// (by time or volume), then its hard one; none once it has expired. One timer per
    /// entry, not two: a gateway holds many.
    fn next_deadline(&self) -> Option<(Instant, Stage)> {
        if self.expired.is_some() {
            return None;
        }
        let lifetime = &self.config.lifetime;
        let soft = (!self.rekey_requested)
            .then_some(lifetime.soft.time)
            .flatten()
            .map(|at| (at, Stage::Soft));
        let hard = lifetime.hard.time.map(|at| (at, Stage::Hard));
        match (soft, hard) {
            (Some(soft), Some(hard)) if hard.0 < soft.0 => Some(hard),
            (soft, hard) => soft.or(hard),
        }
    }

    /// Files the entry's next deadline.
    fn schedule(&self, shared: &mut Shared) {
        if let Some((at, stage)) = self.next_deadline() {
            shared.timers.insert((at, self.id, stage));
        }
    }

    /// Takes the entry's next deadline out of the file (before its state changes).
    fn unschedule(&self, shared: &mut Shared) {
        if let Some((at, stage)) = self.next_deadline() {
            shared.timers.remove(&(at, self.id, stage));
        }
    }

    /// Reports the first soft limit crossed.
    fn request_rekey(&mut self, limit: LimitKind, shared: &mut Shared) {
        if self.rekey_requested || self.expired.is_some() {
            return;
        }
        self.unschedule(shared);
        self.rekey_requested = true;
        self.schedule(shared);
        shared
            .events
            .push_back(SadEvent::RekeyNeeded { sa: self.id, limit });
    }

    /// Ends the SA: drops its keys, reports it, forgets its deadlines.
    fn expire(&mut self, limit: LimitKind, shared: &mut Shared) {
        if self.expired.is_some() {
            return;
        }
        self.unschedule(shared);
        self.expired = Some(limit);
        self.sa = None;
        shared
            .events
            .push_back(SadEvent::Expired { sa: self.id, limit });
    }

    /// Applies the time limits at `now`; whether the SA may still be used.
    fn check_time(&mut self, now: Instant, shared: &mut Shared) -> bool {
        if self.expired.is_some() {
            return false;
        }
        if self.config.lifetime.hard.time_reached(now) {
            self.expire(LimitKind::Time, shared);
            return false;
        }
        if self.config.lifetime.soft.time_reached(now) {
            self.request_rekey(LimitKind::Time, shared);
        }
        true
    }

    /// Counts a packet of `bytes` payload bytes, then applies the volume limits.
    fn count_packet(&mut self, bytes: usize, shared: &mut Shared) {
        let stats = &mut self.stats;
        stats.packets = stats.packets.saturating_add(1);
        stats.bytes = stats.bytes.saturating_add(bytes as u64);
        let (packets, bytes) = (stats.packets, stats.bytes);
        let lifetime = self.config.lifetime;
        if let Some(limit) = lifetime.hard.volume_reached(bytes, packets) {
            self.expire(limit, shared);
        } else if let Some(limit) = lifetime.soft.volume_reached(bytes, packets) {
            self.request_rekey(limit, shared);
        }
    }

    /// Applies a deadline that has come (already taken out of the file).
    fn fire(&mut self, stage: Stage, shared: &mut Shared) {
        match stage {
            Stage::Soft => self.request_rekey(LimitKind::Time, shared),
            Stage::Hard => self.expire(LimitKind::Time, shared),
        }
    }

    /// Removes the entry's deadline when the entry is removed.
    fn forget_timers(&self, shared: &mut Shared) {
        self.unschedule(shared);
    }
}

/// A slot of the outbound table.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "vacant slots are few and reused; boxing entries would cost an allocation per SA and an indirection per packet"
)]
enum Slot {
    Occupied(OutboundEntry),
    Vacant { generation: u32 },
}

/// The Security Association Database (RFC 4301 §4.4.2) for the data plane.
///
/// ```
/// use std::time::{Duration, Instant};
/// use ipsec_crypto::{RUST_CRYPTO, iana};
/// use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
/// use ipsec_replay::ReplayWindow;
/// use ipsec_sad::{AddrRange, Lifetime, Limits, Mode, SaConfig, Sad, SadEvent, Selector};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let gcm = RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).ok_or("no AES-GCM")?;
/// let keymat = [7u8; 20];
/// let now = Instant::now();
/// let lifetime = Lifetime {
///     soft: Limits { time: Some(now + Duration::from_secs(3000)), ..Limits::NONE },
///     hard: Limits { time: Some(now + Duration::from_secs(3600)), ..Limits::NONE },
///     ..Lifetime::UNLIMITED
/// };
/// // A host-to-host transport-mode SA, both directions in one SAD (a loopback).
/// let config = SaConfig::new(Mode::Transport, vec![Selector::ANY], lifetime);
///
/// let mut sad = Sad::new();
/// let out = sad.install_outbound(
///     OutboundSa::new(0x1000, false, EspTransform::aead(gcm, &keymat)?),
///     config.clone(),
/// )?;
/// let inbound = InboundSa::new(0x1000, ReplayWindow::new(64, false)?, EspTransform::aead(gcm, &keymat)?);
/// sad.install_inbound(0x1000, inbound, config)?;
///
/// let payload = b"\x30\x39\x00\x35 UDP header and data";
/// let header_len = sad.outbound(out).and_then(|e| e.sa()).map_or(0, |sa| sa.header_len());
/// let mut buf = [0u8; 128];
/// buf[header_len..header_len + payload.len()].copy_from_slice(payload);
/// let len = sad.seal(now, out, &mut buf, payload.len(), 17)?;
///
/// let outer = ipsec_sad::OuterAddresses {
///     source: "192.0.2.1".parse()?,
///     destination: "192.0.2.2".parse()?,
/// };
/// let opened = sad.open_with_outer(now, outer, &mut buf[..len])?;
/// assert_eq!(&opened.payload[..], payload);
///
/// assert_eq!(sad.poll_timeout(), Some(now + Duration::from_secs(3000)));
/// sad.handle_timeout(now + Duration::from_secs(3000));
/// assert!(matches!(sad.poll_event(), Some(SadEvent::RekeyNeeded { .. })));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Sad {
    inbound: InboundTable<InboundEntry>,
    outbound: Vec<Slot>,
    free: Vec<usize>,
    outbound_len: usize,
    shared: Shared,
}

impl Default for Sad {
    fn default() -> Self {
        Self::new()
    }
}

impl Sad {
    /// An empty SAD.
    pub fn new() -> Self {
        Self::with_capacity(0, 0)
    }

    /// An empty SAD with room for `inbound` and `outbound` SAs before it reallocates.
    pub fn with_capacity(inbound: usize, outbound: usize) -> Self {
        Self {
            inbound: InboundTable::with_capacity(inbound),
            outbound: Vec::with_capacity(outbound),
            free: Vec::new(),
            outbound_len: 0,
            shared: Shared::default(),
        }
    }

    /// Installs an inbound SA for packets carrying `spi` (RFC 4301 §4.4.2). `spi` must be
    /// the SA's own, not reserved (0 to 255, RFC 4303 §2.1) and not already installed.
    pub fn install_inbound(
        &mut self,
        spi: u32,
        sa: impl Into<InboundProtocolSa>,
        config: SaConfig,
    ) -> Result<(), SadError> {
        let sa = sa.into();
        if sa.spi() != spi {
            return Err(SadError::SpiMismatch {
                given: spi,
                sa: sa.spi(),
            });
        }
        if spi <= MAX_RESERVED_SPI {
            return Err(SadError::ReservedSpi { spi });
        }
        if self.inbound.contains(spi) {
            return Err(SadError::DuplicateSpi { spi });
        }
        self.inbound
            .insert(spi, SaEntry::new(SaId::Inbound { spi }, sa, config))
            .map_err(|_| SadError::DuplicateSpi { spi })?;
        if let Some(entry) = self.inbound.get_mut(spi) {
            entry.schedule(&mut self.shared);
        }
        Ok(())
    }

    /// Installs an outbound SA and returns its handle, which the SPD entry it serves keeps
    /// (RFC 4301 §4.4.1.2 "pointer to an SAD entry"). The SPI may not be 0, which is never
    /// sent (RFC 4303 §2.1).
    pub fn install_outbound(
        &mut self,
        sa: impl Into<OutboundProtocolSa>,
        config: SaConfig,
    ) -> Result<OutboundHandle, SadError> {
        let sa = sa.into();
        let spi = sa.spi();
        if spi == 0 {
            return Err(SadError::ReservedSpi { spi });
        }
        let (index, generation) = match self.free.pop() {
            Some(index) => match self.outbound.get(index) {
                Some(Slot::Vacant { generation }) => (index, *generation),
                _ => (self.outbound.len(), 0),
            },
            None => (self.outbound.len(), 0),
        };
        let handle = OutboundHandle { index, generation };
        let entry = SaEntry::new(SaId::Outbound { handle, spi }, sa, config);
        entry.schedule(&mut self.shared);
        match self.outbound.get_mut(index) {
            Some(slot) => *slot = Slot::Occupied(entry),
            None => self.outbound.push(Slot::Occupied(entry)),
        }
        self.outbound_len += 1;
        Ok(handle)
    }

    /// Removes the inbound SA with `spi` (expired or not) and returns its final counters.
    pub fn remove_inbound(&mut self, spi: u32) -> Option<SaStats> {
        let entry = self.inbound.remove(spi)?;
        entry.forget_timers(&mut self.shared);
        Some(entry.stats)
    }

    /// Removes the outbound SA `handle` (expired or not) and returns its final counters.
    /// The handle, and copies of it, find nothing from now on.
    pub fn remove_outbound(&mut self, handle: OutboundHandle) -> Option<SaStats> {
        let slot = self.outbound.get_mut(handle.index)?;
        match slot {
            Slot::Occupied(entry) if entry.id_handle() == Some(handle) => {}
            _ => return None,
        }
        let vacant = Slot::Vacant {
            generation: handle.generation.wrapping_add(1),
        };
        let Slot::Occupied(entry) = std::mem::replace(slot, vacant) else {
            return None;
        };
        entry.forget_timers(&mut self.shared);
        self.free.push(handle.index);
        self.outbound_len = self.outbound_len.saturating_sub(1);
        Some(entry.stats)
    }

    /// The inbound SA with `spi`.
    pub fn inbound(&self, spi: u32) -> Option<&InboundEntry> {
        self.inbound.get(spi)
    }

    /// The outbound SA `handle`.
    pub fn outbound(&self, handle: OutboundHandle) -> Option<&OutboundEntry> {
        match self.outbound.get(handle.index)? {
            Slot::Occupied(entry) if entry.id_handle() == Some(handle) => Some(entry),
            _ => None,
        }
    }

    fn outbound_mut(&mut self, handle: OutboundHandle) -> Option<&mut OutboundEntry> {
        match self.outbound.get_mut(handle.index)? {
            Slot::Occupied(entry) if entry.id_handle() == Some(handle) => Some(entry),
            _ => None,
        }
    }

    /// Every inbound SA, in no particular order.
    pub fn inbound_entries(&self) -> impl Iterator<Item = &InboundEntry> + '_ {
        self.inbound.values()
    }

    /// Every outbound SA, in slot order.
    pub fn outbound_entries(&self) -> impl Iterator<Item = &OutboundEntry> + '_ {
        self.outbound.iter().filter_map(|slot| match slot {
            Slot::Occupied(entry) => Some(entry),
            Slot::Vacant { .. } => None,
        })
    }

    /// Inbound SAs installed, expired ones included.
    pub fn inbound_len(&self) -> usize {
        self.inbound.len()
    }

    /// Outbound SAs installed, expired ones included.
    pub fn outbound_len(&self) -> usize {
        self.outbound_len
    }

    /// A random SPI, not reserved and not in use, for a new inbound SA (RFC 4301 §4.1: the
    /// receiver chooses the SPI). It is not reserved until installed: with several
    /// negotiations under way, a collision shows as [`SadError::DuplicateSpi`] at
    /// installation.
    pub fn allocate_spi<R: SecureRandom + ?Sized>(&self, random: &mut R) -> Result<u32, SadError> {
        for _ in 0..SPI_DRAWS {
            let mut bytes = [0u8; 4];
            random.fill(&mut bytes)?;
            let spi = u32::from_be_bytes(bytes);
            if spi > MAX_RESERVED_SPI && !self.inbound.contains(spi) {
                return Ok(spi);
            }
        }
        Err(SadError::SpiSpaceExhausted { tries: SPI_DRAWS })
    }

    /// Packets dropped by reason, over every SA and none.
    pub fn drops(&self) -> &DropCounters {
        &self.shared.drops
    }

    /// The next event, if any: drain until `None` after every call that takes packets or
    /// time.
    pub fn poll_event(&mut self) -> Option<SadEvent> {
        self.shared.events.pop_front()
    }

    /// The earliest soft or hard time limit still to be applied: call
    /// [`handle_timeout`](Self::handle_timeout) then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.shared.timers.first().map(|(at, _, _)| *at)
    }

    /// Applies every time limit due at `now` (RFC 4301 §4.4.2.1): soft ones report
    /// [`SadEvent::RekeyNeeded`], hard ones end their SA with [`SadEvent::Expired`].
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&(at, id, stage)) = self.shared.timers.first() {
            if at > now {
                break;
            }
            self.shared.timers.pop_first();
            let shared = &mut self.shared;
            match id {
                SaId::Inbound { spi } => {
                    if let Some(entry) = self.inbound.get_mut(spi) {
                        entry.fire(stage, shared);
                    }
                }
                SaId::Outbound { handle, .. } => {
                    if let Some(Slot::Occupied(entry)) = self.outbound.get_mut(handle.index)
                        && entry.id == id
                    {
                        entry.fire(stage, shared);
                    }
                }
            }
        }
    }

    /// Opens an ESP packet (starting at the SPI) in place for a tunnel-mode SA: finds the
    /// SA by SPI, applies its lifetime, verifies and decrypts it (RFC 4303 §3.4), counts it,
    /// and checks the inner IP packet against the SA's selectors (RFC 4301 §5.2 step 4).
    ///
    /// A transport-mode SA needs the outer header's addresses for its selector check: use
    /// [`open_with_outer`](Self::open_with_outer). Without them its packets fail the check
    /// ([`DropReason::SelectorMismatch`]), so a caller that forgets them fails closed.
    pub fn open<'a>(
        &mut self,
        now: Instant,
        packet: &'a mut [u8],
    ) -> Result<Opened<'a>, DropReason> {
        self.open_from(now, None, packet)
    }

    /// As [`open`](Self::open), for an SA of either mode, with the addresses of the IP
    /// header the packet arrived in. Transport mode checks those addresses, Next Header and
    /// the ports (or ICMP type and code) at the start of the payload against the SA's
    /// selectors; tunnel mode ignores them and checks the inner IP header.
    pub fn open_with_outer<'a>(
        &mut self,
        now: Instant,
        outer: OuterAddresses,
        packet: &'a mut [u8],
    ) -> Result<Opened<'a>, DropReason> {
        self.open_from(now, Some(outer), packet)
    }

    fn open_from<'a>(
        &mut self,
        now: Instant,
        outer: Option<OuterAddresses>,
        packet: &'a mut [u8],
    ) -> Result<Opened<'a>, DropReason> {
        let result = self.open_counted(now, outer, packet);
        if let Err(reason) = &result {
            self.shared.drops.count(reason.kind());
        }
        result
    }

    fn open_counted<'a>(
        &mut self,
        now: Instant,
        outer: Option<OuterAddresses>,
        packet: &'a mut [u8],
    ) -> Result<Opened<'a>, DropReason> {
        let spi = packet
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
            .ok_or(DropReason::Malformed {
                spi: None,
                cause: MalformedCause::TooShort { len: packet.len() },
            })?;
        let entry = self
            .inbound
            .get_mut(spi)
            .ok_or(DropReason::UnknownSpi { spi })?;
        let result = open_entry(entry, spi, now, outer, packet, &mut self.shared);
        if let Err(reason) = &result {
            entry.stats.drops.count(reason.kind());
        }
        result
    }

    /// Seals the payload of `payload_len` bytes that the caller put at
    /// `buf[header_len()..]` with the outbound SA `handle` (see
    /// [`OutboundProtocolSa::header_len`] and [`tail_len`](OutboundProtocolSa::tail_len)),
    /// and returns the packet's length from `buf[0]`.
    ///
    /// The SA's lifetime applies first (a passed hard deadline ends it), then the packet
    /// is sealed and counted; a hard limit reached by this packet ends the SA after it,
    /// and sending the last sequence number is such a limit (RFC 4303 §3.3.3).
    pub fn seal(
        &mut self,
        now: Instant,
        handle: OutboundHandle,
        buf: &mut [u8],
        payload_len: usize,
        next_header: u8,
    ) -> Result<usize, SealError> {
        let shared = &mut self.shared;
        let entry = match self.outbound.get_mut(handle.index) {
            Some(Slot::Occupied(entry)) if entry.id_handle() == Some(handle) => entry,
            _ => return Err(SealError::UnknownHandle(handle)),
        };
        if !entry.check_time(now, shared) {
            return Err(SealError::Expired { handle });
        }
        let Some(sa) = entry.sa.as_mut() else {
            return Err(SealError::Expired { handle });
        };
        let sealed = match sa {
            OutboundProtocolSa::Esp(esp) => esp.seal(buf, payload_len, next_header),
            OutboundProtocolSa::Ah(_) => return Err(SealError::WrongProtocol { handle }),
        };
        let (last, max) = (sa.last_sequence_number(), sa.max_sequence_number());
        let len = match sealed {
            Ok(len) => len,
            Err(ipsec_esp::SealError::SequenceExhausted) => {
                entry.expire(LimitKind::SequenceNumber, shared);
                return Err(SealError::Expired { handle });
            }
            Err(error) => return Err(SealError::Esp(error)),
        };
        entry.count_packet(payload_len, shared);
        if last >= max {
            entry.expire(LimitKind::SequenceNumber, shared);
        } else if max - last <= entry.config.lifetime.sequence_margin {
            entry.request_rekey(LimitKind::SequenceNumber, shared);
        }
        Ok(len)
    }

    /// Protects the IP packet `packet` with the outbound AH SA `handle` (RFC 4302 §3.3):
    /// the caller laid it out with room for the AH header where it belongs (after the IP
    /// header in transport mode, after the outer header in tunnel mode; see
    /// [`OutboundProtocolSa::ah_header_len`]), the IP header's protocol set to 51 and its
    /// length final; `next_header` is the protocol of what follows AH. The caller computes
    /// the IPv4 header checksum afterwards. Lifetimes apply as for [`Sad::seal`], counting
    /// the whole packet's bytes.
    pub fn seal_ah(
        &mut self,
        now: Instant,
        handle: OutboundHandle,
        packet: &mut [u8],
        next_header: u8,
    ) -> Result<(), SealError> {
        let shared = &mut self.shared;
        let entry = match self.outbound.get_mut(handle.index) {
            Some(Slot::Occupied(entry)) if entry.id_handle() == Some(handle) => entry,
            _ => return Err(SealError::UnknownHandle(handle)),
        };
        if !entry.check_time(now, shared) {
            return Err(SealError::Expired { handle });
        }
        let Some(OutboundProtocolSa::Ah(sa)) = entry.sa.as_mut() else {
            return match entry.sa {
                Some(_) => Err(SealError::WrongProtocol { handle }),
                None => Err(SealError::Expired { handle }),
            };
        };
        let sealed = sa.seal(packet, next_header);
        let (last, max) = (sa.last_sequence_number(), sa.max_sequence_number());
        match sealed {
            Ok(_) => {}
            Err(ipsec_ah::SealError::SequenceExhausted) => {
                entry.expire(LimitKind::SequenceNumber, shared);
                return Err(SealError::Expired { handle });
            }
            Err(error) => return Err(SealError::Ah(error)),
        }
        entry.count_packet(packet.len(), shared);
        if last >= max {
            entry.expire(LimitKind::SequenceNumber, shared);
        } else if max - last <= entry.config.lifetime.sequence_margin {
            entry.request_rekey(LimitKind::SequenceNumber, shared);
        }
        Ok(())
    }

    /// Verifies the AH-protected IP packet `packet` where it lies (RFC 4301 §5.2, RFC 4302
    /// §3.4): finds the SA by the SPI of its AH header, applies its lifetime, checks the
    /// sequence number and the ICV, counts it, and checks what AH protected against the
    /// SA's selectors: the inner packet in tunnel mode, the packet's own addresses with the
    /// upper-layer header in transport mode.
    pub fn open_ah<'a>(
        &mut self,
        now: Instant,
        packet: &'a [u8],
    ) -> Result<OpenedAh<'a>, DropReason> {
        let result = self.open_ah_counted(now, packet);
        if let Err(reason) = &result {
            self.shared.drops.count(reason.kind());
        }
        result
    }

    fn open_ah_counted<'a>(
        &mut self,
        now: Instant,
        packet: &'a [u8],
    ) -> Result<OpenedAh<'a>, DropReason> {
        let (spi, _) = ipsec_ah::peek_spi(packet).map_err(|error| DropReason::Malformed {
            spi: None,
            cause: MalformedCause::Ah(error),
        })?;
        let entry = self
            .inbound
            .get_mut(spi)
            .ok_or(DropReason::UnknownSpi { spi })?;
        let result = open_ah_entry(entry, spi, now, packet, &mut self.shared);
        if let Err(reason) = &result {
            entry.stats.drops.count(reason.kind());
        }
        result
    }

    /// The outbound SA `handle`, mutable: for settings of the protocol SA such as TFC
    /// padding.
    pub fn outbound_sa_mut(&mut self, handle: OutboundHandle) -> Option<&mut OutboundProtocolSa> {
        self.outbound_mut(handle)?.sa.as_mut()
    }
}

impl OutboundEntry {
    /// The handle of this entry.
    pub fn handle(&self) -> Option<OutboundHandle> {
        self.id_handle()
    }
}

impl<S> SaEntry<S> {
    fn id_handle(&self) -> Option<OutboundHandle> {
        match self.id {
            SaId::Outbound { handle, .. } => Some(handle),
            SaId::Inbound { .. } => None,
        }
    }
}

/// Opens `packet` with the inbound `entry` whose SPI it carries.
fn open_entry<'a>(
    entry: &mut InboundEntry,
    spi: u32,
    now: Instant,
    outer: Option<OuterAddresses>,
    packet: &'a mut [u8],
    shared: &mut Shared,
) -> Result<Opened<'a>, DropReason> {
    if !entry.check_time(now, shared) {
        return Err(DropReason::Expired { spi });
    }
    let Some(sa) = entry.sa.as_mut() else {
        return Err(DropReason::Expired { spi });
    };
    let opened = match sa {
        InboundProtocolSa::Esp(esp) => esp
            .open(packet)
            .map_err(|error| DropReason::from_esp(spi, error))?,
        // SAs are found by SPI and protocol (RFC 4301 §4.4.2): no ESP SA has this SPI.
        InboundProtocolSa::Ah(_) => return Err(DropReason::UnknownSpi { spi }),
    };
    // The key verified this packet: it counts toward the lifetime whatever its selectors.
    entry.count_packet(opened.payload.len(), shared);
    let mode = entry.config.mode;
    let (payload, flow) = check_selectors(
        spi,
        mode,
        &entry.config.selectors,
        outer,
        opened.next_header,
        opened.payload,
    )?;
    Ok(Opened {
        spi,
        payload,
        next_header: opened.next_header,
        sequence_number: opened.sequence_number,
        mode,
        flow,
    })
}

/// Opens the AH `packet` with the inbound `entry` whose SPI it carries.
fn open_ah_entry<'a>(
    entry: &mut InboundEntry,
    spi: u32,
    now: Instant,
    packet: &'a [u8],
    shared: &mut Shared,
) -> Result<OpenedAh<'a>, DropReason> {
    if !entry.check_time(now, shared) {
        return Err(DropReason::Expired { spi });
    }
    let opened = match entry.sa.as_mut() {
        Some(InboundProtocolSa::Ah(ah)) => ah
            .open(packet)
            .map_err(|error| DropReason::from_ah(spi, error))?,
        Some(_) => return Err(DropReason::UnknownSpi { spi }),
        None => return Err(DropReason::Expired { spi }),
    };
    entry.count_packet(packet.len(), shared);
    let mode = entry.config.mode;
    let malformed = |error| DropReason::Malformed {
        spi: Some(spi),
        cause: MalformedCause::Inner(error),
    };
    let (flow, len) = match mode {
        Mode::Tunnel => inner_flow(opened.next_header, opened.payload)
            .map_err(malformed)?
            .ok_or(DropReason::SelectorMismatch { spi })?,
        Mode::Transport => {
            let outer = flow::parse_ip(packet).map_err(malformed)?.0;
            let flow = Flow::from_transport(
                outer.source,
                outer.destination,
                opened.next_header,
                opened.payload,
            )
            .map_err(malformed)?;
            (flow, opened.payload.len())
        }
    };
    if !any_matches(&entry.config.selectors, &flow, Direction::Inbound) {
        return Err(DropReason::SelectorMismatch { spi });
    }
    Ok(OpenedAh {
        spi,
        payload: opened.payload.get(..len).unwrap_or(opened.payload),
        next_header: opened.next_header,
        sequence_number: opened.sequence_number,
        mode,
        flow,
    })
}

/// The inbound selector check of RFC 4301 §5.2 step 4 on a decrypted payload. On failure
/// the plaintext is wiped, so none leaves with the error.
fn check_selectors<'a>(
    spi: u32,
    mode: Mode,
    selectors: &[Selector],
    outer: Option<OuterAddresses>,
    next_header: u8,
    payload: &'a mut [u8],
) -> Result<(&'a mut [u8], Option<Flow>), DropReason> {
    if next_header == protocol::NO_NEXT_HEADER {
        return Ok((payload, None));
    }
    let parsed = match mode {
        Mode::Tunnel => inner_flow(next_header, payload),
        Mode::Transport => match outer {
            Some(outer) => {
                Flow::from_transport(outer.source, outer.destination, next_header, payload)
                    .map(|flow| Some((flow, payload.len())))
            }
            None => Ok(None),
        },
    };
    let failure = match parsed {
        Ok(Some((flow, len))) if any_matches(selectors, &flow, Direction::Inbound) => {
            let (packet, _padding) = payload.split_at_mut(len.min(payload.len()));
            return Ok((packet, Some(flow)));
        }
        Ok(_) => DropReason::SelectorMismatch { spi },
        Err(error) => DropReason::Malformed {
            spi: Some(spi),
            cause: MalformedCause::Inner(error),
        },
    };
    payload.fill(0);
    Err(failure)
}

/// The flow and length of a tunnel-mode payload whose Next Header says it is an IPv4 (4)
/// or IPv6 (41) packet; `None` for any other Next Header, which a tunnel cannot carry.
fn inner_flow(next_header: u8, payload: &[u8]) -> Result<Option<(Flow, usize)>, FlowError> {
    let expected = match next_header {
        protocol::IPV4 => 4,
        protocol::IPV6 => 6,
        _ => return Ok(None),
    };
    let version = payload.first().map_or(0, |b| b >> 4);
    if version != expected {
        return Err(FlowError::UnknownVersion(version));
    }
    flow::parse_ip(payload).map(Some)
}
