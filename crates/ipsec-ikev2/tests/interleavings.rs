//! Every message order of the races RFC 7296 §2.8.1, §2.8.2 and §2.25 describe, enumerated
//! rather than sampled: simultaneous Child SA rekeys, simultaneous IKE SA rekeys, a Child SA
//! rekey against an IKE SA rekey, rekeys against deletes, deletes against deletes, and a
//! rekey behind a lost request — each with a perfect network and with any one datagram lost.
//!
//! The model: both sides issue their commands at the same instant; from then on every
//! datagram in flight may be delivered next (any order, so every reordering), and in the
//! lossy runs any one of them may be dropped instead. Timers (retransmissions, retries after
//! TEMPORARY_FAILURE, expiries) fire when nothing is in flight. A depth-first search replays
//! the run from the start for each choice, so every leaf is one complete, deterministic
//! history; at each leaf, once every timer has run out, both sides must agree on the IKE SA
//! and on every Child SA (same SPIs, same keys, both sending on each), with nothing left
//! over.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{A_IP, B_IP, Ledger, Side, site_to_site};
use ipsec_crypto::SeededRandom;
use ipsec_ikev2::{CloseReason, Endpoint, Event, IkeSaHandle, Path};

/// No history may take more deliveries and timer firings than this.
const MAX_STEPS: usize = 400;
/// Simulated time after which a history that still has timers is a failure.
const HORIZON: Duration = Duration::from_secs(3600);

/// What each side does at the start of a race.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Nothing,
    RekeyChild,
    RekeyIke,
    DeleteChild,
    DeleteIke,
    /// A liveness check, then a Child SA rekey behind it.
    LivenessThenRekeyChild,
}

/// How a race must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The IKE SA up with this many Child SAs.
    Up { children: usize },
    /// The IKE SA gone on both sides.
    Closed,
}

struct World {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    start: Instant,
    flight: Vec<(Side, Bytes)>,
    a_events: Vec<Event>,
    b_events: Vec<Event>,
    drops_left: u32,
    steps: usize,
    /// Every datagram sent since the race began, with its sender.
    sent: Vec<(Side, Bytes)>,
    /// Check after every step that each side sends on an SA the other can open.
    check_sending: bool,
}

fn path_from(side: Side) -> Path {
    let (local, remote) = match side {
        Side::A => (A_IP, B_IP),
        Side::B => (B_IP, A_IP),
    };
    Path {
        local: SocketAddr::new(local, 500),
        remote: SocketAddr::new(remote, 500),
    }
}

impl World {
    /// Two endpoints with an IKE SA and one Child SA between them, nothing in flight.
    fn established() -> Self {
        let (a, b) = site_to_site();
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        let mut world = Self {
            a: Endpoint::new(
                common::endpoint_config(None),
                Box::new(SeededRandom::from_u64(11)),
            )
            .unwrap(),
            b: Endpoint::new(
                common::endpoint_config(Some(b)),
                Box::new(SeededRandom::from_u64(12)),
            )
            .unwrap(),
            now,
            start: now,
            flight: Vec::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
            drops_left: 0,
            steps: 0,
            sent: Vec::new(),
            check_sending: false,
        };
        world
            .a
            .initiate(now, Arc::new(a), None, path_from(Side::A))
            .unwrap();
        world.collect();
        while !world.flight.is_empty() {
            world.deliver(0);
        }
        assert_eq!(Ledger::of(&world.a_events).children.len(), 1);
        world.sent.clear();
        world
    }

    fn endpoint(&mut self, side: Side) -> &mut Endpoint {
        match side {
            Side::A => &mut self.a,
            Side::B => &mut self.b,
        }
    }

    fn events(&self, side: Side) -> &[Event] {
        match side {
            Side::A => &self.a_events,
            Side::B => &self.b_events,
        }
    }

    fn handle(&self, side: Side) -> IkeSaHandle {
        self.events(side)
            .iter()
            .find_map(|e| match e {
                Event::IkeSaEstablished { handle, .. } => Some(*handle),
                _ => None,
            })
            .unwrap()
    }

