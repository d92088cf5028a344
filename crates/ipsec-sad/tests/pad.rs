//! The PAD: exact and wildcard identity matching, address ranges, order, identities from
//! the wire, child SA authorization, and a PSK that never shows in Debug output.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use ipsec_crypto::SecretBytes;
use ipsec_sad::{AddrRange, IdMatcher, Pad, PadEntry, PeerAuth, PeerId, SadError, id_type};

fn psk(text: &str) -> PeerAuth {
    PeerAuth::Psk(SecretBytes::copy_from(text.as_bytes()))
}

fn fqdn(name: &str) -> PeerId {
    PeerId::Fqdn(name.to_owned())
}

fn email(address: &str) -> PeerId {
    PeerId::Rfc822(address.to_owned())
}

fn range(text: &str, len: u8) -> AddrRange {
    AddrRange::prefix(text.parse().unwrap(), len).unwrap()
}

#[test]
fn fqdn_suffix_wildcard_matches_names_under_the_domain_only() {
    let m = IdMatcher::wildcard("*.example.com").unwrap();
    assert_eq!(m, IdMatcher::FqdnSuffix("example.com".to_owned()));
    assert!(m.matches(&fqdn("vpn.example.com")));
    assert!(m.matches(&fqdn("a.b.example.com")));
    assert!(m.matches(&fqdn("VPN.Example.COM")));
    assert!(m.matches(&fqdn("vpn.example.com.")));
    assert!(!m.matches(&fqdn("example.com")));
    assert!(!m.matches(&fqdn(".example.com")));
    assert!(!m.matches(&fqdn("badexample.com")));
    assert!(!m.matches(&fqdn("vpn.example.com.evil.org")));
    assert!(!m.matches(&fqdn("vpn.example.co")));
    // Not an email address, nor an address.
    assert!(!m.matches(&email("alice@vpn.example.com")));
    assert!(!m.matches(&PeerId::Ipv4("192.0.2.1".parse().unwrap())));
}

#[test]
fn email_wildcards_match_the_domain_or_its_subdomains() {
    let exact = IdMatcher::wildcard("*@Example.com").unwrap();
    assert!(exact.matches(&email("alice@example.com")));
    assert!(exact.matches(&email("bob@EXAMPLE.com")));
    assert!(!exact.matches(&email("alice@mail.example.com")));
    assert!(!exact.matches(&email("@example.com")));
    assert!(!exact.matches(&email("alice@notexample.com")));
    assert!(!exact.matches(&fqdn("example.com")));

    let sub = IdMatcher::wildcard("*@*.example.com").unwrap();
    assert!(sub.matches(&email("alice@mail.example.com")));
    assert!(!sub.matches(&email("alice@example.com")));
    assert!(!sub.matches(&email("alice.example.com")));
}

#[test]
fn malformed_wildcards_are_refused() {
    for pattern in [
        "example.com",
        "*.",
        "*",
        "*@",
        "*.*.example.com",
        "*..example.com",
        "*@a@b",
        "",
    ] {
        assert_eq!(
            IdMatcher::wildcard(pattern),
            Err(SadError::InvalidWildcard(pattern.to_owned())),
            "{pattern:?}"
        );
    }
}

#[test]
fn exact_matching() {
    let m = IdMatcher::Exact(fqdn("gw.example.org"));
    assert!(m.matches(&fqdn("GW.example.org")));
    assert!(m.matches(&fqdn("gw.example.org.")));
    assert!(!m.matches(&fqdn("x.gw.example.org")));

    let m = IdMatcher::Exact(email("Alice@example.org"));
    assert!(m.matches(&email("Alice@EXAMPLE.org")));
    assert!(
        !m.matches(&email("alice@example.org")),
        "local parts are case-sensitive"
    );

    let m = IdMatcher::Exact(PeerId::KeyId(vec![1, 2, 3]));
    assert!(m.matches(&PeerId::KeyId(vec![1, 2, 3])));
    assert!(!m.matches(&PeerId::KeyId(vec![1, 2])));
    assert!(!m.matches(&PeerId::DerDn(vec![1, 2, 3])));

    let m = IdMatcher::Exact(PeerId::Ipv6("2001:db8::1".parse().unwrap()));
    assert!(m.matches(&PeerId::Ipv6("2001:db8::1".parse().unwrap())));
    assert!(!m.matches(&PeerId::Ipv6("2001:db8::2".parse().unwrap())));
}

#[test]
fn address_ranges_match_address_identities() {
    let m = IdMatcher::AddressRange(range("198.51.100.0", 24));
    assert!(m.matches(&PeerId::Ipv4("198.51.100.77".parse().unwrap())));
    assert!(!m.matches(&PeerId::Ipv4("198.51.101.1".parse().unwrap())));
    assert!(!m.matches(&PeerId::Ipv6("::1".parse().unwrap())));
    assert!(!m.matches(&fqdn("198.51.100.77")));
}

