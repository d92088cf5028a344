//! The SAD with real ESP SAs: install, seal, open, the selector check, every drop reason
//! counted, lifetimes by bytes, packets, time and sequence numbers, handles and scale.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use ipsec_crypto::{RUST_CRYPTO, SeededRandom, iana};
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_replay::ReplayWindow;
use ipsec_sad::{
    AddrRange, DropKind, DropReason, Lifetime, LimitKind, Limits, MalformedCause, Mode,
    OutboundHandle, OutboundProtocolSa, OuterAddresses, PortRange, SaConfig, SaId, Sad, SadError,
    SadEvent, SealError, Selector,
};
use proptest::prelude::*;

const SPI: u32 = 0x1234_5678;

fn tunnel_selectors() -> Vec<Selector> {
    vec![Selector::addresses(
        AddrRange::prefix(v4("10.0.1.0"), 24).unwrap(),
        AddrRange::prefix(v4("10.0.0.0"), 24).unwrap(),
    )]
}

/// An SAD holding both halves of one SA with `SPI`: what is sealed can be opened.
fn loopback(mode: Mode, selectors: Vec<Selector>, lifetime: Lifetime) -> (Sad, OutboundHandle) {
    let mut sad = Sad::new();
    let config = SaConfig::new(mode, selectors, lifetime);
    let handle = sad.install_outbound(outbound(SPI), config.clone()).unwrap();
    sad.install_inbound(SPI, inbound(SPI), config).unwrap();
    (sad, handle)
}

/// An inner packet the tunnel selectors admit: 10.0.0.5:4000 -> 10.0.1.7:53 over UDP.
fn inner_ok() -> Vec<u8> {
    ipv4_packet([10, 0, 0, 5], [10, 0, 1, 7], 17, &udp(4000, 53, b"query"))
}

fn events(sad: &mut Sad) -> Vec<SadEvent> {
    std::iter::from_fn(|| sad.poll_event()).collect()
}

fn outer() -> OuterAddresses {
    OuterAddresses {
        source: v4("192.0.2.2"),
        destination: v4("192.0.2.1"),
    }
}

#[test]
fn tunnel_packet_round_trips_through_the_sad() {
    let now = start();
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), Lifetime::UNLIMITED);
    let inner = inner_ok();
    let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    assert_eq!(&packet[..4], &SPI.to_be_bytes());
    let opened = sad.open(now, &mut packet).unwrap();
    assert_eq!(opened.spi, SPI);
    assert_eq!(opened.payload, &inner[..]);
    assert_eq!(opened.next_header, 4);
    assert_eq!(opened.sequence_number, 1);
    assert_eq!(opened.mode, Mode::Tunnel);
    let flow = opened.flow.unwrap();
    assert_eq!(flow.source, v4("10.0.0.5"));
    assert_eq!(flow.protocol, 17);

    let stats = *sad.inbound(SPI).unwrap().stats();
    assert_eq!((stats.packets, stats.bytes), (1, inner.len() as u64));
    let stats = *sad.outbound(handle).unwrap().stats();
    assert_eq!((stats.packets, stats.bytes), (1, inner.len() as u64));
    assert_eq!(sad.drops().total(), 0);
    assert!(events(&mut sad).is_empty());
}

#[test]
fn tfc_padding_is_cut_from_the_inner_packet() {
    let now = start();
    let mut sad = Sad::new();
    let config = SaConfig::new(Mode::Tunnel, tunnel_selectors(), Lifetime::UNLIMITED);
    let handle = sad.install_outbound(outbound(SPI), config.clone()).unwrap();
    sad.install_inbound(SPI, inbound(SPI), config).unwrap();
    if let Some(OutboundProtocolSa::Esp(sa)) = sad.outbound_sa_mut(handle) {
        sa.set_tfc_padding(300);
    }
    let inner = inner_ok();
    let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    assert!(packet.len() > 300);
    let opened = sad.open(now, &mut packet).unwrap();
    assert_eq!(opened.payload, &inner[..]);
}

#[test]
fn ipv6_tunnel_packet_opens() {
    let now = start();
    let selectors = vec![Selector::addresses(
        AddrRange::prefix(v6("2001:db8:1::"), 48).unwrap(),
        AddrRange::prefix(v6("2001:db8:2::"), 48).unwrap(),
    )];
    let (mut sad, handle) = loopback(Mode::Tunnel, selectors, Lifetime::UNLIMITED);
    let inner = ipv6_packet(
        "2001:db8:2::5".parse().unwrap(),
        "2001:db8:1::7".parse().unwrap(),
        17,
        &udp(1, 2, b"v6"),
    );
    let mut packet = seal(&mut sad, now, handle, &inner, 41).unwrap();
    assert_eq!(sad.open(now, &mut packet).unwrap().payload, &inner[..]);
}

