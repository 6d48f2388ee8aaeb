//! The sequencer: one task that turns the pool into log entries, a batch
//! at a time, and answers each submitter only once its note is durable.

use std::sync::Weak;
use std::time::Duration;

use acta_api::{Outcome, Status};
use acta_sheet::{Content, Entry};
use acta_tlog::{Checkpoint, TlogProof};
use tokio::sync::{mpsc, oneshot};

use crate::store::{EntryRow, Store};
use crate::{absorb, totals, Center, Error, Inner, LogState};

/// What a submitter waits for.
pub(crate) enum Work {
    /// An authentic note to log.
    Note(Box<Entry>),
    /// The authority's announcement at the current size.
    Announce,
}

/// One waiting submission.
pub(crate) struct Pending {
    pub(crate) work: Work,
    pub(crate) reply: oneshot::Sender<Result<Done, Error>>,
}

/// The answer to one submission.
pub(crate) struct Done {
    pub(crate) outcome: Outcome,
    pub(crate) note: String,
    pub(crate) receipt: String,
}

pub(crate) fn spawn(
    center: Weak<Inner>,
    mut pool: mpsc::Receiver<Pending>,
    interval: Duration,
    max: usize,
) {
    tokio::spawn(async move {
        // Batches start at most once per interval: under load a batch starts
        // as soon as the last one is answered; when quiet, a lone submission
        // waits at most one interval for company.
        let mut last = tokio::time::Instant::now();
        while let Some(first) = pool.recv().await {
            tokio::time::sleep_until(last + interval).await;
            last = tokio::time::Instant::now();
            let mut batch = vec![first];
            while batch.len() < max {
                match pool.try_recv() {
                    Ok(p) => batch.push(p),
                    Err(_) => break,
                }
            }
            let Some(inner) = center.upgrade() else {
                return;
            };
            Center(inner).sequence(batch).await;
        }
    });
}

impl Center {
    /// Sequences, commits, witnesses and answers one batch.
    async fn sequence(&self, batch: Vec<Pending>) {
        let (works, replies): (Vec<Work>, Vec<_>) =
            batch.into_iter().map(|p| (p.work, p.reply)).unzip();
        // The database lock first, then the view: a center waiting for
        // another center's commit does not block its own readers.
        let committed = match self.0.store.lock().await {
            Err(e) => Err(e),
            Ok((tx, head)) => {
                let mut state = self.0.state.write().await;
                let before = Snapshot::of(&state);
                let r = self.commit(&mut state, tx, head, works).await;
                if r.is_err() {
                    // The commit may or may not have landed; the next batch
                    // (or a read) catches up from what the database holds.
                    before.restore(&mut state);
                }
                r
            }
        };
        let (size, decided) = match committed {
            Ok(c) => c,
            Err(e) => return fail(replies, &e),
        };
        let checkpoint = match self.witness(size).await {
            Ok(c) => c,
            Err(e) => return fail(replies, &e),
        };
        let indices: Vec<u64> = decided.iter().map(|(o, _)| o.index()).collect();
        let proofs = self
            .0
            .state
            .read()
            .await
            .tree
            .inclusion_proofs(&indices, size);
        let proofs = match proofs {
            Ok(p) => p,
            Err(e) => {
                for r in replies {
                    let _ = r.send(Err(Error::Log(e.clone())));
                }
                return;
            }
        };
        for (((outcome, note), path), reply) in decided.into_iter().zip(proofs).zip(replies) {
            let receipt = TlogProof {
                extra: None,
                index: outcome.index(),
                path,
                checkpoint: checkpoint.clone(),
            }
            .to_text();
            // A submitter that went away simply does not hear the answer.
            let _ = reply.send(Ok(Done {
                outcome,
                note,
                receipt,
            }));
        }
    }

