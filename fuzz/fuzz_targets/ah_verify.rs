//! Any bytes as an IP packet verified by AH SAs with fixed keys (HMAC-SHA-256 over IPv4 or
//! IPv6, AES-GMAC): never a panic, and a packet that verifies was sealed with the same key
//! (the seeds are OpenDataPlane's published packets). The first byte picks the SA.
#![no_main]

use std::sync::{Mutex, OnceLock};

use ipsec_ah::{AhTransform, InboundAhSa};
use ipsec_crypto::{RUST_CRYPTO, iana};
use ipsec_replay::ReplayWindow;
use libfuzzer_sys::fuzz_target;

fn sas() -> &'static Mutex<[InboundAhSa; 2]> {
    static SAS: OnceLock<Mutex<[InboundAhSa; 2]>> = OnceLock::new();
    SAS.get_or_init(|| {
        let hmac = AhTransform::new(
            RUST_CRYPTO.integrity(iana::AUTH_HMAC_SHA2_256_128).unwrap(),
            &[0x5a; 32],
        )
        .unwrap();
        let gmac = AhTransform::new(RUST_CRYPTO.integrity(9).unwrap(), &[0xa5; 20]).unwrap();
        // A window that only ever moves forward would refuse the seeds after the first
        // input; a wide one keeps them checkable for longer.
        Mutex::new([
            InboundAhSa::new(0x7b, ReplayWindow::new(65_536, false).unwrap(), hmac),
            InboundAhSa::new(0x7b, ReplayWindow::new(65_536, false).unwrap(), gmac),
        ])
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, packet)) = data.split_first() else {
        return;
    };
    let mut sas = sas().lock().unwrap();
    let sa = &mut sas[usize::from(which & 1)];
    if let Ok(opened) = sa.open(packet) {
        assert!(opened.payload.len() < packet.len());
    }
});
