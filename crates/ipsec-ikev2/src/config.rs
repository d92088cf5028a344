//! What the caller configures: the endpoint, the peers it talks to, their proposals, traffic
//! selectors, timers and lifetimes.

use std::sync::Arc;
use std::time::Duration;

use ipsec_crypto::{CryptoProvider, RUST_CRYPTO};
use ipsec_isakmp::{DhGroup, EncrId, EsnId, Identification, IntegId, PrfId, TrafficSelector};
pub use ipsec_sad::{AddrRange, IdMatcher, IpsecProtocol, PeerId};

use crate::credentials::{Credentials, SharedKeys};
use crate::error::Error;

/// An encryption algorithm and, for variable-length ciphers, its key length in bits
/// (RFC 7296 §3.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Encryption {
    /// Transform Type 1 ID.
    pub id: EncrId,
    /// The Key Length attribute; `None` for fixed-length ciphers such as ChaCha20-Poly1305.
    pub key_bits: Option<u16>,
}

impl Encryption {
    /// ENCR_AES_GCM_16 with `bits` (RFC 4106, RFC 5282).
    pub const fn aes_gcm_16(bits: u16) -> Self {
        Self {
            id: EncrId::AesGcm16,
            key_bits: Some(bits),
        }
    }

    /// ENCR_AES_CBC with `bits` (RFC 3602).
    pub const fn aes_cbc(bits: u16) -> Self {
        Self {
            id: EncrId::AesCbc,
            key_bits: Some(bits),
        }
    }

    /// ENCR_CHACHA20_POLY1305 (RFC 7634).
    pub const fn chacha20_poly1305() -> Self {
        Self {
            id: EncrId::Chacha20Poly1305,
            key_bits: None,
        }
    }

    /// The key length in bits the crypto provider files this cipher under: the Key Length
    /// attribute, else 0 for ENCR_NULL (no key) and 256 for the fixed-length ciphers
    /// (ChaCha20-Poly1305).
    pub fn effective_key_bits(&self) -> u16 {
        match (self.key_bits, self.id) {
            (Some(bits), _) => bits,
            (None, EncrId::Null) => 0,
            (None, _) => 256,
        }
    }

    /// Whether this is an AEAD, which takes no separate integrity algorithm (RFC 5282 §8).
    pub fn is_aead(&self) -> bool {
        matches!(
            self.id,
            EncrId::AesGcm8
                | EncrId::AesGcm12
                | EncrId::AesGcm16
                | EncrId::AesCcm8
                | EncrId::AesCcm12
                | EncrId::AesCcm16
                | EncrId::Chacha20Poly1305
                | EncrId::NullAuthAesGmac
        )
    }
}

/// One IKE SA proposal: alternatives for each transform type, in preference order
/// (RFC 7296 §3.3). An AEAD takes no integrity algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IkeProposal {
    /// Encryption algorithms.
    pub encryption: Vec<Encryption>,
    /// Integrity algorithms; empty with AEADs.
    pub integrity: Vec<IntegId>,
    /// Pseudorandom functions.
    pub prf: Vec<PrfId>,
    /// Diffie-Hellman groups; the first is the one the initiator sends a KE for.
    pub dh: Vec<DhGroup>,
}

/// One Child SA proposal, for ESP or AH (RFC 7296 §3.3; protocol ID 3 or 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChildProposal {
    /// ESP or AH.
    pub protocol: IpsecProtocol,
    /// Encryption algorithms; empty for AH, which only authenticates (RFC 4302).
    pub encryption: Vec<Encryption>,
    /// Integrity algorithms; empty with AEADs.
    pub integrity: Vec<IntegId>,
    /// Diffie-Hellman groups for PFS in CREATE_CHILD_SA; empty for none. Not used for the
    /// Child SA that IKE_AUTH creates (RFC 7296 §1.2).
    pub dh: Vec<DhGroup>,
    /// Extended sequence numbers: offered alternatives.
    pub esn: Vec<EsnId>,
}

impl ChildProposal {
    /// An ESP proposal.
    pub fn esp(encryption: Vec<Encryption>, integrity: Vec<IntegId>) -> Self {
        Self {
            protocol: IpsecProtocol::Esp,
            encryption,
            integrity,
            dh: Vec::new(),
            esn: Vec::new(),
        }
    }

    /// An AH proposal (RFC 4302): integrity only.
    pub fn ah(integrity: Vec<IntegId>) -> Self {
        Self {
            protocol: IpsecProtocol::Ah,
            encryption: Vec::new(),
            integrity,
            dh: Vec::new(),
            esn: Vec::new(),
        }
    }
}

