//! Where secrets come from: the pre-shared keys of swanctl.conf's `secrets` section, found
//! by the two identities of an IKE SA, as strongSwan's credential manager finds them.

use std::collections::HashMap;
use std::fmt;

use ipsec_crypto::SecretBytes;
use ipsec_isakmp::Identification;
use ipsec_sad::IdMatcher;

use crate::identity::{MatchQuality, match_quality};

/// The endpoint's source of credentials. An embedder with its own store (a database, a
/// file it reloads) implements it; [`SharedKeys`] is the in-memory default.
pub trait Credentials: Send + Sync {
    /// The key shared by `local` and `remote` (RFC 7296 §2.15). `remote` is `None` when the
    /// peer's identity is not known yet (an initiator that sent no IDr).
    fn shared_key(
        &self,
        local: &Identification,
        remote: Option<&Identification>,
    ) -> Option<SecretBytes>;
}

/// One pre-shared key and the identities that hold it (swanctl.conf's `secrets.ike-NAME`
/// with `id`, `id-1`, ... and `secret`). With no identities it is anyone's key.
#[derive(Clone)]
pub struct SharedKey {
    /// The identities that share it.
    pub owners: Vec<IdMatcher>,
    /// The key.
    pub secret: SecretBytes,
}

impl fmt::Debug for SharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedKey")
            .field("owners", &self.owners)
            .field("secret", &format_args!("<{} bytes>", self.secret.len()))
            .finish()
    }
}

/// How well a key's owners match one identity: the best owner's match, anyone's for a key
/// with no owners or an identity not known yet.
fn owner_quality(owners: &[IdMatcher], id: Option<&Identification>) -> MatchQuality {
    match id {
        Some(id) if !owners.is_empty() => owners
            .iter()
            .filter_map(|o| match_quality(o, id))
            .max()
            .unwrap_or(MatchQuality::None),
        _ => MatchQuality::Any,
    }
}

/// Pre-shared keys in memory. A key is a candidate for a pair of identities when at least
/// one of them is among its owners (or it has none); of several, the one whose owners
/// match the two most exactly wins (strongSwan's rule). So a key naming only the gateway
/// serves every peer identity no key names better: give each user's key both identities
/// (`[gw, alice]`), and keep a key naming the gateway alone for a group. Keys owned by exact identities are found through a map, so a
/// gateway with a key per user does not scan them all.
#[derive(Debug, Clone, Default)]
pub struct SharedKeys {
    keys: Vec<SharedKey>,
    /// Keys by each exact identity among their owners.
    by_identity: HashMap<Identification, Vec<usize>>,
    /// Keys with a wildcard owner, or none.
    wildcard: Vec<usize>,
}

impl SharedKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// One key for every pair of identities.
    pub fn single(secret: SecretBytes) -> Self {
        let mut keys = Self::new();
        keys.add(SharedKey {
            owners: Vec::new(),
            secret,
        });
        keys
    }

    /// Adds a key.
    pub fn add(&mut self, key: SharedKey) {
        let index = self.keys.len();
        let mut wildcard = key.owners.is_empty();
        for owner in &key.owners {
            match owner {
                IdMatcher::Exact(id) => {
                    if let Some(id) = crate::identity::identification(id) {
                        self.by_identity.entry(id).or_default().push(index);
                    }
                }
                _ => wildcard = true,
            }
        }
        if wildcard {
            self.wildcard.push(index);
        }
        self.keys.push(key);
    }

    /// The keys held.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn candidates<'a>(
        &'a self,
        local: &Identification,
        remote: Option<&Identification>,
    ) -> impl Iterator<Item = &'a SharedKey> + 'a {
        let mut indexes: Vec<usize> = self.wildcard.clone();
        for id in std::iter::once(local).chain(remote) {
            if let Some(found) = self.by_identity.get(id) {
                indexes.extend(found);
            }
        }
        indexes.sort_unstable();
        indexes.dedup();
        indexes.into_iter().filter_map(|i| self.keys.get(i))
    }
}

impl Credentials for SharedKeys {
    fn shared_key(
        &self,
        local: &Identification,
        remote: Option<&Identification>,
    ) -> Option<SecretBytes> {
        let mut best: Option<((u8, MatchQuality), &SharedKey)> = None;
        for key in self.candidates(local, remote) {
            let ours = owner_quality(&key.owners, Some(local));
            let theirs = owner_quality(&key.owners, remote);
            // With the peer unknown, the key must at least be ours.
            if ours == MatchQuality::None && (theirs == MatchQuality::None || remote.is_none()) {
                continue;
            }
            // The sum decides; the peer's match breaks ties.
            let score = (ours.score() + theirs.score(), theirs);
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, key));
            }
        }
        best.map(|(_, key)| key.secret.clone())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ipsec_sad::PeerId;

    fn exact(name: &str) -> IdMatcher {
        IdMatcher::Exact(PeerId::Fqdn(name.to_string()))
    }

    #[test]
    fn the_key_of_the_most_exactly_matching_owners_is_used() {
        let mut keys = SharedKeys::new();
        keys.add(SharedKey {
            owners: vec![
                exact("gw.example"),
                IdMatcher::wildcard("*.users.example").unwrap(),
            ],
            secret: SecretBytes::copy_from(b"group key"),
        });
        keys.add(SharedKey {
            owners: vec![exact("gw.example"), exact("alice.users.example")],
            secret: SecretBytes::copy_from(b"alice's key"),
        });
        keys.add(SharedKey {
            owners: vec![exact("other.example")],
            secret: SecretBytes::copy_from(b"not ours"),
        });
        let gw = Identification::fqdn("gw.example");
        let key = |remote: &str| {
            keys.shared_key(&gw, Some(&Identification::fqdn(remote)))
                .map(|k| k.expose().to_vec())
        };
        assert_eq!(key("alice.users.example").unwrap(), b"alice's key");
        assert_eq!(key("bob.users.example").unwrap(), b"group key");
        // A key naming only one of the two still serves (strongSwan's rule): the group
        // key names us.
        assert_eq!(key("mallory.example").unwrap(), b"group key");
        assert_eq!(
            keys.shared_key(
                &Identification::fqdn("x.example"),
                Some(&Identification::fqdn("y.example"))
            ),
            None
        );
        let single = SharedKeys::single(SecretBytes::copy_from(b"k"));
        assert!(single.shared_key(&gw, None).is_some());
    }
}
