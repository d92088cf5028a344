//! ENCR_NULL_AUTH_AES_GMAC (RFC 4543): AES-GCM that authenticates everything and encrypts
//! nothing, computed over the packet in parts without copying it.

use alloc::boxed::Box;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
// GMAC runs AES forward only: the encrypt-only key schedules are half the size.
use aes::{Aes128Enc as Aes128, Aes256Enc as Aes256};
use subtle::ConstantTimeEq;

use super::gmac_core::{BLOCK, GmacKey};
use crate::aead::{AEAD_IV_LEN, Aead, AeadAlgorithm, AeadSpec, split_icv};
use crate::{CryptoError, iana};

/// ENCR_NULL_AUTH_AES_GMAC with an AES key of `C`.
pub(crate) struct Gmac<C> {
    spec: AeadSpec,
    marker: core::marker::PhantomData<fn() -> C>,
}

impl<C> core::fmt::Debug for Gmac<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gmac").field("spec", &self.spec).finish()
    }
}

impl<C> Gmac<C> {
    const fn new(key_bits: u16) -> Self {
        Self {
            spec: AeadSpec {
                id: iana::ENCR_NULL_AUTH_AES_GMAC,
                key_bits,
                icv_len: BLOCK,
                salt_len: super::gmac_core::SALT_LEN,
                encrypts: false,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// ENCR_NULL_AUTH_AES_GMAC with a 128-bit key.
pub(crate) static AES_128_GMAC: Gmac<Aes128> = Gmac::new(128);
/// ENCR_NULL_AUTH_AES_GMAC with a 256-bit key.
pub(crate) static AES_256_GMAC: Gmac<Aes256> = Gmac::new(256);

impl<C> AeadAlgorithm for Gmac<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit + Send + Sync + 'static,
{
    fn spec(&self) -> AeadSpec {
        self.spec
    }

    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Aead>, CryptoError> {
        let wrong_length = CryptoError::KeyLength {
            expected: self.spec.keymat_len(),
            actual: keymat.len(),
        };
        if keymat.len() != self.spec.keymat_len() {
            return Err(wrong_length);
        }
        Ok(Box::new(Keyed {
            spec: self.spec,
            key: GmacKey::<C>::new(keymat, wrong_length)?,
        }))
    }
}

struct Keyed<C> {
    spec: AeadSpec,
    key: GmacKey<C>,
}

impl<C> Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
{
    /// The tag over `aad || iv || data` (RFC 4543 §3.2, §5).
    fn tag(&self, iv: &[u8; AEAD_IV_LEN], aad: &[u8], data: &[u8]) -> [u8; BLOCK] {
        self.key.tag(iv, &[aad, iv, data])
    }
}

impl<C> Aead for Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit + Send + Sync,
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
        let (data, icv) = split_icv(in_out, BLOCK)?;
        icv.copy_from_slice(&self.tag(iv, aad, data));
        Ok(())
    }

    fn open_in_place(
        &self,
        iv: &[u8; AEAD_IV_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<(), CryptoError> {
        let (data, icv) = split_icv(in_out, BLOCK)?;
        if bool::from(self.tag(iv, aad, data).ct_eq(&*icv)) {
            Ok(())
        } else {
            Err(CryptoError::IntegrityCheckFailed)
        }
    }
}