#[test]
fn transport_mode_checks_outer_addresses_and_ports() {
    let now = start();
    let selectors = vec![
        Selector::addresses(
            AddrRange::single(v4("192.0.2.1")),
            AddrRange::single(v4("192.0.2.2")),
        )
        .with_protocol(17)
        .with_ports(PortRange::single(500), PortRange::ANY),
    ];
    let (mut sad, handle) = loopback(Mode::Transport, selectors, Lifetime::UNLIMITED);
    let datagram = udp(7000, 500, b"hello");

    let mut packet = seal(&mut sad, now, handle, &datagram, 17).unwrap();
    let opened = sad.open_with_outer(now, outer(), &mut packet).unwrap();
    assert_eq!(opened.payload, &datagram[..]);
    assert_eq!(opened.mode, Mode::Transport);

    // Without the outer header the check cannot be made: it fails closed.
    let mut packet = seal(&mut sad, now, handle, &datagram, 17).unwrap();
    assert_eq!(
        sad.open(now, &mut packet),
        Err(DropReason::SelectorMismatch { spi: SPI })
    );

    // From another address.
    let mut packet = seal(&mut sad, now, handle, &datagram, 17).unwrap();
    let elsewhere = OuterAddresses {
        source: v4("192.0.2.99"),
        ..outer()
    };
    assert_eq!(
        sad.open_with_outer(now, elsewhere, &mut packet),
        Err(DropReason::SelectorMismatch { spi: SPI })
    );

    // To another port, and another protocol.
    let mut packet = seal(&mut sad, now, handle, &udp(7000, 501, b"x"), 17).unwrap();
    assert!(sad.open_with_outer(now, outer(), &mut packet).is_err());
    let mut packet = seal(&mut sad, now, handle, &udp(7000, 500, b"x"), 6).unwrap();
    assert!(sad.open_with_outer(now, outer(), &mut packet).is_err());

    assert_eq!(sad.drops().get(DropKind::SelectorMismatch), 4);
    assert_eq!(
        sad.inbound(SPI)
            .unwrap()
            .stats()
            .drops
            .get(DropKind::SelectorMismatch),
        4
    );
}

#[test]
fn inner_addresses_outside_the_selectors_are_dropped_and_wiped() {
    let now = start();
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), Lifetime::UNLIMITED);
    // The source is outside the remote range 10.0.0.0/24.
    let inner = ipv4_packet([10, 9, 9, 9], [10, 0, 1, 7], 17, &udp(1, 2, b"secret"));
    let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    assert_eq!(
        sad.open(now, &mut packet),
        Err(DropReason::SelectorMismatch { spi: SPI })
    );
    assert!(
        !packet.windows(6).any(|w| w == b"secret"),
        "plaintext left in the buffer"
    );
    // The destination outside the local range.
    let inner = ipv4_packet([10, 0, 0, 5], [10, 0, 2, 7], 17, &udp(1, 2, b"x"));
    let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    assert!(matches!(
        sad.open(now, &mut packet),
        Err(DropReason::SelectorMismatch { .. })
    ));
    // Not an IP packet at all, in a tunnel.
    let mut packet = seal(&mut sad, now, handle, &udp(1, 2, b"x"), 17).unwrap();
    assert!(matches!(
        sad.open(now, &mut packet),
        Err(DropReason::SelectorMismatch { .. })
    ));
    // Next Header says IPv6 but the packet is IPv4: malformed.
    let mut packet = seal(&mut sad, now, handle, &inner_ok(), 41).unwrap();
    assert!(matches!(
        sad.open(now, &mut packet),
        Err(DropReason::Malformed {
            cause: MalformedCause::Inner(_),
            ..
        })
    ));
    // The key was used for each of them: they count toward the lifetime.
    assert_eq!(sad.inbound(SPI).unwrap().stats().packets, 4);
}

