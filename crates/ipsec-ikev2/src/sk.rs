//! The Encrypted and Authenticated payload SK: protecting and opening whole IKE messages
//! (RFC 7296 §3.14 with a cipher and an integrity algorithm, RFC 5282 with an AEAD).

use bytes::Bytes;
use ipsec_crypto::{
    AEAD_IV_LEN, Aead, AeadAlgorithm, Cipher, CipherAlgorithm, CryptoError, CryptoProvider,
    Integrity, IntegrityAlgorithm, SecretBytes, SecureRandom,
};
use ipsec_isakmp::payload::{chain_len, emit_chain, first_type};
use ipsec_isakmp::{
    Encrypted, ExchangeType, Flags, HeaderView, Message, Payload, PayloadIter, PayloadType,
};

use crate::config::Encryption;
use crate::keys::KeyLengths;
use crate::proposal::IkeAlgorithms;

/// The algorithms of a negotiated IKE SA, found in the crypto provider.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IkeSuite {
    pub(crate) algorithms: IkeAlgorithms,
    pub(crate) prf: &'static dyn ipsec_crypto::Prf,
    cipher: SuiteCipher,
}

#[derive(Debug, Clone, Copy)]
enum SuiteCipher {
    Aead(&'static dyn AeadAlgorithm),
    CipherIntegrity(
        &'static dyn CipherAlgorithm,
        &'static dyn IntegrityAlgorithm,
    ),
}

impl IkeSuite {
    /// The provider's objects for `algorithms`, or `None` if it lacks one.
    pub(crate) fn lookup(provider: &CryptoProvider, algorithms: IkeAlgorithms) -> Option<Self> {
        let prf = provider.prf(algorithms.prf.value())?;
        let cipher = lookup_cipher(provider, algorithms.encryption, algorithms.integrity)?;
        Some(Self {
            algorithms,
            prf,
            cipher,
        })
    }

    /// The lengths of SK_e and SK_a (RFC 7296 §2.14, RFC 5282 §7.1).
    pub(crate) fn key_lengths(&self) -> KeyLengths {
        match self.cipher {
            SuiteCipher::Aead(aead) => KeyLengths {
                encryption: aead.spec().keymat_len(),
                integrity: 0,
            },
            SuiteCipher::CipherIntegrity(cipher, integrity) => KeyLengths {
                encryption: cipher.spec().keymat_len(),
                integrity: integrity.spec().key_len,
            },
        }
    }

    /// The protection of one direction, with SK_e and SK_a of that direction, keyed once:
    /// for the direction we receive on, which checks messages not yet authenticated
    /// without keying or allocating for each.
    pub(crate) fn key(&self, sk_e: &[u8], sk_a: &[u8]) -> Result<SkDirection, CryptoError> {
        let keyed = self.raw_keys(sk_e, sk_a).keyed()?;
        Ok(SkDirection {
            keys: SkKeys::Keyed(keyed),
            counter: 0,
        })
    }

    /// As [`key`](Self::key), holding the raw keys and keying for each message: for the
    /// direction we send on, which only our own messages use. An established IKE SA sends
    /// few (rekeys, DPD, deletes) and a gateway holds many: the raw keys take a few dozen
    /// bytes where the keyed schedules take hundreds, and keying costs well under a
    /// microsecond. The keys are tried once now, to refuse unusable ones at once.
    pub(crate) fn key_per_message(
        &self,
        sk_e: &[u8],
        sk_a: &[u8],
    ) -> Result<SkDirection, CryptoError> {
        let raw = self.raw_keys(sk_e, sk_a);
        raw.keyed()?;
        Ok(SkDirection {
            keys: SkKeys::Raw(raw),
            counter: 0,
        })
    }

