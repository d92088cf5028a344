//! The key log scenario: for every IKE and ESP algorithm the library can negotiate, a key log
//! row made by
//! `ipsec::ikev2_decryption_table_row` / `ipsec::esp_sa_row` from keys of the right lengths,
//! loaded by tshark from a throwaway Wireshark configuration directory:
//!
//! - `row`: the function gives a row, or `None` where Wireshark cannot decrypt (ChaCha20 for
//!   IKE, AES-GMAC for ESP);
//! - `alone`: tshark loads the table holding just that row without "Error loading table" /
//!   "invalid value" (tshark 4.0 drops a line with a label it does not know and stops at a
//!   semantic error, printing only the last error: loading each row alone attributes them);
//! - `together`: tshark loads both tables holding every row at once without an error;
//! - `decrypts`: two of our endpoints in the harness negotiate that algorithm (IKE and ESP
//!   proposals paired in turn), their IKE and raw ESP go into a pcap file, and tshark
//!   decrypts every SK payload and ESP packet of them with the rows their key log gave.
//!
//! ESP ChaCha20-Poly1305's row names "ChaCha20 with Poly1305 [RFC7634]", which Wireshark
//! only knows from 4.6 on: tshark 4.0 refuses it, which counts as skipped (n/a), not as a
//! failure.

use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use ipsec::crypto::SecretBytes;
use ipsec::ikev2::{ChildAlgorithms, Encryption, IkeAlgorithms, IkeKeyLog};
use ipsec::isakmp::{DhGroup, EncrId, IntegId, PrfId};
use ipsec::{Child, EspSaKeys, IpsecProtocol, Mode};

use crate::Cell;
use crate::inproc::{Pair, WireKind, endpoint, write_pcap};
use crate::packet;
use crate::report::{Table, TableRow};
use crate::util::{self, norm_hex, say};
use crate::wireshark::{self, HEADER};

const COLUMNS: [&str; 4] = ["row", "alone", "together", "decrypts"];
const C_ROW: usize = 0;
const C_ALONE: usize = 1;
const C_TOGETHER: usize = 2;
const C_DECRYPTS: usize = 3;

pub(crate) const TITLE: &str = "keylog: ikev2_decryption_table_row / esp_sa_row for every \
                                algorithm, loaded and used by tshark";

/// What tshark is to make of a row.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// a row every tshark from 4.0 on loads
    Row,
    /// no row: Wireshark cannot decrypt it (why)
    NoRow(&'static str),
    /// a row named as Wireshark `.0`.`.1` and later name it; older tshark refuses it
    Since(u32, u32),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum KeyTable {
    Ike,
    Esp,
}

impl KeyTable {
    fn file(self) -> &'static str {
        match self {
            KeyTable::Ike => "ikev2_decryption_table",
            KeyTable::Esp => "esp_sa",
        }
    }
}

struct Case {
    table: KeyTable,
    label: String,
    encryption: Option<Encryption>,
    integrity: Option<IntegId>,
    /// a proposal string of ours that negotiates it, or why none does (row only)
    live: Result<&'static str, &'static str>,
    expect: Expect,
}

/// Why AES-CCM has no ESP row.
const NO_ESP_CCM: &str = "Wireshark's ESP table has no AES-CCM";
/// Why AES-XCBC has no row.
const NO_XCBC: &str = "Wireshark's tables have no AES-XCBC-MAC-96";

fn gcm(id: EncrId, bits: u16) -> Encryption {
    Encryption {
        id,
        key_bits: Some(bits),
    }
}

fn integ_name(i: Option<IntegId>) -> &'static str {
    match i {
        Some(IntegId::HmacSha2_256_128) => "HMAC-SHA2-256-128",
        Some(IntegId::HmacSha2_384_192) => "HMAC-SHA2-384-192",
        Some(IntegId::HmacSha2_512_256) => "HMAC-SHA2-512-256",
        Some(IntegId::HmacSha1_96) => "HMAC-SHA1-96",
        Some(IntegId::AesXcbc96) => "AES-XCBC-96",
        _ => "?",
    }
}