#[test]
fn the_first_matching_entry_is_the_peers() {
    let mut pad = Pad::new();
    pad.push(PadEntry::new(
        IdMatcher::Exact(fqdn("special.example.com")),
        psk("special"),
        vec![range("10.9.0.0", 16)],
    ));
    pad.push(PadEntry::new(
        IdMatcher::wildcard("*.example.com").unwrap(),
        psk("shared"),
        vec![range("10.0.0.0", 8)],
    ));
    pad.push(PadEntry::new(IdMatcher::Any, psk("guest"), Vec::new()));

    let entry = pad.lookup(&fqdn("special.example.com")).unwrap();
    assert_eq!(entry.auth, psk("special"));
    let entry = pad.lookup(&fqdn("other.example.com")).unwrap();
    assert_eq!(entry.auth, psk("shared"));
    let entry = pad.lookup(&email("x@y.z")).unwrap();
    assert_eq!(entry.auth, psk("guest"));

    // Insert a refusal-by-omission in front: an empty PAD admits nobody.
    assert!(pad.remove(2).is_some());
    assert!(pad.lookup(&email("x@y.z")).is_none());
    pad.insert(
        0,
        PadEntry::new(
            IdMatcher::Exact(fqdn("other.example.com")),
            psk("own"),
            Vec::new(),
        ),
    )
    .unwrap();
    assert_eq!(
        pad.lookup(&fqdn("other.example.com")).unwrap().auth,
        psk("own")
    );
    assert_eq!(pad.len(), 3);
    assert!(pad.remove(7).is_none());
    assert!(
        pad.insert(9, PadEntry::new(IdMatcher::Any, psk("x"), Vec::new()))
            .is_err()
    );
    assert!(Pad::new().is_empty());
}

#[test]
fn child_sa_authorization_limits_the_peers_selectors() {
    let entry = PadEntry::new(
        IdMatcher::Any,
        psk("k"),
        vec![range("10.1.0.0", 16), range("2001:db8:1::", 48)],
    );
    assert!(entry.allows_child_range(&range("10.1.2.0", 24)));
    assert!(entry.allows_child_range(&range("10.1.0.0", 16)));
    assert!(!entry.allows_child_range(&range("10.0.0.0", 8)));
    assert!(!entry.allows_child_range(&range("10.2.0.0", 24)));
    assert!(entry.allows_child_range(&range("2001:db8:1:5::", 64)));
    assert!(!entry.allows_child_range(&AddrRange::Any));
    let nothing = PadEntry::new(IdMatcher::Any, psk("k"), Vec::new());
    assert!(!nothing.allows_child_range(&range("10.1.2.0", 24)));
}

#[test]
fn identities_from_the_wire() {
    assert_eq!(
        PeerId::from_wire(id_type::IPV4_ADDR, &[192, 0, 2, 1]),
        Ok(PeerId::Ipv4("192.0.2.1".parse().unwrap()))
    );
    let v6: [u8; 16] = "2001:db8::1"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let id = PeerId::from_wire(id_type::IPV6_ADDR, &v6).unwrap();
    assert_eq!(id.id_type(), id_type::IPV6_ADDR);
    assert_eq!(id.data(), v6.to_vec());
    assert_eq!(
        PeerId::from_wire(id_type::FQDN, b"vpn.example.com"),
        Ok(fqdn("vpn.example.com"))
    );
    assert_eq!(
        PeerId::from_wire(id_type::RFC822_ADDR, b"a@b.c"),
        Ok(email("a@b.c"))
    );
    assert_eq!(
        PeerId::from_wire(id_type::KEY_ID, &[0, 0xff]),
        Ok(PeerId::KeyId(vec![0, 0xff]))
    );
    assert_eq!(
        PeerId::from_wire(id_type::DER_ASN1_DN, &[0x30, 0]),
        Ok(PeerId::DerDn(vec![0x30, 0]))
    );
    for (t, data) in [
        (id_type::IPV4_ADDR, &[1u8, 2, 3][..]),
        (id_type::IPV6_ADDR, &[0; 4][..]),
        (id_type::FQDN, &[][..]),
        (id_type::FQDN, &[0xff, 0xfe][..]),
        (id_type::FQDN, b"a\0b"),
        (id_type::RFC822_ADDR, b"a@b\r\n"),
    ] {
        assert_eq!(
            PeerId::from_wire(t, data),
            Err(SadError::InvalidIdentity { id_type: t }),
            "{t} {data:?}"
        );
    }
    assert_eq!(
        PeerId::from_wire(13, &[]),
        Err(SadError::UnknownIdentityType(13))
    );

    let mut pad = Pad::new();
    pad.push(PadEntry::new(
        IdMatcher::wildcard("*.example.com").unwrap(),
        psk("k"),
        Vec::new(),
    ));
    assert!(
        pad.lookup_wire(id_type::FQDN, b"gw.example.com")
            .unwrap()
            .is_some()
    );
    assert!(
        pad.lookup_wire(id_type::FQDN, b"gw.example.net")
            .unwrap()
            .is_none()
    );
    assert!(pad.lookup_wire(id_type::FQDN, b"").is_err());
}

#[test]
fn the_psk_never_shows_in_debug_output() {
    let secret = "correct horse battery staple";
    let mut pad = Pad::new();
    pad.push(PadEntry::new(
        IdMatcher::wildcard("*.example.com").unwrap(),
        psk(secret),
        vec![range("10.0.0.0", 8)],
    ));
    let shown = [
        format!("{pad:?}"),
        format!("{pad:#?}"),
        format!("{:?}", pad.entries()[0]),
        format!("{:?}", pad.entries()[0].auth),
    ];
    let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
    let decimal = format!("{:?}", secret.as_bytes());
    for text in &shown {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("horse"), "{text}");
        assert!(!text.contains(&hex), "{text}");
        assert!(!text.contains(&decimal[1..20]), "{text}");
        assert!(text.contains("28 bytes"), "{text}");
    }
}
