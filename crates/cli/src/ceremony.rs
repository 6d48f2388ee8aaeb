//! The key ceremony, one command per person: keys made by whoever signs with
//! them, the package defined from a human-written definition and the
//! machines' certificate requests, countersigned by each auditor separately.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use acta_election::{CertRequest, Definition, Election, Roll, Trust};
use acta_note::Signer;
use anyhow::{bail, Context, Result};

/// `acta keygen`: a key for the authority, an auditor or the center.
#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Key name, e.g. `authority`, `auditor-pda`, `center`.
    #[arg(long)]
    name: String,
    /// Where to write the private key (created; never overwritten).
    #[arg(long)]
    out: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum MachineCmd {
    /// On the machine itself: make its key from the operating system's
    /// randomness (the private key never leaves DIR) and print a signed
    /// certificate request for the authority.
    Keygen {
        /// The machine's key directory.
        #[arg(long)]
        dir: PathBuf,
        /// Machine id, e.g. M000001.
        #[arg(long)]
        machine: String,
        /// Election id the machine is provisioned for.
        #[arg(long)]
        election: String,
        /// SHA-256 (hex) of the software release it runs; defaults to the
        /// hash of this very executable.
        #[arg(long)]
        software: Option<String>,
    },
}

/// Writes a private key file that must not exist yet, readable by its owner only.
pub fn write_secret(path: &Path, key: &Signer) -> Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(format!("{}\n", key.to_private_key()).as_bytes())?;
    Ok(())
}

pub fn read_key(path: &Path) -> Result<Signer> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Signer::from_private_key(text.lines().next().unwrap_or("").trim())
        .with_context(|| format!("{}: not a private key", path.display()))
}

pub fn keygen(a: KeygenArgs) -> Result<()> {
    let key = Signer::generate(&a.name)?;
    write_secret(&a.out, &key)?;
    println!("{}", key.verifier());
    eprintln!(
        "private key written to {}; publish the verifier key above",
        a.out.display()
    );
    Ok(())
}

/// SHA-256 of the running executable: the release this machine runs.
fn own_software() -> Result<String> {
    use sha2::Digest as _;
    let exe = std::env::current_exe()?;
    let bytes = std::fs::read(&exe).with_context(|| format!("reading {}", exe.display()))?;
    Ok(hex::encode(sha2::Sha256::digest(bytes)))
}

pub fn machine(cmd: MachineCmd) -> Result<()> {
    match cmd {
        MachineCmd::Keygen {
            dir,
            machine,
            election,
            software,
        } => {
            let software = match software {
                Some(s) => s,
                None => own_software()?,
            };
            let software = acta_note::canon::hex32(&software)
                .context("--software must be 64 lowercase hex digits")?;
            let key = Signer::generate(&machine)?;
            let request = CertRequest {
                election,
                machine,
                key: key.verifier(),
                software,
            };
            // Refuse ids the authority would refuse, before writing anything.
            CertRequest::parse(&request.to_text())?;
            write_secret(&dir.join("machine.key"), &key)?;
            let signed = request.sign(&key);
            std::fs::write(dir.join("request.note"), &signed)?;
            print!("{signed}");
            eprintln!(
                "key kept in {}; hand request.note to the authority",
                dir.join("machine.key").display()
            );
            Ok(())
        }
    }
}

/// Reads every file of a directory, sorted by name.
fn read_dir_sorted(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.is_file());
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p)?;
            Ok((p, b))
        })
        .collect()
}

pub fn define(
    definition: &Path,
    requests: &Path,
    rolls: &Path,
    authority_key: &Path,
    out: &Path,
) -> Result<()> {
    let def = Definition::parse(&std::fs::read_to_string(definition)?)?;
    let reqs: Vec<Vec<u8>> = read_dir_sorted(requests)?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let mut commitments = Vec::new();
    for (p, b) in read_dir_sorted(rolls)? {
        let text = String::from_utf8(b).with_context(|| format!("{}", p.display()))?;
        let roll = Roll::parse(&text).with_context(|| format!("{}", p.display()))?;
        commitments.push(roll.commitment());
    }
    let election = acta_election::define(&def, &reqs, &commitments)?;
    let authority = read_key(authority_key)?;
    let package = acta_note::sign(&election.to_text(), &[&authority])?;
    std::fs::write(out, &package)?;
    println!(
        "package {} defined: {} tables, {} machines certified, signed by {}; written to {}",
        election.id,
        election.tables.len(),
        reqs.len(),
        authority.name(),
        out.display()
    );
    println!(
        "next: each auditor runs `acta election countersign --package {}`",
        out.display()
    );
    Ok(())
}

