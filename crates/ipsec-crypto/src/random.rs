//! The source of randomness, which the caller supplies (sans-IO).

use chacha20::ChaCha20;
use chacha20::cipher::{KeyIvInit, StreamCipher};

use crate::CryptoError;

/// A cryptographically secure random source: nonces, SPIs, IVs, private keys.
///
/// The library never draws randomness on its own; the caller passes one in (an OS source in
/// production, a [`SeededRandom`] in tests and simulators).
pub trait SecureRandom: Send {
    /// Fills `dest` with random bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError>;
}

/// A deterministic random source: the ChaCha20 keystream of a 32-byte seed.
///
/// For tests, simulators and reproducible runs only; two instances with the same seed give
/// the same bytes, so it must never key a real SA.
pub struct SeededRandom {
    stream: ChaCha20,
}

impl SeededRandom {
    /// A source whose output is the ChaCha20 keystream for key `seed`, nonce zero.
    pub fn new(seed: [u8; 32]) -> Self {
        Self {
            stream: ChaCha20::new(&seed.into(), &[0u8; 12].into()),
        }
    }

    /// A source seeded from a number, for seed sweeps.
    pub fn from_u64(seed: u64) -> Self {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        Self::new(key)
    }
}

impl core::fmt::Debug for SeededRandom {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SeededRandom")
    }
}

impl SecureRandom for SeededRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        dest.fill(0);
        self.stream.apply_keystream(dest);
        Ok(())
    }
}
