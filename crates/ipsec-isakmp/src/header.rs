//! The IKE header (RFC 7296 §3.1).

use crate::error::{Error, Structure};
use crate::field;
use crate::registry::{ExchangeType, PayloadType};

/// Byte offsets of the IKE header (RFC 7296 §3.1):
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       IKE SA Initiator's SPI                  |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       IKE SA Responder's SPI                  |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Message ID                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            Length                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const INITIATOR_SPI: Field = 0..8;
    pub(super) const RESPONDER_SPI: Field = 8..16;
    pub(super) const NEXT_PAYLOAD: usize = 16;
    pub(super) const VERSION: usize = 17;
    pub(super) const EXCHANGE_TYPE: usize = 18;
    pub(super) const FLAGS: usize = 19;
    pub(super) const MESSAGE_ID: Field = 20..24;
    pub(super) const LENGTH: Field = 24..28;
}

/// Length of the IKE header in bytes.
pub const HEADER_LEN: usize = 28;

/// The only IKE major version this crate speaks (RFC 7296 §2.5).
pub const MAJOR_VERSION: u8 = 2;

/// The minor version this crate sends (RFC 7296 §3.1).
pub const MINOR_VERSION: u8 = 0;

/// The flags octet of the IKE header (RFC 7296 §3.1). Bits marked X are sent as zero and
/// ignored on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags {
    /// I: set in messages sent by the original initiator of the IKE SA.
    pub initiator: bool,
    /// V: the sender can speak a higher major version; never set by an RFC 7296 peer.
    pub version: bool,
    /// R: the message is a response to a message with the same Message ID.
    pub response: bool,
}

impl Flags {
    const INITIATOR: u8 = 0x08;
    const VERSION: u8 = 0x10;
    const RESPONSE: u8 = 0x20;

    /// The flags encoded in an octet; the X bits are ignored (RFC 7296 §3.1).
    pub const fn from_octet(octet: u8) -> Self {
        Self {
            initiator: octet & Self::INITIATOR != 0,
            version: octet & Self::VERSION != 0,
            response: octet & Self::RESPONSE != 0,
        }
    }

    /// The octet that encodes these flags, with the X bits zero.
    pub const fn to_octet(self) -> u8 {
        (if self.initiator { Self::INITIATOR } else { 0 })
            | (if self.version { Self::VERSION } else { 0 })
            | (if self.response { Self::RESPONSE } else { 0 })
    }
}

