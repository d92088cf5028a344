//! AH through IKE and the facade (RFC 4302, RFC 7296 §3.3 protocol ID 2): a child with
//! `ah_proposals` negotiates an AH Child SA; packets go out as whole IP packets with an AH
//! header (a new outer header in tunnel mode, after their own in transport mode), arrive
//! verified, byte for byte, and a tampered one is dropped. IPv4 and IPv6.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use common::{Net, Wire, udp_packet};
use ipsec::{Child, Config, Connection, Endpoint, Event, IpsecProtocol, Mode, SendOutcome};
use ipsec_crypto::SeededRandom;

fn gateway(
    now: std::time::Instant,
    seed: u64,
    addresses: (IpAddr, IpAddr),
    ids: (&str, &str),
    selectors: (&str, &str),
    mode: Mode,
) -> Endpoint {
    let connection = Connection::builder("ah")
        .local_addrs(&addresses.0.to_string())
        .remote_addrs(&addresses.1.to_string())
        .local_id(ids.0)
        .remote_id(ids.1)
        .psk(b"an AH key")
        .proposals("aes128gcm16-prfsha256-x25519")
        .child(
            Child::builder("net")
                .local_ts(selectors.0)
                .remote_ts(selectors.1)
                .ah_proposals("sha256")
                .mode(mode)
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(seed))).unwrap()
}

fn pair(addresses: (IpAddr, IpAddr), selectors: (&str, &str), mode: Mode) -> (Net, usize, usize) {
    let mut net = Net::new();
    let now = net.now;
    let a = net.add(
        "A",
        addresses.0,
        gateway(
            now,
            1,
            addresses,
            ("a.example", "b.example"),
            selectors,
            mode,
        ),
    );
    let b = net.add(
        "B",
        addresses.1,
        gateway(
            now,
            2,
            (addresses.1, addresses.0),
            ("b.example", "a.example"),
            (selectors.1, selectors.0),
            mode,
        ),
    );
    net.with(a, |e, now| e.connect(now, "ah")).unwrap();
    net.run(Duration::from_secs(2));
    (net, a, b)
}

/// The AH packets node `index` sent.
fn ah_packets(net: &Net, index: usize) -> Vec<bytes::Bytes> {
    net.nodes[index]
        .sent
        .iter()
        .filter_map(|w| match w {
            Wire::Ah { packet } => Some(packet.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn an_ah_tunnel_over_ipv4() {
    let (a_ip, b_ip) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 1));
    let (mut net, a, b) = pair(
        (a_ip.into(), b_ip.into()),
        ("10.1.0.0/16", "10.2.0.0/16"),
        Mode::Tunnel,
    );
    let child = net.nodes[a].endpoint.child_sas(net.now)[0].clone();
    assert_eq!(child.protocol, IpsecProtocol::Ah);
    assert_eq!(child.algorithms.encryption, None);
    assert!(net.nodes[b].events.iter().any(|e| matches!(
        e,
        Event::ChildSaInstalled { algorithms, .. } if algorithms.protocol == IpsecProtocol::Ah
    )));
    let inner = udp_packet(
        Ipv4Addr::new(10, 1, 0, 5),
        Ipv4Addr::new(10, 2, 0, 7),
        b"authenticated, not secret",
    );
    assert_eq!(net.send(a, &inner), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    let sent = ah_packets(&net, a);
    assert_eq!(sent.len(), 1);
    let packet = &sent[0];
    // The outer IPv4 header: gateway to gateway, protocol 51, checksum valid.
    assert_eq!(packet[9], 51);
    assert_eq!(&packet[12..16], &a_ip.octets());
    assert_eq!(&packet[16..20], &b_ip.octets());
    let sum: u32 = packet[..20]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum();
    assert_eq!((sum & 0xffff) + (sum >> 16), 0xffff, "header checksum");
    // AH: Next Header 4 (IPv4 inside), the SPI the peer chose, sequence 1; the inner
    // packet in the clear after the 28-byte AH header (12 + 16-byte ICV).
    assert_eq!(packet[20], 4);
    assert_eq!(
        u32::from_be_bytes(packet[24..28].try_into().unwrap()),
        child.outbound_spi
    );
    assert_eq!(u32::from_be_bytes(packet[28..32].try_into().unwrap()), 1);
    assert_eq!(&packet[48..], inner.as_slice());
    assert_eq!(net.nodes[b].delivered.len(), 1);
    assert_eq!(net.nodes[b].delivered[0].0.as_ref(), inner.as_slice());
    // And back.
    let reply = udp_packet(
        Ipv4Addr::new(10, 2, 0, 7),
        Ipv4Addr::new(10, 1, 0, 5),
        b"reply",
    );
    assert_eq!(net.send(b, &reply), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[a].delivered[0].0.as_ref(), reply.as_slice());
    // A flipped bit of the inner packet fails the ICV; the TTL, which AH leaves out, may
    // change.
    let mut tampered = sent[0].to_vec();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(net.with(b, |e, now| e.handle_ah(now, &tampered)).is_err());
    let mut ttl = sent[0].to_vec();
    ttl[8] -= 1;
    let checksum = {
        ttl[10] = 0;
        ttl[11] = 0;
        let mut sum: u32 = ttl[..20]
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    };
    ttl[10..12].copy_from_slice(&checksum.to_be_bytes());
    // A replay, though: the window refuses sequence number 1 again.
    assert!(net.with(b, |e, now| e.handle_ah(now, &ttl)).is_err());
    let counters = net.nodes[b].endpoint.child_sas(net.now)[0].traffic;
    assert_eq!(counters.packets_in, 1);
    assert_eq!(counters.drops.total(), 2);
}

#[test]
fn ah_in_transport_mode_between_two_hosts() {
    let (a_ip, b_ip) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 1));
    let (mut net, a, b) = pair(
        (a_ip.into(), b_ip.into()),
        ("192.0.2.1/32[udp]", "198.51.100.1/32[udp]"),
        Mode::Transport,
    );
    let packet = udp_packet(a_ip, b_ip, b"host to host");
    assert_eq!(net.send(a, &packet), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    let sent = ah_packets(&net, a);
    assert_eq!(sent.len(), 1);
    // The packet's own header, now carrying AH, then its UDP datagram unchanged.
    assert_eq!(sent[0][9], 51);
    assert_eq!(sent[0][20], 17, "Next Header: UDP");
    assert_eq!(&sent[0][48..], &packet[20..]);
    // Delivered: the upper-layer payload, as ESP's transport mode delivers it.
    assert_eq!(net.nodes[b].delivered.len(), 1);
    assert_eq!(net.nodes[b].delivered[0].0.as_ref(), &packet[20..]);
}

#[test]
fn an_ah_tunnel_over_ipv6() {
    let a_ip: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let b_ip: Ipv6Addr = "2001:db8::2".parse().unwrap();
    let (mut net, a, b) = pair(
        (a_ip.into(), b_ip.into()),
        ("10.1.0.0/16", "10.2.0.0/16"),
        Mode::Tunnel,
    );
    let inner = udp_packet(
        Ipv4Addr::new(10, 1, 0, 5),
        Ipv4Addr::new(10, 2, 0, 7),
        b"over IPv6",
    );
    assert_eq!(net.send(a, &inner), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    let sent = ah_packets(&net, a);
    assert_eq!(sent[0][0] >> 4, 6);
    assert_eq!(sent[0][6], 51);
    assert_eq!(net.nodes[b].delivered[0].0.as_ref(), inner.as_slice());
}
