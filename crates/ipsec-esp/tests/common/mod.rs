//! The known-answer file reader of `ipsec-crypto`'s tests, for the files under `tests/data/`.

#[path = "../../../ipsec-crypto/tests/common/vector_file.rs"]
mod vector_file;

pub(crate) use vector_file::parse;
