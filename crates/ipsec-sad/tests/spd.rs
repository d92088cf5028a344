//! The SPD: order and first match, BYPASS, DISCARD, PROTECT with and without an SA, ICMP
//! type and code selectors, OPAQUE ports, direction, and packets with extension headers.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use ipsec_crypto::iana;
use ipsec_sad::flow::protocol;
use ipsec_sad::{
    Action, AddrRange, AlgorithmProposal, Decision, Direction, Flow, FlowPorts, IpsecProtocol,
    LifetimeTemplate, LimitsTemplate, Mode, NextLayer, PortRange, SaConfig, SaTemplate, Sad,
    SadError, Selector, Spd, SpdEntry,
};

fn template() -> SaTemplate {
    SaTemplate {
        mode: Mode::Tunnel,
        protocol: IpsecProtocol::Esp,
        proposals: vec![AlgorithmProposal {
            encryption: iana::ENCR_AES_GCM_16,
            key_bits: 256,
            integrity: iana::AUTH_NONE,
            esn: true,
        }],
        lifetime: LifetimeTemplate {
            soft: LimitsTemplate {
                time: Some(Duration::from_secs(3000)),
                ..Default::default()
            },
            hard: LimitsTemplate {
                time: Some(Duration::from_secs(3600)),
                ..Default::default()
            },
            ..Default::default()
        },
    }
}

fn protect() -> Action {
    Action::Protect {
        template: template(),
    }
}

fn net(text: &str, len: u8) -> AddrRange {
    AddrRange::prefix(text.parse().unwrap(), len).unwrap()
}

