//! NIST ECP groups 19 and 20 for IKEv2 (RFC 5903).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
use crate::{CryptoError, SecretBytes, SecureRandom, iana};

/// SEC 1 tag of an uncompressed point, which IKEv2 leaves out (RFC 5903 §7).
const UNCOMPRESSED: u8 = 0x04;

/// Private values drawn before giving up on getting one in `[1, n-1]`; for P-256 and P-384
/// one draw fails with probability below 2^-32, so this never runs out in practice.
const DRAWS: usize = 16;

macro_rules! ecp_group {
    ($name:ident, $active:ident, $curve:ident, $group:expr, $len:expr) => {
        /// An ECP group: the KE payload carries `x || y` of the public point and the shared
        /// secret is the x-coordinate of the product (RFC 5903 §7). The peer's point must lie
        /// on the curve and not be the identity (RFC 6989 §2.3).
        #[derive(Debug)]
        pub(crate) struct $name;

        impl $name {
            /// The peer's point from `x || y`: the right length, on the curve, not the
            /// identity (which has no such encoding).
            fn peer_point(peer_public: &[u8]) -> Result<$curve::PublicKey, CryptoError> {
                let invalid = CryptoError::InvalidPublicValue { group: $group };
                if peer_public.len() != 2 * $len {
                    return Err(invalid);
                }
                let mut sec1 = [0u8; 1 + 2 * $len];
                let (tag, point) = sec1.split_at_mut(1);
                tag.copy_from_slice(&[UNCOMPRESSED]);
                point.copy_from_slice(peer_public);
                $curve::PublicKey::from_sec1_bytes(&sec1).map_err(|_| invalid)
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
                    if let Ok(secret) = $curve::SecretKey::from_slice(candidate.as_ref()) {
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
            secret: $curve::SecretKey,
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
                let shared =
                    $curve::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), peer.as_affine());
                Ok(SecretBytes::copy_from(shared.raw_secret_bytes().as_ref()))
            }
        }
    };
}

ecp_group!(EcpP256, ActiveP256, p256, iana::DH_ECP_256, 32);
ecp_group!(EcpP384, ActiveP384, p384, iana::DH_ECP_384, 48);