#[test]
fn an_empty_selector_list_admits_nothing() {
    let now = start();
    let (mut sad, handle) = loopback(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
    let mut packet = seal(&mut sad, now, handle, &inner_ok(), 4).unwrap();
    assert!(matches!(
        sad.open(now, &mut packet),
        Err(DropReason::SelectorMismatch { .. })
    ));
}

#[test]
fn dummy_packets_open_without_a_selector_check() {
    let now = start();
    let (mut sad, handle) = loopback(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
    let mut packet = seal(&mut sad, now, handle, &[0u8; 40], 59).unwrap();
    let opened = sad.open(now, &mut packet).unwrap();
    assert!(opened.is_dummy());
    assert_eq!(opened.flow, None);
    assert_eq!(sad.inbound(SPI).unwrap().stats().packets, 1);
}

/// Builds an ENCR_NULL + HMAC packet whose padding is wrong but whose ICV is right.
fn authentic_packet_with_bad_padding(spi: u32, key: &[u8; 32]) -> Vec<u8> {
    let out = OutboundSa::new(spi, false, null_sha256(key));
    // 5 payload bytes + 2 of trailer: one byte of padding to reach a multiple of 4.
    let payload = b"hello";
    let header = out.header_len();
    let mut buf = vec![0u8; out.packet_len(payload.len())];
    buf[header..header + 5].copy_from_slice(payload);
    let len = out.seal(&mut buf, 5, 17).unwrap();
    buf.truncate(len);
    assert_eq!(buf[header + 5], 1, "the default first padding byte");
    buf[header + 5] = 9;
    let integrity = RUST_CRYPTO
        .integrity(iana::AUTH_HMAC_SHA2_256_128)
        .unwrap()
        .new_key(key)
        .unwrap();
    let icv_at = len - 16;
    let (body, icv) = buf.split_at_mut(icv_at);
    integrity.compute(&[body], icv).unwrap();
    buf
}

#[test]
fn every_drop_reason_is_counted_per_sa_and_overall() {
    let now = start();
    let lifetime = Lifetime {
        hard: Limits {
            time: Some(now + Duration::from_secs(1)),
            ..Limits::NONE
        },
        ..Lifetime::UNLIMITED
    };
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), lifetime);
    let inner = inner_ok();

    // Unknown SPI.
    let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    packet[..4].copy_from_slice(&0x9999_9999u32.to_be_bytes());
    assert_eq!(
        sad.open(now, &mut packet),
        Err(DropReason::UnknownSpi { spi: 0x9999_9999 })
    );

    // Malformed: too short for an SPI (no SA), and too short for IV and ICV.
    assert!(matches!(
        sad.open(now, &mut [1, 2, 3]),
        Err(DropReason::Malformed {
            spi: None,
            cause: MalformedCause::TooShort { len: 3 }
        })
    ));
    let mut short = SPI.to_be_bytes().to_vec();
    short.extend_from_slice(&[0, 0, 0, 1, 0, 0]);
    assert!(matches!(
        sad.open(now, &mut short),
        Err(DropReason::Malformed {
            spi: Some(SPI),
            cause: MalformedCause::Esp(_)
        })
    ));

    // Replayed: the same packet twice.
    let packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    sad.open(now, &mut packet.clone()).unwrap();
    assert!(matches!(
        sad.open(now, &mut packet.clone()),
        Err(DropReason::Replayed { spi: SPI, .. })
    ));

    // Too old: left of the 64-packet window.
    let old = seal(&mut sad, now, handle, &inner, 4).unwrap();
    let mut newest = Vec::new();
    for _ in 0..70 {
        newest = seal(&mut sad, now, handle, &inner, 4).unwrap();
    }
    sad.open(now, &mut newest).unwrap();
    assert!(matches!(
        sad.open(now, &mut old.clone()),
        Err(DropReason::TooOld { spi: SPI, .. })
    ));

    // ICV mismatch: a flipped ciphertext bit.
    let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
    packet[20] ^= 1;
    assert_eq!(
        sad.open(now, &mut packet),
        Err(DropReason::IcvMismatch { spi: SPI })
    );

    // Selector mismatch.
    let stray = ipv4_packet([10, 9, 9, 9], [10, 0, 1, 7], 17, &udp(1, 2, b"x"));
    let mut packet = seal(&mut sad, now, handle, &stray, 4).unwrap();
    assert_eq!(
        sad.open(now, &mut packet),
        Err(DropReason::SelectorMismatch { spi: SPI })
    );

    // Expired: a packet that arrives after the hard deadline.
    let mut late = seal(&mut sad, now, handle, &inner, 4).unwrap();
    assert_eq!(
        sad.open(now + Duration::from_secs(2), &mut late),
        Err(DropReason::Expired { spi: SPI })
    );

    // Bad padding, on an ENCR_NULL SA of its own.
    let key = [0x11u8; 32];
    let null_spi = 0x0000_4444;
    sad.install_inbound(
        null_spi,
        InboundSa::new(
            null_spi,
            ReplayWindow::new(64, false).unwrap(),
            null_sha256(&key),
        ),
        SaConfig::new(Mode::Transport, vec![Selector::ANY], Lifetime::UNLIMITED),
    )
    .unwrap();
    let mut bad = authentic_packet_with_bad_padding(null_spi, &key);
    assert_eq!(
        sad.open_with_outer(now, outer(), &mut bad),
        Err(DropReason::BadPadding { spi: null_spi })
    );

    let global = *sad.drops();
    for kind in DropKind::ALL {
        let expected = match kind {
            DropKind::Malformed => 2,
            _ => 1,
        };
        assert_eq!(global.get(kind), expected, "global {}", kind.name());
    }
    assert_eq!(global.total(), 9);
    let per_sa = sad.inbound(SPI).unwrap().stats().drops;
    for (kind, count) in per_sa.iter() {
        let expected = match kind {
            DropKind::UnknownSpi | DropKind::BadPadding => 0,
            _ => 1,
        };
        assert_eq!(count, expected, "SA {}", kind.name());
    }
    assert_eq!(
        sad.inbound(null_spi)
            .unwrap()
            .stats()
            .drops
            .get(DropKind::BadPadding),
        1
    );
}

