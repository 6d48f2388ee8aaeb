//! The audit note and hand-count parsers must never panic, and whatever
//! they accept must be canonical: re-encoding gives back the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(a) = acta_sheet::AuditNote::parse(text) {
            assert_eq!(a.to_text(), text);
        }
        if let Ok((r, c)) = acta_sheet::audit::parse_hand_count(text) {
            assert_eq!(acta_sheet::audit::hand_count_text(r, &c), text);
        }
    }
});
