//! IKEv2 payloads: the generic payload header, the payload chain, and each payload's body
//! (RFC 7296 §3.2 – §3.16, RFC 7383 §2.5).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_room, fit};
use crate::field;
use crate::registry::PayloadType;

mod auth;
mod certificate;
mod config;
mod delete;
mod eap;
mod encrypted;
mod identification;
mod key_exchange;
mod nonce;
mod notify;
mod puzzle;
mod security_association;
mod traffic_selector;
mod unknown;
mod vendor_id;

pub use auth::{Authentication, AuthenticationView};
pub use certificate::{CA_HASH_LEN, CertView, Certificate, CertificateRequest};
pub use config::{ConfigAttribute, ConfigAttributeView, Configuration, ConfigurationView};
pub use delete::{Delete, DeleteView};
pub use eap::{Eap, EapView};
pub use encrypted::{Encrypted, EncryptedFragment, EncryptedFragmentView};
pub use identification::{Identification, IdentificationView};
pub use key_exchange::{KeyExchange, KeyExchangeView};
pub use nonce::{MAX_NONCE_LEN, MIN_NONCE_LEN, Nonce};
pub use notify::{Notify, NotifyView};
pub use puzzle::{PUZZLE_KEYS, PuzzleRequest, PuzzleSolution};
pub use security_association::{
    AttributeView, Proposal, ProposalView, SecurityAssociation, Transform, TransformAttribute,
    TransformId, TransformView,
};
pub use traffic_selector::{
    AddressRange, OpaqueSelector, TrafficSelector, TrafficSelectorView, TrafficSelectors,
    TrafficSelectorsView,
};
pub use unknown::UnknownPayload;
pub use vendor_id::VendorId;

/// Length of the generic payload header.
pub const PAYLOAD_HEADER_LEN: usize = 4;

/// Byte offsets of the generic payload header (RFC 7296 §3.2):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Payload  |C|  RESERVED   |         Payload Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const NEXT_PAYLOAD: usize = 0;
    pub(super) const FLAGS: usize = 1;
    pub(super) const LENGTH: Field = 2..4;
}

const CRITICAL: u8 = 0x80;

/// A zero-copy view of one payload: its generic header and its body.
#[derive(Debug, Clone, Copy)]
pub struct PayloadView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> PayloadView<T> {
    /// Wraps a buffer that starts with a generic payload header, after checking that the
    /// header is whole and that its Payload Length is at least the header and at most the
    /// buffer (RFC 7296 §3.2). The buffer may continue past the payload.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        if bytes.len() < PAYLOAD_HEADER_LEN {
            return Err(Error::Truncated {
                what: Structure::PayloadHeader,
                needed: PAYLOAD_HEADER_LEN,
                available: bytes.len(),
            });
        }
        let length = usize::from(field::u16_at(bytes, offset::LENGTH));
        if length < PAYLOAD_HEADER_LEN {
            return Err(Error::LengthTooSmall {
                what: Structure::PayloadHeader,
                length,
                minimum: PAYLOAD_HEADER_LEN,
            });
        }
        if length > bytes.len() {
            return Err(Error::LengthOverrun {
                what: Structure::PayloadHeader,
                length,
                available: bytes.len(),
            });
        }
        Ok(Self { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Type of the payload that follows this one (for SK and SKF: of the first payload
    /// inside).
    pub fn next_payload(&self) -> PayloadType {
        PayloadType::from(field::u8_at(self.bytes(), offset::NEXT_PAYLOAD))
    }

    /// The critical bit (RFC 7296 §2.5).
    pub fn critical(&self) -> bool {
        field::u8_at(self.bytes(), offset::FLAGS) & CRITICAL != 0
    }

    /// Payload Length: header and body.
    pub fn payload_length(&self) -> u16 {
        field::u16_at(self.bytes(), offset::LENGTH)
    }

    /// The payload body: the bytes after the generic header, up to Payload Length.
    pub fn body(&self) -> &[u8] {
        self.bytes()
            .get(PAYLOAD_HEADER_LEN..usize::from(self.payload_length()))
            .unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> PayloadView<T> {
    /// Sets the Next Payload field.
    pub fn set_next_payload(&mut self, value: PayloadType) {
        field::set_u8(self.buffer.as_mut(), offset::NEXT_PAYLOAD, value.value());
    }

    /// Sets the critical bit; the reserved bits are written as zero.
    pub fn set_critical(&mut self, critical: bool) {
        field::set_u8(
            self.buffer.as_mut(),
            offset::FLAGS,
            if critical { CRITICAL } else { 0 },
        );
    }

    /// Sets the Payload Length field.
    pub fn set_payload_length(&mut self, value: u16) {
        field::set_u16(self.buffer.as_mut(), offset::LENGTH.start, value);
    }

    /// The payload body, mutable.
    pub fn body_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.payload_length());
        self.buffer
            .as_mut()
            .get_mut(PAYLOAD_HEADER_LEN..end)
            .unwrap_or(&mut [])
    }
}

/// One payload of a chain, not yet decoded: its type, flags and body borrowed from the
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPayload<'a> {
    /// This payload's type, from the previous header's Next Payload field.
    pub payload_type: PayloadType,
    /// The critical bit.
    pub critical: bool,
    /// This payload's own Next Payload field.
    pub next_payload: PayloadType,
    /// The body after the generic header.
    pub body: &'a [u8],
}

/// Walks a chain of payloads without copying (RFC 7296 §3.2).
///
/// Yields each payload or the first error, then stops. The chain must end with a Next
/// Payload of zero exactly at the end of the bytes, and an SK or SKF payload must be last
/// (RFC 7296 §3.14, RFC 7383 §2.5): its Next Payload names the first payload inside it.
#[derive(Debug, Clone)]
pub struct PayloadIter<'a> {
    next: PayloadType,
    rest: &'a [u8],
    finished: bool,
}

