//! ESP seal and open through an SA beside the raw AEAD on the same buffer, for every AEAD of
//! every provider, at 64, 576, 1400 and 9000-byte payloads. One criterion group per
//! algorithm, so the providers and the raw/ESP pairs are measured side by side:
//! `esp/<algorithm>/<provider>-<raw|esp>-<seal|open>/<size>`.
//!
//! The algorithms beyond the defaults (AES-192, short ICVs, AES-CCM; AES-CTR and AES-CBC with
//! HMAC-SHA-1, HMAC-SHA-256 or AES-XCBC) run at 64 and 1400 bytes on the default provider,
//! the cipher-and-integrity ones beside the raw cipher plus integrity on the same buffer:
//! `esp-extra/<algorithm>/<raw|esp>-<seal|open>/<size>`.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_crypto::{
    AeadAlgorithm, CipherAlgorithm, IntegrityAlgorithm, RUST_CRYPTO, iana, providers,
};
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_replay::ReplayWindow;

const SIZES: [usize; 4] = [64, 576, 1400, 9000];
const EXTRA_SIZES: [usize; 2] = [64, 1400];

fn algorithms() -> [(&'static str, u16, u16); 3] {
    [
        ("aes128gcm16", iana::ENCR_AES_GCM_16, 128),
        ("aes256gcm16", iana::ENCR_AES_GCM_16, 256),
        ("chacha20poly1305", iana::ENCR_CHACHA20_POLY1305, 256),
    ]
}

fn raw(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    provider: &str,
    algorithm: &dyn AeadAlgorithm,
    size: usize,
) {
    let key = algorithm
        .new_key(&vec![7; algorithm.spec().keymat_len()])
        .unwrap();
    let aad = [1u8; 8];
    let iv = [2u8; 8];
    let icv = algorithm.spec().icv_len;
    let mut buf = vec![0u8; size + icv];
    c.bench_function(
        BenchmarkId::new(format!("{provider}-raw-seal"), size),
        |b| {
            b.iter(|| {
                key.seal_in_place(black_box(&iv), black_box(&aad), black_box(&mut buf))
                    .unwrap()
            })
        },
    );
    let mut sealed = vec![0u8; size + icv];
    key.seal_in_place(&iv, &aad, &mut sealed).unwrap();
    c.bench_function(
        BenchmarkId::new(format!("{provider}-raw-open"), size),
        |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |packet| {
                    key.open_in_place(black_box(&iv), black_box(&aad), packet)
                        .unwrap()
                },
                BatchSize::SmallInput,
            )
        },
    );
}

fn esp(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    provider: &str,
    algorithm: &dyn AeadAlgorithm,
    size: usize,
) {
    let keymat = vec![7; algorithm.spec().keymat_len()];
    esp_sa(c, provider, size, || {
        EspTransform::aead(algorithm, &keymat).unwrap()
    });
}

/// ESP seal and open of `size`-byte payloads through SAs made by `transform`.
fn esp_sa(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    provider: &str,
    size: usize,
    transform: impl Fn() -> EspTransform,
) {
    let out = OutboundSa::new(0x1000, false, transform());
    let mut buf = vec![0u8; out.packet_len(size)];
    c.bench_function(
        BenchmarkId::new(format!("{provider}-esp-seal"), size),
        |b| b.iter(|| out.seal(black_box(&mut buf), size, 4).unwrap()),
    );
    // Each opened packet needs a fresh sequence number: the untimed setup seals it.
    let sender = OutboundSa::new(0x2000, false, transform());
    let mut sa = InboundSa::new(0x2000, ReplayWindow::new(64, false).unwrap(), transform());
    let mut template = vec![0u8; sender.packet_len(size)];
    c.bench_function(
        BenchmarkId::new(format!("{provider}-esp-open"), size),
        |b| {
            b.iter_batched_ref(
                || {
                    sender.seal(&mut template, size, 4).unwrap();
                    template.clone()
                },
                |packet| {
                    sa.open(black_box(packet)).unwrap();
                },
                BatchSize::SmallInput,
            )
        },
    );
}

