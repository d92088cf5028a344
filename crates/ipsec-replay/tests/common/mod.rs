//! Window sizes and traffic for the property tests of both windows.
#![allow(unreachable_pub)]

use proptest::prelude::*;

/// Window sizes from the smallest to a wide one.
pub fn sizes() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(32u32),
        Just(64),
        Just(96),
        Just(128),
        Just(1024),
        Just(4096),
        Just(65_536)
    ]
}

/// Sequence numbers as a sender emits them, then reordered, duplicated and dropped: each
/// step moves forward a little, or repeats or reaches back into the past.
pub fn traffic(start: u64) -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(
        prop_oneof![
            6 => (1u64..8).prop_map(|d| d as i64),
            2 => (1u64..200).prop_map(|d| d as i64),
            1 => (1u64..100_000).prop_map(|d| d as i64),
            2 => (0u64..300).prop_map(|d| -(d as i64)),
            1 => (0u64..100_000).prop_map(|d| -(d as i64)),
        ],
        1..400,
    )
    .prop_map(move |steps| {
        let mut sent = start;
        let mut out = Vec::new();
        for step in steps {
            if step > 0 {
                sent = sent.saturating_add(step as u64);
                out.push(sent);
            } else {
                out.push(sent.saturating_sub(step.unsigned_abs()));
            }
        }
        out
    })
}
