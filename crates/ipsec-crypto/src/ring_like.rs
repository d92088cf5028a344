//! AEADs from ring and from aws-lc-rs, which share ring's API: `LessSafeKey` with a
//! 12-byte nonce `salt || IV` (RFC 4106 §4, RFC 7634 §2). Only their 16-byte tags: the
//! shorter ICVs and AES-CCM come from RustCrypto in these providers too.

/// Defines a provider module's three AEADs over a crate with ring's `aead` API.
macro_rules! ring_like_aeads {
    ($krate:ident, $label:literal) => {
        use alloc::boxed::Box;

        use $krate::aead::{Aad, LessSafeKey, Nonce, UnboundKey};

        use crate::aead::{
            AEAD_IV_LEN, AEAD_SALT_LEN, Aead, AeadAlgorithm, AeadSpec, nonce, split_icv,
            split_keymat,
        };
        use crate::{CryptoError, iana};

        #[doc = concat!("An AEAD of ", $label, ".")]
        pub(crate) struct RingLikeAead {
            spec: AeadSpec,
            algorithm: &'static $krate::aead::Algorithm,
        }

        impl core::fmt::Debug for RingLikeAead {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(concat!($label, " AEAD"))
                    .field("spec", &self.spec)
                    .finish()
            }
        }

        const fn spec(id: u16, key_bits: u16) -> AeadSpec {
            AeadSpec {
                id,
                key_bits,
                icv_len: 16,
                salt_len: AEAD_SALT_LEN,
                encrypts: true,
            }
        }

        /// ENCR_AES_GCM_16 with a 128-bit key.
        pub(crate) static AES_128_GCM: RingLikeAead = RingLikeAead {
            spec: spec(iana::ENCR_AES_GCM_16, 128),
            algorithm: &$krate::aead::AES_128_GCM,
        };
        /// ENCR_AES_GCM_16 with a 256-bit key.
        pub(crate) static AES_256_GCM: RingLikeAead = RingLikeAead {
            spec: spec(iana::ENCR_AES_GCM_16, 256),
            algorithm: &$krate::aead::AES_256_GCM,
        };
        /// ENCR_CHACHA20_POLY1305.
        pub(crate) static CHACHA20_POLY1305: RingLikeAead = RingLikeAead {
            spec: spec(iana::ENCR_CHACHA20_POLY1305, 256),
            algorithm: &$krate::aead::CHACHA20_POLY1305,
        };

        impl AeadAlgorithm for RingLikeAead {
            fn spec(&self) -> AeadSpec {
                self.spec
            }

            fn new_key(&self, keymat: &[u8]) -> Result<Box<dyn Aead>, CryptoError> {
                let (key, salt) = split_keymat(&self.spec, keymat)?;
                let key =
                    UnboundKey::new(self.algorithm, key).map_err(|_| CryptoError::KeyLength {
                        expected: self.spec.keymat_len(),
                        actual: keymat.len(),
                    })?;
                Ok(Box::new(Keyed {
                    spec: self.spec,
                    key: LessSafeKey::new(key),
                    salt,
                }))
            }
        }

        /// The library zeroizes its key schedule on drop; the salt is wiped here.
        struct Keyed {
            spec: AeadSpec,
            key: LessSafeKey,
            salt: [u8; AEAD_SALT_LEN],
        }

        impl Drop for Keyed {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(&mut self.salt);
            }
        }

        impl Aead for Keyed {
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
                let nonce = Nonce::assume_unique_for_key(nonce(&self.salt, iv));
                let tag = self
                    .key
                    .seal_in_place_separate_tag(nonce, Aad::from(aad), data)
                    .map_err(|_| CryptoError::BufferLength {
                        actual: data.len(),
                        reason: "too long for the AEAD",
                    })?;
                icv.copy_from_slice(tag.as_ref());
                Ok(())
            }

            /// On failure the library may have written into the buffer; it is zeroed so
            /// that no unauthenticated plaintext is left behind.
            fn open_in_place(
                &self,
                iv: &[u8; AEAD_IV_LEN],
                aad: &[u8],
                in_out: &mut [u8],
            ) -> Result<(), CryptoError> {
                split_icv(in_out, self.spec.icv_len)?;
                let nonce = Nonce::assume_unique_for_key(nonce(&self.salt, iv));
                if self
                    .key
                    .open_in_place(nonce, Aad::from(aad), in_out)
                    .is_err()
                {
                    in_out.fill(0);
                    return Err(CryptoError::IntegrityCheckFailed);
                }
                Ok(())
            }
        }
    };
}

#[cfg(feature = "ring")]
pub(crate) mod ring {
    ring_like_aeads!(ring, "ring");
}

#[cfg(feature = "aws-lc-rs")]
pub(crate) mod aws_lc {
    ring_like_aeads!(aws_lc_rs, "aws-lc-rs");

    /// ENCR_AES_GCM_16 with a 192-bit key, which ring lacks.
    pub(crate) static AES_192_GCM: RingLikeAead = RingLikeAead {
        spec: spec(iana::ENCR_AES_GCM_16, 192),
        algorithm: &aws_lc_rs::aead::AES_192_GCM,
    };
}
