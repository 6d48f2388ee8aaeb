//! The outbox: sends the zero report and the acta to the center until each
//! is logged, and keeps the receipt (SYSTEM.md §7).
//!
//! Each attempt is journaled (`transmit <report> attempt <n>`, then
//! `failed <why>` or `logged <index>`). Between attempts the outbox waits
//! [`crate::serve::backoff`]: exponential from one second to a minute, with
//! jitter, or the center's `Retry-After` if longer. A resend is safe: the
//! center answers a duplicate with the receipt of the entry it already
//! logged. An answer counts only once its receipt — a C2SP `tlog-proof` —
//! verifies offline against the package's center key and log origin; the
//! receipt is then written next to the report (`zero.tlog-proof`,
//! `acta.tlog-proof`). A conflict (the center holds another acta for this
//! table) is logged as evidence and journaled as logged at its index.

use std::time::Duration;

use acta_api::{Client, ClientError, Outcome};
use acta_sheet::journal::{Report, Transmission};

use crate::serve::{backoff, App};
use crate::Phase;

/// The longest the outbox waits between two attempts, whatever it is told.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// What is still to send, if anything.
fn pending(app: &App) -> Option<(Report, String)> {
    app.station(|s, _| {
        let done = |r| matches!(s.transmission(r), Some(Transmission::Logged(_)));
        if s.phase() == Phase::Closed && !done(Report::Acta) {
            // The acta first: it carries everything the zero report does not.
            return s.signed_acta().map(|a| (Report::Acta, a));
        }
        if s.phase() != Phase::Ready && !done(Report::Zero) {
            return s.zero_report().map(|z| (Report::Zero, z));
        }
        None
    })
}

fn detail(e: &ClientError) -> String {
    let s = match e {
        ClientError::Network { .. } => "network: no answer".to_string(),
        ClientError::Busy { retry_after, .. } => {
            format!("center busy, retry after {}s", retry_after.as_secs())
        }
        other => other.to_string(),
    };
    detail_str(&s)
}

/// Sends one report once; returns the log index when its receipt verified.
async fn attempt(
    app: &App,
    client: &Client,
    report: Report,
    note: &str,
) -> Result<u64, (String, Option<Duration>)> {
    let path = match report {
        Report::Zero => acta_api::ZERO_REPORTS,
        Report::Acta => acta_api::ACTAS,
    };
    let s = client.submit(path, note.as_bytes()).await.map_err(|e| {
        let wait = match &e {
            ClientError::Busy { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        (detail(&e), wait)
    })?;
    let election = app.election();
    let key: acta_note::Verifier = election
        .center_key
        .parse()
        .map_err(|e| (format!("package center key: {e}"), None))?;
    let witnesses: Vec<_> = election
        .witness_keys()
        .map_err(|e| (format!("package witnesses: {e}"), None))?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // The receipt must carry the package's quorum of witness cosignatures:
    // a checkpoint only the center signed could be a view shown to this
    // station alone. Without the quorum the outbox asks again later (a
    // resend is answered with the receipt of the entry already logged).
    let need = election.witness_quorum as usize;
    let proof = acta_tlog::TlogProof::parse(&s.receipt)
        .map_err(|e| (detail_str(&format!("receipt unreadable: {e}")), None))?;
    proof
        .verify(
            note.as_bytes(),
            &key,
            &election.log_origin,
            &witnesses,
            need,
        )
        .map_err(|e| (detail_str(&format!("receipt does not verify: {e}")), None))?;
    match s.outcome {
        Outcome::Accepted { .. }
        | Outcome::Held { .. }
        | Outcome::Duplicate { .. }
        | Outcome::Conflict { .. } => {}
        other => return Err((detail_str(&format!("unexpected answer {other:?}")), None)),
    }
    // The index journaled is the one the proof proves, not the one the
    // answer claims.
    let index = proof.index;
    if let Some(dir) = app.station(|s, _| s.dir().map(|d| d.to_path_buf())) {
        let name = format!("{}.tlog-proof", report.as_str());
        crate::store::write_atomic(&dir.join(name), s.receipt.as_bytes())
            .map_err(|e| (detail_str(&e.to_string()), None))?;
    }
    Ok(index)
}

fn detail_str(s: &str) -> String {
    acta_sheet::journal::clean_detail(s)
}

/// Runs until the task is dropped: whenever a report is pending, sends it.
pub async fn run(app: App, center: String) {
    let client = Client::new(&center);
    let mut attempts: [u32; 2] = [0, 0];
    loop {
        let Some((report, note)) = pending(&app) else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        let k = matches!(report, Report::Acta) as usize;
        attempts[k] += 1;
        let n = attempts[k];
        app.station(|s, now| s.transmitted(now, report, Transmission::Attempt(n)))
            .ok();
        match attempt(&app, &client, report, &note).await {
            Ok(index) => {
                attempts[k] = 0;
                app.station(|s, now| s.transmitted(now, report, Transmission::Logged(index)))
                    .ok();
            }
            Err((why, wait)) => {
                let why = if why.is_empty() {
                    "unknown".to_string()
                } else {
                    why
                };
                app.station(|s, now| s.transmitted(now, report, Transmission::Failed(why)))
                    .ok();
                // A Retry-After is honoured up to the backoff's own cap, so
                // no answer can put the outbox to sleep for good.
                let pause = backoff(n).max(wait.unwrap_or_default().min(MAX_WAIT));
                tokio::time::sleep(pause).await;
            }
        }
    }
}
