//! The anti-replay window of one SA shared by threads that open its packets at once,
//! without a lock: each bitmap slot carries the number of the 32-packet block its bits are
//! for, and is updated by compare-and-swap, so a thread never waits for another and
//! never clears bits another thread is setting (the RFC 6479 bitmap, made concurrent).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::{InvalidWindowSize, ReplayError, infer, valid_size};

/// Sequence numbers per slot: the low half of a slot's word is their bitmap, the high half
/// the block number (sequence number / 32, its low 32 bits) they belong to.
const SLOT_BITS: u64 = 32;

/// A sliding window over the sequence numbers received on one SA, for many threads: the
/// same answers as [`ReplayWindow`](crate::ReplayWindow) for packets taken one at a time,
/// with [`check`](Self::check) and [`commit`](Self::commit) on `&self`.
///
/// There is one slot more than the window needs, so a slot holding another block than a
/// packet's holds one that has left the window (or, during a concurrent commit, one that
/// pushes the packet out of it, which the highest number then says). Two threads
/// committing the same number: one wins the compare-and-swap, the other then sees the bit
/// and gets [`ReplayError::Duplicate`]. Block numbers are kept modulo 2^32: a slot left
/// untouched while the sequence numbers move on by 2^37 could make a new packet look like
/// a duplicate (dropped, never a replay accepted).
#[derive(Debug)]
pub struct SharedReplayWindow {
    slots: Box<[AtomicU64]>,
    /// `slots.len() - 1`, the length being a power of two.
    slot_mask: u64,
    size: u32,
    highest: AtomicU64,
    esn: bool,
}

impl SharedReplayWindow {
    /// A window of `size` packets (a multiple of 32, from 32 to 2^20), with extended
    /// sequence numbers if `esn` (RFC 4303 §2.2.1), that has seen nothing yet.
    pub fn new(size: u32, esn: bool) -> Result<Self, InvalidWindowSize> {
        valid_size(size)?;
        let slots = (u64::from(size) / SLOT_BITS + 1).next_power_of_two();
        let len = usize::try_from(slots).map_err(|_| InvalidWindowSize(size))?;
        Ok(Self {
            slots: (0..len)
                .map(|_| AtomicU64::new(0))
                .collect::<Vec<_>>()
                .into(),
            slot_mask: slots - 1,
            size,
            highest: AtomicU64::new(0),
            esn,
        })
    }

    /// The window size in packets.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The highest sequence number committed so far; 0 before the first.
    pub fn highest(&self) -> u64 {
        self.highest.load(Ordering::Acquire)
    }

    /// Whether the SA uses 64-bit extended sequence numbers.
    pub fn esn(&self) -> bool {
        self.esn
    }

    /// As [`ReplayWindow::check`](crate::ReplayWindow::check): whether a packet carrying
    /// `seq_low` may be new, before its ICV is verified (RFC 4303 §3.4.3), and its full
    /// sequence number.
    pub fn check(&self, seq_low: u32) -> Result<u64, ReplayError> {
        let highest = self.highest();
        let Some(seq) = infer(highest, self.size, self.esn, seq_low) else {
            return Err(ReplayError::TooOld {
                seq: u64::from(seq_low),
                highest,
            });
        };
        self.in_window(seq, highest)?;
        if seq > highest {
            return Ok(seq);
        }
        let (slot, block, bit) = self.position(seq);
        let word = slot.map_or(0, |s| s.load(Ordering::Acquire));
        // The highest number read after the slot: if the slot holds a later block, the
        // highest number already covers it (see `commit`).
        self.in_window(seq, self.highest())?;
        if tag(word) == block && word & bit != 0 {
            return Err(ReplayError::Duplicate { seq });
        }
        Ok(seq)
    }

    /// As [`ReplayWindow::commit`](crate::ReplayWindow::commit): records `seq` as received,
    /// after the packet's ICV verified (RFC 4303 §3.4.3); refuses it if another thread
    /// committed it meanwhile, or if the window moved past it.
    ///
    /// A new highest number is raised before its bit is set, so that a thread that finds a
    /// slot holding another block, and reads the highest number after that slot, knows
    /// whether that block is newer than its own (then its packet has left the window) or
    /// older (then that block has left the window, and the slot is taken over).
    pub fn commit(&self, seq: u64) -> Result<(), ReplayError> {
        let (slot, block, bit) = self.position(seq);
        let Some(slot) = slot else {
            return Err(ReplayError::TooOld {
                seq,
                highest: self.highest(),
            });
        };
        // Raising the highest number with one left of the window changes nothing; the
        // loop then refuses it.
        self.highest.fetch_max(seq, Ordering::AcqRel);
        let mut word = slot.load(Ordering::Acquire);
        loop {
            let highest = self.highest();
            self.in_window(seq, highest)?;
            let claimed = if tag(word) == block {
                if word & bit != 0 {
                    return Err(ReplayError::Duplicate { seq });
                }
                word | bit
            } else {
                // Another block: an older one, which has left the window.
                (u64::from(block) << 32) | bit
            };
            match slot.compare_exchange_weak(word, claimed, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(()),
                Err(current) => word = current,
            }
        }
    }

    /// Refuses zero (no sender uses it, RFC 4303 §3.3.3) and numbers left of the window.
    fn in_window(&self, seq: u64, highest: u64) -> Result<(), ReplayError> {
        if seq == 0 || highest.saturating_sub(seq) >= u64::from(self.size) {
            return Err(ReplayError::TooOld { seq, highest });
        }
        Ok(())
    }

    /// The slot of `seq`, its block number's low 32 bits, and its bit in the slot.
    fn position(&self, seq: u64) -> (Option<&AtomicU64>, u32, u64) {
        let block = seq / SLOT_BITS;
        let index = usize::try_from(block & self.slot_mask).ok();
        (
            index.and_then(|i| self.slots.get(i)),
            block as u32,
            1 << (seq % SLOT_BITS),
        )
    }
}

/// The block number a slot's bits are for.
fn tag(word: u64) -> u32 {
    (word >> 32) as u32
}
