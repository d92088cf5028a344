//! One peer identity, how many IKE SAs: the established IKE SAs by their identities, for
//! INITIAL_CONTACT (RFC 7296 §2.4) and swanctl's `unique` policy, and the rule that settles
//! two IKE SAs that both ends created at once.
//!
//! - INITIAL_CONTACT from the peer closes, without a Delete (§2.4 allows it), every other
//!   IKE SA with the same identities established before the new one began — not one that
//!   came up while the new one was being negotiated, which the peer still holds.
//! - `replace` deletes, with a Delete, the older IKE SAs once the new one is up; `keep`
//!   refuses the new one as responder (AUTHENTICATION_FAILED, as strongSwan does) when an
//!   older one with the peer at another address exists; `no` and `never` keep them all.
//! - Two IKE SAs initiated by different ends (both ends initiated at once, or one end
//!   initiated while the other's SA still stood) are settled, under `replace` and `keep`,
//!   as RFC 7296 §2.8.1 settles simultaneous rekeys: the one whose exchange holds the
//!   lowest nonce goes, deleted by the end that initiated it. Both ends see the same two
//!   SAs with the same nonces, so they agree without another message and without
//!   comparing clocks. strongSwan has no such rule and keeps both. Two IKE SAs initiated by
//!   the same end are a reconnection: `replace` keeps the newer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use foldhash::fast::FixedState;
use foldhash::quality::RandomState;
use ipsec_isakmp::Identification;

use crate::config::{PeerConfig, UniquePolicy};
use crate::event::IkeSaHandle;
use crate::tables::release;

/// Whose IKE SAs are compared: the connection's name, our identity and the peer's.
pub(crate) type IdentityKey = (String, Identification, Identification);

/// An IKE SA's nonces, Ni and Nr, each in an allocation of its own size.
pub(crate) type Nonces = (Box<[u8]>, Box<[u8]>);

/// What the index keeps of one established IKE SA.
#[derive(Debug, Clone)]
pub(crate) struct Established {
    pub(crate) handle: IkeSaHandle,
    pub(crate) remote: IpAddr,
    pub(crate) created_at: Instant,
    pub(crate) established_at: Instant,
    /// Whether we initiated it.
    pub(crate) initiator: bool,
    /// Its IKE_SA_INIT nonces, Ni and Nr.
    pub(crate) nonces: Nonces,
}

/// The established IKE SAs of one identity pair: nearly always one, held without a map;
/// many (a shared identity under `unique = no`) in a map by handle, so that adding and
/// removing one stays O(1) however many share it.
#[derive(Debug)]
enum Holders {
    One(Established),
    Many(HashMap<IkeSaHandle, Established, FixedState>),
}

