//! The Peer Authorization Database (RFC 4301 §4.4.3): which peers may authenticate, with
//! what, and which traffic selectors they may ask Child SAs for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsec_crypto::SecretBytes;

use crate::error::SadError;
use crate::selector::AddrRange;

/// IKEv2 Identification payload ID Types (RFC 7296 §3.5) that [`PeerId`] carries.
pub mod id_type {
    /// ID_IPV4_ADDR: a four-octet IPv4 address.
    pub const IPV4_ADDR: u8 = 1;
    /// ID_FQDN: a fully qualified domain name.
    pub const FQDN: u8 = 2;
    /// ID_RFC822_ADDR: an email address.
    pub const RFC822_ADDR: u8 = 3;
    /// ID_IPV6_ADDR: a sixteen-octet IPv6 address.
    pub const IPV6_ADDR: u8 = 5;
    /// ID_DER_ASN1_DN: a DER-encoded X.500 Distinguished Name.
    pub const DER_ASN1_DN: u8 = 9;
    /// ID_KEY_ID: an opaque octet string.
    pub const KEY_ID: u8 = 11;
}

/// A peer's identity as IKEv2 carries it (RFC 7296 §3.5; RFC 4301 §4.4.3.1 lists the
/// types the PAD must support).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerId {
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address.
    Ipv6(Ipv6Addr),
    /// A fully qualified domain name, e.g. `vpn.example.com`.
    Fqdn(String),
    /// An email address (RFC 822 addr-spec), e.g. `alice@example.com`.
    Rfc822(String),
    /// An opaque key identifier.
    KeyId(Vec<u8>),
    /// A DER-encoded Distinguished Name, compared byte for byte.
    DerDn(Vec<u8>),
}

impl PeerId {
    /// The identity of ID Type `id_type` with Identification Data `data` (RFC 7296 §3.5).
    /// Names must be UTF-8 without NUL, CR or LF, and not empty; addresses exactly 4 or 16
    /// bytes.
    pub fn from_wire(id_type: u8, data: &[u8]) -> Result<Self, SadError> {
        let invalid = SadError::InvalidIdentity { id_type };
        let name = || {
            std::str::from_utf8(data)
                .ok()
                .filter(|s| !s.is_empty() && !s.contains(['\0', '\r', '\n']))
                .map(str::to_owned)
                .ok_or(invalid.clone())
        };
        match id_type {
            id_type::IPV4_ADDR => <[u8; 4]>::try_from(data)
                .map(|a| Self::Ipv4(a.into()))
                .map_err(|_| invalid.clone()),
            id_type::IPV6_ADDR => <[u8; 16]>::try_from(data)
                .map(|a| Self::Ipv6(a.into()))
                .map_err(|_| invalid.clone()),
            id_type::FQDN => name().map(Self::Fqdn),
            id_type::RFC822_ADDR => name().map(Self::Rfc822),
            id_type::KEY_ID => Ok(Self::KeyId(data.to_vec())),
            id_type::DER_ASN1_DN => Ok(Self::DerDn(data.to_vec())),
            other => Err(SadError::UnknownIdentityType(other)),
        }
    }

    /// Its ID Type (RFC 7296 §3.5).
    pub fn id_type(&self) -> u8 {
        match self {
            Self::Ipv4(_) => id_type::IPV4_ADDR,
            Self::Ipv6(_) => id_type::IPV6_ADDR,
            Self::Fqdn(_) => id_type::FQDN,
            Self::Rfc822(_) => id_type::RFC822_ADDR,
            Self::KeyId(_) => id_type::KEY_ID,
            Self::DerDn(_) => id_type::DER_ASN1_DN,
        }
    }

    /// Its Identification Data (RFC 7296 §3.5).
    pub fn data(&self) -> Vec<u8> {
        match self {
            Self::Ipv4(a) => a.octets().to_vec(),
            Self::Ipv6(a) => a.octets().to_vec(),
            Self::Fqdn(s) | Self::Rfc822(s) => s.as_bytes().to_vec(),
            Self::KeyId(b) | Self::DerDn(b) => b.clone(),
        }
    }

