//! One IKE SA: its state, its exchanges, its timers (RFC 7296 §1, §2).
//!
//! The IKE SA a handle names lives on across rekeys. [`IkeSa`] holds the current SA's SPIs,
//! keys and message window, its Child SAs, the exchanges waiting for the window, and the
//! side channels of a rekey: the old IKE SA until its Delete is done, a redundant new one of
//! a simultaneous rekey until it is deleted (RFC 7296 §2.8, §2.8.2).
//!
//! The state is a closed set of state structs, moved out and replaced on each transition;
//! a message a state does not expect is dropped as [`DropReason::Unexpected`].

mod child;
mod establish;
mod ike_rekey;
mod informational;
mod side;
mod tasks;
mod window;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ipsec_crypto::{ActiveKeyExchange, SecureRandom};
use ipsec_isakmp::{
    DhGroup, ExchangeType, Flags, HeaderView, Identification, Message, Notify, NotifyType, Payload,
    payload::parse_chain,
};

use crate::config::{ChildConfig, EndpointConfig, PeerConfig};
use crate::error::{DropReason, Error};
use crate::event::{CloseReason, Event, IkeKeyLog, IkeSaHandle, Path, Transmit};
use crate::keys::IkeKeys;
use crate::message::{Payloads, needs_marker, wire};
use crate::nat::NatState;
use crate::sk::{Envelope, IkeSuite, SkDirection};

pub(crate) use child::ChildSa;
pub use child::child_keymat_len;
use side::SideChannel;
use tasks::Task;
use window::{Repeat, RequestKind, Retransmit, Window};

/// Length of the nonces this endpoint sends: 32 bytes, at least half the PRF key size of
/// every PRF it offers (RFC 7296 §2.10).
pub(crate) const NONCE_LEN: usize = 32;

/// After this long of TEMPORARY_FAILURE answers the two sides are out of sync and the IKE SA
/// is closed (RFC 7296 §2.25: "after several minutes").
const OUT_OF_SYNC_AFTER: Duration = Duration::from_secs(5 * 60);

/// Random draws before a value that must be fresh (an SPI) is given up on: a working
/// source fails this often with probability below 2^-100.
const DRAWS: usize = 16;

/// What the endpoint lends an IKE SA while it works.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) config: &'a EndpointConfig,
    pub(crate) rng: &'a mut dyn SecureRandom,
    pub(crate) transmits: &'a mut crate::queue::BoundedQueue<Transmit>,
    pub(crate) events: &'a mut crate::queue::BoundedQueue<Event>,
    pub(crate) child_spis: &'a mut HashSet<u32, foldhash::fast::FixedState>,
    /// The established IKE SAs by identities, for INITIAL_CONTACT and `unique`.
    pub(crate) identities: &'a crate::unique::Identities,
    /// Keyed with a secret seed: digests of requests, to recognise retransmissions.
    pub(crate) hasher: &'a foldhash::quality::FixedState,
    /// The endpoint's counters.
    pub(crate) stats: &'a mut crate::endpoint::Stats,
}

impl Ctx<'_> {
    pub(crate) fn random<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0u8; N];
        self.rng.fill(&mut out)?;
        Ok(out)
    }

    pub(crate) fn nonce(&mut self) -> Result<Vec<u8>, Error> {
        Ok(self.random::<NONCE_LEN>()?.to_vec())
    }

    /// A fresh inbound Child SA SPI, not 0–255 (reserved, RFC 4303 §2.1) and not in use.
    /// A random source that keeps giving used or reserved values is broken: after
    /// [`DRAWS`] tries this gives up instead of spinning.
    pub(crate) fn child_spi(&mut self) -> Result<u32, Error> {
        for _ in 0..DRAWS {
            let spi = u32::from_be_bytes(self.random()?);
            if spi > 255 && self.child_spis.insert(spi) {
                return Ok(spi);
            }
        }
        Err(Error::Crypto(ipsec_crypto::CryptoError::RandomSource))
    }

    /// The keyed digest of a request, to tell its retransmissions from other datagrams.
    pub(crate) fn digest(&self, message: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(message)
    }

    /// Answers a retransmission of the peer's last request on `window` from the cache
    /// (RFC 7296 §2.1): `None` if `message_id` is not the last request's, else whether it
    /// was answered or refused as a forgery or one retransmission too many.
    fn repeat(
        &mut self,
        window: &mut Window,
        path: Path,
        message_id: u32,
        message: &[u8],
    ) -> Option<Result<(), DropReason>> {
        match window.repeat(message_id, self.digest(message)) {
            Repeat::No => None,
            Repeat::Resend(datagram) => {
                self.transmits.push_back(Transmit {
                    path,
                    payload: datagram.clone(),
                });
                self.stats.retransmissions_answered += 1;
                Some(Ok(()))
            }
            Repeat::Refused => Some(Err(DropReason::ForgedRetransmission)),
        }
    }

    /// A uniformly random duration in `[0, max]`, for jitter.
    pub(crate) fn jitter(&mut self, max: Duration) -> Result<Duration, Error> {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Ok(Duration::ZERO);
        }
        let draw = u64::from_be_bytes(self.random()?);
        Ok(Duration::from_nanos(draw % nanos.saturating_add(1)))
    }

    fn send(&mut self, path: Path, message: &Bytes) -> Bytes {
        let payload = wire(message, needs_marker(path.local, path.remote));
        self.transmits.push_back(Transmit {
            path,
            payload: payload.clone(),
        });
        payload
    }
}

