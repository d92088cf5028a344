//! Child SAs (RFC 7296 §1.3, §2.8, §2.17): the first one in IKE_AUTH, further ones and
//! rekeys in CREATE_CHILD_SA on both sides, with or without PFS, and the rule that settles
//! simultaneous rekeys of one Child SA (§2.8.1).

use std::sync::Arc;

use ipsec_crypto::{ActiveKeyExchange, SecretBytes};
use ipsec_isakmp::{
    DhGroup, ExchangeType, KeyExchange, Nonce, Notify, NotifyType, Payload, ProtocolId, Spi,
    TrafficSelector, TrafficSelectors,
};

use super::tasks::Task;
use super::window::RequestKind;
use super::{Ctx, IkeSa, Secured, holds_lowest_nonce, start_ke};
use crate::config::{ChildConfig, IpsecProtocol, Mode, PeerConfig};
use crate::error::{DropReason, Error};
use crate::event::{ChildDeleteReason, ChildSaReady, Event};
use crate::keys::child_keymat;
use crate::message::Payloads;
use crate::proposal::{self, ChildAlgorithms, ChildChoice, ipsec_protocol, protocol_id};
use crate::ts;

/// INVALID_KE_PAYLOAD retries of one CREATE_CHILD_SA before giving up.
const MAX_KE_RETRIES: u32 = 2;

/// Where a Child SA is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildState {
    /// Carrying traffic.
    Installed,
    /// Our rekey of it is on its way.
    Rekeying,
    /// Replaced by `successor` (RFC 7296 §1.3.3); waiting for the Delete that ends it, the
    /// peer's or ours.
    Rekeyed { successor: u32 },
    /// The redundant SA of a simultaneous rekey that the peer created and will delete
    /// (RFC 7296 §2.8.1).
    Redundant,
    /// Our Delete of it is on its way.
    Deleting,
}

/// An installed Child SA.
#[derive(Debug, Clone)]
pub(crate) struct ChildSa {
    pub(crate) inbound_spi: u32,
    pub(crate) outbound_spi: u32,
    /// ESP or AH: the protocol ID of its REKEY_SA and Delete payloads.
    pub(crate) protocol: IpsecProtocol,
    pub(crate) state: ChildState,
    /// The configuration it was made from, for its rekeys.
    config: Arc<ChildConfig>,
    local_ts: Vec<TrafficSelector>,
    remote_ts: Vec<TrafficSelector>,
    /// A rekey replaced it.
    replaced: bool,
}

impl ChildSa {
    /// Whether it counts against the Child SA limit: SAs on their way out do not.
    fn is_live(&self) -> bool {
        matches!(self.state, ChildState::Installed | ChildState::Rekeying)
    }
}

/// The peer's rekey of the same Child SA, answered while ours was on its way.
pub(super) struct Collision {
    /// Inbound SPI of the SA the peer's exchange created.
    peer_child: u32,
    /// That exchange's nonces: the peer's Ni and our Nr.
    peer_ni: Vec<u8>,
    our_nr: Vec<u8>,
}

/// Our CREATE_CHILD_SA for a Child SA, waiting for its response.
pub(super) struct ChildExchange {
    pub(super) config: Arc<ChildConfig>,
    /// Our inbound SPI for the new SA.
    pub(super) inbound_spi: u32,
    nonce: Vec<u8>,
    ke: Option<Box<dyn ActiveKeyExchange>>,
    /// Inbound SPI of the Child SA this rekeys.
    pub(super) rekeys: Option<u32>,
    /// The selectors proposed: ours and the peer's.
    proposed: (Vec<TrafficSelector>, Vec<TrafficSelector>),
    attempts: u32,
    pub(super) collision: Option<Collision>,
}

impl ChildExchange {
    /// The SA a crossing rekey by the peer created, if one met ours.
    pub(super) fn collision_child(&self) -> Option<u32> {
        self.collision.as_ref().map(|c| c.peer_child)
    }
}

/// A Child SA we answered for, with the exchange's nonces.
struct Created {
    child: ChildSa,
    ready: Box<ChildSaReady>,
    ni: Vec<u8>,
    nr: Vec<u8>,
}

/// What both sides agreed on for a Child SA.
struct Negotiated {
    algorithms: ChildAlgorithms,
    mode: Mode,
    local_ts: Vec<TrafficSelector>,
    remote_ts: Vec<TrafficSelector>,
    outbound_spi: u32,
}

/// The proposals of `config` that can be used on this IKE SA: AH covers the IP header and
/// does not cross a NAT (RFC 3948 encapsulates ESP only), so with UDP encapsulation its
/// proposals are left out, offered or accepted.
pub(super) fn usable(config: &ChildConfig, encapsulate: bool) -> Vec<crate::config::ChildProposal> {
    config
        .proposals
        .iter()
        .filter(|p| !(encapsulate && p.protocol == IpsecProtocol::Ah))
        .cloned()
        .collect()
}

