//! Child SAs in and out of the data plane: installing what IKE negotiated (both halves in
//! the SAD, the per-SA policy in the SPD), activating a rekey's successor, removing.

use std::time::Instant;

use ipsec_crypto::SecretBytes;
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_ikev2::{ChildDeleteReason, ChildSaReady, IkeSaHandle, IpsecProtocol, Mode};
use ipsec_isakmp::TrafficSelector;
use ipsec_replay::ReplayWindow;
use ipsec_sad::{AddrRange, LifetimeTemplate, LimitsTemplate, PortRange, SaConfig, Selector};

use super::Endpoint;
use super::state::{ChildState, SealRoute, Timer, Traffic};
use crate::event::{ChildRemoval, Event};
use crate::keylog::EspSaKeys;

/// The SAD selector for one pair of agreed traffic selectors (RFC 4301 §4.4.1.1).
fn selector(local: &TrafficSelector, remote: &TrafficSelector) -> Option<Selector> {
    let range = |ts: &TrafficSelector| -> Option<(AddrRange, u8, PortRange)> {
        match ts {
            TrafficSelector::Ipv4(r) => Some((
                AddrRange::new(r.start_address.into(), r.end_address.into()).ok()?,
                r.ip_protocol,
                PortRange {
                    start: r.start_port,
                    end: r.end_port,
                },
            )),
            TrafficSelector::Ipv6(r) => Some((
                AddrRange::new(r.start_address.into(), r.end_address.into()).ok()?,
                r.ip_protocol,
                PortRange {
                    start: r.start_port,
                    end: r.end_port,
                },
            )),
            _ => None,
        }
    };
    let (local_addresses, local_protocol, local_port) = range(local)?;
    let (remote_addresses, remote_protocol, remote_port) = range(remote)?;
    if matches!(local, TrafficSelector::Ipv4(_)) != matches!(remote, TrafficSelector::Ipv4(_)) {
        // An IPv4 range with an IPv6 one matches no packet.
        return None;
    }
    let protocol = match (local_protocol, remote_protocol) {
        (0, p) | (p, 0) => p,
        (a, b) if a == b => a,
        _ => return None,
    };
    let mut selector = Selector::addresses(local_addresses, remote_addresses);
    if protocol != 0 {
        selector = selector.with_protocol(protocol);
    }
    selector.local_port = local_port;
    selector.remote_port = remote_port;
    Some(selector)
}

/// The SAD selectors of two lists of traffic selectors: one per pair (RFC 4301
/// §4.4.1.2).
pub(crate) fn selectors(local: &[TrafficSelector], remote: &[TrafficSelector]) -> Vec<Selector> {
    local
        .iter()
        .flat_map(|l| remote.iter().filter_map(move |r| selector(l, r)))
        .collect()
}

pub(crate) fn sad_mode(mode: Mode) -> ipsec_sad::Mode {
    match mode {
        Mode::Tunnel => ipsec_sad::Mode::Tunnel,
        Mode::Transport => ipsec_sad::Mode::Transport,
    }
}

fn lifetime(ready: &ChildSaReady) -> LifetimeTemplate {
    let l = ready.lifetimes;
    LifetimeTemplate {
        soft: LimitsTemplate {
            bytes: l.soft_bytes,
            packets: l.soft_packets,
            time: l.soft_time,
        },
        hard: LimitsTemplate {
            bytes: l.hard_bytes,
            packets: l.hard_packets,
            time: l.hard_time,
        },
        sequence_margin: ipsec_sad::DEFAULT_SEQUENCE_MARGIN,
    }
}

impl Endpoint {
    /// Installs a Child SA that IKE negotiated: both directions in the SAD, and its per-SA
    /// policy in the SPD once it is to carry traffic (RFC 4301 §4.4.1.2).
    pub(super) fn install(&mut self, now: Instant, ready: ChildSaReady) {
        let connection = self.connection_of(ready.ike_sa);
        match self.try_install(now, &ready, &connection) {
            Ok(()) => {
                crate::trace::child_sa_installed(&ready);
                self.events.push_back(Event::ChildSaInstalled {
                    connection,
                    child: ready.child,
                    ike_sa: ready.ike_sa,
                    inbound_spi: ready.inbound_spi,
                    outbound_spi: ready.outbound_spi,
                    algorithms: ready.algorithms,
                    mode: ready.mode,
                    udp_encapsulation: ready.udp_encapsulation,
                    local_ts: ready.local_ts,
                    remote_ts: ready.remote_ts,
                    rekeyed: ready.rekeyed,
                });
            }
            Err(problem) => self.events.push_back(Event::InstallFailed {
                connection,
                child: ready.child,
                ike_sa: ready.ike_sa,
                inbound_spi: ready.inbound_spi,
                problem,
            }),
        }
    }

