//! Readers for the known-answer files under `tests/data/`:
//!
//! - the vector files (`cavp_ikev2_kdf.txt`): `[name]` starts a vector, `field = hex` sets a
//!   field, `#` starts a comment (the format of `ipsec-crypto`'s vector files);
//! - charon's `keys.txt` (`tests/data/charon/NAME/`): the IKE SA's g^ir, SKEYSEED and SK_*,
//!   then one block per ESP SA with its SPI, direction and keys.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

#[path = "../../../ipsec-crypto/tests/common/vector_file.rs"]
mod vector_file;

pub use vector_file::parse;

/// One ESP SA of a charon key log.
#[derive(Debug, Clone)]
pub struct EspKeys {
    pub spi: u32,
    /// Sent by the initiator (`i->r`), or by the responder.
    pub from_initiator: bool,
    /// `encr`: the encryption key, with the 4-byte salt for AEADs.
    pub encr: Vec<u8>,
    /// `integ`: the integrity key; empty for AEADs.
    pub integ: Vec<u8>,
}

/// What charon logged for one IKE SA and its Child SA.
#[derive(Debug, Clone)]
pub struct CharonKeys {
    pub spi_i: u64,
    pub spi_r: u64,
    /// `g_ir`, `SKEYSEED`, `SK_d`, `SK_ai`, ... by the name charon gives them.
    pub ike: BTreeMap<String, Vec<u8>>,
    pub esp: Vec<EspKeys>,
}

impl CharonKeys {
    /// The IKE key `name`; panics if charon did not log it.
    pub fn ike(&self, name: &str) -> &[u8] {
        self.ike
            .get(name)
            .unwrap_or_else(|| panic!("keys.txt has no {name}"))
    }

    /// An IKE key that may be absent (SK_ai and SK_ar with an AEAD): empty then.
    pub fn ike_or_empty(&self, name: &str) -> &[u8] {
        self.ike.get(name).map_or(&[], Vec::as_slice)
    }

    /// The ESP SA in one direction.
    pub fn esp(&self, from_initiator: bool) -> &EspKeys {
        self.esp
            .iter()
            .find(|e| e.from_initiator == from_initiator)
            .unwrap_or_else(|| panic!("keys.txt has no ESP SA from_initiator={from_initiator}"))
    }
}

fn spi_of(word: &str) -> u64 {
    let hex = word
        .trim_end_matches("_i")
        .trim_end_matches("_r")
        .trim_start_matches("0x");
    u64::from_str_radix(hex, 16).unwrap_or_else(|e| panic!("bad SPI {word}: {e}"))
}

/// Parses a charon `keys.txt`:
///
/// ```text
/// IKE_SA <spi_i>_i <spi_r>_r  proposal ...
///   g_ir      <hex>
///   SKEYSEED  <hex>
///   ...
/// ESP SA 0x<spi> <src> -> <dst> (i->r, v4)  proposal ...
///   encr  <hex>
///   integ <hex>
/// ```
///
/// Lines in parentheses are remarks.
pub fn parse_charon_keys(text: &str) -> CharonKeys {
    let mut keys = CharonKeys {
        spi_i: 0,
        spi_r: 0,
        ike: BTreeMap::new(),
        esp: Vec::new(),
    };
    let mut in_esp = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('(') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(rest) = line.strip_prefix("IKE_SA ") {
            let mut spis = rest.split_whitespace();
            keys.spi_i = spi_of(spis.next().unwrap());
            keys.spi_r = spi_of(spis.next().unwrap());
            in_esp = false;
        } else if line.starts_with("ESP SA ") {
            let from_initiator = if line.contains("(i->r") {
                true
            } else if line.contains("(r->i") {
                false
            } else {
                panic!("ESP SA without a direction: {line}")
            };
            keys.esp.push(EspKeys {
                spi: u32::try_from(spi_of(words[2])).unwrap(),
                from_initiator,
                encr: Vec::new(),
                integ: Vec::new(),
            });
            in_esp = true;
        } else if let [name, value] = words.as_slice() {
            let bytes = hex::decode(value).unwrap_or_else(|e| panic!("bad hex in {line}: {e}"));
            if in_esp {
                let esp = keys.esp.last_mut().unwrap();
                match *name {
                    "encr" => esp.encr = bytes,
                    "integ" => esp.integ = bytes,
                    other => panic!("unknown ESP key {other}"),
                }
            } else {
                keys.ike.insert((*name).to_string(), bytes);
            }
        } else {
            panic!("unrecognised keys.txt line: {line}");
        }
    }
    keys
}
