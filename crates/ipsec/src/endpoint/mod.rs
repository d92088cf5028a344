//! The endpoint: IKE, the SAD and the SPD joined (RFC 4301 §5), driven by the caller.
//!
//! Split by job: `datapath` (packets in and out), `ah` (AH's packets), `children` (installing and removing
//! Child SAs), `commands` (what the caller asks for: connect, terminate, rekey, load),
//! `snapshot` (listings and counters) and `state` (what is kept about each).

mod ah;
mod children;
mod commands;
mod datapath;
mod snapshot;
mod state;

use std::collections::HashMap;
use std::time::Instant;

use foldhash::fast::FixedState;
use ipsec_crypto::SecureRandom;
use ipsec_ikev2::{BoundedQueue, ChildDeleteReason, CloseReason, IkeSaHandle};
use ipsec_sad::{SaId, Sad, SadEvent, Spd, SpdEntryId};

use crate::config::{Action, Config, ConfigError};
use crate::event::{ChildRemoval, Event, Output};

pub use snapshot::{ChildSaInfo, ConnectionInfo, IkeSaInfo};
pub use state::Traffic;
use state::{ChildTable, ConnectionState, IkeState, SealRoute, Timer, Timers};

/// An IPsec endpoint: IKEv2 (RFC 7296) negotiates the Child SAs, the SAD and SPD (RFC 4301)
/// protect the traffic with ESP (RFC 4303, in UDP when a NAT is about, RFC 3948) or AH
/// (RFC 4302). One endpoint serves any number of connections and, through each, any
/// number of peers, each with its own IKE SA and Child SAs.
///
/// The caller feeds it what arrives on its UDP ports ([`Endpoint::handle_udp`]), raw ESP
/// and AH ([`Endpoint::handle_esp`], [`Endpoint::handle_ah`]) and the inner packets to send
/// ([`Endpoint::send`]); it drains [`Endpoint::poll_output`] (datagrams to send, packets to
/// deliver) and [`Endpoint::poll_event`], and calls [`Endpoint::handle_timeout`] at
/// [`Endpoint::poll_timeout`]. It reads no clock and opens no socket.
pub struct Endpoint {
    config: Config,
    ike: ipsec_ikev2::Endpoint,
    sad: Sad,
    spd: Spd,
    connections: Vec<ConnectionState>,
    /// The connection and child of each policy, for ACQUIREs.
    policy_owners: HashMap<SpdEntryId, (String, String), FixedState>,
    ike_sas: HashMap<IkeSaHandle, IkeState, FixedState>,
    children: ChildTable,
    timers: Timers,
    outputs: BoundedQueue<Output>,
    events: BoundedQueue<Event>,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("connections", &self.connections.len())
            .field("ike", &self.ike)
            .field("ike_sas", &self.ike_sas.len())
            .field("child_sas", &self.children.by_spi.len())
            .finish_non_exhaustive()
    }
}

/// Items dropped because a queue toward the caller was full, by queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueDrops {
    /// [`Endpoint::poll_output`]'s queue.
    pub outputs: u64,
    /// [`Endpoint::poll_event`]'s queue.
    pub events: u64,
}

/// How long the inbound SA of a rekeyed Child SA stays after its Delete, for the packets
/// the peer sent on it before switching (RFC 7296 §2.8.1 asks to accept packets on both SAs
/// while both exist; strongSwan keeps it as long).
const REKEYED_INBOUND_LINGER: std::time::Duration = std::time::Duration::from_secs(5);