    fn transform(
        &self,
        ready: &ChildSaReady,
        keymat: &SecretBytes,
    ) -> Result<EspTransform, &'static str> {
        let provider = self.config.provider;
        let encryption = ready.algorithms.encryption.ok_or("ESP without a cipher")?;
        let bits = encryption.effective_key_bits();
        if encryption.is_aead() {
            let aead = provider
                .aead(encryption.id.value(), bits)
                .ok_or("AEAD not in provider")?;
            return EspTransform::aead(aead, keymat.expose()).map_err(|_| "bad AEAD keys");
        }
        let cipher = provider
            .cipher(encryption.id.value(), bits)
            .ok_or("cipher not in provider")?;
        let integrity = ready
            .algorithms
            .integrity
            .and_then(|i| provider.integrity(i.value()))
            .ok_or("integrity algorithm not in provider")?;
        EspTransform::cipher_integrity(cipher, integrity, keymat.expose()).map_err(|_| "bad keys")
    }

    fn try_install(
        &mut self,
        now: Instant,
        ready: &ChildSaReady,
        connection: &str,
    ) -> Result<(), &'static str> {
        let child_config = self
            .connection_state(connection)
            .and_then(|c| c.connection.child(&ready.child).cloned());
        // A replacement waits for the peer to switch (RFC 7296 §2.8) only while the SA it
        // replaces is there to carry the traffic meanwhile.
        let active = ready.active
            || ready
                .rekeyed
                .is_some_and(|old| !self.children.by_spi.contains_key(&old));
        let (window, inactivity) = child_config
            .as_ref()
            .map_or((32, std::time::Duration::ZERO), |c| {
                (c.replay_window, c.inactivity)
            });
        let esn = ready.algorithms.esn;
        let selectors = selectors(&ready.local_ts, &ready.remote_ts);
        let config = SaConfig::new(
            sad_mode(ready.mode),
            selectors.clone(),
            lifetime(ready).starting_at(now),
        );
        let replay = ReplayWindow::new(window, esn).map_err(|_| "replay window")?;
        let handle = match ready.algorithms.protocol {
            IpsecProtocol::Ah => self.install_ah(ready, replay, config)?,
            _ => {
                let inbound = InboundSa::new(
                    ready.inbound_spi,
                    replay,
                    self.transform(ready, &ready.inbound_keymat)?,
                );
                let outbound = OutboundSa::new(
                    ready.outbound_spi,
                    esn,
                    self.transform(ready, &ready.outbound_keymat)?,
                );
                self.sad
                    .install_inbound(ready.inbound_spi, inbound, config.clone())
                    .map_err(|_| "inbound SPI refused")?;
                match self.sad.install_outbound(outbound, config) {
                    Ok(handle) => handle,
                    Err(_) => {
                        self.sad.remove_inbound(ready.inbound_spi);
                        return Err("outbound SA refused");
                    }
                }
            }
        };
        self.children.by_outbound.insert(
            handle,
            SealRoute {
                inbound_spi: ready.inbound_spi,
                protocol: ready.algorithms.protocol,
                mode: ready.mode,
                transmit: SealRoute::transmit(ready.path, ready.udp_encapsulation),
            },
        );
        self.children.by_spi.insert(
            ready.inbound_spi,
            ChildState {
                ike: ready.ike_sa,
                connection: connection.to_string(),
                child: ready.child.clone(),
                protocol: ready.algorithms.protocol,
                outbound: handle,
                outbound_spi: ready.outbound_spi,
                path: ready.path,
                udp_encapsulation: ready.udp_encapsulation,
                mode: ready.mode,
                algorithms: ready.algorithms,
                local_ts: ready.local_ts.clone(),
                remote_ts: ready.remote_ts.clone(),
                installed_at: now,
                rekeyed: ready.rekeyed,
                pending: !active,
                inactivity,
                seen_packets: 0,
                removal: None,
            },
        );
        if let Some(ike) = self.ike_sas.get_mut(&ready.ike_sa) {
            ike.children.push(ready.inbound_spi);
        }
        if !inactivity.is_zero()
            && let Some(at) = now.checked_add(inactivity)
        {
            self.timers.add(at, Timer::Inactivity(ready.inbound_spi));
        }
        if active {
            self.publish_policy(ready.inbound_spi);
        }
        if let Some(log) = &self.config.key_log {
            self.log_child(log.as_ref(), ready);
        }
        Ok(())
    }

    /// Files the policy of an active Child SA again, under its child's current SPD entry.
    pub(super) fn republish(&mut self, spi: u32) {
        self.publish_policy(spi);
    }

    /// Makes the Child SA with inbound SPI `spi` the one its traffic goes out on: its
    /// per-SA policy under its child's SPD entry, with the selectors negotiated for it
    /// (RFC 4301 §4.4.1.2); the policy of the SA it rekeyed goes, so that the successor
    /// takes over (RFC 7296 §2.8).
    fn publish_policy(&mut self, spi: u32) {
        let Some(child) = self.children.by_spi.get(&spi) else {
            return;
        };
        let (outbound, rekeyed) = (child.outbound, child.rekeyed);
        let entry = self
            .connection_state(&child.connection)
            .and_then(|c| c.policies.iter().find(|(name, _)| *name == child.child))
            .map(|(_, id)| *id);
        let selectors = self
            .sad
            .outbound(outbound)
            .map(|e| e.config().selectors.clone());
        if let Some(old) = rekeyed.and_then(|old| self.children.by_spi.get(&old)) {
            self.spd.remove_sa(old.outbound);
        }
        if let (Some(entry), Some(selectors)) = (entry, selectors) {
            self.spd.add_sa(outbound, entry, &selectors);
        }
    }

    fn log_child(&self, log: &dyn crate::keylog::KeyLog, ready: &ChildSaReady) {
        let provider = self.config.provider;
        let encryption_len = match ready.algorithms.encryption {
            Some(e) if e.is_aead() => provider
                .aead(e.id.value(), e.effective_key_bits())
                .map_or(0, |a| a.spec().keymat_len()),
            Some(e) => provider
                .cipher(e.id.value(), e.effective_key_bits())
                .map_or(0, |c| c.spec().keymat_len()),
            None => 0,
        };
        let split = |keymat: &SecretBytes| {
            let (e, i) = keymat.expose().split_at(encryption_len.min(keymat.len()));
            (SecretBytes::copy_from(e), SecretBytes::copy_from(i))
        };
        let (local, remote) = (ready.path.local.ip(), ready.path.remote.ip());
        for (spi, source, destination, keymat) in [
            (ready.inbound_spi, remote, local, &ready.inbound_keymat),
            (ready.outbound_spi, local, remote, &ready.outbound_keymat),
        ] {
            let (encryption_key, integrity_key) = split(keymat);
            log.log_esp_sa(&EspSaKeys {
                source,
                destination,
                spi,
                algorithms: ready.algorithms,
                encryption_key,
                integrity_key,
            });
        }
    }

    /// Sends on the Child SA with inbound SPI `spi` from now on (RFC 7296 §2.8).
    pub(super) fn activate(&mut self, spi: u32) {
        let Some(child) = self.children.by_spi.get_mut(&spi) else {
            return;
        };
        if !child.pending {
            return;
        }
        child.pending = false;
        self.publish_policy(spi);
    }

    /// A rekey's replacement still waiting for the peer's first packet or Delete takes over
    /// once no SA of its child on its IKE SA is sending any more: it is all that is left
    /// for that traffic (RFC 7296 §2.8). Without this, a predecessor that expired, or a
    /// collision whose other replacement was deleted as redundant, left nothing to send on.
    /// While an active one remains (the winner of a collision), the pending one (the
    /// redundant loser, which the peer deletes) stays as it is. O(Child SAs of the IKE SA).
    fn activate_last_of(&mut self, ike: IkeSaHandle, connection: &str, child: &str) {
        let Some(state) = self.ike_sas.get(&ike) else {
            return;
        };
        let same: Vec<(u32, bool)> = state
            .children
            .iter()
            .filter_map(|spi| {
                let c = self.children.by_spi.get(spi)?;
                (c.connection == connection && c.child == child).then_some((*spi, c.pending))
            })
            .collect();
        if same.iter().all(|(_, pending)| *pending) {
            for (spi, _) in same {
                self.activate(spi);
            }
        }
    }

    /// Removes a Child SA: its outbound SA and policy at once, its inbound SA at once or,
    /// for a rekeyed one, at `linger`; its traffic is added to its connection's; the caller
    /// is told. Returns its connection and child names.
    pub(super) fn remove_child(
        &mut self,
        ike: IkeSaHandle,
        inbound_spi: u32,
        outbound_spi: u32,
        linger: Option<Instant>,
        reason: ChildDeleteReason,
    ) -> Option<(String, String)> {
        let child = self.children.by_spi.remove(&inbound_spi)?;
        // A lingering inbound half's traffic is counted when it goes.
        let inbound_stats = match linger {
            Some(at) => {
                self.timers.add(at, Timer::Linger(inbound_spi));
                self.children
                    .lingering
                    .insert(inbound_spi, (ike, child.connection.clone()));
                None
            }
            None => self.sad.remove_inbound(inbound_spi),
        };
        let outbound_stats = self.sad.remove_outbound(child.outbound);
        self.spd.remove_sa(child.outbound);
        self.children.by_outbound.remove(&child.outbound);
        if let Some(state) = self.ike_sas.get_mut(&ike) {
            state.children.retain(|spi| *spi != inbound_spi);
        }
        if let Some(conn) = self.connection_state_mut(&child.connection) {
            conn.gone.add(&Traffic::of(
                inbound_stats.as_ref(),
                outbound_stats.as_ref(),
            ));
        }
        self.activate_last_of(ike, &child.connection, &child.child);
        let removal = child.removal.unwrap_or(match reason {
            ChildDeleteReason::Rekeyed => ChildRemoval::Rekeyed,
            ChildDeleteReason::IkeSaClosed => ChildRemoval::IkeSaClosed,
            _ => ChildRemoval::Deleted,
        });
        crate::trace::child_sa_removed(ike, inbound_spi, outbound_spi);
        self.events.push_back(Event::ChildSaRemoved {
            connection: child.connection.clone(),
            child: child.child.clone(),
            ike_sa: ike,
            inbound_spi,
            outbound_spi,
            reason: removal,
        });
        Some((child.connection, child.child))
    }
}
