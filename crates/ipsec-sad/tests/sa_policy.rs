//! Per-SA outbound policies (RFC 4301 §4.4.1.2, §5.1): one PROTECT entry serving many
//! peers, each packet going out on the SA negotiated for its addresses; only the deciding
//! entry's SAs as candidates; the most specific selector winning, the first SA among
//! equals; and a property test of the index against a scan of every SA.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use ipsec_sad::{
    Action, AddrRange, Decision, Flow, FlowPorts, IpsecProtocol, LifetimeTemplate, Mode, NextLayer,
    OutboundHandle, PortRange, SaConfig, SaTemplate, Sad, Selector, Spd, SpdEntry,
};
use proptest::prelude::*;

fn protect() -> Action {
    Action::Protect {
        template: SaTemplate {
            mode: Mode::Tunnel,
            protocol: IpsecProtocol::Esp,
            proposals: Vec::new(),
            lifetime: LifetimeTemplate::default(),
        },
    }
}

fn net(text: &str, len: u8) -> AddrRange {
    AddrRange::prefix(text.parse().unwrap(), len).unwrap()
}

/// An outbound SA in `sad`, for its handle.
fn install(sad: &mut Sad, spi: u32) -> OutboundHandle {
    let lifetime = LifetimeTemplate::default().starting_at(start());
    sad.install_outbound(
        outbound(spi),
        SaConfig::new(Mode::Tunnel, Vec::new(), lifetime),
    )
    .unwrap()
}

fn flow(source: IpAddr, destination: IpAddr, protocol: u8, ports: (u16, u16)) -> Flow {
    Flow {
        source,
        destination,
        protocol,
        ports: FlowPorts::Ports {
            source: ports.0,
            destination: ports.1,
        },
    }
}

fn udp4(source: [u8; 4], destination: [u8; 4]) -> Flow {
    flow(
        IpAddr::V4(source.into()),
        IpAddr::V4(destination.into()),
        17,
        (4000, 53),
    )
}

#[test]
fn one_entry_serves_a_hundred_peers_each_on_its_own_sa() {
    let mut spd = Spd::new();
    let mut sad = Sad::new();
    let entry = spd.push(SpdEntry::new(
        vec![Selector::addresses(
            net("10.1.0.0", 16),
            net("10.99.0.0", 16),
        )],
        protect(),
    ));
    let mut peers = Vec::new();
    for peer in 0..100u32 {
        let address = Ipv4Addr::new(10, 99, (peer / 200) as u8, (peer % 200) as u8 + 1);
        let handle = install(&mut sad, 0x1000 + peer);
        // What IKE narrowed to for this peer: our /16 and its one address.
        spd.add_sa(
            handle,
            entry,
            &[Selector::addresses(
                net("10.1.0.0", 16),
                AddrRange::single(IpAddr::V4(address)),
            )],
        );
        peers.push((address, handle));
    }
    assert_eq!(spd.sa_count(), 100);
    for (address, handle) in &peers {
        let decision = spd.lookup_outbound(&udp4([10, 1, 2, 3], address.octets()));
        assert!(
            matches!(decision, Decision::Protect { sa, .. } if sa == *handle),
            "{address}: {decision:?}"
        );
    }
    // A peer address nobody negotiated asks for an SA.
    assert!(matches!(
        spd.lookup_outbound(&udp4([10, 1, 2, 3], [10, 99, 7, 7])),
        Decision::Acquire { .. }
    ));
    // A peer that leaves takes only its own SA with it.
    let (gone, handle) = peers.remove(17);
    assert!(spd.remove_sa(handle));
    assert!(matches!(
        spd.lookup_outbound(&udp4([10, 1, 2, 3], gone.octets())),
        Decision::Acquire { .. }
    ));
    for (address, handle) in &peers {
        assert_eq!(
            spd.sa_for(&udp4([10, 1, 2, 3], address.octets())),
            Some(*handle)
        );
    }
}

