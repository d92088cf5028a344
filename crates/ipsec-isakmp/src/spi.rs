//! Security Parameter Indexes as carried in proposals, Notify and Delete payloads
//! (RFC 7296 §3.3.1, §3.10, §3.11).

use crate::error::{Error, Structure};

/// An SPI field of variable size: absent, four octets (AH and ESP) or eight octets (IKE)
/// (RFC 7296 §3.3.1: "the SPI Size is 4 for AH and ESP, 8 for IKE, 0 when absent").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Spi {
    /// SPI Size 0: no SPI.
    #[default]
    None,
    /// SPI Size 4: an AH or ESP SPI.
    Ipsec(u32),
    /// SPI Size 8: an IKE SA SPI (when rekeying an IKE SA, RFC 7296 §1.3.2).
    Ike(u64),
}

impl Spi {
    /// Reads an SPI whose size is the length of `bytes`.
    pub(crate) fn from_bytes(what: Structure, bytes: &[u8]) -> Result<Self, Error> {
        match bytes.len() {
            0 => Ok(Self::None),
            4 => Ok(<[u8; 4]>::try_from(bytes)
                .map_or(Self::None, |b| Self::Ipsec(u32::from_be_bytes(b)))),
            8 => {
                Ok(<[u8; 8]>::try_from(bytes)
                    .map_or(Self::None, |b| Self::Ike(u64::from_be_bytes(b))))
            }
            other => Err(Error::InvalidField {
                what,
                field: "SPI Size",
                value: u32::try_from(other).unwrap_or(u32::MAX),
            }),
        }
    }

    /// The SPI Size field: 0, 4 or 8.
    pub const fn size(&self) -> u8 {
        match self {
            Self::None => 0,
            Self::Ipsec(_) => 4,
            Self::Ike(_) => 8,
        }
    }

    /// Writes the SPI's bytes at `at` in `buf`.
    pub(crate) fn write(&self, buf: &mut [u8], at: usize) {
        match self {
            Self::None => {}
            Self::Ipsec(spi) => crate::field::set_u32(buf, at, *spi),
            Self::Ike(spi) => crate::field::set_u64(buf, at, *spi),
        }
    }
}
