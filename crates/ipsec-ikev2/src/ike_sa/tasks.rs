//! The exchanges we want to start, queued until the window is free (RFC 7296 §2.3: this
//! endpoint keeps one request outstanding), and the commands that queue them.

use std::sync::Arc;

use ipsec_isakmp::{Delete, DhGroup, ExchangeType, Payload};

use super::child::ChildState;
use super::window::RequestKind;
use super::{Ctx, IkeSa, State};
use crate::CommandError;
use crate::config::ChildConfig;
use crate::error::Error;
use crate::event::CloseReason;
use crate::proposal::protocol_id;

/// An exchange of ours waiting for the window.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Task {
    /// Delete the IKE SA (RFC 7296 §1.4.1).
    DeleteIke,
    /// Delete the Child SA with this inbound SPI.
    DeleteChild(u32),
    /// Create a Child SA (RFC 7296 §1.3.1).
    CreateChild {
        config: Arc<ChildConfig>,
        group: Option<DhGroup>,
        attempts: u32,
    },
    /// Rekey the Child SA with this inbound SPI (RFC 7296 §1.3.3).
    RekeyChild {
        inbound_spi: u32,
        group: Option<DhGroup>,
        attempts: u32,
    },
    /// Rekey the IKE SA (RFC 7296 §1.3.2).
    RekeyIke {
        group: Option<DhGroup>,
        attempts: u32,
    },
    /// An empty INFORMATIONAL: is the peer alive (RFC 7296 §1.4)?
    Liveness,
}

impl Task {
    /// Which queued exchange goes first: deletes, then creates, then rekeys (Child SAs
    /// before the IKE SA, so that an IKE rekey never meets a half-done Child SA exchange,
    /// RFC 7296 §2.25.1), then liveness checks.
    fn priority(&self) -> u8 {
        match self {
            Task::DeleteIke => 0,
            Task::DeleteChild(_) => 1,
            Task::CreateChild { .. } => 2,
            Task::RekeyChild { .. } => 3,
            Task::RekeyIke { .. } => 4,
            Task::Liveness => 5,
        }
    }

    /// Whether `other` asks for the same exchange.
    fn same_as(&self, other: &Task) -> bool {
        match (self, other) {
            (Task::RekeyChild { inbound_spi: a, .. }, Task::RekeyChild { inbound_spi: b, .. }) => {
                a == b
            }
            (Task::RekeyIke { .. }, Task::RekeyIke { .. }) => true,
            _ => self == other,
        }
    }
}

impl IkeSa {
    /// Queues `task` unless the same one is queued already.
    pub(super) fn enqueue(&mut self, task: Task) {
        if !self.queue.iter().any(|t| t.same_as(&task)) {
            self.queue.push(task);
        }
    }

    /// Starts queued exchanges while the window is free.
    pub(super) fn kick(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        while self.is_established() && self.window.outstanding.is_none() {
            let Some(first) = self.queue.iter().map(Task::priority).min() else {
                return Ok(());
            };
            let Some(index) = self.queue.iter().position(|t| t.priority() == first) else {
                return Ok(());
            };
            let task = self.queue.remove(index);
            self.start_task(ctx, task)?;
        }
        Ok(())
    }