pub fn countersign(package: &Path, key: &Path, trust: Option<&Path>) -> Result<()> {
    let bytes = std::fs::read(package)?;
    let note = acta_note::Note::parse(&bytes)?;
    // The auditor reviews what they sign: it must be a well-formed package.
    let e = Election::parse(note.text)?;
    let signer = read_key(key)?;
    let signed = acta_note::countersign(&bytes, &signer)?;
    std::fs::write(package, &signed)?;
    println!(
        "{} countersigned election {} ({} tables, software {})",
        signer.name(),
        e.id,
        e.tables.len(),
        e.software
    );
    if let Some(t) = trust {
        print_signers(&signed, &read_trust(t)?)?;
    }
    Ok(())
}

pub fn read_trust(path: &Path) -> Result<Trust> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Trust::parse(&text).with_context(|| format!("{}", path.display()))
}

fn print_signers(package: &str, trust: &Trust) -> Result<bool> {
    let (names, met) = trust.signers(package.as_bytes())?;
    println!(
        "signed by {} of the trusted keys ({}); quorum {} — {}",
        names.len(),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        trust.quorum.need,
        if met { "MET" } else { "NOT MET" }
    );
    Ok(met)
}

pub fn show(package: &Path, trust: &Path) -> Result<bool> {
    let bytes = std::fs::read_to_string(package)?;
    let trust = read_trust(trust)?;
    let note = acta_note::Note::parse(bytes.as_bytes())?;
    let e = Election::parse(note.text)?;
    println!("election  {} — {}", e.id, e.name);
    println!("schedule  {} to {}", e.opens, e.closes);
    println!(
        "tables    {}  registered {}",
        e.tables.len(),
        e.registered()
    );
    println!("software  {}", e.software);
    println!("log       {}", e.log_origin);
    println!("{:<10} {:<12} {:>6}  name", "contest", "kind", "seats");
    for c in &e.contests {
        println!(
            "{:<10} {:<12} {:>6}  {}",
            c.id,
            format!("{:?}", c.kind),
            c.seats,
            c.name
        );
    }
    print_signers(&bytes, &trust)
}

/// `acta election generate`: a synthetic election's content — the files an
/// authority would write by hand — for a center whose key is given.
pub fn generate(
    seed: u64,
    tables: usize,
    out: &Path,
    center_key: &str,
    software: Option<String>,
) -> Result<()> {
    if center_key.parse::<acta_note::Verifier>().is_err() {
        bail!("--center-key must be a verifier key (from `acta keygen --name center`)");
    }
    let mut c = acta_synth::generate::generate(&acta_synth::generate::Options { seed, tables });
    c.definition.center_key = center_key.to_string();
    c.definition.software = match software {
        Some(s) => s,
        None => own_software()?,
    };
    std::fs::create_dir_all(out.join("rolls"))?;
    std::fs::create_dir_all(out.join("override-codes"))?;
    std::fs::write(out.join("definition.json"), c.definition.to_text())?;
    let mut machines = BTreeMap::new();
    for (i, t) in c.definition.tables.iter().enumerate() {
        let (roll, codes) = c.roll(i);
        std::fs::write(
            out.join("rolls").join(format!("{}.txt", t.id)),
            roll.to_text(),
        )?;
        std::fs::write(
            out.join("override-codes").join(format!("{}.txt", t.id)),
            codes.join("\n") + "\n",
        )?;
        machines.insert(t.machine.clone(), t.id.clone());
    }
    let list: String = machines.iter().map(|(m, t)| format!("{m} {t}\n")).collect();
    std::fs::write(out.join("machines.txt"), list)?;
    println!(
        "election {}: {} tables; definition.json, rolls/, override-codes/ and machines.txt (machine → table) written to {}",
        c.definition.id,
        c.definition.tables.len(),
        out.display()
    );
    Ok(())
}
