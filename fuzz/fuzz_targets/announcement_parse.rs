//! The announcement parser must never panic, and whatever it accepts must be
//! canonical: re-encoding gives back the very same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(a) = acta_sheet::Announcement::parse(text) {
            assert_eq!(a.to_text(), text);
        }
    }
});
