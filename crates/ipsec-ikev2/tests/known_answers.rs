//! Known answers for the key schedule, the SK payload and PSK authentication:
//!
//! - NIST CAVP IKEv2 KDF vectors (`tests/data/cavp_ikev2_kdf.txt`): SKEYSEED, the IKE SA
//!   keys (DKM), Child SA keys with and without a new Diffie-Hellman (RFC 7296 §2.14, §2.17);
//! - three real exchanges between two strongSwan 5.9.8 charons (`tests/data/charon/NAME/`):
//!   every key charon logged recomputed from g^ir, every SK payload opened, both AUTH
//!   payloads verified, the Child SA's ESP keys derived;
//! - RFC 7634 Appendix B (`tests/data/rfc7634/`): an SK payload with ChaCha20-Poly1305.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod vectors;

use ipsec_crypto::{CryptoProvider, Prf, RUST_CRYPTO, providers};
use ipsec_ikev2::{
    Encryption, IkeAlgorithms, IkeKeys, KeyLengths, child_keymat, derive_ike_keys, open_sk,
    psk_auth, skeyseed,
};
use ipsec_isakmp::payload::parse_chain;
use ipsec_isakmp::{
    AuthMethod, DhGroup, Identification, IntegId, Message, Payload, PayloadType, PrfId, ProtocolId,
    SecurityAssociation, Spi, TransformId,
};

// ---------------------------------------------------------------------------------------
// NIST CAVP IKEv2 KDF
// ---------------------------------------------------------------------------------------

/// The PRF a CAVP vector name starts with.
fn cavp_prf(name: &str) -> &'static dyn Prf {
    let id = match name.split('_').next().unwrap() {
        "SHA-1" => PrfId::HmacSha1,
        "SHA-256" => PrfId::HmacSha2_256,
        "SHA-384" => PrfId::HmacSha2_384,
        "SHA-512" => PrfId::HmacSha2_512,
        other => panic!("{name}: unknown hash {other}"),
    };
    RUST_CRYPTO
        .prf(id.value())
        .expect("the default provider has the PRF")
}

/// `SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr`, the order prf+ produces them in.
fn concatenation(keys: &IkeKeys) -> Vec<u8> {
    [
        &keys.sk_d,
        &keys.sk_ai,
        &keys.sk_ar,
        &keys.sk_ei,
        &keys.sk_er,
        &keys.sk_pi,
        &keys.sk_pr,
    ]
    .iter()
    .flat_map(|k| k.expose().iter().copied())
    .collect()
}

/// Key lengths that make the seven keys exactly `dkm_len` bytes:
/// `3 * prf_len + 2 * integrity + 2 * encryption == dkm_len`. The integrity key is the
/// PRF's length (HMAC-SHA-2 with the matching hash, RFC 4868) where it fits, the encryption
/// key takes the rest. `None` if DKM is shorter than SK_d, SK_pi and SK_pr alone.
fn exact_lengths(prf_len: usize, dkm_len: usize) -> Option<KeyLengths> {
    let rest = dkm_len.checked_sub(3 * prf_len)?;
    assert_eq!(rest % 2, 0, "DKM length {dkm_len} is odd past the PRF keys");
    let per_direction = rest / 2;
    let integrity = if per_direction > prf_len { prf_len } else { 0 };
    Some(KeyLengths {
        encryption: per_direction - integrity,
        integrity,
    })
}

