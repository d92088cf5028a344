//! The message window of one IKE SA (RFC 7296 §2.1 – §2.3): our next request's ID and the
//! request waiting for its response, the peer's next request's ID and the cached answer
//! to its last one. This endpoint keeps a window of one both ways.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::child::ChildExchange;
use super::ike_rekey::IkeRekeyExchange;
use crate::config::RetransmitConfig;

/// What a request of ours was for, to act on its response.
pub(super) enum RequestKind {
    IkeSaInit,
    IkeAuth,
    /// CREATE_CHILD_SA for a new Child SA or a Child SA rekey (RFC 7296 §1.3.1, §1.3.3).
    CreateChild(Box<ChildExchange>),
    /// CREATE_CHILD_SA rekeying the IKE SA (RFC 7296 §1.3.2).
    RekeyIke(Box<IkeRekeyExchange>),
    DeleteChild {
        inbound_spi: u32,
    },
    DeleteIke,
    Liveness,
}

/// A request waiting for its response, retransmitted with backoff (RFC 7296 §2.1).
pub(super) struct Outstanding {
    pub(super) message_id: u32,
    /// When it was first sent.
    pub(super) sent_at: Instant,
    pub(super) datagram: Bytes,
    pub(super) retransmits: u32,
    pub(super) timeout: Duration,
    pub(super) deadline: Instant,
    pub(super) kind: RequestKind,
}

/// What a retransmission timer asks for.
pub(super) enum Retransmit {
    /// Nothing is due.
    NotDue,
    /// Send this again.
    Resend(Bytes),
    /// Every retransmission went unanswered.
    GiveUp,
}

#[derive(Default)]
pub(super) struct Window {
    pub(super) next_request_id: u32,
    pub(super) outstanding: Option<Outstanding>,
    pub(super) peer_next_request_id: u32,
    pub(super) last_response: Option<(u32, Bytes)>,
}

impl Window {
    /// Records a request just sent.
    pub(super) fn sent_request(
        &mut self,
        message_id: u32,
        datagram: Bytes,
        kind: RequestKind,
        now: Instant,
        config: &RetransmitConfig,
    ) {
        self.next_request_id = message_id.wrapping_add(1);
        self.outstanding = Some(Outstanding {
            message_id,
            sent_at: now,
            datagram,
            retransmits: 0,
            timeout: config.initial_timeout,
            deadline: now + config.initial_timeout,
            kind,
        });
    }

    /// Records the answer to the peer's request `message_id`.
    pub(super) fn sent_response(&mut self, message_id: u32, datagram: Bytes) {
        self.last_response = Some((message_id, datagram));
        self.peer_next_request_id = message_id.wrapping_add(1);
    }

    /// Whether `message_id` is a response to our outstanding request.
    pub(super) fn answers(&self, message_id: u32) -> bool {
        self.outstanding
            .as_ref()
            .is_some_and(|o| o.message_id == message_id)
    }

    /// The cached answer, if `message_id` is a retransmission of the peer's last request.
    pub(super) fn cached_response(&self, message_id: u32) -> Option<&Bytes> {
        match &self.last_response {
            Some((id, datagram))
                if *id == message_id && message_id.wrapping_add(1) == self.peer_next_request_id =>
            {
                Some(datagram)
            }
            _ => None,
        }
    }

    /// Advances the retransmission timer of the outstanding request (RFC 7296 §2.1:
    /// exponential backoff, a limit on tries).
    pub(super) fn retransmit(&mut self, now: Instant, config: &RetransmitConfig) -> Retransmit {
        let Some(outstanding) = &mut self.outstanding else {
            return Retransmit::NotDue;
        };
        if outstanding.deadline > now {
            return Retransmit::NotDue;
        }
        if outstanding.retransmits >= config.max_retransmits {
            return Retransmit::GiveUp;
        }
        outstanding.retransmits += 1;
        let grown = outstanding
            .timeout
            .mul_f64(config.backoff)
            .min(config.max_timeout);
        outstanding.timeout = grown;
        outstanding.deadline = now + grown;
        Retransmit::Resend(outstanding.datagram.clone())
    }

    /// When the outstanding request is due for retransmission.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.outstanding.as_ref().map(|o| o.deadline)
    }
}
