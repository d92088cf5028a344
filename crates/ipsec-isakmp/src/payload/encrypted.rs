//! The Encrypted and Authenticated payload SK (RFC 7296 §3.14) and its fragment form SKF
//! (RFC 7383 §2.5), as opaque containers: encryption belongs to the state machine.

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;
use crate::registry::PayloadType;

/// The SK payload (RFC 7296 §3.14). Its body is IV, ciphertext (inner payloads, padding, Pad
/// Length) and integrity checksum, whose sizes depend on the negotiated algorithms:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Payload  |C|  RESERVED   |         Payload Length        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Initialization Vector                     |
/// |         (length is block size for encryption algorithm)       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                    Encrypted IKE Payloads                     ~
/// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |               |             Padding (0-255 octets)            |
/// +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
/// |                                               |  Pad Length   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                    Integrity Checksum Data                    ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Encrypted {
    /// The type of the first payload inside, carried in the SK header's Next Payload field.
    pub first_inner: PayloadType,
    /// IV, ciphertext and integrity checksum, still protected.
    pub data: Vec<u8>,
}

impl Encrypted {
    /// Takes a payload body and the SK header's Next Payload field.
    pub fn parse(first_inner: PayloadType, body: &[u8]) -> Self {
        Self {
            first_inner,
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

/// Byte offsets of the SKF payload body (RFC 7383 §2.5), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Fragment Number        |        Total Fragments        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Initialization Vector                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                      Encrypted content                        ~
/// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |               |             Padding (0-255 octets)            |
/// +-+-+-+-+-+-+-+-+                               +-+-+-+-+-+-+-+-+
/// |                                               |  Pad Length   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                    Integrity Checksum Data                    ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const FRAGMENT_NUMBER: Field = 0..2;
    pub(super) const TOTAL_FRAGMENTS: Field = 2..4;
    pub(super) const DATA: usize = 4;
}

/// A zero-copy view of an SKF payload body.
#[derive(Debug, Clone, Copy)]
pub struct EncryptedFragmentView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EncryptedFragmentView<T> {
    /// Wraps a body after checking the fixed fields and that `1 <= Fragment Number <= Total
    /// Fragments` (RFC 7383 §2.5).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::EncryptedFragment, buffer.as_ref(), offset::DATA)?;
        let view = Self { buffer };
        if view.total_fragments() == 0 {
            return Err(Error::InvalidField {
                what: Structure::EncryptedFragment,
                field: "Total Fragments",
                value: 0,
            });
        }
        let number = view.fragment_number();
        if number == 0 || number > view.total_fragments() {
            return Err(Error::InvalidField {
                what: Structure::EncryptedFragment,
                field: "Fragment Number",
                value: u32::from(number),
            });
        }
        Ok(view)
    }

    /// Fragment Number, from 1.
    pub fn fragment_number(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), offset::FRAGMENT_NUMBER)
    }

    /// Total Fragments.
    pub fn total_fragments(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), offset::TOTAL_FRAGMENTS)
    }

    /// IV, ciphertext and integrity checksum.
    pub fn data(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), offset::DATA)
    }
}

/// An SKF payload: one fragment of an SK payload (RFC 7383 §2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncryptedFragment {
    /// In the first fragment, the type of the first payload inside; zero in the others.
    pub first_inner: PayloadType,
    /// Fragment Number, from 1.
    pub fragment_number: u16,
    /// Total Fragments.
    pub total_fragments: u16,
    /// IV, ciphertext and integrity checksum, still protected.
    pub data: Vec<u8>,
}

impl EncryptedFragment {
    /// Decodes a payload body given the SKF header's Next Payload field.
    pub fn parse(first_inner: PayloadType, body: &[u8]) -> Result<Self, Error> {
        let view = EncryptedFragmentView::new_checked(body)?;
        Ok(Self {
            first_inner,
            fragment_number: view.fragment_number(),
            total_fragments: view.total_fragments(),
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
        field::set_u16(buf, offset::FRAGMENT_NUMBER.start, self.fragment_number);
        field::set_u16(buf, offset::TOTAL_FRAGMENTS.start, self.total_fragments);
        field::put(buf, offset::DATA, &self.data);
        Ok(())
    }
}
