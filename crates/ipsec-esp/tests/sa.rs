//! ESP protection through an SA: published packets opened, real charon traffic opened with
//! charon's keys, round trips for every transform, and every drop reason.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use ipsec_crypto::{RUST_CRYPTO, iana, providers};
use ipsec_esp::{
    EspTransform, InboundSa, OpenError, OutboundSa, SealError, decapsulate_udp, encapsulate_udp,
};
use ipsec_replay::ReplayWindow;
use proptest::prelude::*;

fn hex(text: &str) -> Vec<u8> {
    hex::decode(text.trim()).unwrap()
}

fn gcm(bits: u16, keymat: &[u8]) -> EspTransform {
    EspTransform::aead(
        RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, bits).unwrap(),
        keymat,
    )
    .unwrap()
}

fn chacha(keymat: &[u8]) -> EspTransform {
    EspTransform::aead(
        RUST_CRYPTO.aead(iana::ENCR_CHACHA20_POLY1305, 256).unwrap(),
        keymat,
    )
    .unwrap()
}

fn cbc_sha256(keymat: &[u8]) -> EspTransform {
    EspTransform::cipher_integrity(
        RUST_CRYPTO.cipher(iana::ENCR_AES_CBC, 128).unwrap(),
        RUST_CRYPTO.integrity(iana::AUTH_HMAC_SHA2_256_128).unwrap(),
        keymat,
    )
    .unwrap()
}

fn inbound(spi: u32, esn: bool, transform: EspTransform) -> InboundSa {
    InboundSa::new(spi, ReplayWindow::new(64, esn).unwrap(), transform)
}

#[test]
fn rfc7634_appendix_a_packet_opens_to_its_source_packet() {
    let esp = hex(include_str!("data/rfc7634/esp.hex"));
    let keymat = hex(include_str!("data/rfc7634/keymat.hex"));
    let spi = u32::from_be_bytes(
        hex(include_str!("data/rfc7634/spi.hex"))[..]
            .try_into()
            .unwrap(),
    );
    for provider in providers() {
        let transform = EspTransform::aead(
            provider.aead(iana::ENCR_CHACHA20_POLY1305, 256).unwrap(),
            &keymat,
        )
        .unwrap();
        let mut sa = inbound(spi, false, transform);
        let mut packet = esp.clone();
        let opened = sa.open(&mut packet).unwrap();
        // Tunnel mode: the payload is the inner IPv4 packet (next header 4).
        assert_eq!(opened.next_header, 4);
        assert_eq!(opened.sequence_number, 5);
        assert_eq!(
            opened.payload,
            &hex(include_str!("data/rfc7634/source_packet.hex"))[..]
        );
    }
}

/// A Child SA key line of charon's log: (SPI, keying material for our transform).
fn charon_keys(keys: &str) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = keys.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("ESP SA 0x") else {
            continue;
        };
        let spi = u32::from_str_radix(&rest[..8], 16).unwrap();
        let mut keymat = Vec::new();
        while let Some(next) = lines.peek() {
            let next = next.trim();
            if let Some(key) = next
                .strip_prefix("encr")
                .or_else(|| next.strip_prefix("integ"))
            {
                keymat.extend(hex(key.trim()));
                lines.next();
            } else {
                break;
            }
        }
        out.push((spi, keymat));
    }
    out
}

/// Opens the six ESP packets of a charon capture with the keys charon logged.
fn open_capture(keys: &str, packets: &[&[u8]], transform: fn(&[u8]) -> EspTransform) {
    let mut sas: Vec<InboundSa> = charon_keys(keys)
        .into_iter()
        .map(|(spi, keymat)| inbound(spi, false, transform(&keymat)))
        .collect();
    assert_eq!(sas.len(), 2);
    for (index, packet) in packets.iter().enumerate() {
        let spi = u32::from_be_bytes(packet[..4].try_into().unwrap());
        let sa = sas.iter_mut().find(|sa| sa.spi() == spi).unwrap();
        let mut buf = packet.to_vec();
        let opened = sa.open(&mut buf).unwrap();
        assert_eq!(
            opened.next_header, 4,
            "packet {index}: tunnel mode, inner IPv4"
        );
        assert_eq!(opened.sequence_number, 1 + index as u64 / 2);
        let inner = &opened.payload;
        assert_eq!(inner[0] >> 4, 4);
        assert_eq!(inner[9], 1, "ICMP");
        let (source, destination) = (&inner[12..16], &inner[16..20]);
        // Echo requests go 10.99.1.1 -> 10.99.2.1, replies come back.
        if index % 2 == 0 {
            assert_eq!(
                (source, destination),
                (&[10, 99, 1, 1][..], &[10, 99, 2, 1][..])
            );
            assert_eq!(inner[20], 8, "echo request");
        } else {
            assert_eq!(
                (source, destination),
                (&[10, 99, 2, 1][..], &[10, 99, 1, 1][..])
            );
            assert_eq!(inner[20], 0, "echo reply");
        }
        // The same packet again is a replay.
        let mut again = packet.to_vec();
        assert_eq!(
            sa.open(&mut again),
            Err(OpenError::Replayed {
                seq: 1 + index as u64 / 2
            })
        );
    }
}

