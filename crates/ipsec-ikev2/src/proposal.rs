//! Building SA payloads from proposals, and choosing among a peer's (RFC 7296 §2.7, §3.3).

use ipsec_crypto::CryptoProvider;
use ipsec_isakmp::{
    DhGroup, EsnId, IntegId, PrfId, Proposal, ProtocolId, SecurityAssociation, Spi, Transform,
    TransformId,
};

use crate::config::{ChildProposal, Encryption, IkeProposal, IpsecProtocol};

/// The algorithms an IKE SA agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IkeAlgorithms {
    /// Encryption.
    pub encryption: Encryption,
    /// Integrity; `None` with an AEAD.
    pub integrity: Option<IntegId>,
    /// PRF.
    pub prf: PrfId,
    /// Diffie-Hellman group.
    pub dh: DhGroup,
}

/// The algorithms a Child SA agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildAlgorithms {
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// Encryption; `None` for AH.
    pub encryption: Option<Encryption>,
    /// Integrity; `None` with an AEAD.
    pub integrity: Option<IntegId>,
    /// PFS group, if any.
    pub dh: Option<DhGroup>,
    /// Extended sequence numbers.
    pub esn: bool,
}

/// The wire protocol ID of a Child SA protocol (RFC 7296 §3.3.1).
pub(crate) fn protocol_id(protocol: IpsecProtocol) -> ProtocolId {
    match protocol {
        IpsecProtocol::Ah => ProtocolId::Ah,
        _ => ProtocolId::Esp,
    }
}

/// The Child SA protocol of a wire protocol ID, if it is one.
pub(crate) fn ipsec_protocol(id: ProtocolId) -> Option<IpsecProtocol> {
    match id {
        ProtocolId::Esp => Some(IpsecProtocol::Esp),
        ProtocolId::Ah => Some(IpsecProtocol::Ah),
        _ => None,
    }
}

fn encr(encryption: Encryption) -> Transform {
    Transform::encr(encryption.id, encryption.key_bits)
}

fn encryption_of(transform: &Transform) -> Option<Encryption> {
    match transform.id() {
        TransformId::Encr(id) => Some(Encryption {
            id,
            key_bits: transform.key_length(),
        }),
        _ => None,
    }
}

/// The SA payload offering `proposals` for the IKE SA, numbered from 1 (RFC 7296 §3.3.1);
/// `spi` is none in IKE_SA_INIT, the new SPI when rekeying.
pub(crate) fn ike_sa_payload(proposals: &[IkeProposal], spi: Spi) -> SecurityAssociation {
    SecurityAssociation {
        proposals: proposals
            .iter()
            .zip(1u8..)
            .map(|(p, number)| Proposal {
                number,
                protocol: ProtocolId::Ike,
                spi,
                transforms: p
                    .encryption
                    .iter()
                    .copied()
                    .map(encr)
                    .chain(p.prf.iter().copied().map(Transform::prf))
                    .chain(p.integrity.iter().copied().map(Transform::integ))
                    .chain(p.dh.iter().copied().map(Transform::dh))
                    .collect(),
            })
            .collect(),
    }
}

/// The SA payload offering `proposals` for an ESP or AH Child SA with our inbound `spi`.
/// `with_dh` keeps the PFS groups (CREATE_CHILD_SA); IKE_AUTH leaves them out (RFC 7296 §1.2).
pub(crate) fn child_sa_payload(
    proposals: &[ChildProposal],
    spi: u32,
    with_dh: bool,
) -> SecurityAssociation {
    SecurityAssociation {
        proposals: proposals
            .iter()
            .zip(1u8..)
            .map(|(p, number)| Proposal {
                number,
                protocol: protocol_id(p.protocol),
                spi: Spi::Ipsec(spi),
                transforms: p
                    .encryption
                    .iter()
                    .copied()
                    .filter(|_| p.protocol == IpsecProtocol::Esp)
                    .map(encr)
                    .chain(p.integrity.iter().copied().map(Transform::integ))
                    .chain(p.dh.iter().copied().filter(|_| with_dh).map(Transform::dh))
                    .chain(esn_list(&p.esn).into_iter().map(Transform::esn))
                    .collect(),
            })
            .collect(),
    }
}

