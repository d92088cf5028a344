//! Traffic selector types (RFC 7296 §3.13.1).

registry! {
    /// The TS Type of one traffic selector (RFC 7296 §3.13.1).
    pub enum TsType: u8 {
        /// A range of IPv4 addresses.
        Ipv4AddrRange = 7 => "TS_IPV4_ADDR_RANGE",
        /// A range of IPv6 addresses.
        Ipv6AddrRange = 8 => "TS_IPV6_ADDR_RANGE",
        /// A range of Fibre Channel addresses (RFC 4595).
        FcAddrRange = 9 => "TS_FC_ADDR_RANGE",
        /// A security label (RFC 9478).
        SecLabel = 10 => "TS_SECLABEL",
    }
}
