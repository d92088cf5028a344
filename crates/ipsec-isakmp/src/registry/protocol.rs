//! Security protocol identifiers (RFC 7296 §3.3.1).

registry! {
    /// The Protocol ID of proposals, Notify and Delete payloads (RFC 7296 §3.3.1).
    pub enum ProtocolId: u8 {
        /// No protocol: a Notify about no particular SA (RFC 7296 §3.10).
        None = 0 => "NONE",
        /// RFC 7296.
        Ike = 1 => "IKE",
        /// RFC 4302.
        Ah = 2 => "AH",
        /// RFC 4303.
        Esp = 3 => "ESP",
        /// RFC 4595.
        FcEspHeader = 4 => "FC_ESP_HEADER",
        /// RFC 4595.
        FcCtAuthentication = 5 => "FC_CT_AUTHENTICATION",
        /// RFC 9838.
        GikeUpdate = 6 => "GIKE_UPDATE",
    }
}
