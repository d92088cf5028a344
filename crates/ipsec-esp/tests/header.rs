//! The ESP header (RFC 4303 §2): real packets captured between two strongSwan peers and the
//! RFC 7634 example, read field by field, emitted and compared byte for byte, cut at every
//! length, and a round trip over generated headers.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ipsec_esp::{EmitError, Error, EspHeader, EspHeaderView, HEADER_LEN, Structure};
use proptest::prelude::*;

/// ICV length of every SA in the captures: HMAC-SHA-256-128 (RFC 4868), AES-GCM-16
/// (RFC 4106) and ChaCha20-Poly1305 (RFC 7634) all have 16-byte ICVs.
const ICV_LEN: usize = 16;

/// One captured ESP packet, with what `tests/data/charon/NAME/packets.txt` lists for it and,
/// where TShark could decrypt the SA, the IV and ICV that `tshark-decrypted.txt` shows.
struct Known {
    file: &'static str,
    bytes: &'static [u8],
    spi: u32,
    sequence_number: u32,
    len: usize,
    /// IV length of the SA's cipher: 16 for AES-CBC, 8 for AES-GCM and ChaCha20-Poly1305.
    iv_len: usize,
    /// The IV as TShark decoded it, in hex; `None` where TShark cannot decrypt.
    iv: Option<&'static str>,
    /// The ICV as TShark decoded it, in hex.
    icv: Option<&'static str>,
}

macro_rules! known {
    (
        $dir:literal, $file:literal, $spi:expr, $seq:expr, $len:expr, $iv_len:expr, $iv:expr,
        $icv:expr
    ) => {
        Known {
            file: concat!($dir, "/", $file),
            bytes: include_bytes!(concat!("data/charon/", $dir, "/", $file)),
            spi: $spi,
            sequence_number: $seq,
            len: $len,
            iv_len: $iv_len,
            iv: $iv,
            icv: $icv,
        }
    };
}

/// Every packet of the three captures; columns: directory, file, SPI, sequence number,
/// length (packets.txt), IV length, IV and ICV (tshark-decrypted.txt).
#[rustfmt::skip]
fn known_packets() -> [Known; 18] {
    [
        // AES-CBC-128 + HMAC-SHA2-256-128: 16-byte IV.
        known!("aes128-sha256-modp2048", "05-esp-83868a67.bin", 0x8386_8a67, 1, 136, 16,
            Some("3ba1c3d76156d7377927a35563232769"), Some("8a758f2f87848543b44c38b193d43a2e")),
        known!("aes128-sha256-modp2048", "06-esp-23ed5156.bin", 0x23ed_5156, 1, 136, 16,
            Some("d4568452cd3f7ac6e5396c113b5777ae"), Some("ad7fd78166e87871f6a9deef5ba0330e")),
        known!("aes128-sha256-modp2048", "07-esp-83868a67.bin", 0x8386_8a67, 2, 136, 16,
            Some("8160627c19d701a27420e0c7dac55842"), Some("43122d2a61c879dd552d03197501124d")),
        known!("aes128-sha256-modp2048", "08-esp-23ed5156.bin", 0x23ed_5156, 2, 136, 16,
            Some("00f561df08c2342c28d14b761d64f540"), Some("faa5e76ded32d496247c3c25412c847f")),
        known!("aes128-sha256-modp2048", "09-esp-83868a67.bin", 0x8386_8a67, 3, 136, 16,
            Some("5e7270fb29520b0b2fafccf63fbe8eeb"), Some("2eaa2c353c4f10527cc04cef1371cd17")),
        known!("aes128-sha256-modp2048", "10-esp-23ed5156.bin", 0x23ed_5156, 3, 136, 16,
            Some("ce24f8273ce0c3b83e2294c514a450c9"), Some("f221310acd843a05f4c363ad526f4e8e")),
        // AES-GCM-16 with a 256-bit key: 8-byte IV.
        known!("aes256gcm16-x25519", "05-esp-a0ce6d18.bin", 0xa0ce_6d18, 1, 120, 8,
            Some("59dc93d790818d35"), Some("133512ca1eacbaffbab1089898e1404d")),
        known!("aes256gcm16-x25519", "06-esp-efd81824.bin", 0xefd8_1824, 1, 120, 8,
            Some("943c9e7beb1bbdd8"), Some("82d17e51f73125ade94a70eaa956d973")),
        known!("aes256gcm16-x25519", "07-esp-a0ce6d18.bin", 0xa0ce_6d18, 2, 120, 8,
            Some("59dc93d790818d36"), Some("44cec0378737c2e0a600771cca8f85ec")),
        known!("aes256gcm16-x25519", "08-esp-efd81824.bin", 0xefd8_1824, 2, 120, 8,
            Some("943c9e7beb1bbddb"), Some("a5f9958399127dbbf89077594a3913dd")),
        known!("aes256gcm16-x25519", "09-esp-a0ce6d18.bin", 0xa0ce_6d18, 3, 120, 8,
            Some("59dc93d790818d37"), Some("983e1d3278679f5a3a8750e9e44f4946")),
        known!("aes256gcm16-x25519", "10-esp-efd81824.bin", 0xefd8_1824, 3, 120, 8,
            Some("943c9e7beb1bbdda"), Some("da6b634cc5ce8708b01c72e5c5b49d41")),
        // ChaCha20-Poly1305: 8-byte IV. TShark 4.0 cannot decrypt it: no IV or ICV to compare.
        known!("chacha20poly1305-x25519", "05-esp-7a55cbe4.bin", 0x7a55_cbe4, 1, 120, 8,
            None, None),
        known!("chacha20poly1305-x25519", "06-esp-5edf5d3c.bin", 0x5edf_5d3c, 1, 120, 8,
            None, None),
        known!("chacha20poly1305-x25519", "07-esp-7a55cbe4.bin", 0x7a55_cbe4, 2, 120, 8,
            None, None),
        known!("chacha20poly1305-x25519", "08-esp-5edf5d3c.bin", 0x5edf_5d3c, 2, 120, 8,
            None, None),
        known!("chacha20poly1305-x25519", "09-esp-7a55cbe4.bin", 0x7a55_cbe4, 3, 120, 8,
            None, None),
        known!("chacha20poly1305-x25519", "10-esp-5edf5d3c.bin", 0x5edf_5d3c, 3, 120, 8,
            None, None),
    ]
}

