//! MODP groups 14 and 15 for IKEv2 (RFC 3526), with the public value checks of RFC 6989.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U2048, U3072, Uint};
use zeroize::Zeroizing;

use crate::kx::{ActiveKeyExchange, KeyExchangeAlgorithm};
use crate::{CryptoError, SecretBytes, SecureRandom, iana};

/// The 2048-bit MODP prime, p = 2^2048 - 2^1984 - 1 + 2^64 * ([2^1918 pi] + 124476)
/// (RFC 3526 §3); generator 2. The test suite derives it again from that formula.
const P2048: Odd<U2048> = Odd::<U2048>::from_be_hex(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
);

/// The 3072-bit MODP prime, p = 2^3072 - 2^3008 - 1 + 2^64 * ([2^2942 pi] + 1690314)
/// (RFC 3526 §4); generator 2.
const P3072: Odd<U3072> = Odd::<U3072>::from_be_hex(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

const PARAMS_2048: FixedMontyParams<{ U2048::LIMBS }> = FixedMontyParams::new(P2048);
const PARAMS_3072: FixedMontyParams<{ U3072::LIMBS }> = FixedMontyParams::new(P3072);

macro_rules! modp_group {
    ($name:ident, $active:ident, $limbs:expr, $params:expr, $group:expr, $exponent_bytes:expr) => {
        /// A MODP group: the KE payload and g^ir are big-endian numbers padded to the length
        /// of the prime (RFC 7296 §3.4, §2.14). The private exponent has 384 bits, more than
        /// twice the group's security strength (RFC 3526 §8), as strongSwan's has.
        #[derive(Debug)]
        pub(crate) struct $name;

        impl $name {
            const LEN: usize = $limbs * 8;

            /// RFC 6989 §2.1: the peer's value must be the length of the prime and satisfy
            /// 1 < y < p - 1; for these safe-prime groups that suffices (RFC 6989 §2.2).
            fn peer_value(peer_public: &[u8]) -> Result<Uint<$limbs>, CryptoError> {
                let invalid = CryptoError::InvalidPublicValue { group: $group };
                if peer_public.len() != Self::LEN {
                    return Err(invalid);
                }
                let y = Uint::<$limbs>::from_be_slice(peer_public);
                let p_minus_1 = $params.modulus().get().wrapping_sub(&Uint::ONE);
                if y <= Uint::ONE || y >= p_minus_1 {
                    return Err(invalid);
                }
                Ok(y)
            }
        }

        impl KeyExchangeAlgorithm for $name {
            fn group(&self) -> u16 {
                $group
            }

            fn public_len(&self) -> usize {
                Self::LEN
            }

            fn check_peer_public(&self, peer_public: &[u8]) -> Result<(), CryptoError> {
                Self::peer_value(peer_public).map(|_| ())
            }

            fn start(
                &self,
                rng: &mut dyn SecureRandom,
            ) -> Result<Box<dyn ActiveKeyExchange>, CryptoError> {
                let mut bytes = Zeroizing::new(vec![0u8; Self::LEN]);
                let tail = Self::LEN - $exponent_bytes;
                rng.fill(bytes.get_mut(tail..).unwrap_or_default())?;
                let exponent = Zeroizing::new(Uint::<$limbs>::from_be_slice(&bytes));
                let generator = FixedMontyForm::new(&Uint::<$limbs>::from_u8(2), &$params);
                let public = generator
                    .pow_bounded_exp(&*exponent, $exponent_bytes * 8)
                    .retrieve()
                    .to_be_bytes()
                    .as_ref()
                    .to_vec();
                Ok(Box::new($active { exponent, public }))
            }
        }

        struct $active {
            exponent: Zeroizing<Uint<$limbs>>,
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
                let y = $name::peer_value(peer_public)?;
                let shared = FixedMontyForm::new(&y, &$params)
                    .pow_bounded_exp(&*self.exponent, $exponent_bytes * 8)
                    .retrieve();
                let bytes = Zeroizing::new(shared.to_be_bytes());
                Ok(SecretBytes::copy_from(bytes.as_ref().as_ref()))
            }
        }
    };
}

modp_group!(
    Modp2048,
    Active2048,
    { U2048::LIMBS },
    PARAMS_2048,
    iana::DH_MODP_2048,
    48
);
modp_group!(
    Modp3072,
    Active3072,
    { U3072::LIMBS },
    PARAMS_3072,
    iana::DH_MODP_3072,
    48
);
