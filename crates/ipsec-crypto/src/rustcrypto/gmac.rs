//! ENCR_NULL_AUTH_AES_GMAC (RFC 4543): AES-GCM that authenticates everything and encrypts
//! nothing, computed over the packet in parts without copying it.

use alloc::boxed::Box;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::{Aes128, Aes256};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use subtle::ConstantTimeEq;

use crate::aead::{
    AEAD_IV_LEN, AEAD_SALT_LEN, Aead, AeadAlgorithm, AeadSpec, nonce, split_icv, split_keymat,
};
use crate::{CryptoError, iana};

const BLOCK: usize = 16;

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
        let (key, salt) = split_keymat(&self.spec, keymat)?;
        let cipher = C::new_from_slice(key).map_err(|_| CryptoError::KeyLength {
            expected: self.spec.keymat_len(),
            actual: keymat.len(),
        })?;
        let mut h = aes::Block::default();
        cipher.encrypt_block(&mut h);
        Ok(Box::new(Keyed {
            spec: self.spec,
            cipher,
            hash_key: h.into(),
            salt,
        }))
    }
}

struct Keyed<C> {
    spec: AeadSpec,
    cipher: C,
    hash_key: [u8; BLOCK],
    salt: [u8; AEAD_SALT_LEN],
}

impl<C> Drop for Keyed<C> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.hash_key);
        zeroize::Zeroize::zeroize(&mut self.salt);
    }
}

/// GHASH over a stream of parts, buffering at most one partial block between them.
struct Stream {
    ghash: GHash,
    pending: [u8; BLOCK],
    filled: usize,
    total: u64,
}

impl Stream {
    fn feed(&mut self, mut data: &[u8]) {
        self.total = self.total.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let take = (BLOCK - self.filled).min(data.len());
            let (head, rest) = data.split_at(take);
            if let Some(slot) = self.pending.get_mut(self.filled..self.filled + take) {
                slot.copy_from_slice(head);
            }
            self.filled += take;
            data = rest;
            if self.filled < BLOCK {
                return;
            }
            self.ghash.update(&[self.pending.into()]);
            self.filled = 0;
        }
        let (blocks, tail) = data.as_chunks::<BLOCK>();
        for block in blocks {
            self.ghash.update(&[(*block).into()]);
        }
        if let Some(slot) = self.pending.get_mut(..tail.len()) {
            slot.copy_from_slice(tail);
        }
        self.filled = tail.len();
    }

    /// GHASH of the whole stream as AAD with an empty ciphertext (NIST SP 800-38D §7.1).
    fn finish(mut self) -> [u8; BLOCK] {
        if self.filled > 0 {
            self.ghash
                .update_padded(self.pending.get(..self.filled).unwrap_or_default());
        }
        let mut lengths = [0u8; BLOCK];
        if let Some(aad_bits) = lengths.get_mut(..8) {
            aad_bits.copy_from_slice(&self.total.wrapping_mul(8).to_be_bytes());
        }
        self.ghash.update(&[lengths.into()]);
        self.ghash.finalize().into()
    }
}

impl<C> Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>,
{
    /// The tag over `aad || iv || data` (RFC 4543 §3.2, §5).
    fn tag(&self, iv: &[u8; AEAD_IV_LEN], aad: &[u8], data: &[u8]) -> [u8; BLOCK] {
        let mut stream = Stream {
            ghash: GHash::new(&self.hash_key.into()),
            pending: [0; BLOCK],
            filled: 0,
            total: 0,
        };
        stream.feed(aad);
        stream.feed(iv);
        stream.feed(data);
        let mut tag = stream.finish();
        let mut counter = [0u8; BLOCK];
        if let Some(head) = counter.get_mut(..12) {
            head.copy_from_slice(&nonce(&self.salt, iv));
        }
        counter[BLOCK - 1] = 1;
        let mut mask = counter.into();
        self.cipher.encrypt_block(&mut mask);
        for (t, m) in tag.iter_mut().zip(mask.iter()) {
            *t ^= m;
        }
        tag
    }
}

impl<C> Aead for Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + Send + Sync,
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
