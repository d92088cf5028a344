//! The Security Association payload with its proposals, transforms and attributes
//! (RFC 7296 §3.3).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room, fit};
use crate::field;
use crate::registry::{
    DhGroup, EncrId, EsnId, IntegId, PrfId, ProtocolId, TransformAttributeType, TransformType,
};
use crate::spi::Spi;

/// Last Substruc of a proposal that is the last one (RFC 7296 §3.3.1).
const LAST: u8 = 0;
/// Last Substruc of a proposal that more proposals follow (RFC 7296 §3.3.1).
const MORE_PROPOSALS: u8 = 2;
/// Last Substruc of a transform that more transforms follow (RFC 7296 §3.3.2).
const MORE_TRANSFORMS: u8 = 3;

/// Byte offsets of a Proposal substructure (RFC 7296 §3.3.1):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Last Substruc |   RESERVED    |         Proposal Length       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                        SPI (variable)                         ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                        <Transforms>                           ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod proposal {
    use crate::field::Field;

    pub(super) const LAST_SUBSTRUC: usize = 0;
    pub(super) const RESERVED: usize = 1;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const NUMBER: usize = 4;
    pub(super) const PROTOCOL_ID: usize = 5;
    pub(super) const SPI_SIZE: usize = 6;
    pub(super) const NUM_TRANSFORMS: usize = 7;
    pub(super) const SPI: usize = 8;
}

/// Byte offsets of a Transform substructure (RFC 7296 §3.3.2):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Last Substruc |   RESERVED    |        Transform Length       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Transform Type |   RESERVED    |          Transform ID         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                      Transform Attributes                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod transform {
    use crate::field::Field;

    pub(super) const LAST_SUBSTRUC: usize = 0;
    pub(super) const RESERVED: usize = 1;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const TYPE: usize = 4;
    pub(super) const RESERVED2: usize = 5;
    pub(super) const ID: Field = 6..8;
    pub(super) const ATTRIBUTES: usize = 8;
}

/// Byte offsets of a Transform attribute (RFC 7296 §3.3.5):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |A|       Attribute Type        |    AF=0  Attribute Length     |
/// |F|                             |    AF=1  Attribute Value      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   AF=0  Attribute Value                       |
/// |                   AF=1  Not Transmitted                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod attribute {
    use crate::field::Field;

    pub(super) const TYPE: Field = 0..2;
    pub(super) const LENGTH_OR_VALUE: Field = 2..4;
    pub(super) const VALUE: usize = 4;
    pub(super) const FORMAT_TV: u16 = 0x8000;
}