/// The Child SA part of a request: SA (with our inbound `spi`), TSi, TSr and the mode
/// notifications (RFC 7296 §1.3.1). `selectors` are the ones to propose (a rekey proposes
/// the SA's agreed ones, §2.8); `with_dh` keeps the PFS groups, which IKE_AUTH leaves out.
pub(super) fn request_payloads(
    config: &ChildConfig,
    spi: u32,
    selectors: (&[TrafficSelector], &[TrafficSelector]),
    with_dh: bool,
    encapsulate: bool,
) -> Vec<Payload> {
    let proposals = usable(config, encapsulate);
    let mut payloads = vec![
        Payload::SecurityAssociation(proposal::child_sa_payload(&proposals, spi, with_dh)),
        Payload::TsInitiator(TrafficSelectors {
            selectors: selectors.0.to_vec(),
        }),
        Payload::TsResponder(TrafficSelectors {
            selectors: selectors.1.to_vec(),
        }),
    ];
    payloads.extend(mode_notifies(config.mode, config.accept_tfc_padding));
    payloads
}

fn mode_notifies(mode: Mode, accept_tfc_padding: bool) -> Vec<Payload> {
    let mut payloads = Vec::new();
    if mode == Mode::Transport {
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::UseTransportMode,
            &[],
        )));
    }
    if !accept_tfc_padding {
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::EspTfcPaddingNotSupported,
            &[],
        )));
    }
    payloads
}

/// The responder's fit of the proposed selectors and mode to `config`: selectors narrowed
/// (RFC 7296 §2.9), transport mode only if both want it (§1.3.1).
fn fit(
    config: &ChildConfig,
    ts_i: &[TrafficSelector],
    ts_r: &[TrafficSelector],
    transport_asked: bool,
) -> Result<(Vec<TrafficSelector>, Vec<TrafficSelector>, Mode), NotifyType> {
    let remote_ts = ts::narrow(ts_i, &config.remote_ts);
    let local_ts = ts::narrow(ts_r, &config.local_ts);
    if remote_ts.is_empty() || local_ts.is_empty() {
        return Err(NotifyType::TsUnacceptable);
    }
    let mode = match (transport_asked, config.mode) {
        (true, Mode::Transport) => Mode::Transport,
        (_, Mode::Tunnel) => Mode::Tunnel,
        (false, Mode::Transport) => return Err(NotifyType::NoProposalChosen),
    };
    Ok((local_ts, remote_ts, mode))
}

/// The initiator's check of the responder's answer: a proposal we offered, selectors within
/// ours (RFC 7296 §2.9), the mode we asked for.
fn accept_answer(
    config: &ChildConfig,
    encapsulate: bool,
    proposed: (&[TrafficSelector], &[TrafficSelector]),
    payloads: &Payloads,
) -> Result<Negotiated, NotifyType> {
    if let Some(error) = payloads.error() {
        return Err(error);
    }
    let (Some(sa), Some(ts_i), Some(ts_r)) = (&payloads.sa, &payloads.ts_i, &payloads.ts_r) else {
        return Err(NotifyType::NoProposalChosen);
    };
    let (algorithms, outbound_spi) =
        proposal::accept_chosen_child(&usable(config, encapsulate), sa)
            .map_err(|_| NotifyType::NoProposalChosen)?;
    if !ts::within(ts_i, proposed.0) || !ts::within(ts_r, proposed.1) {
        return Err(NotifyType::TsUnacceptable);
    }
    let mode = if payloads.has(NotifyType::UseTransportMode) {
        Mode::Transport
    } else {
        Mode::Tunnel
    };
    if mode != config.mode {
        return Err(NotifyType::NoProposalChosen);
    }
    Ok(Negotiated {
        algorithms,
        mode,
        local_ts: ts_i.clone(),
        remote_ts: ts_r.clone(),
        outbound_spi,
    })
}

