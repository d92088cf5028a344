//! The flow extractor: IPv4 and IPv6 headers, IPv6 extension headers, fragments, ICMP, and
//! hostile bytes that must never panic.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::net::Ipv6Addr;

use common::*;
use ipsec_sad::flow::protocol;
use ipsec_sad::{Flow, FlowError, FlowPorts, Layer, MAX_EXTENSION_HEADERS};
use proptest::prelude::*;

fn a() -> Ipv6Addr {
    "2001:db8::1".parse().unwrap()
}

fn b() -> Ipv6Addr {
    "2001:db8::2".parse().unwrap()
}

/// An extension header of `len8` 8-octet units after the first, pointing at `next`.
fn ext(next: u8, len8: u8) -> Vec<u8> {
    let mut h = vec![0u8; (usize::from(len8) + 1) * 8];
    h[0] = next;
    h[1] = len8;
    h
}

/// A Fragment header pointing at `next`, with `offset` in 8-octet units.
fn fragment(next: u8, offset: u16, more: bool) -> Vec<u8> {
    let mut h = vec![0u8; 8];
    h[0] = next;
    h[2..4].copy_from_slice(&((offset << 3) | u16::from(more)).to_be_bytes());
    h[4..8].copy_from_slice(&0x1234u32.to_be_bytes());
    h
}

#[test]
fn ipv4_udp_tcp_and_icmp() {
    let p = ipv4_packet([10, 0, 0, 1], [10, 0, 0, 2], 17, &udp(1234, 53, b"q"));
    let flow = Flow::parse(&p).unwrap();
    assert_eq!(flow.source, v4("10.0.0.1"));
    assert_eq!(flow.destination, v4("10.0.0.2"));
    assert_eq!(flow.protocol, 17);
    assert_eq!(
        flow.ports,
        FlowPorts::Ports {
            source: 1234,
            destination: 53
        }
    );

    let p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 6, &udp(40000, 443, b""));
    assert_eq!(
        Flow::parse(&p).unwrap().ports,
        FlowPorts::Ports {
            source: 40000,
            destination: 443
        }
    );

    let p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 1, &icmp(8, 0));
    assert_eq!(
        Flow::parse(&p).unwrap().ports,
        FlowPorts::Icmp {
            icmp_type: 8,
            code: 0
        }
    );

    // GRE has no ports.
    let p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 47, &[0; 8]);
    assert_eq!(Flow::parse(&p).unwrap().ports, FlowPorts::Opaque);
}

#[test]
fn ipv4_options_are_skipped() {
    let mut p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 17, &[]);
    p[0] = 0x46; // IHL 6: four bytes of options.
    p.extend_from_slice(&[1, 1, 1, 0]);
    p.extend_from_slice(&udp(7, 9, b""));
    let total = p.len() as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    assert_eq!(
        Flow::parse(&p).unwrap().ports,
        FlowPorts::Ports {
            source: 7,
            destination: 9
        }
    );
}

#[test]
fn ipv4_fragments() {
    // The first fragment (More Fragments, offset 0) has the ports.
    let mut p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 17, &udp(5, 6, b"data"));
    p[6] = 0x20;
    assert!(matches!(
        Flow::parse(&p).unwrap().ports,
        FlowPorts::Ports { .. }
    ));
    // A later one does not: they are OPAQUE.
    p[6] = 0x20;
    p[7] = 0x10;
    let flow = Flow::parse(&p).unwrap();
    assert_eq!(flow.ports, FlowPorts::Opaque);
    assert_eq!(flow.protocol, 17);
    // Even when too short to hold ports.
    let mut p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 6, &[1]);
    p[7] = 0x01;
    assert_eq!(Flow::parse(&p).unwrap().ports, FlowPorts::Opaque);
}

