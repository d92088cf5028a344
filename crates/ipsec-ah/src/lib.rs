//! The AH packet format (RFC 4302 §2).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