impl IkeSa {
    /// Keys a new Child SA (RFC 7296 §2.17: `KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)`,
    /// initiator-to-responder keys first) and builds what the data plane needs. The soft
    /// lifetime loses a random jitter (§2.8.1).
    #[allow(clippy::too_many_arguments)]
    fn make_child(
        &self,
        ctx: &mut Ctx<'_>,
        secured: &Secured,
        config: Arc<ChildConfig>,
        agreed: Negotiated,
        inbound_spi: u32,
        exchange: (&[u8], &[u8], Option<&SecretBytes>),
        we_initiated: bool,
        rekeyed: Option<u32>,
        active: bool,
    ) -> Result<(ChildSa, Box<ChildSaReady>), Error> {
        let (ni, nr, shared) = exchange;
        let per_direction = child_keymat_len(ctx.config.provider, agreed.algorithms)
            .ok_or(Error::Internal("ESP algorithm not in provider"))?;
        let mut keymat = child_keymat(
            secured.suite.prf,
            secured.keys.sk_d.expose(),
            shared.map(SecretBytes::expose),
            ni,
            nr,
            per_direction * 2,
        )?;
        let i_to_r = keymat
            .take_front(per_direction)
            .ok_or(Error::Internal("keymat"))?;
        let r_to_i = keymat;
        let (inbound_keymat, outbound_keymat) = if we_initiated {
            (r_to_i, i_to_r)
        } else {
            (i_to_r, r_to_i)
        };
        let mut lifetimes = config.lifetimes;
        if let Some(soft) = lifetimes.soft_time {
            let jitter = ctx.jitter(lifetimes.max_jitter())?;
            lifetimes.soft_time = Some(soft.saturating_sub(jitter));
        }
        for (soft, max) in [
            (&mut lifetimes.soft_bytes, lifetimes.byte_jitter),
            (&mut lifetimes.soft_packets, lifetimes.packet_jitter),
        ] {
            if let (Some(limit), Some(max)) = (soft.as_mut(), max) {
                // At least one unit stays, so that the limit still fires.
                let max = max.min(limit.saturating_sub(1));
                let jitter = u64::from_be_bytes(ctx.random()?) % max.saturating_add(1);
                *limit -= jitter;
            }
        }
        let ready = ChildSaReady {
            ike_sa: self.handle,
            child: config.name.clone(),
            inbound_spi,
            outbound_spi: agreed.outbound_spi,
            algorithms: agreed.algorithms,
            inbound_keymat,
            outbound_keymat,
            mode: agreed.mode,
            local_ts: agreed.local_ts.clone(),
            remote_ts: agreed.remote_ts.clone(),
            udp_encapsulation: self.nat.encapsulate(),
            path: self.path,
            lifetimes,
            tfc_padding: self.tfc_padding,
            rekeyed,
            active,
        };
        let child = ChildSa {
            inbound_spi,
            outbound_spi: agreed.outbound_spi,
            protocol: agreed.algorithms.protocol,
            state: ChildState::Installed,
            config,
            local_ts: agreed.local_ts,
            remote_ts: agreed.remote_ts,
            replaced: false,
        };
        Ok((child, Box::new(ready)))
    }

    /// The initiator's side of the Child SA that comes with IKE_AUTH.
    pub(super) fn accept_auth_child(
        &self,
        ctx: &mut Ctx<'_>,
        config: &Arc<ChildConfig>,
        secured: &Secured,
        payloads: &Payloads,
        child_spi: u32,
    ) -> Result<ChildSa, NotifyType> {
        let encapsulate = self.nat.encapsulate();
        let agreed = accept_answer(
            config,
            encapsulate,
            (&config.local_ts, &config.remote_ts),
            payloads,
        )?;
        let (child, ready) = self
            .make_child(
                ctx,
                secured,
                config.clone(),
                agreed,
                child_spi,
                (&secured.ni, &secured.nr, None),
                true,
                None,
                true,
            )
            .map_err(|_| NotifyType::NoProposalChosen)?;
        ctx.events.push_back(Event::ChildSaReady(ready));
        Ok(child)
    }