/// A zero-copy view of an IKE header at the start of a buffer.
#[derive(Debug, Clone, Copy)]
pub struct HeaderView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> HeaderView<T> {
    /// Wraps `buffer` after checking that it holds a whole header.
    ///
    /// The Length field is not checked against the buffer here; [`HeaderView::check_length`]
    /// does that for a buffer meant to hold exactly one message.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let available = buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(Error::Truncated {
                what: Structure::Header,
                needed: HEADER_LEN,
                available,
            });
        }
        Ok(Self { buffer })
    }

    /// Checks that the major version is 2 (RFC 7296 §2.5) and that the Length field equals the
    /// buffer's length, which is then one whole message.
    pub fn check_length(&self) -> Result<(), Error> {
        if self.major_version() != MAJOR_VERSION {
            return Err(Error::UnsupportedMajorVersion(self.major_version()));
        }
        let available = self.buffer.as_ref().len();
        let length = usize::try_from(self.length()).unwrap_or(usize::MAX);
        if length < HEADER_LEN {
            return Err(Error::LengthTooSmall {
                what: Structure::Header,
                length,
                minimum: HEADER_LEN,
            });
        }
        if length > available {
            return Err(Error::LengthOverrun {
                what: Structure::Header,
                length,
                available,
            });
        }
        if length < available {
            return Err(Error::TrailingBytes {
                what: Structure::Header,
                extra: available - length,
            });
        }
        Ok(())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// IKE SA Initiator's SPI.
    pub fn initiator_spi(&self) -> u64 {
        field::u64_at(self.bytes(), offset::INITIATOR_SPI)
    }

    /// IKE SA Responder's SPI; zero in the first message of an IKE SA.
    pub fn responder_spi(&self) -> u64 {
        field::u64_at(self.bytes(), offset::RESPONDER_SPI)
    }

    /// Type of the first payload.
    pub fn next_payload(&self) -> PayloadType {
        PayloadType::from(field::u8_at(self.bytes(), offset::NEXT_PAYLOAD))
    }

    /// Major version, the high four bits of the version octet.
    pub fn major_version(&self) -> u8 {
        field::u8_at(self.bytes(), offset::VERSION) >> 4
    }

    /// Minor version, the low four bits of the version octet.
    pub fn minor_version(&self) -> u8 {
        field::u8_at(self.bytes(), offset::VERSION) & 0x0f
    }

    /// Exchange type.
    pub fn exchange_type(&self) -> ExchangeType {
        ExchangeType::from(field::u8_at(self.bytes(), offset::EXCHANGE_TYPE))
    }

    /// Flags.
    pub fn flags(&self) -> Flags {
        Flags::from_octet(field::u8_at(self.bytes(), offset::FLAGS))
    }

    /// Message ID.
    pub fn message_id(&self) -> u32 {
        field::u32_at(self.bytes(), offset::MESSAGE_ID)
    }

    /// Length of the whole message, header included.
    pub fn length(&self) -> u32 {
        field::u32_at(self.bytes(), offset::LENGTH)
    }

    /// The bytes after the header, up to the end of the buffer.
    pub fn payload(&self) -> &[u8] {
        field::rest(self.bytes(), HEADER_LEN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> HeaderView<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets the initiator's SPI.
    pub fn set_initiator_spi(&mut self, value: u64) {
        field::set_u64(self.bytes_mut(), offset::INITIATOR_SPI.start, value);
    }

    /// Sets the responder's SPI.
    pub fn set_responder_spi(&mut self, value: u64) {
        field::set_u64(self.bytes_mut(), offset::RESPONDER_SPI.start, value);
    }

    /// Sets the type of the first payload.
    pub fn set_next_payload(&mut self, value: PayloadType) {
        field::set_u8(self.bytes_mut(), offset::NEXT_PAYLOAD, value.value());
    }

    /// Sets major and minor version (four bits each; higher bits are dropped).
    pub fn set_version(&mut self, major: u8, minor: u8) {
        field::set_u8(
            self.bytes_mut(),
            offset::VERSION,
            (major << 4) | (minor & 0x0f),
        );
    }

    /// Sets the exchange type.
    pub fn set_exchange_type(&mut self, value: ExchangeType) {
        field::set_u8(self.bytes_mut(), offset::EXCHANGE_TYPE, value.value());
    }

    /// Sets the flags.
    pub fn set_flags(&mut self, value: Flags) {
        field::set_u8(self.bytes_mut(), offset::FLAGS, value.to_octet());
    }

    /// Sets the Message ID.
    pub fn set_message_id(&mut self, value: u32) {
        field::set_u32(self.bytes_mut(), offset::MESSAGE_ID.start, value);
    }

    /// Sets the Length field.
    pub fn set_length(&mut self, value: u32) {
        field::set_u32(self.bytes_mut(), offset::LENGTH.start, value);
    }
}

/// An owned IKE header: every field of RFC 7296 §3.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// IKE SA Initiator's SPI.
    pub initiator_spi: u64,
    /// IKE SA Responder's SPI.
    pub responder_spi: u64,
    /// Type of the first payload.
    pub next_payload: PayloadType,
    /// Major version; 2 for RFC 7296.
    pub major_version: u8,
    /// Minor version; 0 for RFC 7296.
    pub minor_version: u8,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID.
    pub message_id: u32,
    /// Length of the whole message in bytes.
    pub length: u32,
}

impl Header {
    /// Reads every field of a checked view.
    pub fn parse<T: AsRef<[u8]>>(view: &HeaderView<T>) -> Self {
        Self {
            initiator_spi: view.initiator_spi(),
            responder_spi: view.responder_spi(),
            next_payload: view.next_payload(),
            major_version: view.major_version(),
            minor_version: view.minor_version(),
            exchange_type: view.exchange_type(),
            flags: view.flags(),
            message_id: view.message_id(),
            length: view.length(),
        }
    }

    /// Bytes [`Header::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes every field into a view.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, view: &mut HeaderView<T>) {
        view.set_initiator_spi(self.initiator_spi);
        view.set_responder_spi(self.responder_spi);
        view.set_next_payload(self.next_payload);
        view.set_version(self.major_version, self.minor_version);
        view.set_exchange_type(self.exchange_type);
        view.set_flags(self.flags);
        view.set_message_id(self.message_id);
        view.set_length(self.length);
    }
}
