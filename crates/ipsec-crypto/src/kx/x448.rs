//! Curve448 for IKEv2 (RFC 8031, RFC 7748), from RustCrypto's `x448`.

use x448::{PublicKey, StaticSecret};

use crate::iana;
use crate::kx::montgomery::MontgomeryGroup;

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
/// which is 0xfe (bit 224 clear). Evaluated at compile time only (the table above), where an
/// index out of range fails the build.
#[allow(clippy::indexing_slicing)]
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

/// Curve448, group 32 (RFC 8031 §2, RFC 7748 §5): the public value is the clamped private
/// scalar times the base point u = 5 (RFC 7748 §6.2).
pub(crate) static X448: MontgomeryGroup<LEN> = MontgomeryGroup {
    group: iana::DH_CURVE448,
    low_order: &LOW_ORDER,
    last_byte_mask: 0xff,
    public: |private| *PublicKey::from(&StaticSecret::from(*private)).as_bytes(),
    function: x448::x448_unchecked,
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::KeyExchangeAlgorithm;

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