/// An SPD whose one PROTECT entry takes every packet.
fn protect_everything() -> (Spd, ipsec_sad::SpdEntryId) {
    let mut spd = Spd::new();
    let entry = spd.push(SpdEntry::new(vec![Selector::ANY], protect()));
    (spd, entry)
}

#[test]
fn the_most_specific_selector_wins_then_the_first_sa() {
    let (mut spd, entry) = protect_everything();
    let mut sad = Sad::new();
    let wide = install(&mut sad, 0x100);
    let narrow = install(&mut sad, 0x101);
    let tcp_only = install(&mut sad, 0x102);
    let lan = Selector::addresses(net("10.1.0.0", 16), net("10.2.3.0", 24));
    spd.add_sa(
        wide,
        entry,
        &[Selector::addresses(AddrRange::ANY_V4, AddrRange::ANY_V4)],
    );
    spd.add_sa(narrow, entry, &[lan]);
    spd.add_sa(tcp_only, entry, &[lan.with_protocol(6)]);
    let udp = udp4([10, 1, 0, 1], [10, 2, 3, 4]);
    let mut tcp = udp;
    tcp.protocol = 6;
    assert_eq!(spd.sa_for(&udp), Some(narrow));
    assert_eq!(spd.sa_for(&tcp), Some(tcp_only));
    assert_eq!(spd.sa_for(&udp4([10, 1, 0, 1], [10, 2, 4, 4])), Some(wide));
    assert_eq!(spd.sa_for(&udp4([192, 0, 2, 1], [10, 2, 3, 4])), Some(wide));

    // Another peer negotiating the same selectors later does not take the traffic over.
    let latecomer = install(&mut sad, 0x103);
    spd.add_sa(latecomer, entry, &[lan]);
    assert_eq!(spd.sa_for(&udp), Some(narrow));
    // A rekey's successor takes over once its predecessor's policy goes.
    spd.remove_sa(narrow);
    assert_eq!(spd.sa_for(&udp), Some(latecomer));
    spd.remove_sa(latecomer);
    assert_eq!(spd.sa_for(&udp), Some(wide));
    // Adding an SA again replaces its selectors.
    spd.add_sa(
        tcp_only,
        entry,
        &[Selector::addresses(AddrRange::ANY_V4, net("10.9.0.0", 16))],
    );
    assert_eq!(spd.sa_for(&tcp), Some(wide));
    assert_eq!(
        spd.sa_for(&udp4([1, 1, 1, 1], [10, 9, 0, 1])),
        Some(tcp_only)
    );
    assert_eq!(spd.sa_count(), 2);
    // IPv6 packets find no IPv4 SA.
    let v6 = flow(
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
        17,
        (1, 2),
    );
    assert_eq!(spd.sa_for(&v6), None);
    // Selectors that are ANY in both address fields serve both families.
    let any = install(&mut sad, 0x104);
    spd.add_sa(any, entry, &[Selector::ANY]);
    assert_eq!(spd.sa_for(&v6), Some(any));
    for handle in [wide, tcp_only, any] {
        assert!(spd.remove_sa(handle));
    }
    assert_eq!(spd.sa_for(&udp), None);
}

