//! `parse(emit(x)) == x` over generated values of every representation.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::{Ipv4Addr, Ipv6Addr};

use ipsec_isakmp::payload::{emit_chain, parse_chain};
use ipsec_isakmp::*;
use proptest::collection::vec;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=max)
}

fn spi() -> impl Strategy<Value = Spi> {
    prop_oneof![
        Just(Spi::None),
        any::<u32>().prop_map(Spi::Ipsec),
        any::<u64>().prop_map(Spi::Ike),
    ]
}

fn attribute() -> impl Strategy<Value = TransformAttribute> {
    let kind = (0u16..0x8000).prop_map(TransformAttributeType::from);
    prop_oneof![
        (kind.clone(), any::<u16>()).prop_map(|(attribute_type, value)| {
            TransformAttribute::Tv {
                attribute_type,
                value,
            }
        }),
        (kind, bytes(8)).prop_map(|(attribute_type, value)| TransformAttribute::Tlv {
            attribute_type,
            value
        }),
    ]
}

fn transform() -> impl Strategy<Value = Transform> {
    (any::<u8>(), any::<u16>(), vec(attribute(), 0..3)).prop_map(|(t, id, attributes)| Transform {
        transform_type: TransformType::from(t),
        transform_id: id,
        attributes,
    })
}

fn proposal() -> impl Strategy<Value = Proposal> {
    (any::<u8>(), any::<u8>(), spi(), vec(transform(), 0..5)).prop_map(
        |(number, protocol, spi, transforms)| Proposal {
            number,
            protocol: ProtocolId::from(protocol),
            spi,
            transforms,
        },
    )
}

fn identification() -> impl Strategy<Value = Identification> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| Identification::ip(Ipv4Addr::from(a).into())),
        any::<[u8; 16]>().prop_map(|a| Identification::ip(Ipv6Addr::from(a).into())),
        Just(Identification::null()),
        ("[a-z]{1,20}(\\.[a-z]{1,10}){0,3}").prop_map(|s| Identification::fqdn(&s)),
        (
            prop::sample::select(vec![3u8, 9, 10, 11, 12]),
            vec(any::<u8>(), 1..24)
        )
            .prop_map(|(t, data)| Identification {
                id_type: IdType::from(t),
                data
            }),
        (14u8.., bytes(24)).prop_map(|(t, data)| Identification {
            id_type: IdType::from(t),
            data
        }),
    ]
}

fn selector() -> impl Strategy<Value = TrafficSelector> {
    prop_oneof![
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 4]>(),
            any::<[u8; 4]>()
        )
            .prop_map(|(p, s, e, a, b)| TrafficSelector::Ipv4(AddressRange {
                ip_protocol: p,
                start_port: s,
                end_port: e,
                start_address: Ipv4Addr::from(a),
                end_address: Ipv4Addr::from(b),
            })),
        (
            any::<u8>(),
            any::<u16>(),
            any::<u16>(),
            any::<[u8; 16]>(),
            any::<[u8; 16]>()
        )
            .prop_map(|(p, s, e, a, b)| TrafficSelector::Ipv6(AddressRange {
                ip_protocol: p,
                start_port: s,
                end_port: e,
                start_address: Ipv6Addr::from(a),
                end_address: Ipv6Addr::from(b),
            })),
        (
            any::<u8>().prop_filter("not an address range", |t| *t != 7 && *t != 8),
            any::<u8>(),
            bytes(12)
        )
            .prop_map(|(t, second_octet, content)| TrafficSelector::Other(
                OpaqueSelector {
                    ts_type: TsType::from(t),
                    second_octet,
                    content,
                }
            )),
    ]
}

fn delete() -> impl Strategy<Value = Delete> {
    prop_oneof![
        Just(Delete::IkeSa),
        (
            any::<u8>().prop_filter("a Child SA protocol", |p| *p > 1),
            vec(any::<u32>(), 0..6)
        )
            .prop_map(|(p, spis)| Delete::ChildSas {
                protocol: ProtocolId::from(p),
                spis,
            }),
    ]
}

