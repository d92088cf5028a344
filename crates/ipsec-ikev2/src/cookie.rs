//! Stateless cookies against half-open SA floods (RFC 7296 §2.6).

use std::net::IpAddr;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The responder's cookie secret: `Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi |
/// <secret>)` (RFC 7296 §2.6), with SHA-256. The secret is drawn from the caller's random
/// source; a new version replaces it and the previous one stays valid for one round.
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

    fn compute(version: u8, secret: &[u8; 32], ni: &[u8], ip: IpAddr, spi_i: u64) -> Vec<u8> {
        let mut hash = Sha256::new();
        hash.update(ni);
        match ip {
            IpAddr::V4(v4) => hash.update(v4.octets()),
            IpAddr::V6(v6) => hash.update(v6.octets()),
        }
        hash.update(spi_i.to_be_bytes());
        hash.update(secret);
        let mut cookie = Vec::with_capacity(33);
        cookie.push(version);
        cookie.extend_from_slice(&hash.finalize());
        cookie
    }

    /// The cookie for an IKE_SA_INIT request from `ip` with `ni` and `spi_i`.
    pub(crate) fn cookie(&self, ni: &[u8], ip: IpAddr, spi_i: u64) -> Vec<u8> {
        Self::compute(self.version, &self.current, ni, ip, spi_i)
    }

    /// Whether `cookie` is one this responder gave that request, compared in constant time.
    pub(crate) fn verify(&self, cookie: &[u8], ni: &[u8], ip: IpAddr, spi_i: u64) -> bool {
        let Some(&version) = cookie.first() else {
            return false;
        };
        let secret = if version == self.version {
            &self.current
        } else if version == self.version.wrapping_sub(1) {
            &self.previous
        } else {
            return false;
        };
        let expected = Self::compute(version, secret, ni, ip, spi_i);
        expected.len() == cookie.len() && bool::from(expected.ct_eq(cookie))
    }
}
