//! AH protection for one SA, in place on the caller's buffers (RFC 4302 §3).
//!
//! AH protects the whole IP packet, so both directions take the whole packet: the IP header,
//! the IPv6 extension headers before AH, the AH header and everything after it, laid out as
//! it goes on the wire. Nothing is inserted or moved: the caller leaves room for the AH
//! header where it belongs and [`OutboundAhSa::seal`] fills it in.
//!
//! ```text
//!  transport mode, IPv4:
//!  | IPv4 header + options | AH header | TCP, UDP, ICMP, ...          |
//!  transport mode, IPv6:
//!  | IPv6 header | Hop-by-Hop | Dest. Opts | Routing | AH header | upper layer |
//!  tunnel mode (either version outside and inside):
//!  | outer IP header (+ ext. headers) | AH header | inner IP packet          |
//!                                     ^ ah_offset
//!  the AH header (RFC 4302 §2; RFC 4543 §4 for the IV):
//!  | Next Hdr | Payload Len | RESERVED | SPI | Seq. No. | IV (GMAC only) | ICV | pad |
//!  |<-------------------------- ah_header_len(version) -------------------------->|
//! ```
//!
//! To send, the caller writes the IP header with Protocol (IPv4) or the Next Header before
//! AH (IPv6) set to 51 and the final length (Total Length, or Payload Length, counting AH),
//! leaves [`OutboundAhSa::ah_header_len`] bytes at the AH position (any content: all of it
//! is overwritten), writes the payload after it and calls [`OutboundAhSa::seal`] with the
//! payload's protocol number (4 or 41 in tunnel mode). The IPv4 Header Checksum is not
//! covered by the ICV (RFC 4302 §3.3.3.1.1.1) and is left to the caller, to be computed
//! after sealing.
//!
//! To receive, [`InboundAhSa::open`] verifies such a packet where it lies and points at the
//! payload after AH; the packet is never modified.

use ipsec_crypto::CryptoError;
use ipsec_replay::{ReplayError, ReplayWindow};

use crate::error::{EmitError, Error, Malformed, Unsupported};
use crate::field;
use crate::header::{AhHeader, FIXED_LEN};
use crate::ip::{self, AuthLayout, Direction, IpVersion, Layout, PacketError};
use crate::transform::{AhTransform, MAX_ICV_LEN};

/// Why an outbound packet could not be sealed (RFC 4302 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The packet is shorter than the IP headers and the AH header it must hold, or than its
    /// IP length field says.
    #[error("buffer too small: {needed} bytes needed, {available} available")]
    BufferTooSmall {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes it has.
        available: usize,
    },
    /// The packet the caller laid out is not a valid IP packet that leads to AH.
    #[error("malformed packet: {0}")]
    Malformed(Malformed),
    /// The packet has headers this crate does not process.
    #[error("unsupported packet: {0}")]
    Unsupported(Unsupported),
    /// The packet is an IPv4 fragment: AH is applied to whole datagrams only, fragmentation
    /// comes after (RFC 4302 §3.3.4).
    #[error("AH is not applied to IP fragments")]
    Fragment,
    /// Every sequence number has been used: the SA must be rekeyed, never wrapped
    /// (RFC 4302 §2.5, §3.3.2).
    #[error("sequence numbers exhausted; the SA must be rekeyed")]
    SequenceExhausted,
    /// The AH header cannot be written: SPI 0, which is never sent (RFC 4302 §2.4).
    #[error("AH header: {0}")]
    Header(EmitError),
    /// The integrity algorithm failed.
    #[error("integrity algorithm failed: {0}")]
    Crypto(#[from] CryptoError),
}

impl From<PacketError> for SealError {
    fn from(error: PacketError) -> Self {
        match error {
            PacketError::Truncated { needed, available } => {
                Self::BufferTooSmall { needed, available }
            }
            PacketError::Malformed(malformed) => Self::Malformed(malformed),
            PacketError::Unsupported(unsupported) => Self::Unsupported(unsupported),
            PacketError::Fragment => Self::Fragment,
        }
    }
}

