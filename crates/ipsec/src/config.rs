//! Configuration in the terms strongSwan users know: connections with proposals as
//! strings, identities, a pre-shared key, local and remote traffic selectors, and the mode.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use ipsec_crypto::{CryptoProvider, RUST_CRYPTO, SecretBytes};
use ipsec_ikev2::{
    ChildConfig, ChildProposal, IkeLifetime, IkeProposal, Lifetimes, Mode, PeerConfig,
};
use ipsec_isakmp::{AddressRange, Identification, TrafficSelector};

use crate::keylog::KeyLog;
use crate::proposal_string::{ProposalError, parse_esp_proposals, parse_ike_proposals};

/// Why a configuration value is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A proposal string is wrong.
    #[error(transparent)]
    Proposal(#[from] ProposalError),
    /// A traffic selector is not `ADDRESS[/PREFIX][[PROTOCOL[/PORT[-PORT]]]]`.
    #[error("invalid traffic selector `{0}`")]
    TrafficSelector(String),
    /// Two connections share a name.
    #[error("duplicate connection name `{0}`")]
    DuplicateName(String),
    /// A connection lacks something it needs.
    #[error("connection `{name}`: {problem}")]
    Connection {
        /// The connection.
        name: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// No random bytes for the endpoint.
    #[error("random source failed")]
    Random,
}

/// An identity as strongSwan writes it (RFC 7296 §3.5): an IP address is ID_IPV4_ADDR or
/// ID_IPV6_ADDR, `user@domain` is ID_RFC822_ADDR, `@name` or any other text ID_FQDN.
pub fn parse_identity(text: &str) -> Identification {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Identification::ip(ip);
    }
    if let Some(fqdn) = text.strip_prefix('@') {
        return Identification::fqdn(fqdn);
    }
    if text.contains('@') {
        return Identification::rfc822(text);
    }
    Identification::fqdn(text)
}

fn protocol_number(name: &str) -> Option<u8> {
    Some(match name {
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "ipv6-icmp" | "icmp6" => 58,
        "sctp" => 132,
        other => other.parse().ok()?,
    })
}

/// The last address of a prefix.
fn prefix_end(ip: IpAddr, len: u8) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(v4) if len <= 32 => {
            let mask = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            Some(IpAddr::V4(Ipv4Addr::from(u32::from(v4) | mask)))
        }
        IpAddr::V6(v6) if len <= 128 => {
            let mask = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            Some(IpAddr::V6(Ipv6Addr::from(u128::from(v6) | mask)))
        }
        _ => None,
    }
}

fn prefix_start(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & !mask))
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shr(u32::from(len)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !mask))
        }
    }
}

/// Parses a traffic selector as strongSwan writes `local_ts`/`remote_ts`: an address or
/// prefix (`10.99.1.1`, `10.0.0.0/8`, `::/0`), optionally with `[protocol/port]` or
/// `[protocol/low-high]` (`10.0.0.0/8[tcp/443]`, `0.0.0.0/0[udp]`).
pub fn parse_traffic_selector(text: &str) -> Result<TrafficSelector, ConfigError> {
    let invalid = || ConfigError::TrafficSelector(text.to_string());
    let (net, rest) = match text.split_once('[') {
        Some((net, rest)) => (net, Some(rest.strip_suffix(']').ok_or_else(invalid)?)),
        None => (text, None),
    };
    let (address, len) = match net.trim().split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u8>().map_err(|_| invalid())?)),
        None => (net.trim(), None),
    };
    let ip: IpAddr = address.parse().map_err(|_| invalid())?;
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(full);
    let start = prefix_start(ip, len);
    let end = prefix_end(ip, len).ok_or_else(invalid)?;
    let (mut protocol, mut start_port, mut end_port) = (0u8, 0u16, u16::MAX);
    if let Some(rest) = rest {
        let (name, ports) = match rest.split_once('/') {
            Some((n, p)) => (n, Some(p)),
            None => (rest, None),
        };
        protocol = protocol_number(name.trim()).ok_or_else(invalid)?;
        if let Some(ports) = ports {
            let (low, high) = ports.split_once('-').unwrap_or((ports, ports));
            start_port = low.trim().parse().map_err(|_| invalid())?;
            end_port = high.trim().parse().map_err(|_| invalid())?;
        }
    }
    Ok(match (start, end) {
        (IpAddr::V4(s), IpAddr::V4(e)) => TrafficSelector::Ipv4(AddressRange {
            ip_protocol: protocol,
            start_port,
            end_port,
            start_address: s,
            end_address: e,
        }),
        (IpAddr::V6(s), IpAddr::V6(e)) => TrafficSelector::Ipv6(AddressRange {
            ip_protocol: protocol,
            start_port,
            end_port,
            start_address: s,
            end_address: e,
        }),
        _ => return Err(invalid()),
    })
}