/// The AES modes with a key size and an ICV length: (id, ICV, keyword infix).
const AEAD_MODES: [(EncrId, u8, &str); 6] = [
    (EncrId::AesGcm16, 16, "gcm16"),
    (EncrId::AesGcm12, 12, "gcm12"),
    (EncrId::AesGcm8, 8, "gcm8"),
    (EncrId::AesCcm16, 16, "ccm16"),
    (EncrId::AesCcm12, 12, "ccm12"),
    (EncrId::AesCcm8, 8, "ccm8"),
];

/// A proposal string made at run time and kept for the run (the cases hold `&'static str`).
fn keyword(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

fn mode_name(id: EncrId) -> &'static str {
    match id {
        EncrId::AesCcm8 | EncrId::AesCcm12 | EncrId::AesCcm16 => "CCM",
        _ => "GCM",
    }
}

/// Every case: IKE first, then ESP.
fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    let ike = |label: String, e, i, p, x| Case {
        table: KeyTable::Ike,
        label: format!("IKE {label}"),
        encryption: Some(e),
        integrity: i,
        live: p,
        expect: x,
    };
    let esp = |label: String, e, i, p, x| Case {
        table: KeyTable::Esp,
        label: format!("ESP {label}"),
        encryption: e,
        integrity: i,
        live: p,
        expect: x,
    };
    // IKE: AES-GCM and AES-CCM with every key size and ICV length (RFC 5282)
    for (id, icv, infix) in AEAD_MODES {
        for bits in [128u16, 192, 256] {
            v.push(ike(
                format!("AES-{}-{bits} ({icv}-octet ICV)", mode_name(id)),
                gcm(id, bits),
                None,
                Ok(keyword(format!("aes{bits}{infix}-prfsha256-x25519"))),
                Expect::Row,
            ));
        }
    }
    let integrity = [
        (IntegId::HmacSha2_256_128, "sha256"),
        (IntegId::HmacSha2_384_192, "sha384"),
        (IntegId::HmacSha2_512_256, "sha512"),
        (IntegId::HmacSha1_96, "sha1"),
    ];
    for (mode, id) in [("", EncrId::AesCbc), ("ctr", EncrId::AesCtr)] {
        for bits in [128u16, 192, 256] {
            for (i, word) in integrity {
                v.push(ike(
                    format!(
                        "AES-{}-{bits} + {}",
                        if mode.is_empty() { "CBC" } else { "CTR" },
                        integ_name(Some(i))
                    ),
                    gcm(id, bits),
                    Some(i),
                    Ok(keyword(format!("aes{bits}{mode}-{word}-x25519"))),
                    Expect::Row,
                ));
            }
        }
    }
    v.push(ike(
        "AES-CBC-128 + AES-XCBC-96".into(),
        Encryption::aes_cbc(128),
        Some(IntegId::AesXcbc96),
        Ok("aes128-aesxcbc-x25519"),
        Expect::NoRow(NO_XCBC),
    ));
    v.push(ike(
        "ChaCha20-Poly1305".into(),
        Encryption::chacha20_poly1305(),
        None,
        Ok("chacha20poly1305-prfsha256-x25519"),
        Expect::NoRow("Wireshark's IKEv2 table has no ChaCha20-Poly1305"),
    ));
    // ESP
    for (id, icv, infix) in AEAD_MODES {
        for bits in [128u16, 192, 256] {
            let ccm = mode_name(id) == "CCM";
            v.push(esp(
                format!("AES-{}-{bits} ({icv}-octet ICV)", mode_name(id)),
                Some(gcm(id, bits)),
                None,
                Ok(keyword(format!("aes{bits}{infix}"))),
                if ccm {
                    Expect::NoRow(NO_ESP_CCM)
                } else {
                    Expect::Row
                },
            ));
        }
    }
    for (mode, id) in [("", EncrId::AesCbc), ("ctr", EncrId::AesCtr)] {
        for bits in [128u16, 192, 256] {
            for (i, word) in integrity {
                v.push(esp(
                    format!(
                        "AES-{}-{bits} + {}",
                        if mode.is_empty() { "CBC" } else { "CTR" },
                        integ_name(Some(i))
                    ),
                    Some(gcm(id, bits)),
                    Some(i),
                    Ok(keyword(format!("aes{bits}{mode}-{word}"))),
                    Expect::Row,
                ));
            }
        }
    }
    v.push(esp(
        "AES-CBC-128 + AES-XCBC-96".into(),
        Some(Encryption::aes_cbc(128)),
        Some(IntegId::AesXcbc96),
        Ok("aes128-aesxcbc"),
        Expect::NoRow(NO_XCBC),
    ));
    v.push(esp(
        "NULL + HMAC-SHA2-256-128".into(),
        Some(Encryption {
            id: EncrId::Null,
            key_bits: None,
        }),
        Some(IntegId::HmacSha2_256_128),
        Ok("null-sha256"),
        Expect::Row,
    ));
    v.push(esp(
        "ChaCha20-Poly1305".into(),
        Some(Encryption::chacha20_poly1305()),
        None,
        Ok("chacha20poly1305"),
        Expect::Since(4, 6),
    ));
    for bits in [128, 256] {
        v.push(esp(
            format!("AES-GMAC-{bits}"),
            Some(gcm(EncrId::NullAuthAesGmac, bits)),
            None,
            Ok(if bits == 128 {
                "aes128gmac"
            } else {
                "aes256gmac"
            }),
            Expect::NoRow("Wireshark's ESP table has no AES-GMAC (NULL with AES-GMAC)"),
        ));
    }
    v
}

