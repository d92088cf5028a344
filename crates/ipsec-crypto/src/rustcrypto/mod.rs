//! The default provider: pure-Rust algorithms from the RustCrypto project.

mod aead;
mod cbc;
mod gmac;
mod gmac_core;
mod gmac_integrity;
mod hmac;

pub(crate) use self::aead::{AES_128_GCM, AES_256_GCM, CHACHA20_POLY1305};
pub(crate) use self::cbc::{AES_128_CBC, AES_256_CBC, NULL_CIPHER};
pub(crate) use self::gmac::{AES_128_GMAC, AES_256_GMAC};
pub(crate) use self::gmac_integrity::{AUTH_AES_128_GMAC, AUTH_AES_256_GMAC};
pub(crate) use self::hmac::{
    HMAC_SHA2_256_128, HMAC_SHA2_384_192, HMAC_SHA2_512_256, PRF_HMAC_SHA2_256, PRF_HMAC_SHA2_384,
    PRF_HMAC_SHA2_512,
};
