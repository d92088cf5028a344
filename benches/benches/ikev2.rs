//! The IKEv2 state machine in process: a whole IKE_SA_INIT + IKE_AUTH handshake between two
//! endpoints (PSK, Curve25519, AES-256-GCM, PRF-HMAC-SHA2-256), datagrams moved by hand;
//! beside it the primitives the handshake spends its time in (one x25519 key exchange,
//! prf+ of 224 bytes, AES-256-GCM over a 300-byte IKE message, a PSK AUTH payload); and the
//! cost to a responder of answering an IKE_SA_INIT with a COOKIE demand, which keeps no
//! state (RFC 7296 §2.6); and rekeys on an established pair (RFC 7296 §1.3.2, §1.3.3): a
//! Child SA rekey without and with PFS and an IKE SA rekey, each from the command to the
//! Delete of the old SA done, four datagrams. All in one group, `ikev2/<what>`, so the
//! figures sit side by side.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ipsec_crypto::{AWS_LC_RS, RUST_CRYPTO, SeededRandom, iana, prf_plus};
use ipsec_ikev2::{DropReason, Endpoint, EndpointConfig, Event, PeerConfig, psk_auth};
use ipsec_isakmp::{DhGroup, NotifyType};

#[path = "ike_common.rs"]
mod ike_common;

use ike_common::{a_path, endpoint_config, peer, relay, reversed};

fn responder_config(cookie_threshold: usize) -> EndpointConfig {
    let b = peer("b.example", "a.example", 2, 1);
    EndpointConfig {
        dos: ipsec_ikev2::DosProtection {
            cookie_threshold,
            ..Default::default()
        },
        responder_peers: vec![Arc::new(b)],
        ..endpoint_config()
    }
}

fn established(endpoint: &mut Endpoint) -> bool {
    let mut up = false;
    while let Some(e) = endpoint.poll_event() {
        up |= matches!(e, Event::IkeSaEstablished { .. });
    }
    up
}

/// One whole handshake: two new endpoints, IKE_SA_INIT and IKE_AUTH, four datagrams; the
/// initiator uses the responder's crypto provider.
fn handshake(now: Instant, a_peer: &Arc<PeerConfig>, b_config: &EndpointConfig, seed: u64) {
    let a_config = EndpointConfig {
        provider: b_config.provider,
        ..endpoint_config()
    };
    let mut a = Endpoint::new(a_config, Box::new(SeededRandom::from_u64(seed))).unwrap();
    let mut b = Endpoint::new(
        b_config.clone(),
        Box::new(SeededRandom::from_u64(seed ^ 0xb)),
    )
    .unwrap();
    a.initiate(now, a_peer.clone(), None, a_path()).unwrap();
    let mut datagrams = 0;
    for _ in 0..2 {
        datagrams += relay(now, &mut a, &mut b);
        datagrams += relay(now, &mut b, &mut a);
    }
    assert_eq!(datagrams, 4);
    assert!(established(&mut a) && established(&mut b));
}

/// Two endpoints with an IKE SA and a Child SA between them, for the rekey benches.
struct Tunnel {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    handle: ipsec_ikev2::IkeSaHandle,
    child: u32,
}

impl Tunnel {
    fn new(now: Instant, a_peer: PeerConfig, b_peer: PeerConfig) -> Self {
        let b_config = EndpointConfig {
            responder_peers: vec![Arc::new(b_peer)],
            ..endpoint_config()
        };
        let mut a = Endpoint::new(endpoint_config(), Box::new(SeededRandom::from_u64(5))).unwrap();
        let b = Endpoint::new(b_config, Box::new(SeededRandom::from_u64(6))).unwrap();
        let handle = a.initiate(now, Arc::new(a_peer), None, a_path()).unwrap();
        let mut tunnel = Self {
            a,
            b,
            now,
            handle,
            child: 0,
        };
        tunnel.settle();
        assert_ne!(tunnel.child, 0);
        tunnel
    }