/// The encryption key's length in octets, salt included.
fn enc_len(e: Option<&Encryption>) -> usize {
    let Some(e) = e else { return 0 };
    let bytes = usize::from(e.effective_key_bits() / 8);
    match e.id {
        EncrId::AesGcm8
        | EncrId::AesGcm12
        | EncrId::AesGcm16
        | EncrId::NullAuthAesGmac
        | EncrId::AesCtr => bytes + 4,
        EncrId::AesCcm8 | EncrId::AesCcm12 | EncrId::AesCcm16 => bytes + 3,
        EncrId::Chacha20Poly1305 => 36,
        EncrId::Null => 0,
        _ => bytes,
    }
}

fn integ_len(i: Option<IntegId>) -> usize {
    match i {
        Some(IntegId::HmacSha2_256_128) => 32,
        Some(IntegId::HmacSha2_384_192) => 48,
        Some(IntegId::HmacSha2_512_256) => 64,
        Some(IntegId::HmacSha1_96) => 20,
        Some(IntegId::HmacMd5_96) | Some(IntegId::AesXcbc96) => 16,
        _ => 0,
    }
}

fn key(n: usize, fill: u8) -> SecretBytes {
    SecretBytes::copy_from(&vec![fill; n])
}

/// The row the library makes for case number `i`, from keys of the right lengths.
fn row_for(i: usize, c: &Case) -> Option<String> {
    let n = i as u64 + 1;
    match c.table {
        KeyTable::Ike => {
            let encryption = c.encryption?;
            let (ek, ik) = (enc_len(Some(&encryption)), integ_len(c.integrity));
            ipsec::ikev2_decryption_table_row(&IkeKeyLog {
                spi_i: 0x1c00_0000_0000_0000 | n,
                spi_r: 0x2c00_0000_0000_0000 | n,
                algorithms: IkeAlgorithms {
                    encryption,
                    integrity: c.integrity,
                    prf: PrfId::HmacSha2_256,
                    dh: DhGroup::Curve25519,
                },
                sk_ei: key(ek, 0x11),
                sk_er: key(ek, 0x22),
                sk_ai: key(ik, 0x33),
                sk_ar: key(ik, 0x44),
                skeyseed: key(32, 0x55),
                sk_d: key(32, 0x66),
                sk_pi: key(32, 0x77),
                sk_pr: key(32, 0x88),
            })
        }
        KeyTable::Esp => ipsec::esp_sa_row(&EspSaKeys {
            source: "192.0.2.1".parse().ok()?,
            destination: "198.51.100.1".parse().ok()?,
            spi: 0xe5b0_0000 | n as u32,
            algorithms: ChildAlgorithms {
                protocol: IpsecProtocol::Esp,
                encryption: c.encryption,
                integrity: c.integrity,
                dh: None,
                esn: false,
            },
            encryption_key: key(enc_len(c.encryption.as_ref()), 0x99),
            integrity_key: key(integ_len(c.integrity), 0xaa),
        }),
    }
}

