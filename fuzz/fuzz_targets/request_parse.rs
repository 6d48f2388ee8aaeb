//! The machine certificate-request parser must never panic; whatever it
//! accepts is canonical; a signed request opens only under its own key.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = acta_election::CertRequest::parse(text) {
            assert_eq!(r.to_text(), text);
        }
    }
    let _ = acta_election::CertRequest::open(data);
});
