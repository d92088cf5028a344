//! What the caller asks of the endpoint, in swanctl's terms: initiate (a connection or one
//! child), terminate (an IKE SA, a Child SA, a connection), rekey, check liveness, rotate
//! the cookie secret, and load, replace and unload connections at run time.

use std::sync::Arc;
use std::time::Instant;

use ipsec_ikev2::{IkeSaHandle, Path};
use ipsec_sad::{Action as SpdAction, IpsecProtocol, LifetimeTemplate, SaTemplate, SpdEntry};

use super::Endpoint;
use super::children::{sad_mode, selectors};
use super::state::{ConnectionState, IkeState, Traffic};
use crate::config::{Config, ConfigError, Connection};

impl Endpoint {
    /// Loads `connection`: one PROTECT policy per child, whose traffic finds the Child SAs
    /// negotiated for it (RFC 4301 §4.4.1); trapped children start on traffic.
    pub(super) fn load(&mut self, connection: Connection) {
        let (index, position) = (self.connections.len(), self.spd.len());
        self.load_at(connection, index, position);
    }

    /// Loads `connection` as the `index`th, its policies from SPD position `position` on.
    fn load_at(&mut self, connection: Connection, index: usize, mut position: usize) {
        let peer = Arc::new(connection.peer_config());
        let mut policies = Vec::new();
        for child in &connection.children {
            let protocol = if child.esp_proposals.is_empty() {
                IpsecProtocol::Ah
            } else {
                IpsecProtocol::Esp
            };
            let template = SaTemplate {
                mode: sad_mode(child.mode),
                protocol,
                proposals: Vec::new(),
                lifetime: LifetimeTemplate::default(),
            };
            let entry = SpdEntry::new(
                selectors(&child.local_ts, &child.remote_ts),
                SpdAction::Protect { template },
            );
            let id = match self.spd.insert(position.min(self.spd.len()), entry.clone()) {
                Ok(id) => id,
                Err(_) => self.spd.push(entry),
            };
            position += 1;
            self.policy_owners
                .insert(id, (connection.name.clone(), child.name.clone()));
            policies.push((child.name.clone(), id));
        }
        let trapped = connection
            .children
            .iter()
            .filter(|c| c.start_action.traps())
            .map(|c| c.name.clone())
            .collect();
        let state = ConnectionState {
            connection: Arc::new(connection),
            peer,
            policies,
            ike_sas: Default::default(),
            initiated: None,
            attempts: 0,
            trapped,
            gone: Traffic::default(),
        };
        self.connections
            .insert(index.min(self.connections.len()), state);
    }

    /// Tells IKE which peers may connect now.
    pub(super) fn publish_peers(&mut self) {
        let peers = self.connections.iter().map(|c| c.peer.clone()).collect();
        self.ike.set_responder_peers(peers);
    }

    /// Initiates the children of `connection` whose start action says so.
    pub(super) fn start_children(&mut self, now: Instant, connection: &str) {
        let starting: Vec<String> = self
            .connection_state(connection)
            .map(|c| {
                c.connection
                    .children
                    .iter()
                    .filter(|child| child.start_action.starts())
                    .map(|child| child.name.clone())
                    .collect()
            })
            .unwrap_or_default();
        for child in starting {
            let _ = self.initiate_child(now, connection, &child);
        }
    }

    /// The IKE SA of `connection` that new Child SAs can go on: one we initiated that is not
    /// gone, else any established one (charon's reuse of an IKE SA for a config).
    fn usable_ike_sa(&self, connection: &str) -> Option<IkeSaHandle> {
        let state = self.connection_state(connection)?;
        if state.connection.initiation_target().is_none() {
            // A gateway's connection (remote `%any`) has many peers' IKE SAs and none to
            // reuse for an initiation of its own: no scan of them.
            return state.initiated;
        }
        state.initiated.or_else(|| {
            state
                .ike_sas
                .iter()
                .copied()
                .find(|h| self.ike_sas.get(h).is_some_and(|s| s.established))
        })
    }

