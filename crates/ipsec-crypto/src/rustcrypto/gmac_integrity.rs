//! AUTH_AES_128_GMAC and AUTH_AES_256_GMAC (RFC 4543 §4): AES-GMAC as an AH integrity
//! algorithm, computed over the packet in parts without copying it.
//!
//! In AH the Authentication Data field holds an 8-byte IV followed by the 16-byte GMAC tag
//! (RFC 4543 §4, Figure 5). The GMAC nonce is the 4-byte salt that ends the keying material
//! followed by that IV (§3.2, §5.4), and the AAD is the whole packet as AH authenticates it
//! (RFC 4302 §3.3.3), the IV in its place and the tag zeroed: "In AUTH_AES_GMAC, the IV is
//! included in the additional authenticated data" (RFC 4543 §7).
//!
//! The [`Integrity`] trait has no IV argument, so these objects take the IV as the **first
//! part**: `parts[0]` must be exactly the 8-byte IV; it forms the nonce and is not itself
//! hashed. The AAD is the concatenation of `parts[1..]`. The ICV is the 16-byte tag, never
//! truncated (§3.4).
//!
//! These transforms are for AH only: "This transform MUST NOT be used with ESP" (RFC 4543
//! §5.3); ESP uses ENCR_NULL_AUTH_AES_GMAC (`gmac.rs`) instead.

use alloc::boxed::Box;

use aes::cipher::{BlockCipherEncrypt, KeyInit};
// GMAC runs AES forward only: the encrypt-only key schedules are half the size.
use aes::{Aes128Enc as Aes128, Aes256Enc as Aes256};
use subtle::ConstantTimeEq;

use super::gmac_core::{BLOCK, GmacKey, IV_LEN, SALT_LEN};

use crate::CryptoError;
use crate::integrity::{Integrity, IntegrityAlgorithm, IntegritySpec};

/// IANA Transform Type 3 ID of AUTH_AES_128_GMAC (RFC 4543 §9).
const AUTH_AES_128_GMAC_ID: u16 = 9;
/// IANA Transform Type 3 ID of AUTH_AES_256_GMAC (RFC 4543 §9).
const AUTH_AES_256_GMAC_ID: u16 = 11;

/// AUTH_AES_GMAC with an AES key of `C`.
pub(crate) struct AhGmac<C> {
    spec: IntegritySpec,
    marker: core::marker::PhantomData<fn() -> C>,
}

impl<C> core::fmt::Debug for AhGmac<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AhGmac").field("spec", &self.spec).finish()
    }
}

