//! Malformed, inconsistent and hostile input: each is a typed error naming what is wrong.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use ipsec_isakmp::payload::parse_chain;
use ipsec_isakmp::{
    EmitError, Error, Message, NotifyType, Payload, PayloadType, SecurityAssociation, Structure,
    Udp4500Datagram, UnknownPayload, classify_udp4500,
};

const SA: u8 = 33;
const KE: u8 = 34;
const IDI: u8 = 35;
const NONCE: u8 = 40;
const NOTIFY: u8 = 41;
const DELETE: u8 = 42;
const VENDOR: u8 = 43;
const TSI: u8 = 44;
const SK: u8 = 46;
const CP: u8 = 47;
const EAP: u8 = 48;
const SKF: u8 = 53;

/// One payload: generic header (RFC 7296 §3.2) and body.
fn payload(next: u8, critical: bool, body: &[u8]) -> Vec<u8> {
    let mut out = vec![next, if critical { 0x80 } else { 0 }];
    out.extend_from_slice(&u16::try_from(body.len() + 4).unwrap().to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A message around `payloads` whose first payload has type `first`, with a correct Length.
fn message(first: u8, payloads: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x1122_3344_5566_7788u64.to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&[first, 0x20, 34, 0x08]);
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&u32::try_from(28 + payloads.len()).unwrap().to_be_bytes());
    out.extend_from_slice(payloads);
    out
}

fn parse_body(kind: u8, body: &[u8]) -> Result<Vec<Payload>, Error> {
    parse_chain(PayloadType::from(kind), &payload(0, false, body))
}

/// A proposal with the given Last Substruc, SPI size, declared transform count and
/// transforms.
fn proposal(last: u8, spi: &[u8], declared: u8, transforms: &[u8]) -> Vec<u8> {
    let len = 8 + spi.len() + transforms.len();
    let mut out = vec![last, 0];
    out.extend_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    out.extend_from_slice(&[1, 1, u8::try_from(spi.len()).unwrap(), declared]);
    out.extend_from_slice(spi);
    out.extend_from_slice(transforms);
    out
}

fn transform(last: u8, kind: u8, id: u16, attributes: &[u8]) -> Vec<u8> {
    let mut out = vec![last, 0];
    out.extend_from_slice(&u16::try_from(8 + attributes.len()).unwrap().to_be_bytes());
    out.extend_from_slice(&[kind, 0]);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(attributes);
    out
}

#[test]
fn message_length_past_the_datagram() {
    let mut bytes = message(0, &[]);
    bytes[27] = 40;
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::LengthOverrun {
            what: Structure::Header,
            length: 40,
            available: 28
        })
    );
}

#[test]
fn message_length_short_of_the_datagram() {
    let mut bytes = message(0, &[]);
    bytes.push(0);
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::TrailingBytes {
            what: Structure::Header,
            extra: 1
        })
    );
}

#[test]
fn message_length_below_the_header() {
    let mut bytes = message(0, &[]);
    bytes[27] = 27;
    assert!(matches!(
        Message::parse(&bytes),
        Err(Error::LengthTooSmall {
            what: Structure::Header,
            ..
        })
    ));
}

#[test]
fn higher_major_version_maps_to_invalid_major_version() {
    let mut bytes = message(0, &[]);
    bytes[17] = 0x30;
    let error = Message::parse(&bytes).unwrap_err();
    assert_eq!(error, Error::UnsupportedMajorVersion(3));
    assert_eq!(error.notify_type(), NotifyType::InvalidMajorVersion);
}

#[test]
fn empty_message_is_valid() {
    let bytes = message(0, &[]);
    let parsed = Message::parse(&bytes).unwrap();
    assert!(parsed.payloads.is_empty());
    assert_eq!(parsed.to_vec().unwrap(), bytes);
}

#[test]
fn zero_length_payload_cannot_loop() {
    // A Payload Length of zero would leave the walk where it is, forever.
    let bytes = message(VENDOR, &[VENDOR, 0, 0, 0]);
    assert_eq!(
        Message::parse(&bytes),
        Err(Error::LengthTooSmall {
            what: Structure::PayloadHeader,
            length: 0,
            minimum: 4
        })
    );
}

#[test]
fn payload_length_past_the_message() {
    let mut body = payload(0, false, b"vendor");
    body[3] = 200;
    assert_eq!(
        Message::parse(&message(VENDOR, &body)),
        Err(Error::LengthOverrun {
            what: Structure::PayloadHeader,
            length: 200,
            available: 10
        })
    );
}

