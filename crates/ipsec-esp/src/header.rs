//! The ESP header: SPI and Sequence Number in front of the protected payload (RFC 4303 §2).

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;

/// Byte offsets of an ESP packet (RFC 4303 §2, Figure 1, "Top-Level Format of an ESP
/// Packet"):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ----
/// |               Security Parameters Index (SPI)                 | ^Int.
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
/// |                      Sequence Number                          | |ered
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ | ----
/// |                    Payload Data* (variable)                   | |   ^
/// ~                                                               ~ |   |
/// |                                                               | |Conf.
/// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |Cov-
/// |               |     Padding (0-255 bytes)                     | |ered*
/// +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ |   |
/// |                               |  Pad Length   | Next Header   | v   v
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+ ------
/// |         Integrity Check Value-ICV   (variable)                |
/// ~                                                               ~
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
///     * If included in the Payload field, cryptographic synchronization
///       data, e.g., an Initialization Vector (IV, see Section 2.3),
///       usually is not encrypted per se, although it often is
///       referred to as being part of the ciphertext.
/// ```
///
/// Only SPI and Sequence Number sit in the clear at fixed offsets. Everything after them
/// (the IV if the algorithm sends one, the ciphertext of Payload Data, Padding, Pad Length
/// and Next Header, then the ICV) has sizes that only the SA's algorithms know, and stays
/// opaque until the SA's transform has checked and decrypted it. The trailer is then read
/// from the plaintext by [`EspPlaintextView`](crate::EspPlaintextView).
mod offset {
    use crate::field::Field;

    pub(super) const SPI: Field = 0..4;
    pub(super) const SEQUENCE_NUMBER: Field = 4..8;
    pub(super) const PAYLOAD: usize = 8;
}

/// Length of the ESP header, SPI and Sequence Number, in bytes (RFC 4303 §2).
pub const HEADER_LEN: usize = offset::PAYLOAD;

/// A zero-copy view of an ESP packet, from the first byte of the SPI to the last byte of the
/// ICV (RFC 4303 §2).
#[derive(Debug, Clone, Copy)]
pub struct EspHeaderView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EspHeaderView<T> {
    /// Wraps an ESP packet after checking that it holds the whole header and that its SPI is
    /// not zero, which "is reserved for local, implementation-specific use and MUST NOT be
    /// sent on the wire" (RFC 4303 §2.1).
    ///
    /// SPIs 1 to 255 are reserved by IANA for future use (RFC 4303 §2.1) but are accepted
    /// here: no SA is ever given one, so such a packet is dropped when its SA is looked up.
    /// Nothing is checked after the header, since the sizes of IV, ciphertext and ICV depend
    /// on the SA.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::Header, buffer.as_ref(), HEADER_LEN)?;
        let view = Self { buffer };
        if view.spi() == 0 {
            return Err(Error::ReservedSpi);
        }
        Ok(view)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Security Parameters Index: with the destination, picks the SA (RFC 4303 §2.1).
    pub fn spi(&self) -> u32 {
        field::u32_at(self.bytes(), offset::SPI)
    }

    /// Sequence Number: the low 32 bits of the packet's counter; with extended sequence
    /// numbers the high 32 bits are not sent (RFC 4303 §2.2, §2.2.1).
    pub fn sequence_number(&self) -> u32 {
        field::u32_at(self.bytes(), offset::SEQUENCE_NUMBER)
    }

    /// Everything after the header, still protected: IV (if any), ciphertext of Payload Data,
    /// Padding, Pad Length and Next Header, and the ICV (RFC 4303 §2.3 to §2.8).
    pub fn payload(&self) -> &[u8] {
        field::rest(self.bytes(), offset::PAYLOAD)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EspHeaderView<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the SPI (RFC 4303 §2.1). Zero must not be sent.
    pub fn set_spi(&mut self, value: u32) {
        field::set_u32(self.bytes_mut(), offset::SPI.start, value);
    }

    /// Sets the Sequence Number (RFC 4303 §2.2).
    pub fn set_sequence_number(&mut self, value: u32) {
        field::set_u32(self.bytes_mut(), offset::SEQUENCE_NUMBER.start, value);
    }

    /// Everything after the header, mutable: where IV, ciphertext and ICV are written
    /// (RFC 4303 §2.3 to §2.8).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        field::rest_mut(self.bytes_mut(), offset::PAYLOAD)
    }
}

/// An owned ESP header: the two fields in the clear (RFC 4303 §2.1, §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EspHeader {
    /// Security Parameters Index; never zero on the wire (RFC 4303 §2.1).
    pub spi: u32,
    /// Sequence Number, the low 32 bits of the counter (RFC 4303 §2.2).
    pub sequence_number: u32,
}

impl EspHeader {
    /// Reads the header at the start of an ESP packet, with the checks of
    /// [`EspHeaderView::new_checked`].
    pub fn parse(packet: &[u8]) -> Result<Self, Error> {
        let view = EspHeaderView::new_checked(packet)?;
        Ok(Self {
            spi: view.spi(),
            sequence_number: view.sequence_number(),
        })
    }

    /// Bytes [`EspHeader::emit`] writes: [`HEADER_LEN`].
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header at the start of `buf`, leaving the rest untouched. An SPI of zero
    /// is refused, since it must not be sent (RFC 4303 §2.1).
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        if self.spi == 0 {
            return Err(EmitError::ReservedSpi);
        }
        check_room(self.buffer_len(), buf.len())?;
        field::set_u32(buf, offset::SPI.start, self.spi);
        field::set_u32(buf, offset::SEQUENCE_NUMBER.start, self.sequence_number);
        Ok(())
    }
}
