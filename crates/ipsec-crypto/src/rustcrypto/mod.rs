//! The default provider: pure-Rust algorithms from the RustCrypto project.

mod aead;
mod cbc;
mod ctr;
mod gmac;
mod gmac_core;
mod gmac_integrity;
mod hmac;
mod xcbc;

pub(crate) use self::aead::{
    AES_128_CCM_8, AES_128_CCM_12, AES_128_CCM_16, AES_128_GCM, AES_128_GCM_8, AES_128_GCM_12,
    AES_192_CCM_8, AES_192_CCM_12, AES_192_CCM_16, AES_192_GCM, AES_192_GCM_8, AES_192_GCM_12,
    AES_256_CCM_8, AES_256_CCM_12, AES_256_CCM_16, AES_256_GCM, AES_256_GCM_8, AES_256_GCM_12,
    CHACHA20_POLY1305,
};
pub(crate) use self::cbc::{AES_128_CBC, AES_192_CBC, AES_256_CBC, NULL_CIPHER};
pub(crate) use self::ctr::{AES_128_CTR, AES_192_CTR, AES_256_CTR};
pub(crate) use self::gmac::{AES_128_GMAC, AES_256_GMAC};
pub(crate) use self::gmac_integrity::{AUTH_AES_128_GMAC, AUTH_AES_256_GMAC};
pub(crate) use self::hmac::{
    HMAC_SHA1_96, HMAC_SHA2_256_128, HMAC_SHA2_384_192, HMAC_SHA2_512_256, PRF_HMAC_SHA1,
    PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384, PRF_HMAC_SHA2_512,
};
pub(crate) use self::xcbc::{AES_XCBC_96, PRF_AES128_XCBC};
