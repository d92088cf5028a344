//! The AH header (RFC 4302 §2): hand-built known bytes read field by field, emitted and
//! compared byte for byte, cut at every length, and a round trip over generated headers.
//!
//! There is no AH capture in the project's data, so the known bytes below are written out
//! from the field layout of RFC 4302 §2, Figure 1, one field per line, with the rules that
//! fix each value:
//!
//! - Next Header (§2.1): an IP protocol number: 4 (IPv4) or 41 (IPv6) for a tunnel-mode
//!   inner packet, 6 for TCP in transport mode.
//! - Payload Len (§2.2): the header's length in 32-bit words minus 2. §2.2 itself gives
//!   three values that anchor the vectors: 4 for "the 'standard' case of a 96-bit
//!   authentication value plus the 3 32-bit word fixed portion", and for the null
//!   algorithm 1 over IPv4 and 2 over IPv6, "because of the corresponding padding
//!   requirement".
//! - RESERVED (§2.3): zero.
//! - SPI (§2.4): any value above 255.
//! - Sequence Number (§2.5): the sender's counter, 1 for the first packet.
//! - ICV (§2.6): the algorithm's ICV (here a recognisable placeholder: these tests are
//!   about the format; `known_answers.rs` checks computed ICVs), then padding to 4 octets
//!   over IPv4 or 8 over IPv6 (§3.3.3.2.1), written as zeros.
//! - After the header, the first bytes of the protected payload, to check where it starts.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ipsec_ah::{
    AhHeader, AhHeaderView, EmitError, Error, FIXED_LEN, MAX_HEADER_LEN, header_len_for_icv,
};
use proptest::prelude::*;

/// HMAC-SHA-1-96 (96-bit ICV, the §2.2 "standard case"), tunnel mode over IPv4.
/// (12 + 12) bytes = 6 words: Payload Len 4; 24 is a multiple of 4, no padding.
const STANDARD_IPV4: [u8; 28] = [
    0x04, // Next Header: 4, IPv4
    0x04, // Payload Len: 24 / 4 - 2 = 4
    0x00, 0x00, // RESERVED
    0x00, 0x00, 0x12, 0x34, // SPI 0x00001234
    0x00, 0x00, 0x00, 0x01, // Sequence Number 1
    0xa0, 0xa1, 0xa2, 0xa3, // ICV (12 bytes)
    0xa4, 0xa5, 0xa6, 0xa7, //
    0xa8, 0xa9, 0xaa, 0xab, //
    0x45, 0x00, 0x00, 0x54, // payload: start of the inner IPv4 header
];

/// HMAC-SHA-256-128 (128-bit ICV), transport mode over IPv6.
/// 12 + 16 = 28 bytes, padded to 32 for IPv6 = 8 words: Payload Len 6; ICV field 20 bytes.
const SHA256_IPV6: [u8; 36] = [
    0x06, // Next Header: 6, TCP
    0x06, // Payload Len: 32 / 4 - 2 = 6
    0x00, 0x00, // RESERVED
    0xc0, 0xff, 0xee, 0x01, // SPI 0xc0ffee01
    0x00, 0x00, 0x00, 0x2a, // Sequence Number 42
    0x10, 0x11, 0x12, 0x13, // ICV (16 bytes)
    0x14, 0x15, 0x16, 0x17, //
    0x18, 0x19, 0x1a, 0x1b, //
    0x1c, 0x1d, 0x1e, 0x1f, //
    0x00, 0x00, 0x00, 0x00, // padding to 8 octets (§3.3.3.2.1)
    0x01, 0xbb, 0xc3, 0x50, // payload: TCP source port 443, destination port 50000
];

/// The same algorithm over IPv4: 28 bytes = 7 words: Payload Len 5, no padding.
const SHA256_IPV4: [u8; 28] = [
    0x06, // Next Header: 6, TCP
    0x05, // Payload Len: 28 / 4 - 2 = 5
    0x00, 0x00, // RESERVED
    0xc0, 0xff, 0xee, 0x01, // SPI 0xc0ffee01
    0x00, 0x00, 0x00, 0x2a, // Sequence Number 42
    0x10, 0x11, 0x12, 0x13, // ICV (16 bytes)
    0x14, 0x15, 0x16, 0x17, //
    0x18, 0x19, 0x1a, 0x1b, //
    0x1c, 0x1d, 0x1e, 0x1f, //
];