/// An SA negotiated under one connection's policy never carries traffic another policy
/// decided, however specific its selectors (RFC 4301 §5.1: the entry that matched decides).
#[test]
fn only_the_deciding_entrys_sas_are_candidates() {
    let mut spd = Spd::new();
    let mut sad = Sad::new();
    let site = spd.push(SpdEntry::new(
        vec![Selector::addresses(
            net("10.1.0.0", 16),
            net("10.2.0.0", 16),
        )],
        protect(),
    ));
    let road = spd.push(SpdEntry::new(
        vec![Selector::addresses(net("10.1.0.0", 16), net("10.0.0.0", 8))],
        protect(),
    ));
    let tunnel = install(&mut sad, 0x200);
    spd.add_sa(
        tunnel,
        site,
        &[Selector::addresses(
            net("10.1.0.0", 16),
            net("10.2.0.0", 16),
        )],
    );
    // A road warrior of the second connection claims an address behind the site peer.
    let intruder = install(&mut sad, 0x201);
    spd.add_sa(
        intruder,
        road,
        &[Selector::addresses(
            net("10.1.0.0", 16),
            AddrRange::single(v4("10.2.0.5")),
        )],
    );
    let to_site = udp4([10, 1, 0, 1], [10, 2, 0, 5]);
    assert_eq!(spd.sa_for(&to_site), Some(tunnel));
    assert!(matches!(
        spd.lookup_outbound(&to_site),
        Decision::Protect { sa, id, .. } if sa == tunnel && id == site
    ));
    // The road warrior's own addresses, outside the site's range, are its.
    spd.add_sa(
        intruder,
        road,
        &[Selector::addresses(
            net("10.1.0.0", 16),
            AddrRange::single(v4("10.7.0.5")),
        )],
    );
    assert_eq!(
        spd.sa_for(&udp4([10, 1, 0, 1], [10, 7, 0, 5])),
        Some(intruder)
    );
}

#[test]
fn ranges_that_are_not_prefixes_and_ipv6() {
    let (mut spd, entry) = protect_everything();
    let mut sad = Sad::new();
    let odd = install(&mut sad, 0x200);
    let range = AddrRange::new(v4("10.0.0.255"), v4("10.0.1.0")).unwrap();
    spd.add_sa(odd, entry, &[Selector::addresses(AddrRange::ANY_V4, range)]);
    assert_eq!(spd.sa_for(&udp4([1, 2, 3, 4], [10, 0, 0, 255])), Some(odd));
    assert_eq!(spd.sa_for(&udp4([1, 2, 3, 4], [10, 0, 1, 0])), Some(odd));
    assert_eq!(spd.sa_for(&udp4([1, 2, 3, 4], [10, 0, 0, 254])), None);
    assert_eq!(spd.sa_for(&udp4([1, 2, 3, 4], [10, 0, 1, 1])), None);

    let six = install(&mut sad, 0x201);
    let local = AddrRange::prefix(v6("2001:db8:1::"), 48).unwrap();
    let remote = AddrRange::single(v6("2001:db8:99::7"));
    spd.add_sa(six, entry, &[Selector::addresses(local, remote)]);
    let hit = flow(v6("2001:db8:1::5"), v6("2001:db8:99::7"), 58, (0, 0));
    let miss = flow(v6("2001:db8:1::5"), v6("2001:db8:99::8"), 58, (0, 0));
    assert_eq!(spd.sa_for(&hit), Some(six));
    assert_eq!(spd.sa_for(&miss), None);
}

// ---------------------------------------------------------------------------------------
// The index against a scan of every SA.

/// The rank of the rule the index documents, computed by counting.
fn reference_rank(selector: &Selector) -> (u32, bool, u32) {
    fn addresses(range: &AddrRange) -> u32 {
        let (count, width) = match range {
            AddrRange::Any => return 0,
            AddrRange::V4 { start, end } => (
                u128::from(end.to_bits()) - u128::from(start.to_bits()) + 1,
                32,
            ),
            AddrRange::V6 { start, end } => (end.to_bits() - start.to_bits() + 1, 128),
        };
        width - ceil_log2(count)
    }
    fn ceil_log2(count: u128) -> u32 {
        (0u32..=128)
            .find(|&bits| bits == 128 || (1u128 << bits) >= count)
            .unwrap()
    }
    fn ports(range: PortRange) -> u32 {
        16 - ceil_log2(u128::from(range.end - range.start) + 1)
    }
    (
        addresses(&selector.local) + addresses(&selector.remote),
        selector.protocol != NextLayer::Any,
        ports(selector.local_port) + ports(selector.remote_port),
    )
}

