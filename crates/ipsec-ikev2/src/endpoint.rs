//! The endpoint: owns IKE SAs by handle, demultiplexes datagrams to them, and queues what
//! they send and report (quinn-proto's handle/poll shape).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use foldhash::fast::FixedState;
use ipsec_crypto::SecureRandom;
use ipsec_isakmp::{ExchangeType, HeaderView, Message, Notify, NotifyType, Payload, PuzzleRequest};

use crate::config::{ChildConfig, EndpointConfig, PeerConfig};
use crate::cookie::CookieSecret;
use crate::error::{CommandError, DropReason, Error};
use crate::event::{CloseReason, Event, IkeSaHandle, IkeSaInfo, Path, Transmit};
use crate::half_open::HalfOpen;
use crate::ike_sa::{Ctx, IkeSa};
use crate::message::{Payloads, needs_marker, wire};
use crate::proposal;
use crate::puzzle;
use crate::queue::BoundedQueue;
use crate::select;
use crate::tables::{release, release_set};
use crate::unique::{Established, Identities, Verdict};

/// Counters of what the endpoint dropped and did, for monitoring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handled.
    pub datagrams: u64,
    /// Datagrams dropped, by the reason's name.
    pub dropped: HashMap<&'static str, u64>,
    /// Cookies demanded (RFC 7296 §2.6).
    pub cookies_sent: u64,
    /// Requests answered again from the cache (RFC 7296 §2.1), in every exchange.
    pub retransmissions_answered: u64,
    /// Puzzles demanded (RFC 8019 §7.1.1).
    pub puzzles_sent: u64,
}

fn reason_name(reason: &DropReason) -> &'static str {
    match reason {
        DropReason::Malformed(_) => "malformed",
        DropReason::Keepalive => "keepalive",
        DropReason::UnknownSpi => "unknown-spi",
        DropReason::NotResponder => "not-responder",
        DropReason::Unexpected => "unexpected",
        DropReason::StaleResponse => "stale-response",
        DropReason::OutOfWindow => "out-of-window",
        DropReason::IntegrityCheckFailed => "integrity-check-failed",
        DropReason::MissingPayload => "missing-payload",
        DropReason::Refused(_) => "refused",
        DropReason::NotIke => "not-ike",
        DropReason::Blocked => "blocked",
        DropReason::Overloaded => "overloaded",
        DropReason::ForgedRetransmission => "forged-retransmission",
        DropReason::Noted(_) => "noted",
        DropReason::PuzzleNotSolved => "puzzle-not-solved",
        DropReason::Internal(_) => "internal",
    }
}

/// The least difficulty of an IKE_AUTH puzzle, which must not be 0 (RFC 8019 §7.2.1.1).
const MIN_AUTH_PUZZLE: u8 = 8;

/// Whether `count` has reached `limit`, where a limit of 0 is none.
fn over(count: usize, limit: usize) -> bool {
    limit != 0 && count >= limit
}