#[test]
fn cavp_ikev2_kdf() {
    let all = vectors::parse(include_str!("data/cavp_ikev2_kdf.txt"));
    assert_eq!(all.len(), 19, "the file holds 19 vectors");
    let (mut checked, mut exact, mut prefix) = (0, 0, 0);
    for v in &all {
        let name = v.name.as_str();
        let prf = cavp_prf(name);
        let prf_len = prf.spec().output_len;
        let (ni, nr, gir, gir_new) = (v.get("ni"), v.get("nr"), v.get("gir"), v.get("gir_new"));
        let spi_i = u64::from_be_bytes(v.get("spi_i").try_into().unwrap());
        let spi_r = u64::from_be_bytes(v.get("spi_r").try_into().unwrap());
        let dkm = v.get("dkm");

        // SKEYSEED = prf(Ni | Nr, g^ir).
        let seed = skeyseed(prf, ni, nr, gir).unwrap();
        assert_eq!(seed.expose(), v.get("skeyseed"), "{name}: SKEYSEED");

        // DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), split into the seven keys.
        let keys = match exact_lengths(prf_len, dkm.len()) {
            Some(lengths) => {
                let keys = derive_ike_keys(prf, lengths, ni, nr, gir, spi_i, spi_r).unwrap();
                assert_eq!(concatenation(&keys), dkm, "{name}: DKM with {lengths:?}");
                exact += 1;
                keys
            }
            None => {
                // A 132-byte DKM is shorter than SK_d, SK_pi and SK_pr of a 48- or 64-byte
                // PRF: no key lengths give it exactly. prf+ is a stream, so the seven keys
                // with empty SK_a and SK_e must start with DKM.
                let lengths = KeyLengths {
                    encryption: 0,
                    integrity: 0,
                };
                let keys = derive_ike_keys(prf, lengths, ni, nr, gir, spi_i, spi_r).unwrap();
                let all = concatenation(&keys);
                assert!(all.len() > dkm.len(), "{name}");
                assert_eq!(&all[..dkm.len()], dkm, "{name}: DKM as a prefix");
                prefix += 1;
                keys
            }
        };
        assert_eq!(keys.skeyseed.expose(), v.get("skeyseed"), "{name}");
        assert_eq!(keys.sk_d.expose(), &dkm[..prf_len], "{name}: SK_d");

        // DKM(Child SA) = prf+(SK_d, Ni | Nr); DKM(Child SA D-H) = prf+(SK_d, g^ir new | Ni | Nr).
        let child = v.get("dkm_child");
        let keymat = child_keymat(prf, keys.sk_d.expose(), None, ni, nr, child.len()).unwrap();
        assert_eq!(keymat.expose(), child, "{name}: DKM(Child SA)");
        let child_dh = v.get("dkm_child_dh");
        let keymat = child_keymat(
            prf,
            keys.sk_d.expose(),
            Some(gir_new),
            ni,
            nr,
            child_dh.len(),
        )
        .unwrap();
        assert_eq!(keymat.expose(), child_dh, "{name}: DKM(Child SA D-H)");

        // SKEYSEED(Rekey) = prf(SK_d, g^ir new | Ni | Nr) (RFC 7296 §2.18), the schedule
        // an IKE SA rekey uses.
        let rekey = ipsec_ikev2::rekey_skeyseed(prf, keys.sk_d.expose(), gir_new, ni, nr).unwrap();
        assert_eq!(
            rekey.expose(),
            v.get("skeyseed_rekey"),
            "{name}: SKEYSEED(Rekey)"
        );
        checked += 1;
    }
    // 5 HMAC-SHA-1, 6 HMAC-SHA-256, 4 HMAC-SHA-384 and 4 HMAC-SHA-512 vectors. DKM splits
    // exactly for SHA-1 and SHA-256 (all; SHA-1's 132 bytes are the keys of AES-128-CBC with
    // HMAC-SHA1-96) and for the 384-byte DKMs of SHA-384 and SHA-512; the 132-byte DKMs of
    // SHA-384 and SHA-512 are checked as prefixes.
    assert_eq!(checked, 19);
    assert_eq!((exact, prefix), (13, 6));
}

#[test]
fn cavp_lengths_cover_real_suites() {
    // The exact splits above include the suites of real IKE SAs.
    assert_eq!(
        exact_lengths(64, 384),
        Some(KeyLengths {
            encryption: 32, // AES-256-CBC
            integrity: 64,  // HMAC-SHA2-512-256
        })
    );
    assert_eq!(
        exact_lengths(32, 132),
        Some(KeyLengths {
            encryption: 18,
            integrity: 0,
        })
    );
    assert_eq!(exact_lengths(48, 132), None);
}

// ---------------------------------------------------------------------------------------
// strongSwan charon exchanges
// ---------------------------------------------------------------------------------------

/// The PSK of both charons (`secrets.ike-lab.secret` in the swanctl confs).
const CHARON_PSK: &[u8] = b"interop-lab-psk-0123456789";