/// The IPsec mode of a Child SA (RFC 4301 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// Tunnel mode: whole inner packets (the default of IKEv2).
    #[default]
    Tunnel,
    /// Transport mode, asked for with USE_TRANSPORT_MODE (RFC 7296 §1.3.1).
    Transport,
}

/// Soft and hard limits of a Child SA: the data plane starts a rekey at the soft ones and
/// retires the SA at the hard ones (RFC 4301 §4.4.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lifetimes {
    /// Time until a rekey is due.
    pub soft_time: Option<Duration>,
    /// Time until the SA must go.
    pub hard_time: Option<Duration>,
    /// Bytes until a rekey is due.
    pub soft_bytes: Option<u64>,
    /// Bytes until the SA must go.
    pub hard_bytes: Option<u64>,
    /// Packets until a rekey is due.
    pub soft_packets: Option<u64>,
    /// Packets until the SA must go.
    pub hard_packets: Option<u64>,
    /// Up to this much, chosen at random for each Child SA, is taken off `soft_time`, so
    /// that two peers with the same policy do not start their rekeys at the same moment
    /// (RFC 7296 §2.8.1: rekeying requests SHOULD be jittered). `None` takes a tenth of
    /// `soft_time`, or less if the gap to `hard_time` is smaller.
    pub jitter: Option<Duration>,
    /// Up to this many bytes, chosen at random for each Child SA, are taken off
    /// `soft_bytes`; `None` takes none.
    pub byte_jitter: Option<u64>,
    /// Up to this many packets, chosen at random for each Child SA, are taken off
    /// `soft_packets`; `None` takes none.
    pub packet_jitter: Option<u64>,
}

impl Lifetimes {
    /// The largest amount [`Lifetimes::jitter`] may take off `soft_time`.
    pub fn max_jitter(&self) -> Duration {
        let Some(soft) = self.soft_time else {
            return Duration::ZERO;
        };
        let default = soft / 10;
        let gap = self
            .hard_time
            .map_or(default, |hard| hard.saturating_sub(soft));
        self.jitter.unwrap_or(default.min(gap)).min(soft)
    }
}

/// When an IKE SA is rekeyed and when it must go (RFC 7296 §2.8: each end enforces its own
/// lifetime policy; lifetimes are not negotiated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IkeLifetime {
    /// Time from establishment (or the last rekey) until we rekey the IKE SA; `None` never
    /// rekeys it on our initiative.
    pub rekey_time: Option<Duration>,
    /// Up to this much, at random, is taken off `rekey_time` (RFC 7296 §2.8.1); `None`
    /// takes a tenth of it.
    pub jitter: Option<Duration>,
    /// Time from establishment (or the last rekey) after which the IKE SA is deleted if no
    /// rekey replaced it (RFC 7296 §2.8: an SA whose rekeying fails MUST be closed);
    /// `None` keeps it.
    pub hard_time: Option<Duration>,
}

/// What a Child SA of a peer looks like (swanctl.conf's `children.NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildConfig {
    /// Its name, for events and logs.
    pub name: String,
    /// ESP and AH proposals in preference order.
    pub proposals: Vec<ChildProposal>,
    /// Our side's traffic selectors.
    pub local_ts: Vec<TrafficSelector>,
    /// The peer's side's traffic selectors.
    pub remote_ts: Vec<TrafficSelector>,
    /// Tunnel or transport.
    pub mode: Mode,
    /// Lifetimes handed to the data plane.
    pub lifetimes: Lifetimes,
    /// Whether we accept TFC padding from the peer; if not, we send
    /// ESP_TFC_PADDING_NOT_SUPPORTED (RFC 7296 §3.10.1).
    pub accept_tfc_padding: bool,
}

impl Default for ChildConfig {
    /// No name, no proposals, no selectors yet; tunnel mode, no lifetimes, TFC padding
    /// accepted.
    fn default() -> Self {
        Self {
            name: String::new(),
            proposals: Vec::new(),
            local_ts: Vec::new(),
            remote_ts: Vec::new(),
            mode: Mode::Tunnel,
            lifetimes: Lifetimes::default(),
            accept_tfc_padding: true,
        }
    }
}

/// How one side of an IKE SA proves its identity (swanctl.conf's `local.auth` and
/// `remote.auth`). Each side is chosen on its own, as swanctl allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum AuthMethod {
    /// A pre-shared key (RFC 7296 §2.15), found in the endpoint's
    /// [`Credentials`](crate::Credentials) by the two identities.
    #[default]
    Psk,
}

