//! ESP seal and open through an SA beside the raw AEAD on the same buffer, for every AEAD of
//! every provider, at 64, 576, 1400 and 9000-byte payloads. One criterion group per
//! algorithm, so the providers and the raw/ESP pairs are measured side by side:
//! `esp/<algorithm>/<provider>-<raw|esp>-<seal|open>/<size>`.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_crypto::{AeadAlgorithm, iana, providers};
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_replay::ReplayWindow;

const SIZES: [usize; 4] = [64, 576, 1400, 9000];
const ICV: usize = 16;

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
    let mut buf = vec![0u8; size + ICV];
    c.bench_function(
        BenchmarkId::new(format!("{provider}-raw-seal"), size),
        |b| {
            b.iter(|| {
                key.seal_in_place(black_box(&iv), black_box(&aad), black_box(&mut buf))
                    .unwrap()
            })
        },
    );
    let mut sealed = vec![0u8; size + ICV];
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
    let transform = || EspTransform::aead(algorithm, &keymat).unwrap();
    let mut out = OutboundSa::new(0x1000, false, transform());
    let mut buf = vec![0u8; out.packet_len(size)];
    c.bench_function(
        BenchmarkId::new(format!("{provider}-esp-seal"), size),
        |b| b.iter(|| out.seal(black_box(&mut buf), size, 4).unwrap()),
    );
    // Each opened packet needs a fresh sequence number: the untimed setup seals it.
    let mut sender = OutboundSa::new(0x2000, false, transform());
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

criterion_group!(benches, bench);
criterion_main!(benches);
