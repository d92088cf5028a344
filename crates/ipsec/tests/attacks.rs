//! The responder under attack, scenario by scenario (numbered as in docs/performance.md,
//! where the cost of each attack packet is measured by `benches/benches/attacks.rs`).
//! Each scenario asserts what the attack may cost at most: state bounded by the limits
//! of `DosProtection`, memory measured by a counting allocator, no key generation or
//! Diffie-Hellman for what the cookie or the KE check refuses; and that a legitimate
//! initiator still gets through while the attack runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::alloc::System;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Net, Wire};
use ipsec::ikev2::{DropReason, RetransmitConfig};
use ipsec::{
    Child, Config, Connection, DosProtection, Dropped, Endpoint, Event, Path, PuzzlePolicy, Secret,
    UniquePolicy,
};
use ipsec_crypto::{CryptoError, RUST_CRYPTO, SecureRandom, SeededRandom, iana};
use ipsec_isakmp::{
    ExchangeType, Flags, KeyExchange, Message, Notify, NotifyType, Payload, PuzzleRequest,
};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static HEAP: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The scenarios measure the heap of the whole process: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Bytes held now that were not when `region` began (stats_alloc counts a reallocation's
/// growth or shrinking in its allocated and deallocated bytes).
fn heap_growth(region: &Region<'_, System>) -> i64 {
    let change = region.change();
    change.bytes_allocated as i64 - change.bytes_deallocated as i64
}

/// A start for the fake clock: any instant will do.
fn clock() -> Instant {
    #[allow(clippy::disallowed_methods)]
    Instant::now()
}

const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);
const KEY: &[u8] = b"the attack suite's key";
const PROPOSALS: &str = "aes128gcm16-prfsha256-x25519-ecp256-modp2048";

/// The defences the scenarios run against: small numbers, so that each limit is reached
/// in a few hundred packets.
fn defences() -> DosProtection {
    DosProtection {
        cookie_threshold: 16,
        cookie_threshold_ip: 4,
        cookie_rate: 0,
        block_threshold: 8,
        init_limit_half_open: 256,
        ike_sas_per_identity: 4,
        puzzles: Some(PuzzlePolicy {
            threshold: 64,
            difficulty: 6,
            max_difficulty: 10,
            auth_failures: 10,
        }),
    }
}

/// A random source that counts its draws: key generation and nonces draw, so none means
/// no expensive work was done.
struct CountingRandom {
    inner: SeededRandom,
    draws: Arc<AtomicU64>,
}

impl SecureRandom for CountingRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
        self.draws.fetch_add(1, Ordering::Relaxed);
        self.inner.fill(dest)
    }
}

/// The gateway: any address, clients of `*.clients.example` with one key, the three
/// groups an attacker will use.
fn gateway_with(now: Instant, dos: DosProtection, draws: Arc<AtomicU64>) -> Endpoint {
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
                .remote_ts("10.99.0.0/16")
                .esp_proposals("aes128gcm16")
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .secret(Secret::new(&["gw.example", "*.clients.example"], KEY).unwrap())
        .dos(dos)
        .queue_limit(1024)
        .build()
        .unwrap();
    let rng = CountingRandom {
        inner: SeededRandom::from_u64(1),
        draws,
    };
    Endpoint::new(now, config, Box::new(rng)).unwrap()
}

fn gateway(now: Instant) -> Endpoint {
    gateway_with(now, defences(), Arc::default())
}

/// The inner address of most clients.
const INNER: Ipv4Addr = Ipv4Addr::new(10, 99, 0, 1);

/// A legitimate client at `ip` named `name`, which solves puzzles (the default).
fn client_at(now: Instant, ip: Ipv4Addr, name: &str, seed: u64) -> Endpoint {
    client_with(now, ip, name, seed, UniquePolicy::Replace, INNER)
}

/// [`client_at`] with a `unique` policy (`never`: no INITIAL_CONTACT) and an inner address.
fn client_with(
    now: Instant,
    ip: Ipv4Addr,
    name: &str,
    seed: u64,
    unique: UniquePolicy,
    inner: Ipv4Addr,
) -> Endpoint {
    let connection = Connection::builder("home")
        .unique(unique)
        .local_addrs(&ip.to_string())
        .remote_addrs(&GATEWAY.to_string())
        .local_id(&format!("{name}.clients.example"))
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
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(seed))).unwrap()
}

