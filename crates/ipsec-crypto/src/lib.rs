//! The algorithms of IPsec and IKEv2, by IANA transform ID, behind a crypto provider.
//!
//! A [`CryptoProvider`] is a table of algorithm objects (rustls's model): look one up by its
//! IANA number, key it for one direction of one SA, and use it per packet without further
//! allocation. The traits are this crate's own, small and in place:
//!
//! - [`Aead`]: AES-GCM (RFC 4106 for ESP, RFC 5282 for IKE), ChaCha20-Poly1305 (RFC 7634) and
//!   AES-GMAC (RFC 4543), sealing and opening in place with the ICV trailing the data and the
//!   nonce `salt || IV`.
//! - [`Cipher`] with [`Integrity`]: AES-CBC (RFC 3602) or ENCR_NULL (RFC 2410) with
//!   HMAC-SHA-2 truncated ICVs (RFC 4868).
//! - [`Prf`] and [`prf_plus`] (RFC 7296 §2.13).
//! - [`KeyExchangeAlgorithm`]: Curve25519 (RFC 8031), ECP-256/384 (RFC 5903) and MODP-2048/3072
//!   (RFC 3526), each checking the peer's public value (RFC 6989, RFC 8031 §2).
//! - [`SecureRandom`]: randomness comes from the caller; [`SeededRandom`] for tests.
//!
//! [`RUST_CRYPTO`] (pure Rust) is the default provider. The `ring` and `aws-lc-rs` features
//! add providers whose AEADs come from those libraries and run about twice as fast for
//! AES-GCM and three times as fast for ChaCha20-Poly1305 (see `docs/performance.md`).
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
