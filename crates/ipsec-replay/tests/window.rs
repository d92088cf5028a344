//! The window against a reference model: a set of accepted numbers and the highest one.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;

mod common;

use common::{sizes, traffic};
use ipsec_replay::{InvalidWindowSize, ReplayError, ReplayWindow};
use proptest::prelude::*;

/// What RFC 4303 §3.4.3 says the receiver does with full sequence number `seq`.
#[derive(Debug, Default)]
struct Model {
    accepted: BTreeSet<u64>,
    highest: u64,
}

impl Model {
    fn receive(&mut self, seq: u64, size: u32) -> Result<u64, ReplayError> {
        if seq == 0 || self.highest.saturating_sub(seq) >= u64::from(size) {
            return Err(ReplayError::TooOld {
                seq,
                highest: self.highest,
            });
        }
        if !self.accepted.insert(seq) {
            return Err(ReplayError::Duplicate { seq });
        }
        self.highest = self.highest.max(seq);
        Ok(seq)
    }
}

fn receive(window: &mut ReplayWindow, seq: u64) -> Result<u64, ReplayError> {
    let full = window.check(seq as u32)?;
    window.commit(full)?;
    Ok(full)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// 32-bit sequence numbers: the window decides exactly as the model does.
    #[test]
    fn matches_the_model(size in sizes(), seqs in traffic(0)) {
        let mut window = ReplayWindow::new(size, false).unwrap();
        let mut model = Model::default();
        for seq in seqs.into_iter().filter(|s| *s <= u64::from(u32::MAX)) {
            prop_assert_eq!(receive(&mut window, seq), model.receive(seq, size), "seq {}", seq);
            prop_assert_eq!(window.highest(), model.highest);
        }
    }

    /// Extended sequence numbers across 2^32 boundaries: the high half is inferred from the
    /// low 32 bits exactly, and the window decides as the model does (RFC 4303 App. A).
    #[test]
    fn esn_across_subspaces(
        size in sizes(),
        high in 0u64..4,
        offset in 0u64..300_000,
        seqs in traffic(0),
    ) {
        let start = (high << 32).saturating_sub(offset).max(1);
        // The SA has already carried traffic up to `start`.
        let mut window = ReplayWindow::new(size, true).unwrap();
        window.commit(start).unwrap();
        let mut model = Model::default();
        model.receive(start, size).unwrap();
        for seq in seqs.into_iter().map(|s| s + start) {
            let expected = model.receive(seq, size);
            // The sender's ICV covers the full number (RFC 4303 §2.2.1): a wrongly inferred
            // high half fails the ICV, and then nothing is committed.
            let got = window.check(seq as u32).and_then(|full| {
                if full == seq {
                    window.commit(full).map(|()| full)
                } else {
                    Err(ReplayError::TooOld { seq, highest: window.highest() })
                }
            });
            match expected {
                Ok(_) => prop_assert_eq!(got, Ok(seq)),
                Err(ReplayError::TooOld { .. }) => prop_assert!(got.is_err()),
                Err(e) => prop_assert_eq!(got, Err(e)),
            }
            prop_assert_eq!(window.highest(), model.highest);
        }
    }

    /// `check` never changes the window: only `commit` does, after the ICV.
    #[test]
    fn check_alone_moves_nothing(size in sizes(), seqs in traffic(0)) {
        let window = ReplayWindow::new(size, false).unwrap();
        for seq in seqs.into_iter().filter(|s| *s <= u64::from(u32::MAX)) {
            let _ = window.check(seq as u32);
            prop_assert_eq!(window.highest(), 0);
        }
    }
}

#[test]
fn window_edges() {
    let mut window = ReplayWindow::new(64, false).unwrap();
    assert_eq!(
        window.check(0),
        Err(ReplayError::TooOld { seq: 0, highest: 0 })
    );
    receive(&mut window, 200).unwrap();
    // The window holds 137..=200.
    assert_eq!(receive(&mut window, 137), Ok(137));
    assert_eq!(
        window.check(136),
        Err(ReplayError::TooOld {
            seq: 136,
            highest: 200
        })
    );
    assert_eq!(window.check(137), Err(ReplayError::Duplicate { seq: 137 }));
    // A jump far beyond the bitmap clears it all.
    receive(&mut window, 1_000_000).unwrap();
    assert_eq!(window.check(999_937), Ok(999_937));
    assert!(window.check(999_936).is_err());
}

#[test]
fn commit_refuses_a_second_copy_that_passed_check() {
    let mut window = ReplayWindow::new(32, false).unwrap();
    let first = window.check(5).unwrap();
    let second = window.check(5).unwrap();
    window.commit(first).unwrap();
    assert_eq!(
        window.commit(second),
        Err(ReplayError::Duplicate { seq: 5 })
    );
}

#[test]
fn esn_inference_cases_of_appendix_a() {
    let mut window = ReplayWindow::new(64, true).unwrap();
    // Case A, within one subspace: before the window means the next subspace.
    let top = (1u64 << 32) + 1000;
    window.commit(top).unwrap();
    assert_eq!(window.infer(990), Some(top - 10));
    assert_eq!(window.infer(2000), Some(top + 1000));
    assert_eq!(window.infer(900), Some((2u64 << 32) + 900));
    // Case B, the window spans the boundary: high numbers belong to the previous subspace.
    let mut window = ReplayWindow::new(64, true).unwrap();
    let top = (1u64 << 32) + 10;
    window.commit(top).unwrap();
    assert_eq!(window.infer(u32::MAX - 5), Some((1u64 << 32) - 6));
    assert_eq!(window.infer(5), Some(top - 5));
    assert_eq!(window.check(u32::MAX - 5), Ok((1u64 << 32) - 6));
    // Nothing received yet: numbers just below 2^32 cannot come before the first packet.
    let window = ReplayWindow::new(64, true).unwrap();
    assert_eq!(window.infer(u32::MAX), None);
    assert!(window.check(u32::MAX).is_err());
}

#[test]
fn sizes_accepted() {
    for size in [32, 64, 96, 4096, 65_536, 1 << 20] {
        assert_eq!(ReplayWindow::new(size, false).unwrap().size(), size);
    }
    for size in [0, 16, 33, 100, (1 << 20) + 32] {
        assert_eq!(
            ReplayWindow::new(size, false).unwrap_err(),
            InvalidWindowSize(size)
        );
    }
}
