//! Block ciphers in CBC mode, and ENCR_NULL, for ESP and IKE with a separate integrity
//! algorithm (RFC 3602, RFC 2410, RFC 7296 §3.14).

use alloc::boxed::Box;
use core::fmt::Debug;

use crate::CryptoError;

/// What a cipher is, by its IANA transform ID and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSpec {
    /// IANA Transform Type 1 ID.
    pub id: u16,
    /// Key length in bits; 0 for ENCR_NULL.
    pub key_bits: u16,
    /// Block length: the plaintext must be a multiple of it (1 for ENCR_NULL).
    pub block_len: usize,
    /// Length of the IV sent with each packet (16 for AES-CBC, 0 for ENCR_NULL).
    pub iv_len: usize,
}

impl CipherSpec {
    /// Key length in bytes.
    pub const fn key_len(&self) -> usize {
        self.key_bits as usize / 8
    }
}

/// A cipher of a provider: makes keyed [`Cipher`]s.
pub trait CipherAlgorithm: Debug + Send + Sync {
    /// What the cipher is.
    fn spec(&self) -> CipherSpec;

    /// A key of [`CipherSpec::key_len`] bytes.
    fn new_key(&self, key: &[u8]) -> Result<Box<dyn Cipher>, CryptoError>;
}

/// A cipher keyed for one direction of one SA.
pub trait Cipher: Send + Sync {
    /// What the cipher is.
    fn spec(&self) -> CipherSpec;

    /// Encrypts `buf`, a whole number of blocks, in place with `iv` (an unpredictable IV,
    /// RFC 3602 §2.3).
    fn encrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError>;

    /// Decrypts `buf`, a whole number of blocks, in place.
    fn decrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError>;
}