macro_rules! capture {
    ($suite:literal, $($file:literal),+) => {
        [$(include_bytes!(concat!("data/charon/", $suite, "/", $file)).as_slice()),+]
    };
}

#[test]
fn charon_aes_gcm_traffic_opens_with_charons_keys() {
    open_capture(
        include_str!("data/charon/aes256gcm16-x25519/keys.txt"),
        &capture!(
            "aes256gcm16-x25519",
            "05-esp-a0ce6d18.bin",
            "06-esp-efd81824.bin",
            "07-esp-a0ce6d18.bin",
            "08-esp-efd81824.bin",
            "09-esp-a0ce6d18.bin",
            "10-esp-efd81824.bin"
        ),
        |keymat| gcm(256, keymat),
    );
}

#[test]
fn charon_aes_cbc_hmac_traffic_opens_with_charons_keys() {
    open_capture(
        include_str!("data/charon/aes128-sha256-modp2048/keys.txt"),
        &capture!(
            "aes128-sha256-modp2048",
            "05-esp-83868a67.bin",
            "06-esp-23ed5156.bin",
            "07-esp-83868a67.bin",
            "08-esp-23ed5156.bin",
            "09-esp-83868a67.bin",
            "10-esp-23ed5156.bin"
        ),
        cbc_sha256,
    );
}

#[test]
fn charon_chacha20_poly1305_traffic_opens_with_charons_keys() {
    open_capture(
        include_str!("data/charon/chacha20poly1305-x25519/keys.txt"),
        &capture!(
            "chacha20poly1305-x25519",
            "05-esp-7a55cbe4.bin",
            "06-esp-5edf5d3c.bin",
            "07-esp-7a55cbe4.bin",
            "08-esp-5edf5d3c.bin",
            "09-esp-7a55cbe4.bin",
            "10-esp-5edf5d3c.bin"
        ),
        chacha,
    );
}

/// Every transform the default provider offers for ESP, keyed with `seed`.
fn transforms(seed: u8) -> Vec<(&'static str, EspTransform, EspTransform)> {
    let mut out = Vec::new();
    for aead in RUST_CRYPTO.aeads {
        let keymat = vec![seed; aead.spec().keymat_len()];
        out.push((
            "aead",
            EspTransform::aead(*aead, &keymat).unwrap(),
            EspTransform::aead(*aead, &keymat).unwrap(),
        ));
    }
    for cipher in RUST_CRYPTO.ciphers {
        for integrity in RUST_CRYPTO
            .integrity
            .iter()
            .filter(|i| i.spec().iv_len == 0)
        {
            let len = cipher.spec().keymat_len() + integrity.spec().key_len;
            let keymat = vec![seed; len];
            out.push((
                "cipher+integrity",
                EspTransform::cipher_integrity(*cipher, *integrity, &keymat).unwrap(),
                EspTransform::cipher_integrity(*cipher, *integrity, &keymat).unwrap(),
            ));
        }
    }
    out
}

