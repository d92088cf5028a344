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

    /// Splits off the first `len` bytes as their own secret, in an allocation of exactly
    /// `len` bytes; `None` if there are fewer. The bytes moved down in this secret's buffer
    /// leave copies in its spare capacity, which are wiped with it.
    pub fn take_front(&mut self, len: usize) -> Option<Self> {
        let front = Self(self.0.get(..len)?.to_vec());
        self.0.drain(..len);
        Some(front)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Each key split from a stream holds its own bytes, in a buffer of its own size: an
    /// SA keeps only what it needs, not the stream.
    #[test]
    fn take_front_splits_exactly() {
        let mut stream = SecretBytes::new((0u8..100).collect());
        let first = stream.take_front(32).unwrap();
        let none = stream.take_front(0).unwrap();
        let second = stream.take_front(16).unwrap();
        assert_eq!(first.expose(), (0u8..32).collect::<Vec<_>>());
        assert_eq!(second.expose(), (32u8..48).collect::<Vec<_>>());
        assert!(none.is_empty());
        assert_eq!((first.0.capacity(), none.0.capacity()), (32, 0));
        assert_eq!(stream.expose(), (48u8..100).collect::<Vec<_>>());
        assert!(stream.take_front(53).is_none());
        assert_eq!(stream.len(), 52);
    }
}
