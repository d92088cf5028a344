//! A whole IKE message: header and payload chain (RFC 7296 §3.1, §3.2).

use alloc::vec;
use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_room, fit};
use crate::header::{Flags, HEADER_LEN, Header, HeaderView, MAJOR_VERSION};
use crate::payload::{self, Encrypted, EncryptedFragment, Notify, Payload};
use crate::registry::{ExchangeType, NotifyType};

/// An IKE message: the header's fields and the decoded payloads.
///
/// The header's Next Payload and Length are not stored: [`Message::emit`] derives them from
/// the payloads. An SK payload stays encrypted here; the state machine decrypts it and
/// decodes the plaintext with [`payload::parse_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// IKE SA Initiator's SPI.
    pub initiator_spi: u64,
    /// IKE SA Responder's SPI; zero in the first IKE_SA_INIT request.
    pub responder_spi: u64,
    /// Minor version; 0 for RFC 7296.
    pub minor_version: u8,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID.
    pub message_id: u32,
    /// The payloads, in order.
    pub payloads: Vec<Payload>,
}

impl Message {
    /// Decodes one datagram's worth of IKE message (without a non-ESP marker).
    ///
    /// The header must be whole, of major version 2 (RFC 7296 §2.5), with a Length equal to
    /// the datagram's; the payload chain must fill the rest exactly (RFC 7296 §3.2).
    pub fn parse(datagram: &[u8]) -> Result<Self, Error> {
        let view = HeaderView::new_checked(datagram)?;
        view.check_length()?;
        let payloads = payload::parse_chain(view.next_payload(), view.payload())?;
        Ok(Self {
            initiator_spi: view.initiator_spi(),
            responder_spi: view.responder_spi(),
            minor_version: view.minor_version(),
            exchange_type: view.exchange_type(),
            flags: view.flags(),
            message_id: view.message_id(),
            payloads,
        })
    }

    /// The header [`Message::emit`] writes.
    pub fn header(&self) -> Header {
        Header {
            initiator_spi: self.initiator_spi,
            responder_spi: self.responder_spi,
            next_payload: payload::first_type(&self.payloads),
            major_version: MAJOR_VERSION,
            minor_version: self.minor_version,
            exchange_type: self.exchange_type,
            flags: self.flags,
            message_id: self.message_id,
            length: u32::try_from(self.buffer_len()).unwrap_or(u32::MAX),
        }
    }

    /// Bytes [`Message::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(payload::chain_len(&self.payloads))
    }

    /// Writes the message at the start of `buf` and returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let length = self.buffer_len();
        check_room(length, buf.len())?;
        let _: u32 = fit(Structure::Header, length)?;
        let (head, body) = buf.split_at_mut(HEADER_LEN);
        let mut view = HeaderView::new_checked(head).map_err(|_| EmitError::BufferTooSmall {
            needed: length,
            available: HEADER_LEN,
        })?;
        self.header().emit(&mut view);
        payload::emit_chain(&self.payloads, body)?;
        Ok(length)
    }

    /// The message as a new buffer.
    pub fn to_vec(&self) -> Result<Vec<u8>, EmitError> {
        let mut buf = vec![0; self.buffer_len()];
        self.emit(&mut buf)?;
        Ok(buf)
    }

    /// The Notify payloads, in order.
    pub fn notifies(&self) -> impl Iterator<Item = &Notify> {
        self.payloads.iter().filter_map(|p| match p {
            Payload::Notify(n) => Some(n),
            _ => None,
        })
    }

    /// The first Notify payload of type `kind`.
    pub fn notify(&self, kind: NotifyType) -> Option<&Notify> {
        self.notifies().find(|n| n.notify_type == kind)
    }

    /// The SK payload, if the message has one (it is then the last payload).
    pub fn encrypted(&self) -> Option<&Encrypted> {
        match self.payloads.last() {
            Some(Payload::Encrypted(sk)) => Some(sk),
            _ => None,
        }
    }

    /// The SKF payload, if the message is a fragment.
    pub fn encrypted_fragment(&self) -> Option<&EncryptedFragment> {
        match self.payloads.last() {
            Some(Payload::EncryptedFragment(skf)) => Some(skf),
            _ => None,
        }
    }
}