#[test]
fn captured_packets_field_by_field() {
    for known in known_packets() {
        let file = known.file;
        assert_eq!(known.bytes.len(), known.len, "{file}: length");
        let view = EspHeaderView::new_checked(known.bytes).unwrap();
        assert_eq!(view.spi(), known.spi, "{file}: SPI");
        assert_eq!(
            view.sequence_number(),
            known.sequence_number,
            "{file}: sequence"
        );
        let payload = view.payload();
        assert_eq!(
            payload.len(),
            known.len - HEADER_LEN,
            "{file}: payload length"
        );
        assert_eq!(payload, &known.bytes[HEADER_LEN..], "{file}: payload bytes");
        // IV, then ciphertext of a 16-byte aligned (CBC) or 4-byte aligned (AEAD) plaintext of
        // 96 or 88 bytes, then the ICV (README: 84-byte inner packet plus trailer).
        let ciphertext_len = payload.len() - known.iv_len - ICV_LEN;
        assert_eq!(
            ciphertext_len,
            if known.iv_len == 16 { 96 } else { 88 },
            "{file}"
        );
        if let Some(iv) = known.iv {
            assert_eq!(hex::encode(&payload[..known.iv_len]), iv, "{file}: IV");
        }
        if let Some(icv) = known.icv {
            assert_eq!(
                hex::encode(&payload[payload.len() - ICV_LEN..]),
                icv,
                "{file}: ICV"
            );
        }
        assert_eq!(
            EspHeader::parse(known.bytes).unwrap(),
            EspHeader {
                spi: known.spi,
                sequence_number: known.sequence_number,
            },
            "{file}: representation"
        );
        let inner: &[u8] = view.into_inner();
        assert_eq!(inner, known.bytes);
    }
}

#[test]
fn rfc7634_example_packet_field_by_field() {
    let decode = |text: &str| hex::decode(text).unwrap();
    let esp = decode(include_str!("data/rfc7634/esp.hex"));
    let view = EspHeaderView::new_checked(&esp).unwrap();
    assert_eq!(view.spi(), 0x0102_0304);
    assert_eq!(
        view.spi().to_be_bytes().to_vec(),
        decode(include_str!("data/rfc7634/spi.hex"))
    );
    assert_eq!(view.sequence_number(), 5);
    assert_eq!(
        view.sequence_number().to_be_bytes().to_vec(),
        decode(include_str!("data/rfc7634/seq.hex"))
    );
    let mut expected_payload = decode(include_str!("data/rfc7634/iv.hex"));
    expected_payload.extend(decode(include_str!("data/rfc7634/ciphertext.hex")));
    expected_payload.extend(decode(include_str!("data/rfc7634/tag.hex")));
    assert_eq!(view.payload(), expected_payload);

    let mut emitted = vec![0u8; esp.len()];
    EspHeader {
        spi: 0x0102_0304,
        sequence_number: 5,
    }
    .emit(&mut emitted)
    .unwrap();
    emitted[HEADER_LEN..].copy_from_slice(&expected_payload);
    assert_eq!(emitted, esp);
}

#[test]
fn emit_rebuilds_captured_packets_byte_for_byte() {
    for known in known_packets() {
        let header = EspHeader::parse(known.bytes).unwrap();
        assert_eq!(header.buffer_len(), HEADER_LEN);

        let mut just_header = [0u8; HEADER_LEN];
        header.emit(&mut just_header).unwrap();
        assert_eq!(just_header, known.bytes[..HEADER_LEN], "{}", known.file);

        // The whole packet: header from the representation, the opaque rest through the view.
        let mut packet = vec![0u8; known.len];
        header.emit(&mut packet).unwrap();
        let mut view = EspHeaderView::new_checked(&mut packet[..]).unwrap();
        view.payload_mut()
            .copy_from_slice(&known.bytes[HEADER_LEN..]);
        assert_eq!(packet, known.bytes, "{}", known.file);
    }
}

