//! AES-XCBC-MAC-96 for ESP, AH and IKE integrity (RFC 3566) and AES-XCBC-PRF-128 for IKE
//! (RFC 4434), on RustCrypto's AES block cipher.

use alloc::boxed::Box;

// XCBC runs AES forward only: the encrypt-only key schedule is half the size.
use aes::Aes128Enc as Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroize;

use crate::integrity::{
    Integrity, IntegrityAlgorithm, IntegritySpec, verify_truncated, write_truncated,
};
use crate::prf::{Prf, PrfSpec};
use crate::{CryptoError, iana};

/// The AES block, the key length and the PRF's output length.
const BLOCK: usize = 16;
/// The truncated ICV of AES-XCBC-MAC-96 (RFC 3566 §2.4).
const ICV_LEN: usize = 12;

/// The three keys derived from the user's key K (RFC 3566 §4): K1 keys the CBC-MAC, K2 or K3
/// is mixed into the last block.
struct XcbcKey {
    k1: Aes128,
    k2: [u8; BLOCK],
    k3: [u8; BLOCK],
}

impl Drop for XcbcKey {
    fn drop(&mut self) {
        self.k2.zeroize();
        self.k3.zeroize();
    }
}

impl XcbcKey {
    /// K1 = E(K, 0x01...), K2 = E(K, 0x02...), K3 = E(K, 0x03...) (RFC 3566 §4, step 1).
    fn new(key: &[u8; BLOCK]) -> Self {
        let k = Aes128::new(key.into());
        let derive = |byte: u8| {
            let mut block = aes::Block::from([byte; BLOCK]);
            k.encrypt_block(&mut block);
            <[u8; BLOCK]>::from(block)
        };
        let mut k1 = derive(1);
        let key = Self {
            k1: Aes128::new(&k1.into()),
            k2: derive(2),
            k3: derive(3),
        };
        k1.zeroize();
        key
    }

    /// The full 128-bit MAC over the concatenation of `parts` (RFC 3566 §4, steps 2-3): every
    /// block but the last is chained through K1; the last, if complete, is XORed with K2,
    /// otherwise padded with 0x80 0x00... and XORed with K3. An empty message is one
    /// incomplete block.
    fn mac(&self, parts: &[&[u8]]) -> [u8; BLOCK] {
        let mut state = aes::Block::default();
        let mut pending = [0u8; BLOCK];
        let mut filled = 0usize;
        for part in parts {
            let mut rest: &[u8] = part;
            while !rest.is_empty() {
                if filled == BLOCK {
                    self.chain(&mut state, &pending);
                    filled = 0;
                }
                let take = rest.len().min(BLOCK - filled);
                let (head, tail) = rest.split_at(take);
                if let Some(slot) = pending.get_mut(filled..filled + take) {
                    slot.copy_from_slice(head);
                }
                filled += take;
                rest = tail;
            }
        }
        let last_key = if filled == BLOCK {
            &self.k2
        } else {
            if let Some(pad) = pending.get_mut(filled..) {
                pad.fill(0);
                if let Some(first) = pad.first_mut() {
                    *first = 0x80;
                }
            }
            &self.k3
        };
        for (byte, key) in pending.iter_mut().zip(last_key) {
            *byte ^= key;
        }
        self.chain(&mut state, &pending);
        pending.zeroize();
        state.into()
    }

    /// E = E(K1, E XOR block).
    fn chain(&self, state: &mut aes::Block, block: &[u8; BLOCK]) {
        for (s, b) in state.iter_mut().zip(block) {
            *s ^= b;
        }
        self.k1.encrypt_block(state);
    }
}

/// AUTH_AES_XCBC_96 (RFC 3566): a 128-bit key, the MAC truncated to 96 bits.
#[derive(Debug)]
pub(crate) struct XcbcIntegrity;

/// AUTH_AES_XCBC_96.
pub(crate) static AES_XCBC_96: XcbcIntegrity = XcbcIntegrity;

const INTEGRITY_SPEC: IntegritySpec = IntegritySpec {
    id: iana::AUTH_AES_XCBC_96,
    key_len: BLOCK,
    icv_len: ICV_LEN,
    iv_len: 0,
};

impl IntegrityAlgorithm for XcbcIntegrity {
    fn spec(&self) -> IntegritySpec {
        INTEGRITY_SPEC
    }

    fn new_key(&self, key: &[u8]) -> Result<Box<dyn Integrity>, CryptoError> {
        let key = <&[u8; BLOCK]>::try_from(key).map_err(|_| CryptoError::KeyLength {
            expected: BLOCK,
            actual: key.len(),
        })?;
        Ok(Box::new(XcbcKey::new(key)))
    }
}

impl Integrity for XcbcKey {
    fn spec(&self) -> IntegritySpec {
        INTEGRITY_SPEC
    }

    fn compute(&self, parts: &[&[u8]], icv: &mut [u8]) -> Result<(), CryptoError> {
        write_truncated(&self.mac(parts), ICV_LEN, icv)
    }

    fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError> {
        verify_truncated(&self.mac(parts), ICV_LEN, icv)
    }
}

/// PRF_AES128_XCBC (RFC 4434): AES-XCBC-MAC with the full 128-bit output, taking a key of
/// any length.
#[derive(Debug)]
pub(crate) struct XcbcPrf;

/// PRF_AES128_XCBC.
pub(crate) static PRF_AES128_XCBC: XcbcPrf = XcbcPrf;

impl Prf for XcbcPrf {
    fn spec(&self) -> PrfSpec {
        PrfSpec {
            id: iana::PRF_AES128_XCBC,
            output_len: BLOCK,
            fixed_key: true,
        }
    }

    /// RFC 4434 §2: a key shorter than 128 bits is padded with zero bits; a longer one is
    /// first reduced to 128 bits by AES-XCBC-PRF-128 under the all-zero key.
    fn compute(&self, key: &[u8], parts: &[&[u8]], out: &mut [u8]) -> Result<(), CryptoError> {
        let out_len = out.len();
        let out: &mut [u8; BLOCK] = out.try_into().map_err(|_| CryptoError::BufferLength {
            actual: out_len,
            reason: "not the PRF's output length",
        })?;
        let mut sized = [0u8; BLOCK];
        if key.len() <= BLOCK {
            sized
                .get_mut(..key.len())
                .unwrap_or_default()
                .copy_from_slice(key);
        } else {
            sized = XcbcKey::new(&[0; BLOCK]).mac(&[key]);
        }
        *out = XcbcKey::new(&sized).mac(parts);
        sized.zeroize();
        Ok(())
    }
}
