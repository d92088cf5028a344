//! A connection (swanctl.conf's `connections.NAME`): the peer's and our addresses, the IKE
//! proposals, how each side authenticates and with which identity, the IKE SA's timers and
//! uniqueness, and its children.

use std::net::SocketAddr;
use std::time::Duration;

use ipsec_crypto::SecretBytes;
use ipsec_ikev2::{AuthMethod, IkeProposal, UniquePolicy};
use ipsec_isakmp::Identification;
use ipsec_sad::{AddrRange, IdMatcher};

use super::child::Child;
use super::error::{ConfigError, ValueError};
use super::value::{
    parse_addresses, parse_duration, parse_identity, parse_number, parse_remote_identity,
    single_address,
};
use crate::proposal_string::parse_ike_proposals;

/// One side's authentication (swanctl.conf's `local` and `remote` sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Auth {
    /// A pre-shared key (`psk`, RFC 7296 §2.15), looked up in the configuration's secrets
    /// by the two identities.
    #[default]
    Psk,
}

impl Auth {
    pub(crate) fn method(self) -> AuthMethod {
        match self {
            Self::Psk => AuthMethod::Psk,
        }
    }
}

/// A connection: a kind of IKE SA with its children. One connection serves one peer (a
/// site-to-site tunnel) or any number of them (a gateway whose `remote_addrs` is `%any`
/// and whose remote identity is a wildcard); each peer gets its own IKE SA and Child SAs.
/// Build with [`Connection::builder`].
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Connection {
    /// Its name, unique in the configuration.
    pub name: String,
    /// Our addresses; any IKE_SA_INIT to one of them may be for this connection. `Any`
    /// accepts every address.
    pub local_addrs: Vec<AddrRange>,
    /// The peer's addresses: the first single address is where an initiation goes;
    /// responders accept IKE_SA_INITs from any of them.
    pub remote_addrs: Vec<AddrRange>,
    /// Our IKE port; `None`: the endpoint's.
    pub local_port: Option<u16>,
    /// The peer's IKE port.
    pub remote_port: u16,
    /// The peer's NAT-T port; `None` follows strongSwan: 4500 if `remote_port` is 500,
    /// else `remote_port` itself.
    pub remote_nat_t_port: Option<u16>,
    /// IKE proposals, most preferred first.
    pub proposals: Vec<IkeProposal>,
    /// How we authenticate (`local.auth`).
    pub local_auth: Auth,
    /// Our identity (`local.id`).
    pub local_id: Identification,
    /// How the peer authenticates (`remote.auth`).
    pub remote_auth: Auth,
    /// Who the peer may be (`remote.id`): one identity, a wildcard, or anyone.
    pub remote_id: IdMatcher,
    /// A pre-shared key for this connection's two identities: shorthand for an entry in
    /// the configuration's secrets owned by `local_id` and (if exact) `remote_id`.
    pub psk: Option<SecretBytes>,
    /// Check the peer is alive after this long without a message from it (RFC 7296 §1.4);
    /// zero: never.
    pub dpd_delay: Duration,
    /// Declare the peer dead when a liveness check is unanswered this long; zero: when
    /// every retransmission went unanswered.
    pub dpd_timeout: Duration,
    /// Time until the IKE SA is rekeyed; zero: never on time.
    pub rekey_time: Duration,
    /// Time after `rekey_time` until an IKE SA that could not be rekeyed is closed.
    pub over_time: Duration,
    /// Up to this much, at random, is taken off `rekey_time`.
    pub rand_time: Duration,
    /// How many times an initiation is tried before giving up; zero: forever.
    pub keyingtries: u32,
    /// What to do with several IKE SAs of one peer identity.
    pub unique: UniquePolicy,
    /// Encapsulate ESP in UDP even without a NAT (RFC 7296 §2.23), as initiator and as
    /// responder.
    pub encap: bool,
    /// The children.
    pub children: Vec<Child>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.name)
            .field("local_addrs", &self.local_addrs)
            .field("remote_addrs", &self.remote_addrs)
            .field("local_id", &self.local_id)
            .field("remote_id", &self.remote_id)
            .field(
                "psk",
                &self.psk.as_ref().map(|k| format!("<{} bytes>", k.len())),
            )
            .field("children", &self.children)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A builder for the connection `name`, with strongSwan's defaults: any addresses,
    /// remote IKE port 500, `default` proposals, PSK on both sides, any peer identity, IKE
    /// SA rekeyed after 4 h (less up to 24 min at random) and closed 24 min after that if
    /// the rekey failed, no liveness checks, one initiation attempt, `unique = no`.
    pub fn builder(name: &str) -> ConnectionBuilder {
        ConnectionBuilder {
            name: name.to_string(),
            local_addrs: vec![AddrRange::Any],
            remote_addrs: vec![AddrRange::Any],
            local_port: None,
            remote_port: 500,
            remote_nat_t_port: None,
            proposals: None,
            local_auth: Auth::Psk,
            local_id: None,
            remote_auth: Auth::Psk,
            remote_id: IdMatcher::Any,
            psk: None,
            dpd_delay: Duration::ZERO,
            dpd_timeout: Duration::ZERO,
            rekey_time: None,
            over_time: None,
            rand_time: None,
            keyingtries: 1,
            unique: UniquePolicy::No,
            encap: false,
            children: Vec::new(),
            error: None,
        }
    }

    /// The child named `name`.
    pub fn child(&self, name: &str) -> Option<&Child> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Where an initiation goes: the first single address of `remote_addrs` with
    /// `remote_port`; `None` if there is none (a gateway's `%any`).
    pub fn initiation_target(&self) -> Option<SocketAddr> {
        // An unspecified address means any in socket terms: not a target.
        self.remote_addrs
            .iter()
            .find_map(single_address)
            .filter(|ip| !ip.is_unspecified())
            .map(|ip| SocketAddr::new(ip, self.remote_port))
    }

    /// Our address for an initiation to `remote`: the first single address of
    /// `local_addrs` of its family. Nothing here picks a source address by route, so an
    /// initiator names its address.
    pub fn initiation_source(&self, remote: SocketAddr) -> Option<std::net::IpAddr> {
        self.local_addrs
            .iter()
            .filter_map(single_address)
            .find(|ip| ip.is_ipv4() == remote.is_ipv4())
    }

    /// The peer's NAT-T port (RFC 7296 §2.23, strongSwan's rule when not set).
    pub(crate) fn nat_t_port(&self) -> u16 {
        self.remote_nat_t_port
            .unwrap_or(if self.remote_port == 500 {
                4500
            } else {
                self.remote_port
            })
    }
}

