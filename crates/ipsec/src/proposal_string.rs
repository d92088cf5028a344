//! Proposals written the way strongSwan's `proposals`, `esp_proposals` and `ah_proposals`
//! settings write them: algorithm keywords joined by `-`, proposals separated by `,`, e.g.
//! `aes256gcm16-prfsha256-x25519,aes128-sha256-modp2048`. The keyword `default` stands for
//! this library's default proposals ([`DEFAULT_IKE_PROPOSALS`], [`DEFAULT_ESP_PROPOSALS`]),
//! as it does for strongSwan's.

use ipsec_ikev2::{ChildProposal, Encryption, IkeProposal, IpsecProtocol};
use ipsec_isakmp::{DhGroup, EncrId, EsnId, IntegId, PrfId};

/// Why a proposal string is not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProposalError {
    /// A keyword this library does not know.
    #[error("unknown algorithm keyword `{keyword}` in proposal `{proposal}`")]
    UnknownKeyword {
        /// The keyword.
        keyword: String,
        /// The proposal it stood in.
        proposal: String,
    },
    /// The proposal lacks an algorithm of a required type.
    #[error("proposal `{proposal}` has no {missing}")]
    Incomplete {
        /// The proposal.
        proposal: String,
        /// What it lacks.
        missing: &'static str,
    },
    /// An AEAD mixed with an integrity algorithm, or a keyword of the wrong kind for the
    /// protocol (a PRF in an ESP proposal).
    #[error("proposal `{proposal}`: {problem}")]
    Inconsistent {
        /// The proposal.
        proposal: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// The string holds no proposal.
    #[error("empty proposal list")]
    Empty,
}

/// One keyword's meaning.
enum Keyword {
    Encryption(Encryption),
    /// An integrity keyword; in IKE proposals without a `prf` keyword it also names the PRF
    /// (strongSwan's convention: `sha256` is both AUTH_HMAC_SHA2_256_128 and
    /// PRF_HMAC_SHA2_256).
    Integrity(IntegId, Option<PrfId>),
    Prf(PrfId),
    Dh(DhGroup),
    Esn(EsnId),
}

/// An encryption keyword: strongSwan's `aes<bits>`, `aes<bits>ctr`, `aes<bits>gcm<icv>` and
/// `aes<bits>ccm<icv>` (the ICV in octets or bits; none means 16 octets).
fn aes_keyword(word: &str) -> Option<Encryption> {
    let rest = word.strip_prefix("aes")?;
    let (bits, mode) = match rest {
        "" => (128, ""),
        _ => {
            let bits = rest.get(..3)?.parse::<u16>().ok()?;
            (bits, rest.get(3..)?)
        }
    };
    if ![128, 192, 256].contains(&bits) {
        return None;
    }
    let id = match mode {
        "" => EncrId::AesCbc,
        "ctr" => EncrId::AesCtr,
        "gcm8" | "gcm64" => EncrId::AesGcm8,
        "gcm12" | "gcm96" => EncrId::AesGcm12,
        "gcm16" | "gcm128" | "gcm" => EncrId::AesGcm16,
        "ccm8" | "ccm64" => EncrId::AesCcm8,
        "ccm12" | "ccm96" => EncrId::AesCcm12,
        "ccm16" | "ccm128" | "ccm" => EncrId::AesCcm16,
        "gmac" if bits != 192 => EncrId::NullAuthAesGmac,
        _ => return None,
    };
    Some(Encryption {
        id,
        key_bits: Some(bits),
    })
}

