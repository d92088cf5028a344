//! What the endpoint keeps about its connections, IKE SAs and Child SAs, beside what IKE
//! and the SAD keep: names, links between them, traffic counters of SAs gone, and timers.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use foldhash::fast::FixedState;
use ipsec_ikev2::{ChildAlgorithms, IkeSaHandle, Mode, Path, PeerConfig};
use ipsec_isakmp::TrafficSelector;
use ipsec_sad::{DropCounters, IpsecProtocol, OutboundHandle, SaStats, SpdEntryId};

use crate::config::Connection;
use crate::event::ChildRemoval;
use crate::in_place::Transmit;

/// Traffic through SAs: what went in and out, and what was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Traffic {
    /// Packets received and verified.
    pub packets_in: u64,
    /// Their payload bytes.
    pub bytes_in: u64,
    /// Packets protected and sent.
    pub packets_out: u64,
    /// Their payload bytes.
    pub bytes_out: u64,
    /// Inbound packets dropped for a reason tied to an SA (replay, ICV, selectors, ...).
    pub drops: DropCounters,
}

impl Traffic {
    /// The traffic of an SA pair from its two halves' counters.
    pub(crate) fn of(inbound: Option<&SaStats>, outbound: Option<&SaStats>) -> Self {
        let mut traffic = Self::default();
        if let Some(stats) = inbound {
            traffic.packets_in = stats.packets;
            traffic.bytes_in = stats.bytes;
            traffic.drops = stats.drops;
        }
        if let Some(stats) = outbound {
            traffic.packets_out = stats.packets;
            traffic.bytes_out = stats.bytes;
        }
        traffic
    }

    /// Adds `other` to this total.
    pub(crate) fn add(&mut self, other: &Traffic) {
        self.packets_in = self.packets_in.saturating_add(other.packets_in);
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.packets_out = self.packets_out.saturating_add(other.packets_out);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        self.drops.add(&other.drops);
    }
}

/// A connection as loaded.
pub(crate) struct ConnectionState {
    pub(crate) connection: Arc<Connection>,
    pub(crate) peer: Arc<PeerConfig>,
    /// The SPD entry of each child, by child name.
    pub(crate) policies: Vec<(String, SpdEntryId)>,
    /// Every IKE SA of this connection, ours and the peers'.
    pub(crate) ike_sas: HashSet<IkeSaHandle, FixedState>,
    /// The IKE SA we initiated and that is not gone, for `connect` to return.
    pub(crate) initiated: Option<IkeSaHandle>,
    /// Initiations of the current attempt (swanctl's `keyingtries`).
    pub(crate) attempts: u32,
    /// The children whose traffic starts them (start action trap, or re-armed by a close
    /// or dead peer action).
    pub(crate) trapped: HashSet<String>,
    /// The traffic of its SAs that are gone.
    pub(crate) gone: Traffic,
}

/// An IKE SA as the endpoint tracks it.
#[derive(Default)]
pub(crate) struct IkeState {
    /// Its connection's name.
    pub(crate) connection: String,
    /// Its Child SAs, by inbound SPI.
    pub(crate) children: Vec<u32>,
    /// Child configurations to create once it is established.
    pub(crate) queued: Vec<String>,
    /// Every child asked of it, the IKE_AUTH one first: what a retry asks for again.
    pub(crate) requested: Vec<String>,
    /// Children on their way (in IKE_AUTH, queued, or in a CREATE_CHILD_SA), so that a
    /// second ACQUIRE does not ask for another.
    pub(crate) pending: HashSet<String>,
    /// Children it had when it closed, for the close and dead-peer actions.
    pub(crate) lost: Vec<String>,
    /// Whether it is established.
    pub(crate) established: bool,
}

/// An installed Child SA.
pub(crate) struct ChildState {
    pub(crate) ike: IkeSaHandle,
    pub(crate) connection: String,
    pub(crate) child: String,
    pub(crate) protocol: IpsecProtocol,
    pub(crate) outbound: OutboundHandle,
    pub(crate) outbound_spi: u32,
    /// Where its packets go: its IKE SA's path (ports too, for ESP in UDP).
    pub(crate) path: Path,
    pub(crate) udp_encapsulation: bool,
    pub(crate) mode: Mode,
    pub(crate) algorithms: ChildAlgorithms,
    pub(crate) local_ts: Vec<TrafficSelector>,
    pub(crate) remote_ts: Vec<TrafficSelector>,
    pub(crate) installed_at: Instant,
    /// The Child SA it replaced, if a rekey made it.
    pub(crate) rekeyed: Option<u32>,
    /// Installed but not yet sent on: the replacement of a rekey the peer started, which
    /// takes over on the peer's first packet on it or its Delete of the old SA (RFC 7296
    /// §2.8).
    pub(crate) pending: bool,
    /// Close after this long without traffic; zero: never.
    pub(crate) inactivity: Duration,
    /// Packets both ways when inactivity was last checked.
    pub(crate) seen_packets: u64,
    /// Why we are removing it, if we are.
    pub(crate) removal: Option<ChildRemoval>,
}

/// Something the endpoint must do at a given time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Remove the inbound SA of a rekeyed Child SA.
    Linger(u32),
    /// Check a Child SA for inactivity.
    Inactivity(u32),
    /// Replace the cookie secret.
    CookieRotation,
}

/// The endpoint's own deadlines, in order.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    set: BTreeSet<(Instant, Timer)>,
}

impl Timers {
    pub(crate) fn add(&mut self, at: Instant, timer: Timer) {
        self.set.insert((at, timer));
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.set.first().map(|(at, _)| *at)
    }

    /// The timers due at `now`, taken out.
    pub(crate) fn due(&mut self, now: Instant) -> Vec<Timer> {
        let mut due = Vec::new();
        while let Some((at, _)) = self.set.first() {
            if *at > now {
                break;
            }
            if let Some((_, timer)) = self.set.pop_first() {
                due.push(timer);
            }
        }
        due
    }
}

/// What sealing on an outbound SA needs, in one small record found by the SA's handle: the
/// data path reads it for every packet, and the Child SA's full record is large.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SealRoute {
    /// The Child SA's inbound SPI, its key in [`ChildTable::by_spi`].
    pub(crate) inbound_spi: u32,
    pub(crate) protocol: IpsecProtocol,
    pub(crate) mode: Mode,
    /// Where its packets go: its IKE SA's path, in UDP or raw.
    pub(crate) transmit: Transmit,
}

impl SealRoute {
    /// Where packets of a Child SA on `path` go, in UDP (RFC 3948) if `udp`.
    pub(crate) fn transmit(path: Path, udp: bool) -> Transmit {
        if udp {
            Transmit::Udp(path)
        } else {
            Transmit::Esp {
                source: path.local.ip(),
                destination: path.remote.ip(),
            }
        }
    }
}

/// The Child SAs by inbound SPI, and how to seal on each outbound SA. SPIs are ours,
/// chosen at random, so a fixed-seed hash is safe.
#[derive(Default)]
pub(crate) struct ChildTable {
    pub(crate) by_spi: HashMap<u32, ChildState, FixedState>,
    pub(crate) by_outbound: HashMap<OutboundHandle, SealRoute, FixedState>,
    /// The inbound SAs of rekeyed Child SAs kept a moment for packets in flight, with their
    /// IKE SA and connection.
    pub(crate) lingering: HashMap<u32, (IkeSaHandle, String), FixedState>,
}