#[test]
fn chain_announces_a_payload_that_is_not_there() {
    let body = payload(VENDOR, false, b"vendor");
    assert_eq!(
        Message::parse(&message(VENDOR, &body)),
        Err(Error::Truncated {
            what: Structure::PayloadHeader,
            needed: 4,
            available: 0
        })
    );
}

#[test]
fn bytes_after_the_last_payload() {
    let mut body = payload(0, false, b"vendor");
    body.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        Message::parse(&message(VENDOR, &body)),
        Err(Error::TrailingBytes {
            what: Structure::PayloadHeader,
            extra: 3
        })
    );
}

#[test]
fn unknown_critical_payload_maps_to_unsupported_critical_payload() {
    let body = payload(0, true, b"?");
    let error = Message::parse(&message(200, &body)).unwrap_err();
    assert_eq!(error, Error::UnsupportedCriticalPayload(200));
    assert_eq!(error.notify_type(), NotifyType::UnsupportedCriticalPayload);
    // Registered but not decoded here: not understood either.
    assert_eq!(
        Message::parse(&message(49, &body)).unwrap_err(),
        Error::UnsupportedCriticalPayload(49)
    );
}

#[test]
fn unknown_non_critical_payload_is_kept_opaque() {
    let mut chain = payload(VENDOR, false, b"opaque");
    chain.extend(payload(0, false, b"vid"));
    let bytes = message(200, &chain);
    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(
        parsed.payloads[0],
        Payload::Unknown(UnknownPayload {
            payload_type: PayloadType::Unknown(200),
            critical: false,
            body: b"opaque".to_vec(),
        })
    );
    assert_eq!(parsed.to_vec().unwrap(), bytes);
}

#[test]
fn critical_bit_of_an_understood_payload_is_ignored() {
    let body = payload(0, true, b"vendor");
    let parsed = Message::parse(&message(VENDOR, &body)).unwrap();
    assert_eq!(parsed.payloads.len(), 1);
}

#[test]
fn encrypted_payload_must_be_last() {
    let mut chain = payload(NONCE, false, &[0; 24]);
    chain.extend(payload(0, false, &[0; 16]));
    assert_eq!(
        Message::parse(&message(SK, &chain)),
        Err(Error::EncryptedNotLast(Structure::Encrypted))
    );
    let mut fragment = payload(NONCE, false, &[0, 1, 0, 1, 9, 9]);
    fragment.extend(payload(0, false, &[0; 16]));
    assert_eq!(
        Message::parse(&message(SKF, &fragment)),
        Err(Error::EncryptedNotLast(Structure::EncryptedFragment))
    );
}

#[test]
fn encrypted_payload_keeps_its_inner_type() {
    let bytes = message(SK, &payload(IDI, false, &[7; 40]));
    let parsed = Message::parse(&bytes).unwrap();
    assert_eq!(
        parsed.encrypted().unwrap().first_inner,
        PayloadType::IdInitiator
    );
    assert_eq!(parsed.to_vec().unwrap(), bytes);
}

#[test]
fn transform_count_disagrees() {
    let transforms = transform(0, 1, 20, &[]);
    let body = proposal(0, &[], 2, &transforms);
    assert_eq!(
        parse_body(SA, &body),
        Err(Error::CountMismatch {
            what: Structure::Proposal,
            declared: 2,
            found: 1
        })
    );
}

#[test]
fn proposal_last_substruc_disagrees() {
    let transforms = transform(0, 1, 20, &[]);
    // Says "more" but is the last.
    assert_eq!(
        parse_body(SA, &proposal(2, &[], 1, &transforms)),
        Err(Error::InvalidField {
            what: Structure::Proposal,
            field: "Last Substruc",
            value: 2
        })
    );
    // Says "last" but another follows.
    let mut two = proposal(0, &[], 1, &transforms);
    two.extend(proposal(0, &[], 1, &transforms));
    assert!(matches!(
        parse_body(SA, &two),
        Err(Error::TrailingBytes {
            what: Structure::SecurityAssociation,
            ..
        })
    ));
    // A value the RFC does not define.
    assert!(matches!(
        parse_body(SA, &proposal(7, &[], 1, &transforms)),
        Err(Error::InvalidField {
            what: Structure::Proposal,
            value: 7,
            ..
        })
    ));
}

#[test]
fn transform_last_substruc_disagrees() {
    let mut transforms = transform(0, 1, 20, &[]);
    transforms.extend(transform(0, 2, 5, &[]));
    assert!(matches!(
        parse_body(SA, &proposal(0, &[], 2, &transforms)),
        Err(Error::InvalidField {
            what: Structure::Transform,
            value: 0,
            ..
        })
    ));
}