/// Builds a [`Connection`] from values as swanctl.conf writes them.
/// [`ConnectionBuilder::build`] reports the first value that was wrong, naming its setting.
#[derive(Debug, Clone)]
#[must_use]
pub struct ConnectionBuilder {
    name: String,
    local_addrs: Vec<AddrRange>,
    remote_addrs: Vec<AddrRange>,
    local_port: Option<u16>,
    remote_port: u16,
    remote_nat_t_port: Option<u16>,
    proposals: Option<Vec<IkeProposal>>,
    local_auth: Auth,
    local_id: Option<Identification>,
    remote_auth: Auth,
    remote_id: IdMatcher,
    psk: Option<SecretBytes>,
    dpd_delay: Duration,
    dpd_timeout: Duration,
    rekey_time: Option<Duration>,
    over_time: Option<Duration>,
    rand_time: Option<Duration>,
    keyingtries: u32,
    unique: UniquePolicy,
    encap: bool,
    children: Vec<Result<Child, ConfigError>>,
    error: Option<ConfigError>,
}

impl ConnectionBuilder {
    fn fail(&mut self, setting: &str, value: &str, problem: ValueError) {
        if self.error.is_none() {
            self.error = Some(ConfigError::invalid(setting, value, problem));
        }
    }

    /// Our addresses (`192.0.2.1, 10.0.0.0/8, %any`).
    pub fn local_addrs(mut self, list: &str) -> Self {
        match parse_addresses(list) {
            Ok(a) => self.local_addrs = a,
            Err(e) => self.fail("local_addrs", list, e),
        }
        self
    }

    /// The peer's addresses (`198.51.100.1`, or `%any` for a gateway).
    pub fn remote_addrs(mut self, list: &str) -> Self {
        match parse_addresses(list) {
            Ok(a) => self.remote_addrs = a,
            Err(e) => self.fail("remote_addrs", list, e),
        }
        self
    }

