//! The key ceremony, run in memory exactly as the people of SYSTEM.md run it
//! with the `acta` commands — for the demo and the tests.
//!
//! 1. The center makes its log key (`acta keygen --name center`).
//! 2. Each machine makes its own key and prints a signed certificate request
//!    (`acta machine keygen`).
//! 3. The authority defines the package from its definition, the requests and
//!    the rolls, and signs it (`acta election define`).
//! 4. Each party auditor re-reads the package and countersigns those exact
//!    bytes with their own key (`acta election countersign`).
//!
//! Every key comes from the operating system's randomness: two ceremonies
//! over the same seed give the same election content and different keys.

use acta_election::{define, CertRequest, Election, Roll, Trust};
use acta_note::{Quorum, Signer};

use crate::generate::{generate, Content, Options};

/// Party auditors in a synthetic ceremony.
pub const AUDITORS: usize = 3;
/// Signatures the synthetic trust file requires (authority and two auditors).
pub const QUORUM: usize = 3;

/// Everything a ceremony produced, with every private key — which in a real
/// election would each stay with its owner.
#[derive(Debug, Clone)]
pub struct Ceremony {
    /// The election content the package was defined from.
    pub content: Content,
    /// The election.
    pub election: Election,
    /// The signed, countersigned package note.
    pub package: String,
    /// The trust file for verifiers.
    pub trust: Trust,
    /// The authority's key.
    pub authority: Signer,
    /// The party auditors' keys.
    pub auditors: Vec<Signer>,
    /// The center's log key.
    pub center: Signer,
    /// Each table's machine key, in table order.
    pub machines: Vec<Signer>,
    /// Each machine's signed certificate request, in table order.
    pub requests: Vec<String>,
}

/// The SHA-256 of the release that synthetic machines run.
pub fn software() -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(format!("acta-station {}", env!("CARGO_PKG_VERSION")).as_bytes()).into()
}

/// A machine makes its key and its signed certificate request.
pub fn machine_keygen(election: &str, machine: &str, software: [u8; 32]) -> (Signer, String) {
    let key = Signer::generate(machine).expect("operating system randomness");
    let request = CertRequest {
        election: election.to_string(),
        machine: machine.to_string(),
        key: key.verifier(),
        software,
    }
    .sign(&key);
    (key, request)
}

/// Runs the whole ceremony for a synthetic election with no witnesses.
pub fn run(opts: &Options) -> Ceremony {
    run_with_witnesses(opts, Vec::new(), 0)
}

/// Runs the ceremony for an election whose package names `witnesses`
/// (their cosignature keys and URLs, given by the parties that run them)
/// and needs `quorum` of their cosignatures on a public checkpoint.
pub fn run_with_witnesses(
    opts: &Options,
    witnesses: Vec<acta_election::Witness>,
    quorum: u32,
) -> Ceremony {
    let mut content = generate(opts);
    content.definition.witnesses = witnesses;
    content.definition.witness_quorum = quorum;
    let center = Signer::generate("center").expect("randomness");
    let authority = Signer::generate("authority").expect("randomness");
    let auditors: Vec<Signer> = (1..=AUDITORS)
        .map(|i| Signer::generate(&format!("auditor-{i}")).expect("randomness"))
        .collect();
    let software = software();
    content.definition.center_key = center.verifier().to_string();
    content.definition.software = acta_note::canon::to_hex(&software);
    // Every machine makes its own key at once, and every table's roll is
    // committed to independently: on every core.
    use rayon::prelude::*;
    let (machines, requests): (Vec<Signer>, Vec<String>) = content
        .definition
        .tables
        .par_iter()
        .map(|t| machine_keygen(&content.definition.id, &t.machine, software))
        .unzip();
    let rolls = (0..content.definition.tables.len())
        .into_par_iter()
        .map(|i| content.roll(i).0.commitment())
        .collect::<Vec<_>>();
    let request_bytes: Vec<Vec<u8>> = requests.iter().map(|r| r.as_bytes().to_vec()).collect();
    let election = define(&content.definition, &request_bytes, &rolls)
        .expect("a generated definition defines an election");
    let mut package = acta_note::sign(&election.to_text(), &[&authority]).expect("valid text");
    for a in &auditors {
        // Each auditor reviews the exact text before countersigning it.
        let text = acta_note::Note::parse(package.as_bytes())
            .expect("signed note")
            .text;
        Election::parse(text).expect("the auditor finds it well formed");
        package = acta_note::countersign(package.as_bytes(), a).expect("fresh key");
    }
    let mut verifiers = vec![authority.verifier()];
    verifiers.extend(auditors.iter().map(|a| a.verifier()));
    let trust = Trust {
        quorum: Quorum::new(verifiers, QUORUM).expect("distinct fresh keys"),
    };
    Ceremony {
        content,
        election,
        package,
        trust,
        authority,
        auditors,
        center,
        machines,
        requests,
    }
}

impl Ceremony {
    /// Table number `index`'s roll and clear override codes.
    pub fn roll(&self, index: usize) -> (Roll, Vec<String>) {
        self.content.roll(index)
    }

    /// Runs election day at table `index` through the real station code.
    pub fn day(&self, index: usize, sim_seed: u64) -> crate::simulate::TableDay {
        let (roll, codes) = self.roll(index);
        crate::simulate::run_table(
            &self.election,
            index,
            roll,
            &codes,
            self.machines[index].clone(),
            sim_seed,
        )
        .expect("a simulated day at a provisioned table runs")
        .1
    }

    /// The same day at a station kept on disk that crashes once, mid-vote,
    /// and is restarted from its directory ([`crate::simulate::Crash`]).
    pub fn day_crashing(
        &self,
        index: usize,
        sim_seed: u64,
        crash: &crate::simulate::Crash,
    ) -> Result<crate::simulate::TableDay, acta_station::Error> {
        let (roll, codes) = self.roll(index);
        let (station, day) = crate::simulate::run_table_crashing(
            &self.election,
            self.package.as_bytes(),
            &self.trust.to_text(),
            index,
            roll,
            &codes,
            self.machines[index].clone(),
            sim_seed,
            crash,
        )?;
        station.stop()?;
        Ok(day)
    }
}