/// The raw cipher and integrity algorithm on one buffer, as ESP uses them (encrypt, then the
/// ICV over IV and ciphertext; open: check the ICV, then decrypt), beside ESP.
fn cipher_integrity(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    cipher: &dyn CipherAlgorithm,
    integrity: &dyn IntegrityAlgorithm,
    size: usize,
) {
    let keymat = vec![7; cipher.spec().keymat_len() + integrity.spec().key_len];
    let (cipher_key, integrity_key) = keymat.split_at(cipher.spec().keymat_len());
    let keyed_cipher = cipher.new_key(cipher_key).unwrap();
    let keyed_integrity = integrity.new_key(integrity_key).unwrap();
    let iv = vec![2u8; cipher.spec().iv_len];
    let block = cipher.spec().block_len.max(4);
    let mut buf = vec![0u8; size.div_ceil(block) * block];
    let mut icv = vec![0u8; integrity.spec().icv_len];
    c.bench_function(BenchmarkId::new("raw-seal", size), |b| {
        b.iter(|| {
            keyed_cipher
                .encrypt_in_place(black_box(&iv), black_box(&mut buf))
                .unwrap();
            keyed_integrity
                .compute(&[&[1u8; 8], &iv, &buf], black_box(&mut icv))
                .unwrap();
        })
    });
    keyed_integrity
        .compute(&[&[1u8; 8], &iv, &buf], &mut icv)
        .unwrap();
    c.bench_function(BenchmarkId::new("raw-open", size), |b| {
        b.iter_batched_ref(
            || buf.clone(),
            |packet| {
                keyed_integrity
                    .verify(&[&[1u8; 8], &iv, packet], black_box(&icv))
                    .unwrap();
                keyed_cipher
                    .decrypt_in_place(black_box(&iv), packet)
                    .unwrap();
            },
            BatchSize::SmallInput,
        )
    });
    esp_sa(c, "default", size, || {
        EspTransform::cipher_integrity(cipher, integrity, &keymat).unwrap()
    });
}

fn bench_extra(c: &mut Criterion) {
    let aeads = [
        ("aes192gcm16", iana::ENCR_AES_GCM_16, 192),
        ("aes128gcm12", iana::ENCR_AES_GCM_12, 128),
        ("aes128gcm8", iana::ENCR_AES_GCM_8, 128),
        ("aes128ccm16", iana::ENCR_AES_CCM_16, 128),
        ("aes256ccm16", iana::ENCR_AES_CCM_16, 256),
        ("aes128ccm8", iana::ENCR_AES_CCM_8, 128),
    ];
    for (name, id, bits) in aeads {
        let mut group = c.benchmark_group(format!("esp-extra/{name}"));
        let algorithm = RUST_CRYPTO.aead(id, bits).unwrap();
        for size in EXTRA_SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            raw(&mut group, "default", algorithm, size);
            esp(&mut group, "default", algorithm, size);
        }
        group.finish();
    }
    let classic = [
        (
            "aes128ctr-sha256",
            iana::ENCR_AES_CTR,
            128,
            iana::AUTH_HMAC_SHA2_256_128,
        ),
        (
            "aes256ctr-sha1",
            iana::ENCR_AES_CTR,
            256,
            iana::AUTH_HMAC_SHA1_96,
        ),
        (
            "aes128-sha1",
            iana::ENCR_AES_CBC,
            128,
            iana::AUTH_HMAC_SHA1_96,
        ),
        (
            "aes128-aesxcbc",
            iana::ENCR_AES_CBC,
            128,
            iana::AUTH_AES_XCBC_96,
        ),
        (
            "aes192-sha256",
            iana::ENCR_AES_CBC,
            192,
            iana::AUTH_HMAC_SHA2_256_128,
        ),
    ];
    for (name, id, bits, integrity) in classic {
        let mut group = c.benchmark_group(format!("esp-extra/{name}"));
        let cipher = RUST_CRYPTO.cipher(id, bits).unwrap();
        let integrity = RUST_CRYPTO.integrity(integrity).unwrap();
        for size in EXTRA_SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            cipher_integrity(&mut group, cipher, integrity, size);
        }
        group.finish();
    }
}

fn bench(c: &mut Criterion) {
    for (name, id, bits) in algorithms() {
        let mut group = c.benchmark_group(format!("esp/{name}"));
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            for provider in providers() {
                let algorithm = provider.aead(id, bits).unwrap();
                raw(&mut group, provider.name, algorithm, size);
                esp(&mut group, provider.name, algorithm, size);
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench, bench_extra);
criterion_main!(benches);