fn esn_list(esn: &[EsnId]) -> Vec<EsnId> {
    if esn.is_empty() {
        vec![EsnId::NoEsn]
    } else {
        esn.to_vec()
    }
}

/// The single-proposal SA payload a responder answers with (RFC 7296 §3.3.1: the accepted
/// proposal's number, one transform of each type).
pub(crate) fn chosen_ike_payload(
    number: u8,
    chosen: IkeAlgorithms,
    spi: Spi,
) -> SecurityAssociation {
    let mut transforms = vec![encr(chosen.encryption), Transform::prf(chosen.prf)];
    transforms.extend(chosen.integrity.map(Transform::integ));
    transforms.push(Transform::dh(chosen.dh));
    SecurityAssociation {
        proposals: vec![Proposal {
            number,
            protocol: ProtocolId::Ike,
            spi,
            transforms,
        }],
    }
}

/// The single-proposal SA payload answering a Child SA proposal.
pub(crate) fn chosen_child_payload(
    number: u8,
    chosen: ChildAlgorithms,
    spi: u32,
) -> SecurityAssociation {
    let mut transforms: Vec<Transform> = chosen.encryption.map(encr).into_iter().collect();
    transforms.extend(chosen.integrity.map(Transform::integ));
    transforms.extend(chosen.dh.map(Transform::dh));
    transforms.push(Transform::esn(if chosen.esn {
        EsnId::Esn
    } else {
        EsnId::NoEsn
    }));
    SecurityAssociation {
        proposals: vec![Proposal {
            number,
            protocol: protocol_id(chosen.protocol),
            spi: Spi::Ipsec(spi),
            transforms,
        }],
    }
}

/// The first of `ours` (in our order) that `offered` contains.
fn first_common<T: Copy + PartialEq>(ours: &[T], offered: &[T]) -> Option<T> {
    ours.iter().copied().find(|t| offered.contains(t))
}

fn offered_encryptions(proposal: &Proposal) -> Vec<Encryption> {
    proposal
        .transforms
        .iter()
        .filter_map(encryption_of)
        .collect()
}

fn offered_of<T>(proposal: &Proposal, pick: impl Fn(TransformId) -> Option<T>) -> Vec<T> {
    proposal
        .transforms
        .iter()
        .filter_map(|t| pick(t.id()))
        .collect()
}

fn integ_of(id: TransformId) -> Option<IntegId> {
    match id {
        TransformId::Integ(i) => Some(i),
        _ => None,
    }
}

fn dh_of(id: TransformId) -> Option<DhGroup> {
    match id {
        TransformId::Dh(g) => Some(g),
        _ => None,
    }
}

/// Choosing the integrity algorithm: none for an AEAD (a peer may list `NONE`), one of
/// ours otherwise.
fn choose_integrity(
    encryption: Encryption,
    ours: &[IntegId],
    offered: &[IntegId],
) -> Option<Option<IntegId>> {
    if encryption.is_aead() {
        let clean = offered.iter().all(|i| *i == IntegId::None);
        return clean.then_some(None);
    }
    first_common(ours, offered).map(Some)
}