    /// The IP address of an address identity.
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            Self::Ipv4(a) => Some((*a).into()),
            Self::Ipv6(a) => Some((*a).into()),
            _ => None,
        }
    }
}

/// Which identities a PAD entry admits (RFC 4301 §4.4.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IdMatcher {
    /// Exactly this identity. Domain names compare without regard to ASCII case and to a
    /// trailing dot; an email address's domain without regard to ASCII case; everything
    /// else byte for byte.
    Exact(PeerId),
    /// `*.example.com`, held as `example.com`: any FQDN of one or more labels under the
    /// domain, not the domain itself (ASCII case ignored).
    FqdnSuffix(String),
    /// `*@example.com` (`subdomains` false): any email address at exactly the domain;
    /// `*@*.example.com` (`subdomains` true): any at a domain under it.
    Rfc822Domain {
        /// The domain, without `*@` or `*@*.`.
        domain: String,
        /// Whether addresses at subdomains match, rather than at the domain itself.
        subdomains: bool,
    },
    /// Any IPv4 or IPv6 address identity within the range.
    AddressRange(AddrRange),
    /// Every identity.
    Any,
}

impl IdMatcher {
    /// The matcher for a wildcard pattern: `*.example.com` (FQDNs under the domain),
    /// `*@example.com` (email addresses at the domain) or `*@*.example.com` (email
    /// addresses at domains under it).
    pub fn wildcard(pattern: &str) -> Result<Self, SadError> {
        let invalid = || SadError::InvalidWildcard(pattern.to_owned());
        let (matcher, domain) = if let Some(domain) = pattern.strip_prefix("*@*.") {
            (0, domain)
        } else if let Some(domain) = pattern.strip_prefix("*@") {
            (1, domain)
        } else if let Some(domain) = pattern.strip_prefix("*.") {
            (2, domain)
        } else {
            return Err(invalid());
        };
        let domain = domain.trim_end_matches('.');
        if domain.is_empty() || domain.starts_with('.') || domain.contains(['*', '@']) {
            return Err(invalid());
        }
        let domain = domain.to_ascii_lowercase();
        Ok(match matcher {
            0 => Self::Rfc822Domain {
                domain,
                subdomains: true,
            },
            1 => Self::Rfc822Domain {
                domain,
                subdomains: false,
            },
            _ => Self::FqdnSuffix(domain),
        })
    }

    /// Whether `id` is admitted.
    pub fn matches(&self, id: &PeerId) -> bool {
        match (self, id) {
            (Self::Any, _) => true,
            (Self::Exact(PeerId::Fqdn(want)), PeerId::Fqdn(got)) => dns_eq(want, got),
            (Self::Exact(PeerId::Rfc822(want)), PeerId::Rfc822(got)) => {
                match (want.rsplit_once('@'), got.rsplit_once('@')) {
                    (Some((wl, wd)), Some((gl, gd))) => wl == gl && dns_eq(wd, gd),
                    _ => want == got,
                }
            }
            (Self::Exact(want), got) => want == got,
            (Self::FqdnSuffix(domain), PeerId::Fqdn(name)) => is_subdomain(name, domain),
            (Self::Rfc822Domain { domain, subdomains }, PeerId::Rfc822(address)) => {
                match address.rsplit_once('@') {
                    Some((local, at)) if !local.is_empty() => {
                        if *subdomains {
                            is_subdomain(at, domain)
                        } else {
                            dns_eq(at, domain)
                        }
                    }
                    _ => false,
                }
            }
            (Self::AddressRange(range), id) => id.address().is_some_and(|a| range.contains(a)),
            _ => false,
        }
    }
}

