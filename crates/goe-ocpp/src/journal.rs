//! Replaying the durable transaction queue after a restart: the records not
//! yet acknowledged, with the backend's transaction ids filled in where a
//! StartTransaction was acknowledged before the crash but its
//! StopTransaction/MeterValues were not sent yet.

use std::collections::HashMap;

use crate::view::JournalRecord;

/// `records`: every appended record (any order); `acks`: every Ack as
/// (seq, transaction_id). Returns the unacknowledged records in seq order,
/// ready for [`crate::session::Session::new`].
pub fn replay(mut records: Vec<JournalRecord>, acks: &[(u64, Option<i64>)]) -> Vec<JournalRecord> {
    records.sort_by_key(|r| r.seq);
    let acked: HashMap<u64, Option<i64>> = acks.iter().copied().collect();
    let mut tx_ids: HashMap<u64, i64> = HashMap::new();
    for r in &records {
        if r.action == "StartTransaction"
            && let (Some(local), Some(Some(id))) = (r.local_tx, acked.get(&r.seq))
        {
            tx_ids.insert(local, *id);
        }
    }
    records
        .into_iter()
        .filter(|r| !acked.contains_key(&r.seq))
        .map(|mut r| {
            if r.action != "StartTransaction"
                && let (Some(local), Some(obj)) = (r.local_tx, r.payload.as_object_mut())
                && !obj.contains_key("transactionId")
                && let Some(id) = tx_ids.get(&local)
            {
                obj.insert("transactionId".into(), (*id).into());
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(seq: u64, action: &str, local: u64) -> JournalRecord {
        JournalRecord {
            seq,
            action: action.into(),
            payload: json!({"meterStop": 1}),
            local_tx: Some(local),
        }
    }

    #[test]
    fn fills_ids_of_acknowledged_starts_and_drops_acked_records() {
        let out = replay(
            vec![
                rec(3, "StopTransaction", 1),
                rec(1, "StartTransaction", 1),
                rec(2, "MeterValues", 1),
                rec(4, "StartTransaction", 4),
            ],
            &[(1, Some(77)), (2, None)],
        );
        assert_eq!(out.iter().map(|r| r.seq).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(out[0].payload["transactionId"], 77);
        assert_eq!(out[1].payload.get("transactionId"), None);
    }
}
