//! Ciphers used with a separate integrity algorithm in ESP and IKE: AES in CBC mode
//! (RFC 3602) and in counter mode (RFC 3686, RFC 5930), and ENCR_NULL (RFC 2410).

use alloc::boxed::Box;
use core::fmt::Debug;

use crate::CryptoError;

/// What a cipher is, by its IANA transform ID and sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CipherSpec {
    /// IANA Transform Type 1 ID.
    pub id: u16,
    /// Key length in bits (the Key Length attribute); 0 for ENCR_NULL.
    pub key_bits: u16,
    /// Length of the nonce that ends the keying material: 4 for AES-CTR (RFC 3686 §5.1),
    /// 0 otherwise.
    pub salt_len: usize,
    /// Block length: the plaintext must be a multiple of it (1 for ENCR_NULL).
    pub block_len: usize,
    /// Length of the IV sent with each packet (16 for AES-CBC, 8 for AES-CTR, 0 for
    /// ENCR_NULL).
    pub iv_len: usize,
    /// Whether the IV need only be unique, not unpredictable: true for counter mode, whose
    /// sender may use a counter such as ESP's sequence number (RFC 3686 §3.1); false for CBC,
    /// whose IV must be unpredictable (RFC 3602 §2.3).
    pub unique_iv: bool,
}

impl CipherSpec {
    /// Key length in bytes, nonce excluded.
    pub const fn key_len(&self) -> usize {
        self.key_bits as usize / 8
    }

    /// Keying material taken from the key schedule: the key, then the nonce of AES-CTR
    /// (RFC 3686 §5.1, RFC 5930 §2).
    pub const fn keymat_len(&self) -> usize {
        self.key_len() + self.salt_len
    }
}

/// A cipher of a provider: makes keyed [`Cipher`]s.
pub trait CipherAlgorithm: Debug + Send + Sync {
    /// What the cipher is.
    fn spec(&self) -> CipherSpec;

    /// A key from keying material of [`CipherSpec::keymat_len`] bytes.
    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Cipher>, CryptoError>;
}

/// A cipher keyed for one direction of one SA.
pub trait Cipher: Send + Sync {
    /// What the cipher is.
    fn spec(&self) -> CipherSpec;

    /// Encrypts `buf`, a whole number of blocks, in place with `iv` (unpredictable for CBC,
    /// RFC 3602 §2.3; unique under the key for counter mode, RFC 3686 §3.1).
    fn encrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError>;

    /// Decrypts `buf`, a whole number of blocks, in place.
    fn decrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError>;
}
