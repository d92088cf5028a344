//! Configuration payload types and attribute types (RFC 7296 §3.15).

registry! {
    /// The CFG Type of a Configuration payload (RFC 7296 §3.15).
    pub enum CfgType: u8 {
        /// A request for configuration.
        Request = 1 => "CFG_REQUEST",
        /// A reply to a request.
        Reply = 2 => "CFG_REPLY",
        /// Configuration pushed by the sender.
        Set = 3 => "CFG_SET",
        /// Acknowledges a CFG_SET.
        Ack = 4 => "CFG_ACK",
    }
}

registry! {
    /// The Attribute Type of a configuration attribute, 15 bits (RFC 7296 §3.15.1).
    pub enum CfgAttributeType: u16 {
        /// RFC 7296.
        InternalIp4Address = 1 => "INTERNAL_IP4_ADDRESS",
        /// RFC 7296.
        InternalIp4Netmask = 2 => "INTERNAL_IP4_NETMASK",
        /// RFC 7296.
        InternalIp4Dns = 3 => "INTERNAL_IP4_DNS",
        /// RFC 7296.
        InternalIp4Nbns = 4 => "INTERNAL_IP4_NBNS",
        /// RFC 7296.
        InternalIp4Dhcp = 6 => "INTERNAL_IP4_DHCP",
        /// RFC 7296.
        ApplicationVersion = 7 => "APPLICATION_VERSION",
        /// RFC 7296.
        InternalIp6Address = 8 => "INTERNAL_IP6_ADDRESS",
        /// RFC 7296.
        InternalIp6Dns = 10 => "INTERNAL_IP6_DNS",
        /// RFC 7296.
        InternalIp6Dhcp = 12 => "INTERNAL_IP6_DHCP",
        /// RFC 7296.
        InternalIp4Subnet = 13 => "INTERNAL_IP4_SUBNET",
        /// RFC 7296.
        SupportedAttributes = 14 => "SUPPORTED_ATTRIBUTES",
        /// RFC 7296.
        InternalIp6Subnet = 15 => "INTERNAL_IP6_SUBNET",
        /// RFC 5026.
        Mip6HomePrefix = 16 => "MIP6_HOME_PREFIX",
        /// RFC 5739.
        InternalIp6Link = 17 => "INTERNAL_IP6_LINK",
        /// RFC 5739.
        InternalIp6Prefix = 18 => "INTERNAL_IP6_PREFIX",
        /// 3GPP TS 24.302.
        HomeAgentAddress = 19 => "HOME_AGENT_ADDRESS",
        /// RFC 7651.
        PCscfIp4Address = 20 => "P_CSCF_IP4_ADDRESS",
        /// RFC 7651.
        PCscfIp6Address = 21 => "P_CSCF_IP6_ADDRESS",
        /// 3GPP TS 24.302.
        FttKat = 22 => "FTT_KAT",
        /// 3GPP TS 29.139.
        ExternalSourceIp4NatInfo = 23 => "EXTERNAL_SOURCE_IP4_NAT_INFO",
        /// 3GPP TS 24.302.
        TimeoutPeriodForLivenessCheck = 24 => "TIMEOUT_PERIOD_FOR_LIVENESS_CHECK",
        /// RFC 8598.
        InternalDnsDomain = 25 => "INTERNAL_DNS_DOMAIN",
        /// RFC 8598.
        InternalDnssecTa = 26 => "INTERNAL_DNSSEC_TA",
        /// RFC 9464.
        EncdnsIp4 = 27 => "ENCDNS_IP4",
        /// RFC 9464.
        EncdnsIp6 = 28 => "ENCDNS_IP6",
        /// RFC 9464.
        EncdnsDigestInfo = 29 => "ENCDNS_DIGEST_INFO",
    }
}
