//! IPsec for Rust: IKEv2, ESP and AH as sans-IO crates.
//!
//! The caller owns sockets, threads, clocks and randomness; these crates turn bytes, time and
//! random numbers into bytes, deadlines and events. This facade re-exports the crates that
//! make up the stack; the endpoint that composes them arrives once the state machine and the
//! data plane are in place.
//!
//! - [`isakmp`]: the IKEv2 message format (RFC 7296 §3).
//! - [`esp`] and [`ah`]: the ESP (RFC 4303) and AH (RFC 4302) packet formats.
//! - [`crypto`], [`replay`], [`sad`], [`ikev2`]: algorithms, anti-replay window, databases
//!   and state machine.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use ipsec_ah as ah;
pub use ipsec_crypto as crypto;
pub use ipsec_esp as esp;
pub use ipsec_ikev2 as ikev2;
pub use ipsec_isakmp as isakmp;
pub use ipsec_replay as replay;
pub use ipsec_sad as sad;
