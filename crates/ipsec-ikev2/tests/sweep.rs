//! A seed sweep: every run, under seeded loss, duplication, reordering and delay, either
//! establishes with equal keys on both sides or fails with a reported reason. Set
//! `IKE_SWEEP_SEEDS` for a longer run (the suite runs 1,000).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{Network, Pair, Side, site_to_site};
use ipsec_ikev2::Event;

#[test]
fn every_seed_establishes_or_fails_with_a_reason() {
    let seeds: u64 = std::env::var("IKE_SWEEP_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let (mut up, mut failed) = (0u64, 0u64);
    for seed in 0..seeds {
        let network = Network {
            loss: (seed % 7) as f64 * 0.05,
            duplicate: (seed % 5) as f64 * 0.1,
            jitter: Duration::from_millis(seed % 300),
            delay: Duration::from_millis(seed % 50),
            nat: seed % 3 == 0,
            dead_after: None,
        };
        let (a, b) = site_to_site();
        let (mut pair, a) = Pair::with_peers(seed, a, b, network);
        pair.initiate(a);
        pair.drive(Duration::from_secs(300));
        if pair.established(Side::A) && pair.established(Side::B) {
            let child = |side| {
                pair.child(side)
                    .unwrap_or_else(|| panic!("seed {seed}: {side:?} has no Child SA"))
            };
            let (ca, cb) = (child(Side::A), child(Side::B));
            assert_eq!(ca.inbound_keymat, cb.outbound_keymat, "seed {seed}");
            assert_eq!(ca.outbound_keymat, cb.inbound_keymat, "seed {seed}");
            assert_eq!(ca.inbound_spi, cb.outbound_spi, "seed {seed}");
            assert_eq!(ca.udp_encapsulation, network.nat, "seed {seed}");
            let keys = |side| {
                pair.events(side).iter().find_map(|e| match e {
                    Event::IkeSaEstablished { keys, .. } => keys.clone(),
                    _ => None,
                })
            };
            assert_eq!(keys(Side::A), keys(Side::B), "seed {seed}");
            up += 1;
        } else {
            // The initiator always knows why it gave up; the responder may have established
            // and then lose its peer, or never have seen IKE_AUTH.
            let reason = pair.closed(Side::A);
            assert!(
                reason.is_some(),
                "seed {seed}: A neither established nor closed"
            );
            failed += 1;
        }
    }
    println!("seed sweep: {up} established, {failed} failed with a reason, of {seeds}");
    assert!(up >= seeds * 9 / 10, "only {up} of {seeds} established");
}
