//! The id list of a sample must never panic the parser, and an accepted
//! list has exactly one id per line, none twice, and samples without panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(ids) = acta_audit::parse_ids(text) {
            assert_eq!(ids.len(), text.lines().count());
            let _ = acta_audit::sample("fuzz", &ids, true, 0, ids.len().min(8));
        }
    }
});