/// One connection: a peer, how to authenticate to it, and the tunnel or transport SA to
/// set up with it (strongSwan's `connections.NAME` with one child).
#[derive(Debug, Clone)]
pub struct Connection {
    /// A name for logs and commands.
    pub name: String,
    /// Our address and IKE port for this connection.
    pub local: SocketAddr,
    /// The peer's address and IKE port.
    pub remote: SocketAddr,
    /// The peer's NAT-T port (RFC 3948).
    pub remote_nat_t_port: u16,
    /// Our identity.
    pub local_id: Identification,
    /// The identity the peer must prove; `None` accepts any peer that knows the key.
    pub remote_id: Option<Identification>,
    /// The pre-shared key.
    pub psk: SecretBytes,
    /// IKE proposals, most preferred first.
    pub ike_proposals: Vec<IkeProposal>,
    /// ESP proposals, most preferred first.
    pub esp_proposals: Vec<ChildProposal>,
    /// Our side's traffic selectors.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's traffic selectors.
    pub remote_ts: Vec<TrafficSelector>,
    /// Tunnel or transport mode.
    pub mode: Mode,
    /// Child SA lifetimes.
    pub lifetimes: Lifetimes,
    /// When the IKE SA is rekeyed and when it must go (RFC 7296 §2.8); none by default.
    pub ike_lifetime: IkeLifetime,
    /// Liveness check interval (RFC 7296 §1.4).
    pub liveness_interval: Option<Duration>,
    /// Encapsulate ESP in UDP even without a NAT.
    pub force_udp_encapsulation: bool,
    /// Start IKE when a packet needs this connection and no SA exists (the ACQUIRE of
    /// RFC 4301 §5.1).
    pub start_on_demand: bool,
}

impl Connection {
    /// A connection with the strongSwan-style proposal strings (`aes256gcm16-prfsha256-x25519`
    /// and `aes256gcm16`), identities as strongSwan writes them, and selectors as CIDR
    /// strings; tunnel mode, no lifetimes, no liveness checks.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        local: SocketAddr,
        remote: SocketAddr,
        local_id: &str,
        remote_id: Option<&str>,
        psk: &[u8],
        ike_proposals: &str,
        esp_proposals: &str,
        local_ts: &[&str],
        remote_ts: &[&str],
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            name: name.to_string(),
            local,
            remote,
            remote_nat_t_port: 4500,
            local_id: parse_identity(local_id),
            remote_id: remote_id.map(parse_identity),
            psk: SecretBytes::copy_from(psk),
            ike_proposals: parse_ike_proposals(ike_proposals)?,
            esp_proposals: parse_esp_proposals(esp_proposals)?,
            local_ts: local_ts
                .iter()
                .map(|t| parse_traffic_selector(t))
                .collect::<Result<_, _>>()?,
            remote_ts: remote_ts
                .iter()
                .map(|t| parse_traffic_selector(t))
                .collect::<Result<_, _>>()?,
            mode: Mode::Tunnel,
            lifetimes: Lifetimes::default(),
            ike_lifetime: IkeLifetime::default(),
            liveness_interval: None,
            force_udp_encapsulation: false,
            start_on_demand: true,
        })
    }

    /// The IKE peer configuration this connection stands for.
    pub(crate) fn peer_config(&self) -> PeerConfig {
        PeerConfig {
            local_id: self.local_id.clone(),
            remote_id: self.remote_id.clone(),
            psk: self.psk.clone(),
            ike_proposals: self.ike_proposals.clone(),
            child: ChildConfig {
                proposals: self.esp_proposals.clone(),
                local_ts: self.local_ts.clone(),
                remote_ts: self.remote_ts.clone(),
                mode: self.mode,
                lifetimes: self.lifetimes,
                accept_tfc_padding: true,
            },
            remote_nat_t_port: self.remote_nat_t_port,
            force_udp_encapsulation: self.force_udp_encapsulation,
            initial_contact: true,
            liveness_interval: self.liveness_interval,
            extra_children: Vec::new(),
            ike_lifetime: self.ike_lifetime,
        }
    }
}

