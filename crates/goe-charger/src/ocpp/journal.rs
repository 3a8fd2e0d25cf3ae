//! The durable queue of OCPP transaction messages (`ocpp-queue.jsonl` in the
//! charger's data directory): every StartTransaction, StopTransaction and
//! transaction MeterValues is on disk (fsync) before it is sent, and stays
//! there until the backend answered it, so none is lost across a crash or a
//! `kill -9`; after a restart the unanswered ones are sent again, in order.
//!
//! One JSON object per line: `{"rec":{…JournalRecord…}}` for a message,
//! `{"ack":seq,"tx":id}` for its answer. A torn last line (a crash during
//! the write) is ignored. When every record is answered the file is emptied.
//! The file is opened for each record, not held open.

use goe_ocpp::view::{JournalOp, JournalRecord};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};

/// The journal's file name inside the charger's data directory.
pub const FILE_NAME: &str = "ocpp-queue.jsonl";

/// Records are compacted away once this many answered ones piled up.
const COMPACT_AFTER: usize = 256;

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    pending: BTreeMap<u64, JournalRecord>,
    answered: usize,
    next_seq: u64,
}

/// What a journal holds when it is opened.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The unanswered records in delivery order; a record of a transaction
    /// whose start was answered carries the backend's `transactionId`.
    pub pending: Vec<JournalRecord>,
    /// The next sequence number.
    pub next_seq: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Line {
    Record { rec: JournalRecord },
    Ack { ack: u64, tx: Option<i64> },
}

impl Journal {
    /// Opens (or creates) the journal in `dir`.
    pub fn open(dir: &Path) -> io::Result<(Journal, Restored)> {
        let path = dir.join(FILE_NAME);
        let mut records = Vec::new();
        let mut acks = Vec::new();
        if let Ok(file) = File::open(&path) {
            for line in BufReader::new(file).lines() {
                let Ok(line) = line else { break };
                // a torn or foreign line ends what can be trusted
                let Ok(parsed) = serde_json::from_str::<Line>(&line) else {
                    break;
                };
                match parsed {
                    Line::Record { rec } => records.push(rec),
                    Line::Ack { ack, tx } => acks.push((ack, tx)),
                }
            }
        }
        let next_seq = records.iter().map(|r| r.seq + 1).max().unwrap_or(1);
        // the session's own replay: unanswered records, with the backend's
        // transactionId of an answered start filled in
        let pending = goe_ocpp::journal::replay(records, &acks);
        let mut journal = Journal {
            path,
            pending: pending.into_iter().map(|r| (r.seq, r)).collect(),
            answered: acks.len(),
            next_seq,
        };
        // rewrite without the answered records and any torn tail
        journal.compact()?;
        let restored = Restored {
            pending: journal.pending.values().cloned().collect(),
            next_seq: journal.next_seq,
        };
        Ok((journal, restored))
    }

    /// Makes `op` durable (written and fsynced) before returning.
    pub fn apply(&mut self, op: &JournalOp) -> io::Result<()> {
        let line = match op {
            JournalOp::Append(rec) => Line::Record { rec: rec.clone() },
            JournalOp::Ack {
                seq,
                transaction_id,
            } => Line::Ack {
                ack: *seq,
                tx: *transaction_id,
            },
        };
        let mut text = serde_json::to_string(&line).map_err(io::Error::other)?;
        text.push('\n');
        // opened per record: a fleet's chargers hold no descriptor for their
        // queue while it is idle (the fsync dominates the open anyway)
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.write_all(text.as_bytes())?;
        file.sync_data()?;
        match op {
            JournalOp::Append(rec) => {
                self.next_seq = self.next_seq.max(rec.seq + 1);
                self.pending.insert(rec.seq, rec.clone());
            }
            JournalOp::Ack { seq, .. } => {
                if self.pending.remove(seq).is_some() {
                    self.answered += 1;
                }
                if self.pending.is_empty() && self.answered >= COMPACT_AFTER {
                    self.compact()?;
                }
            }
        }
        Ok(())
    }

    /// How many records wait for an answer.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Rewrites the file with only the unanswered records (temp file, fsync,
    /// rename, directory fsync: never a moment without the pending ones).
    /// At run time only an empty queue is compacted, so no answered start
    /// whose id a pending record still needs is dropped.
    fn compact(&mut self) -> io::Result<()> {
        let tmp = self.path.with_extension("jsonl.tmp");
        {
            let mut out = File::create(&tmp)?;
            for rec in self.pending.values() {
                let line = Line::Record { rec: rec.clone() };
                let mut text = serde_json::to_string(&line).map_err(io::Error::other)?;
                text.push('\n');
                out.write_all(text.as_bytes())?;
            }
            out.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent()
            && let Ok(d) = File::open(dir)
        {
            d.sync_all()?;
        }
        self.answered = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(seq: u64, action: &str, local_tx: u64) -> JournalRecord {
        JournalRecord {
            seq,
            action: action.into(),
            payload: json!({"connectorId": 1}),
            local_tx: Some(local_tx),
        }
    }

    #[test]
    fn unanswered_records_survive_a_restart_in_order_with_known_ids() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, restored) = Journal::open(dir.path()).unwrap();
        assert_eq!(restored.pending, vec![]);
        assert_eq!(restored.next_seq, 1);
        j.apply(&JournalOp::Append(rec(1, "StartTransaction", 7)))
            .unwrap();
        j.apply(&JournalOp::Append(rec(2, "MeterValues", 7)))
            .unwrap();
        j.apply(&JournalOp::Ack {
            seq: 1,
            transaction_id: Some(4711),
        })
        .unwrap();
        j.apply(&JournalOp::Append(rec(3, "StopTransaction", 7)))
            .unwrap();
        drop(j);
        // a torn line from a crash in the middle of a write
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE_NAME))
            .unwrap();
        f.write_all(b"{\"rec\":{\"seq\":4,\"act").unwrap();
        drop(f);
        let (_, restored) = Journal::open(dir.path()).unwrap();
        let seqs: Vec<u64> = restored.pending.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [2, 3]);
        assert_eq!(restored.next_seq, 4);
        for r in &restored.pending {
            assert_eq!(r.payload["transactionId"], 4711, "{}", r.action);
        }
        // the rewrite dropped the answered start and the torn tail
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn an_answered_queue_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        for seq in 1..=COMPACT_AFTER as u64 {
            j.apply(&JournalOp::Append(rec(seq, "MeterValues", 1)))
                .unwrap();
            j.apply(&JournalOp::Ack {
                seq,
                transaction_id: None,
            })
            .unwrap();
        }
        assert_eq!(j.pending(), 0);
        let len = std::fs::metadata(dir.path().join(FILE_NAME)).unwrap().len();
        assert_eq!(len, 0);
        let (_, restored) = Journal::open(dir.path()).unwrap();
        assert_eq!(
            restored.next_seq, 1,
            "numbering restarts once all is answered"
        );
    }
}
