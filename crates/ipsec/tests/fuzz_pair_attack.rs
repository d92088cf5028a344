//! The harness of the `pair_attack` fuzz target (`fuzz/fuzz_targets/pair_attack_harness.rs`,
//! included here as it is) run in the ordinary test suite: a faithful network establishes
//! and carries traffic both ways; each of the attacker's moves, and a few hundred
//! pseudo-random attacks, leave no wrong or repeated delivery and a pair that heals.
//!
//! The seeds in `fuzz/corpus/pair_attack/` are written by the ignored test
//! `write_seed_corpus`:
//!
//! ```sh
//! cargo test -p ipsec --test fuzz_pair_attack -- --ignored write_seed_corpus
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../../fuzz/fuzz_targets/pair_attack_harness.rs"]
mod harness;

use harness::{Pair, encode, run};

/// Send from A (which starts the IKE SA), then relay faithfully both ways.
fn faithful(rounds: usize) -> Vec<(u8, Vec<u8>)> {
    let mut chunks = vec![(0u8, vec![0xff])];
    for _ in 0..rounds {
        chunks.push((0x00, Vec::new()));
        chunks.push((0x01, Vec::new()));
    }
    chunks
}

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();
    let plain = faithful(6);
    let as_refs = |chunks: &[(u8, Vec<u8>)]| -> Vec<u8> {
        let refs: Vec<(u8, &[u8])> = chunks.iter().map(|(op, b)| (*op, b.as_slice())).collect();
        encode(&refs)
    };
    seeds.push(("seed-faithful", as_refs(&plain)));
    // Each move of the attacker on a handshake under way, then traffic both ways.
    for (name, op) in [
        ("seed-drop", 0x02u8),
        ("seed-duplicate", 0x04),
        ("seed-corrupt", 0x06),
        ("seed-reorder", 0x08),
        ("seed-reflect", 0x0a),
        ("seed-replay", 0x0c),
        ("seed-inject", 0x0e),
    ] {
        let mut chunks = faithful(2);
        for way in [0u8, 1] {
            chunks.push((op | way, vec![0x5a; 40]));
        }
        chunks.extend(faithful(4));
        chunks.push((0x01, vec![0xff]));
        chunks.extend(faithful(2));
        seeds.push((name, as_refs(&chunks)));
    }
    seeds
}

#[test]
fn a_faithful_network_carries_traffic_both_ways() {
    let mut pair = Pair::new();
    assert!(!pair.send(true), "the first packet starts the IKE SA");
    pair.heal();
    assert!(pair.healed());
}

/// Inputs the fuzzer found that once failed, kept in the corpus.
const REGRESSIONS: [(&str, &[u8]); 1] = [(
    // Both ends rekeyed the Child SA as it expired; the replacement we answered waited for
    // the peer's first packet, the old SA went and the redundant replacement was deleted:
    // nothing was left to send on (now the replacements take over when the old SA goes).
    "regression-rekey-collision-left-pending",
    include_bytes!("../../../fuzz/corpus/pair_attack/regression-rekey-collision-left-pending"),
)];

#[test]
fn every_seed_heals() {
    for (name, input) in REGRESSIONS {
        let result = std::panic::catch_unwind(|| run(input));
        assert!(result.is_ok(), "{name}");
    }
    for (name, input) in seeds() {
        let result = std::panic::catch_unwind(|| run(&input));
        assert!(result.is_ok(), "{name}");
    }
}

/// xorshift64*, for reproducible pseudo-random inputs.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_attacks_leave_a_pair_that_heals() {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200 {
        let len = 20 + (dice.next() % 200) as usize;
        let input: Vec<u8> = (0..len).map(|_| dice.next() as u8).collect();
        run(&input);
    }
}

#[test]
#[ignore = "writes the seed corpus of the pair_attack fuzz target"]
fn write_seed_corpus() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus/pair_attack");
    std::fs::create_dir_all(dir).unwrap();
    for (name, input) in seeds() {
        std::fs::write(format!("{dir}/{name}"), input).unwrap();
    }
}
