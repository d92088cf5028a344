//! Real IKEv2 messages between two strongSwan 5.9.8 charons, decoded field by field.
//!
//! The bytes and their provenance are in `tests/data/README.md`; the expected values come
//! from tshark's independent dissection of the same frames (`tshark.txt`,
//! `tshark-decrypted.txt` beside the messages).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::Ipv4Addr;

use ipsec_isakmp::payload::{emit_chain, parse_chain};
use ipsec_isakmp::{
    AddressRange, AuthMethod, Delete, DhGroup, EncrId, EsnId, ExchangeType, IdType, IntegId,
    Message, NotifyType, Payload, PayloadType, PrfId, ProtocolId, Spi, TrafficSelector,
    TransformId,
};

macro_rules! capture {
    ($suite:literal, $file:literal) => {
        include_bytes!(concat!("data/charon/", $suite, "/", $file)).as_slice()
    };
}

/// Every message of the three captures, by name.
fn all_messages() -> Vec<(&'static str, &'static [u8])> {
    macro_rules! suite {
        ($suite:literal) => {
            [
                (
                    concat!($suite, "/01"),
                    capture!($suite, "01-ike_sa_init-request.bin"),
                ),
                (
                    concat!($suite, "/02"),
                    capture!($suite, "02-ike_sa_init-response.bin"),
                ),
                (
                    concat!($suite, "/03"),
                    capture!($suite, "03-ike_auth-request.bin"),
                ),
                (
                    concat!($suite, "/04"),
                    capture!($suite, "04-ike_auth-response.bin"),
                ),
                (
                    concat!($suite, "/11"),
                    capture!($suite, "11-informational-request.bin"),
                ),
                (
                    concat!($suite, "/12"),
                    capture!($suite, "12-informational-response.bin"),
                ),
            ]
        };
    }
    let mut all = Vec::new();
    all.extend(suite!("aes256gcm16-x25519"));
    all.extend(suite!("aes128-sha256-modp2048"));
    all.extend(suite!("chacha20poly1305-x25519"));
    all
}

/// Every decrypted SK content of the three captures with its first payload type.
fn all_inner() -> Vec<(&'static str, PayloadType, &'static [u8])> {
    macro_rules! suite {
        ($suite:literal) => {
            [
                (
                    concat!($suite, "/03"),
                    PayloadType::IdInitiator,
                    capture!($suite, "03-ike_auth-request-inner.bin"),
                ),
                (
                    concat!($suite, "/04"),
                    PayloadType::IdResponder,
                    capture!($suite, "04-ike_auth-response-inner.bin"),
                ),
                (
                    concat!($suite, "/11"),
                    PayloadType::Delete,
                    capture!($suite, "11-informational-request-inner.bin"),
                ),
            ]
        };
    }
    let mut all = Vec::new();
    all.extend(suite!("aes256gcm16-x25519"));
    all.extend(suite!("aes128-sha256-modp2048"));
    all.extend(suite!("chacha20poly1305-x25519"));
    all
}

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn notify_types(payloads: &[Payload]) -> Vec<NotifyType> {
    payloads
        .iter()
        .filter_map(|p| match p {
            Payload::Notify(n) => Some(n.notify_type),
            _ => None,
        })
        .collect()
}

fn ipv4_host(addr: Ipv4Addr) -> TrafficSelector {
    TrafficSelector::Ipv4(AddressRange {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_address: addr,
        end_address: addr,
    })
}

