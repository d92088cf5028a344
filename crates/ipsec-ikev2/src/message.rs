//! Reading the payloads of a message by kind, and the non-ESP marker of RFC 3948.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use ipsec_isakmp::{
    Authentication, Delete, Identification, KeyExchange, Nonce, Notify, NotifyType, Payload,
    PuzzleSolution, SecurityAssociation, TrafficSelector,
};

/// The well-known IKE port: messages to or from it carry no non-ESP marker.
const IKE_PORT: u16 = 500;

/// Whether IKE messages on `path` carry the four-byte non-ESP marker: on the NAT-T port
/// (RFC 3948 §2.2, RFC 7296 §2.23), and, as strongSwan does, whenever neither port is 500.
pub(crate) fn needs_marker(local: SocketAddr, remote: SocketAddr) -> bool {
    local.port() != IKE_PORT && remote.port() != IKE_PORT
}

/// The datagram for an IKE message on a path: the message, behind a marker if needed.
pub(crate) fn wire(message: &Bytes, marker: bool) -> Bytes {
    if !marker {
        return message.clone();
    }
    let mut out = BytesMut::with_capacity(message.len().saturating_add(4));
    out.put_slice(&ipsec_isakmp::NON_ESP_MARKER);
    out.put_slice(message);
    out.freeze()
}

/// The payloads of one (decrypted) message, by kind.
#[derive(Debug, Default)]
pub(crate) struct Payloads {
    pub(crate) sa: Option<SecurityAssociation>,
    pub(crate) ke: Option<KeyExchange>,
    pub(crate) nonce: Option<Nonce>,
    pub(crate) id_i: Option<Identification>,
    pub(crate) id_r: Option<Identification>,
    pub(crate) auth: Option<Authentication>,
    pub(crate) ts_i: Option<Vec<TrafficSelector>>,
    pub(crate) ts_r: Option<Vec<TrafficSelector>>,
    pub(crate) notifies: Vec<Notify>,
    pub(crate) deletes: Vec<Delete>,
    /// A puzzle solution (RFC 8019 §8.2).
    pub(crate) puzzle_solution: Option<PuzzleSolution>,
}

impl Payloads {
    pub(crate) fn sort(payloads: Vec<Payload>) -> Self {
        let mut out = Self::default();
        for payload in payloads {
            match payload {
                Payload::SecurityAssociation(sa) => out.sa = out.sa.or(Some(sa)),
                Payload::KeyExchange(ke) => out.ke = out.ke.or(Some(ke)),
                Payload::Nonce(n) => out.nonce = out.nonce.or(Some(n)),
                Payload::IdInitiator(id) => out.id_i = out.id_i.or(Some(id)),
                Payload::IdResponder(id) => out.id_r = out.id_r.or(Some(id)),
                Payload::Authentication(a) => out.auth = out.auth.or(Some(a)),
                Payload::TsInitiator(ts) => out.ts_i = out.ts_i.or(Some(ts.selectors)),
                Payload::TsResponder(ts) => out.ts_r = out.ts_r.or(Some(ts.selectors)),
                Payload::Notify(n) => out.notifies.push(n),
                Payload::Delete(d) => out.deletes.push(d),
                Payload::PuzzleSolution(ps) => {
                    out.puzzle_solution = out.puzzle_solution.or(Some(ps));
                }
                _ => {}
            }
        }
        out
    }

    pub(crate) fn notify(&self, kind: NotifyType) -> Option<&Notify> {
        self.notifies.iter().find(|n| n.notify_type == kind)
    }

    pub(crate) fn has(&self, kind: NotifyType) -> bool {
        self.notify(kind).is_some()
    }

    /// The first error notification, which makes a response a refusal (RFC 7296 §3.10.1).
    pub(crate) fn error(&self) -> Option<NotifyType> {
        self.notifies
            .iter()
            .map(|n| n.notify_type)
            .find(|t| t.is_error())
    }
}