/// What to do when a peer identity that already has an IKE SA establishes another one
/// (swanctl.conf's `unique`). The identities compared are ours and the peer's, within one
/// connection. Under `Keep` and `Replace`, two IKE SAs initiated by different ends (a
/// crossing) are settled by the lowest nonce, as simultaneous rekeys are (RFC 7296
/// §2.8.1), so both ends keep the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UniquePolicy {
    /// Keep both; only an INITIAL_CONTACT from the peer (RFC 7296 §2.4) replaces the old.
    #[default]
    No,
    /// Keep both, and ignore INITIAL_CONTACT.
    Never,
    /// Keep the old IKE SA: as responder, refuse a new one from another address with
    /// AUTHENTICATION_FAILED (strongSwan's rule; from the same address it is a
    /// reauthentication and allowed).
    Keep,
    /// Delete the old IKE SA once the new one is up.
    Replace,
}

/// A peer: who we are to it, who it must be, how each proves it, and what to negotiate
/// (swanctl.conf's `connections.NAME`). `..PeerConfig::default()` fills in what a test or
/// a small program does not care about.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The connection's name, for events and logs.
    pub name: String,
    /// Our addresses a responder accepts an IKE_SA_INIT on for this peer; empty: any.
    pub local_addrs: Vec<AddrRange>,
    /// The peer addresses a responder accepts an IKE_SA_INIT from for this peer; empty:
    /// any.
    pub remote_addrs: Vec<AddrRange>,
    /// Our identity, sent in IDi or IDr.
    pub local_id: Identification,
    /// The identities the peer may prove. Only an exact identity is sent in IDr by an
    /// initiator (RFC 7296 §3.5); [`IdMatcher::Any`] accepts any identity that
    /// authenticates.
    pub remote_id: IdMatcher,
    /// How we authenticate.
    pub local_auth: AuthMethod,
    /// How the peer must authenticate.
    pub remote_auth: AuthMethod,
    /// IKE SA proposals in preference order.
    pub ike_proposals: Vec<IkeProposal>,
    /// The Child SA configurations. As initiator, the one an initiation names comes with
    /// IKE_AUTH; as responder, the first whose proposals and selectors fit the peer's is
    /// chosen, in IKE_AUTH and in CREATE_CHILD_SA (RFC 7296 §1.3.1).
    pub children: Vec<Arc<ChildConfig>>,
    /// When the IKE SA is rekeyed (RFC 7296 §1.3.2) and deleted.
    pub ike_lifetime: IkeLifetime,
    /// The peer's NAT-T port, to which IKE moves when a NAT is detected (RFC 7296 §2.23).
    pub remote_nat_t_port: u16,
    /// Behave as if a NAT were present: move to the NAT-T port and encapsulate ESP in UDP
    /// even without one (the peer is told so by a NAT_DETECTION_SOURCE_IP that cannot
    /// match). Honoured as initiator and as responder.
    pub force_udp_encapsulation: bool,
    /// What to do with several IKE SAs of one peer identity.
    pub unique: UniquePolicy,
    /// Check that the peer is alive when nothing was received from it for this long
    /// (RFC 7296 §1.4); `None` never checks.
    pub liveness_interval: Option<Duration>,
    /// Declare the peer dead when a liveness check goes unanswered this long, instead of
    /// after every retransmission (RFC 7296 §2.4); `None` uses the retransmissions.
    pub liveness_timeout: Option<Duration>,
}

impl Default for PeerConfig {
    /// No name, no addresses (any), ID_NULL for us and any identity for the peer, PSK on
    /// both sides, no proposals and no children yet; NAT-T on port 4500, `unique = no`,
    /// no liveness checks, no IKE lifetime.
    fn default() -> Self {
        Self {
            name: String::new(),
            local_addrs: Vec::new(),
            remote_addrs: Vec::new(),
            local_id: Identification::null(),
            remote_id: IdMatcher::Any,
            local_auth: AuthMethod::Psk,
            remote_auth: AuthMethod::Psk,
            ike_proposals: Vec::new(),
            children: Vec::new(),
            ike_lifetime: IkeLifetime::default(),
            remote_nat_t_port: 4500,
            force_udp_encapsulation: false,
            unique: UniquePolicy::No,
            liveness_interval: None,
            liveness_timeout: None,
        }
    }
}

