//! AES-CBC (RFC 3602) and ENCR_NULL (RFC 2410).

use alloc::boxed::Box;

use aes::cipher::array::Array;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use aes::{Aes128, Aes256};

use crate::cipher::{Cipher, CipherAlgorithm, CipherSpec};
use crate::{CryptoError, iana};

const AES_BLOCK: usize = 16;

/// AES in CBC mode with the key size of `C` (RFC 3602).
pub(crate) struct AesCbc<C> {
    spec: CipherSpec,
    marker: core::marker::PhantomData<fn() -> C>,
}

impl<C> core::fmt::Debug for AesCbc<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AesCbc").field("spec", &self.spec).finish()
    }
}

impl<C> AesCbc<C> {
    const fn new(key_bits: u16) -> Self {
        Self {
            spec: CipherSpec {
                id: iana::ENCR_AES_CBC,
                key_bits,
                salt_len: 0,
                block_len: AES_BLOCK,
                iv_len: AES_BLOCK,
                unique_iv: false,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// ENCR_AES_CBC with a 128-bit key.
pub(crate) static AES_128_CBC: AesCbc<Aes128> = AesCbc::new(128);
/// ENCR_AES_CBC with a 192-bit key.
pub(crate) static AES_192_CBC: AesCbc<aes::Aes192> = AesCbc::new(192);
/// ENCR_AES_CBC with a 256-bit key.
pub(crate) static AES_256_CBC: AesCbc<Aes256> = AesCbc::new(256);

impl<C> CipherAlgorithm for AesCbc<C>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16>
        + KeyInit
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn spec(&self) -> CipherSpec {
        self.spec
    }

    fn new_key(&self, key: &[u8]) -> Result<Box<dyn Cipher>, CryptoError> {
        let cipher = C::new_from_slice(key).map_err(|_| CryptoError::KeyLength {
            expected: self.spec.key_len(),
            actual: key.len(),
        })?;
        Ok(Box::new(Keyed {
            spec: self.spec,
            cipher,
        }))
    }
}

/// The expanded key; RustCrypto's AES zeroizes its round keys on drop (feature `zeroize`).
struct Keyed<C> {
    spec: CipherSpec,
    cipher: C,
}

fn blocks(buf: &mut [u8]) -> Result<&mut [aes::Block], CryptoError> {
    let (blocks, rest) = Array::slice_as_chunks_mut(buf);
    if !rest.is_empty() {
        return Err(CryptoError::BufferLength {
            actual: buf_len(blocks, rest),
            reason: "not a whole number of cipher blocks",
        });
    }
    Ok(blocks)
}

fn buf_len(blocks: &[aes::Block], rest: &[u8]) -> usize {
    blocks.len() * AES_BLOCK + rest.len()
}

fn iv(iv: &[u8]) -> Result<&aes::Block, CryptoError> {
    <&aes::Block>::try_from(iv).map_err(|_| CryptoError::BufferLength {
        actual: iv.len(),
        reason: "the IV must be one block",
    })
}

impl<C> Cipher for Keyed<C>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16>
        + Clone
        + Send
        + Sync,
{
    fn spec(&self) -> CipherSpec {
        self.spec
    }

    fn encrypt_in_place(&self, iv_bytes: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let iv = iv(iv_bytes)?;
        let blocks = blocks(buf)?;
        cbc::Encryptor::<C>::inner_iv_init(self.cipher.clone(), iv).encrypt_blocks(blocks);
        Ok(())
    }

    fn decrypt_in_place(&self, iv_bytes: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let iv = iv(iv_bytes)?;
        let blocks = blocks(buf)?;
        cbc::Decryptor::<C>::inner_iv_init(self.cipher.clone(), iv).decrypt_blocks(blocks);
        Ok(())
    }
}

/// ENCR_NULL (RFC 2410): no confidentiality, only with an integrity algorithm in ESP.
#[derive(Debug)]
pub(crate) struct NullCipher;

/// ENCR_NULL.
pub(crate) static NULL_CIPHER: NullCipher = NullCipher;

const NULL_SPEC: CipherSpec = CipherSpec {
    id: iana::ENCR_NULL,
    key_bits: 0,
    salt_len: 0,
    block_len: 1,
    iv_len: 0,
    unique_iv: true,
};

impl CipherAlgorithm for NullCipher {
    fn spec(&self) -> CipherSpec {
        NULL_SPEC
    }

    fn new_key(&self, key: &[u8]) -> Result<Box<dyn Cipher>, CryptoError> {
        if !key.is_empty() {
            return Err(CryptoError::KeyLength {
                expected: 0,
                actual: key.len(),
            });
        }
        Ok(Box::new(NullCipher))
    }
}

impl Cipher for NullCipher {
    fn spec(&self) -> CipherSpec {
        NULL_SPEC
    }

    fn encrypt_in_place(&self, _iv: &[u8], _buf: &mut [u8]) -> Result<(), CryptoError> {
        Ok(())
    }

    fn decrypt_in_place(&self, _iv: &[u8], _buf: &mut [u8]) -> Result<(), CryptoError> {
        Ok(())
    }
}