    /// Our IKE port; it must be the endpoint's.
    pub fn local_port(mut self, port: u16) -> Self {
        self.local_port = Some(port);
        self
    }

    /// The peer's IKE port.
    pub fn remote_port(mut self, port: u16) -> Self {
        self.remote_port = port;
        self
    }

    /// The peer's NAT-T port, if it is not the one strongSwan's rule gives.
    pub fn remote_nat_t_port(mut self, port: u16) -> Self {
        self.remote_nat_t_port = Some(port);
        self
    }

    /// IKE proposals (`aes256gcm16-prfsha256-x25519`; `default` for the defaults).
    pub fn proposals(mut self, list: &str) -> Self {
        match parse_ike_proposals(list) {
            Ok(p) => self.proposals = Some(p),
            Err(e) => self.fail("proposals", list, e.into()),
        }
        self
    }

    /// How we authenticate.
    pub fn local_auth(mut self, auth: Auth) -> Self {
        self.local_auth = auth;
        self
    }

    /// Our identity (`@gw.example`, `gw.example`, `192.0.2.1`, `user@example.com`).
    pub fn local_id(mut self, id: &str) -> Self {
        match parse_identity(id) {
            Ok(id) => self.local_id = Some(id),
            Err(e) => self.fail("local.id", id, e),
        }
        self
    }

    /// How the peer authenticates.
    pub fn remote_auth(mut self, auth: Auth) -> Self {
        self.remote_auth = auth;
        self
    }

    /// Who the peer may be: an identity, a wildcard (`*.users.example`,
    /// `*@example.com`) or `%any`.
    pub fn remote_id(mut self, id: &str) -> Self {
        match parse_remote_identity(id) {
            Ok(id) => self.remote_id = id,
            Err(e) => self.fail("remote.id", id, e),
        }
        self
    }

    /// A pre-shared key for the connection's two identities.
    pub fn psk(mut self, key: &[u8]) -> Self {
        self.psk = Some(SecretBytes::copy_from(key));
        self
    }

    /// Liveness checks after this long without a message from the peer (zero: none).
    pub fn dpd_delay(mut self, delay: Duration) -> Self {
        self.dpd_delay = delay;
        self
    }

    /// How long a liveness check may go unanswered (zero: every retransmission).
    pub fn dpd_timeout(mut self, timeout: Duration) -> Self {
        self.dpd_timeout = timeout;
        self
    }

    /// Time until the IKE SA is rekeyed (zero: never on time).
    pub fn rekey_time(mut self, time: Duration) -> Self {
        self.rekey_time = Some(time);
        self
    }

    /// Time after `rekey_time` until an IKE SA not rekeyed is closed.
    pub fn over_time(mut self, time: Duration) -> Self {
        self.over_time = Some(time);
        self
    }

    /// The random part taken off `rekey_time`.
    pub fn rand_time(mut self, time: Duration) -> Self {
        self.rand_time = Some(time);
        self
    }

    /// Initiation attempts before giving up (zero: forever).
    pub fn keyingtries(mut self, tries: u32) -> Self {
        self.keyingtries = tries;
        self
    }

    /// What to do with several IKE SAs of one peer identity.
    pub fn unique(mut self, policy: UniquePolicy) -> Self {
        self.unique = policy;
        self
    }

    /// Encapsulate ESP in UDP even without a NAT.
    pub fn encap(mut self, encap: bool) -> Self {
        self.encap = encap;
        self
    }

    /// Adds a child; an error in it is reported by [`build`](Self::build).
    pub fn child(mut self, child: Result<Child, ConfigError>) -> Self {
        self.children.push(child);
        self
    }

