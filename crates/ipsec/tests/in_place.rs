//! The in-place data path of the facade: inner packets sealed in the caller's buffer
//! (`send_in_place`) and ESP opened in it (`handle_esp_in_place`, `handle_udp_in_place`),
//! in tunnel and transport mode, raw and in UDP; the packets are the ones the owned calls
//! make, and a global counting allocator shows that steady-state traffic allocates nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::alloc::System;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{Net, udp_packet};
use ipsec::{
    Child, Config, Connection, Delivered, Endpoint, Mode, SEAL_HEADROOM, SEAL_TAILROOM,
    SendInPlace, SendOutcome, Transmit,
};
use ipsec_crypto::SeededRandom;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static HEAP: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The allocator counts the whole process: tests that count run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

const GW_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GW_B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);

/// How a pair of gateways protects its traffic.
#[derive(Clone, Copy)]
struct Setup {
    mode: Mode,
    encap: bool,
    esp: &'static str,
}

/// Tunnel mode, raw ESP, AES-128-GCM.
const PLAIN_TUNNEL: Setup = Setup {
    mode: Mode::Tunnel,
    encap: false,
    esp: "aes128gcm16",
};

fn gateway(now: Instant, seed: u64, a: bool, setup: Setup) -> Endpoint {
    let (local, remote, id, peer) = if a {
        (GW_A, GW_B, "a.example", "b.example")
    } else {
        (GW_B, GW_A, "b.example", "a.example")
    };
    let (local_ts, remote_ts) = match setup.mode {
        Mode::Tunnel if a => ("10.1.0.0/16", "10.2.0.0/16"),
        Mode::Tunnel => ("10.2.0.0/16", "10.1.0.0/16"),
        Mode::Transport if a => ("192.0.2.1/32", "198.51.100.1/32"),
        Mode::Transport => ("198.51.100.1/32", "192.0.2.1/32"),
    };
    let connection = Connection::builder("site")
        .local_addrs(&local.to_string())
        .remote_addrs(&remote.to_string())
        .local_id(id)
        .remote_id(peer)
        .psk(b"the in-place tests' key")
        .proposals("aes128gcm16-prfsha256-x25519")
        .encap(setup.encap)
        .child(
            Child::builder("net")
                .local_ts(local_ts)
                .remote_ts(remote_ts)
                .esp_proposals(setup.esp)
                .mode(setup.mode)
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

/// Two gateways with their Child SA up.
fn pair(setup: Setup) -> (Net, usize, usize) {
    let mut net = Net::new();
    let now = net.now;
    let a = net.add("A", GW_A.into(), gateway(now, 1, true, setup));
    let b = net.add("B", GW_B.into(), gateway(now, 2, false, setup));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(net.nodes[a].endpoint.child_sas(net.now).len(), 1);
    assert_eq!(net.nodes[b].endpoint.child_sas(net.now).len(), 1);
    (net, a, b)
}

/// The inner packet node A sends: between the hosts in tunnel mode, between the gateways
/// themselves in transport mode.
fn inner(setup: Setup, text: &[u8]) -> Vec<u8> {
    match setup.mode {
        Mode::Tunnel => udp_packet(HOST_A, HOST_B, text),
        Mode::Transport => udp_packet(GW_A, GW_B, text),
    }
}

/// `packet` laid in `buf` with the documented room around it; where it lies.
fn lay(buf: &mut Vec<u8>, packet: &[u8]) -> std::ops::Range<usize> {
    buf.clear();
    buf.resize(SEAL_HEADROOM, 0);
    buf.extend_from_slice(packet);
    buf.resize(buf.len() + SEAL_TAILROOM, 0);
    SEAL_HEADROOM..SEAL_HEADROOM + packet.len()
}

/// Node `from` seals `packet` in `buf`: where the ESP packet lies, and where it goes.
fn seal(
    net: &mut Net,
    from: usize,
    buf: &mut Vec<u8>,
    packet: &[u8],
) -> (std::ops::Range<usize>, Transmit) {
    let now = net.now;
    let inner = lay(buf, packet);
    match net.nodes[from].endpoint.send_in_place(now, buf, inner) {
        SendInPlace::Sealed { packet, transmit } => (packet, transmit),
        other => panic!("not sealed: {other:?}"),
    }
}

/// Node `to` opens `wire` in place, arriving as `transmit` says it was sent.
fn open(
    net: &mut Net,
    to: usize,
    transmit: Transmit,
    wire: &mut [u8],
) -> Result<Option<Delivered>, ipsec::Dropped> {
    let now = net.now;
    let receiver = &mut net.nodes[to].endpoint;
    match transmit {
        Transmit::Udp(path) => {
            let path = ipsec::Path {
                local: path.remote,
                remote: path.local,
            };
            receiver.handle_udp_in_place(now, path, wire)
        }
        Transmit::Esp {
            source,
            destination,
        } => receiver.handle_esp_in_place(now, source, destination, wire),
    }
}

/// Node `from` seals `packet` in `buf` and node `to` opens it where it lies: what `to`
/// delivered, with its range from the buffer's start.
fn deliver(
    net: &mut Net,
    from: usize,
    to: usize,
    buf: &mut Vec<u8>,
    packet: &[u8],
) -> Option<Delivered> {
    let (sealed, transmit) = seal(net, from, buf, packet);
    let delivered = open(net, to, transmit, &mut buf[sealed.clone()]).unwrap()?;
    Some(Delivered {
        packet: sealed.start + delivered.packet.start..sealed.start + delivered.packet.end,
        ..delivered
    })
}

/// Every mode and encapsulation, seal and open in place: the inner packet (its payload in
/// transport mode) arrives as it was sent, with the SA and IKE SA that carried it.
#[test]
fn packets_sealed_and_opened_in_the_callers_buffers_arrive_whole() {
    let _serial = serial();
    for (mode, encap) in [
        (Mode::Tunnel, false),
        (Mode::Tunnel, true),
        (Mode::Transport, false),
        (Mode::Transport, true),
    ] {
        for esp in ["aes256gcm16", "aes128-sha256", "chacha20poly1305"] {
            let setup = Setup { mode, encap, esp };
            let (mut net, a, b) = pair(setup);
            let child_b = net.nodes[b].endpoint.child_sas(net.now)[0].clone();
            let mut buf = Vec::new();
            for size in [0, 1, 63, 1400] {
                let packet = inner(setup, &vec![0x5a; size]);
                let (sealed, transmit) = seal(&mut net, a, &mut buf, &packet);
                match (encap, transmit) {
                    (true, Transmit::Udp(path)) => {
                        assert_eq!(path.remote.ip(), IpAddr::from(GW_B));
                    }
                    (
                        false,
                        Transmit::Esp {
                            source,
                            destination,
                        },
                    ) => {
                        assert_eq!((source, destination), (GW_A.into(), GW_B.into()));
                    }
                    (_, other) => panic!("sent as {other:?}"),
                }
                let wire = buf[sealed.clone()].to_vec();
                let opened = open(&mut net, b, transmit, &mut buf[sealed.clone()])
                    .unwrap()
                    .unwrap();
                let got =
                    &buf[sealed.start + opened.packet.start..sealed.start + opened.packet.end];
                let expected = match mode {
                    Mode::Tunnel => &packet[..],
                    Mode::Transport => &packet[20..],
                };
                assert_eq!(got, expected, "{esp} {mode:?} encap {encap} size {size}");
                assert_eq!(opened.inbound_spi, child_b.inbound_spi);
                assert_eq!(opened.peer, IpAddr::from(GW_A));
                assert_eq!(opened.transport, mode == Mode::Transport);
                assert_eq!(
                    opened.next_header,
                    if mode == Mode::Tunnel { 4 } else { 17 }
                );
                // A replay of the same bytes is refused.
                let mut again = wire.clone();
                assert!(open(&mut net, b, transmit, &mut again).is_err());
            }
        }
    }
}

/// The in-place calls make what the owned ones make: B opens A's owned-API packet in
/// place, and A's in-place packet through the owned API, and both deliver the same bytes.
#[test]
fn in_place_and_owned_calls_interwork() {
    let _serial = serial();
    let setup = PLAIN_TUNNEL;
    let (mut net, a, b) = pair(setup);
    let packet = inner(setup, b"owned, then in place");
    // Owned out, in place in.
    let now = net.now;
    assert_eq!(net.nodes[a].endpoint.send(now, &packet), SendOutcome::Sent);
    let Some(ipsec::Output::Esp {
        source,
        destination,
        packet: wire,
    }) = net.nodes[a].endpoint.poll_output()
    else {
        panic!("no ESP output");
    };
    let mut wire = wire.to_vec();
    let opened = net.nodes[b]
        .endpoint
        .handle_esp_in_place(now, source, destination, &mut wire)
        .unwrap()
        .unwrap();
    assert_eq!(&wire[opened.packet], &packet[..]);
    // In place out, owned in.
    let mut buf = Vec::new();
    let range = lay(&mut buf, &packet);
    let SendInPlace::Sealed { packet: sealed, .. } =
        net.nodes[a].endpoint.send_in_place(now, &mut buf, range)
    else {
        panic!("not sealed");
    };
    net.nodes[b]
        .endpoint
        .handle_esp(now, GW_A.into(), GW_B.into(), &buf[sealed])
        .unwrap();
    let Some(ipsec::Output::Deliver { packet: got, .. }) = net.nodes[b].endpoint.poll_output()
    else {
        panic!("nothing delivered");
    };
    assert_eq!(&got[..], &packet[..]);
}

/// Too little room before or after the inner packet is said, with the room this SA needs,
/// and uses no sequence number: the next packet, with room, is the first B sees.
#[test]
fn a_buffer_without_room_is_refused_and_says_what_it_needs() {
    let _serial = serial();
    let setup = PLAIN_TUNNEL;
    let (mut net, a, b) = pair(setup);
    let packet = inner(setup, b"room");
    let now = net.now;
    // AES-GCM: SPI, sequence number and an 8-byte IV before; padding to 16 (the
    // endpoint's choice for AEADs), 2 trailer bytes and a 16-byte ICV after (RFC 4106 §3,
    // RFC 4303 §2.4).
    let tail = (16 - (packet.len() + 2) % 16) % 16 + 2 + 16;
    let mut tight = vec![0u8; 15 + packet.len() + tail];
    tight[15..15 + packet.len()].copy_from_slice(&packet);
    let outcome = net.nodes[a]
        .endpoint
        .send_in_place(now, &mut tight, 15..15 + packet.len());
    assert_eq!(
        outcome,
        SendInPlace::NoRoom {
            headroom: 16,
            tailroom: tail
        }
    );
    let mut short = vec![0u8; 16 + packet.len() + tail - 1];
    short[16..16 + packet.len()].copy_from_slice(&packet);
    let outcome = net.nodes[a]
        .endpoint
        .send_in_place(now, &mut short, 16..16 + packet.len());
    assert!(matches!(outcome, SendInPlace::NoRoom { .. }));
    let mut exact = vec![0u8; 16 + packet.len() + tail];
    exact[16..16 + packet.len()].copy_from_slice(&packet);
    let SendInPlace::Sealed { packet: sealed, .. } =
        net.nodes[a]
            .endpoint
            .send_in_place(now, &mut exact, 16..16 + packet.len())
    else {
        panic!("not sealed");
    };
    assert_eq!(sealed, 0..exact.len());
    // Sequence number 1: nothing was used by the refusals.
    assert_eq!(&exact[4..8], &1u32.to_be_bytes());
    let transmit = Transmit::Esp {
        source: GW_A.into(),
        destination: GW_B.into(),
    };
    let opened = open(&mut net, b, transmit, &mut exact).unwrap().unwrap();
    assert_eq!(&exact[opened.packet], &packet[..]);
}

/// A packet no policy protects, or that is not IP, is not sealed, and says why.
#[test]
fn packets_the_policy_does_not_protect_are_not_sealed() {
    let _serial = serial();
    let setup = PLAIN_TUNNEL;
    let (mut net, a, _) = pair(setup);
    let now = net.now;
    let elsewhere = udp_packet(HOST_A, Ipv4Addr::new(10, 9, 0, 1), b"no policy");
    let mut buf = Vec::new();
    let range = lay(&mut buf, &elsewhere);
    assert_eq!(
        net.nodes[a].endpoint.send_in_place(now, &mut buf, range),
        SendInPlace::NotSealed(SendOutcome::Discarded)
    );
    let mut garbage = vec![0xffu8; 64];
    assert_eq!(
        net.nodes[a]
            .endpoint
            .send_in_place(now, &mut garbage, 24..40),
        SendInPlace::NotSealed(SendOutcome::Discarded)
    );
    // A range outside the buffer is refused, not a panic.
    assert_eq!(
        net.nodes[a]
            .endpoint
            .send_in_place(now, &mut garbage, 60..80),
        SendInPlace::NotSealed(SendOutcome::Discarded)
    );
}

/// Steady-state traffic through the in-place calls allocates nothing: 2,000 packets each
/// way, at 64 and 1400 bytes, sealed and opened in two reused buffers, in tunnel mode with
/// raw ESP and with ESP in UDP.
#[test]
fn steady_state_traffic_allocates_nothing() {
    let _serial = serial();
    for encap in [false, true] {
        let setup = Setup {
            mode: Mode::Tunnel,
            encap,
            esp: "aes256gcm16",
        };
        let (mut net, a, b) = pair(setup);
        let small = inner(setup, &[1; 36]);
        let large = inner(setup, &[2; 1372]);
        let back = udp_packet(HOST_B, HOST_A, &[3; 1372]);
        let mut buf = Vec::with_capacity(2048);
        // Warm up: the first packet on a new SA activates it.
        deliver(&mut net, a, b, &mut buf, &small).unwrap();
        deliver(&mut net, b, a, &mut buf, &back).unwrap();
        let region = Region::new(HEAP);
        for i in 0..1000 {
            let packet = if i % 2 == 0 { &small } else { &large };
            let there = deliver(&mut net, a, b, &mut buf, packet).unwrap();
            assert_eq!(&buf[there.packet], &packet[..]);
            let again = deliver(&mut net, b, a, &mut buf, &back).unwrap();
            assert_eq!(&buf[again.packet], &back[..]);
        }
        let change = region.change();
        assert_eq!(
            (change.allocations, change.reallocations),
            (0, 0),
            "encap {encap}: {change:?}"
        );
    }
}

/// A peer behind a NAT whose port changes (RFC 7296 §2.23): once an authentic IKE message
/// arrives from the new port, the ESP in UDP sealed for it goes there (RFC 3948).
#[test]
fn sealed_packets_follow_a_peer_that_moved() {
    let _serial = serial();
    // A forces UDP encapsulation, so B takes A to be behind a NAT and follows it.
    let setup = Setup {
        encap: true,
        ..PLAIN_TUNNEL
    };
    let (mut net, a, b) = pair(setup);
    let now = net.now;
    let handle = net.nodes[a].endpoint.ike_sas(now)[0].handle;
    net.nodes[a].endpoint.check_liveness(now, handle).unwrap();
    let Some(ipsec::Output::Udp { path, payload }) = net.nodes[a].endpoint.poll_output() else {
        panic!("no liveness check sent");
    };
    // As B sees it: from A's address, a new port.
    let moved = ipsec::Path {
        local: path.remote,
        remote: std::net::SocketAddr::new(path.local.ip(), 31_000),
    };
    net.nodes[b]
        .endpoint
        .handle_udp(now, moved, &payload)
        .unwrap();
    let mut buf = Vec::new();
    let (_, transmit) = seal(&mut net, b, &mut buf, &udp_packet(HOST_B, HOST_A, b"back"));
    assert_eq!(transmit, Transmit::Udp(moved));
    // The owned call goes there too.
    while net.nodes[b].endpoint.poll_output().is_some() {}
    assert_eq!(
        net.nodes[b]
            .endpoint
            .send(now, &udp_packet(HOST_B, HOST_A, b"again")),
        SendOutcome::Sent
    );
    assert!(matches!(
        net.nodes[b].endpoint.poll_output(),
        Some(ipsec::Output::Udp { path, .. }) if path == moved
    ));
}
