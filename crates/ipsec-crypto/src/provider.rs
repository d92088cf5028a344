//! A crypto provider: a table of algorithm objects looked up by IANA transform ID
//! (rustls's `CryptoProvider` is the model).

use crate::aead::AeadAlgorithm;
use crate::cipher::CipherAlgorithm;
use crate::integrity::IntegrityAlgorithm;
use crate::kx::KeyExchangeAlgorithm;
use crate::prf::Prf;

/// The algorithms one provider implements.
#[derive(Debug, Clone, Copy)]
pub struct CryptoProvider {
    /// A name for logs and benchmarks.
    pub name: &'static str,
    /// AEADs (Transform Type 1 IDs with a combined integrity check).
    pub aeads: &'static [&'static dyn AeadAlgorithm],
    /// Ciphers used with a separate integrity algorithm (Transform Type 1).
    pub ciphers: &'static [&'static dyn CipherAlgorithm],
    /// Integrity algorithms (Transform Type 3).
    pub integrity: &'static [&'static dyn IntegrityAlgorithm],
    /// Pseudorandom functions (Transform Type 2).
    pub prfs: &'static [&'static dyn Prf],
    /// Key exchange methods (Transform Type 4).
    pub key_exchanges: &'static [&'static dyn KeyExchangeAlgorithm],
}

impl CryptoProvider {
    /// The AEAD with Transform ID `id` and Key Length `key_bits`.
    pub fn aead(&self, id: u16, key_bits: u16) -> Option<&'static dyn AeadAlgorithm> {
        self.aeads
            .iter()
            .copied()
            .find(|a| a.spec().id == id && a.spec().key_bits == key_bits)
    }

    /// The cipher with Transform ID `id` and Key Length `key_bits`.
    pub fn cipher(&self, id: u16, key_bits: u16) -> Option<&'static dyn CipherAlgorithm> {
        self.ciphers
            .iter()
            .copied()
            .find(|c| c.spec().id == id && c.spec().key_bits == key_bits)
    }

    /// The integrity algorithm with Transform ID `id`.
    pub fn integrity(&self, id: u16) -> Option<&'static dyn IntegrityAlgorithm> {
        self.integrity.iter().copied().find(|i| i.spec().id == id)
    }

    /// The PRF with Transform ID `id`.
    pub fn prf(&self, id: u16) -> Option<&'static dyn Prf> {
        self.prfs.iter().copied().find(|p| p.spec().id == id)
    }

    /// The key exchange method with group number `group`.
    pub fn key_exchange(&self, group: u16) -> Option<&'static dyn KeyExchangeAlgorithm> {
        self.key_exchanges
            .iter()
            .copied()
            .find(|k| k.group() == group)
    }
}

use crate::kx::{ecp, modp, x448, x25519};
use crate::rustcrypto;

const RUST_CRYPTO_CIPHERS: &[&dyn CipherAlgorithm] = &[
    &rustcrypto::AES_128_CBC,
    &rustcrypto::AES_192_CBC,
    &rustcrypto::AES_256_CBC,
    &rustcrypto::AES_128_CTR,
    &rustcrypto::AES_192_CTR,
    &rustcrypto::AES_256_CTR,
    &rustcrypto::NULL_CIPHER,
];
const RUST_CRYPTO_INTEGRITY: &[&dyn IntegrityAlgorithm] = &[
    &rustcrypto::HMAC_SHA2_256_128,
    &rustcrypto::HMAC_SHA2_384_192,
    &rustcrypto::HMAC_SHA2_512_256,
    &rustcrypto::HMAC_SHA1_96,
    &rustcrypto::AES_XCBC_96,
    &rustcrypto::AUTH_AES_128_GMAC,
    &rustcrypto::AUTH_AES_256_GMAC,
];
const RUST_CRYPTO_PRFS: &[&dyn Prf] = &[
    &rustcrypto::PRF_HMAC_SHA2_256,
    &rustcrypto::PRF_HMAC_SHA2_384,
    &rustcrypto::PRF_HMAC_SHA2_512,
    &rustcrypto::PRF_HMAC_SHA1,
    &rustcrypto::PRF_AES128_XCBC,
];
/// The key exchanges every provider takes from RustCrypto.
const RUST_CRYPTO_ONLY_KEY_EXCHANGES: [&dyn KeyExchangeAlgorithm; 12] = [
    &x448::X448,
    &ecp::BrainpoolP224,
    &ecp::BrainpoolP256,
    &ecp::BrainpoolP384,
    &ecp::BrainpoolP512,
    &modp::Modp2048,
    &modp::Modp3072,
    &modp::Modp4096,
    &modp::Modp6144,
    &modp::Modp8192,
    &modp::Modp1024,
    &modp::Modp1536,
];
/// RustCrypto's key exchanges, all of them.
const KEY_EXCHANGES: &[&dyn KeyExchangeAlgorithm] = &concat::<&dyn KeyExchangeAlgorithm, 4, 12, 16>(
    [&x25519::X25519, &ecp::EcpP256, &ecp::EcpP384, &ecp::EcpP521],
    RUST_CRYPTO_ONLY_KEY_EXCHANGES,
);
/// aws-lc-rs's key exchanges (Curve25519, ECP-256/384/521) first, then RustCrypto's for
/// the groups aws-lc-rs does not offer.
#[cfg(feature = "aws-lc-rs")]
const AWS_LC_KEY_EXCHANGES: &[&dyn KeyExchangeAlgorithm] =
    &concat::<&dyn KeyExchangeAlgorithm, 4, 12, 16>(
        [
            &crate::kx::aws_lc::X25519,
            &crate::kx::aws_lc::ECP_256,
            &crate::kx::aws_lc::ECP_384,
            &crate::kx::aws_lc::ECP_521,
        ],
        RUST_CRYPTO_ONLY_KEY_EXCHANGES,
    );