fn eap() -> impl Strategy<Value = Eap> {
    (any::<u8>(), any::<u8>(), bytes(16)).prop_map(|(code, id, data)| {
        let mut message = vec![code, id];
        message.extend_from_slice(&u16::try_from(data.len() + 4).unwrap().to_be_bytes());
        message.extend_from_slice(&data);
        Eap { message }
    })
}

/// Every payload that may stand anywhere in a chain (not SK or SKF).
fn plain_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        vec(proposal(), 1..4)
            .prop_map(|proposals| Payload::SecurityAssociation(SecurityAssociation { proposals })),
        (any::<u16>(), bytes(64)).prop_map(|(g, data)| Payload::KeyExchange(KeyExchange {
            group: DhGroup::from(g),
            data
        })),
        identification().prop_map(Payload::IdInitiator),
        identification().prop_map(Payload::IdResponder),
        (any::<u8>(), bytes(32)).prop_map(|(e, data)| Payload::Certificate(Certificate {
            encoding: CertEncoding::from(e),
            data
        })),
        (any::<u8>(), bytes(40)).prop_map(|(e, authorities)| Payload::CertificateRequest(
            CertificateRequest {
                encoding: CertEncoding::from(e),
                authorities
            }
        )),
        (any::<u8>(), bytes(32)).prop_map(|(m, data)| Payload::Authentication(Authentication {
            method: AuthMethod::from(m),
            data
        })),
        vec(any::<u8>(), 16..=256).prop_map(|data| Payload::Nonce(Nonce { data })),
        (any::<u8>(), spi(), any::<u16>(), bytes(24)).prop_map(|(p, spi, t, data)| {
            Payload::Notify(Notify {
                protocol: ProtocolId::from(p),
                spi,
                notify_type: NotifyType::from(t),
                data,
            })
        }),
        delete().prop_map(Payload::Delete),
        bytes(20).prop_map(|data| Payload::VendorId(VendorId { data })),
        vec(selector(), 1..4)
            .prop_map(|selectors| Payload::TsInitiator(TrafficSelectors { selectors })),
        vec(selector(), 1..4)
            .prop_map(|selectors| Payload::TsResponder(TrafficSelectors { selectors })),
        (
            any::<u8>(),
            vec(
                ((0u16..0x8000), bytes(8)).prop_map(|(t, value)| ConfigAttribute {
                    attribute_type: CfgAttributeType::from(t),
                    value
                }),
                0..4
            )
        )
            .prop_map(|(t, attributes)| Payload::Configuration(Configuration {
                cfg_type: CfgType::from(t),
                attributes
            })),
        eap().prop_map(Payload::Eap),
        (1usize..=8, vec(any::<u8>(), 32)).prop_map(|(len, keys)| {
            Payload::PuzzleSolution(PuzzleSolution {
                data: keys[..4 * len].to_vec(),
            })
        }),
        (
            any::<u8>().prop_filter("not decoded here", |t| {
                *t != 0 && !(33..=48).contains(t) && *t != 53 && *t != 54
            }),
            bytes(16)
        )
            .prop_map(|(t, body)| Payload::Unknown(UnknownPayload {
                payload_type: PayloadType::from(t),
                critical: false,
                body
            })),
    ]
}

fn encrypted_payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (any::<u8>(), bytes(48)).prop_map(|(t, data)| Payload::Encrypted(Encrypted {
            first_inner: PayloadType::from(t),
            data
        })),
        (any::<u8>(), 1u16.., bytes(48))
            .prop_flat_map(|(t, total, data)| (Just(t), 1..=total, Just(total), Just(data)))
            .prop_map(|(t, number, total, data)| {
                Payload::EncryptedFragment(EncryptedFragment {
                    first_inner: PayloadType::from(t),
                    fragment_number: number,
                    total_fragments: total,
                    data,
                })
            }),
    ]
}

fn chain() -> impl Strategy<Value = Vec<Payload>> {
    (
        vec(plain_payload(), 0..6),
        proptest::option::of(encrypted_payload()),
    )
        .prop_map(|(mut payloads, last)| {
            payloads.extend(last);
            payloads
        })
}

