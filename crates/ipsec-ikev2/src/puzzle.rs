//! Client puzzles (RFC 8019 §4.4, §7): find four different keys `K` of one length such
//! that `prf(K, S)` ends in at least `difficulty` zero bits. In IKE_SA_INIT `S` is the
//! cookie (§7.1.3); in IKE_AUTH it is `Nr | SPIr` (§7.2.3). Solving costs the initiator
//! about `4 * 2^difficulty` PRF calls; checking costs the responder four.

use ipsec_crypto::Prf;
use ipsec_isakmp::{PUZZLE_KEYS, PrfId, PuzzleSolution, SecurityAssociation, TransformId};

/// Length of the keys this initiator tries: four octets hold far more candidates than any
/// difficulty a responder may ask needs (RFC 8019 §8.2: "in most cases" at most four).
pub(crate) const KEY_LEN: usize = 4;

/// The longest PRF output of any provider (HMAC-SHA2-512).
const MAX_OUTPUT: usize = 64;

/// The zero bits at the end of `output`, counted from the last octet's least significant
/// bit towards the front (RFC 8019 §7.1.3, Table 1: `...816c0000` has 18).
pub(crate) fn trailing_zero_bits(output: &[u8]) -> u32 {
    let mut bits = 0;
    for &byte in output.iter().rev() {
        if byte != 0 {
            return bits + byte.trailing_zeros();
        }
        bits += 8;
    }
    bits
}

/// The zero bits `prf(key, parts)` ends in.
fn zero_bits(prf: &dyn Prf, key: &[u8], parts: &[&[u8]]) -> Option<u32> {
    let len = prf.spec().output_len;
    let mut out = [0u8; MAX_OUTPUT];
    let out = out.get_mut(..len)?;
    prf.compute(key, parts, out).ok()?;
    Some(trailing_zero_bits(out))
}

/// The difficulty a solution achieved (RFC 8019 §7.1.4: the fewest zero bits of its four
/// results), or `None` if it is not four different keys of one length between one octet
/// and the PRF's preferred key length (§8.2).
pub(crate) fn achieved(prf: &dyn Prf, solution: &PuzzleSolution, parts: &[&[u8]]) -> Option<u32> {
    let key_len = solution.data.len() / PUZZLE_KEYS;
    if key_len == 0 || key_len > prf.spec().output_len {
        return None;
    }
    let keys: Vec<&[u8]> = solution.keys().collect();
    if keys.len() != PUZZLE_KEYS {
        return None;
    }
    let distinct = keys
        .iter()
        .enumerate()
        .all(|(i, key)| keys.iter().skip(i + 1).all(|other| other != key));
    if !distinct {
        return None;
    }
    keys.iter()
        .map(|key| zero_bits(prf, key, parts))
        .try_fold(u32::MAX, |fewest, bits| Some(fewest.min(bits?)))
}

/// Four keys of `key_len` octets (1 to 8) whose results end in at least `difficulty` zero
/// bits, trying the big-endian numbers from zero in order; `None` if `max_tries` PRF calls
/// were not enough.
pub(crate) fn solve(
    prf: &dyn Prf,
    parts: &[&[u8]],
    difficulty: u8,
    key_len: usize,
    max_tries: u64,
) -> Option<PuzzleSolution> {
    let skip = 8usize.checked_sub(key_len)?;
    if key_len == 0 || key_len > prf.spec().output_len {
        return None;
    }
    let mut data = Vec::with_capacity(PUZZLE_KEYS * key_len);
    let mut found = 0;
    for candidate in 0..max_tries {
        let bytes = candidate.to_be_bytes();
        let key = bytes.get(skip..)?;
        if skip > 0 && candidate >> (8 * key_len) != 0 {
            return None;
        }
        if zero_bits(prf, key, parts)? >= u32::from(difficulty) {
            data.extend_from_slice(key);
            found += 1;
            if found == PUZZLE_KEYS {
                return Some(PuzzleSolution { data });
            }
        }
    }
    None
}

