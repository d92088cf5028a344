//! Keys for Wireshark: IKE SAs as rows of its `ikev2_decryption_table` and ESP SAs as rows
//! of its `esp_sa` table, the way SSLKEYLOGFILE serves TLS. Off unless the caller sets
//! [`Config::key_log`](crate::Config::key_log); keys written anywhere are keys exposed.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;

use ipsec_crypto::SecretBytes;
use ipsec_ikev2::{ChildAlgorithms, IkeAlgorithms, IkeKeyLog, IpsecProtocol};
use ipsec_isakmp::{EncrId, IntegId};

/// The keys of one ESP or AH SA (one direction), with what Wireshark needs to match
/// packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EspSaKeys {
    /// The sender's address.
    pub source: IpAddr,
    /// The receiver's address.
    pub destination: IpAddr,
    /// The SPI.
    pub spi: u32,
    /// The algorithms.
    pub algorithms: ChildAlgorithms,
    /// The encryption key (with the salt for AEADs).
    pub encryption_key: SecretBytes,
    /// The integrity key; empty for AEADs.
    pub integrity_key: SecretBytes,
}

/// Where SA keys go.
pub trait KeyLog: Send + Sync {
    /// An IKE SA's keys (RFC 7296 §2.14), once it is established.
    fn log_ike_sa(&self, keys: &IkeKeyLog);
    /// An ESP or AH SA's keys (RFC 7296 §2.17), once it is installed.
    fn log_esp_sa(&self, keys: &EspSaKeys);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Wireshark's name of an IKE encryption algorithm in `ikev2_decryption_table` (the
/// `vs_ikev2_encr_algs` strings of its `packet-isakmp.c`, the same from 4.0 to 4.6); `None`
/// for one it cannot decrypt (ChaCha20-Poly1305 has no entry).
fn ike_encryption_name(algorithms: &IkeAlgorithms) -> Option<String> {
    let bits = algorithms.encryption.effective_key_bits();
    Some(match algorithms.encryption.id {
        EncrId::AesGcm16 => format!("AES-GCM-{bits} with 16 octet ICV [RFC5282]"),
        EncrId::AesGcm12 => format!("AES-GCM-{bits} with 12 octet ICV [RFC5282]"),
        EncrId::AesGcm8 => format!("AES-GCM-{bits} with 8 octet ICV [RFC5282]"),
        EncrId::AesCcm16 => format!("AES-CCM-{bits} with 16 octet ICV [RFC5282]"),
        EncrId::AesCcm12 => format!("AES-CCM-{bits} with 12 octet ICV [RFC5282]"),
        EncrId::AesCcm8 => format!("AES-CCM-{bits} with 8 octet ICV [RFC5282]"),
        EncrId::AesCbc => format!("AES-CBC-{bits} [RFC3602]"),
        EncrId::AesCtr => format!("AES-CTR-{bits} [RFC5930]"),
        EncrId::TripleDes => "3DES [RFC2451]".to_string(),
        EncrId::Null => "NULL [RFC2410]".to_string(),
        _ => return None,
    })
}

/// Wireshark's name of an IKE integrity algorithm in `ikev2_decryption_table`
/// (`vs_ikev2_auth_algs`); `None` for one it does not know.
fn ike_integrity_name(integrity: Option<IntegId>) -> Option<&'static str> {
    Some(match integrity {
        None | Some(IntegId::None) => "NONE [RFC4306]",
        Some(IntegId::HmacMd5_96) => "HMAC_MD5_96 [RFC2403]",
        Some(IntegId::HmacSha1_96) => "HMAC_SHA1_96 [RFC2404]",
        Some(IntegId::HmacSha2_256_128) => "HMAC_SHA2_256_128 [RFC4868]",
        Some(IntegId::HmacSha2_384_192) => "HMAC_SHA2_384_192 [RFC4868]",
        Some(IntegId::HmacSha2_512_256) => "HMAC_SHA2_512_256 [RFC4868]",
        Some(_) => return None,
    })
}

/// One row of Wireshark's `ikev2_decryption_table`:
/// `SPIi,SPIr,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"` (SPIs and keys in bare hex,
/// AEAD keys with their salt). `None` for algorithms Wireshark's table has no name for
/// (ChaCha20-Poly1305), which a row could only break: Wireshark stops reading the table at
/// a line it refuses.
pub fn ikev2_decryption_table_row(keys: &IkeKeyLog) -> Option<String> {
    Some(format!(
        "{:016x},{:016x},{},{},\"{}\",{},{},\"{}\"",
        keys.spi_i,
        keys.spi_r,
        hex(keys.sk_ei.expose()),
        hex(keys.sk_er.expose()),
        ike_encryption_name(&keys.algorithms)?,
        hex(keys.sk_ai.expose()),
        hex(keys.sk_ar.expose()),
        ike_integrity_name(keys.algorithms.integrity)?,
    ))
}