/// Keys and transcript of an IKE SA once its key exchange is done.
pub(super) struct Secured {
    suite: IkeSuite,
    keys: IkeKeys,
    sk_out: SkDirection,
    sk_in: SkDirection,
    ni: Vec<u8>,
    nr: Vec<u8>,
    /// RealMessage1: the IKE_SA_INIT request as sent (RFC 7296 §2.15); empty after a rekey.
    init_request: Bytes,
    /// RealMessage2: the IKE_SA_INIT response; empty after a rekey.
    init_response: Bytes,
}

impl Secured {
    /// Drops what only authentication needed, once the IKE SA is up and its key log (if
    /// any) taken: SK_p, the raw SK_e and SK_a keys, SKEYSEED and both IKE_SA_INIT messages
    /// (RFC 7296 §2.15's RealMessage1 and 2). The nonces stay: the identity index compares
    /// them (INITIAL_CONTACT, `unique`) and a rekey collision needs the new SA's.
    fn forget_spent_secrets(&mut self) {
        self.keys.keep_only_sk_d();
        self.init_request = Bytes::new();
        self.init_response = Bytes::new();
    }
}

/// An IKE SA that is not (or not yet, or no longer) the current one: its SPIs, keys and
/// window (RFC 7296 §2.8: a rekey briefly leaves two or three IKE SAs between the peers).
pub(super) struct Channel {
    spi_i: u64,
    spi_r: u64,
    /// Whether we are its original initiator (the initiator of the exchange that made it).
    initiator: bool,
    secured: Box<Secured>,
    window: Window,
}

impl Channel {
    fn our_spi(&self) -> u64 {
        if self.initiator {
            self.spi_i
        } else {
            self.spi_r
        }
    }

    fn matches(&self, spi_i: u64, spi_r: u64) -> bool {
        self.spi_i == spi_i && self.spi_r == spi_r
    }

    fn envelope(&self, exchange: ExchangeType, message_id: u32, response: bool) -> Envelope {
        envelope(
            self.spi_i,
            self.spi_r,
            self.initiator,
            exchange,
            message_id,
            response,
        )
    }

    fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        kind: RequestKind,
        exchange: ExchangeType,
        payloads: &[Payload],
    ) -> Result<(), Error> {
        let message_id = self.window.next_request_id;
        let envelope = self.envelope(exchange, message_id, false);
        let message = self.secured.sk_out.seal(envelope, payloads, ctx.rng)?;
        let datagram = ctx.send(path, &message);
        self.window
            .sent_request(message_id, datagram, kind, ctx.now, &ctx.config.retransmit);
        Ok(())
    }

    fn send_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        exchange: ExchangeType,
        message_id: u32,
        payloads: &[Payload],
    ) -> Result<(), Error> {
        let envelope = self.envelope(exchange, message_id, true);
        let message = self.secured.sk_out.seal(envelope, payloads, ctx.rng)?;
        let datagram = ctx.send(path, &message);
        self.window.sent_response(message_id, datagram);
        Ok(())
    }
}

struct InitSent {
    ke: Box<dyn ActiveKeyExchange>,
    nonce: Vec<u8>,
    cookie: Option<Vec<u8>>,
    /// The solution to the puzzle that came with the cookie (RFC 8019 §7.1.2).
    puzzle_solution: Option<ipsec_isakmp::PuzzleSolution>,
    /// What an unprotected reply asked, acted on only if the real response has not come by
    /// the time the request is next due (RFC 7296 §2.21.1).
    noted: Option<Noted>,
    /// The request as last sent (RealMessage1 once answered).
    request: Bytes,
}

/// What an unprotected answer to our IKE_SA_INIT request asked for. Nothing in it is
/// authenticated, so none is acted on at once: a forgery that beats the real response must
/// neither end the exchange nor change the request the responder will see signed in AUTH.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Noted {
    /// An error notification, or an answer that cannot be used: give up for this reason.
    Refusal(CloseReason),
    /// A COOKIE (RFC 7296 §2.6), with the puzzle that came with it (RFC 8019 §7.1.1):
    /// send the request again with it, the puzzle solved.
    Cookie {
        cookie: Vec<u8>,
        puzzle: Option<ipsec_isakmp::PuzzleRequest>,
    },
    /// INVALID_KE_PAYLOAD naming a group we offer (RFC 7296 §1.2): send the request again
    /// with a KE of that group.
    Group(DhGroup),
}

struct AuthSent {
    secured: Secured,
    child_spi: u32,
    child: Arc<ChildConfig>,
}

/// A responder's half-open IKE SA before the Diffie-Hellman: what IKE_SA_INIT left to
/// compute the keys from when IKE_AUTH comes (RFC 7296 §2.14), and the IKE_AUTH puzzle its
/// solution must solve first (RFC 8019 §7.2.4). An attacker that answers cookies and never
/// sends IKE_AUTH costs a key generation, not a Diffie-Hellman.
struct PendingKeys {
    suite: IkeSuite,
    exchange: Box<dyn ActiveKeyExchange>,
    /// The peer's public value is read again from `init_request` (one copy less per
    /// half-open SA: 256 bytes in MODP-2048).
    ni: Vec<u8>,
    nr: Vec<u8>,
    init_request: Bytes,
    init_response: Bytes,
    puzzle: Option<ipsec_isakmp::PuzzleRequest>,
}

