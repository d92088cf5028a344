//! The Traffic Selector payloads TSi and TSr (RFC 7296 §3.13).

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{EmitError, Error, Structure, check_len, check_room, fit};
use crate::field;
use crate::registry::TsType;

/// Byte offsets of the TS payload body (RFC 7296 §3.13), after the generic header:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Number of TSs |                 RESERVED                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                       <Traffic Selectors>                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod payload {
    pub(super) const NUMBER: usize = 0;
    pub(super) const RESERVED: usize = 1;
    pub(super) const SELECTORS: usize = 4;
}

/// Byte offsets of one traffic selector (RFC 7296 §3.13.1); the fields marked `*` belong to
/// the IP address range types:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   TS Type     |IP Protocol ID*|       Selector Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Start Port*         |           End Port*           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                         Starting Address*                     ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ~                         Ending Address*                       ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod selector {
    use crate::field::Field;

    pub(super) const TS_TYPE: usize = 0;
    pub(super) const IP_PROTOCOL: usize = 1;
    pub(super) const LENGTH: Field = 2..4;
    pub(super) const START_PORT: Field = 4..6;
    pub(super) const END_PORT: Field = 6..8;
    pub(super) const ADDRESSES: usize = 8;
    pub(super) const IPV4_LEN: usize = ADDRESSES + 2 * 4;
    pub(super) const IPV6_LEN: usize = ADDRESSES + 2 * 16;
}

/// A zero-copy view of a TS payload body.
#[derive(Debug, Clone, Copy)]
pub struct TrafficSelectorsView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TrafficSelectorsView<T> {
    /// Wraps a body after checking it holds the fixed fields.
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        check_len(
            Structure::TrafficSelectors,
            buffer.as_ref(),
            payload::SELECTORS,
        )?;
        Ok(Self { buffer })
    }

    /// Number of TSs.
    pub fn number_of_selectors(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), payload::NUMBER)
    }

    /// The selectors' bytes.
    pub fn selectors(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), payload::SELECTORS)
    }
}

/// A zero-copy view of one traffic selector at the start of a buffer, which may continue
/// past it.
#[derive(Debug, Clone, Copy)]
pub struct TrafficSelectorView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TrafficSelectorView<T> {
    /// Wraps a buffer after checking that Selector Length covers the header and lies within
    /// the buffer, and that the address range types have their exact lengths (16 octets for
    /// IPv4, 40 for IPv6; RFC 7296 §3.13.1).
    pub fn new_checked(buffer: T) -> Result<Self, Error> {
        let bytes = buffer.as_ref();
        check_len(
            Structure::TrafficSelector,
            bytes,
            selector::START_PORT.start,
        )?;
        let view = Self { buffer };
        let length = usize::from(view.selector_length());
        let exact = match view.ts_type() {
            TsType::Ipv4AddrRange => Some(selector::IPV4_LEN),
            TsType::Ipv6AddrRange => Some(selector::IPV6_LEN),
            _ => None,
        };
        if exact.is_some_and(|exact| exact != length) {
            return Err(Error::InvalidField {
                what: Structure::TrafficSelector,
                field: "Selector Length",
                value: u32::from(view.selector_length()),
            });
        }
        if length < selector::START_PORT.start {
            return Err(Error::LengthTooSmall {
                what: Structure::TrafficSelector,
                length,
                minimum: selector::START_PORT.start,
            });
        }
        if length > view.buffer.as_ref().len() {
            return Err(Error::LengthOverrun {
                what: Structure::TrafficSelector,
                length,
                available: view.buffer.as_ref().len(),
            });
        }
        Ok(view)
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// TS Type.
    pub fn ts_type(&self) -> TsType {
        TsType::from(field::u8_at(self.bytes(), selector::TS_TYPE))
    }

    /// IP Protocol ID, 0 for any (address range types).
    pub fn ip_protocol(&self) -> u8 {
        field::u8_at(self.bytes(), selector::IP_PROTOCOL)
    }

    /// Selector Length, header included.
    pub fn selector_length(&self) -> u16 {
        field::u16_at(self.bytes(), selector::LENGTH)
    }

    /// Start Port (address range types).
    pub fn start_port(&self) -> u16 {
        field::u16_at(self.bytes(), selector::START_PORT)
    }

    /// End Port (address range types).
    pub fn end_port(&self) -> u16 {
        field::u16_at(self.bytes(), selector::END_PORT)
    }

    /// The starting and ending addresses (address range types), each half of the bytes.
    pub fn addresses(&self) -> (&[u8], &[u8]) {
        let end = usize::from(self.selector_length());
        let all = self.bytes().get(selector::ADDRESSES..end).unwrap_or(&[]);
        all.split_at(all.len() / 2)
    }

    /// The bytes after Selector Length, up to its end: the content of a type without an
    /// address range layout.
    pub fn content(&self) -> &[u8] {
        self.bytes()
            .get(selector::LENGTH.end..usize::from(self.selector_length()))
            .unwrap_or(&[])
    }
}

/// A TS payload: a set of traffic selectors (RFC 7296 §3.13).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrafficSelectors {
    /// At least one selector.
    pub selectors: Vec<TrafficSelector>,
}

