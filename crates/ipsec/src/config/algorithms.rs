//! Whether the crypto provider implements every algorithm a proposal names: a proposal with
//! an algorithm the provider lacks could never be chosen for it, so the configuration is
//! refused rather than left to fail at negotiation.

use ipsec_crypto::CryptoProvider;
use ipsec_ikev2::{ChildProposal, Encryption, IkeProposal};
use ipsec_isakmp::{DhGroup, EncrId, IntegId, PrfId};

/// Why `proposal` cannot be used for IKE: the first algorithm IKE must not use, or that
/// `provider` lacks (named as the IANA registry names it).
pub(crate) fn unusable_in_ike(provider: &CryptoProvider, proposal: &IkeProposal) -> Option<String> {
    for encryption in &proposal.encryption {
        // IKE must encrypt: ENCR_NULL MUST NOT protect IKE (RFC 8247 §2.2), and
        // ENCR_NULL_AUTH_AES_GMAC is defined for ESP and AH only (RFC 4543 §1).
        if matches!(encryption.id, EncrId::NullAuthAesGmac | EncrId::Null) {
            return Some(format!(
                "uses {}, which IKE must not use (RFC 8247 §2.2, RFC 4543 §1)",
                encryption.id
            ));
        }
        if !has_encryption(provider, encryption) {
            return Some(lacking(provider, &encryption_name(encryption)));
        }
    }
    first_missing_integrity(provider, &proposal.integrity)
        .or_else(|| {
            proposal
                .prf
                .iter()
                .find(|p| provider.prf(p.value()).is_none())
                .map(PrfId::to_string)
        })
        .or_else(|| first_missing_group(provider, &proposal.dh))
        .map(|what| lacking(provider, &what))
}

/// The problem of a proposal that uses `what`, which `provider` lacks.
fn lacking(provider: &CryptoProvider, what: &str) -> String {
    format!(
        "uses {what}, which the crypto provider `{}` does not implement",
        provider.name
    )
}

/// Why an ESP or AH `proposal` cannot be used: the first algorithm `provider` lacks.
pub(crate) fn unusable_in_child(
    provider: &CryptoProvider,
    proposal: &ChildProposal,
) -> Option<String> {
    proposal
        .encryption
        .iter()
        .find(|e| !has_encryption(provider, e))
        .map(encryption_name)
        .or_else(|| first_missing_integrity(provider, &proposal.integrity))
        .or_else(|| first_missing_group(provider, &proposal.dh))
        .map(|what| lacking(provider, &what))
}

fn has_encryption(provider: &CryptoProvider, encryption: &Encryption) -> bool {
    let (id, bits) = (encryption.id.value(), encryption.effective_key_bits());
    if encryption.is_aead() {
        provider.aead(id, bits).is_some()
    } else {
        provider.cipher(id, bits).is_some()
    }
}

fn encryption_name(encryption: &Encryption) -> String {
    format!(
        "{} with a {}-bit key",
        encryption.id,
        encryption.effective_key_bits()
    )
}

fn first_missing_integrity(provider: &CryptoProvider, integrity: &[IntegId]) -> Option<String> {
    integrity
        .iter()
        .find(|i| provider.integrity(i.value()).is_none())
        .map(IntegId::to_string)
}

fn first_missing_group(provider: &CryptoProvider, groups: &[DhGroup]) -> Option<String> {
    groups
        .iter()
        .find(|g| **g != DhGroup::None && provider.key_exchange(g.value()).is_none())
        .map(DhGroup::to_string)
}