enum State {
    InitSent(Box<InitSent>),
    AuthSent(Box<AuthSent>),
    /// Half-open, keys not computed yet.
    KeyPending(Box<PendingKeys>),
    InitReplied(Box<Secured>),
    Established(Box<Secured>),
    /// Our Delete of the IKE SA is on its way.
    Deleting(Box<Secured>),
    Closed,
}

/// One IKE SA.
pub(crate) struct IkeSa {
    pub(crate) handle: IkeSaHandle,
    /// Whether we are the original initiator of the current IKE SA (after a rekey: whether
    /// we initiated the rekey, RFC 7296 §1.3.2).
    pub(crate) initiator: bool,
    pub(crate) peer: Option<Arc<PeerConfig>>,
    /// The Child SA configuration an initiator asks for in IKE_AUTH.
    auth_child: Option<Arc<ChildConfig>>,
    /// The peer's authenticated identity, once IKE_AUTH is done.
    pub(crate) peer_id: Option<Identification>,
    /// When the IKE SA was created (its IKE_SA_INIT request sent or received).
    pub(crate) created_at: Instant,
    /// When it was established, if it was.
    pub(crate) established_at: Option<Instant>,
    /// The peer sent INITIAL_CONTACT in IKE_AUTH (RFC 7296 §2.4).
    pub(crate) initial_contact: bool,
    /// Established during the last call: the endpoint registers it and applies `unique`.
    pub(crate) just_established: bool,
    pub(crate) path: Path,
    /// The peer's address of the first message, which keys the half-open table.
    pub(crate) first_remote: SocketAddr,
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    state: State,
    window: Window,
    last_received: Instant,
    expires: Option<Instant>,
    next_keepalive: Option<Instant>,
    nat: NatState,
    tfc_padding: bool,
    /// Whether the caller knows this SA: always for an initiator (it got the handle), from
    /// IKE_AUTH on for a responder. Half-open SAs come and go unreported.
    announced: bool,
    pub(crate) close_reason: Option<CloseReason>,
    /// Why we are deleting the IKE SA, reported when the Delete is done.
    delete_reason: CloseReason,
    children: Vec<ChildSa>,
    /// Exchanges of ours waiting for the window.
    queue: Vec<Task>,
    /// Exchanges to retry later (after TEMPORARY_FAILURE, RFC 7296 §2.25).
    delayed: Vec<(Instant, Task)>,
    /// Old and redundant IKE SAs of a rekey, until their Delete is done.
    sides: Vec<SideChannel>,
    /// When our IKE SA lifetime asks for a rekey, and when it ends (RFC 7296 §2.8).
    rekey_at: Option<Instant>,
    hard_expiry: Option<Instant>,
    /// Since when the peer has been answering TEMPORARY_FAILURE.
    temporary_failure_since: Option<Instant>,
}

fn envelope(
    spi_i: u64,
    spi_r: u64,
    initiator: bool,
    exchange: ExchangeType,
    message_id: u32,
    response: bool,
) -> Envelope {
    Envelope {
        spi_i,
        spi_r,
        exchange,
        flags: Flags {
            initiator,
            version: false,
            response,
        },
        message_id,
    }
}

impl IkeSa {
    /// The SPI of ours the endpoint finds the current IKE SA by.
    pub(crate) fn our_spi(&self) -> u64 {
        if self.initiator {
            self.spi_i
        } else {
            self.spi_r
        }
    }

    /// Every SPI of ours a message for this IKE SA may carry: the current one, the side
    /// channels', and that of a peer's rekey not yet settled.
    pub(crate) fn our_spis(&self) -> Vec<u64> {
        let mut spis = vec![self.our_spi()];
        spis.extend(self.sides.iter().map(|s| s.channel.our_spi()));
        spis.extend(self.candidate().map(Channel::our_spi));
        spis.retain(|spi| *spi != 0);
        spis
    }

