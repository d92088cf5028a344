//! The harness of the `ike_endpoint` fuzz target (`fuzz/fuzz_targets/ike_endpoint_harness.rs`,
//! included here as it is) run in the ordinary test suite: its seeds replay and do what
//! they are meant to (a relayed handshake establishes, with and without a COOKIE round),
//! and a few thousand pseudo-random inputs and seed mutations run without a panic.
//!
//! The seeds in `fuzz/corpus/ike_endpoint/` are written by the ignored test
//! `write_seed_corpus`:
//!
//! ```sh
//! cargo test -p ipsec-ikev2 --test fuzz_ike_endpoint -- --ignored write_seed_corpus
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../../../fuzz/fuzz_targets/ike_endpoint_harness.rs"]
mod harness;

use harness::{
    COMMAND, DROP, Harness, NAT_T, PATCH_SPIS, RELAY_A_TO_B, RELAY_B_TO_A, TO_A, TO_B, encode, run,
};
use ipsec_ikev2::Event;

const CHARON_GCM: &[u8] =
    include_bytes!("data/charon/aes256gcm16-x25519/01-ike_sa_init-request.bin");
const CHARON_CHACHA: &[u8] =
    include_bytes!("data/charon/chacha20poly1305-x25519/01-ike_sa_init-request.bin");
const CHARON_MODP: &[u8] =
    include_bytes!("data/charon/aes128-sha256-modp2048/01-ike_sa_init-request.bin");
const CHARON_AUTH: &[u8] = include_bytes!("data/charon/aes256gcm16-x25519/03-ike_auth-request.bin");

/// A faithful relay of one datagram each way, `rounds` times.
fn relays(rounds: usize) -> Vec<(u8, &'static [u8])> {
    (0..rounds)
        .flat_map(|_| [(RELAY_A_TO_B, &[][..]), (RELAY_B_TO_A, &[][..])])
        .collect()
}

/// What the endpoints send in a faithful handshake: A's IKE_SA_INIT request, B's response,
/// A's IKE_AUTH request, B's response.
fn handshake_messages() -> Vec<Vec<u8>> {
    let mut h = Harness::new();
    let mut out = Vec::new();
    for (op, body) in relays(2) {
        let queue = if op == RELAY_A_TO_B {
            &h.a_out
        } else {
            &h.b_out
        };
        out.push(queue.front().unwrap().payload.to_vec());
        h.step(op, body);
    }
    assert!(h.both_established());
    out
}

/// The charon request with another SPIi, so B sees another half-open IKE SA.
fn with_spi(message: &[u8], last_byte: u8) -> Vec<u8> {
    let mut m = message.to_vec();
    m[7] = last_byte;
    m
}

/// The seeds, by name.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let messages = handshake_messages();
    let (init_request, init_response, auth_request, auth_response) =
        (&messages[0], &messages[1], &messages[2], &messages[3]);
    let mut seeds = vec![
        ("seed-handshake", encode(&relays(2))),
        (
            "seed-charon-init-aes256gcm16-x25519",
            encode(&[(TO_B, CHARON_GCM)]),
        ),
        (
            "seed-charon-init-chacha20poly1305-x25519",
            encode(&[(TO_B, CHARON_CHACHA)]),
        ),
        (
            "seed-charon-init-aes128-sha256-modp2048",
            encode(&[(TO_B, CHARON_MODP)]),
        ),
        // charon's IKE_AUTH request after A's IKE_SA_INIT, its SPIs made B's.
        (
            "seed-charon-auth-patched",
            encode(&[
                (RELAY_A_TO_B, &[][..]),
                (RELAY_B_TO_A, &[][..]),
                (TO_B | PATCH_SPIS | NAT_T, CHARON_AUTH),
            ]),
        ),
        // A's IKE_SA_INIT request as a datagram of its own, and B's answer to A.
        (
            "seed-initiator-init-request",
            encode(&[(TO_B, init_request)]),
        ),
        (
            "seed-responder-init-response",
            encode(&[(TO_A, init_response)]),
        ),
        // The whole handshake as datagrams, mutable byte by byte.
        (
            "seed-handshake-datagrams",
            encode(&[
                (TO_B, init_request),
                (TO_A, init_response),
                (TO_B, auth_request),
                (TO_A, auth_response),
            ]),
        ),
    ];
    // Enough half-open IKE SAs that B demands a cookie, then A's handshake through it.
    let mut cookie: Vec<(u8, Vec<u8>)> = (0..harness::COOKIE_THRESHOLD as u8)
        .map(|i| (TO_B, with_spi(CHARON_GCM, i)))
        .collect();
    // B's answers to those go to A, which drops them (unknown SPIs).
    cookie.extend((0..harness::COOKIE_THRESHOLD).map(|_| (RELAY_B_TO_A, Vec::new())));
    // A notes B's COOKIE and sends its request again with it when the request falls due,
    // a second later (RFC 7296 §2.21.1: nothing unprotected is acted on at once).
    cookie.extend(relays(1).into_iter().map(|(op, b)| (op, b.to_vec())));
    cookie.push((0x70 | RELAY_B_TO_A, Vec::new()));
    cookie.extend(relays(2).into_iter().map(|(op, b)| (op, b.to_vec())));
    let cookie: Vec<(u8, &[u8])> = cookie.iter().map(|(op, b)| (*op, b.as_slice())).collect();
    seeds.push(("seed-cookie-handshake", encode(&cookie)));
    // A handshake, then B's retransmission timers and A's liveness checks across an hour.
    let mut timers = relays(2);
    timers.extend([
        (0xe0 | RELAY_A_TO_B, &[][..]),
        (0xf0 | RELAY_B_TO_A, &[][..]),
    ]);
    seeds.push(("seed-handshake-then-timers", encode(&timers)));
    // Rekeys after the handshake: each side rekeys the Child SA at once (a collision, RFC
    // 7296 §2.8.1), then the IKE SA likewise (§2.8.2), with one datagram dropped.
    let mut rekeys = relays(2);
    rekeys.extend([
        (RELAY_A_TO_B | COMMAND, &[0u8][..]),
        (RELAY_B_TO_A | COMMAND, &[0u8][..]),
    ]);
    rekeys.extend(relays(4));
    rekeys.extend([
        (RELAY_A_TO_B | COMMAND, &[1u8][..]),
        (RELAY_B_TO_A | COMMAND, &[1u8][..]),
        (RELAY_A_TO_B | DROP, &[][..]),
    ]);
    rekeys.extend(relays(3));
    rekeys.push((0x70 | RELAY_A_TO_B, &[][..]));
    rekeys.extend(relays(4));
    seeds.push(("seed-handshake-then-rekey-collisions", encode(&rekeys)));
    // A further Child SA, then deletes crossing.
    let mut more = relays(2);
    more.push((RELAY_A_TO_B | COMMAND, &[2u8][..]));
    more.extend(relays(1));
    more.extend([
        (RELAY_A_TO_B | COMMAND, &[3u8][..]),
        (RELAY_B_TO_A | COMMAND, &[3u8][..]),
    ]);
    more.extend(relays(3));
    seeds.push(("seed-handshake-then-more-children", encode(&more)));
    seeds
}