/// One capture's files, compiled in.
struct Capture {
    name: &'static str,
    keys: &'static str,
    init_request: &'static [u8],
    init_response: &'static [u8],
    auth_request: &'static [u8],
    auth_request_inner: &'static [u8],
    auth_response: &'static [u8],
    auth_response_inner: &'static [u8],
    info_request: &'static [u8],
    info_request_inner: &'static [u8],
    info_response: &'static [u8],
    info_response_inner: &'static [u8],
}

macro_rules! capture {
    ($name:literal) => {
        Capture {
            name: $name,
            keys: include_str!(concat!("data/charon/", $name, "/keys.txt")),
            init_request: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/01-ike_sa_init-request.bin"
            )),
            init_response: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/02-ike_sa_init-response.bin"
            )),
            auth_request: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/03-ike_auth-request.bin"
            )),
            auth_request_inner: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/03-ike_auth-request-inner.bin"
            )),
            auth_response: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/04-ike_auth-response.bin"
            )),
            auth_response_inner: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/04-ike_auth-response-inner.bin"
            )),
            info_request: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/11-informational-request.bin"
            )),
            info_request_inner: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/11-informational-request-inner.bin"
            )),
            info_response: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/12-informational-response.bin"
            )),
            info_response_inner: include_bytes!(concat!(
                "data/charon/",
                $name,
                "/12-informational-response-inner.bin"
            )),
        }
    };
}

const AES_CBC: &str = "aes128-sha256-modp2048";
const AES_GCM: &str = "aes256gcm16-x25519";
const CHACHA: &str = "chacha20poly1305-x25519";

fn capture(name: &str) -> Capture {
    match name {
        AES_CBC => capture!("aes128-sha256-modp2048"),
        AES_GCM => capture!("aes256gcm16-x25519"),
        CHACHA => capture!("chacha20poly1305-x25519"),
        other => panic!("no capture {other}"),
    }
}

/// What IKE_SA_INIT gives: SPIs, nonces, the chosen algorithms.
struct Init {
    spi_i: u64,
    spi_r: u64,
    ni: Vec<u8>,
    nr: Vec<u8>,
    algorithms: IkeAlgorithms,
}

fn nonce(message: &Message) -> Vec<u8> {
    message
        .payloads
        .iter()
        .find_map(|p| match p {
            Payload::Nonce(n) => Some(n.data.clone()),
            _ => None,
        })
        .expect("a Nonce payload")
}

fn sa_payload(payloads: &[Payload]) -> &SecurityAssociation {
    payloads
        .iter()
        .find_map(|p| match p {
            Payload::SecurityAssociation(sa) => Some(sa),
            _ => None,
        })
        .expect("an SA payload")
}

/// The algorithms of the single proposal a responder accepted.
fn chosen_ike(sa: &SecurityAssociation) -> IkeAlgorithms {
    assert_eq!(sa.proposals.len(), 1, "a response holds one proposal");
    let proposal = &sa.proposals[0];
    assert_eq!(proposal.protocol, ProtocolId::Ike);
    let (mut encryption, mut integrity, mut prf, mut dh) = (None, None, None, None);
    for t in &proposal.transforms {
        match t.id() {
            TransformId::Encr(id) => {
                encryption = Some(Encryption {
                    id,
                    key_bits: t.key_length(),
                });
            }
            TransformId::Integ(id) => integrity = Some(id),
            TransformId::Prf(id) => prf = Some(id),
            TransformId::Dh(group) => dh = Some(group),
            other => panic!("unexpected transform {other:?}"),
        }
    }
    IkeAlgorithms {
        encryption: encryption.expect("ENCR"),
        integrity,
        prf: prf.expect("PRF"),
        dh: dh.expect("D-H"),
    }
}

fn parse_init(capture: &Capture) -> Init {
    let request = Message::parse(capture.init_request).unwrap();
    let response = Message::parse(capture.init_response).unwrap();
    assert_eq!(request.responder_spi, 0);
    assert_eq!(request.initiator_spi, response.initiator_spi);
    Init {
        spi_i: response.initiator_spi,
        spi_r: response.responder_spi,
        ni: nonce(&request),
        nr: nonce(&response),
        algorithms: chosen_ike(sa_payload(&response.payloads)),
    }
}

