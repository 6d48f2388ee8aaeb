//! `acta audit sample` through the binary prints the reference's lines.

use std::process::Command;

#[test]
fn the_sample_prints_the_reference_lines() {
    let dir = tempfile::tempdir().unwrap();
    let ids = dir.path().join("ids.txt");
    std::fs::write(&ids, "ab-1\nab-2\ncd-1\nef-3\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["audit", "sample", "--seed", "314159", "--ids"])
        .arg(&ids)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "0.317685817 cd-1 1\n0.832984519 ef-3 1\n0.9098039269 ab-1 1\n0.9231549043 ab-2 1\n"
    );
    // A list with an id twice is refused, saying which.
    std::fs::write(&ids, "ab-1\nab-1\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(["audit", "sample", "--seed", "1", "--ids"])
        .arg(&ids)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("\"ab-1\" is listed twice"));
}
