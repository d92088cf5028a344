//! Which peer configuration a responder uses: at IKE_SA_INIT the candidates whose addresses
//! match the request's, best first (strongSwan's ike_cfg match), and at IKE_AUTH the one
//! whose identities match best among them (its peer_cfg match; RFC 4301 §4.4.3: the PAD).

use std::net::IpAddr;
use std::sync::Arc;

use ipsec_isakmp::Identification;
use ipsec_sad::{AddrRange, IdMatcher};

use crate::config::PeerConfig;
use crate::identity::{identification, match_quality};
use crate::proposal::IkeAlgorithms;

/// How specifically one of `ranges` holds `address`: 1 for any address (an empty list
/// too), up to 129 for the very IPv6 address; `None` if none holds it.
fn address_score(ranges: &[AddrRange], address: IpAddr) -> Option<u32> {
    if ranges.is_empty() {
        return Some(1);
    }
    ranges
        .iter()
        .filter(|r| r.contains(address))
        .map(|r| u32::from(r.fixed_bits()) + 1)
        .max()
}

/// How well `peer`'s addresses fit a request from `remote` to `local`: the remote side
/// counts double (strongSwan's weights); `None` if either does not fit.
pub(crate) fn address_match(peer: &PeerConfig, local: IpAddr, remote: IpAddr) -> Option<u32> {
    let ours = address_score(&peer.local_addrs, local)?;
    let theirs = address_score(&peer.remote_addrs, remote)?;
    Some(ours * 8 + theirs * 16)
}

/// The peers whose addresses fit a request from `remote` to `local`, best first.
pub(crate) fn ike_candidates(
    peers: &[Arc<PeerConfig>],
    local: IpAddr,
    remote: IpAddr,
) -> Vec<&Arc<PeerConfig>> {
    let mut candidates: Vec<(u32, usize, &Arc<PeerConfig>)> = peers
        .iter()
        .enumerate()
        .filter_map(|(order, peer)| Some((address_match(peer, local, remote)?, order, peer)))
        .collect();
    // Best score first; among equals, the order of configuration.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    candidates.into_iter().map(|(_, _, peer)| peer).collect()
}

/// Whether one of `peer`'s IKE proposals holds the algorithms an IKE SA agreed on.
fn offers(peer: &PeerConfig, algorithms: IkeAlgorithms) -> bool {
    peer.ike_proposals.iter().any(|p| {
        p.encryption.contains(&algorithms.encryption)
            && p.prf.contains(&algorithms.prf)
            && p.dh.contains(&algorithms.dh)
            && match algorithms.integrity {
                Some(integrity) => p.integrity.contains(&integrity),
                None => algorithms.encryption.is_aead(),
            }
    })
}

/// The responder's peer configuration for an IKE_AUTH request with IDi `id_i` (and IDr
/// `id_r`, the identity the initiator wants us to be, if it sent one) over an IKE SA
/// between `addresses` (ours, the peer's) that agreed on `algorithms`: among those whose
/// addresses fit, whose remote identity admits IDi, whose local identity is IDr and whose
/// proposals include the agreed ones, the best identity match, then the best address
/// match, then the first configured.
pub(crate) fn responder_peer(
    peers: &[Arc<PeerConfig>],
    addresses: (IpAddr, IpAddr),
    id_i: &Identification,
    id_r: Option<&Identification>,
    algorithms: IkeAlgorithms,
) -> Option<Arc<PeerConfig>> {
    let mut best: Option<((u8, u32), &Arc<PeerConfig>)> = None;
    for peer in peers {
        let Some(address) = address_match(peer, addresses.0, addresses.1) else {
            continue;
        };
        let Some(identity) = match_quality(&peer.remote_id, id_i) else {
            continue;
        };
        let wanted = id_r.is_none_or(|id_r| {
            crate::identity::peer_id(&peer.local_id)
                .map(IdMatcher::Exact)
                .is_some_and(|ours| match_quality(&ours, id_r).is_some())
        });
        if !wanted || !offers(peer, algorithms) {
            continue;
        }
        let score = (identity.score(), address);
        if best.as_ref().is_none_or(|(b, _)| score > *b) {
            best = Some((score, peer));
        }
    }
    best.map(|(_, peer)| peer.clone())
}

/// The Identification an exact pattern stands for.
pub(crate) fn exact(pattern: &IdMatcher) -> Option<Identification> {
    match pattern {
        IdMatcher::Exact(id) => identification(id),
        _ => None,
    }
}