    /// Nothing in progress: no request of ours waiting, none queued or to be retried, no
    /// side channel of a rekey left.
    pub(crate) fn is_idle(&self) -> bool {
        self.window.outstanding.is_none()
            && self.queue.is_empty()
            && self.delayed.is_empty()
            && self.sides.is_empty()
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    pub(crate) fn is_half_open(&self) -> bool {
        matches!(self.state, State::KeyPending(_) | State::InitReplied(_))
    }

    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    /// The IKE SA as a listing shows it.
    pub(crate) fn info(&self) -> crate::event::IkeSaInfo {
        let state = match self.state {
            State::Established(_) => crate::event::IkeSaState::Established,
            State::Deleting(_) | State::Closed => crate::event::IkeSaState::Deleting,
            _ => crate::event::IkeSaState::Connecting,
        };
        crate::event::IkeSaInfo {
            handle: self.handle,
            connection: self.peer.as_ref().map(|p| p.name.clone()),
            state,
            initiator: self.initiator,
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            path: self.path,
            peer_id: self.peer_id.clone(),
            algorithms: self.secured().map(|s| s.suite.algorithms),
            nat: self.nat,
            created_at: self.created_at,
            established_at: self.established_at,
            rekey_at: self.rekey_at,
            expires_at: self.hard_expiry,
            child_sas: self.children.len(),
        }
    }

    /// Files a Child SA under this IKE SA, growing the list by one: most IKE SAs carry one
    /// Child SA, and a gateway holds many IKE SAs.
    fn add_child(&mut self, child: ChildSa) {
        self.children.reserve_exact(1);
        self.children.push(child);
    }

    /// The current IKE SA's nonces, Ni and Nr, once it has keys.
    pub(crate) fn nonces(&self) -> Option<crate::unique::Nonces> {
        self.secured()
            .map(|s| (s.ni.as_slice().into(), s.nr.as_slice().into()))
    }

    /// The identities it is filed under once established: its connection's name, our
    /// identity and the peer's.
    pub(crate) fn identity_key(&self) -> Option<crate::unique::IdentityKey> {
        let (peer, peer_id) = (self.peer.as_ref()?, self.peer_id.as_ref()?);
        Some((peer.name.clone(), peer.local_id.clone(), peer_id.clone()))
    }

    /// Ends the IKE SA at once, without a message (RFC 7296 §2.4: after INITIAL_CONTACT
    /// the other SAs may go "without sending delete notifications").
    pub(crate) fn abandon(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason) {
        if !self.is_closed() {
            self.close(ctx, reason);
        }
    }

    /// The earliest instant something must happen: a retransmission, an expiry, a liveness
    /// check, a NAT-keepalive, a rekey, a retry or a side channel's timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let liveness = match (&self.state, &self.peer, &self.window.outstanding) {
            (State::Established(_), Some(peer), None) => peer
                .liveness_interval
                .and_then(|i| self.last_received.checked_add(i)),
            _ => None,
        };
        let established = self.is_established();
        [
            self.window.deadline(),
            self.liveness_gives_up(),
            self.expires,
            liveness,
            self.next_keepalive,
            self.rekey_at.filter(|_| established),
            self.hard_expiry.filter(|_| established),
            self.delayed
                .iter()
                .map(|(at, _)| *at)
                .min()
                .filter(|_| established),
            self.sides.iter().filter_map(SideChannel::deadline).min(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn base(handle: IkeSaHandle, initiator: bool, path: Path, now: Instant) -> Self {
        Self {
            handle,
            initiator,
            peer: None,
            auth_child: None,
            peer_id: None,
            created_at: now,
            established_at: None,
            initial_contact: false,
            just_established: false,
            path,
            first_remote: path.remote,
            spi_i: 0,
            spi_r: 0,
            state: State::Closed,
            window: Window::default(),
            last_received: now,
            expires: None,
            next_keepalive: None,
            nat: NatState::default(),
            tfc_padding: true,
            announced: initiator,
            close_reason: None,
            delete_reason: CloseReason::LocalDelete,
            children: Vec::new(),
            queue: Vec::new(),
            delayed: Vec::new(),
            sides: Vec::new(),
            rekey_at: None,
            hard_expiry: None,
            temporary_failure_since: None,
        }
    }

    fn envelope(&self, exchange: ExchangeType, message_id: u32, response: bool) -> Envelope {
        envelope(
            self.spi_i,
            self.spi_r,
            self.initiator,
            exchange,
            message_id,
            response,
        )
    }

    fn secured_mut(&mut self) -> Option<&mut Secured> {
        match &mut self.state {
            State::AuthSent(s) => Some(&mut s.secured),
            State::InitReplied(s) | State::Established(s) | State::Deleting(s) => Some(s),
            State::InitSent(_) | State::KeyPending(_) | State::Closed => None,
        }
    }

    fn secured(&self) -> Option<&Secured> {
        match &self.state {
            State::AuthSent(s) => Some(&s.secured),
            State::InitReplied(s) | State::Established(s) | State::Deleting(s) => Some(s),
            State::InitSent(_) | State::KeyPending(_) | State::Closed => None,
        }
    }

    /// Sends a request of ours on the current IKE SA and waits for its response.
    fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: RequestKind,
        exchange: ExchangeType,
        payloads: &[Payload],
    ) -> Result<(), Error> {
        let message_id = self.window.next_request_id;
        let envelope = self.envelope(exchange, message_id, false);
        let message = match self.secured_mut() {
            Some(secured) => secured.sk_out.seal(envelope, payloads, ctx.rng)?,
            None => Bytes::from(plain(envelope, payloads.to_vec())?),
        };
        let datagram = ctx.send(self.path, &message);
        self.window
            .sent_request(message_id, datagram, kind, ctx.now, &ctx.config.retransmit);
        Ok(())
    }

    /// Answers the peer's request `message_id`, keeping the answer for retransmissions
    /// (RFC 7296 §2.1).
    fn send_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        message_id: u32,
        payloads: &[Payload],
    ) -> Result<(), Error> {
        let envelope = self.envelope(exchange, message_id, true);
        let secured = self.secured_mut().ok_or(Error::Internal("no keys"))?;
        let message = secured.sk_out.seal(envelope, payloads, ctx.rng)?;
        let datagram = ctx.send(self.path, &message);
        self.window.sent_response(message_id, datagram);
        Ok(())
    }

