//! The connection model through the facade, between two gateways: idempotent connect,
//! crossing initiations and the `unique` policies (RFC 7296 §2.4 INITIAL_CONTACT), the
//! commands, connections changed at run time, the start, close and dead-peer actions,
//! keyingtries, inactivity, strongSwan's default lifetimes, responder refusals as events,
//! and the listings' counters.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::{Net, Wire, udp_packet};
use ipsec::isakmp::NotifyType;
use ipsec::{
    Action, Child, ChildBuilder, ChildRemoval, CloseReason, Config, Connection, ConnectionBuilder,
    Endpoint, Event, SendOutcome, StartAction, UniquePolicy,
};
use ipsec_crypto::SeededRandom;

const GW_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const GW_B: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const HOST_A: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 5);
const HOST_B: Ipv4Addr = Ipv4Addr::new(10, 2, 0, 7);
const PSK: &[u8] = b"a pre-shared key both gateways know";

/// Gateway A's (`a`) or B's connection and child, ready for a test to adjust.
fn site(a: bool) -> (ConnectionBuilder, ChildBuilder) {
    let (local, remote, id, peer, nets) = if a {
        (
            GW_A,
            GW_B,
            "gw-a.example",
            "gw-b.example",
            ("10.1.0.0/16", "10.2.0.0/16"),
        )
    } else {
        (
            GW_B,
            GW_A,
            "gw-b.example",
            "gw-a.example",
            ("10.2.0.0/16", "10.1.0.0/16"),
        )
    };
    let connection = Connection::builder("site")
        .local_addrs(&local.to_string())
        .remote_addrs(&remote.to_string())
        .local_id(id)
        .remote_id(peer)
        .psk(PSK)
        .proposals("aes128gcm16-prfsha256-x25519");
    let child = Child::builder("net")
        .local_ts(nets.0)
        .remote_ts(nets.1)
        .esp_proposals("aes128gcm16");
    (connection, child)
}

fn endpoint(
    now: Instant,
    seed: u64,
    connection: ConnectionBuilder,
    child: ChildBuilder,
) -> Endpoint {
    let config = Config::builder()
        .connection(connection.child(child.build()).build())
        .unwrap()
        .build()
        .unwrap();
    Endpoint::new(now, config, Box::new(SeededRandom::from_u64(seed))).unwrap()
}

/// Two gateways with the default site connection, adjusted by `tweak`.
fn pair(
    tweak: impl Fn(bool, ConnectionBuilder, ChildBuilder) -> (ConnectionBuilder, ChildBuilder),
) -> (Net, usize, usize) {
    let mut net = Net::new();
    let now = net.now;
    let (ca, cha) = site(true);
    let (cb, chb) = site(false);
    let (ca, cha) = tweak(true, ca, cha);
    let (cb, chb) = tweak(false, cb, chb);
    let a = net.add("A", GW_A.into(), endpoint(now, 1, ca, cha));
    let b = net.add("B", GW_B.into(), endpoint(now, 2, cb, chb));
    (net, a, b)
}

fn ping_a_to_b(net: &mut Net, a: usize, text: &str) -> SendOutcome {
    net.send(a, &udp_packet(HOST_A, HOST_B, text.as_bytes()))
}

fn ike_count(net: &Net, node: usize) -> usize {
    net.nodes[node].endpoint.ike_sas(net.now).len()
}

fn events_of(net: &Net, node: usize) -> &[Event] {
    &net.nodes[node].events
}

#[test]
fn connect_returns_the_ike_sa_up_or_coming_up() {
    let (mut net, a, b) = pair(|_, c, ch| (c, ch));
    let first = net.with(a, |e, now| e.connect(now, "site")).unwrap();
    let again = net.with(a, |e, now| e.connect(now, "site")).unwrap();
    assert_eq!(first, again, "a second connect while connecting");
    let init_requests = net.nodes[a].sent.len();
    assert_eq!(init_requests, 1, "one IKE_SA_INIT only");
    net.run(Duration::from_secs(2));
    assert_eq!(net.with(a, |e, now| e.connect(now, "site")).unwrap(), first);
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (1, 1));
    // The peer's side: B connecting reuses the IKE SA A made.
    let from_b = net.with(b, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (1, 1));
    assert_eq!(net.nodes[b].endpoint.ike_sas(net.now)[0].handle, from_b);
    assert!(matches!(
        net.with(a, |e, now| e.connect(now, "nothing")),
        Err(ipsec::Error::UnknownConnection(_))
    ));
}

