//! Elliptic-curve groups in short Weierstrass form for IKEv2: the NIST groups 19, 20 and 21
//! (RFC 5903) and the Brainpool groups 27 to 30 (RFC 6954), all with RustCrypto's arithmetic
//! (groups 27 and 30 defined in `brainpool.rs` on it).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
use crate::{CryptoError, SecretBytes, SecureRandom, iana};

/// SEC 1 tag of an uncompressed point, which IKEv2 leaves out (RFC 5903 §7).
const UNCOMPRESSED: u8 = 0x04;

/// Private values drawn before giving up on getting one in `[1, n-1]`. A draw fails with
/// probability below 2^-32 for the NIST curves (P-521's draws are masked to 521 bits) and
/// below one half for the Brainpool curves, whose orders lie further below a power of two
/// (RFC 5639 §3.4): 64 draws all fail with probability below 2^-64.
const DRAWS: usize = 64;

macro_rules! ecp_group {
    ($name:ident, $active:ident, $curve:ty, $group:expr, $len:expr, $top_mask:expr) => {
        /// An ECP group: the KE payload carries `x || y` of the public point and the shared
        /// secret is the x-coordinate of the product (RFC 5903 §7, RFC 6954 §3). The peer's
        /// point must lie on the curve and not be the identity (RFC 6989 §2.3).
        #[derive(Debug)]
        pub(crate) struct $name;

        impl $name {
            /// The peer's point from `x || y`: the right length, on the curve, not the
            /// identity (which has no such encoding).
            fn peer_point(
                peer_public: &[u8],
            ) -> Result<elliptic_curve::PublicKey<$curve>, CryptoError> {
                let invalid = CryptoError::InvalidPublicValue { group: $group };
                if peer_public.len() != 2 * $len {
                    return Err(invalid);
                }
                let mut sec1 = [0u8; 1 + 2 * $len];
                let (tag, point) = sec1.split_at_mut(1);
                tag.copy_from_slice(&[UNCOMPRESSED]);
                point.copy_from_slice(peer_public);
                elliptic_curve::PublicKey::<$curve>::from_sec1_bytes(&sec1).map_err(|_| invalid)
            }
        }

        impl KeyExchangeAlgorithm for $name {
            fn group(&self) -> u16 {
                $group
            }

            fn public_len(&self) -> usize {
                2 * $len
            }

            fn check_peer_public(&self, peer_public: &[u8]) -> Result<(), CryptoError> {
                $name::peer_point(peer_public).map(|_| ())
            }

            fn start(
                &self,
                rng: &mut dyn SecureRandom,
            ) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
                let mut candidate = zeroize::Zeroizing::new([0u8; $len]);
                for _ in 0..DRAWS {
                    rng.fill(candidate.as_mut())?;
                    if let Some(top) = candidate.first_mut() {
                        *top &= $top_mask;
                    }
                    if let Ok(secret) =
                        elliptic_curve::SecretKey::<$curve>::from_slice(candidate.as_ref())
                    {
                        let encoded = elliptic_curve::sec1::ToSec1Point::to_sec1_point(
                            &secret.public_key(),
                            false,
                        );
                        let public = encoded.as_bytes().get(1..).unwrap_or_default().to_vec();
                        return Ok(Box::new($active { secret, public }));
                    }
                }
                Err(CryptoError::RandomSource)
            }
        }

        struct $active {
            secret: elliptic_curve::SecretKey<$curve>,
            public: Vec<u8>,
        }

        impl ActiveKeyExchange for $active {
            fn group(&self) -> u16 {
                $group
            }

            fn public_value(&self) -> &[u8] {
                &self.public
            }

            fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
                let peer = $name::peer_point(peer_public)?;
                let shared = elliptic_curve::ecdh::diffie_hellman(
                    self.secret.to_nonzero_scalar(),
                    peer.as_affine(),
                );
                Ok(SecretBytes::copy_from(shared.raw_secret_bytes().as_ref()))
            }
        }
    };
}

ecp_group!(
    EcpP256,
    ActiveP256,
    p256::NistP256,
    iana::DH_ECP_256,
    32,
    0xff
);
ecp_group!(
    EcpP384,
    ActiveP384,
    p384::NistP384,
    iana::DH_ECP_384,
    48,
    0xff
);
// The order of P-521 has 521 bits: the leading byte of a 66-byte scalar keeps one bit.
ecp_group!(
    EcpP521,
    ActiveP521,
    p521::NistP521,
    iana::DH_ECP_521,
    66,
    0x01
);
ecp_group!(
    BrainpoolP256,
    ActiveBrainpoolP256,
    bp256::r1::BrainpoolP256r1,
    iana::DH_BRAINPOOL_P256,
    32,
    0xff
);
ecp_group!(
    BrainpoolP384,
    ActiveBrainpoolP384,
    bp384::r1::BrainpoolP384r1,
    iana::DH_BRAINPOOL_P384,
    48,
    0xff
);
ecp_group!(
    BrainpoolP512,
    ActiveBrainpoolP512,
    super::brainpool::p512::BrainpoolP512r1,
    iana::DH_BRAINPOOL_P512,
    64,
    0xff
);
ecp_group!(
    BrainpoolP224,
    ActiveBrainpoolP224,
    super::brainpool::p224::BrainpoolP224r1,
    iana::DH_BRAINPOOL_P224,
    28,
    0xff
);
