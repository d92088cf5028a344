//! Notify message types (RFC 7296 §3.10.1).

registry! {
    /// The Notify Message Type of a Notify payload: error types below 16384, status types
    /// from 16384 (RFC 7296 §3.10.1).
    pub enum NotifyType: u16 {
        /// Carries the one-octet type of the payload not understood (RFC 7296 §2.5).
        UnsupportedCriticalPayload = 1 => "UNSUPPORTED_CRITICAL_PAYLOAD",
        /// RFC 7296 §3.10.1.
        InvalidIkeSpi = 4 => "INVALID_IKE_SPI",
        /// RFC 7296 §2.5.
        InvalidMajorVersion = 5 => "INVALID_MAJOR_VERSION",
        /// RFC 7296 §2.21.
        InvalidSyntax = 7 => "INVALID_SYNTAX",
        /// RFC 7296 §2.3.
        InvalidMessageId = 9 => "INVALID_MESSAGE_ID",
        /// Carries the SPI that was not recognised (RFC 7296 §1.5).
        InvalidSpi = 11 => "INVALID_SPI",
        /// RFC 7296 §2.7.
        NoProposalChosen = 14 => "NO_PROPOSAL_CHOSEN",
        /// Carries the two-octet DH group expected (RFC 7296 §1.2).
        InvalidKePayload = 17 => "INVALID_KE_PAYLOAD",
        /// RFC 7296 §2.15.
        AuthenticationFailed = 24 => "AUTHENTICATION_FAILED",
        /// RFC 7296 §2.9.
        SinglePairRequired = 34 => "SINGLE_PAIR_REQUIRED",
        /// RFC 7296 §1.3.
        NoAdditionalSas = 35 => "NO_ADDITIONAL_SAS",
        /// RFC 7296 §3.15.4.
        InternalAddressFailure = 36 => "INTERNAL_ADDRESS_FAILURE",
        /// RFC 7296 §2.19.
        FailedCpRequired = 37 => "FAILED_CP_REQUIRED",
        /// RFC 7296 §2.9.
        TsUnacceptable = 38 => "TS_UNACCEPTABLE",
        /// RFC 7296 §1.5.
        InvalidSelectors = 39 => "INVALID_SELECTORS",
        /// RFC 4555.
        UnacceptableAddresses = 40 => "UNACCEPTABLE_ADDRESSES",
        /// RFC 4555.
        UnexpectedNatDetected = 41 => "UNEXPECTED_NAT_DETECTED",
        /// RFC 5026.
        UseAssignedHoa = 42 => "USE_ASSIGNED_HoA",
        /// RFC 7296 §2.25.
        TemporaryFailure = 43 => "TEMPORARY_FAILURE",
        /// RFC 7296 §2.25.
        ChildSaNotFound = 44 => "CHILD_SA_NOT_FOUND",
        /// RFC 9838.
        InvalidGroupId = 45 => "INVALID_GROUP_ID",
        /// RFC 9838.
        AuthorizationFailed = 46 => "AUTHORIZATION_FAILED",
        /// RFC 9370.
        StateNotFound = 47 => "STATE_NOT_FOUND",
        /// RFC 9611.
        TsMaxQueue = 48 => "TS_MAX_QUEUE",
        /// RFC 9838.
        RegistrationFailed = 49 => "REGISTRATION_FAILED",
        /// RFC 7296 §2.4.
        InitialContact = 16384 => "INITIAL_CONTACT",
        /// RFC 7296 §2.3.
        SetWindowSize = 16385 => "SET_WINDOW_SIZE",
        /// RFC 7296 §2.9.
        AdditionalTsPossible = 16386 => "ADDITIONAL_TS_POSSIBLE",
        /// RFC 7296 §2.22.
        IpcompSupported = 16387 => "IPCOMP_SUPPORTED",
        /// RFC 7296 §2.23.
        NatDetectionSourceIp = 16388 => "NAT_DETECTION_SOURCE_IP",
        /// RFC 7296 §2.23.
        NatDetectionDestinationIp = 16389 => "NAT_DETECTION_DESTINATION_IP",
        /// RFC 7296 §2.6.
        Cookie = 16390 => "COOKIE",
        /// RFC 7296 §1.3.1.
        UseTransportMode = 16391 => "USE_TRANSPORT_MODE",
        /// RFC 7296 §3.6.
        HttpCertLookupSupported = 16392 => "HTTP_CERT_LOOKUP_SUPPORTED",
        /// RFC 7296 §1.3.3.
        RekeySa = 16393 => "REKEY_SA",
        /// RFC 7296 §1.3.1.
        EspTfcPaddingNotSupported = 16394 => "ESP_TFC_PADDING_NOT_SUPPORTED",
        /// RFC 7296 §1.3.1.
        NonFirstFragmentsAlso = 16395 => "NON_FIRST_FRAGMENTS_ALSO",
        /// RFC 4555.
        MobikeSupported = 16396 => "MOBIKE_SUPPORTED",
        /// RFC 4555.
        AdditionalIp4Address = 16397 => "ADDITIONAL_IP4_ADDRESS",
        /// RFC 4555.
        AdditionalIp6Address = 16398 => "ADDITIONAL_IP6_ADDRESS",
        /// RFC 4555.
        NoAdditionalAddresses = 16399 => "NO_ADDITIONAL_ADDRESSES",
        /// RFC 4555.
        UpdateSaAddresses = 16400 => "UPDATE_SA_ADDRESSES",
        /// RFC 4555.
        Cookie2 = 16401 => "COOKIE2",
        /// RFC 4555.
        NoNatsAllowed = 16402 => "NO_NATS_ALLOWED",
        /// RFC 4478.
        AuthLifetime = 16403 => "AUTH_LIFETIME",
        /// RFC 4739.
        MultipleAuthSupported = 16404 => "MULTIPLE_AUTH_SUPPORTED",
        /// RFC 4739.
        AnotherAuthFollows = 16405 => "ANOTHER_AUTH_FOLLOWS",
        /// RFC 5685.
        RedirectSupported = 16406 => "REDIRECT_SUPPORTED",
        /// RFC 5685.
        Redirect = 16407 => "REDIRECT",
        /// RFC 5685.
        RedirectedFrom = 16408 => "REDIRECTED_FROM",
        /// RFC 5723.
        TicketLtOpaque = 16409 => "TICKET_LT_OPAQUE",
        /// RFC 5723.
        TicketRequest = 16410 => "TICKET_REQUEST",
        /// RFC 5723.
        TicketAck = 16411 => "TICKET_ACK",
        /// RFC 5723.
        TicketNack = 16412 => "TICKET_NACK",
        /// RFC 5723.
        TicketOpaque = 16413 => "TICKET_OPAQUE",
        /// RFC 5739.
        LinkId = 16414 => "LINK_ID",
        /// RFC 5840.
        UseWespMode = 16415 => "USE_WESP_MODE",
        /// RFC 5857.
        RohcSupported = 16416 => "ROHC_SUPPORTED",
        /// RFC 5998.
        EapOnlyAuthentication = 16417 => "EAP_ONLY_AUTHENTICATION",
        /// RFC 6023.
        ChildlessIkev2Supported = 16418 => "CHILDLESS_IKEV2_SUPPORTED",
        /// RFC 6290.
        QuickCrashDetection = 16419 => "QUICK_CRASH_DETECTION",
        /// RFC 6311.
        Ikev2MessageIdSyncSupported = 16420 => "IKEV2_MESSAGE_ID_SYNC_SUPPORTED",
        /// RFC 6311.
        IpsecReplayCounterSyncSupported = 16421 => "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED",
        /// RFC 6311.
        Ikev2MessageIdSync = 16422 => "IKEV2_MESSAGE_ID_SYNC",
        /// RFC 6311.
        IpsecReplayCounterSync = 16423 => "IPSEC_REPLAY_COUNTER_SYNC",
        /// RFC 6467.
        SecurePasswordMethods = 16424 => "SECURE_PASSWORD_METHODS",
        /// RFC 6631.
        PskPersist = 16425 => "PSK_PERSIST",
        /// RFC 6631.
        PskConfirm = 16426 => "PSK_CONFIRM",
        /// RFC 6867.
        ErxSupported = 16427 => "ERX_SUPPORTED",
        /// 3GPP TS 24.303.
        IfomCapability = 16428 => "IFOM_CAPABILITY",
        /// RFC 9838, formerly SENDER_REQUEST_ID.
        GroupSender = 16429 => "GROUP_SENDER",
        /// RFC 7383.
        Ikev2FragmentationSupported = 16430 => "IKEV2_FRAGMENTATION_SUPPORTED",
        /// RFC 7427.
        SignatureHashAlgorithms = 16431 => "SIGNATURE_HASH_ALGORITHMS",
        /// RFC 7791.
        CloneIkeSaSupported = 16432 => "CLONE_IKE_SA_SUPPORTED",
        /// RFC 7791.
        CloneIkeSa = 16433 => "CLONE_IKE_SA",
        /// RFC 8019.
        Puzzle = 16434 => "PUZZLE",
        /// RFC 8784.
        UsePpk = 16435 => "USE_PPK",
        /// RFC 8784.
        PpkIdentity = 16436 => "PPK_IDENTITY",
        /// RFC 8784.
        NoPpkAuth = 16437 => "NO_PPK_AUTH",
        /// RFC 9242.
        IntermediateExchangeSupported = 16438 => "INTERMEDIATE_EXCHANGE_SUPPORTED",
        /// RFC 8983.
        Ip4Allowed = 16439 => "IP4_ALLOWED",
        /// RFC 8983.
        Ip6Allowed = 16440 => "IP6_ALLOWED",
        /// RFC 9370.
        AdditionalKeyExchange = 16441 => "ADDITIONAL_KEY_EXCHANGE",
        /// RFC 9347.
        UseAggfrag = 16442 => "USE_AGGFRAG",
        /// RFC 9593.
        SupportedAuthMethods = 16443 => "SUPPORTED_AUTH_METHODS",
        /// RFC 9611.
        SaResourceInfo = 16444 => "SA_RESOURCE_INFO",
        /// RFC 9867.
        UsePpkInt = 16445 => "USE_PPK_INT",
        /// RFC 9867.
        PpkIdentityKey = 16446 => "PPK_IDENTITY_KEY",
    }
}

impl NotifyType {
    /// The first status type; everything below is an error type (RFC 7296 §3.10.1).
    pub const FIRST_STATUS: u16 = 16384;

    /// Whether this is an error type (below 16384), which the RFC asks to treat as a failed
    /// request (RFC 7296 §3.10.1).
    pub const fn is_error(self) -> bool {
        self.value() < Self::FIRST_STATUS
    }
}