/// The responder's choice for the IKE SA (RFC 7296 §2.7): our proposals in our order of
/// preference, each against every proposal offered, taking the first of our algorithms the
/// offer contains and the provider implements. The group of the KE payload that came with
/// the offer, `ke_group`, is preferred where both sides allow it, so that no retry is needed
/// (RFC 7296 §1.2). Returns the offer's number and the algorithms, or `None` for
/// NO_PROPOSAL_CHOSEN.
/// In IKE_SA_INIT the proposals carry no SPI; when rekeying (`rekey`) each carries the
/// initiator's new 8-byte SPI (RFC 7296 §1.3.2, §3.3.1), returned with the choice.
pub(crate) fn select_ike(
    ours: &[IkeProposal],
    offered: &SecurityAssociation,
    provider: &CryptoProvider,
    ke_group: Option<DhGroup>,
    rekey: bool,
) -> Option<(u8, IkeAlgorithms, Spi)> {
    for mine in ours {
        for theirs in offered.proposals.iter().filter(|p| {
            p.protocol == ProtocolId::Ike
                && match p.spi {
                    Spi::None => !rekey,
                    Spi::Ike(spi) => rekey && spi != 0,
                    Spi::Ipsec(_) => false,
                }
        }) {
            let encryptions = offered_encryptions(theirs);
            let integrities = offered_of(theirs, integ_of);
            let prfs = offered_of(theirs, |id| match id {
                TransformId::Prf(p) => Some(p),
                _ => None,
            });
            let groups = offered_of(theirs, dh_of);
            let chosen = mine.encryption.iter().copied().find_map(|encryption| {
                if !encryptions.contains(&encryption) {
                    return None;
                }
                let integrity = choose_integrity(encryption, &mine.integrity, &integrities)?;
                crate::sk::supported(provider, encryption, integrity)
                    .then_some((encryption, integrity))
            });
            let prf = first_common(&mine.prf, &prfs).filter(|p| provider.prf(p.value()).is_some());
            let dh = ke_group
                .filter(|g| mine.dh.contains(g) && groups.contains(g))
                .or_else(|| first_common(&mine.dh, &groups))
                .filter(|g| provider.key_exchange(g.value()).is_some());
            if let (Some((encryption, integrity)), Some(prf), Some(dh)) = (chosen, prf, dh) {
                return Some((
                    theirs.number,
                    IkeAlgorithms {
                        encryption,
                        integrity,
                        prf,
                        dh,
                    },
                    theirs.spi,
                ));
            }
        }
    }
    None
}

/// The responder's choice for an ESP or AH Child SA, as [`select_ike`] chooses; returns
/// the offer's number, the algorithms and the initiator's inbound SPI. `pfs_group` is the
/// group of the KE payload that came with the offer (CREATE_CHILD_SA), if any. An offer
/// is only weighed against our proposals of its protocol.
pub(crate) fn select_child(
    ours: &[ChildProposal],
    offered: &SecurityAssociation,
    provider: &CryptoProvider,
    pfs_group: Option<DhGroup>,
) -> Option<(u8, ChildAlgorithms, u32)> {
    for mine in ours {
        for theirs in offered
            .proposals
            .iter()
            .filter(|p| p.protocol == protocol_id(mine.protocol))
        {
            let Spi::Ipsec(spi) = theirs.spi else {
                continue;
            };
            let encryptions = offered_encryptions(theirs);
            let integrities = offered_of(theirs, integ_of);
            let groups = offered_of(theirs, dh_of);
            let esns = offered_of(theirs, |id| match id {
                TransformId::Esn(e) => Some(e),
                _ => None,
            });
            let chosen = match mine.protocol {
                IpsecProtocol::Ah => {
                    // RFC 4302 §2: AH authenticates only; an offer with a cipher is no AH.
                    let integrity = first_common(&mine.integrity, &integrities)
                        .filter(|i| *i != IntegId::None && provider.integrity(i.value()).is_some());
                    match integrity {
                        Some(i) if encryptions.is_empty() => Some((None, Some(i))),
                        _ => None,
                    }
                }
                _ => mine.encryption.iter().copied().find_map(|encryption| {
                    if !encryptions.contains(&encryption) {
                        return None;
                    }
                    let integrity = choose_integrity(encryption, &mine.integrity, &integrities)?;
                    esp_supported(provider, encryption, integrity)
                        .then_some((Some(encryption), integrity))
                }),
            };
            let dh = match pfs_group {
                Some(group) => {
                    if !mine.dh.contains(&group) || !groups.contains(&group) {
                        continue;
                    }
                    Some(group)
                }
                None => None,
            };
            let esn = first_common(&esn_list(&mine.esn), &esn_list(&esns));
            if let (Some((encryption, integrity)), Some(esn)) = (chosen, esn) {
                return Some((
                    theirs.number,
                    ChildAlgorithms {
                        protocol: mine.protocol,
                        encryption,
                        integrity,
                        dh,
                        esn: esn == EsnId::Esn,
                    },
                    spi,
                ));
            }
        }
    }
    None
}