    /// Sets a setting from its swanctl.conf name and text value (`"dpd_delay"`, `"30s"`;
    /// `"local.id"`, `"gw.example"`), as a configuration file gives it.
    pub fn set(mut self, setting: &str, value: &str) -> Self {
        let duration = |b: &mut Self| match parse_duration(value) {
            Ok(d) => Some(d),
            Err(e) => {
                b.fail(setting, value, e);
                None
            }
        };
        let port = |b: &mut Self| match parse_number(value).map(u16::try_from) {
            Ok(Ok(p)) => Some(p),
            _ => {
                b.fail(
                    setting,
                    value,
                    ValueError::PortOutOfRange(value.trim().into()),
                );
                None
            }
        };
        let auth = |b: &mut Self| match value.trim() {
            "psk" => Some(Auth::Psk),
            _ => {
                b.fail(
                    setting,
                    value,
                    ValueError::UnknownKeyword("psk (pubkey and eap are not supported yet)"),
                );
                None
            }
        };
        match setting {
            "local_addrs" => return self.local_addrs(value),
            "remote_addrs" => return self.remote_addrs(value),
            "proposals" => return self.proposals(value),
            "local.id" => return self.local_id(value),
            "remote.id" => return self.remote_id(value),
            "local_port" => self.local_port = port(&mut self).or(self.local_port),
            "remote_port" => {
                if let Some(p) = port(&mut self) {
                    self.remote_port = p;
                }
            }
            "local.auth" => {
                if let Some(a) = auth(&mut self) {
                    self.local_auth = a;
                }
            }
            "remote.auth" => {
                if let Some(a) = auth(&mut self) {
                    self.remote_auth = a;
                }
            }
            "dpd_delay" | "dpd_timeout" | "rekey_time" | "over_time" | "rand_time" => {
                if let Some(d) = duration(&mut self) {
                    match setting {
                        "dpd_delay" => self.dpd_delay = d,
                        "dpd_timeout" => self.dpd_timeout = d,
                        "rekey_time" => self.rekey_time = Some(d),
                        "over_time" => self.over_time = Some(d),
                        _ => self.rand_time = Some(d),
                    }
                }
            }
            "keyingtries" => match parse_number(value).map(u32::try_from) {
                Ok(Ok(n)) => self.keyingtries = n,
                _ => self.fail(setting, value, ValueError::BadNumber(value.trim().into())),
            },
            "unique" => match value.trim() {
                "no" => self.unique = UniquePolicy::No,
                "never" => self.unique = UniquePolicy::Never,
                "keep" => self.unique = UniquePolicy::Keep,
                "replace" => self.unique = UniquePolicy::Replace,
                _ => self.fail(
                    setting,
                    value,
                    ValueError::UnknownKeyword("no, never, keep, replace"),
                ),
            },
            "encap" | "version" | "mobike" => match (setting, value.trim()) {
                ("encap", "yes") => self.encap = true,
                ("encap", "no") => self.encap = false,
                ("version", "2" | "0") | ("mobike", "no") => {}
                ("version", _) => self.fail(setting, value, ValueError::UnknownKeyword("2")),
                ("mobike", _) => self.fail(
                    setting,
                    value,
                    ValueError::UnknownKeyword("no (MOBIKE is not supported)"),
                ),
                _ => self.fail(setting, value, ValueError::UnknownKeyword("yes, no")),
            },
            _ => {
                if self.error.is_none() {
                    self.error = Some(ConfigError::File(format!(
                        "connections.{}: unknown setting `{setting}`",
                        self.name
                    )));
                }
            }
        }
        self
    }