#[test]
fn ike_sa_init_request_field_by_field() {
    let bytes = capture!("aes256gcm16-x25519", "01-ike_sa_init-request.bin");
    let message = Message::parse(bytes).unwrap();
    assert_eq!(message.initiator_spi, 0x2086_b6e0_9a8c_7125);
    assert_eq!(message.responder_spi, 0);
    assert_eq!(message.minor_version, 0);
    assert_eq!(message.exchange_type, ExchangeType::IkeSaInit);
    assert!(message.flags.initiator && !message.flags.response && !message.flags.version);
    assert_eq!(message.message_id, 0);
    assert_eq!(message.header().length, 232);
    assert_eq!(
        message.header().next_payload,
        PayloadType::SecurityAssociation
    );

    let Payload::SecurityAssociation(sa) = &message.payloads[0] else {
        panic!("first payload is not SA: {:?}", message.payloads[0]);
    };
    assert_eq!(sa.proposals.len(), 1);
    let proposal = &sa.proposals[0];
    assert_eq!(proposal.number, 1);
    assert_eq!(proposal.protocol, ProtocolId::Ike);
    assert_eq!(proposal.spi, Spi::None);
    let ids: Vec<_> = proposal.transforms.iter().map(|t| t.id()).collect();
    assert_eq!(
        ids,
        [
            TransformId::Encr(EncrId::AesGcm16),
            TransformId::Prf(PrfId::HmacSha2_256),
            TransformId::Dh(DhGroup::Curve25519),
        ]
    );
    assert_eq!(proposal.transforms[0].key_length(), Some(256));
    assert_eq!(proposal.transforms[1].key_length(), None);

    let Payload::KeyExchange(ke) = &message.payloads[1] else {
        panic!("second payload is not KE");
    };
    assert_eq!(ke.group, DhGroup::Curve25519);
    assert_eq!(
        ke.data,
        hex("3d95fd22aa6583c118c0f9be5ec4551d17a1e9723722526e1af7ef5152a74c64")
    );
    let Payload::Nonce(nonce) = &message.payloads[2] else {
        panic!("third payload is not Nonce");
    };
    assert_eq!(
        nonce.data,
        hex("3302f40a414cf32666a25dfe2d149b0e803b43b4a6257aa06ddf5bc562ab732c")
    );
    assert_eq!(
        notify_types(&message.payloads),
        [
            NotifyType::NatDetectionSourceIp,
            NotifyType::NatDetectionDestinationIp,
            NotifyType::Ikev2FragmentationSupported,
            NotifyType::SignatureHashAlgorithms,
            NotifyType::RedirectSupported,
        ]
    );
    let nat_source = message.notify(NotifyType::NatDetectionSourceIp).unwrap();
    assert_eq!(nat_source.protocol, ProtocolId::None);
    assert_eq!(nat_source.spi, Spi::None);
    assert_eq!(
        nat_source.data,
        hex("5fb769716b4c506b4df6ee498fff6cdd6e26033d")
    );
    assert_eq!(
        message
            .notify(NotifyType::NatDetectionDestinationIp)
            .unwrap()
            .data,
        hex("9ea677c74fde7bab397605dffadd948944a372ab")
    );
    assert_eq!(
        message
            .notify(NotifyType::SignatureHashAlgorithms)
            .unwrap()
            .data,
        hex("0002000300040005")
    );
    assert!(
        message
            .notify(NotifyType::RedirectSupported)
            .unwrap()
            .data
            .is_empty()
    );
}

#[test]
fn ike_sa_init_response_field_by_field() {
    let bytes = capture!("aes256gcm16-x25519", "02-ike_sa_init-response.bin");
    let message = Message::parse(bytes).unwrap();
    assert_eq!(message.initiator_spi, 0x2086_b6e0_9a8c_7125);
    assert_eq!(message.responder_spi, 0x9cd4_6033_1fea_1aaf);
    assert!(!message.flags.initiator && message.flags.response);
    assert_eq!(message.header().length, 240);
    let Payload::KeyExchange(ke) = &message.payloads[1] else {
        panic!("second payload is not KE");
    };
    assert_eq!(
        ke.data,
        hex("f5ccb16de6c2d27b7dc3dc9564238b00f8c9f6346e5e5ae5d0af1e3908402a19")
    );
    let Payload::Nonce(nonce) = &message.payloads[2] else {
        panic!("third payload is not Nonce");
    };
    assert_eq!(
        nonce.data,
        hex("058104b8e8f6c460046379757bcef28a5e73c2f4f5fa1eab7dfe2b35a79ac9bc")
    );
    assert_eq!(
        message
            .notify(NotifyType::NatDetectionSourceIp)
            .unwrap()
            .data,
        hex("b39235cd931153229626295c50becc5dfc2d9335")
    );
    assert_eq!(
        message
            .notify(NotifyType::NatDetectionDestinationIp)
            .unwrap()
            .data,
        hex("f0bd7a8e99c8684ecb7bb117fc0057dbd22b1c9a")
    );
}

