//! The EAP payload (RFC 7296 §3.16).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;

/// Byte offsets of the EAP message that forms the EAP payload body (RFC 7296 §3.16,
/// RFC 3748 §4), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Code      | Identifier    |           Length              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      | Type_Data...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const CODE: usize = 0;
    pub(super) const IDENTIFIER: usize = 1;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const HEADER_END: usize = 4;
}

/// A zero-copy view of an EAP payload body.
#[derive(Debug, Clone, Copy)]
pub struct EapView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EapView<T> {
    /// Wraps a body after checking that it holds the EAP header and that the EAP Length field
    /// equals the body's length.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        check_len(Structure::Eap, bytes, offset::HEADER_END)?;
        let length = usize::from(field::u16_at(bytes, offset::LENGTH));
        if length < offset::HEADER_END {
            return Err(Error::LengthTooSmall {
                what: Structure::Eap,
                length,
                minimum: offset::HEADER_END,
            });
        }
        if length > bytes.len() {
            return Err(Error::LengthOverrun {
                what: Structure::Eap,
                length,
                available: bytes.len(),
            });
        }
        if length < bytes.len() {
            return Err(Error::TrailingBytes {
                what: Structure::Eap,
                extra: bytes.len() - length,
            });
        }
        Ok(Self { buffer })
    }

    /// EAP Code (1 request, 2 response, 3 success, 4 failure; RFC 3748 §4).
    pub fn code(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::CODE)
    }

    /// EAP Identifier.
    pub fn identifier(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::IDENTIFIER)
    }

    /// The whole EAP message.
    pub fn message(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// An EAP payload (RFC 7296 §3.16): one EAP message, kept opaque past its header.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Eap {
    /// The EAP message, header included.
    pub message: Vec<u8>,
}

impl Eap {
    /// Decodes a payload body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = EapView::new_checked(body)?;
        Ok(Self {
            message: view.message().to_vec(),
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.message.len()
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::put(buf, 0, &self.message);
        Ok(())
    }
}
