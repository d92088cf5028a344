//! The Certificate and Certificate Request payloads (RFC 7296 §3.6, §3.7).

use alloc::vec::Vec;

use crate::error::{EmitError, Error, Structure, check_len, check_room};
use crate::field;
use crate::registry::CertEncoding;

/// Byte offsets of the CERT and CERTREQ payload bodies (RFC 7296 §3.6, §3.7), after the
/// generic header; for CERTREQ the data is the Certification Authority field:
///
/// ```text
///                      1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Cert Encoding |                                               |
/// +-+-+-+-+-+-+-+-+                                               |
/// ~                       Certificate Data                        ~
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
mod offset {
    pub(super) const ENCODING: usize = 0;
    pub(super) const DATA: usize = 1;
}

/// Length of a SHA-1 hash of a CA's public key in a CERTREQ for X.509 (RFC 7296 §3.7).
pub const CA_HASH_LEN: usize = 20;

/// A zero-copy view of a CERT or CERTREQ payload body.
#[derive(Debug, Clone, Copy)]
pub struct CertView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> CertView<T> {
    /// Wraps a body after checking it holds the encoding octet.
    pub fn new_checked(buffer: T, what: Structure) -> Result<Self, Error> {
        check_len(what, buffer.as_ref(), offset::DATA)?;
        Ok(Self { buffer })
    }

    /// Cert Encoding.
    pub fn encoding(&self) -> CertEncoding {
        CertEncoding::from(field::u8_at(self.buffer.as_ref(), offset::ENCODING))
    }

    /// Certificate Data, or for CERTREQ the Certification Authority field.
    pub fn data(&self) -> &[u8] {
        field::rest(self.buffer.as_ref(), offset::DATA)
    }
}

fn emit_cert(encoding: CertEncoding, data: &[u8], buf: &mut [u8]) -> Result<(), EmitError> {
    check_room(offset::DATA.saturating_add(data.len()), buf.len())?;
    field::set_u8(buf, offset::ENCODING, encoding.value());
    field::put(buf, offset::DATA, data);
    Ok(())
}

/// A CERT payload: a certificate or related data (RFC 7296 §3.6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Certificate {
    /// Cert Encoding.
    pub encoding: CertEncoding,
    /// Certificate Data, whose form the encoding gives.
    pub data: Vec<u8>,
}

impl Certificate {
    /// Decodes a payload body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = CertView::new_checked(body, Structure::Certificate)?;
        Ok(Self {
            encoding: view.encoding(),
            data: view.data().to_vec(),
        })
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        offset::DATA.saturating_add(self.data.len())
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        emit_cert(self.encoding, &self.data, buf)
    }
}

/// A CERTREQ payload: which certification authorities the sender trusts (RFC 7296 §3.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateRequest {
    /// Cert Encoding of the certificates requested.
    pub encoding: CertEncoding,
    /// Certification Authority: for X.509, concatenated SHA-1 hashes of CA public keys.
    pub authorities: Vec<u8>,
}

impl CertificateRequest {
    /// Decodes a payload body.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        let view = CertView::new_checked(body, Structure::CertificateRequest)?;
        Ok(Self {
            encoding: view.encoding(),
            authorities: view.data().to_vec(),
        })
    }

    /// The 20-octet CA key hashes of an X.509 request (RFC 7296 §3.7); a short tail that is
    /// no whole hash is not yielded.
    pub fn ca_hashes(&self) -> impl Iterator<Item = &[u8]> {
        self.authorities.chunks_exact(CA_HASH_LEN)
    }

    /// Length of the body.
    pub fn buffer_len(&self) -> usize {
        offset::DATA.saturating_add(self.authorities.len())
    }

    /// Writes the body at the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), EmitError> {
        emit_cert(self.encoding, &self.authorities, buf)
    }
}
