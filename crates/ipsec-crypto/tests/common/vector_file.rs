//! The reader of the known-answer files under each crate's `tests/data/`: `[name]` starts a
//! vector, `field = hex` sets a field (whitespace inside the hex is ignored), `#` starts a
//! comment. One copy for every crate's tests, which include it with `#[path]`.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

/// One named vector: its fields, decoded from hex.
#[derive(Debug, Clone)]
pub struct Vector {
    pub name: String,
    fields: BTreeMap<String, Vec<u8>>,
}

impl Vector {
    /// The field `key`; panics with the vector's name if it is missing.
    pub fn get(&self, key: &str) -> &[u8] {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("vector {} has no field {key}", self.name))
    }

    /// The field `key` if present.
    pub fn opt(&self, key: &str) -> Option<&[u8]> {
        self.fields.get(key).map(Vec::as_slice)
    }

    /// A big-endian number field.
    pub fn number(&self, key: &str) -> u64 {
        self.get(key)
            .iter()
            .fold(0u64, |n, b| (n << 8) | u64::from(*b))
    }
}

/// Parses a vector file's text.
pub fn parse(text: &str) -> Vec<Vector> {
    let mut vectors: Vec<Vector> = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            vectors.push(Vector {
                name: name.to_string(),
                fields: BTreeMap::new(),
            });
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("line {}: not `key = hex`: {raw}", number + 1));
        let value: String = value.split_whitespace().collect();
        let bytes = hex::decode(&value)
            .unwrap_or_else(|e| panic!("line {}: bad hex for {key}: {e}", number + 1));
        vectors
            .last_mut()
            .unwrap_or_else(|| panic!("line {}: field before any [name]", number + 1))
            .fields
            .insert(key.trim().to_string(), bytes);
    }
    vectors
}
