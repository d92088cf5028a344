//! One IKE SA: its state, its exchanges, its timers (RFC 7296 §1, §2).
//!
//! The state is a closed set of state structs, moved out and replaced on each transition;
//! a message a state does not expect is dropped as [`DropReason::Unexpected`].

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ipsec_crypto::{ActiveKeyExchange, SecretBytes, SecureRandom, constant_time_eq};
use ipsec_isakmp::{
    AuthMethod, Delete, DhGroup, ExchangeType, Flags, HeaderView, Identification, KeyExchange,
    Message, Nonce, Notify, NotifyType, Payload, ProtocolId, Spi, TrafficSelector,
    TrafficSelectors, payload::parse_chain,
};

use crate::auth::psk_auth;
use crate::config::{EndpointConfig, Mode, PeerConfig};
use crate::error::{DropReason, Error};
use crate::event::{ChildSaReady, CloseReason, Event, IkeKeyLog, IkeSaHandle, Path, Transmit};
use crate::keys::{IkeKeys, child_keymat, derive_ike_keys};
use crate::message::{Payloads, needs_marker, wire};
use crate::nat::{NatState, nat_detection_hash};
use crate::proposal::{self, ChildAlgorithms, IkeAlgorithms};
use crate::sk::{Envelope, IkeSuite, SkDirection};
use crate::ts;

/// Length of the nonces this endpoint sends: 32 bytes, at least half the PRF key size of
/// every PRF it offers (RFC 7296 §2.10).
pub(crate) const NONCE_LEN: usize = 32;

/// IKE_SA_INIT retries after COOKIE or INVALID_KE_PAYLOAD before giving up.
const MAX_INIT_RETRIES: u32 = 5;

/// The hash algorithms announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): SHA2-256, -384,
/// -512.
const SIGNATURE_HASHES: [u8; 6] = [0, 2, 0, 3, 0, 4];

/// What the endpoint lends an IKE SA while it works.
pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) config: &'a EndpointConfig,
    pub(crate) rng: &'a mut dyn SecureRandom,
    pub(crate) transmits: &'a mut VecDeque<Transmit>,
    pub(crate) events: &'a mut VecDeque<Event>,
    pub(crate) child_spis: &'a mut HashSet<u32, foldhash::fast::FixedState>,
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
    pub(crate) fn child_spi(&mut self) -> Result<u32, Error> {
        loop {
            let spi = u32::from_be_bytes(self.random()?);
            if spi > 255 && self.child_spis.insert(spi) {
                return Ok(spi);
            }
        }
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

/// What a request of ours was for, to act on its response.
#[derive(Debug)]
enum RequestKind {
    IkeSaInit,
    IkeAuth,
    DeleteChild { inbound_spi: u32 },
    DeleteIke,
    Liveness,
}

/// A request waiting for its response (RFC 7296 §2.1: one at a time here).
#[derive(Debug)]
struct Outstanding {
    message_id: u32,
    datagram: Bytes,
    retransmits: u32,
    timeout: Duration,
    deadline: Instant,
    kind: RequestKind,
}

/// Keys and transcript shared by every state after IKE_SA_INIT.
struct Secured {
    suite: IkeSuite,
    keys: IkeKeys,
    sk_out: SkDirection,
    sk_in: SkDirection,
    ni: Vec<u8>,
    nr: Vec<u8>,
    /// RealMessage1: the IKE_SA_INIT request as sent (RFC 7296 §2.15).
    init_request: Bytes,
    /// RealMessage2: the IKE_SA_INIT response.
    init_response: Bytes,
}

struct InitSent {
    ke: Box<dyn ActiveKeyExchange>,
    nonce: Vec<u8>,
    cookie: Option<Vec<u8>>,
    retries: u32,
    /// The request as last sent (RealMessage1 once answered).
    request: Bytes,
}

struct AuthSent {
    secured: Secured,
    child_spi: u32,
}

struct InitReplied {
    secured: Secured,
}

/// An installed Child SA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChildSa {
    pub(crate) inbound_spi: u32,
    pub(crate) outbound_spi: u32,
}

struct Established {
    secured: Secured,
    children: Vec<ChildSa>,
}

enum State {
    InitSent(Box<InitSent>),
    AuthSent(Box<AuthSent>),
    InitReplied(Box<InitReplied>),
    Established(Box<Established>),
    /// Our Delete of the IKE SA is on its way.
    Deleting(Box<Established>),
    Closed,
}

/// One IKE SA.
pub(crate) struct IkeSa {
    pub(crate) handle: IkeSaHandle,
    pub(crate) initiator: bool,
    pub(crate) peer: Option<Arc<PeerConfig>>,
    pub(crate) path: Path,
    /// The peer's address of the first message, which keys the half-open table.
    pub(crate) first_remote: SocketAddr,
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    state: State,
    next_request_id: u32,
    outstanding: Option<Outstanding>,
    peer_next_request_id: u32,
    last_response: Option<(u32, Bytes)>,
    last_received: Instant,
    expires: Option<Instant>,
    next_keepalive: Option<Instant>,
    nat: NatState,
    tfc_padding: bool,
    /// Whether the caller knows this SA: always for an initiator (it got the handle), from
    /// IKE_AUTH on for a responder. Half-open SAs come and go unreported.
    announced: bool,
    pub(crate) close_reason: Option<CloseReason>,
}

/// The SPI of ours the endpoint finds this SA by.
impl IkeSa {
    pub(crate) fn our_spi(&self) -> u64 {
        if self.initiator {
            self.spi_i
        } else {
            self.spi_r
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.state, State::Closed)
    }