/// An IKE_SA_INIT request as a client sends it, to forge others from.
fn init_template(now: Instant) -> Message {
    let mut client = client_at(now, CLIENT, "template", 99);
    client.connect(now, "home").unwrap();
    while let Some(output) = client.poll_output() {
        if let ipsec::Output::Udp { payload, .. } = output {
            return Message::parse(&payload).unwrap();
        }
    }
    panic!("no IKE_SA_INIT request");
}

/// A public value of `group` that passes every check.
fn valid_public(group: u16) -> Vec<u8> {
    let kx = RUST_CRYPTO.key_exchange(group).unwrap();
    kx.start(&mut SeededRandom::from_u64(u64::from(group)))
        .unwrap()
        .public_value()
        .to_vec()
}

/// A public value of `group` that fails the RFC 6989 / RFC 7748 checks.
fn invalid_public(group: u16) -> Vec<u8> {
    match group {
        iana::DH_CURVE25519 => vec![0; 32],
        iana::DH_ECP_256 => {
            let mut value = valid_public(group);
            *value.last_mut().unwrap() ^= 1;
            value
        }
        _ => {
            let mut one = vec![0; 256];
            *one.last_mut().unwrap() = 1;
            one
        }
    }
}

/// `template` from SPIi `spi`, with the KE payload `(group, value)`, and a COOKIE (then
/// a Puzzle Solution) first if given.
fn forge(
    template: &Message,
    spi: u64,
    ke: (u16, Vec<u8>),
    cookie: Option<&[u8]>,
    solution: Option<ipsec_isakmp::PuzzleSolution>,
) -> Vec<u8> {
    let mut message = template.clone();
    message.initiator_spi = spi;
    let mut payloads: Vec<Payload> = Vec::new();
    if let Some(cookie) = cookie {
        payloads.push(Payload::Notify(Notify::new(NotifyType::Cookie, cookie)));
        if let Some(solution) = solution {
            payloads.push(Payload::PuzzleSolution(solution));
        }
    }
    for payload in &template.payloads {
        match payload {
            Payload::KeyExchange(_) => payloads.push(Payload::KeyExchange(KeyExchange {
                group: ipsec_isakmp::DhGroup::from(ke.0),
                data: ke.1.clone(),
            })),
            Payload::Notify(n) if n.notify_type == NotifyType::Cookie => {}
            other => payloads.push(other.clone()),
        }
    }
    message.payloads = payloads;
    message.to_vec().unwrap()
}

/// The `i`th spoofed source.
fn spoofed(i: u32) -> SocketAddr {
    let [a, b, c, d] = (0x0a00_0000u32 | i).to_be_bytes();
    SocketAddr::new(IpAddr::from([a | 20, b, c, d]), 500)
}

fn to_gateway(remote: SocketAddr) -> Path {
    Path {
        local: SocketAddr::new(GATEWAY.into(), 500),
        remote,
    }
}

/// The IKE_SA_INIT responses the gateway sent to `remote`, newest last.
fn answers_to(net: &Net, gw: usize, remote: SocketAddr) -> Vec<Message> {
    net.nodes[gw]
        .sent
        .iter()
        .filter_map(|wire| match wire {
            Wire::Udp { path, payload } if path.local == remote => Message::parse(payload).ok(),
            _ => None,
        })
        .collect()
}

/// The IKE messages `endpoint` has queued to send, parsed; the queue is drained.
fn answers(endpoint: &mut Endpoint) -> Vec<Message> {
    std::iter::from_fn(|| endpoint.poll_output())
        .filter_map(|o| match o {
            ipsec::Output::Udp { payload, .. } => Message::parse(&payload).ok(),
            _ => None,
        })
        .collect()
}

fn notify_data(message: &Message, kind: NotifyType) -> Option<Vec<u8>> {
    message.payloads.iter().find_map(|p| match p {
        Payload::Notify(n) if n.notify_type == kind => Some(n.data.clone()),
        _ => None,
    })
}

fn dropped(endpoint: &Endpoint, reason: &str) -> u64 {
    endpoint
        .ike()
        .stats()
        .dropped
        .get(reason)
        .copied()
        .unwrap_or(0)
}

fn established(net: &Net, node: usize) -> bool {
    net.nodes[node]
        .events
        .iter()
        .any(|e| matches!(e, Event::IkeSaEstablished { .. }))
}

/// Adds a legitimate client, starts it and runs the network until it is up or `limit`
/// passes; whether it came up.
fn legitimate_client_connects(net: &mut Net, ip: Ipv4Addr, name: &str, limit: Duration) -> bool {
    let client = client_at(net.now, ip, name, 7);
    client_connects(net, ip, name, client, limit)
}

