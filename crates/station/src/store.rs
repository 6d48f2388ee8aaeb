//! The station's directory: what is on the disk, and in which order it is
//! written so that a `kill -9` at any instant loses no confirmed ballot and
//! counts none twice.
//!
//! | file | written | holds |
//! |---|---|---|
//! | `package.note`, `trust.txt`, `roll.txt`, `machine.key` | once, at provisioning | what the machine was given |
//! | `journal.log` | appended and fsynced per event | the public journal ([`acta_sheet::journal`]) |
//! | `poll-book.log` | appended and fsynced per authentication | private: who was authenticated, with which template and override code |
//! | `ballots.slots` | one slot written and fsynced per ballot | the ballot records |
//! | `in-use` | created at start, removed at a clean stop | its presence at start means the last run died |
//! | `zero.note`, `acta.note`, `*.tlog-proof` | written atomically | signed reports and receipts |
//!
//! **Ballot slots.** `ballots.slots` is allocated at provisioning as one
//! fixed-size slot per registered voter, all zero. A ballot goes into a slot
//! drawn uniformly at random among the empty ones: `SHA-256(record) ‖
//! u16-le length ‖ record ‖ zero padding`. So one copy of the disk shows the
//! set of ballots and nothing of the order in which they were cast, and the
//! file never grows or moves. A slot whose hash does not match is either the
//! torn write of a ballot that was never confirmed or an edit.
//!
//! **Write order.** Authentication: poll book, then journal. Ballot: slot,
//! then journal. An operation is confirmed (the receipt prints) only after
//! both are on disk. On start, a poll-book line without its journal line, a
//! torn last line, or a torn slot are the traces of an operation that never
//! returned and are dropped; a complete slot without its journal line is the
//! ballot of the voter who was waiting, and its journal line is written then.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::Error;

pub(crate) const JOURNAL: &str = "journal.log";
pub(crate) const POLL_BOOK: &str = "poll-book.log";
pub(crate) const SLOTS: &str = "ballots.slots";
pub(crate) const IN_USE: &str = "in-use";
const HEADER: usize = 34;

pub(crate) fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Io(format!("{}: {e}", path.display()))
}

/// An open append-only file that is fsynced after every line.
#[derive(Debug)]
pub(crate) struct AppendLog {
    path: PathBuf,
    file: File,
}

impl AppendLog {
    /// Opens (creating if needed) and returns the complete lines; a last line
    /// without its newline was never acknowledged and is cut off.
    pub(crate) fn open(path: PathBuf) -> Result<(AppendLog, String), Error> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|e| io(&path, e))?;
        let keep = text.rfind('\n').map_or(0, |i| i + 1);
        if keep != text.len() {
            file.set_len(keep as u64).map_err(|e| io(&path, e))?;
            file.sync_data().map_err(|e| io(&path, e))?;
            text.truncate(keep);
        }
        Ok((AppendLog { path, file }, text))
    }

    /// Takes the exclusive lock that one running station holds on its
    /// directory, for as long as this file is open.
    pub(crate) fn lock(&self) -> Result<(), Error> {
        self.file.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => Error::Io(format!(
                "{}: another process is running this station",
                self.path.display()
            )),
            std::fs::TryLockError::Error(e) => io(&self.path, e),
        })
    }

    pub(crate) fn append(&mut self, line: &str) -> Result<(), Error> {
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.file
            .write_all(&bytes)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| io(&self.path, e))
    }

    /// Cuts the file back to `len` bytes (dropping an unacknowledged line).
    pub(crate) fn truncate(&mut self, len: u64) -> Result<(), Error> {
        self.file
            .set_len(len)
            .and_then(|_| self.file.sync_data())
            .map_err(|e| io(&self.path, e))
    }
}

/// What a slot holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Empty,
    Record(String),
    /// Non-zero bytes that are not a whole record.
    Torn,
}

/// The ballot slots file.
#[derive(Debug)]
pub(crate) struct Slots {
    path: PathBuf,
    file: File,
    size: usize,
}

impl Slots {
    pub(crate) fn create(path: PathBuf, count: usize, size: usize) -> Result<(), Error> {
        let mut f = File::create(&path).map_err(|e| io(&path, e))?;
        let zeros = vec![0u8; size];
        for _ in 0..count {
            f.write_all(&zeros).map_err(|e| io(&path, e))?;
        }
        f.sync_all().map_err(|e| io(&path, e))
    }

    pub(crate) fn open(path: PathBuf, size: usize) -> Result<(Slots, Vec<Slot>), Error> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|e| io(&path, e))?;
        if bytes.len() % size != 0 {
            return Err(Error::Io(format!(
                "{}: {} bytes is not a whole number of {size}-byte slots",
                path.display(),
                bytes.len()
            )));
        }
        let slots = bytes.chunks(size).map(decode).collect::<Vec<_>>();
        Ok((Slots { path, file, size }, slots))
    }

    /// Writes `record` (or zeros, when `None`) into slot `i` and fsyncs.
    pub(crate) fn write(&mut self, i: usize, record: Option<&str>) -> Result<(), Error> {
        let mut buf = vec![0u8; self.size];
        if let Some(r) = record {
            let r = r.as_bytes();
            if r.len() > self.size - HEADER {
                return Err(Error::Ballot(format!(
                    "ballot record of {} bytes does not fit a {}-byte slot",
                    r.len(),
                    self.size
                )));
            }
            buf[..32].copy_from_slice(&Sha256::digest(r));
            buf[32..34].copy_from_slice(&(r.len() as u16).to_le_bytes());
            buf[HEADER..HEADER + r.len()].copy_from_slice(r);
        }
        self.file
            .seek(SeekFrom::Start((i * self.size) as u64))
            .and_then(|_| self.file.write_all(&buf))
            .and_then(|_| self.file.sync_data())
            .map_err(|e| io(&self.path, e))
    }
}

pub(crate) fn decode(slot: &[u8]) -> Slot {
    if slot.iter().all(|&b| b == 0) {
        return Slot::Empty;
    }
    let len = u16::from_le_bytes([slot[32], slot[33]]) as usize;
    if len == 0 || HEADER + len > slot.len() {
        return Slot::Torn;
    }
    let record = &slot[HEADER..HEADER + len];
    if Sha256::digest(record)[..] != slot[..32] || slot[HEADER + len..].iter().any(|&b| b != 0) {
        return Slot::Torn;
    }
    match std::str::from_utf8(record) {
        Ok(s) => Slot::Record(s.to_string()),
        Err(_) => Slot::Torn,
    }
}

/// The slot size for a ballot: the longest record it can produce plus the
/// header, rounded up to 64 bytes, so every slot looks alike.
pub(crate) fn slot_size(contests: &[acta_election::Contest]) -> usize {
    let mut longest = "ballot/v1\n".len();
    for c in contests {
        let mut choices: Vec<usize> = c.choices().iter().map(|x| x.len() + 1).collect();
        choices.sort_unstable_by(|a, b| b.cmp(a));
        let marks: usize = choices.iter().take(c.max_marks() as usize).sum();
        longest += c.id.len() + 1 + marks.max("blank,".len()) + 1;
    }
    (HEADER + longest).div_ceil(64) * 64
}

/// Writes a small file atomically: temp file, fsync, rename, fsync the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
    if let Some(dir) = path.parent() {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