    /// Moves datagrams both ways until both are quiet; returns how many moved.
    fn settle(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let n = relay(self.now, &mut self.a, &mut self.b)
                + relay(self.now, &mut self.b, &mut self.a);
            if n == 0 {
                break;
            }
            moved += n;
        }
        while let Some(e) = self.a.poll_event() {
            if let Event::ChildSaReady(ready) = e {
                self.child = ready.inbound_spi;
            }
        }
        while self.b.poll_event().is_some() {}
        moved
    }

    /// Lets the old SAs' timers run out before the next rekey.
    fn later(&mut self) {
        self.now += Duration::from_secs(120);
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        assert_eq!(self.settle(), 0);
    }

    fn rekey_child(&mut self) {
        self.a
            .rekey_child_sa(self.now, self.handle, self.child)
            .unwrap();
        assert_eq!(self.settle(), 4);
        self.later();
    }

    fn rekey_ike(&mut self) {
        self.a.rekey_ike_sa(self.now, self.handle).unwrap();
        assert_eq!(self.settle(), 4);
        self.later();
    }
}

fn with_pfs(mut peer: PeerConfig) -> PeerConfig {
    for proposal in &mut Arc::make_mut(&mut peer.children[0]).proposals {
        proposal.dh = vec![DhGroup::Curve25519];
    }
    peer
}