/// Alice, the legitimate client at [`CLIENT`], connects within five seconds.
fn alice_connects(net: &mut Net) -> bool {
    legitimate_client_connects(net, CLIENT, "alice", Duration::from_secs(5))
}

/// Adds `client` at `ip`, starts it and runs the network until it is up or `limit`
/// passes; whether it came up.
fn client_connects(
    net: &mut Net,
    ip: Ipv4Addr,
    name: &str,
    client: Endpoint,
    limit: Duration,
) -> bool {
    let node = net.add(name, ip.into(), client);
    net.with(node, |endpoint, now| endpoint.connect(now, "home"))
        .unwrap();
    let step = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    while waited < limit && !established(net, node) {
        net.run(step);
        waited += step;
    }
    established(net, node)
}

/// 1. A flood of IKE_SA_INIT requests from spoofed addresses with valid KE values, in
///    each group: past the cookie threshold every request gets a cookie and nothing
///    else, so half-open state stops growing; a real client still connects.
#[test]
fn a01_spoofed_init_flood_with_valid_ke() {
    let _serial = serial();
    for group in [iana::DH_CURVE25519, iana::DH_ECP_256, iana::DH_MODP_2048] {
        let mut net = Net::new();
        let draws = Arc::new(AtomicU64::new(0));
        let mut gateway = gateway_with(net.now, defences(), draws.clone());
        let template = init_template(net.now);
        let public = valid_public(group);
        let region = Region::new(HEAP);
        for i in 0..2000 {
            let request = forge(
                &template,
                u64::from(i) + 1,
                (group, public.clone()),
                None,
                None,
            );
            let _ = gateway.handle_udp(net.now, to_gateway(spoofed(i)), &request);
            while gateway.poll_output().is_some() {}
        }
        let half_open = gateway.ike().half_open_count();
        assert_eq!(half_open, defences().cookie_threshold, "group {group}");
        assert_eq!(gateway.ike().stats().cookies_sent, 2000 - half_open as u64);
        // Sixteen half-open SAs drew SPIs, keys and nonces; the cookies drew nothing.
        let per_sa = draws.load(Ordering::Relaxed) / half_open as u64;
        assert!(per_sa <= 4, "{per_sa} draws per half-open SA");
        // Under 2 KB a half-open SA, plus its copies of the key exchange values (the
        // peer's in the request, ours in the response and in the key pair): a MODP-2048
        // half-open SA holds 1 KB of them.
        let growth = heap_growth(&region);
        let bound = half_open * (2048 + 4 * public.len());
        assert!(growth < bound as i64, "{growth} bytes for group {group}");
        net.add("gateway", GATEWAY.into(), gateway);
        assert!(alice_connects(&mut net));
    }
}

/// 2. The same flood with KE values that fail their checks: refused before any key is
///    generated (no draw from the random source), and no half-open SA is made, so the
///    cookie threshold is never reached and nothing is kept.
#[test]
fn a02_spoofed_init_flood_with_invalid_ke() {
    let _serial = serial();
    for group in [iana::DH_CURVE25519, iana::DH_ECP_256, iana::DH_MODP_2048] {
        let draws = Arc::new(AtomicU64::new(0));
        let now = clock();
        let mut gateway = gateway_with(now, defences(), draws.clone());
        let template = init_template(now);
        let bad = invalid_public(group);
        let before = draws.load(Ordering::Relaxed);
        for i in 0..1000 {
            let request = forge(
                &template,
                u64::from(i) + 1,
                (group, bad.clone()),
                None,
                None,
            );
            let result = gateway.handle_udp(now, to_gateway(spoofed(i)), &request);
            assert_eq!(
                result,
                Err(Dropped::Ike(DropReason::Refused(NotifyType::InvalidSyntax)))
            );
            while gateway.poll_output().is_some() {}
        }
        assert_eq!(draws.load(Ordering::Relaxed), before, "group {group}");
        assert_eq!(gateway.ike().half_open_count(), 0);
        assert_eq!(gateway.ike().ike_sa_count(), 0);
    }
}