    pub(crate) fn is_half_open(&self) -> bool {
        matches!(self.state, State::InitReplied(_))
    }

    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_))
    }

    /// The Child SAs, once established.
    pub(crate) fn children(&self) -> &[ChildSa] {
        match &self.state {
            State::Established(e) | State::Deleting(e) => &e.children,
            _ => &[],
        }
    }

    /// The earliest instant something must happen: a retransmission, an expiry, a liveness
    /// check or a NAT-keepalive.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        let liveness = match (&self.state, &self.peer, &self.outstanding) {
            (State::Established(_), Some(peer), None) => peer
                .liveness_interval
                .and_then(|i| self.last_received.checked_add(i)),
            _ => None,
        };
        [
            self.outstanding.as_ref().map(|o| o.deadline),
            self.expires,
            liveness,
            self.next_keepalive,
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
            path,
            first_remote: path.remote,
            spi_i: 0,
            spi_r: 0,
            state: State::Closed,
            next_request_id: 0,
            outstanding: None,
            peer_next_request_id: 0,
            last_response: None,
            last_received: now,
            expires: None,
            next_keepalive: None,
            nat: NatState::default(),
            tfc_padding: true,
            announced: initiator,
            close_reason: None,
        }
    }

    fn flags(&self, response: bool) -> Flags {
        Flags {
            initiator: self.initiator,
            version: false,
            response,
        }
    }

    fn envelope(&self, exchange: ExchangeType, message_id: u32, response: bool) -> Envelope {
        Envelope {
            spi_i: self.spi_i,
            spi_r: self.spi_r,
            exchange,
            flags: self.flags(response),
            message_id,
        }
    }

    fn secured_mut(&mut self) -> Option<&mut Secured> {
        match &mut self.state {
            State::AuthSent(s) => Some(&mut s.secured),
            State::InitReplied(s) => Some(&mut s.secured),
            State::Established(s) | State::Deleting(s) => Some(&mut s.secured),
            State::InitSent(_) | State::Closed => None,
        }
    }

    fn secured(&self) -> Option<&Secured> {
        match &self.state {
            State::AuthSent(s) => Some(&s.secured),
            State::InitReplied(s) => Some(&s.secured),
            State::Established(s) | State::Deleting(s) => Some(&s.secured),
            State::InitSent(_) | State::Closed => None,
        }
    }

    /// Sends a request of ours and waits for its response.
    fn send_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: RequestKind,
        exchange: ExchangeType,
        payloads: &[Payload],
    ) -> Result<(), Error> {
        let message_id = self.next_request_id;
        let envelope = self.envelope(exchange, message_id, false);
        let message = match self.secured_mut() {
            Some(secured) => secured.sk_out.seal(envelope, payloads, ctx.rng)?,
            None => Bytes::from(plain(envelope, payloads.to_vec())?),
        };
        self.next_request_id = message_id.wrapping_add(1);
        let datagram = ctx.send(self.path, &message);
        let timeout = ctx.config.retransmit.initial_timeout;
        self.outstanding = Some(Outstanding {
            message_id,
            datagram,
            retransmits: 0,
            timeout,
            deadline: ctx.now + timeout,
            kind,
        });
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
        self.last_response = Some((message_id, datagram));
        self.peer_next_request_id = message_id.wrapping_add(1);
        Ok(())
    }

    fn close(&mut self, ctx: &mut Ctx<'_>, reason: CloseReason) {
        if let State::Established(e) | State::Deleting(e) =
            std::mem::replace(&mut self.state, State::Closed)
        {
            for child in &e.children {
                ctx.child_spis.remove(&child.inbound_spi);
                ctx.events.push_back(Event::ChildSaDeleted {
                    handle: self.handle,
                    inbound_spi: child.inbound_spi,
                    outbound_spi: child.outbound_spi,
                });
            }
        }
        if let State::AuthSent(a) = &self.state {
            ctx.child_spis.remove(&a.child_spi);
        }
        self.state = State::Closed;
        self.outstanding = None;
        self.close_reason = Some(reason);
        if self.announced {
            ctx.events.push_back(Event::IkeSaClosed {
                handle: self.handle,
                reason,
            });
        }
    }

    // ---------------------------------------------------------------- initiator

    /// Starts an IKE SA as initiator: the IKE_SA_INIT request (RFC 7296 §1.2).
    pub(crate) fn initiate(
        ctx: &mut Ctx<'_>,
        handle: IkeSaHandle,
        peer: Arc<PeerConfig>,
        path: Path,
    ) -> Result<Self, Error> {
        let group = peer
            .ike_proposals
            .first()
            .and_then(|p| p.dh.first())
            .copied()
            .ok_or(Error::Internal("no DH group"))?;
        let mut sa = Self::base(handle, true, path, ctx.now);
        sa.spi_i = nonzero_spi(ctx)?;
        sa.peer = Some(peer);
        sa.expires = Some(ctx.now + ctx.config.establish_timeout);
        let ke = start_ke(ctx, group)?;
        let nonce = ctx.nonce()?;
        sa.state = State::InitSent(Box::new(InitSent {
            ke,
            nonce,
            cookie: None,
            retries: 0,
            request: Bytes::new(),
        }));
        sa.send_init_request(ctx)?;
        Ok(sa)
    }

    fn send_init_request(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let State::InitSent(init) = &self.state else {
            return Err(Error::Internal("not in InitSent"));
        };
        let mut payloads = Vec::new();
        if let Some(cookie) = &init.cookie {
            payloads.push(Payload::Notify(Notify::new(NotifyType::Cookie, cookie)));
        }
        payloads.push(Payload::SecurityAssociation(proposal::ike_sa_payload(
            &peer.ike_proposals,
            Spi::None,
        )));
        payloads.push(Payload::KeyExchange(KeyExchange {
            group: DhGroup::from(init.ke.group()),
            data: init.ke.public_value().to_vec(),
        }));
        payloads.push(Payload::Nonce(Nonce {
            data: init.nonce.clone(),
        }));
        let source = if peer.force_udp_encapsulation {
            // A hash no address gives: the peer then sees a NAT and encapsulates.
            ctx.random::<20>()?
        } else {
            nat_detection_hash(self.spi_i, 0, self.path.local)
        };
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::NatDetectionSourceIp,
            &source,
        )));
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::NatDetectionDestinationIp,
            &nat_detection_hash(self.spi_i, 0, self.path.remote),
        )));
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::SignatureHashAlgorithms,
            &SIGNATURE_HASHES,
        )));
        self.next_request_id = 0;
        self.send_request(
            ctx,
            RequestKind::IkeSaInit,
            ExchangeType::IkeSaInit,
            &payloads,
        )?;
        let message = self
            .outstanding
            .as_ref()
            .map(|o| strip_marker(&o.datagram))
            .unwrap_or_default();
        if let State::InitSent(init) = &mut self.state {
            init.request = message;
        }
        Ok(())
    }

    fn on_init_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        message: &[u8],
        spi_r: u64,
    ) -> Result<(), DropReason> {
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let payloads = Payloads::sort(Message::parse(message)?.payloads);
        let State::InitSent(mut init) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(DropReason::Unexpected);
        };
        // COOKIE: retry with it, all else unchanged (RFC 7296 §2.6).
        if let Some(cookie) = payloads.notify(NotifyType::Cookie) {
            return self.retry_init(ctx, init, Some(cookie.data.clone()), None);
        }
        if let Some(notify) = payloads.notify(NotifyType::InvalidKePayload) {
            let wanted = notify.requested_group();
            let offered =
                wanted.is_some_and(|g| peer.ike_proposals.iter().any(|p| p.dh.contains(&g)));
            if let (Some(group), true) = (wanted, offered) {
                let cookie = init.cookie.take();
                return self.retry_init(ctx, init, cookie, Some(group));
            }
            self.close(ctx, CloseReason::NoProposalChosen);
            return Ok(());
        }
        if let Some(error) = payloads.error() {
            let reason = match error {
                NotifyType::NoProposalChosen => CloseReason::NoProposalChosen,
                other => CloseReason::PeerError(other),
            };
            self.close(ctx, reason);
            return Ok(());
        }
        let (Some(sa), Some(ke), Some(nonce)) = (&payloads.sa, &payloads.ke, &payloads.nonce)
        else {
            self.close(ctx, CloseReason::ProtocolError);
            return Ok(());
        };
        let Ok(algorithms) = proposal::accept_chosen_ike(&peer.ike_proposals, sa) else {
            self.close(ctx, CloseReason::ProtocolError);
            return Ok(());
        };
        if spi_r == 0 || ke.group != algorithms.dh || ke.group.value() != init.ke.group() {
            self.close(ctx, CloseReason::ProtocolError);
            return Ok(());
        }
        self.spi_r = spi_r;
        let shared = match init.ke.complete(&ke.data) {
            Ok(shared) => shared,
            Err(_) => {
                self.close(ctx, CloseReason::ProtocolError);
                return Ok(());
            }
        };
        let Some(suite) = IkeSuite::lookup(ctx.config.provider, algorithms) else {
            self.close(ctx, CloseReason::ProtocolError);
            return Ok(());
        };
        let secured = secure(
            suite,
            true,
            &shared,
            init.nonce.clone(),
            nonce.data.clone(),
            self.spi_i,
            self.spi_r,
            init.request.clone(),
            Bytes::copy_from_slice(message),
        )?;
        self.nat = detect_nat(
            &payloads,
            self.spi_i,
            self.spi_r,
            path,
            peer.force_udp_encapsulation,
        );
        if self.nat.encapsulate() {
            self.path = Path {
                local: SocketAddr::new(self.path.local.ip(), ctx.config.nat_t_port),
                remote: SocketAddr::new(self.path.remote.ip(), peer.remote_nat_t_port),
            };
        }
        self.outstanding = None;
        let child_spi = ctx.child_spi()?;
        self.state = State::AuthSent(Box::new(AuthSent { secured, child_spi }));
        self.send_auth_request(ctx, &peer, child_spi)?;
        self.schedule_keepalive(ctx);
        Ok(())
    }

    fn retry_init(
        &mut self,
        ctx: &mut Ctx<'_>,
        mut init: Box<InitSent>,
        cookie: Option<Vec<u8>>,
        group: Option<DhGroup>,
    ) -> Result<(), DropReason> {
        init.retries += 1;
        if init.retries > MAX_INIT_RETRIES {
            self.close(ctx, CloseReason::EstablishmentTimeout);
            return Ok(());
        }
        if let Some(group) = group {
            init.ke = start_ke(ctx, group)?;
        }
        init.cookie = cookie;
        self.outstanding = None;
        self.state = State::InitSent(init);
        self.send_init_request(ctx)?;
        Ok(())
    }

    fn send_auth_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        child_spi: u32,
    ) -> Result<(), Error> {
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        let id_body = id_body(&peer.local_id)?;
        let auth = psk_auth(
            secured.suite.prf,
            peer.psk.expose(),
            &secured.init_request,
            &secured.nr,
            secured.keys.sk_pi.expose(),
            &id_body,
        )?;
        let mut payloads = vec![Payload::IdInitiator(peer.local_id.clone())];
        if peer.initial_contact {
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::InitialContact,
                &[],
            )));
        }
        if let Some(remote) = &peer.remote_id {
            payloads.push(Payload::IdResponder(remote.clone()));
        }
        payloads.push(Payload::Authentication(ipsec_isakmp::Authentication {
            method: AuthMethod::SharedKeyMic,
            data: auth.expose().to_vec(),
        }));
        payloads.extend(child_request_payloads(peer, child_spi));
        self.send_request(ctx, RequestKind::IkeAuth, ExchangeType::IkeAuth, &payloads)
    }

    fn on_auth_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let State::AuthSent(auth_sent) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(DropReason::Unexpected);
        };
        let AuthSent { secured, child_spi } = *auth_sent;
        let (Some(id_r), Some(auth)) = (&payloads.id_r, &payloads.auth) else {
            ctx.child_spis.remove(&child_spi);
            let reason = match payloads.error() {
                Some(NotifyType::AuthenticationFailed) => CloseReason::AuthenticationFailed,
                Some(NotifyType::NoProposalChosen) => CloseReason::NoProposalChosen,
                Some(other) => CloseReason::PeerError(other),
                None => CloseReason::ProtocolError,
            };
            self.close(ctx, reason);
            return Ok(());
        };
        let expected = psk_auth(
            secured.suite.prf,
            peer.psk.expose(),
            &secured.init_response,
            &secured.ni,
            secured.keys.sk_pr.expose(),
            &id_body(id_r)?,
        )?;
        let identity_ok = peer.remote_id.as_ref().is_none_or(|want| want == id_r);
        if auth.method != AuthMethod::SharedKeyMic
            || !constant_time_eq(expected.expose(), &auth.data)
            || !identity_ok
        {
            ctx.child_spis.remove(&child_spi);
            self.close(ctx, CloseReason::AuthenticationFailed);
            return Ok(());
        }
        self.outstanding = None;
        self.expires = None;
        self.tfc_padding = !payloads.has(NotifyType::EspTfcPaddingNotSupported);
        ctx.events
            .push_back(self.established_event(ctx, &secured, id_r.clone()));
        let mut established = Established {
            secured,
            children: Vec::new(),
        };
        match self.accept_child(ctx, &peer, &established.secured, &payloads, child_spi) {
            Ok(child) => established.children.push(child),
            Err(reason) => {
                ctx.child_spis.remove(&child_spi);
                ctx.events.push_back(Event::ChildSaFailed {
                    handle: self.handle,
                    reason,
                });
            }
        }
        self.state = State::Established(Box::new(established));
        Ok(())
    }

    /// The initiator's side of the first Child SA: the responder's choice must be one we
    /// offered, its selectors within ours (RFC 7296 §2.9), its mode the one we asked for.
    fn accept_child(
        &self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        secured: &Secured,
        payloads: &Payloads,
        child_spi: u32,
    ) -> Result<ChildSa, NotifyType> {
        if let Some(error) = payloads.error() {
            return Err(error);
        }
        let (Some(sa), Some(ts_i), Some(ts_r)) = (&payloads.sa, &payloads.ts_i, &payloads.ts_r)
        else {
            return Err(NotifyType::NoProposalChosen);
        };
        let (algorithms, outbound_spi) = proposal::accept_chosen_child(&peer.child.proposals, sa)
            .map_err(|_| NotifyType::NoProposalChosen)?;
        if !ts::within(ts_i, &peer.child.local_ts) || !ts::within(ts_r, &peer.child.remote_ts) {
            return Err(NotifyType::TsUnacceptable);
        }
        let transport = payloads.has(NotifyType::UseTransportMode);
        let mode = if transport {
            Mode::Transport
        } else {
            Mode::Tunnel
        };
        if mode != peer.child.mode {
            return Err(NotifyType::NoProposalChosen);
        }
        let child = ChildSa {
            inbound_spi: child_spi,
            outbound_spi,
        };
        let ready = self
            .child_ready(ctx, peer, secured, &child, algorithms, mode, ts_i, ts_r)
            .map_err(|_| NotifyType::NoProposalChosen)?;
        ctx.events.push_back(Event::ChildSaReady(Box::new(ready)));
        Ok(child)
    }

    // ---------------------------------------------------------------- responder

    /// The responder's IKE SA after an acceptable IKE_SA_INIT request; the endpoint has
    /// already checked cookie and proposal.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn respond_init(
        ctx: &mut Ctx<'_>,
        handle: IkeSaHandle,
        path: Path,
        request: &[u8],
        spi_i: u64,
        number: u8,
        algorithms: IkeAlgorithms,
        request_payloads: &Payloads,
    ) -> Result<Self, DropReason> {
        let (Some(ke), Some(nonce)) = (&request_payloads.ke, &request_payloads.nonce) else {
            return Err(DropReason::MissingPayload);
        };
        let suite = IkeSuite::lookup(ctx.config.provider, algorithms)
            .ok_or(Error::Internal("chosen suite not in provider"))?;
        let mut sa = Self::base(handle, false, path, ctx.now);
        sa.spi_i = spi_i;
        sa.spi_r = nonzero_spi(ctx)?;
        let exchange = start_ke(ctx, algorithms.dh)?;
        let public = exchange.public_value().to_vec();
        let shared = exchange
            .complete(&ke.data)
            .map_err(|_| DropReason::Refused(NotifyType::InvalidSyntax))?;
        let nr = ctx.nonce()?;
        sa.nat = detect_nat(request_payloads, spi_i, 0, path, false);
        let payloads = vec![
            Payload::SecurityAssociation(proposal::chosen_ike_payload(
                number,
                algorithms,
                Spi::None,
            )),
            Payload::KeyExchange(KeyExchange {
                group: algorithms.dh,
                data: public,
            }),
            Payload::Nonce(Nonce { data: nr.clone() }),
            Payload::Notify(Notify::new(
                NotifyType::NatDetectionSourceIp,
                &nat_detection_hash(spi_i, sa.spi_r, path.local),
            )),
            Payload::Notify(Notify::new(
                NotifyType::NatDetectionDestinationIp,
                &nat_detection_hash(spi_i, sa.spi_r, path.remote),
            )),
            Payload::Notify(Notify::new(
                NotifyType::SignatureHashAlgorithms,
                &SIGNATURE_HASHES,
            )),
        ];
        let envelope = sa.envelope(ExchangeType::IkeSaInit, 0, true);
        let response = Bytes::from(plain(envelope, payloads)?);
        let secured = secure(
            suite,
            false,
            &shared,
            nonce.data.clone(),
            nr,
            spi_i,
            sa.spi_r,
            Bytes::copy_from_slice(request),
            response.clone(),
        )?;
        let datagram = ctx.send(path, &response);
        sa.last_response = Some((0, datagram));
        sa.peer_next_request_id = 1;
        sa.next_request_id = 0;
        sa.expires = Some(ctx.now + ctx.config.half_open_timeout);
        sa.state = State::InitReplied(Box::new(InitReplied { secured }));
        Ok(sa)
    }

    /// Resends the IKE_SA_INIT response for a retransmitted request (RFC 7296 §2.1).
    pub(crate) fn resend_last_response(&self, ctx: &mut Ctx<'_>, message_id: u32) -> bool {
        match &self.last_response {
            Some((id, datagram)) if *id == message_id => {
                ctx.transmits.push_back(Transmit {
                    path: self.path,
                    payload: datagram.clone(),
                });
                true
            }
            _ => false,
        }
    }

    fn on_auth_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let State::InitReplied(replied) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(DropReason::Unexpected);
        };
        self.state = State::InitReplied(replied);
        let Some(id_i) = payloads.id_i.clone() else {
            return self.refuse_auth(ctx, message_id, NotifyType::InvalidSyntax);
        };
        let Some(auth) = &payloads.auth else {
            return self.refuse_auth(ctx, message_id, NotifyType::InvalidSyntax);
        };
        let Some(peer) = ctx
            .config
            .responder_peers
            .iter()
            .find(|p| p.remote_id.as_ref().is_none_or(|id| *id == id_i))
            .cloned()
        else {
            return self.refuse_auth(ctx, message_id, NotifyType::AuthenticationFailed);
        };
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        let expected = psk_auth(
            secured.suite.prf,
            peer.psk.expose(),
            &secured.init_request,
            &secured.nr,
            secured.keys.sk_pi.expose(),
            &id_body(&id_i)?,
        )?;
        if auth.method != AuthMethod::SharedKeyMic
            || !constant_time_eq(expected.expose(), &auth.data)
        {
            return self.refuse_auth(ctx, message_id, NotifyType::AuthenticationFailed);
        }
        let our_auth = psk_auth(
            secured.suite.prf,
            peer.psk.expose(),
            &secured.init_response,
            &secured.ni,
            secured.keys.sk_pr.expose(),
            &id_body(&peer.local_id)?,
        )?;
        self.peer = Some(peer.clone());
        self.expires = None;
        self.tfc_padding = !payloads.has(NotifyType::EspTfcPaddingNotSupported);
        let mut response = vec![
            Payload::IdResponder(peer.local_id.clone()),
            Payload::Authentication(ipsec_isakmp::Authentication {
                method: AuthMethod::SharedKeyMic,
                data: our_auth.expose().to_vec(),
            }),
        ];
        let established_event = {
            let secured = self.secured().ok_or(Error::Internal("no keys"))?;
            self.established_event(ctx, secured, id_i)
        };
        self.announced = true;
        let child = self.respond_child(ctx, &peer, &payloads, &mut response);
        self.send_response(ctx, ExchangeType::IkeAuth, message_id, &response)?;
        ctx.events.push_back(established_event);
        let State::InitReplied(replied) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(Error::Internal("state changed").into());
        };
        let mut established = Established {
            secured: replied.secured,
            children: Vec::new(),
        };
        match child {
            Ok((child, ready)) => {
                established.children.push(child);
                ctx.events.push_back(Event::ChildSaReady(ready));
            }
            Err(reason) => ctx.events.push_back(Event::ChildSaFailed {
                handle: self.handle,
                reason,
            }),
        }
        self.state = State::Established(Box::new(established));
        self.schedule_keepalive(ctx);
        Ok(())
    }

    /// Answers a failed IKE_AUTH with the notification, then deletes the IKE SA
    /// (RFC 7296 §2.21.2).
    fn refuse_auth(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        notify: NotifyType,
    ) -> Result<(), DropReason> {
        self.send_response(
            ctx,
            ExchangeType::IkeAuth,
            message_id,
            &[Payload::Notify(Notify::new(notify, &[]))],
        )?;
        let reason = match notify {
            NotifyType::AuthenticationFailed => CloseReason::AuthenticationFailed,
            other => CloseReason::PeerError(other),
        };
        // A failed IKE_AUTH is worth reporting (someone tried), unlike a silent expiry.
        self.announced = true;
        self.close(ctx, reason);
        Err(DropReason::Refused(notify))
    }

    /// The responder's side of the first Child SA: choose a proposal, narrow the selectors,
    /// agree on the mode; add the answer to `response`, or the notification that refuses
    /// the Child SA while the IKE SA stays (RFC 7296 §2.21.3).
    fn respond_child(
        &self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        payloads: &Payloads,
        response: &mut Vec<Payload>,
    ) -> Result<(ChildSa, Box<ChildSaReady>), NotifyType> {
        let outcome = self.choose_child(ctx, peer, payloads);
        match outcome {
            Ok((child, ready, number)) => {
                response.push(Payload::SecurityAssociation(
                    proposal::chosen_child_payload(number, ready.algorithms, child.inbound_spi),
                ));
                response.push(Payload::TsInitiator(TrafficSelectors {
                    selectors: ready.remote_ts.clone(),
                }));
                response.push(Payload::TsResponder(TrafficSelectors {
                    selectors: ready.local_ts.clone(),
                }));
                if ready.mode == Mode::Transport {
                    response.push(Payload::Notify(Notify::new(
                        NotifyType::UseTransportMode,
                        &[],
                    )));
                }
                if !peer.child.accept_tfc_padding {
                    response.push(Payload::Notify(Notify::new(
                        NotifyType::EspTfcPaddingNotSupported,
                        &[],
                    )));
                }
                Ok((child, ready))
            }
            Err(reason) => {
                response.push(Payload::Notify(Notify::new(reason, &[])));
                Err(reason)
            }
        }
    }

    fn choose_child(
        &self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        payloads: &Payloads,
    ) -> Result<(ChildSa, Box<ChildSaReady>, u8), NotifyType> {
        let (Some(sa), Some(ts_i), Some(ts_r)) = (&payloads.sa, &payloads.ts_i, &payloads.ts_r)
        else {
            return Err(NotifyType::InvalidSyntax);
        };
        let (number, algorithms, outbound_spi) =
            proposal::select_child(&peer.child.proposals, sa, ctx.config.provider, None)
                .ok_or(NotifyType::NoProposalChosen)?;
        let remote_ts = ts::narrow(ts_i, &peer.child.remote_ts);
        let local_ts = ts::narrow(ts_r, &peer.child.local_ts);
        if remote_ts.is_empty() || local_ts.is_empty() {
            return Err(NotifyType::TsUnacceptable);
        }
        let asked_transport = payloads.has(NotifyType::UseTransportMode);
        let mode = match (asked_transport, peer.child.mode) {
            (true, Mode::Transport) => Mode::Transport,
            (false, Mode::Tunnel) | (true, Mode::Tunnel) => Mode::Tunnel,
            (false, Mode::Transport) => return Err(NotifyType::NoProposalChosen),
        };
        let inbound_spi = ctx.child_spi().map_err(|_| NotifyType::TemporaryFailure)?;
        let child = ChildSa {
            inbound_spi,
            outbound_spi,
        };
        let secured = self.secured().ok_or(NotifyType::TemporaryFailure)?;
        let ready = self
            .child_ready(
                ctx, peer, secured, &child, algorithms, mode, &local_ts, &remote_ts,
            )
            .map_err(|_| {
                ctx.child_spis.remove(&inbound_spi);
                NotifyType::NoProposalChosen
            })?;
        Ok((child, Box::new(ready), number))
    }

    // ---------------------------------------------------------------- common

    #[allow(clippy::too_many_arguments)]
    fn child_ready(
        &self,
        ctx: &Ctx<'_>,
        peer: &PeerConfig,
        secured: &Secured,
        child: &ChildSa,
        algorithms: ChildAlgorithms,
        mode: Mode,
        local_ts: &[TrafficSelector],
        remote_ts: &[TrafficSelector],
    ) -> Result<ChildSaReady, Error> {
        let per_direction = esp_keymat_len(ctx.config.provider, algorithms)
            .ok_or(Error::Internal("ESP algorithm not in provider"))?;
        let mut keymat = child_keymat(
            secured.suite.prf,
            secured.keys.sk_d.expose(),
            None,
            &secured.ni,
            &secured.nr,
            per_direction * 2,
        )?;
        // RFC 7296 §2.17: initiator-to-responder keys first.
        let i_to_r = keymat
            .take_front(per_direction)
            .ok_or(Error::Internal("keymat"))?;
        let r_to_i = keymat;
        let (inbound_keymat, outbound_keymat) = if self.initiator {
            (r_to_i, i_to_r)
        } else {
            (i_to_r, r_to_i)
        };
        Ok(ChildSaReady {
            ike_sa: self.handle,
            inbound_spi: child.inbound_spi,
            outbound_spi: child.outbound_spi,
            algorithms,
            inbound_keymat,
            outbound_keymat,
            mode,
            local_ts: local_ts.to_vec(),
            remote_ts: remote_ts.to_vec(),
            udp_encapsulation: self.nat.encapsulate(),
            path: self.path,
            lifetimes: peer.child.lifetimes,
            tfc_padding: self.tfc_padding,
        })
    }

    fn established_event(
        &self,
        ctx: &Ctx<'_>,
        secured: &Secured,
        peer_id: Identification,
    ) -> Event {
        let keys = ctx.config.key_log.then(|| {
            Box::new(IkeKeyLog {
                spi_i: self.spi_i,
                spi_r: self.spi_r,
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
        });
        Event::IkeSaEstablished {
            handle: self.handle,
            initiator: self.initiator,
            peer_id,
            algorithms: secured.suite.algorithms,
            nat: self.nat,
            path: self.path,
            keys,
        }
    }

    fn schedule_keepalive(&mut self, ctx: &Ctx<'_>) {
        self.next_keepalive = self
            .nat
            .local_behind_nat
            .then(|| ctx.now + ctx.config.keepalive_interval);
    }

    /// A datagram for this SA, found by its SPI (RFC 7296 §2.1 – §2.3): responses must
    /// answer our outstanding request; requests must be the next one, or a retransmission
    /// of the last, answered from the cache.
    pub(crate) fn handle_message(
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
            let Some(outstanding) = &self.outstanding else {
                return Err(DropReason::StaleResponse);
            };
            if outstanding.message_id != message_id {
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
            self.follow_peer(path);
            return self.on_response(ctx, exchange, payloads);
        }
        if message_id.wrapping_add(1) == self.peer_next_request_id
            && self.resend_last_response(ctx, message_id)
        {
            return Ok(());
        }
        if message_id != self.peer_next_request_id {
            return Err(DropReason::OutOfWindow);
        }
        let payloads = match self.open(message) {
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
        self.follow_peer(path);
        match (exchange, &self.state) {
            (ExchangeType::IkeAuth, State::InitReplied(_)) => {
                self.on_auth_request(ctx, message_id, payloads)
            }
            (ExchangeType::Informational, State::Established(_) | State::Deleting(_)) => {
                self.on_informational_request(ctx, message_id, payloads)
            }
            (ExchangeType::CreateChildSa, State::Established(_)) => {
                // Additional Child SAs and rekeying are not offered by this endpoint yet.
                self.send_response(
                    ctx,
                    exchange,
                    message_id,
                    &[Payload::Notify(Notify::new(
                        NotifyType::NoAdditionalSas,
                        &[],
                    ))],
                )?;
                Ok(())
            }
            _ => Err(DropReason::Unexpected),
        }
    }

    /// Behind a NAT the peer's address may change; follow the last authenticated message
    /// (RFC 7296 §2.23).
    fn follow_peer(&mut self, path: Path) {
        if self.nat.encapsulate() {
            self.path = path;
        }
    }

    /// Verifies, decrypts and decodes the SK payload of `message`.
    fn open(&self, message: &[u8]) -> Result<Payloads, DropReason> {
        let secured = self.secured().ok_or(DropReason::Unexpected)?;
        let (first, plaintext) = secured.sk_in.open(message).map_err(|e| match e {
            crate::sk::SkError::Missing => DropReason::MissingPayload,
            _ => DropReason::IntegrityCheckFailed,
        })?;
        Ok(Payloads::sort(parse_chain(first, &plaintext)?))
    }

    fn on_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        exchange: ExchangeType,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let outstanding = self.outstanding.take().ok_or(DropReason::StaleResponse)?;
        match (outstanding.kind, exchange) {
            (RequestKind::IkeAuth, ExchangeType::IkeAuth) => self.on_auth_response(ctx, payloads),
            (RequestKind::DeleteIke, ExchangeType::Informational) => {
                self.close(ctx, CloseReason::LocalDelete);
                Ok(())
            }
            (RequestKind::DeleteChild { inbound_spi }, ExchangeType::Informational) => {
                self.remove_child(ctx, inbound_spi);
                Ok(())
            }
            (RequestKind::Liveness, ExchangeType::Informational) => Ok(()),
            (kind, _) => {
                self.outstanding = Some(Outstanding {
                    kind,
                    ..outstanding
                });
                Err(DropReason::Unexpected)
            }
        }
    }

    fn remove_child(&mut self, ctx: &mut Ctx<'_>, inbound_spi: u32) {
        if let State::Established(e) | State::Deleting(e) = &mut self.state
            && let Some(index) = e.children.iter().position(|c| c.inbound_spi == inbound_spi)
        {
            let child = e.children.remove(index);
            ctx.child_spis.remove(&child.inbound_spi);
            ctx.events.push_back(Event::ChildSaDeleted {
                handle: self.handle,
                inbound_spi: child.inbound_spi,
                outbound_spi: child.outbound_spi,
            });
        }
    }

    /// INFORMATIONAL requests (RFC 7296 §1.4): Delete of the IKE SA, Delete of Child SAs
    /// (answered with ours for the other direction, §1.4.1), or empty (liveness).
    fn on_informational_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        if payloads.deletes.contains(&Delete::IkeSa) {
            self.send_response(ctx, ExchangeType::Informational, message_id, &[])?;
            self.close(ctx, CloseReason::PeerDelete);
            return Ok(());
        }
        let mut ours = Vec::new();
        for delete in &payloads.deletes {
            if let Delete::ChildSas {
                protocol: ProtocolId::Esp,
                spis,
            } = delete
            {
                for spi in spis {
                    let found = self
                        .children()
                        .iter()
                        .find(|c| c.outbound_spi == *spi)
                        .map(|c| c.inbound_spi);
                    if let Some(inbound) = found {
                        ours.push(inbound);
                        self.remove_child(ctx, inbound);
                    }
                }
            }
        }
        let response: Vec<Payload> = if ours.is_empty() {
            Vec::new()
        } else {
            vec![Payload::Delete(Delete::ChildSas {
                protocol: ProtocolId::Esp,
                spis: ours,
            })]
        };
        self.send_response(ctx, ExchangeType::Informational, message_id, &response)?;
        Ok(())
    }

    // ---------------------------------------------------------------- commands

    /// Deletes the IKE SA with an INFORMATIONAL Delete (RFC 7296 §1.4.1).
    pub(crate) fn delete(&mut self, ctx: &mut Ctx<'_>) -> Result<(), crate::CommandError> {
        if !self.is_established() || self.outstanding.is_some() {
            if self.is_established() {
                // A request is on its way; end without waiting (the peer's SA expires).
                self.close(ctx, CloseReason::LocalDelete);
                return Ok(());
            }
            self.close(ctx, CloseReason::LocalDelete);
            return Ok(());
        }
        self.send_request(
            ctx,
            RequestKind::DeleteIke,
            ExchangeType::Informational,
            &[Payload::Delete(Delete::IkeSa)],
        )?;
        if let State::Established(e) = std::mem::replace(&mut self.state, State::Closed) {
            self.state = State::Deleting(e);
        }
        Ok(())
    }

    /// Deletes one Child SA (RFC 7296 §1.4.1).
    pub(crate) fn delete_child(
        &mut self,
        ctx: &mut Ctx<'_>,
        inbound_spi: u32,
    ) -> Result<(), crate::CommandError> {
        if !self.is_established() {
            return Err(crate::CommandError::NotEstablished);
        }
        if !self.children().iter().any(|c| c.inbound_spi == inbound_spi) {
            return Err(crate::CommandError::UnknownChildSa);
        }
        if self.outstanding.is_some() {
            return Err(crate::CommandError::Busy);
        }
        self.send_request(
            ctx,
            RequestKind::DeleteChild { inbound_spi },
            ExchangeType::Informational,
            &[Payload::Delete(Delete::ChildSas {
                protocol: ProtocolId::Esp,
                spis: vec![inbound_spi],
            })],
        )?;
        Ok(())
    }

    /// Sends an empty INFORMATIONAL request to check that the peer is alive (RFC 7296
    /// §1.4); no answer through every retransmission closes the SA as a dead peer.
    pub(crate) fn check_liveness(&mut self, ctx: &mut Ctx<'_>) -> Result<(), crate::CommandError> {
        if !self.is_established() {
            return Err(crate::CommandError::NotEstablished);
        }
        if self.outstanding.is_some() {
            return Ok(());
        }
        self.send_request(ctx, RequestKind::Liveness, ExchangeType::Informational, &[])?;
        Ok(())
    }

    /// Acts on every deadline that has passed.
    pub(crate) fn handle_timeout(&mut self, ctx: &mut Ctx<'_>) -> Result<(), Error> {
        let now = ctx.now;
        if self.expires.is_some_and(|t| t <= now) {
            self.close(ctx, CloseReason::EstablishmentTimeout);
            return Ok(());
        }
        if let Some(outstanding) = &mut self.outstanding
            && outstanding.deadline <= now
        {
            if outstanding.retransmits >= ctx.config.retransmit.max_retransmits {
                let reason = if self.is_established() || matches!(self.state, State::Deleting(_)) {
                    if matches!(self.state, State::Deleting(_)) {
                        CloseReason::LocalDelete
                    } else {
                        CloseReason::DeadPeer
                    }
                } else {
                    CloseReason::EstablishmentTimeout
                };
                self.close(ctx, reason);
                return Ok(());
            }
            outstanding.retransmits += 1;
            let grown = outstanding
                .timeout
                .mul_f64(ctx.config.retransmit.backoff)
                .min(ctx.config.retransmit.max_timeout);
            outstanding.timeout = grown;
            outstanding.deadline = now + grown;
            ctx.transmits.push_back(Transmit {
                path: self.path,
                payload: outstanding.datagram.clone(),
            });
        }
        if self.next_keepalive.is_some_and(|t| t <= now) {
            ctx.transmits.push_back(Transmit {
                path: self.path,
                payload: Bytes::from_static(&[ipsec_isakmp::NAT_KEEPALIVE]),
            });
            self.next_keepalive = Some(now + ctx.config.keepalive_interval);
        }
        let liveness_due = match (&self.state, &self.peer, &self.outstanding) {
            (State::Established(_), Some(peer), None) => peer
                .liveness_interval
                .and_then(|i| self.last_received.checked_add(i))
                .is_some_and(|t| t <= now),
            _ => false,
        };
        if liveness_due {
            self.send_request(ctx, RequestKind::Liveness, ExchangeType::Informational, &[])?;
        }
        Ok(())
    }
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

fn strip_marker(datagram: &Bytes) -> Bytes {
    if datagram.starts_with(&ipsec_isakmp::NON_ESP_MARKER) {
        datagram.slice(ipsec_isakmp::NON_ESP_MARKER.len()..)
    } else {
        datagram.clone()
    }
}

fn nonzero_spi(ctx: &mut Ctx<'_>) -> Result<u64, Error> {
    loop {
        let spi = u64::from_be_bytes(ctx.random()?);
        if spi != 0 {
            return Ok(spi);
        }
    }
}

fn start_ke(ctx: &mut Ctx<'_>, group: DhGroup) -> Result<Box<dyn ActiveKeyExchange>, Error> {
    let algorithm = ctx
        .config
        .provider
        .key_exchange(group.value())
        .ok_or(Error::Internal("DH group not in provider"))?;
    Ok(algorithm.start(ctx.rng)?)
}

/// Derives the keys and keys both SK directions (RFC 7296 §2.14).
#[allow(clippy::too_many_arguments)]
fn secure(
    suite: IkeSuite,
    initiator: bool,
    shared: &SecretBytes,
    ni: Vec<u8>,
    nr: Vec<u8>,
    spi_i: u64,
    spi_r: u64,
    init_request: Bytes,
    init_response: Bytes,
) -> Result<Secured, Error> {
    let keys = derive_ike_keys(
        suite.prf,
        suite.key_lengths(),
        &ni,
        &nr,
        shared.expose(),
        spi_i,
        spi_r,
    )?;
    let initiator_direction = suite.key(keys.sk_ei.expose(), keys.sk_ai.expose())?;
    let responder_direction = suite.key(keys.sk_er.expose(), keys.sk_ar.expose())?;
    let (sk_out, sk_in) = if initiator {
        (initiator_direction, responder_direction)
    } else {
        (responder_direction, initiator_direction)
    };
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

/// NAT detection (RFC 7296 §2.23): the peer is behind a NAT if no NAT_DETECTION_SOURCE_IP
/// hash matches the address its message came from; we are if its
/// NAT_DETECTION_DESTINATION_IP does not match ours.
fn detect_nat(payloads: &Payloads, spi_i: u64, spi_r: u64, path: Path, forced: bool) -> NatState {
    let sources: Vec<&Notify> = payloads
        .notifies
        .iter()
        .filter(|n| n.notify_type == NotifyType::NatDetectionSourceIp)
        .collect();
    let destination = payloads.notify(NotifyType::NatDetectionDestinationIp);
    if sources.is_empty() && destination.is_none() {
        return NatState {
            local_behind_nat: false,
            remote_behind_nat: forced,
        };
    }
    let remote_hash = nat_detection_hash(spi_i, spi_r, path.remote);
    let local_hash = nat_detection_hash(spi_i, spi_r, path.local);
    NatState {
        remote_behind_nat: forced || !sources.iter().any(|n| n.data == remote_hash),
        local_behind_nat: destination.is_some_and(|n| n.data != local_hash),
    }
}

/// The Child SA part of an IKE_AUTH request: SA, TSi, TSr and the mode notifications.
fn child_request_payloads(peer: &PeerConfig, child_spi: u32) -> Vec<Payload> {
    let mut payloads = vec![
        Payload::SecurityAssociation(proposal::child_sa_payload(
            &peer.child.proposals,
            child_spi,
            false,
        )),
        Payload::TsInitiator(TrafficSelectors {
            selectors: peer.child.local_ts.clone(),
        }),
        Payload::TsResponder(TrafficSelectors {
            selectors: peer.child.remote_ts.clone(),
        }),
    ];
    if peer.child.mode == Mode::Transport {
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::UseTransportMode,
            &[],
        )));
    }
    if !peer.child.accept_tfc_padding {
        payloads.push(Payload::Notify(Notify::new(
            NotifyType::EspTfcPaddingNotSupported,
            &[],
        )));
    }
    payloads
}

/// Keying material each direction of an ESP SA takes (RFC 7296 §2.17).
fn esp_keymat_len(
    provider: &ipsec_crypto::CryptoProvider,
    algorithms: ChildAlgorithms,
) -> Option<usize> {
    let bits = algorithms.encryption.effective_key_bits();
    if algorithms.encryption.is_aead() {
        return provider
            .aead(algorithms.encryption.id.value(), bits)
            .map(|a| a.spec().keymat_len());
    }
    let cipher = provider.cipher(algorithms.encryption.id.value(), bits)?;
    let integrity = provider.integrity(algorithms.integrity?.value())?;
    Some(cipher.spec().key_len() + integrity.spec().key_len)
}
