//! AES-GCM with 8-, 12- and 16-byte ICVs (RFC 4106, RFC 5282), AES-CCM with 8-, 12- and
//! 16-byte ICVs (RFC 4309, RFC 5282) and ChaCha20-Poly1305 (RFC 7634) from RustCrypto.

use alloc::boxed::Box;

// GCM and CCM run AES forward only: the encrypt-only key schedules are half the size
// (176 bytes less per AES-128 key), and an SA holds one per direction.
use aes::{Aes128Enc as Aes128, Aes192Enc as Aes192, Aes256Enc as Aes256};
use aes_gcm::AesGcm;
use aes_gcm::aead::array::ArraySize;
use aes_gcm::aead::consts::{U8, U11, U12, U16};
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce, Tag};
use ccm::Ccm;
use chacha20poly1305::ChaCha20Poly1305;

use crate::aead::{
    AEAD_IV_LEN, AEAD_SALT_LEN, Aead, AeadAlgorithm, AeadSpec, split_icv, split_keymat, write_nonce,
};
use crate::{CryptoError, iana};

/// A RustCrypto AEAD whose nonce is `salt || iv` and whose tag is the ICV.
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
    /// `icv_len` and `salt_len` must be `C`'s tag size and nonce size less the 8-byte IV;
    /// the test suite checks every table entry.
    const fn new(id: u16, key_bits: u16, icv_len: usize, salt_len: usize) -> Self {
        Self {
            spec: AeadSpec {
                id,
                key_bits,
                icv_len,
                salt_len,
                encrypts: true,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// AES-GCM with a 12-byte nonce and a tag of `T` bytes.
type Gcm<A, T> = AesGcm<A, U12, T>;
/// AES-CCM as IPsec uses it: an 11-byte nonce (3-byte salt, 8-byte IV) and a tag of `T`
/// bytes (RFC 4309 §4).
type IpsecCcm<A, T> = Ccm<A, T, U11>;

/// The GCM salt (RFC 4106 §4).
const GCM_SALT: usize = 4;
/// The CCM salt (RFC 4309 §4).
const CCM_SALT: usize = 3;

macro_rules! aead_statics {
    ($($(#[$doc:meta])* $name:ident: $ty:ty = ($id:expr, $bits:expr, $icv:expr, $salt:expr);)*) => {
        $(
            $(#[$doc])*
            pub(crate) static $name: RustCryptoAead<$ty> =
                RustCryptoAead::new($id, $bits, $icv, $salt);
        )*
    };
}

aead_statics! {
    /// ENCR_AES_GCM_16 with a 128-bit key.
    AES_128_GCM: Gcm<Aes128, U16> = (iana::ENCR_AES_GCM_16, 128, 16, GCM_SALT);
    /// ENCR_AES_GCM_16 with a 192-bit key.
    AES_192_GCM: Gcm<Aes192, U16> = (iana::ENCR_AES_GCM_16, 192, 16, GCM_SALT);
    /// ENCR_AES_GCM_16 with a 256-bit key.
    AES_256_GCM: Gcm<Aes256, U16> = (iana::ENCR_AES_GCM_16, 256, 16, GCM_SALT);
    /// ENCR_AES_GCM_12 with a 128-bit key.
    AES_128_GCM_12: Gcm<Aes128, U12> = (iana::ENCR_AES_GCM_12, 128, 12, GCM_SALT);
    /// ENCR_AES_GCM_12 with a 192-bit key.
    AES_192_GCM_12: Gcm<Aes192, U12> = (iana::ENCR_AES_GCM_12, 192, 12, GCM_SALT);
    /// ENCR_AES_GCM_12 with a 256-bit key.
    AES_256_GCM_12: Gcm<Aes256, U12> = (iana::ENCR_AES_GCM_12, 256, 12, GCM_SALT);
    /// ENCR_AES_GCM_8 with a 128-bit key (RFC 8221 §5: not recommended).
    AES_128_GCM_8: Gcm<Aes128, U8> = (iana::ENCR_AES_GCM_8, 128, 8, GCM_SALT);
    /// ENCR_AES_GCM_8 with a 192-bit key.
    AES_192_GCM_8: Gcm<Aes192, U8> = (iana::ENCR_AES_GCM_8, 192, 8, GCM_SALT);
    /// ENCR_AES_GCM_8 with a 256-bit key.
    AES_256_GCM_8: Gcm<Aes256, U8> = (iana::ENCR_AES_GCM_8, 256, 8, GCM_SALT);
    /// ENCR_AES_CCM_16 with a 128-bit key.
    AES_128_CCM_16: IpsecCcm<Aes128, U16> = (iana::ENCR_AES_CCM_16, 128, 16, CCM_SALT);
    /// ENCR_AES_CCM_16 with a 192-bit key.
    AES_192_CCM_16: IpsecCcm<Aes192, U16> = (iana::ENCR_AES_CCM_16, 192, 16, CCM_SALT);
    /// ENCR_AES_CCM_16 with a 256-bit key.
    AES_256_CCM_16: IpsecCcm<Aes256, U16> = (iana::ENCR_AES_CCM_16, 256, 16, CCM_SALT);
    /// ENCR_AES_CCM_12 with a 128-bit key.
    AES_128_CCM_12: IpsecCcm<Aes128, U12> = (iana::ENCR_AES_CCM_12, 128, 12, CCM_SALT);
    /// ENCR_AES_CCM_12 with a 192-bit key.
    AES_192_CCM_12: IpsecCcm<Aes192, U12> = (iana::ENCR_AES_CCM_12, 192, 12, CCM_SALT);
    /// ENCR_AES_CCM_12 with a 256-bit key.
    AES_256_CCM_12: IpsecCcm<Aes256, U12> = (iana::ENCR_AES_CCM_12, 256, 12, CCM_SALT);
    /// ENCR_AES_CCM_8 with a 128-bit key (RFC 8221 §5: MAY, for constrained devices).
    AES_128_CCM_8: IpsecCcm<Aes128, U8> = (iana::ENCR_AES_CCM_8, 128, 8, CCM_SALT);
    /// ENCR_AES_CCM_8 with a 192-bit key.
    AES_192_CCM_8: IpsecCcm<Aes192, U8> = (iana::ENCR_AES_CCM_8, 192, 8, CCM_SALT);
    /// ENCR_AES_CCM_8 with a 256-bit key.
    AES_256_CCM_8: IpsecCcm<Aes256, U8> = (iana::ENCR_AES_CCM_8, 256, 8, CCM_SALT);
    /// ENCR_CHACHA20_POLY1305 (256-bit key).
    CHACHA20_POLY1305: ChaCha20Poly1305 = (iana::ENCR_CHACHA20_POLY1305, 256, 16, GCM_SALT);
}

impl<C> AeadAlgorithm for RustCryptoAead<C>
where
    C: AeadInOut + KeyInit + Send + Sync + 'static,
    C::TagSize: ArraySize,
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

impl<C: AeadInOut> Keyed<C> {
    fn nonce(&self, iv: &[u8; AEAD_IV_LEN]) -> Result<Nonce<C>, CryptoError> {
        let mut nonce = Nonce::<C>::default();
        write_nonce(&self.salt, iv, &mut nonce)?;
        Ok(nonce)
    }
}

impl<C> Aead for Keyed<C>
where
    C: AeadInOut + Send + Sync,
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
        let nonce = self.nonce(iv)?;
        let tag = self
            .cipher
            .encrypt_inout_detached(&nonce, aad, data.into())
            .map_err(|_| CryptoError::BufferLength {
                actual: data.len(),
                reason: "too long for the AEAD",
            })?;
        if icv.len() != tag.len() {
            return Err(CryptoError::BufferLength {
                actual: icv.len(),
                reason: "not the AEAD's tag length",
            });
        }
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
        let nonce = self.nonce(iv)?;
        let tag = Tag::<C>::try_from(&*icv).map_err(|_| CryptoError::IntegrityCheckFailed)?;
        self.cipher
            .decrypt_inout_detached(&nonce, aad, data.into(), &tag)
            .map_err(|_| CryptoError::IntegrityCheckFailed)
    }
}