#[test]
fn drop_reasons_display_and_report_their_spi() {
    let reason = DropReason::IcvMismatch { spi: 0x1000 };
    assert_eq!(reason.spi(), Some(0x1000));
    assert_eq!(reason.kind(), DropKind::IcvMismatch);
    assert!(reason.to_string().contains("ICV"));
    assert_eq!(DropReason::UnknownSpi { spi: 7 }.spi(), Some(7));
}

#[test]
fn install_refuses_duplicates_reserved_and_mismatched_spis() {
    let mut sad = Sad::new();
    let config = SaConfig::new(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
    sad.install_inbound(SPI, inbound(SPI), config.clone())
        .unwrap();
    assert_eq!(
        sad.install_inbound(SPI, inbound(SPI), config.clone()),
        Err(SadError::DuplicateSpi { spi: SPI })
    );
    assert_eq!(
        sad.install_inbound(200, inbound(200), config.clone()),
        Err(SadError::ReservedSpi { spi: 200 })
    );
    assert_eq!(
        sad.install_inbound(SPI + 1, inbound(SPI + 2), config.clone()),
        Err(SadError::SpiMismatch {
            given: SPI + 1,
            sa: SPI + 2
        })
    );
    assert_eq!(
        sad.install_outbound(outbound(0), config),
        Err(SadError::ReservedSpi { spi: 0 })
    );
    assert_eq!(sad.inbound_len(), 1);
    assert_eq!(sad.outbound_len(), 0);
}

#[test]
fn removed_sas_are_gone_and_stale_handles_find_nothing() {
    let now = start();
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), Lifetime::UNLIMITED);
    let mut packet = seal(&mut sad, now, handle, &inner_ok(), 4).unwrap();
    let stats = sad.remove_inbound(SPI).unwrap();
    assert_eq!(stats.packets, 0);
    assert_eq!(sad.remove_inbound(SPI), None);
    assert_eq!(
        sad.open(now, &mut packet),
        Err(DropReason::UnknownSpi { spi: SPI })
    );

    assert_eq!(sad.remove_outbound(handle).unwrap().packets, 1);
    assert_eq!(sad.remove_outbound(handle), None);
    assert_eq!(
        seal(&mut sad, now, handle, b"x", 4),
        Err(SealError::UnknownHandle(handle))
    );
    // The slot is reused under a new generation: the old handle still finds nothing.
    let config = SaConfig::new(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
    let new = sad.install_outbound(outbound(SPI), config).unwrap();
    assert_eq!(new.index(), handle.index());
    assert_ne!(new, handle);
    assert!(sad.outbound(handle).is_none());
    assert!(sad.outbound(new).is_some());
    assert_eq!(sad.outbound(new).unwrap().handle(), Some(new));
    assert_eq!(sad.outbound_entries().count(), 1);
    assert_eq!(sad.inbound_entries().count(), 0);
}