/// 3. An attacker that answers cookies, from one address: it gets `block_threshold`
///    half-open SAs and no more; others still connect.
#[test]
fn a03_cookie_answering_attacker_from_one_address() {
    let _serial = serial();
    let mut net = Net::new();
    let gw = net.add("gateway", GATEWAY.into(), gateway(net.now));
    let template = init_template(net.now);
    let public = valid_public(iana::DH_CURVE25519);
    let attacker = IpAddr::from([203, 0, 113, 66]);
    for i in 0..500u32 {
        let from = SocketAddr::new(attacker, 1024 + (i % 60_000) as u16);
        let spi = u64::from(i) + 1;
        let request = forge(&template, spi, (31, public.clone()), None, None);
        let _ = net.with(gw, |ep, now| ep.handle_udp(now, to_gateway(from), &request));
        // Answer the cookie, as an attacker at that address can.
        if let Some(cookie) = answers_to(&net, gw, from)
            .last()
            .and_then(|m| notify_data(m, NotifyType::Cookie))
        {
            let again = forge(&template, spi, (31, public.clone()), Some(&cookie), None);
            let _ = net.with(gw, |ep, now| ep.handle_udp(now, to_gateway(from), &again));
        }
    }
    let gateway = &net.nodes[gw].endpoint;
    assert_eq!(gateway.ike().half_open_count(), defences().block_threshold);
    assert!(dropped(gateway, "blocked") > 400);
    assert!(alice_connects(&mut net));
}

/// 4. An attacker that answers cookies from many addresses but solves no puzzle (as
///    one that wants to be cheap): past the puzzle threshold it is admitted only up to
///    twice the threshold, while a client that solves its puzzle still connects; past
///    `init_limit_half_open` nothing more is kept. Memory stays under 2 KB a half-open SA.
#[test]
fn a04_cookie_answering_attacker_from_many_addresses() {
    let _serial = serial();
    let mut net = Net::new();
    let mut gateway = gateway(net.now);
    let template = init_template(net.now);
    let public = valid_public(iana::DH_CURVE25519);
    let region = Region::new(HEAP);
    for i in 0..1000u32 {
        let from = spoofed(i);
        let spi = u64::from(i) + 1;
        let request = forge(&template, spi, (31, public.clone()), None, None);
        let _ = gateway.handle_udp(net.now, to_gateway(from), &request);
        let cookie = answers(&mut gateway)
            .into_iter()
            .find_map(|m| notify_data(&m, NotifyType::Cookie));
        if let Some(cookie) = cookie {
            let again = forge(&template, spi, (31, public.clone()), Some(&cookie), None);
            let _ = gateway.handle_udp(net.now, to_gateway(from), &again);
            while gateway.poll_output().is_some() {}
        }
    }
    let policy = defences().puzzles.unwrap();
    let half_open = gateway.ike().half_open_count();
    assert_eq!(half_open, 2 * policy.threshold);
    assert!(gateway.ike().stats().puzzles_sent > 800);
    let per_sa = heap_growth(&region) / half_open as i64;
    assert!(per_sa < 2048, "{per_sa} bytes per half-open IKE SA");
    // A client that solves the puzzle gets through.
    net.add("gateway", GATEWAY.into(), gateway);
    assert!(alice_connects(&mut net));
    let client = net.nodes.len() - 1;
    assert!(net.nodes[client].sent.iter().any(|w| match w {
        Wire::Udp { payload, .. } => Message::parse(payload).is_ok_and(|m| {
            m.payloads
                .iter()
                .any(|p| matches!(p, Payload::PuzzleSolution(_)))
        }),
        _ => false,
    }));
}

/// 5. Garbage IKE_AUTH requests on the attacker's half-open SAs: dropped (the keys are
///    computed once, then kept), the half-open SAs expire, and once such failures come
///    often an initiator that solved its IKE_SA_INIT puzzle gets an IKE_AUTH puzzle too,
///    solves it and connects.
#[test]
fn a05_garbage_ike_auth() {
    let _serial = serial();
    let mut net = Net::new();
    let dos = DosProtection {
        puzzles: Some(PuzzlePolicy {
            threshold: 4,
            ..defences().puzzles.unwrap()
        }),
        ..defences()
    };
    let gw = net.add(
        "gateway",
        GATEWAY.into(),
        gateway_with(net.now, dos, Arc::default()),
    );
    let template = init_template(net.now);
    let public = valid_public(iana::DH_CURVE25519);
    for i in 0..8u32 {
        let from = spoofed(i);
        let spi = u64::from(i) + 1;
        let request = forge(&template, spi, (31, public.clone()), None, None);
        let _ = net.with(gw, |ep, now| ep.handle_udp(now, to_gateway(from), &request));
        let Some(answer) = answers_to(&net, gw, from).pop() else {
            continue;
        };
        if answer.responder_spi == 0 {
            continue;
        }
        // IKE_AUTH with an SK payload of noise, twenty times.
        for _ in 0..20 {
            let garbage = Message {
                initiator_spi: spi,
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
                    data: vec![0x5a; 96],
                })],
            }
            .to_vec()
            .unwrap();
            let result = net.with(gw, |ep, now| ep.handle_udp(now, to_gateway(from), &garbage));
            assert_eq!(result, Err(Dropped::Ike(DropReason::IntegrityCheckFailed)));
        }
    }
    assert!(dropped(&net.nodes[gw].endpoint, "integrity-check-failed") >= 80);
    assert!(net.nodes[gw].endpoint.ike().half_open_count() >= 4);
    assert!(alice_connects(&mut net));
    // The client's IKE_AUTH request carried a Puzzle Solution before its SK payload.
    let client = net.nodes.len() - 1;
    let auth_with_solution = net.nodes[client].sent.iter().any(|w| match w {
        Wire::Udp { payload, .. } => Message::parse(payload).is_ok_and(|m| {
            m.exchange_type == ExchangeType::IkeAuth
                && matches!(m.payloads.first(), Some(Payload::PuzzleSolution(_)))
        }),
        _ => false,
    });
    assert!(auth_with_solution);
    // The attacker's half-open SAs go when they time out.
    net.run(Duration::from_secs(40));
    assert_eq!(net.nodes[gw].endpoint.ike().half_open_count(), 0);
}

