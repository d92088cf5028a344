//! Bounds-checked big-endian field access shared by every view, here and in the other wire
//! crates (`ipsec-esp`, `ipsec-ah`).
//!
//! Views validate their buffer once, in `new_checked`; after that every fixed field lies
//! inside the buffer. These helpers still go through `get`, so a logic error shows up as a
//! zero field, never as a panic or a read past the buffer.
//!
//! Each is `#[inline]`: ESP and AH call them for every packet from another crate, where a
//! call that cannot be inlined costs more than the field access itself.

use core::ops::Range;

/// A byte range of a wire format, as in smoltcp's `wire` module.
pub type Field = Range<usize>;

/// Reads the byte at `at`, or zero if it lies outside `buf`.
#[inline]
pub fn u8_at(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

/// Reads a big-endian `u16` from `field`, or zero if it lies outside `buf`.
#[inline]
pub fn u16_at(buf: &[u8], field: Field) -> u16 {
    buf.get(field)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map_or(0, u16::from_be_bytes)
}

/// Reads a big-endian `u32` from `field`, or zero if it lies outside `buf`.
#[inline]
pub fn u32_at(buf: &[u8], field: Field) -> u32 {
    buf.get(field)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map_or(0, u32::from_be_bytes)
}

/// Reads a big-endian `u64` from `field`, or zero if it lies outside `buf`.
#[inline]
pub fn u64_at(buf: &[u8], field: Field) -> u64 {
    buf.get(field)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map_or(0, u64::from_be_bytes)
}

/// The bytes of `buf` from `from` to its end, or nothing if `from` is past the end.
#[inline]
pub fn rest(buf: &[u8], from: usize) -> &[u8] {
    buf.get(from..).unwrap_or(&[])
}

/// Writes `value` at `at`; a write outside `buf` is dropped.
#[inline]
pub fn set_u8(buf: &mut [u8], at: usize, value: u8) {
    if let Some(b) = buf.get_mut(at) {
        *b = value;
    }
}

/// Copies `src` into `buf` at `at` if it fits entirely; otherwise writes nothing.
#[inline]
pub fn put(buf: &mut [u8], at: usize, src: &[u8]) {
    let Some(end) = at.checked_add(src.len()) else {
        return;
    };
    if let Some(dst) = buf.get_mut(at..end) {
        dst.copy_from_slice(src);
    }
}

/// Writes a big-endian `u16` at `at`.
#[inline]
pub fn set_u16(buf: &mut [u8], at: usize, value: u16) {
    put(buf, at, &value.to_be_bytes());
}

/// Writes a big-endian `u32` at `at`.
#[inline]
pub fn set_u32(buf: &mut [u8], at: usize, value: u32) {
    put(buf, at, &value.to_be_bytes());
}

/// Writes a big-endian `u64` at `at`.
#[inline]
pub fn set_u64(buf: &mut [u8], at: usize, value: u64) {
    put(buf, at, &value.to_be_bytes());
}

/// The bytes of `buf` from `from` to its end, mutable, or nothing if `from` is past the end.
#[inline]
pub fn rest_mut(buf: &mut [u8], from: usize) -> &mut [u8] {
    buf.get_mut(from..).unwrap_or(&mut [])
}