    fn raw_keys(&self, sk_e: &[u8], sk_a: &[u8]) -> RawKeys {
        match self.cipher {
            SuiteCipher::Aead(algorithm) => RawKeys::Aead {
                algorithm,
                key: SecretBytes::copy_from(sk_e),
            },
            SuiteCipher::CipherIntegrity(cipher, integrity) => RawKeys::CipherIntegrity {
                cipher,
                integrity,
                sk_e: SecretBytes::copy_from(sk_e),
                sk_a: SecretBytes::copy_from(sk_a),
            },
        }
    }
}

/// Looks up an encryption algorithm (and, for a non-AEAD, its integrity algorithm).
fn lookup_cipher(
    provider: &CryptoProvider,
    encryption: Encryption,
    integrity: Option<ipsec_isakmp::IntegId>,
) -> Option<SuiteCipher> {
    let bits = encryption.effective_key_bits();
    if encryption.is_aead() {
        return match integrity {
            None | Some(ipsec_isakmp::IntegId::None) => provider
                .aead(encryption.id.value(), bits)
                .map(SuiteCipher::Aead),
            Some(_) => None,
        };
    }
    let cipher = provider.cipher(encryption.id.value(), bits)?;
    let integrity = provider
        .integrity(integrity?.value())
        .filter(|i| i.spec().iv_len == 0)?;
    Some(SuiteCipher::CipherIntegrity(cipher, integrity))
}

/// Whether the provider implements this combination for IKE.
pub(crate) fn supported(
    provider: &CryptoProvider,
    encryption: Encryption,
    integrity: Option<ipsec_isakmp::IntegId>,
) -> bool {
    lookup_cipher(provider, encryption, integrity).is_some()
}

/// One direction's SK protection: the algorithms keyed, or their raw keys
/// ([`IkeSuite::key`], [`IkeSuite::key_per_message`]), and the AEAD's IV counter, unique
/// per key as RFC 5282 §3.1 requires.
pub(crate) struct SkDirection {
    keys: SkKeys,
    counter: u64,
}

enum SkKeys {
    Keyed(Keyed),
    Raw(RawKeys),
}

/// One direction's raw keys, with the algorithms to key them.
enum RawKeys {
    /// An AEAD, with SK_e and the salt (RFC 5282 §7.1).
    Aead {
        algorithm: &'static dyn AeadAlgorithm,
        key: SecretBytes,
    },
    /// A block cipher with a random IV (RFC 7296 §3.14) and an integrity check over the whole
    /// message.
    CipherIntegrity {
        cipher: &'static dyn CipherAlgorithm,
        integrity: &'static dyn IntegrityAlgorithm,
        sk_e: SecretBytes,
        sk_a: SecretBytes,
    },
}

/// One direction's algorithms keyed.
enum Keyed {
    Aead(Box<dyn Aead>),
    CipherIntegrity(Box<dyn Cipher>, Box<dyn Integrity>),
}

impl RawKeys {
    /// The algorithms keyed with these keys.
    fn keyed(&self) -> Result<Keyed, CryptoError> {
        Ok(match self {
            Self::Aead { algorithm, key } => Keyed::Aead(algorithm.new_key(key.expose())?),
            Self::CipherIntegrity {
                cipher,
                integrity,
                sk_e,
                sk_a,
            } => Keyed::CipherIntegrity(
                cipher.new_key(sk_e.expose())?,
                integrity.new_key(sk_a.expose())?,
            ),
        })
    }
}

impl Keyed {
    fn iv_len(&self) -> usize {
        match self {
            Self::Aead(_) => AEAD_IV_LEN,
            Self::CipherIntegrity(cipher, _) => cipher.spec().iv_len,
        }
    }

    fn icv_len(&self) -> usize {
        match self {
            Self::Aead(aead) => aead.spec().icv_len,
            Self::CipherIntegrity(_, integrity) => integrity.spec().icv_len,
        }
    }

    fn block_len(&self) -> usize {
        match self {
            Self::Aead(_) => 1,
            Self::CipherIntegrity(cipher, _) => cipher.spec().block_len.max(1),
        }
    }
}

impl core::fmt::Debug for SkDirection {
    /// The algorithms, never the keys.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.keys {
            SkKeys::Keyed(Keyed::Aead(aead)) => {
                write!(f, "SkDirection::Aead({:?})", aead.spec())
            }
            SkKeys::Raw(RawKeys::Aead { algorithm, .. }) => {
                write!(f, "SkDirection::Aead({:?})", algorithm.spec())
            }
            SkKeys::Keyed(Keyed::CipherIntegrity(cipher, integrity)) => write!(
                f,
                "SkDirection::CipherIntegrity({:?}, {:?})",
                cipher.spec(),
                integrity.spec()
            ),
            SkKeys::Raw(RawKeys::CipherIntegrity {
                cipher, integrity, ..
            }) => write!(
                f,
                "SkDirection::CipherIntegrity({:?}, {:?})",
                cipher.spec(),
                integrity.spec()
            ),
        }
    }
}

