//! Tile paths: never a panic, and only the canonical spelling is accepted.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(t) = acta_tlog::Tile::parse_path(text) {
            assert_eq!(t.path(), text);
        }
    }
});
