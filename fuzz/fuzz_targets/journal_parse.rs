//! The journal parser must never panic, and whatever it accepts must be
//! canonical: every accepted line re-encodes to the very same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((lines, _)) = acta_sheet::journal::read(text) {
            let again: String = lines.iter().map(|l| l.to_text() + "\n").collect();
            assert_eq!(again, text);
        }
    }
});