impl Endpoint {
    /// An endpoint with `config` at `now`: its connections are loaded and those with a
    /// child whose `start_action` is `start` are initiated at once. `rng` supplies SPIs,
    /// nonces and private keys.
    pub fn new(
        now: Instant,
        config: Config,
        rng: Box<dyn SecureRandom>,
    ) -> Result<Self, ConfigError> {
        config.validate()?;
        let ike = ipsec_ikev2::Endpoint::new(config.ike_endpoint_config(), rng)
            .map_err(|_| ConfigError::Random)?;
        let queue_limit = config.queue_limit;
        let connections = config.connections.clone();
        let mut endpoint = Self {
            config,
            ike,
            sad: Sad::new(),
            spd: Spd::new(),
            connections: Vec::new(),
            policy_owners: HashMap::default(),
            ike_sas: HashMap::default(),
            children: ChildTable::default(),
            timers: Timers::default(),
            outputs: BoundedQueue::new(queue_limit),
            events: BoundedQueue::new(queue_limit),
        };
        for connection in connections {
            endpoint.load(connection);
        }
        endpoint.publish_peers();
        if let Some(at) = now.checked_add(endpoint.config.cookie_rotation)
            && !endpoint.config.cookie_rotation.is_zero()
        {
            endpoint.timers.add(at, Timer::CookieRotation);
        }
        let names: Vec<String> = endpoint
            .connections
            .iter()
            .map(|c| c.connection.name.clone())
            .collect();
        for name in names {
            endpoint.start_children(now, &name);
        }
        Ok(endpoint)
    }

    /// The configuration, with the connections added, replaced and removed since.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The SAD, for its counters.
    pub fn sad(&self) -> &Sad {
        &self.sad
    }

    /// The SPD, with its per-SA policies.
    pub fn spd(&self) -> &Spd {
        &self.spd
    }

    /// The IKE endpoint, for its counters.
    pub fn ike(&self) -> &ipsec_ikev2::Endpoint {
        &self.ike
    }