/// SK_e and SK_a lengths of the suites in the captures (RFC 5282 §7.1: AEAD keys carry the
/// 4-byte salt).
fn key_lengths(algorithms: &IkeAlgorithms) -> KeyLengths {
    let encryption = usize::from(algorithms.encryption.effective_key_bits()) / 8;
    if algorithms.encryption.is_aead() {
        KeyLengths {
            encryption: encryption + 4,
            integrity: 0,
        }
    } else {
        let integrity = match algorithms.integrity.expect("an integrity algorithm") {
            IntegId::HmacSha2_256_128 => 32,
            IntegId::HmacSha2_384_192 => 48,
            IntegId::HmacSha2_512_256 => 64,
            other => panic!("no key length for {other:?}"),
        };
        KeyLengths {
            encryption,
            integrity,
        }
    }
}

fn prf_of(algorithms: &IkeAlgorithms) -> &'static dyn Prf {
    RUST_CRYPTO.prf(algorithms.prf.value()).unwrap()
}

/// The body of an ID payload as `Identification::emit` writes it: RestOfIDPayload of
/// RFC 7296 §2.15.
fn id_body(id: &Identification) -> Vec<u8> {
    let mut body = vec![0; id.buffer_len()];
    id.emit(&mut body).unwrap();
    body
}

/// Recomputes SKEYSEED and all seven SK_* from charon's g^ir and returns the IKE SA's keys.
fn check_key_schedule(capture: &Capture, init: &Init) -> IkeKeys {
    let name = capture.name;
    let logged = vectors::parse_charon_keys(capture.keys);
    assert_eq!(
        (logged.spi_i, logged.spi_r),
        (init.spi_i, init.spi_r),
        "{name}"
    );
    let prf = prf_of(&init.algorithms);
    let gir = logged.ike("g_ir");
    let seed = skeyseed(prf, &init.ni, &init.nr, gir).unwrap();
    assert_eq!(seed.expose(), logged.ike("SKEYSEED"), "{name}: SKEYSEED");
    let lengths = key_lengths(&init.algorithms);
    let keys = derive_ike_keys(
        prf, lengths, &init.ni, &init.nr, gir, init.spi_i, init.spi_r,
    )
    .unwrap();
    assert_eq!(keys.skeyseed.expose(), logged.ike("SKEYSEED"), "{name}");
    for (label, ours) in [
        ("SK_d", &keys.sk_d),
        ("SK_ei", &keys.sk_ei),
        ("SK_er", &keys.sk_er),
        ("SK_pi", &keys.sk_pi),
        ("SK_pr", &keys.sk_pr),
    ] {
        assert_eq!(ours.expose(), logged.ike(label), "{name}: {label}");
    }
    for (label, ours) in [("SK_ai", &keys.sk_ai), ("SK_ar", &keys.sk_ar)] {
        assert_eq!(ours.expose(), logged.ike_or_empty(label), "{name}: {label}");
    }
    keys
}

/// Opens one captured message with the logged keys in every provider compiled in and checks
/// the inner chain against the `-inner.bin` file.
fn check_open(
    capture: &Capture,
    init: &Init,
    label: &str,
    message: &[u8],
    from_initiator: bool,
    first: PayloadType,
    inner: &[u8],
) {
    let name = capture.name;
    let logged = vectors::parse_charon_keys(capture.keys);
    let (sk_e, sk_a) = if from_initiator {
        (logged.ike("SK_ei"), logged.ike_or_empty("SK_ai"))
    } else {
        (logged.ike("SK_er"), logged.ike_or_empty("SK_ar"))
    };
    for provider in providers() {
        let (first_inner, plaintext) = open_sk(provider, init.algorithms, sk_e, sk_a, message)
            .unwrap_or_else(|e| panic!("{name} {label} ({}): {e}", provider.name));
        assert_eq!(first_inner, first, "{name} {label} ({})", provider.name);
        assert_eq!(plaintext, inner, "{name} {label} ({})", provider.name);
        // The other direction's keys do not open it.
        let (wrong_e, wrong_a) = if from_initiator {
            (logged.ike("SK_er"), logged.ike_or_empty("SK_ar"))
        } else {
            (logged.ike("SK_ei"), logged.ike_or_empty("SK_ai"))
        };
        assert!(
            open_sk(provider, init.algorithms, wrong_e, wrong_a, message).is_err(),
            "{name} {label}: opened with the other direction's keys"
        );
    }
    // One flipped bit of the ICV and the message does not open.
    let mut forged = message.to_vec();
    *forged.last_mut().unwrap() ^= 1;
    assert!(open_sk(&RUST_CRYPTO, init.algorithms, sk_e, sk_a, &forged).is_err());
}

