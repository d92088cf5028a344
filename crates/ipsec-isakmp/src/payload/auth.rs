//! The Authentication payload (RFC 7296 §3.8).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;
use crate::registry::AuthMethod;

/// Byte offsets of the AUTH payload body (RFC 7296 §3.8), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Auth Method   |                RESERVED                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                      Authentication Data                      ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    pub(super) const METHOD: usize = 0;
    pub(super) const RESERVED: usize = 1;
    pub(super) const DATA: usize = 4;
}

/// A zero-copy view of an AUTH payload body.
#[derive(Debug, Clone, Copy)]
pub struct AuthenticationView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AuthenticationView<T> {
    /// Wraps a body after checking it holds the fixed fields.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::Authentication, buffer.as_ref(), offset::DATA)?;
        Ok(Self { buffer })
    }

    /// Auth Method.
    pub fn method(&self) -> AuthMethod {
        AuthMethod::from(field::u8_at(self.buffer.as_ref(), offset::METHOD))
    }

    /// Authentication Data.
    pub fn data(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), offset::DATA)
    }
}

/// An AUTH payload (RFC 7296 §3.8). The data is a MAC or signature over the sender's first
/// message (RFC 7296 §2.15); compare it in constant time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Authentication {
    /// Auth Method.
    pub method: AuthMethod,
    /// Authentication Data.
    pub data: Vec<u8>,
}

impl Authentication {
    /// Decodes a payload body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = AuthenticationView::new_checked(body)?;
        Ok(Self {
            method: view.method(),
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
        field::set_u8(buf, offset::METHOD, self.method.value());
        field::put(buf, offset::RESERVED, &[0; 3]);
        field::put(buf, offset::DATA, &self.data);
        Ok(())
    }
}