/// The null algorithm over IPv4 (§2.2: Payload Len 1): the fixed part alone.
const NULL_IPV4: [u8; 12] = [
    0x04, // Next Header: 4, IPv4
    0x01, // Payload Len: 12 / 4 - 2 = 1
    0x00, 0x00, // RESERVED
    0x00, 0x00, 0x01, 0x00, // SPI 0x00000100, the first above the IANA-reserved range
    0xff, 0xff, 0xff, 0xff, // Sequence Number 2^32 - 1
];

/// The null algorithm over IPv6 (§2.2: Payload Len 2): 12 bytes padded to 16.
const NULL_IPV6: [u8; 16] = [
    0x29, // Next Header: 41, IPv6
    0x02, // Payload Len: 16 / 4 - 2 = 2
    0x00, 0x00, // RESERVED
    0x00, 0x00, 0x01, 0x00, // SPI 0x00000100
    0x00, 0x00, 0x00, 0x01, // Sequence Number 1
    0x00, 0x00, 0x00, 0x00, // padding to 8 octets, no ICV
];

struct Known {
    name: &'static str,
    bytes: &'static [u8],
    ipv6: bool,
    /// The algorithm's ICV length.
    icv_len: usize,
    next_header: u8,
    payload_len: u8,
    spi: u32,
    sequence_number: u32,
    header_len: usize,
    icv: &'static [u8],
    padding: &'static [u8],
    payload: &'static [u8],
}

fn known() -> [Known; 5] {
    [
        Known {
            name: "STANDARD_IPV4",
            bytes: &STANDARD_IPV4,
            ipv6: false,
            icv_len: 12,
            next_header: 4,
            payload_len: 4,
            spi: 0x1234,
            sequence_number: 1,
            header_len: 24,
            icv: &[
                0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
            ],
            padding: &[],
            payload: &[0x45, 0x00, 0x00, 0x54],
        },
        Known {
            name: "SHA256_IPV6",
            bytes: &SHA256_IPV6,
            ipv6: true,
            icv_len: 16,
            next_header: 6,
            payload_len: 6,
            spi: 0xc0ff_ee01,
            sequence_number: 42,
            header_len: 32,
            icv: &[
                0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
                0x1e, 0x1f,
            ],
            padding: &[0, 0, 0, 0],
            payload: &[0x01, 0xbb, 0xc3, 0x50],
        },
        Known {
            name: "SHA256_IPV4",
            bytes: &SHA256_IPV4,
            ipv6: false,
            icv_len: 16,
            next_header: 6,
            payload_len: 5,
            spi: 0xc0ff_ee01,
            sequence_number: 42,
            header_len: 28,
            icv: &[
                0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
                0x1e, 0x1f,
            ],
            padding: &[],
            payload: &[],
        },
        Known {
            name: "NULL_IPV4",
            bytes: &NULL_IPV4,
            ipv6: false,
            icv_len: 0,
            next_header: 4,
            payload_len: 1,
            spi: 0x100,
            sequence_number: u32::MAX,
            header_len: 12,
            icv: &[],
            padding: &[],
            payload: &[],
        },
        Known {
            name: "NULL_IPV6",
            bytes: &NULL_IPV6,
            ipv6: true,
            icv_len: 0,
            next_header: 41,
            payload_len: 2,
            spi: 0x100,
            sequence_number: 1,
            header_len: 16,
            icv: &[],
            padding: &[0, 0, 0, 0],
            payload: &[],
        },
    ]
}