/// A keyword's meaning, as strongSwan's proposal keywords have it (`proposal_keywords.txt`).
/// Weak and legacy algorithms (SHA-1, AES-XCBC, MODP-1024/1536, 8-octet ICVs) have keywords
/// but are in no default proposal: a configuration offers them only by naming them.
fn keyword(word: &str) -> Option<Keyword> {
    use Keyword::*;
    if let Some(encryption) = aes_keyword(word) {
        return Some(Encryption(encryption));
    }
    Some(match word {
        "chacha20poly1305" => Encryption(ipsec_ikev2::Encryption::chacha20_poly1305()),
        "null" => Encryption(ipsec_ikev2::Encryption {
            id: EncrId::Null,
            key_bits: None,
        }),
        "sha256" | "sha2_256" => Integrity(IntegId::HmacSha2_256_128, Some(PrfId::HmacSha2_256)),
        "sha384" | "sha2_384" => Integrity(IntegId::HmacSha2_384_192, Some(PrfId::HmacSha2_384)),
        "sha512" | "sha2_512" => Integrity(IntegId::HmacSha2_512_256, Some(PrfId::HmacSha2_512)),
        "sha1" | "sha" => Integrity(IntegId::HmacSha1_96, Some(PrfId::HmacSha1)),
        "aesxcbc" => Integrity(IntegId::AesXcbc96, Some(PrfId::Aes128Xcbc)),
        "prfsha256" => Prf(PrfId::HmacSha2_256),
        "prfsha384" => Prf(PrfId::HmacSha2_384),
        "prfsha512" => Prf(PrfId::HmacSha2_512),
        "prfsha1" => Prf(PrfId::HmacSha1),
        "prfaesxcbc" => Prf(PrfId::Aes128Xcbc),
        "modp1024" => Dh(DhGroup::Modp1024),
        "modp1536" => Dh(DhGroup::Modp1536),
        "modp2048" => Dh(DhGroup::Modp2048),
        "modp3072" => Dh(DhGroup::Modp3072),
        "modp4096" => Dh(DhGroup::Modp4096),
        "modp6144" => Dh(DhGroup::Modp6144),
        "modp8192" => Dh(DhGroup::Modp8192),
        "ecp256" => Dh(DhGroup::Ecp256),
        "ecp384" => Dh(DhGroup::Ecp384),
        "ecp521" => Dh(DhGroup::Ecp521),
        "ecp224bp" => Dh(DhGroup::BrainpoolP224r1),
        "ecp256bp" => Dh(DhGroup::BrainpoolP256r1),
        "ecp384bp" => Dh(DhGroup::BrainpoolP384r1),
        "ecp512bp" => Dh(DhGroup::BrainpoolP512r1),
        "x25519" | "curve25519" => Dh(DhGroup::Curve25519),
        "x448" | "curve448" => Dh(DhGroup::Curve448),
        "esn" => Esn(EsnId::Esn),
        "noesn" => Esn(EsnId::NoEsn),
        _ => return None,
    })
}

/// The algorithms of one proposal, by type, in the order written.
#[derive(Default)]
struct Parts {
    encryption: Vec<Encryption>,
    integrity: Vec<IntegId>,
    implied_prf: Vec<PrfId>,
    prf: Vec<PrfId>,
    dh: Vec<DhGroup>,
    esn: Vec<EsnId>,
}

fn push<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

fn parts(proposal: &str) -> Result<Parts, ProposalError> {
    let mut parts = Parts::default();
    for word in proposal.split('-').map(str::trim) {
        let parsed =
            keyword(&word.to_ascii_lowercase()).ok_or_else(|| ProposalError::UnknownKeyword {
                keyword: word.to_string(),
                proposal: proposal.to_string(),
            })?;
        match parsed {
            Keyword::Encryption(e) => push(&mut parts.encryption, e),
            Keyword::Integrity(i, prf) => {
                push(&mut parts.integrity, i);
                if let Some(prf) = prf {
                    push(&mut parts.implied_prf, prf);
                }
            }
            Keyword::Prf(p) => push(&mut parts.prf, p),
            Keyword::Dh(g) => push(&mut parts.dh, g),
            Keyword::Esn(e) => push(&mut parts.esn, e),
        }
    }
    if parts.encryption.is_empty() {
        return Err(ProposalError::Incomplete {
            proposal: proposal.to_string(),
            missing: "encryption algorithm",
        });
    }
    let aead = parts.encryption.iter().any(Encryption::is_aead);
    let classic = parts.encryption.iter().any(|e| !e.is_aead());
    if aead && classic {
        return Err(ProposalError::Inconsistent {
            proposal: proposal.to_string(),
            problem: "AEAD and non-AEAD ciphers in one proposal",
        });
    }
    if aead && !parts.integrity.is_empty() {
        return Err(ProposalError::Inconsistent {
            proposal: proposal.to_string(),
            problem: "an AEAD takes no integrity algorithm",
        });
    }
    if classic && parts.integrity.is_empty() {
        return Err(ProposalError::Incomplete {
            proposal: proposal.to_string(),
            missing: "integrity algorithm",
        });
    }
    Ok(parts)
}

