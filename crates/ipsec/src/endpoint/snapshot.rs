//! Listings, as `swanctl --list-conns` and `--list-sas` show them: connections, IKE SAs and
//! Child SAs with their SPIs, algorithms, selectors, state, times, lifetimes and traffic,
//! readable without knowing the crates underneath.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ipsec_ikev2::{ChildAlgorithms, IkeAlgorithms, IkeSaHandle, IkeSaState, Mode, NatState, Path};
use ipsec_isakmp::{Identification, TrafficSelector};
use ipsec_sad::IpsecProtocol;

use super::Endpoint;
use super::state::{ChildState, Traffic};

/// A connection as loaded, with the traffic of all its SAs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    /// Its name.
    pub name: String,
    /// Its children's names.
    pub children: Vec<String>,
    /// Its IKE SAs now.
    pub ike_sas: usize,
    /// Its Child SAs now.
    pub child_sas: usize,
    /// The traffic of its SAs, those gone included.
    pub traffic: Traffic,
}

/// An IKE SA (`swanctl --list-sas`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IkeSaInfo {
    /// Its connection.
    pub connection: String,
    /// Its handle.
    pub handle: IkeSaHandle,
    /// Where it is in its life.
    pub state: IkeSaState,
    /// Whether we initiated it.
    pub initiator: bool,
    /// SPIi and SPIr.
    pub spis: (u64, u64),
    /// Our address and port, and the peer's.
    pub path: Path,
    /// The peer's identity, once authenticated.
    pub peer_id: Option<Identification>,
    /// The algorithms, once agreed.
    pub algorithms: Option<IkeAlgorithms>,
    /// What NAT detection found.
    pub nat: NatState,
    /// How long it has been up.
    pub established_for: Option<Duration>,
    /// Time until it is rekeyed.
    pub rekey_in: Option<Duration>,
    /// Time until it is closed unless rekeyed first.
    pub expires_in: Option<Duration>,
    /// Its Child SAs' inbound SPIs.
    pub child_sas: Vec<u32>,
}

/// A Child SA (`swanctl --list-sas`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildSaInfo {
    /// Its connection.
    pub connection: String,
    /// Its child configuration.
    pub child: String,
    /// Its IKE SA.
    pub ike_sa: IkeSaHandle,
    /// Our SPI.
    pub inbound_spi: u32,
    /// The peer's SPI.
    pub outbound_spi: u32,
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// The algorithms.
    pub algorithms: ChildAlgorithms,
    /// Tunnel or transport.
    pub mode: Mode,
    /// ESP in UDP, and over which ports.
    pub udp_encapsulation: Option<(SocketAddr, SocketAddr)>,
    /// Our side's selectors.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's selectors.
    pub remote_ts: Vec<TrafficSelector>,
    /// Whether we send on it: a rekey's replacement the peer made is installed first and
    /// sent on once the peer uses it (RFC 7296 §2.8).
    pub active: bool,
    /// The Child SA it replaced, if a rekey made it.
    pub rekeyed: Option<u32>,
    /// How long it has been installed.
    pub installed_for: Duration,
    /// Time until its rekey (soft lifetime), if it has one and has not reached it.
    pub rekey_in: Option<Duration>,
    /// Time until it must go (hard lifetime).
    pub expires_in: Option<Duration>,
    /// Its traffic both ways, and the inbound packets dropped on it, by reason.
    pub traffic: Traffic,
}

fn until(now: Instant, at: Option<Instant>) -> Option<Duration> {
    at.map(|at| at.saturating_duration_since(now))
}

