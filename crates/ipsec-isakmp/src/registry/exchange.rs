//! Exchange types (RFC 7296 §3.1).

registry! {
    /// The Exchange Type of the IKE header (RFC 7296 §3.1).
    pub enum ExchangeType: u8 {
        /// RFC 7296 §1.2.
        IkeSaInit = 34 => "IKE_SA_INIT",
        /// RFC 7296 §1.2.
        IkeAuth = 35 => "IKE_AUTH",
        /// RFC 7296 §1.3.
        CreateChildSa = 36 => "CREATE_CHILD_SA",
        /// RFC 7296 §1.4.
        Informational = 37 => "INFORMATIONAL",
        /// RFC 5723.
        IkeSessionResume = 38 => "IKE_SESSION_RESUME",
        /// RFC 9838.
        GsaAuth = 39 => "GSA_AUTH",
        /// RFC 9838.
        GsaRegistration = 40 => "GSA_REGISTRATION",
        /// RFC 9838.
        GsaRekey = 41 => "GSA_REKEY",
        /// RFC 9838.
        GsaInbandRekey = 42 => "GSA_INBAND_REKEY",
        /// RFC 9242.
        IkeIntermediate = 43 => "IKE_INTERMEDIATE",
        /// RFC 9370.
        IkeFollowupKe = 44 => "IKE_FOLLOWUP_KE",
    }
}
