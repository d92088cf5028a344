//! Values as swanctl.conf writes them: address lists (`192.0.2.1, 10.0.0.0/8,
//! 10.1.0.1-10.1.0.9, %any`), traffic selectors (`10.0.0.0/8[tcp/443]`), identities
//! (`@gw.example`, `alice@example.com`, `*.users.example`, `%any`), durations (`1h`, `30m`,
//! `90s`, `2d`) and numbers.

use std::net::IpAddr;
use std::time::Duration;

use ipsec_isakmp::{AddressRange, Identification, TrafficSelector};
use ipsec_sad::{AddrRange, IdMatcher, PeerId};

use super::error::ValueError;

/// The IP protocol number of a name strongSwan accepts in selectors, or of a number.
fn protocol_number(name: &str) -> Result<u8, ValueError> {
    Ok(match name {
        "icmp" => 1,
        "igmp" => 2,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ipv6-icmp" | "icmp6" | "icmpv6" => 58,
        "sctp" => 132,
        "udplite" => 136,
        other => other
            .parse()
            .map_err(|_| ValueError::UnknownProtocol(other.to_string()))?,
    })
}

/// The well-known ports strongSwan users write by name.
fn port_number(text: &str) -> Result<u16, ValueError> {
    Ok(match text {
        "ssh" => 22,
        "domain" => 53,
        "http" => 80,
        "https" => 443,
        "isakmp" => 500,
        "ipsec-nat-t" => 4500,
        other => other
            .parse()
            .map_err(|_| ValueError::PortOutOfRange(other.to_string()))?,
    })
}

/// An address, refusing host names with a message that says why.
fn address(text: &str) -> Result<IpAddr, ValueError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    text.parse().map_err(|_| {
        let looks_like_name = text.contains(|c: char| c.is_ascii_alphabetic())
            && !text.contains(':')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if looks_like_name {
            ValueError::HostName(text.to_string())
        } else {
            ValueError::NotAnAddress(text.to_string())
        }
    })
}

/// `ADDRESS/PREFIX`, `ADDRESS` or `FIRST-LAST` as an address range.
fn range(text: &str) -> Result<AddrRange, ValueError> {
    let text = text.trim();
    if let Some((address_text, len_text)) = text.split_once('/') {
        let ip = address(address_text)?;
        let max: u8 = if ip.is_ipv4() { 32 } else { 128 };
        let len: u16 = len_text
            .trim()
            .parse()
            .map_err(|_| ValueError::BadPrefix(len_text.trim().to_string()))?;
        let len = u8::try_from(len)
            .ok()
            .filter(|l| *l <= max)
            .ok_or(ValueError::PrefixTooLong { len, max })?;
        return AddrRange::prefix(ip, len).map_err(|_| ValueError::PrefixTooLong {
            len: u16::from(len),
            max,
        });
    }
    // An IPv6 address holds no `-`, so a `-` splits a range.
    if let Some((first, last)) = text.split_once('-') {
        return AddrRange::new(address(first)?, address(last)?).map_err(|_| ValueError::BadRange);
    }
    Ok(AddrRange::single(address(text)?))
}

/// Parses one of swanctl's `local_addrs`/`remote_addrs` lists: addresses, prefixes
/// (`10.0.0.0/8`), ranges (`10.0.0.1-10.0.0.9`) and `%any`, `%any4`, `%any6`, separated by
/// commas. Host names are refused: nothing here resolves them.
pub fn parse_addresses(text: &str) -> Result<Vec<AddrRange>, ValueError> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim) {
        match item {
            "" => {}
            "%any" => out.push(AddrRange::Any),
            "%any4" => out.push(AddrRange::ANY_V4),
            "%any6" => out.push(AddrRange::ANY_V6),
            other => out.push(range(other)?),
        }
    }
    if out.is_empty() {
        return Err(ValueError::Empty);
    }
    Ok(out)
}

