//! The trailer of a decrypted ESP plaintext (RFC 4303 §2.4 to §2.6): the RFC 7634 Appendix A
//! plaintext read field by field and emitted byte for byte, the padding strongSwan sent in
//! the captures, every cut, and round trips over generated trailers and payloads.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ipsec_esp::{
    EmitError, Error, EspPlaintextView, EspTrailer, NEXT_HEADER_DUMMY, Structure, TRAILER_LEN,
    check_default_padding, emit_trailer, split_plaintext,
};
use proptest::prelude::*;

/// Next Header 4: IPv4, the inner packet of a tunnel-mode SA.
const IPV4: u8 = 4;

/// The AEAD plaintext of RFC 7634 Appendix A: the 84-byte source packet, padding `01 02`,
/// Pad Length `02`, Next Header `04` (tests/data/README.md).
fn rfc7634_plaintext() -> Vec<u8> {
    hex::decode(include_str!("data/rfc7634/plaintext.hex")).unwrap()
}

fn rfc7634_source_packet() -> Vec<u8> {
    hex::decode(include_str!("data/rfc7634/source_packet.hex")).unwrap()
}

#[test]
fn rfc7634_plaintext_field_by_field() {
    let plaintext = rfc7634_plaintext();
    let source = rfc7634_source_packet();
    assert_eq!(plaintext.len(), 88);
    assert_eq!(source.len(), 84);

    let (payload, trailer) = split_plaintext(&plaintext).unwrap();
    assert_eq!(payload, source);
    assert_eq!(trailer.pad_length, 2);
    assert_eq!(trailer.next_header, IPV4);
    assert!(!trailer.is_dummy());
    assert_eq!(
        trailer,
        EspTrailer {
            pad_length: 2,
            next_header: IPV4
        }
    );

    let view = EspPlaintextView::new_checked(&plaintext[..]).unwrap();
    assert_eq!(view.payload(), source);
    assert_eq!(view.padding(), [0x01, 0x02]);
    assert_eq!(view.pad_length(), 2);
    assert_eq!(view.next_header(), IPV4);
    assert_eq!(view.trailer(), trailer);
    check_default_padding(view.padding()).unwrap();
    let inner: &[u8] = view.into_inner();
    assert_eq!(inner, plaintext);

    assert_eq!(EspTrailer::parse(&plaintext), Ok(trailer));
    // The trailer alone, without the payload, parses the same.
    assert_eq!(EspTrailer::parse(&plaintext[84..]), Ok(trailer));
}

#[test]
fn rfc7634_plaintext_emitted_byte_for_byte() {
    let plaintext = rfc7634_plaintext();
    let source = rfc7634_source_packet();
    // ChaCha20 is a stream cipher (block size 1), so only the 4-octet alignment of RFC 4303
    // §2.4 applies: 84 + 2 + 2 = 88. Asking for alignment 1, 2 or 4 gives the same bytes.
    for alignment in [1, 2, 4] {
        let mut buf = vec![0xeeu8; 100];
        buf[..84].copy_from_slice(&source);
        let len = emit_trailer(&mut buf, source.len(), alignment, IPV4).unwrap();
        assert_eq!(len, 88);
        assert_eq!(buf[..len], plaintext[..], "alignment {alignment}");
        assert!(
            buf[len..].iter().all(|&b| b == 0xee),
            "nothing past the trailer"
        );
    }

    let trailer = EspTrailer::for_payload(84, 1, IPV4).unwrap();
    assert_eq!(
        trailer,
        EspTrailer {
            pad_length: 2,
            next_header: IPV4
        }
    );
    assert_eq!(trailer.buffer_len(), 4);
    let mut tail = [0u8; 4];
    trailer.emit(&mut tail).unwrap();
    assert_eq!(tail, plaintext[84..]);
}

/// The captures' tunnel carries 84-byte inner IPv4 packets (README, tshark-decrypted.txt).
/// strongSwan padded them for AES-CBC (16-byte blocks) with 10 bytes `01 … 0a` into 96
/// bytes of ciphertext, and for AES-GCM with 2 bytes `01 02` into 88; both with Next Header 4.
#[test]
fn padding_matches_what_strongswan_sent() {
    let mut buf = [0u8; 96];
    let len = emit_trailer(&mut buf, 84, 16, IPV4).unwrap();
    assert_eq!(len, 96);
    let view = EspPlaintextView::new_checked(&buf[..len]).unwrap();
    assert_eq!(hex::encode(view.padding()), "0102030405060708090a");
    assert_eq!(view.pad_length(), 10);
    assert_eq!(view.next_header(), IPV4);
    assert_eq!(view.payload().len(), 84);

    // AES-GCM is a counter mode: no block alignment of its own, so only the 4 octets of
    // RFC 4303 §2.4, as strongSwan did.
    let len = emit_trailer(&mut buf, 84, 1, IPV4).unwrap();
    assert_eq!(len, 88);
    let view = EspPlaintextView::new_checked(&buf[..len]).unwrap();
    assert_eq!(view.padding(), [1, 2]);
    assert_eq!(view.pad_length(), 2);
}