/// A zero-copy view of a Proposal substructure at the start of a buffer, which may continue
/// past it.
#[derive(Debug, Clone, Copy)]
pub struct ProposalView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ProposalView<T> {
    /// Wraps a buffer after checking that the fixed fields are whole and that Proposal Length
    /// covers them and the SPI and lies within the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        check_len(Structure::Proposal, bytes, proposal::SPI)?;
        let length = usize::from(field::u16_at(bytes, proposal::LENGTH));
        let minimum =
            proposal::SPI.saturating_add(usize::from(field::u8_at(bytes, proposal::SPI_SIZE)));
        if length < minimum {
            return Err(Error::LengthTooSmall {
                what: Structure::Proposal,
                length,
                minimum,
            });
        }
        if length > bytes.len() {
            return Err(Error::LengthOverrun {
                what: Structure::Proposal,
                length,
                available: bytes.len(),
            });
        }
        Ok(Self { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn spi_end(&self) -> usize {
        proposal::SPI.saturating_add(usize::from(self.spi_size()))
    }

    /// Last Substruc: 0 for the last proposal, 2 if more follow.
    pub fn last_substruc(&self) -> u8 {
        field::u8_at(self.bytes(), proposal::LAST_SUBSTRUC)
    }

    /// Proposal Length, including its transforms.
    pub fn proposal_length(&self) -> u16 {
        field::u16_at(self.bytes(), proposal::LENGTH)
    }

    /// Proposal Num.
    pub fn proposal_num(&self) -> u8 {
        field::u8_at(self.bytes(), proposal::NUMBER)
    }

    /// Protocol ID.
    pub fn protocol_id(&self) -> ProtocolId {
        ProtocolId::from(field::u8_at(self.bytes(), proposal::PROTOCOL_ID))
    }

    /// SPI Size.
    pub fn spi_size(&self) -> u8 {
        field::u8_at(self.bytes(), proposal::SPI_SIZE)
    }

    /// Num Transforms.
    pub fn num_transforms(&self) -> u8 {
        field::u8_at(self.bytes(), proposal::NUM_TRANSFORMS)
    }

    /// The SPI's bytes.
    pub fn spi(&self) -> &[u8] {
        self.bytes()
            .get(proposal::SPI..self.spi_end())
            .unwrap_or(&[])
    }

    /// The transforms' bytes, up to Proposal Length.
    pub fn transforms(&self) -> &[u8] {
        self.bytes()
            .get(self.spi_end()..usize::from(self.proposal_length()))
            .unwrap_or(&[])
    }
}

/// A zero-copy view of a Transform substructure at the start of a buffer, which may
/// continue past it.
#[derive(Debug, Clone, Copy)]
pub struct TransformView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TransformView<T> {
    /// Wraps a buffer after checking that the fixed fields are whole and that Transform
    /// Length covers them and lies within the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        check_len(Structure::Transform, bytes, transform::ATTRIBUTES)?;
        let length = usize::from(field::u16_at(bytes, transform::LENGTH));
        if length < transform::ATTRIBUTES {
            return Err(Error::LengthTooSmall {
                what: Structure::Transform,
                length,
                minimum: transform::ATTRIBUTES,
            });
        }
        if length > bytes.len() {
            return Err(Error::LengthOverrun {
                what: Structure::Transform,
                length,
                available: bytes.len(),
            });
        }
        Ok(Self { buffer })
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Last Substruc: 0 for the last transform, 3 if more follow.
    pub fn last_substruc(&self) -> u8 {
        field::u8_at(self.bytes(), transform::LAST_SUBSTRUC)
    }

    /// Transform Length, including attributes.
    pub fn transform_length(&self) -> u16 {
        field::u16_at(self.bytes(), transform::LENGTH)
    }

    /// Transform Type.
    pub fn transform_type(&self) -> TransformType {
        TransformType::from(field::u8_at(self.bytes(), transform::TYPE))
    }

    /// Transform ID.
    pub fn transform_id(&self) -> u16 {
        field::u16_at(self.bytes(), transform::ID)
    }

    /// The attributes' bytes, up to Transform Length.
    pub fn attributes(&self) -> &[u8] {
        self.bytes()
            .get(transform::ATTRIBUTES..usize::from(self.transform_length()))
            .unwrap_or(&[])
    }
}

/// A zero-copy view of a Transform attribute at the start of a buffer, which may continue
/// past it.
#[derive(Debug, Clone, Copy)]
pub struct AttributeView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AttributeView<T> {
    /// Wraps a buffer after checking that the attribute, and for the TLV format its value,
    /// lies within it.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(
            Structure::TransformAttribute,
            buffer.as_ref(),
            attribute::VALUE,
        )?;
        let view = Self { buffer };
        check_len(
            Structure::TransformAttribute,
            view.buffer.as_ref(),
            view.total_len(),
        )?;
        Ok(view)
    }

    fn type_field(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), attribute::TYPE)
    }

    /// Whether the attribute is in the short TV format (AF = 1).
    pub fn is_tv(&self) -> bool {
        self.type_field() & attribute::FORMAT_TV != 0
    }

    /// Attribute Type, without the AF bit.
    pub fn attribute_type(&self) -> TransformAttributeType {
        TransformAttributeType::from(self.type_field() & !attribute::FORMAT_TV)
    }

    /// The second 16-bit field: the value of a TV attribute, the length of a TLV one.
    pub fn length_or_value(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), attribute::LENGTH_OR_VALUE)
    }

    /// Bytes the attribute occupies.
    pub fn total_len(&self) -> usize {
        if self.is_tv() {
            attribute::VALUE
        } else {
            attribute::VALUE.saturating_add(usize::from(self.length_or_value()))
        }
    }

    /// The value of a TLV attribute; empty for TV.
    pub fn tlv_value(&self) -> &[u8] {
        if self.is_tv() {
            return &[];
        }
        self.buffer
            .as_ref()
            .get(attribute::VALUE..self.total_len())
            .unwrap_or(&[])
    }
}

/// A Security Association payload: proposals in the sender's order of preference
/// (RFC 7296 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecurityAssociation {
    /// At least one proposal.
    pub proposals: Vec<Proposal>,
}