    /// Answers the peer's request with one notification, and says so as the drop reason.
    fn refusal(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        message_id: u32,
        notify: Notify,
    ) -> DropReason {
        let kind = notify.notify_type;
        match self.send_response(ctx, exchange, message_id, &[Payload::Notify(notify)]) {
            Ok(()) => DropReason::Refused(kind),
            Err(error) => error.into(),
        }
    }

    fn refuse(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        message_id: u32,
        notify: Notify,
    ) -> Result<(), DropReason> {
        Err(self.refusal(ctx, exchange, message_id, notify))
    }

    fn close(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason) {
        for child in std::mem::take(&mut self.children) {
            ctx.child_spis.remove(&child.inbound_spi);
            ctx.events.push_back(Event::ChildSaDeleted {
                handle: self.handle,
                inbound_spi: child.inbound_spi,
                outbound_spi: child.outbound_spi,
                reason: crate::event::ChildDeleteReason::IkeSaClosed,
            });
        }
        if let State::AuthSent(a) = &self.state {
            ctx.child_spis.remove(&a.child_spi);
        }
        if let Some(outstanding) = self.window.outstanding.take() {
            self.forget_request(ctx, outstanding.kind);
        }
        self.state = State::Closed;
        self.sides.clear();
        self.queue.clear();
        self.delayed.clear();
        self.close_reason = Some(reason);
        if self.announced {
            ctx.events.push_back(Event::IkeSaClosed {
                handle: self.handle,
                reason,
            });
        }
    }

    /// Releases what an abandoned request of ours had reserved.
    fn forget_request(&mut self, ctx: &mut Ctx<'_>, kind: RequestKind) {
        if let RequestKind::CreateChild(exchange) = kind {
            ctx.child_spis.remove(&exchange.inbound_spi);
        }
    }

    fn key_log(&self, ctx: &Ctx<'_>, secured: &Secured) -> Option<Box<IkeKeyLog>> {
        key_log(ctx, self.spi_i, self.spi_r, secured)
    }

    /// Reports the keys of a side channel that never becomes current, for a key log.
    fn log_side_keys(&self, ctx: &mut Ctx<'_>, channel: &Channel) {
        if let Some(keys) = key_log(ctx, channel.spi_i, channel.spi_r, &channel.secured) {
            ctx.events.push_back(Event::IkeSaKeys {
                handle: self.handle,
                keys,
            });
        }
    }

    fn schedule_keepalive(&mut self, ctx: &Ctx<'_>) {
        self.next_keepalive = self
            .nat
            .local_behind_nat
            .then(|| ctx.now + ctx.config.keepalive_interval);
    }

    /// Starts the IKE SA's lifetime clock: a jittered rekey and a hard end (RFC 7296 §2.8,
    /// §2.8.1).
    fn start_lifetime(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let Some(lifetime) = self.peer.as_ref().map(|p| p.ike_lifetime) else {
            return Ok(());
        };
        self.rekey_at = match lifetime.rekey_time {
            Some(rekey) => {
                let max = lifetime.jitter.unwrap_or(rekey / 10).min(rekey);
                let jitter = ctx.jitter(max)?;
                // A lifetime too long for the clock means never.
                ctx.now.checked_add(rekey - jitter)
            }
            None => None,
        };
        self.hard_expiry = lifetime
            .hard_time
            .and_then(|hard| ctx.now.checked_add(hard));
        Ok(())
    }