#[test]
fn allocate_spi_avoids_reserved_and_used_spis() {
    let mut sad = Sad::new();
    let mut random = SeededRandom::from_u64(7);
    let config = SaConfig::new(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
    for _ in 0..100 {
        let spi = sad.allocate_spi(&mut random).unwrap();
        assert!(spi > 255);
        sad.install_inbound(spi, inbound(spi), config.clone())
            .unwrap();
    }
    assert_eq!(sad.inbound_len(), 100);
}

fn volume_lifetime(soft: Limits, hard: Limits) -> Lifetime {
    Lifetime {
        soft,
        hard,
        ..Lifetime::UNLIMITED
    }
}

#[test]
fn packet_limits_rekey_then_expire_both_directions() {
    let now = start();
    let lifetime = volume_lifetime(
        Limits {
            packets: Some(3),
            ..Limits::NONE
        },
        Limits {
            packets: Some(5),
            ..Limits::NONE
        },
    );
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), lifetime);
    let inner = inner_ok();
    for n in 1..=5u64 {
        let mut packet = seal(&mut sad, now, handle, &inner, 4).unwrap();
        sad.open(now, &mut packet).unwrap();
        let got = events(&mut sad);
        match n {
            3 => assert_eq!(
                got,
                vec![
                    SadEvent::RekeyNeeded {
                        sa: SaId::Outbound { handle, spi: SPI },
                        limit: LimitKind::Packets
                    },
                    SadEvent::RekeyNeeded {
                        sa: SaId::Inbound { spi: SPI },
                        limit: LimitKind::Packets
                    },
                ]
            ),
            5 => assert_eq!(
                got,
                vec![
                    SadEvent::Expired {
                        sa: SaId::Outbound { handle, spi: SPI },
                        limit: LimitKind::Packets
                    },
                    SadEvent::Expired {
                        sa: SaId::Inbound { spi: SPI },
                        limit: LimitKind::Packets
                    },
                ]
            ),
            _ => assert!(got.is_empty(), "packet {n}: {got:?}"),
        }
    }
    assert_eq!(
        seal(&mut sad, now, handle, &inner, 4),
        Err(SealError::Expired { handle })
    );
    let entry = sad.inbound(SPI).unwrap();
    assert_eq!(entry.expired(), Some(LimitKind::Packets));
    assert!(entry.rekey_requested());
    assert!(entry.sa().is_none(), "keys are dropped at expiry");
    assert_eq!(entry.stats().packets, 5);
    assert!(sad.outbound(handle).unwrap().sa().is_none());
    assert!(events(&mut sad).is_empty(), "each event once");
}

#[test]
fn byte_limits_rekey_then_expire() {
    let now = start();
    let inner = inner_ok();
    let len = inner.len() as u64;
    let lifetime = volume_lifetime(
        Limits {
            bytes: Some(2 * len),
            ..Limits::NONE
        },
        Limits {
            bytes: Some(3 * len + 1),
            ..Limits::NONE
        },
    );
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), lifetime);
    let mut sealed = Vec::new();
    for _ in 0..4 {
        sealed.push(seal(&mut sad, now, handle, &inner, 4).unwrap());
    }
    // The fourth packet crossed 3 * len + 1: the SA expired after it.
    assert_eq!(
        seal(&mut sad, now, handle, &inner, 4),
        Err(SealError::Expired { handle })
    );
    assert_eq!(
        events(&mut sad),
        vec![
            SadEvent::RekeyNeeded {
                sa: SaId::Outbound { handle, spi: SPI },
                limit: LimitKind::Bytes
            },
            SadEvent::Expired {
                sa: SaId::Outbound { handle, spi: SPI },
                limit: LimitKind::Bytes
            },
        ]
    );
    for (i, packet) in sealed.iter_mut().enumerate() {
        let result = sad.open(now, packet);
        assert!(result.is_ok(), "packet {i}: {result:?}");
    }
    assert_eq!(
        events(&mut sad),
        vec![
            SadEvent::RekeyNeeded {
                sa: SaId::Inbound { spi: SPI },
                limit: LimitKind::Bytes
            },
            SadEvent::Expired {
                sa: SaId::Inbound { spi: SPI },
                limit: LimitKind::Bytes
            },
        ]
    );
    let mut again = sealed[0].clone();
    assert_eq!(
        sad.open(now, &mut again),
        Err(DropReason::Expired { spi: SPI })
    );
    assert_eq!(sad.drops().get(DropKind::Expired), 1);
}

