//! How one direction of an ESP SA protects its packets: an AEAD, or a cipher with an
//! integrity algorithm (RFC 4303 §3.2), keyed from the Child SA's keying material.

use alloc::boxed::Box;

use ipsec_crypto::{
    AEAD_IV_LEN, Aead, AeadAlgorithm, Cipher, CipherAlgorithm, CryptoError, Integrity,
    IntegrityAlgorithm,
};

/// The algorithms of one direction of an ESP SA, keyed.
pub enum EspTransform {
    /// An AEAD: AES-GCM (RFC 4106), ChaCha20-Poly1305 (RFC 7634) or AES-GMAC (RFC 4543).
    Aead(Box<dyn Aead>),
    /// A cipher (AES-CBC, RFC 3602, or ENCR_NULL, RFC 2410) followed by an integrity check
    /// over the ciphertext (RFC 4303 §3.3.2, encrypt-then-MAC).
    CipherIntegrity {
        /// The cipher.
        cipher: Box<dyn Cipher>,
        /// The integrity algorithm.
        integrity: Box<dyn Integrity>,
    },
}

impl core::fmt::Debug for EspTransform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Aead(aead) => f.debug_tuple("Aead").field(&aead.spec()).finish(),
            Self::CipherIntegrity { cipher, integrity } => f
                .debug_struct("CipherIntegrity")
                .field("cipher", &cipher.spec())
                .field("integrity", &integrity.spec())
                .finish(),
        }
    }
}

impl EspTransform {
    /// An AEAD keyed with `keymat`: the key followed by the salt (4 bytes; 3 for AES-CCM), as
    /// taken from KEYMAT (RFC 4106 §8.1, RFC 4309 §7.1, RFC 7634 §2, RFC 4543 §8).
    pub fn aead(algorithm: &dyn AeadAlgorithm, keymat: &[u8]) -> Result<Self, CryptoError> {
        Ok(Self::Aead(algorithm.new_key(keymat)?))
    }

    /// A cipher and an integrity algorithm keyed with `keymat`: the encryption key first, the
    /// integrity key after it (RFC 7296 §2.17).
    pub fn cipher_integrity(
        cipher: &dyn CipherAlgorithm,
        integrity: &dyn IntegrityAlgorithm,
        keymat: &[u8],
    ) -> Result<Self, CryptoError> {
        if integrity.spec().iv_len != 0 {
            return Err(CryptoError::Unsuitable(
                "an integrity algorithm that takes an IV is for AH only (RFC 4543 §5.3)",
            ));
        }
        let cipher_len = cipher.spec().keymat_len();
        let expected = cipher_len.saturating_add(integrity.spec().key_len);
        if keymat.len() != expected {
            return Err(CryptoError::KeyLength {
                expected,
                actual: keymat.len(),
            });
        }
        let (encryption, authentication) = keymat.split_at(cipher_len);
        Ok(Self::CipherIntegrity {
            cipher: cipher.new_key(encryption)?,
            integrity: integrity.new_key(authentication)?,
        })
    }

    /// Bytes of keying material each direction takes from KEYMAT for this combination.
    pub fn keymat_len(
        aead: Option<&dyn AeadAlgorithm>,
        cipher: Option<&dyn CipherAlgorithm>,
        integrity: Option<&dyn IntegrityAlgorithm>,
    ) -> usize {
        aead.map_or(0, |a| a.spec().keymat_len())
            .saturating_add(cipher.map_or(0, |c| c.spec().keymat_len()))
            .saturating_add(integrity.map_or(0, |i| i.spec().key_len))
    }

    /// Length of the IV sent in each packet: 8 for the AEADs (RFC 4106 §3.1), the cipher's
    /// IV otherwise (16 for AES-CBC, RFC 3602 §3; none for ENCR_NULL).
    pub fn iv_len(&self) -> usize {
        match self {
            Self::Aead(_) => AEAD_IV_LEN,
            Self::CipherIntegrity { cipher, .. } => cipher.spec().iv_len,
        }
    }

    /// Length of the ICV after the ciphertext.
    pub fn icv_len(&self) -> usize {
        match self {
            Self::Aead(aead) => aead.spec().icv_len,
            Self::CipherIntegrity { integrity, .. } => integrity.spec().icv_len,
        }
    }

    /// The block size the cipher needs the plaintext padded to (RFC 4303 §2.4): 1 for the
    /// AEADs, which are stream modes, 16 for AES-CBC.
    pub fn block_len(&self) -> usize {
        match self {
            Self::Aead(_) => 1,
            Self::CipherIntegrity { cipher, .. } => cipher.spec().block_len,
        }
    }

    /// The alignment an outbound SA pads to by default: the cipher's block, except that the
    /// encrypting AEADs pad to 16 bytes. ESP needs only 4 (RFC 4303 §2.4), but AES-GCM and
    /// Poly1305 work in 16-byte blocks, and every provider measured here encrypts a trailing
    /// partial block far more slowly (68 bytes cost up to 45% more than 80): the up to 12
    /// extra bytes on the wire buy that back. `OutboundSa::set_padding_alignment` changes it.
    pub fn default_padding_alignment(&self) -> usize {
        match self {
            Self::Aead(aead) if aead.spec().encrypts => 16,
            _ => self.block_len().max(4),
        }
    }
}
