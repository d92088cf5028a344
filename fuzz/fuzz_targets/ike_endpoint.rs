//! Arbitrary datagrams, several per input, fed to an IKEv2 responder (PSK peer, responder
//! proposals, a low cookie threshold) and to an initiator waiting for its IKE_SA_INIT
//! response, with a fake clock moving between them; real messages relayed between the two,
//! faithfully or with bits flipped. Never a panic, a bounded number of IKE SAs, and equal
//! Child SA keys wherever both sides report the same SPI. The input format and the setup are
//! in `ike_endpoint_harness.rs`.
#![no_main]

mod ike_endpoint_harness;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ike_endpoint_harness::run(data);
});