/// Why an inbound packet was dropped (RFC 4302 §3.4). Each is a reason to count, never a
/// reason to end the SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The packet ends before its IP headers, its AH header or its IP length field do.
    #[error("packet truncated: {needed} bytes needed, {available} available")]
    Truncated {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes it has.
        available: usize,
    },
    /// The packet is not a valid IP packet with a valid AH header.
    #[error("malformed packet: {0}")]
    Malformed(Malformed),
    /// The packet has headers this crate does not process.
    #[error("unsupported packet: {0}")]
    Unsupported(Unsupported),
    /// The packet is an IPv4 fragment: "the receiver MUST discard the packet"
    /// (RFC 4302 §3.4.1); reassemble first.
    #[error("IP fragment offered to AH")]
    Fragment,
    /// The packet's SPI is not this SA's (RFC 4302 §3.4.2).
    #[error("SPI {found:#010x} is not this SA's {expected:#010x}")]
    UnknownSpi {
        /// This SA's SPI.
        expected: u32,
        /// The packet's.
        found: u32,
    },
    /// A packet with this sequence number was already received (RFC 4302 §3.4.3).
    #[error("replayed sequence number {seq}")]
    Replayed {
        /// The full sequence number.
        seq: u64,
    },
    /// The sequence number lies left of the anti-replay window (RFC 4302 §3.4.3).
    #[error("sequence number {seq} is older than the window")]
    TooOld {
        /// The full sequence number.
        seq: u64,
    },
    /// The ICV did not verify (RFC 4302 §3.4.4).
    #[error("ICV mismatch")]
    IcvMismatch,
}

impl From<PacketError> for OpenError {
    fn from(error: PacketError) -> Self {
        match error {
            PacketError::Truncated { needed, available } => Self::Truncated { needed, available },
            PacketError::Malformed(malformed) => Self::Malformed(malformed),
            PacketError::Unsupported(unsupported) => Self::Unsupported(unsupported),
            PacketError::Fragment => Self::Fragment,
        }
    }
}

impl From<ReplayError> for OpenError {
    fn from(error: ReplayError) -> Self {
        match error {
            ReplayError::Duplicate { seq } => Self::Replayed { seq },
            ReplayError::TooOld { seq, .. } => Self::TooOld { seq },
            _ => Self::TooOld { seq: 0 },
        }
    }
}

fn auth_layout(transform: &AhTransform) -> AuthLayout {
    AuthLayout {
        iv_len: transform.iv_len(),
        icv_len: transform.icv_len(),
    }
}

/// The outbound half of an AH SA: its SPI, sequence counter and keyed algorithm
/// (RFC 4302 §3.3).
#[derive(Debug)]
pub struct OutboundAhSa {
    spi: u32,
    esn: bool,
    /// The last sequence number sent; 0 before the first packet (RFC 4302 §3.3.2).
    last_seq: u64,
    transform: AhTransform,
}

impl OutboundAhSa {
    /// The outbound SA with `spi` (the peer's inbound SPI, RFC 4302 §2.4), 64-bit extended
    /// sequence numbers if `esn` (§2.5.1), and `transform`.
    pub fn new(spi: u32, esn: bool, transform: AhTransform) -> Self {
        Self {
            spi,
            esn,
            last_seq: 0,
            transform,
        }
    }

    /// An outbound SA that has already sent every sequence number up to `last_seq`, for
    /// state carried over from elsewhere (a restart, a standby gateway) (RFC 4302 §3.3.2).
    pub fn resume(spi: u32, esn: bool, transform: AhTransform, last_seq: u64) -> Self {
        Self {
            last_seq,
            ..Self::new(spi, esn, transform)
        }
    }

    /// The SPI sent in every packet (RFC 4302 §2.4).
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// Whether the SA uses 64-bit extended sequence numbers (RFC 4302 §2.5.1).
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// The keyed algorithm (RFC 4302 §2.6).
    pub fn transform(&self) -> &AhTransform {
        &self.transform
    }

    /// The last sequence number used; 0 before the first packet (RFC 4302 §3.3.2).
    pub fn last_sequence_number(&self) -> u64 {
        self.last_seq
    }

    /// The highest sequence number this SA may send: 2^32 - 1, or 2^64 - 1 with ESN
    /// (RFC 4302 §2.5, §3.3.2).
    pub fn max_sequence_number(&self) -> u64 {
        if self.esn {
            u64::MAX
        } else {
            u64::from(u32::MAX)
        }
    }