    /// The connection, or the first problem found (its setting named relative to the
    /// connection: `NAME.children.net.local_ts`).
    pub fn build(self) -> Result<Connection, ConfigError> {
        let name = self.name.clone();
        let inside = |e: ConfigError| e.within(&name);
        if name.is_empty() || name.contains(['.', ' ']) {
            return Err(ConfigError::invalid(
                "connections",
                &name,
                ValueError::BadIdentity(
                    "a connection's name is not empty and holds no `.` or space",
                ),
            ));
        }
        if let Some(error) = self.error {
            return Err(inside(error));
        }
        let mut children: Vec<Child> = Vec::new();
        for child in self.children {
            let child = child.map_err(|e| match e {
                // A child's unknown setting (`children.net: unknown setting ...`) names no
                // connection; put it in this one.
                ConfigError::File(message) => {
                    ConfigError::File(format!("connections.{name}.{message}"))
                }
                e => inside(e.within("children")),
            })?;
            if children.iter().any(|c| c.name == child.name) {
                return Err(inside(ConfigError::Duplicate {
                    setting: "children".into(),
                    name: child.name,
                }));
            }
            children.push(child);
        }
        let local_id = self.local_id.ok_or_else(|| {
            inside(ConfigError::Missing {
                setting: "local.id".into(),
                problem: "our identity is needed",
            })
        })?;
        if let Some(psk) = &self.psk
            && psk.is_empty()
        {
            return Err(inside(ConfigError::invalid("psk", "", ValueError::Empty)));
        }
        let proposals = match self.proposals {
            Some(p) => p,
            None => parse_ike_proposals("default")
                .map_err(|e| inside(ConfigError::invalid("proposals", "default", e.into())))?,
        };
        // strongSwan's IKE SA timers: 4 h, a tenth of it over, as much at random.
        let rekey_time = self.rekey_time.unwrap_or(Duration::from_secs(4 * 3600));
        let over_time = self.over_time.unwrap_or(rekey_time / 10);
        let rand_time = self.rand_time.unwrap_or(over_time.min(rekey_time / 2));
        if rand_time > rekey_time {
            return Err(inside(ConfigError::inconsistent(
                "rand_time",
                "longer than rekey_time",
            )));
        }
        Ok(Connection {
            name,
            local_addrs: self.local_addrs,
            remote_addrs: self.remote_addrs,
            local_port: self.local_port,
            remote_port: self.remote_port,
            remote_nat_t_port: self.remote_nat_t_port,
            proposals,
            local_auth: self.local_auth,
            local_id,
            remote_auth: self.remote_auth,
            remote_id: self.remote_id,
            psk: self.psk,
            dpd_delay: self.dpd_delay,
            dpd_timeout: self.dpd_timeout,
            rekey_time,
            over_time,
            rand_time,
            keyingtries: self.keyingtries,
            unique: self.unique,
            encap: self.encap,
            children,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn child() -> Result<Child, ConfigError> {
        Child::builder("net")
            .local_ts("10.1.0.0/16")
            .remote_ts("10.2.0.0/16")
            .build()
    }

    #[test]
    fn defaults_are_strongswans() {
        let c = Connection::builder("site")
            .remote_addrs("198.51.100.1")
            .local_id("gw-a.example")
            .psk(b"secret")
            .child(child())
            .build()
            .unwrap();
        assert_eq!(c.rekey_time, Duration::from_secs(14_400));
        assert_eq!(c.over_time, Duration::from_secs(1440));
        assert_eq!(c.rand_time, Duration::from_secs(1440));
        assert_eq!(c.keyingtries, 1);
        assert_eq!(c.unique, UniquePolicy::No);
        assert_eq!(c.remote_id, IdMatcher::Any);
        assert_eq!(
            c.initiation_target(),
            Some("198.51.100.1:500".parse().unwrap())
        );
        assert_eq!(c.nat_t_port(), 4500);
        let gateway = Connection::builder("rw")
            .local_id("gw")
            .remote_port(20500)
            .build()
            .unwrap();
        assert_eq!(gateway.initiation_target(), None);
        assert_eq!(gateway.nat_t_port(), 20500);
        assert!(!format!("{c:?}").contains("secret"));
    }

    #[test]
    fn errors_name_the_setting_inside_the_connection() {
        let error = Connection::builder("rw")
            .local_id("gw")
            .child(
                Child::builder("net")
                    .local_ts("10.0.0.0/40")
                    .remote_ts("10.2.0.0/16")
                    .build(),
            )
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "rw.children.net.local_ts = \"10.0.0.0/40\": prefix 40 is longer than 32"
        );
        let error = Connection::builder("rw")
            .local_id("gw")
            .set("remote_port", "99999")
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "rw.remote_port = \"99999\": port `99999` out of range"
        );
        assert!(
            Connection::builder("rw")
                .build()
                .unwrap_err()
                .to_string()
                .contains("local.id")
        );
        let error = Connection::builder("rw")
            .local_id("gw")
            .psk(b"")
            .build()
            .unwrap_err();
        assert!(error.to_string().contains("rw.psk"));
        let error = Connection::builder("rw")
            .local_id("gw")
            .child(child())
            .child(child())
            .build()
            .unwrap_err();
        assert_eq!(error.to_string(), "rw.children: `net` is defined twice");
        let error = Connection::builder("rw")
            .local_id("gw")
            .child(Child::builder("net").set("lifetime", "1h").build())
            .build()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "configuration file: connections.rw.children.net: unknown setting `lifetime`"
        );
    }
}
