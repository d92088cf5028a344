//! Every AEAD of every provider compiled in: known answers, round trips, forgeries refused
//! without releasing plaintext.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use ipsec_crypto::{AEAD_IV_LEN, AeadAlgorithm, CryptoError, iana, providers};
use proptest::prelude::*;

/// Every (provider name, AEAD) pair compiled in.
fn all_aeads() -> Vec<(&'static str, &'static dyn AeadAlgorithm)> {
    providers()
        .iter()
        .flat_map(|p| p.aeads.iter().map(move |a| (p.name, *a)))
        .collect()
}

fn find(provider: &str, id: u16, bits: u16) -> &'static dyn AeadAlgorithm {
    providers()
        .iter()
        .find(|p| p.name == provider)
        .and_then(|p| p.aead(id, bits))
        .unwrap_or_else(|| panic!("{provider} has no AEAD {id}/{bits}"))
}

/// Runs one known answer: `key || salt` keying, nonce `salt || iv`.
fn known_answer(
    algorithm: &dyn AeadAlgorithm,
    keymat: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    expected: &[u8],
) {
    let key = algorithm.new_key(keymat).unwrap();
    let iv: [u8; AEAD_IV_LEN] = iv.try_into().unwrap();
    let mut buf = plaintext.to_vec();
    buf.resize(expected.len(), 0);
    key.seal_in_place(&iv, aad, &mut buf).unwrap();
    assert_eq!(
        hex::encode(&buf),
        hex::encode(expected),
        "{algorithm:?} seal"
    );
    key.open_in_place(&iv, aad, &mut buf).unwrap();
    assert_eq!(&buf[..plaintext.len()], plaintext, "{algorithm:?} open");
}

#[test]
fn rfc7634_appendix_a_esp_example_on_every_provider() {
    let data = |name: &str| {
        let text = match name {
            "key" => include_str!("data/rfc7634_esp/key.hex"),
            "salt" => include_str!("data/rfc7634_esp/salt.hex"),
            "iv" => include_str!("data/rfc7634_esp/iv.hex"),
            "aad" => include_str!("data/rfc7634_esp/aad.hex"),
            "plaintext" => include_str!("data/rfc7634_esp/plaintext.hex"),
            "ciphertext" => include_str!("data/rfc7634_esp/ciphertext.hex"),
            "tag" => include_str!("data/rfc7634_esp/tag.hex"),
            other => panic!("{other}"),
        };
        hex::decode(text.trim()).unwrap()
    };
    let keymat = [data("key"), data("salt")].concat();
    let expected = [data("ciphertext"), data("tag")].concat();
    for provider in providers() {
        let algorithm = provider.aead(iana::ENCR_CHACHA20_POLY1305, 256).unwrap();
        known_answer(
            algorithm,
            &keymat,
            &data("iv"),
            &data("aad"),
            &data("plaintext"),
            &expected,
        );
    }
}

#[test]
fn aes_gcm_known_answers_on_every_provider() {
    let vectors = common::parse(include_str!("data/aes_gcm.txt"));
    let mut checked = 0;
    for vector in vectors.iter().filter(|v| v.get("iv").len() == 12) {
        let key = vector.get("key");
        let tag = vector.get("tag");
        if tag.len() != 16 || (key.len() != 16 && key.len() != 32) {
            continue;
        }
        let bits = u16::try_from(key.len() * 8).unwrap();
        // The 12-byte GCM IV is this crate's salt (4) and explicit IV (8).
        let (salt, iv) = vector.get("iv").split_at(4);
        let keymat = [key, salt].concat();
        let plaintext = vector.opt("plaintext").unwrap_or_default();
        let expected = [vector.opt("ciphertext").unwrap_or_default(), tag].concat();
        for provider in providers() {
            known_answer(
                find(provider.name, iana::ENCR_AES_GCM_16, bits),
                &keymat,
                iv,
                vector.opt("aad").unwrap_or_default(),
                plaintext,
                &expected,
            );
        }
        checked += 1;
    }
    assert!(checked >= 4, "only {checked} AES-GCM vectors checked");
}

