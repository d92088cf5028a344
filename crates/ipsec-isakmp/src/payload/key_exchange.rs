//! The Key Exchange payload (RFC 7296 §3.4).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;
use crate::registry::DhGroup;

/// Byte offsets of the KE payload body (RFC 7296 §3.4), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Diffie-Hellman Group Num    |           RESERVED            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                       Key Exchange Data                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const GROUP: Field = 0..2;
    pub(super) const DATA: usize = 4;
}

/// A zero-copy view of a KE payload body.
#[derive(Debug, Clone, Copy)]
pub struct KeyExchangeView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> KeyExchangeView<T> {
    /// Wraps a body after checking it holds the fixed fields.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::KeyExchange, buffer.as_ref(), offset::DATA)?;
        Ok(Self { buffer })
    }

    /// Diffie-Hellman Group Num.
    pub fn group(&self) -> DhGroup {
        DhGroup::from(field::u16_at(self.buffer.as_ref(), offset::GROUP))
    }

    /// Key Exchange Data: the sender's public value.
    pub fn data(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), offset::DATA)
    }
}

/// A KE payload: the sender's Diffie-Hellman public value (RFC 7296 §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyExchange {
    /// The group the value belongs to.
    pub group: DhGroup,
    /// The public value, encoded as the group's RFC says.
    pub data: Vec<u8>,
}

impl KeyExchange {
    /// Decodes a payload body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = KeyExchangeView::new_checked(body)?;
        Ok(Self {
            group: view.group(),
            data: view.data().to_vec(),
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        offset::DATA.saturating_add(self.data.len())
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::set_u16(buf, offset::GROUP.start, self.group.value());
        field::set_u16(buf, offset::GROUP.end, 0);
        field::put(buf, offset::DATA, &self.data);
        Ok(())
    }
}
