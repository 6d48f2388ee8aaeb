//! Witness (cosignature/v1) keys: never a panic; a parsed key prints back
//! as the same string.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(k) = text.parse::<acta_note::cosignature::CosignatureVerifier>() {
            assert_eq!(k.to_string(), text);
        }
    }
});