/// The ESN transforms written, or no ESN when none was (strongSwan's default).
fn esn_or_none(esn: Vec<EsnId>) -> Vec<EsnId> {
    if esn.is_empty() {
        vec![EsnId::NoEsn]
    } else {
        esn
    }
}

/// What `default` in `proposals` stands for: AEADs first, the strongest first, then
/// AES-CBC with HMAC-SHA-2; every group this library offers, elliptic curves first.
pub const DEFAULT_IKE_PROPOSALS: &str = "aes256gcm16-aes128gcm16-chacha20poly1305-prfsha256-prfsha384-prfsha512-x25519-ecp256-ecp384-modp3072-modp2048,aes256-aes128-sha256-sha384-sha512-x25519-ecp256-ecp384-modp3072-modp2048";

/// What `default` in `esp_proposals` stands for.
pub const DEFAULT_ESP_PROPOSALS: &str =
    "aes256gcm16-aes128gcm16-chacha20poly1305,aes256-aes128-sha256-sha384-sha512";

/// The proposals of a list, `default` expanded to `default_list`.
fn split<'a>(list: &'a str, default_list: &'static str) -> Result<Vec<&'a str>, ProposalError> {
    let mut proposals = Vec::new();
    for proposal in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if proposal.eq_ignore_ascii_case("default") {
            proposals.extend(default_list.split(','));
        } else {
            proposals.push(proposal);
        }
    }
    if proposals.is_empty() {
        return Err(ProposalError::Empty);
    }
    Ok(proposals)
}

/// Parses IKE SA proposals (strongSwan's `proposals`): each needs an encryption algorithm,
/// an integrity algorithm unless it is an AEAD, a PRF (explicit `prf…`, or implied by the
/// integrity keyword) and a Diffie-Hellman group.
pub fn parse_ike_proposals(list: &str) -> Result<Vec<IkeProposal>, ProposalError> {
    split(list, DEFAULT_IKE_PROPOSALS)?
        .into_iter()
        .map(|proposal| {
            let parts = parts(proposal)?;
            if !parts.esn.is_empty() {
                return Err(ProposalError::Inconsistent {
                    proposal: proposal.to_string(),
                    problem: "ESN belongs in ESP proposals",
                });
            }
            let prf = if parts.prf.is_empty() {
                parts.implied_prf
            } else {
                parts.prf
            };
            if prf.is_empty() {
                return Err(ProposalError::Incomplete {
                    proposal: proposal.to_string(),
                    missing: "PRF (prfsha256, ...)",
                });
            }
            if parts.dh.is_empty() {
                return Err(ProposalError::Incomplete {
                    proposal: proposal.to_string(),
                    missing: "Diffie-Hellman group",
                });
            }
            Ok(IkeProposal {
                encryption: parts.encryption,
                integrity: parts.integrity,
                prf,
                dh: parts.dh,
            })
        })
        .collect()
}

