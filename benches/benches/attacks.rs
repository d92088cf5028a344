//! What each attack packet costs the responder, scenario by scenario (the numbers of
//! `crates/ipsec/tests/attacks.rs`, which asserts the state and memory each may cost):
//! spoofed IKE_SA_INIT requests once cookies are demanded, with valid and invalid KE in
//! each group; invalid KE before cookies are demanded; requests from an address over its
//! half-open limit; cookie answers with a puzzle; an IKE_AUTH puzzle solution checked;
//! garbage IKE_AUTH on a half-open SA; forged retransmissions. Then the cost of a cookie
//! demand and of a new half-open SA with 0, 10,000 and 100,000 established IKE SAs, which
//! must not grow. All in the group `attacks/<what>`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "ike_common.rs"]
mod ike_common;

use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use ike_common::{a_path, endpoint_config, peer, relay, reversed};
use ipsec_crypto::{RUST_CRYPTO, SeededRandom, iana};
use ipsec_ikev2::{
    DosProtection, DropReason, Endpoint, EndpointConfig, IkeProposal, Path, PeerConfig,
    PuzzlePolicy, UniquePolicy,
};
use ipsec_isakmp::{DhGroup, ExchangeType, Flags, KeyExchange, Message, NotifyType, Payload};

/// The responder, with every group an attacker will use and `dos`.
fn new_responder(dos: DosProtection) -> Endpoint {
    let mut b = peer("b.example", "a.example", 2, 1);
    b.ike_proposals[0].dh = vec![DhGroup::Curve25519, DhGroup::Ecp256, DhGroup::Modp2048];
    b.unique = UniquePolicy::No;
    let config = EndpointConfig {
        dos,
        responder_peers: vec![Arc::new(b)],
        ..endpoint_config()
    };
    Endpoint::new(config, Box::new(SeededRandom::from_u64(4))).unwrap()
}

/// Limits off, cookies as given.
fn open_doors(cookie_threshold: usize) -> DosProtection {
    DosProtection {
        cookie_threshold,
        cookie_threshold_ip: usize::MAX,
        cookie_rate: 0,
        block_threshold: 0,
        init_limit_half_open: 0,
        ike_sas_per_identity: 0,
        puzzles: None,
    }
}

/// The initiator's peer configuration, offering the three groups, not sending
/// INITIAL_CONTACT (so that many IKE SAs between the same two stay up).
fn initiator_peer() -> Arc<PeerConfig> {
    let mut a = peer("a.example", "b.example", 1, 2);
    a.ike_proposals = vec![IkeProposal {
        dh: vec![DhGroup::Curve25519, DhGroup::Ecp256, DhGroup::Modp2048],
        ..a.ike_proposals[0].clone()
    }];
    a.unique = UniquePolicy::Never;
    Arc::new(a)
}

/// An IKE_SA_INIT request as our initiator sends it, to forge others from.
fn template() -> Message {
    let mut a = Endpoint::new(endpoint_config(), Box::new(SeededRandom::from_u64(3))).unwrap();
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    a.initiate(now, initiator_peer(), None, a_path()).unwrap();
    Message::parse(&a.poll_transmit().unwrap().payload).unwrap()
}

/// `template` with SPIi `spi` and the KE `(group, value)`.
fn forge(template: &Message, spi: u64, group: u16, value: &[u8]) -> Vec<u8> {
    let mut message = template.clone();
    message.initiator_spi = spi;
    for payload in &mut message.payloads {
        if let Payload::KeyExchange(ke) = payload {
            *ke = KeyExchange {
                group: DhGroup::from(group),
                data: value.to_vec(),
            };
        }
    }
    message.to_vec().unwrap()
}

fn valid_public(group: u16) -> Vec<u8> {
    let kx = RUST_CRYPTO.key_exchange(group).unwrap();
    kx.start(&mut SeededRandom::from_u64(9))
        .unwrap()
        .public_value()
        .to_vec()
}

fn invalid_public(group: u16) -> Vec<u8> {
    let mut value = valid_public(group);
    match group {
        iana::DH_CURVE25519 => value.fill(0),
        iana::DH_ECP_256 => *value.last_mut().unwrap() ^= 1,
        _ => {
            value.fill(0);
            *value.last_mut().unwrap() = 1;
        }
    }
    value
}

