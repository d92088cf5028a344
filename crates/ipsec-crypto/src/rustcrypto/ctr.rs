//! AES in counter mode for ESP (RFC 3686) and IKE (RFC 5930).

use alloc::boxed::Box;

use aes::cipher::{BlockCipherEncrypt, InnerIvInit, KeyInit, StreamCipher};
// CTR runs AES forward only: the encrypt-only key schedules are half the size.
use aes::{Aes128Enc as Aes128, Aes192Enc as Aes192, Aes256Enc as Aes256};
use zeroize::Zeroize;

use crate::cipher::{Cipher, CipherAlgorithm, CipherSpec};
use crate::{CryptoError, iana};

/// Length of the nonce at the end of the keying material (RFC 3686 §5.1).
const NONCE_LEN: usize = 4;
/// Length of the IV in each packet (RFC 3686 §3.1).
const IV_LEN: usize = 8;

/// AES-CTR with the key size of `C`: the counter block is `nonce || iv || counter`, the
/// 32-bit block counter starting at one for each packet (RFC 3686 §4).
pub(crate) struct AesCtr<C> {
    spec: CipherSpec,
    marker: core::marker::PhantomData<fn() -> C>,
}

impl<C> core::fmt::Debug for AesCtr<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AesCtr").field("spec", &self.spec).finish()
    }
}

impl<C> AesCtr<C> {
    const fn new(key_bits: u16) -> Self {
        Self {
            spec: CipherSpec {
                id: iana::ENCR_AES_CTR,
                key_bits,
                salt_len: NONCE_LEN,
                // A stream cipher: ESP still pads to four octets (RFC 4303 §2.4).
                block_len: 1,
                iv_len: IV_LEN,
                unique_iv: true,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// ENCR_AES_CTR with a 128-bit key.
pub(crate) static AES_128_CTR: AesCtr<Aes128> = AesCtr::new(128);
/// ENCR_AES_CTR with a 192-bit key.
pub(crate) static AES_192_CTR: AesCtr<Aes192> = AesCtr::new(192);
/// ENCR_AES_CTR with a 256-bit key.
pub(crate) static AES_256_CTR: AesCtr<Aes256> = AesCtr::new(256);

impl<C> CipherAlgorithm for AesCtr<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + KeyInit
        + Clone
        + Send
        + Sync
        + 'static,
{
    fn spec(&self) -> CipherSpec {
        self.spec
    }

    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Cipher>, CryptoError> {
        let wrong_length = CryptoError::KeyLength {
            expected: self.spec.keymat_len(),
            actual: keymat.len(),
        };
        if keymat.len() != self.spec.keymat_len() {
            return Err(wrong_length);
        }
        let (key, nonce) = keymat.split_at(self.spec.key_len());
        let nonce = <[u8; NONCE_LEN]>::try_from(nonce).map_err(|_| wrong_length)?;
        let cipher = C::new_from_slice(key).map_err(|_| wrong_length)?;
        Ok(Box::new(Keyed {
            spec: self.spec,
            cipher,
            nonce,
        }))
    }
}

/// The expanded key (wiped by the AES crate) and the nonce (wiped here).
struct Keyed<C> {
    spec: CipherSpec,
    cipher: C,
    nonce: [u8; NONCE_LEN],
}

impl<C> Drop for Keyed<C> {
    fn drop(&mut self) {
        self.nonce.zeroize();
    }
}

impl<C> Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + Clone,
{
    /// XORs the key stream for `iv` into `buf` (encryption and decryption alike).
    fn apply(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let iv = <&[u8; IV_LEN]>::try_from(iv).map_err(|_| CryptoError::BufferLength {
            actual: iv.len(),
            reason: "the AES-CTR IV is eight octets",
        })?;
        let mut block = aes::Block::default();
        let (nonce, rest) = block.split_at_mut(NONCE_LEN);
        let (explicit, counter) = rest.split_at_mut(IV_LEN);
        nonce.copy_from_slice(&self.nonce);
        explicit.copy_from_slice(iv);
        counter.copy_from_slice(&1u32.to_be_bytes());
        let mut stream = ctr::Ctr32BE::from_core(ctr::CtrCore::inner_iv_init(&self.cipher, &block));
        block.zeroize();
        stream
            .try_apply_keystream(buf)
            .map_err(|_| CryptoError::BufferLength {
                actual: buf.len(),
                reason: "longer than the 32-bit block counter allows",
            })
    }
}

impl<C> Cipher for Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + Clone + Send + Sync,
{
    fn spec(&self) -> CipherSpec {
        self.spec
    }

    fn encrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        self.apply(iv, buf)
    }

    fn decrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        self.apply(iv, buf)
    }
}