    /// The room to leave for the AH header in a packet of IP version `version`: the fixed
    /// part, the IV (GMAC), the ICV and the alignment padding (RFC 4302 §2.2, §2.6,
    /// §3.3.3.2.1; RFC 4543 §4).
    pub fn ah_header_len(&self, version: IpVersion) -> usize {
        self.transform.header_len(version)
    }

    /// Seals `packet`, a whole IP packet laid out as the module documentation shows, in
    /// place, and returns the (full) sequence number it used.
    ///
    /// Walks the IP header and the IPv6 extension headers before AH to the AH header
    /// (§3.1), takes the next sequence number (§3.3.2; exhaustion is an error, never a
    /// wrap), writes Next Header `next_header`, Payload Len, RESERVED, SPI, Sequence Number,
    /// the IV of GMAC (RFC 4543 §4) and zero padding, and the ICV over the packet with its
    /// mutable fields zeroed and, with ESN, the high 32 bits of the sequence number appended
    /// (§3.3.3). Only the AH header is written; the IP header and the payload are not
    /// touched. A packet that cannot be sealed uses no sequence number.
    pub fn seal(&mut self, packet: &mut [u8], next_header: u8) -> Result<u64, SealError> {
        let layout = ip::locate(packet)?;
        let header_len = self.ah_header_len(layout.version);
        let header_end = layout.ah_offset.saturating_add(header_len);
        if packet.len() < header_end {
            return Err(SealError::BufferTooSmall {
                needed: header_end,
                available: packet.len(),
            });
        }
        let seq = self
            .last_seq
            .checked_add(1)
            .filter(|s| *s <= self.max_sequence_number())
            .ok_or(SealError::SequenceExhausted)?;
        let auth = auth_layout(&self.transform);
        let ah = field::rest_mut(packet, layout.ah_offset);
        AhHeader::new(
            next_header,
            self.spi,
            seq as u32,
            auth.iv_len + auth.icv_len,
            layout.version.is_ipv6(),
        )
        .emit(ah)
        .map_err(SealError::Header)?;
        if auth.iv_len > 0 {
            // The IV is the sequence number: unique under the key, since the counter never
            // wraps (RFC 4543 §3.1).
            field::put(ah, FIXED_LEN, &seq.to_be_bytes());
        }
        let esn_high = self.esn.then_some((seq >> 32) as u32);
        let mut icv = [0u8; MAX_ICV_LEN];
        let icv = icv.get_mut(..auth.icv_len).unwrap_or_default();
        ip::with_icv_input(
            packet,
            layout,
            Direction::Outbound,
            auth,
            esn_high,
            |parts| self.transform.integrity().compute(parts, &mut *icv),
        )??;
        field::put(packet, layout.ah_offset + auth.icv_offset(), icv);
        self.last_seq = seq;
        Ok(seq)
    }
}

/// The SPI of the AH header in the IP packet `packet`, and the header's offset, to find
/// the SA before verifying (RFC 4302 §3.4.2): the IP header and IPv6 extension headers are
/// walked to AH with every length checked, as [`InboundAhSa::open`] walks them.
pub fn peek_spi(packet: &[u8]) -> Result<(u32, usize), OpenError> {
    let layout = ip::locate(packet)?;
    let ah = layout.ah_offset;
    let spi = packet
        .get(ah + 4..ah + 8)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or(OpenError::Truncated {
            needed: ah + 8,
            available: packet.len(),
        })?;
    Ok((spi, ah))
}

/// A verified packet: where its payload lies in the caller's buffer and what it is
/// (RFC 4302 §3.4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened<'a> {
    /// Everything after the AH header: the upper-layer data in transport mode, the inner IP
    /// packet in tunnel mode (RFC 4302 §3.1).
    pub payload: &'a [u8],
    /// Next Header: the IP protocol number of the payload, 4 or 41 in tunnel mode
    /// (RFC 4302 §2.1).
    pub next_header: u8,
    /// The full (ESN-inferred) sequence number (RFC 4302 §2.5, App. B).
    pub sequence_number: u64,
    /// Offset of the AH header in the packet, after the IP header and the IPv6 extension
    /// headers before it (RFC 4302 §3.1).
    pub ah_offset: usize,
    /// Offset of the payload in the packet: `ah_offset` plus the AH header's length.
    pub payload_offset: usize,
}

