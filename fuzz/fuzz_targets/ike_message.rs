//! Any datagram through the IKE message parser: never a panic, and whatever parses emits
//! back to bytes that parse to the same message. Every payload type's body parser also sees
//! the input as a payload chain.
#![no_main]

use ipsec_isakmp::payload::parse_chain;
use ipsec_isakmp::{Message, PayloadType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::parse(data) {
        let bytes = message.to_vec().expect("a parsed message emits");
        let again = Message::parse(&bytes).expect("an emitted message parses");
        assert_eq!(again, message);
    }
    if let Some((&first, chain)) = data.split_first() {
        if let Ok(payloads) = parse_chain(PayloadType::from(first), chain) {
            let mut out = vec![0; ipsec_isakmp::payload::chain_len(&payloads)];
            ipsec_isakmp::payload::emit_chain(&payloads, &mut out).expect("a parsed chain emits");
            let again = parse_chain(ipsec_isakmp::payload::first_type(&payloads), &out)
                .expect("an emitted chain parses");
            assert_eq!(again, payloads);
        }
    }
});