fn seal(sa: &mut OutboundSa, payload: &[u8], next_header: u8) -> Vec<u8> {
    let mut buf = vec![0; sa.packet_len(payload.len())];
    let header = sa.header_len();
    buf[header..header + payload.len()].copy_from_slice(payload);
    let len = sa.seal(&mut buf, payload.len(), next_header).unwrap();
    assert_eq!(len, buf.len());
    buf
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_transform_round_trips(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..6),
        esn in any::<bool>(),
        tfc in prop::option::of(0usize..400),
        seed in any::<u8>(),
    ) {
        for (kind, out_transform, in_transform) in transforms(seed) {
            let mut out = OutboundSa::new(0x1234_5678, esn, out_transform);
            if let Some(len) = tfc {
                out.set_tfc_padding(len);
            }
            let mut sa = inbound(0x1234_5678, esn, in_transform);
            for (index, payload) in payloads.iter().enumerate() {
                let mut packet = seal(&mut out, payload, 41);
                prop_assert_eq!(packet.len() % 4, 0, "{}: 4-byte alignment (RFC 4303 §2.4)", kind);
                let opened = sa.open(&mut packet).unwrap();
                prop_assert_eq!(opened.next_header, 41);
                prop_assert_eq!(opened.sequence_number, index as u64 + 1);
                let padded = payload.len().max(tfc.unwrap_or(0));
                prop_assert_eq!(opened.payload.len(), padded);
                prop_assert_eq!(&opened.payload[..payload.len()], &payload[..]);
                prop_assert!(opened.payload[payload.len()..].iter().all(|b| *b == 0));
            }
        }
    }
}

#[test]
fn packets_out_of_order_within_the_window_are_accepted_once() {
    let mut out = OutboundSa::new(7, false, gcm(128, &[3; 20]));
    let mut sa = inbound(7, false, gcm(128, &[3; 20]));
    let packets: Vec<Vec<u8>> = (0..10).map(|i| seal(&mut out, &[i; 20], 4)).collect();
    for index in [3, 1, 9, 0, 2, 8, 4, 7, 5, 6] {
        let mut packet = packets[index].clone();
        assert_eq!(
            sa.open(&mut packet).unwrap().payload,
            &[index as u8; 20][..]
        );
    }
    for packet in &packets {
        assert!(matches!(
            sa.open(&mut packet.clone()),
            Err(OpenError::Replayed { .. })
        ));
    }
}

#[test]
fn esn_high_bits_are_authenticated_but_not_sent() {
    // An outbound SA that already sent 2^32 + 4 packets: the header carries 5, the ICV
    // covers 2^32 + 5.
    let mut out = OutboundSa::resume(9, true, gcm(256, &[1; 36]), (1 << 32) + 4);
    let mut packet = seal(&mut out, b"x", 6);
    assert_eq!(&packet[4..8], &[0, 0, 0, 5]);
    let mut window = ReplayWindow::new(64, true).unwrap();
    window.commit((1 << 32) + 2).unwrap();
    let mut sa = InboundSa::new(9, window, gcm(256, &[1; 36]));
    assert_eq!(sa.open(&mut packet).unwrap().sequence_number, (1 << 32) + 5);
    // A receiver that believes the high half is 0 computes another ICV.
    let mut packet = seal(&mut out, b"y", 6);
    let mut wrong = inbound(9, true, gcm(256, &[1; 36]));
    assert_eq!(wrong.open(&mut packet), Err(OpenError::IcvMismatch));
}

#[test]
fn sequence_numbers_never_wrap() {
    let out = OutboundSa::resume(1, false, gcm(128, &[0; 20]), u64::from(u32::MAX) - 1);
    let mut buf = vec![0; out.packet_len(4)];
    assert!(out.seal(&mut buf, 4, 4).is_ok());
    assert_eq!(out.last_sequence_number(), u64::from(u32::MAX));
    assert_eq!(out.seal(&mut buf, 4, 4), Err(SealError::SequenceExhausted));
    let esn = OutboundSa::resume(1, true, gcm(128, &[0; 20]), u64::MAX);
    assert_eq!(esn.seal(&mut buf, 4, 4), Err(SealError::SequenceExhausted));
}

#[test]
fn buffer_too_small_says_how_much_is_needed() {
    let out = OutboundSa::new(1, false, cbc_sha256(&[5; 48]));
    let needed = out.packet_len(100);
    // 8 header + 16 IV + 100 payload + 10 padding + 2 trailer + 16 ICV.
    assert_eq!(needed, 8 + 16 + 100 + 10 + 2 + 16);
    let mut buf = vec![0; needed - 1];
    assert_eq!(
        out.seal(&mut buf, 100, 4),
        Err(SealError::BufferTooSmall {
            needed,
            available: needed - 1
        })
    );
    assert_eq!(
        out.last_sequence_number(),
        0,
        "a failed seal uses no number"
    );
}

