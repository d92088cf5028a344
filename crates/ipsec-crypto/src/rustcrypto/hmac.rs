//! HMAC-SHA-2 (RFC 4868) and HMAC-SHA-1 (RFC 2104, RFC 2404) as PRF (full output) and as
//! integrity algorithm (truncated ICV).

use alloc::boxed::Box;

use crate::integrity::{
    Integrity, IntegrityAlgorithm, IntegritySpec, verify_truncated, write_truncated,
};
use crate::prf::{Prf, PrfSpec};
use crate::{CryptoError, iana};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};

/// HMAC with hash `D` as an IKEv2 PRF: any key length, full output (RFC 4868 §2.1.2).
pub(crate) struct HmacPrf<D> {
    spec: PrfSpec,
    marker: core::marker::PhantomData<fn() -> D>,
}

impl<D> core::fmt::Debug for HmacPrf<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacPrf").field("spec", &self.spec).finish()
    }
}

impl<D> HmacPrf<D> {
    const fn new(id: u16, output_len: usize) -> Self {
        Self {
            spec: PrfSpec {
                id,
                output_len,
                fixed_key: false,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// PRF_HMAC_SHA1: legacy, for old peers (RFC 8247 §2.3).
pub(crate) static PRF_HMAC_SHA1: HmacPrf<Sha1> = HmacPrf::new(iana::PRF_HMAC_SHA1, 20);
/// PRF_HMAC_SHA2_256.
pub(crate) static PRF_HMAC_SHA2_256: HmacPrf<Sha256> = HmacPrf::new(iana::PRF_HMAC_SHA2_256, 32);
/// PRF_HMAC_SHA2_384.
pub(crate) static PRF_HMAC_SHA2_384: HmacPrf<Sha384> = HmacPrf::new(iana::PRF_HMAC_SHA2_384, 48);
/// PRF_HMAC_SHA2_512.
pub(crate) static PRF_HMAC_SHA2_512: HmacPrf<Sha512> = HmacPrf::new(iana::PRF_HMAC_SHA2_512, 64);

macro_rules! hmac_impls {
    ($digest:ty) => {
        impl Prf for HmacPrf<$digest> {
            fn spec(&self) -> PrfSpec {
                self.spec
            }

            fn compute(
                &self,
                key: &[u8],
                parts: &[&[u8]],
                out: &mut [u8],
            ) -> Result<(), CryptoError> {
                let mut mac = <Hmac<$digest> as KeyInit>::new_from_slice(key).map_err(|_| {
                    CryptoError::KeyLength {
                        expected: self.spec.output_len,
                        actual: key.len(),
                    }
                })?;
                for part in parts {
                    mac.update(part);
                }
                let result = mac.finalize().into_bytes();
                if out.len() != result.len() {
                    return Err(CryptoError::BufferLength {
                        actual: out.len(),
                        reason: "not the PRF's output length",
                    });
                }
                out.copy_from_slice(&result);
                Ok(())
            }
        }

        impl IntegrityAlgorithm for HmacIntegrity<$digest> {
            fn spec(&self) -> IntegritySpec {
                self.spec
            }

            fn new_key(&self, key: &[u8]) -> Result<Box<dyn Integrity>, CryptoError> {
                if key.len() != self.spec.key_len {
                    return Err(CryptoError::KeyLength {
                        expected: self.spec.key_len,
                        actual: key.len(),
                    });
                }
                let mac = <Hmac<$digest> as KeyInit>::new_from_slice(key).map_err(|_| {
                    CryptoError::KeyLength {
                        expected: self.spec.key_len,
                        actual: key.len(),
                    }
                })?;
                Ok(Box::new(KeyedHmac {
                    spec: self.spec,
                    mac,
                }))
            }
        }

        impl Integrity for KeyedHmac<Hmac<$digest>> {
            fn spec(&self) -> IntegritySpec {
                self.spec
            }

            fn compute(&self, parts: &[&[u8]], icv: &mut [u8]) -> Result<(), CryptoError> {
                write_truncated(&self.full(parts), self.spec.icv_len, icv)
            }

            fn verify(&self, parts: &[&[u8]], icv: &[u8]) -> Result<(), CryptoError> {
                verify_truncated(&self.full(parts), self.spec.icv_len, icv)
            }
        }

        impl KeyedHmac<Hmac<$digest>> {
            fn full(&self, parts: &[&[u8]]) -> hmac::digest::Output<Hmac<$digest>> {
                let mut mac = self.mac.clone();
                for part in parts {
                    mac.update(part);
                }
                mac.finalize().into_bytes()
            }
        }
    };
}

/// HMAC with hash `D` truncated, keyed with a full-length key: to half the output for
/// SHA-2 (RFC 4868 §2.1), to 96 bits for SHA-1 (RFC 2404 §3).
pub(crate) struct HmacIntegrity<D> {
    spec: IntegritySpec,
    marker: core::marker::PhantomData<fn() -> D>,
}

impl<D> core::fmt::Debug for HmacIntegrity<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HmacIntegrity")
            .field("spec", &self.spec)
            .finish()
    }
}

impl<D> HmacIntegrity<D> {
    const fn new(id: u16, key_len: usize, icv_len: usize) -> Self {
        Self {
            spec: IntegritySpec {
                id,
                key_len,
                icv_len,
                iv_len: 0,
            },
            marker: core::marker::PhantomData,
        }
    }
}

/// AUTH_HMAC_SHA1_96 (RFC 8221 §6: MUST- for ESP, on its way out).
pub(crate) static HMAC_SHA1_96: HmacIntegrity<Sha1> =
    HmacIntegrity::new(iana::AUTH_HMAC_SHA1_96, 20, 12);
/// AUTH_HMAC_SHA2_256_128.
pub(crate) static HMAC_SHA2_256_128: HmacIntegrity<Sha256> =
    HmacIntegrity::new(iana::AUTH_HMAC_SHA2_256_128, 32, 16);
/// AUTH_HMAC_SHA2_384_192.
pub(crate) static HMAC_SHA2_384_192: HmacIntegrity<Sha384> =
    HmacIntegrity::new(iana::AUTH_HMAC_SHA2_384_192, 48, 24);
/// AUTH_HMAC_SHA2_512_256.
pub(crate) static HMAC_SHA2_512_256: HmacIntegrity<Sha512> =
    HmacIntegrity::new(iana::AUTH_HMAC_SHA2_512_256, 64, 32);

/// A keyed HMAC; the inner and outer key pads are kept hashed, so each packet costs only a
/// clone of the state.
struct KeyedHmac<M> {
    spec: IntegritySpec,
    mac: M,
}

hmac_impls!(Sha1);
hmac_impls!(Sha256);
hmac_impls!(Sha384);
hmac_impls!(Sha512);
