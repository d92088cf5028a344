//! The ESP packet format (RFC 4303 §2).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