#[test]
fn rekey_collisions_settle_with_agreeing_keys() {
    let seeds = seeds();
    let (_, input) = seeds
        .iter()
        .find(|(name, _)| *name == "seed-handshake-then-rekey-collisions")
        .unwrap();
    let h = run(input);
    let rekeyed = |events: &[Event]| {
        events
            .iter()
            .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
            .count()
    };
    assert!(rekeyed(&h.a_events) >= 1 && rekeyed(&h.b_events) >= 1);
    let child_rekeys = h
        .a_events
        .iter()
        .filter(|e| matches!(e, Event::ChildSaReady(c) if c.rekeyed.is_some()))
        .count();
    assert!(child_rekeys >= 1);
}

fn established(h: &Harness) -> bool {
    h.both_established()
}

#[test]
fn relayed_handshake_establishes() {
    let h = run(&encode(&relays(2)));
    // `run` lets an hour pass afterwards, so only the events tell.
    assert!(established(&h));
    let child = |events: &[Event]| events.iter().any(|e| matches!(e, Event::ChildSaReady(_)));
    assert!(child(&h.a_events) && child(&h.b_events));
}

#[test]
fn handshake_through_a_cookie() {
    let seeds = seeds();
    let (_, input) = seeds
        .iter()
        .find(|(name, _)| *name == "seed-cookie-handshake")
        .unwrap();
    let mut h = Harness::new();
    for (op, body) in harness::chunks(input) {
        h.step(op, body);
    }
    assert!(h.b.stats().cookies_sent >= 1, "B demanded a cookie");
    assert!(established(&h), "A and B established through the cookie");
}

#[test]
fn every_seed_replays() {
    for (name, input) in seeds() {
        let h = run(&input);
        let expect_up = matches!(
            name,
            "seed-handshake"
                | "seed-handshake-datagrams"
                | "seed-cookie-handshake"
                | "seed-handshake-then-timers"
                | "seed-handshake-then-rekey-collisions"
                | "seed-handshake-then-more-children"
        );
        assert_eq!(established(&h), expect_up, "{name}");
        assert!(h.a.ike_sa_count() <= harness::MAX_A_SAS, "{name}");
        assert!(h.b.ike_sa_count() <= harness::MAX_B_SAS, "{name}");
    }
}

/// xorshift64*, for reproducible pseudo-random inputs.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn random_inputs_and_seed_mutations() {
    let seeds = seeds();
    let mut dice = Dice(0x1234_5678_9abc_def1);
    for round in 0..300 {
        let input = if round % 2 == 0 {
            // Random chunks.
            (0..dice.below(200)).map(|_| dice.next() as u8).collect()
        } else {
            // A seed with a few bytes changed.
            let mut input = seeds[dice.below(seeds.len())].1.clone();
            for _ in 0..1 + dice.below(8) {
                let at = dice.below(input.len());
                input[at] ^= 1 << dice.below(8);
            }
            input
        };
        run(&input);
    }
}

#[test]
#[ignore = "writes the seed corpus of the ike_endpoint fuzz target"]
fn write_seed_corpus() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/ike_endpoint");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, input) in seeds() {
        std::fs::write(dir.join(name), input).unwrap();
    }
}
