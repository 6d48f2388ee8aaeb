//! The center as a client of its witnesses (C2SP tlog-witness
//! §"add-checkpoint"): each new checkpoint goes to every witness the
//! package names, with a consistency proof from the size that witness last
//! cosigned; their cosignatures are checked and stored with the checkpoint.

use acta_note::cosignature::{cosigners, CosignatureVerifier};
use acta_note::Note;
use acta_tlog::witness::AddCheckpoint;

use crate::{Center, Error};

/// The longest one batch waits for one witness, retries included.
const ASK_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);
/// How long a witness that failed to answer is left alone.
const RETRY_DOWN: std::time::Duration = std::time::Duration::from_secs(10);

impl Center {
    /// Gathers cosignatures on the checkpoint of `size` and returns it in
    /// its cosigned form (the center's note alone when no witness answers).
    pub(crate) async fn witness(&self, size: u64) -> Result<String, Error> {
        let (note, cosigned, count) = self
            .0
            .store
            .checkpoint_at(size)
            .await?
            .ok_or_else(|| Error::Corrupt(format!("no checkpoint stored for size {size}")))?;
        if self.0.witnesses.is_empty() || count >= self.0.witnesses.len() {
            return Ok(cosigned);
        }
        let mut asks = tokio::task::JoinSet::new();
        for (key, url) in self.0.witnesses.clone() {
            let center = self.clone();
            let note = note.clone();
            asks.spawn(async move { center.ask(&key, &url, size, &note).await });
        }
        // What is stored already, plus what came back now, one line per
        // witness: cosignatures gathered on different attempts add up.
        let mut lines: std::collections::BTreeMap<String, String> = cosigned
            .get(note.len()..)
            .unwrap_or("")
            .lines()
            .filter_map(|l| Some((witness_name(l)?.to_string(), l.to_string())))
            .collect();
        while let Some(r) = asks.join_next().await {
            if let Ok(Some(line)) = r {
                if let Some(name) = witness_name(&line) {
                    lines.entry(name.to_string()).or_insert(line);
                }
            }
        }
        if lines.len() <= count {
            return Ok(cosigned); // nothing new
        }
        let mut out = note;
        for l in lines.values() {
            out.push_str(l);
            out.push('\n');
        }
        self.0.store.set_cosigned(size, &out, lines.len()).await?;
        Ok(out)
    }

    /// One witness's cosignature line, if it gives a valid one in time. A
    /// witness that failed is not asked again for [`RETRY_DOWN`], so that an
    /// unreachable witness delays one batch, not every batch. A witness that
    /// already cosigned a newer checkpoint has not failed.
    async fn ask(
        &self,
        key: &CosignatureVerifier,
        url: &str,
        size: u64,
        note: &str,
    ) -> Option<String> {
        let view = self.view(url).await;
        let now = tokio::time::Instant::now();
        if view.down_until.is_some_and(|t| t > now) || view.cosigned > size {
            return None;
        }
        // A witness that answers slowly is as good as down for this batch.
        match tokio::time::timeout(ASK_DEADLINE, self.ask_once(key, url, size, note)).await {
            Ok(Answer::Cosigned(line)) => Some(line),
            Ok(Answer::Ahead) => None,
            Ok(Answer::Failed) | Err(_) => {
                self.update(url, |v| v.down_until = Some(now + RETRY_DOWN))
                    .await;
                None
            }
        }
    }

    async fn view(&self, url: &str) -> WitnessView {
        self.0
            .witness_views
            .lock()
            .await
            .get(url)
            .copied()
            .unwrap_or_default()
    }

    async fn update(&self, url: &str, f: impl FnOnce(&mut WitnessView)) {
        f(self
            .0
            .witness_views
            .lock()
            .await
            .entry(url.to_string())
            .or_default());
    }

    /// tlog-witness §"add-checkpoint", from the size the witness last
    /// cosigned; on 409 once more from the size it says it has.
    async fn ask_once(
        &self,
        key: &CosignatureVerifier,
        url: &str,
        size: u64,
        note: &str,
    ) -> Answer {
        let mut old = self.view(url).await.cosigned;
        for _ in 0..3 {
            if old > size {
                return Answer::Ahead;
            }
            let Ok(proof) = self.0.state.read().await.tree.consistency_proof(old, size) else {
                return Answer::Failed;
            };
            let body = AddCheckpoint {
                old,
                proof,
                checkpoint: note.to_string(),
            }
            .to_text();
            let sent = self
                .0
                .http
                .post(format!("{}/add-checkpoint", url.trim_end_matches('/')))
                .body(body)
                .send()
                .await;
            let Ok(r) = sent else {
                return Answer::Failed;
            };
            let status = r.status().as_u16();
            let Ok(text) = r.text().await else {
                return Answer::Failed;
            };
            match status {
                200 => {
                    let line = text.lines().find(|l| {
                        let joined = format!("{note}{l}\n");
                        Note::parse(joined.as_bytes())
                            .ok()
                            .and_then(|n| cosigners(&n, std::slice::from_ref(key)).ok())
                            .is_some_and(|by| by.len() == 1)
                    });
                    let Some(line) = line else {
                        return Answer::Failed;
                    };
                    self.update(url, |v| v.cosigned = v.cosigned.max(size))
                        .await;
                    return Answer::Cosigned(line.to_string());
                }
                409 => {
                    let Some(theirs) = acta_note::canon::decimal(text.trim_end_matches('\n'))
                    else {
                        return Answer::Failed;
                    };
                    old = theirs;
                    self.update(url, |v| v.cosigned = theirs).await;
                }
                _ => {
                    eprintln!(
                        "witness {url} refused the checkpoint of size {size}: HTTP {status}: {}",
                        text.trim()
                    );
                    return Answer::Failed;
                }
            }
        }
        Answer::Failed
    }
}

/// What the center knows of one witness.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WitnessView {
    /// The largest size it is known to have cosigned.
    pub(crate) cosigned: u64,
    /// Until when it is left alone after a failure.
    pub(crate) down_until: Option<tokio::time::Instant>,
}

/// How one request to a witness ended.
enum Answer {
    /// A valid cosignature line.
    Cosigned(String),
    /// It has cosigned a newer checkpoint: nothing to ask, nothing wrong.
    Ahead,
    /// No answer, a refusal, or an answer that is not a valid cosignature.
    Failed,
}

/// The key name of a signature line `— <name> <base64>`.
fn witness_name(line: &str) -> Option<&str> {
    line.strip_prefix("\u{2014} ")?.split(' ').next()
}

/// Every few seconds, asks the witnesses again for the latest checkpoint if
/// some have not cosigned it: after a crash or a witness outage the last
/// checkpoint of the night still becomes public with no new submission.
/// Several center processes may share one database, so each first catches
/// up with what the others committed: whichever process committed the last
/// entries, every process gets them witnessed within a few seconds.
pub(crate) fn spawn_rewitness(center: std::sync::Weak<crate::Inner>) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            let Some(inner) = center.upgrade() else {
                return;
            };
            let c = Center(inner);
            if c.0.witnesses.is_empty() {
                return;
            }
            // Other center processes sharing the database may have
            // committed entries this one has not read: catch up first, so
            // that whatever the log holds gets witnessed.
            let _ = c.catch_up().await;
            let size = c.size().await;
            let _ = c.witness(size).await;
        }
    });
}