impl<C> AhGmac<C> {
    /// `key_len` is the AES key length; the keying material is four bytes longer (the salt,
    /// RFC 4543 §5.4).
    const fn new(id: u16, key_len: usize) -> Self {
        Self {
            spec: IntegritySpec {
                id,
                key_len: key_len + SALT_LEN,
                icv_len: BLOCK,
                iv_len: IV_LEN,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// AUTH_AES_128_GMAC: 20 bytes of keying material (16-byte key, 4-byte salt).
pub(crate) static AUTH_AES_128_GMAC: AhGmac<Aes128> = AhGmac::new(AUTH_AES_128_GMAC_ID, 16);
/// AUTH_AES_256_GMAC: 36 bytes of keying material (32-byte key, 4-byte salt).
pub(crate) static AUTH_AES_256_GMAC: AhGmac<Aes256> = AhGmac::new(AUTH_AES_256_GMAC_ID, 32);

impl<C> IntegrityAlgorithm for AhGmac<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit + Send + Sync + 'static,
{
    fn spec(&self) -> IntegritySpec {
        self.spec
    }

    /// Keys the algorithm with `key || salt` (RFC 4543 §5.4).
    fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Integrity>, CryptoError> {
        let wrong_length = CryptoError::KeyLength {
            expected: self.spec.key_len,
            actual: keymat.len(),
        };
        if keymat.len() != self.spec.key_len {
            return Err(wrong_length);
        }
        Ok(Box::new(Keyed {
            spec: self.spec,
            key: GmacKey::<C>::new(keymat, wrong_length)?,
        }))
    }
}

struct Keyed<C> {
    spec: IntegritySpec,
    key: GmacKey<C>,
}

impl<C> Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
{
    /// The tag over the AAD `parts[1..]` with the nonce `salt || parts[0]` (RFC 4543 §3.2,
    /// §4).
    fn tag(&self, parts: &[&[u8]]) -> Result<[u8; BLOCK], CryptoError> {
        let invalid = CryptoError::BufferLength {
            actual: parts.first().map_or(0, |iv| iv.len()),
            reason: "AUTH_AES_GMAC takes the 8-byte IV as its first part",
        };
        let (iv, aad) = parts.split_first().ok_or(invalid)?;
        let iv = <&[u8; IV_LEN]>::try_from(*iv).map_err(|_| invalid)?;
        Ok(self.key.tag(iv, aad))
    }
}

impl<C> Integrity for Keyed<C>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit + Send + Sync,
{
    fn spec(&self) -> IntegritySpec {
        self.spec
    }

    /// Writes the 16-byte tag; `parts[0]` is the IV, `parts[1..]` the AAD.
    fn compute(&self, parts: &[&[u8]], icv: &mut [u8]) -> Result<(), CryptoError> {
        if icv.len() != BLOCK {
            return Err(CryptoError::BufferLength {
                actual: icv.len(),
                reason: "not the ICV length",
            });
        }
        icv.copy_from_slice(&self.tag(parts)?);
        Ok(())
    }

    /// Checks the 16-byte tag in constant time; `parts[0]` is the IV, `parts[1..]` the AAD.
    fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError> {
        let tag = self.tag(parts)?;
        if bool::from(tag.as_slice().ct_eq(icv)) {
            Ok(())
        } else {
            Err(CryptoError::IntegrityCheckFailed)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use alloc::vec::Vec;

    use super::{AUTH_AES_128_GMAC, AUTH_AES_256_GMAC};
    use crate::CryptoError;
    use crate::integrity::IntegrityAlgorithm;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    /// GMAC vectors from `tests/data/aes_gmac.txt` (NIST CAVP; draft-mcgrew-gcm-test-01),
    /// their 12-byte nonce split into the salt (end of the keying material) and the IV
    /// (first part), the AAD cut into parts at every length.
    #[test]
    fn gmac_known_answers_with_the_nonce_split_into_salt_and_iv() {
        for (key, nonce, aad, tag) in [
            (
                "77be63708971c4e240d1cb79e8d77feb",
                "e0e00f19fed7ba0136a797f3",
                "7a43ec1d9c0a5a78a0b16533a6213cab",
                "209fcc8d3675ed938e9c7166709dd946",
            ),
            (
                "4c80cdefbb5d10da906ac73c3613a634",
                "22433c640000000000000000",
                "0000432100000007000000000000000045000030da3a00008001df3bc0a80005c0a80001\
                 0800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201",
                "f2a9a836e155106aa8dcd618e4099aaa",
            ),
        ] {
            let (nonce, aad, tag) = (hex(nonce), hex(aad), hex(tag));
            let mut keymat = hex(key);
            keymat.extend(&nonce[..4]);
            let integrity = AUTH_AES_128_GMAC.new_key(&keymat).unwrap();
            for cut in 0..=aad.len() {
                let (head, tail) = aad.split_at(cut);
                let parts: [&[u8]; 3] = [&nonce[4..], head, tail];
                let mut icv = [0u8; 16];
                integrity.compute(&parts, &mut icv).unwrap();
                assert_eq!(&icv[..], &tag[..]);
                integrity.verify(&parts, &icv).unwrap();
                icv[15] ^= 1;
                assert_eq!(
                    integrity.verify(&parts, &icv),
                    Err(CryptoError::IntegrityCheckFailed)
                );
            }
        }
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(AUTH_AES_128_GMAC.spec().key_len, 20);
        assert_eq!(AUTH_AES_256_GMAC.spec().key_len, 36);
        assert!(AUTH_AES_256_GMAC.new_key(&[0; 32]).is_err());
        let integrity = AUTH_AES_256_GMAC.new_key(&[0; 36]).unwrap();
        let mut icv = [0u8; 16];
        // The first part must be the 8-byte IV.
        assert!(integrity.compute(&[], &mut icv).is_err());
        assert!(integrity.compute(&[&[0; 12], b"aad"], &mut icv).is_err());
        assert!(
            integrity
                .compute(&[&[0; 8], b"aad"], &mut [0u8; 12])
                .is_err()
        );
        integrity.compute(&[&[0; 8], b"aad"], &mut icv).unwrap();
    }
}