fn find_id(payloads: &[Payload], initiator: bool) -> &Identification {
    payloads
        .iter()
        .find_map(|p| match (p, initiator) {
            (Payload::IdInitiator(id), true) | (Payload::IdResponder(id), false) => Some(id),
            _ => None,
        })
        .expect("an ID payload")
}

fn find_auth(payloads: &[Payload]) -> &ipsec_isakmp::Authentication {
    payloads
        .iter()
        .find_map(|p| match p {
            Payload::Authentication(a) => Some(a),
            _ => None,
        })
        .expect("an AUTH payload")
}

/// The ESP SPI in the single Child SA proposal of an IKE_AUTH message.
fn child_spi(payloads: &[Payload]) -> u32 {
    let sa = sa_payload(payloads);
    let proposal = &sa.proposals[0];
    assert_eq!(proposal.protocol, ProtocolId::Esp);
    match proposal.spi {
        Spi::Ipsec(spi) => spi,
        other => panic!("ESP proposal SPI {other:?}"),
    }
}

/// The keying material one ESP SA takes: encryption key (with salt for AEADs), then
/// integrity key.
fn esp_keymat_len(payloads: &[Payload]) -> usize {
    let proposal = &sa_payload(payloads).proposals[0];
    let mut len = 0;
    for t in &proposal.transforms {
        match t.id() {
            TransformId::Encr(id) => {
                let encryption = Encryption {
                    id,
                    key_bits: t.key_length(),
                };
                len += usize::from(encryption.effective_key_bits()) / 8;
                if encryption.is_aead() {
                    len += 4;
                }
            }
            TransformId::Integ(IntegId::HmacSha2_256_128) => len += 32,
            TransformId::Integ(IntegId::None) => {}
            TransformId::Integ(other) => panic!("no key length for {other:?}"),
            _ => {}
        }
    }
    len
}

