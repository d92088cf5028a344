//! The algorithm suites of the matrix, with the names Wireshark 4.0's key tables use for them:
//! the three of the charon captures, then the ones real peers propose beyond our defaults
//! (RFC 8247's legacy and extra algorithms; SHA-1 and MODP-1024 opt-in on our side).

pub(crate) struct Suite {
    /// folder-style name, as in shared/data/charon-captures
    pub(crate) name: &'static str,
    pub(crate) ike: &'static str,
    pub(crate) esp: &'static str,
    /// `esp` with the IKE suite's Diffie-Hellman group: PFS in CREATE_CHILD_SA rekeys (in
    /// IKE_AUTH both sides leave the group out)
    pub(crate) esp_pfs: &'static str,
    /// `ikev2_decryption_table` encryption and integrity algorithm names (None: tshark 4.0
    /// cannot decrypt this suite)
    pub(crate) ws_ike: Option<(&'static str, &'static str)>,
    /// `esp_sa` encryption and authentication algorithm names
    pub(crate) ws_esp: Option<(&'static str, &'static str)>,
}

pub(crate) const SUITES: [Suite; 8] = [
    Suite {
        name: "aes256gcm16-x25519",
        ike: "aes256gcm16-prfsha256-x25519",
        esp: "aes256gcm16",
        esp_pfs: "aes256gcm16-x25519",
        ws_ike: Some(("AES-GCM-256 with 16 octet ICV [RFC5282]", "NONE [RFC4306]")),
        ws_esp: Some(("AES-GCM with 16 octet ICV [RFC4106]", "NULL")),
    },
    Suite {
        name: "aes128-sha256-modp2048",
        ike: "aes128-sha256-modp2048",
        esp: "aes128-sha256",
        esp_pfs: "aes128-sha256-modp2048",
        ws_ike: Some(("AES-CBC-128 [RFC3602]", "HMAC_SHA2_256_128 [RFC4868]")),
        ws_esp: Some(("AES-CBC [RFC3602]", "HMAC-SHA-256-128 [RFC4868]")),
    },
    Suite {
        name: "chacha20poly1305-x25519",
        ike: "chacha20poly1305-prfsha256-x25519",
        esp: "chacha20poly1305",
        esp_pfs: "chacha20poly1305-x25519",
        ws_ike: None,
        ws_esp: None,
    },
    Suite {
        name: "aes192gcm16-ecp521",
        ike: "aes192gcm16-prfsha384-ecp521",
        esp: "aes192gcm16",
        esp_pfs: "aes192gcm16-ecp521",
        ws_ike: Some(("AES-GCM-192 with 16 octet ICV [RFC5282]", "NONE [RFC4306]")),
        ws_esp: Some(("AES-GCM with 16 octet ICV [RFC4106]", "NULL")),
    },
    Suite {
        name: "aes256-sha1-modp1024",
        ike: "aes256-sha1-modp1024",
        esp: "aes256-sha1",
        esp_pfs: "aes256-sha1-modp1024",
        ws_ike: Some(("AES-CBC-256 [RFC3602]", "HMAC_SHA1_96 [RFC2404]")),
        ws_esp: Some(("AES-CBC [RFC3602]", "HMAC-SHA-1-96 [RFC2404]")),
    },
    Suite {
        name: "aes128ccm16-curve448",
        ike: "aes128ccm16-prfsha256-curve448",
        esp: "aes128ccm16",
        esp_pfs: "aes128ccm16-curve448",
        ws_ike: Some(("AES-CCM-128 with 16 octet ICV [RFC5282]", "NONE [RFC4306]")),
        ws_esp: None,
    },
    Suite {
        name: "aes256ctr-sha256-ecp256bp",
        ike: "aes256ctr-sha256-ecp256bp",
        esp: "aes256ctr-sha256",
        esp_pfs: "aes256ctr-sha256-ecp256bp",
        ws_ike: Some(("AES-CTR-256 [RFC5930]", "HMAC_SHA2_256_128 [RFC4868]")),
        ws_esp: Some(("AES-CTR [RFC3686]", "HMAC-SHA-256-128 [RFC4868]")),
    },
    Suite {
        name: "aes256gcm16-ecp512bp",
        ike: "aes256gcm16-prfsha512-ecp512bp",
        esp: "aes256gcm16",
        // the rekeys' PFS on the other curve of our own making
        esp_pfs: "aes256gcm16-ecp224bp",
        ws_ike: Some(("AES-GCM-256 with 16 octet ICV [RFC5282]", "NONE [RFC4306]")),
        ws_esp: Some(("AES-GCM with 16 octet ICV [RFC4106]", "NULL")),
    },
];
