//! Receipts (tlog-proof): never a panic, only canonical text accepted.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(p) = acta_tlog::TlogProof::parse(text) {
            assert_eq!(p.to_text(), text);
        }
    }
});
