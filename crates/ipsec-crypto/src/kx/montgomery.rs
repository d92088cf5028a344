//! The Montgomery-curve key exchanges of RFC 8031, Curve25519 (group 31) and Curve448
//! (group 32): the public value and the shared secret are `N`-byte little-endian
//! u-coordinates (RFC 7748 §5), the peer's value must not be a point of low order, and an
//! all-zero result is refused (RFC 8031 §2, RFC 7748 §6).

use alloc::boxed::Box;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
use crate::{CryptoError, SecretBytes, SecureRandom};

/// One Montgomery curve: its group number, the encodings that make its function's result
/// zero, and the function itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MontgomeryGroup<const N: usize> {
    /// The IANA group number.
    pub(crate) group: u16,
    /// The u-coordinates of low order, with the bits the function ignores cleared.
    pub(crate) low_order: &'static [[u8; N]],
    /// The bits of the last byte the function reads: 0x7f for X25519, which ignores bit
    /// 255 (RFC 7748 §5), 0xff for X448.
    pub(crate) last_byte_mask: u8,
    /// The private scalar times the base point (the public value).
    pub(crate) public: fn(&[u8; N]) -> [u8; N],
    /// The function `X(scalar, u)` of RFC 7748 §5.
    pub(crate) function: fn([u8; N], [u8; N]) -> [u8; N],
}

impl<const N: usize> MontgomeryGroup<N> {
    /// The peer's value as an array, if it is `N` bytes and not of low order.
    fn peer_value(&self, peer_public: &[u8]) -> Result<[u8; N], CryptoError> {
        let invalid = CryptoError::InvalidPublicValue { group: self.group };
        let peer = <[u8; N]>::try_from(peer_public).map_err(|_| invalid)?;
        let mut masked = peer;
        if let Some(last) = masked.last_mut() {
            *last &= self.last_byte_mask;
        }
        if self.low_order.contains(&masked) {
            return Err(invalid);
        }
        Ok(peer)
    }
}

impl<const N: usize> KeyExchangeAlgorithm for MontgomeryGroup<N> {
    fn group(&self) -> u16 {
        self.group
    }

    fn public_len(&self) -> usize {
        N
    }

    /// RFC 8031 §2: `N` bytes, and not a low-order point (which would make the shared
    /// secret all zero).
    fn check_peer_public(&self, peer_public: &[u8]) -> Result<(), CryptoError> {
        self.peer_value(peer_public).map(|_| ())
    }

    fn start(&self, rng: &mut dyn SecureRandom) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        let mut private = Zeroizing::new([0u8; N]);
        rng.fill(private.as_mut())?;
        let public = (self.public)(&private);
        Ok(Box::new(Active {
            curve: *self,
            private,
            public,
        }))
    }
}

struct Active<const N: usize> {
    curve: MontgomeryGroup<N>,
    private: Zeroizing<[u8; N]>,
    public: [u8; N],
}

impl<const N: usize> ActiveKeyExchange for Active<N> {
    fn group(&self) -> u16 {
        self.curve.group
    }

    fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// RFC 8031 §2: the peer's value must be `N` bytes and the result must not be all zero
    /// (a low-order point).
    fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let peer = self.curve.peer_value(peer_public)?;
        let shared = Zeroizing::new((self.curve.function)(*self.private, peer));
        if bool::from(shared.ct_eq(&[0u8; N])) {
            return Err(CryptoError::InvalidPublicValue {
                group: self.curve.group,
            });
        }
        Ok(SecretBytes::copy_from(shared.as_ref()))
    }
}
