//! The trust-file parser must never panic; whatever it accepts is canonical
//! and lists no public key twice.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(t) = acta_election::Trust::parse(text) {
            assert_eq!(t.to_text(), text);
            let keys: std::collections::HashSet<_> =
                t.quorum.verifiers.iter().map(|v| v.public_key()).collect();
            assert_eq!(keys.len(), t.quorum.verifiers.len());
        }
    }
});
