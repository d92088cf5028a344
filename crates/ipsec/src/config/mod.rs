//! Configuration in the terms strongSwan users know (swanctl.conf's names and nesting):
//! connections with their children, secrets, and the endpoint's ports and timers. Built
//! with builders and validated as a whole (rustls's `ConfigBuilder` is the model): every
//! error names the setting, as swanctl.conf nests it, and says what is wrong.

mod algorithms;
mod child;
mod connection;
mod error;
#[cfg(feature = "serde")]
mod file;
mod value;

use std::sync::Arc;
use std::time::Duration;

use ipsec_crypto::{CryptoProvider, RUST_CRYPTO, SecretBytes};
use ipsec_ikev2::{
    ChildConfig, Credentials, DosProtection, EndpointConfig, IdMatcher, IkeLifetime, PeerConfig,
    RetransmitConfig, SharedKey, SharedKeys,
};

pub use child::{Action, Child, ChildBuilder, StartAction};
pub use connection::{Auth, Connection, ConnectionBuilder};
pub use error::{ConfigError, ValueError};
pub use value::{
    parse_addresses, parse_duration, parse_identity, parse_number, parse_remote_identity,
    parse_traffic_selector,
};

use crate::keylog::KeyLog;

/// A pre-shared key and the identities that hold it (swanctl.conf's `secrets.ike-NAME`:
/// `id`, `id-1`, ... and `secret`). With no identities it is anyone's key.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The identities that share the key.
    pub ids: Vec<IdMatcher>,
    /// The key.
    pub secret: SecretBytes,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secret")
            .field("ids", &self.ids)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

impl Secret {
    /// A key for the identities in `ids` (`"gw.example, alice@example.com"`, wildcards and
    /// `%any` allowed), as swanctl.conf writes them.
    pub fn new(ids: &[&str], secret: &[u8]) -> Result<Self, ConfigError> {
        let ids = ids
            .iter()
            .map(|id| {
                parse_remote_identity(id).map_err(|e| ConfigError::invalid("secrets.id", id, e))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            ids,
            secret: SecretBytes::copy_from(secret),
        })
    }
}

/// The endpoint's configuration. Build it with [`Config::builder`], which checks it as a
/// whole; [`Config::default`] is an endpoint with no connections.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The IKE port (strongSwan's `charon.port`); 500.
    pub ike_port: u16,
    /// Our NAT-T port (`charon.port_nat_t`); 4500.
    pub nat_t_port: u16,
    /// The connections, in the order their policies are consulted.
    pub connections: Vec<Connection>,
    /// Pre-shared keys by identity (swanctl.conf's `secrets`), besides the connections'
    /// own `psk`.
    pub secrets: Vec<Secret>,
    /// The algorithms.
    pub provider: &'static CryptoProvider,
    /// Where the keys of every SA go, for Wireshark; `None` (the default) keeps them.
    pub key_log: Option<Arc<dyn KeyLog>>,
    /// Retransmission of IKE requests (RFC 7296 §2.1).
    pub retransmit: RetransmitConfig,
    /// The responder's defences against floods: cookies (RFC 7296 §2.6), limits on
    /// half-open IKE SAs, client puzzles (RFC 8019), with strongSwan's names.
    pub dos: DosProtection,
    /// The hardest client puzzle solved as initiator (RFC 8019 §9); 0: never.
    pub max_puzzle_difficulty: u8,
    /// Datagrams, packets and events kept for the caller to drain; beyond that they are
    /// dropped and counted ([`Endpoint::queue_drops`](crate::Endpoint::queue_drops)).
    pub queue_limit: usize,
    /// How often the cookie secret is replaced (RFC 7296 §2.6: "periodically"; RFC 8019
    /// §10: at most half the half-open timeout, so that a cookie and its puzzle solution
    /// are good for 15 to 30 s by default); zero:
    /// only when [`Endpoint::rotate_cookie_secret`](crate::Endpoint::rotate_cookie_secret)
    /// says so.
    pub cookie_rotation: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("ike_port", &self.ike_port)
            .field("nat_t_port", &self.nat_t_port)
            .field("connections", &self.connections)
            .field("secrets", &self.secrets)
            .field("provider", &self.provider.name)
            .field("key_log", &self.key_log.is_some())
            .field("dos", &self.dos)
            .field("max_puzzle_difficulty", &self.max_puzzle_difficulty)
            .field("queue_limit", &self.queue_limit)
            .field("cookie_rotation", &self.cookie_rotation)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ike_port: 500,
            nat_t_port: 4500,
            connections: Vec::new(),
            secrets: Vec::new(),
            provider: &RUST_CRYPTO,
            key_log: None,
            retransmit: RetransmitConfig::default(),
            dos: DosProtection::default(),
            max_puzzle_difficulty: 16,
            queue_limit: 4096,
            cookie_rotation: Duration::from_secs(15),
        }
    }
}