/// tshark's version as (major, minor, text).
fn tshark_version() -> (u32, u32, String) {
    let text = util::run(
        Command::new("tshark").arg("--version"),
        Duration::from_secs(20),
    )
    .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    .unwrap_or_default();
    // "TShark (Wireshark) 4.0.17 (Git v4.0.17 packaged as 4.0.17-0+deb12u3)"
    let v = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or("0.0")
        .to_string();
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        format!("tshark {v}"),
    )
}

/// Loads the tables in `cfg` (a Wireshark configuration directory) by reading `pcap`;
/// tshark's table errors, if any.
fn load(cfg: &Path, pcap: &Path) -> Result<Vec<String>, String> {
    let out = util::run(
        Command::new("tshark")
            .env("WIRESHARK_CONFIG_DIR", cfg)
            .args(["-n", "-r"])
            .arg(pcap),
        Duration::from_secs(60),
    )?;
    let err = String::from_utf8_lossy(&out.stderr);
    Ok(err
        .lines()
        .filter(|l| l.contains("Error loading table") || l.contains("invalid value"))
        .map(|l| l.trim().to_string())
        .collect())
}

/// Writes a configuration directory holding `rows` of each table.
fn config_dir(dir: &Path, ike: &[&str], esp: &[&str]) -> Result<(), String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let body = |rows: &[&str]| {
        let mut s = String::from(HEADER);
        for r in rows {
            s.push_str(r);
            s.push('\n');
        }
        s
    };
    fs::write(dir.join(KeyTable::Ike.file()), body(ike)).map_err(|e| e.to_string())?;
    fs::write(dir.join(KeyTable::Esp.file()), body(esp)).map_err(|e| e.to_string())?;
    Ok(())
}

pub(crate) fn run(workdir: &Path) -> Table {
    util::set_case_label("keylog");
    say!("=== key log rows for every algorithm, in tshark ===");
    let dir = workdir.join("keylog");
    let cases = cases();
    let mut table = Table::new(TITLE, &COLUMNS);
    for c in &cases {
        table
            .rows
            .push(TableRow::new(c.label.clone(), COLUMNS.len()));
    }
    if let Err(e) = body(&mut table, &cases, &dir) {
        say!("key log case aborted: {e}");
        for r in table.rows.iter_mut() {
            r.fail_unset(&format!("not reached: {e}"));
        }
    }
    table
        .notes
        .push(format!("(key log files: {})", dir.display()));
    util::set_case_label("");
    table
}