    /// One transaction, under the log lock `tx` already holds: catch up,
    /// decide, write, sign, commit.
    async fn commit(
        &self,
        state: &mut LogState,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        head: u64,
        works: Vec<Work>,
    ) -> Result<(u64, Vec<(Outcome, String)>), Error> {
        let store = &self.0.store;
        let mine = state.tree.size();
        if head < mine {
            return Err(Error::Corrupt(format!(
                "the database log has {head} entries but {mine} were committed"
            )));
        }
        if head > mine {
            let rows = store.entries_in(Some(&mut tx), mine, head).await?;
            absorb(state, &rows, mine)?;
        }
        // Never sign a checkpoint that does not extend the last one signed.
        let last = store.checkpoint_root(Some(&mut tx), head).await?;
        if last.as_deref() != Some(&acta_note::canon::to_hex(&state.tree.root())) {
            return Err(Error::Corrupt(format!(
                "the tree does not have the root of the stored checkpoint {head}; refusing to sign"
            )));
        }
        let mut decided = Vec::with_capacity(works.len());
        let mut rows: Vec<EntryRow> = Vec::new();
        let mut counted: Vec<(u64, Box<acta_sheet::Acta>)> = Vec::new();
        for work in works {
            let entry = match work {
                Work::Note(e) => *e,
                Work::Announce => {
                    // The totals must include this batch's entries so far.
                    flush(&mut tx, &mut rows, &mut counted).await?;
                    let size = state.tree.size();
                    let (c, held) = store
                        .counted(Some(&mut tx), &self.0.layout, "", size)
                        .await?;
                    let t = totals::totals(&self.0.election, &self.0.layout, "", size, &c, held);
                    let cp = Checkpoint {
                        origin: self.0.election.log_origin.clone(),
                        size,
                        root: state.tree.root(),
                    };
                    let note = totals::announcement(&self.0.election, cp, &t).sign(&self.0.key);
                    crate::fits(note.as_bytes())?;
                    Entry::open(note.as_bytes(), &self.0.election)?
                }
            };
            decided.push(decide(state, entry, &mut rows, &mut counted)?);
        }
        flush(&mut tx, &mut rows, &mut counted).await?;
        if state.tree.size() > head {
            let note = self.sign_checkpoint(&state.tree);
            Store::insert_checkpoint(
                &mut tx,
                state.tree.size(),
                &acta_note::canon::to_hex(&state.tree.root()),
                &note,
            )
            .await?;
        }
        tx.commit().await?;
        Ok((state.tree.size(), decided))
    }
}

/// Answers every submitter of a failed batch. Only corruption is final; any
/// other failure (the database went away, the commit's fate is unknown) is
/// worth resending: a resent note is logged once, whatever happened.
fn fail(replies: Vec<oneshot::Sender<Result<Done, Error>>>, e: &Error) {
    for r in replies {
        let _ = r.send(Err(match e {
            Error::Corrupt(m) => Error::Corrupt(m.clone()),
            other => Error::Unavailable(other.to_string()),
        }));
    }
}

/// Writes the rows decided so far.
async fn flush(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    rows: &mut Vec<EntryRow>,
    counted: &mut Vec<(u64, Box<acta_sheet::Acta>)>,
) -> Result<(), Error> {
    let refs: Vec<(u64, &acta_sheet::Acta)> =
        counted.iter().map(|(i, a)| (*i, a.as_ref())).collect();
    Store::insert_batch(tx, rows, &refs).await?;
    rows.clear();
    counted.clear();
    Ok(())
}

/// Decides one authentic note, adding it to the view and to the rows to
/// write if it is new.
fn decide(
    state: &mut LogState,
    entry: Entry,
    rows: &mut Vec<EntryRow>,
    counted: &mut Vec<(u64, Box<acta_sheet::Acta>)>,
) -> Result<(Outcome, String), Error> {
    let kind = entry.kind();
    let table = entry.table().unwrap_or_default().to_string();
    let note = String::from_utf8(entry.signed)
        .map_err(|_| Error::Corrupt("an opened note is UTF-8".into()))?;
    if let Some(&index) = state.bodies.get(&entry.body_hash) {
        return Ok((Outcome::Duplicate { index, table }, note));
    }
    let index = state.tree.size();
    let first = state.first.get(&(kind, table.clone())).copied();
    let (status, reasons, outcome) = match (&entry.content, first) {
        (_, Some(first)) => (
            Status::Conflict,
            vec![],
            Outcome::Conflict {
                index,
                first,
                table: table.clone(),
            },
        ),
        (Content::Acta { holds, .. }, None) if !holds.is_empty() => {
            let reasons: Vec<String> = holds.iter().map(|h| h.to_string()).collect();
            (
                Status::Held,
                reasons.clone(),
                Outcome::Held {
                    index,
                    table: table.clone(),
                    reasons,
                },
            )
        }
        (Content::Acta { .. }, None) => (
            Status::Counted,
            vec![],
            Outcome::Accepted {
                index,
                table: table.clone(),
            },
        ),
        (_, None) => (
            Status::Logged,
            vec![],
            Outcome::Logged {
                index,
                table: table.clone(),
            },
        ),
    };
    let leaf = acta_tlog::leaf_hash(note.as_bytes());
    state.add(leaf, entry.body_hash, kind, &table);
    if let (Status::Counted, Content::Acta { acta, .. }) = (status, entry.content) {
        counted.push((index, Box::new(acta)));
    }
    rows.push(EntryRow {
        index,
        leaf: acta_note::canon::to_hex(&leaf),
        body: acta_note::canon::to_hex(&entry.body_hash),
        kind,
        table,
        status,
        reason: reasons.join("; "),
        note: note.clone(),
    });
    Ok((outcome, note))
}

/// Enough of the view to undo a batch that did not commit.
struct Snapshot {
    size: u64,
}

impl Snapshot {
    fn of(state: &LogState) -> Snapshot {
        Snapshot {
            size: state.tree.size(),
        }
    }

    fn restore(self, state: &mut LogState) {
        let size = self.size;
        state.tree.truncate(size);
        state.bodies.retain(|_, &mut i| i < size);
        state.first.retain(|_, &mut i| i < size);
    }
}