impl Config {
    /// A builder with the defaults: ports 500 and 4500, the RustCrypto provider, no key
    /// log, the defences of [`DosProtection::default`] with the cookie secret replaced
    /// every 15 s (half the half-open timeout, RFC 8019 §10: a solved puzzle must not be
    /// reusable for long), queues of 4,096.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
        }
    }

    /// The connection named `name`.
    pub fn connection(&self, name: &str) -> Option<&Connection> {
        self.connections.iter().find(|c| c.name == name)
    }

    /// The IKE endpoint's configuration (its peers are published once loaded).
    pub(crate) fn ike_endpoint_config(&self) -> EndpointConfig {
        EndpointConfig {
            ike_port: self.ike_port,
            nat_t_port: self.nat_t_port,
            dos: self.dos,
            retransmit: self.retransmit,
            provider: self.provider,
            key_log: self.key_log.is_some(),
            credentials: Arc::new(self.shared_keys()),
            max_puzzle_difficulty: self.max_puzzle_difficulty,
            // The facade drains the IKE endpoint after every call, so its queues hold one
            // call's work at most; they must not drop, since the facade acts on every
            // event (a lost ChildSaDeleted would leave an SA in the SAD). The caller-facing
            // queues are the bounded ones.
            queue_limit: usize::MAX,
            ..EndpointConfig::default()
        }
    }

    /// Every pre-shared key, the connections' shorthands included, for IKE.
    pub(crate) fn shared_keys(&self) -> SharedKeys {
        let mut keys = SharedKeys::new();
        for secret in &self.secrets {
            keys.add(SharedKey {
                owners: secret.ids.clone(),
                secret: secret.secret.clone(),
            });
        }
        for connection in &self.connections {
            if let Some(psk) = &connection.psk {
                keys.add(connection_key(connection, psk));
            }
        }
        keys
    }

    /// Checks the configuration as a whole (RFC 7296 and swanctl's rules): names unique,
    /// ports consistent, a key for every connection's identities, every algorithm of every
    /// proposal (the `default` ones included) implemented by the provider and fit for IKE
    /// where IKE uses it, a target for every connection that starts at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.ike_port == 0 || self.nat_t_port == 0 {
            return Err(ConfigError::inconsistent("port", "port 0 cannot be bound"));
        }
        if self.ike_port == self.nat_t_port {
            return Err(ConfigError::inconsistent(
                "port_nat_t",
                "must differ from the IKE port (RFC 3948 tells them apart by port)",
            ));
        }
        if let Err(ipsec_ikev2::Error::InvalidConfig { setting, problem }) =
            self.ike_endpoint_config().validate()
        {
            return Err(ConfigError::inconsistent(setting, problem));
        }
        if self.queue_limit == 0 {
            return Err(ConfigError::inconsistent(
                "queue_limit",
                "must be at least 1",
            ));
        }
        for (index, secret) in self.secrets.iter().enumerate() {
            if secret.secret.is_empty() {
                return Err(ConfigError::invalid(
                    &format!("secrets.{index}.secret"),
                    "",
                    ValueError::Empty,
                ));
            }
        }
        let keys = self.shared_keys();
        for (index, connection) in self.connections.iter().enumerate() {
            let name = &connection.name;
            let setting = |s: &str| format!("connections.{name}.{s}");
            if self.connections.iter().take(index).any(|c| c.name == *name) {
                return Err(ConfigError::Duplicate {
                    setting: "connections".into(),
                    name: name.clone(),
                });
            }
            if let Some(port) = connection.local_port
                && port != self.ike_port
            {
                return Err(ConfigError::inconsistent(
                    &setting("local_port"),
                    format!("{port} is not the endpoint's IKE port {}", self.ike_port),
                ));
            }
            if connection.children.is_empty() {
                return Err(ConfigError::Missing {
                    setting: setting("children"),
                    problem: "a connection needs at least one child",
                });
            }
            let remote = match &connection.remote_id {
                IdMatcher::Exact(id) => ipsec_ikev2_identification(id),
                _ => None,
            };
            if keys
                .shared_key(&connection.local_id, remote.as_ref())
                .is_none()
            {
                return Err(ConfigError::Missing {
                    setting: setting("psk"),
                    problem: "no pre-shared key for the connection's identities (set psk, or \
                              add a secret for them)",
                });
            }
            if let Some(problem) = connection
                .proposals
                .iter()
                .find_map(|p| algorithms::unusable_in_ike(self.provider, p))
            {
                return Err(ConfigError::inconsistent(&setting("proposals"), problem));
            }
            for child in &connection.children {
                let child_setting = |s: &str| setting(&format!("children.{}.{s}", child.name));
                for (name, proposals) in [
                    ("esp_proposals", &child.esp_proposals),
                    ("ah_proposals", &child.ah_proposals),
                ] {
                    if let Some(problem) = proposals
                        .iter()
                        .find_map(|p| algorithms::unusable_in_child(self.provider, p))
                    {
                        return Err(ConfigError::inconsistent(&child_setting(name), problem));
                    }
                }
                let target = connection.initiation_target();
                let source = target.and_then(|t| connection.initiation_source(t));
                if child.start_action.starts() && source.is_none() {
                    return Err(ConfigError::inconsistent(
                        &child_setting("start_action"),
                        "start needs a single address in remote_addrs to initiate to, and \
                         one of its family in local_addrs to initiate from",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The Identification of an exact PAD identity.
fn ipsec_ikev2_identification(id: &ipsec_sad::PeerId) -> Option<ipsec_isakmp::Identification> {
    Some(ipsec_isakmp::Identification {
        id_type: ipsec_isakmp::IdType::from(id.id_type()),
        data: id.data(),
    })
}

/// The key a connection's `psk` stands for: owned by its identity and, if exact, the
/// peer's.
fn connection_key(connection: &Connection, psk: &SecretBytes) -> SharedKey {
    let mut owners = Vec::new();
    if let Some(ours) = value::peer_id(&connection.local_id) {
        owners.push(IdMatcher::Exact(ours));
    }
    match &connection.remote_id {
        IdMatcher::Any => {}
        other => owners.push(other.clone()),
    }
    SharedKey {
        owners,
        secret: psk.clone(),
    }
}

impl Connection {
    /// What IKE negotiates for this connection.
    pub(crate) fn peer_config(&self) -> PeerConfig {
        let some = |d: Duration| (!d.is_zero()).then_some(d);
        PeerConfig {
            name: self.name.clone(),
            local_addrs: self.local_addrs.clone(),
            remote_addrs: self.remote_addrs.clone(),
            local_id: self.local_id.clone(),
            remote_id: self.remote_id.clone(),
            local_auth: self.local_auth.method(),
            remote_auth: self.remote_auth.method(),
            ike_proposals: self.proposals.clone(),
            children: self
                .children
                .iter()
                .map(|child| {
                    Arc::new(ChildConfig {
                        name: child.name.clone(),
                        proposals: child.proposals(),
                        local_ts: child.local_ts.clone(),
                        remote_ts: child.remote_ts.clone(),
                        mode: child.mode,
                        lifetimes: child.lifetimes(),
                        accept_tfc_padding: true,
                    })
                })
                .collect(),
            ike_lifetime: IkeLifetime {
                rekey_time: some(self.rekey_time),
                jitter: Some(self.rand_time),
                hard_time: some(self.rekey_time)
                    .and_then(|rekey| rekey.checked_add(self.over_time)),
            },
            remote_nat_t_port: self.nat_t_port(),
            force_udp_encapsulation: self.encap,
            unique: self.unique,
            liveness_interval: some(self.dpd_delay),
            liveness_timeout: some(self.dpd_timeout),
        }
    }
}

/// Builds a [`Config`] and checks it as a whole.
#[derive(Debug, Clone)]
#[must_use]
pub struct ConfigBuilder {
    config: Config,
}

impl ConfigBuilder {
    /// The IKE and NAT-T ports (strongSwan's `charon.port` and `charon.port_nat_t`).
    pub fn ports(mut self, ike: u16, nat_t: u16) -> Self {
        self.config.ike_port = ike;
        self.config.nat_t_port = nat_t;
        self
    }

    /// Adds a connection; an error in it is returned at once.
    pub fn connection(
        mut self,
        connection: Result<Connection, ConfigError>,
    ) -> Result<Self, ConfigError> {
        let connection = connection.map_err(|e| e.within("connections"))?;
        self.config.connections.push(connection);
        Ok(self)
    }

    /// Adds a pre-shared key for the identities `ids` (swanctl.conf's `secrets.ike-*`).
    pub fn secret(mut self, secret: Secret) -> Self {
        self.config.secrets.push(secret);
        self
    }

    /// The algorithms' provider.
    pub fn provider(mut self, provider: &'static CryptoProvider) -> Self {
        self.config.provider = provider;
        self
    }

    /// Where the keys of every SA go, for Wireshark.
    pub fn key_log(mut self, key_log: Arc<dyn KeyLog>) -> Self {
        self.config.key_log = Some(key_log);
        self
    }

    /// How IKE requests are retransmitted.
    pub fn retransmit(mut self, retransmit: RetransmitConfig) -> Self {
        self.config.retransmit = retransmit;
        self
    }

    /// Half-open IKE SAs before cookies are demanded (0: always).
    pub fn cookie_threshold(mut self, threshold: usize) -> Self {
        self.config.dos.cookie_threshold = threshold;
        self
    }

    /// The responder's defences against floods, all at once.
    pub fn dos(mut self, dos: DosProtection) -> Self {
        self.config.dos = dos;
        self
    }

    /// The hardest client puzzle solved as initiator; 0: never.
    pub fn max_puzzle_difficulty(mut self, difficulty: u8) -> Self {
        self.config.max_puzzle_difficulty = difficulty;
        self
    }

    /// Datagrams, packets and events kept for the caller to drain.
    pub fn queue_limit(mut self, limit: usize) -> Self {
        self.config.queue_limit = limit;
        self
    }

    /// How often the cookie secret is replaced (zero: never on its own).
    pub fn cookie_rotation(mut self, every: Duration) -> Self {
        self.config.cookie_rotation = every;
        self
    }

    /// The configuration, checked as a whole ([`Config::validate`]).
    pub fn build(self) -> Result<Config, ConfigError> {
        self.config.validate()?;
        Ok(self.config)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn site(name: &str) -> Result<Connection, ConfigError> {
        Connection::builder(name)
            .remote_addrs("198.51.100.1")
            .local_id("gw-a.example")
            .remote_id("gw-b.example")
            .psk(b"a key")
            .child(
                Child::builder("net")
                    .local_ts("10.1.0.0/16")
                    .remote_ts("10.2.0.0/16")
                    .build(),
            )
            .build()
    }

    #[test]
    fn a_configuration_is_checked_as_a_whole() {
        let config = Config::builder()
            .connection(site("a"))
            .unwrap()
            .connection(site("b"))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(config.connections.len(), 2);
        let error = Config::builder()
            .connection(site("a"))
            .unwrap()
            .connection(site("a"))
            .unwrap()
            .build()
            .unwrap_err();
        assert_eq!(error.to_string(), "connections: `a` is defined twice");
        let error = Config::builder()
            .ports(500, 500)
            .connection(site("a"))
            .unwrap()
            .build()
            .unwrap_err();
        assert!(error.to_string().starts_with("port_nat_t"));
        let error = Config::builder()
            .connection(
                Connection::builder("p")
                    .local_port(501)
                    .local_id("x")
                    .psk(b"k")
                    .child(
                        Child::builder("c")
                            .local_ts("10.0.0.0/8")
                            .remote_ts("10.0.0.0/8")
                            .build(),
                    )
                    .build(),
            )
            .unwrap()
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "connections.p.local_port: 501 is not the endpoint's IKE port 500"
        );
    }

    /// A proposal naming an algorithm the provider lacks, or one IKE must not use, is
    /// refused with the setting and the algorithm.
    #[test]
    fn every_proposed_algorithm_must_be_implemented() {
        // A provider without key exchanges, to lack something every proposal names.
        let no_groups: &'static CryptoProvider = Box::leak(Box::new(CryptoProvider {
            name: "no-groups",
            key_exchanges: &[],
            ..RUST_CRYPTO
        }));
        let with = |provider: &'static CryptoProvider, ike: &str, esp: &str| {
            let connection = Connection::builder("p")
                .local_id("x")
                .psk(b"k")
                .proposals(ike)
                .child(
                    Child::builder("c")
                        .local_ts("10.0.0.0/8")
                        .remote_ts("10.0.0.0/8")
                        .esp_proposals(esp)
                        .build(),
                )
                .build();
            Config::builder()
                .provider(provider)
                .connection(connection)
                .unwrap()
                .build()
                .map_err(|e| e.to_string())
        };
        let default = &RUST_CRYPTO;
        assert!(
            with(
                default,
                "aes256ctr-sha1-ecp224bp-ecp512bp-modp8192",
                "aes128ctr-aesxcbc-x448"
            )
            .is_ok()
        );
        assert_eq!(
            with(no_groups, "aes128-sha256-ecp224bp", "aes128gcm16").unwrap_err(),
            "connections.p.proposals: uses brainpoolP224r1, which the crypto provider \
             `no-groups` does not implement"
        );
        let x25519 = RUST_CRYPTO
            .key_exchange(ipsec_crypto::iana::DH_CURVE25519)
            .unwrap();
        let esp_only: &'static CryptoProvider = Box::leak(Box::new(CryptoProvider {
            name: "x25519-only",
            key_exchanges: Box::leak(vec![x25519].into_boxed_slice()),
            ..RUST_CRYPTO
        }));
        assert_eq!(
            with(
                esp_only,
                "aes128gcm16-prfsha256-x25519",
                "aes128-sha256-ecp512bp"
            )
            .unwrap_err(),
            "connections.p.children.c.esp_proposals: uses brainpoolP512r1, which the crypto \
             provider `x25519-only` does not implement"
        );
        assert!(
            with(default, "aes128gmac-prfsha256-x25519", "aes128gcm16")
                .unwrap_err()
                .ends_with("uses ENCR_NULL_AUTH_AES_GMAC, which IKE must not use (RFC 8247 §2.2, RFC 4543 §1)")
        );
        assert!(with(default, "aes128gcm16-prfsha256-x25519", "aes128gmac").is_ok());
    }

    #[test]
    fn keys_come_from_secrets_or_the_shorthand() {
        let no_key = Connection::builder("rw")
            .local_id("gw.example")
            .remote_id("*.users.example")
            .child(
                Child::builder("net")
                    .local_ts("10.1.0.0/16")
                    .remote_ts("10.99.0.0/16")
                    .build(),
            )
            .build();
        let error = Config::builder()
            .connection(no_key.clone())
            .unwrap()
            .build()
            .unwrap_err();
        assert!(error.to_string().starts_with("connections.rw.psk"));
        let config = Config::builder()
            .connection(no_key)
            .unwrap()
            .secret(Secret::new(&["gw.example", "*.users.example"], b"group key").unwrap())
            .build()
            .unwrap();
        let keys = config.shared_keys();
        let key = keys
            .shared_key(
                &ipsec_isakmp::Identification::fqdn("gw.example"),
                Some(&ipsec_isakmp::Identification::fqdn("alice.users.example")),
            )
            .unwrap();
        assert_eq!(key.expose(), b"group key");
        assert!(
            !format!("{:?}", config.secrets).contains("group key"),
            "secrets stay out of Debug"
        );
    }
}
