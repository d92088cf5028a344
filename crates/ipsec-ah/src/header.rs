//! The AH header (RFC 4302 §2).

use crate::error::{EmitError, Error, check_len, check_room};
use crate::field;

/// Byte offsets of the AH header (RFC 4302 §2, Figure 1, "AH Format"):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Header   |  Payload Len  |          RESERVED             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Security Parameters Index (SPI)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Sequence Number Field                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                Integrity Check Value-ICV (variable)           |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Payload Len is the length of the whole AH header in 32-bit words, minus 2 (§2.2). The
/// Integrity Check Value field fills the rest of that length: the algorithm's ICV, then
/// any padding that makes the header a multiple of 4 octets over IPv4 or of 8 octets over
/// IPv6 (§2.6, §3.3.3.2.1).
mod offset {
    use crate::field::Field;

    pub(super) const NEXT_HEADER: usize = 0;
    pub(super) const PAYLOAD_LEN: usize = 1;
    pub(super) const RESERVED: Field = 2..4;
    pub(super) const SPI: Field = 4..8;
    pub(super) const SEQUENCE_NUMBER: Field = 8..12;
    pub(super) const ICV: usize = 12;
}

/// Length of the AH header's fixed part, the "3 32-bit word fixed portion" before the ICV
/// (RFC 4302 §2.2).
pub const FIXED_LEN: usize = offset::ICV;

/// The longest AH header Payload Len can express: (255 + 2) words of 4 octets
/// (RFC 4302 §2.2).
pub const MAX_HEADER_LEN: usize = (u8::MAX as usize + 2) * 4;

/// The length of an AH header whose algorithm produces an ICV of `icv_len` bytes, including
/// the padding after the ICV that makes the header a multiple of 8 octets over IPv6 or of 4
/// octets over IPv4 (RFC 4302 §2.2, §2.6, §3.3.3.2.1). The ICV field is this length minus
/// [`FIXED_LEN`].
///
/// For example, a 96-bit ICV gives 24 bytes either way (Payload Len 4, the "standard case"
/// of §2.2), a 128-bit ICV 28 bytes over IPv4 and 32 over IPv6, and the null algorithm 12
/// and 16 bytes (Payload Len 1 and 2, as §2.2 says). The result saturates for absurd ICV
/// lengths; [`AhHeader::emit`] refuses anything longer than [`MAX_HEADER_LEN`].
pub const fn header_len_for_icv(icv_len: usize, ipv6: bool) -> usize {
    let unit = if ipv6 { 8 } else { 4 };
    match FIXED_LEN
        .saturating_add(icv_len)
        .checked_next_multiple_of(unit)
    {
        Some(len) => len,
        None => usize::MAX,
    }
}

/// The header length that a Payload Len field gives (RFC 4302 §2.2).
const fn header_len_of(payload_len: u8) -> usize {
    (payload_len as usize + 2) * 4
}

/// A zero-copy view of an AH header at the start of a buffer, which may continue past it
/// with the protected payload (RFC 4302 §2).
#[derive(Debug, Clone, Copy)]
pub struct AhHeaderView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AhHeaderView<T> {
    /// Wraps a buffer after checking that it holds the fixed part, that Payload Len gives a
    /// header at least that long (`(Payload Len + 2) * 4 >= 12`) and that the buffer holds
    /// all of it (RFC 4302 §2.2), and that the SPI is not zero, which "is reserved for local,
    /// implementation-specific use and MUST NOT be sent on the wire" (RFC 4302 §2.4).
    ///
    /// SPIs 1 to 255 are reserved by IANA for future use (RFC 4302 §2.4) but are accepted
    /// here: no SA is ever given one, so such a packet is dropped when its SA is looked up.
    /// The header's alignment to 4 or 8 octets and the ICV length depend on the IP version
    /// and the SA's algorithm and are not checked; see [`header_len_for_icv`] and
    /// [`AhHeaderView::split_icv`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(buffer.as_ref(), FIXED_LEN)?;
        let view = Self { buffer };
        let length = view.header_len();
        if length < FIXED_LEN {
            return Err(Error::LengthTooSmall {
                length,
                minimum: FIXED_LEN,
            });
        }
        check_len(view.bytes(), length)?;
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

    /// Next Header: the IP protocol number of what follows the AH header (RFC 4302 §2.1).
    pub fn next_header(&self) -> u8 {
        field::u8_at(self.bytes(), offset::NEXT_HEADER)
    }