    /// The responder's side of the Child SA that comes with IKE_AUTH: the first of the
    /// peer's child configurations whose proposals and selectors fit (RFC 7296 §2.9),
    /// with the mode agreed; the answer goes into `response`, or the notification that
    /// refuses the Child SA while the IKE SA stays (RFC 7296 §2.21.3), returned with the
    /// name of the configuration that came closest.
    pub(super) fn respond_auth_child(
        &self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        payloads: &Payloads,
        response: &mut Vec<Payload>,
    ) -> Result<(ChildSa, Box<ChildSaReady>), (String, NotifyType)> {
        match self.choose_auth_child(ctx, peer, payloads) {
            Ok((child, ready, number, accept_tfc_padding)) => {
                response.push(Payload::SecurityAssociation(
                    proposal::chosen_child_payload(number, ready.algorithms, ready.inbound_spi),
                ));
                response.extend(selector_payloads(&ready, accept_tfc_padding));
                Ok((child, ready))
            }
            Err((name, reason)) => {
                response.push(Payload::Notify(Notify::new(reason, &[])));
                Err((name, reason))
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn choose_auth_child(
        &self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        payloads: &Payloads,
    ) -> Result<(ChildSa, Box<ChildSaReady>, u8, bool), (String, NotifyType)> {
        let first = || {
            peer.children
                .first()
                .map(|c| c.name.clone())
                .unwrap_or_default()
        };
        let (Some(sa), Some(ts_i), Some(ts_r)) = (&payloads.sa, &payloads.ts_i, &payloads.ts_r)
        else {
            return Err((first(), NotifyType::InvalidSyntax));
        };
        let transport = payloads.has(NotifyType::UseTransportMode);
        let mut refusal = (first(), NotifyType::NoProposalChosen);
        let mut found = None;
        for config in &peer.children {
            let Some((number, algorithms, outbound_spi)) = proposal::select_child(
                &usable(config, self.nat.encapsulate()),
                sa,
                ctx.config.provider,
                None,
            ) else {
                continue;
            };
            match fit(config, ts_i, ts_r, transport) {
                Ok((local_ts, remote_ts, mode)) => {
                    let agreed = Negotiated {
                        algorithms,
                        mode,
                        local_ts,
                        remote_ts,
                        outbound_spi,
                    };
                    found = Some((config.clone(), number, agreed));
                    break;
                }
                Err(reason) => refusal = (config.name.clone(), reason),
            }
        }
        let Some((config, number, agreed)) = found else {
            return Err(refusal);
        };
        let name = config.name.clone();
        let secured = self
            .secured()
            .ok_or((name.clone(), NotifyType::TemporaryFailure))?;
        let inbound_spi = ctx
            .child_spi()
            .map_err(|_| (name.clone(), NotifyType::TemporaryFailure))?;
        let accept_tfc_padding = config.accept_tfc_padding;
        let (child, ready) = self
            .make_child(
                ctx,
                secured,
                config,
                agreed,
                inbound_spi,
                (&secured.ni, &secured.nr, None),
                false,
                None,
                true,
            )
            .map_err(|_| {
                ctx.child_spis.remove(&inbound_spi);
                (name, NotifyType::NoProposalChosen)
            })?;
        Ok((child, ready, number, accept_tfc_padding))
    }

    // ------------------------------------------------------------ CREATE_CHILD_SA, ours

    /// Sends a CREATE_CHILD_SA for a new Child SA from `config`, or rekeying the Child SA
    /// whose inbound SPI is `rekeys` (RFC 7296 §1.3.1, §1.3.3: REKEY_SA with that SPI, the
    /// same selectors). A PFS group in the proposals sends a KE payload: `group` if given
    /// (after INVALID_KE_PAYLOAD), else the first one offered.
    pub(super) fn start_create_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        config: Arc<ChildConfig>,
        rekeys: Option<u32>,
        group: Option<DhGroup>,
        attempts: u32,
    ) -> Result<(), Error> {
        let group = group.or_else(|| {
            config
                .proposals
                .iter()
                .flat_map(|p| p.dh.iter())
                .copied()
                .find(|g| *g != DhGroup::None)
        });
        let ke = group.map(|g| start_ke(ctx, g)).transpose()?;
        let inbound_spi = ctx.child_spi()?;
        let nonce = ctx.nonce()?;
        let rekeyed = rekeys.and_then(|spi| self.children.iter().find(|c| c.inbound_spi == spi));
        let selectors = match rekeyed {
            Some(old) => (old.local_ts.clone(), old.remote_ts.clone()),
            None => (config.local_ts.clone(), config.remote_ts.clone()),
        };
        let protocol = rekeyed.map_or(IpsecProtocol::Esp, |old| old.protocol);
        let mut payloads = Vec::new();
        if let Some(spi) = rekeys {
            payloads.push(Payload::Notify(Notify {
                protocol: protocol_id(protocol),
                spi: Spi::Ipsec(spi),
                notify_type: NotifyType::RekeySa,
                data: Vec::new(),
            }));
        }
        let mut child_payloads = request_payloads(
            &config,
            inbound_spi,
            (&selectors.0, &selectors.1),
            true,
            self.nat.encapsulate(),
        );
        // SA first, then Nonce and KE, then the selectors (RFC 7296 §1.3).
        let sa = child_payloads.remove(0);
        payloads.push(sa);
        payloads.push(Payload::Nonce(Nonce {
            data: nonce.clone(),
        }));
        if let Some(ke) = &ke {
            payloads.push(Payload::KeyExchange(KeyExchange {
                group: DhGroup::from(ke.group()),
                data: ke.public_value().to_vec(),
            }));
        }
        payloads.extend(child_payloads);
        let exchange = ChildExchange {
            config,
            inbound_spi,
            nonce,
            ke,
            rekeys,
            proposed: selectors,
            attempts,
            collision: None,
        };
        self.send_request(
            ctx,
            RequestKind::CreateChild(Box::new(exchange)),
            ExchangeType::CreateChildSa,
            &payloads,
        )
    }

    /// The answer to our CREATE_CHILD_SA for a Child SA.
    pub(super) fn on_create_child_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut exchange: ChildExchange,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let proposed = (&exchange.proposed.0[..], &exchange.proposed.1[..]);
        let agreed = match accept_answer(
            &exchange.config,
            self.nat.encapsulate(),
            proposed,
            &payloads,
        ) {
            Ok(agreed) => agreed,
            Err(reason) => {
                ctx.child_spis.remove(&exchange.inbound_spi);
                let group = payloads
                    .notify(NotifyType::InvalidKePayload)
                    .and_then(Notify::requested_group);
                return self.on_create_child_refused(ctx, exchange, reason, group);
            }
        };
        self.temporary_failure_since = None;
        let ke = exchange.ke.take();
        let shared = match (agreed.algorithms.dh, ke, &payloads.ke) {
            (None, _, _) => None,
            (Some(group), Some(ke), Some(theirs))
                if theirs.group == group && ke.group() == group.value() =>
            {
                match ke.complete(&theirs.data) {
                    Ok(shared) => Some(shared),
                    Err(_) => {
                        ctx.child_spis.remove(&exchange.inbound_spi);
                        return self.on_create_child_refused(
                            ctx,
                            exchange,
                            NotifyType::InvalidSyntax,
                            None,
                        );
                    }
                }
            }
            _ => {
                ctx.child_spis.remove(&exchange.inbound_spi);
                return self.on_create_child_refused(
                    ctx,
                    exchange,
                    NotifyType::NoProposalChosen,
                    None,
                );
            }
        };
        let Some(nr) = payloads.nonce.as_ref().map(|n| n.data.clone()) else {
            ctx.child_spis.remove(&exchange.inbound_spi);
            return self.on_create_child_refused(ctx, exchange, NotifyType::InvalidSyntax, None);
        };
        // RFC 7296 §2.8.1: with a crossing rekey of the same SA, the exchange holding the
        // lowest of the four nonces made the redundant SA.
        let lost = exchange.collision.as_ref().map(|c| {
            holds_lowest_nonce(
                [&exchange.nonce, &nr],
                [&c.peer_ni, &c.our_nr],
                !self.initiator,
            )
        });
        let old_exists = exchange
            .rekeys
            .is_some_and(|spi| self.children.iter().any(|c| c.inbound_spi == spi));
        let rekeyed = exchange.rekeys.filter(|_| old_exists || lost.is_some());
        let active = lost != Some(true);
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        let (child, ready) = self.make_child(
            ctx,
            secured,
            exchange.config.clone(),
            agreed,
            exchange.inbound_spi,
            (&exchange.nonce, &nr, shared.as_ref()),
            true,
            rekeyed,
            active,
        )?;
        let new_spi = child.inbound_spi;
        let old = exchange.rekeys.filter(|_| old_exists);
        let peer_child = exchange.collision.as_ref().map(|c| c.peer_child);
        if lost == Some(true) {
            // We lost: our new SA is the redundant one and we delete it; the peer's
            // replaces the old SA once the peer deletes that (§2.8.1).
            if let (Some(old), Some(peer_child)) = (old, peer_child) {
                self.set_child_state(
                    old,
                    ChildState::Rekeyed {
                        successor: peer_child,
                    },
                );
            }
            self.enqueue(Task::DeleteChild(new_spi));
        } else {
            // Our rekey stands: send on the new SA and delete the old one (§2.8); the
            // peer's crossing one, if any, is redundant and the peer deletes it.
            if let Some(old) = old {
                self.set_child_state(old, ChildState::Rekeyed { successor: new_spi });
                self.mark_replaced(old);
                self.enqueue(Task::DeleteChild(old));
            }
            if let Some(peer_child) = peer_child {
                self.set_child_state(peer_child, ChildState::Redundant);
            }
        }
        self.add_child(child);
        ctx.events.push_back(Event::ChildSaReady(ready));
        Ok(())
    }

    /// Our CREATE_CHILD_SA was refused (RFC 7296 §1.3, §2.25): retry later after
    /// TEMPORARY_FAILURE, at once with the group INVALID_KE_PAYLOAD asks for, recreate after
    /// CHILD_SA_NOT_FOUND, delete and recreate after NO_ADDITIONAL_SAS; otherwise report.
    fn on_create_child_refused(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ChildExchange,
        reason: NotifyType,
        requested_group: Option<DhGroup>,
    ) -> Result<(), DropReason> {
        let collided = exchange.collision.is_some();
        if let Some(old) = exchange.rekeys {
            // The SA we tried to rekey carries on, unless the peer's crossing rekey
            // replaced it.
            let state = match &exchange.collision {
                Some(c) => ChildState::Rekeyed {
                    successor: c.peer_child,
                },
                None => ChildState::Installed,
            };
            if self
                .children
                .iter()
                .any(|c| c.inbound_spi == old && c.state == ChildState::Rekeying)
            {
                self.set_child_state(old, state);
            }
        }
        let old_exists = exchange
            .rekeys
            .is_some_and(|spi| self.children.iter().any(|c| c.inbound_spi == spi));
        let retry = match exchange.rekeys {
            Some(inbound_spi) => Task::RekeyChild {
                inbound_spi,
                group: None,
                attempts: 0,
            },
            None => Task::CreateChild {
                config: exchange.config.clone(),
                group: None,
                attempts: 0,
            },
        };
        match reason {
            // The peer's rekey stands, or the SA is gone: nothing to retry.
            _ if collided || (exchange.rekeys.is_some() && !old_exists) => Ok(()),
            NotifyType::TemporaryFailure => {
                if self.note_temporary_failure(ctx) {
                    self.retry_later(ctx, retry)?;
                }
                Ok(())
            }
            NotifyType::InvalidKePayload
                if exchange.attempts < MAX_KE_RETRIES
                    && requested_group.is_some_and(|g| {
                        exchange.config.proposals.iter().any(|p| p.dh.contains(&g))
                    }) =>
            {
                let attempts = exchange.attempts + 1;
                self.enqueue(match retry {
                    Task::RekeyChild { inbound_spi, .. } => Task::RekeyChild {
                        inbound_spi,
                        group: requested_group,
                        attempts,
                    },
                    Task::CreateChild { config, .. } => Task::CreateChild {
                        config,
                        group: requested_group,
                        attempts,
                    },
                    other => other,
                });
                Ok(())
            }
            // RFC 7296 §2.25: the peer lost the SA; drop ours and make a new one.
            NotifyType::ChildSaNotFound => {
                if let Some(old) = exchange.rekeys {
                    // The peer lost it (RFC 7296 §2.25): not a close of the peer's.
                    self.remove_child(ctx, old, false);
                    self.enqueue(Task::CreateChild {
                        config: exchange.config,
                        group: None,
                        attempts: 0,
                    });
                }
                Ok(())
            }
            // RFC 7296 §4: a peer that will not rekey; delete the old SA, then create anew.
            NotifyType::NoAdditionalSas if exchange.rekeys.is_some() => {
                if let Some(old) = exchange.rekeys {
                    self.enqueue(Task::DeleteChild(old));
                    self.enqueue(Task::CreateChild {
                        config: exchange.config,
                        group: None,
                        attempts: 0,
                    });
                }
                Ok(())
            }
            reason => {
                ctx.events.push_back(Event::ChildSaFailed {
                    handle: self.handle,
                    child: exchange.config.name.clone(),
                    reason,
                    rekeying: exchange.rekeys,
                });
                Ok(())
            }
        }
    }

    // ------------------------------------------------------------ CREATE_CHILD_SA, theirs

    /// A CREATE_CHILD_SA request (RFC 7296 §1.3): an IKE SA rekey, a Child SA rekey
    /// (REKEY_SA) or a new Child SA.
    pub(super) fn on_create_child_sa_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let ike = payloads
            .sa
            .as_ref()
            .is_some_and(|sa| sa.proposals.iter().any(|p| p.protocol == ProtocolId::Ike));
        if ike {
            return self.on_ike_rekey_request(ctx, message_id, payloads);
        }
        let exchange = ExchangeType::CreateChildSa;
        if self.rekeying_ike() {
            // RFC 7296 §2.25.2: no Child SA work while the IKE SA is being rekeyed.
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::TemporaryFailure, &[]),
            );
        }
        let rekey = payloads
            .notify(NotifyType::RekeySa)
            .map(|n| (n.protocol, n.spi));
        match rekey {
            Some((protocol, Spi::Ipsec(spi))) if ipsec_protocol(protocol).is_some() => {
                self.on_child_rekey_request(ctx, message_id, payloads, protocol, spi)
            }
            Some((protocol, spi)) => self.refuse(
                ctx,
                exchange,
                message_id,
                Notify {
                    protocol,
                    spi,
                    notify_type: NotifyType::ChildSaNotFound,
                    data: Vec::new(),
                },
            ),
            None => self.on_new_child_request(ctx, message_id, payloads),
        }
    }

    fn on_new_child_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let live = self.children.iter().filter(|c| c.is_live()).count();
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        if live >= ctx.config.max_child_sas {
            return self.refuse(
                ctx,
                ExchangeType::CreateChildSa,
                message_id,
                Notify::new(NotifyType::NoAdditionalSas, &[]),
            );
        }
        let configs: Vec<Arc<ChildConfig>> = peer.children.clone();
        let created = self.respond_create_child(ctx, message_id, &payloads, configs, None)?;
        self.add_child(created.child);
        ctx.events.push_back(Event::ChildSaReady(created.ready));
        Ok(())
    }

    /// The peer rekeys the Child SA whose outbound SPI is `spi` (RFC 7296 §1.3.3, §2.25.1).
    fn on_child_rekey_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
        protocol: ProtocolId,
        spi: u32,
    ) -> Result<(), DropReason> {
        let exchange = ExchangeType::CreateChildSa;
        let Some(old) = self
            .children
            .iter()
            .find(|c| c.outbound_spi == spi && protocol_id(c.protocol) == protocol)
        else {
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify {
                    protocol,
                    spi: Spi::Ipsec(spi),
                    notify_type: NotifyType::ChildSaNotFound,
                    data: Vec::new(),
                },
            );
        };
        let (old_spi, state, config) = (old.inbound_spi, old.state, old.config.clone());
        if !matches!(state, ChildState::Installed | ChildState::Rekeying) {
            // Being closed, or already replaced (RFC 7296 §2.25.1).
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::TemporaryFailure, &[]),
            );
        }
        let created =
            self.respond_create_child(ctx, message_id, &payloads, vec![config], Some(old_spi))?;
        let new_spi = created.child.inbound_spi;
        match self.own_rekey_of(old_spi) {
            // Both rekey the same SA: answer as usual and settle it by the nonces once our
            // own response is in (RFC 7296 §2.8.1).
            Some(exchange) => {
                exchange.collision = Some(Collision {
                    peer_child: new_spi,
                    peer_ni: created.ni,
                    our_nr: created.nr,
                });
            }
            None => {
                self.set_child_state(old_spi, ChildState::Rekeyed { successor: new_spi });
            }
        }
        self.mark_replaced(old_spi);
        self.add_child(created.child);
        ctx.events.push_back(Event::ChildSaReady(created.ready));
        Ok(())
    }

    /// Our outstanding rekey of the Child SA with inbound SPI `inbound_spi`, if any.
    fn own_rekey_of(&mut self, inbound_spi: u32) -> Option<&mut ChildExchange> {
        match self.window.outstanding.as_mut().map(|o| &mut o.kind) {
            Some(RequestKind::CreateChild(exchange)) if exchange.rekeys == Some(inbound_spi) => {
                Some(exchange)
            }
            _ => None,
        }
    }

    /// Answers a CREATE_CHILD_SA for a Child SA with the first of `configs` that fits: the
    /// chosen proposal with its PFS exchange, the narrowed selectors, our nonce; or the
    /// notification that refuses it (RFC 7296 §1.3, §2.9).
    fn respond_create_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: &Payloads,
        configs: Vec<Arc<ChildConfig>>,
        rekeyed: Option<u32>,
    ) -> Result<Created, DropReason> {
        let exchange = ExchangeType::CreateChildSa;
        let (Some(sa), Some(ts_i), Some(ts_r), Some(ni)) = (
            &payloads.sa,
            &payloads.ts_i,
            &payloads.ts_r,
            &payloads.nonce,
        ) else {
            return Err(self.refusal(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::InvalidSyntax, &[]),
            ));
        };
        let ke_group = payloads.ke.as_ref().map(|k| k.group);
        let transport = payloads.has(NotifyType::UseTransportMode);
        let mut refusal = NotifyType::NoProposalChosen;
        let mut invalid_ke = None;
        let mut found = None;
        for config in configs {
            match proposal::select_child_create(
                &usable(&config, self.nat.encapsulate()),
                sa,
                ctx.config.provider,
                ke_group,
            ) {
                ChildChoice::Chosen(number, algorithms, outbound_spi) => {
                    match fit(&config, ts_i, ts_r, transport) {
                        Ok((local_ts, remote_ts, mode)) => {
                            let agreed = Negotiated {
                                algorithms,
                                mode,
                                local_ts,
                                remote_ts,
                                outbound_spi,
                            };
                            found = Some((config, number, agreed));
                            break;
                        }
                        Err(reason) => refusal = reason,
                    }
                }
                ChildChoice::InvalidKe(group) => {
                    invalid_ke.get_or_insert(group);
                }
                ChildChoice::Nothing => {}
            }
        }
        let Some((config, number, agreed)) = found else {
            let notify = match invalid_ke {
                Some(group) => Notify::invalid_ke_payload(group),
                None => {
                    ctx.events.push_back(Event::Refused {
                        handle: Some(self.handle),
                        connection: self.peer.as_ref().map(|p| p.name.clone()),
                        remote: self.path.remote,
                        peer_id: self.peer_id.clone(),
                        reason: refusal,
                    });
                    Notify::new(refusal, &[])
                }
            };
            return Err(self.refusal(ctx, exchange, message_id, notify));
        };
        let (public, shared) = match (agreed.algorithms.dh, &payloads.ke) {
            (Some(group), Some(ke)) => {
                let ours = start_ke(ctx, group)?;
                let public = ours.public_value().to_vec();
                match ours.complete(&ke.data) {
                    Ok(shared) => (Some((group, public)), Some(shared)),
                    Err(_) => {
                        return Err(self.refusal(
                            ctx,
                            exchange,
                            message_id,
                            Notify::new(NotifyType::InvalidSyntax, &[]),
                        ));
                    }
                }
            }
            _ => (None, None),
        };
        let inbound_spi = ctx.child_spi()?;
        let nr = ctx.nonce()?;
        let accept_tfc_padding = config.accept_tfc_padding;
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        let made = self.make_child(
            ctx,
            secured,
            config,
            agreed,
            inbound_spi,
            (&ni.data, &nr, shared.as_ref()),
            false,
            rekeyed,
            rekeyed.is_none(),
        );
        let (child, ready) = match made {
            Ok(made) => made,
            Err(error) => {
                ctx.child_spis.remove(&inbound_spi);
                return Err(error.into());
            }
        };
        let mut response = vec![Payload::SecurityAssociation(
            proposal::chosen_child_payload(number, ready.algorithms, inbound_spi),
        )];
        response.push(Payload::Nonce(Nonce { data: nr.clone() }));
        if let Some((group, data)) = public {
            response.push(Payload::KeyExchange(KeyExchange { group, data }));
        }
        response.extend(selector_payloads(&ready, accept_tfc_padding));
        self.send_response(ctx, exchange, message_id, &response)?;
        Ok(Created {
            child,
            ready,
            ni: ni.data.clone(),
            nr,
        })
    }

    // ------------------------------------------------------------ bookkeeping

    pub(super) fn set_child_state(&mut self, inbound_spi: u32, state: ChildState) {
        if let Some(child) = self
            .children
            .iter_mut()
            .find(|c| c.inbound_spi == inbound_spi)
        {
            child.state = state;
        }
    }

    fn mark_replaced(&mut self, inbound_spi: u32) {
        if let Some(child) = self
            .children
            .iter_mut()
            .find(|c| c.inbound_spi == inbound_spi)
        {
            child.replaced = true;
        }
    }

    pub(super) fn child_config(&self, inbound_spi: u32) -> Option<Arc<ChildConfig>> {
        self.children
            .iter()
            .find(|c| c.inbound_spi == inbound_spi)
            .map(|c| c.config.clone())
    }

    /// Removes a Child SA and tells the caller (RFC 7296 §1.4.1); `by_peer` says whether
    /// the peer deleted it.
    pub(super) fn remove_child(&mut self, ctx: &mut Ctx<'_>, inbound_spi: u32, by_peer: bool) {
        if let Some(index) = self
            .children
            .iter()
            .position(|c| c.inbound_spi == inbound_spi)
        {
            let child = self.children.remove(index);
            ctx.child_spis.remove(&child.inbound_spi);
            ctx.events.push_back(Event::ChildSaDeleted {
                handle: self.handle,
                inbound_spi: child.inbound_spi,
                outbound_spi: child.outbound_spi,
                reason: if child.replaced {
                    ChildDeleteReason::Rekeyed
                } else if by_peer {
                    ChildDeleteReason::Peer
                } else {
                    ChildDeleteReason::Local
                },
            });
        }
    }

    /// Tells the caller to send on `inbound_spi`'s SA now (RFC 7296 §2.8: the SA it
    /// replaced was deleted).
    pub(super) fn activate(&mut self, ctx: &mut Ctx<'_>, inbound_spi: u32) {
        if self
            .children
            .iter()
            .any(|c| c.inbound_spi == inbound_spi && c.state != ChildState::Redundant)
        {
            ctx.events.push_back(Event::ChildSaActive {
                handle: self.handle,
                inbound_spi,
            });
        }
    }
}