/// The endpoint's configuration.
#[derive(Clone)]
pub struct Config {
    /// The IKE port; 500.
    pub ike_port: u16,
    /// Our NAT-T port; 4500.
    pub nat_t_port: u16,
    /// The connections, in the order the SPD consults them.
    pub connections: Vec<Connection>,
    /// Whether peers may start IKE SAs with us (as responder, for any connection).
    pub accept_peers: bool,
    /// The algorithms.
    pub provider: &'static CryptoProvider,
    /// Where the keys of every SA go, for Wireshark; `None` (the default) keeps them.
    pub key_log: Option<Arc<dyn KeyLog>>,
    /// Retransmission and other IKE timers.
    pub ike: ipsec_ikev2::RetransmitConfig,
    /// Half-open IKE SAs before cookies are demanded.
    pub cookie_threshold: usize,
}

impl core::fmt::Debug for Config {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Config")
            .field("ike_port", &self.ike_port)
            .field("nat_t_port", &self.nat_t_port)
            .field("connections", &self.connections)
            .field("accept_peers", &self.accept_peers)
            .field("provider", &self.provider.name)
            .field("key_log", &self.key_log.is_some())
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            ike_port: 500,
            nat_t_port: 4500,
            connections: Vec::new(),
            accept_peers: true,
            provider: &RUST_CRYPTO,
            key_log: None,
            ike: ipsec_ikev2::RetransmitConfig::default(),
            cookie_threshold: 64,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn identities() {
        assert_eq!(
            parse_identity("initiator@lab.test"),
            Identification::rfc822("initiator@lab.test")
        );
        assert_eq!(
            parse_identity("@gw.example"),
            Identification::fqdn("gw.example")
        );
        assert_eq!(
            parse_identity("gw.example"),
            Identification::fqdn("gw.example")
        );
        assert_eq!(
            parse_identity("10.0.0.1"),
            Identification::ip("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn selectors() {
        let host = parse_traffic_selector("10.99.1.1/32").unwrap();
        let TrafficSelector::Ipv4(range) = host else {
            panic!("not IPv4")
        };
        assert_eq!(range.start_address, range.end_address);
        assert_eq!((range.start_port, range.end_port), (0, 65535));
        let net = parse_traffic_selector("10.1.2.3/8[tcp/443]").unwrap();
        let TrafficSelector::Ipv4(range) = net else {
            panic!("not IPv4")
        };
        assert_eq!(range.start_address, Ipv4Addr::new(10, 0, 0, 0));
        assert_eq!(range.end_address, Ipv4Addr::new(10, 255, 255, 255));
        assert_eq!(
            (range.ip_protocol, range.start_port, range.end_port),
            (6, 443, 443)
        );
        let any6 = parse_traffic_selector("::/0[udp/500-4500]").unwrap();
        let TrafficSelector::Ipv6(range) = any6 else {
            panic!("not IPv6")
        };
        assert_eq!(range.end_address, Ipv6Addr::from(u128::MAX));
        assert_eq!(
            (range.ip_protocol, range.start_port, range.end_port),
            (17, 500, 4500)
        );
        for bad in [
            "10.0.0.0/33",
            "nothing",
            "10.0.0.0/8[tcp",
            "10.0.0.0/8[bogus]",
        ] {
            assert!(parse_traffic_selector(bad).is_err(), "{bad}");
        }
    }
}