#[test]
fn proposal_length_past_the_payload() {
    let mut body = proposal(0, &[], 0, &[]);
    body[3] = 100;
    assert!(matches!(
        parse_body(SA, &body),
        Err(Error::LengthOverrun {
            what: Structure::Proposal,
            length: 100,
            ..
        })
    ));
}

#[test]
fn transform_length_below_its_header() {
    let mut transforms = transform(0, 1, 20, &[]);
    transforms[3] = 4;
    assert!(matches!(
        parse_body(SA, &proposal(0, &[], 1, &transforms)),
        Err(Error::LengthTooSmall {
            what: Structure::Transform,
            ..
        })
    ));
}

#[test]
fn spi_size_that_no_protocol_uses() {
    assert!(matches!(
        parse_body(SA, &proposal(0, &[1, 2, 3], 0, &[])),
        Err(Error::InvalidField {
            what: Structure::Proposal,
            field: "SPI Size",
            value: 3
        })
    ));
}

#[test]
fn tlv_attribute_longer_than_its_transform() {
    let attribute = [0x00, 0x0e, 0x00, 0x10, 1, 2];
    let transforms = transform(0, 1, 20, &attribute);
    assert!(matches!(
        parse_body(SA, &proposal(0, &[], 1, &transforms)),
        Err(Error::Truncated {
            what: Structure::TransformAttribute,
            ..
        })
    ));
}

#[test]
fn empty_security_association() {
    assert_eq!(
        parse_body(SA, &[]),
        Err(Error::Empty {
            what: Structure::SecurityAssociation
        })
    );
    let empty = SecurityAssociation { proposals: vec![] };
    assert_eq!(
        empty.emit(&mut [0; 8]),
        Err(EmitError::Empty {
            what: Structure::SecurityAssociation
        })
    );
}

#[test]
fn traffic_selector_count_and_length() {
    let selector = [7, 0, 0, 16, 0, 0, 255, 255, 10, 0, 0, 1, 10, 0, 0, 1];
    let mut body = vec![2, 0, 0, 0];
    body.extend_from_slice(&selector);
    assert_eq!(
        parse_body(TSI, &body),
        Err(Error::CountMismatch {
            what: Structure::TrafficSelectors,
            declared: 2,
            found: 1
        })
    );
    body[0] = 0;
    assert_eq!(
        parse_body(TSI, &body),
        Err(Error::Empty {
            what: Structure::TrafficSelectors
        })
    );
    body[0] = 1;
    body[7] = 20;
    assert!(matches!(
        parse_body(TSI, &body),
        Err(Error::InvalidField {
            what: Structure::TrafficSelector,
            field: "Selector Length",
            value: 20
        })
    ));
}

#[test]
fn nonce_length_bounds() {
    assert!(parse_body(NONCE, &[0; 15]).is_err());
    assert!(parse_body(NONCE, &[0; 16]).is_ok());
    assert!(parse_body(NONCE, &[0; 256]).is_ok());
    assert!(matches!(
        parse_body(NONCE, &[0; 257]),
        Err(Error::InvalidField {
            what: Structure::Nonce,
            value: 257,
            ..
        })
    ));
}

#[test]
fn identification_data_length_by_type() {
    assert!(parse_body(IDI, &[1, 0, 0, 0, 10, 0, 0, 1]).is_ok());
    assert!(matches!(
        parse_body(IDI, &[1, 0, 0, 0, 10, 0, 0, 1, 5]),
        Err(Error::InvalidField {
            what: Structure::Identification,
            ..
        })
    ));
    assert!(parse_body(IDI, &[13, 0, 0, 0]).is_ok());
    assert!(parse_body(IDI, &[13, 0, 0, 0, 1]).is_err());
    assert!(parse_body(IDI, &[2, 0, 0, 0]).is_err());
    assert!(matches!(
        parse_body(IDI, &[2, 0, 0]),
        Err(Error::Truncated {
            what: Structure::Identification,
            ..
        })
    ));
}

