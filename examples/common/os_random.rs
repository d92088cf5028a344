//! Randomness from the operating system, which the application hands to the library.

use ipsec::crypto::{CryptoError, SecureRandom};

/// The operating system's random source (`getrandom`).
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        getrandom::fill(dest).map_err(|_| CryptoError::RandomSource)
    }
}
