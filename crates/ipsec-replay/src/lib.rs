//! The anti-replay window of RFC 4303 §3.4.3 with extended sequence numbers (RFC 4303
//! App. A) as a bitmap without shifting (RFC 6479).
//!
//! This crate is a skeleton: the window arrives with the data-plane work. It exports nothing
//! yet.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
