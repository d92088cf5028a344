//! Key exchanges from aws-lc-rs: Curve25519 (group 31, RFC 8031) and the NIST groups 19, 20
//! and 21 (RFC 5903), for the `aws-lc-rs` provider.
//!
//! The private value is drawn from the caller's [`SecureRandom`] as for the RustCrypto
//! groups (sans-IO: aws-lc never reads the OS's randomness here) and handed to aws-lc as a
//! raw key; aws-lc computes the public value and the shared secret. The checks of the peer's
//! value are the RustCrypto groups' own (RFC 8031 §2, RFC 6989 §2.3), run before aws-lc sees
//! the value, so every provider refuses the same values with the same error.
//!
//! ring is not used for key exchange: its keys can only be generated from ring's own random
//! source (its `SecureRandom` is sealed), which a sans-IO library does not own.

use alloc::boxed::Box;

use aws_lc_rs::agreement::{self, Algorithm, PrivateKey, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm, ecp, x25519};
use crate::{CryptoError, SecretBytes, SecureRandom, iana};

/// SEC 1 tag of an uncompressed point, which IKEv2 leaves out (RFC 5903 §7).
const UNCOMPRESSED: u8 = 0x04;

/// The longest private value and public value (P-521: 66 bytes; `x || y` of 66 each, with
/// the SEC 1 tag).
const MAX_PRIVATE: usize = 66;
const MAX_SEC1_POINT: usize = 1 + 2 * 66;

/// Private values drawn before giving up on one aws-lc accepts (in `[1, n-1]` for the NIST
/// curves): as for the RustCrypto groups, 64 failed draws have probability below 2^-64.
const DRAWS: usize = 64;

/// One group of aws-lc-rs, with the RustCrypto group whose checks of the peer's value it
/// shares.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AwsLcGroup {
    group: u16,
    algorithm: &'static Algorithm,
    /// Bytes of the private value aws-lc takes (big-endian scalar for ECDH, the raw key for
    /// X25519).
    private_len: usize,
    /// Bits kept of the private value's first byte: P-521's order has 521 bits.
    top_mask: u8,
    /// Whether the KE payload carries a SEC 1 point without its tag (RFC 5903 §7) rather
    /// than the raw value (RFC 8031 §2).
    ecp: bool,
    /// The RustCrypto group of the same number, whose `check_peer_public` applies.
    checks: &'static dyn KeyExchangeAlgorithm,
}

/// Curve25519 (group 31).
pub(crate) static X25519: AwsLcGroup = AwsLcGroup {
    group: iana::DH_CURVE25519,
    algorithm: &agreement::X25519,
    private_len: 32,
    top_mask: 0xff,
    ecp: false,
    checks: &x25519::X25519,
};

/// ECP-256 (group 19).
pub(crate) static ECP_256: AwsLcGroup = AwsLcGroup {
    group: iana::DH_ECP_256,
    algorithm: &agreement::ECDH_P256,
    private_len: 32,
    top_mask: 0xff,
    ecp: true,
    checks: &ecp::EcpP256,
};

/// ECP-384 (group 20).
pub(crate) static ECP_384: AwsLcGroup = AwsLcGroup {
    group: iana::DH_ECP_384,
    algorithm: &agreement::ECDH_P384,
    private_len: 48,
    top_mask: 0xff,
    ecp: true,
    checks: &ecp::EcpP384,
};

/// ECP-521 (group 21).
pub(crate) static ECP_521: AwsLcGroup = AwsLcGroup {
    group: iana::DH_ECP_521,
    algorithm: &agreement::ECDH_P521,
    private_len: 66,
    top_mask: 0x01,
    ecp: true,
    checks: &ecp::EcpP521,
};

impl AwsLcGroup {
    fn invalid(&self) -> CryptoError {
        CryptoError::InvalidPublicValue { group: self.group }
    }
}

impl KeyExchangeAlgorithm for AwsLcGroup {
    fn group(&self) -> u16 {
        self.group
    }

    fn public_len(&self) -> usize {
        self.checks.public_len()
    }

    fn check_peer_public(&self, peer_public: &[u8]) -> Result<(), CryptoError> {
        self.checks.check_peer_public(peer_public)
    }

    fn start(&self, rng: &mut dyn SecureRandom) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        let mut candidate = Zeroizing::new([0u8; MAX_PRIVATE]);
        let private_bytes = candidate
            .get_mut(..self.private_len)
            .ok_or(CryptoError::RandomSource)?;
        for _ in 0..DRAWS {
            rng.fill(private_bytes)?;
            if let Some(top) = private_bytes.first_mut() {
                *top &= self.top_mask;
            }
            // aws-lc refuses zero and values not below the group order.
            let Ok(private) = PrivateKey::from_private_key(self.algorithm, private_bytes) else {
                continue;
            };
            let public = private
                .compute_public_key()
                .map_err(|_| CryptoError::RandomSource)?;
            let encoded = public.as_ref();
            let value = if self.ecp {
                encoded.get(1..).unwrap_or_default()
            } else {
                encoded
            };
            let mut public = [0u8; MAX_SEC1_POINT];
            let len = value.len().min(public.len());
            if let (Some(slot), Some(value)) = (public.get_mut(..len), value.get(..len)) {
                slot.copy_from_slice(value);
            }
            return Ok(Box::new(Active {
                group: *self,
                private,
                public,
                public_len: len,
            }));
        }
        Err(CryptoError::RandomSource)
    }
}