    /// Starts the IKE SA of the connection `name` with its first child (strongSwan's
    /// `swanctl --initiate`). If the connection already has an IKE SA, up or coming up, it
    /// is returned and nothing is sent.
    pub fn connect(&mut self, now: Instant, name: &str) -> Result<IkeSaHandle, crate::Error> {
        let state = self
            .connection_state(name)
            .ok_or_else(|| crate::Error::UnknownConnection(name.to_string()))?;
        if let Some(handle) = self.usable_ike_sa(name) {
            return Ok(handle);
        }
        let first = state
            .connection
            .children
            .first()
            .map(|c| c.name.clone())
            .ok_or_else(|| crate::Error::UnknownChild(name.to_string(), String::new()))?;
        self.initiate_child(now, name, &first)
    }

    /// Brings up the child `child` of the connection `connection` (`swanctl --initiate
    /// --child`): on the connection's IKE SA if it has one (at once if established, once
    /// it is if not), else with a new IKE SA that carries it in IKE_AUTH. A child that has
    /// a Child SA already is left alone. Returns the IKE SA.
    pub fn initiate_child(
        &mut self,
        now: Instant,
        connection: &str,
        child: &str,
    ) -> Result<IkeSaHandle, crate::Error> {
        let state = self
            .connection_state(connection)
            .ok_or_else(|| crate::Error::UnknownConnection(connection.to_string()))?;
        if state.connection.child(child).is_none() {
            return Err(crate::Error::UnknownChild(
                connection.to_string(),
                child.to_string(),
            ));
        }
        let Some(handle) = self.usable_ike_sa(connection) else {
            return self.start_initiation(now, connection, child);
        };
        let up = self.ike_sas.get(&handle).is_some_and(|s| s.established);
        let has_child = self.ike_sas.get(&handle).is_some_and(|s| {
            s.pending.contains(child)
                || s.children.iter().any(|spi| {
                    self.children
                        .by_spi
                        .get(spi)
                        .is_some_and(|c| c.child == child)
                })
        });
        if has_child {
            return Ok(handle);
        }
        if up {
            self.create_child(now, handle, connection, child);
        } else if let Some(state) = self.ike_sas.get_mut(&handle) {
            state.queued.push(child.to_string());
            state.requested.push(child.to_string());
            state.pending.insert(child.to_string());
        }
        self.pump(now);
        Ok(handle)
    }

    /// A new IKE SA of `connection` carrying `child` in IKE_AUTH.
    pub(super) fn start_initiation(
        &mut self,
        now: Instant,
        connection: &str,
        child: &str,
    ) -> Result<IkeSaHandle, crate::Error> {
        let state = self
            .connection_state(connection)
            .ok_or_else(|| crate::Error::UnknownConnection(connection.to_string()))?;
        let remote = state
            .connection
            .initiation_target()
            .ok_or_else(|| crate::Error::NoTarget(connection.to_string()))?;
        let local_ip = state
            .connection
            .initiation_source(remote)
            .ok_or_else(|| crate::Error::NoTarget(connection.to_string()))?;
        let path = Path {
            local: std::net::SocketAddr::new(local_ip, self.config.ike_port),
            remote,
        };
        let peer = state.peer.clone();
        let handle = self.ike.initiate(now, peer, Some(child), path)?;
        self.ike_sas.insert(
            handle,
            IkeState {
                connection: connection.to_string(),
                requested: vec![child.to_string()],
                pending: [child.to_string()].into_iter().collect(),
                ..IkeState::default()
            },
        );
        if let Some(state) = self.connection_state_mut(connection) {
            state.ike_sas.insert(handle);
            state.initiated = Some(handle);
            state.attempts = state.attempts.saturating_add(1);
        }
        self.pump(now);
        Ok(handle)
    }

    /// Asks IKE for the Child SA `child` of `connection` on the established `handle`.
    pub(super) fn create_child(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
        connection: &str,
        child: &str,
    ) {
        let config = self
            .connection_state(connection)
            .and_then(|c| c.peer.child(child).cloned());
        if let Some(config) = config
            && self.ike.create_child_sa(now, handle, config).is_ok()
            && let Some(state) = self.ike_sas.get_mut(&handle)
        {
            state.pending.insert(child.to_string());
        }
    }

