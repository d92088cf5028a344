//! Any bytes as an ESP packet and as a decrypted ESP plaintext: never a panic, and what
//! parses emits back to the same bytes.
#![no_main]

use ipsec_esp::{EspHeader, EspHeaderView, check_default_padding, split_plaintext};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(view) = EspHeaderView::new_checked(data) {
        let header = EspHeader::parse(data).expect("a checked view's header parses");
        assert_eq!(header.spi, view.spi());
        let mut out = [0u8; ipsec_esp::HEADER_LEN];
        header.emit(&mut out).expect("a parsed header emits");
        assert_eq!(&out[..], &data[..ipsec_esp::HEADER_LEN]);
    }
    if let Ok((payload, trailer)) = split_plaintext(data) {
        let padding_len = usize::from(trailer.pad_length);
        assert_eq!(payload.len() + padding_len + 2, data.len());
        let _ = check_default_padding(&data[payload.len()..payload.len() + padding_len]);
    }
});
