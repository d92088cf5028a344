//! The facade's data path beside the bare ESP SA in the same run: an inner packet sealed by
//! `Endpoint::send_in_place` (SPD lookup, SAD, ESP) against `OutboundSa::seal` alone, and an
//! ESP packet opened by `Endpoint::handle_esp_in_place` (SAD lookup, replay window, ESP,
//! the inner packet's selector check) against `InboundSa::open` alone; the owned-buffer
//! calls (`send` and `handle_esp`, one copy and one allocation each) beside them. Two
//! endpoints are brought up by IKE first; AES-256-GCM and ChaCha20-Poly1305 on the default
//! provider, 64 and 1400-byte inner packets:
//! `facade/<algorithm>/<bare|in-place|owned>-<seal|open>/<size>`.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec::{
    Child, Config, Connection, Endpoint, Output, Path, SEAL_HEADROOM, SEAL_TAILROOM, SendInPlace,
};
use ipsec_crypto::{RUST_CRYPTO, SeededRandom, iana};
use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_replay::ReplayWindow;

const SIZES: [usize; 2] = [64, 1400];
const GW_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GW_B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

fn gateway(now: Instant, a: bool, esp: &str) -> Endpoint {
    let (local, remote, id, peer, nets) = if a {
        (GW_A, GW_B, "a", "b", ("10.1.0.0/16", "10.2.0.0/16"))
    } else {
        (GW_B, GW_A, "b", "a", ("10.2.0.0/16", "10.1.0.0/16"))
    };
    let connection = Connection::builder("site")
        .local_addrs(&local.to_string())
        .remote_addrs(&remote.to_string())
        .local_id(id)
        .remote_id(peer)
        .psk(b"the facade bench's key")
        .proposals("aes128gcm16-prfsha256-x25519")
        .child(
            Child::builder("net")
                .local_ts(nets.0)
                .remote_ts(nets.1)
                .esp_proposals(esp)
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(u64::from(a)))).unwrap()
}

/// Two gateways with a Child SA of `esp` between them, IKE carried by hand.
fn pair(esp: &str) -> (Instant, Endpoint, Endpoint) {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut a = gateway(now, true, esp);
    let mut b = gateway(now, false, esp);
    a.connect(now, "site").unwrap();
    while carry(now, &mut a, &mut b) | carry(now, &mut b, &mut a) {}
    assert_eq!(a.child_sas(now).len(), 1);
    (now, a, b)
}

/// Moves `from`'s IKE datagrams to `to`; whether there were any.
fn carry(now: Instant, from: &mut Endpoint, to: &mut Endpoint) -> bool {
    let mut moved = false;
    while let Some(output) = from.poll_output() {
        if let Output::Udp { path, payload } = output {
            let arrived = Path {
                local: path.remote,
                remote: path.local,
            };
            let _ = to.handle_udp(now, arrived, &payload);
            moved = true;
        }
    }
    moved
}

/// An IPv4/UDP packet of `size` bytes from host A to host B.
fn inner_packet(size: usize) -> Vec<u8> {
    let mut packet = vec![0u8; size];
    packet[0] = 0x45;
    packet[2..4].copy_from_slice(&(size as u16).to_be_bytes());
    packet[8] = 64;
    packet[9] = 17;
    packet[12..16].copy_from_slice(&[10, 1, 0, 5]);
    packet[16..20].copy_from_slice(&[10, 2, 0, 7]);
    packet[20..22].copy_from_slice(&4000u16.to_be_bytes());
    packet[22..24].copy_from_slice(&5000u16.to_be_bytes());
    packet[24..26].copy_from_slice(&((size - 20) as u16).to_be_bytes());
    packet
}

fn bench(c: &mut Criterion) {
    let algorithms = [
        ("aes256gcm16", iana::ENCR_AES_GCM_16, 256),
        ("chacha20poly1305", iana::ENCR_CHACHA20_POLY1305, 256),
    ];
    for (name, id, bits) in algorithms {
        let mut group = c.benchmark_group(format!("facade/{name}"));
        let algorithm = RUST_CRYPTO.aead(id, bits).unwrap();
        let keymat = vec![7; algorithm.spec().keymat_len()];
        let transform = || EspTransform::aead(algorithm, &keymat).unwrap();
        let (now, mut a, mut b) = pair(name);
        let (source, destination) = (IpAddr::from(GW_A), IpAddr::from(GW_B));
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            let packet = inner_packet(size);

            let bare = OutboundSa::new(0x1000, false, transform());
            let mut buf = vec![0u8; bare.packet_len(size)];
            group.bench_function(BenchmarkId::new("bare-seal", size), |bencher| {
                bencher.iter(|| bare.seal(black_box(&mut buf), size, 4).unwrap())
            });
            // The SPD reads the inner header again each time: it is put back (28 bytes).
            let inner = SEAL_HEADROOM..SEAL_HEADROOM + size;
            let mut buf = vec![0u8; SEAL_HEADROOM + size + SEAL_TAILROOM];
            buf[inner.clone()].copy_from_slice(&packet);
            group.bench_function(BenchmarkId::new("in-place-seal", size), |bencher| {
                bencher.iter(|| {
                    buf[inner.start..inner.start + 28].copy_from_slice(&packet[..28]);
                    let sealed = a.send_in_place(now, black_box(&mut buf), inner.clone());
                    assert!(matches!(sealed, SendInPlace::Sealed { .. }));
                })
            });
            group.bench_function(BenchmarkId::new("owned-seal", size), |bencher| {
                bencher.iter(|| {
                    a.send(now, black_box(&packet));
                    a.poll_output().unwrap()
                })
            });

            // Each opened packet needs a fresh sequence number: the untimed setup seals it.
            let sender = OutboundSa::new(0x2000, false, transform());
            let mut receiver =
                InboundSa::new(0x2000, ReplayWindow::new(64, false).unwrap(), transform());
            let mut template = vec![0u8; sender.packet_len(size)];
            group.bench_function(BenchmarkId::new("bare-open", size), |bencher| {
                bencher.iter_batched_ref(
                    || {
                        sender.seal(&mut template, size, 4).unwrap();
                        template.clone()
                    },
                    |wire| {
                        receiver.open(black_box(wire)).unwrap();
                    },
                    BatchSize::SmallInput,
                )
            });
            let mut seal_from_a = || {
                let mut buf = vec![0u8; SEAL_HEADROOM + size + SEAL_TAILROOM];
                buf[inner.clone()].copy_from_slice(&packet);
                let SendInPlace::Sealed { packet: sealed, .. } =
                    a.send_in_place(now, &mut buf, inner.clone())
                else {
                    panic!("not sealed");
                };
                buf.truncate(sealed.end);
                buf.drain(..sealed.start);
                buf
            };
            group.bench_function(BenchmarkId::new("in-place-open", size), |bencher| {
                bencher.iter_batched_ref(
                    &mut seal_from_a,
                    |wire| {
                        b.handle_esp_in_place(now, source, destination, black_box(wire))
                            .unwrap()
                            .unwrap()
                    },
                    BatchSize::SmallInput,
                )
            });
            group.bench_function(BenchmarkId::new("owned-open", size), |bencher| {
                bencher.iter_batched_ref(
                    &mut seal_from_a,
                    |wire| {
                        b.handle_esp(now, source, destination, black_box(wire))
                            .unwrap();
                        b.poll_output().unwrap()
                    },
                    BatchSize::SmallInput,
                )
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
