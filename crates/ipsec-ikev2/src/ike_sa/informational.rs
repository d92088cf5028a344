//! INFORMATIONAL requests from the peer (RFC 7296 §1.4): Delete of the IKE SA, Delete of
//! Child SAs answered with ours for the other direction (§1.4.1), the collisions of §2.25.1,
//! and empty ones (liveness).

use ipsec_isakmp::{Delete, ExchangeType, Payload, ProtocolId};

use super::child::ChildState;
use super::side::SideChannel;
use super::window::RequestKind;
use super::{Ctx, IkeSa};
use crate::error::DropReason;
use crate::event::CloseReason;
use crate::message::Payloads;
use crate::proposal::{ipsec_protocol, protocol_id};

impl IkeSa {
    pub(super) fn on_informational_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        if payloads.deletes.contains(&Delete::IkeSa) {
            self.send_response(ctx, ExchangeType::Informational, message_id, &[])?;
            // RFC 7296 §2.8.2: a Delete of the old IKE SA while both of us rekeyed it, and
            // the peer did not notice ours: its rekey (which we answered) stands, and ours
            // is forgotten.
            if let Some(candidate) = self.take_candidate() {
                let old = self.adopt(ctx, candidate)?;
                self.sides.push(SideChannel::deleted_by_peer(old, ctx.now));
                return Ok(());
            }
            self.close(ctx, CloseReason::PeerDelete);
            return Ok(());
        }
        let mut ours: Vec<(ProtocolId, u32)> = Vec::new();
        for delete in &payloads.deletes {
            let Delete::ChildSas { protocol, spis } = delete else {
                continue;
            };
            if ipsec_protocol(*protocol).is_none() {
                continue;
            }
            for spi in spis {
                let Some(child) = self
                    .children
                    .iter()
                    .find(|c| c.outbound_spi == *spi && protocol_id(c.protocol) == *protocol)
                else {
                    // Not ours (any more): answer without it (RFC 7296 §2.25.1).
                    continue;
                };
                let (inbound, state) = (child.inbound_spi, child.state);
                if state != ChildState::Deleting {
                    // RFC 7296 §1.4.1: deletes that cross carry no Delete back.
                    ours.push((*protocol, inbound));
                }
                self.remove_child(ctx, inbound, true);
                if let ChildState::Rekeyed { successor } = state {
                    // RFC 7296 §2.8: the replaced SA is gone, send on its successor.
                    self.activate(ctx, successor);
                }
                if let Some(peer_child) = self.crossing_rekey_of(inbound) {
                    // The peer deleted the SA both of us were rekeying: its rekey won.
                    self.activate(ctx, peer_child);
                }
            }
        }
        // One Delete payload per protocol (RFC 7296 §3.11).
        let response: Vec<Payload> = [ProtocolId::Esp, ProtocolId::Ah]
            .into_iter()
            .filter_map(|protocol| {
                let spis: Vec<u32> = ours
                    .iter()
                    .filter(|(p, _)| *p == protocol)
                    .map(|(_, spi)| *spi)
                    .collect();
                (!spis.is_empty()).then_some(Payload::Delete(Delete::ChildSas { protocol, spis }))
            })
            .collect();
        self.send_response(ctx, ExchangeType::Informational, message_id, &response)?;
        Ok(())
    }

    /// The SA the peer's crossing rekey of `inbound_spi` created, if our own rekey of it is
    /// outstanding and met one.
    fn crossing_rekey_of(&self, inbound_spi: u32) -> Option<u32> {
        match self.window.outstanding.as_ref().map(|o| &o.kind) {
            Some(RequestKind::CreateChild(exchange)) if exchange.rekeys == Some(inbound_spi) => {
                exchange.collision_child()
            }
            _ => None,
        }
    }
}
