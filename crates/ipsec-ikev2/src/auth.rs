//! Pre-shared key authentication (RFC 7296 §2.15).

use ipsec_crypto::{CryptoError, Prf, SecretBytes};

/// The pad the shared secret is keyed with (RFC 7296 §2.15).
const KEY_PAD: &[u8] = b"Key Pad for IKEv2";

/// The AUTH payload data of a PSK peer (RFC 7296 §2.15):
///
/// `AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets>)`, where
/// `SignedOctets = RealMessage | Nonce of the other side | prf(SK_p, RestOfIDPayload)`:
/// the initiator signs its IKE_SA_INIT request, Nr and `prf(SK_pi, IDi body)`; the responder
/// its IKE_SA_INIT response, Ni and `prf(SK_pr, IDr body)`.
pub fn psk_auth(
    prf: &dyn Prf,
    psk: &[u8],
    real_message: &[u8],
    other_nonce: &[u8],
    sk_p: &[u8],
    id_body: &[u8],
) -> Result<SecretBytes, CryptoError> {
    let len = prf.spec().output_len;
    let mut maced_id = SecretBytes::zeroed(len);
    prf.compute(sk_p, &[id_body], maced_id.expose_mut())?;
    let mut key = SecretBytes::zeroed(len);
    prf.compute(psk, &[KEY_PAD], key.expose_mut())?;
    let mut auth = SecretBytes::zeroed(len);
    prf.compute(
        key.expose(),
        &[real_message, other_nonce, maced_id.expose()],
        auth.expose_mut(),
    )?;
    Ok(auth)
}
