//! The entries of the public log, typed by the first line of their text
//! (the log carries exactly the signed notes it received):
//!
//! | first line | entry | signed by |
//! |---|---|---|
//! | `acta/v1` | a table's acta | the table's certified machine, alone |
//! | `zero/v1` | a table's zero report | the table's certified machine, alone |
//! | `acta-announcement/v1` | an announcement of totals at a checkpoint | the center |
//! | `acta-audit/v1` | a step of a post-election audit | the center |
//!
//! The identity of an entry is the SHA-256 of its text: a second note with
//! the same text (another signature over the same words) is the same entry.

use acta_election::Election;

use crate::{
    body_hash, Acta, Announcement, AuditNote, Error, Hold, ZeroReport, ANNOUNCEMENT_FORMAT,
    AUDIT_FORMAT,
};

/// What kind of entry a note is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum EntryKind {
    /// `acta/v1`.
    Acta,
    /// `zero/v1`.
    Zero,
    /// `acta-announcement/v1`.
    Announcement,
    /// `acta-audit/v1`.
    Audit,
}

impl EntryKind {
    /// Every kind.
    pub const ALL: [EntryKind; 4] = [
        EntryKind::Acta,
        EntryKind::Zero,
        EntryKind::Announcement,
        EntryKind::Audit,
    ];

    /// The first line of the text, which names the kind.
    pub fn first_line(self) -> &'static str {
        match self {
            EntryKind::Acta => "acta/v1",
            EntryKind::Zero => "zero/v1",
            EntryKind::Announcement => ANNOUNCEMENT_FORMAT,
            EntryKind::Audit => AUDIT_FORMAT,
        }
    }

    /// Short name, as stored and shown: `acta`, `zero`, `announcement`.
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Acta => "acta",
            EntryKind::Zero => "zero",
            EntryKind::Announcement => "announcement",
            EntryKind::Audit => "audit",
        }
    }

    /// Inverse of [`EntryKind::as_str`].
    pub fn parse(s: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind a signed note claims by its first line.
    pub fn of(signed: &[u8]) -> Option<EntryKind> {
        let first = signed.split(|&b| b == b'\n').next()?;
        EntryKind::ALL
            .into_iter()
            .find(|k| k.first_line().as_bytes() == first)
    }
}

/// What an authentic log entry says.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Content {
    /// An acta, with why it is held if it is.
    Acta {
        /// The acta.
        acta: Acta,
        /// Why it cannot be counted; empty when it counts.
        holds: Vec<Hold>,
    },
    /// A zero report.
    Zero(ZeroReport),
    /// An announcement.
    Announcement(Announcement),
    /// A step of an audit.
    Audit(AuditNote),
}

/// An authentic log entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The signed note, byte for byte.
    pub signed: Vec<u8>,
    /// SHA-256 of the note text: the entry's identity.
    pub body_hash: [u8; 32],
    /// What it says.
    pub content: Content,
}

impl Entry {
    /// The kind of entry.
    pub fn kind(&self) -> EntryKind {
        match self.content {
            Content::Acta { .. } => EntryKind::Acta,
            Content::Zero(_) => EntryKind::Zero,
            Content::Announcement(_) => EntryKind::Announcement,
            Content::Audit(_) => EntryKind::Audit,
        }
    }

    /// The table it speaks for (none for an announcement or an audit step).
    pub fn table(&self) -> Option<&str> {
        match &self.content {
            Content::Acta { acta, .. } => Some(&acta.table),
            Content::Zero(z) => Some(&z.table),
            Content::Announcement(_) | Content::Audit(_) => None,
        }
    }

    /// Opens a signed note as a log entry of the kind its first line names,
    /// with that kind's own rules ([`Acta::open`], [`ZeroReport::open`],
    /// [`Announcement::open`], [`AuditNote::open`]).
    pub fn open(signed: &[u8], election: &Election) -> Result<Entry, Error> {
        let kind = EntryKind::of(signed).ok_or_else(|| {
            crate::text::syntax(
                1,
                "first line must be acta/v1, zero/v1, acta-announcement/v1 or acta-audit/v1",
            )
        })?;
        if kind == EntryKind::Acta {
            // The hot path (one per table): the acta's opening already
            // parsed the note and hashed its body.
            let o = Acta::open(signed, election)?;
            return Ok(Entry {
                body_hash: o.body_hash,
                signed: o.signed,
                content: Content::Acta {
                    acta: o.acta,
                    holds: o.holds,
                },
            });
        }
        let text = acta_note::Note::parse(signed)?.text;
        let content = match kind {
            EntryKind::Acta => unreachable!("opened above"),
            EntryKind::Zero => Content::Zero(ZeroReport::open(signed, election)?),
            EntryKind::Announcement => Content::Announcement(Announcement::open(signed, election)?),
            EntryKind::Audit => Content::Audit(AuditNote::open(signed, election)?),
        };
        Ok(Entry {
            signed: signed.to_vec(),
            body_hash: body_hash(text),
            content,
        })
    }
}