fn message() -> impl Strategy<Value = Message> {
    (
        any::<u64>(),
        any::<u64>(),
        0u8..16,
        any::<u8>(),
        any::<(bool, bool, bool)>(),
        any::<u32>(),
        chain(),
    )
        .prop_map(
            |(i, r, minor, exchange, (initiator, version, response), id, payloads)| Message {
                initiator_spi: i,
                responder_spi: r,
                minor_version: minor,
                exchange_type: ExchangeType::from(exchange),
                flags: Flags {
                    initiator,
                    version,
                    response,
                },
                message_id: id,
                payloads,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_round_trips(message in message()) {
        let bytes = message.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), message.buffer_len());
        prop_assert_eq!(Message::parse(&bytes).unwrap(), message);
    }

    #[test]
    fn payload_chain_round_trips(payloads in chain()) {
        let mut bytes = vec![0; payload::chain_len(&payloads)];
        emit_chain(&payloads, &mut bytes).unwrap();
        let first = payload::first_type(&payloads);
        prop_assert_eq!(parse_chain(first, &bytes).unwrap(), payloads);
    }

    #[test]
    fn header_round_trips(bytes in any::<[u8; 28]>()) {
        let view = HeaderView::new_checked(&bytes[..]).unwrap();
        let header = Header::parse(&view);
        let mut out = [0u8; 28];
        header.emit(&mut HeaderView::new_checked(&mut out[..]).unwrap());
        // Only the X bits of the flags octet are not kept (RFC 7296 §3.1).
        let mut expected = bytes;
        expected[19] &= 0x38;
        prop_assert_eq!(out, expected);
    }

    #[test]
    fn registries_keep_every_codepoint(v8 in any::<u8>(), v16 in any::<u16>()) {
        prop_assert_eq!(PayloadType::from(v8).value(), v8);
        prop_assert_eq!(ExchangeType::from(v8).value(), v8);
        prop_assert_eq!(TransformType::from(v8).value(), v8);
        prop_assert_eq!(ProtocolId::from(v8).value(), v8);
        prop_assert_eq!(IdType::from(v8).value(), v8);
        prop_assert_eq!(AuthMethod::from(v8).value(), v8);
        prop_assert_eq!(CertEncoding::from(v8).value(), v8);
        prop_assert_eq!(TsType::from(v8).value(), v8);
        prop_assert_eq!(CfgType::from(v8).value(), v8);
        prop_assert_eq!(EncrId::from(v16).value(), v16);
        prop_assert_eq!(PrfId::from(v16).value(), v16);
        prop_assert_eq!(IntegId::from(v16).value(), v16);
        prop_assert_eq!(DhGroup::from(v16).value(), v16);
        prop_assert_eq!(EsnId::from(v16).value(), v16);
        prop_assert_eq!(NotifyType::from(v16).value(), v16);
        prop_assert_eq!(CfgAttributeType::from(v16).value(), v16);
        prop_assert_eq!(NotifyType::Unknown(v16), NotifyType::from(v16));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in bytes(600)) {
        let _ = Message::parse(&bytes);
        let _ = classify_udp4500(&bytes);
        for kind in 33u8..=54 {
            let _ = parse_chain(PayloadType::from(kind), &bytes);
        }
    }
}

#[test]
fn registry_names() {
    assert_eq!(EncrId::AesGcm16.to_string(), "ENCR_AES_GCM_16");
    assert_eq!(EncrId::Unknown(20), EncrId::AesGcm16);
    assert_eq!(EncrId::Unknown(20).iana_name(), Some("ENCR_AES_GCM_16"));
    assert_eq!(EncrId::from(999).to_string(), "EncrId(999)");
    assert_eq!(
        NotifyType::NatDetectionSourceIp.to_string(),
        "NAT_DETECTION_SOURCE_IP"
    );
    assert!(NotifyType::NoProposalChosen.is_error());
    assert!(!NotifyType::Cookie.is_error());
}
