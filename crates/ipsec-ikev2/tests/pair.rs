//! Two endpoints over the simulated network: establishment, failures and the exchanges that
//! follow, each as RFC 7296 describes them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Network, Pair, Side, host, range, site_to_site};
use ipsec_ikev2::{CloseReason, Event, Mode};
use ipsec_isakmp::{DhGroup, NotifyType};

/// The keys and SPIs of both sides' first Child SA fit together.
fn assert_children_match(pair: &Pair) {
    let a = pair.child(Side::A).expect("A has a Child SA");
    let b = pair.child(Side::B).expect("B has a Child SA");
    assert_eq!(a.inbound_spi, b.outbound_spi);
    assert_eq!(a.outbound_spi, b.inbound_spi);
    assert_eq!(a.inbound_keymat, b.outbound_keymat);
    assert_eq!(a.outbound_keymat, b.inbound_keymat);
    assert_ne!(a.inbound_keymat, a.outbound_keymat);
    assert_eq!(a.algorithms, b.algorithms);
    assert_eq!(a.mode, b.mode);
    assert_eq!(a.local_ts, b.remote_ts);
    assert_eq!(a.remote_ts, b.local_ts);
}

fn ike_keys(pair: &Pair, side: Side) -> Box<ipsec_ikev2::IkeKeyLog> {
    pair.events(side)
        .iter()
        .find_map(|e| match e {
            Event::IkeSaEstablished { keys: Some(k), .. } => Some(k.clone()),
            _ => None,
        })
        .unwrap()
}