    /// The IKE SA of the Child SA whose inbound SPI is `inbound_spi`.
    fn ike_sa_of_child(&self, inbound_spi: u32) -> Result<IkeSaHandle, crate::Error> {
        self.children
            .by_spi
            .get(&inbound_spi)
            .map(|c| c.ike)
            .ok_or(crate::Error::UnknownChildSa(inbound_spi))
    }

    /// Deletes an IKE SA and its Child SAs (`swanctl --terminate --ike-id`,
    /// RFC 7296 §1.4.1).
    pub fn terminate_ike(&mut self, now: Instant, handle: IkeSaHandle) -> Result<(), crate::Error> {
        self.ike.delete_ike_sa(now, handle)?;
        self.pump(now);
        Ok(())
    }

    /// Deletes the Child SA whose inbound SPI is `inbound_spi` (`swanctl --terminate
    /// --child-id`).
    pub fn terminate_child(&mut self, now: Instant, inbound_spi: u32) -> Result<(), crate::Error> {
        let ike = self.ike_sa_of_child(inbound_spi)?;
        self.ike.delete_child_sa(now, ike, inbound_spi)?;
        self.pump(now);
        Ok(())
    }

    /// Deletes every IKE SA of the connection `name`.
    pub fn terminate_connection(&mut self, now: Instant, name: &str) -> Result<(), crate::Error> {
        let handles: Vec<IkeSaHandle> = self
            .connection_state(name)
            .ok_or_else(|| crate::Error::UnknownConnection(name.to_string()))?
            .ike_sas
            .iter()
            .copied()
            .collect();
        for handle in handles {
            let _ = self.ike.delete_ike_sa(now, handle);
        }
        self.pump(now);
        Ok(())
    }

    /// Deletes every IKE SA, as before shutting down.
    pub fn disconnect_all(&mut self, now: Instant) {
        let handles: Vec<IkeSaHandle> = self.ike_sas.keys().copied().collect();
        for handle in handles {
            let _ = self.ike.delete_ike_sa(now, handle);
        }
        self.pump(now);
    }

    /// Rekeys an IKE SA (`swanctl --rekey --ike-id`, RFC 7296 §1.3.2).
    pub fn rekey_ike(&mut self, now: Instant, handle: IkeSaHandle) -> Result<(), crate::Error> {
        self.ike.rekey_ike_sa(now, handle)?;
        self.pump(now);
        Ok(())
    }

    /// Rekeys the Child SA whose inbound SPI is `inbound_spi` (`swanctl --rekey
    /// --child-id`, RFC 7296 §1.3.3).
    pub fn rekey_child(&mut self, now: Instant, inbound_spi: u32) -> Result<(), crate::Error> {
        let ike = self.ike_sa_of_child(inbound_spi)?;
        self.ike.rekey_child_sa(now, ike, inbound_spi)?;
        self.pump(now);
        Ok(())
    }

    /// Checks now that the peer of an IKE SA is alive (RFC 7296 §1.4).
    pub fn check_liveness(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
    ) -> Result<(), crate::Error> {
        self.ike.check_liveness(now, handle)?;
        self.pump(now);
        Ok(())
    }

    /// Replaces the cookie secret now (RFC 7296 §2.6); cookies made with the previous one
    /// stay valid until the next replacement. [`Config::cookie_rotation`](crate::Config)
    /// does this on a timer.
    pub fn rotate_cookie_secret(&mut self) -> Result<(), crate::Error> {
        self.ike
            .rotate_cookie_secret()
            .map_err(|e| crate::Error::Ike(ipsec_ikev2::CommandError::Internal(e)))
    }

