//! Algorithms of IPsec and IKEv2 by IANA transform ID, behind a crypto provider.
//!
//! This crate is a skeleton: its traits and its RustCrypto default provider arrive with the
//! data-plane work. It exports nothing yet, so nothing can depend on an algorithm that is not
//! there.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
