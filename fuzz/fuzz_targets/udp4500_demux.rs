//! Any UDP 4500 payload through the RFC 3948 demultiplexer and on into the parser of what
//! it claims to be: never a panic.
#![no_main]

use ipsec_isakmp::{Message, Udp4500Datagram, classify_udp4500};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match classify_udp4500(data) {
        Ok(Udp4500Datagram::Ike(ike)) => {
            assert_eq!(ike.len() + 4, data.len());
            let _ = Message::parse(ike);
        }
        Ok(Udp4500Datagram::Esp(esp)) => {
            assert_eq!(esp, data);
            assert_ne!(esp.get(..4), Some(&[0u8; 4][..]));
        }
        Ok(Udp4500Datagram::NatKeepalive) => assert_eq!(data, [0xff]),
        Err(_) => assert!(data.len() < 4),
    }
});