#[test]
fn every_cut_of_the_trailer_is_rejected() {
    let plaintext = rfc7634_plaintext();
    // The trailer is read from the end: keep the last `len` bytes.
    for len in 0..=plaintext.len() {
        let cut = &plaintext[plaintext.len() - len..];
        let result = split_plaintext(cut);
        match len {
            0 | 1 => assert_eq!(
                result,
                Err(Error::Truncated {
                    what: Structure::Trailer,
                    needed: TRAILER_LEN,
                    available: len,
                })
            ),
            2 | 3 => assert_eq!(
                result,
                Err(Error::PadLengthTooLarge {
                    pad_length: 2,
                    available: len - 2,
                })
            ),
            _ => {
                let (payload, trailer) = result.unwrap();
                assert_eq!(payload, &plaintext[88 - len..84]);
                assert_eq!(trailer.pad_length, 2);
            }
        }
        assert_eq!(
            EspPlaintextView::new_checked(cut).map(|_| ()),
            result.map(|_| ())
        );
        assert_eq!(EspTrailer::parse(cut), result.map(|(_, trailer)| trailer));
    }
    // Cut at the front instead, the last two bytes are whatever the cut leaves there: never a
    // panic, and a typed error or a split that adds up.
    for len in 0..=plaintext.len() {
        let cut = &plaintext[..len];
        match split_plaintext(cut) {
            Ok((payload, trailer)) => {
                assert_eq!(payload.len() + usize::from(trailer.pad_length) + 2, len);
            }
            Err(Error::Truncated { .. } | Error::PadLengthTooLarge { .. }) => {}
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
}

#[test]
fn pad_length_may_use_every_byte_before_it() {
    let mut plaintext: Vec<u8> = (1..=255).collect();
    plaintext.extend([255, IPV4]);
    let (payload, trailer) = split_plaintext(&plaintext).unwrap();
    assert!(payload.is_empty());
    assert_eq!(trailer.pad_length, 255);
    let view = EspPlaintextView::new_checked(&plaintext[..]).unwrap();
    assert_eq!(view.padding().len(), 255);
    check_default_padding(view.padding()).unwrap();

    // One byte fewer before it is one too few.
    assert_eq!(
        split_plaintext(&plaintext[1..]),
        Err(Error::PadLengthTooLarge {
            pad_length: 255,
            available: 254,
        })
    );
}

#[test]
fn padding_that_is_not_monotonic_is_rejected() {
    assert_eq!(check_default_padding(&[]), Ok(()));
    assert_eq!(check_default_padding(&[1, 2, 3]), Ok(()));
    assert_eq!(
        check_default_padding(&[0]),
        Err(Error::BadPadding { at: 0, found: 0 })
    );
    assert_eq!(
        check_default_padding(&[1, 3, 2]),
        Err(Error::BadPadding { at: 1, found: 3 })
    );
    assert_eq!(
        check_default_padding(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0b]),
        Err(Error::BadPadding { at: 9, found: 0x0b })
    );
    // The sequence cannot go past 255: a 256th byte is never right.
    let mut long: Vec<u8> = (1..=255).collect();
    assert_eq!(check_default_padding(&long), Ok(()));
    long.push(0);
    assert_eq!(
        check_default_padding(&long),
        Err(Error::BadPadding { at: 255, found: 0 })
    );

    // Corrupting the RFC 7634 padding: the split still works (padding contents are the
    // algorithm's business), the default-padding check does not.
    let mut plaintext = rfc7634_plaintext();
    plaintext[85] = 0x01;
    let view = EspPlaintextView::new_checked(&plaintext[..]).unwrap();
    assert_eq!(view.padding(), [1, 1]);
    assert_eq!(
        check_default_padding(view.padding()),
        Err(Error::BadPadding { at: 1, found: 1 })
    );
}

#[test]
fn next_header_59_is_a_dummy_packet() {
    assert_eq!(NEXT_HEADER_DUMMY, 59);
    let mut buf = [0u8; 8];
    let len = emit_trailer(&mut buf, 0, 1, NEXT_HEADER_DUMMY).unwrap();
    assert_eq!(len, 4);
    assert_eq!(buf[..len], [1, 2, 2, 59]);
    let (payload, trailer) = split_plaintext(&buf[..len]).unwrap();
    assert!(payload.is_empty());
    assert!(trailer.is_dummy());
    assert!(
        !EspTrailer {
            pad_length: 0,
            next_header: 41
        }
        .is_dummy()
    );
}

#[test]
fn emit_errors_are_typed() {
    for alignment in [0, 3, 6, 12, 512, 1024, usize::MAX] {
        assert_eq!(
            EspTrailer::for_payload(10, alignment, IPV4),
            Err(EmitError::InvalidAlignment { alignment })
        );
        let mut buf = [0u8; 64];
        assert_eq!(
            emit_trailer(&mut buf, 10, alignment, IPV4),
            Err(EmitError::InvalidAlignment { alignment })
        );
    }
    // 84 + 10 + 2 = 96 bytes needed for AES-CBC.
    let mut buf = [0u8; 95];
    assert_eq!(
        emit_trailer(&mut buf, 84, 16, IPV4),
        Err(EmitError::BufferTooSmall {
            needed: 96,
            available: 95,
        })
    );
    assert!(buf.iter().all(|&b| b == 0), "nothing written on error");
    let trailer = EspTrailer {
        pad_length: 3,
        next_header: IPV4,
    };
    let mut short = [0u8; 4];
    assert_eq!(
        trailer.emit(&mut short),
        Err(EmitError::BufferTooSmall {
            needed: 5,
            available: 4,
        })
    );
    // A payload longer than the buffer.
    assert_eq!(
        emit_trailer(&mut [0u8; 8], 100, 4, IPV4),
        Err(EmitError::BufferTooSmall {
            needed: 104,
            available: 8,
        })
    );
}

fn alignments() -> impl Strategy<Value = usize> {
    (0u32..=8).prop_map(|shift| 1usize << shift)
}

proptest! {
    #[test]
    fn trailer_parse_emit_round_trip(pad_length in any::<u8>(), next_header in any::<u8>()) {
        let trailer = EspTrailer { pad_length, next_header };
        let mut buf = vec![0u8; trailer.buffer_len()];
        trailer.emit(&mut buf).unwrap();
        prop_assert_eq!(EspTrailer::parse(&buf).unwrap(), trailer);
        let view = EspPlaintextView::new_checked(&buf[..]).unwrap();
        prop_assert!(view.payload().is_empty());
        prop_assert_eq!(check_default_padding(view.padding()), Ok(()));
    }

    #[test]
    fn emitted_plaintext_splits_back(
        payload in proptest::collection::vec(any::<u8>(), 0..600),
        alignment in alignments(),
        next_header in any::<u8>(),
    ) {
        let mut buf = vec![0u8; payload.len() + 256 + TRAILER_LEN];
        buf[..payload.len()].copy_from_slice(&payload);
        let len = emit_trailer(&mut buf, payload.len(), alignment, next_header).unwrap();
        let unit = alignment.max(4);
        prop_assert_eq!(len % unit, 0, "multiple of max(alignment, 4)");
        let (split_payload, trailer) = split_plaintext(&buf[..len]).unwrap();
        prop_assert_eq!(split_payload, &payload[..]);
        prop_assert!(usize::from(trailer.pad_length) < unit, "the least padding");
        prop_assert_eq!(trailer.next_header, next_header);
        prop_assert_eq!(
            trailer,
            EspTrailer::for_payload(payload.len(), alignment, next_header).unwrap()
        );
        let view = EspPlaintextView::new_checked(&buf[..len]).unwrap();
        prop_assert_eq!(check_default_padding(view.padding()), Ok(()));
    }

    #[test]
    fn arbitrary_plaintexts_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        match EspPlaintextView::new_checked(&bytes[..]) {
            Ok(view) => {
                prop_assert_eq!(
                    view.payload().len() + view.padding().len() + TRAILER_LEN,
                    bytes.len()
                );
                prop_assert_eq!(view.padding().len(), usize::from(view.pad_length()));
                let _ = check_default_padding(view.padding());
            }
            Err(Error::Truncated { .. } | Error::PadLengthTooLarge { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }
}
