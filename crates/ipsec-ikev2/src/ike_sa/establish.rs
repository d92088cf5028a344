//! Establishing an IKE SA: IKE_SA_INIT (RFC 7296 §1.2) with COOKIE (§2.6) and
//! INVALID_KE_PAYLOAD retries, NAT detection (§2.23), and IKE_AUTH with pre-shared keys
//! (§2.15), on both sides.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use ipsec_crypto::{SecretBytes, constant_time_eq};
use ipsec_isakmp::{
    AuthMethod, DhGroup, ExchangeType, Identification, KeyExchange, Message, Nonce, Notify,
    NotifyType, Payload, PuzzleRequest, PuzzleSolution, Spi,
};

use super::window::RequestKind;
use super::{
    AuthSent, Ctx, IkeSa, InitSent, Noted, PendingKeys, Secured, State, id_body, nonzero_spi,
    plain, secure_with, start_ke,
};
use crate::auth::psk_auth;
use crate::config::{ChildConfig, PeerConfig};
use crate::error::{DropReason, Error};
use crate::event::{CloseReason, Event, IkeSaHandle, Path};
use crate::identity::{identification, match_quality};
use crate::keys::derive_ike_keys;
use crate::message::Payloads;
use crate::nat::{NatState, nat_detection_hash};
use crate::proposal::{self, IkeAlgorithms};
use crate::puzzle;
use crate::sk::IkeSuite;

/// The difficulty this initiator works to when a responder leaves it the choice
/// (RFC 8019 §7.1.1.1: difficulty 0).
const OWN_PUZZLE_EFFORT: u8 = 8;

/// The hash algorithms announced in SIGNATURE_HASH_ALGORITHMS (RFC 7427 §4): SHA2-256, -384,
/// -512.
const SIGNATURE_HASHES: [u8; 6] = [0, 2, 0, 3, 0, 4];

/// Whether `message` holds an SK payload with at least an IV's and an ICV's worth of body.
fn has_sk_payload(message: &[u8]) -> bool {
    let Ok(view) = ipsec_isakmp::HeaderView::new_checked(message) else {
        return false;
    };
    ipsec_isakmp::PayloadIter::new(view.next_payload(), view.payload())
        .map_while(Result::ok)
        .any(|raw| raw.payload_type == ipsec_isakmp::PayloadType::Encrypted && raw.body.len() >= 16)
}

/// The Puzzle Solution payload before the SK payload of `message` (RFC 8019 §7.2.2).
fn outer_puzzle_solution(message: &[u8]) -> Option<PuzzleSolution> {
    let view = ipsec_isakmp::HeaderView::new_checked(message).ok()?;
    ipsec_isakmp::PayloadIter::new(view.next_payload(), view.payload())
        .map_while(Result::ok)
        .find(|raw| raw.payload_type == ipsec_isakmp::PayloadType::PuzzleSolution)
        .and_then(|raw| PuzzleSolution::parse(raw.body).ok())
}

/// The solution to `request`, the puzzle that came with `cookie`, if its PRF is ours and it
/// is no harder than we solve (RFC 8019 §7.1.2, §9); otherwise the plain cookie is sent
/// back. Difficulty 0 leaves the effort to us (§7.1.1.1).
fn solve_cookie_puzzle(
    ctx: &Ctx<'_>,
    request: PuzzleRequest,
    cookie: &[u8],
) -> Option<PuzzleSolution> {
    let difficulty = match request.difficulty {
        0 => OWN_PUZZLE_EFFORT.min(ctx.config.max_puzzle_difficulty),
        asked => asked,
    };
    solve_puzzle(ctx, request.prf, difficulty, &[cookie])
}

/// Four keys whose PRF over `parts` end in `difficulty` zero bits, if the PRF is ours and
/// the difficulty within [`EndpointConfig::max_puzzle_difficulty`](crate::EndpointConfig);
/// keys are tried up to 64 times the number expected to be needed.
fn solve_puzzle(
    ctx: &Ctx<'_>,
    prf: ipsec_isakmp::PrfId,
    difficulty: u8,
    parts: &[&[u8]],
) -> Option<PuzzleSolution> {
    let limit = ctx.config.max_puzzle_difficulty;
    if limit == 0 || difficulty > limit {
        return None;
    }
    let prf = ctx.config.provider.prf(prf.value())?;
    let tries = 1u64.checked_shl(u32::from(difficulty))?.saturating_mul(64);
    puzzle::solve(prf, parts, difficulty, puzzle::KEY_LEN, tries)
}

