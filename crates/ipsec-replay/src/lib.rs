//! The anti-replay window of ESP and AH (RFC 4303 §3.4.3, RFC 4302 §3.4.3) with 64-bit
//! extended sequence numbers (RFC 4303 App. A), kept as a bitmap that is never shifted
//! (RFC 6479).
//!
//! The receiver calls [`ReplayWindow::check`] with the 32 bits of the sequence number the
//! packet carries *before* verifying its ICV; `check` infers the full 64-bit number and says
//! whether the packet could be new. Only once the ICV is verified does the receiver call
//! [`ReplayWindow::commit`], so a forged packet can never move the window (RFC 4303 §3.4.3).
//!
//! [`SharedReplayWindow`] answers the same with `&self`, without a lock, for threads that
//! open packets of one SA at once.
//!
//! ```
//! use ipsec_replay::{ReplayError, ReplayWindow};
//!
//! let mut window = ReplayWindow::new(64, false)?;
//! let seq = window.check(1)?;          // before the ICV
//! window.commit(seq)?;                 // after the ICV
//! assert_eq!(window.check(1), Err(ReplayError::Duplicate { seq: 1 }));
//! window.commit(window.check(100)?)?;
//! assert_eq!(window.check(36), Err(ReplayError::TooOld { seq: 36, highest: 100 }));
//! assert_eq!(window.check(37), Ok(37));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec;

/// Bits in one bitmap word.
const WORD_BITS: u64 = u64::BITS as u64;

mod shared;

pub use shared::SharedReplayWindow;

/// The smallest window this crate keeps (RFC 4303 §3.4.3: "a minimum window size of 32
/// packets MUST be supported").
pub const MIN_WINDOW: u32 = 32;

/// The largest window this crate keeps: 2^20 packets, 128 KiB of bitmap.
pub const MAX_WINDOW: u32 = 1 << 20;

/// Why a window of this size cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("replay window size {0} is not a multiple of 32 between {MIN_WINDOW} and {MAX_WINDOW}")]
pub struct InvalidWindowSize(pub u32);

/// Why a packet is refused by the window; the packet is dropped and counted (RFC 4303
/// §3.4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// A packet with this sequence number was already received and authenticated.
    #[error("sequence number {seq} was already received")]
    Duplicate {
        /// The full (inferred) sequence number.
        seq: u64,
    },
    /// The sequence number lies left of the window, or is zero, which no sender uses
    /// (RFC 4303 §3.3.3: the first packet carries 1).
    #[error("sequence number {seq} is left of the window whose highest is {highest}")]
    TooOld {
        /// The full (inferred) sequence number.
        seq: u64,
        /// The highest sequence number authenticated so far.
        highest: u64,
    },
}

/// A sliding window over the sequence numbers received on one SA.
///
/// The bitmap holds one more word than the window needs, rounded up to a power of two; a bit
/// for number `n` lives at `n mod bits`. Moving the window right clears whole words instead
/// of shifting the bitmap, so `check` and `commit` cost the same at any window size
/// (RFC 6479 §2).
#[derive(Debug, Clone)]
pub struct ReplayWindow {
    words: Box<[u64]>,
    /// `bits - 1`, where `bits` is the bitmap's size, a power of two.
    mask: u64,
    size: u32,
    highest: u64,
    esn: bool,
}

impl ReplayWindow {
    /// A window of `size` packets (a multiple of 32, from 32 to 2^20), with extended
    /// sequence numbers if `esn` (RFC 4303 §2.2.1), that has seen nothing yet.
    pub fn new(size: u32, esn: bool) -> Result<Self, InvalidWindowSize> {
        valid_size(size)?;
        let words = (u64::from(size).div_ceil(WORD_BITS) + 1).next_power_of_two();
        let len = usize::try_from(words).map_err(|_| InvalidWindowSize(size))?;
        Ok(Self {
            words: vec![0; len].into_boxed_slice(),
            mask: words * WORD_BITS - 1,
            size,
            highest: 0,
            esn,
        })
    }

    /// The window size in packets.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The highest sequence number committed so far; 0 before the first.
    pub fn highest(&self) -> u64 {
        self.highest
    }

