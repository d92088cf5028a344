//! The IANA transform IDs this crate implements (RFC 7296 §3.3.2 and the IANA IKEv2
//! registry). The wire crate `ipsec-isakmp` has the full registries as enums; these numbers
//! are the same, kept here so this crate depends on nothing of ours.

/// ENCR_NULL (RFC 2410).
pub const ENCR_NULL: u16 = 11;
/// ENCR_AES_CBC (RFC 3602).
pub const ENCR_AES_CBC: u16 = 12;
/// ENCR_AES_GCM_16 (RFC 4106, RFC 5282).
pub const ENCR_AES_GCM_16: u16 = 20;
/// ENCR_NULL_AUTH_AES_GMAC (RFC 4543).
pub const ENCR_NULL_AUTH_AES_GMAC: u16 = 21;
/// ENCR_CHACHA20_POLY1305 (RFC 7634).
pub const ENCR_CHACHA20_POLY1305: u16 = 28;

/// PRF_HMAC_SHA2_256 (RFC 4868).
pub const PRF_HMAC_SHA2_256: u16 = 5;
/// PRF_HMAC_SHA2_384 (RFC 4868).
pub const PRF_HMAC_SHA2_384: u16 = 6;
/// PRF_HMAC_SHA2_512 (RFC 4868).
pub const PRF_HMAC_SHA2_512: u16 = 7;

/// NONE: no integrity algorithm (with an AEAD).
pub const AUTH_NONE: u16 = 0;
/// AUTH_HMAC_SHA2_256_128 (RFC 4868).
pub const AUTH_HMAC_SHA2_256_128: u16 = 12;
/// AUTH_HMAC_SHA2_384_192 (RFC 4868).
pub const AUTH_HMAC_SHA2_384_192: u16 = 13;
/// AUTH_HMAC_SHA2_512_256 (RFC 4868).
pub const AUTH_HMAC_SHA2_512_256: u16 = 14;

/// 2048-bit MODP group (RFC 3526 §3).
pub const DH_MODP_2048: u16 = 14;
/// 3072-bit MODP group (RFC 3526 §4).
pub const DH_MODP_3072: u16 = 15;
/// 256-bit random ECP group, NIST P-256 (RFC 5903).
pub const DH_ECP_256: u16 = 19;
/// 384-bit random ECP group, NIST P-384 (RFC 5903).
pub const DH_ECP_384: u16 = 20;
/// Curve25519 (RFC 8031).
pub const DH_CURVE25519: u16 = 31;