#[test]
fn dummy_packets_are_marked() {
    let out = OutboundSa::new(3, false, chacha(&[8; 36]));
    let mut sa = inbound(3, false, chacha(&[8; 36]));
    let mut buf = vec![0; out.packet_len(32)];
    let len = out.seal_dummy(&mut buf, 32).unwrap();
    let opened = sa.open(&mut buf[..len]).unwrap();
    assert!(opened.is_dummy());
}

/// The plaintext a forged or replayed packet might expose, for the "no plaintext escapes"
/// checks.
const SECRET: &[u8] = b"the inner packet that must not leak";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn drop_reasons_are_typed_and_release_no_plaintext() {
    for (kind, out_transform, in_transform) in transforms(0x11) {
        let encrypts = !matches!(&out_transform, EspTransform::Aead(a) if !a.spec().encrypts)
            && !matches!(&out_transform, EspTransform::CipherIntegrity { cipher, .. } if cipher.spec().iv_len == 0);
        let mut out = OutboundSa::new(0xabcd, false, out_transform);
        let mut sa = inbound(0xabcd, false, in_transform);
        let packet = seal(&mut out, SECRET, 4);

        // Truncated: every prefix.
        for len in 0..packet.len() {
            let mut cut = packet[..len].to_vec();
            let error = sa.open(&mut cut).unwrap_err();
            assert!(
                matches!(
                    error,
                    OpenError::Malformed(_)
                        | OpenError::IcvMismatch
                        | OpenError::NotBlockAligned { .. }
                ),
                "{kind}: cut to {len}: {error:?}"
            );
            if encrypts {
                assert!(
                    !contains(&cut, SECRET),
                    "{kind}: plaintext leaked from a cut packet"
                );
            }
        }
        // Unknown SPI.
        let mut other = packet.clone();
        other[3] ^= 1;
        assert_eq!(
            sa.open(&mut other),
            Err(OpenError::UnknownSpi {
                expected: 0xabcd,
                found: 0xabcc
            })
        );
        // ICV mismatch: any flipped bit after the header.
        for byte in 8..packet.len() {
            let mut forged = packet.clone();
            forged[byte] ^= 0x40;
            assert_eq!(
                sa.open(&mut forged),
                Err(OpenError::IcvMismatch),
                "{kind} byte {byte}"
            );
            if encrypts {
                assert!(
                    !contains(&forged, SECRET),
                    "{kind}: plaintext leaked from a forgery"
                );
            }
        }
        // A forged sequence number fails the ICV and does not move the window.
        let mut forged = packet.clone();
        forged[7] = 200;
        assert_eq!(sa.open(&mut forged), Err(OpenError::IcvMismatch));
        assert_eq!(sa.window().highest(), 0);
        // Accepted once, then replayed.
        let mut first = packet.clone();
        assert_eq!(sa.open(&mut first).unwrap().payload, SECRET);
        let mut replay = packet.clone();
        assert_eq!(sa.open(&mut replay), Err(OpenError::Replayed { seq: 1 }));
        if encrypts {
            assert!(!contains(&replay, SECRET));
        }
        // Too old: 70 packets later, the first is left of a 64-packet window.
        let mut old = seal(&mut out, SECRET, 4);
        for _ in 0..70 {
            let mut next = seal(&mut out, b"later", 4);
            sa.open(&mut next).unwrap();
        }
        assert_eq!(sa.open(&mut old), Err(OpenError::TooOld { seq: 2 }));
        if encrypts {
            assert!(!contains(&old, SECRET));
        }
    }
}