impl Endpoint {
    /// The connections loaded, with their SAs counted and their traffic totalled.
    pub fn connections(&self) -> Vec<ConnectionInfo> {
        self.connections
            .iter()
            .map(|state| {
                let mut traffic = state.gone;
                let mut child_sas = 0;
                for handle in &state.ike_sas {
                    for spi in self
                        .ike_sas
                        .get(handle)
                        .map(|s| s.children.as_slice())
                        .unwrap_or_default()
                    {
                        if let Some(child) = self.children.by_spi.get(spi) {
                            child_sas += 1;
                            traffic.add(&self.traffic(*spi, child));
                        }
                    }
                }
                ConnectionInfo {
                    name: state.connection.name.clone(),
                    children: state
                        .connection
                        .children
                        .iter()
                        .map(|c| c.name.clone())
                        .collect(),
                    ike_sas: state.ike_sas.len(),
                    child_sas,
                    traffic,
                }
            })
            .collect()
    }

    /// Every IKE SA, as of `now`.
    pub fn ike_sas(&self, now: Instant) -> Vec<IkeSaInfo> {
        let mut list: Vec<IkeSaInfo> = self
            .ike_sas
            .keys()
            .filter_map(|handle| self.ike_sa(now, *handle))
            .collect();
        list.sort_by_key(|info| info.handle);
        list
    }

    /// The IKE SA `handle`, as of `now`.
    pub fn ike_sa(&self, now: Instant, handle: IkeSaHandle) -> Option<IkeSaInfo> {
        let state = self.ike_sas.get(&handle)?;
        let info = self.ike.ike_sa(handle)?;
        Some(IkeSaInfo {
            connection: state.connection.clone(),
            handle,
            state: info.state,
            initiator: info.initiator,
            spis: (info.spi_i, info.spi_r),
            path: info.path,
            peer_id: info.peer_id,
            algorithms: info.algorithms,
            nat: info.nat,
            established_for: info
                .established_at
                .map(|at| now.saturating_duration_since(at)),
            rekey_in: until(now, info.rekey_at),
            expires_in: until(now, info.expires_at),
            child_sas: state.children.clone(),
        })
    }

    /// Every Child SA, as of `now`, by IKE SA and inbound SPI.
    pub fn child_sas(&self, now: Instant) -> Vec<ChildSaInfo> {
        let mut list: Vec<ChildSaInfo> = self
            .children
            .by_spi
            .keys()
            .filter_map(|spi| self.child_sa(now, *spi))
            .collect();
        list.sort_by_key(|info| (info.ike_sa, info.inbound_spi));
        list
    }

    /// The Child SA whose inbound SPI is `inbound_spi`, as of `now`.
    pub fn child_sa(&self, now: Instant, inbound_spi: u32) -> Option<ChildSaInfo> {
        let child = self.children.by_spi.get(&inbound_spi)?;
        let lifetime = self
            .sad
            .outbound(child.outbound)
            .map(|e| e.config().lifetime);
        let soft = lifetime.and_then(|l| l.soft.time);
        let hard = lifetime.and_then(|l| l.hard.time);
        let rekey_pending = self
            .sad
            .outbound(child.outbound)
            .is_some_and(|e| e.rekey_requested());
        Some(ChildSaInfo {
            connection: child.connection.clone(),
            child: child.child.clone(),
            ike_sa: child.ike,
            inbound_spi,
            outbound_spi: child.outbound_spi,
            protocol: child.protocol,
            algorithms: child.algorithms,
            mode: child.mode,
            udp_encapsulation: child
                .udp_encapsulation
                .then_some((child.path.local, child.path.remote)),
            local_ts: child.local_ts.clone(),
            remote_ts: child.remote_ts.clone(),
            active: !child.pending,
            rekeyed: child.rekeyed,
            installed_for: now.saturating_duration_since(child.installed_at),
            rekey_in: if rekey_pending {
                None
            } else {
                until(now, soft)
            },
            expires_in: until(now, hard),
            traffic: self.traffic(inbound_spi, child),
        })
    }

    /// The traffic of one Child SA from the SAD's counters.
    fn traffic(&self, inbound_spi: u32, child: &ChildState) -> Traffic {
        Traffic::of(
            self.sad.inbound(inbound_spi).map(|e| e.stats()),
            self.sad.outbound(child.outbound).map(|e| e.stats()),
        )
    }
}
