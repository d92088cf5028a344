//! Any bytes opened by ESP SAs with fixed keys (AES-GCM with ESN, AES-CBC with
//! HMAC-SHA-256): never a panic, and a packet that opens was sealed with the same key (the
//! seeds are). The first byte picks the SA; the SAs live across inputs, as on a gateway.
#![no_main]

use std::sync::{Mutex, OnceLock};

use ipsec_crypto::{RUST_CRYPTO, iana};
use ipsec_esp::{EspTransform, InboundSa};
use ipsec_replay::ReplayWindow;
use libfuzzer_sys::fuzz_target;

fn sas() -> &'static Mutex<[InboundSa; 2]> {
    static SAS: OnceLock<Mutex<[InboundSa; 2]>> = OnceLock::new();
    SAS.get_or_init(|| {
        let gcm = EspTransform::aead(
            RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap(),
            &[0x11; 20],
        )
        .unwrap();
        let cbc = EspTransform::cipher_integrity(
            RUST_CRYPTO.cipher(iana::ENCR_AES_CBC, 128).unwrap(),
            RUST_CRYPTO.integrity(iana::AUTH_HMAC_SHA2_256_128).unwrap(),
            &[0x22; 48],
        )
        .unwrap();
        Mutex::new([
            InboundSa::new(0x100, ReplayWindow::new(64, true).unwrap(), gcm),
            InboundSa::new(0x200, ReplayWindow::new(64, false).unwrap(), cbc),
        ])
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, packet)) = data.split_first() else {
        return;
    };
    let mut sas = sas().lock().unwrap();
    let sa = &mut sas[usize::from(which & 1)];
    let mut buf = packet.to_vec();
    if let Ok(opened) = sa.open(&mut buf) {
        assert!(opened.payload.len() <= packet.len());
    }
});
