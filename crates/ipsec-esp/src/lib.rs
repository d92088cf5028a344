//! The ESP packet format (RFC 4303 §2): the header in the clear, and the trailer inside the
//! decrypted plaintext.
//!
//! The wire format comes in two layers, as smoltcp's `wire` module has them:
//!
//! - **Views** wrap a byte buffer after a checked constructor (`new_checked`) has verified
//!   every length they rely on, and read or write fields in place without copying.
//!   [`EspHeaderView`] reads SPI and Sequence Number and hands out the protected rest of the
//!   packet (IV, ciphertext, ICV) as opaque bytes; [`EspPlaintextView`] reads Payload Data,
//!   Padding, Pad Length and Next Header from a plaintext once it has been decrypted.
//! - **Representations** ([`EspHeader`], [`EspTrailer`]) copy the fields out, and have
//!   `parse`, `buffer_len` and `emit`: `parse(emit(x)) == x`. [`emit_trailer`] pads a payload
//!   for a cipher's block size with the default padding of RFC 4303 §2.4, and
//!   [`check_default_padding`] checks that padding on receipt.
//!
//! On top of them, one SA's protection in place in the caller's buffer (RFC 4303 §3):
//! [`OutboundSa::seal`] and [`InboundSa::open`], with the IV, the ICV, extended sequence
//! numbers, padding and the anti-replay window, for every [`EspTransform`]. Both can be
//! shared by threads: sealing takes `&self` (the sequence counter is atomic), and
//! [`InboundKeys::open`] takes `&self` with the window apart, any [`ReplayGuard`]: a
//! [`ReplayWindow`](ipsec_replay::ReplayWindow) for one owner, a lock-free
//! [`SharedReplayWindow`](ipsec_replay::SharedReplayWindow) for many threads.
//!
//! The crate is `no_std` and never allocates. Hostile input never panics: a violation is a
//! typed [`Error`] that is a reason to drop the packet, and a buffer too small to emit into
//! is an [`EmitError`] saying how many bytes are needed.
//!
//! ```
//! use ipsec_esp::{EspHeader, EspHeaderView, EspTrailer, emit_trailer, split_plaintext};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An ESP packet captured between two strongSwan peers (AES-GCM-16, 8-byte IV).
//! let packet = include_bytes!("../tests/data/charon/aes256gcm16-x25519/05-esp-a0ce6d18.bin");
//! let view = EspHeaderView::new_checked(&packet[..])?;
//! assert_eq!(view.spi(), 0xa0ce_6d18);
//! assert_eq!(view.sequence_number(), 1);
//! assert_eq!(view.payload().len(), 8 + 88 + 16); // IV, ciphertext, ICV: opaque here
//!
//! let mut header = [0u8; 8];
//! EspHeader { spi: 0xa0ce_6d18, sequence_number: 1 }.emit(&mut header)?;
//! assert_eq!(header, packet[..8]);
//!
//! // Building a plaintext for a 16-byte block cipher, then reading it back.
//! let mut plaintext = [0u8; 32];
//! plaintext[..5].copy_from_slice(b"hello");
//! let len = emit_trailer(&mut plaintext, 5, 16, 4)?;
//! assert_eq!(len, 16);
//! let (payload, trailer) = split_plaintext(&plaintext[..len])?;
//! assert_eq!(payload, b"hello");
//! assert_eq!(trailer, EspTrailer { pad_length: 9, next_header: 4 });
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
mod sa;
mod trailer;
mod transform;
mod udp;

pub use error::{EmitError, Error, Structure};
pub use header::{EspHeader, EspHeaderView, HEADER_LEN};
pub use sa::{InboundKeys, InboundSa, OpenError, Opened, OutboundSa, ReplayGuard, SealError};
pub use trailer::{
    EspPlaintextView, EspTrailer, NEXT_HEADER_DUMMY, TRAILER_LEN, check_default_padding,
    emit_trailer, split_plaintext,
};
pub use transform::EspTransform;
pub use udp::{
    NAT_KEEPALIVE, UDP_ENCAP_PORT, UDP_HEADER_LEN, UdpError, decapsulate_udp, encapsulate_udp,
};