fn bench(c: &mut Criterion) {
    // The endpoints take the time from the caller; any fixed instant will do.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut group = c.benchmark_group("ikev2");

    // (a) The whole handshake.
    let a_peer = Arc::new(peer("a.example", "b.example", 1, 2));
    let b_config = responder_config(64);
    handshake(now, &a_peer, &b_config, 1);
    group.bench_function("handshake_psk_x25519_aes256gcm16_prfsha256", |b| {
        b.iter(|| handshake(now, black_box(&a_peer), &b_config, 1))
    });

    // The same with aws-lc-rs's key exchange and AEAD on both sides.
    let b_aws_lc = EndpointConfig {
        provider: &AWS_LC_RS,
        ..responder_config(64)
    };
    handshake(now, &a_peer, &b_aws_lc, 1);
    group.bench_function(
        "handshake_psk_x25519_aes256gcm16_prfsha256_aws_lc_rs",
        |b| b.iter(|| handshake(now, black_box(&a_peer), &b_aws_lc, 1)),
    );

    // (b) The primitives it uses.
    let x25519 = RUST_CRYPTO.key_exchange(iana::DH_CURVE25519).unwrap();
    let mut rng = SeededRandom::from_u64(7);
    let peer_public = x25519.start(&mut rng).unwrap().public_value().to_vec();
    group.bench_function("x25519_exchange_start_complete", |b| {
        b.iter(|| {
            let exchange = x25519.start(&mut rng).unwrap();
            black_box(exchange.public_value());
            exchange.complete(black_box(&peer_public)).unwrap()
        })
    });

    // Key generation alone: the base-point table, where the exchange above also runs the
    // Montgomery ladder on the peer's value.
    group.bench_function("x25519_key_generation", |b| {
        b.iter(|| black_box(x25519.start(&mut rng).unwrap()))
    });

    let prf = RUST_CRYPTO.prf(iana::PRF_HMAC_SHA2_256).unwrap();
    let (skeyseed, ni, nr, spi_i, spi_r) = ([1u8; 32], [2u8; 32], [3u8; 32], [4u8; 8], [5u8; 8]);
    group.bench_function("prf_plus_hmac_sha256_224_bytes", |b| {
        b.iter(|| prf_plus(prf, black_box(&skeyseed), &[&ni, &nr, &spi_i, &spi_r], 224).unwrap())
    });

    let aead = RUST_CRYPTO.aead(iana::ENCR_AES_GCM_16, 256).unwrap();
    let key = aead.new_key(&[6u8; 36]).unwrap();
    // A 300-byte IKE message: 28-byte header and 4-byte SK header (the AAD), 8-byte IV,
    // 244 bytes of inner payloads and padding, 16-byte ICV.
    let aad = [8u8; 32];
    let iv = [9u8; 8];
    let mut body = vec![0u8; 300 - 32 - 8];
    group.bench_function("aes256gcm16_seal_300_byte_message", |b| {
        b.iter(|| {
            key.seal_in_place(black_box(&iv), black_box(&aad), black_box(&mut body))
                .unwrap()
        })
    });

    let id_body = [
        2u8, 0, 0, 0, b'a', b'.', b'e', b'x', b'a', b'm', b'p', b'l', b'e',
    ];
    let init_message = [0x5au8; 250];
    group.bench_function("psk_auth_hmac_sha256", |b| {
        b.iter(|| {
            psk_auth(
                prf,
                black_box(b"benchmark pre-shared key"),
                black_box(&init_message),
                &nr,
                &skeyseed,
                &id_body,
            )
            .unwrap()
        })
    });

    // (c) A responder that demands a cookie of every IKE_SA_INIT (threshold 0).
    let mut initiator =
        Endpoint::new(endpoint_config(), Box::new(SeededRandom::from_u64(3))).unwrap();
    initiator
        .initiate(now, a_peer.clone(), None, a_path())
        .unwrap();
    let request = initiator.poll_transmit().unwrap();
    let mut responder =
        Endpoint::new(responder_config(0), Box::new(SeededRandom::from_u64(4))).unwrap();
    let path = reversed(request.path);
    group.bench_function("responder_cookie_demand", |b| {
        b.iter(|| {
            let result = responder.handle_datagram(now, path, black_box(&request.payload));
            assert_eq!(result, Err(DropReason::Refused(NotifyType::Cookie)));
            black_box(responder.poll_transmit().unwrap())
        })
    });
    assert_eq!(
        responder.ike_sa_count(),
        0,
        "a cookie demand keeps no state"
    );

    // (d) Rekeys on an established pair: CREATE_CHILD_SA and the Delete of the old SA.
    let (a, b) = (
        peer("a.example", "b.example", 1, 2),
        peer("b.example", "a.example", 2, 1),
    );
    let mut tunnel = Tunnel::new(now, a.clone(), b.clone());
    group.bench_function("child_sa_rekey_no_pfs", |bench| {
        bench.iter(|| tunnel.rekey_child())
    });
    let mut tunnel = Tunnel::new(now, with_pfs(a.clone()), with_pfs(b.clone()));
    group.bench_function("child_sa_rekey_pfs_x25519", |bench| {
        bench.iter(|| tunnel.rekey_child())
    });
    let mut tunnel = Tunnel::new(now, a, b);
    group.bench_function("ike_sa_rekey_x25519", |bench| {
        bench.iter(|| tunnel.rekey_ike())
    });
    group.finish();
}

/// One side of a key exchange (key generation and shared secret) for every group of the
/// default provider, `kx/<group>`, and for the groups aws-lc-rs has its own code for,
/// `kx/aws-lc-rs-<group>`.
fn key_exchanges(c: &mut Criterion) {
    let mut group = c.benchmark_group("kx");
    group.sample_size(20);
    let mut rng = SeededRandom::from_u64(11);
    let aws_lc = [
        iana::DH_CURVE25519,
        iana::DH_ECP_256,
        iana::DH_ECP_384,
        iana::DH_ECP_521,
    ]
    .map(|id| ("aws-lc-rs-", AWS_LC_RS.key_exchange(id).unwrap()));
    let default = RUST_CRYPTO.key_exchanges.iter().map(|a| ("", *a));
    for (prefix, algorithm) in default.chain(aws_lc) {
        let peer_public = algorithm.start(&mut rng).unwrap().public_value().to_vec();
        group.bench_function(format!("{prefix}group{}", algorithm.group()), |b| {
            b.iter(|| {
                let exchange = algorithm.start(&mut rng).unwrap();
                black_box(exchange.public_value());
                exchange.complete(black_box(&peer_public)).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench, key_exchanges);
criterion_main!(benches);
