//! Authenticated encryption with associated data, keyed for one direction of one SA.

use alloc::boxed::Box;
use core::fmt::Debug;

use crate::CryptoError;

/// Length of the explicit IV sent in every ESP packet and SK payload (RFC 4106 §3.1,
/// RFC 5282 §3, RFC 7634 §2).
pub const AEAD_IV_LEN: usize = 8;

/// Length of the longest salt that ends the keying material: 4 octets for AES-GCM
/// (RFC 4106 §8.1) and ChaCha20-Poly1305 (RFC 7634 §2); AES-CCM's is 3 (RFC 4309 §7.1), see
/// [`AeadSpec::salt_len`].
pub const AEAD_SALT_LEN: usize = 4;

/// What an AEAD algorithm is, by its IANA transform ID and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AeadSpec {
    /// IANA Transform Type 1 ID.
    pub id: u16,
    /// Key length in bits (the Key Length attribute), salt excluded.
    pub key_bits: u16,
    /// ICV (tag) length in bytes: 8, 12 or 16 (RFC 4106 §3.2 for GCM, RFC 4309 §3.2 for CCM).
    pub icv_len: usize,
    /// Length of the salt that ends the keying material and starts every nonce: 4 for
    /// AES-GCM, AES-GMAC and ChaCha20-Poly1305, 3 for AES-CCM (RFC 4309 §4, §7.1).
    pub salt_len: usize,
    /// Whether the payload is encrypted; false for ENCR_NULL_AUTH_AES_GMAC, which only
    /// authenticates (RFC 4543).
    pub encrypts: bool,
}

impl AeadSpec {
    /// Key length in bytes, salt excluded.
    pub const fn key_len(&self) -> usize {
        self.key_bits as usize / 8
    }

    /// Keying material taken from the key schedule: key and salt (RFC 4106 §8.1, RFC 4309
    /// §7.1, RFC 5282 §7.1, RFC 7634 §2).
    pub const fn keymat_len(&self) -> usize {
        self.key_len() + self.salt_len
    }
}

/// An AEAD algorithm of a provider: makes keyed [`Aead`]s.
pub trait AeadAlgorithm: Debug + Send + Sync {
    /// What the algorithm is.
    fn spec(&self) -> AeadSpec;

    /// A key for one direction from keying material `key || salt` of
    /// [`AeadSpec::keymat_len`] bytes.
    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Aead>, CryptoError>;
}

/// An AEAD keyed for one direction of one SA. The nonce is the key's salt followed by the
/// 8-byte IV sent in the packet (RFC 4106 §4, RFC 4309 §4, RFC 5282 §4, RFC 7634 §2), which
/// must never repeat under one key.
///
/// The ICV trails the data, as in ESP and the SK payload: `in_out` is the plaintext (or
/// ciphertext) followed by room for (or the) ICV.
pub trait Aead: Send + Sync {
    /// What the algorithm is.
    fn spec(&self) -> AeadSpec;

    /// Encrypts `in_out[..len - icv_len]` in place and writes the ICV into the last
    /// `icv_len` bytes.
    fn seal_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError>;

    /// Verifies the ICV in the last `icv_len` bytes of `in_out` and, only if it verifies,
    /// decrypts the rest in place. On failure the bytes are not released as plaintext.
    fn open_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError>;
}

/// Splits `in_out` into data and ICV, or says why it cannot.
pub(crate) fn split_icv(
    in_out: &mut [u8],
    icv_len: usize,
) -> Result<(&mut [u8], &mut [u8]), CryptoError> {
    let data_len = in_out
        .len()
        .checked_sub(icv_len)
        .ok_or(CryptoError::BufferLength {
            actual: in_out.len(),
            reason: "shorter than the ICV",
        })?;
    Ok(in_out.split_at_mut(data_len))
}

/// Splits keying material into key and salt after checking its length; the salt is returned
/// in the front [`AeadSpec::salt_len`] bytes of an [`AEAD_SALT_LEN`] array.
pub(crate) fn split_keymat<'a>(
    spec: &AeadSpec,
    keymat: &'a [u8],
) -> Result<(&'a [u8], [u8; AEAD_SALT_LEN]), CryptoError> {
    let wrong_length = CryptoError::KeyLength {
        expected: spec.keymat_len(),
        actual: keymat.len(),
    };
    if keymat.len() != spec.keymat_len() {
        return Err(wrong_length);
    }
    let (key, salt_bytes) = keymat.split_at(spec.key_len());
    let mut salt = [0u8; AEAD_SALT_LEN];
    salt.get_mut(..salt_bytes.len())
        .ok_or(wrong_length)?
        .copy_from_slice(salt_bytes);
    Ok((key, salt))
}

/// Writes the nonce `salt || iv` into `nonce`, whose length is the salt's plus
/// [`AEAD_IV_LEN`] (RFC 4106 §4, RFC 4309 §4).
pub(crate) fn write_nonce(
    salt: &[u8; AEAD_SALT_LEN],
    iv: &[u8; AEAD_IV_LEN],
    nonce: &mut [u8],
) -> Result<(), CryptoError> {
    let wrong = CryptoError::BufferLength {
        actual: nonce.len(),
        reason: "nonce shorter than the IV or longer than salt and IV",
    };
    let salt_len = nonce.len().checked_sub(AEAD_IV_LEN).ok_or(wrong)?;
    let (head, tail) = nonce.split_at_mut(salt_len);
    head.copy_from_slice(salt.get(..salt_len).ok_or(wrong)?);
    tail.copy_from_slice(iv);
    Ok(())
}

/// The 12-byte nonce `salt || iv` of AES-GCM and ChaCha20-Poly1305 (RFC 4106 §4).
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
pub(crate) fn nonce(salt: &[u8; AEAD_SALT_LEN], iv: &[u8; AEAD_IV_LEN]) -> [u8; 12] {
    let mut nonce = [0u8; 12];
    let (head, tail) = nonce.split_at_mut(AEAD_SALT_LEN);
    head.copy_from_slice(salt);
    tail.copy_from_slice(iv);
    nonce
}