/// Parses a traffic selector as swanctl writes `local_ts`/`remote_ts`: an address, prefix
/// or range (`10.99.1.1`, `10.0.0.0/8`, `::/0`, `10.0.0.1-10.0.0.9`), optionally with
/// `[PROTOCOL]`, `[PROTOCOL/PORT]` or `[PROTOCOL/LOW-HIGH]` (`10.0.0.0/8[tcp/443]`,
/// `0.0.0.0/0[udp]`, `::/0[icmp6/%any]`). Protocols and ports may be names (`tcp`,
/// `https`) or numbers.
pub fn parse_traffic_selector(text: &str) -> Result<TrafficSelector, ValueError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    let (net, rest) = match text.split_once('[') {
        Some((net, rest)) => (
            net,
            Some(
                rest.strip_suffix(']')
                    .ok_or(ValueError::BadSelector("`[` without `]`"))?,
            ),
        ),
        None => (text, None),
    };
    let addresses = match net.trim() {
        "%any" | "0.0.0.0/0" => AddrRange::ANY_V4,
        "%any6" | "::/0" => AddrRange::ANY_V6,
        other => range(other)?,
    };
    let (mut protocol, mut start_port, mut end_port) = (0u8, 0u16, u16::MAX);
    if let Some(rest) = rest {
        let (name, ports) = match rest.split_once('/') {
            Some((n, p)) => (n.trim(), Some(p.trim())),
            None => (rest.trim(), None),
        };
        if name != "%any" && !name.is_empty() {
            protocol = protocol_number(&name.to_ascii_lowercase())?;
        }
        match ports {
            None | Some("%any") => {}
            Some("%opaque") => (start_port, end_port) = (u16::MAX, 0),
            Some(ports) => {
                let (low, high) = ports.split_once('-').unwrap_or((ports, ports));
                start_port = port_number(low.trim())?;
                end_port = port_number(high.trim())?;
                if start_port > end_port {
                    return Err(ValueError::PortOutOfRange(ports.to_string()));
                }
            }
        }
    }
    Ok(match addresses {
        AddrRange::V4 { start, end } => TrafficSelector::Ipv4(AddressRange {
            ip_protocol: protocol,
            start_port,
            end_port,
            start_address: start,
            end_address: end,
        }),
        AddrRange::V6 { start, end } => TrafficSelector::Ipv6(AddressRange {
            ip_protocol: protocol,
            start_port,
            end_port,
            start_address: start,
            end_address: end,
        }),
        AddrRange::Any => return Err(ValueError::BadSelector("no address family")),
    })
}

/// Parses our own identity as strongSwan writes it (RFC 7296 §3.5): an IP address is
/// ID_IPV4_ADDR or ID_IPV6_ADDR, `@#hex` ID_KEY_ID, `@name` ID_FQDN (the `@` keeps a name
/// that looks like an address a name), `user@domain` ID_RFC822_ADDR, any other name
/// ID_FQDN. Wildcards, `%any` and distinguished names are refused.
pub fn parse_identity(text: &str) -> Result<Identification, ValueError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ValueError::Empty);
    }
    if text.starts_with('%') || text.contains('*') {
        return Err(ValueError::BadIdentity(
            "a wildcard or %any cannot be our own identity",
        ));
    }
    if let Some(hex) = text.strip_prefix("@#") {
        let bytes = hex::decode(hex)
            .ok()
            .filter(|b| !b.is_empty())
            .ok_or(ValueError::BadIdentity("@# must be followed by hex digits"))?;
        return Ok(Identification::key_id(&bytes));
    }
    if let Some(fqdn) = text.strip_prefix('@') {
        if fqdn.is_empty() {
            return Err(ValueError::Empty);
        }
        return Ok(Identification::fqdn(fqdn));
    }
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(Identification::ip(ip));
    }
    if text.contains('=') {
        return Err(ValueError::BadIdentity(
            "distinguished names come with certificate authentication, not yet supported",
        ));
    }
    if text.contains('@') {
        return Ok(Identification::rfc822(text));
    }
    Ok(Identification::fqdn(text))
}

/// Parses the identity a peer must prove (swanctl's `remote.id`): `%any` admits anyone that
/// authenticates, `*.example.com`, `*@example.com` and `*@*.example.com` are wildcards, and
/// anything else is one exact identity as [`parse_identity`] reads it.
pub fn parse_remote_identity(text: &str) -> Result<IdMatcher, ValueError> {
    let text = text.trim();
    if text == "%any" {
        return Ok(IdMatcher::Any);
    }
    if text.starts_with('*') {
        return IdMatcher::wildcard(text).map_err(|_| {
            ValueError::BadIdentity("wildcards are *.DOMAIN, *@DOMAIN or *@*.DOMAIN")
        });
    }
    let id = parse_identity(text)?;
    peer_id(&id)
        .map(IdMatcher::Exact)
        .ok_or(ValueError::BadIdentity("not an identity a peer can prove"))
}