#[test]
fn known_bytes_field_by_field() {
    for k in known() {
        let name = k.name;
        let view = AhHeaderView::new_checked(k.bytes).unwrap();
        assert_eq!(view.next_header(), k.next_header, "{name}");
        assert_eq!(view.payload_len(), k.payload_len, "{name}");
        assert_eq!(view.reserved(), 0, "{name}");
        assert_eq!(view.spi(), k.spi, "{name}");
        assert_eq!(view.sequence_number(), k.sequence_number, "{name}");
        assert_eq!(view.header_len(), k.header_len, "{name}");
        assert_eq!(
            header_len_for_icv(k.icv_len, k.ipv6),
            k.header_len,
            "{name}"
        );
        assert_eq!(view.icv().len(), k.icv.len() + k.padding.len(), "{name}");
        assert_eq!(view.icv(), &k.bytes[FIXED_LEN..k.header_len], "{name}");
        let (icv, padding) = view.split_icv(k.icv_len).unwrap();
        assert_eq!(icv, k.icv, "{name}: ICV");
        assert_eq!(padding, k.padding, "{name}: padding");
        assert_eq!(view.payload(), k.payload, "{name}: payload");

        let header = AhHeader::parse(k.bytes).unwrap();
        assert_eq!(
            header,
            AhHeader {
                next_header: k.next_header,
                spi: k.spi,
                sequence_number: k.sequence_number,
                icv_field_len: k.header_len - FIXED_LEN,
            },
            "{name}"
        );
        assert_eq!(
            header,
            AhHeader::new(k.next_header, k.spi, k.sequence_number, k.icv_len, k.ipv6),
            "{name}"
        );
        let inner: &[u8] = view.into_inner();
        assert_eq!(inner, k.bytes);
    }
}

#[test]
fn emit_rebuilds_known_bytes_byte_for_byte() {
    for k in known() {
        let name = k.name;
        let header = AhHeader::new(k.next_header, k.spi, k.sequence_number, k.icv_len, k.ipv6);
        assert_eq!(header.buffer_len(), k.header_len, "{name}");
        let mut buf = vec![0xeeu8; k.bytes.len()];
        header.emit(&mut buf).unwrap();
        // emit leaves the ICV field zero, ready for the ICV computation (RFC 4302 §3.3.3.1).
        assert!(
            buf[FIXED_LEN..k.header_len].iter().all(|&b| b == 0),
            "{name}"
        );
        assert_eq!(buf[..FIXED_LEN], k.bytes[..FIXED_LEN], "{name}");
        let mut view = AhHeaderView::new_checked(&mut buf[..]).unwrap();
        view.set_icv(k.icv).unwrap();
        view.payload_mut().copy_from_slice(k.payload);
        assert_eq!(buf, k.bytes, "{name}");
    }
}