/// Domain names equal without regard to ASCII case or a trailing dot.
fn dns_eq(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Whether `name` is `domain` with one or more labels in front (ASCII case ignored).
fn is_subdomain(name: &str, domain: &str) -> bool {
    let name = name.trim_end_matches('.').as_bytes();
    let domain = domain.trim_end_matches('.').as_bytes();
    let Some(split) = name.len().checked_sub(domain.len() + 1) else {
        return false;
    };
    let Some((head, tail)) = name.split_at_checked(split) else {
        return false;
    };
    !head.is_empty()
        && tail.first() == Some(&b'.')
        && tail
            .get(1..)
            .is_some_and(|t| t.eq_ignore_ascii_case(domain))
}

/// How a peer proves its identity (RFC 4301 §4.4.3.2).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerAuth {
    /// A pre-shared key (RFC 7296 §2.15). `Debug` shows its length only.
    Psk(SecretBytes),
}

impl std::fmt::Debug for PeerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Psk(key) => write!(f, "Psk(<{} bytes>)", key.len()),
        }
    }
}

/// One PAD entry (RFC 4301 §4.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PadEntry {
    /// The identities the entry admits.
    pub matcher: IdMatcher,
    /// How they authenticate.
    pub auth: PeerAuth,
    /// Child SA authorization data (RFC 4301 §4.4.3.3): the addresses the peer may claim
    /// as its side of a Child SA's traffic selectors. Empty admits none.
    pub child_sa_ranges: Vec<AddrRange>,
}

impl PadEntry {
    /// An entry.
    pub fn new(matcher: IdMatcher, auth: PeerAuth, child_sa_ranges: Vec<AddrRange>) -> Self {
        Self {
            matcher,
            auth,
            child_sa_ranges,
        }
    }

    /// Whether the peer may claim `range` as its side of a Child SA's traffic selectors:
    /// it lies within one of [`child_sa_ranges`](Self::child_sa_ranges)
    /// (RFC 4301 §4.4.3.3).
    pub fn allows_child_range(&self, range: &AddrRange) -> bool {
        self.child_sa_ranges
            .iter()
            .any(|allowed| range.is_within(allowed))
    }
}

/// The Peer Authorization Database (RFC 4301 §4.4.3), ordered: the first entry whose
/// matcher admits an identity is that peer's (§4.4.3.1).
///
/// Lookup scans the entries in order: `O(entries)`, each a string or address comparison.
#[derive(Debug, Clone, Default)]
pub struct Pad {
    entries: Vec<PadEntry>,
}

impl Pad {
    /// An empty PAD, which admits nobody.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `entry` after every other.
    pub fn push(&mut self, entry: PadEntry) {
        self.entries.push(entry);
    }

    /// Inserts `entry` at `position` (0 is the first consulted).
    pub fn insert(&mut self, position: usize, entry: PadEntry) -> Result<(), SadError> {
        if position > self.entries.len() {
            return Err(SadError::InvalidPosition {
                position,
                len: self.entries.len(),
            });
        }
        self.entries.insert(position, entry);
        Ok(())
    }

    /// Removes the entry at `position`.
    pub fn remove(&mut self, position: usize) -> Option<PadEntry> {
        (position < self.entries.len()).then(|| self.entries.remove(position))
    }

    /// The entries in lookup order.
    pub fn entries(&self) -> &[PadEntry] {
        &self.entries
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry that admits `id`.
    pub fn lookup(&self, id: &PeerId) -> Option<&PadEntry> {
        self.entries.iter().find(|entry| entry.matcher.matches(id))
    }

    /// The first entry that admits the identity of ID Type `id_type` with Identification
    /// Data `data`, as an IDi or IDr payload carries them (RFC 7296 §3.5).
    pub fn lookup_wire(&self, id_type: u8, data: &[u8]) -> Result<Option<&PadEntry>, SadError> {
        let id = PeerId::from_wire(id_type, data)?;
        Ok(self.lookup(&id))
    }
}