/// The payloads that answer a Child SA proposal after SA (and Nonce, KE): TSi, TSr, the
/// mode notifications.
fn selector_payloads(ready: &ChildSaReady, accept_tfc_padding: bool) -> Vec<Payload> {
    let mut response = vec![
        Payload::TsInitiator(TrafficSelectors {
            selectors: ready.remote_ts.clone(),
        }),
        Payload::TsResponder(TrafficSelectors {
            selectors: ready.local_ts.clone(),
        }),
    ];
    response.extend(mode_notifies(ready.mode, accept_tfc_padding));
    response
}

/// Keying material each direction of an ESP or AH SA takes (RFC 7296 §2.17: encryption
/// key first, then integrity key; AH has only the latter).
pub fn child_keymat_len(
    provider: &ipsec_crypto::CryptoProvider,
    algorithms: ChildAlgorithms,
) -> Option<usize> {
    let integrity_len = match algorithms.integrity {
        Some(integrity) => provider.integrity(integrity.value())?.spec().key_len,
        None => 0,
    };
    let Some(encryption) = algorithms.encryption else {
        return (algorithms.protocol == IpsecProtocol::Ah && integrity_len > 0)
            .then_some(integrity_len);
    };
    let bits = encryption.effective_key_bits();
    if encryption.is_aead() {
        return provider
            .aead(encryption.id.value(), bits)
            .map(|a| a.spec().keymat_len());
    }
    let cipher = provider.cipher(encryption.id.value(), bits)?;
    algorithms.integrity?;
    Some(cipher.spec().keymat_len() + integrity_len)
}