#[test]
fn plain_establishment() {
    let (a, b) = site_to_site();
    let (mut pair, a) = Pair::with_peers(1, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert!(pair.established(Side::A));
    assert!(pair.established(Side::B));
    assert_children_match(&pair);
    let (ka, kb) = (ike_keys(&pair, Side::A), ike_keys(&pair, Side::B));
    assert_eq!(ka, kb, "both sides derive the same IKE SA keys");
    // Exactly four datagrams: IKE_SA_INIT and IKE_AUTH, request and response.
    assert_eq!(pair.delivered, 4);
    let child = pair.child(Side::A).unwrap();
    assert!(!child.udp_encapsulation);
    assert_eq!(child.mode, Mode::Tunnel);
}

#[test]
fn aes_cbc_with_hmac_and_modp() {
    let (mut a, mut b) = site_to_site();
    a.ike_proposals = vec![common::cbc_proposal()];
    b.ike_proposals = vec![common::cbc_proposal()];
    let (mut pair, a) = Pair::with_peers(2, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert!(pair.established(Side::A) && pair.established(Side::B));
    assert_children_match(&pair);
}

#[test]
fn establishment_under_thirty_percent_loss() {
    let mut established = 0;
    for seed in 0..40 {
        let (a, b) = site_to_site();
        let network = Network {
            loss: 0.3,
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(30),
            ..Network::default()
        };
        let (mut pair, a) = Pair::with_peers(seed, a, b, network);
        pair.initiate(a);
        pair.drive(Duration::from_secs(120));
        if pair.established(Side::A) {
            assert!(pair.established(Side::B), "seed {seed}");
            assert_children_match(&pair);
            established += 1;
        } else {
            assert!(
                pair.closed(Side::A).is_some(),
                "seed {seed}: neither up nor closed"
            );
        }
    }
    assert!(
        established >= 36,
        "only {established} of 40 established under 30% loss"
    );
}

#[test]
fn cookie_is_demanded_and_answered() {
    let (a, b) = site_to_site();
    let mut b_config = common::endpoint_config(Some(b));
    b_config.dos.cookie_threshold = 0;
    let mut pair = Pair::new(
        3,
        common::endpoint_config(None),
        b_config,
        Network::default(),
    );
    pair.initiate(Arc::new(a));
    pair.drive(Duration::from_secs(5));
    assert!(pair.established(Side::A) && pair.established(Side::B));
    assert_eq!(pair.b.stats().cookies_sent, 1);
    // IKE_SA_INIT twice (cookie), IKE_AUTH once.
    assert_eq!(pair.delivered, 6);
    assert_children_match(&pair);
}

#[test]
fn invalid_ke_payload_retry_with_the_group_asked_for() {
    let (mut a, mut b) = site_to_site();
    a.ike_proposals = vec![common::ike_proposal(&[
        DhGroup::Curve25519,
        DhGroup::Ecp256,
    ])];
    b.ike_proposals = vec![common::ike_proposal(&[DhGroup::Ecp256])];
    let (mut pair, a) = Pair::with_peers(4, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert!(pair.established(Side::A) && pair.established(Side::B));
    let algorithms = pair
        .a_events
        .iter()
        .find_map(|e| match e {
            Event::IkeSaEstablished { algorithms, .. } => Some(*algorithms),
            _ => None,
        })
        .unwrap();
    assert_eq!(algorithms.dh, DhGroup::Ecp256);
    assert_eq!(pair.delivered, 6);
}

#[test]
fn no_proposal_chosen() {
    let (mut a, b) = site_to_site();
    a.ike_proposals = vec![common::cbc_proposal()];
    let (mut pair, a) = Pair::with_peers(5, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert_eq!(pair.closed(Side::A), Some(CloseReason::NoProposalChosen));
    assert!(!pair.established(Side::B));
    assert_eq!(pair.b.ike_sa_count(), 0, "the responder kept no state");
}

#[test]
fn wrong_psk_fails_authentication_on_both_sides() {
    let (a, b) = site_to_site();
    let mut a_config = common::endpoint_config(None);
    a_config.credentials = Arc::new(ipsec_ikev2::SharedKeys::single(
        ipsec_crypto::SecretBytes::copy_from(b"not the shared secret"),
    ));
    let mut pair = Pair::new(
        6,
        a_config,
        common::endpoint_config(Some(b)),
        Network::default(),
    );
    pair.initiate(Arc::new(a));
    pair.drive(Duration::from_secs(5));
    assert_eq!(
        pair.closed(Side::A),
        Some(CloseReason::AuthenticationFailed)
    );
    assert_eq!(
        pair.closed(Side::B),
        Some(CloseReason::AuthenticationFailed)
    );
    assert!(!pair.established(Side::A) && !pair.established(Side::B));
    assert_eq!(pair.a.ike_sa_count() + pair.b.ike_sa_count(), 0);
}

#[test]
fn traffic_selectors_are_narrowed() {
    let (mut a, mut b) = site_to_site();
    // A asks for all of 10.0.0.0/8 on both sides; B allows only its /16s.
    common::child_mut(&mut a).local_ts = vec![range([[10, 0, 0, 0], [10, 255, 255, 255]])];
    common::child_mut(&mut a).remote_ts = vec![range([[10, 0, 0, 0], [10, 255, 255, 255]])];
    common::child_mut(&mut b).local_ts = vec![range([[10, 2, 0, 0], [10, 2, 255, 255]])];
    common::child_mut(&mut b).remote_ts = vec![range([[10, 1, 0, 0], [10, 1, 255, 255]])];
    let (mut pair, a) = Pair::with_peers(7, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert_children_match(&pair);
    let child = pair.child(Side::A).unwrap();
    assert_eq!(
        child.local_ts,
        vec![range([[10, 1, 0, 0], [10, 1, 255, 255]])]
    );
    assert_eq!(
        child.remote_ts,
        vec![range([[10, 2, 0, 0], [10, 2, 255, 255]])]
    );
}

#[test]
fn ts_unacceptable_keeps_the_ike_sa() {
    let (mut a, b) = site_to_site();
    common::child_mut(&mut a).remote_ts = vec![host([192, 168, 9, 9])];
    let (mut pair, a) = Pair::with_peers(8, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert!(pair.established(Side::A) && pair.established(Side::B));
    assert!(pair.child(Side::A).is_none() && pair.child(Side::B).is_none());
    for side in [Side::A, Side::B] {
        assert!(pair.events(side).iter().any(|e| matches!(
            e,
            Event::ChildSaFailed {
                reason: NotifyType::TsUnacceptable,
                ..
            }
        )));
    }
}

#[test]
fn transport_mode_when_both_want_it() {
    let (mut a, mut b) = site_to_site();
    common::child_mut(&mut a).mode = Mode::Transport;
    common::child_mut(&mut b).mode = Mode::Transport;
    let (mut pair, a) = Pair::with_peers(9, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert_children_match(&pair);
    assert_eq!(pair.child(Side::A).unwrap().mode, Mode::Transport);
}

#[test]
fn nat_is_detected_and_ike_moves_to_4500() {
    let (a, b) = site_to_site();
    let network = Network {
        nat: true,
        ..Network::default()
    };
    let (mut pair, a) = Pair::with_peers(10, a, b, network);
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert_children_match(&pair);
    let a_child = pair.child(Side::A).unwrap();
    let b_child = pair.child(Side::B).unwrap();
    assert!(a_child.udp_encapsulation && b_child.udp_encapsulation);
    assert_eq!(a_child.path.local.port(), 4500);
    assert_eq!(a_child.path.remote.port(), 4500);
    assert_eq!(b_child.path.remote.ip(), common::NAT_IP);
    // A is behind the NAT and keeps its mapping alive (RFC 3948 §4).
    let nat = pair
        .a_events
        .iter()
        .find_map(|e| match e {
            Event::IkeSaEstablished { nat, .. } => Some(*nat),
            _ => None,
        })
        .unwrap();
    assert!(nat.local_behind_nat);
    let before = pair.delivered;
    pair.drive(Duration::from_secs(61));
    assert!(pair.delivered >= before + 3, "NAT-keepalives every 20 s");
    assert!(
        pair.b
            .stats()
            .dropped
            .get("keepalive")
            .copied()
            .unwrap_or(0)
            >= 3
    );
}

#[test]
fn forced_encapsulation_without_nat() {
    let (mut a, b) = site_to_site();
    a.force_udp_encapsulation = true;
    let (mut pair, a) = Pair::with_peers(11, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert!(pair.child(Side::A).unwrap().udp_encapsulation);
    assert!(pair.child(Side::B).unwrap().udp_encapsulation);
}

fn established_pair(seed: u64) -> (Pair, ipsec_ikev2::IkeSaHandle) {
    let (a, b) = site_to_site();
    let (mut pair, a) = Pair::with_peers(seed, a, b, Network::default());
    let handle = pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert_children_match(&pair);
    (pair, handle)
}

fn b_handle(pair: &Pair) -> ipsec_ikev2::IkeSaHandle {
    pair.b_events
        .iter()
        .find_map(|e| match e {
            Event::IkeSaEstablished { handle, .. } => Some(*handle),
            _ => None,
        })
        .unwrap()
}

#[test]
fn delete_child_sa_from_either_side() {
    for from_a in [true, false] {
        let (mut pair, a_handle) = established_pair(12);
        let (handle, spi) = if from_a {
            (a_handle, pair.child(Side::A).unwrap().inbound_spi)
        } else {
            (b_handle(&pair), pair.child(Side::B).unwrap().inbound_spi)
        };
        let now = pair.now;
        if from_a {
            pair.a.delete_child_sa(now, handle, spi).unwrap();
        } else {
            pair.b.delete_child_sa(now, handle, spi).unwrap();
        }
        pair.drive(Duration::from_secs(5));
        for side in [Side::A, Side::B] {
            assert!(
                pair.events(side)
                    .iter()
                    .any(|e| matches!(e, Event::ChildSaDeleted { .. })),
                "{side:?} saw the delete (from_a = {from_a})"
            );
            assert!(pair.closed(side).is_none(), "the IKE SA stays");
        }
    }
}

#[test]
fn delete_ike_sa_from_either_side() {
    for from_a in [true, false] {
        let (mut pair, a_handle) = established_pair(13);
        let now = pair.now;
        if from_a {
            pair.a.delete_ike_sa(now, a_handle).unwrap();
        } else {
            let handle = b_handle(&pair);
            pair.b.delete_ike_sa(now, handle).unwrap();
        }
        pair.drive(Duration::from_secs(5));
        let (ours, theirs) = if from_a {
            (Side::A, Side::B)
        } else {
            (Side::B, Side::A)
        };
        assert_eq!(pair.closed(ours), Some(CloseReason::LocalDelete));
        assert_eq!(pair.closed(theirs), Some(CloseReason::PeerDelete));
        for side in [Side::A, Side::B] {
            assert!(
                pair.events(side)
                    .iter()
                    .any(|e| matches!(e, Event::ChildSaDeleted { .. }))
            );
        }
        assert_eq!(pair.a.ike_sa_count() + pair.b.ike_sa_count(), 0);
    }
}

#[test]
fn dead_peer_is_declared_after_retransmissions_run_out() {
    let (mut a, b) = site_to_site();
    a.liveness_interval = Some(Duration::from_secs(10));
    let (mut pair, a) = Pair::with_peers(14, a, b, Network::default());
    pair.initiate(a);
    pair.drive(Duration::from_secs(5));
    assert!(pair.established(Side::A));
    // A live peer answers the liveness checks.
    pair.drive(Duration::from_secs(60));
    assert!(pair.closed(Side::A).is_none());
    // Then the link dies.
    pair.network.dead_after = Some(pair.now);
    pair.drive(Duration::from_secs(600));
    assert_eq!(pair.closed(Side::A), Some(CloseReason::DeadPeer));
}

#[test]
fn half_open_sa_expires() {
    let (a, b) = site_to_site();
    let network = Network {
        delay: Duration::from_millis(10),
        ..Network::default()
    };
    let (mut pair, a) = Pair::with_peers(15, a, b, network);
    pair.initiate(a);
    // Let the IKE_SA_INIT exchange through, then lose everything: IKE_AUTH never arrives.
    pair.network.dead_after = Some(pair.now + Duration::from_millis(15));
    pair.drive(Duration::from_secs(300));
    assert_eq!(
        pair.closed(Side::B),
        None,
        "a half-open SA is never reported"
    );
    assert_eq!(pair.b.ike_sa_count(), 0, "but it is gone");
    assert_eq!(
        pair.closed(Side::A),
        Some(CloseReason::EstablishmentTimeout)
    );
}

#[test]
fn duplicated_and_reordered_datagrams_are_harmless() {
    let (a, b) = site_to_site();
    let network = Network {
        duplicate: 0.5,
        jitter: Duration::from_millis(200),
        ..Network::default()
    };
    let (mut pair, a) = Pair::with_peers(16, a, b, network);
    pair.initiate(a);
    pair.drive(Duration::from_secs(30));
    assert_children_match(&pair);
    assert_eq!(
        pair.a_events
            .iter()
            .filter(|e| matches!(e, Event::ChildSaReady(_)))
            .count(),
        1
    );
    assert_eq!(
        pair.b_events
            .iter()
            .filter(|e| matches!(e, Event::ChildSaReady(_)))
            .count(),
        1
    );
}
