//! Two facade endpoints (a client and a gateway) with an attacker in the middle who can
//! drop, corrupt, duplicate, replay, reorder, reflect and inject datagrams with the live
//! SPIs, and a fake clock. Never a panic; every inner packet delivered was sent by the
//! peer, once; and the pair heals once the attack stops. The input format and the checks
//! are in `pair_attack_harness.rs`.
#![no_main]

mod pair_attack_harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pair_attack_harness::run(data);
});