impl<'a> PayloadIter<'a> {
    /// A walk over `bytes` whose first payload has type `first`.
    pub fn new(first: PayloadType, bytes: &'a [u8]) -> Self {
        Self {
            next: first,
            rest: bytes,
            finished: false,
        }
    }

    fn step(&mut self) -> Result<Option<RawPayload<'a>>, Error> {
        if self.next == PayloadType::NoNextPayload {
            self.finished = true;
            return if self.rest.is_empty() {
                Ok(None)
            } else {
                Err(Error::TrailingBytes {
                    what: Structure::PayloadHeader,
                    extra: self.rest.len(),
                })
            };
        }
        let rest = self.rest;
        let view = PayloadView::new_checked(rest)?;
        let length = usize::from(view.payload_length());
        let raw = RawPayload {
            payload_type: self.next,
            critical: view.critical(),
            next_payload: view.next_payload(),
            body: rest.get(PAYLOAD_HEADER_LEN..length).unwrap_or(&[]),
        };
        self.rest = field::rest(rest, length);
        self.next = raw.next_payload;
        let encrypted = match raw.payload_type {
            PayloadType::Encrypted => Some(Structure::Encrypted),
            PayloadType::EncryptedFragment => Some(Structure::EncryptedFragment),
            _ => None,
        };
        if let Some(what) = encrypted {
            if !self.rest.is_empty() {
                return Err(Error::EncryptedNotLast(what));
            }
            self.next = PayloadType::NoNextPayload;
        }
        Ok(Some(raw))
    }
}

impl<'a> Iterator for PayloadIter<'a> {
    type Item = Result<RawPayload<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let item = self.step().transpose();
        if matches!(item, Some(Err(_))) {
            self.finished = true;
        }
        item
    }
}

/// One decoded payload (RFC 7296 §3.3 – §3.16, RFC 7383 §2.5).
///
/// The critical bit of payloads this crate understands is not kept: RFC 7296 §3.2 says a
/// recipient that understands the type ignores it, and a sender sets it to zero.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// SA (RFC 7296 §3.3).
    SecurityAssociation(SecurityAssociation),
    /// KE (RFC 7296 §3.4).
    KeyExchange(KeyExchange),
    /// IDi (RFC 7296 §3.5).
    IdInitiator(Identification),
    /// IDr (RFC 7296 §3.5).
    IdResponder(Identification),
    /// CERT (RFC 7296 §3.6).
    Certificate(Certificate),
    /// CERTREQ (RFC 7296 §3.7).
    CertificateRequest(CertificateRequest),
    /// AUTH (RFC 7296 §3.8).
    Authentication(Authentication),
    /// Ni, Nr (RFC 7296 §3.9).
    Nonce(Nonce),
    /// N (RFC 7296 §3.10).
    Notify(Notify),
    /// D (RFC 7296 §3.11).
    Delete(Delete),
    /// V (RFC 7296 §3.12).
    VendorId(VendorId),
    /// TSi (RFC 7296 §3.13).
    TsInitiator(TrafficSelectors),
    /// TSr (RFC 7296 §3.13).
    TsResponder(TrafficSelectors),
    /// SK (RFC 7296 §3.14), still encrypted.
    Encrypted(Encrypted),
    /// CP (RFC 7296 §3.15).
    Configuration(Configuration),
    /// EAP (RFC 7296 §3.16).
    Eap(Eap),
    /// SKF (RFC 7383 §2.5), still encrypted.
    EncryptedFragment(EncryptedFragment),
    /// PS (RFC 8019 §8.2).
    PuzzleSolution(PuzzleSolution),
    /// A payload type this crate does not decode, kept opaque (RFC 7296 §2.5).
    Unknown(UnknownPayload),
}

