//! Configuration text as an administrator (or an attacker with write access to a config
//! file) gives it: every value parser of the facade (addresses, traffic selectors,
//! identities, durations, numbers, proposals) and a whole TOML configuration never panic,
//! whatever the text; what parses is checked for the invariants the parsers promise.
#![no_main]

use ipsec::isakmp::TrafficSelector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ranges) = ipsec::parse_addresses(text) {
        assert!(!ranges.is_empty());
    }
    if let Ok(selector) = ipsec::parse_traffic_selector(text) {
        match selector {
            TrafficSelector::Ipv4(r) => assert!(r.start_address <= r.end_address),
            TrafficSelector::Ipv6(r) => assert!(r.start_address <= r.end_address),
            TrafficSelector::Other(_) => panic!("a parsed selector is IPv4 or IPv6"),
        }
    }
    let _ = ipsec::parse_identity(text);
    let _ = ipsec::parse_remote_identity(text);
    let _ = ipsec::parse_duration(text);
    let _ = ipsec::parse_number(text);
    let _ = ipsec::parse_ike_proposals(text);
    let _ = ipsec::parse_esp_proposals(text);
    let _ = ipsec::parse_ah_proposals(text);
    if let Ok(config) = ipsec::Config::from_toml(text) {
        // A configuration that loads is valid as a whole.
        assert!(config.validate().is_ok());
    }
    // The builders take any value of any setting without panicking.
    if let Some((setting, value)) = text.split_once('=') {
        let child = ipsec::Child::builder("c")
            .local_ts("10.0.0.0/8")
            .remote_ts("10.0.0.0/8")
            .set(setting.trim(), value)
            .build();
        let _ = ipsec::Connection::builder("x")
            .local_id("x")
            .set(setting.trim(), value)
            .child(child)
            .build();
    }
});
