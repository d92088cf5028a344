//! Payload types (RFC 7296 §3.2).

registry! {
    /// The Next Payload field of the IKE header and of every generic payload header
    /// (RFC 7296 §3.2).
    pub enum PayloadType: u8 {
        /// End of the payload chain.
        NoNextPayload = 0 => "No Next Payload",
        /// RFC 7296 §3.3.
        SecurityAssociation = 33 => "SA",
        /// RFC 7296 §3.4.
        KeyExchange = 34 => "KE",
        /// RFC 7296 §3.5.
        IdInitiator = 35 => "IDi",
        /// RFC 7296 §3.5.
        IdResponder = 36 => "IDr",
        /// RFC 7296 §3.6.
        Certificate = 37 => "CERT",
        /// RFC 7296 §3.7.
        CertificateRequest = 38 => "CERTREQ",
        /// RFC 7296 §3.8.
        Authentication = 39 => "AUTH",
        /// RFC 7296 §3.9.
        Nonce = 40 => "Ni, Nr",
        /// RFC 7296 §3.10.
        Notify = 41 => "N",
        /// RFC 7296 §3.11.
        Delete = 42 => "D",
        /// RFC 7296 §3.12.
        VendorId = 43 => "V",
        /// RFC 7296 §3.13.
        TsInitiator = 44 => "TSi",
        /// RFC 7296 §3.13.
        TsResponder = 45 => "TSr",
        /// RFC 7296 §3.14.
        Encrypted = 46 => "SK",
        /// RFC 7296 §3.15.
        Configuration = 47 => "CP",
        /// RFC 7296 §3.16.
        Eap = 48 => "EAP",
        /// RFC 6467.
        GenericSecurePasswordMethods = 49 => "GSPM",
        /// RFC 9838.
        GroupIdentification = 50 => "IDg",
        /// RFC 9838.
        GroupSecurityAssociation = 51 => "GSA",
        /// RFC 9838.
        KeyDownload = 52 => "KD",
        /// RFC 7383.
        EncryptedFragment = 53 => "SKF",
        /// RFC 8019.
        PuzzleSolution = 54 => "PS",
    }
}