impl SecurityAssociation {
    /// Decodes a payload body. The proposals' Last Substruc fields must mark the last one
    /// (RFC 7296 §3.3.1), and there must be at least one.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.is_empty() {
            return Err(Error::Empty {
                what: Structure::SecurityAssociation,
            });
        }
        let mut proposals = Vec::new();
        let mut rest = body;
        loop {
            let view = ProposalView::new_checked(rest)?;
            proposals.push(Proposal::parse(&view)?);
            rest = field::rest(rest, usize::from(view.proposal_length()));
            match (view.last_substruc(), rest.is_empty()) {
                (LAST, true) => break,
                (MORE_PROPOSALS, false) => {}
                (LAST, false) => {
                    return Err(Error::TrailingBytes {
                        what: Structure::SecurityAssociation,
                        extra: rest.len(),
                    });
                }
                (other, _) => {
                    return Err(Error::InvalidField {
                        what: Structure::Proposal,
                        field: "Last Substruc",
                        value: u32::from(other),
                    });
                }
            }
        }
        Ok(Self { proposals })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.proposals
            .iter()
            .map(Proposal::buffer_len)
            .fold(0, usize::saturating_add)
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        if self.proposals.is_empty() {
            return Err(EmitError::Empty {
                what: Structure::SecurityAssociation,
            });
        }
        let mut at = 0usize;
        let count = self.proposals.len();
        for (index, proposal) in self.proposals.iter().enumerate() {
            let last = index.saturating_add(1) == count;
            proposal.emit(field::rest_mut(buf, at), last)?;
            at = at.saturating_add(proposal.buffer_len());
        }
        Ok(())
    }
}

/// A proposal: one protocol and the transforms the sender offers for it (RFC 7296 §3.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Proposal {
    /// Proposal Num: 1 for the first proposal of a request, one more for each next; a
    /// response repeats the number of the proposal it accepts.
    pub number: u8,
    /// Protocol ID: IKE, AH or ESP.
    pub protocol: ProtocolId,
    /// The sending entity's SPI: none in an IKE_SA_INIT, eight octets when rekeying an IKE SA,
    /// four for AH and ESP.
    pub spi: Spi,
    /// The transforms; one of each type makes a choice, several of a type are alternatives.
    pub transforms: Vec<Transform>,
}

impl Proposal {
    /// Decodes a checked proposal. Num Transforms must equal the transforms present and each
    /// but the last must say more follow (RFC 7296 §3.3.1, §3.3.2).
    pub fn parse<T: AsRef<[u8]>>(view: &ProposalView<T>) -> Result<Self, Error> {
        let spi = Spi::from_bytes(Structure::Proposal, view.spi())?;
        let mut transforms = Vec::new();
        let mut rest = view.transforms();
        while !rest.is_empty() {
            let transform = TransformView::new_checked(rest)?;
            transforms.push(Transform::parse(&transform)?);
            rest = field::rest(rest, usize::from(transform.transform_length()));
            let expected = if rest.is_empty() {
                LAST
            } else {
                MORE_TRANSFORMS
            };
            if transform.last_substruc() != expected {
                return Err(Error::InvalidField {
                    what: Structure::Transform,
                    field: "Last Substruc",
                    value: u32::from(transform.last_substruc()),
                });
            }
        }
        if transforms.len() != usize::from(view.num_transforms()) {
            return Err(Error::CountMismatch {
                what: Structure::Proposal,
                declared: usize::from(view.num_transforms()),
                found: transforms.len(),
            });
        }
        Ok(Self {
            number: view.proposal_num(),
            protocol: view.protocol_id(),
            spi,
            transforms,
        })
    }

    /// Bytes the proposal occupies, transforms included.
    pub fn buffer_len(&self) -> usize {
        self.transforms
            .iter()
            .map(Transform::buffer_len)
            .fold(proposal::SPI, usize::saturating_add)
            .saturating_add(usize::from(self.spi.size()))
    }