impl TrafficSelectors {
    /// Decodes a payload body. Number of TSs must be the selectors present, and at least one.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = TrafficSelectorsView::new_checked(body)?;
        let declared = usize::from(view.number_of_selectors());
        if declared == 0 {
            return Err(Error::Empty {
                what: Structure::TrafficSelectors,
            });
        }
        let mut selectors = Vec::new();
        let mut rest = view.selectors();
        while !rest.is_empty() {
            let selector = TrafficSelectorView::new_checked(rest)?;
            selectors.push(TrafficSelector::parse(&selector));
            rest = field::rest(rest, usize::from(selector.selector_length()));
        }
        if selectors.len() != declared {
            return Err(Error::CountMismatch {
                what: Structure::TrafficSelectors,
                declared,
                found: selectors.len(),
            });
        }
        Ok(Self { selectors })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        self.selectors
            .iter()
            .map(TrafficSelector::buffer_len)
            .fold(payload::SELECTORS, usize::saturating_add)
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        check_room(self.buffer_len(), buf.len())?;
        if self.selectors.is_empty() {
            return Err(EmitError::Empty {
                what: Structure::TrafficSelectors,
            });
        }
        let count: u8 = fit(Structure::TrafficSelectors, self.selectors.len())?;
        field::set_u8(buf, payload::NUMBER, count);
        field::put(buf, payload::RESERVED, &[0; 3]);
        let mut at = payload::SELECTORS;
        for selector in &self.selectors {
            selector.emit(field::rest_mut(buf, at))?;
            at = at.saturating_add(selector.buffer_len());
        }
        Ok(())
    }
}

/// A range of addresses, ports and one IP protocol (RFC 7296 §3.13.1). Port and protocol 0
/// with the full port range mean "any".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressRange<A> {
    /// IP Protocol ID (e.g. 6 for TCP), or 0 for any.
    pub ip_protocol: u8,
    /// First port of the range.
    pub start_port: u16,
    /// Last port of the range.
    pub end_port: u16,
    /// First address of the range.
    pub start_address: A,
    /// Last address of the range.
    pub end_address: A,
}

/// A traffic selector of a type without the address range layout, kept as bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OpaqueSelector {
    /// TS Type.
    pub ts_type: TsType,
    /// The octet after TS Type.
    pub second_octet: u8,
    /// The bytes after Selector Length.
    pub content: Vec<u8>,
}

/// One traffic selector (RFC 7296 §3.13.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TrafficSelector {
    /// TS_IPV4_ADDR_RANGE.
    Ipv4(AddressRange<Ipv4Addr>),
    /// TS_IPV6_ADDR_RANGE.
    Ipv6(AddressRange<Ipv6Addr>),
    /// Any other TS type (e.g. TS_FC_ADDR_RANGE of RFC 4595, TS_SECLABEL of RFC 9478).
    Other(OpaqueSelector),
}

impl TrafficSelector {
    /// Decodes a checked selector.
    pub fn parse<T: AsRef<[u8]>>(view: &TrafficSelectorView<T>) -> Self {
        let (start, end) = view.addresses();
        match view.ts_type() {
            TsType::Ipv4AddrRange => Self::Ipv4(AddressRange {
                ip_protocol: view.ip_protocol(),
                start_port: view.start_port(),
                end_port: view.end_port(),
                start_address: <[u8; 4]>::try_from(start)
                    .map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from),
                end_address: <[u8; 4]>::try_from(end).map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from),
            }),
            TsType::Ipv6AddrRange => Self::Ipv6(AddressRange {
                ip_protocol: view.ip_protocol(),
                start_port: view.start_port(),
                end_port: view.end_port(),
                start_address: <[u8; 16]>::try_from(start)
                    .map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from),
                end_address: <[u8; 16]>::try_from(end)
                    .map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from),
            }),
            ts_type => Self::Other(OpaqueSelector {
                ts_type,
                second_octet: view.ip_protocol(),
                content: view.content().to_vec(),
            }),
        }
    }

    /// TS Type.
    pub fn ts_type(&self) -> TsType {
        match self {
            Self::Ipv4(_) => TsType::Ipv4AddrRange,
            Self::Ipv6(_) => TsType::Ipv6AddrRange,
            Self::Other(opaque) => opaque.ts_type,
        }
    }

    /// Bytes the selector occupies.
    pub fn buffer_len(&self) -> usize {
        match self {
            Self::Ipv4(_) => selector::IPV4_LEN,
            Self::Ipv6(_) => selector::IPV6_LEN,
            Self::Other(opaque) => selector::LENGTH.end.saturating_add(opaque.content.len()),
        }
    }

    /// Writes the selector at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        let length = self.buffer_len();
        check_room(length, buf.len())?;
        let length_field: u16 = fit(Structure::TrafficSelector, length)?;
        field::set_u8(buf, selector::TS_TYPE, self.ts_type().value());
        field::set_u16(buf, selector::LENGTH.start, length_field);
        match self {
            Self::Ipv4(range) => {
                emit_range(
                    buf,
                    range,
                    &range.start_address.octets(),
                    &range.end_address.octets(),
                );
            }
            Self::Ipv6(range) => {
                emit_range(
                    buf,
                    range,
                    &range.start_address.octets(),
                    &range.end_address.octets(),
                );
            }
            Self::Other(opaque) => {
                field::set_u8(buf, selector::IP_PROTOCOL, opaque.second_octet);
                field::put(buf, selector::LENGTH.end, &opaque.content);
            }
        }
        Ok(())
    }
}

fn emit_range<A>(buf: &mut [u8], range: &AddressRange<A>, start: &[u8], end: &[u8]) {
    field::set_u8(buf, selector::IP_PROTOCOL, range.ip_protocol);
    field::set_u16(buf, selector::START_PORT.start, range.start_port);
    field::set_u16(buf, selector::END_PORT.start, range.end_port);
    field::put(buf, selector::ADDRESSES, start);
    field::put(buf, selector::ADDRESSES.saturating_add(start.len()), end);
}
