//! The Notify payload (RFC 7296 §3.10).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;
use crate::registry::{DhGroup, NotifyType, PayloadType, ProtocolId};
use crate::spi::Spi;

/// Byte offsets of the Notify payload body (RFC 7296 §3.10), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Protocol ID  |   SPI Size    |      Notify Message Type      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                Security Parameter Index (SPI)                 ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                       Notification Data                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const PROTOCOL_ID: usize = 0;
    pub(super) const SPI_SIZE: usize = 1;
    pub(super) const NOTIFY_TYPE: Field = 2..4;
    pub(super) const SPI: usize = 4;
}

/// A zero-copy view of a Notify payload body.
#[derive(Debug, Clone, Copy)]
pub struct NotifyView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NotifyView<T> {
    /// Wraps a body after checking that the fixed fields and the SPI are present.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        check_len(Structure::Notify, bytes, offset::SPI)?;
        let needed = offset::SPI.saturating_add(usize::from(field::u8_at(bytes, offset::SPI_SIZE)));
        check_len(Structure::Notify, bytes, needed)?;
        Ok(Self { buffer })
    }

    fn spi_end(&self) -> usize {
        offset::SPI.saturating_add(usize::from(self.spi_size()))
    }

    /// Protocol ID: of the SA the notification is about, or zero.
    pub fn protocol_id(&self) -> ProtocolId {
        ProtocolId::from(field::u8_at(self.buffer.as_ref(), offset::PROTOCOL_ID))
    }

    /// SPI Size.
    pub fn spi_size(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::SPI_SIZE)
    }

    /// Notify Message Type.
    pub fn notify_type(&self) -> NotifyType {
        NotifyType::from(field::u16_at(self.buffer.as_ref(), offset::NOTIFY_TYPE))
    }

    /// The SPI's bytes.
    pub fn spi(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(offset::SPI..self.spi_end())
            .unwrap_or(&[])
    }

    /// Notification Data.
    pub fn data(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), self.spi_end())
    }
}

/// A Notify payload (RFC 7296 §3.10).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notify {
    /// Protocol ID of the SA the notification is about; [`ProtocolId::None`] when it is about
    /// none.
    pub protocol: ProtocolId,
    /// SPI of that SA, if the notification names one.
    pub spi: Spi,
    /// Notify Message Type.
    pub notify_type: NotifyType,
    /// Notification Data.
    pub data: Vec<u8>,
}

impl Notify {
    /// Decodes a payload body. The SPI Size must be 0, 4 or 8 (RFC 7296 §3.3.1).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = NotifyView::new_checked(body)?;
        Ok(Self {
            protocol: view.protocol_id(),
            spi: Spi::from_bytes(Structure::Notify, view.spi())?,
            notify_type: view.notify_type(),
            data: view.data().to_vec(),
        })
    }

    /// A notification about no particular SA: Protocol ID and SPI Size zero (RFC 7296 §3.10).
    pub fn new(notify_type: NotifyType, data: &[u8]) -> Self {
        Self {
            protocol: ProtocolId::None,
            spi: Spi::None,
            notify_type,
            data: data.to_vec(),
        }
    }

    /// INVALID_KE_PAYLOAD naming the group the responder wants (RFC 7296 §1.2, §3.10.1).
    pub fn invalid_ke_payload(group: DhGroup) -> Self {
        Self::new(NotifyType::InvalidKePayload, &group.value().to_be_bytes())
    }

    /// UNSUPPORTED_CRITICAL_PAYLOAD naming the payload type not understood (RFC 7296 §2.5).
    pub fn unsupported_critical_payload(payload_type: PayloadType) -> Self {
        Self::new(
            NotifyType::UnsupportedCriticalPayload,
            &[payload_type.value()],
        )
    }

    /// The group named by an INVALID_KE_PAYLOAD notification (RFC 7296 §3.10.1).
    pub fn requested_group(&self) -> Option<DhGroup> {
        if self.notify_type != NotifyType::InvalidKePayload {
            return None;
        }
        <[u8; 2]>::try_from(self.data.as_slice())
            .ok()
            .map(|b| DhGroup::from(u16::from_be_bytes(b)))
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        offset::SPI
            .saturating_add(usize::from(self.spi.size()))
            .saturating_add(self.data.len())
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::set_u8(buf, offset::PROTOCOL_ID, self.protocol.value());
        field::set_u8(buf, offset::SPI_SIZE, self.spi.size());
        field::set_u16(buf, offset::NOTIFY_TYPE.start, self.notify_type.value());
        self.spi.write(buf, offset::SPI);
        field::put(
            buf,
            offset::SPI.saturating_add(usize::from(self.spi.size())),
            &self.data,
        );
        Ok(())
    }
}
