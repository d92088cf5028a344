//! The Identification payloads IDi and IDr (RFC 7296 §3.5).

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;
use crate::registry::IdType;

/// Byte offsets of the ID payload body (RFC 7296 §3.5), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   ID Type     |                 RESERVED                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                   Identification Data                         ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    pub(super) const ID_TYPE: usize = 0;
    pub(super) const RESERVED: usize = 1;
    pub(super) const DATA: usize = 4;
}

/// A zero-copy view of an ID payload body.
#[derive(Debug, Clone, Copy)]
pub struct IdentificationView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IdentificationView<T> {
    /// Wraps a body after checking it holds the fixed fields.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(Structure::Identification, buffer.as_ref(), offset::DATA)?;
        Ok(Self { buffer })
    }

    /// ID Type.
    pub fn id_type(&self) -> IdType {
        IdType::from(field::u8_at(self.buffer.as_ref(), offset::ID_TYPE))
    }

    /// Identification Data.
    pub fn data(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), offset::DATA)
    }
}

/// An identity as carried in IDi or IDr (RFC 7296 §3.5).
///
/// The payload body (ID Type, RESERVED, data) is what RFC 7296 §2.15 calls RestOfIDPayload,
/// which the AUTH computation covers; [`Identification::emit`] writes exactly that.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identification {
    /// ID Type.
    pub id_type: IdType,
    /// Identification Data, whose form the ID type gives.
    pub data: Vec<u8>,
}

impl Identification {
    /// Decodes a payload body, checking the data's length against its type: four octets for
    /// ID_IPV4_ADDR, sixteen for ID_IPV6_ADDR, none for ID_NULL (RFC 7619 §3), at least one
    /// for every other type (RFC 7296 §3.5).
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = IdentificationView::new_checked(body)?;
        let id = Self {
            id_type: view.id_type(),
            data: view.data().to_vec(),
        };
        let valid = match id.id_type {
            IdType::Ipv4Addr => id.data.len() == 4,
            IdType::Ipv6Addr => id.data.len() == 16,
            IdType::Null => id.data.is_empty(),
            IdType::Unknown(_) => true,
            _ => !id.data.is_empty(),
        };
        if !valid {
            return Err(Error::InvalidField {
                what: Structure::Identification,
                field: "Identification Data length",
                value: u32::try_from(id.data.len()).unwrap_or(u32::MAX),
            });
        }
        Ok(id)
    }

    /// ID_IPV4_ADDR or ID_IPV6_ADDR for `addr`.
    pub fn ip(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(v4) => Self {
                id_type: IdType::Ipv4Addr,
                data: v4.octets().to_vec(),
            },
            IpAddr::V6(v6) => Self {
                id_type: IdType::Ipv6Addr,
                data: v6.octets().to_vec(),
            },
        }
    }

    /// ID_FQDN for a domain name.
    pub fn fqdn(name: &str) -> Self {
        Self {
            id_type: IdType::Fqdn,
            data: name.as_bytes().to_vec(),
        }
    }

    /// ID_RFC822_ADDR for an email address.
    pub fn rfc822(address: &str) -> Self {
        Self {
            id_type: IdType::Rfc822Addr,
            data: address.as_bytes().to_vec(),
        }
    }

    /// ID_KEY_ID for an opaque key identifier.
    pub fn key_id(id: &[u8]) -> Self {
        Self {
            id_type: IdType::KeyId,
            data: id.to_vec(),
        }
    }

    /// ID_DER_ASN1_DN for a DER-encoded distinguished name.
    pub fn der_asn1_dn(dn: &[u8]) -> Self {
        Self {
            id_type: IdType::DerAsn1Dn,
            data: dn.to_vec(),
        }
    }

    /// ID_NULL (RFC 7619).
    pub fn null() -> Self {
        Self {
            id_type: IdType::Null,
            data: Vec::new(),
        }
    }

    /// The address of an ID_IPV4_ADDR or ID_IPV6_ADDR identity.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self.id_type {
            IdType::Ipv4Addr => <[u8; 4]>::try_from(self.data.as_slice())
                .ok()
                .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
            IdType::Ipv6Addr => <[u8; 16]>::try_from(self.data.as_slice())
                .ok()
                .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
            _ => None,
        }
    }

    /// The text of an ID_FQDN or ID_RFC822_ADDR identity, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self.id_type {
            IdType::Fqdn | IdType::Rfc822Addr => core::str::from_utf8(&self.data).ok(),
            _ => None,
        }
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        offset::DATA.saturating_add(self.data.len())
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        field::set_u8(buf, offset::ID_TYPE, self.id_type.value());
        field::put(buf, offset::RESERVED, &[0; 3]);
        field::put(buf, offset::DATA, &self.data);
        Ok(())
    }
}

impl fmt::Display for Identification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ip) = self.as_ip() {
            return write!(f, "{ip}");
        }
        if let Some(text) = self.as_str() {
            return f.write_str(text);
        }
        if self.id_type == IdType::Null {
            return f.write_str("%null");
        }
        write!(f, "{}:", self.id_type)?;
        self.data.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}
