//! Stateless cookies against half-open SA floods (RFC 7296 §2.6).

use std::net::IpAddr;

use ipsec_isakmp::{PrfId, PuzzleRequest};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Octets of `<AdditionalInfo>`: whether a puzzle was set, its PRF and its difficulty.
const INFO_LEN: usize = 4;

/// Octets of a cookie: version, information, SHA-256.
const COOKIE_LEN: usize = 1 + INFO_LEN + 32;

/// The responder's cookie secret: `Cookie = <VersionIDofSecret> | <AdditionalInfo> |
/// Hash(Ni | IPi | SPIi | <AdditionalInfo> | <secret>)` (RFC 7296 §2.6, RFC 8019
/// §7.1.1.3), with SHA-256; the information says whether a puzzle was set with it and
/// which, so that the responder keeps no state for it. The secret is drawn from the
/// caller's random source; a new version replaces it and the previous one stays valid for
/// one round.
pub(crate) struct CookieSecret {
    version: u8,
    current: Zeroizing<[u8; 32]>,
    previous: Zeroizing<[u8; 32]>,
}

impl CookieSecret {
    pub(crate) fn new(secret: [u8; 32]) -> Self {
        Self {
            version: 0,
            current: Zeroizing::new(secret),
            previous: Zeroizing::new(secret),
        }
    }

    /// Moves to a new secret (RFC 7296 §2.6: "changed periodically").
    pub(crate) fn rotate(&mut self, secret: [u8; 32]) {
        self.previous = core::mem::replace(&mut self.current, Zeroizing::new(secret));
        self.version = self.version.wrapping_add(1);
    }

    fn compute(
        version: u8,
        secret: &[u8; 32],
        ni: &[u8],
        ip: IpAddr,
        spi_i: u64,
        info: &[u8; INFO_LEN],
    ) -> Vec<u8> {
        let mut hash = Sha256::new();
        hash.update(ni);
        match ip {
            IpAddr::V4(v4) => hash.update(v4.octets()),
            IpAddr::V6(v6) => hash.update(v6.octets()),
        }
        hash.update(spi_i.to_be_bytes());
        hash.update(info);
        hash.update(secret);
        let mut cookie = Vec::with_capacity(COOKIE_LEN);
        cookie.push(version);
        cookie.extend_from_slice(info);
        cookie.extend_from_slice(&hash.finalize());
        cookie
    }

    /// The cookie for an IKE_SA_INIT request from `ip` with `ni` and `spi_i`, saying
    /// whether it comes with `puzzle`.
    pub(crate) fn cookie(
        &self,
        ni: &[u8],
        ip: IpAddr,
        spi_i: u64,
        puzzle: Option<PuzzleRequest>,
    ) -> Vec<u8> {
        let info = match puzzle {
            None => [0; INFO_LEN],
            Some(puzzle) => {
                let [high, low] = puzzle.prf.value().to_be_bytes();
                [1, high, low, puzzle.difficulty]
            }
        };
        Self::compute(self.version, &self.current, ni, ip, spi_i, &info)
    }

    /// What `cookie` is, if this responder gave it for that request (compared in constant
    /// time): a plain cookie, or one sent with a puzzle.
    pub(crate) fn verify(
        &self,
        cookie: &[u8],
        ni: &[u8],
        ip: IpAddr,
        spi_i: u64,
    ) -> Option<Option<PuzzleRequest>> {
        let (&version, rest) = cookie.split_first()?;
        let info: [u8; INFO_LEN] = rest.get(..INFO_LEN)?.try_into().ok()?;
        let secret = if version == self.version {
            &self.current
        } else if version == self.version.wrapping_sub(1) {
            &self.previous
        } else {
            return None;
        };
        let expected = Self::compute(version, secret, ni, ip, spi_i, &info);
        if expected.len() != cookie.len() || !bool::from(expected.ct_eq(cookie)) {
            return None;
        }
        let [tag, prf_high, prf_low, difficulty] = info;
        Some((tag == 1).then(|| PuzzleRequest {
            prf: PrfId::from(u16::from_be_bytes([prf_high, prf_low])),
            difficulty,
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const NI: [u8; 32] = [7; 32];

    fn ip() -> IpAddr {
        IpAddr::from([192, 0, 2, 1])
    }

    #[test]
    fn a_cookie_says_whether_a_puzzle_came_with_it() {
        let secret = CookieSecret::new([1; 32]);
        let plain = secret.cookie(&NI, ip(), 5, None);
        assert_eq!(plain.len(), COOKIE_LEN);
        assert_eq!(secret.verify(&plain, &NI, ip(), 5), Some(None));
        let puzzle = PuzzleRequest {
            prf: PrfId::HmacSha2_256,
            difficulty: 12,
        };
        let with = secret.cookie(&NI, ip(), 5, Some(puzzle));
        assert_eq!(secret.verify(&with, &NI, ip(), 5), Some(Some(puzzle)));
        // The information is covered by the hash: lowering the difficulty breaks it.
        let mut forged = with.clone();
        if let Some(byte) = forged.get_mut(4) {
            *byte = 0;
        }
        assert_eq!(secret.verify(&forged, &NI, ip(), 5), None);
        assert_eq!(secret.verify(&plain, &NI, ip(), 6), None);
        assert_eq!(
            secret.verify(&plain, &NI, IpAddr::from([192, 0, 2, 2]), 5),
            None
        );
        assert_eq!(secret.verify(&[], &NI, ip(), 5), None);
    }

    /// RFC 7296 §2.6: the previous secret stays good for one period, no longer.
    #[test]
    fn the_previous_secret_is_good_for_one_rotation() {
        let mut secret = CookieSecret::new([1; 32]);
        let old = secret.cookie(&NI, ip(), 5, None);
        secret.rotate([2; 32]);
        assert_eq!(secret.verify(&old, &NI, ip(), 5), Some(None));
        secret.rotate([3; 32]);
        assert_eq!(secret.verify(&old, &NI, ip(), 5), None);
    }
}
