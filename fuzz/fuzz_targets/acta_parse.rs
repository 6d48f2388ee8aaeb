//! The acta parser must never panic, and whatever it accepts must be canonical:
//! re-encoding gives back the very same bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(acta) = acta_sheet::Acta::parse(text) {
            assert_eq!(acta.to_text(), text);
        }
        if let Ok(zero) = acta_sheet::ZeroReport::parse(text) {
            assert_eq!(zero.to_text(), text);
        }
    }
    let _ = acta_sheet::qr::join(&[data.to_vec()]);
});