/// A path from the `i`th spoofed address.
fn spoofed(i: u64) -> Path {
    let [_, _, _, _, a, b, c, d] = i.to_be_bytes();
    Path {
        local: SocketAddr::new(ike_common::B_IP, 500),
        remote: SocketAddr::new(IpAddr::from([a | 16, b, c, d]), 500),
    }
}

const GROUPS: [(u16, &str); 3] = [
    (iana::DH_CURVE25519, "x25519"),
    (iana::DH_ECP_256, "ecp256"),
    (iana::DH_MODP_2048, "modp2048"),
];

fn bench(c: &mut Criterion) {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let template = template();
    let mut group = c.benchmark_group("attacks");

    // 1 and 2. Spoofed IKE_SA_INIT once cookies are demanded: a cookie, whatever the KE.
    for (number, name) in GROUPS {
        for (validity, value) in [
            ("valid", valid_public(number)),
            ("invalid", invalid_public(number)),
        ] {
            let mut responder = new_responder(open_doors(0));
            let mut i = 0u64;
            let id = format!("a01_spoofed_init_cookie_{name}_{validity}_ke");
            group.bench_function(id, |b| {
                b.iter_batched(
                    || {
                        i += 1;
                        (i, forge(&template, i, number, &value))
                    },
                    |(n, request)| {
                        let result =
                            responder.handle_datagram(now, spoofed(n), black_box(&request));
                        assert_eq!(result, Err(DropReason::Refused(NotifyType::Cookie)));
                        black_box(responder.poll_transmit())
                    },
                    BatchSize::SmallInput,
                )
            });
        }
    }

    // 2. Invalid KE before cookies are demanded: refused without a key pair.
    for (number, name) in GROUPS {
        let value = invalid_public(number);
        let mut responder = new_responder(open_doors(usize::MAX));
        let mut i = 0u64;
        group.bench_function(format!("a02_invalid_ke_refused_{name}"), |b| {
            b.iter_batched(
                || {
                    i += 1;
                    (i, forge(&template, i, number, &value))
                },
                |(n, request)| {
                    let result = responder.handle_datagram(now, spoofed(n), black_box(&request));
                    assert_eq!(result, Err(DropReason::Refused(NotifyType::InvalidSyntax)));
                    black_box(responder.poll_transmit())
                },
                BatchSize::SmallInput,
            )
        });
    }

    // 3. An address over its half-open limit: dropped after a header check and a lookup.
    let mut responder = new_responder(DosProtection {
        block_threshold: 1,
        ..open_doors(usize::MAX)
    });
    let public = valid_public(iana::DH_CURVE25519);
    let first = forge(&template, u64::MAX, iana::DH_CURVE25519, &public);
    responder.handle_datagram(now, spoofed(1), &first).unwrap();
    while responder.poll_transmit().is_some() {}
    let mut i = 0u64;
    group.bench_function("a03_blocked_source", |b| {
        b.iter_batched(
            || {
                i += 1;
                (i, forge(&template, i, iana::DH_CURVE25519, &public))
            },
            |(_, request)| {
                let result = responder.handle_datagram(now, spoofed(1), black_box(&request));
                assert_eq!(result, Err(DropReason::Blocked));
            },
            BatchSize::SmallInput,
        )
    });

    // 4. A cookie with a puzzle (RFC 8019 §7.1.1).
    let mut responder = new_responder(DosProtection {
        puzzles: Some(PuzzlePolicy {
            threshold: 0,
            ..PuzzlePolicy::default()
        }),
        ..open_doors(0)
    });
    let mut i = 0u64;
    group.bench_function("a04_cookie_with_puzzle", |b| {
        b.iter_batched(
            || {
                i += 1;
                (i, forge(&template, i, iana::DH_CURVE25519, &public))
            },
            |(n, request)| {
                let result = responder.handle_datagram(now, spoofed(n), black_box(&request));
                assert_eq!(result, Err(DropReason::Refused(NotifyType::Cookie)));
                black_box(responder.poll_transmit())
            },
            BatchSize::SmallInput,
        )
    });

    // 5. Garbage IKE_AUTH on a half-open SA: the keys are computed by the first one and
    //    kept, so each further one costs an integrity check.
    let mut responder = new_responder(open_doors(usize::MAX));
    let request = forge(&template, 77, iana::DH_CURVE25519, &public);
    responder
        .handle_datagram(now, spoofed(77), &request)
        .unwrap();
    let answer = Message::parse(&responder.poll_transmit().unwrap().payload).unwrap();
    let garbage = Message {
        initiator_spi: 77,
        responder_spi: answer.responder_spi,
        minor_version: 0,
        exchange_type: ExchangeType::IkeAuth,
        flags: Flags {
            initiator: true,
            version: false,
            response: false,
        },
        message_id: 1,
        payloads: vec![Payload::Encrypted(ipsec_isakmp::Encrypted {
            first_inner: ipsec_isakmp::PayloadType::IdInitiator,
            data: vec![0x5a; 256],
        })],
    }
    .to_vec()
    .unwrap();
    group.bench_function("a05_garbage_ike_auth", |b| {
        b.iter(|| {
            let result = responder.handle_datagram(now, spoofed(77), black_box(&garbage));
            assert_eq!(result, Err(DropReason::IntegrityCheckFailed));
        })
    });

    // 7. A forged retransmission of the last request: the header, the SA, a digest.
    let a_peer = initiator_peer();
    let mut a = Endpoint::new(endpoint_config(), Box::new(SeededRandom::from_u64(5))).unwrap();
    let mut b = new_responder(open_doors(usize::MAX));
    a.initiate(now, a_peer.clone(), None, a_path()).unwrap();
    relay(now, &mut a, &mut b);
    relay(now, &mut b, &mut a);
    let auth = a.poll_transmit().unwrap();
    b.handle_datagram(now, reversed(auth.path), &auth.payload)
        .unwrap();
    let mut bare = Message::parse(&auth.payload).unwrap();
    bare.payloads.clear();
    let bare = bare.to_vec().unwrap();
    group.bench_function("a07_forged_retransmission", |bench| {
        bench.iter(|| {
            let result = b.handle_datagram(now, reversed(auth.path), black_box(&bare));
            assert_eq!(result, Err(DropReason::ForgedRetransmission));
        })
    });
    group.finish();

    // The same per-INIT work with ever more established IKE SAs: flat.
    let mut group = c.benchmark_group("attacks/established");
    group.sample_size(20);
    let mut a = Endpoint::new(endpoint_config(), Box::new(SeededRandom::from_u64(6))).unwrap();
    let mut b = new_responder(open_doors(usize::MAX));
    let mut population = 0usize;
    for target in [0usize, 10_000, 100_000] {
        while population < target {
            a.initiate(now, a_peer.clone(), None, a_path()).unwrap();
            for _ in 0..2 {
                relay(now, &mut a, &mut b);
                relay(now, &mut b, &mut a);
            }
            while a.poll_event().is_some() {}
            while b.poll_event().is_some() {}
            population += 1;
        }
        assert_eq!(b.ike_sa_count(), target);
        let mut i = 0u64;
        group.bench_with_input(
            BenchmarkId::new("new_half_open_sa", target),
            &target,
            |bench, _| {
                bench.iter_batched(
                    || {
                        i += 1;
                        (i, forge(&template, i << 20, iana::DH_CURVE25519, &public))
                    },
                    |(n, request)| {
                        b.handle_datagram(now, spoofed(n), black_box(&request))
                            .unwrap();
                        black_box(b.poll_transmit())
                    },
                    BatchSize::SmallInput,
                )
            },
        );
        b.set_dos_protection(open_doors(0)).unwrap();
        group.bench_with_input(
            BenchmarkId::new("cookie_demand", target),
            &target,
            |bench, _| {
                bench.iter_batched(
                    || {
                        i += 1;
                        (i, forge(&template, i << 20, iana::DH_CURVE25519, &public))
                    },
                    |(n, request)| {
                        let result = b.handle_datagram(now, spoofed(n), black_box(&request));
                        assert_eq!(result, Err(DropReason::Refused(NotifyType::Cookie)));
                        black_box(b.poll_transmit())
                    },
                    BatchSize::SmallInput,
                )
            },
        );
        b.set_dos_protection(open_doors(usize::MAX)).unwrap();
        // The half-open SAs the bench made go, so that the next population is exact.
        b.handle_timeout(now + std::time::Duration::from_secs(31));
        while b.poll_transmit().is_some() {}
        while b.poll_event().is_some() {}
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
