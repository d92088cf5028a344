//! Key exchange methods (Diffie-Hellman groups) as one trait (RFC 7296 §2.14, RFC 9370).

use alloc::boxed::Box;
use core::fmt::Debug;

use crate::{CryptoError, SecretBytes, SecureRandom};

pub(crate) mod ecp;
pub(crate) mod modp;
pub(crate) mod x25519;

/// A key exchange method of a provider: starts exchanges.
pub trait KeyExchangeAlgorithm: Debug + Send + Sync {
    /// The IANA Transform Type 4 ID (the KE payload's group number).
    fn group(&self) -> u16;

    /// Length of the public value in a KE payload.
    fn public_len(&self) -> usize;

    /// Draws a private value from `rng` and computes the public value.
    fn start(&self, rng: &mut dyn SecureRandom) -> Result<Box<dyn ActiveKeyExchange>, CryptoError>;
}

/// One side of one exchange: its private value, until completed with the peer's public one.
pub trait ActiveKeyExchange: Send {
    /// The IANA group number.
    fn group(&self) -> u16;

    /// The public value to send in the KE payload.
    fn public_value(&self) -> &[u8];

    /// Checks the peer's public value (RFC 6989 for MODP and ECP groups, RFC 8031 §2 for
    /// Curve25519) and computes the shared secret g^ir, consuming the private value.
    fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError>;
}
