//! Transform types, transform IDs and transform attribute types (RFC 7296 §3.3.2, §3.3.5;
//! RFC 9370 §2.2.1).

registry! {
    /// Transform Type of a Transform substructure (RFC 7296 §3.3.2, RFC 9370 §2.2.1).
    pub enum TransformType: u8 {
        /// Encryption algorithm.
        Encr = 1 => "ENCR",
        /// Pseudorandom function.
        Prf = 2 => "PRF",
        /// Integrity algorithm.
        Integ = 3 => "INTEG",
        /// Diffie-Hellman group, since RFC 9370 called key exchange method.
        Dh = 4 => "KE",
        /// Sequence Numbers, called Extended Sequence Numbers (ESN) before RFC 9827.
        Esn = 5 => "SN",
        /// Additional key exchange 1 (RFC 9370).
        AddKe1 = 6 => "ADDKE1",
        /// Additional key exchange 2 (RFC 9370).
        AddKe2 = 7 => "ADDKE2",
        /// Additional key exchange 3 (RFC 9370).
        AddKe3 = 8 => "ADDKE3",
        /// Additional key exchange 4 (RFC 9370).
        AddKe4 = 9 => "ADDKE4",
        /// Additional key exchange 5 (RFC 9370).
        AddKe5 = 10 => "ADDKE5",
        /// Additional key exchange 6 (RFC 9370).
        AddKe6 = 11 => "ADDKE6",
        /// Additional key exchange 7 (RFC 9370).
        AddKe7 = 12 => "ADDKE7",
        /// Key wrap algorithm (RFC 9838).
        KeyWrap = 13 => "KWA",
        /// Group controller authentication method (RFC 9838).
        GroupControllerAuth = 14 => "GCAUTH",
    }
}

registry! {
    /// Transform Type 1 IDs: encryption algorithms (RFC 7296 §3.3.2).
    pub enum EncrId: u16 {
        /// RFC 1827.
        DesIv64 = 1 => "ENCR_DES_IV64",
        /// RFC 2405.
        Des = 2 => "ENCR_DES",
        /// RFC 2451.
        TripleDes = 3 => "ENCR_3DES",
        /// RFC 2451.
        Rc5 = 4 => "ENCR_RC5",
        /// RFC 2451.
        Idea = 5 => "ENCR_IDEA",
        /// RFC 2451.
        Cast = 6 => "ENCR_CAST",
        /// RFC 2451.
        Blowfish = 7 => "ENCR_BLOWFISH",
        /// RFC 2451.
        TripleIdea = 8 => "ENCR_3IDEA",
        /// RFC 1827.
        DesIv32 = 9 => "ENCR_DES_IV32",
        /// RFC 2410.
        Null = 11 => "ENCR_NULL",
        /// RFC 3602.
        AesCbc = 12 => "ENCR_AES_CBC",
        /// RFC 3686.
        AesCtr = 13 => "ENCR_AES_CTR",
        /// RFC 4309.
        AesCcm8 = 14 => "ENCR_AES_CCM_8",
        /// RFC 4309.
        AesCcm12 = 15 => "ENCR_AES_CCM_12",
        /// RFC 4309.
        AesCcm16 = 16 => "ENCR_AES_CCM_16",
        /// RFC 4106.
        AesGcm8 = 18 => "ENCR_AES_GCM_8",
        /// RFC 4106.
        AesGcm12 = 19 => "ENCR_AES_GCM_12",
        /// RFC 4106, RFC 5282.
        AesGcm16 = 20 => "ENCR_AES_GCM_16",
        /// RFC 4543.
        NullAuthAesGmac = 21 => "ENCR_NULL_AUTH_AES_GMAC",
        /// RFC 5529.
        CamelliaCbc = 23 => "ENCR_CAMELLIA_CBC",
        /// RFC 5529.
        CamelliaCtr = 24 => "ENCR_CAMELLIA_CTR",
        /// RFC 5529.
        CamelliaCcm8 = 25 => "ENCR_CAMELLIA_CCM_8",
        /// RFC 5529.
        CamelliaCcm12 = 26 => "ENCR_CAMELLIA_CCM_12",
        /// RFC 5529.
        CamelliaCcm16 = 27 => "ENCR_CAMELLIA_CCM_16",
        /// RFC 7634.
        Chacha20Poly1305 = 28 => "ENCR_CHACHA20_POLY1305",
        /// RFC 8750.
        AesCcm8Iiv = 29 => "ENCR_AES_CCM_8_IIV",
        /// RFC 8750.
        AesGcm16Iiv = 30 => "ENCR_AES_GCM_16_IIV",
        /// RFC 8750.
        Chacha20Poly1305Iiv = 31 => "ENCR_CHACHA20_POLY1305_IIV",
        /// RFC 9227.
        KuznyechikMgmKtree = 32 => "ENCR_KUZNYECHIK_MGM_KTREE",
        /// RFC 9227.
        MagmaMgmKtree = 33 => "ENCR_MAGMA_MGM_KTREE",
        /// RFC 9227.
        KuznyechikMgmMacKtree = 34 => "ENCR_KUZNYECHIK_MGM_MAC_KTREE",
        /// RFC 9227.
        MagmaMgmMacKtree = 35 => "ENCR_MAGMA_MGM_MAC_KTREE",
    }
}

