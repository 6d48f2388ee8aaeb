//! Witness add-checkpoint bodies: never a panic, and a parsed body writes
//! back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = acta_tlog::witness::AddCheckpoint::parse(text) {
            assert_eq!(r.to_text(), text);
        }
    }
});
