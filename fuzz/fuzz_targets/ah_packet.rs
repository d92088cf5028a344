//! Any bytes as an AH header: never a panic, and what parses emits back to the same fixed
//! fields, RESERVED aside.
#![no_main]

use ipsec_ah::{AhHeader, AhHeaderView};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = AhHeaderView::new_checked(data) {
        let header = AhHeader::parse(data).expect("a checked view's header parses");
        assert_eq!(header.buffer_len(), view.header_len());
        let mut out = vec![0u8; header.buffer_len()];
        header.emit(&mut out).expect("a parsed header emits");
        // RESERVED is sent as zero (RFC 4302 §2.3); every other fixed field survives.
        assert_eq!(out[..2], data[..2]);
        assert_eq!(out[2..4], [0, 0]);
        assert_eq!(out[4..12], data[4..12]);
        for icv_len in [0, 12, 16, 32] {
            let _ = view.split_icv(icv_len);
        }
    }
});
