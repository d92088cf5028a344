//! AES-GMAC over data given in parts (NIST SP 800-38D with an empty plaintext), shared by
//! ESP's ENCR_NULL_AUTH_AES_GMAC and AH's AUTH_AES_GMAC (RFC 4543).

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;

use crate::CryptoError;

/// The block and tag length.
pub(crate) const BLOCK: usize = 16;
/// Length of the salt at the end of the keying material (RFC 4543 §5.4, §8).
pub(crate) const SALT_LEN: usize = 4;
/// Length of the explicit IV (RFC 4543 §3.1).
pub(crate) const IV_LEN: usize = 8;

/// An AES key with its GHASH key and salt; the derived material is wiped on drop (the AES
/// key schedule wipes itself).
pub(crate) struct GmacKey<C> {
    cipher: C,
    hash_key: [u8; BLOCK],
    salt: [u8; SALT_LEN],
}

impl<C> Drop for GmacKey<C> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.hash_key);
        zeroize::Zeroize::zeroize(&mut self.salt);
    }
}

impl<C> GmacKey<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
{
    /// Keys GMAC with `key || salt`; `wrong_length` is the error for keying material of the
    /// wrong length.
    pub(crate) fn new(keymat: &[u8], wrong_length: CryptoError) -> Result<Self, CryptoError> {
        let key_len = keymat.len().checked_sub(SALT_LEN).ok_or(wrong_length)?;
        let (key, salt) = keymat.split_at(key_len);
        let salt = <[u8; SALT_LEN]>::try_from(salt).map_err(|_| wrong_length)?;
        let cipher = C::new_from_slice(key).map_err(|_| wrong_length)?;
        let mut h = aes::Block::default();
        cipher.encrypt_block(&mut h);
        Ok(Self {
            cipher,
            hash_key: h.into(),
            salt,
        })
    }

    /// The tag over the concatenation of `parts` as AAD with the nonce `salt || iv`:
    /// `GHASH_H(A || len) XOR E_K(J0)`, `J0 = salt || iv || 0^31 || 1`.
    pub(crate) fn tag(&self, iv: &[u8; IV_LEN], parts: &[&[u8]]) -> [u8; BLOCK] {
        let mut stream = Stream {
            ghash: GHash::new(&self.hash_key.into()),
            pending: [0; BLOCK],
            filled: 0,
            total: 0,
        };
        for part in parts {
            stream.feed(part);
        }
        let mut tag = stream.finish();
        let mut counter = [0u8; BLOCK];
        if let Some(salt) = counter.get_mut(..SALT_LEN) {
            salt.copy_from_slice(&self.salt);
        }
        if let Some(slot) = counter.get_mut(SALT_LEN..SALT_LEN + IV_LEN) {
            slot.copy_from_slice(iv);
        }
        if let Some(last) = counter.last_mut() {
            *last = 1;
        }
        let mut mask = counter.into();
        self.cipher.encrypt_block(&mut mask);
        for (t, m) in tag.iter_mut().zip(mask.iter()) {
            *t ^= m;
        }
        tag
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
