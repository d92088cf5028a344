//! `tracing` events per IKE SA and Child SA, behind the `tracing` feature; without it these
//! compile to nothing.

use ipsec_ikev2::{ChildSaReady, CloseReason, IkeSaHandle, Path};
use ipsec_isakmp::Identification;

/// An IKE SA came up.
pub(crate) fn ike_sa_established(handle: IkeSaHandle, peer: &Identification, path: &Path) {
    #[cfg(feature = "tracing")]
    tracing::info!(ike_sa = handle.id(), peer = %peer, remote = %path.remote, "IKE SA established");
    #[cfg(not(feature = "tracing"))]
    let _ = (handle, peer, path);
}

/// A Child SA was installed, new or as a rekey's replacement.
pub(crate) fn child_sa_installed(ready: &ChildSaReady) {
    #[cfg(feature = "tracing")]
    match ready.rekeyed {
        Some(old) => tracing::info!(
            ike_sa = ready.ike_sa.id(),
            inbound_spi = format_args!("{:08x}", ready.inbound_spi),
            outbound_spi = format_args!("{:08x}", ready.outbound_spi),
            replaces = format_args!("{old:08x}"),
            active = ready.active,
            "Child SA rekeyed"
        ),
        None => tracing::info!(
            ike_sa = ready.ike_sa.id(),
            inbound_spi = format_args!("{:08x}", ready.inbound_spi),
            outbound_spi = format_args!("{:08x}", ready.outbound_spi),
            udp_encapsulation = ready.udp_encapsulation,
            "Child SA installed"
        ),
    }
    #[cfg(not(feature = "tracing"))]
    let _ = ready;
}

/// An IKE SA was rekeyed (same handle, new SPIs).
pub(crate) fn ike_sa_rekeyed(handle: IkeSaHandle, spi_i: u64, spi_r: u64) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        ike_sa = handle.id(),
        spi_i = format_args!("{spi_i:016x}"),
        spi_r = format_args!("{spi_r:016x}"),
        "IKE SA rekeyed"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (handle, spi_i, spi_r);
}

/// A Child SA was removed.
pub(crate) fn child_sa_removed(ike: IkeSaHandle, inbound_spi: u32, outbound_spi: u32) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        ike_sa = ike.id(),
        inbound_spi = format_args!("{inbound_spi:08x}"),
        outbound_spi = format_args!("{outbound_spi:08x}"),
        "Child SA removed"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (ike, inbound_spi, outbound_spi);
}

/// An IKE SA ended.
pub(crate) fn ike_sa_closed(handle: IkeSaHandle, reason: CloseReason) {
    #[cfg(feature = "tracing")]
    tracing::info!(ike_sa = handle.id(), ?reason, "IKE SA closed");
    #[cfg(not(feature = "tracing"))]
    let _ = (handle, reason);
}

/// A datagram was dropped.
pub(crate) fn dropped(reason: &crate::Dropped) {
    #[cfg(feature = "tracing")]
    tracing::debug!(%reason, "datagram dropped");
    #[cfg(not(feature = "tracing"))]
    let _ = reason;
}