/// Parses ESP proposals (strongSwan's `esp_proposals`): an encryption algorithm, an
/// integrity algorithm unless it is an AEAD, optional Diffie-Hellman groups for PFS, and
/// optional `esn`/`noesn` (no ESN by default).
pub fn parse_esp_proposals(list: &str) -> Result<Vec<ChildProposal>, ProposalError> {
    split(list, DEFAULT_ESP_PROPOSALS)?
        .into_iter()
        .map(|proposal| {
            let parts = parts(proposal)?;
            if !parts.prf.is_empty() {
                return Err(ProposalError::Inconsistent {
                    proposal: proposal.to_string(),
                    problem: "a PRF belongs in IKE proposals",
                });
            }
            Ok(ChildProposal {
                protocol: IpsecProtocol::Esp,
                encryption: parts.encryption,
                integrity: parts.integrity,
                dh: parts.dh,
                esn: esn_or_none(parts.esn),
            })
        })
        .collect()
}

/// Parses AH proposals (strongSwan's `ah_proposals`, RFC 4302): integrity algorithms only,
/// optional Diffie-Hellman groups for PFS, and optional `esn`/`noesn`.
pub fn parse_ah_proposals(list: &str) -> Result<Vec<ChildProposal>, ProposalError> {
    split(list, "sha256")?
        .into_iter()
        .map(|proposal| {
            let mut parts = Parts::default();
            for word in proposal.split('-').map(str::trim) {
                let unknown = || ProposalError::UnknownKeyword {
                    keyword: word.to_string(),
                    proposal: proposal.to_string(),
                };
                let lower = word.to_ascii_lowercase();
                // In AH, `aes128gmac` and `aes256gmac` are the integrity algorithms
                // AUTH_AES_*_GMAC (RFC 4543 §4); in ESP they name the null cipher with GMAC.
                let gmac = match lower.as_str() {
                    "aes128gmac" => Some(IntegId::Aes128Gmac),
                    "aes256gmac" => Some(IntegId::Aes256Gmac),
                    _ => None,
                };
                if let Some(gmac) = gmac {
                    push(&mut parts.integrity, gmac);
                    continue;
                }
                match keyword(&lower).ok_or_else(unknown)? {
                    Keyword::Integrity(i, _) => push(&mut parts.integrity, i),
                    Keyword::Dh(g) => push(&mut parts.dh, g),
                    Keyword::Esn(e) => push(&mut parts.esn, e),
                    Keyword::Encryption(_) | Keyword::Prf(_) => {
                        return Err(ProposalError::Inconsistent {
                            proposal: proposal.to_string(),
                            problem: "AH takes only integrity algorithms (RFC 4302)",
                        });
                    }
                }
            }
            if parts.integrity.is_empty() {
                return Err(ProposalError::Incomplete {
                    proposal: proposal.to_string(),
                    missing: "integrity algorithm",
                });
            }
            Ok(ChildProposal {
                protocol: IpsecProtocol::Ah,
                encryption: Vec::new(),
                integrity: parts.integrity,
                dh: parts.dh,
                esn: esn_or_none(parts.esn),
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn the_interop_suites() {
        let gcm = parse_ike_proposals("aes256gcm16-prfsha256-x25519").unwrap();
        assert_eq!(
            gcm,
            vec![IkeProposal {
                encryption: vec![Encryption::aes_gcm_16(256)],
                integrity: vec![],
                prf: vec![PrfId::HmacSha2_256],
                dh: vec![DhGroup::Curve25519],
            }]
        );
        let cbc = parse_ike_proposals("aes128-sha256-modp2048").unwrap();
        assert_eq!(cbc[0].integrity, vec![IntegId::HmacSha2_256_128]);
        assert_eq!(cbc[0].prf, vec![PrfId::HmacSha2_256]);
        assert_eq!(cbc[0].dh, vec![DhGroup::Modp2048]);
        let chacha = parse_ike_proposals("chacha20poly1305-prfsha256-x25519").unwrap();
        assert_eq!(chacha[0].encryption, vec![Encryption::chacha20_poly1305()]);
        let esp = parse_esp_proposals("aes128-sha256").unwrap();
        assert_eq!(esp[0].integrity, vec![IntegId::HmacSha2_256_128]);
        assert_eq!(esp[0].esn, vec![EsnId::NoEsn]);
        assert!(esp[0].dh.is_empty());
    }

    #[test]
    fn default_and_ah() {
        let ike = parse_ike_proposals("default").unwrap();
        assert_eq!(ike.len(), 2);
        assert!(ike[0].encryption.contains(&Encryption::aes_gcm_16(256)));
        let esp = parse_esp_proposals("aes128gcm16, default").unwrap();
        assert_eq!(esp.len(), 3);
        assert!(esp.iter().all(|p| p.protocol == IpsecProtocol::Esp));
        let ah = parse_ah_proposals("sha256-sha512-x25519-esn").unwrap();
        assert_eq!(ah[0].protocol, IpsecProtocol::Ah);
        assert!(ah[0].encryption.is_empty());
        assert_eq!(
            ah[0].integrity,
            vec![IntegId::HmacSha2_256_128, IntegId::HmacSha2_512_256]
        );
        assert_eq!(ah[0].dh, vec![DhGroup::Curve25519]);
        assert_eq!(ah[0].esn, vec![EsnId::Esn]);
    }

    #[test]
    fn several_proposals_and_alternatives() {
        let list = parse_ike_proposals(
            "aes256gcm16-prfsha384-ecp384-x25519, aes128-aes256-sha256-sha512-modp3072",
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].dh, vec![DhGroup::Ecp384, DhGroup::Curve25519]);
        assert_eq!(list[1].encryption.len(), 2);
        assert_eq!(list[1].prf, vec![PrfId::HmacSha2_256, PrfId::HmacSha2_512]);
        let esp = parse_esp_proposals("aes256gcm16-modp2048-esn-noesn").unwrap();
        assert_eq!(esp[0].dh, vec![DhGroup::Modp2048]);
        assert_eq!(esp[0].esn, vec![EsnId::Esn, EsnId::NoEsn]);
    }

    /// strongSwan's keywords for the ICV lengths (octets or bits), key sizes, counter mode,
    /// XCBC, SHA-1 and the extra groups.
    #[test]
    fn strongswan_keywords_for_every_algorithm() {
        let encryption = |word: &str| parse_esp_proposals(word).unwrap()[0].encryption[0];
        let aes = |id, bits| Encryption {
            id,
            key_bits: Some(bits),
        };
        for (words, expected) in [
            (["aes192gcm16", "aes192gcm128"], aes(EncrId::AesGcm16, 192)),
            (["aes128gcm12", "aes128gcm96"], aes(EncrId::AesGcm12, 128)),
            (["aes256gcm8", "aes256gcm64"], aes(EncrId::AesGcm8, 256)),
            (["aes128ccm16", "aes128ccm128"], aes(EncrId::AesCcm16, 128)),
            (["aes192ccm12", "aes192ccm96"], aes(EncrId::AesCcm12, 192)),
            (["aes256ccm8", "aes256ccm64"], aes(EncrId::AesCcm8, 256)),
        ] {
            for word in words {
                assert_eq!(encryption(word), expected, "{word}");
            }
        }
        let ctr = parse_esp_proposals("aes256ctr-sha1").unwrap();
        assert_eq!(ctr[0].encryption, vec![aes(EncrId::AesCtr, 256)]);
        assert_eq!(ctr[0].integrity, vec![IntegId::HmacSha1_96]);
        assert_eq!(encryption("aes-sha256"), Encryption::aes_cbc(128));
        assert_eq!(encryption("aes192-sha256"), Encryption::aes_cbc(192));
        let xcbc = parse_ike_proposals("aes128-aesxcbc-modp1024-modp1536").unwrap();
        assert_eq!(xcbc[0].integrity, vec![IntegId::AesXcbc96]);
        assert_eq!(xcbc[0].prf, vec![PrfId::Aes128Xcbc]);
        assert_eq!(xcbc[0].dh, vec![DhGroup::Modp1024, DhGroup::Modp1536]);
        let prfs = parse_ike_proposals("aes128ccm12-prfsha1-prfaesxcbc-ecp521").unwrap();
        assert_eq!(prfs[0].prf, vec![PrfId::HmacSha1, PrfId::Aes128Xcbc]);
        let groups = parse_ike_proposals(
            "aes128gcm16-prfsha256-curve448-ecp224bp-ecp256bp-ecp384bp-ecp512bp-modp6144-modp8192",
        )
        .unwrap();
        assert_eq!(
            groups[0].dh,
            vec![
                DhGroup::Curve448,
                DhGroup::BrainpoolP224r1,
                DhGroup::BrainpoolP256r1,
                DhGroup::BrainpoolP384r1,
                DhGroup::BrainpoolP512r1,
                DhGroup::Modp6144,
                DhGroup::Modp8192
            ]
        );
        for wrong in ["aes512", "aes192gmac", "aes128gcm10", "aes12", "aes128cbc"] {
            assert!(parse_esp_proposals(wrong).is_err(), "{wrong}");
        }
    }

    /// No default proposal offers a legacy algorithm: they are used only when named.
    #[test]
    fn the_defaults_offer_nothing_weak() {
        let ike = parse_ike_proposals("default").unwrap();
        let esp = parse_esp_proposals("default").unwrap();
        let weak_groups = [DhGroup::Modp1024, DhGroup::Modp1536];
        for proposal in &ike {
            assert!(proposal.dh.iter().all(|g| !weak_groups.contains(g)));
            assert!(!proposal.prf.contains(&PrfId::HmacSha1));
            assert!(!proposal.integrity.contains(&IntegId::HmacSha1_96));
        }
        for proposal in &esp {
            assert!(!proposal.integrity.contains(&IntegId::HmacSha1_96));
            assert!(
                proposal
                    .encryption
                    .iter()
                    .all(|e| !matches!(e.id, EncrId::AesGcm8 | EncrId::AesCcm8))
            );
        }
    }

    #[test]
    fn clear_errors() {
        assert_eq!(
            parse_ike_proposals("aes256gcm16-prfsha256-x25519,aes128-sha256-modp1023"),
            Err(ProposalError::UnknownKeyword {
                keyword: "modp1023".into(),
                proposal: "aes128-sha256-modp1023".into()
            })
        );
        assert!(matches!(
            parse_ike_proposals("aes256gcm16-x25519"),
            Err(ProposalError::Incomplete { missing, .. }) if missing.starts_with("PRF")
        ));
        assert!(matches!(
            parse_ike_proposals("aes128-sha256"),
            Err(ProposalError::Incomplete { .. })
        ));
        assert!(matches!(
            parse_esp_proposals("aes128"),
            Err(ProposalError::Incomplete { .. })
        ));
        assert!(matches!(
            parse_esp_proposals("aes128gcm16-sha256"),
            Err(ProposalError::Inconsistent { .. })
        ));
        assert!(matches!(
            parse_esp_proposals("aes128gcm16-prfsha256"),
            Err(ProposalError::Inconsistent { .. })
        ));
        assert_eq!(parse_esp_proposals(" , "), Err(ProposalError::Empty));
        assert!(matches!(
            parse_ah_proposals("aes128-sha256"),
            Err(ProposalError::Inconsistent { .. })
        ));
        assert!(matches!(
            parse_ah_proposals("esn"),
            Err(ProposalError::Incomplete { .. })
        ));
        assert!(
            parse_ike_proposals("aes256-shaXYZ-x25519")
                .unwrap_err()
                .to_string()
                .contains("`shaXYZ`")
        );
    }
}
