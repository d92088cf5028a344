//! Integrity algorithms: truncated HMACs for ESP, AH and IKE (RFC 4868).

use alloc::boxed::Box;
use core::fmt::Debug;

use subtle::ConstantTimeEq;

use crate::CryptoError;

/// What an integrity algorithm is, by its IANA transform ID and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IntegritySpec {
    /// IANA Transform Type 3 ID.
    pub id: u16,
    /// Key length in bytes (RFC 4868 §2.1.1: the hash's output length).
    pub key_len: usize,
    /// ICV length in bytes: the truncated output (RFC 4868 §2.3).
    pub icv_len: usize,
    /// Length of the per-packet IV the algorithm takes as its first part: 0 for the HMACs,
    /// 8 for AUTH_AES_GMAC (RFC 4543 §4), which is for AH only (§5.3).
    pub iv_len: usize,
}

/// An integrity algorithm of a provider: makes keyed [`Integrity`] objects.
pub trait IntegrityAlgorithm: Debug + Send + Sync {
    /// What the algorithm is.
    fn spec(&self) -> IntegritySpec;

    /// A key of [`IntegritySpec::key_len`] bytes.
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn Integrity>, CryptoError>;
}

/// An integrity algorithm keyed for one direction of one SA. The data is given in parts, so
/// that ESN high bits that are authenticated but not sent (RFC 4303 §2.2.1) need no copy.
pub trait Integrity: Send + Sync {
    /// What the algorithm is.
    fn spec(&self) -> IntegritySpec;

    /// Writes the ICV over the concatenation of `parts` into `icv`, which must be
    /// [`IntegritySpec::icv_len`] bytes.
    fn compute(&self, parts: &[&[u8]], icv: &mut [u8]) -> Result<(), CryptoError>;

    /// Checks in constant time that `icv` is the ICV over the concatenation of `parts`.
    fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError>;
}

/// Writes the leading `icv.len()` bytes of a MAC's full output `full` into `icv`, which must
/// be `icv_len` bytes: the truncation of RFC 2104 §5 (RFC 2404 §2, RFC 3566 §2.4, RFC 4868
/// §2.3).
pub(crate) fn write_truncated(
    full: &[u8],
    icv_len: usize,
    icv: &mut [u8],
) -> Result<(), CryptoError> {
    match full.get(..icv_len) {
        Some(truncated) if icv.len() == icv_len => {
            icv.copy_from_slice(truncated);
            Ok(())
        }
        _ => Err(CryptoError::BufferLength {
            actual: icv.len(),
            reason: "not the ICV length",
        }),
    }
}

/// Checks in constant time that `icv` is the leading `icv_len` bytes of `full`.
pub(crate) fn verify_truncated(full: &[u8], icv_len: usize, icv: &[u8]) -> Result<(), CryptoError> {
    let truncated = full.get(..icv_len).unwrap_or_default();
    if bool::from(truncated.ct_eq(icv)) {
        Ok(())
    } else {
        Err(CryptoError::IntegrityCheckFailed)
    }
}
