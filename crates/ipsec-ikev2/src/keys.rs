//! The IKE SA key schedule (RFC 7296 §2.14) and Child SA keying material (§2.17).

use ipsec_crypto::{CryptoError, Prf, SecretBytes, prf_plus};

/// The seven keys of an IKE SA (RFC 7296 §2.14), each zeroized on drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IkeKeys {
    /// SKEYSEED itself, for the key log (wiped once the IKE SA is up).
    pub skeyseed: SecretBytes,
    /// SK_d: keys the Child SAs and rekeyed IKE SAs.
    pub sk_d: SecretBytes,
    /// SK_ai: integrity, initiator to responder (empty with AEADs).
    pub sk_ai: SecretBytes,
    /// SK_ar: integrity, responder to initiator (empty with AEADs).
    pub sk_ar: SecretBytes,
    /// SK_ei: encryption, initiator to responder (with the salt for AEADs, RFC 5282 §7.1).
    pub sk_ei: SecretBytes,
    /// SK_er: encryption, responder to initiator.
    pub sk_er: SecretBytes,
    /// SK_pi: the initiator's AUTH payload key.
    pub sk_pi: SecretBytes,
    /// SK_pr: the responder's AUTH payload key.
    pub sk_pr: SecretBytes,
}

impl IkeKeys {
    /// Wipes every key but SK_d, once the IKE SA is authenticated and its key log (if any)
    /// taken: SK_d keys its Child SAs and its rekey (RFC 7296 §2.17, §2.18); SK_e and SK_a
    /// live on inside the SK payload's keyed ciphers; SK_p and SKEYSEED are spent (§2.14,
    /// §2.15). A gateway holding many IKE SAs keeps one key each, not eight.
    pub(crate) fn keep_only_sk_d(&mut self) {
        for spent in [
            &mut self.skeyseed,
            &mut self.sk_ai,
            &mut self.sk_ar,
            &mut self.sk_ei,
            &mut self.sk_er,
            &mut self.sk_pi,
            &mut self.sk_pr,
        ] {
            *spent = SecretBytes::default();
        }
    }
}

/// The lengths of the keys a negotiated suite takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyLengths {
    /// SK_e: the cipher's key, then an AEAD's salt (4 bytes for GCM and ChaCha20-Poly1305, 3
    /// for CCM) or AES-CTR's 4-byte nonce.
    pub encryption: usize,
    /// SK_a: the integrity algorithm's key; 0 for AEADs.
    pub integrity: usize,
}

/// SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 §2.14). A PRF with a fixed-length key
/// (AES-XCBC-PRF-128) is keyed with only the first 64 bits of each nonce (RFC 7296 §2.14);
/// prf+ still takes the whole nonces.
pub fn skeyseed(
    prf: &dyn Prf,
    ni: &[u8],
    nr: &[u8],
    shared: &[u8],
) -> Result<SecretBytes, CryptoError> {
    const FIXED_KEY_NONCE: usize = 8;
    let (ni, nr) = if prf.spec().fixed_key {
        (
            ni.get(..FIXED_KEY_NONCE).unwrap_or(ni),
            nr.get(..FIXED_KEY_NONCE).unwrap_or(nr),
        )
    } else {
        (ni, nr)
    };
    let mut key = Vec::with_capacity(ni.len().saturating_add(nr.len()));
    key.extend_from_slice(ni);
    key.extend_from_slice(nr);
    let mut out = SecretBytes::zeroed(prf.spec().output_len);
    prf.compute(&key, &[shared], out.expose_mut())?;
    Ok(out)
}

/// `{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} =
/// prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)` (RFC 7296 §2.14). SK_d and SK_p have the PRF's
/// output length.
pub fn derive_ike_keys(
    prf: &dyn Prf,
    lengths: KeyLengths,
    ni: &[u8],
    nr: &[u8],
    shared: &[u8],
    spi_i: u64,
    spi_r: u64,
) -> Result<IkeKeys, CryptoError> {
    let skeyseed = skeyseed(prf, ni, nr, shared)?;
    expand(prf, lengths, skeyseed, ni, nr, spi_i, spi_r)
}

/// SKEYSEED of a rekeyed IKE SA: `prf(SK_d (old), g^ir (new) | Ni | Nr)` with the old IKE
/// SA's PRF (RFC 7296 §2.18), the nonces of the rekeying exchange.
pub fn rekey_skeyseed(
    old_prf: &dyn Prf,
    old_sk_d: &[u8],
    shared: &[u8],
    ni: &[u8],
    nr: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let mut out = SecretBytes::zeroed(old_prf.spec().output_len);
    old_prf.compute(old_sk_d, &[shared, ni, nr], out.expose_mut())?;
    Ok(out)
}

/// The keys of a rekeyed IKE SA (RFC 7296 §2.18): SKEYSEED from the old SK_d and PRF,
/// expanded with the new PRF over the rekeying exchange's nonces and the new SPIs.
#[allow(clippy::too_many_arguments)]
pub fn derive_rekeyed_ike_keys(
    old_prf: &dyn Prf,
    old_sk_d: &[u8],
    new_prf: &dyn Prf,
    lengths: KeyLengths,
    ni: &[u8],
    nr: &[u8],
    shared: &[u8],
    spi_i: u64,
    spi_r: u64,
) -> Result<IkeKeys, CryptoError> {
    let skeyseed = rekey_skeyseed(old_prf, old_sk_d, shared, ni, nr)?;
    expand(new_prf, lengths, skeyseed, ni, nr, spi_i, spi_r)
}

/// Splits `prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)` into the seven keys.
pub(crate) fn expand(
    prf: &dyn Prf,
    lengths: KeyLengths,
    skeyseed: SecretBytes,
    ni: &[u8],
    nr: &[u8],
    spi_i: u64,
    spi_r: u64,
) -> Result<IkeKeys, CryptoError> {
    let prf_len = prf.spec().output_len;
    let total = prf_len
        .saturating_mul(3)
        .saturating_add(lengths.integrity.saturating_mul(2))
        .saturating_add(lengths.encryption.saturating_mul(2));
    let spi_i = spi_i.to_be_bytes();
    let spi_r = spi_r.to_be_bytes();
    let mut stream = prf_plus(prf, skeyseed.expose(), &[ni, nr, &spi_i, &spi_r], total)?;
    let mut take = |len: usize| {
        stream
            .take_front(len)
            .ok_or(CryptoError::PrfPlusTooLong { requested: total })
    };
    Ok(IkeKeys {
        sk_d: take(prf_len)?,
        sk_ai: take(lengths.integrity)?,
        sk_ar: take(lengths.integrity)?,
        sk_ei: take(lengths.encryption)?,
        sk_er: take(lengths.encryption)?,
        sk_pi: take(prf_len)?,
        sk_pr: take(prf_len)?,
        skeyseed,
    })
}

/// Child SA keying material: `KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr)` (RFC 7296 §2.17),
/// `len` bytes: the initiator-to-responder keys first (encryption, then integrity), then
/// the responder-to-initiator keys.
pub fn child_keymat(
    prf: &dyn Prf,
    sk_d: &[u8],
    new_shared: Option<&[u8]>,
    ni: &[u8],
    nr: &[u8],
    len: usize,
) -> Result<SecretBytes, CryptoError> {
    match new_shared {
        Some(shared) => prf_plus(prf, sk_d, &[shared, ni, nr], len),
        None => prf_plus(prf, sk_d, &[ni, nr], len),
    }
}
