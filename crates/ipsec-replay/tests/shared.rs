//! The lock-free window against the single-owner one and against threads: taken one packet
//! at a time it answers exactly as `ReplayWindow` does (check and commit, 32-bit and
//! extended numbers, every size); committed from several threads at once, every number is
//! accepted once and only once, and nothing older than the window gets in.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

mod common;

use common::{sizes, traffic};
use ipsec_replay::{ReplayError, ReplayWindow, SharedReplayWindow};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// One packet at a time, both windows give the same answers to `check` and `commit`.
    #[test]
    fn answers_as_the_single_owner_window(
        size in sizes(),
        esn in any::<bool>(),
        high in 0u64..3,
        seqs in traffic(0),
    ) {
        let start = if esn { (high << 32).saturating_sub(5_000).max(1) } else { 1 };
        let mut single = ReplayWindow::new(size, esn).unwrap();
        let shared = SharedReplayWindow::new(size, esn).unwrap();
        single.commit(start).unwrap();
        shared.commit(start).unwrap();
        for seq in seqs.into_iter().map(|s| s + start) {
            if !esn && seq > u64::from(u32::MAX) {
                continue;
            }
            let low = seq as u32;
            let expected = single.check(low);
            prop_assert_eq!(shared.check(low), expected, "check {}", seq);
            if let Ok(full) = expected {
                prop_assert_eq!(shared.commit(full), single.commit(full), "commit {}", full);
            }
            prop_assert_eq!(shared.highest(), single.highest());
        }
    }
}

#[test]
fn window_edges_and_duplicates() {
    let window = SharedReplayWindow::new(64, false).unwrap();
    assert_eq!(
        window.commit(0),
        Err(ReplayError::TooOld { seq: 0, highest: 0 })
    );
    window.commit(window.check(100).unwrap()).unwrap();
    assert_eq!(
        window.check(36),
        Err(ReplayError::TooOld {
            seq: 36,
            highest: 100
        })
    );
    assert_eq!(window.check(37), Ok(37));
    window.commit(37).unwrap();
    assert_eq!(window.check(37), Err(ReplayError::Duplicate { seq: 37 }));
    assert_eq!(window.commit(37), Err(ReplayError::Duplicate { seq: 37 }));
    assert_eq!(window.commit(100), Err(ReplayError::Duplicate { seq: 100 }));
    // A jump far ahead leaves everything before the window out.
    window.commit(1_000_000).unwrap();
    assert!(matches!(
        window.check(999_936),
        Err(ReplayError::TooOld { .. })
    ));
    assert_eq!(window.check(999_937), Ok(999_937));
    assert!(SharedReplayWindow::new(48, false).is_err());
}

/// Four threads commit the same numbers, each in its own order, while the window moves:
/// each number is accepted by exactly one of them, and none older than the window at the
/// moment of its commit.
#[test]
fn threads_accept_each_number_once() {
    const COUNT: u64 = 20_000;
    for size in [64u32, 1024] {
        let window = SharedReplayWindow::new(size, false).unwrap();
        let accepted = AtomicU64::new(0);
        let taken: Vec<BTreeSet<u64>> = thread::scope(|scope| {
            let workers: Vec<_> = (0..4u64)
                .map(|t| {
                    let (window, accepted) = (&window, &accepted);
                    scope.spawn(move || {
                        let mut mine = BTreeSet::new();
                        for i in 1..=COUNT {
                            // Each thread a little out of order, differently.
                            let seq = if (i + t) % 3 == 0 {
                                i.saturating_sub(t + 1).max(1)
                            } else {
                                i
                            };
                            if window.check(seq as u32).is_ok() && window.commit(seq).is_ok() {
                                assert!(mine.insert(seq), "accepted {seq} twice in one thread");
                                accepted.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        mine
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let mut all = BTreeSet::new();
        for set in &taken {
            for seq in set {
                assert!(
                    all.insert(*seq),
                    "size {size}: {seq} accepted by two threads"
                );
            }
        }
        assert_eq!(all.len() as u64, accepted.load(Ordering::Relaxed));
        assert_eq!(window.highest(), COUNT);
        // Every number of the last window was accepted by someone: nothing new was lost.
        let last = COUNT - u64::from(size) + 1..=COUNT;
        assert!(last.clone().all(|seq| all.contains(&seq)), "size {size}");
    }
}