#[test]
fn setters_write_the_fields_in_place() {
    let known = &known_packets()[0];
    let mut packet = known.bytes.to_vec();
    let mut view = EspHeaderView::new_checked(&mut packet[..]).unwrap();
    view.set_spi(0x0102_0304);
    view.set_sequence_number(0xfffe_fdfc);
    assert_eq!(view.spi(), 0x0102_0304);
    assert_eq!(view.sequence_number(), 0xfffe_fdfc);
    assert_eq!(
        packet[..HEADER_LEN],
        [0x01, 0x02, 0x03, 0x04, 0xff, 0xfe, 0xfd, 0xfc]
    );
    assert_eq!(packet[HEADER_LEN..], known.bytes[HEADER_LEN..]);
}

#[test]
fn emit_leaves_the_rest_of_the_buffer_alone() {
    let mut buf = [0xaau8; 12];
    EspHeader {
        spi: 0x8386_8a67,
        sequence_number: 1,
    }
    .emit(&mut buf)
    .unwrap();
    assert_eq!(
        buf,
        [0x83, 0x86, 0x8a, 0x67, 0, 0, 0, 1, 0xaa, 0xaa, 0xaa, 0xaa]
    );
}

#[test]
fn every_truncated_header_is_rejected() {
    for known in known_packets() {
        for len in 0..HEADER_LEN {
            let expected = Err(Error::Truncated {
                what: Structure::Header,
                needed: HEADER_LEN,
                available: len,
            });
            let cut = &known.bytes[..len];
            assert_eq!(EspHeaderView::new_checked(cut).map(|_| ()), expected);
            assert_eq!(EspHeader::parse(cut).map(|_| ()), expected);
        }
        // ESP has no length field: past the header, any length is a header and opaque bytes.
        // Whether they hold a whole IV and ICV is for the SA's transform to decide.
        for len in HEADER_LEN..=known.len {
            let view = EspHeaderView::new_checked(&known.bytes[..len]).unwrap();
            assert_eq!(view.payload().len(), len - HEADER_LEN);
        }
    }
}

#[test]
fn spi_zero_is_rejected_and_iana_reserved_spis_are_accepted() {
    let mut packet = known_packets()[6].bytes.to_vec();
    packet[..4].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(
        EspHeaderView::new_checked(&packet[..]).map(|_| ()),
        Err(Error::ReservedSpi)
    );
    assert_eq!(EspHeader::parse(&packet), Err(Error::ReservedSpi));
    // Even a bare header of SPI 0 is refused for its SPI, not for being short.
    assert_eq!(EspHeader::parse(&[0; HEADER_LEN]), Err(Error::ReservedSpi));

    // RFC 4303 §2.1: 1 to 255 are reserved by IANA for future use; they are not malformed.
    for spi in [1u32, 255] {
        packet[..4].copy_from_slice(&spi.to_be_bytes());
        assert_eq!(EspHeader::parse(&packet).unwrap().spi, spi);
    }

    let mut buf = [0u8; HEADER_LEN];
    assert_eq!(
        EspHeader {
            spi: 0,
            sequence_number: 1
        }
        .emit(&mut buf),
        Err(EmitError::ReservedSpi)
    );
}

#[test]
fn emit_into_a_short_buffer_says_what_it_needs() {
    let header = EspHeader {
        spi: 0xa0ce_6d18,
        sequence_number: 1,
    };
    for len in 0..HEADER_LEN {
        let mut buf = vec![0u8; len];
        assert_eq!(
            header.emit(&mut buf),
            Err(EmitError::BufferTooSmall {
                needed: HEADER_LEN,
                available: len,
            })
        );
        assert!(buf.iter().all(|&b| b == 0), "nothing written on error");
    }
}

proptest! {
    #[test]
    fn parse_emit_round_trip(
        spi in 1u32..,
        sequence_number in any::<u32>(),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let header = EspHeader { spi, sequence_number };
        let mut packet = vec![0u8; HEADER_LEN + tail.len()];
        header.emit(&mut packet).unwrap();
        packet[HEADER_LEN..].copy_from_slice(&tail);
        prop_assert_eq!(&packet[..4], &spi.to_be_bytes()[..]);
        prop_assert_eq!(&packet[4..8], &sequence_number.to_be_bytes()[..]);
        prop_assert_eq!(EspHeader::parse(&packet).unwrap(), header);
        let view = EspHeaderView::new_checked(&packet[..]).unwrap();
        prop_assert_eq!(view.payload(), &tail[..]);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
        match EspHeader::parse(&bytes) {
            Ok(header) => {
                prop_assert!(bytes.len() >= HEADER_LEN);
                prop_assert_ne!(header.spi, 0);
            }
            Err(Error::Truncated { what: Structure::Header, needed: HEADER_LEN, available }) => {
                prop_assert_eq!(available, bytes.len());
                prop_assert!(available < HEADER_LEN);
            }
            Err(Error::ReservedSpi) => prop_assert_eq!(&bytes[..4], &[0u8; 4][..]),
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
