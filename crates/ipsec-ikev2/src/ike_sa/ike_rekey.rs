//! Rekeying the IKE SA with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18): new SPIs, a new
//! Diffie-Hellman exchange, SKEYSEED from the old SK_d; the Child SAs stay, now under the
//! new IKE SA, and the old one is deleted. Simultaneous rekeys are settled by the lowest
//! nonce (§2.8.2); the other collisions as §2.25.2 says.

use bytes::Bytes;
use ipsec_crypto::ActiveKeyExchange;
use ipsec_isakmp::{DhGroup, ExchangeType, KeyExchange, Nonce, Notify, NotifyType, Payload, Spi};

use super::side::SideChannel;
use super::tasks::Task;
use super::window::{RequestKind, Window};
use super::{Channel, Ctx, IkeSa, State, holds_lowest_nonce, nonzero_spi, secure_with, start_ke};
use crate::error::{DropReason, Error};
use crate::event::Event;
use crate::keys::derive_rekeyed_ike_keys;
use crate::message::Payloads;
use crate::proposal;
use crate::sk::IkeSuite;

/// INVALID_KE_PAYLOAD retries of one IKE SA rekey before giving up.
const MAX_KE_RETRIES: u32 = 2;

/// Our CREATE_CHILD_SA rekeying the IKE SA, waiting for its response.
pub(super) struct IkeRekeyExchange {
    /// Our SPI for the new IKE SA (its SPIi).
    spi: u64,
    nonce: Vec<u8>,
    ke: Box<dyn ActiveKeyExchange>,
    attempts: u32,
    /// The new IKE SA of the peer's rekey, answered while ours was on its way (RFC 7296
    /// §2.8.2): which of the two survives is settled when our response arrives.
    collision: Option<Box<Channel>>,
}

impl IkeSa {
    /// The new IKE SA of a peer's rekey that crossed ours, not yet settled.
    pub(super) fn candidate(&self) -> Option<&Channel> {
        match self.window.outstanding.as_ref().map(|o| &o.kind) {
            Some(RequestKind::RekeyIke(exchange)) => exchange.collision.as_deref(),
            _ => None,
        }
    }

    /// Whether our rekey of the IKE SA is on its way.
    pub(super) fn rekeying_ike(&self) -> bool {
        matches!(
            self.window.outstanding.as_ref().map(|o| &o.kind),
            Some(RequestKind::RekeyIke(_))
        )
    }

    /// Forgets our own rekey of the IKE SA and returns the peer's crossing one, if there is
    /// one (RFC 7296 §2.8.2, §2.25.2: a Delete of the old SA from a peer that did not notice
    /// our rekey).
    pub(super) fn take_candidate(&mut self) -> Option<Channel> {
        self.candidate()?;
        match self.window.outstanding.take().map(|o| o.kind) {
            Some(RequestKind::RekeyIke(exchange)) => exchange.collision.map(|c| *c),
            _ => None,
        }
    }