    /// Starts `task` if it still makes sense (its Child SA may have gone meanwhile).
    fn start_task(&mut self, ctx: &mut Ctx<'_>, task: Task) -> Result<(), Error> {
        match task {
            Task::DeleteIke => {
                self.send_request(
                    ctx,
                    RequestKind::DeleteIke,
                    ExchangeType::Informational,
                    &[Payload::Delete(Delete::IkeSa)],
                )?;
                if let State::Established(secured) =
                    std::mem::replace(&mut self.state, State::Closed)
                {
                    self.state = State::Deleting(secured);
                }
                // Nothing else starts on an IKE SA being deleted.
                self.queue.clear();
                self.delayed.clear();
                Ok(())
            }
            Task::DeleteChild(inbound_spi) => {
                let Some(protocol) = self
                    .children
                    .iter()
                    .find(|c| c.inbound_spi == inbound_spi && c.state != ChildState::Deleting)
                    .map(|c| c.protocol)
                else {
                    return Ok(());
                };
                self.set_child_state(inbound_spi, ChildState::Deleting);
                self.send_request(
                    ctx,
                    RequestKind::DeleteChild { inbound_spi },
                    ExchangeType::Informational,
                    &[Payload::Delete(Delete::ChildSas {
                        protocol: protocol_id(protocol),
                        spis: vec![inbound_spi],
                    })],
                )
            }
            Task::CreateChild {
                config,
                group,
                attempts,
            } => self.start_create_child(ctx, config, None, group, attempts),
            Task::RekeyChild {
                inbound_spi,
                group,
                attempts,
            } => {
                let rekeyable = self
                    .children
                    .iter()
                    .any(|c| c.inbound_spi == inbound_spi && c.state == ChildState::Installed);
                let Some(config) = self.child_config(inbound_spi).filter(|_| rekeyable) else {
                    return Ok(());
                };
                self.set_child_state(inbound_spi, ChildState::Rekeying);
                self.start_create_child(ctx, config, Some(inbound_spi), group, attempts)
            }
            Task::RekeyIke { group, attempts } => self.start_ike_rekey(ctx, group, attempts),
            Task::Liveness => {
                self.send_request(ctx, RequestKind::Liveness, ExchangeType::Informational, &[])
            }
        }
    }

    // ---------------------------------------------------------------- commands

    fn require_established(&self) -> Result<(), CommandError> {
        if self.is_established() {
            Ok(())
        } else {
            Err(CommandError::NotEstablished)
        }
    }

    fn require_child(&self, inbound_spi: u32) -> Result<(), CommandError> {
        self.require_established()?;
        if self.children.iter().any(|c| c.inbound_spi == inbound_spi) {
            Ok(())
        } else {
            Err(CommandError::UnknownChildSa)
        }
    }

    /// Deletes the IKE SA with an INFORMATIONAL Delete (RFC 7296 §1.4.1); one not yet
    /// established just ends. `reason` is reported when it is gone.
    pub(crate) fn delete(
        &mut self,
        ctx: &mut Ctx<'_>,
        reason: CloseReason,
    ) -> Result<(), CommandError> {
        match self.state {
            State::Established(_) => {
                self.delete_reason = reason;
                self.enqueue(Task::DeleteIke);
                self.kick(ctx)?;
            }
            State::Deleting(_) => {}
            _ => self.close(ctx, reason),
        }
        Ok(())
    }

    /// Deletes one Child SA (RFC 7296 §1.4.1).
    pub(crate) fn delete_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        inbound_spi: u32,
    ) -> Result<(), CommandError> {
        self.require_child(inbound_spi)?;
        self.enqueue(Task::DeleteChild(inbound_spi));
        self.kick(ctx)?;
        Ok(())
    }

    /// Rekeys one Child SA (RFC 7296 §1.3.3). A Child SA already being rekeyed, replaced or
    /// deleted is left alone.
    pub(crate) fn rekey_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        inbound_spi: u32,
    ) -> Result<(), CommandError> {
        self.require_child(inbound_spi)?;
        self.enqueue(Task::RekeyChild {
            inbound_spi,
            group: None,
            attempts: 0,
        });
        self.kick(ctx)?;
        Ok(())
    }

    /// Creates a further Child SA from `config` (RFC 7296 §1.3.1).
    pub(crate) fn create_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        config: Arc<ChildConfig>,
    ) -> Result<(), CommandError> {
        self.require_established()?;
        if config.proposals.is_empty() {
            return Err(CommandError::Config("no proposal"));
        }
        self.enqueue(Task::CreateChild {
            config,
            group: None,
            attempts: 0,
        });
        self.kick(ctx)?;
        Ok(())
    }

    /// Rekeys the IKE SA (RFC 7296 §1.3.2).
    pub(crate) fn rekey(&mut self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        self.require_established()?;
        self.enqueue(Task::RekeyIke {
            group: None,
            attempts: 0,
        });
        self.kick(ctx)?;
        Ok(())
    }

    /// Sends an empty INFORMATIONAL request to check that the peer is alive (RFC 7296
    /// §1.4); no answer through every retransmission closes the SA as a dead peer.
    pub(crate) fn check_liveness(&mut self, ctx: &mut Ctx<'_>) -> Result<(), CommandError> {
        self.require_established()?;
        self.enqueue(Task::Liveness);
        self.kick(ctx)?;
        Ok(())
    }
}