/// The inbound half of an AH SA: its SPI, anti-replay window and keyed algorithm
/// (RFC 4302 §3.4).
#[derive(Debug)]
pub struct InboundAhSa {
    spi: u32,
    window: ReplayWindow,
    transform: AhTransform,
}

impl InboundAhSa {
    /// The inbound SA with `spi` (the one this side chose, RFC 4302 §2.4), `window` (whose
    /// ESN setting is the SA's, §2.5.1) and `transform`.
    pub fn new(spi: u32, window: ReplayWindow, transform: AhTransform) -> Self {
        Self {
            spi,
            window,
            transform,
        }
    }

    /// The SPI packets for this SA carry (RFC 4302 §2.4).
    pub fn spi(&self) -> u32 {
        self.spi
    }

    /// The anti-replay window (RFC 4302 §3.4.3).
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// The keyed algorithm (RFC 4302 §2.6).
    pub fn transform(&self) -> &AhTransform {
        &self.transform
    }

    /// The length of the AH header this SA expects in a packet of IP version `version`
    /// (RFC 4302 §2.2, §2.6, §3.3.3.2.1).
    pub fn ah_header_len(&self, version: IpVersion) -> usize {
        self.transform.header_len(version)
    }

    /// Verifies the AH-protected IP packet `packet` (RFC 4302 §3.4) without modifying it:
    /// fragments are refused (§3.4.1); the headers are walked to AH; the SPI must be this
    /// SA's (§3.4.2) and the header as long as the algorithm needs; the sequence number is
    /// checked against the window *before* the ICV (§3.4.3), the ICV verified over the
    /// packet with its mutable fields zeroed (§3.4.4), and only then the window moves.
    pub fn open<'a>(&mut self, packet: &'a [u8]) -> Result<Opened<'a>, OpenError> {
        let layout = ip::locate(packet)?;
        let ah = layout.ah_offset;
        let fixed_end = ah + FIXED_LEN;
        if packet.len() < fixed_end {
            return Err(OpenError::Truncated {
                needed: fixed_end,
                available: packet.len(),
            });
        }
        let spi = field::u32_at(packet, ah + 4..ah + 8);
        if spi == 0 {
            return Err(OpenError::Malformed(Malformed::Ah(Error::ReservedSpi)));
        }
        if spi != self.spi {
            return Err(OpenError::UnknownSpi {
                expected: self.spi,
                found: spi,
            });
        }
        let header_len = (usize::from(field::u8_at(packet, ah + 1)) + 2) * 4;
        let header_end = ah + header_len;
        if packet.len() < header_end {
            return Err(OpenError::Truncated {
                needed: header_end,
                available: packet.len(),
            });
        }
        let expected = self.ah_header_len(layout.version);
        if header_len != expected {
            return Err(OpenError::Malformed(Malformed::HeaderLength {
                expected,
                found: header_len,
            }));
        }
        let seq = self.window.check(field::u32_at(packet, ah + 8..ah + 12))?;
        self.verify(packet, layout, seq)?;
        self.window.commit(seq)?;
        Ok(Opened {
            payload: field::rest(packet, header_end),
            next_header: field::u8_at(packet, ah),
            sequence_number: seq,
            ah_offset: ah,
            payload_offset: header_end,
        })
    }

    fn verify(&self, packet: &[u8], layout: Layout, seq: u64) -> Result<(), OpenError> {
        let auth = auth_layout(&self.transform);
        let icv_start = layout.ah_offset + auth.icv_offset();
        let icv = packet
            .get(icv_start..icv_start + auth.icv_len)
            .ok_or(OpenError::Truncated {
                needed: icv_start + auth.icv_len,
                available: packet.len(),
            })?;
        let esn_high = self.window.esn().then_some((seq >> 32) as u32);
        ip::with_icv_input(
            packet,
            layout,
            Direction::Inbound,
            auth,
            esn_high,
            |parts| self.transform.integrity().verify(parts, icv),
        )?
        .map_err(|_| OpenError::IcvMismatch)
    }
}
