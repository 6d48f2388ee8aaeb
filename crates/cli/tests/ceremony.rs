//! The key ceremony through the real binary, one command per person: the
//! center and the authority make their keys, each machine makes its own and
//! a signed certificate request, the authority defines the package from a
//! definition file, three auditors countersign separately, a station signs,
//! and the center and an observer accept. Then each way of cheating the
//! ceremony is tried and refused with a message naming the problem.

use std::path::Path;
use std::process::{Child, Command, Output};

fn acta(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_acta"))
        .args(args)
        .output()
        .expect("the acta binary runs")
}

fn ok(args: &[&str]) -> String {
    let o = acta(args);
    assert!(
        o.status.success(),
        "acta {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn refused(args: &[&str], naming: &str) {
    let o = acta(args);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(!o.status.success(), "acta {args:?} should fail:\n{all}");
    assert!(
        all.contains(naming),
        "acta {args:?}: wanted {naming:?} in:\n{all}"
    );
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn keys_are_made_by_their_owners_and_the_ceremony_refuses_every_shortcut() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keys = d.join("keys");
    let key = |name: &str| -> String {
        ok(&[
            "keygen",
            "--name",
            name,
            "--out",
            p(&keys.join(format!("{name}.key"))),
        ])
        .trim()
        .to_string()
    };
    let center = key("center");
    let authority = key("authority");
    let auditors: Vec<String> = ["auditor-1", "auditor-2", "auditor-3"]
        .iter()
        .map(|n| key(n))
        .collect();
    // A private key file is never overwritten.
    refused(
        &[
            "keygen",
            "--name",
            "center",
            "--out",
            p(&keys.join("center.key")),
        ],
        "must not exist",
    );

    // The authority's content: definition, rolls, override codes.
    let el = d.join("el");
    ok(&[
        "election",
        "generate",
        "--seed",
        "4",
        "--tables",
        "3",
        "--out",
        p(&el),
        "--center-key",
        &center,
    ]);
    let machines: Vec<(String, String)> = std::fs::read_to_string(el.join("machines.txt"))
        .unwrap()
        .lines()
        .map(|l| {
            let (m, t) = l.split_once(' ').unwrap();
            (m.to_string(), t.to_string())
        })
        .collect();
    assert_eq!(machines.len(), 3);

    // Each machine makes its own key and request; the private key stays in its dir.
    let requests = d.join("requests");
    std::fs::create_dir_all(&requests).unwrap();
    for (m, _) in &machines {
        let mdir = d.join("machines").join(m);
        let req = ok(&[
            "machine",
            "keygen",
            "--dir",
            p(&mdir),
            "--machine",
            m,
            "--election",
            "SYN-4",
        ]);
        assert!(
            req.starts_with("acta-machine-request/v1\nelection SYN-4\n"),
            "{req}"
        );
        assert!(!req.contains("PRIVATE"));
        std::fs::write(requests.join(format!("{m}.note")), req).unwrap();
    }

    let package = d.join("package.note");
    let define = |reqs: &Path, out: &Path| -> Output {
        acta(&[
            "election",
            "define",
            "--definition",
            p(&el.join("definition.json")),
            "--requests",
            p(reqs),
            "--rolls",
            p(&el.join("rolls")),
            "--authority-key",
            p(&keys.join("authority.key")),
            "--out",
            p(out),
        ])
    };
    assert!(define(&requests, &package).status.success());

    let trust = d.join("trust.txt");
    std::fs::write(
        &trust,
        format!(
            "quorum 3\nkey {authority}\nkey {}\nkey {}\nkey {}\n",
            auditors[0], auditors[1], auditors[2]
        ),
    )
    .unwrap();
    // Only the authority has signed: short of the quorum, and the center refuses it.
    refused(
        &[
            "election",
            "show",
            "--package",
            p(&package),
            "--trust",
            p(&trust),
        ],
        "NOT MET",
    );
    refused(
        &[
            "center",
            "serve",
            "--package",
            p(&package),
            "--trust",
            p(&trust),
            "--key",
            p(&keys.join("center.key")),
            "--db",
            &format!("sqlite://{}", p(&d.join("short.db"))),
            "--listen",
            "127.0.0.1:0",
        ],
        "signed by 1 of the required 3",
    );
    // Each auditor countersigns separately.
    for n in ["auditor-1", "auditor-2"] {
        ok(&[
            "election",
            "countersign",
            "--package",
            p(&package),
            "--key",
            p(&keys.join(format!("{n}.key"))),
        ]);
    }
    let shown = ok(&[
        "election",
        "show",
        "--package",
        p(&package),
        "--trust",
        p(&trust),
    ]);
    assert!(
        shown.contains(
            "signed by 3 of the trusted keys (authority, auditor-1, auditor-2); quorum 3 — MET"
        ),
        "{shown}"
    );
    let out = ok(&[
        "election",
        "countersign",
        "--package",
        p(&package),
        "--key",
        p(&keys.join("auditor-3.key")),
        "--trust",
        p(&trust),
    ]);
    assert!(out.contains("signed by 4"), "{out}");
    refused(
        &[
            "election",
            "countersign",
            "--package",
            p(&package),
            "--key",
            p(&keys.join("auditor-3.key")),
        ],
        "signed more than once",
    );

    // A trust file that lists one key twice, under two names, is refused.
    let twice = d.join("twice.txt");
    std::fs::write(
        &twice,
        format!("quorum 2\nkey {authority}\nkey {}\n", auditors[0]),
    )
    .unwrap();
    ok(&[
        "election",
        "show",
        "--package",
        p(&package),
        "--trust",
        p(&twice),
    ]);
    std::fs::write(
        &twice,
        format!("quorum 2\nkey {}\nkey {}\n", auditors[0], auditors[0]),
    )
    .unwrap();
    refused(
        &[
            "election",
            "show",
            "--package",
            p(&package),
            "--trust",
            p(&twice),
        ],
        "same public key",
    );

    // A request with a bad signature.
    let bad = d.join("bad-requests");
    std::fs::create_dir_all(&bad).unwrap();
    for (i, (m, _)) in machines.iter().enumerate() {
        let mut r = std::fs::read_to_string(requests.join(format!("{m}.note"))).unwrap();
        if i == 1 {
            let at = r.rfind(' ').unwrap() + 40;
            let flipped = if &r[at..at + 1] == "A" { "B" } else { "A" };
            r.replace_range(at..at + 1, flipped);
        }
        std::fs::write(bad.join(format!("{m}.note")), r).unwrap();
    }
    let o = define(&bad, &d.join("x.note"));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && msg.contains("certificate request #2")
            && msg.contains("does not verify"),
        "{msg}"
    );

    // One machine key on two tables: machine 2's request carries machine 1's key.
    let stolen = d.join("stolen-requests");
    std::fs::create_dir_all(&stolen).unwrap();
    let m1_key =
        std::fs::read_to_string(d.join("machines").join(&machines[0].0).join("machine.key"))
            .unwrap();
    let m1 = acta_note::Signer::from_private_key(m1_key.trim()).unwrap();
    let seed = {
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(m1.to_private_key().splitn(5, '+').nth(4).unwrap())
            .unwrap();
        <[u8; 32]>::try_from(&raw[1..]).unwrap()
    };
    let as_m2 = acta_note::Signer::from_seed(&machines[1].0, seed).unwrap();
    let software = acta_election::CertRequest::open(
        &std::fs::read(requests.join(format!("{}.note", machines[0].0))).unwrap(),
    )
    .unwrap()
    .software;
    for (i, (m, _)) in machines.iter().enumerate() {
        let r = if i == 1 {
            acta_election::CertRequest {
                election: "SYN-4".into(),
                machine: m.clone(),
                key: as_m2.verifier(),
                software,
            }
            .sign(&as_m2)
        } else {
            std::fs::read_to_string(requests.join(format!("{m}.note"))).unwrap()
        };
        std::fs::write(stolen.join(format!("{m}.note")), r).unwrap();
    }
    let o = define(&stolen, &d.join("y.note"));
    let msg = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && msg.contains("same public key"),
        "{msg}"
    );

    // A station with its own key votes and signs; the center and the observer accept.
    let (m0, t0) = &machines[0];
    let st = d.join("station");
    ok(&[
        "station",
        "init",
        "--dir",
        p(&st),
        "--package",
        p(&package),
        "--trust",
        p(&trust),
        "--roll",
        p(&el.join("rolls").join(format!("{t0}.txt"))),
        "--key",
        p(&d.join("machines").join(m0).join("machine.key")),
        "--table",
        t0,
    ]);
    ok(&[
        "station",
        "open",
        "--dir",
        p(&st),
        "--at",
        "2026-12-06T10:00:00Z",
    ]);
    let roll = std::fs::read_to_string(el.join("rolls").join(format!("{t0}.txt"))).unwrap();
    let voter = roll.lines().find(|l| l.starts_with("voter ")).unwrap();
    let parts: Vec<&str> = voter.split(' ').collect();
    ok(&[
        "station",
        "auth",
        "--dir",
        p(&st),
        "--at",
        "2026-12-06T10:05:00Z",
        "--voter",
        parts[1],
        "--template",
        parts[2],
    ]);
    ok(&[
        "station",
        "vote",
        "--dir",
        p(&st),
        "--at",
        "2026-12-06T10:06:00Z",
        "--mark",
        "PRES=C1/PDA",
        "--mark",
        "REF=YES",
    ]);
    ok(&[
        "station",
        "close",
        "--dir",
        p(&st),
        "--at",
        "2026-12-06T22:00:00Z",
    ]);

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_acta"))
            .args([
                "center",
                "serve",
                "--package",
                p(&package),
                "--trust",
                p(&trust),
                "--key",
                p(&keys.join("center.key")),
                "--db",
                &format!("sqlite://{}", p(&d.join("center.db"))),
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .spawn()
            .unwrap(),
    );
    // Wait until the center listens (readiness, not timing).
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let sent = ok(&["station", "send", "--dir", p(&st), "--center", &url]);
    assert!(sent.contains("accepted"), "{sent}");
    let sent = ok(&["station", "send", "--dir", p(&st), "--center", &url]);
    assert!(sent.contains("already had"), "{sent}");
    let report = ok(&["observe", "--center", &url, "--trust", p(&trust)]);
    assert!(report.contains("VERDICT: consistent"), "{report}");
}