fn reference_lookup(
    installed: &[(OutboundHandle, Vec<Selector>)],
    flow: &Flow,
) -> Option<OutboundHandle> {
    let mut best: Option<((u32, bool, u32), usize, OutboundHandle)> = None;
    for (order, (handle, selectors)) in installed.iter().enumerate() {
        for selector in selectors {
            if selector.matches(flow, ipsec_sad::Direction::Outbound) {
                let rank = (reference_rank(selector), order, *handle);
                // More specific wins; among equals, the one added first.
                if best.is_none_or(|b| rank.0 > b.0 || (rank.0 == b.0 && rank.1 < b.1)) {
                    best = Some(rank);
                }
            }
        }
    }
    best.map(|b| b.2)
}

/// Addresses 10.0.0.0 to 10.0.0.31, so that random ranges overlap a lot.
fn small_range() -> impl Strategy<Value = AddrRange> {
    prop_oneof![
        1 => Just(AddrRange::ANY_V4),
        6 => (0u8..32, 0u8..32).prop_map(|(a, b)| {
            let (a, b) = (a.min(b), a.max(b));
            AddrRange::V4 {
                start: Ipv4Addr::new(10, 0, 0, a),
                end: Ipv4Addr::new(10, 0, 0, b),
            }
        }),
        2 => (0u8..32, 27u8..=32).prop_map(|(a, len)| {
            AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(10, 0, 0, a)), len).unwrap()
        }),
    ]
}

fn port_range() -> impl Strategy<Value = PortRange> {
    prop_oneof![
        3 => Just(PortRange::ANY),
        1 => (0u16..8, 0u16..8).prop_map(|(a, b)| PortRange::new(a.min(b), a.max(b))),
    ]
}

fn selector() -> impl Strategy<Value = Selector> {
    (
        small_range(),
        small_range(),
        prop_oneof![2 => Just(None), 1 => Just(Some(6u8)), 1 => Just(Some(17u8))],
        port_range(),
        port_range(),
    )
        .prop_map(|(local, remote, protocol, local_port, remote_port)| {
            let mut selector =
                Selector::addresses(local, remote).with_ports(local_port, remote_port);
            if let Some(protocol) = protocol {
                selector = selector.with_protocol(protocol);
            }
            selector
        })
}

#[derive(Debug, Clone)]
enum Op {
    Add(usize, Vec<Selector>),
    Remove(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..12, prop::collection::vec(selector(), 1..4)).prop_map(|(sa, s)| Op::Add(sa, s)),
        1 => (0usize..12).prop_map(Op::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_index_finds_what_a_scan_of_every_sa_finds(
        ops in prop::collection::vec(op(), 1..40),
        flows in prop::collection::vec((0u8..32, 0u8..32, prop_oneof![Just(6u8), Just(17u8), Just(1u8)], 0u16..8, 0u16..8), 1..40),
    ) {
        let mut sad = Sad::new();
        let handles: Vec<OutboundHandle> = (0..12).map(|i| install(&mut sad, 0x300 + i)).collect();
        let (mut spd, entry) = protect_everything();
        // In install order, as the index ranks equals.
        let mut installed: Vec<(OutboundHandle, Vec<Selector>)> = Vec::new();
        for op in ops {
            match op {
                Op::Add(sa, selectors) => {
                    let handle = handles[sa];
                    installed.retain(|(h, _)| *h != handle);
                    installed.push((handle, selectors.clone()));
                    spd.add_sa(handle, entry, &selectors);
                }
                Op::Remove(sa) => {
                    let handle = handles[sa];
                    let was = installed.iter().any(|(h, _)| *h == handle);
                    installed.retain(|(h, _)| *h != handle);
                    prop_assert_eq!(spd.remove_sa(handle), was);
                }
            }
            prop_assert_eq!(spd.sa_count(), installed.len());
            for (source, destination, protocol, sport, dport) in &flows {
                let f = flow(
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, *source)),
                    IpAddr::V4(Ipv4Addr::new(10, 0, 0, *destination)),
                    *protocol,
                    (*sport, *dport),
                );
                prop_assert_eq!(spd.sa_for(&f), reference_lookup(&installed, &f), "{:?}", f);
            }
        }
    }
}
