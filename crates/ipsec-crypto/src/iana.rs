//! The IANA transform IDs this crate implements (RFC 7296 §3.3.2 and the IANA IKEv2
//! registry). The wire crate `ipsec-isakmp` has the full registries as enums; these numbers
//! are the same, kept here so this crate depends on nothing of ours.

/// ENCR_NULL (RFC 2410).
pub const ENCR_NULL: u16 = 11;
/// ENCR_AES_CBC (RFC 3602).
pub const ENCR_AES_CBC: u16 = 12;
/// ENCR_AES_CTR (RFC 3686, RFC 5930).
pub const ENCR_AES_CTR: u16 = 13;
/// ENCR_AES_CCM_8: AES-CCM with an 8-octet ICV (RFC 4309, RFC 5282).
pub const ENCR_AES_CCM_8: u16 = 14;
/// ENCR_AES_CCM_12: AES-CCM with a 12-octet ICV (RFC 4309, RFC 5282).
pub const ENCR_AES_CCM_12: u16 = 15;
/// ENCR_AES_CCM_16: AES-CCM with a 16-octet ICV (RFC 4309, RFC 5282).
pub const ENCR_AES_CCM_16: u16 = 16;
/// ENCR_AES_GCM_8: AES-GCM with an 8-octet ICV (RFC 4106, RFC 5282).
pub const ENCR_AES_GCM_8: u16 = 18;
/// ENCR_AES_GCM_12: AES-GCM with a 12-octet ICV (RFC 4106, RFC 5282).
pub const ENCR_AES_GCM_12: u16 = 19;
/// ENCR_AES_GCM_16 (RFC 4106, RFC 5282).
pub const ENCR_AES_GCM_16: u16 = 20;
/// ENCR_NULL_AUTH_AES_GMAC (RFC 4543).
pub const ENCR_NULL_AUTH_AES_GMAC: u16 = 21;
/// ENCR_CHACHA20_POLY1305 (RFC 7634).
pub const ENCR_CHACHA20_POLY1305: u16 = 28;

/// PRF_HMAC_SHA1 (RFC 2104, RFC 7296 §3.3.2).
pub const PRF_HMAC_SHA1: u16 = 2;
/// PRF_AES128_XCBC (RFC 4434).
pub const PRF_AES128_XCBC: u16 = 4;
/// PRF_HMAC_SHA2_256 (RFC 4868).
pub const PRF_HMAC_SHA2_256: u16 = 5;
/// PRF_HMAC_SHA2_384 (RFC 4868).
pub const PRF_HMAC_SHA2_384: u16 = 6;
/// PRF_HMAC_SHA2_512 (RFC 4868).
pub const PRF_HMAC_SHA2_512: u16 = 7;

/// NONE: no integrity algorithm (with an AEAD).
pub const AUTH_NONE: u16 = 0;
/// AUTH_HMAC_SHA1_96 (RFC 2404).
pub const AUTH_HMAC_SHA1_96: u16 = 2;
/// AUTH_AES_XCBC_96 (RFC 3566).
pub const AUTH_AES_XCBC_96: u16 = 5;
/// AUTH_HMAC_SHA2_256_128 (RFC 4868).
pub const AUTH_HMAC_SHA2_256_128: u16 = 12;
/// AUTH_HMAC_SHA2_384_192 (RFC 4868).
pub const AUTH_HMAC_SHA2_384_192: u16 = 13;
/// AUTH_HMAC_SHA2_512_256 (RFC 4868).
pub const AUTH_HMAC_SHA2_512_256: u16 = 14;

/// 1024-bit MODP group (RFC 2409 §6.2); legacy (RFC 8247 §2.4: SHOULD NOT).
pub const DH_MODP_1024: u16 = 2;
/// 1536-bit MODP group (RFC 3526 §2); legacy (RFC 8247 §2.4: SHOULD NOT).
pub const DH_MODP_1536: u16 = 5;
/// 2048-bit MODP group (RFC 3526 §3).
pub const DH_MODP_2048: u16 = 14;
/// 3072-bit MODP group (RFC 3526 §4).
pub const DH_MODP_3072: u16 = 15;
/// 4096-bit MODP group (RFC 3526 §5).
pub const DH_MODP_4096: u16 = 16;
/// 6144-bit MODP group (RFC 3526 §6).
pub const DH_MODP_6144: u16 = 17;
/// 8192-bit MODP group (RFC 3526 §7).
pub const DH_MODP_8192: u16 = 18;
/// 256-bit random ECP group, NIST P-256 (RFC 5903).
pub const DH_ECP_256: u16 = 19;
/// 384-bit random ECP group, NIST P-384 (RFC 5903).
pub const DH_ECP_384: u16 = 20;
/// 521-bit random ECP group, NIST P-521 (RFC 5903).
pub const DH_ECP_521: u16 = 21;
/// brainpoolP224r1 (RFC 6954).
pub const DH_BRAINPOOL_P224: u16 = 27;
/// brainpoolP256r1 (RFC 6954).
pub const DH_BRAINPOOL_P256: u16 = 28;
/// brainpoolP384r1 (RFC 6954).
pub const DH_BRAINPOOL_P384: u16 = 29;
/// brainpoolP512r1 (RFC 6954).
pub const DH_BRAINPOOL_P512: u16 = 30;
/// Curve25519 (RFC 8031).
pub const DH_CURVE25519: u16 = 31;
/// Curve448 (RFC 8031).
pub const DH_CURVE448: u16 = 32;