#[test]
fn crossing_connects_leave_one_ike_sa_under_replace_and_two_under_no() {
    for (policy, expected) in [
        (UniquePolicy::Replace, 1),
        (UniquePolicy::Keep, 1),
        (UniquePolicy::No, 2),
    ] {
        let (mut net, a, b) = pair(|_, c, ch| (c.unique(policy), ch));
        net.with(a, |e, now| e.connect(now, "site")).unwrap();
        net.with(b, |e, now| e.connect(now, "site")).unwrap();
        net.run(Duration::from_secs(10));
        let sas_a = net.nodes[a].endpoint.ike_sas(net.now);
        let sas_b = net.nodes[b].endpoint.ike_sas(net.now);
        assert_eq!(sas_a.len(), expected, "{policy:?}: A");
        assert_eq!(sas_b.len(), expected, "{policy:?}: B");
        let mut spis_a: Vec<_> = sas_a.iter().map(|s| s.spis).collect();
        let mut spis_b: Vec<_> = sas_b.iter().map(|s| s.spis).collect();
        spis_a.sort();
        spis_b.sort();
        assert_eq!(spis_a, spis_b, "{policy:?}: the two ends agree");
        // Traffic flows both ways on what is left.
        assert_eq!(
            ping_a_to_b(&mut net, a, "after the crossing"),
            SendOutcome::Sent
        );
        net.run(Duration::from_secs(1));
        assert_eq!(net.nodes[b].delivered.len(), 1, "{policy:?}");
    }
}

/// A rebooted peer: a fresh endpoint at the same address with the same identity.
#[test]
fn a_rebooted_peer_replaces_its_old_ike_sa_with_initial_contact() {
    let (mut net, a, b) = pair(|_, c, ch| (c, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let old = net.nodes[b].endpoint.ike_sas(net.now)[0].handle;
    let now = net.now;
    let (c, ch) = site(true);
    net.replace(a, endpoint(now, 77, c, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let sas = net.nodes[b].endpoint.ike_sas(net.now);
    assert_eq!(sas.len(), 1, "B keeps only the new IKE SA");
    assert_ne!(sas[0].handle, old);
    assert!(events_of(&net, b).iter().any(|e| matches!(
        e,
        Event::IkeSaClosed { handle, reason: CloseReason::Replaced, .. } if *handle == old
    )));
    assert_eq!(net.nodes[b].endpoint.child_sas(net.now).len(), 1);
    assert_eq!(
        ping_a_to_b(&mut net, a, "after the reboot"),
        SendOutcome::Sent
    );
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[b].delivered.len(), 1);
}

/// Without INITIAL_CONTACT (the peer names no identity for us, so it cannot say it has no
/// other SA with us), `unique` decides.
#[test]
fn unique_replace_keep_and_no_without_initial_contact() {
    for (policy, expected) in [
        (UniquePolicy::Replace, 1),
        (UniquePolicy::No, 2),
        (UniquePolicy::Keep, 1),
    ] {
        let (mut net, a, b) = pair(|is_a, c, ch| {
            if is_a {
                (c.remote_id("%any"), ch)
            } else {
                (c.unique(policy).remote_addrs("192.0.2.0/24"), ch)
            }
        });
        net.with(a, |e, now| e.connect(now, "site")).unwrap();
        net.run(Duration::from_secs(2));
        let first = net.nodes[b].endpoint.ike_sas(net.now)[0].handle;
        // The same client again from another address: A moves.
        let now = net.now;
        let moved = Ipv4Addr::new(192, 0, 2, 99);
        let (c, ch) = site(true);
        let second = net.add(
            "A2",
            moved.into(),
            endpoint(
                now,
                78,
                c.local_addrs(&moved.to_string()).remote_id("%any"),
                ch,
            ),
        );
        net.with(second, |e, now| e.connect(now, "site")).unwrap();
        net.run(Duration::from_secs(5));
        let sas = net.nodes[b].endpoint.ike_sas(net.now);
        assert_eq!(sas.len(), expected, "{policy:?}");
        match policy {
            UniquePolicy::Replace => assert_ne!(sas[0].handle, first),
            UniquePolicy::Keep => {
                assert_eq!(sas[0].handle, first);
                assert!(events_of(&net, b).iter().any(|e| matches!(
                    e,
                    Event::PeerRefused {
                        reason: NotifyType::AuthenticationFailed,
                        ..
                    }
                )));
                assert!(events_of(&net, second).iter().any(|e| matches!(
                    e,
                    Event::IkeSaClosed {
                        reason: CloseReason::AuthenticationFailed,
                        ..
                    }
                )));
            }
            _ => {}
        }
    }
}

#[test]
fn commands_rekey_terminate_and_check() {
    let (mut net, a, b) = pair(|_, c, ch| (c, ch));
    let handle = net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let child = net.nodes[a].endpoint.child_sas(net.now)[0].clone();
    net.with(a, |e, now| e.rekey_child(now, child.inbound_spi))
        .unwrap();
    net.run(Duration::from_secs(2));
    let children = net.nodes[a].endpoint.child_sas(net.now);
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].rekeyed, Some(child.inbound_spi));
    let spis = net.nodes[a].endpoint.ike_sas(net.now)[0].spis;
    net.with(a, |e, now| e.rekey_ike(now, handle)).unwrap();
    net.run(Duration::from_secs(2));
    let after = net.nodes[a].endpoint.ike_sas(net.now);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].handle, handle, "the handle survives the rekey");
    assert_ne!(after[0].spis, spis);
    net.with(a, |e, now| e.check_liveness(now, handle)).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(ike_count(&net, a), 1);
    // A second child on the same IKE SA, then terminate just that one.
    net.with(a, |e, now| e.initiate_child(now, "site", "net"))
        .unwrap();
    net.run(Duration::from_secs(1));
    assert_eq!(
        net.nodes[a].endpoint.child_sas(net.now).len(),
        1,
        "one per child"
    );
    let inbound = net.nodes[a].endpoint.child_sas(net.now)[0].inbound_spi;
    net.with(a, |e, now| e.terminate_child(now, inbound))
        .unwrap();
    net.run(Duration::from_secs(2));
    assert!(net.nodes[a].endpoint.child_sas(net.now).is_empty());
    assert!(net.nodes[b].endpoint.child_sas(net.now).is_empty());
    assert!(events_of(&net, a).iter().any(|e| matches!(
        e,
        Event::ChildSaRemoved { connection, child, reason: ChildRemoval::Deleted, .. }
            if connection == "site" && child == "net"
    )));
    // Bring it back on the same IKE SA.
    assert_eq!(
        net.with(a, |e, now| e.initiate_child(now, "site", "net"))
            .unwrap(),
        handle
    );
    net.run(Duration::from_secs(2));
    assert_eq!(net.nodes[b].endpoint.child_sas(net.now).len(), 1);
    net.with(a, |e, now| e.terminate_connection(now, "site"))
        .unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (0, 0));
    assert!(matches!(
        net.with(a, |e, now| e.terminate_child(now, 42)),
        Err(ipsec::Error::UnknownChildSa(42))
    ));
    assert!(matches!(
        net.with(a, |e, now| e.initiate_child(now, "site", "nope")),
        Err(ipsec::Error::UnknownChild(..))
    ));
}