/// AES-GCM with 8- and 12-octet ICVs (the McGrew–Viega tags truncated, and strongSwan's own)
/// and AES-192-GCM, in ESP form: `key || salt` keying, nonce `salt || iv`.
#[test]
fn aes_gcm_short_icv_and_aes_192_on_every_provider() {
    let mut checked = 0;
    for vector in common::parse(include_str!("data/aes_gcm_short_icv.txt")) {
        let tag = vector.get("tag");
        let id = match tag.len() {
            8 => iana::ENCR_AES_GCM_8,
            12 => iana::ENCR_AES_GCM_12,
            _ => iana::ENCR_AES_GCM_16,
        };
        esp_form_known_answer(&vector, id, tag);
        checked += 1;
    }
    assert!(checked >= 12, "{checked}");
    let mut aes_192 = 0;
    for vector in common::parse(include_str!("data/aes_gcm.txt")) {
        if vector.get("key").len() == 24 && vector.get("iv").len() == 12 {
            let (salt, iv) = vector.get("iv").split_at(4);
            let keymat = [vector.get("key"), salt].concat();
            let plaintext = vector.opt("plaintext").unwrap_or_default();
            let expected = [
                vector.opt("ciphertext").unwrap_or_default(),
                vector.get("tag"),
            ]
            .concat();
            for provider in providers() {
                known_answer(
                    find(provider.name, iana::ENCR_AES_GCM_16, 192),
                    &keymat,
                    iv,
                    vector.opt("aad").unwrap_or_default(),
                    plaintext,
                    &expected,
                );
            }
            aes_192 += 1;
        }
    }
    assert_eq!(aes_192, 4, "McGrew–Viega test cases 7 to 10");
}

/// AES-CCM in the form of RFC 4309: a 3-byte salt ends the keying material and starts the
/// 11-byte nonce.
#[test]
fn aes_ccm_rfc4309_form_on_every_provider() {
    let vectors = common::parse(include_str!("data/aes_ccm_esp.txt"));
    let mut seen = std::collections::BTreeSet::new();
    for vector in &vectors {
        let tag = vector.get("tag");
        let id = match tag.len() {
            8 => iana::ENCR_AES_CCM_8,
            12 => iana::ENCR_AES_CCM_12,
            _ => iana::ENCR_AES_CCM_16,
        };
        esp_form_known_answer(vector, id, tag);
        seen.insert((vector.get("key").len(), tag.len()));
    }
    assert_eq!(
        seen.len(),
        9,
        "every key size with every ICV length: {seen:?}"
    );
}

/// One vector with fields key, salt, iv, aad, plaintext, ciphertext and `tag` on AEAD `id`.
fn esp_form_known_answer(vector: &common::vector_file::Vector, id: u16, tag: &[u8]) {
    let key = vector.get("key");
    let bits = u16::try_from(key.len() * 8).unwrap();
    let keymat = [key, vector.get("salt")].concat();
    let expected = [vector.get("ciphertext"), tag].concat();
    for provider in providers() {
        let algorithm = find(provider.name, id, bits);
        assert_eq!(algorithm.spec().icv_len, tag.len());
        assert_eq!(algorithm.spec().salt_len, vector.get("salt").len());
        known_answer(
            algorithm,
            &keymat,
            vector.get("iv"),
            vector.get("aad"),
            vector.get("plaintext"),
            &expected,
        );
    }
}

#[test]
fn chacha20_poly1305_rfc8439_on_every_provider() {
    let vectors = common::parse(include_str!("data/chacha20poly1305.txt"));
    assert!(!vectors.is_empty());
    for vector in &vectors {
        let nonce = vector.get("nonce");
        let (salt, iv) = nonce.split_at(4);
        let keymat = [vector.get("key"), salt].concat();
        let expected = [vector.get("ciphertext"), vector.get("tag")].concat();
        for provider in providers() {
            known_answer(
                provider.aead(iana::ENCR_CHACHA20_POLY1305, 256).unwrap(),
                &keymat,
                iv,
                vector.get("aad"),
                vector.get("plaintext"),
                &expected,
            );
        }
    }
}

