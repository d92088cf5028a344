//! ESP through one SA from one and from two threads at once (the SA shared: an atomic
//! sequence counter outbound, the lock-free `SharedReplayWindow` inbound), AES-256-GCM on the default provider, 64 and 1400 bytes:
//! sealing alone, and sealing then opening each packet (a worker's two directions),
//! `esp-threads/<1|2>-threads-<seal|seal-open>/<size>`. Time is per packet over all
//! threads: two threads on this 2-core machine should carry close to twice one thread's
//! packets.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_crypto::{RUST_CRYPTO, iana};
use ipsec_esp::{EspTransform, InboundKeys, OutboundSa};
use ipsec_replay::SharedReplayWindow;

const SIZES: [usize; 2] = [64, 1400];

fn transform() -> EspTransform {
    EspTransform::aead(
        RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 256).unwrap(),
        &[7; 36],
    )
    .unwrap()
}

/// Runs `work(thread, count)` on `threads` threads, `total` calls shared out; the wall time.
fn on_threads(threads: usize, total: u64, work: impl Fn(usize, u64) + Sync) -> Duration {
    let each = total.div_ceil(threads as u64);
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    thread::scope(|scope| {
        for t in 0..threads {
            let work = &work;
            scope.spawn(move || work(t, each));
        }
    });
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("esp-threads");
    for size in SIZES {
        group.throughput(Throughput::Elements(1));
        for threads in [1, 2] {
            let sa = OutboundSa::resume(0x1000, true, transform(), 0);
            let len = sa.packet_len(size);
            group.bench_function(
                BenchmarkId::new(format!("{threads}-threads-seal"), size),
                |b| {
                    b.iter_custom(|iters| {
                        on_threads(threads, iters, |_, count| {
                            let mut buf = vec![0u8; len];
                            for _ in 0..count {
                                sa.seal(black_box(&mut buf), size, 4).unwrap();
                            }
                        })
                    })
                },
            );

            // Seal and open in one loop, as a gateway's worker does for the two
            // directions: the open needs a fresh sequence number each time, which only a
            // seal just before can give without a timed-out batch.
            let sender = OutboundSa::new(0x2000, true, transform());
            let keys = InboundKeys::new(0x2000, transform());
            // The widest window: a thread the scheduler stops for a while must not find its
            // packet left of it when it resumes.
            let window = SharedReplayWindow::new(ipsec_replay::MAX_WINDOW, true).unwrap();
            group.bench_function(
                BenchmarkId::new(format!("{threads}-threads-seal-open"), size),
                |b| {
                    b.iter_custom(|iters| {
                        on_threads(threads, iters, |_, count| {
                            let mut buf = vec![0u8; len];
                            let mut guard = &window;
                            for _ in 0..count {
                                let sealed = sender.seal(&mut buf, size, 4).unwrap();
                                let packet = &mut buf[..sealed];
                                keys.open(&mut guard, black_box(packet)).unwrap();
                            }
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