#[test]
fn ipv4_length_errors() {
    let p = ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 17, &udp(5, 6, b""));
    let mut bad = p.clone();
    bad[0] = 0x44;
    assert_eq!(
        Flow::parse(&bad),
        Err(FlowError::BadHeaderLength { ihl: 4 })
    );
    let mut bad = p.clone();
    bad[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(
        Flow::parse(&bad),
        Err(FlowError::BadTotalLength {
            total: 10,
            header: 20
        })
    );
    let mut bad = p.clone();
    bad[2..4].copy_from_slice(&100u16.to_be_bytes());
    assert_eq!(
        Flow::parse(&bad),
        Err(FlowError::Truncated {
            what: Layer::Packet,
            needed: 100,
            available: 28
        })
    );
    // The total length ends the packet before the ports.
    let mut bad = p.clone();
    bad[2..4].copy_from_slice(&22u16.to_be_bytes());
    assert!(matches!(
        Flow::parse(&bad),
        Err(FlowError::Truncated {
            what: Layer::UpperLayer,
            ..
        })
    ));
    // Trailing bytes past the total length (TFC padding) are ignored.
    let mut padded = p.clone();
    padded.extend_from_slice(&[0xee; 50]);
    assert_eq!(Flow::parse(&padded), Flow::parse(&p));
    // Every truncation is an error, not a panic.
    for len in 0..p.len() {
        assert!(Flow::parse(&p[..len]).is_err(), "length {len}");
    }
}

#[test]
fn unknown_versions_are_refused() {
    assert_eq!(Flow::parse(&[0x55; 40]), Err(FlowError::UnknownVersion(5)));
    assert!(matches!(Flow::parse(&[]), Err(FlowError::Truncated { .. })));
}

#[test]
fn ipv6_udp_and_icmpv6() {
    let p = ipv6_packet(a(), b(), 17, &udp(1000, 2000, b"x"));
    let flow = Flow::parse(&p).unwrap();
    assert_eq!(flow.source, v6("2001:db8::1"));
    assert_eq!(flow.destination, v6("2001:db8::2"));
    assert_eq!(
        flow.ports,
        FlowPorts::Ports {
            source: 1000,
            destination: 2000
        }
    );
    let p = ipv6_packet(a(), b(), 58, &icmp(135, 0));
    assert_eq!(
        Flow::parse(&p).unwrap().ports,
        FlowPorts::Icmp {
            icmp_type: 135,
            code: 0
        }
    );
    for len in 0..p.len() {
        assert!(Flow::parse(&p[..len]).is_err(), "length {len}");
    }
}

#[test]
fn ipv6_extension_headers_are_walked_to_the_upper_layer() {
    let mut rest = ext(protocol::ROUTING, 0); // Hop-by-Hop -> Routing
    rest.extend(ext(protocol::DESTINATION_OPTIONS, 2)); // Routing (24 bytes) -> Dest Opts
    rest.extend(ext(protocol::FRAGMENT, 1)); // Dest Opts (16 bytes) -> Fragment
    rest.extend(fragment(protocol::TCP, 0, true)); // first fragment -> TCP
    rest.extend(udp(22, 51000, b"ssh"));
    let p = ipv6_packet(a(), b(), protocol::HOP_BY_HOP, &rest);
    let flow = Flow::parse(&p).unwrap();
    assert_eq!(flow.protocol, protocol::TCP);
    assert_eq!(
        flow.ports,
        FlowPorts::Ports {
            source: 22,
            destination: 51000
        }
    );
    for len in 0..p.len() - 3 {
        assert!(Flow::parse(&p[..len]).is_err(), "length {len}");
    }
}

#[test]
fn ipv6_non_initial_fragments_are_opaque() {
    let mut rest = fragment(protocol::UDP, 185, false);
    rest.extend_from_slice(&[0xab; 3]);
    let flow = Flow::parse(&ipv6_packet(a(), b(), protocol::FRAGMENT, &rest)).unwrap();
    assert_eq!(flow.protocol, protocol::UDP);
    assert_eq!(flow.ports, FlowPorts::Opaque);
}

#[test]
fn ipv6_walk_stops_at_esp_and_ah() {
    let mut rest = ext(protocol::ESP, 0);
    rest.extend_from_slice(&[0; 16]);
    let flow = Flow::parse(&ipv6_packet(a(), b(), protocol::DESTINATION_OPTIONS, &rest)).unwrap();
    assert_eq!(flow.protocol, protocol::ESP);
    assert_eq!(flow.ports, FlowPorts::Opaque);
    let flow = Flow::parse(&ipv6_packet(a(), b(), protocol::AH, &[0; 24])).unwrap();
    assert_eq!(flow.protocol, protocol::AH);
}