#[test]
fn delete_payload_rules() {
    // IKE: SPI Size must be 0.
    assert!(matches!(
        parse_body(DELETE, &[1, 4, 0, 0]),
        Err(Error::InvalidField {
            what: Structure::Delete,
            field: "SPI Size",
            ..
        })
    ));
    // ESP: two SPIs announced, one present.
    assert!(matches!(
        parse_body(DELETE, &[3, 4, 0, 2, 1, 2, 3, 4]),
        Err(Error::Truncated {
            what: Structure::Delete,
            ..
        })
    ));
    // ESP: one SPI announced, bytes left over.
    assert_eq!(
        parse_body(DELETE, &[3, 4, 0, 1, 1, 2, 3, 4, 5]),
        Err(Error::TrailingBytes {
            what: Structure::Delete,
            extra: 1
        })
    );
    // Hostile count with SPI Size 0 cannot make the parser allocate.
    assert!(parse_body(DELETE, &[3, 0, 255, 255]).is_err());
    assert!(parse_body(DELETE, &[0, 0, 0, 0]).is_err());
}

#[test]
fn notify_spi_past_the_body() {
    assert!(matches!(
        parse_body(NOTIFY, &[3, 4, 0x40, 0x09, 1, 2]),
        Err(Error::Truncated {
            what: Structure::Notify,
            needed: 8,
            available: 6
        })
    ));
}

#[test]
fn eap_length_must_match() {
    assert!(parse_body(EAP, &[1, 7, 0, 5, 1]).is_ok());
    assert!(matches!(
        parse_body(EAP, &[1, 7, 0, 9, 1]),
        Err(Error::LengthOverrun {
            what: Structure::Eap,
            ..
        })
    ));
    assert!(matches!(
        parse_body(EAP, &[1, 7, 0, 4, 1]),
        Err(Error::TrailingBytes {
            what: Structure::Eap,
            ..
        })
    ));
}

#[test]
fn fragment_numbers() {
    let parse = |body: &[u8]| parse_chain(PayloadType::from(SKF), &payload(0, false, body));
    assert!(parse(&[0, 1, 0, 2, 9]).is_ok());
    assert!(parse(&[0, 0, 0, 2, 9]).is_err());
    assert!(parse(&[0, 3, 0, 2, 9]).is_err());
    assert!(parse(&[0, 1, 0, 0, 9]).is_err());
}

#[test]
fn configuration_attribute_past_the_payload() {
    assert!(parse_body(CP, &[1, 0, 0, 0, 0, 1, 0, 0]).is_ok());
    assert!(matches!(
        parse_body(CP, &[1, 0, 0, 0, 0, 1, 0, 4, 10]),
        Err(Error::Truncated {
            what: Structure::ConfigurationAttribute,
            ..
        })
    ));
}

#[test]
fn key_exchange_needs_its_fixed_fields() {
    assert!(matches!(
        parse_body(KE, &[0, 31, 0]),
        Err(Error::Truncated {
            what: Structure::KeyExchange,
            ..
        })
    ));
}

#[test]
fn emit_reports_the_size_needed() {
    let bytes = message(NONCE, &payload(0, false, &[5; 32]));
    let parsed = Message::parse(&bytes).unwrap();
    let mut small = [0; 40];
    assert_eq!(
        parsed.emit(&mut small),
        Err(EmitError::BufferTooSmall {
            needed: 64,
            available: 40
        })
    );
}

#[test]
fn emit_refuses_a_payload_too_long_for_its_length_field() {
    let mut parsed = Message::parse(&message(0, &[])).unwrap();
    parsed
        .payloads
        .push(Payload::VendorId(ipsec_isakmp::VendorId {
            data: vec![0; 70_000],
        }));
    assert_eq!(
        parsed.to_vec(),
        Err(EmitError::TooLong {
            what: Structure::PayloadHeader,
            length: 70_004
        })
    );
}

#[test]
fn errors_name_the_structure() {
    let error = parse_body(SA, &proposal(0, &[1, 2, 3], 0, &[])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "proposal field SPI Size has the invalid value 3"
    );
    assert_eq!(error.notify_type(), NotifyType::InvalidSyntax);
}

#[test]
fn udp_4500_demultiplexing() {
    assert_eq!(classify_udp4500(&[0xff]), Ok(Udp4500Datagram::NatKeepalive));
    let ike = message(0, &[]);
    let mut marked = vec![0, 0, 0, 0];
    marked.extend_from_slice(&ike);
    assert_eq!(
        classify_udp4500(&marked),
        Ok(Udp4500Datagram::Ike(&ike[..]))
    );
    let esp = [0, 0, 0x10, 0x01, 0, 0, 0, 1, 9, 9];
    assert_eq!(classify_udp4500(&esp), Ok(Udp4500Datagram::Esp(&esp[..])));
    assert!(matches!(
        classify_udp4500(&[0, 0]),
        Err(Error::Truncated {
            what: Structure::Udp4500Datagram,
            ..
        })
    ));
    assert!(classify_udp4500(&[]).is_err());
}
