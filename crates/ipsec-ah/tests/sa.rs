//! AH protection through an SA (RFC 4302 §3): round trips for every algorithm over IPv4 and
//! IPv6, transport and tunnel mode, with and without ESN; mutable fields changed in transit
//! still verify and immutable ones do not; every drop reason; hostile input.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{
    HOP_BY_HOP, V4_DST, algorithms, fix_ipv4_checksum, ipv4, ipv6, packet_for, pair, transform,
};
use ipsec_ah::{
    AUTH_AES_128_GMAC, AUTH_AES_256_GMAC, AhTransform, Error, GMAC_IV_LEN, InboundAhSa, IpVersion,
    Malformed, OpenError, Opened, OutboundAhSa, SealError, Unsupported,
};
use ipsec_crypto::{CryptoError, RUST_CRYPTO, iana};
use ipsec_replay::ReplayWindow;
use proptest::prelude::*;

const SPI: u32 = 0x0bad_cafe;

fn sha256() -> &'static dyn ipsec_crypto::IntegrityAlgorithm {
    RUST_CRYPTO.integrity(iana::AUTH_HMAC_SHA2_256_128).unwrap()
}

fn gmac128() -> &'static dyn ipsec_crypto::IntegrityAlgorithm {
    RUST_CRYPTO.integrity(AUTH_AES_128_GMAC).unwrap()
}

/// An IPv4 inner packet for tunnel mode.
fn inner_ipv4(payload: &[u8]) -> Vec<u8> {
    let (mut inner, _) = ipv4(&[], 0, payload);
    inner[9] = 17;
    fix_ipv4_checksum(&mut inner);
    inner
}

/// An IPv6 inner packet for tunnel mode.
fn inner_ipv6(payload: &[u8]) -> Vec<u8> {
    let (mut inner, _) = ipv6(17, &[], 0, payload);
    inner[6] = 17;
    inner
}

/// Seals `payload` in a fresh packet of `version`.
fn seal(sa: &mut OutboundAhSa, version: IpVersion, payload: &[u8], next_header: u8) -> Vec<u8> {
    let (mut packet, _) = packet_for(sa, version, payload);
    sa.seal(&mut packet, next_header).unwrap();
    if version == IpVersion::V4 {
        fix_ipv4_checksum(&mut packet);
    }
    packet
}

#[test]
fn header_lengths_follow_the_algorithm_and_the_ip_version() {
    // (ID, IPv4, IPv6): 12 + ICV (+ 8-byte IV for GMAC), padded to 4 or 8 octets
    // (RFC 4302 §2.6, §3.3.3.2.1; RFC 4543 §4).
    for (id, v4, v6) in [
        (iana::AUTH_HMAC_SHA2_256_128, 28, 32),
        (iana::AUTH_HMAC_SHA2_384_192, 36, 40),
        (iana::AUTH_HMAC_SHA2_512_256, 44, 48),
        (AUTH_AES_128_GMAC, 36, 40),
        (AUTH_AES_256_GMAC, 36, 40),
    ] {
        let algorithm = RUST_CRYPTO.integrity(id).unwrap();
        let (out, inbound) = pair(algorithm, SPI, false);
        assert_eq!(out.ah_header_len(IpVersion::V4), v4, "{id}");
        assert_eq!(out.ah_header_len(IpVersion::V6), v6, "{id}");
        assert_eq!(inbound.ah_header_len(IpVersion::V6), v6, "{id}");
        let gmac = id == AUTH_AES_128_GMAC || id == AUTH_AES_256_GMAC;
        assert_eq!(out.transform().is_gmac(), gmac);
        assert_eq!(out.transform().iv_len(), if gmac { GMAC_IV_LEN } else { 0 });
    }
}