/// The PRF to set a puzzle with (RFC 8019 §7.1.1.2): of the PRFs the initiator offers in
/// `offer` and `provider` implements, the first in the provider's order.
pub(crate) fn choose_prf(
    provider: &ipsec_crypto::CryptoProvider,
    offer: &SecurityAssociation,
) -> Option<(PrfId, &'static dyn Prf)> {
    let offered: Vec<u16> = offer
        .proposals
        .iter()
        .flat_map(|p| &p.transforms)
        .filter_map(|t| match t.id() {
            TransformId::Prf(id) => Some(id.value()),
            _ => None,
        })
        .collect();
    provider
        .prfs
        .iter()
        .copied()
        .find(|prf| offered.contains(&prf.spec().id))
        .map(|prf| (PrfId::from(prf.spec().id), prf))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ipsec_crypto::RUST_CRYPTO;

    fn hmac_sha256() -> &'static dyn Prf {
        RUST_CRYPTO.prf(PrfId::HmacSha2_256.value()).unwrap()
    }

    /// The cookie of RFC 8019 §4.4's example.
    const COOKIE: [u8; 20] = [
        0x73, 0x9a, 0xe7, 0x49, 0x2d, 0x8a, 0x81, 0x0c, 0xf5, 0xe8, 0xdc, 0x0f, 0x96, 0x26, 0xc9,
        0xdd, 0xa7, 0x73, 0xc5, 0xa3,
    ];

    #[test]
    fn zero_bits_are_counted_from_the_end() {
        // RFC 8019 Table 1's "...816c0000": 16 + 2.
        assert_eq!(trailing_zero_bits(&[0x81, 0x6c, 0, 0]), 18);
        assert_eq!(trailing_zero_bits(&[0x75, 0x80, 0, 0]), 23);
        assert_eq!(trailing_zero_bits(&[0, 0]), 16);
        assert_eq!(trailing_zero_bits(&[1]), 0);
    }

    /// HMAC-SHA2-256 keyed with 0x00dd over the example's cookie ends in exactly eight
    /// zero bits (`...cabca700`, checked with `openssl dgst -mac HMAC`).
    #[test]
    fn a_known_result() {
        let bits = zero_bits(hmac_sha256(), &[0x00, 0xdd], &[&COOKIE]).unwrap();
        assert_eq!(bits, 8);
    }

    /// The first solutions in key order, computed independently with Python's `hmac`
    /// module (two results checked with `openssl dgst -mac HMAC`): for the IKE_SA_INIT
    /// puzzle on the example's cookie and for an IKE_AUTH puzzle on `Nr | SPIr` with
    /// Nr = 00..1f and SPIr = 0123456789abcdef, both with difficulty 8 and two-octet keys.
    #[test]
    fn solutions_agree_with_an_independent_solver() {
        let init = solve(hmac_sha256(), &[&COOKIE], 8, 2, 1 << 16).unwrap();
        assert_eq!(init.data, [0x00, 0xdd, 0x01, 0xd0, 0x02, 0x1d, 0x02, 0xbf]);
        let nr: Vec<u8> = (0u8..32).collect();
        let spi_r = 0x0123_4567_89ab_cdef_u64.to_be_bytes();
        let auth = solve(hmac_sha256(), &[&nr, &spi_r], 8, 2, 1 << 16).unwrap();
        assert_eq!(auth.data, [0x02, 0xdf, 0x02, 0xf8, 0x05, 0x01, 0x05, 0x6d]);
        assert_eq!(achieved(hmac_sha256(), &auth, &[&nr, &spi_r]), Some(8));
    }

    #[test]
    fn a_solution_is_found_and_checked() {
        let solution = solve(hmac_sha256(), &[&COOKIE], 8, KEY_LEN, 1 << 16).unwrap();
        let level = achieved(hmac_sha256(), &solution, &[&COOKIE]).unwrap();
        assert!(level >= 8);
        // Against other data it is no solution.
        let other = achieved(hmac_sha256(), &solution, &[b"another cookie"]).unwrap();
        assert!(other < 8 || other != level);
    }

    #[test]
    fn repeated_or_oversized_keys_are_no_solution() {
        let one = PuzzleSolution {
            data: [0u8, 0xdd].repeat(4),
        };
        assert_eq!(achieved(hmac_sha256(), &one, &[&COOKIE]), None);
        let long = PuzzleSolution {
            data: vec![1; 4 * 33],
        };
        assert_eq!(achieved(hmac_sha256(), &long, &[&COOKIE]), None);
    }

    #[test]
    fn an_unreachable_difficulty_gives_up() {
        assert!(solve(hmac_sha256(), &[&COOKIE], 40, KEY_LEN, 1000).is_none());
        // One-octet keys run out after 256 tries.
        assert!(solve(hmac_sha256(), &[&COOKIE], 20, 1, 1 << 20).is_none());
    }
}