impl PeerConfig {
    /// The child configuration named `name`.
    pub fn child(&self, name: &str) -> Option<&Arc<ChildConfig>> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Whether we send INITIAL_CONTACT in IKE_AUTH (RFC 7296 §2.4): as strongSwan does,
    /// when the peer's identity is known exactly and uniqueness is not off (the endpoint
    /// also leaves it out while another IKE SA with the peer is up).
    pub fn sends_initial_contact(&self) -> bool {
        matches!(self.remote_id, IdMatcher::Exact(_)) && self.unique != UniquePolicy::Never
    }
}

/// How requests are retransmitted (RFC 7296 §2.1): the first wait, multiplied by `backoff`
/// after each try, capped at `max_timeout`; after `max_retransmits` retransmissions the
/// peer is declared dead.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetransmitConfig {
    /// The wait before the first retransmission.
    pub initial_timeout: Duration,
    /// The factor each wait grows by.
    pub backoff: f64,
    /// The longest wait.
    pub max_timeout: Duration,
    /// Retransmissions before giving up.
    pub max_retransmits: u32,
}

impl Default for RetransmitConfig {
    /// 1 s doubling to 30 s, 5 retransmissions: about a minute before giving up.
    fn default() -> Self {
        Self {
            initial_timeout: Duration::from_secs(1),
            backoff: 2.0,
            max_timeout: Duration::from_secs(30),
            max_retransmits: 5,
        }
    }
}

/// How a responder defends itself against floods of IKE_SA_INIT requests (RFC 7296 §2.6,
/// RFC 8019 §4, §5), with strongSwan's names (`charon.cookie_threshold`, ...). Half-open
/// IKE SAs are those we answered IKE_SA_INIT for whose IKE_AUTH has not come; they are
/// counted in O(1), in all and per source address. Limits (`block_threshold`,
/// `init_limit_half_open`, `cookie_rate`, `ike_sas_per_identity`) of 0 mean no limit;
/// thresholds of 0 mean always.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DosProtection {
    /// Half-open IKE SAs at which every new IKE_SA_INIT must bring a cookie (RFC 7296
    /// §2.6); 0 demands them always.
    pub cookie_threshold: usize,
    /// Half-open IKE SAs from one address at which IKE_SA_INIT requests from it must bring
    /// a cookie (RFC 8019 §4.2: per-address accounting); 0, like `cookie_threshold`,
    /// demands them always.
    pub cookie_threshold_ip: usize,
    /// Half-open IKE SAs created per second (each a key generation) at which the
    /// responder is busy and demands cookies of every new IKE_SA_INIT, whatever the
    /// half-open count; 0: no such limit.
    pub cookie_rate: u32,
    /// Half-open IKE SAs from one address beyond which its IKE_SA_INIT requests are
    /// dropped unanswered (strongSwan's `block_threshold`).
    pub block_threshold: usize,
    /// Half-open IKE SAs in all at which new IKE_SA_INIT requests are dropped unanswered
    /// (strongSwan's `init_limit_half_open`), puzzle solvers included: below it, rising
    /// puzzle difficulty is what prefers them.
    pub init_limit_half_open: usize,
    /// Established IKE SAs one peer identity may hold on one connection; IKE_AUTH beyond
    /// that is refused with AUTHENTICATION_FAILED (RFC 7296 §2.21.2) before its AUTH is
    /// checked. INITIAL_CONTACT and `unique = replace`, which close the older ones, are
    /// let through.
    pub ike_sas_per_identity: usize,
    /// Client puzzles (RFC 8019 §7); `None`: cookies only.
    pub puzzles: Option<PuzzlePolicy>,
}

impl Default for DosProtection {
    /// Cookies from 64 half-open SAs, 8 from one address, or 1,000 new SAs a second;
    /// at most 32 half-open from one address and 16,384 in all; 64 IKE SAs per identity;
    /// puzzles above 1,024 half-open SAs.
    fn default() -> Self {
        Self {
            cookie_threshold: 64,
            cookie_threshold_ip: 8,
            cookie_rate: 1000,
            block_threshold: 32,
            init_limit_half_open: 16_384,
            ike_sas_per_identity: 64,
            puzzles: Some(PuzzlePolicy::default()),
        }
    }
}