/// An IKEv2 endpoint for one set of local addresses, driven entirely by the caller
/// (RFC 7296): datagrams, time and randomness in; datagrams, deadlines and events out.
///
/// ```text
/// loop {
///     // feed: endpoint.handle_datagram(now, path, &datagram) for each datagram received,
///     //       endpoint.handle_timeout(now) when poll_timeout() has passed;
///     // drain: poll_transmit() until None (send each), poll_event() until None (act).
/// }
/// ```
pub struct Endpoint {
    config: EndpointConfig,
    rng: Box<dyn SecureRandom>,
    /// Boxed: a map stores its values inline in up to twice as many slots as it holds,
    /// and an IKE SA is large.
    sas: HashMap<IkeSaHandle, Box<IkeSa>, FixedState>,
    /// Our IKE SPI to the SA: SPIs we chose at random, so a fixed-seed hash is safe.
    by_spi: HashMap<u64, IkeSaHandle, FixedState>,
    /// Half-open responder SAs by the request that made them, counted in all and per
    /// source address.
    half_open: HalfOpen,
    /// Keyed with a secret seed, for digests of requests.
    hasher: foldhash::quality::FixedState,
    /// Each SA's SPIs in `by_spi`, to unindex the ones it no longer uses (a rekey changes
    /// them, RFC 7296 §2.18).
    spis_of: HashMap<IkeSaHandle, Vec<u64>, FixedState>,
    timers: BTreeSet<(Instant, IkeSaHandle)>,
    deadlines: HashMap<IkeSaHandle, Instant, FixedState>,
    child_spis: HashSet<u32, FixedState>,
    identities: Identities,
    cookie: CookieSecret,
    next_handle: u64,
    transmits: BoundedQueue<Transmit>,
    events: BoundedQueue<Event>,
    stats: Stats,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("ike_sas", &self.sas.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint with `config`, drawing SPIs, nonces, private keys and the cookie secret
    /// from `rng`.
    /// A configuration value that could not work (see [`EndpointConfig::validate`]) is
    /// refused.
    pub fn new(config: EndpointConfig, mut rng: Box<dyn SecureRandom>) -> Result<Self, Error> {
        config.validate()?;
        let mut secret = [0u8; 32];
        rng.fill(&mut secret)?;
        let mut seeds = [0u8; 16];
        rng.fill(&mut seeds)?;
        let (table_seed, digest_seed) = seeds.split_at(8);
        let seed = |bytes: &[u8]| u64::from_le_bytes(bytes.try_into().unwrap_or_default());
        let queue_limit = config.queue_limit;
        Ok(Self {
            config,
            rng,
            sas: HashMap::default(),
            by_spi: HashMap::default(),
            half_open: HalfOpen::new(seed(table_seed)),
            hasher: foldhash::quality::FixedState::with_seed(seed(digest_seed)),
            spis_of: HashMap::default(),
            timers: BTreeSet::new(),
            deadlines: HashMap::default(),
            child_spis: HashSet::default(),
            identities: Identities::default(),
            cookie: CookieSecret::new(secret),
            next_handle: 1,
            transmits: BoundedQueue::new(queue_limit),
            events: BoundedQueue::new(queue_limit),
            stats: Stats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Replaces the source of credentials (keys added or removed at run time).
    pub fn set_credentials(&mut self, credentials: Arc<dyn crate::Credentials>) {
        self.config.credentials = credentials;
    }

    /// Replaces the peers that may connect to us (connections added, changed or removed at
    /// run time). IKE SAs already made keep the configuration they were made with.
    pub fn set_responder_peers(&mut self, peers: Vec<Arc<PeerConfig>>) {
        self.config.responder_peers = peers;
    }

    /// Replaces the responder's defences (an operator raising them under attack, or
    /// lowering them after); half-open IKE SAs already made stay.
    pub fn set_dos_protection(&mut self, dos: crate::DosProtection) -> Result<(), Error> {
        let mut config = self.config.clone();
        config.dos = dos;
        config.validate()?;
        self.config.dos = dos;
        Ok(())
    }

    /// What was dropped and done so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// IKE SAs alive (half-open included).
    pub fn ike_sa_count(&self) -> usize {
        self.sas.len()
    }

    /// Half-open IKE SAs of ours as responder: answered IKE_SA_INIT, no IKE_AUTH yet.
    pub fn half_open_count(&self) -> usize {
        self.half_open.total()
    }

    /// Datagrams dropped because the caller had not drained [`Endpoint::poll_transmit`]
    /// and the queue was full ([`EndpointConfig::queue_limit`]).
    pub fn dropped_transmits(&self) -> u64 {
        self.transmits.dropped()
    }

    /// Events dropped because the caller had not drained [`Endpoint::poll_event`] and the
    /// queue was full.
    pub fn dropped_events(&self) -> u64 {
        self.events.dropped()
    }

    /// The IKE SA `handle`, as a listing shows it.
    pub fn ike_sa(&self, handle: IkeSaHandle) -> Option<IkeSaInfo> {
        self.sas.get(&handle).map(|sa| sa.info())
    }

    /// Whether every IKE SA is idle: no request of ours waiting for its response, none queued
    /// or waiting to be retried, no old or redundant IKE SA of a rekey still being deleted.
    /// A caller shutting down after [`Endpoint::delete_ike_sa`] can wait for this.
    pub fn is_idle(&self) -> bool {
        self.sas.values().all(|sa| sa.is_idle())
    }

    /// Replaces the cookie secret (RFC 7296 §2.6: change it periodically); cookies made
    /// with the previous secret stay valid until the next change.
    pub fn rotate_cookie_secret(&mut self) -> Result<(), Error> {
        let mut secret = [0u8; 32];
        self.rng.fill(&mut secret)?;
        self.cookie.rotate(secret);
        Ok(())
    }

    fn split(
        &mut self,
        now: Instant,
    ) -> (Ctx<'_>, &mut HashMap<IkeSaHandle, Box<IkeSa>, FixedState>) {
        (
            Ctx {
                now,
                config: &self.config,
                rng: self.rng.as_mut(),
                transmits: &mut self.transmits,
                events: &mut self.events,
                child_spis: &mut self.child_spis,
                identities: &self.identities,
                hasher: &self.hasher,
                stats: &mut self.stats,
            },
            &mut self.sas,
        )
    }

    /// Starts an IKE SA with `peer` over `path` (RFC 7296 §1.2), asking in IKE_AUTH for
    /// the Child SA of its configuration named `child` (the first one if `None`).
    pub fn initiate(
        &mut self,
        now: Instant,
        peer: Arc<PeerConfig>,
        child: Option<&str>,
        path: Path,
    ) -> Result<IkeSaHandle, CommandError> {
        let child = match child {
            Some(name) => peer.child(name),
            None => peer.children.first(),
        }
        .cloned()
        .ok_or(CommandError::Config("no such child configuration"))?;
        if peer.ike_proposals.is_empty() || child.proposals.is_empty() {
            return Err(CommandError::Config("no proposal"));
        }
        let remote = select::exact(&peer.remote_id);
        if self
            .config
            .credentials
            .shared_key(&peer.local_id, remote.as_ref())
            .is_none()
        {
            return Err(CommandError::Config(
                "no pre-shared key for the connection's identities",
            ));
        }
        let handle = IkeSaHandle(self.next_handle);
        self.next_handle += 1;
        let (mut ctx, _) = self.split(now);
        let sa = IkeSa::initiate(&mut ctx, handle, peer, child, path)?;
        self.sas.insert(handle, Box::new(sa));
        self.after(now, handle);
        Ok(handle)
    }

    /// Deletes an IKE SA and its Child SAs (RFC 7296 §1.4.1).
    pub fn delete_ike_sa(&mut self, now: Instant, handle: IkeSaHandle) -> Result<(), CommandError> {
        self.with_sa(now, handle, |sa, ctx| {
            sa.delete(ctx, CloseReason::LocalDelete)
        })
    }

    /// Deletes the Child SA whose inbound SPI is `inbound_spi` (RFC 7296 §1.4.1).
    pub fn delete_child_sa(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
        inbound_spi: u32,
    ) -> Result<(), CommandError> {
        self.with_sa(now, handle, |sa, ctx| sa.delete_child(ctx, inbound_spi))
    }

    /// Creates a further Child SA on the IKE SA `handle` (RFC 7296 §1.3.1); its
    /// [`Event::ChildSaReady`] follows.
    pub fn create_child_sa(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
        config: Arc<ChildConfig>,
    ) -> Result<(), CommandError> {
        self.with_sa(now, handle, |sa, ctx| sa.create_child(ctx, config))
    }

    /// Rekeys the Child SA whose inbound SPI is `inbound_spi` (RFC 7296 §1.3.3): the new
    /// SA's [`Event::ChildSaReady`] names the one it replaces, which is then deleted. A Child
    /// SA already being rekeyed, replaced or deleted is left alone.
    pub fn rekey_child_sa(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
        inbound_spi: u32,
    ) -> Result<(), CommandError> {
        self.with_sa(now, handle, |sa, ctx| sa.rekey_child(ctx, inbound_spi))
    }

    /// Rekeys the IKE SA `handle` (RFC 7296 §1.3.2); [`Event::IkeSaRekeyed`] follows. The
    /// handle stays the same.
    pub fn rekey_ike_sa(&mut self, now: Instant, handle: IkeSaHandle) -> Result<(), CommandError> {
        self.with_sa(now, handle, |sa, ctx| sa.rekey(ctx))
    }

    /// Checks now that the peer of `handle` is alive (RFC 7296 §1.4).
    pub fn check_liveness(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
    ) -> Result<(), CommandError> {
        self.with_sa(now, handle, |sa, ctx| sa.check_liveness(ctx))
    }

    fn with_sa(
        &mut self,
        now: Instant,
        handle: IkeSaHandle,
        command: impl FnOnce(&mut IkeSa, &mut Ctx<'_>) -> Result<(), CommandError>,
    ) -> Result<(), CommandError> {
        let (mut ctx, sas) = self.split(now);
        let sa = sas.get_mut(&handle).ok_or(CommandError::UnknownIkeSa)?;
        let result = command(sa, &mut ctx);
        self.after(now, handle);
        result
    }

    /// Handles one UDP payload received on `path` (from port 500, or from the NAT-T port
    /// behind the non-ESP marker; RFC 3948 §2.2). Bad input is dropped with a reason and
    /// never harms an established SA (RFC 7296 §2.21).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        path: Path,
        datagram: &[u8],
    ) -> Result<(), DropReason> {
        self.stats.datagrams += 1;
        let result = self.dispatch(now, path, datagram);
        if let Err(reason) = &result {
            *self.stats.dropped.entry(reason_name(reason)).or_default() += 1;
        }
        result
    }

    fn dispatch(&mut self, now: Instant, path: Path, datagram: &[u8]) -> Result<(), DropReason> {
        if datagram == [ipsec_isakmp::NAT_KEEPALIVE] {
            return Err(DropReason::Keepalive);
        }
        // The marker is there exactly where the ports say (RFC 3948 §2.2): on port 500 the
        // first four bytes are SPIi's, which may well be zero.
        let message = if needs_marker(path.local, path.remote) {
            datagram
                .strip_prefix(&ipsec_isakmp::NON_ESP_MARKER)
                .ok_or(DropReason::NotIke)?
        } else {
            datagram
        };
        let view = HeaderView::new_checked(message)?;
        view.check_length()?;
        let flags = view.flags();
        if view.exchange_type() == ExchangeType::IkeSaInit
            && !flags.response
            && flags.initiator
            && view.responder_spi() == 0
        {
            return self.handle_init_request(now, path, message, view.initiator_spi());
        }
        // From the original initiator, the SA is ours as responder: our SPI is SPIr.
        let our_spi = if flags.initiator {
            view.responder_spi()
        } else {
            view.initiator_spi()
        };
        let handle = *self.by_spi.get(&our_spi).ok_or(DropReason::UnknownSpi)?;
        let (mut ctx, sas) = self.split(now);
        let sa = sas.get_mut(&handle).ok_or(DropReason::UnknownSpi)?;
        let result = sa.handle_message(&mut ctx, path, message);
        // Any IKE_AUTH on a half-open SA that does not come through (bad ICV, no SK payload,
        // malformed) counts towards IKE_AUTH puzzles (RFC 8019 §7.2).
        let failed = matches!(
            result,
            Err(DropReason::IntegrityCheckFailed
                | DropReason::MissingPayload
                | DropReason::Malformed(_))
        );
        if failed && sa.is_half_open() {
            self.half_open.auth_failed(now);
        }
        self.after(now, handle);
        result
    }

    /// Responds to an IKE_SA_INIT request (RFC 7296 §1.2). Cheapest first, and nothing
    /// costly before the cookie: retransmissions answered from the cache (§2.1); requests
    /// from an address over its half-open limit dropped; COOKIE demanded (§2.6) when
    /// half-open SAs pile up in all or from the address, or the responder is busy; the
    /// global half-open limit; NO_PROPOSAL_CHOSEN (§2.7) and INVALID_KE_PAYLOAD (§1.2);
    /// the peer's public value checked (RFC 6989) — all without keeping state. Only then a
    /// key pair and the Diffie-Hellman, for a new half-open SA.
    fn handle_init_request(
        &mut self,
        now: Instant,
        path: Path,
        message: &[u8],
        spi_i: u64,
    ) -> Result<(), DropReason> {
        if self.config.responder_peers.is_empty() {
            return Err(DropReason::NotResponder);
        }
        if let Some(handle) = self.half_open.get(path.remote, spi_i) {
            let (mut ctx, sas) = self.split(now);
            let sa = sas.get_mut(&handle).ok_or(DropReason::Unexpected)?;
            return sa.answer_init_retransmission(&mut ctx, message);
        }
        let dos = self.config.dos;
        let source = path.remote.ip();
        let from_source = self.half_open.count_from(source);
        if over(from_source, dos.block_threshold) {
            return Err(DropReason::Blocked);
        }
        let request = Message::parse(message)?;
        let payloads = Payloads::sort(request.payloads);
        let (Some(sa), Some(ke), Some(nonce)) = (&payloads.sa, &payloads.ke, &payloads.nonce)
        else {
            self.refuse_init(path, spi_i, NotifyType::InvalidSyntax, &[]);
            return Err(DropReason::MissingPayload);
        };
        let total = self.half_open.total();
        let puzzles = dos.puzzles.filter(|p| total >= p.threshold);
        let demand_cookie = puzzles.is_some()
            || total >= dos.cookie_threshold
            || from_source >= dos.cookie_threshold_ip
            || over(
                self.half_open.recent_rate(now) as usize,
                dos.cookie_rate as usize,
            );
        // The difficulty the request's IKE_SA_INIT puzzle solution reached, if any.
        let mut solved = None;
        if demand_cookie {
            let issued = payloads
                .notify(NotifyType::Cookie)
                .and_then(|c| self.cookie.verify(&c.data, &nonce.data, source, spi_i));
            let Some(issued) = issued else {
                self.demand_cookie(
                    path,
                    spi_i,
                    &payloads,
                    puzzles.map(|p| p.difficulty_at(total)),
                );
                return Err(DropReason::Refused(NotifyType::Cookie));
            };
            if let Some(policy) = puzzles {
                // RFC 8019 §7.1.4: what the request earned by its solution decides.
                let required = policy.difficulty_at(total);
                let level = issued.and_then(|asked| self.solved(asked, &payloads));
                solved = level;
                let admitted = match level {
                    Some(level) => level >= u32::from(required),
                    None => total < policy.threshold.saturating_mul(2),
                };
                if !admitted {
                    if over(total, dos.init_limit_half_open) {
                        return Err(DropReason::Overloaded);
                    }
                    // §7.1.5: more work asked of it, with a new puzzle.
                    self.demand_cookie(path, spi_i, &payloads, Some(required));
                    return Err(DropReason::Refused(NotifyType::Cookie));
                }
            }
        }
        if over(total, dos.init_limit_half_open) {
            return Err(DropReason::Overloaded);
        }
        // The configurations whose addresses fit, best first; the first that can agree on
        // a proposal decides the IKE SA's algorithms (strongSwan tries them in that order).
        let chosen = select::ike_candidates(
            &self.config.responder_peers,
            path.local.ip(),
            path.remote.ip(),
        )
        .into_iter()
        .find_map(|peer| {
            let (number, algorithms, _) = proposal::select_ike(
                &peer.ike_proposals,
                sa,
                self.config.provider,
                Some(ke.group),
                false,
            )?;
            Some((number, algorithms, peer.force_udp_encapsulation))
        });
        let Some((number, algorithms, force_encap)) = chosen else {
            self.refuse_init(path, spi_i, NotifyType::NoProposalChosen, &[]);
            self.events.push_back(Event::Refused {
                handle: None,
                connection: None,
                remote: path.remote,
                peer_id: None,
                reason: NotifyType::NoProposalChosen,
            });
            return Err(DropReason::Refused(NotifyType::NoProposalChosen));
        };
        if algorithms.dh != ke.group {
            let data = algorithms.dh.value().to_be_bytes();
            self.refuse_init(path, spi_i, NotifyType::InvalidKePayload, &data);
            return Err(DropReason::Refused(NotifyType::InvalidKePayload));
        }
        // RFC 6989: a bad public value is refused before we make a key pair for it.
        if !crate::ike_sa::acceptable_public(self.config.provider, ke) {
            self.refuse_init(path, spi_i, NotifyType::InvalidSyntax, &[]);
            return Err(DropReason::Refused(NotifyType::InvalidSyntax));
        }
        // RFC 8019 §7.2: an IKE_AUTH puzzle too, for one that solved its IKE_SA_INIT
        // puzzle, while IKE_AUTH requests that fail their integrity check come often.
        let auth_puzzle = dos.puzzles.zip(solved).and_then(|(policy, _)| {
            if self.half_open.auth_failure_rate(now) < policy.auth_failures.max(1) {
                return None;
            }
            let (prf, _) = puzzle::choose_prf(self.config.provider, sa)?;
            let difficulty = policy
                .difficulty_at(total)
                .max(MIN_AUTH_PUZZLE)
                .min(policy.max_difficulty.max(1));
            Some(PuzzleRequest { prf, difficulty })
        });
        let handle = IkeSaHandle(self.next_handle);
        self.next_handle += 1;
        let (mut ctx, _) = self.split(now);
        let created = IkeSa::respond_init(
            &mut ctx,
            handle,
            path,
            message,
            spi_i,
            number,
            algorithms,
            &payloads,
            force_encap,
            auth_puzzle,
        );
        let sa = match created {
            Ok(sa) => sa,
            Err(DropReason::Refused(notify)) => {
                self.refuse_init(path, spi_i, notify, &[]);
                return Err(DropReason::Refused(notify));
            }
            Err(other) => return Err(other),
        };
        self.half_open.insert(now, path.remote, spi_i, handle);
        self.sas.insert(handle, Box::new(sa));
        self.after(now, handle);
        Ok(())
    }

    /// Answers an IKE_SA_INIT request with a COOKIE (RFC 7296 §2.6), and a PUZZLE of
    /// `difficulty` after it (RFC 8019 §7.1.1) when puzzles are set and the request offers
    /// a PRF we have; the cookie says which, so no state is kept.
    fn demand_cookie(
        &mut self,
        path: Path,
        spi_i: u64,
        payloads: &Payloads,
        difficulty: Option<u8>,
    ) {
        let (Some(nonce), Some(offer)) = (&payloads.nonce, &payloads.sa) else {
            return;
        };
        let puzzle = difficulty.and_then(|difficulty| {
            let (prf, _) = puzzle::choose_prf(self.config.provider, offer)?;
            Some(PuzzleRequest { prf, difficulty })
        });
        let cookie = self
            .cookie
            .cookie(&nonce.data, path.remote.ip(), spi_i, puzzle);
        let mut notifies = vec![Notify::new(NotifyType::Cookie, &cookie)];
        if let Some(puzzle) = puzzle {
            notifies.push(Notify::new(NotifyType::Puzzle, &puzzle.to_bytes()));
            self.stats.puzzles_sent += 1;
        }
        self.stats.cookies_sent += 1;
        self.send_init_refusal(path, spi_i, notifies);
    }

    /// The difficulty the request's puzzle solution reached (RFC 8019 §7.1.4), if the
    /// cookie it returns came with the puzzle `asked` and the solution meets it.
    fn solved(&self, asked: PuzzleRequest, payloads: &Payloads) -> Option<u32> {
        let solution = payloads.puzzle_solution.as_ref()?;
        let cookie = payloads.notify(NotifyType::Cookie)?;
        let prf = self.config.provider.prf(asked.prf.value())?;
        puzzle::achieved(prf, solution, &[&cookie.data])
            .filter(|level| *level >= u32::from(asked.difficulty))
    }

    /// An IKE_SA_INIT response that holds only a notification, keeping no state
    /// (RFC 7296 §2.6, §1.2).
    fn refuse_init(&mut self, path: Path, spi_i: u64, notify: NotifyType, data: &[u8]) {
        self.send_init_refusal(path, spi_i, vec![Notify::new(notify, data)]);
    }

    /// An IKE_SA_INIT response of `notifies` alone.
    fn send_init_refusal(&mut self, path: Path, spi_i: u64, notifies: Vec<Notify>) {
        let message = Message {
            initiator_spi: spi_i,
            responder_spi: 0,
            minor_version: ipsec_isakmp::MINOR_VERSION,
            exchange_type: ExchangeType::IkeSaInit,
            flags: ipsec_isakmp::Flags {
                initiator: false,
                version: false,
                response: true,
            },
            message_id: 0,
            payloads: notifies.into_iter().map(Payload::Notify).collect(),
        };
        if let Ok(bytes) = message.to_vec() {
            let payload = wire(&Bytes::from(bytes), needs_marker(path.local, path.remote));
            self.transmits.push_back(Transmit { path, payload });
        }
    }

    /// Acts on every deadline that has passed: retransmissions, expiries, liveness checks,
    /// NAT-keepalives.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Each due SA acts once per call, so that no SA can hold this loop.
        let due: Vec<IkeSaHandle> = self
            .timers
            .iter()
            .take_while(|(deadline, _)| *deadline <= now)
            .map(|(_, handle)| *handle)
            .collect();
        for handle in due {
            if let Some(deadline) = self.deadlines.remove(&handle) {
                self.timers.remove(&(deadline, handle));
            }
            let (mut ctx, sas) = self.split(now);
            if let Some(sa) = sas.get_mut(&handle) {
                let _ = sa.handle_timeout(&mut ctx);
            }
            self.after(now, handle);
        }
    }

    /// The next instant [`Endpoint::handle_timeout`] has work to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.first().map(|(deadline, _)| *deadline)
    }

    /// The next datagram to send; call until `None`.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event; call until `None`.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// After an SA acted: drop it if closed, otherwise refresh its timer and indexes, and
    /// apply INITIAL_CONTACT and the `unique` policy to an SA that just came up.
    fn after(&mut self, now: Instant, handle: IkeSaHandle) {
        let verdicts = self.register(handle);
        self.reindex(handle);
        for verdict in verdicts {
            self.apply(now, verdict);
        }
    }

    /// Files an IKE SA that just came up by its identities, and says what becomes of the
    /// others with the same ones.
    fn register(&mut self, handle: IkeSaHandle) -> Vec<Verdict> {
        let Some(sa) = self.sas.get_mut(&handle) else {
            return Vec::new();
        };
        if !std::mem::take(&mut sa.just_established) || sa.is_closed() {
            return Vec::new();
        }
        let (Some(peer), Some(nonces), Some(established_at)) =
            (&sa.peer, sa.nonces(), sa.established_at)
        else {
            return Vec::new();
        };
        let Some(key) = sa.identity_key() else {
            return Vec::new();
        };
        let new = Established {
            handle,
            remote: sa.path.remote.ip(),
            created_at: sa.created_at,
            established_at,
            initiator: sa.initiator,
            nonces,
        };
        let (policy, initial_contact) = (peer.unique, sa.initial_contact);
        self.identities.establish(key, new, policy, initial_contact)
    }

    /// Closes or deletes another IKE SA as INITIAL_CONTACT or `unique` asks.
    fn apply(&mut self, now: Instant, verdict: Verdict) {
        let (Verdict::Abandon(handle) | Verdict::Delete(handle)) = verdict;
        let (mut ctx, sas) = self.split(now);
        if let Some(sa) = sas.get_mut(&handle) {
            match verdict {
                Verdict::Abandon(_) => sa.abandon(&mut ctx, CloseReason::Replaced),
                Verdict::Delete(_) => {
                    ctx.events.push_back(Event::IkeSaReplaced { handle });
                    let _ = sa.delete(&mut ctx, CloseReason::Replaced);
                }
            }
        }
        self.reindex(handle);
    }

    /// Refreshes an SA's timer and indexes, or drops it if closed.
    fn reindex(&mut self, handle: IkeSaHandle) {
        let Some(sa) = self.sas.get(&handle) else {
            return;
        };
        if !sa.is_half_open() {
            self.half_open.remove(sa.first_remote, sa.spi_i, handle);
        }
        let spis = if sa.is_closed() {
            Vec::new()
        } else {
            sa.our_spis()
        };
        let closed = sa.is_closed();
        for stale in self.spis_of.remove(&handle).unwrap_or_default() {
            if !spis.contains(&stale) && self.by_spi.get(&stale) == Some(&handle) {
                self.by_spi.remove(&stale);
            }
        }
        for spi in &spis {
            self.by_spi.entry(*spi).or_insert(handle);
        }
        if closed {
            if let Some(key) = self.sas.remove(&handle).and_then(|sa| sa.identity_key()) {
                self.identities.remove(&key, handle);
            }
            if let Some(old) = self.deadlines.remove(&handle) {
                self.timers.remove(&(old, handle));
            }
            release(&mut self.sas);
            release(&mut self.by_spi);
            release(&mut self.spis_of);
            release(&mut self.deadlines);
            release_set(&mut self.child_spis);
            return;
        }
        self.spis_of.insert(handle, spis);
        self.reschedule(handle);
    }

    fn reschedule(&mut self, handle: IkeSaHandle) {
        if let Some(old) = self.deadlines.remove(&handle) {
            self.timers.remove(&(old, handle));
        }
        if let Some(next) = self.sas.get(&handle).and_then(|sa| sa.next_deadline()) {
            self.timers.insert((next, handle));
            self.deadlines.insert(handle, next);
        }
    }
}