    /// Writes the proposal at the start of `buf`; `last` sets its Last Substruc.
    pub fn emit(&self, buf: &mut [u8], last: bool) -> Result<(), EmitError> {
        let length = self.buffer_len();
        check_room(length, buf.len())?;
        let length_field: u16 = fit(Structure::Proposal, length)?;
        let count: u8 = fit(Structure::Proposal, self.transforms.len())?;
        field::set_u8(
            buf,
            proposal::LAST_SUBSTRUC,
            if last { LAST } else { MORE_PROPOSALS },
        );
        field::set_u8(buf, proposal::RESERVED, 0);
        field::set_u16(buf, proposal::LENGTH.start, length_field);
        field::set_u8(buf, proposal::NUMBER, self.number);
        field::set_u8(buf, proposal::PROTOCOL_ID, self.protocol.value());
        field::set_u8(buf, proposal::SPI_SIZE, self.spi.size());
        field::set_u8(buf, proposal::NUM_TRANSFORMS, count);
        self.spi.write(buf, proposal::SPI);
        let mut at = proposal::SPI.saturating_add(usize::from(self.spi.size()));
        for (index, transform) in self.transforms.iter().enumerate() {
            let last = index.saturating_add(1) == self.transforms.len();
            transform.emit(field::rest_mut(buf, at), last)?;
            at = at.saturating_add(transform.buffer_len());
        }
        Ok(())
    }

    /// The transforms of one type, in the order offered.
    pub fn transforms_of(&self, kind: TransformType) -> impl Iterator<Item = &Transform> {
        self.transforms
            .iter()
            .filter(move |t| t.transform_type == kind)
    }
}

/// A transform's type and ID decoded together (RFC 7296 §3.3.2, RFC 9370 §2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransformId {
    /// Transform Type 1.
    Encr(EncrId),
    /// Transform Type 2.
    Prf(PrfId),
    /// Transform Type 3.
    Integ(IntegId),
    /// Transform Type 4.
    Dh(DhGroup),
    /// Transform Type 5.
    Esn(EsnId),
    /// Transform Types 6 to 12: additional key exchange `index` (1 to 7) of RFC 9370.
    AdditionalKe {
        /// Which additional key exchange, 1 to 7.
        index: u8,
        /// Its method.
        group: DhGroup,
    },
    /// Any other transform type.
    Other {
        /// Transform Type.
        transform_type: TransformType,
        /// Transform ID.
        id: u16,
    },
}

/// A Transform substructure: one algorithm and its attributes (RFC 7296 §3.3.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Transform {
    /// Transform Type.
    pub transform_type: TransformType,
    /// Transform ID, in the registry of its type.
    pub transform_id: u16,
    /// Attributes; for IKEv2 only Key Length is defined (RFC 7296 §3.3.5).
    pub attributes: Vec<TransformAttribute>,
}

impl Transform {
    /// Decodes a checked transform and its attributes.
    pub fn parse<T: AsRef<[u8]>>(view: &TransformView<T>) -> Result<Self, Error> {
        let mut attributes = Vec::new();
        let mut rest = view.attributes();
        while !rest.is_empty() {
            let attribute = AttributeView::new_checked(rest)?;
            attributes.push(TransformAttribute::parse(&attribute));
            rest = field::rest(rest, attribute.total_len());
        }
        Ok(Self {
            transform_type: view.transform_type(),
            transform_id: view.transform_id(),
            attributes,
        })
    }

    fn of(transform_type: TransformType, transform_id: u16) -> Self {
        Self {
            transform_type,
            transform_id,
            attributes: Vec::new(),
        }
    }

    /// An encryption transform, with a Key Length attribute for ciphers whose key length
    /// varies (RFC 7296 §3.3.5).
    pub fn encr(id: EncrId, key_bits: Option<u16>) -> Self {
        let mut transform = Self::of(TransformType::Encr, id.value());
        if let Some(bits) = key_bits {
            transform.attributes.push(TransformAttribute::Tv {
                attribute_type: TransformAttributeType::KeyLength,
                value: bits,
            });
        }
        transform
    }

    /// A pseudorandom function transform.
    pub fn prf(id: PrfId) -> Self {
        Self::of(TransformType::Prf, id.value())
    }

    /// An integrity transform.
    pub fn integ(id: IntegId) -> Self {
        Self::of(TransformType::Integ, id.value())
    }

    /// A Diffie-Hellman group transform.
    pub fn dh(group: DhGroup) -> Self {
        Self::of(TransformType::Dh, group.value())
    }

    /// An extended sequence numbers transform.
    pub fn esn(id: EsnId) -> Self {
        Self::of(TransformType::Esn, id.value())
    }