    /// Whether the SA uses 64-bit extended sequence numbers.
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// The full sequence number of a packet that carries `seq_low`: itself without ESN,
    /// with ESN the high 32 bits inferred from the window as RFC 4303 App. A2.2 does.
    ///
    /// `None` when the inferred number would lie before the first packet of the SA.
    pub fn infer(&self, seq_low: u32) -> Option<u64> {
        infer(self.highest, self.size, self.esn, seq_low)
    }

    /// Whether a packet carrying `seq_low` may be new: call before verifying its ICV
    /// (RFC 4303 §3.4.3). Returns the full sequence number to verify the ICV with (ESN
    /// high bits, RFC 4303 §2.2.1) and to [`commit`](Self::commit) afterwards.
    pub fn check(&self, seq_low: u32) -> Result<u64, ReplayError> {
        let Some(seq) = self.infer(seq_low) else {
            return Err(ReplayError::TooOld {
                seq: u64::from(seq_low),
                highest: self.highest,
            });
        };
        self.check_full(seq)?;
        Ok(seq)
    }

    fn check_full(&self, seq: u64) -> Result<(), ReplayError> {
        if seq == 0 || self.highest.saturating_sub(seq) >= u64::from(self.size) {
            return Err(ReplayError::TooOld {
                seq,
                highest: self.highest,
            });
        }
        if seq > self.highest {
            return Ok(());
        }
        let (word, bit) = self.position(seq);
        if self.words.get(word).is_some_and(|w| w & bit != 0) {
            return Err(ReplayError::Duplicate { seq });
        }
        Ok(())
    }

    /// Records `seq` as received: call only after the packet's ICV verified (RFC 4303
    /// §3.4.3). Checks again, so that two packets with the same number that passed
    /// [`check`](Self::check) before either was committed cannot both be accepted.
    pub fn commit(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check_full(seq)?;
        if seq > self.highest {
            self.advance(seq);
        }
        let (word, bit) = self.position(seq);
        if let Some(w) = self.words.get_mut(word) {
            *w |= bit;
        }
        Ok(())
    }

    /// Moves the right edge to `seq`, clearing the words that fall out of the bitmap's
    /// reach (RFC 6479 §2.3).
    fn advance(&mut self, seq: u64) {
        let words = self.words.len() as u64;
        let old = self.highest / WORD_BITS;
        let new = seq / WORD_BITS;
        let clear = (new - old).min(words);
        for step in 1..=clear {
            let index = ((old + step) & (words - 1)) as usize;
            if let Some(w) = self.words.get_mut(index) {
                *w = 0;
            }
        }
        self.highest = seq;
    }

    fn position(&self, seq: u64) -> (usize, u64) {
        let index = seq & self.mask;
        ((index / WORD_BITS) as usize, 1 << (index % WORD_BITS))
    }
}

/// Checks a window size: a multiple of 32 from [`MIN_WINDOW`] to [`MAX_WINDOW`].
fn valid_size(size: u32) -> Result<(), InvalidWindowSize> {
    if !(MIN_WINDOW..=MAX_WINDOW).contains(&size) || !size.is_multiple_of(MIN_WINDOW) {
        return Err(InvalidWindowSize(size));
    }
    Ok(())
}

/// The full sequence number of a packet carrying `seq_low` on an SA whose highest number
/// so far is `highest` and whose window holds `size`: `seq_low` itself without ESN, with
/// ESN the high 32 bits inferred as RFC 4303 App. A2.2 does; `None` when that would lie
/// before the SA's first packet.
fn infer(highest: u64, size: u32, esn: bool, seq_low: u32) -> Option<u64> {
    if !esn {
        return Some(u64::from(seq_low));
    }
    let top_low = highest as u32;
    let top_high = highest >> 32;
    let below = size - 1;
    let high = if top_low >= below {
        // Case A: the window lies within one 2^32 subspace.
        if seq_low >= top_low - below {
            top_high
        } else {
            top_high.checked_add(1)?
        }
    } else if seq_low >= top_low.wrapping_sub(below) {
        // Case B: the window spans two subspaces and seq_low is in the lower one.
        top_high.checked_sub(1)?
    } else {
        top_high
    };
    Some((high << 32) | u64::from(seq_low))
}