    fn collect(&mut self) {
        while let Some(t) = self.a.poll_transmit() {
            self.sent.push((Side::A, t.payload.clone()));
            self.flight.push((Side::B, t.payload));
        }
        while let Some(t) = self.b.poll_transmit() {
            self.sent.push((Side::B, t.payload.clone()));
            self.flight.push((Side::A, t.payload));
        }
        while let Some(e) = self.a.poll_event() {
            self.a_events.push(e);
        }
        while let Some(e) = self.b.poll_event() {
            self.b_events.push(e);
        }
    }

    fn deliver(&mut self, index: usize) {
        let (to, payload) = self.flight.remove(index);
        let from = if to == Side::A { Side::B } else { Side::A };
        let path = path_from(from);
        let arrival = Path {
            local: path.remote,
            remote: path.local,
        };
        let now = self.now;
        let _ = self.endpoint(to).handle_datagram(now, arrival, &payload);
        self.collect();
    }

    fn command(&mut self, side: Side, command: Command) {
        let now = self.now;
        let handle = self.handle(side);
        let child = *Ledger::of(self.events(side))
            .children
            .keys()
            .next()
            .unwrap();
        let endpoint = self.endpoint(side);
        match command {
            Command::Nothing => {}
            Command::RekeyChild => endpoint.rekey_child_sa(now, handle, child).unwrap(),
            Command::RekeyIke => endpoint.rekey_ike_sa(now, handle).unwrap(),
            Command::DeleteChild => endpoint.delete_child_sa(now, handle, child).unwrap(),
            Command::DeleteIke => endpoint.delete_ike_sa(now, handle).unwrap(),
            Command::LivenessThenRekeyChild => {
                endpoint.check_liveness(now, handle).unwrap();
                endpoint.rekey_child_sa(now, handle, child).unwrap();
            }
        }
    }

