//! CREATE_CHILD_SA between two endpoints (RFC 7296 §1.3): further Child SAs, Child SA
//! rekeys with and without PFS, IKE SA rekeys, and the refusals of §1.3 and §2.25.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{Network, Pair, Side, range, site_to_site};
use ipsec_ikev2::{ChildSaReady, CloseReason, Event, PeerConfig};
use ipsec_isakmp::{DhGroup, NotifyType};

fn established(
    a: PeerConfig,
    b: PeerConfig,
    b_config: Option<ipsec_ikev2::EndpointConfig>,
) -> Pair {
    let mut pair = match b_config {
        Some(config) => Pair::new(7, common::endpoint_config(None), config, Network::default()),
        None => Pair::with_peers(7, a.clone(), b, Network::default()).0,
    };
    pair.initiate(std::sync::Arc::new(a));
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after IKE_AUTH");
    pair
}

fn readies(pair: &Pair, side: Side) -> Vec<ChildSaReady> {
    pair.events(side)
        .iter()
        .filter_map(|e| match e {
            Event::ChildSaReady(c) => Some((**c).clone()),
            _ => None,
        })
        .collect()
}

fn pfs(peer: &mut PeerConfig, groups: &[DhGroup]) {
    for proposal in &mut common::child_mut(peer).proposals {
        proposal.dh = groups.to_vec();
    }
}

fn rekey_child(side: Side, with_pfs: bool) {
    let (mut a, mut b) = site_to_site();
    if with_pfs {
        pfs(&mut a, &[DhGroup::Curve25519]);
        pfs(&mut b, &[DhGroup::Curve25519]);
    }
    let mut pair = established(a, b, None);
    let old = pair.child_spis(side)[0];
    let handle = pair.handle(side);
    let now = pair.now;
    pair.endpoint(side)
        .rekey_child_sa(now, handle, old)
        .unwrap();
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after the rekey");
    let new = readies(&pair, side).pop().unwrap();
    assert_eq!(
        new.rekeyed,
        Some(old),
        "the new SA names the one it replaces"
    );
    assert!(
        new.active,
        "the rekey's initiator sends on the new SA at once"
    );
    assert_eq!(new.algorithms.dh.is_some(), with_pfs);
    let other = if side == Side::A { Side::B } else { Side::A };
    let theirs = readies(&pair, other).pop().unwrap();
    assert!(!theirs.active, "the responder waits (RFC 7296 §2.8)");
    assert!(
        pair.events(other)
            .iter()
            .any(|e| matches!(e, Event::ChildSaActive { inbound_spi, .. } if *inbound_spi == theirs.inbound_spi)),
        "the Delete of the old SA switches the responder over"
    );
    for s in [Side::A, Side::B] {
        assert!(pair.events(s).iter().any(|e| matches!(
            e,
            Event::ChildSaDeleted {
                reason: ipsec_ikev2::ChildDeleteReason::Rekeyed,
                ..
            }
        )));
        assert_eq!(pair.child_spis(s).len(), 1);
    }
    let first = readies(&pair, side)[0].clone();
    assert_ne!(first.inbound_keymat, new.inbound_keymat, "new keys");
    // CREATE_CHILD_SA request and response, INFORMATIONAL Delete request and response.
    assert_eq!(pair.delivered, 8);
}

#[test]
fn child_sa_rekey_by_the_initiator() {
    rekey_child(Side::A, false);
}

#[test]
fn child_sa_rekey_by_the_responder() {
    rekey_child(Side::B, false);
}

#[test]
fn child_sa_rekey_with_pfs() {
    rekey_child(Side::A, true);
    rekey_child(Side::B, true);
}

#[test]
fn pfs_group_is_renegotiated_after_invalid_ke_payload() {
    let (mut a, mut b) = site_to_site();
    pfs(&mut a, &[DhGroup::Modp2048, DhGroup::Curve25519]);
    pfs(&mut b, &[DhGroup::Curve25519]);
    let mut pair = established(a, b, None);
    let old = pair.child_spis(Side::A)[0];
    let (handle, now) = (pair.handle(Side::A), pair.now);
    pair.a.rekey_child_sa(now, handle, old).unwrap();
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after the retried rekey");
    let new = readies(&pair, Side::A).pop().unwrap();
    assert_eq!(new.algorithms.dh, Some(DhGroup::Curve25519));
    assert_eq!(new.rekeyed, Some(old));
}