#[test]
fn time_limits_fire_from_handle_timeout() {
    let start = start();
    let soft = start + Duration::from_secs(100);
    let hard = start + Duration::from_secs(120);
    let lifetime = Lifetime {
        soft: Limits {
            time: Some(soft),
            ..Limits::NONE
        },
        hard: Limits {
            time: Some(hard),
            ..Limits::NONE
        },
        ..Lifetime::UNLIMITED
    };
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), lifetime);
    assert_eq!(sad.poll_timeout(), Some(soft));
    sad.handle_timeout(start + Duration::from_secs(99));
    assert!(events(&mut sad).is_empty());

    sad.handle_timeout(soft);
    let got = events(&mut sad);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|e| matches!(
        e,
        SadEvent::RekeyNeeded {
            limit: LimitKind::Time,
            ..
        }
    )));
    assert_eq!(sad.poll_timeout(), Some(hard));
    // Still usable between the soft and the hard limit.
    let mut packet = seal(&mut sad, soft, handle, &inner_ok(), 4).unwrap();
    sad.open(soft, &mut packet).unwrap();

    sad.handle_timeout(hard + Duration::from_secs(1));
    let got = events(&mut sad);
    assert_eq!(
        got,
        vec![
            SadEvent::Expired {
                sa: SaId::Inbound { spi: SPI },
                limit: LimitKind::Time
            },
            SadEvent::Expired {
                sa: SaId::Outbound { handle, spi: SPI },
                limit: LimitKind::Time
            },
        ]
    );
    assert_eq!(sad.poll_timeout(), None);
    assert_eq!(
        seal(&mut sad, hard, handle, &inner_ok(), 4),
        Err(SealError::Expired { handle })
    );
    assert_eq!(
        sad.open(hard, &mut packet),
        Err(DropReason::Expired { spi: SPI })
    );
}

#[test]
fn time_limits_apply_on_the_packet_path_before_the_timer() {
    let start = start();
    let soft = start + Duration::from_secs(10);
    let hard = start + Duration::from_secs(20);
    let lifetime = Lifetime {
        soft: Limits {
            time: Some(soft),
            ..Limits::NONE
        },
        hard: Limits {
            time: Some(hard),
            ..Limits::NONE
        },
        ..Lifetime::UNLIMITED
    };
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), lifetime);
    let mut early = seal(&mut sad, start, handle, &inner_ok(), 4).unwrap();
    let mut packet = seal(&mut sad, soft, handle, &inner_ok(), 4).unwrap();
    assert_eq!(
        events(&mut sad),
        vec![SadEvent::RekeyNeeded {
            sa: SaId::Outbound { handle, spi: SPI },
            limit: LimitKind::Time
        }]
    );
    sad.open(soft, &mut packet).unwrap();
    assert_eq!(events(&mut sad).len(), 1);
    // Both soft deadlines were taken by packets: only the hard ones are left.
    assert_eq!(sad.poll_timeout(), Some(hard));
    assert_eq!(
        sad.open(hard, &mut early),
        Err(DropReason::Expired { spi: SPI })
    );
    assert_eq!(
        events(&mut sad),
        vec![SadEvent::Expired {
            sa: SaId::Inbound { spi: SPI },
            limit: LimitKind::Time
        }]
    );
    // The outbound one's timer is still due.
    assert_eq!(sad.poll_timeout(), Some(hard));
    sad.handle_timeout(hard);
    assert_eq!(events(&mut sad).len(), 1);
    assert_eq!(sad.poll_timeout(), None);
}

#[test]
fn removing_an_sa_cancels_its_deadlines() {
    let start = start();
    let lifetime = Lifetime {
        hard: Limits {
            time: Some(start + Duration::from_secs(5)),
            ..Limits::NONE
        },
        ..Lifetime::UNLIMITED
    };
    let (mut sad, handle) = loopback(Mode::Tunnel, Vec::new(), lifetime);
    assert!(sad.poll_timeout().is_some());
    sad.remove_inbound(SPI);
    sad.remove_outbound(handle);
    assert_eq!(sad.poll_timeout(), None);
    sad.handle_timeout(start + Duration::from_secs(10));
    assert!(events(&mut sad).is_empty());
}

