//! The gateway's cost per IKE SA against how many it already holds: a facade gateway with
//! 1,000, 10,000 and 100,000 established IKE SAs (each with a Child SA, its own client
//! address and identity), then the gateway's share of one more handshake
//! (`scale/handshake/<n>`: its IKE_SA_INIT and IKE_AUTH responses, the Child SA installed in
//! the SAD and SPD) and of one client's delete (`scale/delete/<n>`: the INFORMATIONAL with
//! the IKE SA's Delete, the IKE SA and its Child SA removed). Only the gateway's calls are
//! timed; the client's side and the untimed half (the delete in the handshake bench, the
//! handshake in the delete bench) keep the count at `n`.
//!
//! `IPSEC_SCALE_SIZES=1000,10000` runs a subset (100,000 SAs take about a minute and 1 GB to
//! set up).
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ipsec::{
    Child, Config, Connection, DosProtection, Endpoint, Output, Path, Secret, UniquePolicy,
};
use ipsec_crypto::SeededRandom;

const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const KEY: &[u8] = b"the scale bench's key";
const PROPOSALS: &str = "aes128gcm16-prfsha256-x25519";

fn sizes() -> Vec<u32> {
    std::env::var("IPSEC_SCALE_SIZES")
        .ok()
        .map(|list| {
            list.split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .unwrap_or_else(|| vec![1_000, 10_000, 100_000])
}

/// The gateway: any client of `*.clients.example` with the one key, each with an inner
/// address of its own in 10.64.0.0/10.
fn gateway(now: Instant) -> Endpoint {
    let connection = Connection::builder("rw")
        .local_addrs(&GATEWAY.to_string())
        .remote_addrs("%any")
        .local_id("gw.example")
        .remote_id("*.clients.example")
        .proposals(PROPOSALS)
        .unique(UniquePolicy::No)
        .child(
            Child::builder("net")
                .local_ts("10.1.0.0/16")
                .remote_ts("10.64.0.0/10")
                .esp_proposals("aes128gcm16")
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .secret(Secret::new(&["gw.example", "*.clients.example"], KEY).unwrap())
        // One handshake at a time at one instant: no rate limit, or cookies would be
        // demanded past the first thousand.
        .dos(DosProtection {
            cookie_rate: 0,
            ..DosProtection::default()
        })
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(1))).unwrap()
}

/// Client `i`: its own outer address, identity and inner address.
fn client(now: Instant, i: u32) -> Endpoint {
    let outer = Ipv4Addr::from(0x6440_0001 + i);
    let inner = Ipv4Addr::from(0x0a40_0001 + i);
    let connection = Connection::builder("home")
        .local_addrs(&outer.to_string())
        .remote_addrs(&GATEWAY.to_string())
        .local_id(&format!("c{i}.clients.example"))
        .remote_id("gw.example")
        .psk(KEY)
        .proposals(PROPOSALS)
        .child(
            Child::builder("net")
                .local_ts(&format!("{inner}/32"))
                .remote_ts("10.1.0.0/16")
                .esp_proposals("aes128gcm16")
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .build()
        .unwrap();
    Endpoint::new(
        now,
        config,
        Box::new(SeededRandom::from_u64(u64::from(i) + 2)),
    )
    .unwrap()
}

/// Carries datagrams between `client` and `gateway` until both are quiet; the time the
/// gateway spent on the client's datagrams, if `timed`.
fn carry(now: Instant, client: &mut Endpoint, gateway: &mut Endpoint, timed: bool) -> Duration {
    let mut spent = Duration::ZERO;
    loop {
        let mut moved = false;
        while let Some(output) = client.poll_output() {
            if let Output::Udp { path, payload } = output {
                let arrived = Path {
                    local: path.remote,
                    remote: path.local,
                };
                #[allow(clippy::disallowed_methods)]
                let start = Instant::now();
                let _ = gateway.handle_udp(now, arrived, &payload);
                if timed {
                    spent += start.elapsed();
                }
                moved = true;
            }
        }
        while let Some(output) = gateway.poll_output() {
            if let Output::Udp { path, payload } = output {
                let arrived = Path {
                    local: path.remote,
                    remote: path.local,
                };
                let _ = client.handle_udp(now, arrived, &payload);
                moved = true;
            }
        }
        while gateway.poll_event().is_some() {}
        while client.poll_event().is_some() {}
        if !moved {
            return spent;
        }
    }
}

/// One client up and gone again; the gateway's time for the handshake and for the delete.
fn up_and_down(now: Instant, gateway: &mut Endpoint, i: u32) -> (Duration, Duration) {
    let mut client = client(now, i);
    let handle = client.connect(now, "home").unwrap();
    let handshake = carry(now, &mut client, gateway, true);
    client.terminate_ike(now, handle).unwrap();
    let delete = carry(now, &mut client, gateway, true);
    (handshake, delete)
}

fn bench(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut group = c.benchmark_group("scale");
    group.sample_size(20);
    for n in sizes() {
        let mut gateway = gateway(now);
        for i in 0..n {
            let mut client = client(now, i);
            client.connect(now, "home").unwrap();
            carry(now, &mut client, &mut gateway, false);
        }
        assert_eq!(gateway.ike_sas(now).len(), n as usize);
        assert_eq!(gateway.child_sas(now).len(), n as usize);
        let mut next = n;
        group.bench_function(BenchmarkId::new("handshake", n), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        next += 1;
                        up_and_down(now, &mut gateway, next).0
                    })
                    .sum()
            })
        });
        group.bench_function(BenchmarkId::new("delete", n), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        next += 1;
                        up_and_down(now, &mut gateway, next).1
                    })
                    .sum()
            })
        });
        assert_eq!(gateway.ike_sas(now).len(), n as usize);
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
