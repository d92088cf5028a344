//! Reads the known-answer files under `tests/data/`: `[name]` starts a vector, `field = hex`
//! sets a field, `#` starts a comment.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeMap;

/// One named vector: its fields, decoded from hex.
#[derive(Debug, Clone)]
pub(crate) struct Vector {
    pub(crate) name: String,
    fields: BTreeMap<String, Vec<u8>>,
}

impl Vector {
    /// The field `key`; panics with the vector's name if it is missing.
    pub(crate) fn get(&self, key: &str) -> &[u8] {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("vector {} has no field {key}", self.name))
    }

    /// The field `key` if present.
    pub(crate) fn opt(&self, key: &str) -> Option<&[u8]> {
        self.fields.get(key).map(Vec::as_slice)
    }
}

/// Parses a vector file's text.
pub(crate) fn parse(text: &str) -> Vec<Vector> {
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
