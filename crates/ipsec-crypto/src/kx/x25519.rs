//! Curve25519 for IKEv2 (RFC 8031, RFC 7748).

use x25519_dalek::{PublicKey, StaticSecret};

use crate::iana;
use crate::kx::montgomery::MontgomeryGroup;

const LEN: usize = 32;

/// The u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 and its twist,
/// little-endian, with their non-canonical encodings p-1, p and p+1 (RFC 7748 §6.1: these
/// and only these make the shared secret all zero). Bit 255 is ignored by X25519 (RFC 7748
/// §5), so it is cleared before comparing.
const LOW_ORDER: [[u8; LEN]; 7] = [
    [0; LEN],
    [
        0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0,
    ],
    [
        0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4,
        0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49,
        0xb8, 0x00,
    ],
    [
        0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef,
        0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f,
        0x11, 0x57,
    ],
    high_ff(0xec),
    high_ff(0xed),
    high_ff(0xee),
];

/// `first` followed by 30 bytes of 0xff and 0x7f: p-1, p and p+1 for 0xec, 0xed and 0xee.
const fn high_ff(first: u8) -> [u8; LEN] {
    let mut value = [0xff; LEN];
    value[0] = first;
    value[LEN - 1] = 0x7f;
    value
}

/// Curve25519, group 31 (RFC 8031 §2, RFC 7748 §5). The public value is the private scalar
/// times the base point, computed on the Edwards form with dalek's precomputed table: the
/// same value as the Montgomery ladder of RFC 7748 §6.1 on u = 9, about a third of the time.
pub(crate) static X25519: MontgomeryGroup<LEN> = MontgomeryGroup {
    group: iana::DH_CURVE25519,
    low_order: &LOW_ORDER,
    last_byte_mask: 0x7f,
    public: |private| PublicKey::from(&StaticSecret::from(*private)).to_bytes(),
    function: x25519_dalek::x25519,
};

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::KeyExchangeAlgorithm;

    /// Every listed point, with and without bit 255, makes X25519 give all zeros for a
    /// scalar: the list is what RFC 7748 §6.1 says to refuse.
    #[test]
    fn the_low_order_points_give_a_zero_secret() {
        let scalar = [0x42u8; LEN];
        for point in LOW_ORDER {
            let mut high = point;
            high[LEN - 1] |= 0x80;
            for u in [point, high] {
                assert_eq!(x25519_dalek::x25519(scalar, u), [0u8; LEN]);
                assert!(X25519.check_peer_public(&u).is_err());
            }
        }
        assert!(X25519.check_peer_public(&[9u8; LEN]).is_ok());
        assert!(X25519.check_peer_public(&[9u8; LEN - 1]).is_err());
    }

    /// The table gives what the ladder gives on the base point (RFC 7748 §6.1).
    #[test]
    fn the_table_and_the_ladder_agree() {
        for seed in 0u8..16 {
            let private = [seed.wrapping_mul(37).wrapping_add(1); LEN];
            let table = PublicKey::from(&StaticSecret::from(private)).to_bytes();
            let ladder = x25519_dalek::x25519(private, x25519_dalek::X25519_BASEPOINT_BYTES);
            assert_eq!(table, ladder);
        }
    }
}