    /// Acts on every deadline that has passed (IKE timers, SA lifetimes, the endpoint's
    /// own: lingering SAs, inactivity, cookie secret rotation).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ike.handle_timeout(now);
        self.sad.handle_timeout(now);
        for timer in self.timers.due(now) {
            match timer {
                Timer::Linger(spi) => {
                    if let Some((_, connection)) = self.children.lingering.remove(&spi) {
                        let stats = self.sad.remove_inbound(spi);
                        if let Some(conn) = self.connection_state_mut(&connection) {
                            conn.gone.add(&Traffic::of(stats.as_ref(), None));
                        }
                    }
                }
                Timer::Inactivity(spi) => self.check_inactivity(now, spi),
                Timer::CookieRotation => {
                    let _ = self.ike.rotate_cookie_secret();
                    if let Some(at) = now.checked_add(self.config.cookie_rotation) {
                        self.timers.add(at, Timer::CookieRotation);
                    }
                }
            }
        }
        self.pump(now);
    }

    /// When to call [`Endpoint::handle_timeout`] next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.ike.poll_timeout(),
            self.sad.poll_timeout(),
            self.timers.next(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The next datagram to send or packet to deliver; call until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next event; call until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// What was dropped because the caller had not drained the queues
    /// ([`Config::queue_limit`]). The IKE endpoint inside is drained after every call and
    /// never drops.
    pub fn queue_drops(&self) -> QueueDrops {
        QueueDrops {
            outputs: self.outputs.dropped(),
            events: self.events.dropped(),
        }
    }

    fn connection_state(&self, name: &str) -> Option<&ConnectionState> {
        self.connections.iter().find(|c| c.connection.name == name)
    }

    fn connection_state_mut(&mut self, name: &str) -> Option<&mut ConnectionState> {
        self.connections
            .iter_mut()
            .find(|c| c.connection.name == name)
    }

    /// The connection name of an IKE SA.
    fn connection_of(&self, handle: IkeSaHandle) -> String {
        self.ike_sas
            .get(&handle)
            .map(|s| s.connection.clone())
            .unwrap_or_default()
    }

    /// Moves what IKE and the SAD produced into the facade's queues, installing and removing
    /// Child SAs on the way.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut worked = false;
            while let Some(transmit) = self.ike.poll_transmit() {
                worked = true;
                self.outputs.push_back(Output::Udp {
                    path: transmit.path,
                    payload: transmit.payload,
                });
            }
            while let Some(event) = self.ike.poll_event() {
                worked = true;
                self.on_ike_event(now, event);
            }
            while let Some(event) = self.sad.poll_event() {
                worked = true;
                self.on_sad_event(now, event);
            }
            if !worked {
                break;
            }
        }
    }

    fn on_sad_event(&mut self, now: Instant, event: SadEvent) {
        // Events of a rekeyed SA's lingering inbound half are not reported: the caller was
        // told it is gone.
        match event {
            SadEvent::RekeyNeeded { sa, limit } => {
                // RFC 4301 §4.4.2.1: a soft limit starts the replacement.
                if let Some((ike, inbound)) = self.child_of(sa) {
                    let _ = self.ike.rekey_child_sa(now, ike, inbound);
                    let (connection, child) = self.child_names(inbound);
                    self.events.push_back(Event::RekeyNeeded {
                        connection,
                        child,
                        sa,
                        limit,
                    });
                }
            }
            SadEvent::Expired { sa, limit } => {
                // A hard limit ends the Child SA (RFC 7296 §2.8).
                if let Some((ike, inbound)) = self.child_of(sa) {
                    let _ = self.ike.delete_child_sa(now, ike, inbound);
                    let (connection, child) = self.child_names(inbound);
                    self.events.push_back(Event::Expired {
                        connection,
                        child,
                        sa,
                        limit,
                    });
                }
            }
            _ => {}
        }
    }

    /// The IKE SA and inbound SPI of the Child SA an SAD entry belongs to.
    fn child_of(&self, sa: SaId) -> Option<(IkeSaHandle, u32)> {
        let inbound = match sa {
            SaId::Inbound { spi } => spi,
            SaId::Outbound { handle, .. } => self.children.by_outbound.get(&handle)?.inbound_spi,
        };
        self.children.by_spi.get(&inbound).map(|c| (c.ike, inbound))
    }

    /// The connection and child names of a Child SA.
    fn child_names(&self, inbound: u32) -> (String, String) {
        self.children
            .by_spi
            .get(&inbound)
            .map(|c| (c.connection.clone(), c.child.clone()))
            .unwrap_or_default()
    }

    fn on_ike_event(&mut self, now: Instant, event: ipsec_ikev2::Event) {
        match event {
            ipsec_ikev2::Event::IkeSaEstablished {
                handle,
                connection,
                initiator,
                peer_id,
                algorithms,
                nat,
                path,
                keys,
            } => {
                let state = self.ike_sas.entry(handle).or_insert_with(|| IkeState {
                    connection: connection.clone(),
                    ..IkeState::default()
                });
                state.established = true;
                let queued = std::mem::take(&mut state.queued);
                if let Some(conn) = self.connection_state_mut(&connection) {
                    conn.ike_sas.insert(handle);
                    if initiator {
                        conn.attempts = 0;
                    }
                }
                if let (Some(log), Some(keys)) = (&self.config.key_log, &keys) {
                    log.log_ike_sa(keys);
                }
                crate::trace::ike_sa_established(handle, &peer_id, &path);
                self.events.push_back(Event::IkeSaEstablished {
                    connection: connection.clone(),
                    handle,
                    initiator,
                    peer_id,
                    algorithms,
                    nat,
                    path,
                });
                for child in queued {
                    self.create_child(now, handle, &connection, &child);
                }
            }
            ipsec_ikev2::Event::ChildSaReady(ready) => {
                if let Some(state) = self.ike_sas.get_mut(&ready.ike_sa) {
                    state.pending.remove(&ready.child);
                }
                self.install(now, *ready)
            }
            ipsec_ikev2::Event::ChildSaActive { inbound_spi, .. } => self.activate(inbound_spi),
            ipsec_ikev2::Event::ChildSaFailed {
                handle,
                child,
                reason,
                rekeying,
            } => {
                if rekeying.is_none()
                    && let Some(state) = self.ike_sas.get_mut(&handle)
                {
                    state.pending.remove(&child);
                }
                self.events.push_back(Event::ChildSaFailed {
                    connection: self.connection_of(handle),
                    child,
                    ike_sa: handle,
                    reason,
                    rekeying,
                });
            }
            ipsec_ikev2::Event::ChildSaDeleted {
                handle,
                inbound_spi,
                outbound_spi,
                reason,
            } => self.child_deleted(now, handle, inbound_spi, outbound_spi, reason),
            ipsec_ikev2::Event::IkeSaRekeyed {
                handle,
                spi_i,
                spi_r,
                algorithms,
                keys,
                ..
            } => {
                if let (Some(log), Some(keys)) = (&self.config.key_log, &keys) {
                    log.log_ike_sa(keys);
                }
                crate::trace::ike_sa_rekeyed(handle, spi_i, spi_r);
                self.events.push_back(Event::IkeSaRekeyed {
                    connection: self.connection_of(handle),
                    handle,
                    spi_i,
                    spi_r,
                    algorithms,
                });
            }
            ipsec_ikev2::Event::IkeSaKeys { keys, .. } => {
                if let Some(log) = &self.config.key_log {
                    log.log_ike_sa(&keys);
                }
            }
            ipsec_ikev2::Event::PathChanged { handle, path } => self.follow(handle, path),
            ipsec_ikev2::Event::IkeSaReplaced { handle } => {
                // Its traffic goes to the SAs that replace it while its Delete is on the way.
                for spi in self
                    .ike_sas
                    .get(&handle)
                    .map(|s| s.children.clone())
                    .unwrap_or_default()
                {
                    if let Some(child) = self.children.by_spi.get(&spi) {
                        self.spd.remove_sa(child.outbound);
                    }
                }
            }
            ipsec_ikev2::Event::Refused {
                handle,
                connection,
                remote,
                peer_id,
                reason,
            } => {
                let connection = connection.or_else(|| {
                    handle
                        .and_then(|h| self.ike_sas.get(&h))
                        .map(|s| s.connection.clone())
                });
                self.events.push_back(Event::PeerRefused {
                    connection,
                    remote,
                    peer_id,
                    reason,
                });
            }
            ipsec_ikev2::Event::IkeSaClosed { handle, reason } => self.closed(now, handle, reason),
            _ => {}
        }
    }

    /// A Child SA IKE deleted: out of the data plane, and the close action if the peer
    /// closed it.
    fn child_deleted(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
        inbound_spi: u32,
        outbound_spi: u32,
        reason: ChildDeleteReason,
    ) {
        let linger = (reason == ChildDeleteReason::Rekeyed)
            .then(|| now.checked_add(REKEYED_INBOUND_LINGER))
            .flatten();
        let Some(child) = self.remove_child(handle, inbound_spi, outbound_spi, linger, reason)
        else {
            return;
        };
        if reason == ChildDeleteReason::IkeSaClosed
            && let Some(state) = self.ike_sas.get_mut(&handle)
            && !state.lost.contains(&child.1)
        {
            state.lost.push(child.1.clone());
        }
        if reason == ChildDeleteReason::Peer {
            let action = self
                .connection_state(&child.0)
                .and_then(|c| c.connection.child(&child.1))
                .map(|c| c.close_action);
            self.after_close(now, &child.0, &child.1, action.unwrap_or_default());
        }
    }

    /// What a close or dead peer action asks for the child `child` of `connection`: arm its
    /// trap, or re-create it.
    fn after_close(&mut self, now: Instant, connection: &str, child: &str, action: Action) {
        match action {
            Action::None => {}
            Action::Trap => {
                if let Some(state) = self.connection_state_mut(connection) {
                    state.trapped.insert(child.to_string());
                }
            }
            Action::Start => {
                let _ = self.initiate_child(now, connection, child);
            }
        }
    }

    /// An IKE SA ended: its Child SAs go (IKE reported each), its connection forgets it,
    /// and the dead peer, close and keyingtries rules apply.
    fn closed(&mut self, now: Instant, handle: IkeSaHandle, reason: CloseReason) {
        let Some(state) = self.ike_sas.remove(&handle) else {
            // A responder's IKE SA that never came up (its refusal was reported as
            // PeerRefused): the caller never heard of it.
            return;
        };
        let mut lost = state.lost.clone();
        for inbound in state.children.clone() {
            let outbound = self
                .children
                .by_spi
                .get(&inbound)
                .map(|c| c.outbound_spi)
                .unwrap_or_default();
            if let Some((_, child)) = self.remove_child(
                handle,
                inbound,
                outbound,
                None,
                ChildDeleteReason::IkeSaClosed,
            ) && !lost.contains(&child)
            {
                lost.push(child);
            }
        }
        let mut retry = false;
        let mut children_to_act_on: Vec<(String, Action)> = Vec::new();
        if let Some(conn) = self.connection_state_mut(&state.connection) {
            conn.ike_sas.remove(&handle);
            if conn.initiated == Some(handle) {
                conn.initiated = None;
                // swanctl's `keyingtries`: an initiation that did not come up is tried
                // again, up to that many times in all (0: forever).
                let tries = conn.connection.keyingtries;
                let failed_setup = !state.established
                    && matches!(
                        reason,
                        CloseReason::EstablishmentTimeout | CloseReason::DeadPeer
                    );
                if failed_setup && (tries == 0 || conn.attempts < tries) {
                    retry = true;
                } else {
                    // Up, closed for another reason, or out of tries: the next
                    // initiation starts a fresh count.
                    conn.attempts = 0;
                }
            }
            let action = |child: &crate::config::Child| match reason {
                CloseReason::DeadPeer => child.dpd_action,
                CloseReason::PeerDelete => child.close_action,
                _ => Action::None,
            };
            // Only the children that had Child SAs on this IKE SA (strongSwan's rule).
            children_to_act_on = conn
                .connection
                .children
                .iter()
                .filter(|c| lost.contains(&c.name))
                .map(|c| (c.name.clone(), action(c)))
                .filter(|(_, a)| *a != Action::None)
                .collect();
        }
        crate::trace::ike_sa_closed(handle, reason);
        self.events.push_back(Event::IkeSaClosed {
            connection: state.connection.clone(),
            handle,
            reason,
        });
        if retry {
            // The same children again: the IKE_AUTH one first, the queued ones after.
            let mut wanted: Vec<String> = Vec::new();
            for child in &state.requested {
                if !wanted.contains(child) {
                    wanted.push(child.clone());
                }
            }
            if let Some((first, rest)) = wanted.split_first()
                && let Ok(new) = self.start_initiation(now, &state.connection, first)
                && let Some(new_state) = self.ike_sas.get_mut(&new)
            {
                new_state.queued = rest.to_vec();
                new_state.requested = wanted.clone();
                new_state.pending.extend(rest.iter().cloned());
            }
        }
        for (child, action) in children_to_act_on {
            self.after_close(now, &state.connection, &child, action);
        }
    }

    /// The IKE SA's peer moved (a NAT rebinding, RFC 7296 §2.23): its Child SAs' ESP in UDP
    /// follows it (RFC 3948).
    fn follow(&mut self, handle: IkeSaHandle, path: ipsec_ikev2::Path) {
        let Some(state) = self.ike_sas.get(&handle) else {
            return;
        };
        for spi in &state.children {
            if let Some(child) = self.children.by_spi.get_mut(spi) {
                child.path = path;
                if let Some(route) = self.children.by_outbound.get_mut(&child.outbound) {
                    route.transmit = SealRoute::transmit(path, child.udp_encapsulation);
                }
            }
        }
    }

    /// A Child SA without traffic since the last check is deleted (swanctl's
    /// `inactivity`); one with traffic is checked again later.
    fn check_inactivity(&mut self, now: Instant, spi: u32) {
        let Some(child) = self.children.by_spi.get(&spi) else {
            return;
        };
        let packets = self
            .sad
            .inbound(spi)
            .map_or(0, |e| e.stats().packets)
            .saturating_add(
                self.sad
                    .outbound(child.outbound)
                    .map_or(0, |e| e.stats().packets),
            );
        let (ike, interval) = (child.ike, child.inactivity);
        if packets != child.seen_packets {
            if let Some(child) = self.children.by_spi.get_mut(&spi) {
                child.seen_packets = packets;
            }
            if let Some(at) = now.checked_add(interval) {
                self.timers.add(at, Timer::Inactivity(spi));
            }
            return;
        }
        let last = self
            .ike_sas
            .get(&ike)
            .is_some_and(|s| s.children.len() <= 1);
        // strongSwan closes the IKE SA with its last Child SA.
        let deleted = if last {
            self.ike.delete_ike_sa(now, ike)
        } else {
            self.ike.delete_child_sa(now, ike, spi)
        };
        match deleted {
            Ok(()) => {
                if let Some(child) = self.children.by_spi.get_mut(&spi) {
                    child.removal = Some(ChildRemoval::Inactive);
                }
            }
            // Not now (the IKE SA is busy closing or not established): check again later.
            Err(_) => {
                if let Some(at) = now.checked_add(interval) {
                    self.timers.add(at, Timer::Inactivity(spi));
                }
            }
        }
        self.pump(now);
    }
}
