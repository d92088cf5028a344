//! The operating system's random source, for callers that have no other.

use ipsec_crypto::{CryptoError, SecureRandom};

/// Randomness from the operating system (`getrandom`): the usual thing to pass to
/// [`Endpoint::new`](crate::Endpoint::new). The library itself never draws randomness; this
/// type is the caller's, offered here for convenience (feature `os-random`).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl SecureRandom for OsRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        // The caller chose this source by constructing it; see the type's documentation.
        #[allow(clippy::disallowed_methods)]
        getrandom::fill(dest).map_err(|_| CryptoError::RandomSource)
    }
}