registry! {
    /// Transform Type 2 IDs: pseudorandom functions (RFC 7296 §3.3.2).
    pub enum PrfId: u16 {
        /// RFC 2104.
        HmacMd5 = 1 => "PRF_HMAC_MD5",
        /// RFC 2104.
        HmacSha1 = 2 => "PRF_HMAC_SHA1",
        /// RFC 2104.
        HmacTiger = 3 => "PRF_HMAC_TIGER",
        /// RFC 4434.
        Aes128Xcbc = 4 => "PRF_AES128_XCBC",
        /// RFC 4868.
        HmacSha2_256 = 5 => "PRF_HMAC_SHA2_256",
        /// RFC 4868.
        HmacSha2_384 = 6 => "PRF_HMAC_SHA2_384",
        /// RFC 4868.
        HmacSha2_512 = 7 => "PRF_HMAC_SHA2_512",
        /// RFC 4615.
        Aes128Cmac = 8 => "PRF_AES128_CMAC",
        /// RFC 9385.
        HmacStreebog512 = 9 => "PRF_HMAC_STREEBOG_512",
    }
}

registry! {
    /// Transform Type 3 IDs: integrity algorithms (RFC 7296 §3.3.2).
    pub enum IntegId: u16 {
        /// No separate integrity algorithm (with an AEAD cipher).
        None = 0 => "NONE",
        /// RFC 2403.
        HmacMd5_96 = 1 => "AUTH_HMAC_MD5_96",
        /// RFC 2404.
        HmacSha1_96 = 2 => "AUTH_HMAC_SHA1_96",
        /// Deprecated.
        DesMac = 3 => "AUTH_DES_MAC",
        /// RFC 1826.
        KpdkMd5 = 4 => "AUTH_KPDK_MD5",
        /// RFC 3566.
        AesXcbc96 = 5 => "AUTH_AES_XCBC_96",
        /// RFC 4595.
        HmacMd5_128 = 6 => "AUTH_HMAC_MD5_128",
        /// RFC 4595.
        HmacSha1_160 = 7 => "AUTH_HMAC_SHA1_160",
        /// RFC 4494.
        AesCmac96 = 8 => "AUTH_AES_CMAC_96",
        /// RFC 4543.
        Aes128Gmac = 9 => "AUTH_AES_128_GMAC",
        /// RFC 4543.
        Aes192Gmac = 10 => "AUTH_AES_192_GMAC",
        /// RFC 4543.
        Aes256Gmac = 11 => "AUTH_AES_256_GMAC",
        /// RFC 4868.
        HmacSha2_256_128 = 12 => "AUTH_HMAC_SHA2_256_128",
        /// RFC 4868.
        HmacSha2_384_192 = 13 => "AUTH_HMAC_SHA2_384_192",
        /// RFC 4868.
        HmacSha2_512_256 = 14 => "AUTH_HMAC_SHA2_512_256",
    }
}

