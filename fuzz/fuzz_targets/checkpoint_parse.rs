//! The checkpoint parser must never panic and must accept only canonical text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = acta_tlog::Checkpoint::parse(text) {
            assert_eq!(cp.to_text(), text);
        }
    }
});
