//! Curve448 for IKEv2 (RFC 8031, RFC 7748), from RustCrypto's `x448`.

use alloc::boxed::Box;

use subtle::ConstantTimeEq;
use x448::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
use crate::{CryptoError, SecretBytes, SecureRandom, iana};

const LEN: usize = 56;

/// The u-coordinates of the points of order 1, 2 and 4 on Curve448 and its twist, 0, 1 and
/// p-1, with the non-canonical encodings p and p+1 of 0 and 1, little-endian (p = 2^448 -
/// 2^224 - 1): the values that make X448's result all zero (RFC 7748 §6.2). Every 56-byte
/// string is a u-coordinate (no bit is ignored, RFC 7748 §5).
const LOW_ORDER: [[u8; LEN]; 5] = [
    [0; LEN],
    one(),
    prime_plus(-1),
    prime_plus(0),
    prime_plus(1),
];

/// 1, little-endian.
const fn one() -> [u8; LEN] {
    let mut value = [0; LEN];
    value[0] = 1;
    value
}

/// p + `delta` for `delta` in -1..=1, little-endian: p is 0xff in every byte but byte 28,
/// which is 0xfe (bit 224 clear).
const fn prime_plus(delta: i8) -> [u8; LEN] {
    let mut value = [0xff; LEN];
    value[28] = 0xfe;
    match delta {
        -1 => value[0] = 0xfe,
        0 => {}
        _ => {
            // p + 1 = 2^448 - 2^224: bits 0..224 clear, the rest set.
            let mut i = 0;
            while i < 28 {
                value[i] = 0;
                i += 1;
            }
            value[28] = 0xff;
        }
    }
    value
}

/// Curve448, group 32: the public value and the shared secret are 56-byte u-coordinates
/// (RFC 8031 §2, RFC 7748 §5).
#[derive(Debug)]
pub(crate) struct X448;

impl KeyExchangeAlgorithm for X448 {
    fn group(&self) -> u16 {
        iana::DH_CURVE448
    }

    fn public_len(&self) -> usize {
        LEN
    }

    /// RFC 8031 §2: 56 bytes, and not a low-order point (which would make the shared secret
    /// all zero).
    fn check_peer_public(&self, peer_public: &[u8]) -> Result<(), CryptoError> {
        peer_value(peer_public).map(|_| ())
    }

    /// The public value is the clamped private scalar times the base point u = 5 (RFC 7748
    /// §6.2).
    fn start(&self, rng: &mut dyn SecureRandom) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        let mut private = Zeroizing::new([0u8; LEN]);
        rng.fill(private.as_mut())?;
        let public = *PublicKey::from(&StaticSecret::from(*private)).as_bytes();
        Ok(Box::new(Active { private, public }))
    }
}

/// The peer's value as an array, if it is 56 bytes and not of low order.
fn peer_value(peer_public: &[u8]) -> Result<[u8; LEN], CryptoError> {
    let invalid = CryptoError::InvalidPublicValue {
        group: iana::DH_CURVE448,
    };
    let peer = <[u8; LEN]>::try_from(peer_public).map_err(|_| invalid)?;
    if LOW_ORDER.contains(&peer) {
        return Err(invalid);
    }
    Ok(peer)
}

struct Active {
    private: Zeroizing<[u8; LEN]>,
    public: [u8; LEN],
}

impl ActiveKeyExchange for Active {
    fn group(&self) -> u16 {
        iana::DH_CURVE448
    }

    fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// RFC 8031 §2: the peer's value must be 56 bytes and the result must not be all zero.
    fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let peer = peer_value(peer_public)?;
        let shared = Zeroizing::new(x448::x448_unchecked(*self.private, peer));
        if bool::from(shared.ct_eq(&[0u8; LEN])) {
            return Err(CryptoError::InvalidPublicValue {
                group: iana::DH_CURVE448,
            });
        }
        Ok(SecretBytes::copy_from(shared.as_ref()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every listed point makes X448 give all zeros: the list is what RFC 7748 §6.2 says to
    /// refuse, and the encodings of p are right.
    #[test]
    fn the_low_order_points_give_a_zero_secret() {
        let scalar = [0x42u8; LEN];
        for point in LOW_ORDER {
            assert_eq!(x448::x448_unchecked(scalar, point), [0u8; LEN]);
            assert!(X448.check_peer_public(&point).is_err());
        }
        assert_ne!(x448::x448_unchecked(scalar, [5; LEN]), [0u8; LEN]);
        assert!(X448.check_peer_public(&[5u8; LEN]).is_ok());
        assert!(X448.check_peer_public(&[5u8; LEN - 1]).is_err());
    }

    /// The key generation gives what the ladder gives on the base point u = 5.
    #[test]
    fn key_generation_is_the_ladder_on_the_base_point() {
        for seed in 0u8..4 {
            let private = [seed.wrapping_mul(37).wrapping_add(1); LEN];
            let public = *PublicKey::from(&StaticSecret::from(private)).as_bytes();
            assert_eq!(
                public,
                x448::x448_unchecked(private, x448::X448_BASEPOINT_BYTES)
            );
        }
    }
}
