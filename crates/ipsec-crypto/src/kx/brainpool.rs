//! brainpoolP224r1 and brainpoolP512r1 (RFC 5639 §3.3, §3.7), IKEv2 groups 27 and 30
//! (RFC 6954), which no RustCrypto crate provides: each curve is defined here from its RFC 5639
//! domain parameters on RustCrypto's generic arithmetic, as the `bp256` and `bp384` crates
//! define theirs: `primefield` for the base and scalar fields (Montgomery form on
//! `crypto-bigint`, constant time) and `primeorder` for the points (complete addition
//! formulas of Renes, Costello and Batina for any `a`). The curve parameters are checked by
//! the test suite against RFC 6932 and RFC 7027's published exchanges; the fields' own
//! consistency (generator, 2-adicity) by `primefield`'s test macro below.

macro_rules! brainpool_curve {
    (
        $(#[$doc:meta])*
        $module:ident, $curve:ident, uint: $uint:ty, bytes: $bytes:ty,
        p: $p:expr, p_generator: $p_generator:literal,
        n: $n:expr, n_generator: $n_generator:literal,
        a: $a:literal, b: $b:literal, gx: $gx:literal, gy: $gy:literal
    ) => {
        $(#[$doc])*
        // The items below are made by RustCrypto's macros, whose code follows their own
        // conventions (public items in a private module, indexing in `const fn`s evaluated
        // at compile time).
        #[allow(
            deprecated,
            unreachable_pub,
            missing_docs,
            missing_debug_implementations,
            clippy::indexing_slicing,
            clippy::arithmetic_side_effects,
            clippy::unwrap_used,
            clippy::expect_used,
            clippy::panic
        )]
        pub(crate) mod $module {
            use elliptic_curve::bigint::Odd;
            #[allow(unused_imports)]
            use elliptic_curve::ff::PrimeField;
            use elliptic_curve::ops::BatchInvert;
            use elliptic_curve::scalar::{FromUintUnchecked, IsHigh};
            use elliptic_curve::subtle::{Choice, ConstantTimeGreater};
            use elliptic_curve::{CurveArithmetic, PrimeCurveArithmetic, hazmat::FieldArithmetic};
            use primeorder::{PrimeCurveParams, mul_backend, point_arithmetic, wnaf};

            type Uint = $uint;

            mod field {
                // What the macros' code names without a path.
                #[allow(unused_imports)]
                use elliptic_curve::{
                    ff::PrimeField,
                    subtle::{Choice, ConstantTimeEq, CtOption},
                };

                use super::Uint;

                primefield::monty_field_params! {
                    name: FieldParams,
                    modulus: $p,
                    uint: Uint,
                    byte_order: primefield::ByteOrder::BigEndian,
                    multiplicative_generator: $p_generator,
                    doc: "The base field's modulus"
                }

                primefield::monty_field_element! {
                    name: FieldElement,
                    params: FieldParams,
                    uint: Uint,
                    doc: "An element of the base field"
                }

                primefield::monty_field_arithmetic! {
                    name: FieldElement,
                    params: FieldParams,
                    uint: Uint
                }
            }

            mod scalar {
                // What the macros' code names without a path.
                #[allow(unused_imports)]
                use elliptic_curve::{
                    ff::PrimeField,
                    subtle::{Choice, ConstantTimeEq, CtOption},
                };

                use super::Uint;

                primefield::monty_field_params! {
                    name: ScalarParams,
                    modulus: $n,
                    uint: Uint,
                    byte_order: primefield::ByteOrder::BigEndian,
                    multiplicative_generator: $n_generator,
                    doc: "The group order"
                }

                primefield::monty_field_element! {
                    name: Scalar,
                    params: ScalarParams,
                    uint: Uint,
                    doc: "An element of the scalar field"
                }

                primefield::monty_field_arithmetic! {
                    name: Scalar,
                    params: ScalarParams,
                    uint: Uint
                }

                /// Any integer, reduced modulo n (Montgomery reduction of the whole value).
                impl elliptic_curve::ops::Reduce<Uint> for Scalar {
                    fn reduce(w: &Uint) -> Self {
                        Self(primefield::MontyFieldElement::from_uint_reduced(w))
                    }
                }
            }

            pub use field::FieldElement;
            pub use scalar::Scalar;

            impl BatchInvert for FieldElement {}

            /// The curve.
            #[derive(Copy, Clone, Debug, Default, Eq, PartialEq, PartialOrd, Ord)]
            pub struct $curve;

            impl elliptic_curve::Curve for $curve {
                type FieldBytesSize = $bytes;
                type Uint = Uint;
                const ORDER: Odd<Uint> = Odd::<Uint>::from_be_hex($n);
            }

            impl elliptic_curve::PrimeCurve for $curve {}

            impl elliptic_curve::point::PointCompression for $curve {
                const COMPRESS_POINTS: bool = false;
            }

            elliptic_curve::scalar_impls!($curve, Scalar);
            wnaf::impl_wnaf_size_for_scalar!(Scalar);

            /// A field-width byte string as an integer, reduced modulo n.
            impl elliptic_curve::ops::Reduce<elliptic_curve::FieldBytes<$curve>> for Scalar {
                fn reduce(bytes: &elliptic_curve::FieldBytes<$curve>) -> Self {
                    <Scalar as elliptic_curve::ops::Reduce<Uint>>::reduce(
                        &elliptic_curve::field::bytes_to_uint::<$curve>(bytes),
                    )
                }
            }

            impl AsRef<Scalar> for Scalar {
                fn as_ref(&self) -> &Scalar {
                    self
                }
            }

            impl FromUintUnchecked for Scalar {
                type Uint = Uint;

                fn from_uint_unchecked(uint: Uint) -> Self {
                    Self::from_uint_unchecked(uint)
                }
            }

            impl IsHigh for Scalar {
                fn is_high(&self) -> Choice {
                    const HALF: Uint =
                        <$curve as elliptic_curve::Curve>::ORDER.as_ref().shr_vartime(1);
                    self.to_canonical().ct_gt(&HALF)
                }
            }

            pub type AffinePoint = primeorder::AffinePoint<$curve>;
            pub type ProjectivePoint = primeorder::ProjectivePoint<$curve>;

            impl CurveArithmetic for $curve {
                type AffinePoint = AffinePoint;
                type ProjectivePoint = ProjectivePoint;
                type Scalar = Scalar;
            }

            impl FieldArithmetic for $curve {
                type FieldElement = FieldElement;
            }

            impl PrimeCurveArithmetic for $curve {
                type CurveGroup = ProjectivePoint;
            }

            /// y² = x³ + ax + b with the RFC 5639 domain parameters.
            impl PrimeCurveParams for $curve {
                type PointArithmetic = point_arithmetic::EquationAIsGeneric;
                type Backend = mul_backend::VariableOnly;
                const EQUATION_A: FieldElement = FieldElement::from_hex_vartime($a);
                const EQUATION_B: FieldElement = FieldElement::from_hex_vartime($b);
                const GENERATOR: (FieldElement, FieldElement) = (
                    FieldElement::from_hex_vartime($gx),
                    FieldElement::from_hex_vartime($gy),
                );
            }

            /// The base field's constants (generator, 2-adicity, roots) are consistent.
            #[cfg(test)]
            mod field_tests {
                use super::{FieldElement, Uint};

                primefield::test_primefield!(FieldElement, Uint);
            }

            /// The scalar field's likewise.
            #[cfg(test)]
            mod scalar_tests {
                use super::{Scalar, Uint};

                primefield::test_primefield!(Scalar, Uint);
            }
        }
    };
}

