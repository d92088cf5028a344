//! The ESP trailer at the end of the decrypted plaintext: Padding, Pad Length and Next
//! Header (RFC 4303 §2.4 to §2.6).

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;

/// Byte layout of the plaintext an ESP transform encrypts and decrypts: the part of
/// RFC 4303 §2, Figure 1 marked "Conf. Covered", without the IV, read from its end:
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Payload Data (variable)                    |
/// ~                                                               ~
/// |                                                               |
/// +               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |               |     Padding (0-255 bytes)                     |
/// +-+-+-+-+-+-+-+-+               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               |  Pad Length   | Next Header   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Pad Length counts the padding bytes right before it (§2.5). In tunnel mode the sender may
/// put TFC padding between Payload Data and Padding (§2.4, §2.7); nothing on the wire marks
/// where it starts (the inner packet's own length does), so here it is part of the payload.
mod offset {
    /// Next Header, counted back from the end of the plaintext.
    pub(super) const NEXT_HEADER_FROM_END: usize = 1;
    /// Pad Length, counted back from the end of the plaintext.
    pub(super) const PAD_LENGTH_FROM_END: usize = 2;
}

/// Length of the Pad Length and Next Header fields that end every ESP plaintext
/// (RFC 4303 §2.5, §2.6).
pub const TRAILER_LEN: usize = offset::PAD_LENGTH_FROM_END;

/// Next Header value 59, "no next header", that marks a dummy packet: the receiver discards
/// it without reporting an error (RFC 4303 §2.6).
pub const NEXT_HEADER_DUMMY: u8 = 59;

/// The largest alignment the padding can reach: Pad Length is one octet (RFC 4303 §2.5).
const MAX_ALIGNMENT: usize = 256;

/// ESP ciphertext always ends on a 4-byte boundary, whatever the cipher's block size
/// (RFC 4303 §2.4).
const MIN_ALIGNMENT: usize = 4;

/// A zero-copy view of a decrypted ESP plaintext: Payload Data, Padding, Pad Length and Next
/// Header (RFC 4303 §2.3 to §2.6).
#[derive(Debug, Clone, Copy)]
pub struct EspPlaintextView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EspPlaintextView<T> {
    /// Wraps a decrypted plaintext after checking that it ends with Pad Length and Next
    /// Header and that Pad Length counts no more bytes than precede it (RFC 4303 §2.5).
    ///
    /// The padding's contents are not checked: an algorithm may define its own. For the
    /// default padding of RFC 4303 §2.4, see [`check_default_padding`].
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::Trailer, buffer.as_ref(), TRAILER_LEN)?;
        let view = Self { buffer };
        let available = view.trailer_start();
        if usize::from(view.pad_length()) > available {
            return Err(Error::PadLengthTooLarge {
                pad_length: view.pad_length(),
                available,
            });
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

    /// Offset of the Pad Length field: the length of payload and padding together.
    fn trailer_start(&self) -> usize {
        self.bytes().len().saturating_sub(TRAILER_LEN)
    }

    /// Offset where the padding starts: the length of the payload.
    fn padding_start(&self) -> usize {
        self.trailer_start()
            .saturating_sub(usize::from(self.pad_length()))
    }

    /// Pad Length: how many padding bytes precede it (RFC 4303 §2.5).
    pub fn pad_length(&self) -> u8 {
        let bytes = self.bytes();
        let at = bytes.len().saturating_sub(offset::PAD_LENGTH_FROM_END);
        field::u8_at(bytes, at)
    }

    /// Next Header: the IP protocol number of the payload, such as 4 (IPv4) or 41 (IPv6) in
    /// tunnel mode, or [`NEXT_HEADER_DUMMY`] (RFC 4303 §2.6).
    pub fn next_header(&self) -> u8 {
        let bytes = self.bytes();
        let at = bytes.len().saturating_sub(offset::NEXT_HEADER_FROM_END);
        field::u8_at(bytes, at)
    }

    /// Payload Data, with any TFC padding at its end (RFC 4303 §2.3, §2.7).
    pub fn payload(&self) -> &[u8] {
        self.bytes().get(..self.padding_start()).unwrap_or(&[])
    }

    /// Padding: the Pad Length bytes before the Pad Length field (RFC 4303 §2.4).
    pub fn padding(&self) -> &[u8] {
        self.bytes()
            .get(self.padding_start()..self.trailer_start())
            .unwrap_or(&[])
    }

    /// Pad Length and Next Header as a representation (RFC 4303 §2.5, §2.6).
    pub fn trailer(&self) -> EspTrailer {
        EspTrailer {
            pad_length: self.pad_length(),
            next_header: self.next_header(),
        }
    }
}