    /// Fires the earliest timer; false when there is none left.
    fn tick(&mut self) -> bool {
        let next = [self.a.poll_timeout(), self.b.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        let Some(next) = next else {
            return false;
        };
        assert!(
            next - self.start < HORIZON,
            "timers still running after {HORIZON:?}"
        );
        self.now = self.now.max(next);
        let now = self.now;
        self.a.handle_timeout(now);
        self.b.handle_timeout(now);
        for endpoint in [&self.a, &self.b] {
            assert!(
                endpoint.poll_timeout().is_none_or(|t| t > now),
                "a deadline stays due after handle_timeout"
            );
        }
        self.collect();
        true
    }
}

/// Where a replay stopped: at a choice not in the prefix yet (with how many options), or
/// at the end of a complete history.
enum Run {
    Branch(usize),
    Leaf(Box<World>),
}

fn run(commands: [Command; 2], drops: u32, prefix: &[usize]) -> Run {
    let mut world = World::established();
    world.drops_left = drops;
    world.check_sending = !commands
        .iter()
        .any(|c| matches!(c, Command::DeleteChild | Command::DeleteIke));
    world.command(Side::A, commands[0]);
    world.command(Side::B, commands[1]);
    world.collect();
    let mut cursor = 0;
    loop {
        world.steps += 1;
        assert!(world.steps < MAX_STEPS, "no end after {MAX_STEPS} steps");
        if world.flight.is_empty() {
            if world.tick() {
                continue;
            }
            return Run::Leaf(Box::new(world));
        }
        let in_flight = world.flight.len();
        let options = if world.drops_left > 0 {
            2 * in_flight
        } else {
            in_flight
        };
        let choice = if options == 1 {
            0
        } else if let Some(choice) = prefix.get(cursor) {
            cursor += 1;
            *choice
        } else {
            return Run::Branch(options);
        };
        if choice < in_flight {
            world.deliver(choice);
        } else {
            world.flight.remove(choice - in_flight);
            world.drops_left -= 1;
        }
        if world.check_sending {
            world.assert_sending_on_installed(&prefix[..cursor]);
        }
    }
}

impl World {
    /// RFC 7296 §2.8 (make-before-break): whatever SA a side sends on, the other side has
    /// its inbound half installed, so no packet is dropped for want of an SA.
    fn assert_sending_on_installed(&self, history: &[usize]) {
        for (side, other) in [(Side::A, Side::B), (Side::B, Side::A)] {
            let sending = Ledger::of(self.events(side)).sending_on();
            if let Some(spi) = sending {
                assert!(
                    Ledger::of(self.events(other)).children.contains_key(&spi),
                    "history {history:?}: {side:?} sends on {spi:08x}, which {other:?} lacks"
                );
            }
        }
    }
}

fn check(world: &World, expect: Expect, history: &[usize]) {
    let context = format!("history {history:?}");
    let closed = |side: Side| {
        world.events(side).iter().find_map(|e| match e {
            Event::IkeSaClosed { reason, .. } => Some(*reason),
            _ => None,
        })
    };
    match expect {
        Expect::Up { children } => {
            assert_eq!(closed(Side::A), None, "{context}: A closed");
            assert_eq!(closed(Side::B), None, "{context}: B closed");
            common::assert_agree(&world.a_events, &world.b_events, &context);
            assert_eq!(
                Ledger::of(&world.a_events).children.len(),
                children,
                "{context}: Child SAs left"
            );
            assert_eq!(world.a.ike_sa_count(), 1, "{context}");
            assert_eq!(world.b.ike_sa_count(), 1, "{context}");
        }
        Expect::Closed => {
            assert!(
                matches!(
                    closed(Side::A),
                    Some(CloseReason::LocalDelete | CloseReason::PeerDelete)
                ),
                "{context}: A {:?}",
                closed(Side::A)
            );
            assert!(
                matches!(
                    closed(Side::B),
                    Some(CloseReason::LocalDelete | CloseReason::PeerDelete)
                ),
                "{context}: B {:?}",
                closed(Side::B)
            );
            assert_eq!(world.a.ike_sa_count() + world.b.ike_sa_count(), 0);
        }
    }
}

/// Explores every history of a race; returns how many there were.
fn explore(commands: [Command; 2], drops: u32, expect: Expect) -> usize {
    let mut stack = vec![Vec::new()];
    let mut histories = 0;
    while let Some(prefix) = stack.pop() {
        match run(commands, drops, &prefix) {
            Run::Branch(options) => {
                for choice in (0..options).rev() {
                    let mut next = prefix.clone();
                    next.push(choice);
                    stack.push(next);
                }
            }
            Run::Leaf(world) => {
                check(&world, expect, &prefix);
                witness::lowest_nonce_rule(&world, expect, &prefix);
                histories += 1;
            }
        }
    }
    histories
}

/// Both orders of the two sides' commands, without and with one loss.
fn race(a: Command, b: Command, expect: Expect) -> (usize, usize) {
    let clean = explore([a, b], 0, expect) + explore([b, a], 0, expect);
    let lossy = explore([a, b], 1, expect) + explore([b, a], 1, expect);
    println!("{a:?} x {b:?}: {clean} histories, {lossy} with one datagram lost");
    assert!(clean > 1 && lossy > clean);
    (clean, lossy)
}

#[test]
fn simultaneous_child_sa_rekeys() {
    race(
        Command::RekeyChild,
        Command::RekeyChild,
        Expect::Up { children: 1 },
    );
}

#[test]
fn simultaneous_ike_sa_rekeys() {
    race(
        Command::RekeyIke,
        Command::RekeyIke,
        Expect::Up { children: 1 },
    );
}

#[test]
fn child_sa_rekey_against_ike_sa_rekey() {
    race(
        Command::RekeyChild,
        Command::RekeyIke,
        Expect::Up { children: 1 },
    );
}

#[test]
fn child_sa_rekey_against_its_delete() {
    race(
        Command::RekeyChild,
        Command::DeleteChild,
        Expect::Up { children: 0 },
    );
}

#[test]
fn child_sa_delete_against_its_delete() {
    race(
        Command::DeleteChild,
        Command::DeleteChild,
        Expect::Up { children: 0 },
    );
}

#[test]
fn ike_sa_rekey_against_child_sa_delete() {
    race(
        Command::RekeyIke,
        Command::DeleteChild,
        Expect::Up { children: 0 },
    );
}

#[test]
fn ike_sa_rekey_against_ike_sa_delete() {
    race(Command::RekeyIke, Command::DeleteIke, Expect::Closed);
}

#[test]
fn ike_sa_delete_against_ike_sa_delete() {
    race(Command::DeleteIke, Command::DeleteIke, Expect::Closed);
}

#[test]
fn rekeys_behind_a_liveness_check() {
    race(
        Command::LivenessThenRekeyChild,
        Command::RekeyChild,
        Expect::Up { children: 1 },
    );
}

#[test]
fn lone_rekeys_under_loss() {
    race(
        Command::RekeyChild,
        Command::Nothing,
        Expect::Up { children: 1 },
    );
    race(
        Command::Nothing,
        Command::RekeyIke,
        Expect::Up { children: 1 },
    );
}

/// An independent witness of RFC 7296 §2.8.1 and §2.8.2: it decrypts every CREATE_CHILD_SA
/// exchange sent (with the keys the key log gives), finds the rekeys that succeeded, and
/// where two rekeyed the same SA checks that the one holding the lowest nonce is the one
/// that did not survive.
mod witness {
    use std::collections::BTreeMap;