/// The header fields of a message to protect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Envelope {
    pub(crate) spi_i: u64,
    pub(crate) spi_r: u64,
    pub(crate) exchange: ExchangeType,
    pub(crate) flags: Flags,
    pub(crate) message_id: u32,
}

/// Why a received message's SK payload did not open (RFC 7296 §3.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SkError {
    /// The message has no SK payload where one is required.
    #[error("no SK payload")]
    Missing,
    /// The SK payload is too short for IV, padding and ICV.
    #[error("SK payload too short")]
    Truncated,
    /// The integrity check failed (RFC 7296 §3.14).
    #[error("SK integrity check failed")]
    IntegrityCheckFailed,
    /// The Pad Length points before the plaintext.
    #[error("SK padding invalid")]
    BadPadding,
    /// The provider lacks the algorithms, or the keys have the wrong length.
    #[error("algorithms or keys unusable")]
    Unsupported,
}

impl SkDirection {
    /// The keyed algorithms: held, or keyed now from the raw keys into `slot`.
    fn keyed<'a>(keys: &'a SkKeys, slot: &'a mut Option<Keyed>) -> Result<&'a Keyed, CryptoError> {
        match keys {
            SkKeys::Keyed(keyed) => Ok(keyed),
            SkKeys::Raw(raw) => Ok(slot.insert(raw.keyed()?)),
        }
    }

    /// Builds the whole message: header, SK payload holding `payloads`, encrypted and
    /// authenticated (RFC 7296 §3.14; RFC 5282 §5 for the AEAD's AAD: the header through the
    /// SK payload's generic header). A Puzzle Solution among them goes before the SK
    /// payload, in the clear but authenticated (RFC 8019 §7.2.2).
    pub(crate) fn seal(
        &mut self,
        envelope: Envelope,
        payloads: &[Payload],
        rng: &mut dyn SecureRandom,
    ) -> Result<Bytes, crate::Error> {
        let is_outer = |p: &Payload| matches!(p, Payload::PuzzleSolution(_));
        let split: (Vec<Payload>, Vec<Payload>);
        let (outer, inner) = if payloads.iter().any(is_outer) {
            split = payloads.iter().cloned().partition(is_outer);
            (split.0, split.1.as_slice())
        } else {
            (Vec::new(), payloads)
        };
        let inner_len = chain_len(inner);
        let mut slot = None;
        let keyed = Self::keyed(&self.keys, &mut slot)?;
        let (iv_len, icv_len, block) = (keyed.iv_len(), keyed.icv_len(), keyed.block_len());
        let unpadded = inner_len.saturating_add(1);
        let padding = (block - unpadded % block) % block;
        let plaintext_len = unpadded + padding;
        let body_len = iv_len + plaintext_len + icv_len;
        let message = Message {
            initiator_spi: envelope.spi_i,
            responder_spi: envelope.spi_r,
            minor_version: ipsec_isakmp::MINOR_VERSION,
            exchange_type: envelope.exchange,
            flags: envelope.flags,
            message_id: envelope.message_id,
            payloads: outer
                .into_iter()
                .chain([Payload::Encrypted(Encrypted {
                    first_inner: first_type(inner),
                    data: vec![0; body_len],
                })])
                .collect(),
        };
        let mut bytes = message.to_vec()?;
        let body_start = bytes.len() - body_len;
        let plaintext_start = body_start + iv_len;
        let plaintext = bytes
            .get_mut(plaintext_start..plaintext_start + plaintext_len)
            .ok_or(crate::Error::Internal("SK layout"))?;
        emit_chain(inner, plaintext)?;
        if let Some(pad_length) = plaintext.last_mut() {
            *pad_length = u8::try_from(padding).map_err(|_| crate::Error::Internal("padding"))?;
        }
        let (aad, body) = bytes.split_at_mut(body_start);
        let (iv, in_out) = body.split_at_mut(iv_len);
        match keyed {
            Keyed::Aead(aead) => {
                self.counter = self
                    .counter
                    .checked_add(1)
                    .ok_or(crate::Error::Internal("IKE IV counter exhausted"))?;
                iv.copy_from_slice(&self.counter.to_be_bytes());
                aead.seal_in_place(&self.counter.to_be_bytes(), aad, in_out)?;
            }
            Keyed::CipherIntegrity(cipher, integrity) => {
                rng.fill(iv)?;
                let plaintext = in_out
                    .get_mut(..plaintext_len)
                    .ok_or(crate::Error::Internal("SK layout"))?;
                cipher.encrypt_in_place(iv, plaintext)?;
                let signed_len = bytes.len() - icv_len;
                let (signed, icv) = bytes.split_at_mut(signed_len);
                integrity.compute(&[signed], icv)?;
            }
        }
        Ok(Bytes::from(bytes))
    }