/// When the responder sets client puzzles (RFC 8019 §7.1) and how hard they are. Above
/// `threshold` half-open IKE SAs every cookie comes with a puzzle; its difficulty starts
/// at `difficulty` and rises by two bits each time the half-open count doubles, up to
/// `max_difficulty` (§7.1.1.1: the level follows the attack's volume). A request whose
/// solution reaches the difficulty of the moment is admitted; one that solved an easier
/// puzzle is given a new, harder one (§7.1.5); one that solved none (an initiator without
/// RFC 8019, such as strongSwan or Windows) is admitted only while the half-open count is
/// under twice the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PuzzlePolicy {
    /// Half-open IKE SAs at which puzzles are set.
    pub threshold: usize,
    /// Trailing zero bits asked at the threshold (0: as many as the initiator can afford,
    /// RFC 8019 §7.1.1.1).
    pub difficulty: u8,
    /// The most zero bits ever asked (RFC 8019 §9: about 20 is a second of a client's
    /// time).
    pub max_difficulty: u8,
    /// IKE_AUTH requests a second that fail their integrity check on half-open SAs at
    /// which an initiator that solved its IKE_SA_INIT puzzle gets an IKE_AUTH puzzle too,
    /// to be solved before the responder computes the Diffie-Hellman (RFC 8019 §7.2).
    pub auth_failures: u32,
}

impl Default for PuzzlePolicy {
    /// Puzzles from 1,024 half-open IKE SAs, from 10 bits up to 20 (18 is the most reached
    /// below the default `init_limit_half_open` of 16,384); IKE_AUTH puzzles from 10 failed
    /// IKE_AUTH requests a second.
    fn default() -> Self {
        Self {
            threshold: 1024,
            difficulty: 10,
            max_difficulty: 20,
            auth_failures: 10,
        }
    }
}

impl PuzzlePolicy {
    /// The difficulty asked with `half_open` half-open IKE SAs.
    pub fn difficulty_at(&self, half_open: usize) -> u8 {
        let threshold = self.threshold.max(1);
        let doublings = (half_open / threshold).checked_ilog2().unwrap_or(0);
        let raised = u32::from(self.difficulty).saturating_add(doublings.saturating_mul(2));
        u8::try_from(raised)
            .unwrap_or(u8::MAX)
            .min(self.max_difficulty)
    }
}

/// The endpoint: ports, timers, the crypto provider, and who may connect to it.
#[derive(Clone)]
pub struct EndpointConfig {
    /// The IKE port (RFC 7296 §2); 500 unless testing.
    pub ike_port: u16,
    /// Our NAT-T port (RFC 3948); 4500 unless testing.
    pub nat_t_port: u16,
    /// How the responder defends itself against floods: cookies, limits, puzzles.
    pub dos: DosProtection,
    /// How long a responder keeps an IKE SA whose IKE_AUTH has not arrived.
    pub half_open_timeout: Duration,
    /// How long an initiator waits for an IKE SA to be established before giving up,
    /// including retries after COOKIE and INVALID_KE_PAYLOAD.
    pub establish_timeout: Duration,
    /// Retransmission of requests.
    pub retransmit: RetransmitConfig,
    /// Interval of NAT-keepalives when we are behind a NAT (RFC 3948 §4).
    pub keepalive_interval: Duration,
    /// The algorithms.
    pub provider: &'static CryptoProvider,
    /// Pre-shared keys (and later other credentials), by identity.
    pub credentials: Arc<dyn Credentials>,
    /// Peers that may connect to us: at IKE_SA_INIT the ones whose addresses match are the
    /// candidates, and the best of them chooses the IKE proposal; at IKE_AUTH the identity
    /// in IDi picks one of those (the PAD of RFC 4301 §4.4.3). Empty: this endpoint does
    /// not respond.
    pub responder_peers: Vec<Arc<PeerConfig>>,
    /// Emit the keys of every IKE SA and Child SA in events, for a Wireshark key log.
    pub key_log: bool,
    /// Child SAs one IKE SA may carry (SAs being replaced by a rekey not counted); a
    /// CREATE_CHILD_SA beyond that is answered NO_ADDITIONAL_SAS (RFC 7296 §1.3).
    pub max_child_sas: usize,
    /// How long to wait before retrying an exchange the peer answered TEMPORARY_FAILURE
    /// (RFC 7296 §2.25: not at once): a random delay between these two.
    pub retry_delay: (Duration, Duration),
    /// The hardest client puzzle this endpoint solves as initiator (RFC 8019 §9: set a
    /// limit); a harder one is ignored and the plain cookie sent back. Solving runs in the
    /// call that received the puzzle and costs about `4 * 2^difficulty` PRF calls (16:
    /// about 0.2 s). 0: never solve.
    pub max_puzzle_difficulty: u8,
    /// Datagrams and events kept for the caller to drain; beyond that they are dropped and
    /// counted ([`Endpoint::dropped_transmits`](crate::Endpoint::dropped_transmits)).
    pub queue_limit: usize,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            ike_port: 500,
            nat_t_port: 4500,
            dos: DosProtection::default(),
            half_open_timeout: Duration::from_secs(30),
            establish_timeout: Duration::from_secs(60),
            retransmit: RetransmitConfig::default(),
            keepalive_interval: Duration::from_secs(20),
            provider: &RUST_CRYPTO,
            credentials: Arc::new(SharedKeys::default()),
            responder_peers: Vec::new(),
            key_log: false,
            max_child_sas: 64,
            retry_delay: (Duration::from_secs(6), Duration::from_secs(15)),
            max_puzzle_difficulty: 16,
            queue_limit: 4096,
        }
    }
}