impl Payload {
    /// Decodes one payload of a chain.
    ///
    /// A payload type this crate does not decode is kept as [`Payload::Unknown`] when its
    /// critical bit is clear, and is an [`Error::UnsupportedCriticalPayload`] when it is set
    /// (RFC 7296 §2.5).
    pub fn parse(raw: &RawPayload<'_>) -> Result<Self, Error> {
        let body = raw.body;
        Ok(match raw.payload_type {
            PayloadType::SecurityAssociation => {
                Self::SecurityAssociation(SecurityAssociation::parse(body)?)
            }
            PayloadType::KeyExchange => Self::KeyExchange(KeyExchange::parse(body)?),
            PayloadType::IdInitiator => Self::IdInitiator(Identification::parse(body)?),
            PayloadType::IdResponder => Self::IdResponder(Identification::parse(body)?),
            PayloadType::Certificate => Self::Certificate(Certificate::parse(body)?),
            PayloadType::CertificateRequest => {
                Self::CertificateRequest(CertificateRequest::parse(body)?)
            }
            PayloadType::Authentication => Self::Authentication(Authentication::parse(body)?),
            PayloadType::Nonce => Self::Nonce(Nonce::parse(body)?),
            PayloadType::Notify => Self::Notify(Notify::parse(body)?),
            PayloadType::Delete => Self::Delete(Delete::parse(body)?),
            PayloadType::VendorId => Self::VendorId(VendorId::parse(body)),
            PayloadType::TsInitiator => Self::TsInitiator(TrafficSelectors::parse(body)?),
            PayloadType::TsResponder => Self::TsResponder(TrafficSelectors::parse(body)?),
            PayloadType::Encrypted => Self::Encrypted(Encrypted::parse(raw.next_payload, body)),
            PayloadType::Configuration => Self::Configuration(Configuration::parse(body)?),
            PayloadType::Eap => Self::Eap(Eap::parse(body)?),
            PayloadType::EncryptedFragment => {
                Self::EncryptedFragment(EncryptedFragment::parse(raw.next_payload, body)?)
            }
            PayloadType::PuzzleSolution => Self::PuzzleSolution(PuzzleSolution::parse(body)?),
            other if raw.critical => {
                return Err(Error::UnsupportedCriticalPayload(other.value()));
            }
            other => Self::Unknown(UnknownPayload {
                payload_type: other,
                critical: false,
                body: body.to_vec(),
            }),
        })
    }

    /// The type this payload is announced with in the previous Next Payload field.
    pub fn payload_type(&self) -> PayloadType {
        match self {
            Self::SecurityAssociation(_) => PayloadType::SecurityAssociation,
            Self::KeyExchange(_) => PayloadType::KeyExchange,
            Self::IdInitiator(_) => PayloadType::IdInitiator,
            Self::IdResponder(_) => PayloadType::IdResponder,
            Self::Certificate(_) => PayloadType::Certificate,
            Self::CertificateRequest(_) => PayloadType::CertificateRequest,
            Self::Authentication(_) => PayloadType::Authentication,
            Self::Nonce(_) => PayloadType::Nonce,
            Self::Notify(_) => PayloadType::Notify,
            Self::Delete(_) => PayloadType::Delete,
            Self::VendorId(_) => PayloadType::VendorId,
            Self::TsInitiator(_) => PayloadType::TsInitiator,
            Self::TsResponder(_) => PayloadType::TsResponder,
            Self::Encrypted(_) => PayloadType::Encrypted,
            Self::Configuration(_) => PayloadType::Configuration,
            Self::Eap(_) => PayloadType::Eap,
            Self::EncryptedFragment(_) => PayloadType::EncryptedFragment,
            Self::PuzzleSolution(_) => PayloadType::PuzzleSolution,
            Self::Unknown(unknown) => unknown.payload_type,
        }
    }