fn check_capture(name: &str, expected: IkeAlgorithms) {
    let capture = capture(name);
    let init = parse_init(&capture);
    assert_eq!(init.algorithms, expected, "{name}: chosen algorithms");

    // Key schedule.
    let keys = check_key_schedule(&capture, &init);

    // Every SK payload.
    check_open(
        &capture,
        &init,
        "03 IKE_AUTH request",
        capture.auth_request,
        true,
        PayloadType::IdInitiator,
        capture.auth_request_inner,
    );
    check_open(
        &capture,
        &init,
        "04 IKE_AUTH response",
        capture.auth_response,
        false,
        PayloadType::IdResponder,
        capture.auth_response_inner,
    );
    check_open(
        &capture,
        &init,
        "11 INFORMATIONAL request",
        capture.info_request,
        true,
        PayloadType::Delete,
        capture.info_request_inner,
    );
    assert!(capture.info_response_inner.is_empty());
    check_open(
        &capture,
        &init,
        "12 INFORMATIONAL response",
        capture.info_response,
        false,
        PayloadType::NoNextPayload,
        capture.info_response_inner,
    );

    // Both AUTH payloads (RFC 7296 §2.15).
    let prf = prf_of(&init.algorithms);
    let request = parse_chain(PayloadType::IdInitiator, capture.auth_request_inner).unwrap();
    let response = parse_chain(PayloadType::IdResponder, capture.auth_response_inner).unwrap();
    let idi = find_id(&request, true);
    let idr = find_id(&response, false);
    assert_eq!(*idi, Identification::rfc822("initiator@lab.test"), "{name}");
    assert_eq!(*idr, Identification::rfc822("responder@lab.test"), "{name}");
    let auth_i = find_auth(&request);
    let auth_r = find_auth(&response);
    assert_eq!(auth_i.method, AuthMethod::SharedKeyMic, "{name}");
    assert_eq!(auth_r.method, AuthMethod::SharedKeyMic, "{name}");
    let ours_i = psk_auth(
        prf,
        CHARON_PSK,
        capture.init_request,
        &init.nr,
        keys.sk_pi.expose(),
        &id_body(idi),
    )
    .unwrap();
    assert_eq!(ours_i.expose(), auth_i.data, "{name}: initiator's AUTH");
    let ours_r = psk_auth(
        prf,
        CHARON_PSK,
        capture.init_response,
        &init.ni,
        keys.sk_pr.expose(),
        &id_body(idr),
    )
    .unwrap();
    assert_eq!(ours_r.expose(), auth_r.data, "{name}: responder's AUTH");
    // A wrong PSK, or the other side's key, gives another AUTH.
    let wrong = psk_auth(
        prf,
        b"interop-lab-psk-0123456788",
        capture.init_request,
        &init.nr,
        keys.sk_pi.expose(),
        &id_body(idi),
    )
    .unwrap();
    assert_ne!(wrong.expose(), auth_i.data);
    let swapped = psk_auth(
        prf,
        CHARON_PSK,
        capture.init_request,
        &init.nr,
        keys.sk_pr.expose(),
        &id_body(idi),
    )
    .unwrap();
    assert_ne!(swapped.expose(), auth_i.data);

    // The Child SA's keys: KEYMAT = prf+(SK_d, Ni | Nr), initiator-to-responder first
    // (RFC 7296 §2.17).
    let logged = vectors::parse_charon_keys(capture.keys);
    let (i_to_r, r_to_i) = (logged.esp(true), logged.esp(false));
    // The initiator's proposal carries its inbound SPI (r->i), the responder's its own.
    assert_eq!(child_spi(&request), r_to_i.spi, "{name}: SPI r->i");
    assert_eq!(child_spi(&response), i_to_r.spi, "{name}: SPI i->r");
    let len = esp_keymat_len(&response);
    assert_eq!(len, i_to_r.encr.len() + i_to_r.integ.len(), "{name}");
    let keymat = child_keymat(prf, keys.sk_d.expose(), None, &init.ni, &init.nr, 2 * len).unwrap();
    let (first, second) = keymat.expose().split_at(len);
    let logged_i_to_r = [i_to_r.encr.as_slice(), &i_to_r.integ].concat();
    let logged_r_to_i = [r_to_i.encr.as_slice(), &r_to_i.integ].concat();
    assert_eq!(first, logged_i_to_r, "{name}: ESP keys i->r");
    assert_eq!(second, logged_r_to_i, "{name}: ESP keys r->i");
}

#[test]
fn charon_aes128_cbc_sha256_modp2048() {
    check_capture(
        AES_CBC,
        IkeAlgorithms {
            encryption: Encryption::aes_cbc(128),
            integrity: Some(IntegId::HmacSha2_256_128),
            prf: PrfId::HmacSha2_256,
            dh: DhGroup::Modp2048,
        },
    );
}

#[test]
fn charon_aes256_gcm16_x25519() {
    check_capture(
        AES_GCM,
        IkeAlgorithms {
            encryption: Encryption::aes_gcm_16(256),
            integrity: None,
            prf: PrfId::HmacSha2_256,
            dh: DhGroup::Curve25519,
        },
    );
}

#[test]
fn charon_chacha20_poly1305_x25519() {
    check_capture(
        CHACHA,
        IkeAlgorithms {
            encryption: Encryption::chacha20_poly1305(),
            integrity: None,
            prf: PrfId::HmacSha2_256,
            dh: DhGroup::Curve25519,
        },
    );
}

// ---------------------------------------------------------------------------------------
// RFC 7634 Appendix B
// ---------------------------------------------------------------------------------------