fn body(table: &mut Table, cases: &[Case], dir: &Path) -> Result<(), String> {
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let (major, minor, version) = tshark_version();
    table.notes.push(format!("({version})"));
    let empty = dir.join("empty.pcap");
    write_pcap(&empty, &[])?;
    let rows: Vec<Option<String>> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| row_for(i, c))
        .collect();
    let _ = fs::write(
        dir.join("rows.txt"),
        cases
            .iter()
            .zip(&rows)
            .map(|(c, r)| format!("{}: {}\n", c.label, r.as_deref().unwrap_or("None")))
            .collect::<String>(),
    );
    let too_old = |since: (u32, u32)| (major, minor) < since;

    // --- row, alone
    for (i, ((c, row), tr)) in cases
        .iter()
        .zip(&rows)
        .zip(table.rows.iter_mut())
        .enumerate()
    {
        match (c.expect, row) {
            (Expect::NoRow(why), None) => {
                tr.set(C_ROW, true, format!("None, as it should: {why}"));
                for col in [C_ALONE, C_TOGETHER, C_DECRYPTS] {
                    tr.put(col, Cell::Skip(format!("no row: {why}")));
                }
                continue;
            }
            (Expect::NoRow(why), Some(r)) => {
                tr.set(
                    C_ROW,
                    false,
                    format!("a row where none belongs ({why}): {r}"),
                );
            }
            (_, None) => {
                tr.set(C_ROW, false, "None: the library made no row".to_string());
                for col in [C_ALONE, C_TOGETHER] {
                    tr.put(col, Cell::Fail("no row".into()));
                }
                continue;
            }
            (_, Some(r)) => tr.set(C_ROW, true, r.clone()),
        }
        let Some(r) = row else { continue };
        let cfg = dir.join("alone").join(format!("{i:02}"));
        let (ike, esp): (Vec<&str>, Vec<&str>) = match c.table {
            KeyTable::Ike => (vec![r.as_str()], vec![]),
            KeyTable::Esp => (vec![], vec![r.as_str()]),
        };
        config_dir(&cfg, &ike, &esp)?;
        let errors = load(&cfg, &empty)?;
        match (c.expect, errors.is_empty()) {
            (_, true) => tr.set(
                C_ALONE,
                true,
                format!(
                    "{version} loaded {} with this row alone, no error",
                    c.table.file()
                ),
            ),
            (Expect::Since(a, b), false) if too_old((a, b)) => tr.put(
                C_ALONE,
                Cell::Skip(format!(
                    "skipped by version: the row names the algorithm as Wireshark {a}.{b} and \
                     later do, {version} refuses it: {}",
                    errors.join(" | ")
                )),
            ),
            (_, false) => tr.set(C_ALONE, false, errors.join(" | ")),
        }
    }

    // --- together: every row this tshark should take, in one configuration
    let mut together_ike = Vec::new();
    let mut together_esp = Vec::new();
    let mut included = Vec::new();
    for (i, (c, row)) in cases.iter().zip(&rows).enumerate() {
        let Some(r) = row else { continue };
        if let Expect::Since(a, b) = c.expect
            && too_old((a, b))
        {
            continue;
        }
        included.push(i);
        match c.table {
            KeyTable::Ike => together_ike.push(r.as_str()),
            KeyTable::Esp => together_esp.push(r.as_str()),
        }
    }
    let cfg = dir.join("together");
    config_dir(&cfg, &together_ike, &together_esp)?;
    let errors = load(&cfg, &empty)?;
    for (i, (c, tr)) in cases.iter().zip(table.rows.iter_mut()).enumerate() {
        if matches!(tr.cells.get(C_TOGETHER), Some(Cell::Skip(s)) if s != "not run") {
            continue;
        }
        if included.contains(&i) {
            tr.set(
                C_TOGETHER,
                errors.is_empty(),
                if errors.is_empty() {
                    format!(
                        "loaded with the other rows ({} IKE, {} ESP), no error",
                        together_ike.len(),
                        together_esp.len()
                    )
                } else {
                    errors.join(" | ")
                },
            );
        } else if let Expect::Since(a, b) = c.expect {
            tr.put(
                C_TOGETHER,
                Cell::Skip(format!(
                    "left out: named as Wireshark {a}.{b} and later name it, {version} refuses it"
                )),
            );
        }
    }

    // --- decrypts: live pairs, IKE and ESP proposals paired in turn; only algorithms this
    // tshark can decrypt
    let live = |t: KeyTable| -> Vec<(usize, &'static str)> {
        cases
            .iter()
            .enumerate()
            .filter(|(_, c)| c.table == t)
            .filter(|(_, c)| match c.expect {
                Expect::Row => true,
                Expect::NoRow(_) => false,
                Expect::Since(a, b) => !too_old((a, b)),
            })
            .filter_map(|(i, c)| c.live.ok().map(|p| (i, p)))
            .collect()
    };
    let (live_ike, live_esp) = (live(KeyTable::Ike), live(KeyTable::Esp));
    let pairs = if live_ike.is_empty() || live_esp.is_empty() {
        0
    } else {
        live_ike.len().max(live_esp.len())
    };
    let mut verdicts: BTreeMap<usize, Vec<(bool, String)>> = BTreeMap::new();
    for m in 0..pairs {
        let (Some(&(ii, ip)), Some(&(ei, ep))) = (
            live_ike.get(m % live_ike.len()),
            live_esp.get(m % live_esp.len()),
        ) else {
            continue;
        };
        let pdir = dir.join("live").join(format!("{m:02}-{ip}-{ep}"));
        let (ike_v, esp_v) = match live_pair(ip, ep, &pdir) {
            Ok(v) => v,
            Err(e) => {
                let e = format!("{ip} / {ep}: {e}");
                ((false, e.clone()), (false, e))
            }
        };
        verdicts.entry(ii).or_default().push(ike_v);
        verdicts.entry(ei).or_default().push(esp_v);
    }
    for (i, (c, tr)) in cases.iter().zip(table.rows.iter_mut()).enumerate() {
        if matches!(tr.cells.get(C_DECRYPTS), Some(Cell::Skip(s)) if s != "not run") {
            continue;
        }
        match verdicts.get(&i) {
            Some(v) => {
                let ok = v.iter().all(|(ok, _)| *ok);
                let d = v
                    .iter()
                    .map(|(_, d)| d.clone())
                    .collect::<Vec<_>>()
                    .join(" | ");
                tr.set(C_DECRYPTS, ok, d);
            }
            None => {
                let why = match (c.expect, c.live) {
                    (Expect::Since(a, b), _) if too_old((a, b)) => {
                        format!("{version} cannot decrypt it (Wireshark {a}.{b} and later can)")
                    }
                    (_, Err(why)) => why.to_string(),
                    (_, Ok(p)) => format!("{p}: not run"),
                };
                tr.put(C_DECRYPTS, Cell::Skip(why));
            }
        }
    }
    Ok(())
}

