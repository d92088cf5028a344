//! Identities against patterns (RFC 4301 §4.4.3.1): the peer's IDi or IDr against the
//! configured remote identity, and the owners of pre-shared keys.

use ipsec_isakmp::{IdType, Identification};
use ipsec_sad::{IdMatcher, PeerId};

/// How exactly a pattern matched an identity: the more exact, the better a configuration
/// or key fits (strongSwan's `ID_MATCH_*` order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum MatchQuality {
    /// No match.
    None = 0,
    /// The pattern admits every identity.
    Any = 1,
    /// A wildcard pattern (`*.example.com`, `*@example.com`, an address range).
    Wildcard = 2,
    /// The very identity.
    Exact = 3,
}

impl MatchQuality {
    /// The quality as a number to add up.
    pub(crate) fn score(self) -> u8 {
        self as u8
    }
}

/// The PAD's view of an identity; `None` for types it does not hold (ID_NULL, FC names).
pub(crate) fn peer_id(id: &Identification) -> Option<PeerId> {
    PeerId::from_wire(id.id_type.value(), &id.data).ok()
}

/// The Identification payload of a PAD identity.
pub(crate) fn identification(id: &PeerId) -> Option<Identification> {
    Some(Identification {
        id_type: IdType::from(id.id_type()),
        data: id.data(),
    })
}

/// How `pattern` matches `id`, if at all.
pub(crate) fn match_quality(pattern: &IdMatcher, id: &Identification) -> Option<MatchQuality> {
    let quality = match pattern {
        IdMatcher::Any => MatchQuality::Any,
        IdMatcher::Exact(_) => MatchQuality::Exact,
        _ => MatchQuality::Wildcard,
    };
    let matched = match pattern {
        IdMatcher::Any => true,
        other => peer_id(id).is_some_and(|id| other.matches(&id)),
    };
    matched.then_some(quality)
}
