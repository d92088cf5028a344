//! Errors of commands, and reasons a datagram was dropped.

use ipsec_crypto::CryptoError;
use ipsec_isakmp::{EmitError, NotifyType};

/// An internal failure to build or protect a message; never caused by input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A message could not be written.
    #[error("cannot emit message: {0}")]
    Emit(#[from] EmitError),
    /// A cryptographic operation failed.
    #[error("cryptographic failure: {0}")]
    Crypto(#[from] CryptoError),
    /// No credential for the identities of an IKE SA (no pre-shared key for them).
    #[error("no credentials for these identities")]
    MissingCredentials,
    /// A configuration value that cannot work ([`EndpointConfig::validate`](crate::EndpointConfig::validate)).
    #[error("{setting}: {problem}")]
    InvalidConfig {
        /// The setting at fault.
        setting: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// An invariant of this crate did not hold.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No IKE SA has this handle.
    #[error("no such IKE SA")]
    UnknownIkeSa,
    /// No Child SA of the IKE SA has this SPI.
    #[error("no such Child SA")]
    UnknownChildSa,
    /// The IKE SA is not established yet, or already going.
    #[error("the IKE SA is not established")]
    NotEstablished,
    /// The peer configuration cannot be used: no proposal, or an algorithm the provider
    /// does not implement.
    #[error("unusable configuration: {0}")]
    Config(&'static str),
    /// Building the request failed.
    #[error(transparent)]
    Internal(#[from] Error),
}

/// Why a received datagram was dropped. None of these ends an established IKE SA (RFC 7296
/// §2.21); the caller may count them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// Not a valid IKE message.
    #[error("malformed: {0}")]
    Malformed(#[from] ipsec_isakmp::Error),
    /// On the NAT-T port, a datagram without the non-ESP marker: ESP, not IKE (RFC 3948
    /// §2.2).
    #[error("no non-ESP marker: not IKE")]
    NotIke,
    /// A NAT-keepalive (RFC 3948 §2.3): nothing to do.
    #[error("NAT-keepalive")]
    Keepalive,
    /// No IKE SA has the message's SPIs.
    #[error("unknown IKE SPI")]
    UnknownSpi,
    /// The endpoint does not answer IKE_SA_INIT requests (no responder configuration).
    #[error("not a responder")]
    NotResponder,
    /// The message's exchange or flags do not fit the IKE SA's state.
    #[error("unexpected message in this state")]
    Unexpected,
    /// A response to no request of ours, or to an old one (RFC 7296 §2.2).
    #[error("stale or unsolicited response")]
    StaleResponse,
    /// A request outside the window, neither the next one nor a retransmission of the last
    /// (RFC 7296 §2.3).
    #[error("request message ID out of window")]
    OutOfWindow,
    /// The SK payload failed its integrity check, or did not decrypt (RFC 7296 §3.14).
    #[error("SK payload did not verify")]
    IntegrityCheckFailed,
    /// A payload the message needs is missing.
    #[error("missing payload")]
    MissingPayload,
    /// We answered with an error notification instead of state (COOKIE,
    /// INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN, INVALID_SYNTAX, ...).
    #[error("answered with {0}")]
    Refused(NotifyType),
    /// An IKE_SA_INIT request from an address that already has as many half-open IKE SAs
    /// as [`DosProtection::block_threshold`](crate::DosProtection) allows: dropped
    /// unanswered.
    #[error("too many half-open IKE SAs from this address")]
    Blocked,
    /// An IKE_SA_INIT request while the endpoint holds as many half-open IKE SAs as
    /// [`DosProtection::init_limit_half_open`](crate::DosProtection) allows: dropped
    /// unanswered.
    #[error("too many half-open IKE SAs")]
    Overloaded,
    /// A request with the message ID of the last one answered that is not a
    /// retransmission of it (its bytes differ), or one retransmitted more often than any
    /// peer would: not answered again, so that nobody can use us as a reflector (RFC 7296
    /// §2.1).
    #[error("not a retransmission of the last request")]
    ForgedRetransmission,
    /// An IKE_AUTH request without the solution of the puzzle we set for it, or with a
    /// solution short of its difficulty: dropped unanswered before any Diffie-Hellman
    /// (RFC 8019 §7.2.4).
    #[error("IKE_AUTH puzzle not solved")]
    PuzzleNotSolved,
    /// An unprotected error notification or COOKIE answering our IKE_SA_INIT request,
    /// noted and not acted on yet: a forgery must not end the exchange, so the real
    /// response is awaited until the request's retransmission timer runs out (RFC 7296
    /// §2.21.1).
    #[error("unprotected {0} noted")]
    Noted(NotifyType),
    /// Building our answer failed.
    #[error(transparent)]
    Internal(#[from] Error),
}

impl From<CryptoError> for DropReason {
    fn from(error: CryptoError) -> Self {
        Self::Internal(Error::Crypto(error))
    }
}
