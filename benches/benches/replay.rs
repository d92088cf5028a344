//! The anti-replay window: `check` then `commit` per packet, in order and reordered, for
//! windows of 64 and 4096 packets.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_replay::ReplayWindow;

/// Sequence numbers that arrive out of order: blocks of 32 sent backwards, so each packet is
/// up to 31 behind the highest seen.
fn reordered(count: u32) -> Vec<u32> {
    (0..count)
        .map(|i| (i / 32) * 32 + (31 - i % 32) + 1)
        .collect()
}

fn bench(c: &mut Criterion) {
    const BATCH: u32 = 4096;
    let mut group = c.benchmark_group("replay");
    group.throughput(Throughput::Elements(u64::from(BATCH)));
    for size in [64u32, 4096] {
        let in_order: Vec<u32> = (1..=BATCH).collect();
        let shuffled = reordered(BATCH);
        for (name, sequence) in [("in-order", &in_order), ("reordered", &shuffled)] {
            group.bench_function(BenchmarkId::new(name, size), |b| {
                let mut base = 0u32;
                let mut window = ReplayWindow::new(size, false).unwrap();
                b.iter(|| {
                    for seq in sequence {
                        let seq = window.check(black_box(base + seq)).unwrap();
                        window.commit(seq).unwrap();
                    }
                    base += BATCH;
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
