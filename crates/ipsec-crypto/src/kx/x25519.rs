//! Curve25519 for IKEv2 (RFC 8031, RFC 7748).

use alloc::boxed::Box;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
use crate::{CryptoError, SecretBytes, SecureRandom, iana};

const LEN: usize = 32;

/// Curve25519, group 31: the public value and the shared secret are 32-byte u-coordinates
/// (RFC 8031 §2, RFC 7748 §5).
#[derive(Debug)]
pub(crate) struct X25519;

impl KeyExchangeAlgorithm for X25519 {
    fn group(&self) -> u16 {
        iana::DH_CURVE25519
    }

    fn public_len(&self) -> usize {
        LEN
    }

    fn start(&self, rng: &mut dyn SecureRandom) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
        let mut private = Zeroizing::new([0u8; LEN]);
        rng.fill(private.as_mut())?;
        let public = x25519_dalek::x25519(*private, x25519_dalek::X25519_BASEPOINT_BYTES);
        Ok(Box::new(Active { private, public }))
    }
}

struct Active {
    private: Zeroizing<[u8; LEN]>,
    public: [u8; LEN],
}

impl ActiveKeyExchange for Active {
    fn group(&self) -> u16 {
        iana::DH_CURVE25519
    }

    fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// RFC 8031 §2: the peer's value must be 32 bytes and the result must not be all zero
    /// (a low-order point).
    fn complete(self: Box<Self>, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let invalid = CryptoError::InvalidPublicValue {
            group: iana::DH_CURVE25519,
        };
        let peer = <[u8; LEN]>::try_from(peer_public).map_err(|_| invalid)?;
        let shared = Zeroizing::new(x25519_dalek::x25519(*self.private, peer));
        if bool::from(shared.ct_eq(&[0u8; LEN])) {
            return Err(invalid);
        }
        Ok(SecretBytes::copy_from(shared.as_ref()))
    }
}