/// The PAD's view of an identity.
pub(crate) fn peer_id(id: &Identification) -> Option<PeerId> {
    PeerId::from_wire(id.id_type.value(), &id.data).ok()
}

/// Parses a duration as swanctl writes one: a whole number with `s`, `m`, `h` or `d`, or
/// seconds without a unit (`4h`, `30m`, `90`).
pub fn parse_duration(text: &str) -> Result<Duration, ValueError> {
    let text = text.trim();
    let bad = || ValueError::BadDuration(text.to_string());
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let number: u64 = digits.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "" | "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        "d" => number.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    Ok(Duration::from_secs(seconds))
}

/// Parses a whole number (bytes, packets, a window size).
pub fn parse_number(text: &str) -> Result<u64, ValueError> {
    text.trim()
        .parse()
        .map_err(|_| ValueError::BadNumber(text.trim().to_string()))
}

/// The one address a range holds, if it holds exactly one.
pub(crate) fn single_address(range: &AddrRange) -> Option<IpAddr> {
    match range {
        AddrRange::V4 { start, end } if start == end => Some(IpAddr::V4(*start)),
        AddrRange::V6 { start, end } if start == end => Some(IpAddr::V6(*start)),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn identities() {
        assert_eq!(
            parse_identity("initiator@lab.test").unwrap(),
            Identification::rfc822("initiator@lab.test")
        );
        assert_eq!(
            parse_identity("@gw.example").unwrap(),
            Identification::fqdn("gw.example")
        );
        assert_eq!(
            parse_identity("gw.example").unwrap(),
            Identification::fqdn("gw.example")
        );
        assert_eq!(
            parse_identity("10.0.0.1").unwrap(),
            Identification::ip("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            parse_identity("@#0a0b").unwrap(),
            Identification::key_id(&[0x0a, 0x0b])
        );
        assert!(parse_identity("%any").is_err());
        assert!(parse_identity("C=CH, CN=moon").is_err());
        assert_eq!(parse_remote_identity("%any").unwrap(), IdMatcher::Any);
        assert!(matches!(
            parse_remote_identity("*@users.example").unwrap(),
            IdMatcher::Rfc822Domain { .. }
        ));
        assert!(parse_remote_identity("*bad").is_err());
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
        let span = parse_traffic_selector("10.0.0.1-10.0.0.9[icmp]").unwrap();
        let TrafficSelector::Ipv4(range) = span else {
            panic!("not IPv4")
        };
        assert_eq!(range.end_address, Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(range.ip_protocol, 1);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(
            parse_traffic_selector("10.0.0.0/40")
                .unwrap_err()
                .to_string(),
            "prefix 40 is longer than 32"
        );
        assert_eq!(
            parse_traffic_selector("10.0.0.0/8[udp/99999]")
                .unwrap_err()
                .to_string(),
            "port `99999` out of range"
        );
        assert_eq!(
            parse_traffic_selector("10.0.0.0/8[bogus]")
                .unwrap_err()
                .to_string(),
            "unknown protocol `bogus`"
        );
        assert!(parse_traffic_selector("10.0.0.0/8[tcp").is_err());
        assert!(parse_traffic_selector("nothing").is_err());
        assert!(parse_traffic_selector("10.0.0.9-10.0.0.1").is_err());
        assert_eq!(
            parse_addresses("vpn.example.com").unwrap_err(),
            ValueError::HostName("vpn.example.com".into())
        );
        assert!(parse_addresses("::1/129").is_err());
        assert_eq!(parse_addresses(" , ").unwrap_err(), ValueError::Empty);
    }

    #[test]
    fn address_lists_durations_numbers() {
        let list = parse_addresses("192.0.2.1, 10.0.0.0/8, 10.1.0.1-10.1.0.9, %any6").unwrap();
        assert_eq!(list.len(), 4);
        assert!(list[1].contains("10.9.9.9".parse().unwrap()));
        assert!(list[2].contains("10.1.0.5".parse().unwrap()));
        assert_eq!(list[3], AddrRange::ANY_V6);
        assert_eq!(parse_duration("4h").unwrap(), Duration::from_secs(14_400));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("2d").unwrap(), Duration::from_secs(172_800));
        assert!(parse_duration("1.5h").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
        assert_eq!(parse_number(" 42 ").unwrap(), 42);
        assert!(parse_number("-1").is_err());
    }
}