#[test]
fn modp_proposal_with_integrity_field_by_field() {
    let bytes = capture!("aes128-sha256-modp2048", "01-ike_sa_init-request.bin");
    let message = Message::parse(bytes).unwrap();
    assert_eq!(message.header().length, 464);
    let Payload::SecurityAssociation(sa) = &message.payloads[0] else {
        panic!("first payload is not SA");
    };
    let ids: Vec<_> = sa.proposals[0].transforms.iter().map(|t| t.id()).collect();
    assert_eq!(
        ids,
        [
            TransformId::Encr(EncrId::AesCbc),
            TransformId::Integ(IntegId::HmacSha2_256_128),
            TransformId::Prf(PrfId::HmacSha2_256),
            TransformId::Dh(DhGroup::Modp2048),
        ]
    );
    assert_eq!(sa.proposals[0].transforms[0].key_length(), Some(128));
    let Payload::KeyExchange(ke) = &message.payloads[1] else {
        panic!("second payload is not KE");
    };
    assert_eq!(ke.group, DhGroup::Modp2048);
    assert_eq!(ke.data.len(), 256);
    let Payload::Nonce(nonce) = &message.payloads[2] else {
        panic!("third payload is not Nonce");
    };
    assert_eq!(
        nonce.data,
        hex("8dff09a34984686f58df0c301287a7749d4c9e1a80c315d79c223c6afa1d74a9")
    );
}

#[test]
fn ike_auth_request_outer_and_inner_field_by_field() {
    let bytes = capture!("aes256gcm16-x25519", "03-ike_auth-request.bin");
    let message = Message::parse(bytes).unwrap();
    assert_eq!(message.exchange_type, ExchangeType::IkeAuth);
    assert_eq!(message.message_id, 1);
    assert_eq!(message.header().length, 265);
    assert_eq!(message.payloads.len(), 1);
    let sk = message.encrypted().unwrap();
    assert_eq!(sk.first_inner, PayloadType::IdInitiator);
    assert_eq!(sk.data.len(), 237 - 4);
    assert_eq!(sk.data[..8], hex("cb7033cce3c6c16b"));

    let inner = capture!("aes256gcm16-x25519", "03-ike_auth-request-inner.bin");
    let payloads = parse_chain(sk.first_inner, inner).unwrap();
    let Payload::IdInitiator(idi) = &payloads[0] else {
        panic!("first inner payload is not IDi");
    };
    assert_eq!(idi.id_type, IdType::Rfc822Addr);
    assert_eq!(idi.as_str(), Some("initiator@lab.test"));
    let Payload::Notify(initial_contact) = &payloads[1] else {
        panic!("second inner payload is not a Notify");
    };
    assert_eq!(initial_contact.notify_type, NotifyType::InitialContact);
    let Payload::IdResponder(idr) = &payloads[2] else {
        panic!("third inner payload is not IDr");
    };
    assert_eq!(idr.as_str(), Some("responder@lab.test"));
    let Payload::Authentication(auth) = &payloads[3] else {
        panic!("fourth inner payload is not AUTH");
    };
    assert_eq!(auth.method, AuthMethod::SharedKeyMic);
    assert_eq!(
        auth.data,
        hex("4e7eb23cef8002b91b12ad83aa9b91c83ac72ae018944dbc8b6f65fa473519a8")
    );
    let Payload::SecurityAssociation(sa) = &payloads[4] else {
        panic!("fifth inner payload is not SA");
    };
    let proposal = &sa.proposals[0];
    assert_eq!(proposal.protocol, ProtocolId::Esp);
    assert_eq!(proposal.spi, Spi::Ipsec(0xefd8_1824));
    let ids: Vec<_> = proposal.transforms.iter().map(|t| t.id()).collect();
    assert_eq!(
        ids,
        [
            TransformId::Encr(EncrId::AesGcm16),
            TransformId::Esn(EsnId::NoEsn),
        ]
    );
    assert_eq!(
        payloads[5],
        Payload::TsInitiator(ipsec_isakmp::TrafficSelectors {
            selectors: vec![ipv4_host(Ipv4Addr::new(10, 99, 1, 1))],
        })
    );
    assert_eq!(
        payloads[6],
        Payload::TsResponder(ipsec_isakmp::TrafficSelectors {
            selectors: vec![ipv4_host(Ipv4Addr::new(10, 99, 2, 1))],
        })
    );
    assert_eq!(
        notify_types(&payloads),
        [
            NotifyType::InitialContact,
            NotifyType::MultipleAuthSupported,
            NotifyType::EapOnlyAuthentication,
            NotifyType::Ikev2MessageIdSyncSupported,
        ]
    );
}

