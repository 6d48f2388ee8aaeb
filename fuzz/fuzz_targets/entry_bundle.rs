//! Entry bundles: never a panic; what is read writes back to the same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&w, bytes)) = data.split_first() else {
        return;
    };
    let width = u16::from(w) + 1;
    if let Ok(entries) = acta_tlog::tile::read_bundle(bytes, width) {
        assert_eq!(entries.len(), width as usize);
        assert_eq!(acta_tlog::tile::write_bundle(entries).unwrap(), bytes);
    }
});