fn udp_flow(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Flow {
    Flow::parse(&ipv4_packet(src, dst, 17, &udp(sport, dport, b""))).unwrap()
}

/// Local 10.0.1.0/24, remote 10.0.0.0/24.
fn lan_to_lan() -> Selector {
    Selector::addresses(net("10.0.1.0", 24), net("10.0.0.0", 24))
}

#[test]
fn the_first_matching_entry_decides() {
    let mut spd = Spd::new();
    // DNS to one host bypasses; everything else between the nets is protected; one host is
    // cut off entirely, inserted in front afterwards.
    let dns = spd.push(SpdEntry::new(
        vec![
            Selector::addresses(net("10.0.1.0", 24), AddrRange::single(v4("10.0.0.53")))
                .with_protocol(17)
                .with_ports(PortRange::ANY, PortRange::single(53)),
        ],
        Action::Bypass,
    ));
    let tunnel = spd.push(SpdEntry::new(vec![lan_to_lan()], protect()));
    let blocked = spd
        .insert(
            0,
            SpdEntry::new(
                vec![Selector::addresses(
                    AddrRange::single(v4("10.0.1.66")),
                    AddrRange::ANY_V4,
                )],
                Action::Discard,
            ),
        )
        .unwrap();
    assert_eq!(spd.len(), 3);
    assert_eq!(spd.position(blocked), Some(0));
    assert_eq!(spd.position(tunnel), Some(2));

    let d = spd.lookup_outbound(&udp_flow([10, 0, 1, 5], [10, 0, 0, 53], 3333, 53));
    assert_eq!(d, Decision::Bypass { id: dns });
    let d = spd.lookup_outbound(&udp_flow([10, 0, 1, 5], [10, 0, 0, 53], 3333, 54));
    assert!(matches!(d, Decision::Acquire { id, .. } if id == tunnel));
    let d = spd.lookup_outbound(&udp_flow([10, 0, 1, 66], [10, 0, 0, 53], 3333, 53));
    assert_eq!(d, Decision::Discard { id: blocked });
    let d = spd.lookup_outbound(&udp_flow([10, 0, 9, 5], [10, 0, 0, 53], 3333, 53));
    assert_eq!(d, Decision::NoMatch);

    // Removing the discard entry lets the host through the later entries.
    assert!(spd.remove(blocked).is_some());
    assert!(spd.remove(blocked).is_none());
    let d = spd.lookup_outbound(&udp_flow([10, 0, 1, 66], [10, 0, 0, 53], 3333, 53));
    assert_eq!(d, Decision::Bypass { id: dns });

    assert_eq!(
        spd.insert(9, SpdEntry::new(Vec::new(), Action::Bypass)),
        Err(SadError::InvalidPosition {
            position: 9,
            len: 2
        })
    );
}

#[test]
fn protect_without_an_sa_asks_for_one_and_with_one_returns_it() {
    let mut spd = Spd::new();
    let id = spd.push(SpdEntry::new(vec![lan_to_lan()], protect()));
    let flow = udp_flow([10, 0, 1, 5], [10, 0, 0, 9], 1, 2);
    match spd.lookup_outbound(&flow) {
        Decision::Acquire {
            id: found,
            template: t,
            entry,
        } => {
            assert_eq!(found, id);
            assert_eq!(*t, template());
            assert_eq!(entry.selectors, vec![lan_to_lan()]);
        }
        other => panic!("{other:?}"),
    }

    // The facade negotiates, installs the SA and its per-SA policy.
    let mut sad = Sad::new();
    let now = start();
    let lifetime = template().lifetime.starting_at(now);
    let handle = sad
        .install_outbound(
            outbound(0x4242),
            SaConfig::new(Mode::Tunnel, vec![lan_to_lan()], lifetime),
        )
        .unwrap();
    spd.add_sa(handle, id, &[lan_to_lan()]);
    assert!(spd.has_sa(handle));
    assert!(matches!(
        spd.lookup_outbound(&flow),
        Decision::Protect { sa, .. } if sa == handle
    ));
    // Inbound, PROTECT means the packet should have come protected: no SA is named.
    assert!(matches!(
        spd.lookup(&flow, Direction::Inbound),
        Decision::NoMatch | Decision::Acquire { .. }
    ));

    // When the SA goes, the entry asks again.
    assert!(spd.remove_sa(handle));
    assert!(!spd.remove_sa(handle));
    assert_eq!(spd.sa_count(), 0);
    assert!(matches!(
        spd.lookup_outbound(&flow),
        Decision::Acquire { .. }
    ));
}

#[test]
fn direction_swaps_local_and_remote() {
    let mut spd = Spd::new();
    let id = spd.push(SpdEntry::new(
        vec![
            lan_to_lan()
                .with_protocol(6)
                .with_ports(PortRange::single(22), PortRange::ANY),
        ],
        Action::Bypass,
    ));
    // Outbound from our ssh server to a client.
    let out = Flow::parse(&ipv4_packet(
        [10, 0, 1, 5],
        [10, 0, 0, 9],
        6,
        &udp(22, 50000, b""),
    ))
    .unwrap();
    assert_eq!(
        spd.lookup(&out, Direction::Outbound),
        Decision::Bypass { id }
    );
    assert_eq!(spd.lookup(&out, Direction::Inbound), Decision::NoMatch);
    // Inbound from the client to our server.
    let back = Flow::parse(&ipv4_packet(
        [10, 0, 0, 9],
        [10, 0, 1, 5],
        6,
        &udp(50000, 22, b""),
    ))
    .unwrap();
    assert_eq!(
        spd.lookup(&back, Direction::Inbound),
        Decision::Bypass { id }
    );
    assert_eq!(spd.lookup(&back, Direction::Outbound), Decision::NoMatch);
}

#[test]
fn icmp_type_and_code_select_like_ports() {
    let mut spd = Spd::new();
    let any = Selector::addresses(AddrRange::ANY_V4, AddrRange::ANY_V4);
    // Echo requests are protected; destination unreachable codes 0..=4 bypass; other ICMP
    // is dropped.
    let echo = spd.push(SpdEntry::new(
        vec![any.with_icmp(protocol::ICMP, 8, PortRange::ANY)],
        protect(),
    ));
    let unreachable = spd.push(SpdEntry::new(
        vec![any.with_icmp(protocol::ICMP, 3, PortRange::new(0, 4))],
        Action::Bypass,
    ));
    let rest = spd.push(SpdEntry::new(
        vec![any.with_protocol(protocol::ICMP)],
        Action::Discard,
    ));
    let icmp_flow =
        |t, c| Flow::parse(&ipv4_packet([1, 1, 1, 1], [2, 2, 2, 2], 1, &icmp(t, c))).unwrap();
    assert!(matches!(
        spd.lookup_outbound(&icmp_flow(8, 0)),
        Decision::Acquire { id, .. } if id == echo
    ));
    assert_eq!(
        spd.lookup_outbound(&icmp_flow(3, 4)),
        Decision::Bypass { id: unreachable }
    );
    assert_eq!(
        spd.lookup_outbound(&icmp_flow(3, 5)),
        Decision::Discard { id: rest }
    );
    assert_eq!(
        spd.lookup_outbound(&icmp_flow(0, 0)),
        Decision::Discard { id: rest }
    );
    // Type and code are not directional.
    assert_eq!(
        spd.lookup(&icmp_flow(3, 1), Direction::Inbound),
        Decision::Bypass { id: unreachable }
    );
    // UDP with "ports" 3 and 1 is not ICMP.
    assert_eq!(
        spd.lookup_outbound(&udp_flow([1, 1, 1, 1], [2, 2, 2, 2], 3, 1)),
        Decision::NoMatch
    );
}

#[test]
fn icmpv6_neighbour_discovery_bypasses() {
    let mut spd = Spd::new();
    let any6 = Selector::addresses(AddrRange::ANY_V6, AddrRange::ANY_V6);
    let nd = spd.push(SpdEntry::new(
        (133..=137)
            .map(|t| any6.with_icmp(protocol::ICMPV6, t, PortRange::ANY))
            .collect(),
        Action::Bypass,
    ));
    let all = spd.push(SpdEntry::new(vec![any6], protect()));
    let packet = |t| {
        ipv6_packet(
            "fe80::1".parse().unwrap(),
            "ff02::1".parse().unwrap(),
            58,
            &icmp(t, 0),
        )
    };
    assert_eq!(
        spd.lookup_packet(&packet(135)).unwrap(),
        Decision::Bypass { id: nd }
    );
    assert!(matches!(
        spd.lookup_packet(&packet(128)).unwrap(),
        Decision::Acquire { id, .. } if id == all
    ));
}

#[test]
fn opaque_ports_match_only_any() {
    let mut spd = Spd::new();
    let web = spd.push(SpdEntry::new(
        vec![
            lan_to_lan()
                .with_protocol(17)
                .with_ports(PortRange::ANY, PortRange::single(443)),
        ],
        Action::Bypass,
    ));
    let all_udp = spd.push(SpdEntry::new(
        vec![lan_to_lan().with_protocol(17)],
        Action::Discard,
    ));
    let mut p = ipv4_packet([10, 0, 1, 1], [10, 0, 0, 1], 17, &udp(5, 443, b"abcdefgh"));
    assert_eq!(spd.lookup_packet(&p).unwrap(), Decision::Bypass { id: web });
    p[7] = 0x02; // A non-initial fragment: its ports are OPAQUE.
    let flow = Flow::parse(&p).unwrap();
    assert_eq!(flow.ports, FlowPorts::Opaque);
    assert_eq!(
        spd.lookup_outbound(&flow),
        Decision::Discard { id: all_udp }
    );
}

#[test]
fn ipv6_packets_with_extension_headers_match_on_their_upper_layer() {
    let mut spd = Spd::new();
    let any6 = Selector::addresses(AddrRange::ANY_V6, AddrRange::ANY_V6);
    let ssh = spd.push(SpdEntry::new(
        vec![
            any6.with_protocol(6)
                .with_ports(PortRange::ANY, PortRange::single(22)),
        ],
        Action::Bypass,
    ));
    // Hop-by-Hop, then Destination Options, then TCP to port 22.
    let mut rest = vec![60, 0, 1, 4, 0, 0, 0, 0];
    rest.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
    rest.extend(udp(40000, 22, b"SSH-2.0"));
    let p = ipv6_packet(
        "2001:db8::1".parse().unwrap(),
        "2001:db8::2".parse().unwrap(),
        0,
        &rest,
    );
    assert_eq!(spd.lookup_packet(&p).unwrap(), Decision::Bypass { id: ssh });
    assert!(spd.lookup_packet(&p[..45]).is_err());
}

#[test]
fn selectors_of_one_entry_are_alternatives_and_families_do_not_mix() {
    let mut spd = Spd::new();
    let id = spd.push(SpdEntry::new(
        vec![
            Selector::addresses(AddrRange::single(v4("10.0.0.1")), AddrRange::ANY_V4),
            Selector::addresses(AddrRange::single(v6("2001:db8::1")), AddrRange::ANY_V6),
        ],
        Action::Bypass,
    ));
    assert_eq!(
        spd.lookup_outbound(&udp_flow([10, 0, 0, 1], [9, 9, 9, 9], 1, 1)),
        Decision::Bypass { id }
    );
    let p = ipv6_packet(
        "2001:db8::1".parse().unwrap(),
        "2001:db8::9".parse().unwrap(),
        17,
        &udp(1, 1, b""),
    );
    assert_eq!(spd.lookup_packet(&p).unwrap(), Decision::Bypass { id });
    // An IPv4 range never contains an IPv6 address.
    assert!(!AddrRange::ANY_V4.contains(v6("::ffff:10.0.0.1")));
    assert!(AddrRange::Any.contains(v6("::1")));
}

#[test]
fn address_ranges_and_prefixes() {
    let r = AddrRange::new(v4("10.0.0.10"), v4("10.0.0.20")).unwrap();
    assert!(r.contains(v4("10.0.0.10")));
    assert!(r.contains(v4("10.0.0.20")));
    assert!(!r.contains(v4("10.0.0.21")));
    assert_eq!(
        AddrRange::new(v4("10.0.0.20"), v4("10.0.0.10")),
        Err(SadError::InvalidRange)
    );
    assert_eq!(
        AddrRange::new(v4("10.0.0.1"), v6("::1")),
        Err(SadError::InvalidRange)
    );
    assert_eq!(
        AddrRange::prefix(v4("10.1.2.3"), 16).unwrap(),
        AddrRange::new(v4("10.1.0.0"), v4("10.1.255.255")).unwrap()
    );
    assert_eq!(
        AddrRange::prefix(v4("10.1.2.3"), 0).unwrap(),
        AddrRange::ANY_V4
    );
    assert_eq!(
        AddrRange::prefix(v6("2001:db8::1"), 128).unwrap(),
        AddrRange::single(v6("2001:db8::1"))
    );
    assert_eq!(
        AddrRange::prefix(v4("1.2.3.4"), 33),
        Err(SadError::InvalidPrefix { len: 33 })
    );
    assert!(net("10.1.2.0", 24).is_within(&net("10.1.0.0", 16)));
    assert!(!net("10.1.0.0", 16).is_within(&net("10.1.2.0", 24)));
    assert!(net("10.1.0.0", 16).is_within(&AddrRange::Any));
    assert!(!AddrRange::Any.is_within(&AddrRange::ANY_V4));
    assert_eq!(NextLayer::default(), NextLayer::Any);
}
