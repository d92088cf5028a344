//! The IKEv2 message of RFC 7634 Appendix B, decoded (provenance: `tests/data/README.md`).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use ipsec_isakmp::payload::{emit_chain, parse_chain};
use ipsec_isakmp::{ExchangeType, Message, Notify, NotifyType, Payload, PayloadType, Spi};

fn data(file: &str) -> Vec<u8> {
    let text = match file {
        "message" => include_str!("data/rfc7634/message.hex"),
        "aad" => include_str!("data/rfc7634/aad.hex"),
        "iv" => include_str!("data/rfc7634/iv.hex"),
        "ciphertext" => include_str!("data/rfc7634/ciphertext.hex"),
        "tag" => include_str!("data/rfc7634/tag.hex"),
        "inner" => include_str!("data/rfc7634/inner_payloads.hex"),
        other => panic!("no such file {other}"),
    };
    hex::decode(text.trim()).unwrap()
}

#[test]
fn header_and_sk_container() {
    let bytes = data("message");
    let message = Message::parse(&bytes).unwrap();
    assert_eq!(message.initiator_spi, 0xc0c1_c2c3_c4c5_c6c7);
    assert_eq!(message.responder_spi, 0xd0d1_d2d3_d4d5_d6d7);
    assert_eq!(message.exchange_type, ExchangeType::Informational);
    assert_eq!(message.message_id, 9);
    assert!(!message.flags.initiator && !message.flags.response);
    assert_eq!(message.header().length, 69);
    let sk = message.encrypted().unwrap();
    assert_eq!(sk.first_inner, PayloadType::Notify);
    let expected: Vec<u8> = [data("iv"), data("ciphertext"), data("tag")].concat();
    assert_eq!(sk.data, expected);
    // The AAD of RFC 5282 §5.1 is the message up to the end of the SK generic header.
    assert_eq!(bytes[..32], data("aad"));
    assert_eq!(message.to_vec().unwrap(), bytes);
}

#[test]
fn inner_set_window_size_notify() {
    let inner = data("inner");
    let payloads = parse_chain(PayloadType::Notify, &inner).unwrap();
    assert_eq!(
        payloads,
        [Payload::Notify(Notify {
            protocol: ipsec_isakmp::ProtocolId::None,
            spi: Spi::None,
            notify_type: NotifyType::SetWindowSize,
            data: 10u32.to_be_bytes().to_vec(),
        })]
    );
    let mut out = vec![0; inner.len()];
    emit_chain(&payloads, &mut out).unwrap();
    assert_eq!(out, inner);
}