    /// Verifies and decrypts the SK payload of `datagram` (one whole IKE message) and returns
    /// the type of its first inner payload and the inner payload chain's bytes.
    pub(crate) fn open(&self, datagram: &[u8]) -> Result<(PayloadType, Vec<u8>), SkError> {
        let view = HeaderView::new_checked(datagram).map_err(|_| SkError::Missing)?;
        let mut offset = ipsec_isakmp::HEADER_LEN;
        let mut found = None;
        for raw in PayloadIter::new(view.next_payload(), view.payload()) {
            let raw = raw.map_err(|_| SkError::Missing)?;
            let body_start = offset + ipsec_isakmp::payload::PAYLOAD_HEADER_LEN;
            if raw.payload_type == PayloadType::Encrypted {
                found = Some((raw.next_payload, body_start, raw.body.len()));
            }
            offset = body_start + raw.body.len();
        }
        let (first_inner, body_start, body_len) = found.ok_or(SkError::Missing)?;
        let mut slot = None;
        let keyed = Self::keyed(&self.keys, &mut slot).map_err(|_| SkError::Unsupported)?;
        let (iv_len, icv_len) = (keyed.iv_len(), keyed.icv_len());
        if body_len < iv_len + icv_len + 1 {
            return Err(SkError::Truncated);
        }
        let aad = datagram.get(..body_start).ok_or(SkError::Truncated)?;
        let body = datagram
            .get(body_start..body_start + body_len)
            .ok_or(SkError::Truncated)?;
        let (iv, rest) = body.split_at(iv_len);
        let mut plaintext = match keyed {
            Keyed::Aead(aead) => {
                let iv: [u8; AEAD_IV_LEN] = iv.try_into().map_err(|_| SkError::Truncated)?;
                let mut in_out = rest.to_vec();
                aead.open_in_place(&iv, aad, &mut in_out)
                    .map_err(|_| SkError::IntegrityCheckFailed)?;
                in_out.truncate(in_out.len() - icv_len);
                in_out
            }
            Keyed::CipherIntegrity(cipher, integrity) => {
                let signed_len = datagram.len() - icv_len;
                let (signed, icv) = datagram.split_at(signed_len);
                integrity
                    .verify(&[signed], icv)
                    .map_err(|_| SkError::IntegrityCheckFailed)?;
                let mut ciphertext = rest
                    .get(..rest.len() - icv_len)
                    .unwrap_or_default()
                    .to_vec();
                cipher
                    .decrypt_in_place(iv, &mut ciphertext)
                    .map_err(|_| SkError::Truncated)?;
                ciphertext
            }
        };
        let pad_length = usize::from(*plaintext.last().ok_or(SkError::BadPadding)?);
        let inner_len = plaintext
            .len()
            .checked_sub(pad_length + 1)
            .ok_or(SkError::BadPadding)?;
        plaintext.truncate(inner_len);
        Ok((first_inner, plaintext))
    }
}

/// Verifies and decrypts the SK payload of one IKE message with explicit keys: SK_ei or
/// SK_er (with the salt for AEADs) and, for a non-AEAD, SK_ai or SK_ar (RFC 7296 §3.14,
/// RFC 5282). Returns the type of the first inner payload and the inner payload chain, for
/// [`ipsec_isakmp::payload::parse_chain`]. For tools that hold a key log, and for tests.
pub fn open_sk(
    provider: &CryptoProvider,
    algorithms: IkeAlgorithms,
    sk_e: &[u8],
    sk_a: &[u8],
    message: &[u8],
) -> Result<(PayloadType, Vec<u8>), SkError> {
    let suite = IkeSuite::lookup(provider, algorithms).ok_or(SkError::Unsupported)?;
    let direction = suite.key(sk_e, sk_a).map_err(|_| SkError::Unsupported)?;
    direction.open(message)
}
