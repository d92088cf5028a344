//! The Vendor ID payload (RFC 7296 §3.12).

use alloc::vec::Vec;

use crate::error::{EmitError, check_room};
use crate::field;

/// A Vendor ID payload (RFC 7296 §3.12): the body is the Vendor ID alone.
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                        Vendor ID (VID)                        ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VendorId {
    /// The vendor's identifier, usually a hash of a string.
    pub data: Vec<u8>,
}

impl VendorId {
    /// Decodes a payload body; any content is valid.
    pub fn parse(body: &[u8]) -> Self {
        Self {
            data: body.to_vec(),
        }
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
