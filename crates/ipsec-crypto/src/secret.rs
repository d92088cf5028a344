//! Secret bytes that are wiped when dropped and never printed.

use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Key material or a shared secret: zeroed on drop, compared in constant time, shown as
/// `SecretBytes(<N bytes>)` by `Debug`.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A copy of `bytes`.
    pub fn copy_from(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// `len` zero bytes, to be filled.
    pub fn zeroed(len: usize) -> Self {
        Self(alloc::vec![0; len])
    }

    /// The secret's bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret's bytes, mutable.
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Splits off the first `len` bytes as their own secret; `None` if there are fewer.
    pub fn take_front(&mut self, len: usize) -> Option<Self> {
        if len > self.0.len() {
            return None;
        }
        let rest = self.0.split_off(len);
        Some(Self(core::mem::replace(&mut self.0, rest)))
    }
}

impl PartialEq for SecretBytes {
    /// Constant time in the contents (the lengths are not secret).
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes>)", self.0.len())
    }
}

/// Compares two byte strings in time that depends only on their lengths (for ICVs, AUTH
/// payloads and cookies).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}