#[test]
fn keying_material_lengths() {
    // RFC 4868 §2.1: full-length HMAC keys; RFC 4543 §5.4: AES key plus 4-byte salt.
    for (id, len) in [
        (iana::AUTH_HMAC_SHA2_256_128, 32),
        (iana::AUTH_HMAC_SHA2_384_192, 48),
        (iana::AUTH_HMAC_SHA2_512_256, 64),
        (AUTH_AES_128_GMAC, 20),
        (AUTH_AES_256_GMAC, 36),
    ] {
        let algorithm = RUST_CRYPTO.integrity(id).unwrap();
        assert_eq!(AhTransform::keymat_len(algorithm), len);
        assert_eq!(
            AhTransform::new(algorithm, &vec![1; len - 1]).unwrap_err(),
            CryptoError::KeyLength {
                expected: len,
                actual: len - 1
            }
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn every_algorithm_round_trips_in_every_mode(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..4),
        esn in any::<bool>(),
    ) {
        for algorithm in algorithms() {
            for version in [IpVersion::V4, IpVersion::V6] {
                for tunnel in [None, Some(IpVersion::V4), Some(IpVersion::V6)] {
                    let (mut out, mut inbound) = pair(algorithm, SPI, esn);
                    for (index, data) in payloads.iter().enumerate() {
                        let (payload, next_header) = match tunnel {
                            None => (data.clone(), 17),
                            Some(IpVersion::V4) => (inner_ipv4(data), 4),
                            Some(IpVersion::V6) => (inner_ipv6(data), 41),
                        };
                        let packet = seal(&mut out, version, &payload, next_header);
                        let opened = inbound.open(&packet).unwrap();
                        prop_assert_eq!(opened.next_header, next_header);
                        prop_assert_eq!(opened.sequence_number, index as u64 + 1);
                        prop_assert_eq!(opened.payload, &payload[..]);
                        let ah = opened.ah_offset;
                        prop_assert_eq!(ah % if version.is_ipv6() { 8 } else { 4 }, 0);
                        prop_assert_eq!(packet[ah], next_header);
                        prop_assert_eq!(&packet[ah + 4..ah + 8], &SPI.to_be_bytes());
                        prop_assert_eq!(&packet[ah + 8..ah + 12], &(index as u32 + 1).to_be_bytes());
                    }
                }
            }
        }
    }

    /// Whatever bytes arrive, `open` answers with a value, never a panic.
    #[test]
    fn random_packets_never_panic_open(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for algorithm in [sha256(), gmac128()] {
            let (_, mut inbound) = pair(algorithm, SPI, true);
            let _ = inbound.open(&bytes);
        }
    }

    /// Random bytes with a plausible IPv4 or IPv6 header, lengths right and AH named, so
    /// that the option and extension header walks and the AH checks see hostile input.
    #[test]
    fn plausible_packets_never_panic(
        v6 in any::<bool>(),
        mut bytes in prop::collection::vec(any::<u8>(), 40..160),
        spi_matches in any::<bool>(),
    ) {
        let len = bytes.len();
        if v6 {
            bytes[0] = 0x60;
            bytes[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
            bytes[6] = [0, 43, 51, 60][usize::from(bytes[6]) % 4];
        } else {
            bytes[0] = 0x40 | (5 + bytes[0] % 11).min(len as u8 / 4);
            bytes[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            bytes[6] &= 0x40;
            bytes[7] = 0;
            bytes[9] = 51;
        }
        if spi_matches && !v6 {
            let ihl = usize::from(bytes[0] & 0x0f) * 4;
            if let Some(spi) = bytes.get_mut(ihl + 4..ihl + 8) {
                spi.copy_from_slice(&SPI.to_be_bytes());
            }
        }
        for algorithm in algorithms() {
            let (mut out, mut inbound) = pair(algorithm, SPI, false);
            let mut packet = bytes.clone();
            let _ = inbound.open(&packet);
            let _ = out.seal(&mut packet, 6);
            let _ = inbound.open(&packet);
        }
    }

    /// A sealed packet with any one byte changed: never a panic, and accepted only if the
    /// byte is one the ICV does not cover.
    #[test]
    fn mutated_packets_never_panic(
        v6 in any::<bool>(),
        payload in prop::collection::vec(any::<u8>(), 0..64),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        let version = if v6 { IpVersion::V6 } else { IpVersion::V4 };
        for algorithm in algorithms() {
            let (mut out, mut inbound) = pair(algorithm, SPI, false);
            let packet = seal(&mut out, version, &payload, 17);
            let mut forged = packet.clone();
            let at = at.index(forged.len());
            forged[at] = value;
            if let Ok(opened) = inbound.open(&forged) {
                prop_assert_eq!(opened.payload, &payload[..]);
                let mutable = if v6 {
                    // Traffic class, flow label, hop limit, the 0x3e option's data.
                    matches!(at, 0..=3 | 7 | 44 | 45) && forged[0] >> 4 == 6
                } else {
                    // TOS, flags and offset (DF only), TTL, checksum.
                    matches!(at, 1 | 6 | 7 | 8 | 10 | 11)
                };
                prop_assert!(at_is_unchanged(&packet, &forged, at) || mutable, "byte {}", at);
            }
        }
    }
}

fn at_is_unchanged(a: &[u8], b: &[u8], at: usize) -> bool {
    a[at] == b[at]
}

#[test]
fn mutable_fields_changed_in_transit_still_verify() {
    for algorithm in algorithms() {
        // IPv4 (RFC 4302 §3.3.3.1.1.1): DSCP/ECN, Flags (DF and the reserved bit), TTL,
        // header checksum.
        let (mut out, mut inbound) = pair(algorithm, SPI, false);
        let mut packet = seal(&mut out, IpVersion::V4, b"payload", 17);
        packet[1] = 0xb9;
        packet[6] |= 0xc0;
        packet[8] = 1;
        fix_ipv4_checksum(&mut packet);
        assert!(inbound.open(&packet).is_ok(), "{:?}", algorithm.spec());

        // IPv6 (§3.3.3.1.2): traffic class, flow label, hop limit, and the data of the
        // Hop-by-Hop option whose "change en route" bit is set (§3.3.3.1.2.2).
        let (mut out, mut inbound) = pair(algorithm, SPI, false);
        let mut packet = seal(&mut out, IpVersion::V6, b"payload", 17);
        packet[0] = 0x6f;
        packet[1..4].copy_from_slice(&[0xff, 0xff, 0xff]);
        packet[7] = 3;
        packet[44..46].copy_from_slice(&[0x01, 0x02]);
        assert!(inbound.open(&packet).is_ok(), "{:?}", algorithm.spec());
    }
}

#[test]
fn immutable_fields_changed_in_transit_fail_the_icv() {
    for algorithm in algorithms() {
        let (mut out, _) = pair(algorithm, SPI, false);
        let v4 = seal(&mut out, IpVersion::V4, b"payload", 17);
        let v6 = seal(&mut out, IpVersion::V6, b"payload", 17);
        let ah4 = 20;
        let ah6 = 48;
        let changes: Vec<(&str, Vec<u8>, usize)> = vec![
            // IPv4 (§3.3.3.1.1.1): identification, source, destination, payload, AH fields.
            ("ipv4 identification", v4.clone(), 4),
            ("ipv4 source", v4.clone(), 12),
            ("ipv4 destination", v4.clone(), 19),
            ("ipv4 payload", v4.clone(), v4.len() - 1),
            ("ah next header", v4.clone(), ah4),
            ("ah reserved", v4.clone(), ah4 + 2),
            ("ah icv", v4.clone(), ah4 + 12 + out.transform().iv_len()),
            // IPv6 (§3.3.3.1.2): version, payload length covered through the packet's own
            // length, source, destination, the immutable option, extension header bytes.
            ("ipv6 source", v6.clone(), 8),
            ("ipv6 destination", v6.clone(), 39),
            ("ipv6 immutable option type", v6.clone(), 46),
            ("ipv6 mutable option type", v6.clone(), 42),
            ("ipv6 payload", v6.clone(), v6.len() - 1),
            ("ipv6 ah next header", v6.clone(), ah6),
        ];
        for (what, packet, at) in changes {
            let (_, mut inbound) = pair(algorithm, SPI, false);
            let mut forged = packet;
            forged[at] ^= 0x04;
            if forged[0] >> 4 == 4 {
                fix_ipv4_checksum(&mut forged);
            }
            assert_eq!(
                inbound.open(&forged),
                Err(OpenError::IcvMismatch),
                "{what}: {:?}",
                algorithm.spec()
            );
        }
    }
}

#[test]
fn gmac_carries_the_sequence_number_as_iv_and_authenticates_it() {
    let mut out = OutboundAhSa::resume(SPI, true, transform(gmac128(), 0x40), (7 << 32) + 1);
    let packet = seal(&mut out, IpVersion::V4, b"x", 17);
    // RFC 4543 §4: Next Header, Payload Len 7 (36 bytes), RESERVED, SPI, Sequence Number,
    // then the 8-byte IV, then the 16-byte tag.
    assert_eq!(&packet[20..24], &[17, 7, 0, 0]);
    assert_eq!(&packet[28..32], &2u32.to_be_bytes());
    assert_eq!(&packet[32..40], &((7u64 << 32) + 2).to_be_bytes());
    let mut window = ReplayWindow::new(64, true).unwrap();
    window.commit((7 << 32) + 1).unwrap();
    let mut inbound = InboundAhSa::new(SPI, window, transform(gmac128(), 0x40));
    let mut forged = packet.clone();
    forged[39] ^= 1;
    assert_eq!(inbound.open(&forged), Err(OpenError::IcvMismatch));
    assert_eq!(
        inbound.open(&packet).unwrap().sequence_number,
        (7 << 32) + 2
    );
}

#[test]
fn esn_high_bits_are_authenticated_but_not_sent() {
    for algorithm in algorithms() {
        let mut out = OutboundAhSa::resume(SPI, true, transform(algorithm, 1), (1 << 32) + 4);
        let packet = seal(&mut out, IpVersion::V6, b"x", 17);
        assert_eq!(&packet[48 + 8..48 + 12], &[0, 0, 0, 5]);
        let mut window = ReplayWindow::new(64, true).unwrap();
        window.commit((1 << 32) + 2).unwrap();
        let mut inbound = InboundAhSa::new(SPI, window, transform(algorithm, 1));
        assert_eq!(
            inbound.open(&packet).unwrap().sequence_number,
            (1 << 32) + 5
        );
        // A receiver that believes the high half is 0 computes another ICV.
        let packet = seal(&mut out, IpVersion::V6, b"y", 17);
        let mut wrong = InboundAhSa::new(
            SPI,
            ReplayWindow::new(64, true).unwrap(),
            transform(algorithm, 1),
        );
        assert_eq!(wrong.open(&packet), Err(OpenError::IcvMismatch));
        // Nor does a receiver without ESN accept it.
        let mut no_esn = InboundAhSa::new(
            SPI,
            ReplayWindow::new(64, false).unwrap(),
            transform(algorithm, 1),
        );
        assert_eq!(no_esn.open(&packet), Err(OpenError::IcvMismatch));
    }
}

#[test]
fn ipv4_options_are_zeroed_or_kept_per_appendix_a() {
    // NOP, Router Alert (immutable), Record Route (mutable), Security (immutable), EOL.
    let options = [
        1, 0x94, 4, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0x82, 4, 0x3d, 2, 0, 0, 0, 0,
    ];
    let (mut out, _) = pair(sha256(), SPI, false);
    let (mut packet, _) = ipv4(&options, out.ah_header_len(IpVersion::V4), b"data");
    out.seal(&mut packet, 6).unwrap();
    // A router records itself in Record Route: still valid.
    let mut routed = packet.clone();
    routed[20 + 7] = 8;
    routed[20 + 8..20 + 12].copy_from_slice(&[10, 9, 8, 7]);
    let (_, mut inbound) = pair(sha256(), SPI, false);
    assert!(inbound.open(&routed).is_ok());
    // Changing Router Alert or Security data is not.
    for at in [20 + 3, 20 + 14] {
        let mut forged = packet.clone();
        forged[at] ^= 1;
        let (_, mut inbound) = pair(sha256(), SPI, false);
        assert_eq!(inbound.open(&forged), Err(OpenError::IcvMismatch), "{at}");
    }
    // Bytes after End of Option List are covered as sent.
    let mut forged = packet.clone();
    forged[20 + 17] = 1;
    let (_, mut inbound) = pair(sha256(), SPI, false);
    assert_eq!(inbound.open(&forged), Err(OpenError::IcvMismatch));
}

#[test]
fn strict_source_route_final_destination_is_predicted() {
    // SSRR through 203.0.113.9 to V4_DST: sent to the hop, the ICV covers V4_DST
    // (RFC 4302 §3.3.3.1.1.1).
    let hop = [203, 0, 113, 9];
    let mut options = vec![0x89, 7, 4];
    options.extend(V4_DST);
    options.push(0);
    let (mut out, _) = pair(sha256(), SPI, false);
    let (mut packet, _) = ipv4(&options, out.ah_header_len(IpVersion::V4), b"routed");
    packet[16..20].copy_from_slice(&hop);
    out.seal(&mut packet, 17).unwrap();
    assert_eq!(&packet[16..20], &hop, "seal does not rewrite the header");
    let (_, mut inbound) = pair(sha256(), SPI, false);
    assert_eq!(inbound.open(&packet), Err(OpenError::IcvMismatch));
    // The hop swaps in the final destination and records itself.
    let mut routed = packet.clone();
    routed[16..20].copy_from_slice(&V4_DST);
    routed[23..27].copy_from_slice(&hop);
    routed[22] = 8;
    routed[8] -= 1;
    fix_ipv4_checksum(&mut routed);
    assert_eq!(inbound.open(&routed).unwrap().payload, b"routed");
}

#[test]
fn ipv6_extension_headers_before_ah() {
    // Hop-by-Hop, Destination Options (immutable option 0x1e, mutable 0x3f) and Routing
    // type 2 with Segments Left 0, then AH.
    let mut ext = HOP_BY_HOP.to_vec();
    ext[0] = 60;
    ext.extend([43, 0, 0x1e, 0, 0x3f, 2, 0x11, 0x22]);
    ext.extend([51, 2, 2, 0, 0, 0, 0, 0]);
    ext.extend([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x99]);
    for algorithm in algorithms() {
        let (mut out, mut inbound) = pair(algorithm, SPI, false);
        let (mut packet, ah) = ipv6(0, &ext, out.ah_header_len(IpVersion::V6), b"data");
        assert_eq!(ah, 40 + 8 + 8 + 24);
        out.seal(&mut packet, 17).unwrap();
        let mut routed = packet.clone();
        routed[54..56].copy_from_slice(&[0xde, 0xad]); // Dest. Opts mutable data
        routed[44..46].copy_from_slice(&[0xbe, 0xef]); // Hop-by-Hop mutable data
        let opened = inbound.open(&routed).unwrap();
        assert_eq!((opened.ah_offset, opened.payload), (ah, &b"data"[..]));
        for at in [50, 52, 56 + 8, 56 + 23] {
            let (_, mut inbound) = pair(algorithm, SPI, false);
            let mut forged = packet.clone();
            forged[at] ^= 1;
            assert_eq!(
                inbound.open(&forged),
                Err(OpenError::IcvMismatch),
                "byte {at}"
            );
        }
    }
}

#[test]
fn packets_out_of_order_within_the_window_are_accepted_once() {
    let (mut out, mut inbound) = pair(sha256(), SPI, false);
    let packets: Vec<Vec<u8>> = (0..10)
        .map(|i| seal(&mut out, IpVersion::V4, &[i; 20], 17))
        .collect();
    for index in [3, 1, 9, 0, 2, 8, 4, 7, 5, 6] {
        assert_eq!(
            inbound.open(&packets[index]).unwrap().payload,
            &[index as u8; 20][..]
        );
    }
    for packet in &packets {
        assert!(matches!(
            inbound.open(packet),
            Err(OpenError::Replayed { .. })
        ));
    }
}

#[test]
fn drop_reasons_are_typed() {
    for algorithm in algorithms() {
        for version in [IpVersion::V4, IpVersion::V6] {
            let (mut out, mut inbound) = pair(algorithm, SPI, false);
            let packet = seal(&mut out, version, b"secret payload", 17);
            let ah = if version.is_ipv6() { 48 } else { 20 };

            // Truncated: every prefix (the IP length field then says more than there is).
            for len in 0..packet.len() {
                let error = inbound.open(&packet[..len]).unwrap_err();
                assert!(
                    matches!(error, OpenError::Truncated { available, .. } if available == len),
                    "cut to {len}: {error:?}"
                );
            }
            // Unknown SPI.
            let mut other = packet.clone();
            other[ah + 7] ^= 1;
            assert_eq!(
                inbound.open(&other),
                Err(OpenError::UnknownSpi {
                    expected: SPI,
                    found: SPI ^ 1
                })
            );
            // ICV mismatch: the payload changed.
            let mut forged = packet.clone();
            *forged.last_mut().unwrap() ^= 0x20;
            assert_eq!(inbound.open(&forged), Err(OpenError::IcvMismatch));
            // A forged sequence number fails the ICV and does not move the window.
            let mut forged = packet.clone();
            forged[ah + 11] = 200;
            assert_eq!(inbound.open(&forged), Err(OpenError::IcvMismatch));
            assert_eq!(inbound.window().highest(), 0);
            // Accepted once, then replayed.
            assert!(inbound.open(&packet).is_ok());
            assert_eq!(inbound.open(&packet), Err(OpenError::Replayed { seq: 1 }));
            // Too old: 70 packets later, the second is left of a 64-packet window.
            let old = seal(&mut out, version, b"old", 17);
            for _ in 0..70 {
                let next = seal(&mut out, version, b"later", 17);
                inbound.open(&next).unwrap();
            }
            assert_eq!(inbound.open(&old), Err(OpenError::TooOld { seq: 2 }));
        }
    }
}

/// Opens `packet` with a fresh HMAC-SHA-256-128 SA.
fn open(packet: &[u8]) -> Result<Opened<'_>, OpenError> {
    pair(sha256(), SPI, false).1.open(packet)
}

#[test]
fn malformed_and_unsupported_packets_are_typed() {
    let (mut out, _) = pair(sha256(), SPI, false);
    let v4 = seal(&mut out, IpVersion::V4, b"data", 17);
    let v6 = seal(&mut out, IpVersion::V6, b"data", 17);

    let mut bad = v4.clone();
    bad[0] = 0x55;
    assert_eq!(open(&bad), Err(OpenError::Malformed(Malformed::Version(5))));
    let mut bad = v4.clone();
    bad[0] = 0x44;
    assert_eq!(
        open(&bad),
        Err(OpenError::Malformed(Malformed::Ipv4HeaderLength(16)))
    );
    // A packet longer than its Total Length.
    let mut bad = v4.clone();
    bad.push(0);
    assert_eq!(
        open(&bad),
        Err(OpenError::Malformed(Malformed::LengthField {
            field: v4.len(),
            actual: v4.len() + 1
        }))
    );
    // Fragments (RFC 4302 §3.4.1): More Fragments, or an offset.
    for (byte, value) in [(6, 0x20), (7, 0x01)] {
        let mut bad = v4.clone();
        bad[byte] |= value;
        assert_eq!(open(&bad), Err(OpenError::Fragment));
    }
    // Not AH: the protocol is UDP.
    let mut bad = v4.clone();
    bad[9] = 17;
    assert_eq!(
        open(&bad),
        Err(OpenError::Malformed(Malformed::NotAh { protocol: 17 }))
    );
    // SPI 0 is never sent (RFC 4302 §2.4).
    let mut bad = v4.clone();
    bad[24..28].fill(0);
    assert_eq!(
        open(&bad),
        Err(OpenError::Malformed(Malformed::Ah(Error::ReservedSpi)))
    );
    // Payload Len one word longer than the algorithm needs (extra padding, §2.6).
    let mut bad = v4.clone();
    bad[21] += 1;
    assert_eq!(
        open(&bad),
        Err(OpenError::Malformed(Malformed::HeaderLength {
            expected: 28,
            found: 32
        }))
    );
    // An IPv6 option that runs past its header.
    let mut bad = v6.clone();
    bad[43] = 9;
    assert_eq!(
        open(&bad),
        Err(OpenError::Malformed(Malformed::Ipv6Option { offset: 42 }))
    );

    // IPv4 options with impossible lengths: 0, 1, past the header, and a source route
    // that is no whole number of addresses.
    for options in [
        [7, 0, 0, 0],
        [7, 1, 0, 0],
        [7, 5, 0, 0],
        [0x83, 4, 4, 0],
        [1, 1, 1, 7],
    ] {
        let (mut packet, _) = ipv4(&options, 28, b"x");
        let at = 20 + options.iter().position(|b| *b != 1).unwrap();
        let error = out.seal(&mut packet, 17).unwrap_err();
        assert_eq!(
            error,
            SealError::Malformed(Malformed::Ipv4Option { offset: at }),
            "{options:?}"
        );
        assert_eq!(
            open(&packet),
            Err(OpenError::Malformed(Malformed::Ipv4Option { offset: at })),
            "{options:?}"
        );
    }

    // IPv6 extension headers this crate does not walk, or walks but not this way.
    let ah_len = out.ah_header_len(IpVersion::V6);
    let (packet, _) = ipv6(44, &[51, 0, 0, 1, 0, 0, 0, 1], ah_len, b"x");
    assert_eq!(
        open(&packet),
        Err(OpenError::Unsupported(Unsupported::ExtensionHeader {
            next_header: 44
        }))
    );
    let mut routing = vec![51, 2, 0, 1, 0, 0, 0, 0];
    routing.extend([0u8; 16]);
    let (mut packet, _) = ipv6(43, &routing, ah_len, b"x");
    let unsupported = Unsupported::RoutingHeader {
        routing_type: 0,
        segments_left: 1,
    };
    assert_eq!(open(&packet), Err(OpenError::Unsupported(unsupported)));
    assert_eq!(
        out.seal(&mut packet, 17),
        Err(SealError::Unsupported(unsupported))
    );
    let (packet, _) = ipv6(
        60,
        &[0, 0, 1, 4, 0, 0, 0, 0, 51, 0, 1, 4, 0, 0, 0, 0],
        ah_len,
        b"x",
    );
    assert_eq!(
        open(&packet),
        Err(OpenError::Malformed(Malformed::HopByHopNotFirst))
    );
    let mut jumbo = v6.clone();
    jumbo[4..6].fill(0);
    assert_eq!(
        open(&jumbo),
        Err(OpenError::Unsupported(Unsupported::Jumbogram))
    );
    // More mutable options than the ICV input has room for.
    let mut many = vec![51, 31];
    while many.len() < 256 {
        many.extend([0x3e, 1, 0xee]);
    }
    many.truncate(256);
    many[255] = 0;
    let (mut packet, _) = ipv6(0, &many, ah_len, b"x");
    assert_eq!(
        out.seal(&mut packet, 17),
        Err(SealError::Unsupported(Unsupported::TooManyMutableOptions))
    );
}

#[test]
fn seal_errors_are_typed() {
    let (mut out, _) = pair(sha256(), SPI, false);
    // No room for the AH header after the IP header.
    let (mut packet, _) = ipv4(&[], 10, b"");
    assert_eq!(
        out.seal(&mut packet, 17),
        Err(SealError::BufferTooSmall {
            needed: 48,
            available: 30
        })
    );
    // A buffer shorter than the Total Length says.
    let (packet, _) = ipv4(&[], 28, b"payload");
    let mut cut = packet[..packet.len() - 1].to_vec();
    assert_eq!(
        out.seal(&mut cut, 17),
        Err(SealError::BufferTooSmall {
            needed: packet.len(),
            available: packet.len() - 1
        })
    );
    // A fragment.
    let mut fragment = packet.clone();
    fragment[6] = 0x20;
    assert_eq!(out.seal(&mut fragment, 17), Err(SealError::Fragment));
    assert_eq!(
        out.last_sequence_number(),
        0,
        "a failed seal uses no number"
    );
    // SPI 0 is never sent.
    let mut zero = OutboundAhSa::new(0, false, transform(sha256(), 2));
    let mut packet = packet.clone();
    assert_eq!(
        zero.seal(&mut packet, 17),
        Err(SealError::Header(ipsec_ah::EmitError::ReservedSpi))
    );
}

#[test]
fn sequence_numbers_never_wrap() {
    let mut out = OutboundAhSa::resume(SPI, false, transform(sha256(), 3), u64::from(u32::MAX) - 1);
    let (mut packet, _) = ipv4(&[], 28, b"x");
    assert_eq!(out.seal(&mut packet, 17), Ok(u64::from(u32::MAX)));
    assert_eq!(out.last_sequence_number(), out.max_sequence_number());
    assert_eq!(out.seal(&mut packet, 17), Err(SealError::SequenceExhausted));
    let mut esn = OutboundAhSa::resume(SPI, true, transform(sha256(), 3), u64::MAX);
    assert_eq!(esn.seal(&mut packet, 17), Err(SealError::SequenceExhausted));
    // Past 2^32 with ESN: fine.
    let mut esn = OutboundAhSa::resume(SPI, true, transform(sha256(), 3), u64::from(u32::MAX));
    assert_eq!(esn.seal(&mut packet, 17), Ok(1 << 32));
    assert_eq!(&packet[28..32], &[0, 0, 0, 0]);
}

#[test]
fn open_leaves_the_packet_alone_and_seal_only_writes_ah() {
    let (mut out, mut inbound) = pair(gmac128(), SPI, false);
    let (packet, ah) = packet_for(&out, IpVersion::V6, b"upper layer");
    let mut sealed = packet.clone();
    out.seal(&mut sealed, 17).unwrap();
    let ah_len = out.ah_header_len(IpVersion::V6);
    assert_eq!(&sealed[..ah], &packet[..ah]);
    assert_eq!(&sealed[ah + ah_len..], &packet[ah + ah_len..]);
    let before = sealed.clone();
    let opened = inbound.open(&sealed).unwrap();
    assert_eq!(opened.payload_offset, ah + ah_len);
    assert_eq!(sealed, before);
}