/// 6. Forged answers to an initiator's IKE_SA_INIT from an attacker who sees it:
///    NO_PROPOSAL_CHOSEN, INVALID_SYNTAX and a dozen COOKIEs arrive before the real
///    response. They are noted, not acted on, and the IKE SA comes up (RFC 7296 §2.21.1).
#[test]
fn a06_forged_errors_to_an_initiator() {
    let _serial = serial();
    let mut net = Net::new();
    let gw = net.add("gateway", GATEWAY.into(), gateway(net.now));
    let start = net.now;
    let client = net.add("alice", CLIENT.into(), client_at(start, CLIENT, "alice", 7));
    net.with(client, |ep, now| ep.connect(now, "home")).unwrap();
    let request = net.nodes[client]
        .sent
        .iter()
        .find_map(|w| match w {
            Wire::Udp { payload, .. } => Message::parse(payload).ok(),
            _ => None,
        })
        .unwrap();
    let forged = |notify: NotifyType, data: &[u8]| {
        let message = Message {
            initiator_spi: request.initiator_spi,
            responder_spi: 0,
            minor_version: 0,
            exchange_type: ExchangeType::IkeSaInit,
            flags: Flags {
                initiator: false,
                version: false,
                response: true,
            },
            message_id: 0,
            payloads: vec![Payload::Notify(Notify::new(notify, data))],
        };
        Wire::Udp {
            path: Path {
                local: SocketAddr::new(CLIENT.into(), 500),
                remote: SocketAddr::new(GATEWAY.into(), 500),
            },
            payload: Bytes::from(message.to_vec().unwrap()),
        }
    };
    net.inject(CLIENT.into(), forged(NotifyType::NoProposalChosen, &[]));
    net.inject(CLIENT.into(), forged(NotifyType::InvalidSyntax, &[]));
    for i in 0..12u8 {
        net.inject(CLIENT.into(), forged(NotifyType::Cookie, &[i; 20]));
    }
    net.run(Duration::from_secs(10));
    assert!(established(&net, client));
    let noted = dropped(&net.nodes[client].endpoint, "noted");
    assert!(noted >= 2, "{noted} noted");
    let _ = gw;
}

/// 7. Retransmission triggers: a bare header with the last request's message ID, from
///    anywhere, is no retransmission and gets no answer; the real request retransmitted
///    is answered, a dozen times at most (RFC 7296 §2.1).
#[test]
fn a07_retransmission_triggers() {
    let _serial = serial();
    let mut net = Net::new();
    let gw = net.add("gateway", GATEWAY.into(), gateway(net.now));
    assert!(alice_connects(&mut net));
    let client = net.nodes.len() - 1;
    let auth_request = net.nodes[client]
        .sent
        .iter()
        .rev()
        .find_map(|w| match w {
            Wire::Udp { payload, path } => Message::parse(payload)
                .ok()
                .filter(|m| m.exchange_type == ExchangeType::IkeAuth)
                .map(|m| (m, payload.clone(), *path)),
            _ => None,
        })
        .unwrap();
    let (message, bytes, path) = auth_request;
    let header = Message {
        payloads: Vec::new(),
        ..message.clone()
    }
    .to_vec()
    .unwrap();
    let before = net.nodes[gw].sent.len();
    for port in 0..50u16 {
        let from = SocketAddr::new(IpAddr::from([203, 0, 113, 9]), 2000 + port);
        let result = net.with(gw, |ep, now| ep.handle_udp(now, to_gateway(from), &header));
        assert_eq!(result, Err(Dropped::Ike(DropReason::ForgedRetransmission)));
    }
    assert_eq!(
        net.nodes[gw].sent.len(),
        before,
        "no answer to a bare header"
    );
    let gateway_path = Path {
        local: path.remote,
        remote: path.local,
    };
    let mut answered = 0;
    for _ in 0..30 {
        if net
            .with(gw, |ep, now| ep.handle_udp(now, gateway_path, &bytes))
            .is_ok()
        {
            answered += 1;
        }
    }
    assert_eq!(answered, 12);
    assert_eq!(
        net.nodes[gw]
            .endpoint
            .ike()
            .stats()
            .retransmissions_answered,
        12
    );
}

