//! The message window of one IKE SA (RFC 7296 §2.1 – §2.3): our next request's ID and the
//! request waiting for its response, the peer's next request's ID and the cached answer
//! to its last one. This endpoint keeps a window of one both ways.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::child::ChildExchange;
use super::ike_rekey::IkeRekeyExchange;
use crate::config::RetransmitConfig;

/// `now + wait`, or `now` itself for a wait too long to add (a validated configuration has
/// none): a deadline is never a panic.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait).unwrap_or(now)
}

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

/// Times one response is sent again for retransmissions of its request: more than any
/// peer's retransmission schedule asks for (charon's default is 5), few enough that a
/// replayed request cannot make us a reflector (RFC 7296 §2.1).
const RESENDS_PER_RESPONSE: u8 = 12;

/// What a request with the message ID of the last one answered is.
pub(super) enum Repeat<'a> {
    /// Not that ID: a new request, or out of the window.
    No,
    /// A retransmission: send this again.
    Resend(&'a Bytes),
    /// That ID, but not the request answered (its bytes differ), or retransmitted more
    /// often than a peer would: answering could only reflect traffic at the peer.
    Refused,
}

#[derive(Default)]
pub(super) struct Window {
    pub(super) next_request_id: u32,
    pub(super) outstanding: Option<Outstanding>,
    pub(super) peer_next_request_id: u32,
    pub(super) last_response: Option<(u32, Bytes)>,
    /// The ID and the keyed digest of the peer's last authentic request, to tell its
    /// retransmissions from forgeries that reuse its message ID.
    pub(super) last_request: Option<(u32, u64)>,
    /// Times the last response was sent again.
    resends: u8,
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
            deadline: later(now, config.initial_timeout),
            kind,
        });
    }

    /// Records the peer's authentic request `message_id`, by its digest.
    pub(super) fn received_request(&mut self, message_id: u32, digest: u64) {
        self.last_request = Some((message_id, digest));
    }

    /// Records the answer to the peer's request `message_id`.
    pub(super) fn sent_response(&mut self, message_id: u32, datagram: Bytes) {
        self.last_response = Some((message_id, datagram));
        self.peer_next_request_id = message_id.wrapping_add(1);
        self.resends = 0;
    }

    /// Whether `message_id` is a response to our outstanding request.
    pub(super) fn answers(&self, message_id: u32) -> bool {
        self.outstanding
            .as_ref()
            .is_some_and(|o| o.message_id == message_id)
    }

    /// Whether the request `message_id` with `digest` is a retransmission of the peer's last
    /// one, to be answered from the cache (RFC 7296 §2.1), and counts the resend.
    pub(super) fn repeat(&mut self, message_id: u32, digest: u64) -> Repeat<'_> {
        let Some((id, datagram)) = &self.last_response else {
            return Repeat::No;
        };
        if *id != message_id || message_id.wrapping_add(1) != self.peer_next_request_id {
            return Repeat::No;
        }
        let same = self.last_request == Some((message_id, digest));
        if !same || self.resends >= RESENDS_PER_RESPONSE {
            return Repeat::Refused;
        }
        self.resends += 1;
        Repeat::Resend(datagram)
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
        let grown = Duration::try_from_secs_f64(outstanding.timeout.as_secs_f64() * config.backoff)
            .unwrap_or(config.max_timeout)
            .min(config.max_timeout);
        outstanding.timeout = grown;
        outstanding.deadline = later(now, grown);
        Retransmit::Resend(outstanding.datagram.clone())
    }

    /// When the outstanding request is due for retransmission.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.outstanding.as_ref().map(|o| o.deadline)
    }
}
