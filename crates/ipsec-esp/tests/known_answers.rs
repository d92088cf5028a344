//! Published ESP packets opened through an SA: draft-mcgrew-gcm-test-01 (AES-GCM and AES-GMAC,
//! 32-bit and extended sequence numbers) and RFC 3602 (AES-CBC framing). Provenance:
//! `tests/data/README.md`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use ipsec_crypto::{iana, providers};
use ipsec_esp::{EspTransform, InboundSa, check_default_padding, emit_trailer, split_plaintext};
use ipsec_replay::ReplayWindow;

#[test]
fn draft_mcgrew_gcm_test_01_packets_open() {
    let vectors = common::parse(include_str!("data/gcm_esp_draft_mcgrew.txt"));
    assert_eq!(vectors.len(), 17);
    for provider in providers() {
        for vector in &vectors {
            let key = vector.get("key");
            let bits = u16::try_from(key.len() * 8).unwrap();
            let gmac = vector.name.contains("GMAC");
            let id = if gmac {
                iana::ENCR_NULL_AUTH_AES_GMAC
            } else {
                iana::ENCR_AES_GCM_16
            };
            let Some(algorithm) = provider.aead(id, bits) else {
                // AES-192 is not offered (RFC 8221 lists only 128 and 256 bits).
                assert_eq!(bits, 192, "{}", vector.name);
                continue;
            };
            let keymat = [key, vector.get("salt")].concat();
            let transform = EspTransform::aead(algorithm, &keymat).unwrap();
            let seq_field = vector.get("seq");
            let esn = seq_field.len() == 8;
            let seq = if esn {
                u64::from_be_bytes(seq_field.try_into().unwrap())
            } else {
                u64::from(u32::from_be_bytes(seq_field.try_into().unwrap()))
            };
            // A receiver that has seen the packet before this one infers the high half.
            let mut window = ReplayWindow::new(64, esn).unwrap();
            if seq > 1 {
                window.commit(seq - 1).unwrap();
            }
            let spi = u32::from_be_bytes(vector.get("spi").try_into().unwrap());
            if spi == 0 {
                // SPI 0 must never be sent (RFC 4303 §2.1): the SA refuses the packet, and
                // the vector's cryptography is checked on the AEAD alone.
                let mut sa = InboundSa::new(spi, window, transform);
                let mut packet = vector.get("packet").to_vec();
                assert_eq!(
                    sa.open(&mut packet),
                    Err(ipsec_esp::OpenError::Malformed(
                        ipsec_esp::Error::ReservedSpi
                    ))
                );
                let aead = algorithm.new_key(&keymat).unwrap();
                let mut body = [vector.get("ciphertext"), vector.get("icv")].concat();
                let iv: [u8; 8] = vector.get("iv").try_into().unwrap();
                aead.open_in_place(&iv, vector.get("aad"), &mut body)
                    .unwrap();
                assert_eq!(
                    &body[..vector.get("plaintext").len()],
                    vector.get("plaintext")
                );
                continue;
            }
            let mut sa = InboundSa::new(spi, window, transform);
            let mut packet = vector.get("packet").to_vec();
            let opened = sa
                .open(&mut packet)
                .unwrap_or_else(|e| panic!("{} on {}: {e}", vector.name, provider.name));
            assert_eq!(opened.payload, vector.get("payload"), "{}", vector.name);
            assert_eq!(opened.next_header, vector.get("next_header")[0]);
            assert_eq!(opened.sequence_number, seq, "{}", vector.name);
            // A changed ICV byte is refused.
            let mut forged = vector.get("packet").to_vec();
            *forged.last_mut().unwrap() ^= 1;
            let mut fresh = InboundSa::new(
                spi,
                ReplayWindow::new(64, esn).unwrap(),
                EspTransform::aead(algorithm, &keymat).unwrap(),
            );
            assert!(fresh.open(&mut forged).is_err());
        }
    }
}

#[test]
fn rfc3602_esp_framing_with_aes_cbc() {
    // RFC 3602's ESP cases carry no ICV, which this crate's SAs always require (RFC 8221
    // §5); the cipher and the padding rules are checked here on their own.
    let vectors = common::parse(include_str!("data/rfc3602_esp.txt"));
    assert_eq!(vectors.len(), 4);
    for provider in providers() {
        for vector in &vectors {
            let cipher = provider
                .cipher(iana::ENCR_AES_CBC, 128)
                .unwrap()
                .new_key(vector.get("key"))
                .unwrap();
            let payload = vector.get("payload");
            let mut plaintext = payload.to_vec();
            plaintext.resize(payload.len() + 64, 0);
            let len = emit_trailer(
                &mut plaintext,
                payload.len(),
                16,
                vector.get("next_header")[0],
            )
            .unwrap();
            plaintext.truncate(len);
            assert_eq!(plaintext, vector.get("esp_plaintext"), "{}", vector.name);
            cipher
                .encrypt_in_place(vector.get("iv"), &mut plaintext)
                .unwrap();
            assert_eq!(plaintext, vector.get("ciphertext"), "{}", vector.name);
            let esp = vector.get("esp");
            let mut ciphertext = esp[24..].to_vec();
            cipher
                .decrypt_in_place(&esp[8..24], &mut ciphertext)
                .unwrap();
            let (opened, trailer) = split_plaintext(&ciphertext).unwrap();
            assert_eq!(opened, payload);
            assert_eq!(trailer.pad_length, vector.get("pad_length")[0]);
            let padding = &ciphertext[opened.len()..ciphertext.len() - 2];
            check_default_padding(padding).unwrap();
        }
    }
}
