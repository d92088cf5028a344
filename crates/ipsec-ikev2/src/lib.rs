//! The IKEv2 state machine of RFC 7296, sans-IO: datagrams, time and randomness in;
//! datagrams, deadlines and events out.
//!
//! This crate is a skeleton: the state machine arrives after the wire formats and the crypto
//! provider it builds on. It exports nothing yet.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
