//! The Security Association Database, the Security Policy Database and the Peer
//! Authorization Database of RFC 4301 §4.4.
//!
//! This crate is a skeleton: the databases arrive with the data-plane work. It exports
//! nothing yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