#[test]
fn connections_change_at_run_time() {
    let mut net = Net::new();
    let now = net.now;
    // B starts with no connection at all.
    let config = Config::builder().build().unwrap();
    let b = net.add(
        "B",
        GW_B.into(),
        Endpoint::new(now, config, Box::new(SeededRandom::from_u64(2))).unwrap(),
    );
    let (c, ch) = site(true);
    let a = net.add("A", GW_A.into(), endpoint(now, 1, c, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(
        ike_count(&net, b),
        0,
        "B refuses what it has no connection for"
    );
    assert!(
        events_of(&net, b).is_empty()
            || events_of(&net, b)
                .iter()
                .all(|e| matches!(e, Event::PeerRefused { .. }))
    );
    // Load it; A tries again.
    let (c, ch) = site(false);
    let connection = c.child(ch.build()).build().unwrap();
    net.with(b, |e, now| e.add_connection(now, connection.clone()))
        .unwrap();
    assert!(
        net.with(b, |e, now| e.add_connection(now, connection))
            .is_err()
    );
    net.with(a, |e, now| e.disconnect_all(now));
    net.run(Duration::from_secs(1));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(ike_count(&net, b), 1);
    // Replace it with one that rekeys its Child SAs after a minute: the running SAs carry
    // on, new ones use it.
    let (c, ch) = site(false);
    let replacement = c
        .child(ch.rekey_time(Duration::from_secs(60)).build())
        .build()
        .unwrap();
    net.with(b, |e, now| e.replace_connection(now, replacement))
        .unwrap();
    assert_eq!(ike_count(&net, b), 1);
    assert_eq!(
        net.nodes[b].endpoint.config().connections[0].children[0].rekey_time,
        Duration::from_secs(60)
    );
    // Remove it: its IKE SAs are deleted, its policy goes.
    net.with(b, |e, now| e.remove_connection(now, "site"))
        .unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (0, 0));
    let back = udp_packet(HOST_B, HOST_A, b"no policy");
    assert_eq!(net.send(b, &back), SendOutcome::Discarded);
    assert!(net.nodes[b].endpoint.connections().is_empty());
}

#[test]
fn a_trap_starts_the_child_and_start_starts_it_at_once() {
    let (mut net, a, b) = pair(|is_a, c, ch| {
        (
            c,
            if is_a {
                ch.start_action(StartAction::Trap)
            } else {
                ch
            },
        )
    });
    assert_eq!(ping_a_to_b(&mut net, a, "first"), SendOutcome::Acquiring);
    net.run(Duration::from_secs(2));
    assert_eq!(ping_a_to_b(&mut net, a, "second"), SendOutcome::Sent);
    // Without a trap, a packet that needs an SA is discarded and starts nothing.
    let back = udp_packet(HOST_B, HOST_A, b"b has an SA now");
    assert_eq!(net.send(b, &back), SendOutcome::Sent);

    let mut net = Net::new();
    let now = net.now;
    let (c, ch) = site(false);
    let b = net.add("B", GW_B.into(), endpoint(now, 2, c, ch));
    let (c, ch) = site(true);
    let a = net.add(
        "A",
        GW_A.into(),
        endpoint(now, 1, c, ch.start_action(StartAction::Start)),
    );
    assert_eq!(net.nodes[a].sent.len(), 1, "start initiates at load");
    net.run(Duration::from_secs(2));
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (1, 1));
}