impl IkeSa {
    // ---------------------------------------------------------------- initiator

    /// Starts an IKE SA as initiator: the IKE_SA_INIT request (RFC 7296 §1.2); `child` is
    /// the Child SA to ask for in IKE_AUTH.
    pub(crate) fn initiate(
        ctx: &mut Ctx<'_>,
        handle: IkeSaHandle,
        peer: Arc<PeerConfig>,
        child: Arc<ChildConfig>,
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
        sa.auth_child = Some(child);
        sa.expires = Some(ctx.now + ctx.config.establish_timeout);
        let ke = start_ke(ctx, group)?;
        let nonce = ctx.nonce()?;
        sa.state = State::InitSent(Box::new(InitSent {
            ke,
            nonce,
            cookie: None,
            puzzle_solution: None,
            noted: None,
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
            // RFC 7296 §2.6: the cookie first; RFC 8019 §7.1.2: the solution next.
            payloads.push(Payload::Notify(Notify::new(NotifyType::Cookie, cookie)));
            if let Some(solution) = &init.puzzle_solution {
                payloads.push(Payload::PuzzleSolution(solution.clone()));
            }
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
        self.window.next_request_id = 0;
        self.send_request(
            ctx,
            RequestKind::IkeSaInit,
            ExchangeType::IkeSaInit,
            &payloads,
        )?;
        let message = self
            .window
            .outstanding
            .as_ref()
            .map(|o| strip_marker(&o.datagram))
            .unwrap_or_default();
        if let State::InitSent(init) = &mut self.state {
            init.request = message;
        }
        Ok(())
    }

    pub(super) fn on_init_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        path: Path,
        message: &[u8],
        spi_r: u64,
    ) -> Result<(), DropReason> {
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let payloads = Payloads::sort(Message::parse(message)?.payloads);
        let State::InitSent(init) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(DropReason::Unexpected);
        };
        // Nothing in an IKE_SA_INIT response is authenticated: a refusal or a reply that
        // does not fit is noted, and the real response awaited (RFC 7296 §2.21.1).
        // COOKIE: retry with it, all else unchanged (RFC 7296 §2.6), with the solution of
        // its puzzle if one came and we can afford it (RFC 8019 §7.1.2).
        if let Some(cookie) = payloads.notify(NotifyType::Cookie) {
            let puzzle = payloads
                .notify(NotifyType::Puzzle)
                .and_then(|n| PuzzleRequest::parse(&n.data).ok());
            let cookie = cookie.data.clone();
            return self.note(init, Noted::Cookie { cookie, puzzle }, NotifyType::Cookie);
        }
        if let Some(notify) = payloads.notify(NotifyType::InvalidKePayload) {
            let wanted = notify.requested_group();
            let offered =
                wanted.is_some_and(|g| peer.ike_proposals.iter().any(|p| p.dh.contains(&g)));
            let noted = match (wanted, offered) {
                (Some(group), true) => Noted::Group(group),
                _ => Noted::Refusal(CloseReason::NoProposalChosen),
            };
            return self.note(init, noted, NotifyType::InvalidKePayload);
        }
        if let Some(error) = payloads.error() {
            let reason = match error {
                NotifyType::NoProposalChosen => CloseReason::NoProposalChosen,
                other => CloseReason::PeerError(other),
            };
            return self.note(init, Noted::Refusal(reason), error);
        }
        let (Some(sa), Some(ke), Some(nonce)) = (&payloads.sa, &payloads.ke, &payloads.nonce)
        else {
            return self.note(
                init,
                Noted::Refusal(CloseReason::ProtocolError),
                NotifyType::InvalidSyntax,
            );
        };
        let Ok(algorithms) = proposal::accept_chosen_ike(&peer.ike_proposals, sa) else {
            return self.note(
                init,
                Noted::Refusal(CloseReason::ProtocolError),
                NotifyType::InvalidSyntax,
            );
        };
        if spi_r == 0 || ke.group != algorithms.dh || ke.group.value() != init.ke.group() {
            return self.note(
                init,
                Noted::Refusal(CloseReason::ProtocolError),
                NotifyType::InvalidSyntax,
            );
        }
        if !super::acceptable_public(ctx.config.provider, ke) {
            return self.note(
                init,
                Noted::Refusal(CloseReason::ProtocolError),
                NotifyType::InvalidSyntax,
            );
        }
        // RFC 8019 §7.2.2: a PUZZLE in the response must be solved before IKE_AUTH, over
        // Nr | SPIr, with a difficulty that is not 0; one we cannot solve is noted (the
        // responder would drop our IKE_AUTH, and the response may be forged).
        let auth_solution = match payloads.notify(NotifyType::Puzzle) {
            None => None,
            Some(notify) => {
                let solution = PuzzleRequest::parse(&notify.data)
                    .ok()
                    .filter(|request| request.difficulty != 0)
                    .and_then(|request| {
                        let spi_r = spi_r.to_be_bytes();
                        solve_puzzle(ctx, request.prf, request.difficulty, &[&nonce.data, &spi_r])
                    });
                let Some(solution) = solution else {
                    return self.note(
                        init,
                        Noted::Refusal(CloseReason::PeerError(NotifyType::Puzzle)),
                        NotifyType::Puzzle,
                    );
                };
                Some(solution)
            }
        };
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
        self.window.outstanding = None;
        let child = self.auth_child.clone().ok_or(Error::Internal("no child"))?;
        if super::child::usable(&child, self.nat.encapsulate()).is_empty() {
            // Only AH was configured and a NAT (or forced encapsulation) rules it out
            // (RFC 3948 carries ESP only): nothing to ask for in IKE_AUTH.
            ctx.events.push_back(Event::ChildSaFailed {
                handle: self.handle,
                child: child.name.clone(),
                reason: NotifyType::NoProposalChosen,
                rekeying: None,
            });
            self.close(ctx, CloseReason::NoProposalChosen);
            return Ok(());
        }
        let child_spi = ctx.child_spi()?;
        self.state = State::AuthSent(Box::new(AuthSent {
            secured,
            child_spi,
            child: child.clone(),
        }));
        if let Err(error) = self.send_auth_request(ctx, &peer, &child, child_spi, auth_solution) {
            ctx.child_spis.remove(&child_spi);
            let reason = match error {
                // The key went away since the initiation was accepted: nothing to sign with.
                Error::MissingCredentials => CloseReason::AuthenticationFailed,
                _ => CloseReason::ProtocolError,
            };
            self.close(ctx, reason);
            return Err(error.into());
        }
        self.schedule_keepalive(ctx);
        Ok(())
    }

    /// Notes an unprotected answer to our IKE_SA_INIT request, to be acted on only if the
    /// real response has not come when the request is next due (RFC 7296 §2.21.1). A
    /// COOKIE or INVALID_KE_PAYLOAD, which ask us to go on, outranks a refusal; of two of
    /// a kind the later counts.
    fn note(
        &mut self,
        mut init: Box<InitSent>,
        noted: Noted,
        notify: NotifyType,
    ) -> Result<(), DropReason> {
        let keep = matches!(noted, Noted::Refusal(_))
            && matches!(init.noted, Some(Noted::Cookie { .. } | Noted::Group(_)));
        if !keep {
            init.noted = Some(noted);
        }
        self.state = State::InitSent(init);
        Err(DropReason::Noted(notify))
    }

    /// When our IKE_SA_INIT request falls due with no real response: acts on what was
    /// noted. A refusal closes the IKE SA; a COOKIE (its puzzle solved now, so that forged
    /// puzzles cost nothing) or a group is a new request. Whether it acted.
    pub(super) fn init_due(&mut self, ctx: &mut Ctx<'_>) -> Result<bool, Error> {
        let due = self.window.deadline().is_some_and(|at| at <= ctx.now);
        let State::InitSent(init) = &mut self.state else {
            return Ok(false);
        };
        if !due {
            return Ok(false);
        }
        match init.noted.take() {
            None => return Ok(false),
            Some(Noted::Refusal(reason)) => {
                self.close(ctx, reason);
                return Ok(true);
            }
            Some(Noted::Cookie { cookie, puzzle }) => {
                init.puzzle_solution = puzzle.and_then(|p| solve_cookie_puzzle(ctx, p, &cookie));
                init.cookie = Some(cookie);
            }
            Some(Noted::Group(group)) => init.ke = start_ke(ctx, group)?,
        }
        self.window.outstanding = None;
        self.send_init_request(ctx)?;
        Ok(true)
    }

    fn send_auth_request(
        &mut self,
        ctx: &mut Ctx<'_>,
        peer: &PeerConfig,
        child: &ChildConfig,
        child_spi: u32,
        puzzle_solution: Option<PuzzleSolution>,
    ) -> Result<(), Error> {
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        let id_body = id_body(&peer.local_id)?;
        let remote = exact_remote_id(peer);
        let psk = ctx
            .config
            .credentials
            .shared_key(&peer.local_id, remote.as_ref())
            .ok_or(Error::MissingCredentials)?;
        let auth = psk_auth(
            secured.suite.prf,
            psk.expose(),
            &secured.init_request,
            &secured.nr,
            secured.keys.sk_pi.expose(),
            &id_body,
        )?;
        // A puzzle solution goes before the SK payload (RFC 8019 §7.2.2).
        let mut payloads: Vec<Payload> = puzzle_solution
            .map(Payload::PuzzleSolution)
            .into_iter()
            .collect();
        payloads.push(Payload::IdInitiator(peer.local_id.clone()));
        // RFC 7296 §2.4: INITIAL_CONTACT says we hold no other IKE SA with the peer.
        let contact = remote.as_ref().is_some_and(|remote| {
            ctx.identities
                .has_contact(&peer.name, &peer.local_id, remote)
        });
        if peer.sends_initial_contact() && !contact {
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::InitialContact,
                &[],
            )));
        }
        if let Some(remote) = remote {
            payloads.push(Payload::IdResponder(remote));
        }
        payloads.push(Payload::Authentication(ipsec_isakmp::Authentication {
            method: AuthMethod::SharedKeyMic,
            data: auth.expose().to_vec(),
        }));
        payloads.extend(super::child::request_payloads(
            child,
            child_spi,
            (&child.local_ts, &child.remote_ts),
            false,
            self.nat.encapsulate(),
        ));
        self.send_request(ctx, RequestKind::IkeAuth, ExchangeType::IkeAuth, &payloads)
    }

    pub(super) fn on_auth_response(
        &mut self,
        ctx: &mut Ctx<'_>,
        payloads: Payloads,
    ) -> Result<(), DropReason> {
        let peer = self.peer.clone().ok_or(Error::Internal("no peer"))?;
        let State::AuthSent(auth_sent) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(DropReason::Unexpected);
        };
        let AuthSent {
            secured,
            child_spi,
            child,
        } = *auth_sent;
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
        let identity_ok = match_quality(&peer.remote_id, id_r).is_some();
        let psk = ctx
            .config
            .credentials
            .shared_key(&peer.local_id, Some(id_r));
        let verified = match (&psk, identity_ok) {
            (Some(psk), true) => {
                let expected = psk_auth(
                    secured.suite.prf,
                    psk.expose(),
                    &secured.init_response,
                    &secured.ni,
                    secured.keys.sk_pr.expose(),
                    &id_body(id_r)?,
                )?;
                auth.method == AuthMethod::SharedKeyMic
                    && constant_time_eq(expected.expose(), &auth.data)
            }
            _ => false,
        };
        if !verified {
            ctx.child_spis.remove(&child_spi);
            self.close(ctx, CloseReason::AuthenticationFailed);
            return Ok(());
        }
        self.window.outstanding = None;
        self.expires = None;
        self.tfc_padding = !payloads.has(NotifyType::EspTfcPaddingNotSupported);
        self.mark_established(ctx, id_r.clone());
        ctx.events
            .push_back(self.established_event(ctx, &secured, id_r.clone()));
        match self.accept_auth_child(ctx, &child, &secured, &payloads, child_spi) {
            Ok(child) => self.add_child(child),
            Err(reason) => {
                ctx.child_spis.remove(&child_spi);
                ctx.events.push_back(Event::ChildSaFailed {
                    handle: self.handle,
                    child: child.name.clone(),
                    reason,
                    rekeying: None,
                });
            }
        }
        let mut secured = Box::new(secured);
        secured.forget_spent_secrets();
        self.state = State::Established(secured);
        self.start_lifetime(ctx)?;
        Ok(())
    }

    // ---------------------------------------------------------------- responder

    /// The responder's IKE SA after an acceptable IKE_SA_INIT request; the endpoint has
    /// already checked cookie and proposal. With `force_encap` (the configuration the
    /// request's addresses chose asks for it) the NAT_DETECTION_SOURCE_IP we send cannot
    /// match, so that both sides encapsulate ESP in UDP (RFC 7296 §2.23).
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
        force_encap: bool,
        auth_puzzle: Option<PuzzleRequest>,
    ) -> Result<Self, DropReason> {
        let (Some(_), Some(nonce)) = (&request_payloads.ke, &request_payloads.nonce) else {
            return Err(DropReason::MissingPayload);
        };
        let suite = IkeSuite::lookup(ctx.config.provider, algorithms)
            .ok_or(Error::Internal("chosen suite not in provider"))?;
        let mut sa = Self::base(handle, false, path, ctx.now);
        sa.spi_i = spi_i;
        sa.spi_r = nonzero_spi(ctx)?;
        let exchange = start_ke(ctx, algorithms.dh)?;
        let public = exchange.public_value().to_vec();
        let nr = ctx.nonce()?;
        sa.nat = detect_nat(request_payloads, spi_i, 0, path, force_encap);
        let source_hash = if force_encap {
            // A hash no address gives: the initiator then sees a NAT and encapsulates.
            ctx.random::<20>()?
        } else {
            nat_detection_hash(spi_i, sa.spi_r, path.local)
        };
        let mut payloads = vec![
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
            Payload::Notify(Notify::new(NotifyType::NatDetectionSourceIp, &source_hash)),
            Payload::Notify(Notify::new(
                NotifyType::NatDetectionDestinationIp,
                &nat_detection_hash(spi_i, sa.spi_r, path.remote),
            )),
            Payload::Notify(Notify::new(
                NotifyType::SignatureHashAlgorithms,
                &SIGNATURE_HASHES,
            )),
        ];
        if let Some(puzzle) = auth_puzzle {
            // RFC 8019 §7.2.1: the IKE_AUTH puzzle comes in the regular response.
            payloads.push(Payload::Notify(Notify::new(
                NotifyType::Puzzle,
                &puzzle.to_bytes(),
            )));
        }
        let envelope = sa.envelope(ExchangeType::IkeSaInit, 0, true);
        let response = Bytes::from(plain(envelope, payloads)?);
        let datagram = ctx.send(path, &response);
        sa.window.received_request(0, ctx.digest(request));
        sa.window.sent_response(0, datagram);
        sa.expires = Some(ctx.now + ctx.config.half_open_timeout);
        sa.state = State::KeyPending(Box::new(PendingKeys {
            suite,
            exchange,
            ni: nonce.data.clone(),
            nr,
            init_request: Bytes::copy_from_slice(request),
            init_response: response,
            puzzle: auth_puzzle,
        }));
        Ok(sa)
    }

    /// On the first IKE_AUTH request of a half-open SA: checks the solution of the
    /// IKE_AUTH puzzle if one was set (RFC 8019 §7.2.4: before any Diffie-Hellman; a
    /// request without one, or with a wrong one, is dropped unanswered), then computes g^ir
    /// and the keys (RFC 7296 §2.14). The keys stay, whatever the request's ICV says, so
    /// that retransmissions cost no more (RFC 8019 §4.6).
    pub(super) fn compute_pending_keys(
        &mut self,
        ctx: &mut Ctx<'_>,
        message: &[u8],
    ) -> Result<(), DropReason> {
        let State::KeyPending(pending) = &self.state else {
            return Ok(());
        };
        // Nothing to decrypt, nothing to compute keys for: a bare header must not buy a DH.
        if !has_sk_payload(message) {
            return Err(DropReason::MissingPayload);
        }
        if let Some(asked) = pending.puzzle {
            let solution = outer_puzzle_solution(message).ok_or(DropReason::MissingPayload)?;
            let prf = ctx
                .config
                .provider
                .prf(asked.prf.value())
                .ok_or(Error::Internal("puzzle PRF not in provider"))?;
            let spi_r = self.spi_r.to_be_bytes();
            let level = puzzle::achieved(prf, &solution, &[&pending.nr, &spi_r]);
            if level.is_none_or(|level| level < u32::from(asked.difficulty)) {
                return Err(DropReason::PuzzleNotSolved);
            }
        }
        let State::KeyPending(pending) = std::mem::replace(&mut self.state, State::Closed) else {
            return Ok(());
        };
        let PendingKeys {
            suite,
            exchange,
            ni,
            nr,
            init_request,
            init_response,
            ..
        } = *pending;
        let peer_public = Message::parse(&init_request)
            .ok()
            .and_then(|m| Payloads::sort(m.payloads).ke)
            .map(|ke| ke.data)
            .unwrap_or_default();
        let shared = match exchange.complete(&peer_public) {
            Ok(shared) => shared,
            Err(_) => {
                // Checked at IKE_SA_INIT already; no keys can come of it.
                self.close(ctx, CloseReason::ProtocolError);
                return Err(DropReason::Refused(NotifyType::InvalidSyntax));
            }
        };
        let secured = secure(
            suite,
            false,
            &shared,
            ni,
            nr,
            self.spi_i,
            self.spi_r,
            init_request,
            init_response,
        )?;
        self.state = State::InitReplied(Box::new(secured));
        Ok(())
    }

    /// Answers a retransmission of the IKE_SA_INIT request that made this half-open SA
    /// (RFC 7296 §2.1), if it is one.
    pub(crate) fn answer_init_retransmission(
        &mut self,
        ctx: &mut Ctx<'_>,
        request: &[u8],
    ) -> Result<(), DropReason> {
        ctx.repeat(&mut self.window, self.path, 0, request)
            .unwrap_or(Err(DropReason::Unexpected))
    }

    pub(super) fn on_auth_request(
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
            return self.refuse_auth(ctx, message_id, NotifyType::InvalidSyntax, None, None);
        };
        let Some(auth) = &payloads.auth else {
            return self.refuse_auth(ctx, message_id, NotifyType::InvalidSyntax, Some(id_i), None);
        };
        let secured = self.secured().ok_or(Error::Internal("no keys"))?;
        let addresses = (self.path.local.ip(), self.first_remote.ip());
        let chosen = crate::select::responder_peer(
            &ctx.config.responder_peers,
            addresses,
            &id_i,
            payloads.id_r.as_ref(),
            secured.suite.algorithms,
        );
        let Some(peer) = chosen else {
            return self.refuse_auth(
                ctx,
                message_id,
                NotifyType::AuthenticationFailed,
                Some(id_i),
                None,
            );
        };
        let name = Some(peer.name.clone());
        if ctx.identities.over_limit(
            &peer,
            &id_i,
            ctx.config.dos.ike_sas_per_identity,
            payloads.has(NotifyType::InitialContact),
        ) {
            return self.refuse_auth(
                ctx,
                message_id,
                NotifyType::AuthenticationFailed,
                Some(id_i),
                name,
            );
        }
        let Some(psk) = ctx
            .config
            .credentials
            .shared_key(&peer.local_id, Some(&id_i))
        else {
            return self.refuse_auth(
                ctx,
                message_id,
                NotifyType::AuthenticationFailed,
                Some(id_i),
                name,
            );
        };
        let expected = psk_auth(
            secured.suite.prf,
            psk.expose(),
            &secured.init_request,
            &secured.nr,
            secured.keys.sk_pi.expose(),
            &id_body(&id_i)?,
        )?;
        if auth.method != AuthMethod::SharedKeyMic
            || !constant_time_eq(expected.expose(), &auth.data)
        {
            return self.refuse_auth(
                ctx,
                message_id,
                NotifyType::AuthenticationFailed,
                Some(id_i),
                name,
            );
        }
        // swanctl's `unique = keep`: the first IKE SA of an identity stays, a second from
        // another address is refused.
        if ctx
            .identities
            .keeps_out(&peer, &id_i, self.first_remote.ip(), self.created_at)
        {
            return self.refuse_auth(
                ctx,
                message_id,
                NotifyType::AuthenticationFailed,
                Some(id_i),
                name,
            );
        }
        let our_auth = psk_auth(
            secured.suite.prf,
            psk.expose(),
            &secured.init_response,
            &secured.ni,
            secured.keys.sk_pr.expose(),
            &id_body(&peer.local_id)?,
        )?;
        self.peer = Some(peer.clone());
        self.expires = None;
        self.tfc_padding = !payloads.has(NotifyType::EspTfcPaddingNotSupported);
        self.initial_contact = payloads.has(NotifyType::InitialContact);
        let mut response = vec![
            Payload::IdResponder(peer.local_id.clone()),
            Payload::Authentication(ipsec_isakmp::Authentication {
                method: AuthMethod::SharedKeyMic,
                data: our_auth.expose().to_vec(),
            }),
        ];
        let established_event = {
            let secured = self.secured().ok_or(Error::Internal("no keys"))?;
            self.established_event(ctx, secured, id_i.clone())
        };
        self.announced = true;
        let child = self.respond_auth_child(ctx, &peer, &payloads, &mut response);
        self.send_response(ctx, ExchangeType::IkeAuth, message_id, &response)?;
        self.mark_established(ctx, id_i.clone());
        ctx.events.push_back(established_event);
        let State::InitReplied(secured) = std::mem::replace(&mut self.state, State::Closed) else {
            return Err(Error::Internal("state changed").into());
        };
        match child {
            Ok((child, ready)) => {
                self.add_child(child);
                ctx.events.push_back(Event::ChildSaReady(ready));
            }
            Err((name, reason)) => {
                ctx.events.push_back(Event::Refused {
                    handle: Some(self.handle),
                    connection: Some(peer.name.clone()),
                    remote: self.path.remote,
                    peer_id: Some(id_i),
                    reason,
                });
                ctx.events.push_back(Event::ChildSaFailed {
                    handle: self.handle,
                    child: name,
                    reason,
                    rekeying: None,
                });
            }
        }
        let mut secured = secured;
        secured.forget_spent_secrets();
        self.state = State::Established(secured);
        self.schedule_keepalive(ctx);
        self.start_lifetime(ctx)?;
        Ok(())
    }

    /// Records the IKE SA as established with the peer `peer_id`.
    fn mark_established(&mut self, ctx: &Ctx<'_>, peer_id: Identification) {
        self.peer_id = Some(peer_id);
        self.established_at = Some(ctx.now);
        self.just_established = true;
    }

    /// Answers a failed IKE_AUTH with the notification, then deletes the IKE SA
    /// (RFC 7296 §2.21.2), and reports the refusal with the peer's address and identity.
    fn refuse_auth(
        &mut self,
        ctx: &mut Ctx<'_>,
        message_id: u32,
        notify: NotifyType,
        peer_id: Option<Identification>,
        connection: Option<String>,
    ) -> Result<(), DropReason> {
        self.send_response(
            ctx,
            ExchangeType::IkeAuth,
            message_id,
            &[Payload::Notify(Notify::new(notify, &[]))],
        )?;
        ctx.events.push_back(Event::Refused {
            handle: Some(self.handle),
            connection,
            remote: self.path.remote,
            peer_id,
            reason: notify,
        });
        let reason = match notify {
            NotifyType::AuthenticationFailed => CloseReason::AuthenticationFailed,
            other => CloseReason::PeerError(other),
        };
        // A failed IKE_AUTH is worth reporting (someone tried), unlike a silent expiry.
        self.announced = true;
        self.close(ctx, reason);
        Err(DropReason::Refused(notify))
    }

    fn established_event(
        &self,
        ctx: &Ctx<'_>,
        secured: &Secured,
        peer_id: Identification,
    ) -> Event {
        let keys = self.key_log(ctx, secured);
        Event::IkeSaEstablished {
            handle: self.handle,
            connection: self
                .peer
                .as_ref()
                .map(|p| p.name.clone())
                .unwrap_or_default(),
            initiator: self.initiator,
            peer_id,
            algorithms: secured.suite.algorithms,
            nat: self.nat,
            path: self.path,
            keys,
        }
    }
}

/// The peer identity an initiator names in IDr and looks its key up with: the configured
/// one if it is exact (RFC 7296 §3.5: IDr is optional and then names whom we want).
fn exact_remote_id(peer: &PeerConfig) -> Option<Identification> {
    match &peer.remote_id {
        ipsec_sad::IdMatcher::Exact(id) => identification(id),
        _ => None,
    }
}

fn strip_marker(datagram: &Bytes) -> Bytes {
    if datagram.starts_with(&ipsec_isakmp::NON_ESP_MARKER) {
        datagram.slice(ipsec_isakmp::NON_ESP_MARKER.len()..)
    } else {
        datagram.clone()
    }
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
    secure_with(suite, keys, initiator, ni, nr, init_request, init_response)
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