#[test]
fn setters_write_the_fields_in_place() {
    let mut buf = SHA256_IPV6;
    let mut view = AhHeaderView::new_checked(&mut buf[..]).unwrap();
    view.set_next_header(17);
    view.set_reserved(0xbeef);
    view.set_spi(0x0102_0304);
    view.set_sequence_number(0x0506_0708);
    view.icv_mut().fill(0x77);
    view.payload_mut().fill(0x99);
    assert_eq!(view.next_header(), 17);
    assert_eq!(view.reserved(), 0xbeef);
    assert_eq!(view.spi(), 0x0102_0304);
    assert_eq!(view.sequence_number(), 0x0506_0708);
    view.set_payload_len(4);
    assert_eq!(view.header_len(), 24);
    assert_eq!(view.icv(), [0x77; 12]);
    assert_eq!(
        buf[..FIXED_LEN],
        [17, 4, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(buf[FIXED_LEN..32], [0x77; 20]);
    assert_eq!(buf[32..], [0x99; 4]);
}

#[test]
fn reserved_is_read_but_not_enforced() {
    // RFC 4302 §2.3: RESERVED "SHOULD be ignored by the recipient".
    let mut buf = STANDARD_IPV4;
    buf[2] = 0x12;
    buf[3] = 0x34;
    let view = AhHeaderView::new_checked(&buf[..]).unwrap();
    assert_eq!(view.reserved(), 0x1234);
    assert_eq!(AhHeader::parse(&buf).unwrap().spi, 0x1234);
    // And emit writes it as zero again.
    let mut out = [0u8; 24];
    AhHeader::parse(&buf).unwrap().emit(&mut out).unwrap();
    assert_eq!(out[2..4], [0, 0]);
}

#[test]
fn padding_content_is_the_senders_choice() {
    // §3.3.3.2.1: the padding is arbitrary; the view hands it out as sent.
    let mut buf = SHA256_IPV6;
    buf[28..32].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let view = AhHeaderView::new_checked(&buf[..]).unwrap();
    let (icv, padding) = view.split_icv(16).unwrap();
    assert_eq!(icv.len(), 16);
    assert_eq!(padding, [0xde, 0xad, 0xbe, 0xef]);
    // Given a shorter algorithm ICV, more of the field counts as padding.
    let (icv, padding) = view.split_icv(12).unwrap();
    assert_eq!((icv.len(), padding.len()), (12, 8));
}

#[test]
fn every_truncation_is_rejected() {
    for k in known() {
        for len in 0..k.header_len {
            // Before the fixed part is whole, the header's own length is unknown.
            let needed = if len < FIXED_LEN {
                FIXED_LEN
            } else {
                k.header_len
            };
            let cut = &k.bytes[..len];
            let expected = Err(Error::Truncated {
                needed,
                available: len,
            });
            assert_eq!(
                AhHeaderView::new_checked(cut).map(|_| ()),
                expected,
                "{}",
                k.name
            );
            assert_eq!(AhHeader::parse(cut).map(|_| ()), expected, "{}", k.name);
        }
        // Cutting into the payload leaves a whole header.
        for len in k.header_len..=k.bytes.len() {
            let view = AhHeaderView::new_checked(&k.bytes[..len]).unwrap();
            assert_eq!(view.payload().len(), len - k.header_len);
        }
    }
}

#[test]
fn payload_len_below_the_fixed_part_is_rejected() {
    let mut buf = STANDARD_IPV4;
    buf[1] = 0; // (0 + 2) * 4 = 8 bytes < 12
    let expected = Err(Error::LengthTooSmall {
        length: 8,
        minimum: FIXED_LEN,
    });
    assert_eq!(AhHeaderView::new_checked(&buf[..]).map(|_| ()), expected);
    assert_eq!(AhHeader::parse(&buf).map(|_| ()), expected);
}

#[test]
fn payload_len_past_the_buffer_is_rejected() {
    let mut buf = STANDARD_IPV4;
    buf[1] = 255; // (255 + 2) * 4 = 1028 bytes
    assert_eq!(
        AhHeader::parse(&buf),
        Err(Error::Truncated {
            needed: MAX_HEADER_LEN,
            available: 28,
        })
    );
}

#[test]
fn spi_zero_is_rejected_and_iana_reserved_spis_are_accepted() {
    let mut buf = STANDARD_IPV4;
    buf[4..8].copy_from_slice(&0u32.to_be_bytes());
    assert_eq!(
        AhHeaderView::new_checked(&buf[..]).map(|_| ()),
        Err(Error::ReservedSpi)
    );
    assert_eq!(AhHeader::parse(&buf), Err(Error::ReservedSpi));
    // RFC 4302 §2.4: 1 to 255 are reserved by IANA for future use; they are not malformed.
    for spi in [1u32, 255] {
        buf[4..8].copy_from_slice(&spi.to_be_bytes());
        assert_eq!(AhHeader::parse(&buf).unwrap().spi, spi);
    }
    let mut out = [0u8; 24];
    assert_eq!(
        AhHeader::new(4, 0, 1, 12, false).emit(&mut out),
        Err(EmitError::ReservedSpi)
    );
}

#[test]
fn header_len_for_icv_pads_to_the_ip_version() {
    // (ICV length, IPv4 header length, IPv6 header length)
    let table = [
        (0, 12, 16),  // null algorithm, §2.2
        (12, 24, 24), // HMAC-SHA-1-96, AES-XCBC-MAC-96: §2.2 "standard case"
        (16, 28, 32), // HMAC-SHA-256-128, AES-GMAC
        (24, 36, 40), // HMAC-SHA-384-192
        (32, 44, 48), // HMAC-SHA-512-256
        (1, 16, 16),  // not a multiple of 4: padded like any other
    ];
    for (icv_len, v4, v6) in table {
        assert_eq!(
            header_len_for_icv(icv_len, false),
            v4,
            "IPv4, ICV {icv_len}"
        );
        assert_eq!(header_len_for_icv(icv_len, true), v6, "IPv6, ICV {icv_len}");
        assert_eq!(AhHeader::new(0, 1, 1, icv_len, false).buffer_len(), v4);
        assert_eq!(AhHeader::new(0, 1, 1, icv_len, true).buffer_len(), v6);
    }
    assert_eq!(header_len_for_icv(usize::MAX, false), usize::MAX);
}

#[test]
fn emit_errors_are_typed() {
    let mut buf = [0u8; 2048];
    for icv_field_len in [1, 2, 3, 5, 1017, 1020, 1024, usize::MAX] {
        let header = AhHeader {
            next_header: 4,
            spi: 0x1234,
            sequence_number: 1,
            icv_field_len,
        };
        assert_eq!(
            header.emit(&mut buf),
            Err(EmitError::InvalidIcvFieldLen {
                length: icv_field_len
            }),
            "{icv_field_len}"
        );
    }
    // The longest header Payload Len can express.
    let longest = AhHeader {
        next_header: 4,
        spi: 0x1234,
        sequence_number: 1,
        icv_field_len: MAX_HEADER_LEN - FIXED_LEN,
    };
    longest.emit(&mut buf).unwrap();
    assert_eq!(buf[1], 255);
    assert_eq!(AhHeader::parse(&buf[..MAX_HEADER_LEN]).unwrap(), longest);

    let header = AhHeader::new(4, 0x1234, 1, 12, false);
    for len in 0..24 {
        let mut short = vec![0u8; len];
        assert_eq!(
            header.emit(&mut short),
            Err(EmitError::BufferTooSmall {
                needed: 24,
                available: len,
            })
        );
        assert!(short.iter().all(|&b| b == 0), "nothing written on error");
    }
}

#[test]
fn icv_longer_than_its_field_is_rejected() {
    let mut buf = STANDARD_IPV4;
    let mut view = AhHeaderView::new_checked(&mut buf[..]).unwrap();
    assert_eq!(
        view.split_icv(16),
        Err(Error::IcvFieldTooShort {
            icv_len: 16,
            field_len: 12,
        })
    );
    assert_eq!(
        view.set_icv(&[0; 16]),
        Err(EmitError::IcvTooLong {
            icv_len: 16,
            field_len: 12,
        })
    );
    assert_eq!(buf, STANDARD_IPV4, "nothing written on error");
}

proptest! {
    #[test]
    fn parse_emit_round_trip(
        next_header in any::<u8>(),
        spi in 1u32..,
        sequence_number in any::<u32>(),
        words in 0usize..=254,
    ) {
        let header = AhHeader { next_header, spi, sequence_number, icv_field_len: words * 4 };
        let mut buf = vec![0xeeu8; header.buffer_len()];
        header.emit(&mut buf).unwrap();
        prop_assert_eq!(buf[1], u8::try_from(words + 1).unwrap());
        prop_assert!(buf[FIXED_LEN..].iter().all(|&b| b == 0));
        prop_assert_eq!(AhHeader::parse(&buf).unwrap(), header);
    }

    #[test]
    fn new_pads_as_header_len_for_icv_says(icv_len in 0usize..=1016, ipv6 in any::<bool>()) {
        let unit = if ipv6 { 8 } else { 4 };
        let len = header_len_for_icv(icv_len, ipv6);
        prop_assert_eq!(len % unit, 0);
        prop_assert!(len >= FIXED_LEN + icv_len);
        prop_assert!(len < FIXED_LEN + icv_len + unit, "only enough padding");
        let header = AhHeader::new(4, 0x1234, 1, icv_len, ipv6);
        let mut buf = vec![0u8; header.buffer_len()];
        if len <= MAX_HEADER_LEN {
            header.emit(&mut buf).unwrap();
            let view = AhHeaderView::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(view.header_len(), len);
            let (icv, padding) = view.split_icv(icv_len).unwrap();
            prop_assert_eq!(icv.len(), icv_len);
            prop_assert_eq!(padding.len(), len - FIXED_LEN - icv_len);
        } else {
            prop_assert_eq!(
                header.emit(&mut buf),
                Err(EmitError::InvalidIcvFieldLen { length: len - FIXED_LEN })
            );
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        match AhHeaderView::new_checked(&bytes[..]) {
            Ok(view) => {
                prop_assert!(view.header_len() <= bytes.len());
                prop_assert_eq!(view.icv().len() + FIXED_LEN, view.header_len());
                prop_assert_eq!(view.payload().len(), bytes.len() - view.header_len());
                prop_assert_ne!(view.spi(), 0);
            }
            Err(Error::Truncated { .. } | Error::LengthTooSmall { .. } | Error::ReservedSpi) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