#[test]
fn close_action_start_recreates_what_the_peer_closed() {
    let (mut net, a, b) = pair(|is_a, c, ch| {
        (
            c,
            if is_a {
                ch.close_action(Action::Start)
            } else {
                ch
            },
        )
    });
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let old = net.nodes[b].endpoint.child_sas(net.now)[0].inbound_spi;
    net.with(b, |e, now| e.terminate_child(now, old)).unwrap();
    net.run(Duration::from_secs(2));
    let now_b = net.nodes[b].endpoint.child_sas(net.now);
    assert_eq!(now_b.len(), 1, "A re-created the Child SA B closed");
    assert_ne!(now_b[0].inbound_spi, old);
    // The peer deleting the IKE SA: A starts anew.
    let handle = net.nodes[b].endpoint.ike_sas(net.now)[0].handle;
    net.with(b, |e, now| e.terminate_ike(now, handle)).unwrap();
    net.run(Duration::from_secs(3));
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (1, 1));
}

#[test]
fn a_dead_peer_is_found_and_restarted_and_keyingtries_bound_the_attempts() {
    let (mut net, a, b) = pair(|is_a, c, ch| {
        if is_a {
            (
                c.dpd_delay(Duration::from_secs(10))
                    .dpd_timeout(Duration::from_secs(20))
                    .keyingtries(3),
                ch.dpd_action(Action::Start),
            )
        } else {
            (c, ch)
        }
    });
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    // B goes silent.
    net.drop = Some(Box::new(move |to, _| to == b));
    net.run(Duration::from_secs(40));
    assert!(
        events_of(&net, a).iter().any(|e| matches!(
            e,
            Event::IkeSaClosed {
                reason: CloseReason::DeadPeer,
                ..
            }
        )),
        "a liveness check unanswered for dpd_timeout declares the peer dead"
    );
    // The restart found no peer either: three initiations in all, then A gives up.
    net.run(Duration::from_secs(600));
    let inits = events_of(&net, a)
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::IkeSaClosed {
                    reason: CloseReason::EstablishmentTimeout,
                    ..
                }
            )
        })
        .count();
    assert_eq!(inits, 3, "keyingtries = 3");
    assert_eq!(ike_count(&net, a), 0);
}

#[test]
fn an_idle_child_sa_is_closed_after_its_inactivity_time() {
    let (mut net, a, b) = pair(|is_a, c, ch| {
        (
            c,
            if is_a {
                ch.inactivity(Duration::from_secs(60))
            } else {
                ch
            },
        )
    });
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    // Traffic keeps it.
    for i in 0..4 {
        ping_a_to_b(&mut net, a, &format!("keep {i}"));
        net.run(Duration::from_secs(30));
    }
    assert_eq!(net.nodes[a].endpoint.child_sas(net.now).len(), 1);
    // Silence ends it, and with it the IKE SA (its last Child SA).
    net.run(Duration::from_secs(180));
    assert!(net.nodes[a].endpoint.child_sas(net.now).is_empty());
    assert!(events_of(&net, a).iter().any(|e| matches!(
        e,
        Event::ChildSaRemoved {
            reason: ChildRemoval::Inactive,
            ..
        }
    )));
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (0, 0));
}