    /// Makes `channel` the current IKE SA (RFC 7296 §2.8: the Child SAs are inherited; §2.2:
    /// message IDs start at 0) and returns the one it replaces.
    pub(super) fn adopt(&mut self, ctx: &mut Ctx<'_>, channel: Channel) -> Result<Channel, Error> {
        let State::Established(secured) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(Error::Internal("adopting a rekey outside Established"));
        };
        let old = Channel {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            initiator: self.initiator,
            secured,
            window: std::mem::take(&mut self.window),
        };
        self.spi_i = channel.spi_i;
        self.spi_r = channel.spi_r;
        self.initiator = channel.initiator;
        self.window = channel.window;
        self.state = State::Established(channel.secured);
        self.temporary_failure_since = None;
        self.start_lifetime(ctx)?;
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        ctx.events.push_back(Event::IkeSaRekeyed {
            handle: self.handle,
            initiator: self.initiator,
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            algorithms: secured.suite.algorithms,
            keys: self.key_log(ctx, secured),
        });
        if let State::Established(secured) = &mut self.state {
            secured.forget_spent_secrets();
        }
        Ok(old)
    }

    /// Sends our rekey of the IKE SA: SA with our new SPI, Ni, KEi (RFC 7296 §1.3.2). The KE
    /// is in the current SA's group unless INVALID_KE_PAYLOAD asked for `group`.
    pub(super) fn start_ike_rekey(
        &mut self,
        ctx: &mut Ctx<'_>,
        group: Option<DhGroup>,
        attempts: u32,
    ) -> Result<(), Error> {
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let current = self
            .secured()
            .ok_or(Error::Internal("no keys"))?
            .suite
            .algorithms
            .dh;
        let offered = |g: &DhGroup| peer.ike_proposals.iter().any(|p| p.dh.contains(g));
        let group = group
            .or(Some(current).filter(offered))
            .or_else(|| {
                peer.ike_proposals
                    .iter()
                    .flat_map(|p| p.dh.first())
                    .next()
                    .copied()
            })
            .ok_or(Error::Internal("no DH group"))?;
        let spi = nonzero_spi(ctx)?;
        let nonce = ctx.nonce()?;
        let ke = start_ke(ctx, group)?;
        let payloads = [
            Payload::SecurityAssociation(proposal::ike_sa_payload(
                &peer.ike_proposals,
                Spi::Ike(spi),
            )),
            Payload::Nonce(Nonce {
                data: nonce.clone(),
            }),
            Payload::KeyExchange(KeyExchange {
                group: DhGroup::from(ke.group()),
                data: ke.public_value().to_vec(),
            }),
        ];
        let exchange = IkeRekeyExchange {
            spi,
            nonce,
            ke,
            attempts,
            collision: None,
        };
        self.send_request(
            ctx,
            RequestKind::RekeyIke(Box::new(exchange)),
            ExchangeType::CreateChildSa,
            &payloads,
        )
    }

    /// The answer to our rekey of the IKE SA.
    pub(super) fn on_ike_rekey_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: IkeRekeyExchange,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let IkeRekeyExchange {
            spi,
            nonce,
            ke,
            attempts,
            collision,
        } = exchange;
        let ours = match self.rekeyed_channel(ctx, spi, &nonce, ke, &payloads) {
            Ok(channel) => channel,
            Err(refusal) => {
                // The peer's crossing rekey, if any, stands alone (strongSwan does the same):
                // the peer deletes the old SA.
                if let Some(candidate) = collision {
                    let old = self.adopt(ctx, *candidate)?;
                    self.sides
                        .push(SideChannel::old_awaiting_delete(old, ctx.now));
                    return Ok(());
                }
                let requested = payloads
                    .notify(NotifyType::InvalidKePayload)
                    .and_then(Notify::requested_group);
                match (refusal, requested) {
                    (NotifyType::InvalidKePayload, Some(group)) if attempts < MAX_KE_RETRIES => {
                        self.enqueue(Task::RekeyIke {
                            group: Some(group),
                            attempts: attempts + 1,
                        });
                    }
                    (NotifyType::TemporaryFailure, _) if self.note_temporary_failure(ctx) => {
                        self.retry_later(
                            ctx,
                            Task::RekeyIke {
                                group: None,
                                attempts: 0,
                            },
                        )?;
                    }
                    // Refused for good: the IKE SA lives on until its hard lifetime
                    // (RFC 7296 §2.8).
                    _ => {}
                }
                return Ok(());
            }
        };
        self.temporary_failure_since = None;
        let path = self.path;
        match collision {
            None => {
                let old = self.adopt(ctx, ours)?;
                self.sides.push(SideChannel::delete(ctx, path, old)?);
            }
            Some(candidate) => {
                // RFC 7296 §2.8.2: the new IKE SA with the lowest nonce is deleted by the
                // side that created it; the other inherits the Child SAs, and its creator
                // deletes the old SA.
                let lost = holds_lowest_nonce(
                    [&ours.secured.ni, &ours.secured.nr],
                    [&candidate.secured.ni, &candidate.secured.nr],
                    !self.initiator,
                );
                if lost {
                    let old = self.adopt(ctx, *candidate)?;
                    self.sides
                        .push(SideChannel::old_awaiting_delete(old, ctx.now));
                    self.log_side_keys(ctx, &ours);
                    self.sides.push(SideChannel::delete(ctx, path, ours)?);
                } else {
                    let old = self.adopt(ctx, ours)?;
                    self.sides.push(SideChannel::delete(ctx, path, old)?);
                    self.log_side_keys(ctx, &candidate);
                    self.sides
                        .push(SideChannel::redundant_awaiting_delete(*candidate, ctx.now));
                }
            }
        }
        Ok(())
    }

    /// Reads the answer to our IKE SA rekey and keys the new IKE SA (RFC 7296 §2.18), or
    /// says why not.
    fn rekeyed_channel(
        &mut self,
        ctx: &mut Ctx<'_>,
        spi_i: u64,
        ni: &[u8],
        ke: Box<dyn ActiveKeyExchange>,
        payloads: &Payloads,
    ) -> Result<Channel, NotifyType> {
        if let Some(error) = payloads.error() {
            return Err(error);
        }
        let peer = self.peer.clone().ok_or(NotifyType::InvalidSyntax)?;
        let (Some(sa), Some(nr), Some(theirs)) = (&payloads.sa, &payloads.nonce, &payloads.ke)
        else {
            return Err(NotifyType::InvalidSyntax);
        };
        let algorithms = proposal::accept_chosen_ike(&peer.ike_proposals, sa)
            .map_err(|_| NotifyType::NoProposalChosen)?;
        let Some(Spi::Ike(spi_r)) = sa.proposals.first().map(|p| p.spi) else {
            return Err(NotifyType::InvalidSyntax);
        };
        if spi_r == 0 || theirs.group != algorithms.dh || ke.group() != algorithms.dh.value() {
            return Err(NotifyType::InvalidSyntax);
        }
        let shared = ke
            .complete(&theirs.data)
            .map_err(|_| NotifyType::InvalidSyntax)?;
        let suite = IkeSuite::lookup(ctx.config.provider, algorithms)
            .ok_or(NotifyType::NoProposalChosen)?;
        self.keyed_channel(suite, shared.expose(), ni, &nr.data, spi_i, spi_r, true)
            .map_err(|_| NotifyType::InvalidSyntax)
    }

    /// The new IKE SA's keys (RFC 7296 §2.18: SKEYSEED from the old SK_d with the old PRF;
    /// the rest with the new PRF over the new SPIs) and channel.
    #[allow(clippy::too_many_arguments)]
    fn keyed_channel(
        &self,
        suite: IkeSuite,
        shared: &[u8],
        ni: &[u8],
        nr: &[u8],
        spi_i: u64,
        spi_r: u64,
        initiator: bool,
    ) -> Result<Channel, Error> {
        let old = self.secured().ok_or(Error::Internal("no keys"))?;
        let keys = derive_rekeyed_ike_keys(
            old.suite.prf,
            old.keys.sk_d.expose(),
            suite.prf,
            suite.key_lengths(),
            ni,
            nr,
            shared,
            spi_i,
            spi_r,
        )?;
        let secured = secure_with(
            suite,
            keys,
            initiator,
            ni.to_vec(),
            nr.to_vec(),
            Bytes::new(),
            Bytes::new(),
        )?;
        Ok(Channel {
            spi_i,
            spi_r,
            initiator,
            secured: Box::new(secured),
            window: Window::default(),
        })
    }

    /// The peer rekeys the IKE SA (RFC 7296 §1.3.2). Refused with TEMPORARY_FAILURE while a
    /// Child SA exchange of ours is on its way (§2.25.1); answered as usual while our own
    /// rekey is, and settled later (§2.8.2).
    pub(super) fn on_ike_rekey_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let exchange = ExchangeType::CreateChildSa;
        let busy = match self.window.outstanding.as_ref().map(|o| &o.kind) {
            Some(RequestKind::CreateChild(_) | RequestKind::DeleteChild { .. }) => true,
            Some(RequestKind::RekeyIke(own)) => own.collision.is_some(),
            _ => false,
        };
        if busy {
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::TemporaryFailure, &[]),
            );
        }
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let (Some(sa), Some(ni), Some(ke)) = (&payloads.sa, &payloads.nonce, &payloads.ke) else {
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::InvalidSyntax, &[]),
            );
        };
        let Some((number, algorithms, Spi::Ike(spi_i))) = proposal::select_ike(
            &peer.ike_proposals,
            sa,
            ctx.config.provider,
            Some(ke.group),
            true,
        ) else {
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::NoProposalChosen, &[]),
            );
        };
        if algorithms.dh != ke.group {
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::invalid_ke_payload(algorithms.dh),
            );
        }
        let ours = start_ke(ctx, algorithms.dh)?;
        let public = ours.public_value().to_vec();
        let Ok(shared) = ours.complete(&ke.data) else {
            return self.refuse(
                ctx,
                exchange,
                message_id,
                Notify::new(NotifyType::InvalidSyntax, &[]),
            );
        };
        let suite = IkeSuite::lookup(ctx.config.provider, algorithms)
            .ok_or(Error::Internal("chosen suite not in provider"))?;
        let spi_r = nonzero_spi(ctx)?;
        let nr = ctx.nonce()?;
        let candidate =
            self.keyed_channel(suite, shared.expose(), &ni.data, &nr, spi_i, spi_r, false)?;
        let response = [
            Payload::SecurityAssociation(proposal::chosen_ike_payload(
                number,
                algorithms,
                Spi::Ike(spi_r),
            )),
            Payload::Nonce(Nonce { data: nr }),
            Payload::KeyExchange(KeyExchange {
                group: algorithms.dh,
                data: public,
            }),
        ];
        self.send_response(ctx, exchange, message_id, &response)?;
        if let Some(RequestKind::RekeyIke(own)) =
            self.window.outstanding.as_mut().map(|o| &mut o.kind)
        {
            own.collision = Some(Box::new(candidate));
            return Ok(());
        }
        let old = self.adopt(ctx, candidate)?;
        self.sides
            .push(SideChannel::old_awaiting_delete(old, ctx.now));
        Ok(())
    }

    /// A message on the new IKE SA of a peer's rekey that crossed ours, before ours is
    /// answered (RFC 7296 §2.8.2): a Delete of it means the peer lost and drops it; anything
    /// else means the peer has moved to it, so we do too and forget our own rekey.
    pub(super) fn handle_candidate_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: crate::event::Path,
        message: &[u8],
    ) -> Result<(), DropReason> {
        let view = ipsec_isakmp::HeaderView::new_checked(message)?;
        if view.flags().response {
            return Err(DropReason::StaleResponse);
        }
        let is_delete = {
            let candidate = self.candidate().ok_or(DropReason::UnknownSpi)?;
            if view.message_id() != candidate.window.peer_next_request_id {
                return Err(DropReason::OutOfWindow);
            }
            let payloads = super::open_with(&candidate.secured.sk_in, message)?;
            view.exchange_type() == ExchangeType::Informational
                && payloads.deletes.contains(&ipsec_isakmp::Delete::IkeSa)
        };
        if is_delete {
            let Some(RequestKind::RekeyIke(own)) =
                self.window.outstanding.as_mut().map(|o| &mut o.kind)
            else {
                return Err(DropReason::UnknownSpi);
            };
            let Some(mut candidate) = own.collision.take() else {
                return Err(DropReason::UnknownSpi);
            };
            self.log_side_keys(ctx, &candidate);
            candidate.send_response(
                ctx,
                self.path,
                ExchangeType::Informational,
                view.message_id(),
                &[],
            )?;
            self.sides
                .push(SideChannel::deleted_by_peer(*candidate, ctx.now));
            return Ok(());
        }
        let Some(candidate) = self.take_candidate() else {
            return Err(DropReason::UnknownSpi);
        };
        let old = self.adopt(ctx, candidate)?;
        self.sides
            .push(SideChannel::old_awaiting_delete(old, ctx.now));
        self.handle_current_message(ctx, path, message)
    }
}