/// The AEADs every provider takes from RustCrypto: the shorter ICVs, AES-CCM and AES-GMAC.
const RUST_CRYPTO_ONLY_AEADS: [&dyn AeadAlgorithm; 17] = [
    &rustcrypto::AES_128_GCM_12,
    &rustcrypto::AES_192_GCM_12,
    &rustcrypto::AES_256_GCM_12,
    &rustcrypto::AES_128_GCM_8,
    &rustcrypto::AES_192_GCM_8,
    &rustcrypto::AES_256_GCM_8,
    &rustcrypto::AES_128_CCM_16,
    &rustcrypto::AES_192_CCM_16,
    &rustcrypto::AES_256_CCM_16,
    &rustcrypto::AES_128_CCM_12,
    &rustcrypto::AES_192_CCM_12,
    &rustcrypto::AES_256_CCM_12,
    &rustcrypto::AES_128_CCM_8,
    &rustcrypto::AES_192_CCM_8,
    &rustcrypto::AES_256_CCM_8,
    &rustcrypto::AES_128_GMAC,
    &rustcrypto::AES_256_GMAC,
];

/// `head` followed by `tail`, as one table of `M = N + K` entries. Evaluated at compile
/// time only (the providers' statics), where a wrong `M` fails the build.
#[allow(clippy::indexing_slicing)]
const fn concat<T: Copy, const N: usize, const K: usize, const M: usize>(
    head: [T; N],
    tail: [T; K],
) -> [T; M] {
    assert!(
        N + K == M,
        "the table's length must be the sum of its parts"
    );
    let mut all: [T; M] = [head[0]; M];
    let mut i = 0;
    while i < N {
        all[i] = head[i];
        i += 1;
    }
    let mut j = 0;
    while j < K {
        all[N + j] = tail[j];
        j += 1;
    }
    all
}

/// The default provider: pure Rust, from the RustCrypto crates.
///
/// AES-GCM uses AES-NI and CLMUL when the CPU has them (runtime detection). ChaCha20's AVX2
/// code path in `chacha20` is not inlined into a normal build, so ChaCha20-Poly1305 here is
/// about 3x slower than ring's; enable the `ring` or `aws-lc-rs` feature where ChaCha20
/// throughput matters.
pub static RUST_CRYPTO: CryptoProvider = CryptoProvider {
    name: "rustcrypto",
    aeads: &concat::<&dyn AeadAlgorithm, 4, 17, 21>(
        [
            &rustcrypto::AES_128_GCM,
            &rustcrypto::AES_192_GCM,
            &rustcrypto::AES_256_GCM,
            &rustcrypto::CHACHA20_POLY1305,
        ],
        RUST_CRYPTO_ONLY_AEADS,
    ),
    ciphers: RUST_CRYPTO_CIPHERS,
    integrity: RUST_CRYPTO_INTEGRITY,
    prfs: RUST_CRYPTO_PRFS,
    key_exchanges: KEY_EXCHANGES,
};

/// ring's AES-GCM (128 and 256-bit keys, 16-byte ICV) and ChaCha20-Poly1305; every other
/// algorithm from RustCrypto. Key exchanges too: ring generates keys only from its own
/// random source, which a sans-IO library does not own.
#[cfg(feature = "ring")]
pub static RING: CryptoProvider = CryptoProvider {
    name: "ring",
    aeads: &concat::<&dyn AeadAlgorithm, 4, 17, 21>(
        [
            &crate::ring_like::ring::AES_128_GCM,
            &rustcrypto::AES_192_GCM,
            &crate::ring_like::ring::AES_256_GCM,
            &crate::ring_like::ring::CHACHA20_POLY1305,
        ],
        RUST_CRYPTO_ONLY_AEADS,
    ),
    ciphers: RUST_CRYPTO_CIPHERS,
    integrity: RUST_CRYPTO_INTEGRITY,
    prfs: RUST_CRYPTO_PRFS,
    key_exchanges: KEY_EXCHANGES,
};

/// aws-lc-rs's AES-GCM (16-byte ICV), ChaCha20-Poly1305 and key exchanges (Curve25519,
/// ECP-256/384/521, with private values drawn from the caller's random source); every
/// other algorithm from RustCrypto.
#[cfg(feature = "aws-lc-rs")]
pub static AWS_LC_RS: CryptoProvider = CryptoProvider {
    name: "aws-lc-rs",
    aeads: &concat::<&dyn AeadAlgorithm, 4, 17, 21>(
        [
            &crate::ring_like::aws_lc::AES_128_GCM,
            &crate::ring_like::aws_lc::AES_192_GCM,
            &crate::ring_like::aws_lc::AES_256_GCM,
            &crate::ring_like::aws_lc::CHACHA20_POLY1305,
        ],
        RUST_CRYPTO_ONLY_AEADS,
    ),
    ciphers: RUST_CRYPTO_CIPHERS,
    integrity: RUST_CRYPTO_INTEGRITY,
    prfs: RUST_CRYPTO_PRFS,
    key_exchanges: AWS_LC_KEY_EXCHANGES,
};

static PROVIDERS: &[&CryptoProvider] = &[
    &RUST_CRYPTO,
    #[cfg(feature = "ring")]
    &RING,
    #[cfg(feature = "aws-lc-rs")]
    &AWS_LC_RS,
];

/// Every provider compiled in, the default first.
pub fn providers() -> &'static [&'static CryptoProvider] {
    PROVIDERS
}