/// 8. An embedder that does not poll while a flood arrives: the queues hold
///    `queue_limit` items and count the rest as drops; memory stays bounded and is given
///    back once drained.
#[test]
fn a08_a_non_polling_embedder() {
    let _serial = serial();
    let now = clock();
    let mut gateway = gateway(now);
    let template = init_template(now);
    let public = valid_public(iana::DH_CURVE25519);
    let region = Region::new(HEAP);
    for i in 0..100_000u32 {
        let request = forge(
            &template,
            u64::from(i) + 1,
            (31, public.clone()),
            None,
            None,
        );
        let _ = gateway.handle_udp(now, to_gateway(spoofed(i)), &request);
    }
    let growth = heap_growth(&region);
    // 1,024 queued cookie answers of about 100 bytes, their Bytes and VecDeque slots,
    // sixteen half-open SAs.
    assert!(growth < 1024 * 512 + 16 * 2048, "{growth} bytes");
    let drops = gateway.queue_drops();
    assert!(drops.outputs > 98_000, "{drops:?}");
    while gateway.poll_output().is_some() {}
    while gateway.poll_event().is_some() {}
    let after = heap_growth(&region);
    assert!(after < 64 * 1024, "{after} bytes kept after draining");
}

/// 9. On port 500 there is no non-ESP marker: an SPIi whose first four octets are zero
///    is an SPIi, not a marker (RFC 3948 §2.2).
#[test]
fn a09_a_zero_spi_prefix_on_port_500() {
    let _serial = serial();
    let now = clock();
    let mut gateway = gateway(now);
    let template = init_template(now);
    let request = forge(
        &template,
        0x0000_0000_1234_5678,
        (31, valid_public(31)),
        None,
        None,
    );
    let from = SocketAddr::new(CLIENT.into(), 500);
    gateway.handle_udp(now, to_gateway(from), &request).unwrap();
    let answer = answers(&mut gateway).into_iter().next().unwrap();
    assert_eq!(answer.initiator_spi, 0x0000_0000_1234_5678);
    assert_ne!(answer.responder_spi, 0);
}

/// 10. Configuration values that could make timers panic or spin are refused when the
///     configuration is built, with the setting named.
#[test]
fn a10_configuration_values_cannot_panic() {
    let _serial = serial();
    let base = RetransmitConfig::default();
    let bad = [
        RetransmitConfig {
            backoff: f64::NAN,
            ..base
        },
        RetransmitConfig {
            backoff: -1.0,
            ..base
        },
        RetransmitConfig {
            backoff: 1e300,
            ..base
        },
        RetransmitConfig {
            initial_timeout: Duration::MAX,
            ..base
        },
        RetransmitConfig {
            initial_timeout: Duration::ZERO,
            ..base
        },
        RetransmitConfig {
            max_timeout: Duration::from_millis(1),
            ..base
        },
    ];
    for retransmit in bad {
        let error = Config::builder()
            .retransmit(retransmit)
            .build()
            .unwrap_err();
        assert!(error.to_string().starts_with("retransmit."), "{error}");
    }
    let error = Config::builder()
        .dos(DosProtection {
            puzzles: Some(PuzzlePolicy {
                difficulty: 40,
                max_difficulty: 40,
                ..PuzzlePolicy::default()
            }),
            ..DosProtection::default()
        })
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("puzzles"), "{error}");
    assert!(Config::builder().queue_limit(0).build().is_err());
}