#[test]
fn with_no_lifetimes_configured_the_tunnel_still_rekeys_on_time() {
    let (mut net, a, b) = pair(|_, c, ch| (c, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let child = &net.nodes[a].endpoint.child_sas(net.now)[0];
    // strongSwan's defaults: rekey after 1 h less up to 6 min, gone after 66 min.
    let rekey = child.rekey_in.unwrap();
    assert!(
        rekey <= Duration::from_secs(3600) && rekey >= Duration::from_secs(3240),
        "{rekey:?}"
    );
    assert!(child.expires_in.unwrap() <= Duration::from_secs(3960));
    let ike = &net.nodes[a].endpoint.ike_sas(net.now)[0];
    let rekey = ike.rekey_in.unwrap();
    assert!(
        rekey <= Duration::from_secs(14_400) && rekey >= Duration::from_secs(12_960),
        "{rekey:?}"
    );
    net.run(Duration::from_secs(5 * 3600));
    let child_rekeys = events_of(&net, a)
        .iter()
        .chain(events_of(&net, b))
        .filter(|e| {
            matches!(
                e,
                Event::ChildSaInstalled {
                    rekeyed: Some(_),
                    ..
                }
            )
        })
        .count();
    let ike_rekeys = events_of(&net, a)
        .iter()
        .filter(|e| matches!(e, Event::IkeSaRekeyed { .. }))
        .count();
    assert!(
        child_rekeys >= 2 * 5,
        "{child_rekeys} Child SA rekeys in 5 h"
    );
    assert!(ike_rekeys >= 1, "{ike_rekeys} IKE SA rekeys in 5 h");
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (1, 1));
    assert_eq!(ping_a_to_b(&mut net, a, "after 5 h"), SendOutcome::Sent);
}

#[test]
fn responder_refusals_are_events_with_the_peer_and_the_reason() {
    // A wrong key.
    let (mut net, a, b) = pair(|is_a, c, ch| (if is_a { c.psk(b"not the key") } else { c }, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert!(events_of(&net, b).iter().any(|e| matches!(
        e,
        Event::PeerRefused { connection: Some(c), remote, peer_id: Some(_), reason: NotifyType::AuthenticationFailed }
            if c == "site" && remote.ip() == std::net::IpAddr::from(GW_A)
    )), "{:?}", events_of(&net, b));
    // No proposal in common.
    let (mut net, a, b) = pair(|is_a, c, ch| {
        (
            if is_a {
                c.proposals("aes256-sha256-modp2048")
            } else {
                c
            },
            ch,
        )
    });
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert!(events_of(&net, b).iter().any(|e| matches!(
        e,
        Event::PeerRefused {
            connection: None,
            reason: NotifyType::NoProposalChosen,
            ..
        }
    )));
    // Selectors the responder does not allow.
    let (mut net, a, b) = pair(|is_a, c, ch| {
        (
            c,
            if is_a {
                ch.remote_ts("10.7.0.0/16")
            } else {
                ch
            },
        )
    });
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert!(events_of(&net, b).iter().any(|e| matches!(
        e,
        Event::PeerRefused {
            reason: NotifyType::TsUnacceptable,
            ..
        }
    )));
    assert!(events_of(&net, a).iter().any(|e| matches!(
        e,
        Event::ChildSaFailed { connection, child, reason: NotifyType::TsUnacceptable, .. }
            if connection == "site" && child == "net"
    )));
}

#[test]
fn listings_count_traffic_across_rekeys() {
    let (mut net, a, _b) = pair(|_, c, ch| (c, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    for i in 0..5 {
        ping_a_to_b(&mut net, a, &format!("{i:04}"));
    }
    net.run(Duration::from_secs(1));
    let before = net.nodes[a].endpoint.child_sas(net.now)[0].clone();
    assert_eq!(before.traffic.packets_out, 5);
    assert_eq!(before.traffic.bytes_out, 5 * (20 + 8 + 4));
    assert_eq!(before.connection, "site");
    assert!(before.active);
    net.with(a, |e, now| e.rekey_child(now, before.inbound_spi))
        .unwrap();
    net.run(Duration::from_secs(10));
    for i in 0..3 {
        ping_a_to_b(&mut net, a, &format!("{i:04}"));
    }
    net.run(Duration::from_secs(1));
    let total = &net.nodes[a].endpoint.connections()[0];
    assert_eq!(
        total.traffic.packets_out, 8,
        "the rekeyed SA's packets still count"
    );
    assert_eq!(total.child_sas, 1);
    let ike = &net.nodes[a].endpoint.ike_sas(net.now)[0];
    assert_eq!(ike.connection, "site");
    assert!(ike.initiator);
    assert!(ike.established_for.is_some());
}

#[test]
fn a_nat_keepalive_is_not_an_error() {
    let (mut net, a, _b) = pair(|_, c, ch| (c, ch));
    let path = ipsec::Path {
        local: "192.0.2.1:4500".parse().unwrap(),
        remote: "198.51.100.1:4500".parse().unwrap(),
    };
    assert_eq!(
        net.with(a, |e, now| e.handle_udp(now, path, &[0xff])),
        Ok(())
    );
}

/// strongSwan on ports other than 500 and 4500 floats only its own side to its NAT-T port:
/// IKE and ESP then arrive at our IKE port behind and without the non-ESP marker. Ours,
/// the responder, must use that port pair for its ESP in UDP too.
#[test]
fn esp_follows_the_ike_sas_ports_when_ike_runs_on_other_ports() {
    let mut net = Net::new();
    let now = net.now;
    let config = |a: bool| {
        let (c, ch) = site(a);
        let c = if a {
            // charon's float: its own side to its NAT-T port, the peer's port unchanged.
            c.remote_port(20500).remote_nat_t_port(20500).encap(true)
        } else {
            c.remote_port(20500)
        };
        Config::builder()
            .ports(20500, 24500)
            .connection(c.child(ch.build()).build())
            .unwrap()
            .build()
            .unwrap()
    };
    let a = net.add(
        "A",
        GW_A.into(),
        Endpoint::new(now, config(true), Box::new(SeededRandom::from_u64(1))).unwrap(),
    );
    let b = net.add(
        "B",
        GW_B.into(),
        Endpoint::new(now, config(false), Box::new(SeededRandom::from_u64(2))).unwrap(),
    );
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let child_b = &net.nodes[b].endpoint.child_sas(net.now)[0];
    let (local, remote) = child_b.udp_encapsulation.expect("ESP in UDP");
    assert_eq!((local.port(), remote.port()), (20500, 24500));
    assert_eq!(ping_a_to_b(&mut net, a, "to b"), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[b].delivered.len(), 1);
    let back = udp_packet(HOST_B, HOST_A, b"back to a");
    assert_eq!(net.send(b, &back), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[a].delivered.len(), 1);
    let Some(Wire::Udp { path, .. }) = net.nodes[b].sent.last() else {
        panic!("B's ESP went in UDP");
    };
    // `path` is as the receiver sees it: from B's 20500 to A's 24500.
    assert_eq!((path.remote.port(), path.local.port()), (20500, 24500));
}

#[test]
fn a_responder_that_forces_encapsulation_gets_it() {
    let (mut net, a, b) = pair(|is_a, c, ch| (if is_a { c } else { c.encap(true) }, ch));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    for node in [a, b] {
        let child = &net.nodes[node].endpoint.child_sas(net.now)[0];
        assert!(
            child.udp_encapsulation.is_some(),
            "{}",
            net.nodes[node].name
        );
    }
    assert_eq!(ping_a_to_b(&mut net, a, "in udp"), SendOutcome::Sent);
    assert!(matches!(net.nodes[a].sent.last(), Some(Wire::Udp { .. })));
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[b].delivered.len(), 1);
}

/// ENCR_NULL with HMAC (RFC 2410: integrity without confidentiality) is negotiated and
/// carries traffic; the provider files it under a key of 0 bits.
#[test]
fn esp_null_with_integrity_negotiates() {
    let (mut net, a, b) = pair(|_, c, ch| (c, ch.esp_proposals("null-sha256")));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(net.nodes[b].endpoint.child_sas(net.now).len(), 1);
    let packet = udp_packet(HOST_A, HOST_B, b"readable on the wire");
    assert_eq!(net.send(a, &packet), SendOutcome::Sent);
    net.run(Duration::from_secs(1));
    assert_eq!(net.nodes[b].delivered[0].0.as_ref(), packet.as_slice());
}

/// Packets that hit a trap while its Child SA is on its way start one Child SA, not one
/// each.
#[test]
fn repeated_acquires_make_one_child_sa() {
    let (mut net, a, b) = pair(|is_a, c, ch| {
        (
            c,
            if is_a {
                ch.start_action(StartAction::Trap)
            } else {
                ch
            },
        )
    });
    for i in 0..3 {
        assert_eq!(
            ping_a_to_b(&mut net, a, &format!("{i}")),
            SendOutcome::Acquiring
        );
    }
    net.run(Duration::from_millis(12));
    for i in 3..6 {
        ping_a_to_b(&mut net, a, &format!("{i}"));
    }
    net.run(Duration::from_secs(3));
    assert_eq!(net.nodes[a].endpoint.child_sas(net.now).len(), 1);
    assert_eq!(net.nodes[b].endpoint.child_sas(net.now).len(), 1);
    // And on an established IKE SA, asking for a child it has gives nothing more.
    net.with(a, |e, now| e.initiate_child(now, "site", "net"))
        .unwrap();
    net.with(a, |e, now| e.initiate_child(now, "site", "net"))
        .unwrap();
    net.run(Duration::from_secs(2));
    assert_eq!(net.nodes[b].endpoint.child_sas(net.now).len(), 1);
}

/// A retry after a failed initiation asks for the same children as the first attempt.
#[test]
fn a_retried_initiation_brings_up_every_child_it_was_for() {
    let mut net = Net::new();
    let now = net.now;
    let second = |ch: ChildBuilder, name: &str, nets: (&str, &str)| {
        let _ = ch;
        Child::builder(name)
            .local_ts(nets.0)
            .remote_ts(nets.1)
            .esp_proposals("aes128gcm16")
    };
    let (c, ch) = site(true);
    let a_config = Config::builder()
        .connection(
            c.keyingtries(3)
                .child(ch.start_action(StartAction::Start).build())
                .child(
                    second(Child::builder("x"), "more", ("10.3.0.0/16", "10.4.0.0/16"))
                        .start_action(StartAction::Start)
                        .build(),
                )
                .build(),
        )
        .unwrap()
        .build()
        .unwrap();
    let (c, ch) = site(false);
    let b_config = Config::builder()
        .connection(
            c.child(ch.build())
                .child(second(Child::builder("x"), "more", ("10.4.0.0/16", "10.3.0.0/16")).build())
                .build(),
        )
        .unwrap()
        .build()
        .unwrap();
    let b = net.add(
        "B",
        GW_B.into(),
        Endpoint::new(now, b_config, Box::new(SeededRandom::from_u64(2))).unwrap(),
    );
    // B is unreachable for the first attempt.
    let until = now + Duration::from_secs(70);
    let clock = std::rc::Rc::new(std::cell::Cell::new(now));
    let seen = clock.clone();
    net.drop = Some(Box::new(move |to, _| to == b && seen.get() < until));
    let a = net.add(
        "A",
        GW_A.into(),
        Endpoint::new(now, a_config, Box::new(SeededRandom::from_u64(1))).unwrap(),
    );
    for _ in 0..150 {
        net.run(Duration::from_secs(1));
        clock.set(net.now);
    }
    assert!(net.nodes[a].events.iter().any(|e| matches!(
        e,
        Event::IkeSaClosed {
            reason: CloseReason::EstablishmentTimeout,
            ..
        }
    )));
    let mut children: Vec<String> = net.nodes[b]
        .endpoint
        .child_sas(net.now)
        .into_iter()
        .map(|c| c.child)
        .collect();
    children.sort();
    assert_eq!(children, vec!["more".to_string(), "net".to_string()]);
    assert_eq!(ike_count(&net, a), 1);
}

/// AH covers the IP header and cannot cross a NAT: with UDP encapsulation an AH-only child
/// is refused, not installed to fail on the wire, and a child offering AH and ESP gets ESP.
#[test]
fn ah_is_not_negotiated_under_udp_encapsulation() {
    let ah_only = |is_a: bool| {
        let nets = if is_a {
            ("10.1.0.0/16", "10.2.0.0/16")
        } else {
            ("10.2.0.0/16", "10.1.0.0/16")
        };
        Child::builder("net")
            .local_ts(nets.0)
            .remote_ts(nets.1)
            .ah_proposals("sha256")
    };
    let (mut net, a, b) = pair(|is_a, c, _| (if is_a { c.encap(true) } else { c }, ah_only(is_a)));
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    // Only AH to ask for, and a NAT: the initiator gives up before IKE_AUTH, saying why.
    assert_eq!((ike_count(&net, a), ike_count(&net, b)), (0, 0));
    assert!(net.nodes[b].endpoint.child_sas(net.now).is_empty());
    assert!(events_of(&net, a).iter().any(|e| matches!(
        e,
        Event::IkeSaClosed {
            reason: CloseReason::NoProposalChosen,
            ..
        }
    )));
    assert!(events_of(&net, a).iter().any(|e| matches!(
        e,
        Event::ChildSaFailed {
            reason: NotifyType::NoProposalChosen,
            ..
        }
    )));
    let (mut net, a, _) = pair(|is_a, c, ch| {
        (
            if is_a { c.encap(true) } else { c },
            ch.ah_proposals("sha256"),
        )
    });
    net.with(a, |e, now| e.connect(now, "site")).unwrap();
    net.run(Duration::from_secs(2));
    let child = &net.nodes[a].endpoint.child_sas(net.now)[0];
    assert_eq!(child.protocol, ipsec::IpsecProtocol::Esp);
    assert!(child.udp_encapsulation.is_some());
}

/// The algorithms real peers propose beyond the defaults (RFC 8221, RFC 8247): each suite
/// negotiates with itself, carries a packet both ways, rekeys the IKE SA (SKEYSEED from the
/// old SK_d, RFC 7296 §2.18) and the Child SA (with PFS where the ESP proposal names a
/// group), and carries traffic again on the new keys.
#[test]
fn the_legacy_and_extra_suites_negotiate_rekey_and_carry_traffic() {
    use ipsec::isakmp::{DhGroup, EncrId, IntegId, PrfId};
    let suites = [
        (
            "aes192gcm16-prfsha384-ecp521",
            "aes192gcm16",
            (EncrId::AesGcm16, PrfId::HmacSha2_384, DhGroup::Ecp521),
        ),
        (
            "aes256-sha1-modp1024",
            "aes256-sha1",
            (EncrId::AesCbc, PrfId::HmacSha1, DhGroup::Modp1024),
        ),
        (
            "aes128ccm16-prfsha256-curve448",
            "aes128ccm16-curve448",
            (EncrId::AesCcm16, PrfId::HmacSha2_256, DhGroup::Curve448),
        ),
        (
            "aes256ctr-sha256-ecp256bp",
            "aes256ctr-sha256",
            (
                EncrId::AesCtr,
                PrfId::HmacSha2_256,
                DhGroup::BrainpoolP256r1,
            ),
        ),
        (
            "aes128-aesxcbc-modp1536",
            "aes128ctr-aesxcbc",
            (EncrId::AesCbc, PrfId::Aes128Xcbc, DhGroup::Modp1536),
        ),
        (
            "aes192ccm8-prfaesxcbc-ecp384bp",
            "aes256ccm12-ecp384bp",
            (EncrId::AesCcm8, PrfId::Aes128Xcbc, DhGroup::BrainpoolP384r1),
        ),
        (
            "aes256gcm12-prfsha512-modp4096",
            "aes128gcm8",
            (EncrId::AesGcm12, PrfId::HmacSha2_512, DhGroup::Modp4096),
        ),
        (
            "aes256gcm16-prfsha512-ecp512bp",
            "aes256gcm16-ecp224bp",
            (
                EncrId::AesGcm16,
                PrfId::HmacSha2_512,
                DhGroup::BrainpoolP512r1,
            ),
        ),
        (
            "aes128ctr-sha512-modp6144",
            "aes192-sha1-modp8192",
            (EncrId::AesCtr, PrfId::HmacSha2_512, DhGroup::Modp6144),
        ),
    ];
    for (ike, esp, (encryption, prf, dh)) in suites {
        let (mut net, a, b) = pair(|_, c, ch| (c.proposals(ike), ch.esp_proposals(esp)));
        net.with(a, |e, now| e.connect(now, "site")).unwrap();
        net.run(Duration::from_secs(2));
        let sas = net.nodes[b].endpoint.ike_sas(net.now);
        let algorithms = sas[0].algorithms.expect("established");
        assert_eq!(
            (algorithms.encryption.id, algorithms.prf, algorithms.dh),
            (encryption, prf, dh),
            "{ike}"
        );
        if ike.contains("sha1") {
            assert_eq!(algorithms.integrity, Some(IntegId::HmacSha1_96));
        }
        let (handle, spis) = (sas[0].handle, sas[0].spis);
        for round in 0..2 {
            let forth = udp_packet(HOST_A, HOST_B, format!("{ike} {round}").as_bytes());
            assert_eq!(net.send(a, &forth), SendOutcome::Sent, "{ike}");
            let back = udp_packet(HOST_B, HOST_A, format!("{esp} {round}").as_bytes());
            assert_eq!(net.send(b, &back), SendOutcome::Sent, "{esp}");
            net.run(Duration::from_secs(1));
            assert_eq!(
                net.nodes[b].delivered.last().unwrap().0.as_ref(),
                forth.as_slice(),
                "{ike} round {round}"
            );
            assert_eq!(
                net.nodes[a].delivered.last().unwrap().0.as_ref(),
                back.as_slice(),
                "{esp} round {round}"
            );
            if round == 0 {
                net.with(b, |e, now| e.rekey_ike(now, handle)).unwrap();
                net.run(Duration::from_secs(2));
                let spi = net.nodes[a].endpoint.child_sas(net.now)[0].inbound_spi;
                net.with(a, |e, now| e.rekey_child(now, spi)).unwrap();
                net.run(Duration::from_secs(2));
                let ike_sas = net.nodes[b].endpoint.ike_sas(net.now);
                assert_eq!(ike_sas.len(), 1, "{ike}: rekeyed");
                assert_ne!(ike_sas[0].spis, spis, "{ike}: new SPIs");
                let children = net.nodes[a].endpoint.child_sas(net.now);
                assert!(
                    children.iter().all(|c| c.inbound_spi != spi),
                    "{esp}: rekeyed"
                );
            }
        }
    }
}