    use ipsec_ikev2::{Event, IkeKeyLog, open_sk};
    use ipsec_isakmp::payload::parse_chain;
    use ipsec_isakmp::{
        ExchangeType, HeaderView, NotifyType, Payload, ProtocolId, SecurityAssociation, Spi,
    };

    use super::{Expect, Side, World};
    use crate::common::Ledger;

    struct Message {
        from: Side,
        spis: (u64, u64),
        message_id: u32,
        response: bool,
        /// Whether the requester is the IKE SA's original initiator.
        requester_initiator: bool,
        payloads: Vec<Payload>,
    }

    fn keys(events: &[Event]) -> Vec<IkeKeyLog> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::IkeSaEstablished { keys: Some(k), .. }
                | Event::IkeSaRekeyed { keys: Some(k), .. } => Some((**k).clone()),
                _ => None,
            })
            .collect()
    }

    fn decrypt(keys: &[IkeKeyLog], from: Side, datagram: &[u8]) -> Option<Message> {
        let view = HeaderView::new_checked(datagram).ok()?;
        if view.exchange_type() != ExchangeType::CreateChildSa {
            return None;
        }
        let spis = (view.initiator_spi(), view.responder_spi());
        let key = keys.iter().find(|k| (k.spi_i, k.spi_r) == spis)?;
        let flags = view.flags();
        let (sk_e, sk_a) = if flags.initiator {
            (&key.sk_ei, &key.sk_ai)
        } else {
            (&key.sk_er, &key.sk_ar)
        };
        let (first, plain) = open_sk(
            &ipsec_crypto::RUST_CRYPTO,
            key.algorithms,
            sk_e.expose(),
            sk_a.expose(),
            datagram,
        )
        .ok()?;
        Some(Message {
            from,
            spis,
            message_id: view.message_id(),
            response: flags.response,
            requester_initiator: flags.initiator != flags.response,
            payloads: parse_chain(first, &plain).ok()?,
        })
    }

    fn sa(payloads: &[Payload]) -> Option<&SecurityAssociation> {
        payloads.iter().find_map(|p| match p {
            Payload::SecurityAssociation(sa) => Some(sa),
            _ => None,
        })
    }

    fn nonce(payloads: &[Payload]) -> Option<Vec<u8>> {
        payloads.iter().find_map(|p| match p {
            Payload::Nonce(n) => Some(n.data.clone()),
            _ => None,
        })
    }

    /// A successful rekey: what it rekeyed (the IKE SA's SPIs, or the Child SA as A's
    /// inbound SPI), the new SA (IKE SPIs, or A's inbound and outbound SPIs), its nonces.
    #[derive(Debug)]
    struct Rekey {
        ike: bool,
        target: u64,
        new: (u64, u64),
        nonces: [Vec<u8>; 2],
    }

    pub(super) fn lowest_nonce_rule(world: &World, expect: Expect, history: &[usize]) {
        let mut keys = keys(&world.a_events);
        keys.extend(super::common_keys_of_b(world));
        let messages: Vec<Message> = world
            .sent
            .iter()
            .filter_map(|(from, datagram)| {
                let message = datagram
                    .strip_prefix(&ipsec_isakmp::NON_ESP_MARKER)
                    .unwrap_or(datagram);
                decrypt(&keys, *from, message)
            })
            .collect();
        // A's Child SAs ever made: its outbound SPI -> its inbound SPI.
        let a_inbound_of: BTreeMap<u32, u32> = world
            .a_events
            .iter()
            .filter_map(|e| match e {
                Event::ChildSaReady(c) => Some((c.outbound_spi, c.inbound_spi)),
                _ => None,
            })
            .collect();
        let mut rekeys = Vec::new();
        let mut seen = Vec::new();
        for request in messages.iter().filter(|m| !m.response) {
            // Retransmissions repeat a request; count each exchange once.
            let exchange = (
                request.spis,
                request.message_id,
                request.requester_initiator,
            );
            if seen.contains(&exchange) {
                continue;
            }
            seen.push(exchange);
            let Some(response) = messages.iter().find(|m| {
                m.response
                    && m.spis == request.spis
                    && m.message_id == request.message_id
                    && m.requester_initiator == request.requester_initiator
            }) else {
                continue;
            };
            let (Some(offer), Some(answer), Some(ni), Some(nr)) = (
                sa(&request.payloads),
                sa(&response.payloads),
                nonce(&request.payloads),
                nonce(&response.payloads),
            ) else {
                continue;
            };
            let (Some(offered), Some(chosen)) = (offer.proposals.first(), answer.proposals.first())
            else {
                continue;
            };
            let nonces = [ni, nr];
            match (offered.spi, chosen.spi) {
                (Spi::Ike(i), Spi::Ike(r)) => rekeys.push(Rekey {
                    ike: true,
                    target: request.spis.0 ^ request.spis.1.rotate_left(1),
                    new: (i, r),
                    nonces,
                }),
                (Spi::Ipsec(i), Spi::Ipsec(r)) => {
                    let rekeyed = request.payloads.iter().find_map(|p| match p {
                        Payload::Notify(n)
                            if n.notify_type == NotifyType::RekeySa
                                && n.protocol == ProtocolId::Esp =>
                        {
                            match n.spi {
                                Spi::Ipsec(spi) => Some(spi),
                                _ => None,
                            }
                        }
                        _ => None,
                    });
                    let Some(rekeyed) = rekeyed else {
                        continue;
                    };
                    // As A sees it: A's inbound SPI of the old SA, and of the new (in, out).
                    let (target, new) = if request.from == Side::A {
                        (rekeyed, (i, r))
                    } else {
                        (a_inbound_of.get(&rekeyed).copied().unwrap_or(0), (r, i))
                    };
                    rekeys.push(Rekey {
                        ike: false,
                        target: u64::from(target),
                        new: (u64::from(new.0), u64::from(new.1)),
                        nonces,
                    });
                }
                _ => {}
            }
        }
        let a = Ledger::of(&world.a_events);
        let up = matches!(expect, Expect::Up { .. });
        for (index, first) in rekeys.iter().enumerate() {
            let twin = rekeys
                .iter()
                .skip(index + 1)
                .find(|r| r.ike == first.ike && r.target == first.target);
            let Some(second) = twin else {
                continue;
            };
            let lowest = |r: &Rekey| r.nonces.iter().min().cloned().unwrap_or_default();
            let (loser, winner) = if lowest(first) < lowest(second) {
                (first, second)
            } else {
                (second, first)
            };
            if !up {
                continue;
            }
            if first.ike {
                assert_eq!(
                    a.ike_spis,
                    Some(winner.new),
                    "history {history:?}: the IKE SA without the lowest nonce survives"
                );
                assert_ne!(a.ike_spis, Some(loser.new), "history {history:?}");
            } else {
                let pairs = a.pairs();
                let pair = |r: &Rekey| (r.new.0 as u32, r.new.1 as u32);
                assert!(
                    !pairs.contains(&pair(loser)),
                    "history {history:?}: the Child SA with the lowest nonce was not deleted"
                );
                if matches!(expect, Expect::Up { children: 1 }) {
                    assert!(
                        pairs.contains(&pair(winner)),
                        "history {history:?}: the Child SA without the lowest nonce is gone"
                    );
                }
            }
        }
    }
}

/// B's key log (the same IKE SAs as A's, found from B's side), so that a message is
/// decrypted whichever side's events name its IKE SA first.
fn common_keys_of_b(world: &World) -> Vec<ipsec_ikev2::IkeKeyLog> {
    world
        .b_events
        .iter()
        .filter_map(|e| match e {
            Event::IkeSaEstablished { keys: Some(k), .. }
            | Event::IkeSaRekeyed { keys: Some(k), .. } => Some((**k).clone()),
            _ => None,
        })
        .collect()
}
