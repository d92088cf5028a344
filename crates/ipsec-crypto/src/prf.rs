//! Pseudorandom functions and prf+ (RFC 7296 §2.13).

use alloc::vec::Vec;
use core::fmt::Debug;

use crate::{CryptoError, SecretBytes};

/// What a PRF is, by its IANA transform ID and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrfSpec {
    /// IANA Transform Type 2 ID.
    pub id: u16,
    /// Output length in bytes, which is also the preferred key length (RFC 7296 §2.14).
    pub output_len: usize,
    /// Whether the PRF takes a fixed-length key (AES-XCBC-PRF-128, RFC 4434): then SKEYSEED is
    /// keyed with only the first 64 bits of each nonce (RFC 7296 §2.14).
    pub fixed_key: bool,
}

/// A pseudorandom function: keyed per call, as IKEv2 keys it with nonces, SKEYSEED, SK_d
/// and SK_p (RFC 7296 §2.13 – §2.15).
pub trait Prf: Debug + Send + Sync {
    /// What the PRF is.
    fn spec(&self) -> PrfSpec;

    /// Writes `prf(key, concatenation of parts)` into `out`, which must be
    /// [`PrfSpec::output_len`] bytes.
    fn compute(&self, key: &[u8], parts: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError>;
}

/// prf+ of RFC 7296 §2.13: `T1 | T2 | …` truncated to `len`, where
/// `T1 = prf(K, S | 0x01)` and `Tn = prf(K, Tn-1 | S | n)`. At most 255 iterations.
pub fn prf_plus(
    prf: &dyn Prf,
    key: &[u8],
    seed: &[&[u8]],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    let block = prf.spec().output_len;
    if block == 0 || len > block.saturating_mul(255) {
        return Err(CryptoError::PrfPlusTooLong { requested: len });
    }
    let blocks = len.div_ceil(block);
    let mut out = SecretBytes::zeroed(blocks.saturating_mul(block));
    for index in 0..blocks {
        let counter = [u8::try_from(index.saturating_add(1))
            .map_err(|_| CryptoError::PrfPlusTooLong { requested: len })?];
        let (done, rest) = out.expose_mut().split_at_mut(index.saturating_mul(block));
        let previous = done.get(done.len().saturating_sub(block)..).unwrap_or(&[]);
        let chunk = rest.get_mut(..block).unwrap_or(&mut []);
        let mut parts: Vec<&[u8]> = Vec::with_capacity(seed.len().saturating_add(2));
        parts.push(previous);
        parts.extend_from_slice(seed);
        parts.push(&counter);
        prf.compute(key, &parts, chunk)?;
    }
    out.take_front(len)
        .ok_or(CryptoError::PrfPlusTooLong { requested: len })
}
