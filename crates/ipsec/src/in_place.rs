//! What the in-place data path hands back: ranges of the caller's own buffer, and where a
//! sealed packet goes. Nothing here owns packet bytes, so sealing and opening through
//! [`Endpoint::send_in_place`](crate::Endpoint::send_in_place) and
//! [`Endpoint::handle_udp_in_place`](crate::Endpoint::handle_udp_in_place) allocate nothing.

use std::net::IpAddr;
use std::ops::Range;

use ipsec_ikev2::{IkeSaHandle, Path};

use crate::event::SendOutcome;

/// Room before the inner packet that [`Endpoint::send_in_place`](crate::Endpoint::send_in_place)
/// needs for the ESP header: SPI and Sequence Number (8 bytes) and the longest IV we
/// send (16, AES-CBC) (RFC 4303 §2).
pub const SEAL_HEADROOM: usize = 24;

/// Room after the inner packet that [`Endpoint::send_in_place`](crate::Endpoint::send_in_place)
/// needs for the ESP trailer: padding to the cipher's block (at most 15 bytes), Pad Length
/// and Next Header (2), and the longest ICV (32, HMAC-SHA-512-256) (RFC 4303 §2.4 – §2.8).
/// With these two around the inner packet, every Child SA the endpoint installs can seal it.
pub const SEAL_TAILROOM: usize = 49;

/// Where a sealed ESP packet goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transmit {
    /// ESP in UDP (RFC 3948): a UDP datagram from `path.local` to `path.remote`, the IKE
    /// SA's ports (RFC 7296 §2.23).
    Udp(Path),
    /// Raw ESP: an IP packet of protocol 50 from `source` to `destination`.
    Esp {
        /// Our address.
        source: IpAddr,
        /// The peer's address.
        destination: IpAddr,
    },
}

/// What [`Endpoint::send_in_place`](crate::Endpoint::send_in_place) did with an inner
/// packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendInPlace {
    /// Sealed in the caller's buffer: the ESP packet is `buf[packet]`, to go as
    /// `transmit` says.
    Sealed {
        /// Where the ESP packet lies in the buffer.
        packet: Range<usize>,
        /// How and where to send it.
        transmit: Transmit,
    },
    /// The buffer has too little room around the inner packet for this SA: it needs
    /// `headroom` bytes before the packet and `tailroom` after it (never more than
    /// [`SEAL_HEADROOM`] and [`SEAL_TAILROOM`]). Nothing was sealed and no sequence number
    /// was used.
    NoRoom {
        /// Bytes needed before the inner packet.
        headroom: usize,
        /// Bytes needed after it.
        tailroom: usize,
    },
    /// Not sealed in the buffer; what happened instead. [`SendOutcome::Sent`] here means
    /// the packet went to an AH SA, which builds its own outer header: it is queued on
    /// [`Endpoint::poll_output`](crate::Endpoint::poll_output) as [`send`] queues it.
    ///
    /// [`send`]: crate::Endpoint::send
    NotSealed(SendOutcome),
}

/// An inner packet that [`Endpoint::handle_udp_in_place`](crate::Endpoint::handle_udp_in_place)
/// or [`Endpoint::handle_esp_in_place`](crate::Endpoint::handle_esp_in_place) opened in the
/// caller's buffer, with what [`Output::Deliver`](crate::Output::Deliver) says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// Where the inner packet lies in the buffer: in tunnel mode the inner IP packet, in
    /// transport mode the upper-layer payload.
    pub packet: Range<usize>,
    /// The ESP trailer's Next Header (RFC 4303 §2.6): 4 or 41 in tunnel mode, the
    /// upper-layer protocol in transport mode.
    pub next_header: u8,
    /// Whether the SA is in transport mode: the caller rebuilds the IP header from `peer`,
    /// its own address and `next_header`.
    pub transport: bool,
    /// The peer's address (the outer source).
    pub peer: IpAddr,
    /// The IKE SA the Child SA belongs to.
    pub ike_sa: IkeSaHandle,
    /// The Child SA's inbound SPI.
    pub inbound_spi: u32,
}
