//! AES-GCM with a 16-byte ICV (RFC 4106, RFC 5282) and ChaCha20-Poly1305 (RFC 7634) from
//! RustCrypto.

use alloc::boxed::Box;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;

use crate::aead::{
    AEAD_IV_LEN, AEAD_SALT_LEN, Aead, AeadAlgorithm, AeadSpec, nonce, split_icv, split_keymat,
};
use crate::{CryptoError, iana};

/// A RustCrypto AEAD with a 16-byte tag and a 12-byte nonce.
pub(crate) struct RustCryptoAead<C> {
    spec: AeadSpec,
    marker: core::marker::PhantomData<fn() -> C>,
}

impl<C> core::fmt::Debug for RustCryptoAead<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RustCryptoAead")
            .field("spec", &self.spec)
            .finish()
    }
}

impl<C> RustCryptoAead<C> {
    const fn new(id: u16, key_bits: u16) -> Self {
        Self {
            spec: AeadSpec {
                id,
                key_bits,
                icv_len: 16,
                encrypts: true,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// ENCR_AES_GCM_16 with a 128-bit key.
pub(crate) static AES_128_GCM: RustCryptoAead<Aes128Gcm> =
    RustCryptoAead::new(iana::ENCR_AES_GCM_16, 128);
/// ENCR_AES_GCM_16 with a 256-bit key.
pub(crate) static AES_256_GCM: RustCryptoAead<Aes256Gcm> =
    RustCryptoAead::new(iana::ENCR_AES_GCM_16, 256);
/// ENCR_CHACHA20_POLY1305 (256-bit key).
pub(crate) static CHACHA20_POLY1305: RustCryptoAead<ChaCha20Poly1305> =
    RustCryptoAead::new(iana::ENCR_CHACHA20_POLY1305, 256);

impl<C> AeadAlgorithm for RustCryptoAead<C>
where
    C: AeadInOut<NonceSize = U12, TagSize = U16> + KeyInit + Send + Sync + 'static,
{
    fn spec(&self) -> AeadSpec {
        self.spec
    }

    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Aead>, CryptoError> {
        let (key, salt) = split_keymat(&self.spec, keymat)?;
        let cipher = C::new_from_slice(key).map_err(|_| CryptoError::KeyLength {
            expected: self.spec.keymat_len(),
            actual: keymat.len(),
        })?;
        Ok(Box::new(Keyed {
            spec: self.spec,
            cipher,
            salt,
        }))
    }
}

struct Keyed<C> {
    spec: AeadSpec,
    cipher: C,
    salt: [u8; AEAD_SALT_LEN],
}

impl<C> Drop for Keyed<C> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.salt);
    }
}

impl<C> Aead for Keyed<C>
where
    C: AeadInOut<NonceSize = U12, TagSize = U16> + Send + Sync,
{
    fn spec(&self) -> AeadSpec {
        self.spec
    }

    fn seal_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let (data, icv) = split_icv(in_out, self.spec.icv_len)?;
        let nonce = nonce(&self.salt, iv);
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce.into(), aad, data.into())
            .map_err(|_| CryptoError::BufferLength {
                actual: data.len(),
                reason: "too long for the AEAD",
            })?;
        icv.copy_from_slice(&tag);
        Ok(())
    }

    fn open_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let (data, icv) = split_icv(in_out, self.spec.icv_len)?;
        let nonce = nonce(&self.salt, iv);
        let tag = <[u8; 16]>::try_from(&*icv).map_err(|_| CryptoError::IntegrityCheckFailed)?;
        self.cipher
            .decrypt_inout_detached(&nonce.into(), aad, data.into(), &tag.into())
            .map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}