    /// Payload Len: the AH header's length in 32-bit words, minus 2 (RFC 4302 §2.2).
    pub fn payload_len(&self) -> u8 {
        field::u8_at(self.bytes(), offset::PAYLOAD_LEN)
    }

    /// RESERVED: zero from a conforming sender; ignored on receipt, but covered by the ICV
    /// (RFC 4302 §2.3).
    pub fn reserved(&self) -> u16 {
        field::u16_at(self.bytes(), offset::RESERVED)
    }

    /// Security Parameters Index: with the destination, picks the SA (RFC 4302 §2.4).
    pub fn spi(&self) -> u32 {
        field::u32_at(self.bytes(), offset::SPI)
    }

    /// Sequence Number: the low 32 bits of the packet's counter; with extended sequence
    /// numbers the high 32 bits are not sent (RFC 4302 §2.5).
    pub fn sequence_number(&self) -> u32 {
        field::u32_at(self.bytes(), offset::SEQUENCE_NUMBER)
    }

    /// The AH header's length in bytes, from Payload Len: `(Payload Len + 2) * 4`
    /// (RFC 4302 §2.2).
    pub fn header_len(&self) -> usize {
        header_len_of(self.payload_len())
    }

    /// The whole Integrity Check Value field: the algorithm's ICV followed by any alignment
    /// padding (RFC 4302 §2.6). This view does not know the algorithm; use
    /// [`AhHeaderView::split_icv`] to tell the two apart.
    pub fn icv(&self) -> &[u8] {
        self.bytes()
            .get(offset::ICV..self.header_len())
            .unwrap_or(&[])
    }

    /// The algorithm's ICV of `icv_len` bytes and the padding after it, which the sender
    /// chose freely but which the ICV covers (RFC 4302 §2.6, §3.3.3.2.1).
    ///
    /// A sender "MUST insert only enough padding to satisfy the IPv4/IPv6 alignment
    /// requirements" (§2.6): compare [`AhHeaderView::header_len`] with
    /// [`header_len_for_icv`] to hold it to that.
    pub fn split_icv(&self, icv_len: usize) -> Result<(&[u8], &[u8]), Error> {
        let field = self.icv();
        field
            .split_at_checked(icv_len)
            .ok_or(Error::IcvFieldTooShort {
                icv_len,
                field_len: field.len(),
            })
    }

    /// The bytes after the AH header, up to the end of the buffer: the protected upper-layer
    /// data or inner IP packet (RFC 4302 §3.1).
    pub fn payload(&self) -> &[u8] {
        field::rest(self.bytes(), self.header_len())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AhHeaderView<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets Next Header (RFC 4302 §2.1).
    pub fn set_next_header(&mut self, value: u8) {
        field::set_u8(self.bytes_mut(), offset::NEXT_HEADER, value);
    }

    /// Sets Payload Len (RFC 4302 §2.2). This moves where the ICV field and the payload
    /// end and start; bytes a new length would put past the buffer read as empty.
    pub fn set_payload_len(&mut self, value: u8) {
        field::set_u8(self.bytes_mut(), offset::PAYLOAD_LEN, value);
    }

    /// Sets RESERVED, which a conforming sender sets to zero (RFC 4302 §2.3).
    pub fn set_reserved(&mut self, value: u16) {
        field::set_u16(self.bytes_mut(), offset::RESERVED.start, value);
    }

    /// Sets the SPI (RFC 4302 §2.4). Zero must not be sent.
    pub fn set_spi(&mut self, value: u32) {
        field::set_u32(self.bytes_mut(), offset::SPI.start, value);
    }

    /// Sets the Sequence Number (RFC 4302 §2.5).
    pub fn set_sequence_number(&mut self, value: u32) {
        field::set_u32(self.bytes_mut(), offset::SEQUENCE_NUMBER.start, value);
    }

    /// The whole Integrity Check Value field, padding included, mutable (RFC 4302 §2.6).
    pub fn icv_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        self.bytes_mut()
            .get_mut(offset::ICV..end)
            .unwrap_or(&mut [])
    }

    /// Writes an algorithm's ICV at the start of the Integrity Check Value field and zeroes
    /// the padding after it (RFC 4302 §2.6, §3.3.3.2.1).
    pub fn set_icv(&mut self, icv: &[u8]) -> Result<(), EmitError> {
        let field = self.icv_mut();
        let field_len = field.len();
        let (head, padding) =
            field
                .split_at_mut_checked(icv.len())
                .ok_or(EmitError::IcvTooLong {
                    icv_len: icv.len(),
                    field_len,
                })?;
        head.copy_from_slice(icv);
        padding.fill(0);
        Ok(())
    }