#[test]
fn ike_auth_response_inner_field_by_field() {
    let message =
        Message::parse(capture!("aes256gcm16-x25519", "04-ike_auth-response.bin")).unwrap();
    assert!(message.flags.response);
    assert_eq!(message.header().length, 207);
    let sk = message.encrypted().unwrap();
    assert_eq!(sk.first_inner, PayloadType::IdResponder);
    assert_eq!(sk.data[..8], hex("7cef1ca67dc16ea7"));
    let inner = capture!("aes256gcm16-x25519", "04-ike_auth-response-inner.bin");
    let payloads = parse_chain(sk.first_inner, inner).unwrap();
    let types: Vec<_> = payloads.iter().map(Payload::payload_type).collect();
    assert_eq!(
        types,
        [
            PayloadType::IdResponder,
            PayloadType::Authentication,
            PayloadType::SecurityAssociation,
            PayloadType::TsInitiator,
            PayloadType::TsResponder,
        ]
    );
    let Payload::Authentication(auth) = &payloads[1] else {
        panic!("second inner payload is not AUTH");
    };
    assert_eq!(
        auth.data,
        hex("093b7a7e8279e85259d29f42008ef8ff4d16f113d4b5bb1908f8635cdd17a887")
    );
    let Payload::SecurityAssociation(sa) = &payloads[2] else {
        panic!("third inner payload is not SA");
    };
    assert_eq!(sa.proposals[0].spi, Spi::Ipsec(0xa0ce_6d18));
}

#[test]
fn informational_delete_and_empty_response() {
    let request = Message::parse(capture!(
        "aes256gcm16-x25519",
        "11-informational-request.bin"
    ))
    .unwrap();
    assert_eq!(request.exchange_type, ExchangeType::Informational);
    assert_eq!(request.message_id, 2);
    let sk = request.encrypted().unwrap();
    assert_eq!(sk.first_inner, PayloadType::Delete);
    let inner = capture!("aes256gcm16-x25519", "11-informational-request-inner.bin");
    assert_eq!(
        parse_chain(sk.first_inner, inner).unwrap(),
        [Payload::Delete(Delete::IkeSa)]
    );

    let response = Message::parse(capture!(
        "aes256gcm16-x25519",
        "12-informational-response.bin"
    ))
    .unwrap();
    let sk = response.encrypted().unwrap();
    assert_eq!(sk.first_inner, PayloadType::NoNextPayload);
    assert_eq!(
        parse_chain(sk.first_inner, &[]).unwrap(),
        Vec::<Payload>::new()
    );
}

#[test]
fn every_message_emits_byte_for_byte() {
    for (name, bytes) in all_messages() {
        let message = Message::parse(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(message.buffer_len(), bytes.len(), "{name}");
        assert_eq!(message.to_vec().unwrap(), bytes, "{name}");
    }
    for (name, first, bytes) in all_inner() {
        let payloads = parse_chain(first, bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = vec![0; bytes.len()];
        assert_eq!(emit_chain(&payloads, &mut out).unwrap(), bytes.len());
        assert_eq!(out, bytes, "{name}");
    }
}

#[test]
fn every_truncation_is_rejected() {
    for (name, bytes) in all_messages() {
        for len in 0..bytes.len() {
            assert!(
                Message::parse(&bytes[..len]).is_err(),
                "{name} cut to {len} bytes parsed"
            );
            if len >= ipsec_isakmp::HEADER_LEN {
                // Patch the Length field so the payload chain itself meets the cut.
                let mut cut = bytes[..len].to_vec();
                cut[24..28].copy_from_slice(&u32::try_from(len).unwrap().to_be_bytes());
                assert!(
                    Message::parse(&cut).is_err(),
                    "{name} cut to {len} bytes with its Length patched parsed"
                );
            }
        }
    }
    for (name, first, bytes) in all_inner() {
        for len in 0..bytes.len() {
            assert!(
                parse_chain(first, &bytes[..len]).is_err(),
                "{name} inner chain cut to {len} bytes parsed"
            );
        }
    }
}

#[test]
fn same_layout_in_every_suite() {
    for (name, bytes) in all_messages() {
        let message = Message::parse(bytes).unwrap();
        let suite = name.split('/').next().unwrap();
        let expected_spi = match suite {
            "aes256gcm16-x25519" => 0x2086_b6e0_9a8c_7125,
            "aes128-sha256-modp2048" => 0xdb48_445d_7b33_4a57,
            _ => 0x6fa8_26a5_9cf4_99c8,
        };
        assert_eq!(message.initiator_spi, expected_spi, "{name}");
        match message.exchange_type {
            ExchangeType::IkeSaInit => assert_eq!(message.message_id, 0, "{name}"),
            ExchangeType::IkeAuth => assert_eq!(message.message_id, 1, "{name}"),
            ExchangeType::Informational => assert_eq!(message.message_id, 2, "{name}"),
            other => panic!("{name}: unexpected exchange {other}"),
        }
    }
}