    /// A datagram for this IKE SA, found by one of its SPIs (RFC 7296 §2.1 – §2.3):
    /// messages of a side channel go there; responses must answer our outstanding request;
    /// requests must be the next one, or a retransmission of the last, answered from the
    /// cache.
    pub(crate) fn handle_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        message: &[u8],
    ) -> Result<(), DropReason> {
        let view = HeaderView::new_checked(message)?;
        let (spi_i, spi_r) = (view.initiator_spi(), view.responder_spi());
        if let Some(index) = self
            .sides
            .iter()
            .position(|s| s.channel.matches(spi_i, spi_r))
        {
            let result = self.handle_side_message(ctx, index, message);
            self.kick(ctx)?;
            return result;
        }
        if self.candidate().is_some_and(|c| c.matches(spi_i, spi_r)) {
            let result = self.handle_candidate_message(ctx, path, message);
            self.kick(ctx)?;
            return result;
        }
        if spi_i != self.spi_i || (self.spi_r != 0 && spi_r != self.spi_r) {
            return Err(DropReason::UnknownSpi);
        }
        let result = self.handle_current_message(ctx, path, message);
        if !self.is_closed() {
            self.kick(ctx)?;
        }
        result
    }

    fn handle_current_message(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        message: &[u8],
    ) -> Result<(), DropReason> {
        let view = HeaderView::new_checked(message)?;
        let exchange = view.exchange_type();
        let message_id = view.message_id();
        let flags = view.flags();
        if flags.initiator == self.initiator {
            // The peer's I bit must be the opposite of ours (RFC 7296 §3.1).
            return Err(DropReason::Unexpected);
        }
        if flags.response {
            if !self.window.answers(message_id) {
                return Err(DropReason::StaleResponse);
            }
            if let State::InitSent(_) = self.state {
                if exchange != ExchangeType::IkeSaInit {
                    return Err(DropReason::Unexpected);
                }
                self.last_received = ctx.now;
                return self.on_init_response(ctx, path, message, view.responder_spi());
            }
            let payloads = self.open(message)?;
            self.last_received = ctx.now;
            self.follow_peer(ctx, path);
            return self.on_response(ctx, exchange, payloads);
        }
        if let Some(answered) = ctx.repeat(&mut self.window, self.path, message_id, message) {
            return answered;
        }
        if message_id != self.window.peer_next_request_id {
            return Err(DropReason::OutOfWindow);
        }
        if exchange == ExchangeType::IkeAuth {
            self.compute_pending_keys(ctx, message)?;
        }
        let opened = self.open(message);
        if matches!(opened, Ok(_) | Err(DropReason::Malformed(_))) {
            // Authentic: its retransmissions will be answered from the cache.
            self.window
                .received_request(message_id, ctx.digest(message));
        }
        let payloads = match opened {
            Ok(payloads) => payloads,
            Err(DropReason::Malformed(error)) => {
                // Authentic but malformed: answer so (RFC 7296 §2.21.1, §2.5).
                let mut data = Vec::new();
                if let ipsec_isakmp::Error::UnsupportedCriticalPayload(kind) = error {
                    data.push(kind);
                }
                self.send_response(
                    ctx,
                    exchange,
                    message_id,
                    &[Payload::Notify(Notify::new(error.notify_type(), &data))],
                )?;
                return Err(DropReason::Malformed(error));
            }
            Err(other) => return Err(other),
        };
        self.last_received = ctx.now;
        self.follow_peer(ctx, path);
        match (exchange, &self.state) {
            (ExchangeType::IkeAuth, State::InitReplied(_)) => {
                self.on_auth_request(ctx, message_id, payloads)
            }
            (ExchangeType::Informational, State::Established(_) | State::Deleting(_)) => {
                self.on_informational_request(ctx, message_id, payloads)
            }
            (ExchangeType::CreateChildSa, State::Established(_)) => {
                self.on_create_child_sa_request(ctx, message_id, payloads)
            }
            (ExchangeType::CreateChildSa, State::Deleting(_)) => {
                // We are closing the IKE SA (RFC 7296 §2.25.2).
                self.refuse(
                    ctx,
                    exchange,
                    message_id,
                    Notify::new(NotifyType::TemporaryFailure, &[]),
                )
            }
            _ => Err(DropReason::Unexpected),
        }
    }

    /// Behind a NAT the peer's address may change; follow the last authenticated message
    /// (RFC 7296 §2.23), and tell the caller once the IKE SA is up, for its Child SAs' ESP.
    fn follow_peer(&mut self, ctx: &mut Ctx<'_>, path: Path) {
        if self.nat.encapsulate() && path != self.path {
            self.path = path;
            if self.established_at.is_some() {
                ctx.events.push_back(Event::PathChanged {
                    handle: self.handle,
                    path,
                });
            }
        }
    }

    /// Verifies, decrypts and decodes the SK payload of `message`.
    fn open(&self, message: &[u8]) -> Result<Payloads, DropReason> {
        let secured = self.secured().ok_or(DropReason::Unexpected)?;
        open_with(&secured.sk_in, message)
    }

    fn on_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let outstanding = self
            .window
            .outstanding
            .take()
            .ok_or(DropReason::StaleResponse)?;
        match (outstanding.kind, exchange) {
            (RequestKind::IkeAuth, ExchangeType::IkeAuth) => self.on_auth_response(ctx, payloads),
            (RequestKind::CreateChild(pending), ExchangeType::CreateChildSa) => {
                self.on_create_child_response(ctx, *pending, payloads)
            }
            (RequestKind::RekeyIke(pending), ExchangeType::CreateChildSa) => {
                self.on_ike_rekey_response(ctx, *pending, payloads)
            }
            (RequestKind::DeleteIke, ExchangeType::Informational) => {
                self.close(ctx, self.delete_reason);
                Ok(())
            }
            (RequestKind::DeleteChild { inbound_spi }, ExchangeType::Informational) => {
                self.remove_child(ctx, inbound_spi, false);
                Ok(())
            }
            (RequestKind::Liveness, ExchangeType::Informational) => Ok(()),
            (kind, _) => {
                self.window.outstanding = Some(window::Outstanding {
                    kind,
                    ..outstanding
                });
                Err(DropReason::Unexpected)
            }
        }
    }

    /// Notes a TEMPORARY_FAILURE answer; after several minutes of them the SA is closed
    /// (RFC 7296 §2.25). Returns whether the SA is still open.
    fn note_temporary_failure(&mut self, ctx: &mut Ctx<'_>) -> bool {
        let since = *self.temporary_failure_since.get_or_insert(ctx.now);
        if ctx.now.saturating_duration_since(since) >= OUT_OF_SYNC_AFTER {
            self.close(ctx, CloseReason::OutOfSync);
            return false;
        }
        true
    }

    /// Schedules `task` again after the random wait TEMPORARY_FAILURE asks for (RFC 7296
    /// §2.25: "MUST NOT immediately retry").
    fn retry_later(&mut self, ctx: &mut Ctx<'_>, task: Task) -> Result<(), Error> {
        let (min, max) = ctx.config.retry_delay;
        let wait = min + ctx.jitter(max.saturating_sub(min))?;
        if let Some(at) = ctx.now.checked_add(wait) {
            self.delayed.push((at, task));
        }
        Ok(())
    }

    /// When an unanswered liveness check declares the peer dead, if the configuration
    /// gives it less time than the retransmissions would (swanctl's `dpd_timeout`).
    fn liveness_gives_up(&self) -> Option<Instant> {
        let outstanding = self.window.outstanding.as_ref()?;
        if !matches!(outstanding.kind, RequestKind::Liveness) {
            return None;
        }
        let timeout = self.peer.as_ref()?.liveness_timeout?;
        outstanding.sent_at.checked_add(timeout)
    }

    /// Acts on every deadline that has passed.
    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let now = ctx.now;
        if self.expires.is_some_and(|t| t <= now) {
            self.close(ctx, CloseReason::EstablishmentTimeout);
            return Ok(());
        }
        if self.liveness_gives_up().is_some_and(|t| t <= now) {
            // RFC 7296 §2.4: no answer to a liveness check: the peer is dead.
            self.close(ctx, CloseReason::DeadPeer);
            return Ok(());
        }
        if self.init_due(ctx)? {
            return Ok(());
        }
        match self.window.retransmit(now, &ctx.config.retransmit) {
            Retransmit::NotDue => {}
            Retransmit::Resend(datagram) => ctx.transmits.push_back(Transmit {
                path: self.path,
                payload: datagram,
            }),
            Retransmit::GiveUp => {
                // A noted answer to IKE_SA_INIT was acted on when the request fell due.
                let reason = match &self.state {
                    State::Deleting(_) => self.delete_reason,
                    State::Established(_) => CloseReason::DeadPeer,
                    _ => CloseReason::EstablishmentTimeout,
                };
                self.close(ctx, reason);
                return Ok(());
            }
        }
        self.side_timeouts(ctx);
        if self.next_keepalive.is_some_and(|t| t <= now) {
            ctx.transmits.push_back(Transmit {
                path: self.path,
                payload: Bytes::from_static(&[ipsec_isakmp::NAT_KEEPALIVE]),
            });
            self.next_keepalive = Some(now + ctx.config.keepalive_interval);
        }
        if self.is_established() {
            self.lifetime_timeouts(ctx);
            let due: Vec<Task> = {
                let (due, later): (Vec<_>, Vec<_>) =
                    self.delayed.drain(..).partition(|(at, _)| *at <= now);
                self.delayed = later;
                due.into_iter().map(|(_, task)| task).collect()
            };
            for task in due {
                self.enqueue(task);
            }
            let liveness_due = match (&self.peer, &self.window.outstanding) {
                (Some(peer), None) => peer
                    .liveness_interval
                    .and_then(|i| self.last_received.checked_add(i))
                    .is_some_and(|t| t <= now),
                _ => false,
            };
            if liveness_due {
                self.enqueue(Task::Liveness);
            }
        }
        if !self.is_closed() {
            self.kick(ctx)?;
        }
        Ok(())
    }

    /// The IKE SA's own lifetime: a rekey when it is due, a Delete when the hard limit
    /// passed without one (RFC 7296 §2.8).
    fn lifetime_timeouts(&mut self, ctx: &mut Ctx<'_>) {
        let now = ctx.now;
        if self.hard_expiry.is_some_and(|t| t <= now) {
            self.hard_expiry = None;
            self.rekey_at = None;
            self.delete_reason = CloseReason::LifetimeExpired;
            self.enqueue(Task::DeleteIke);
            return;
        }
        if self.rekey_at.is_some_and(|t| t <= now) {
            self.rekey_at = None;
            self.enqueue(Task::RekeyIke {
                group: None,
                attempts: 0,
            });
        }
    }
}

