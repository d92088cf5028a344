//! SAD lookup by SPI as the table grows: 1,000, 100,000 and 1,000,000 inbound SAs, looked up
//! in a random order (the order packets of many SAs arrive in). And the outbound lookup of
//! a gateway: one PROTECT policy for 10.96.0.0/12 serving 10 and 10,000 peers, each with
//! its own Child SA for its own address (the per-SA policies of RFC 4301 §4.4.1.2), plus
//! one site-to-site SA for a /16, so that two prefix lengths are in use; packets to the
//! peers in a random order.
#![allow(missing_docs, clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ipsec_crypto::{RUST_CRYPTO, SecureRandom, SeededRandom, iana};
use std::net::{IpAddr, Ipv4Addr};

use ipsec_esp::{EspTransform, InboundSa, OutboundSa};
use ipsec_replay::ReplayWindow;
use ipsec_sad::{
    Action, AddrRange, Decision, Flow, FlowPorts, IpsecProtocol, Lifetime, LifetimeTemplate, Mode,
    SaConfig, SaTemplate, Sad, Selector, Spd, SpdEntry,
};

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

/// Peer `i`'s inner address in 10.96.0.0/12.
fn peer_address(i: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 96, 0, 1)) + i)
}

/// A gateway's SPD: one policy, `peers` Child SAs each for one peer address, one for a
/// whole /16.
fn gateway(peers: u32) -> Spd {
    let aead = RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 128).unwrap();
    let mut sad = Sad::with_capacity(0, peers as usize + 1);
    let mut spd = Spd::new();
    let ours = AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 0)), 16).unwrap();
    let theirs = AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(10, 96, 0, 0)), 12).unwrap();
    let entry = spd.push(SpdEntry::new(
        vec![Selector::addresses(ours, theirs)],
        Action::Protect {
            template: SaTemplate {
                mode: Mode::Tunnel,
                protocol: IpsecProtocol::Esp,
                proposals: Vec::new(),
                lifetime: LifetimeTemplate::default(),
            },
        },
    ));
    let mut install = |spi: u32, remote: AddrRange| {
        let sa = OutboundSa::new(spi, false, EspTransform::aead(aead, &[7; 20]).unwrap());
        let config = SaConfig::new(Mode::Tunnel, Vec::new(), Lifetime::UNLIMITED);
        let handle = sad.install_outbound(sa, config).unwrap();
        spd.add_sa(handle, entry, &[Selector::addresses(ours, remote)]);
    };
    install(
        0x100,
        AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(10, 111, 0, 0)), 16).unwrap(),
    );
    for i in 0..peers {
        install(0x1000 + i, AddrRange::single(IpAddr::V4(peer_address(i))));
    }
    spd
}

fn outbound(c: &mut Criterion) {
    let mut group = c.benchmark_group("spd/outbound-lookup");
    group.throughput(Throughput::Elements(1));
    for peers in [10u32, 10_000] {
        let spd = gateway(peers);
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let flows: Vec<Flow> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                Flow {
                    source: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
                    destination: IpAddr::V4(peer_address((state % u64::from(peers)) as u32)),
                    protocol: 17,
                    ports: FlowPorts::Ports {
                        source: 4000,
                        destination: 53,
                    },
                }
            })
            .collect();
        let mut next = 0usize;
        group.bench_function(BenchmarkId::new("peers", peers), |b| {
            b.iter(|| {
                let flow = &flows[next];
                next = (next + 1) % flows.len();
                black_box(matches!(
                    spd.lookup_outbound(black_box(flow)),
                    Decision::Protect { .. }
                ))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, outbound);
criterion_main!(benches);
