//! Side channels: IKE SAs a rekey leaves beside the current one (RFC 7296 §2.8, §2.8.2) —
//! the old SA until its Delete is done, and the redundant new SA of a simultaneous rekey
//! until the side that made it deletes it. A side channel sends or answers that Delete,
//! answers retransmissions from its cache, refuses anything else, and goes when done.

use std::time::{Duration, Instant};

use ipsec_isakmp::{Delete, ExchangeType, HeaderView, Notify, NotifyType, Payload};

use super::window::{RequestKind, Retransmit};
use super::{Channel, Ctx, IkeSa, open_with};
use crate::error::{DropReason, Error};
use crate::event::{Path, Transmit};

/// How long an old IKE SA waits for the peer's Delete after the peer rekeyed it (strongSwan
/// waits as long).
const OLD_SA_WAIT: Duration = Duration::from_secs(90);
/// How long a redundant IKE SA waits for the peer's Delete (RFC 7296 §2.8.2).
const REDUNDANT_SA_WAIT: Duration = Duration::from_secs(30);
/// How long a deleted side channel stays to answer a retransmitted Delete.
const DELETED_LINGER: Duration = Duration::from_secs(30);

pub(super) struct SideChannel {
    pub(super) channel: Channel,
    /// When it goes, whatever happened; `None` while our Delete is being retransmitted.
    expires: Option<Instant>,
}

/// Whether a side channel has more to do.
enum Outcome {
    Continue,
    Finished,
}

impl SideChannel {
    /// The old IKE SA, which the peer deletes (we answered its rekey).
    pub(super) fn old_awaiting_delete(channel: Channel, now: Instant) -> Self {
        Self {
            channel,
            expires: Some(now + OLD_SA_WAIT),
        }
    }

    /// The peer's redundant new IKE SA, which the peer deletes (RFC 7296 §2.8.2).
    pub(super) fn redundant_awaiting_delete(channel: Channel, now: Instant) -> Self {
        Self {
            channel,
            expires: Some(now + REDUNDANT_SA_WAIT),
        }
    }

    /// An IKE SA the peer has deleted; it stays a moment to answer a retransmitted Delete.
    pub(super) fn deleted_by_peer(channel: Channel, now: Instant) -> Self {
        Self {
            channel,
            expires: Some(now + DELETED_LINGER),
        }
    }

    /// An IKE SA we delete now: the old one after our rekey (RFC 7296 §2.8: "the Delete
    /// payload to delete itself MUST be the last request sent over the old IKE SA"), or our
    /// redundant one of a simultaneous rekey.
    pub(super) fn delete(
        ctx: &mut Ctx<'_>,
        path: Path,
        mut channel: Channel,
    ) -> Result<Self, Error> {
        channel.send_request(
            ctx,
            path,
            RequestKind::DeleteIke,
            ExchangeType::Informational,
            &[Payload::Delete(Delete::IkeSa)],
        )?;
        Ok(Self {
            channel,
            expires: None,
        })
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        [self.channel.window.deadline(), self.expires]
            .into_iter()
            .flatten()
            .min()
    }

    fn handle(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        message: &[u8],
    ) -> Result<Outcome, DropReason> {
        let view = HeaderView::new_checked(message)?;
        let (exchange, message_id, flags) = (view.exchange_type(), view.message_id(), view.flags());
        if flags.initiator == self.channel.initiator {
            return Err(DropReason::Unexpected);
        }
        if flags.response {
            if !self.channel.window.answers(message_id) {
                return Err(DropReason::StaleResponse);
            }
            open_with(&self.channel.secured.sk_in, message)?;
            // Our Delete is answered (or, in an old SA, a liveness check of before the
            // rekey): nothing more to do on this SA.
            self.channel.window.outstanding = None;
            return Ok(if self.expires.is_none() {
                Outcome::Finished
            } else {
                Outcome::Continue
            });
        }
        if let Some(answered) = ctx.repeat(&mut self.channel.window, path, message_id, message) {
            return answered.map(|()| Outcome::Continue);
        }
        if message_id != self.channel.window.peer_next_request_id {
            return Err(DropReason::OutOfWindow);
        }
        let payloads = open_with(&self.channel.secured.sk_in, message)?;
        self.channel
            .window
            .received_request(message_id, ctx.digest(message));
        match exchange {
            ExchangeType::Informational => {
                self.channel
                    .send_response(ctx, path, exchange, message_id, &[])?;
                if payloads.deletes.contains(&Delete::IkeSa) {
                    self.expires = Some(ctx.now + DELETED_LINGER);
                }
                Ok(Outcome::Continue)
            }
            ExchangeType::CreateChildSa => {
                // RFC 7296 §2.8.2: a rekey of an IKE SA we are closing.
                self.channel.send_response(
                    ctx,
                    path,
                    exchange,
                    message_id,
                    &[Payload::Notify(Notify::new(
                        NotifyType::TemporaryFailure,
                        &[],
                    ))],
                )?;
                Err(DropReason::Refused(NotifyType::TemporaryFailure))
            }
            _ => Err(DropReason::Unexpected),
        }
    }

    fn on_timeout(&mut self, ctx: &mut Ctx<'_>, path: Path) -> Outcome {
        match self
            .channel
            .window
            .retransmit(ctx.now, &ctx.config.retransmit)
        {
            Retransmit::NotDue => {}
            Retransmit::Resend(datagram) => ctx.transmits.push_back(Transmit {
                path,
                payload: datagram,
            }),
            // The peer never answered our Delete: the SA is gone anyway.
            Retransmit::GiveUp => return Outcome::Finished,
        }
        if self.expires.is_some_and(|t| t <= ctx.now) {
            return Outcome::Finished;
        }
        Outcome::Continue
    }
}

impl IkeSa {
    pub(super) fn handle_side_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        index: usize,
        message: &[u8],
    ) -> Result<(), DropReason> {
        let path = self.path;
        let Some(side) = self.sides.get_mut(index) else {
            return Err(DropReason::UnknownSpi);
        };
        let outcome = side.handle(ctx, path, message)?;
        self.last_received = ctx.now;
        if let Outcome::Finished = outcome {
            self.sides.remove(index);
        }
        Ok(())
    }

    pub(super) fn side_timeouts(&mut self, ctx: &mut Ctx<'_>) {
        let path = self.path;
        let mut index = 0;
        while let Some(side) = self.sides.get_mut(index) {
            match side.on_timeout(ctx, path) {
                Outcome::Continue => index += 1,
                Outcome::Finished => {
                    self.sides.remove(index);
                }
            }
        }
    }
}