/// The responder's answer to the SA and KE payloads of a CREATE_CHILD_SA for a Child SA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildChoice {
    /// The offer's number, the algorithms and the initiator's inbound SPI.
    Chosen(u8, ChildAlgorithms, u32),
    /// The chosen proposal needs this group and the KE payload had another (or none):
    /// INVALID_KE_PAYLOAD (RFC 7296 §1.3).
    InvalidKe(DhGroup),
    /// NO_PROPOSAL_CHOSEN.
    Nothing,
}

/// The responder's choice in a CREATE_CHILD_SA for a Child SA (RFC 7296 §1.3): as
/// [`select_child`], but with the PFS group negotiated too. A proposal of ours with groups
/// needs one the offer lists (the KE payload's group preferred); one without takes an offer
/// that allows none. A chosen group other than the KE payload's is INVALID_KE_PAYLOAD; a KE
/// payload with a proposal that has no group is ignored.
pub(crate) fn select_child_create(
    ours: &[ChildProposal],
    offered: &SecurityAssociation,
    provider: &CryptoProvider,
    ke_group: Option<DhGroup>,
) -> ChildChoice {
    for mine in ours {
        for theirs in offered
            .proposals
            .iter()
            .filter(|p| p.protocol == protocol_id(mine.protocol))
        {
            if !matches!(theirs.spi, Spi::Ipsec(_)) {
                continue;
            }
            let groups: Vec<DhGroup> = offered_of(theirs, dh_of)
                .into_iter()
                .filter(|g| *g != DhGroup::None)
                .collect();
            let allows_none =
                groups.is_empty() || offered_of(theirs, dh_of).contains(&DhGroup::None);
            let dh = if mine.dh.is_empty() {
                if !allows_none {
                    continue;
                }
                None
            } else {
                let usable = |g: &DhGroup| {
                    mine.dh.contains(g)
                        && groups.contains(g)
                        && provider.key_exchange(g.value()).is_some()
                };
                match ke_group
                    .filter(usable)
                    .or_else(|| mine.dh.iter().copied().find(usable))
                {
                    Some(group) => Some(group),
                    None => continue,
                }
            };
            let Some((number, mut algorithms, spi)) = select_child(
                core::slice::from_ref(mine),
                &SecurityAssociation {
                    proposals: vec![theirs.clone()],
                },
                provider,
                None,
            ) else {
                continue;
            };
            algorithms.dh = dh;
            if let Some(group) = dh
                && ke_group != Some(group)
            {
                return ChildChoice::InvalidKe(group);
            }
            return ChildChoice::Chosen(number, algorithms, spi);
        }
    }
    ChildChoice::Nothing
}

fn esp_supported(
    provider: &CryptoProvider,
    encryption: Encryption,
    integrity: Option<IntegId>,
) -> bool {
    let bits = encryption.effective_key_bits();
    if encryption.is_aead() {
        return integrity.is_none() && provider.aead(encryption.id.value(), bits).is_some();
    }
    let Some(integrity) = integrity else {
        return false;
    };
    provider.cipher(encryption.id.value(), bits).is_some()
        && provider
            .integrity(integrity.value())
            .is_some_and(|i| i.spec().iv_len == 0)
}

/// Why a responder's chosen proposal is not acceptable to the initiator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the peer chose a proposal that was not offered")]
pub(crate) struct NotOffered;

