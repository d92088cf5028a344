//! How one direction of an AH SA computes its Integrity Check Value: an integrity algorithm
//! from the crypto provider, keyed from the Child SA's keying material (RFC 4302 §2.6,
//! RFC 7296 §2.17).

use alloc::boxed::Box;

use ipsec_crypto::{CryptoError, Integrity, IntegrityAlgorithm, IntegritySpec};

use crate::header::{MAX_HEADER_LEN, header_len_for_icv};
use crate::ip::IpVersion;

/// AUTH_AES_128_GMAC, IKEv2 Transform Type 3 ID 9 (RFC 4543 §9). The same number as in the
/// IANA registry; kept here until `ipsec_crypto::iana` lists it.
pub const AUTH_AES_128_GMAC: u16 = 9;
/// AUTH_AES_192_GMAC, IKEv2 Transform Type 3 ID 10 (RFC 4543 §9). No provider implements it
/// yet; listed so that an SA keyed with one is recognised as GMAC.
pub const AUTH_AES_192_GMAC: u16 = 10;
/// AUTH_AES_256_GMAC, IKEv2 Transform Type 3 ID 11 (RFC 4543 §9).
pub const AUTH_AES_256_GMAC: u16 = 11;

/// Length of the IV that AUTH_AES_GMAC carries at the start of the AH Integrity Check Value
/// field, before the tag (RFC 4543 §3.1, §4).
pub const GMAC_IV_LEN: usize = 8;

/// The longest ICV this crate computes: 64 bytes, the full output of SHA-512. Every
/// algorithm of RFC 4868 (§2.3) and RFC 4543 (§3.4) is shorter.
pub const MAX_ICV_LEN: usize = 64;

/// The integrity algorithm of one direction of an AH SA, keyed (RFC 4302 §2.6, §3.3.3).
///
/// - HMAC-SHA-256-128, HMAC-SHA-384-192 and HMAC-SHA-512-256 (RFC 4868): the ICV is the
///   truncated HMAC over the packet as AH authenticates it.
/// - AUTH_AES_128_GMAC and AUTH_AES_256_GMAC (RFC 4543 §4): the Integrity Check Value field
///   holds an 8-byte IV and then the 16-byte GMAC tag. The nonce is the 4-byte salt from the
///   end of the keying material followed by that IV (RFC 4543 §3.2, §5.4); the IV stays in
///   the authenticated data, the tag is zeroed there (RFC 4543 §7). The sender uses the
///   64-bit sequence number as the IV, which never repeats under one key because the counter
///   never wraps (RFC 4543 §3.1 allows a counter).
pub struct AhTransform {
    integrity: Box<dyn Integrity>,
    iv_len: usize,
}

impl core::fmt::Debug for AhTransform {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AhTransform")
            .field("integrity", &self.integrity.spec())
            .field("iv_len", &self.iv_len)
            .finish()
    }
}

impl AhTransform {
    /// The algorithm keyed with `keymat`: the integrity key (RFC 7296 §2.17), which for
    /// AUTH_AES_GMAC is the AES key followed by the 4-byte salt (RFC 4543 §5.4).
    ///
    /// Refuses an algorithm whose ICV is longer than [`MAX_ICV_LEN`] or does not fit an AH
    /// header (RFC 4302 §2.2).
    pub fn new(algorithm: &dyn IntegrityAlgorithm, keymat: &[u8]) -> Result<Self, CryptoError> {
        let spec = algorithm.spec();
        let iv_len = if is_gmac(spec.id) { GMAC_IV_LEN } else { 0 };
        if spec.icv_len > MAX_ICV_LEN
            || header_len_for_icv(iv_len.saturating_add(spec.icv_len), true) > MAX_HEADER_LEN
        {
            return Err(CryptoError::BufferLength {
                actual: spec.icv_len,
                reason: "ICV too long for an AH header",
            });
        }
        Ok(Self {
            integrity: algorithm.new_key(keymat)?,
            iv_len,
        })
    }

    /// Bytes of keying material each direction takes from KEYMAT for `algorithm`
    /// (RFC 7296 §2.17; RFC 4543 §5.4 for GMAC: key and salt).
    pub fn keymat_len(algorithm: &dyn IntegrityAlgorithm) -> usize {
        algorithm.spec().key_len
    }

    /// What the algorithm is: its IKEv2 Transform Type 3 ID and sizes (RFC 7296 §3.3.2,
    /// RFC 4302 §2.6).
    pub fn spec(&self) -> IntegritySpec {
        self.integrity.spec()
    }

    /// Whether the algorithm is AUTH_AES_GMAC, whose ICV field starts with an IV
    /// (RFC 4543 §4).
    pub fn is_gmac(&self) -> bool {
        self.iv_len > 0
    }

    /// Length of the IV at the start of the Integrity Check Value field: 8 for
    /// AUTH_AES_GMAC (RFC 4543 §4), 0 otherwise.
    pub fn iv_len(&self) -> usize {
        self.iv_len
    }

    /// Length of the ICV proper: the truncated HMAC (RFC 4868 §2.3) or the GMAC tag
    /// (RFC 4543 §3.4).
    pub fn icv_len(&self) -> usize {
        self.integrity.spec().icv_len
    }

    /// What the Integrity Check Value field holds before any alignment padding: IV and ICV
    /// (RFC 4302 §2.6, RFC 4543 §4).
    pub fn auth_data_len(&self) -> usize {
        self.iv_len + self.icv_len()
    }

    /// The whole AH header's length for this algorithm over `version`, padded to 4 octets
    /// over IPv4 and 8 over IPv6 (RFC 4302 §2.2, §3.3.3.2.1). For example 28 bytes over IPv4
    /// and 32 over IPv6 for HMAC-SHA-256-128; 36 and 40 for AES-GMAC.
    pub fn header_len(&self, version: IpVersion) -> usize {
        header_len_for_icv(self.auth_data_len(), version.is_ipv6())
    }

    pub(crate) fn integrity(&self) -> &dyn Integrity {
        &*self.integrity
    }
}

/// Whether Transform ID `id` is one of the AUTH_AES_GMAC algorithms (RFC 4543 §9).
fn is_gmac(id: u16) -> bool {
    matches!(
        id,
        AUTH_AES_128_GMAC | AUTH_AES_192_GMAC | AUTH_AES_256_GMAC
    )
}
