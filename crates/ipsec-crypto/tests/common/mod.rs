//! Helpers of the crypto tests: the known-answer file reader (`vector_file`, which the other
//! crates' tests include too) and a fixed random source.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

pub(crate) mod vector_file;

pub(crate) use vector_file::parse;

/// A random source that hands out fixed bytes, for known-answer key exchanges.
pub(crate) struct FixedRandom(pub(crate) Vec<u8>);

impl ipsec_crypto::SecureRandom for FixedRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), ipsec_crypto::CryptoError> {
        if self.0.len() < dest.len() {
            return Err(ipsec_crypto::CryptoError::RandomSource);
        }
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