/// Splits a decrypted ESP plaintext into its payload and its trailer, with the checks of
/// [`EspPlaintextView::new_checked`] (RFC 4303 §2.3 to §2.6).
///
/// The padding lies between the two:
/// `plaintext[payload.len()..plaintext.len() - TRAILER_LEN]`, or
/// [`EspPlaintextView::padding`].
pub fn split_plaintext(plaintext: &[u8]) -> Result<(&[u8], EspTrailer), Error> {
    let view = EspPlaintextView::new_checked(plaintext)?;
    let payload = plaintext.get(..view.padding_start()).unwrap_or(&[]);
    Ok((payload, view.trailer()))
}

/// Checks that `padding` is the default padding of RFC 4303 §2.4: the bytes 1, 2, 3, … in
/// order. A receiver SHOULD check this when the algorithm does not define its own padding.
pub fn check_default_padding(padding: &[u8]) -> Result<(), Error> {
    for (at, &found) in padding.iter().enumerate() {
        if u8::try_from(at.saturating_add(1)).ok() != Some(found) {
            return Err(Error::BadPadding { at, found });
        }
    }
    Ok(())
}

/// Writes the default padding and the trailer after a payload of `payload_len` bytes at the
/// start of `buf`, and returns the length of the whole plaintext (RFC 4303 §2.4 to §2.6).
///
/// `alignment` is the cipher's block size, a power of two from 1 to 256 (1 for stream and
/// counter-mode ciphers). The padding is the least that makes the plaintext a multiple of
/// the larger of `alignment` and 4 (§2.4); see [`EspTrailer::for_payload`].
pub fn emit_trailer(
    buf: &mut [u8],
    payload_len: usize,
    alignment: usize,
    next_header: u8,
) -> Result<usize, EmitError> {
    let trailer = EspTrailer::for_payload(payload_len, alignment, next_header)?;
    let total = payload_len.saturating_add(trailer.buffer_len());
    check_room(total, buf.len())?;
    trailer.emit(field::rest_mut(buf, payload_len))?;
    Ok(total)
}

/// The trailer of an ESP plaintext: Pad Length and Next Header (RFC 4303 §2.5, §2.6). Its
/// `emit` writes the default padding (§2.4) in front of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EspTrailer {
    /// Pad Length: the number of padding bytes, 0 to 255 (RFC 4303 §2.5).
    pub pad_length: u8,
    /// Next Header: the IP protocol number of the payload (RFC 4303 §2.6).
    pub next_header: u8,
}

impl EspTrailer {
    /// The trailer for a payload of `payload_len` bytes whose padding is the least that makes
    /// payload, padding, Pad Length and Next Header a multiple of the larger of `alignment`
    /// and 4 octets (RFC 4303 §2.4).
    ///
    /// `alignment` is the cipher's block size and must be a power of two from 1 to 256, so
    /// that the padding fits Pad Length; anything else is [`EmitError::InvalidAlignment`].
    pub fn for_payload(
        payload_len: usize,
        alignment: usize,
        next_header: u8,
    ) -> Result<Self, EmitError> {
        if !alignment.is_power_of_two() || alignment > MAX_ALIGNMENT {
            return Err(EmitError::InvalidAlignment { alignment });
        }
        let unit = alignment.max(MIN_ALIGNMENT);
        let used = (payload_len % unit + TRAILER_LEN) % unit;
        let padding = (unit - used) % unit;
        let pad_length =
            u8::try_from(padding).map_err(|_| EmitError::InvalidAlignment { alignment })?;
        Ok(Self {
            pad_length,
            next_header,
        })
    }

    /// Whether Next Header marks a dummy packet, to be discarded silently (RFC 4303 §2.6).
    pub const fn is_dummy(&self) -> bool {
        self.next_header == NEXT_HEADER_DUMMY
    }

    /// Reads the trailer at the end of `plaintext`, which holds at least padding, Pad Length
    /// and Next Header and may start with the payload (RFC 4303 §2.4 to §2.6). The padding's
    /// contents are not checked.
    pub fn parse(plaintext: &[u8]) -> Result<Self, Error> {
        Ok(EspPlaintextView::new_checked(plaintext)?.trailer())
    }

    /// Bytes [`EspTrailer::emit`] writes: the padding, Pad Length and Next Header.
    pub fn buffer_len(&self) -> usize {
        usize::from(self.pad_length).saturating_add(TRAILER_LEN)
    }

    /// Writes the default padding 1, 2, 3, … (RFC 4303 §2.4), Pad Length and Next Header at
    /// the start of `buf`, which is the byte after the payload.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        let padding = usize::from(self.pad_length);
        for (slot, value) in buf.iter_mut().zip(1..=self.pad_length) {
            *slot = value;
        }
        field::set_u8(buf, padding, self.pad_length);
        field::set_u8(buf, padding.saturating_add(1), self.next_header);
        Ok(())
    }
}
