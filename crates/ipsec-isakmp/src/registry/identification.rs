//! Identification types (RFC 7296 §3.5).

registry! {
    /// The ID Type of an IDi or IDr payload (RFC 7296 §3.5).
    pub enum IdType: u8 {
        /// A single four-octet IPv4 address.
        Ipv4Addr = 1 => "ID_IPV4_ADDR",
        /// A fully qualified domain name string.
        Fqdn = 2 => "ID_FQDN",
        /// An RFC 822 email address string.
        Rfc822Addr = 3 => "ID_RFC822_ADDR",
        /// A single sixteen-octet IPv6 address.
        Ipv6Addr = 5 => "ID_IPV6_ADDR",
        /// The binary DER encoding of an ASN.1 X.500 Distinguished Name.
        DerAsn1Dn = 9 => "ID_DER_ASN1_DN",
        /// The binary DER encoding of an ASN.1 X.509 GeneralName.
        DerAsn1Gn = 10 => "ID_DER_ASN1_GN",
        /// An opaque octet stream for vendor-specific information.
        KeyId = 11 => "ID_KEY_ID",
        /// A Fibre Channel name (RFC 4595).
        FcName = 12 => "ID_FC_NAME",
        /// No identity, for NULL authentication (RFC 7619).
        Null = 13 => "ID_NULL",
    }
}