#[test]
fn a_further_child_sa_with_its_own_selectors() {
    let (a, mut b) = site_to_site();
    let mut second = common::first_child(&a);
    second.name = "second".into();
    second.local_ts = vec![range([[10, 3, 0, 0], [10, 3, 255, 255]])];
    second.remote_ts = vec![range([[10, 4, 0, 0], [10, 4, 255, 255]])];
    let mut b_second = second.clone();
    std::mem::swap(&mut b_second.local_ts, &mut b_second.remote_ts);
    b.children.push(std::sync::Arc::new(b_second));
    let mut pair = established(a, b, None);
    let (handle, now) = (pair.handle(Side::A), pair.now);
    pair.a
        .create_child_sa(now, handle, std::sync::Arc::new(second.clone()))
        .unwrap();
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after CREATE_CHILD_SA");
    let new = readies(&pair, Side::A).pop().unwrap();
    assert_eq!(new.local_ts, second.local_ts);
    assert_eq!(new.rekeyed, None);
    assert!(new.active);
    assert_eq!(pair.child_spis(Side::A).len(), 2);
}

#[test]
fn selectors_outside_every_config_are_refused() {
    let (a, b) = site_to_site();
    let mut pair = established(a.clone(), b, None);
    let mut other = common::first_child(&a);
    other.local_ts = vec![range([[10, 9, 0, 0], [10, 9, 0, 255]])];
    other.remote_ts = vec![range([[10, 8, 0, 0], [10, 8, 0, 255]])];
    let (handle, now) = (pair.handle(Side::A), pair.now);
    pair.a
        .create_child_sa(now, handle, std::sync::Arc::new(other))
        .unwrap();
    pair.drive(Duration::from_secs(5));
    assert!(pair.a_events.iter().any(|e| matches!(
        e,
        Event::ChildSaFailed {
            reason: NotifyType::TsUnacceptable,
            rekeying: None,
            ..
        }
    )));
    pair.assert_agree("after the refusal");
}

#[test]
fn no_additional_sas_beyond_the_limit() {
    let (a, b) = site_to_site();
    let mut b_config = common::endpoint_config(Some(b));
    b_config.max_child_sas = 1;
    let mut pair = established(a.clone(), site_to_site().1, Some(b_config));
    let (handle, now) = (pair.handle(Side::A), pair.now);
    pair.a
        .create_child_sa(now, handle, a.children[0].clone())
        .unwrap();
    pair.drive(Duration::from_secs(5));
    assert!(pair.a_events.iter().any(|e| matches!(
        e,
        Event::ChildSaFailed {
            reason: NotifyType::NoAdditionalSas,
            ..
        }
    )));
    // A rekey does not count against the limit: the old SA is on its way out.
    let old = pair.child_spis(Side::A)[0];
    let now = pair.now;
    pair.a.rekey_child_sa(now, handle, old).unwrap();
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after the rekey");
    assert_ne!(pair.child_spis(Side::A), vec![old]);
}

fn rekey_ike(side: Side) {
    let (a, b) = site_to_site();
    let mut pair = established(a, b, None);
    let before = pair.ledger(Side::A).ike_spis;
    let children = pair.child_spis(Side::A);
    let (handle, now) = (pair.handle(side), pair.now);
    pair.endpoint(side).rekey_ike_sa(now, handle).unwrap();
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after the IKE SA rekey");
    let (a_ledger, b_ledger) = (pair.ledger(Side::A), pair.ledger(Side::B));
    assert_eq!((a_ledger.ike_rekeys, b_ledger.ike_rekeys), (1, 1));
    assert_ne!(a_ledger.ike_spis, before, "new SPIs");
    assert_eq!(
        pair.child_spis(Side::A),
        children,
        "the Child SAs moved over"
    );
    // CREATE_CHILD_SA, then the Delete of the old IKE SA.
    assert_eq!(pair.delivered, 8);
    // The new IKE SA works: rekey the Child SA and then the IKE SA again over it.
    let (now, child) = (pair.now, pair_child(&pair, side));
    pair.endpoint(side)
        .rekey_child_sa(now, handle, child)
        .unwrap();
    pair.drive(Duration::from_secs(5));
    let now = pair.now;
    let other = if side == Side::A { Side::B } else { Side::A };
    let other_handle = pair.handle(other);
    pair.endpoint(other)
        .rekey_ike_sa(now, other_handle)
        .unwrap();
    pair.drive(Duration::from_secs(5));
    pair.assert_agree("after more rekeys");
    assert_eq!(pair.ledger(Side::A).ike_rekeys, 2);
    assert_eq!(pair.a.ike_sa_count(), 1);
    assert_eq!(pair.b.ike_sa_count(), 1);
    // And the Delete closes everything on both sides.
    let (now, handle) = (pair.now, pair.handle(Side::A));
    pair.a.delete_ike_sa(now, handle).unwrap();
    pair.drive(Duration::from_secs(5));
    assert_eq!(pair.closed(Side::A), Some(CloseReason::LocalDelete));
    assert_eq!(pair.closed(Side::B), Some(CloseReason::PeerDelete));
}