/// Reads the responder's chosen IKE proposal and checks it is one we offered (RFC 7296
/// §3.3.6: exactly one proposal, one transform of each type).
pub(crate) fn accept_chosen_ike(
    ours: &[IkeProposal],
    answer: &SecurityAssociation,
) -> Result<IkeAlgorithms, NotOffered> {
    let [chosen] = answer.proposals.as_slice() else {
        return Err(NotOffered);
    };
    if chosen.protocol != ProtocolId::Ike {
        return Err(NotOffered);
    }
    let encryptions = offered_encryptions(chosen);
    let integrities = offered_of(chosen, integ_of);
    let prfs = offered_of(chosen, |id| match id {
        TransformId::Prf(p) => Some(p),
        _ => None,
    });
    let groups = offered_of(chosen, dh_of);
    let ([encryption], [prf], [dh]) = (encryptions.as_slice(), prfs.as_slice(), groups.as_slice())
    else {
        return Err(NotOffered);
    };
    let integrity = match integrities.as_slice() {
        [] | [IntegId::None] => None,
        [one] => Some(*one),
        _ => return Err(NotOffered),
    };
    let offered = ours.iter().any(|p| {
        p.encryption.contains(encryption)
            && p.prf.contains(prf)
            && p.dh.contains(dh)
            && integrity.is_none_or(|i| p.integrity.contains(&i))
            && (integrity.is_some() || encryption.is_aead())
    });
    if !offered {
        return Err(NotOffered);
    }
    Ok(IkeAlgorithms {
        encryption: *encryption,
        integrity,
        prf: *prf,
        dh: *dh,
    })
}

/// Reads the responder's chosen ESP or AH proposal and checks it is one we offered; returns
/// the algorithms and the responder's inbound SPI.
pub(crate) fn accept_chosen_child(
    ours: &[ChildProposal],
    answer: &SecurityAssociation,
) -> Result<(ChildAlgorithms, u32), NotOffered> {
    let [chosen] = answer.proposals.as_slice() else {
        return Err(NotOffered);
    };
    let (Some(protocol), Spi::Ipsec(spi)) = (ipsec_protocol(chosen.protocol), chosen.spi) else {
        return Err(NotOffered);
    };
    let encryptions = offered_encryptions(chosen);
    let integrities = offered_of(chosen, integ_of);
    let groups = offered_of(chosen, dh_of);
    let esns = offered_of(chosen, |id| match id {
        TransformId::Esn(e) => Some(e),
        _ => None,
    });
    let encryption = match (protocol, encryptions.as_slice()) {
        (IpsecProtocol::Ah, []) => None,
        (IpsecProtocol::Esp, [one]) => Some(*one),
        _ => return Err(NotOffered),
    };
    let integrity = match integrities.as_slice() {
        [] | [IntegId::None] => None,
        [one] => Some(*one),
        _ => return Err(NotOffered),
    };
    if protocol == IpsecProtocol::Ah && integrity.is_none() {
        return Err(NotOffered);
    }
    let dh = match groups.as_slice() {
        [] | [DhGroup::None] => None,
        [one] => Some(*one),
        _ => return Err(NotOffered),
    };
    let esn = match esns.as_slice() {
        [] | [EsnId::NoEsn] => false,
        [EsnId::Esn] => true,
        _ => return Err(NotOffered),
    };
    let wanted = if esn { EsnId::Esn } else { EsnId::NoEsn };
    let offered = ours.iter().any(|p| {
        p.protocol == protocol
            && encryption.is_none_or(|e| p.encryption.contains(&e))
            && integrity.is_none_or(|i| p.integrity.contains(&i))
            && (integrity.is_some() || encryption.is_some_and(|e| e.is_aead()))
            && dh.is_none_or(|g| p.dh.contains(&g))
            && esn_list(&p.esn).contains(&wanted)
    });
    if !offered {
        return Err(NotOffered);
    }
    Ok((
        ChildAlgorithms {
            protocol,
            encryption,
            integrity,
            dh,
            esn,
        },
        spi,
    ))
}