    /// Length of the body [`Payload::emit`] writes, without the generic header.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::SecurityAssociation(p) => p.buffer_len(),
            Self::KeyExchange(p) => p.buffer_len(),
            Self::IdInitiator(p) | Self::IdResponder(p) => p.buffer_len(),
            Self::Certificate(p) => p.buffer_len(),
            Self::CertificateRequest(p) => p.buffer_len(),
            Self::Authentication(p) => p.buffer_len(),
            Self::Nonce(p) => p.buffer_len(),
            Self::Notify(p) => p.buffer_len(),
            Self::Delete(p) => p.buffer_len(),
            Self::VendorId(p) => p.buffer_len(),
            Self::TsInitiator(p) | Self::TsResponder(p) => p.buffer_len(),
            Self::Encrypted(p) => p.buffer_len(),
            Self::Configuration(p) => p.buffer_len(),
            Self::Eap(p) => p.buffer_len(),
            Self::EncryptedFragment(p) => p.buffer_len(),
            Self::PuzzleSolution(p) => p.buffer_len(),
            Self::Unknown(p) => p.buffer_len(),
        }
    }

    /// Writes the body, without the generic header, at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        match self {
            Self::SecurityAssociation(p) => p.emit(buf),
            Self::KeyExchange(p) => p.emit(buf),
            Self::IdInitiator(p) | Self::IdResponder(p) => p.emit(buf),
            Self::Certificate(p) => p.emit(buf),
            Self::CertificateRequest(p) => p.emit(buf),
            Self::Authentication(p) => p.emit(buf),
            Self::Nonce(p) => p.emit(buf),
            Self::Notify(p) => p.emit(buf),
            Self::Delete(p) => p.emit(buf),
            Self::VendorId(p) => p.emit(buf),
            Self::TsInitiator(p) | Self::TsResponder(p) => p.emit(buf),
            Self::Encrypted(p) => p.emit(buf),
            Self::Configuration(p) => p.emit(buf),
            Self::Eap(p) => p.emit(buf),
            Self::EncryptedFragment(p) => p.emit(buf),
            Self::PuzzleSolution(p) => p.emit(buf),
            Self::Unknown(p) => p.emit(buf),
        }
    }

    /// The critical bit this payload is sent with: set only on an unknown payload that asks
    /// for it (RFC 7296 §3.2).
    fn critical(&self) -> bool {
        matches!(self, Self::Unknown(unknown) if unknown.critical)
    }

    /// What goes in this payload's own Next Payload field when `following` comes after it:
    /// for SK and SKF, the first payload inside them (RFC 7296 §3.14).
    fn next_field(&self, following: PayloadType) -> PayloadType {
        match self {
            Self::Encrypted(p) => p.first_inner,
            Self::EncryptedFragment(p) => p.first_inner,
            _ => following,
        }
    }
}

/// Decodes a whole chain of payloads whose first payload has type `first` (RFC 7296 §3.2).
///
/// Use it on the payloads after the IKE header and on the plaintext of an SK payload.
pub fn parse_chain(first: PayloadType, bytes: &[u8]) -> Result<Vec<Payload>, Error> {
    PayloadIter::new(first, bytes)
        .map(|raw| raw.and_then(|raw| Payload::parse(&raw)))
        .collect()
}

/// The type of the first payload of `payloads`, for the preceding Next Payload field.
pub fn first_type(payloads: &[Payload]) -> PayloadType {
    payloads
        .first()
        .map_or(PayloadType::NoNextPayload, Payload::payload_type)
}

/// Bytes [`emit_chain`] writes for `payloads`: every generic header and body.
pub fn chain_len(payloads: &[Payload]) -> usize {
    payloads
        .iter()
        .map(|p| PAYLOAD_HEADER_LEN.saturating_add(p.buffer_len()))
        .fold(0, usize::saturating_add)
}

/// Writes `payloads` as a chain at the start of `buf` and returns the bytes written.
pub fn emit_chain(payloads: &[Payload], buf: &mut [u8]) -> Result<usize, EmitError> {
    let total = chain_len(payloads);
    check_room(total, buf.len())?;
    let mut at = 0usize;
    for (index, payload) in payloads.iter().enumerate() {
        let following = payloads
            .get(index.saturating_add(1))
            .map_or(PayloadType::NoNextPayload, Payload::payload_type);
        if index.saturating_add(1) < payloads.len() {
            match payload {
                Payload::Encrypted(_) => {
                    return Err(EmitError::EncryptedNotLast(Structure::Encrypted));
                }
                Payload::EncryptedFragment(_) => {
                    return Err(EmitError::EncryptedNotLast(Structure::EncryptedFragment));
                }
                _ => {}
            }
        }
        let length = PAYLOAD_HEADER_LEN.saturating_add(payload.buffer_len());
        let length_field: u16 = fit(Structure::PayloadHeader, length)?;
        let end = at.saturating_add(length);
        let available = buf.len();
        let slot = buf.get_mut(at..end).ok_or(EmitError::BufferTooSmall {
            needed: total,
            available,
        })?;
        field::set_u8(
            slot,
            offset::NEXT_PAYLOAD,
            payload.next_field(following).value(),
        );
        field::set_u8(
            slot,
            offset::FLAGS,
            if payload.critical() { CRITICAL } else { 0 },
        );
        field::set_u16(slot, offset::LENGTH.start, length_field);
        payload.emit(field::rest_mut(slot, PAYLOAD_HEADER_LEN))?;
        at = end;
    }
    Ok(at)
}