/// The longest timer any setting may ask for: a day. Longer ones are mistakes, and
/// bounding them keeps every deadline computable (`Instant` arithmetic overflows far
/// later).
const LONGEST_TIMER: Duration = Duration::from_secs(24 * 60 * 60);

/// The largest factor retransmission waits may grow by.
const LARGEST_BACKOFF: f64 = 16.0;

/// The hardest puzzle a responder may set: 2^32 PRF calls a key is beyond any client.
const HARDEST_PUZZLE: u8 = 32;

/// The hardest puzzle an initiator may agree to solve: solving runs inside one call, and a
/// forged PUZZLE must not hold it for more than seconds.
const HARDEST_TO_SOLVE: u8 = 24;

impl EndpointConfig {
    /// Checks that every value can work, so that none can make the endpoint panic, spin or
    /// wait for ever: ports set and distinct; timers above zero and at most a day;
    /// retransmission waits that grow by a finite factor between 1 and 16 up to a maximum
    /// no shorter than the first; a retry delay range in order; puzzle difficulties in
    /// order and at most 32 bits (24 to solve); queues and Child SA limits of at least one.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |setting, problem| Err(Error::InvalidConfig { setting, problem });
        let timer = |value: Duration| !value.is_zero() && value <= LONGEST_TIMER;
        if self.ike_port == 0 || self.nat_t_port == 0 || self.ike_port == self.nat_t_port {
            return fail("ike_port", "the IKE and NAT-T ports must be set and differ");
        }
        let retransmit = &self.retransmit;
        if !timer(retransmit.initial_timeout) {
            return fail(
                "retransmit.initial_timeout",
                "must be above zero and at most a day",
            );
        }
        if !timer(retransmit.max_timeout) || retransmit.max_timeout < retransmit.initial_timeout {
            return fail(
                "retransmit.max_timeout",
                "must be at least the initial timeout and at most a day",
            );
        }
        if !(1.0..=LARGEST_BACKOFF).contains(&retransmit.backoff) {
            return fail("retransmit.backoff", "must be a number from 1 to 16");
        }
        for (setting, value) in [
            ("half_open_timeout", self.half_open_timeout),
            ("establish_timeout", self.establish_timeout),
            ("keepalive_interval", self.keepalive_interval),
        ] {
            if !timer(value) {
                return fail(setting, "must be above zero and at most a day");
            }
        }
        let (shortest, longest) = self.retry_delay;
        if shortest > longest || longest > LONGEST_TIMER {
            return fail("retry_delay", "must be in order and at most a day");
        }
        if let Some(puzzles) = &self.dos.puzzles
            && (puzzles.difficulty > puzzles.max_difficulty
                || puzzles.max_difficulty > HARDEST_PUZZLE)
        {
            return fail(
                "dos.puzzles.max_difficulty",
                "must be at least the difficulty and at most 32",
            );
        }
        if self.max_puzzle_difficulty > HARDEST_TO_SOLVE {
            return fail(
                "max_puzzle_difficulty",
                "must be at most 24 (solving is done in one call: 24 bits is about 2^26 PRF calls)",
            );
        }
        if self.queue_limit == 0 {
            return fail("queue_limit", "must be at least 1");
        }
        if self.max_child_sas == 0 {
            return fail("max_child_sas", "must be at least 1");
        }
        Ok(())
    }
}

impl std::fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("ike_port", &self.ike_port)
            .field("nat_t_port", &self.nat_t_port)
            .field("dos", &self.dos)
            .field("provider", &self.provider.name)
            .field("responder_peers", &self.responder_peers.len())
            .field("key_log", &self.key_log)
            .finish_non_exhaustive()
    }
}
