//! Traffic selector narrowing (RFC 7296 §2.9).

use ipsec_isakmp::{AddressRange, TrafficSelector};

/// Whether a port range is the OPAQUE selector of RFC 4301 §4.4.1.1 (start 65535, end 0):
/// the ports are hidden, e.g. by fragmentation.
fn opaque(start: u16, end: u16) -> bool {
    start > end
}

fn intersect_range<A: Ord + Copy>(
    a: &AddressRange<A>,
    b: &AddressRange<A>,
) -> Option<AddressRange<A>> {
    let ip_protocol = match (a.ip_protocol, b.ip_protocol) {
        (0, other) | (other, 0) => other,
        (x, y) if x == y => x,
        _ => return None,
    };
    let (start_port, end_port) = match (
        opaque(a.start_port, a.end_port),
        opaque(b.start_port, b.end_port),
    ) {
        (false, false) => {
            let start = a.start_port.max(b.start_port);
            let end = a.end_port.min(b.end_port);
            if start > end {
                return None;
            }
            (start, end)
        }
        (true, true) => (a.start_port, a.end_port),
        (true, false) if b.start_port == 0 && b.end_port == u16::MAX => (a.start_port, a.end_port),
        (false, true) if a.start_port == 0 && a.end_port == u16::MAX => (b.start_port, b.end_port),
        _ => return None,
    };
    let start_address = a.start_address.max(b.start_address);
    let end_address = a.end_address.min(b.end_address);
    if start_address > end_address {
        return None;
    }
    Some(AddressRange {
        ip_protocol,
        start_port,
        end_port,
        start_address,
        end_address,
    })
}

/// The intersection of two selectors, if they overlap at all.
pub(crate) fn intersect(a: &TrafficSelector, b: &TrafficSelector) -> Option<TrafficSelector> {
    match (a, b) {
        (TrafficSelector::Ipv4(x), TrafficSelector::Ipv4(y)) => {
            intersect_range(x, y).map(TrafficSelector::Ipv4)
        }
        (TrafficSelector::Ipv6(x), TrafficSelector::Ipv6(y)) => {
            intersect_range(x, y).map(TrafficSelector::Ipv6)
        }
        _ => None,
    }
}

/// Narrows what the initiator proposed to what policy allows (RFC 7296 §2.9): every
/// overlap of a proposed selector with an allowed one, without repeats. Empty means
/// TS_UNACCEPTABLE.
pub fn narrow(proposed: &[TrafficSelector], allowed: &[TrafficSelector]) -> Vec<TrafficSelector> {
    let mut out: Vec<TrafficSelector> = Vec::new();
    for p in proposed {
        for a in allowed {
            if let Some(x) = intersect(p, a)
                && !out.contains(&x)
            {
                out.push(x);
            }
        }
    }
    // Kept by every Child SA: no spare capacity (usually one selector, not four slots).
    out.shrink_to_fit();
    out
}

/// Whether every selector of `narrowed` lies within one of `proposed`, as an initiator checks
/// the responder's answer (RFC 7296 §2.9: the responder may only narrow).
pub fn within(narrowed: &[TrafficSelector], proposed: &[TrafficSelector]) -> bool {
    !narrowed.is_empty()
        && narrowed
            .iter()
            .all(|n| proposed.iter().any(|p| intersect(n, p).as_ref() == Some(n)))
}