#[test]
fn soft_volume_limit_cancels_the_soft_deadline() {
    let start = start();
    let lifetime = Lifetime {
        soft: Limits {
            packets: Some(1),
            time: Some(start + Duration::from_secs(5)),
            ..Limits::NONE
        },
        ..Lifetime::UNLIMITED
    };
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), lifetime);
    sad.remove_inbound(SPI);
    seal(&mut sad, start, handle, &inner_ok(), 4).unwrap();
    assert_eq!(events(&mut sad).len(), 1);
    assert_eq!(sad.poll_timeout(), None);
    assert!(sad.outbound(handle).unwrap().rekey_requested());
}

fn resumed_pair(last_seq: u64, margin: u64) -> (Sad, OutboundHandle) {
    let mut sad = Sad::new();
    let lifetime = Lifetime {
        sequence_margin: margin,
        ..Lifetime::UNLIMITED
    };
    let config = SaConfig::new(Mode::Tunnel, tunnel_selectors(), lifetime);
    let out = OutboundSa::resume(SPI, false, gcm(&GCM_KEYMAT), last_seq);
    let handle = sad.install_outbound(out, config.clone()).unwrap();
    sad.install_inbound(SPI, inbound(SPI), config).unwrap();
    (sad, handle)
}

#[test]
fn sequence_margin_is_soft_and_exhaustion_is_hard() {
    let now = start();
    let max = u64::from(u32::MAX);
    let (mut sad, handle) = resumed_pair(max - 10, 5);
    let id = SaId::Outbound { handle, spi: SPI };
    for n in 1..=10u64 {
        let mut packet = seal(&mut sad, now, handle, &inner_ok(), 4).unwrap();
        assert_eq!(
            sad.open(now, &mut packet).unwrap().sequence_number,
            max - 10 + n
        );
        let got = events(&mut sad);
        match n {
            // 5 numbers left after sending max - 5.
            5 => assert_eq!(
                got,
                vec![SadEvent::RekeyNeeded {
                    sa: id,
                    limit: LimitKind::SequenceNumber
                }]
            ),
            // The last number was sent: nothing more can be.
            10 => assert_eq!(
                got,
                vec![SadEvent::Expired {
                    sa: id,
                    limit: LimitKind::SequenceNumber
                }]
            ),
            _ => assert!(got.is_empty(), "packet {n}: {got:?}"),
        }
    }
    assert_eq!(
        seal(&mut sad, now, handle, &inner_ok(), 4),
        Err(SealError::Expired { handle })
    );
    assert_eq!(
        sad.outbound(handle).unwrap().expired(),
        Some(LimitKind::SequenceNumber)
    );
}

#[test]
fn an_sa_resumed_at_its_last_sequence_number_expires_on_first_use() {
    let now = start();
    let (mut sad, handle) = resumed_pair(u64::from(u32::MAX), 0);
    assert_eq!(
        seal(&mut sad, now, handle, &inner_ok(), 4),
        Err(SealError::Expired { handle })
    );
    assert_eq!(
        events(&mut sad),
        vec![SadEvent::Expired {
            sa: SaId::Outbound { handle, spi: SPI },
            limit: LimitKind::SequenceNumber
        }]
    );
}

#[test]
fn a_too_small_buffer_is_an_error_that_says_how_much() {
    let now = start();
    let (mut sad, handle) = loopback(Mode::Tunnel, tunnel_selectors(), Lifetime::UNLIMITED);
    let mut buf = [0u8; 10];
    assert!(matches!(
        sad.seal(now, handle, &mut buf, 5, 4),
        Err(SealError::Esp(ipsec_esp::SealError::BufferTooSmall { .. }))
    ));
    assert_eq!(sad.outbound(handle).unwrap().stats().packets, 0);
}

#[test]
fn lifetime_template_starts_at_install_time() {
    let now = start();
    let template = ipsec_sad::LifetimeTemplate {
        soft: ipsec_sad::LimitsTemplate {
            time: Some(Duration::from_secs(50)),
            bytes: Some(10),
            ..Default::default()
        },
        ..Default::default()
    };
    let lifetime = template.starting_at(now);
    assert_eq!(lifetime.soft.time, Some(now + Duration::from_secs(50)));
    assert_eq!(lifetime.soft.bytes, Some(10));
    assert_eq!(lifetime.hard, Limits::NONE);
}