#[test]
fn every_aead_refuses_a_flipped_bit_and_releases_no_plaintext() {
    let plaintext = b"inner packet: 45 00 00 54 ... sixty-four bytes of it, roughly.";
    for (provider, algorithm) in all_aeads() {
        let spec = algorithm.spec();
        let key = algorithm.new_key(&vec![0x42; spec.keymat_len()]).unwrap();
        let mut sealed = plaintext.to_vec();
        sealed.resize(plaintext.len() + spec.icv_len, 0);
        key.seal_in_place(&[9; 8], b"spi.seq.", &mut sealed)
            .unwrap();
        assert_eq!(
            &sealed[..plaintext.len()] == plaintext,
            !spec.encrypts,
            "{provider} {spec:?}: encryption"
        );
        for bit in 0..sealed.len() * 8 {
            let mut forged = sealed.clone();
            forged[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(
                key.open_in_place(&[9; 8], b"spi.seq.", &mut forged),
                Err(CryptoError::IntegrityCheckFailed),
                "{provider} {spec:?}: bit {bit}"
            );
            if spec.encrypts {
                assert_ne!(
                    &forged[..plaintext.len()],
                    plaintext,
                    "{provider}: plaintext leaked"
                );
            }
        }
        let mut wrong_aad = sealed.clone();
        assert!(
            key.open_in_place(&[9; 8], b"spi.seq!", &mut wrong_aad)
                .is_err()
        );
        let mut wrong_iv = sealed.clone();
        assert!(
            key.open_in_place(&[8; 8], b"spi.seq.", &mut wrong_iv)
                .is_err()
        );
    }
}

#[test]
fn buffers_shorter_than_the_icv_and_wrong_key_lengths() {
    for (provider, algorithm) in all_aeads() {
        let spec = algorithm.spec();
        assert_eq!(
            algorithm.new_key(&[0; 3]).err(),
            Some(CryptoError::KeyLength {
                expected: spec.keymat_len(),
                actual: 3
            }),
            "{provider}"
        );
        let key = algorithm.new_key(&vec![1; spec.keymat_len()]).unwrap();
        let mut short = vec![0u8; spec.icv_len - 1];
        assert!(matches!(
            key.seal_in_place(&[0; 8], &[], &mut short),
            Err(CryptoError::BufferLength { .. })
        ));
        assert!(matches!(
            key.open_in_place(&[0; 8], &[], &mut short),
            Err(CryptoError::BufferLength { .. })
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Seal then open gives the plaintext back, and every provider seals identically.
    #[test]
    fn round_trip_and_providers_agree(
        plaintext in prop::collection::vec(any::<u8>(), 0..600),
        aad in prop::collection::vec(any::<u8>(), 0..24),
        iv in any::<[u8; 8]>(),
        seed in any::<u8>(),
    ) {
        let mut by_spec: std::collections::BTreeMap<(u16, u16), Vec<u8>> = Default::default();
        for (provider, algorithm) in all_aeads() {
            let spec = algorithm.spec();
            let key = algorithm.new_key(&vec![seed; spec.keymat_len()]).unwrap();
            let mut buf = plaintext.clone();
            buf.resize(plaintext.len() + spec.icv_len, 0);
            key.seal_in_place(&iv, &aad, &mut buf).unwrap();
            if let Some(other) = by_spec.insert((spec.id, spec.key_bits), buf.clone()) {
                prop_assert_eq!(&other, &buf, "{} disagrees on {:?}", provider, spec);
            }
            key.open_in_place(&iv, &aad, &mut buf).unwrap();
            prop_assert_eq!(&buf[..plaintext.len()], &plaintext[..]);
        }
    }
}
