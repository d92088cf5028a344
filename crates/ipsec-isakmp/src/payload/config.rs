//! The Configuration payload (RFC 7296 §3.15).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room, fit};
use crate::field;
use crate::registry::{CfgAttributeType, CfgType};

/// Byte offsets of the CP payload body (RFC 7296 §3.15), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   CFG Type    |                    RESERVED                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                   Configuration Attributes                    ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod payload {
    pub(super) const CFG_TYPE: usize = 0;
    pub(super) const RESERVED: usize = 1;
    pub(super) const ATTRIBUTES: usize = 4;
}

/// Byte offsets of a configuration attribute (RFC 7296 §3.15.1):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |R|         Attribute Type      |            Length             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// ~                             Value                             ~
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod attribute {
    use crate::field::Field;

    pub(super) const TYPE: Field = 0..2;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const VALUE: usize = 4;
    pub(super) const RESERVED_BIT: u16 = 0x8000;
}

/// A zero-copy view of a CP payload body.
#[derive(Debug, Clone, Copy)]
pub struct ConfigurationView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ConfigurationView<T> {
    /// Wraps a body after checking it holds the fixed fields.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(
            Structure::Configuration,
            buffer.as_ref(),
            payload::ATTRIBUTES,
        )?;
        Ok(Self { buffer })
    }

    /// CFG Type.
    pub fn cfg_type(&self) -> CfgType {
        CfgType::from(field::u8_at(self.buffer.as_ref(), payload::CFG_TYPE))
    }

    /// The attributes' bytes.
    pub fn attributes(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), payload::ATTRIBUTES)
    }
}

/// A zero-copy view of a configuration attribute at the start of a buffer, which may
/// continue past it.
#[derive(Debug, Clone, Copy)]
pub struct ConfigAttributeView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ConfigAttributeView<T> {
    /// Wraps a buffer after checking that the attribute's header and value lie within it.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(
            Structure::ConfigurationAttribute,
            buffer.as_ref(),
            attribute::VALUE,
        )?;
        let view = Self { buffer };
        check_len(
            Structure::ConfigurationAttribute,
            view.buffer.as_ref(),
            view.total_len(),
        )?;
        Ok(view)
    }

    /// Attribute Type, without the reserved bit.
    pub fn attribute_type(&self) -> CfgAttributeType {
        CfgAttributeType::from(
            field::u16_at(self.buffer.as_ref(), attribute::TYPE) & !attribute::RESERVED_BIT,
        )
    }

    /// Length of the value.
    pub fn length(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), attribute::LENGTH)
    }

    /// Bytes the attribute occupies.
    pub fn total_len(&self) -> usize {
        attribute::VALUE.saturating_add(usize::from(self.length()))
    }

    /// The value.
    pub fn value(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(attribute::VALUE..self.total_len())
            .unwrap_or(&[])
    }
}

/// A CP payload: configuration requested, replied, set or acknowledged (RFC 7296 §3.15).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Configuration {
    /// CFG Type.
    pub cfg_type: CfgType,
    /// The attributes, in order.
    pub attributes: Vec<ConfigAttribute>,
}

impl Configuration {
    /// Decodes a payload body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = ConfigurationView::new_checked(body)?;
        let mut attributes = Vec::new();
        let mut rest = view.attributes();
        while !rest.is_empty() {
            let attribute = ConfigAttributeView::new_checked(rest)?;
            attributes.push(ConfigAttribute {
                attribute_type: attribute.attribute_type(),
                value: attribute.value().to_vec(),
            });
            rest = field::rest(rest, attribute.total_len());
        }
        Ok(Self {
            cfg_type: view.cfg_type(),
            attributes,
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.attributes
            .iter()
            .map(ConfigAttribute::buffer_len)
            .fold(payload::ATTRIBUTES, usize::saturating_add)
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::set_u8(buf, payload::CFG_TYPE, self.cfg_type.value());
        field::put(buf, payload::RESERVED, &[0; 3]);
        let mut at = payload::ATTRIBUTES;
        for attribute in &self.attributes {
            attribute.emit(field::rest_mut(buf, at))?;
            at = at.saturating_add(attribute.buffer_len());
        }
        Ok(())
    }
}

/// A configuration attribute (RFC 7296 §3.15.1). An empty value in a CFG_REQUEST asks for
/// any value of that type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConfigAttribute {
    /// Attribute Type (15 bits).
    pub attribute_type: CfgAttributeType,
    /// Value, whose form the type gives.
    pub value: Vec<u8>,
}

impl ConfigAttribute {
    /// Bytes the attribute occupies.
    pub fn buffer_len(&self) -> usize {
        attribute::VALUE.saturating_add(self.value.len())
    }

    /// Writes the attribute at the start of `buf`. The type must fit in 15 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        if self.attribute_type.value() & attribute::RESERVED_BIT != 0 {
            return Err(EmitError::InvalidField {
                what: Structure::ConfigurationAttribute,
                field: "Attribute Type",
            });
        }
        let length: u16 = fit(Structure::ConfigurationAttribute, self.value.len())?;
        field::set_u16(buf, attribute::TYPE.start, self.attribute_type.value());
        field::set_u16(buf, attribute::LENGTH.start, length);
        field::put(buf, attribute::VALUE, &self.value);
        Ok(())
    }
}
