//! The Delete payload (RFC 7296 §3.11).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room, fit};
use crate::field;
use crate::registry::ProtocolId;

/// Byte offsets of the Delete payload body (RFC 7296 §3.11), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Protocol ID   |   SPI Size    |          Num of SPIs          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~               Security Parameter Index(es) (SPI)              ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    use crate::field::Field;

    pub(super) const PROTOCOL_ID: usize = 0;
    pub(super) const SPI_SIZE: usize = 1;
    pub(super) const NUM_SPIS: Field = 2..4;
    pub(super) const SPIS: usize = 4;
}

/// The SPI Size of AH and ESP SAs in a Delete payload (RFC 7296 §3.11).
const CHILD_SPI_SIZE: u8 = 4;

/// A zero-copy view of a Delete payload body.
#[derive(Debug, Clone, Copy)]
pub struct DeleteView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> DeleteView<T> {
    /// Wraps a body after checking that the fixed fields are present and that Num of SPIs
    /// times SPI Size is exactly the rest of the body.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::Delete, buffer.as_ref(), offset::SPIS)?;
        let view = Self { buffer };
        let spis = view.spis().len();
        let expected = usize::from(view.num_spis()).saturating_mul(usize::from(view.spi_size()));
        if expected > spis {
            return Err(Error::Truncated {
                what: Structure::Delete,
                needed: offset::SPIS.saturating_add(expected),
                available: offset::SPIS.saturating_add(spis),
            });
        }
        if expected < spis {
            return Err(Error::TrailingBytes {
                what: Structure::Delete,
                extra: spis - expected,
            });
        }
        Ok(view)
    }

    /// Protocol ID.
    pub fn protocol_id(&self) -> ProtocolId {
        ProtocolId::from(field::u8_at(self.buffer.as_ref(), offset::PROTOCOL_ID))
    }

    /// SPI Size.
    pub fn spi_size(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), offset::SPI_SIZE)
    }

    /// Num of SPIs.
    pub fn num_spis(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), offset::NUM_SPIS)
    }

    /// The SPIs, concatenated.
    pub fn spis(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), offset::SPIS)
    }
}

/// A Delete payload (RFC 7296 §3.11).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Delete {
    /// Deletes the IKE SA the message belongs to: Protocol ID 1, SPI Size 0, no SPIs.
    IkeSa,
    /// Deletes Child SAs: their protocol and the SPIs the sender receives with (four octets
    /// each).
    ChildSas {
        /// Protocol ID: AH or ESP.
        protocol: ProtocolId,
        /// Inbound SPIs of the sender.
        spis: Vec<u32>,
    },
}

impl Delete {
    /// Decodes a payload body. For IKE the SPI Size and Num of SPIs must be zero; for every
    /// other protocol the SPI Size must be four (RFC 7296 §3.11).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = DeleteView::new_checked(body)?;
        let protocol = view.protocol_id();
        let size = view.spi_size();
        if protocol == ProtocolId::None {
            return Err(Error::InvalidField {
                what: Structure::Delete,
                field: "Protocol ID",
                value: 0,
            });
        }
        let expected = if protocol == ProtocolId::Ike {
            0
        } else {
            CHILD_SPI_SIZE
        };
        if size != expected {
            return Err(Error::InvalidField {
                what: Structure::Delete,
                field: "SPI Size",
                value: u32::from(size),
            });
        }
        if protocol == ProtocolId::Ike {
            if view.num_spis() != 0 {
                return Err(Error::InvalidField {
                    what: Structure::Delete,
                    field: "Num of SPIs",
                    value: u32::from(view.num_spis()),
                });
            }
            return Ok(Self::IkeSa);
        }
        let spis = view
            .spis()
            .chunks_exact(usize::from(CHILD_SPI_SIZE))
            .filter_map(|c| <[u8; 4]>::try_from(c).ok().map(u32::from_be_bytes))
            .collect();
        Ok(Self::ChildSas { protocol, spis })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::IkeSa => offset::SPIS,
            Self::ChildSas { spis, .. } => {
                offset::SPIS.saturating_add(spis.len().saturating_mul(usize::from(CHILD_SPI_SIZE)))
            }
        }
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        match self {
            Self::IkeSa => {
                field::set_u8(buf, offset::PROTOCOL_ID, ProtocolId::Ike.value());
                field::set_u8(buf, offset::SPI_SIZE, 0);
                field::set_u16(buf, offset::NUM_SPIS.start, 0);
            }
            Self::ChildSas { protocol, spis } => {
                let count: u16 = fit(Structure::Delete, spis.len())?;
                field::set_u8(buf, offset::PROTOCOL_ID, protocol.value());
                field::set_u8(buf, offset::SPI_SIZE, CHILD_SPI_SIZE);
                field::set_u16(buf, offset::NUM_SPIS.start, count);
                let mut at = offset::SPIS;
                for spi in spis {
                    field::set_u32(buf, at, *spi);
                    at = at.saturating_add(usize::from(CHILD_SPI_SIZE));
                }
            }
        }
        Ok(())
    }
}
