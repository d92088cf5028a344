//! The algorithms of IPsec and IKEv2, by IANA transform ID, behind a crypto provider.
//!
//! A [`CryptoProvider`] is a table of algorithm objects (rustls's model): look one up by its
//! IANA number, key it for one direction of one SA, and use it per packet without further
//! allocation. The traits are this crate's own, small and in place:
//!
//! - [`Aead`]: AES-GCM with 8-, 12- and 16-octet ICVs (RFC 4106 for ESP, RFC 5282 for IKE),
//!   AES-CCM with the same ICVs (RFC 4309, RFC 5282), ChaCha20-Poly1305 (RFC 7634) and
//!   AES-GMAC (RFC 4543), sealing and opening in place with the ICV trailing the data and the
//!   nonce `salt || IV`; AES with 128-, 192- and 256-bit keys.
//! - [`Cipher`] with [`Integrity`]: AES-CBC (RFC 3602), AES-CTR (RFC 3686) or ENCR_NULL
//!   (RFC 2410) with HMAC-SHA-2 (RFC 4868), HMAC-SHA1-96 (RFC 2404) or AES-XCBC-MAC-96
//!   (RFC 3566).
//! - [`Prf`] and [`prf_plus`] (RFC 7296 §2.13): HMAC-SHA-2, HMAC-SHA-1 and AES-XCBC-PRF-128
//!   (RFC 4434).
//! - [`KeyExchangeAlgorithm`]: Curve25519 and Curve448 (RFC 8031), ECP-256/384/521 (RFC 5903),
//!   brainpoolP224r1/P256r1/P384r1/P512r1 (RFC 6954) and MODP groups 2, 5 and 14 to 18
//!   (RFC 2409, RFC 3526), each checking the peer's public value (RFC 6989, RFC 8031 §2).
//! - [`SecureRandom`]: randomness comes from the caller; [`SeededRandom`] for tests.
//!
//! The tables hold the legacy algorithms (SHA-1, MODP-1024/1536, 8-octet ICVs) too: which of
//! them a peer may use is the configuration's choice, and the facade's default proposals
//! name none of them (RFC 8221, RFC 8247).
//!
//! [`RUST_CRYPTO`] (pure Rust) is the default provider. The `ring` and `aws-lc-rs` features
//! add providers whose AEADs come from those libraries and run about twice as fast for
//! AES-GCM and three times as fast for ChaCha20-Poly1305; the aws-lc-rs provider also does
//! Curve25519 and ECP-256/384/521 two to eight times as fast (see `docs/performance.md`).
//!
//! Keys live in types that zeroize on drop ([`SecretBytes`], the RustCrypto ciphers' own
//! zeroizing key schedules); ICVs are compared in constant time.
//!
//! ```
//! use ipsec_crypto::{RUST_CRYPTO, iana};
//!
//! # fn main() -> Result<(), ipsec_crypto::CryptoError> {
//! let algorithm = RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 256).expect("in the table");
//! let key = algorithm.new_key(&[7u8; 36])?; // 32-byte key, then the 4-byte salt
//! let mut buf = [0u8; 8 + 16]; // 8 bytes of data, then room for the 16-byte ICV
//! buf[..8].copy_from_slice(b"payload!");
//! key.seal_in_place(&[1; 8], b"spi|seq.", &mut buf)?;
//! assert_ne!(&buf[..8], b"payload!");
//! key.open_in_place(&[1; 8], b"spi|seq.", &mut buf)?;
//! assert_eq!(&buf[..8], b"payload!");
//! # Ok(())
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

mod aead;
mod cipher;
mod error;
pub mod iana;
mod integrity;
mod kx;
mod prf;
mod provider;
mod random;
#[cfg(any(feature = "ring", feature = "aws-lc-rs"))]
mod ring_like;
mod rustcrypto;
mod secret;

pub use aead::{AEAD_IV_LEN, AEAD_SALT_LEN, Aead, AeadAlgorithm, AeadSpec};
pub use cipher::{Cipher, CipherAlgorithm, CipherSpec};
pub use error::CryptoError;
pub use integrity::{Integrity, IntegrityAlgorithm, IntegritySpec};
pub use kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
pub use prf::{Prf, PrfSpec, prf_plus};
#[cfg(feature = "aws-lc-rs")]
pub use provider::AWS_LC_RS;
#[cfg(feature = "ring")]
pub use provider::RING;
pub use provider::{CryptoProvider, RUST_CRYPTO, providers};
pub use random::{SecureRandom, SeededRandom};
pub use secret::{SecretBytes, constant_time_eq};