brainpool_curve! {
    /// brainpoolP512r1 (RFC 5639 §3.7). The multiplicative generators are the smallest
    /// quadratic non-residues of p and n, as `bp256` and `bp384` choose theirs.
    p512, BrainpoolP512r1, uint: elliptic_curve::bigint::U512, bytes: elliptic_curve::consts::U64,
    p: "aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3",
    p_generator: 2,
    n: "aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069",
    n_generator: 7,
    a: "7830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca",
    b: "3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f723",
    gx: "81aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098eff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f822",
    gy: "7dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892"
}

// The 224-bit curve's integers are `U256`, as RustCrypto's `p224` has them on 64-bit
// targets: the moduli are written with 32 leading zero bits, and the field elements still
// encode in 28 bytes.
const P224_P: &str = "00000000d7c134aa264366862a18302575d1d787b09f075797da89f57ec8c0ff";
const P224_N: &str = "00000000d7c134aa264366862a18302575d0fb98d116bc4b6ddebca3a5a7939f";

brainpool_curve! {
    /// brainpoolP224r1 (RFC 5639 §3.3); generators as for P-512.
    p224, BrainpoolP224r1, uint: elliptic_curve::bigint::U256, bytes: elliptic_curve::consts::U28,
    p: crate::kx::brainpool::P224_P,
    p_generator: 3,
    n: crate::kx::brainpool::P224_N,
    n_generator: 3,
    a: "68a5e62ca9ce6c1c299803a6c1530b514e182ad8b0042a59cad29f43",
    b: "2580f63ccfe44138870713b1a92369e33e2135d266dbb372386c400b",
    gx: "0d9029ad2c7e5cf4340823b2a87dc68c9e4ce3174c1e6efdee12c07d",
    gy: "58aa56f772c0726f24c6b89e4ecdac24354b9e99caa3f6d3761402cd"
}