impl Holders {
    fn len(&self) -> usize {
        match self {
            Self::One(_) => 1,
            Self::Many(sas) => sas.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &Established> {
        let (one, many) = match self {
            Self::One(sa) => (Some(sa), None),
            Self::Many(sas) => (None, Some(sas.values())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }

    /// Adds (or replaces) `sa`.
    fn insert(&mut self, sa: Established) {
        match self {
            Self::One(only) if only.handle == sa.handle => *only = sa,
            Self::One(only) => {
                let mut sas = HashMap::with_capacity_and_hasher(2, FixedState::default());
                sas.insert(only.handle, only.clone());
                sas.insert(sa.handle, sa);
                *self = Self::Many(sas);
            }
            Self::Many(sas) => {
                sas.insert(sa.handle, sa);
            }
        }
    }

    /// Removes `handle`; whether none are left. The last of many goes back to being held
    /// without a map.
    fn remove(&mut self, handle: IkeSaHandle) -> bool {
        match self {
            Self::One(only) => only.handle == handle,
            Self::Many(sas) => {
                sas.remove(&handle);
                let last = (sas.len() == 1)
                    .then(|| sas.drain().next())
                    .flatten()
                    .map(|(_, sa)| sa);
                if let Some(last) = last {
                    *self = Self::One(last);
                    return false;
                }
                release(sas);
                sas.is_empty()
            }
        }
    }
}

/// What to do with another IKE SA of the same identities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Close it without a message (INITIAL_CONTACT).
    Abandon(IkeSaHandle),
    /// Delete it with a Delete.
    Delete(IkeSaHandle),
}

/// The established IKE SAs by identities. Keys hold peer-chosen identities, so the map's
/// hash is seeded at random. An IKE SA is removed by its key, which the endpoint rebuilds
/// from the IKE SA: no second map from handle to key.
#[derive(Debug, Default)]
pub(crate) struct Identities {
    by_key: HashMap<IdentityKey, Holders, RandomState>,
}

impl Identities {
    /// Whether an IKE SA with these identities is up (strongSwan's `has_contact`).
    pub(crate) fn has_contact(
        &self,
        connection: &str,
        local: &Identification,
        remote: &Identification,
    ) -> bool {
        self.by_key
            .get(&(connection.to_string(), local.clone(), remote.clone()))
            .is_some_and(|sas| sas.len() > 0)
    }

    /// Whether a new IKE SA of `peer` with the peer `id` would pass `limit` established
    /// ones with these identities (0: no limit). INITIAL_CONTACT and `unique = replace`
    /// close the older ones once it is up, so they are let through.
    pub(crate) fn over_limit(
        &self,
        peer: &PeerConfig,
        id: &Identification,
        limit: usize,
        initial_contact: bool,
    ) -> bool {
        if limit == 0 || initial_contact || peer.unique == UniquePolicy::Replace {
            return false;
        }
        let key = (peer.name.clone(), peer.local_id.clone(), id.clone());
        self.by_key.get(&key).is_some_and(|sas| sas.len() >= limit)
    }

    /// Whether `unique = keep` refuses an IKE SA of `peer` with the peer `id` at `remote`,
    /// created at `created_at`: an older one with it at another address is up.
    pub(crate) fn keeps_out(
        &self,
        peer: &PeerConfig,
        id: &Identification,
        remote: IpAddr,
        created_at: Instant,
    ) -> bool {
        if peer.unique != UniquePolicy::Keep {
            return false;
        }
        let key = (peer.name.clone(), peer.local_id.clone(), id.clone());
        self.by_key.get(&key).is_some_and(|sas| {
            sas.iter()
                .any(|sa| sa.remote != remote && sa.established_at < created_at)
        })
    }

    /// Registers a newly established IKE SA and says what becomes of the others with its
    /// identities under `policy`; `initial_contact` says whether the peer sent
    /// INITIAL_CONTACT in its IKE_AUTH.
    pub(crate) fn establish(
        &mut self,
        key: IdentityKey,
        new: Established,
        policy: UniquePolicy,
        initial_contact: bool,
    ) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        let Some(sas) = self.by_key.get_mut(&key) else {
            self.by_key.insert(key, Holders::One(new));
            return verdicts;
        };
        let acts = match policy {
            UniquePolicy::Replace | UniquePolicy::Keep => true,
            UniquePolicy::No => initial_contact,
            UniquePolicy::Never => false,
        };
        // With nothing to decide, no look at the others: a shared identity under `no` may
        // have many IKE SAs.
        if acts {
            for old in sas.iter() {
                let older = old.established_at < new.created_at;
                if initial_contact && policy != UniquePolicy::Never && older {
                    verdicts.push(Verdict::Abandon(old.handle));
                    continue;
                }
                match policy {
                    UniquePolicy::Replace | UniquePolicy::Keep
                        if old.initiator != new.initiator =>
                    {
                        let old_loses = crate::ike_sa::holds_lowest_nonce(
                            [&old.nonces.0, &old.nonces.1],
                            [&new.nonces.0, &new.nonces.1],
                            !old.initiator,
                        );
                        let loser = if old_loses { old } else { &new };
                        if loser.initiator {
                            verdicts.push(Verdict::Delete(loser.handle));
                        }
                    }
                    UniquePolicy::Replace => verdicts.push(Verdict::Delete(old.handle)),
                    _ => {}
                }
            }
        }
        sas.insert(new);
        verdicts
    }

    /// Forgets an IKE SA that closed, filed under `key`.
    pub(crate) fn remove(&mut self, key: &IdentityKey, handle: IkeSaHandle) {
        if let Some(sas) = self.by_key.get_mut(key)
            && sas.remove(handle)
        {
            self.by_key.remove(key);
            release(&mut self.by_key);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sa(handle: u64) -> Established {
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        Established {
            handle: IkeSaHandle(handle),
            remote: IpAddr::from([192, 0, 2, 1]),
            created_at: now,
            established_at: now,
            initiator: false,
            nonces: (Box::new([1; 16]), Box::new([2; 16])),
        }
    }

    /// One SA is held without a map, many in one, and the last of many without again;
    /// removing an SA that is not there leaves the others.
    #[test]
    fn holders_grow_and_shrink() {
        let mut holders = Holders::One(sa(1));
        assert!(!holders.remove(IkeSaHandle(9)));
        holders.insert(sa(2));
        holders.insert(sa(3));
        assert!(matches!(holders, Holders::Many(_)));
        assert_eq!(holders.len(), 3);
        assert!(!holders.remove(IkeSaHandle(1)));
        assert!(!holders.remove(IkeSaHandle(3)));
        assert!(matches!(&holders, Holders::One(only) if only.handle == IkeSaHandle(2)));
        assert_eq!(holders.iter().count(), 1);
        assert!(holders.remove(IkeSaHandle(2)));
    }
}