#[test]
fn bad_padding_is_refused_without_releasing_plaintext() {
    // Build by hand a packet whose ICV is right but whose padding is not 1, 2, 3...:
    // AES-GCM with spi 5, seq 1, IV = seq, plaintext = SECRET + [9, 9, 9] + [3, 4].
    let keymat = [4u8; 20];
    let aead = RUST_CRYPTO
        .aead(iana::ENCR_AES_GCM_16, 128)
        .unwrap()
        .new_key(&keymat)
        .unwrap();
    let mut pad = (4 - (SECRET.len() + 2) % 4) % 4;
    if pad == 0 {
        pad = 4;
    }
    let mut plaintext = SECRET.to_vec();
    plaintext.extend(std::iter::repeat_n(9u8, pad));
    plaintext.extend([pad as u8, 4]);
    let mut packet = vec![0, 0, 0, 5, 0, 0, 0, 1];
    packet.extend(1u64.to_be_bytes());
    let body_start = packet.len();
    packet.extend(&plaintext);
    packet.extend([0; 16]);
    aead.seal_in_place(
        &1u64.to_be_bytes(),
        &[0, 0, 0, 5, 0, 0, 0, 1],
        &mut packet[body_start..],
    )
    .unwrap();
    let mut sa = inbound(5, false, gcm(128, &keymat));
    let error = sa.open(&mut packet).unwrap_err();
    assert!(
        matches!(
            error,
            OpenError::Malformed(ipsec_esp::Error::BadPadding { .. })
        ),
        "{error:?}"
    );
    assert!(!contains(&packet, SECRET));
    assert_eq!(
        sa.window().highest(),
        0,
        "a refused packet does not move the window"
    );
}

#[test]
fn udp_encapsulation() {
    let out = OutboundSa::new(0x0102_0304, false, gcm(128, &[1; 20]));
    let mut buf = vec![0; 8 + out.packet_len(10)];
    let header = 8 + out.header_len();
    buf[header..header + 10].copy_from_slice(&[7; 10]);
    let esp_len = out.seal(&mut buf[8..], 10, 4).unwrap();
    let total = encapsulate_udp(&mut buf, 4500, 4500, esp_len).unwrap();
    assert_eq!(&buf[..8], &[0x11, 0x94, 0x11, 0x94, 0, total as u8, 0, 0]);
    let esp = decapsulate_udp(&buf[..total]).unwrap().to_vec();
    let mut sa = inbound(0x0102_0304, false, gcm(128, &[1; 20]));
    let mut esp = esp;
    assert_eq!(sa.open(&mut esp).unwrap().payload, &[7; 10][..]);

    let keepalive = [0x11, 0x94, 0x11, 0x94, 0, 9, 0, 0, 0xff];
    assert_eq!(
        decapsulate_udp(&keepalive),
        Err(ipsec_esp::UdpError::NatKeepalive)
    );
    let ike = [0x11, 0x94, 0x11, 0x94, 0, 12, 0, 0, 0, 0, 0, 0];
    assert_eq!(decapsulate_udp(&ike), Err(ipsec_esp::UdpError::NotEsp));
    assert!(decapsulate_udp(&ike[..11]).is_err());
}

#[test]
fn padding_alignment_defaults_and_choices() {
    // AES-GCM pads to whole 16-byte blocks by default, to 4 bytes on request (RFC 4303 §2.4).
    let mut out = OutboundSa::new(1, false, gcm(128, &[2; 20]));
    assert_eq!(out.packet_len(64), 8 + 8 + 80 + 16);
    out.set_padding_alignment(4).unwrap();
    assert_eq!(out.packet_len(64), 8 + 8 + 68 + 16);
    let mut sa = inbound(1, false, gcm(128, &[2; 20]));
    let mut packet = seal(&mut out, &[5; 64], 4);
    assert_eq!(sa.open(&mut packet).unwrap().payload, &[5; 64][..]);
    for bad in [0, 2, 3, 12, 512] {
        assert!(out.set_padding_alignment(bad).is_err(), "{bad}");
    }
    // AES-CBC cannot pad to less than its block.
    let mut cbc = OutboundSa::new(1, false, cbc_sha256(&[5; 48]));
    assert!(cbc.set_padding_alignment(8).is_err());
    assert!(cbc.set_padding_alignment(32).is_ok());
}

#[test]
fn ah_only_gmac_integrity_is_refused_for_esp() {
    let gmac = RUST_CRYPTO.integrity(9).expect("AUTH_AES_128_GMAC");
    let cbc = RUST_CRYPTO.cipher(iana::ENCR_AES_CBC, 128).unwrap();
    assert!(matches!(
        EspTransform::cipher_integrity(cbc, gmac, &[0; 36]),
        Err(ipsec_crypto::CryptoError::Unsuitable(_))
    ));
}