/// 11. A random source that gives only zeros: connecting fails with an error instead of
///     drawing for ever for a non-zero SPI.
#[test]
fn a11_a_random_source_of_zeros() {
    let _serial = serial();
    struct Zeros;
    impl SecureRandom for Zeros {
        fn fill(&mut self, dest: &mut [u8]) -> Result<(), CryptoError> {
            dest.fill(0);
            Ok(())
        }
    }
    let now = clock();
    let connection = Connection::builder("home")
        .remote_addrs(&GATEWAY.to_string())
        .local_id("alice.clients.example")
        .remote_id("gw.example")
        .psk(KEY)
        .child(
            Child::builder("net")
                .local_ts("10.99.0.1/32")
                .remote_ts("10.1.0.0/16")
                .build(),
        )
        .build();
    let config = Config::builder()
        .connection(connection)
        .unwrap()
        .build()
        .unwrap();
    let mut endpoint = Endpoint::new(now, config, Box::new(Zeros)).unwrap();
    assert!(endpoint.connect(now, "home").is_err());
}

/// 12. One identity may hold `ike_sas_per_identity` IKE SAs on a connection: the next
///     is refused in IKE_AUTH before its AUTH is checked.
#[test]
fn a12_ike_sas_per_identity() {
    let _serial = serial();
    let mut net = Net::new();
    let gw = net.add("gateway", GATEWAY.into(), gateway(net.now));
    let limit = defences().ike_sas_per_identity;
    for i in 0..=limit {
        let ip = Ipv4Addr::new(198, 51, 100, 10 + i as u8);
        // `never`: the client sends no INITIAL_CONTACT, which would close the others.
        let client = client_with(net.now, ip, "bob", 7 + i as u64, UniquePolicy::Never, INNER);
        let up = client_connects(&mut net, ip, "bob", client, Duration::from_secs(3));
        assert_eq!(up, i < limit, "IKE SA {i}");
    }
    assert_eq!(net.nodes[gw].endpoint.ike_sas(net.now).len(), limit);
    assert!(net.nodes[gw].events.iter().any(|e| matches!(
        e,
        Event::PeerRefused {
            reason: NotifyType::AuthenticationFailed,
            ..
        }
    )));
}

/// 13. Half-open IKE SAs from answered cookies give their memory back when they time
///     out: the tables shrink, the heap returns to where it was.
#[test]
fn a13_half_open_state_is_released() {
    let _serial = serial();
    let now = clock();
    let dos = DosProtection {
        cookie_threshold: 10_000,
        cookie_threshold_ip: 10_000,
        block_threshold: 0,
        init_limit_half_open: 0,
        puzzles: None,
        ..defences()
    };
    let mut gateway = gateway_with(now, dos, Arc::default());
    let template = init_template(now);
    let public = valid_public(iana::DH_CURVE25519);
    let region = Region::new(HEAP);
    const SAS: u32 = 4000;
    for i in 0..SAS {
        let request = forge(
            &template,
            u64::from(i) + 1,
            (31, public.clone()),
            None,
            None,
        );
        gateway
            .handle_udp(now, to_gateway(spoofed(i)), &request)
            .unwrap();
        while gateway.poll_output().is_some() {}
    }
    assert_eq!(gateway.ike().half_open_count(), SAS as usize);
    let per_sa = heap_growth(&region) / i64::from(SAS);
    assert!(per_sa < 2048, "{per_sa} bytes per half-open IKE SA");
    let later = now + Duration::from_secs(60);
    gateway.handle_timeout(later);
    while gateway.poll_event().is_some() {}
    assert_eq!(gateway.ike().half_open_count(), 0);
    let kept = heap_growth(&region);
    assert!(
        kept < 32 * 1024,
        "{kept} bytes kept after the half-open SAs went"
    );
}

/// The puzzle in a cookie answer names a PRF the initiator offered and a difficulty
/// from the policy (RFC 8019 §7.1.1).
#[test]
fn a14_puzzles_name_an_offered_prf() {
    let _serial = serial();
    let now = clock();
    let dos = DosProtection {
        cookie_threshold: 0,
        puzzles: Some(PuzzlePolicy {
            threshold: 0,
            ..defences().puzzles.unwrap()
        }),
        ..defences()
    };
    let mut gateway = gateway_with(now, dos, Arc::default());
    let template = init_template(now);
    let request = forge(&template, 5, (31, valid_public(31)), None, None);
    let _ = gateway.handle_udp(now, to_gateway(spoofed(1)), &request);
    let answer = answers(&mut gateway).into_iter().next().unwrap();
    assert!(matches!(
        answer.payloads.first(),
        Some(Payload::Notify(n)) if n.notify_type == NotifyType::Cookie
    ));
    let puzzle = PuzzleRequest::parse(&notify_data(&answer, NotifyType::Puzzle).unwrap()).unwrap();
    assert_eq!(puzzle.prf, ipsec_isakmp::PrfId::HmacSha2_256);
    assert_eq!(puzzle.difficulty, 6);
}