/// The keys of the IKE SA with `spi_i` and `spi_r`, if the key log is on.
fn key_log(ctx: &Ctx<'_>, spi_i: u64, spi_r: u64, secured: &Secured) -> Option<Box<IkeKeyLog>> {
    ctx.config.key_log.then(|| {
        Box::new(IkeKeyLog {
            spi_i,
            spi_r,
            algorithms: secured.suite.algorithms,
            sk_ei: secured.keys.sk_ei.clone(),
            sk_er: secured.keys.sk_er.clone(),
            sk_ai: secured.keys.sk_ai.clone(),
            sk_ar: secured.keys.sk_ar.clone(),
            skeyseed: secured.keys.skeyseed.clone(),
            sk_d: secured.keys.sk_d.clone(),
            sk_pi: secured.keys.sk_pi.clone(),
            sk_pr: secured.keys.sk_pr.clone(),
        })
    })
}

/// Verifies, decrypts and decodes the SK payload of `message` with `sk_in`.
fn open_with(sk_in: &SkDirection, message: &[u8]) -> Result<Payloads, DropReason> {
    let (first, plaintext) = sk_in.open(message).map_err(|e| match e {
        crate::sk::SkError::Missing => DropReason::MissingPayload,
        _ => DropReason::IntegrityCheckFailed,
    })?;
    Ok(Payloads::sort(parse_chain(first, &plaintext)?))
}