    /// The type and ID decoded together.
    pub fn id(&self) -> TransformId {
        let id = self.transform_id;
        match self.transform_type.value() {
            1 => TransformId::Encr(EncrId::from(id)),
            2 => TransformId::Prf(PrfId::from(id)),
            3 => TransformId::Integ(IntegId::from(id)),
            4 => TransformId::Dh(DhGroup::from(id)),
            5 => TransformId::Esn(EsnId::from(id)),
            kind @ 6..=12 => TransformId::AdditionalKe {
                index: kind - 5,
                group: DhGroup::from(id),
            },
            _ => TransformId::Other {
                transform_type: self.transform_type,
                id,
            },
        }
    }

    /// The Key Length attribute in bits, if present (RFC 7296 §3.3.5).
    pub fn key_length(&self) -> Option<u16> {
        self.attributes.iter().find_map(|a| match a {
            TransformAttribute::Tv {
                attribute_type: TransformAttributeType::KeyLength,
                value,
            } => Some(*value),
            _ => None,
        })
    }

    /// Bytes the transform occupies, attributes included.
    pub fn buffer_len(&self) -> usize {
        self.attributes
            .iter()
            .map(TransformAttribute::buffer_len)
            .fold(transform::ATTRIBUTES, usize::saturating_add)
    }

    /// Writes the transform at the start of `buf`; `last` sets its Last Substruc.
    pub fn emit(&self, buf: &mut [u8], last: bool) -> Result<(), EmitError> {
        let length = self.buffer_len();
        check_room(length, buf.len())?;
        let length_field: u16 = fit(Structure::Transform, length)?;
        field::set_u8(
            buf,
            transform::LAST_SUBSTRUC,
            if last { LAST } else { MORE_TRANSFORMS },
        );
        field::set_u8(buf, transform::RESERVED, 0);
        field::set_u16(buf, transform::LENGTH.start, length_field);
        field::set_u8(buf, transform::TYPE, self.transform_type.value());
        field::set_u8(buf, transform::RESERVED2, 0);
        field::set_u16(buf, transform::ID.start, self.transform_id);
        let mut at = transform::ATTRIBUTES;
        for attribute in &self.attributes {
            attribute.emit(field::rest_mut(buf, at))?;
            at = at.saturating_add(attribute.buffer_len());
        }
        Ok(())
    }
}

/// A Transform attribute in one of its two formats (RFC 7296 §3.3.5). Key Length is TV.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TransformAttribute {
    /// Type/Value: a 16-bit value in the header (AF = 1).
    Tv {
        /// Attribute Type (15 bits).
        attribute_type: TransformAttributeType,
        /// Attribute Value.
        value: u16,
    },
    /// Type/Length/Value: a value of up to 65535 octets after the header (AF = 0).
    Tlv {
        /// Attribute Type (15 bits).
        attribute_type: TransformAttributeType,
        /// Attribute Value.
        value: Vec<u8>,
    },
}

impl TransformAttribute {
    /// Decodes a checked attribute.
    pub fn parse<T: AsRef<[u8]>>(view: &AttributeView<T>) -> Self {
        if view.is_tv() {
            Self::Tv {
                attribute_type: view.attribute_type(),
                value: view.length_or_value(),
            }
        } else {
            Self::Tlv {
                attribute_type: view.attribute_type(),
                value: view.tlv_value().to_vec(),
            }
        }
    }

    /// Bytes the attribute occupies.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Tv { .. } => attribute::VALUE,
            Self::Tlv { value, .. } => attribute::VALUE.saturating_add(value.len()),
        }
    }

    /// Writes the attribute at the start of `buf`. The type must fit in 15 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        let (attribute_type, second, format) = match self {
            Self::Tv {
                attribute_type,
                value,
            } => (*attribute_type, *value, attribute::FORMAT_TV),
            Self::Tlv {
                attribute_type,
                value,
            } => (
                *attribute_type,
                fit(Structure::TransformAttribute, value.len())?,
                0,
            ),
        };
        if attribute_type.value() & attribute::FORMAT_TV != 0 {
            return Err(EmitError::InvalidField {
                what: Structure::TransformAttribute,
                field: "Attribute Type",
            });
        }
        field::set_u16(buf, attribute::TYPE.start, attribute_type.value() | format);
        field::set_u16(buf, attribute::LENGTH_OR_VALUE.start, second);
        if let Self::Tlv { value, .. } = self {
            field::put(buf, attribute::VALUE, value);
        }
        Ok(())
    }
}