    /// Adds a connection at run time (`swanctl --load-conns` with a new one): peers may
    /// connect with it at once, and its children with `start_action = start` are
    /// initiated.
    pub fn add_connection(
        &mut self,
        now: Instant,
        connection: Connection,
    ) -> Result<(), ConfigError> {
        if self.connection_state(&connection.name).is_some() {
            return Err(ConfigError::Duplicate {
                setting: "connections".into(),
                name: connection.name,
            });
        }
        let mut config = self.config.clone();
        config.connections.push(connection.clone());
        config.validate()?;
        self.install_config(config);
        let name = connection.name.clone();
        self.load(connection);
        self.publish_peers();
        self.start_children(now, &name);
        self.pump(now);
        Ok(())
    }

    /// Replaces the connection of the same name, in its place in the configuration's
    /// order. IKE SAs made with the old one keep what they negotiated and their IKE
    /// settings; Child SAs created from now on, and the policies of the existing ones, take
    /// the new children of the same names (a child that is gone leaves its Child SAs
    /// running until they end, without a policy for new traffic).
    pub fn replace_connection(
        &mut self,
        now: Instant,
        connection: Connection,
    ) -> Result<(), ConfigError> {
        let name = connection.name.clone();
        let mut config = self.config.clone();
        let Some(slot) = config.connections.iter_mut().find(|c| c.name == name) else {
            return Err(ConfigError::Missing {
                setting: format!("connections.{name}"),
                problem: "no such connection to replace",
            });
        };
        *slot = connection.clone();
        config.validate()?;
        self.install_config(config);
        let Some(index) = self
            .connections
            .iter()
            .position(|c| c.connection.name == name)
        else {
            return Ok(());
        };
        let old = self.connections.remove(index);
        let position = old
            .policies
            .first()
            .and_then(|(_, id)| self.spd.position(*id))
            .unwrap_or(self.spd.len());
        for (_, id) in &old.policies {
            self.spd.remove(*id);
            self.policy_owners.remove(id);
        }
        self.load_at(connection, index, position);
        if let Some(new) = self.connections.get_mut(index) {
            new.ike_sas = old.ike_sas;
            new.initiated = old.initiated;
            new.attempts = old.attempts;
            new.gone = old.gone;
            // Traps a close or dead-peer action set stay, for children still there.
            let names: Vec<String> = new.policies.iter().map(|(n, _)| n.clone()).collect();
            new.trapped
                .extend(old.trapped.into_iter().filter(|t| names.contains(t)));
        }
        // The running Child SAs' policies move to the new entries.
        let handles: Vec<IkeSaHandle> = self
            .connections
            .get(index)
            .map(|c| c.ike_sas.iter().copied().collect())
            .unwrap_or_default();
        for handle in handles {
            for spi in self
                .ike_sas
                .get(&handle)
                .map(|s| s.children.clone())
                .unwrap_or_default()
            {
                let outbound = self.children.by_spi.get(&spi).map(|c| c.outbound);
                if let Some(outbound) = outbound
                    && self.spd.remove_sa(outbound)
                {
                    self.republish(spi);
                }
            }
        }
        self.publish_peers();
        self.start_children(now, &name);
        self.pump(now);
        Ok(())
    }

    /// Removes the connection `name` (`swanctl --unload-conn` and `--terminate`): its
    /// policies go at once, its IKE SAs are deleted.
    pub fn remove_connection(&mut self, now: Instant, name: &str) -> Result<(), crate::Error> {
        let index = self
            .connections
            .iter()
            .position(|c| c.connection.name == name)
            .ok_or_else(|| crate::Error::UnknownConnection(name.to_string()))?;
        let state = self.connections.remove(index);
        for (_, id) in &state.policies {
            self.spd.remove(*id);
            self.policy_owners.remove(id);
        }
        let mut config = self.config.clone();
        config.connections.retain(|c| c.name != name);
        self.install_config(config);
        self.publish_peers();
        for handle in state.ike_sas {
            let _ = self.ike.delete_ike_sa(now, handle);
        }
        self.pump(now);
        Ok(())
    }

    /// Takes `config` as the current one, with IKE's credentials to match.
    fn install_config(&mut self, config: Config) {
        self.ike.set_credentials(Arc::new(config.shared_keys()));
        self.config = config;
    }
}
