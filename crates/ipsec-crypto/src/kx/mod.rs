//! Key exchange methods (Diffie-Hellman groups) as one trait (RFC 7296 §2.14, RFC 9370).

use alloc::boxed::Box;
use core::fmt::Debug;

use crate::{CryptoError, SecretBytes, SecureRandom};

#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws_lc;
mod brainpool;
pub(crate) mod ecp;
pub(crate) mod modp;
mod montgomery;
pub(crate) mod x25519;
pub(crate) mod x448;

/// A key exchange method of a provider: starts exchanges.
pub trait KeyExchangeAlgorithm: Debug + Send + Sync {
    /// The IANA Transform Type 4 ID (the KE payload's group number).
    fn group(&self) -> u16;

    /// Length of the public value in a KE payload.
    fn public_len(&self) -> usize;

    /// Checks a peer's public value without any secret and without the exponentiation:
    /// its length, its range (RFC 6989 §2.1 for MODP groups), that it is a point on the
    /// curve and not the identity (RFC 6989 §2.3 for ECP groups), that it is not one of the
    /// low-order points (RFC 8031 §2, RFC 7748 §6.1 for Curve25519). A responder runs it before
    /// it generates a key pair, so that a bad value costs it almost nothing; `complete` checks
    /// again.
    fn check_peer_public(&self, peer_public: &[u8]) -> Result<(), CryptoError>;

    /// Draws a private value from `rng` and computes the public value.
    fn start(&self, rng: &mut dyn SecureRandom) -> Result<Box<dyn ActiveKeyExchange>, CryptoError>;
}

/// One side of one exchange: its private value, until completed with the peer's public one.
pub trait ActiveKeyExchange: Send {
    /// The IANA group number.
    fn group(&self) -> u16;

    /// The public value to send in the KE payload.
    fn public_value(&self) -> &[u8];

    /// Checks the peer's public value as [`KeyExchangeAlgorithm::check_peer_public`] does
    /// (and, for Curve25519, that the result is not all zero, RFC 8031 §2) and computes the
    /// shared secret g^ir, consuming the private value.
    fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError>;
}
