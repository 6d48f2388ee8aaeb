//! Known answers from Go's `golang.org/x/mod/sumdb/note` (the reference the C2SP
//! signed-note spec was written from), plus the rules of the spec itself.

use acta_note::{countersign, open, sign, Error, Note, Quorum, Signer, Verifier};
use proptest::prelude::*;

const SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

#[test]
fn go_reference_key_strings_round_trip() {
    let signer = Signer::from_private_key(SKEY).unwrap();
    assert_eq!(signer.to_private_key(), SKEY);
    assert_eq!(signer.verifier().to_string(), VKEY);
    let v: Verifier = VKEY.parse().unwrap();
    assert_eq!(v.key_id(), 0xc74f20a3);
    assert_eq!(v, signer.verifier());
}

#[test]
fn go_reference_signature_is_reproduced_byte_for_byte() {
    let signer = Signer::from_private_key(SKEY).unwrap();
    assert_eq!(sign(TEXT, &[&signer]).unwrap(), SIGNED);
}

#[test]
fn go_reference_note_opens_and_a_changed_letter_does_not() {
    let v: Verifier = VKEY.parse().unwrap();
    assert_eq!(open(SIGNED.as_bytes(), &v).unwrap(), TEXT);
    let forged = SIGNED.replacen("cryptography", "cryptographY", 1);
    assert!(matches!(
        open(forged.as_bytes(), &v),
        Err(Error::InvalidSignature { .. })
    ));
}

#[test]
fn unknown_keys_are_ignored_and_quorum_counts_distinct_known_keys() {
    let a = Signer::from_seed("authority", [1; 32]).unwrap();
    let b = Signer::from_seed("party-a", [2; 32]).unwrap();
    let c = Signer::from_seed("party-b", [3; 32]).unwrap();
    let stranger = Signer::from_seed("stranger", [4; 32]).unwrap();
    let note = sign("election package\n", &[&stranger, &a]).unwrap();
    let note = countersign(note.as_bytes(), &b).unwrap();
    let q = Quorum {
        verifiers: vec![a.verifier(), b.verifier(), c.verifier()],
        need: 2,
    };
    assert_eq!(q.open(note.as_bytes()).unwrap(), "election package\n");
    let q3 = Quorum {
        need: 3,
        ..q.clone()
    };
    match q3.open(note.as_bytes()) {
        Err(Error::Quorum {
            got: 2,
            need: 3,
            names,
        }) => assert_eq!(names, "authority, party-a"),
        other => panic!("expected quorum failure, got {other:?}"),
    }
    // Countersigning twice with the same key is refused, so quorum cannot be padded.
    assert!(matches!(
        countersign(note.as_bytes(), &b),
        Err(Error::DuplicateSignature { .. })
    ));
}

#[test]
fn a_note_signed_only_by_unknown_keys_is_rejected() {
    let stranger = Signer::from_seed("stranger", [4; 32]).unwrap();
    let note = sign("hello\n", &[&stranger]).unwrap();
    let v: Verifier = VKEY.parse().unwrap();
    assert!(matches!(
        open(note.as_bytes(), &v),
        Err(Error::Quorum { got: 0, .. })
    ));
}

#[test]
fn malformed_notes_are_rejected_with_the_reason() {
    let cases: &[(&str, &str)] = &[
        ("no signatures\n", "no blank line"),
        ("text\n\n", "signature line 1"),
        ("text\n\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=", "end with a newline"),
        ("text\n\n- PeterNeumann x08go/ZJ=\n", "em dash"),
        ("text\n\n\u{2014} Peter+Neumann x08go/ZJ=\n", "key name"),
        ("text\n\n\u{2014} PeterNeumann x08go/Z\n", "base64"),
        ("text\n\n\u{2014} PeterNeumann AAAA\n", "shorter"),
        ("te\u{7}xt\n\n\u{2014} PeterNeumann x08go/ZJkuBS9U\n", "control character"),
        ("\n\n\u{2014} PeterNeumann x08go/ZJkuBS9U\n", "non-empty"),
    ];
    for (input, want) in cases {
        let err = Note::parse(input.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains(want),
            "{input:?}: error {err:?} should mention {want:?}"
        );
    }
    let dup = format!("{SIGNED}\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n");
    assert!(matches!(
        Note::parse(dup.as_bytes()),
        Err(Error::DuplicateSignature { line: 2, .. })
    ));
    assert!(matches!(Note::parse(b"\xff\n\n"), Err(Error::NotUtf8(0))));
}

#[test]
fn verifier_strings_with_wrong_id_or_size_are_rejected() {
    assert!(
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            .parse::<Verifier>()
            .is_err()
    );
    assert!(
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10"
            .parse::<Verifier>()
            .is_err()
    );
    assert!(
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
            .parse::<Verifier>()
            .is_err()
    );
    assert!("PeterNeumann".parse::<Verifier>().is_err());
}

proptest! {
    /// Any single-byte change to a signed note is either unparsable, fails the
    /// signature, or leaves no valid signature by the trusted key.
    #[test]
    fn any_single_byte_change_is_rejected(pos in 0usize..SIGNED.len(), byte in any::<u8>()) {
        let v: Verifier = VKEY.parse().unwrap();
        let mut bytes = SIGNED.as_bytes().to_vec();
        prop_assume!(bytes[pos] != byte);
        bytes[pos] = byte;
        prop_assert!(open(&bytes, &v).is_err());
    }

    #[test]
    fn sign_then_open_round_trips(lines in proptest::collection::vec("[ -~]{1,40}", 1..8), seed in any::<[u8; 32]>()) {
        let text = lines.join("\n") + "\n";
        let s = Signer::from_seed("k", seed).unwrap();
        let note = sign(&text, &[&s]).unwrap();
        prop_assert_eq!(open(note.as_bytes(), &s.verifier()).unwrap(), text.as_str());
    }
}