/// Wireshark's name of an ESP cipher in `esp_sa` (`esp_encryption_type_vals` of its
/// `packet-ipsec.c`). ChaCha20-Poly1305 is named as Wireshark 4.6 names it; older versions
/// skip just that row. `None` for NULL with AES-GMAC, which no version has.
fn esp_encryption_name(algorithms: &ChildAlgorithms) -> Option<&'static str> {
    let encryption = algorithms.encryption?;
    Some(match encryption.id {
        EncrId::AesGcm16 => "AES-GCM with 16 octet ICV [RFC4106]",
        EncrId::AesGcm12 => "AES-GCM with 12 octet ICV [RFC4106]",
        EncrId::AesGcm8 => "AES-GCM with 8 octet ICV [RFC4106]",
        EncrId::AesCbc => "AES-CBC [RFC3602]",
        EncrId::AesCtr => "AES-CTR [RFC3686]",
        EncrId::TripleDes => "TripleDES-CBC [RFC2451]",
        EncrId::Chacha20Poly1305 => "ChaCha20 with Poly1305 [RFC7634]",
        EncrId::Null => "NULL",
        _ => return None,
    })
}

/// Wireshark's name of an ESP integrity algorithm in `esp_sa`
/// (`esp_authentication_type_vals`); AEADs take `NULL`.
fn esp_integrity_name(integrity: Option<IntegId>) -> Option<&'static str> {
    Some(match integrity {
        None | Some(IntegId::None) => "NULL",
        Some(IntegId::HmacSha1_96) => "HMAC-SHA-1-96 [RFC2404]",
        Some(IntegId::HmacMd5_96) => "HMAC-MD5-96 [RFC2403]",
        Some(IntegId::HmacSha2_256_128) => "HMAC-SHA-256-128 [RFC4868]",
        Some(IntegId::HmacSha2_384_192) => "HMAC-SHA-384-192 [RFC4868]",
        Some(IntegId::HmacSha2_512_256) => "HMAC-SHA-512-256 [RFC4868]",
        Some(_) => return None,
    })
}

/// One row of Wireshark's `esp_sa` table:
/// `"IPv4","source","destination","0xSPI","encryption","0xkey","integrity","0xkey"` (eight
/// columns, which every Wireshark from 4.0 on reads). `None` for an AH SA (Wireshark
/// decrypts ESP only; AH it reads without keys) and for algorithms it has no name for.
pub fn esp_sa_row(keys: &EspSaKeys) -> Option<String> {
    if keys.algorithms.protocol == IpsecProtocol::Ah {
        return None;
    }
    let family = if keys.source.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    };
    let encryption = esp_encryption_name(&keys.algorithms)?;
    let integrity = esp_integrity_name(keys.algorithms.integrity)?;
    let integrity_key = if keys.integrity_key.is_empty() {
        String::new()
    } else {
        format!("0x{}", hex(keys.integrity_key.expose()))
    };
    Some(format!(
        "\"{family}\",\"{}\",\"{}\",\"0x{:08x}\",\"{encryption}\",\"0x{}\",\"{integrity}\",\"{integrity_key}\"",
        keys.source,
        keys.destination,
        keys.spi,
        hex(keys.encryption_key.expose()),
    ))
}

/// A key log that appends rows to `ikev2_decryption_table` and `esp_sa` in a directory,
/// ready to be a Wireshark configuration directory's tables. Write errors are ignored: a
/// key log must never take the tunnel down.
#[derive(Debug)]
pub struct KeyLogDir {
    dir: PathBuf,
    lock: Mutex<()>,
}

impl KeyLogDir {
    /// Logs into `dir`, which must exist.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            lock: Mutex::new(()),
        }
    }

    fn append(&self, file: &str, row: &str) {
        let _guard = self.lock.lock();
        if let Ok(mut f) = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(file))
        {
            let _ = writeln!(f, "{row}");
        }
    }
}

impl KeyLog for KeyLogDir {
    fn log_ike_sa(&self, keys: &IkeKeyLog) {
        if let Some(row) = ikev2_decryption_table_row(keys) {
            self.append("ikev2_decryption_table", &row);
        }
    }