/// The IDi/IDr payload body that AUTH covers: RestOfIDPayload (RFC 7296 §2.15).
fn id_body(id: &Identification) -> Result<Vec<u8>, Error> {
    let mut body = vec![0; id.buffer_len()];
    id.emit(&mut body)?;
    Ok(body)
}

/// An unprotected message: IKE_SA_INIT.
fn plain(envelope: Envelope, payloads: Vec<Payload>) -> Result<Vec<u8>, Error> {
    Ok(Message {
        initiator_spi: envelope.spi_i,
        responder_spi: envelope.spi_r,
        minor_version: ipsec_isakmp::MINOR_VERSION,
        exchange_type: envelope.exchange,
        flags: envelope.flags,
        message_id: envelope.message_id,
        payloads,
    }
    .to_vec()?)
}

/// Whether the peer's KE payload holds a public value of a group we have that passes its
/// checks (RFC 6989, RFC 7748 §6.1), run without any secret or exponentiation.
pub(crate) fn acceptable_public(
    provider: &ipsec_crypto::CryptoProvider,
    ke: &ipsec_isakmp::KeyExchange,
) -> bool {
    provider
        .key_exchange(ke.group.value())
        .is_some_and(|kx| kx.check_peer_public(&ke.data).is_ok())
}

/// A random IKE SPI, never 0 (RFC 7296 §3.1); a source giving only zeros is broken.
fn nonzero_spi(ctx: &mut Ctx<'_>) -> Result<u64, Error> {
    for _ in 0..DRAWS {
        let spi = u64::from_be_bytes(ctx.random()?);
        if spi != 0 {
            return Ok(spi);
        }
    }
    Err(Error::Crypto(ipsec_crypto::CryptoError::RandomSource))
}

fn start_ke(ctx: &mut Ctx<'_>, group: DhGroup) -> Result<Box<dyn ActiveKeyExchange>, Error> {
    let algorithm = ctx
        .config
        .provider
        .key_exchange(group.value())
        .ok_or(Error::Internal("DH group not in provider"))?;
    Ok(algorithm.start(ctx.rng)?)
}

/// Keys both SK directions from `keys` (RFC 7296 §2.14).
#[allow(clippy::too_many_arguments)]
fn secure_with(
    suite: IkeSuite,
    keys: IkeKeys,
    initiator: bool,
    ni: Vec<u8>,
    nr: Vec<u8>,
    init_request: Bytes,
    init_response: Bytes,
) -> Result<Secured, Error> {
    // What we send is keyed per message (our own messages only); what we receive is keyed
    // once, so that checking a message not yet authenticated neither keys nor allocates.
    let ((out_e, out_a), (in_e, in_a)) = if initiator {
        ((&keys.sk_ei, &keys.sk_ai), (&keys.sk_er, &keys.sk_ar))
    } else {
        ((&keys.sk_er, &keys.sk_ar), (&keys.sk_ei, &keys.sk_ai))
    };
    let sk_out = suite.key_per_message(out_e.expose(), out_a.expose())?;
    let sk_in = suite.key(in_e.expose(), in_a.expose())?;
    Ok(Secured {
        suite,
        keys,
        sk_out,
        sk_in,
        ni,
        nr,
        init_request,
        init_response,
    })
}

/// The lowest nonce rule of simultaneous rekeys (RFC 7296 §2.8.1): nonces compare octet
/// by octet, and a nonce that ends first (a prefix of the other) is the lower. Returns
/// whether the exchange with nonces `ours` holds the lowest of the four, so that the SA it
/// created is the redundant one. Should the lowest nonce appear in both, the next lowest
/// decides, and a full tie goes against the exchange of the IKE SA's original responder
/// (`tie_breaker_loses`).
pub(crate) fn holds_lowest_nonce(
    ours: [&[u8]; 2],
    theirs: [&[u8]; 2],
    tie_breaker_loses: bool,
) -> bool {
    fn sorted(mut pair: [&[u8]; 2]) -> [&[u8]; 2] {
        pair.sort();
        pair
    }
    // `<[u8]>::cmp` is the octet-by-octet order with a prefix lower, as §2.8.1 says.
    match sorted(ours).cmp(&sorted(theirs)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => tie_breaker_loses,
    }
}

#[cfg(test)]
mod tests {
    use super::holds_lowest_nonce;

    #[test]
    fn the_lowest_of_four_nonces_is_found_octet_by_octet() {
        // RFC 7296 §2.8.1: "00 FF" is lower than "01", and a prefix is lower.
        assert!(holds_lowest_nonce(
            [&[0x00, 0xff], &[0x09]],
            [&[0x01], &[0x05]],
            false
        ));
        assert!(!holds_lowest_nonce(
            [&[0x02, 0x00], &[0x09]],
            [&[0x02], &[0x03]],
            true
        ));
        assert!(holds_lowest_nonce(
            [&[0x02, 0x00], &[0x01, 0x01]],
            [&[0x01, 0x01, 0x00], &[0x09]],
            false
        ));
        // Equal lowest: the other nonces decide.
        assert!(holds_lowest_nonce(
            [&[0x01], &[0x02]],
            [&[0x01], &[0x03]],
            false
        ));
        assert!(holds_lowest_nonce([&[1], &[2]], [&[1], &[2]], true));
        assert!(!holds_lowest_nonce([&[1], &[2]], [&[1], &[2]], false));
    }
}
