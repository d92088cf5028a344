//! Authentication methods and certificate encodings (RFC 7296 §3.6, §3.8).

registry! {
    /// The Auth Method of an AUTH payload (RFC 7296 §3.8).
    pub enum AuthMethod: u8 {
        /// RSASSA-PKCS1-v1_5 signature with SHA-1 (RFC 7296).
        RsaDigitalSignature = 1 => "RSA Digital Signature",
        /// A shared key message integrity code (RFC 7296 §2.15).
        SharedKeyMic = 2 => "Shared Key Message Integrity Code",
        /// DSS signature with SHA-1 (RFC 7296).
        DssDigitalSignature = 3 => "DSS Digital Signature",
        /// ECDSA with SHA-256 on P-256 (RFC 4754).
        EcdsaSha256P256 = 9 => "ECDSA with SHA-256 on the P-256 curve",
        /// ECDSA with SHA-384 on P-384 (RFC 4754).
        EcdsaSha384P384 = 10 => "ECDSA with SHA-384 on the P-384 curve",
        /// ECDSA with SHA-512 on P-521 (RFC 4754).
        EcdsaSha512P521 = 11 => "ECDSA with SHA-512 on the P-521 curve",
        /// Generic Secure Password Authentication Method (RFC 6467).
        GenericSecurePassword = 12 => "Generic Secure Password Authentication Method",
        /// NULL authentication (RFC 7619).
        NullAuthentication = 13 => "NULL Authentication",
        /// Digital Signature (RFC 7427).
        DigitalSignature = 14 => "Digital Signature",
    }
}

registry! {
    /// The Cert Encoding of CERT and CERTREQ payloads (RFC 7296 §3.6).
    pub enum CertEncoding: u8 {
        /// PKCS #7 wrapped X.509 certificate.
        Pkcs7X509 = 1 => "PKCS #7 wrapped X.509 certificate",
        /// PGP certificate.
        Pgp = 2 => "PGP Certificate",
        /// DNS signed key.
        DnsSignedKey = 3 => "DNS Signed Key",
        /// X.509 certificate, signature.
        X509Signature = 4 => "X.509 Certificate - Signature",
        /// Kerberos token.
        KerberosToken = 6 => "Kerberos Token",
        /// Certificate revocation list.
        Crl = 7 => "Certificate Revocation List (CRL)",
        /// Authority revocation list.
        Arl = 8 => "Authority Revocation List (ARL)",
        /// SPKI certificate.
        Spki = 9 => "SPKI Certificate",
        /// X.509 certificate, attribute.
        X509Attribute = 10 => "X.509 Certificate - Attribute",
        /// Raw RSA key (deprecated by RFC 7296).
        RawRsaKey = 11 => "Raw RSA Key",
        /// Hash and URL of an X.509 certificate.
        HashUrlX509Certificate = 12 => "Hash and URL of X.509 certificate",
        /// Hash and URL of an X.509 bundle.
        HashUrlX509Bundle = 13 => "Hash and URL of X.509 bundle",
        /// OCSP content (RFC 4806).
        OcspContent = 14 => "OCSP Content",
        /// Raw public key (RFC 7670).
        RawPublicKey = 15 => "Raw Public Key",
    }
}