    fn log_esp_sa(&self, keys: &EspSaKeys) {
        if let Some(row) = esp_sa_row(keys) {
            self.append("esp_sa", &row);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ipsec_ikev2::Encryption;
    use ipsec_isakmp::{DhGroup, PrfId};

    fn ike(encryption: Encryption, integrity: Option<IntegId>) -> IkeKeyLog {
        let key = |n: usize| SecretBytes::copy_from(&vec![0xab; n]);
        IkeKeyLog {
            spi_i: 0x0102_0304_0506_0708,
            spi_r: 0x1112_1314_1516_1718,
            algorithms: IkeAlgorithms {
                encryption,
                integrity,
                prf: PrfId::HmacSha2_256,
                dh: DhGroup::Curve25519,
            },
            sk_ei: key(36),
            sk_er: key(36),
            sk_ai: key(0),
            sk_ar: key(0),
            skeyseed: key(32),
            sk_d: key(32),
            sk_pi: key(32),
            sk_pr: key(32),
        }
    }

    fn esp(
        protocol: IpsecProtocol,
        encryption: Option<Encryption>,
        integrity: Option<IntegId>,
    ) -> EspSaKeys {
        EspSaKeys {
            source: "192.0.2.1".parse().unwrap(),
            destination: "198.51.100.1".parse().unwrap(),
            spi: 0xc0ffee01,
            algorithms: ChildAlgorithms {
                protocol,
                encryption,
                integrity,
                dh: None,
                esn: false,
            },
            encryption_key: SecretBytes::copy_from(&[0x11; 20]),
            integrity_key: SecretBytes::copy_from(&[]),
        }
    }

    /// The names are the ones Wireshark's tables hold (its `packet-isakmp.c` and
    /// `packet-ipsec.c`, 4.0 to 4.6); a name it does not know makes it stop reading the
    /// table, so algorithms it cannot decrypt get no row at all.
    #[test]
    fn rows_use_wiresharks_names() {
        let row = ikev2_decryption_table_row(&ike(Encryption::aes_gcm_16(256), None)).unwrap();
        assert!(row.starts_with("0102030405060708,1112131415161718,"));
        assert!(row.contains(",\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\""));
        let twelve = Encryption {
            id: EncrId::AesGcm12,
            key_bits: Some(128),
        };
        assert!(
            ikev2_decryption_table_row(&ike(twelve, None))
                .unwrap()
                .contains("\"AES-GCM-128 with 12 octet ICV [RFC5282]\"")
        );
        let cbc = ikev2_decryption_table_row(&ike(
            Encryption::aes_cbc(128),
            Some(IntegId::HmacSha2_256_128),
        ))
        .unwrap();
        assert!(cbc.contains("\"AES-CBC-128 [RFC3602]\""));
        assert!(cbc.ends_with("\"HMAC_SHA2_256_128 [RFC4868]\""));
        assert_eq!(
            ikev2_decryption_table_row(&ike(Encryption::chacha20_poly1305(), None)),
            None,
            "Wireshark has no ChaCha20-Poly1305 for IKEv2"
        );

        let gcm8 = esp(
            IpsecProtocol::Esp,
            Some(Encryption {
                id: EncrId::AesGcm8,
                key_bits: Some(128),
            }),
            None,
        );
        assert_eq!(
            esp_sa_row(&gcm8).unwrap(),
            "\"IPv4\",\"192.0.2.1\",\"198.51.100.1\",\"0xc0ffee01\",\"AES-GCM with 8 octet ICV [RFC4106]\",\"0x1111111111111111111111111111111111111111\",\"NULL\",\"\""
        );
        let chacha = esp(
            IpsecProtocol::Esp,
            Some(Encryption::chacha20_poly1305()),
            None,
        );
        assert!(
            esp_sa_row(&chacha)
                .unwrap()
                .contains("\"ChaCha20 with Poly1305 [RFC7634]\"")
        );
        let gmac = esp(
            IpsecProtocol::Esp,
            Some(Encryption {
                id: EncrId::NullAuthAesGmac,
                key_bits: Some(128),
            }),
            None,
        );
        assert_eq!(esp_sa_row(&gmac), None);
        let ah = esp(IpsecProtocol::Ah, None, Some(IntegId::HmacSha2_256_128));
        assert_eq!(esp_sa_row(&ah), None, "Wireshark reads AH without keys");
    }
}