/// Our half of an aws-lc exchange. aws-lc wipes the key's memory when it frees it.
struct Active {
    group: AwsLcGroup,
    private: PrivateKey,
    public: [u8; MAX_SEC1_POINT],
    public_len: usize,
}

impl ActiveKeyExchange for Active {
    fn group(&self) -> u16 {
        self.group.group
    }

    fn public_value(&self) -> &[u8] {
        self.public.get(..self.public_len).unwrap_or_default()
    }

    /// The peer's value passes the RustCrypto group's checks first (RFC 8031 §2, RFC 6989
    /// §2.3); aws-lc then checks it again and refuses an all-zero X25519 result.
    fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let group = self.group;
        group.check_peer_public(peer_public)?;
        let mut sec1 = [0u8; MAX_SEC1_POINT];
        let peer = if group.ecp {
            let len = peer_public.len().saturating_add(1);
            let point = sec1.get_mut(..len).ok_or_else(|| group.invalid())?;
            let (tag, rest) = point.split_at_mut(1);
            tag.copy_from_slice(&[UNCOMPRESSED]);
            rest.copy_from_slice(peer_public);
            &*point
        } else {
            peer_public
        };
        agreement::agree(
            &self.private,
            UnparsedPublicKey::new(group.algorithm, peer),
            group.invalid(),
            |shared| Ok(SecretBytes::copy_from(shared)),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::SeededRandom;

    /// Each aws-lc group agrees with the RustCrypto group of the same number, in both
    /// directions, and refuses what it refuses.
    #[test]
    fn aws_lc_and_rustcrypto_agree() {
        let pairs: [(&AwsLcGroup, &dyn KeyExchangeAlgorithm); 4] = [
            (&X25519, &x25519::X25519),
            (&ECP_256, &ecp::EcpP256),
            (&ECP_384, &ecp::EcpP384),
            (&ECP_521, &ecp::EcpP521),
        ];
        let mut rng = SeededRandom::from_u64(5);
        for (ours, theirs) in pairs {
            for _ in 0..8 {
                let a = ours.start(&mut rng).unwrap();
                let b = theirs.start(&mut rng).unwrap();
                assert_eq!(a.public_value().len(), theirs.public_len());
                assert!(theirs.check_peer_public(a.public_value()).is_ok());
                let b_public = b.public_value().to_vec();
                let a_public = a.public_value().to_vec();
                let one = a.complete(&b_public).unwrap();
                let two = b.complete(&a_public).unwrap();
                assert_eq!(one.expose(), two.expose(), "group {}", ours.group);
            }
            let bad = alloc::vec![0u8; theirs.public_len()];
            let a = ours.start(&mut rng).unwrap();
            assert!(ours.check_peer_public(&bad).is_err());
            assert_eq!(
                a.complete(&bad).unwrap_err(),
                CryptoError::InvalidPublicValue { group: ours.group }
            );
            let a = ours.start(&mut rng).unwrap();
            assert!(a.complete(&bad[1..]).is_err());
        }
    }

    /// The same draws give the same keys as the RustCrypto groups: a private value is the
    /// caller's random bytes, not aws-lc's.
    #[test]
    fn the_private_value_comes_from_the_callers_random_source() {
        for (ours, theirs) in [
            (&X25519, &x25519::X25519 as &dyn KeyExchangeAlgorithm),
            (&ECP_256, &ecp::EcpP256),
            (&ECP_521, &ecp::EcpP521),
        ] {
            let a = ours.start(&mut SeededRandom::from_u64(9)).unwrap();
            let b = theirs.start(&mut SeededRandom::from_u64(9)).unwrap();
            assert_eq!(a.public_value(), b.public_value(), "group {}", ours.group);
        }
    }

    /// A draw not below the group order is refused and drawn again.
    #[test]
    fn private_values_not_below_the_order_are_drawn_again() {
        /// All ones first, then sevens.
        struct HighFirst(bool);
        impl SecureRandom for HighFirst {
            fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
                dest.fill(if self.0 { 7 } else { 0xff });
                self.0 = true;
                Ok(())
            }
        }
        let a = ECP_256.start(&mut HighFirst(false)).unwrap();
        let b = ecp::EcpP256.start(&mut HighFirst(true)).unwrap();
        assert_eq!(a.public_value(), b.public_value());
    }
}
