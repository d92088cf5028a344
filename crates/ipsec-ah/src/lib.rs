//! The IP Authentication Header (RFC 4302): the AH packet format, and AH protection for one
//! SA in place on the caller's buffers.
//!
//! # The wire format
//!
//! In two layers, as smoltcp's `wire` module has them:
//!
//! - **A view**, [`AhHeaderView`], wraps a byte buffer after its checked constructor
//!   (`new_checked`) has verified that the whole header, as long as Payload Len says, is
//!   there; it reads and writes the fields in place without copying, hands out the Integrity
//!   Check Value field (and, given the algorithm's ICV length, splits off its padding), and
//!   the payload after the header (RFC 4302 §2).
//! - **A representation**, [`AhHeader`], copies the fields out and has `parse`, `buffer_len`
//!   and `emit`: `parse(emit(x)) == x`. It keeps the ICV field's length, not its value: emit
//!   writes the field as zeros, and [`AhHeaderView::set_icv`] fills it in once the ICV is
//!   known. [`header_len_for_icv`] gives the header length for an ICV length, padded to 4
//!   octets over IPv4 or 8 over IPv6 (RFC 4302 §2.6, §3.3.3.2.1).
//!
//! # Protection for one SA
//!
//! [`OutboundAhSa::seal`] and [`InboundAhSa::open`] take a whole IP packet — IPv4 or IPv6,
//! transport or tunnel mode (RFC 4302 §3.1) — laid out as it goes on the wire. Nothing is
//! inserted or moved: the caller leaves room for the AH header where it belongs and `seal`
//! fills it in.
//!
//! ```text
//!  transport mode, IPv4:
//!  | IPv4 header + options | AH header | TCP, UDP, ICMP, ...                    |
//!  transport mode, IPv6:
//!  | IPv6 header | Hop-by-Hop | Dest. Opts | Routing | AH header | upper layer  |
//!  tunnel mode (IPv4 or IPv6 outside, IPv4 or IPv6 inside):
//!  | outer IP header (+ extension headers) | AH header | inner IP packet        |
//!                                          ^ ah_offset
//!  the AH header (RFC 4302 §2, Figure 1; RFC 4543 §4, Figure 5 for the IV):
//!  | Next Hdr | Payload Len | RESERVED | SPI | Seq. No. | IV (GMAC) | ICV | pad |
//!  |<----------------------- ah_header_len(version) ---------------------->|
//! ```
//!
//! To send, the caller
//!
//! 1. writes the IP header with Protocol (IPv4) or the Next Header before AH (IPv6) set to
//!    [`IPPROTO_AH`] and the final length (Total Length, or Payload Length, counting AH);
//! 2. leaves [`OutboundAhSa::ah_header_len`] bytes at the AH position (their content does
//!    not matter: all of it is overwritten) and writes the payload after them;
//! 3. calls [`OutboundAhSa::seal`] with the payload's protocol number (4 or 41 in tunnel
//!    mode);
//! 4. computes the IPv4 Header Checksum, which the ICV does not cover
//!    (§3.3.3.1.1.1), if it had not yet.
//!
//! To receive, [`InboundAhSa::open`] verifies such a packet where it lies and points at the
//! payload after AH ([`Opened`]). The Integrity Check Value covers (RFC 4302 §3.3.3):
//!
//! - the IP header with its mutable fields zeroed: for IPv4 DSCP/ECN, Flags, Fragment Offset,
//!   TTL and Header Checksum (§3.3.3.1.1.1), and every option that RFC 4302 Appendix A1 does
//!   not list as immutable (End of Option List, No Operation, the three security options,
//!   Router Alert and Sender Directed Multi-Destination Delivery stay); with a loose or strict
//!   source route the sender puts the final destination in the Destination Address, which
//!   is what the receiver will see (§3.3.3.1.1.1). For IPv6 Traffic Class, Flow Label and
//!   Hop Limit (§3.3.3.1.2.1);
//! - the IPv6 Hop-by-Hop and Destination Options headers before AH, with the data of each
//!   option whose "change en route" bit is set zeroed (§3.3.3.1.2.2), and a Routing header
//!   as it is;
//! - the AH header with its ICV zeroed, and everything after it;
//! - with extended sequence numbers, the high 32 bits of the sequence number, appended but
//!   never sent (§2.5.1, §3.3.3.2.2).
//!
//! The algorithms ([`AhTransform`]) come from an `ipsec-crypto` provider: HMAC-SHA-256-128,
//! HMAC-SHA-384-192 and HMAC-SHA-512-256 (RFC 4868) and AUTH_AES_128_GMAC and
//! AUTH_AES_256_GMAC (RFC 4543 §4), whose ICV field holds an 8-byte IV before the 16-byte tag
//! and whose nonce is the salt from the end of the keying material with that IV.
//!
//! The receiver checks the sequence number against the anti-replay window
//! (`ipsec-replay`) before the ICV and moves the window only after it verified (§3.4.3).
//! Every reason to drop a packet is an [`OpenError`] value to count; the packet is never
//! modified. An outbound SA never wraps its counter: exhaustion is
//! [`SealError::SequenceExhausted`].
//!
//! ## Limits
//!
//! - IPv6 Routing headers with Segments Left above zero, whose addresses would have to be
//!   reordered as the receiver will see them (§3.3.3.1.2.2), are refused as
//!   [`Unsupported::RoutingHeader`]; so are Fragment headers before AH (reassemble and remove
//!   them first, App. A2), the other extension headers that are not Hop-by-Hop, Destination
//!   Options or Routing, and jumbograms.
//! - IPv4 fragments are dropped ([`OpenError::Fragment`], §3.4.1).
//! - The packet passed must be exactly as long as its IP length field says.
//! - The AH header must be exactly as long as the algorithm and the IP version need: RFC 4302
//!   §2.6 forbids more padding. Over IPv6 that makes the AES-GMAC header 40 bytes, 4 of them
//!   padding (RFC 4543 §4 says none is needed, counting the ICV field alone).
//!
//! # Safety and allocation
//!
//! The crate is `no_std` with `alloc` (for the boxed algorithm object made once per SA) and
//! never allocates per packet; `unsafe` is forbidden. Hostile input never panics: a violation
//! is a typed error.
//!
//! ```
//! use ipsec_ah::{AhTransform, InboundAhSa, IpVersion, OutboundAhSa};
//! use ipsec_crypto::{RUST_CRYPTO, iana};
//! use ipsec_replay::ReplayWindow;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hmac = RUST_CRYPTO
//!     .integrity(iana::AUTH_HMAC_SHA2_256_128)
//!     .ok_or("no HMAC-SHA-256-128")?;
//! let mut out = OutboundAhSa::new(0x1234, false, AhTransform::new(hmac, &[7; 32])?);
//! let window = ReplayWindow::new(64, false)?;
//! let mut inbound = InboundAhSa::new(0x1234, window, AhTransform::new(hmac, &[7; 32])?);
//!
//! // An IPv4 packet in transport mode: header, room for AH, then 8 bytes of UDP.
//! let ah_len = out.ah_header_len(IpVersion::V4); // 12 + 16-byte ICV = 28
//! let mut packet = vec![0u8; 20 + ah_len + 8];
//! let total = packet.len() as u16;
//! packet[..20].copy_from_slice(&[
//!     0x45, 0, 0, 0, 0, 1, 0, 0, 64, 51, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
//! ]);
//! packet[2..4].copy_from_slice(&total.to_be_bytes());
//! packet[20 + ah_len..].copy_from_slice(b"udp data");
//! assert_eq!(out.seal(&mut packet, 17)?, 1); // Next Header 17: UDP
//!
//! packet[8] -= 1; // a router decrements the TTL: mutable, not covered
//! let opened = inbound.open(&packet)?;
//! assert_eq!((opened.next_header, opened.sequence_number), (17, 1));
//! assert_eq!(opened.payload, b"udp data");
//! # Ok(())
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod error;
use ipsec_isakmp::field;
mod header;
mod ip;
mod sa;
mod transform;

pub use error::{EmitError, Error, Malformed, Unsupported};
pub use header::{AhHeader, AhHeaderView, FIXED_LEN, MAX_HEADER_LEN, header_len_for_icv};
pub use ip::{IPPROTO_AH, IpVersion};
pub use sa::{InboundAhSa, OpenError, Opened, OutboundAhSa, SealError, peek_spi};
pub use transform::{
    AUTH_AES_128_GMAC, AUTH_AES_192_GMAC, AUTH_AES_256_GMAC, AhTransform, GMAC_IV_LEN, MAX_ICV_LEN,
};