    /// The bytes after the AH header, mutable (RFC 4302 §3.1).
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        field::rest_mut(self.bytes_mut(), start)
    }
}

/// An owned AH header (RFC 4302 §2), without the ICV's value.
///
/// The ICV is the output of the SA's integrity algorithm over the whole packet, computed
/// with this very field zeroed (RFC 4302 §3.3.3.1), so the representation keeps only the
/// field's length and needs no allocation: [`AhHeader::emit`] writes the ICV field as
/// zeros, ready for the ICV computation, and [`AhHeaderView::set_icv`] fills it in
/// afterwards. On receipt, [`AhHeaderView::icv`] reads it in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AhHeader {
    /// Next Header: the IP protocol number of what follows (RFC 4302 §2.1).
    pub next_header: u8,
    /// Security Parameters Index; never zero on the wire (RFC 4302 §2.4).
    pub spi: u32,
    /// Sequence Number, the low 32 bits of the counter (RFC 4302 §2.5).
    pub sequence_number: u32,
    /// Length of the Integrity Check Value field in bytes: the algorithm's ICV plus the
    /// alignment padding, a multiple of 4 from 0 to 1016 (RFC 4302 §2.2, §2.6).
    /// [`AhHeader::new`] computes it with [`header_len_for_icv`].
    pub icv_field_len: usize,
}

impl AhHeader {
    /// A header for an algorithm with an ICV of `icv_len` bytes, padded for IPv6 (8 octets)
    /// or IPv4 (4 octets) as [`header_len_for_icv`] says (RFC 4302 §2.6, §3.3.3.2.1).
    pub const fn new(
        next_header: u8,
        spi: u32,
        sequence_number: u32,
        icv_len: usize,
        ipv6: bool,
    ) -> Self {
        Self {
            next_header,
            spi,
            sequence_number,
            icv_field_len: header_len_for_icv(icv_len, ipv6).saturating_sub(FIXED_LEN),
        }
    }

    /// Reads the AH header at the start of `bytes`, with the checks of
    /// [`AhHeaderView::new_checked`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let view = AhHeaderView::new_checked(bytes)?;
        Ok(Self {
            next_header: view.next_header(),
            spi: view.spi(),
            sequence_number: view.sequence_number(),
            icv_field_len: view.icv().len(),
        })
    }

    /// Bytes [`AhHeader::emit`] writes: the whole AH header, ICV field included
    /// (RFC 4302 §2.2).
    pub const fn buffer_len(&self) -> usize {
        FIXED_LEN.saturating_add(self.icv_field_len)
    }

    /// The Payload Len field for this header (RFC 4302 §2.2).
    fn payload_len(&self) -> Result<u8, EmitError> {
        let invalid = EmitError::InvalidIcvFieldLen {
            length: self.icv_field_len,
        };
        if !self.icv_field_len.is_multiple_of(4) {
            return Err(invalid);
        }
        // (12 + icv_field_len) / 4 - 2 words.
        u8::try_from((self.icv_field_len / 4).saturating_add(1)).map_err(|_| invalid)
    }

    /// Writes the AH header at the start of `buf` with RESERVED and the whole ICV field
    /// zero, leaving the rest of `buf` untouched (RFC 4302 §2, §3.3.3.1).
    ///
    /// An SPI of zero (§2.4) and an ICV field length that is no multiple of 4 or too long
    /// for Payload Len (§2.2) are refused.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        let payload_len = self.payload_len()?;
        if self.spi == 0 {
            return Err(EmitError::ReservedSpi);
        }
        let length = self.buffer_len();
        check_room(length, buf.len())?;
        field::set_u8(buf, offset::NEXT_HEADER, self.next_header);
        field::set_u8(buf, offset::PAYLOAD_LEN, payload_len);
        field::set_u16(buf, offset::RESERVED.start, 0);
        field::set_u32(buf, offset::SPI.start, self.spi);
        field::set_u32(buf, offset::SEQUENCE_NUMBER.start, self.sequence_number);
        if let Some(icv) = buf.get_mut(offset::ICV..length) {
            icv.fill(0);
        }
        Ok(())
    }
}