#[test]
fn ipv6_extension_header_chain_is_bounded() {
    let chain = |count: usize| {
        let mut rest = Vec::new();
        for _ in 1..count {
            rest.extend(ext(protocol::DESTINATION_OPTIONS, 0));
        }
        rest.extend(ext(protocol::UDP, 0));
        rest.extend(udp(1, 2, b""));
        ipv6_packet(a(), b(), protocol::DESTINATION_OPTIONS, &rest)
    };
    assert_eq!(
        Flow::parse(&chain(MAX_EXTENSION_HEADERS)).unwrap().protocol,
        protocol::UDP
    );
    assert_eq!(
        Flow::parse(&chain(MAX_EXTENSION_HEADERS + 1)),
        Err(FlowError::TooManyExtensionHeaders {
            limit: MAX_EXTENSION_HEADERS
        })
    );
}

#[test]
fn ipv6_payload_length_bounds_the_walk() {
    let mut p = ipv6_packet(a(), b(), 17, &udp(1, 2, b"xyz"));
    p[4..6].copy_from_slice(&200u16.to_be_bytes());
    assert!(matches!(
        Flow::parse(&p),
        Err(FlowError::Truncated {
            what: Layer::Packet,
            ..
        })
    ));
    // An extension header longer than the payload.
    let mut rest = ext(protocol::UDP, 0);
    rest[1] = 10;
    let p = ipv6_packet(a(), b(), protocol::HOP_BY_HOP, &rest);
    assert!(matches!(
        Flow::parse(&p),
        Err(FlowError::Truncated {
            what: Layer::ExtensionHeader,
            ..
        })
    ));
}

#[test]
fn transport_payloads_take_the_outer_addresses() {
    let flow = Flow::from_transport(v4("1.2.3.4"), v4("5.6.7.8"), 17, &udp(9, 10, b"")).unwrap();
    assert_eq!(flow.source, v4("1.2.3.4"));
    assert_eq!(
        flow.ports,
        FlowPorts::Ports {
            source: 9,
            destination: 10
        }
    );
    // IPv6 transport payloads may start with Destination Options (RFC 4303 §3.1.1).
    let mut payload = ext(protocol::UDP, 0);
    payload.extend(udp(11, 12, b""));
    let flow = Flow::from_transport(
        v6("2001:db8::1"),
        v6("2001:db8::2"),
        protocol::DESTINATION_OPTIONS,
        &payload,
    )
    .unwrap();
    assert_eq!(flow.protocol, protocol::UDP);
    assert_eq!(
        flow.ports,
        FlowPorts::Ports {
            source: 11,
            destination: 12
        }
    );
    assert!(Flow::from_transport(v4("1.2.3.4"), v4("5.6.7.8"), 6, &[1, 2]).is_err());
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Flow::parse(&bytes);
    }

    #[test]
    fn random_ip_looking_bytes_never_panic(
        version in prop_oneof![Just(0x40u8), Just(0x60u8)],
        mut bytes in proptest::collection::vec(any::<u8>(), 0..400),
    ) {
        if let Some(first) = bytes.first_mut() {
            *first = version | (*first & 0x0f);
        }
        if let Ok(flow) = Flow::parse(&bytes) {
            prop_assert_eq!(flow.source.is_ipv4(), version == 0x40);
        }
    }

    #[test]
    fn random_ipv6_extension_chains_never_panic(
        nexts in proptest::collection::vec(
            prop_oneof![Just(0u8), Just(43), Just(44), Just(60), Just(6), Just(17), Just(58), any::<u8>()],
            1..12,
        ),
        lens in proptest::collection::vec(0u8..4, 12),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut rest = Vec::new();
        for (i, next) in nexts.iter().enumerate().skip(1) {
            rest.extend(ext(*next, lens[i]));
        }
        rest.extend(tail);
        let p = ipv6_packet(a(), b(), nexts[0], &rest);
        let _ = Flow::parse(&p);
        for cut in [p.len() / 2, p.len().saturating_sub(1)] {
            let _ = Flow::parse(&p[..cut]);
        }
    }

    #[test]
    fn transport_parsing_never_panics(
        next in any::<u8>(),
        payload in proptest::collection::vec(any::<u8>(), 0..100),
        v6 in any::<bool>(),
    ) {
        let (s, d) = if v6 { (v6_addr(1), v6_addr(2)) } else { (v4("1.1.1.1"), v4("2.2.2.2")) };
        let _ = Flow::from_transport(s, d, next, &payload);
    }
}

fn v6_addr(last: u16) -> std::net::IpAddr {
    std::net::IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last))
}