registry! {
    /// Transform Type 4 IDs: Diffie-Hellman groups, since RFC 9370 key exchange methods
    /// (RFC 7296 §3.3.2).
    pub enum DhGroup: u16 {
        /// No key exchange (in a Child SA proposal without PFS).
        None = 0 => "NONE",
        /// 768-bit MODP group (RFC 7296 App. B).
        Modp768 = 1 => "768-bit MODP Group",
        /// 1024-bit MODP group (RFC 7296 App. B).
        Modp1024 = 2 => "1024-bit MODP Group",
        /// 1536-bit MODP group (RFC 3526).
        Modp1536 = 5 => "1536-bit MODP Group",
        /// 2048-bit MODP group (RFC 3526).
        Modp2048 = 14 => "2048-bit MODP Group",
        /// 3072-bit MODP group (RFC 3526).
        Modp3072 = 15 => "3072-bit MODP Group",
        /// 4096-bit MODP group (RFC 3526).
        Modp4096 = 16 => "4096-bit MODP Group",
        /// 6144-bit MODP group (RFC 3526).
        Modp6144 = 17 => "6144-bit MODP Group",
        /// 8192-bit MODP group (RFC 3526).
        Modp8192 = 18 => "8192-bit MODP Group",
        /// NIST P-256 (RFC 5903).
        Ecp256 = 19 => "256-bit random ECP group",
        /// NIST P-384 (RFC 5903).
        Ecp384 = 20 => "384-bit random ECP group",
        /// NIST P-521 (RFC 5903).
        Ecp521 = 21 => "521-bit random ECP group",
        /// RFC 5114.
        Modp1024S160 = 22 => "1024-bit MODP Group with 160-bit Prime Order Subgroup",
        /// RFC 5114.
        Modp2048S224 = 23 => "2048-bit MODP Group with 224-bit Prime Order Subgroup",
        /// RFC 5114.
        Modp2048S256 = 24 => "2048-bit MODP Group with 256-bit Prime Order Subgroup",
        /// RFC 5114.
        Ecp192 = 25 => "192-bit Random ECP Group",
        /// RFC 5114.
        Ecp224 = 26 => "224-bit Random ECP Group",
        /// RFC 6954.
        BrainpoolP224r1 = 27 => "brainpoolP224r1",
        /// RFC 6954.
        BrainpoolP256r1 = 28 => "brainpoolP256r1",
        /// RFC 6954.
        BrainpoolP384r1 = 29 => "brainpoolP384r1",
        /// RFC 6954.
        BrainpoolP512r1 = 30 => "brainpoolP512r1",
        /// RFC 8031.
        Curve25519 = 31 => "Curve25519",
        /// RFC 8031.
        Curve448 = 32 => "Curve448",
        /// RFC 9385.
        Gost3410_2012_256 = 33 => "GOST3410_2012_256",
        /// RFC 9385.
        Gost3410_2012_512 = 34 => "GOST3410_2012_512",
        /// draft-ietf-ipsecme-ikev2-mlkem.
        MlKem512 = 35 => "ml-kem-512",
        /// draft-ietf-ipsecme-ikev2-mlkem.
        MlKem768 = 36 => "ml-kem-768",
        /// draft-ietf-ipsecme-ikev2-mlkem.
        MlKem1024 = 37 => "ml-kem-1024",
    }
}

registry! {
    /// Transform Type 5 IDs: sequence numbers, "Extended Sequence Numbers" in RFC 7296 §3.3.2
    /// (renamed by RFC 9827).
    pub enum EsnId: u16 {
        /// 32-bit sequence numbers, formerly "No Extended Sequence Numbers".
        NoEsn = 0 => "32-bit Sequential Numbers",
        /// 64-bit extended sequence numbers of which the low 32 bits are sent
        /// (RFC 4303 §2.2.1), formerly "Extended Sequence Numbers".
        Esn = 1 => "Partially Transmitted 64-bit Sequential Numbers",
        /// 32-bit numbers without a defined order, for group SAs (RFC 9838).
        Unspecified32 = 2 => "32-bit Unspecified Numbers",
    }
}

registry! {
    /// Transform attribute types (RFC 7296 §3.3.5).
    pub enum TransformAttributeType: u16 {
        /// The key length in bits of a variable-length cipher; a TV attribute.
        KeyLength = 14 => "Key Length (in bits)",
    }
}
