//! The AH packet format (RFC 4302 §2).
//!
//! What is here today is the wire format only, in two layers as smoltcp's `wire` module has
//! them:
//!
//! - **A view**, [`AhHeaderView`], wraps a byte buffer after its checked constructor
//!   (`new_checked`) has verified that the whole header, as long as Payload Len says, is
//!   there; it reads and writes the fields in place without copying, hands out the Integrity
//!   Check Value field (and, given the algorithm's ICV length, splits off its padding), and
//!   the payload after the header.
//! - **A representation**, [`AhHeader`], copies the fields out and has `parse`, `buffer_len`
//!   and `emit`: `parse(emit(x)) == x`. It keeps the ICV field's length, not its value: emit
//!   writes the field as zeros, and [`AhHeaderView::set_icv`] fills it in once the ICV is
//!   known. [`header_len_for_icv`] gives the header length for an ICV length, padded to 4
//!   octets over IPv4 or 8 over IPv6 (RFC 4302 §2.6, §3.3.3.2.1).
//!
//! The cryptographic transform (the ICV over the IPv4 or IPv6 packet with its mutable fields
//! zeroed, RFC 4302 §3.3.3, with extended sequence numbers and the anti-replay window) is not
//! written yet; it comes in a later change, on top of these types. Until then nothing here
//! computes or verifies an ICV.
//!
//! The crate is `no_std` and never allocates. Hostile input never panics: a violation is a
//! typed [`Error`] that is a reason to drop the packet, and a buffer too small to emit into
//! is an [`EmitError`] saying how many bytes are needed.
//!
//! ```
//! use ipsec_ah::{AhHeader, AhHeaderView, header_len_for_icv};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // HMAC-SHA-256-128 (16-byte ICV) over IPv6: 12 + 16 = 28 bytes, padded to 32.
//! assert_eq!(header_len_for_icv(16, true), 32);
//! let header = AhHeader::new(41, 0x0000_1234, 7, 16, true);
//! let mut buf = [0xffu8; 32];
//! header.emit(&mut buf)?;
//!
//! let mut view = AhHeaderView::new_checked(&mut buf[..])?;
//! assert_eq!(view.payload_len(), 6); // 32 bytes = 8 words, minus 2
//! view.set_icv(&[0xab; 16])?;
//! let (icv, padding) = view.split_icv(16)?;
//! assert_eq!(icv, [0xab; 16]);
//! assert_eq!(padding, [0; 4]);
//! assert_eq!(AhHeader::parse(&buf)?, header);
//! # Ok(())
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod field;
mod header;

pub use error::{EmitError, Error};
pub use header::{AhHeader, AhHeaderView, FIXED_LEN, MAX_HEADER_LEN, header_len_for_icv};
