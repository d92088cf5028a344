//! AH known answers: `data/ah_vectors.txt`, built by `data/make_vectors.py`, an independent
//! Python witness (hmac/hashlib and `cryptography`'s AES-GCM) that also reproduces,
//! byte for byte, the eight AH packets OpenDataPlane publishes in its IPsec validation suite
//! (see `data/README.md`). Each vector is sealed from its layout and compared byte for
//! byte, and opened as sent and as received after routers changed its mutable fields.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{Vector, parse};
use ipsec_ah::{AhTransform, InboundAhSa, OpenError, OutboundAhSa};
use ipsec_crypto::RUST_CRYPTO;
use ipsec_replay::ReplayWindow;

fn vectors() -> Vec<Vector> {
    parse(include_str!("data/ah_vectors.txt"))
}

fn transform(vector: &Vector) -> AhTransform {
    let id = vector.number("alg") as u16;
    let algorithm = RUST_CRYPTO
        .integrity(id)
        .unwrap_or_else(|| panic!("{}: no algorithm {id}", vector.name));
    AhTransform::new(algorithm, vector.get("keymat")).unwrap()
}

/// An inbound SA for `vector` whose window has seen the packet before it, so that ESN
/// inference lands on the vector's high bits (RFC 4303 App. A).
fn inbound(vector: &Vector) -> InboundAhSa {
    let seq = vector.number("seq");
    let mut window = ReplayWindow::new(64, vector.number("esn") == 1).unwrap();
    if seq > 1 {
        window.commit(seq - 1).unwrap();
    }
    InboundAhSa::new(vector.number("spi") as u32, window, transform(vector))
}

#[test]
fn the_vector_file_has_every_case() {
    let names: Vec<String> = vectors().into_iter().map(|v| v.name).collect();
    assert_eq!(names.len(), 14);
    for name in [
        "odp-ipv4-icmp-ah-sha256",
        "odp-ipv4-icmp-ah-tun-ipv4-sha256",
        "odp-ipv4-icmp-ah-tun-ipv6-sha256",
        "odp-ipv4-icmp-ah-sha256-seq-1235",
        "odp-ipv6-icmp-ah-sha256",
        "odp-ipv6-icmp-ah-tun-ipv4-sha256",
        "odp-ipv6-icmp-ah-tun-ipv6-sha256",
        "odp-ipv4-icmp-ah-aes-gmac-128",
        "ipv4-options-sha384",
        "ipv4-lsrr-sha512",
        "ipv4-gmac128-esn",
        "ipv6-ext-headers-gmac256",
        "ipv6-tunnel-ipv4-sha384-esn",
        "ipv4-tunnel-ipv6-gmac128",
    ] {
        assert!(names.iter().any(|n| n == name), "missing {name}");
    }
}

#[test]
fn sealing_each_layout_gives_the_witness_bytes() {
    let mut sealed = 0;
    for vector in vectors() {
        let Some(input) = vector.opt("input") else {
            continue;
        };
        let seq = vector.number("seq");
        let mut sa = OutboundAhSa::resume(
            vector.number("spi") as u32,
            vector.number("esn") == 1,
            transform(&vector),
            seq - 1,
        );
        let mut packet = input.to_vec();
        let used = sa
            .seal(&mut packet, vector.number("next_header") as u8)
            .unwrap_or_else(|e| panic!("{}: {e}", vector.name));
        assert_eq!(used, seq, "{}", vector.name);
        assert_eq!(
            hex::encode(&packet),
            hex::encode(vector.get("sealed")),
            "{}",
            vector.name
        );
        sealed += 1;
    }
    assert_eq!(sealed, 13);
}

#[test]
fn opening_each_packet_as_sent_and_as_received() {
    for vector in vectors() {
        let mut packets = vec![("sealed", vector.get("sealed"))];
        if let Some(received) = vector.opt("received") {
            assert_ne!(received, vector.get("sealed"));
            packets.push(("received", received));
        }
        for (which, packet) in packets {
            let mut sa = inbound(&vector);
            if vector.name == "ipv4-lsrr-sha512" && which == "sealed" {
                // As sent, the Destination Address is the first hop; the ICV covers the
                // final destination, which only the routed packet carries.
                assert_eq!(sa.open(packet), Err(OpenError::IcvMismatch));
                continue;
            }
            let opened = sa
                .open(packet)
                .unwrap_or_else(|e| panic!("{} {which}: {e}", vector.name));
            assert_eq!(opened.next_header, vector.number("next_header") as u8);
            assert_eq!(opened.sequence_number, vector.number("seq"));
            assert_eq!(opened.payload, vector.get("payload"), "{}", vector.name);
            assert_eq!(&packet[opened.payload_offset..], opened.payload);
            // Once accepted, the same packet is a replay.
            assert_eq!(
                sa.open(packet),
                Err(OpenError::Replayed {
                    seq: vector.number("seq")
                }),
                "{} {which}",
                vector.name
            );
        }
    }
}

#[test]
fn any_flipped_bit_outside_the_mutable_fields_fails_the_icv() {
    // The OpenDataPlane transport-mode packet: IPv4 header, AH, ICMP. Bytes 1 (TOS), 6-8
    // (flags, fragment offset, TTL) and 10-11 (checksum) are mutable; flipping a flag or
    // offset bit makes a fragment, which is dropped before the ICV.
    let vector = vectors()
        .into_iter()
        .find(|v| v.name == "odp-ipv4-icmp-ah-sha256")
        .unwrap();
    let packet = vector.get("sealed");
    for byte in 0..packet.len() {
        for bit in 0..8 {
            let mut forged = packet.to_vec();
            forged[byte] ^= 1 << bit;
            let result = inbound(&vector).open(&forged);
            match byte {
                1 | 8 | 10 | 11 => assert!(result.is_ok(), "byte {byte} is mutable"),
                6 | 7 if forged[6] & 0x3f == 0 && forged[7] == 0 => {
                    assert!(result.is_ok(), "byte {byte} bit {bit}: DF or reserved flag")
                }
                6 | 7 => assert_eq!(result, Err(OpenError::Fragment)),
                _ => assert!(result.is_err(), "byte {byte} bit {bit} is covered"),
            }
        }
    }
}
