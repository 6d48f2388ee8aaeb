//! The signed-note parser must never panic; an accepted note's text ends in a
//! newline and its signature lines re-assemble to the input.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(note) = acta_note::Note::parse(data) {
        assert!(note.text.ends_with('\n'));
        assert!(note.signatures.len() <= acta_note::MAX_SIGNATURES);
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = s.parse::<acta_note::Verifier>();
        let _ = acta_note::Signer::from_private_key(s);
    }
});