/// A cheap-to-key inbound SA for the scale tests: AES-128-GCM with a per-SPI key.
fn scale_inbound(spi: u32) -> InboundSa {
    let mut keymat = [0u8; 20];
    keymat[..4].copy_from_slice(&spi.to_be_bytes());
    InboundSa::new(
        spi,
        ReplayWindow::new(32, false).unwrap(),
        EspTransform::aead(
            RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap(),
            &keymat,
        )
        .unwrap(),
    )
}

fn scale(count: u32) {
    let now = start();
    let mut sad = Sad::with_capacity(count as usize, 0);
    let config = SaConfig::new(Mode::Tunnel, tunnel_selectors(), Lifetime::UNLIMITED);
    // SPIs spread over the space as random ones would be.
    let spi_of = |i: u32| i.wrapping_mul(0x9e37_79b9) | 0x8000_0000;
    for i in 0..count {
        let spi = spi_of(i);
        sad.install_inbound(spi, scale_inbound(spi), config.clone())
            .unwrap();
    }
    assert_eq!(sad.inbound_len(), count as usize);
    for i in 0..count {
        assert_eq!(sad.inbound(spi_of(i)).map(|e| e.spi()), Some(spi_of(i)));
    }
    assert!(sad.inbound(0x0000_1000).is_none());

    // Packets for a sample of them open through the full table.
    let step = (count / 50).max(1);
    for i in (0..count).step_by(step as usize) {
        let spi = spi_of(i);
        let mut keymat = [0u8; 20];
        keymat[..4].copy_from_slice(&spi.to_be_bytes());
        let out = OutboundSa::new(
            spi,
            false,
            EspTransform::aead(
                RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap(),
                &keymat,
            )
            .unwrap(),
        );
        let inner = inner_ok();
        let mut buf = vec![0u8; out.packet_len(inner.len())];
        let header = out.header_len();
        buf[header..header + inner.len()].copy_from_slice(&inner);
        let len = out.seal(&mut buf, inner.len(), 4).unwrap();
        let opened = sad.open(now, &mut buf[..len]).unwrap();
        assert_eq!(opened.spi, spi);
    }
    let mut unknown = [0u8; 64];
    unknown[..4].copy_from_slice(&0x0000_1000u32.to_be_bytes());
    assert!(matches!(
        sad.open(now, &mut unknown),
        Err(DropReason::UnknownSpi { .. })
    ));
    // Removal at scale.
    for i in (0..count).step_by(2) {
        assert!(sad.remove_inbound(spi_of(i)).is_some());
    }
    assert_eq!(sad.inbound_len(), (count / 2) as usize);
}

/// A million keyed SAs: about 7 s and 1.4 GB in a debug build.
#[test]
fn a_million_sas_install_and_look_up() {
    scale(1_000_000);
}

#[test]
fn outbound_handles_index_a_slab_that_reuses_freed_slots() {
    let mut sad = Sad::new();
    let config = SaConfig::new(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
    let mut handles = Vec::new();
    for i in 0..2_000u32 {
        handles.push(
            sad.install_outbound(outbound(i + 1), config.clone())
                .unwrap(),
        );
    }
    for (i, handle) in handles.iter().enumerate() {
        assert_eq!(sad.outbound(*handle).unwrap().spi(), i as u32 + 1);
    }
    for handle in handles.iter().step_by(2) {
        sad.remove_outbound(*handle).unwrap();
    }
    for (i, handle) in handles.iter().enumerate() {
        assert_eq!(sad.outbound(*handle).is_some(), i % 2 == 1);
    }
    // Freed slots are reused before the table grows.
    let again = sad.install_outbound(outbound(9), config).unwrap();
    assert!(again.index() < handles.len());
}

proptest! {
    #[test]
    fn hostile_packets_are_dropped_and_counted_never_panicking(
        known_spi in any::<bool>(),
        body in proptest::collection::vec(any::<u8>(), 0..120),
        transport in any::<bool>(),
    ) {
        let now = start();
        let mode = if transport { Mode::Transport } else { Mode::Tunnel };
        let (mut sad, _) = loopback(mode, vec![Selector::ANY], Lifetime::UNLIMITED);
        let mut packet = if known_spi { SPI.to_be_bytes().to_vec() } else { Vec::new() };
        packet.extend_from_slice(&body);
        let result = sad.open_with_outer(now, outer(), &mut packet);
        prop_assert!(result.is_err());
        prop_assert_eq!(sad.drops().total(), 1);
    }
}