fn pair_child(pair: &Pair, side: Side) -> u32 {
    pair.child_spis(side)[0]
}

#[test]
fn ike_sa_rekey_by_the_initiator() {
    rekey_ike(Side::A);
}

#[test]
fn ike_sa_rekey_by_the_responder() {
    rekey_ike(Side::B);
}

#[test]
fn ike_sa_rekey_keys_match_rfc_7296_section_2_18() {
    let (a, b) = site_to_site();
    let mut pair = established(a, b, None);
    let old_sk_d = pair
        .a_events
        .iter()
        .find_map(|e| match e {
            Event::IkeSaEstablished { keys: Some(k), .. } => Some(k.sk_d.clone()),
            _ => None,
        })
        .unwrap();
    let (handle, now) = (pair.handle(Side::A), pair.now);
    pair.a.rekey_ike_sa(now, handle).unwrap();
    pair.drive(Duration::from_secs(5));
    let keys = |side: Side| {
        pair.events(side)
            .iter()
            .find_map(|e| match e {
                Event::IkeSaRekeyed { keys: Some(k), .. } => Some(k.clone()),
                _ => None,
            })
            .unwrap()
    };
    let (ka, kb) = (keys(Side::A), keys(Side::B));
    assert_eq!(ka, kb, "both sides derive the same new keys");
    assert_ne!(ka.sk_d, old_sk_d);
}

/// A retry scheduled after TEMPORARY_FAILURE must not outlive the IKE SA's Delete: with the
/// Delete unanswered (the peer gone), the retry's instant passes while the SA is closing.
#[test]
fn a_pending_retry_does_not_stall_a_closing_ike_sa() {
    let (a, b) = site_to_site();
    let mut pair = established(a, b, None);
    let (ha, hb, now) = (pair.handle(Side::A), pair.handle(Side::B), pair.now);
    let child = pair.child_spis(Side::B)[0];
    // The two requests cross: each side answers the other TEMPORARY_FAILURE (RFC 7296
    // §2.25.1, §2.25.2) and schedules a retry.
    pair.a.rekey_ike_sa(now, ha).unwrap();
    pair.b.rekey_child_sa(now, hb, child).unwrap();
    pair.drive(Duration::from_millis(500));
    pair.network.dead_after = Some(pair.now);
    let now = pair.now;
    pair.a.delete_ike_sa(now, ha).unwrap();
    pair.drive(Duration::from_secs(120));
    assert_eq!(pair.closed(Side::A), Some(CloseReason::LocalDelete));
    assert_eq!(pair.a.poll_timeout(), None);
}

/// Both ends rekey the IKE SA at once (RFC 7296 §2.8.2): three IKE SAs existed, and the key
/// log holds all three, the redundant one (whose Delete crosses the wire) included.
#[test]
fn simultaneous_ike_sa_rekeys_log_the_redundant_sas_keys() {
    let (a, b) = site_to_site();
    let mut pair = established(a, b, None);
    let now = pair.now;
    let (ha, hb) = (pair.handle(Side::A), pair.handle(Side::B));
    pair.a.rekey_ike_sa(now, ha).unwrap();
    pair.b.rekey_ike_sa(now, hb).unwrap();
    pair.drive(Duration::from_secs(60));
    pair.assert_agree("after the simultaneous rekeys");
    let logged = |side: Side| -> Vec<(u64, u64)> {
        pair.events(side)
            .iter()
            .filter_map(|e| match e {
                Event::IkeSaEstablished { keys: Some(k), .. }
                | Event::IkeSaRekeyed { keys: Some(k), .. }
                | Event::IkeSaKeys { keys: k, .. } => Some((k.spi_i, k.spi_r)),
                _ => None,
            })
            .collect()
    };
    let redundant = |side: Side| {
        pair.events(side)
            .iter()
            .filter(|e| matches!(e, Event::IkeSaKeys { .. }))
            .count()
    };
    // The end whose rekey lost logs the SA it made and deletes; the other the peer's.
    assert_eq!((redundant(Side::A), redundant(Side::B)), (1, 1));
    let mut a_sas = logged(Side::A);
    let mut b_sas = logged(Side::B);
    a_sas.sort();
    b_sas.sort();
    a_sas.dedup();
    b_sas.dedup();
    assert_eq!(
        a_sas.len(),
        3,
        "the old, the surviving and the redundant IKE SA"
    );
    assert_eq!(a_sas, b_sas, "both ends logged the same three");
}
