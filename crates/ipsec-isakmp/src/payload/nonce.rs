//! The Nonce payload (RFC 7296 §3.9).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_room};
use crate::field;

/// The shortest Nonce Data allowed (RFC 7296 §3.9).
pub const MIN_NONCE_LEN: usize = 16;
/// The longest Nonce Data allowed (RFC 7296 §3.9).
pub const MAX_NONCE_LEN: usize = 256;

/// A Nonce payload, Ni or Nr (RFC 7296 §3.9): the body is the Nonce Data alone.
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                            Nonce Data                         ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Nonce {
    /// Nonce Data: 16 to 256 random octets.
    pub data: Vec<u8>,
}

impl Nonce {
    /// Decodes a payload body, whose length must be between 16 and 256 octets inclusive
    /// (RFC 7296 §3.9).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if !(MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&body.len()) {
            return Err(Error::InvalidField {
                what: Structure::Nonce,
                field: "Nonce Data length",
                value: u32::try_from(body.len()).unwrap_or(u32::MAX),
            });
        }
        Ok(Self {
            data: body.to_vec(),
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.data.len()
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::put(buf, 0, &self.data);
        Ok(())
    }
}
