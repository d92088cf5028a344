//! SAD lookup by SPI as the table grows: 1,000, 100,000 and 1,000,000 inbound SAs, looked up
//! in a random order (the order packets of many SAs arrive in).
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_crypto::{RUST_CRYPTO, SecureRandom, SeededRandom, iana};
use ipsec_esp::{EspTransform, InboundSa};
use ipsec_replay::ReplayWindow;
use ipsec_sad::{Lifetime, Mode, SaConfig, Sad};

fn populated(count: usize) -> (Sad, Vec<u32>) {
    let mut rng = SeededRandom::from_u64(count as u64);
    let aead = RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap();
    let mut sad = Sad::with_capacity(count, 0);
    let mut spis = Vec::with_capacity(count);
    while spis.len() < count {
        let spi = sad.allocate_spi(&mut rng).unwrap();
        let mut keymat = [0u8; 20];
        rng.fill(&mut keymat).unwrap();
        let sa = InboundSa::new(
            spi,
            ReplayWindow::new(64, false).unwrap(),
            EspTransform::aead(aead, &keymat).unwrap(),
        );
        let config = SaConfig::new(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
        if sad.install_inbound(spi, sa, config).is_ok() {
            spis.push(spi);
        }
    }
    // Look them up in an order unrelated to insertion.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..spis.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        spis.swap(i, (state % (i as u64 + 1)) as usize);
    }
    (sad, spis)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("sad/lookup-by-spi");
    group.throughput(Throughput::Elements(1));
    for count in [1_000usize, 100_000, 1_000_000] {
        let started = Instant::now();
        let (sad, spis) = populated(count);
        eprintln!("installed {count} SAs in {:?}", started.elapsed());
        let mut next = 0usize;
        group.bench_function(BenchmarkId::from_parameter(count), |b| {
            b.iter(|| {
                let spi = spis[next];
                next = (next + 1) % spis.len();
                black_box(sad.inbound(black_box(spi)).is_some())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
