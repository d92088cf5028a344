//! Payloads of a type this crate does not decode (RFC 7296 §2.5).

use alloc::vec::Vec;

use crate::error::{EmitError, check_room};
use crate::field;
use crate::registry::PayloadType;

/// A payload kept opaque because this crate does not decode its type.
///
/// Parsing keeps such a payload only when its critical bit is clear (RFC 7296 §2.5), so a
/// parsed one always has `critical == false`; a sender may set it to test a peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownPayload {
    /// The payload type announced for it.
    pub payload_type: PayloadType,
    /// The critical bit to send it with.
    pub critical: bool,
    /// The body after the generic header.
    pub body: Vec<u8>,
}

impl UnknownPayload {
    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.body.len()
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::put(buf, 0, &self.body);
        Ok(())
    }
}