/// A live check's outcome: passed, and what was seen.
type Judged = (bool, String);

/// Two of our endpoints negotiate `ike` / `esp` (tunnel mode, raw ESP), A pings B twice,
/// then A deletes; the IKE and ESP packets go to a pcap file, the key tables come from A's
/// key log through the row functions, and tshark judges. Returns the verdict on the IKE SA
/// and on the ESP SAs.
fn live_pair(ike: &str, esp: &str, dir: &Path) -> Result<(Judged, Judged), String> {
    fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let (a, b) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 1));
    let (host_a, host_b) = (Ipv4Addr::new(10, 1, 0, 5), Ipv4Addr::new(10, 2, 0, 7));
    let mut pair = Pair::new(a, b, |now, is_a, keys| {
        let (addrs, ids, ts) = if is_a {
            (
                (a, b),
                ("a.keylog.test", "b.keylog.test"),
                ("10.1.0.0/16", "10.2.0.0/16"),
            )
        } else {
            (
                (b, a),
                ("b.keylog.test", "a.keylog.test"),
                ("10.2.0.0/16", "10.1.0.0/16"),
            )
        };
        let child = Child::builder("net")
            .local_ts(ts.0)
            .remote_ts(ts.1)
            .esp_proposals(esp)
            .mode(Mode::Tunnel)
            .build();
        endpoint(now, "kl", addrs, ids, ike, child, keys)
    })?;
    pair.connect("kl")?;
    let ike_sa = pair
        .a
        .ep
        .ike_sas(pair.now)
        .into_iter()
        .next()
        .ok_or_else(|| {
            format!(
                "no IKE SA; dropped: {:?}; A's events: {:?}",
                pair.dropped, pair.a.events
            )
        })?;
    // without a Child SA the IKE SA is still judged (IKE_AUTH and the Delete)
    let child = pair.a.ep.child_sas(pair.now).into_iter().next();
    let mut outcomes = Vec::new();
    if child.is_some() {
        for seq in 1..=2 {
            let p = packet::icmp_echo(host_a, host_b, false, 0x4b4c, seq, b"key log check");
            outcomes.push(pair.send_from_a(&p));
        }
    }
    let answered = pair.a.delivered.len();
    let failed_child: Vec<String> = pair
        .a
        .events
        .iter()
        .chain(&pair.b.events)
        .filter(|e| matches!(e, ipsec::Event::ChildSaFailed { .. }))
        .map(|e| format!("{e:?}"))
        .collect();
    pair.disconnect();
    let pcap = dir.join("live.pcap");
    pair.write_pcap(&pcap, &[WireKind::Ike, WireKind::Esp])?;
    let (ike_rows, esp_rows) = match pair.a.keys.0.lock() {
        Ok(k) => (
            k.ike
                .iter()
                .filter_map(ipsec::ikev2_decryption_table_row)
                .collect::<Vec<_>>(),
            k.esp
                .iter()
                .filter_map(ipsec::esp_sa_row)
                .collect::<Vec<_>>(),
        ),
        Err(_) => return Err("key log lock poisoned".into()),
    };
    let tables = dir.join("keylog");
    config_dir(
        &tables,
        &ike_rows.iter().map(String::as_str).collect::<Vec<_>>(),
        &esp_rows.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let v = wireshark::analyse(&pcap, Some(&tables), &dir.join("tshark"))?;
    let problems = |kind: &str| -> String {
        let p: Vec<String> = v
            .problems
            .iter()
            .filter(|p| p.contains(kind))
            .take(2)
            .cloned()
            .collect();
        if p.is_empty() {
            String::new()
        } else {
            format!("; {}", p.join("; "))
        }
    };
    let key = format!("{:016x}_{:016x}", ike_sa.spis.0, ike_sa.spis.1);
    let (n, ok) = v.sk_by_sa.get(&key).copied().unwrap_or_default();
    let ike_ok = n >= 4 && ok == n && v.sk_ok == v.sk_msgs;
    let ike_v = (
        ike_ok,
        format!(
            "{ok}/{n} SK messages decrypted, ICV correct ({ike} / {esp}, {} row{}){}",
            ike_rows.len(),
            if ike_rows.len() == 1 { "" } else { "s" },
            problems("IKE")
        ),
    );
    let Some(child) = child else {
        let why = format!(
            "{ike} / {esp}: no Child SA; {}; dropped: {:?}",
            if failed_child.is_empty() {
                "no child_sa_failed".to_string()
            } else {
                failed_child.join(", ")
            },
            pair.dropped
        );
        return Ok((ike_v, (false, why)));
    };
    let spis = [
        format!("{:08x}", child.inbound_spi),
        format!("{:08x}", child.outbound_spi),
    ];
    let (en, eok) = spis
        .iter()
        .filter_map(|s| v.esp_by_spi.get(&norm_hex(s)))
        .fold((0, 0), |x, y| (x.0 + y.0, x.1 + y.1));
    let inner_ok = v
        .esp_frames
        .iter()
        .filter(|f| f.ok)
        .all(|f| [host_a.to_string(), host_b.to_string()].contains(&f.inner_src));
    let esp_ok = en >= 4
        && eok == en
        && v.esp_ok == v.esp
        && inner_ok
        && answered == 2
        && outcomes.iter().all(|o| o == "Sent");
    let esp_v = (
        esp_ok,
        format!(
            "{eok}/{en} ESP packets decrypted, ICV correct, inner echoes {host_a} <-> {host_b} \
             ({answered}/2 answered; {ike} / {esp}, {} rows){}",
            esp_rows.len(),
            problems("ESP")
        ),
    );
    Ok((ike_v, esp_v))
}