fn rfc7634(file: &str) -> Vec<u8> {
    let text = match file {
        "message" => include_str!("data/rfc7634/message.hex"),
        "sk_e" => include_str!("data/rfc7634/sk_e.hex"),
        "inner" => include_str!("data/rfc7634/inner_payloads.hex"),
        other => panic!("no such file {other}"),
    };
    hex::decode(text.trim()).unwrap()
}

fn chacha_algorithms() -> IkeAlgorithms {
    IkeAlgorithms {
        encryption: Encryption::chacha20_poly1305(),
        integrity: None,
        // Neither the PRF nor the group takes part in opening an SK payload.
        prf: PrfId::HmacSha2_256,
        dh: DhGroup::Curve25519,
    }
}

fn open_rfc7634(provider: &CryptoProvider) {
    let (message, sk_e, inner) = (rfc7634("message"), rfc7634("sk_e"), rfc7634("inner"));
    assert_eq!(sk_e.len(), 36, "32-byte key and 4-byte salt");
    let (first, plaintext) = open_sk(provider, chacha_algorithms(), &sk_e, &[], &message)
        .unwrap_or_else(|e| panic!("{}: {e}", provider.name));
    assert_eq!(first, PayloadType::Notify, "{}", provider.name);
    assert_eq!(plaintext, inner, "{}", provider.name);
    let payloads = parse_chain(first, &plaintext).unwrap();
    let [Payload::Notify(notify)] = payloads.as_slice() else {
        panic!("one Notify: {payloads:?}");
    };
    assert_eq!(notify.notify_type, ipsec_isakmp::NotifyType::SetWindowSize);
    assert_eq!(notify.data, 10u32.to_be_bytes());
}

#[test]
fn rfc7634_appendix_b() {
    for provider in providers() {
        open_rfc7634(provider);
    }
    let (message, sk_e) = (rfc7634("message"), rfc7634("sk_e"));
    let algorithms = chacha_algorithms();
    // Every byte of the message is covered: the header and SK header as AAD, the IV as
    // nonce, the ciphertext and the tag.
    for index in 0..message.len() {
        let mut forged = message.clone();
        forged[index] ^= 0x80;
        assert!(
            open_sk(&RUST_CRYPTO, algorithms, &sk_e, &[], &forged).is_err(),
            "byte {index} flipped and the message still opens"
        );
    }
    // A wrong salt is a wrong nonce.
    let mut wrong_salt = sk_e.clone();
    *wrong_salt.last_mut().unwrap() ^= 1;
    assert!(open_sk(&RUST_CRYPTO, algorithms, &wrong_salt, &[], &message).is_err());
    // Without the salt the keying material has the wrong length.
    assert_eq!(
        open_sk(&RUST_CRYPTO, algorithms, &sk_e[..32], &[], &message),
        Err(ipsec_ikev2::SkError::Unsupported)
    );
    // Every truncation fails without a panic.
    for len in 0..message.len() {
        assert!(open_sk(&RUST_CRYPTO, algorithms, &sk_e, &[], &message[..len]).is_err());
    }
}

#[test]
fn rfc7634_unused_algorithm_fields() {
    // `open_sk` takes a whole IkeAlgorithms; any PRF and group must give the same result.
    let (message, sk_e, inner) = (rfc7634("message"), rfc7634("sk_e"), rfc7634("inner"));
    for (prf, dh) in [
        (PrfId::HmacSha2_384, DhGroup::Modp2048),
        (PrfId::HmacSha2_512, DhGroup::Ecp256),
    ] {
        let algorithms = IkeAlgorithms {
            prf,
            dh,
            ..chacha_algorithms()
        };
        let (first, plaintext) = open_sk(&RUST_CRYPTO, algorithms, &sk_e, &[], &message).unwrap();
        assert_eq!((first, plaintext), (PayloadType::Notify, inner.clone()));
    }
    // An integrity algorithm with an AEAD is no suite.
    let algorithms = IkeAlgorithms {
        integrity: Some(IntegId::HmacSha2_256_128),
        ..chacha_algorithms()
    };
    assert_eq!(
        open_sk(&RUST_CRYPTO, algorithms, &sk_e, &[], &message),
        Err(ipsec_ikev2::SkError::Unsupported)
    );
}