/// Moves `from`'s datagrams to `to`; whether there were any.
fn relay_once(now: Instant, from: &mut Endpoint, to: &mut Endpoint) -> bool {
    let mut moved = false;
    while let Some(output) = from.poll_output() {
        if let ipsec::Output::Udp { path, payload } = output {
            let back = Path {
                local: path.remote,
                remote: path.local,
            };
            let _ = to.handle_udp(now, back, &payload);
            moved = true;
        }
    }
    while from.poll_event().is_some() {}
    moved
}

/// Relays datagrams between two endpoints until both are quiet.
fn relay_until_quiet(now: Instant, a: &mut Endpoint, b: &mut Endpoint) {
    while relay_once(now, a, b) | relay_once(now, b, a) {}
}

/// 15. What an established IKE SA with one Child SA holds on the gateway (the IKE SA,
///     its keys, the Child SA in the SAD and SPD, the facade's bookkeeping), measured with
///     each client dropped once it is up: reported in docs/performance.md.
#[test]
fn a15_heap_per_established_ike_sa() {
    let _serial = serial();
    let now = clock();
    let mut gateway = gateway(now);
    const CLIENTS: u32 = 200;
    let region = Region::new(HEAP);
    for i in 0..CLIENTS {
        let [_, _, c, d] = i.to_be_bytes();
        let ip = Ipv4Addr::new(100, 64, c, d + 1);
        // Each client with an inner address of its own, as on a real gateway: its
        // selectors get entries of their own in the SPD's per-SA index.
        let inner = Ipv4Addr::new(10, 99, c, d + 1);
        let mut client = client_with(
            now,
            ip,
            &format!("c{i}"),
            u64::from(i) + 100,
            UniquePolicy::Replace,
            inner,
        );
        client.connect(now, "home").unwrap();
        relay_until_quiet(now, &mut client, &mut gateway);
    }
    assert_eq!(gateway.ike_sas(now).len(), CLIENTS as usize);
    assert_eq!(gateway.child_sas(now).len(), CLIENTS as usize);
    let per_sa = heap_growth(&region) / i64::from(CLIENTS);
    eprintln!("{per_sa} bytes per established IKE SA with one Child SA");
    assert!(per_sa < 16 * 1024, "{per_sa} bytes per established IKE SA");
}

/// 16. Cookies collected once do not open half-open SAs for long: the secret is replaced
///     on the endpoint's own timer (every 15 s by default, RFC 8019 §10), and a cookie of
///     the previous secret is good for one period only (RFC 7296 §2.6).
#[test]
fn a16_old_cookies_expire_with_the_secret() {
    let _serial = serial();
    let now = clock();
    let dos = DosProtection {
        cookie_threshold: 0,
        puzzles: None,
        ..defences()
    };
    let mut gateway = gateway_with(now, dos, Arc::default());
    let template = init_template(now);
    let public = valid_public(iana::DH_CURVE25519);
    let from = spoofed(7);
    let first = forge(&template, 7, (31, public.clone()), None, None);
    let _ = gateway.handle_udp(now, to_gateway(from), &first);
    let cookie = answers(&mut gateway)
        .into_iter()
        .find_map(|m| notify_data(&m, NotifyType::Cookie))
        .unwrap();
    let with_cookie = || forge(&template, 7, (31, public.clone()), Some(&cookie), None);
    // 15 s later the secret has been replaced once: the cookie still works.
    let hour = now + Duration::from_secs(15);
    gateway.handle_timeout(hour);
    gateway
        .handle_udp(hour, to_gateway(from), &with_cookie())
        .unwrap();
    while gateway.poll_output().is_some() {}
    // 45 s later (twice more), with the half-open SA of 15 s ago timed out: refused, and
    // a new cookie demanded.
    let later = now + Duration::from_secs(46);
    gateway.handle_timeout(now + Duration::from_secs(30));
    gateway.handle_timeout(later);
    while gateway.poll_event().is_some() {}
    let again = gateway.handle_udp(later, to_gateway(from), &with_cookie());
    assert_eq!(
        again,
        Err(Dropped::Ike(DropReason::Refused(NotifyType::Cookie)))
    );
}
