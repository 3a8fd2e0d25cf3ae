//! Whole sessions played in-process against a fake CSMS (the test answers
//! the charge point's CALLs and sends its own), on simulated time.

use serde_json::{Value, json};

use super::*;
use crate::config::tests::view;
use crate::view::CardSwipe;

/// The charge point under test plus what it did.
struct Cp {
    s: Session,
    v: ChargerView,
    /// Every frame sent, parsed.
    frames: Vec<Value>,
    journal: Vec<JournalOp>,
    commands: Vec<Command>,
    keys: Vec<(&'static str, Value)>,
    /// Every output in order (for ordering checks).
    log: Vec<Output>,
    /// Ids of CALLs answered already.
    answered: Vec<String>,
}

impl Cp {
    fn new() -> Cp {
        Cp::with(Vec::new())
    }

    fn with(queued: Vec<JournalRecord>) -> Cp {
        Cp {
            s: Session::new(SessionOptions::default(), queued, 0),
            v: view(),
            frames: Vec::new(),
            journal: Vec::new(),
            commands: Vec::new(),
            keys: Vec::new(),
            log: Vec::new(),
            answered: Vec::new(),
        }
    }

    fn take(&mut self, outs: Vec<Output>) {
        for o in outs {
            match &o {
                Output::Send(text) => self
                    .frames
                    .push(serde_json::from_str(text).expect("valid JSON")),
                Output::Journal(op) => self.journal.push(op.clone()),
                Output::Command(c) => self.commands.push(c.clone()),
                Output::Keys(k) => self.keys.extend(k.iter().cloned()),
                Output::Close => {}
            }
            self.log.push(o);
        }
    }

    fn connect(&mut self) {
        let v = self.v.clone();
        let o = self.s.connected(&v);
        self.take(o);
    }

    fn close(&mut self) {
        let v = self.v.clone();
        let o = self.s.closed(&v);
        self.take(o);
    }

    fn recv(&mut self, text: &str) {
        let v = self.v.clone();
        let o = self.s.received(text, &v);
        self.take(o);
    }

    fn tick(&mut self) {
        let v = self.v.clone();
        let o = self.s.tick(&v);
        self.take(o);
    }

    /// Advances simulated time second by second.
    fn advance(&mut self, secs: i64) {
        for _ in 0..secs {
            self.v.utc_ms += 1000;
            self.v.rbt_ms += 1000;
            self.tick();
        }
    }

    /// The last frame sent.
    fn last(&self) -> &Value {
        self.frames.last().expect("a frame")
    }

    /// The outstanding CALL (the last frame, which must be a CALL).
    fn call(&self) -> (String, String, Value) {
        assert!(self.outstanding(), "no outstanding CALL: {}", self.last());
        let f = self.last_call().unwrap();
        (
            f[1].as_str().unwrap().into(),
            f[2].as_str().unwrap().into(),
            f[3].clone(),
        )
    }

    /// Answers the outstanding CALL.
    fn answer(&mut self, payload: Value) {
        let (id, _, _) = self.call();
        self.answered.push(id.clone());
        self.recv(&json!([3, id, payload]).to_string());
    }

    /// Answers the outstanding CALL with a CALLERROR.
    fn fail(&mut self) {
        let (id, _, _) = self.call();
        self.answered.push(id.clone());
        self.recv(&json!([4, id, "InternalError", "busy", {}]).to_string());
    }

    /// The connection closed: no CALL is outstanding any more.
    fn forget(&mut self) {
        let ids: Vec<String> = self
            .frames
            .iter()
            .filter(|f| f[0] == 2)
            .filter_map(|f| f[1].as_str().map(str::to_owned))
            .collect();
        self.answered.extend(ids);
    }

    /// A CALL of ours is unanswered.
    fn outstanding(&self) -> bool {
        self.last_call()
            .is_some_and(|f| !self.answered.iter().any(|a| f[1] == a.as_str()))
    }

    /// Our last CALL (not an answer to the backend).
    fn last_call(&self) -> Option<&Value> {
        self.frames.iter().rev().find(|f| f[0] == 2)
    }

    /// Boot, accept, and answer the two StatusNotifications.
    fn accepted(&mut self) {
        self.connect();
        assert_eq!(self.call().1, "BootNotification");
        self.answer(
            json!({"currentTime": "2023-11-14T22:13:20Z", "interval": 60, "status": "Accepted"}),
        );
        self.answer_all();
    }

    /// Answers CALLs with `{}` (or a StartTransaction.conf) until none is
    /// outstanding; returns their actions.
    fn answer_all(&mut self) -> Vec<String> {
        let mut actions = Vec::new();
        while self.outstanding() {
            let (_, action, _) = self.call();
            let payload = match action.as_str() {
                "StartTransaction" => {
                    json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 42})
                }
                "Authorize" => json!({"idTagInfo": {"status": "Accepted"}}),
                "Heartbeat" => json!({"currentTime": "2023-11-14T22:13:20Z"}),
                _ => json!({}),
            };
            actions.push(action);
            self.answer(payload);
        }
        actions
    }

    /// Answers other CALLs with defaults until `action` is the outstanding
    /// one; returns its payload.
    fn until(&mut self, action: &str) -> Value {
        for _ in 0..20 {
            let (_, a, p) = self.call();
            if a == action {
                return p;
            }
            let payload = if a == "Heartbeat" {
                json!({"currentTime": "2023-11-14T22:13:20Z"})
            } else {
                json!({})
            };
            self.answer(payload);
        }
        panic!("{action} never came");
    }

    /// The backend calls the charge point; returns its answer frame.
    fn csms(&mut self, action: &str, payload: Value) -> Value {
        let before = self.frames.len();
        self.recv(&json!([2, "cs-1", action, payload]).to_string());
        let answer = self.frames[before..]
            .iter()
            .find(|f| f[1] == "cs-1")
            .cloned()
            .expect("an answer");
        assert_eq!(self.frames[before][1], "cs-1", "the answer goes first");
        answer
    }

    fn actions_since(&self, from: usize) -> Vec<String> {
        self.frames[from..]
            .iter()
            .filter(|f| f[0] == 2)
            .map(|f| f[2].as_str().unwrap().to_owned())
            .collect()
    }

    fn key(&self, name: &str) -> Option<&Value> {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }
}

#[test]
fn boot_notification_is_the_go_e_one_and_statuses_follow_the_accept() {
    let mut cp = Cp::new();
    cp.connect();
    assert_eq!(
        serde_json::to_string(cp.last()).unwrap(),
        r#"[2,"531531531","BootNotification",{"chargePointVendor":"go-e","chargePointModel":"go-eCharger_V4","chargePointSerialNumber":"237512","firmwareVersion":"60.5"}]"#
    );
    assert!(!cp.s.accepted());
    cp.answer(
        json!({"currentTime": "2023-11-14T22:13:20.000Z", "interval": 120, "status": "Accepted"}),
    );
    assert!(cp.s.accepted());
    assert!(cp.commands.contains(&Command::SetKey {
        key: "ocpph",
        json: "120".into()
    }));
    let (id, action, payload) = cp.call();
    assert_eq!(
        (id.as_str(), action.as_str()),
        ("531531532", "StatusNotification")
    );
    assert_eq!(
        payload,
        json!({"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": "2023-11-14T22:13:20.000Z"})
    );
    cp.answer(json!({}));
    assert_eq!(cp.call().2["connectorId"], 1);
    cp.answer(json!({}));
    assert_eq!(cp.key("ocppa"), Some(&json!(true)));
    assert_eq!(cp.key("ocppaa"), Some(&json!(10_000)));
    assert_eq!(cp.key("ocppcs"), Some(&json!(0)));
}

#[test]
fn pending_and_rejected_wait_for_the_interval() {
    let mut cp = Cp::new();
    cp.connect();
    cp.answer(json!({"currentTime": "2023-11-14T22:13:20Z", "interval": 10, "status": "Pending"}));
    let n = cp.frames.len();
    cp.v.car = 3; // a status change must not be reported while Pending
    cp.advance(9);
    assert_eq!(cp.frames.len(), n, "nothing before the interval");
    // While Pending the backend may call, and trigger messages.
    let answer = cp.csms("TriggerMessage", json!({"requestedMessage": "Heartbeat"}));
    assert_eq!(answer[2], json!({"status": "Accepted"}));
    assert_eq!(cp.call().1, "Heartbeat");
    cp.answer(json!({"currentTime": "2023-11-14T22:13:20Z"}));
    cp.advance(1);
    assert_eq!(cp.call().1, "BootNotification");
    cp.answer(json!({"currentTime": "2023-11-14T22:13:20Z", "interval": 0, "status": "Rejected"}));
    let n = cp.frames.len();
    cp.advance(59);
    assert_eq!(cp.frames.len(), n, "interval 0 → our 60 s");
    cp.advance(1);
    assert_eq!(cp.call().1, "BootNotification");
    cp.answer(json!({"currentTime": "2023-11-14T22:13:20Z", "interval": 60, "status": "Accepted"}));
    assert_eq!(
        cp.answer_all(),
        ["StatusNotification", "StatusNotification"]
    );
}

#[test]
fn a_lenient_boot_answer_is_accepted_and_a_garbled_one_retried() {
    let mut cp = Cp::new();
    cp.connect();
    cp.answer(json!({"status": "Acepted"}));
    assert!(!cp.s.accepted());
    cp.advance(60);
    assert_eq!(cp.call().1, "BootNotification");
    cp.answer(json!({"status": "Accepted", "interval": 300}));
    assert!(cp.s.accepted());
}

#[test]
fn heartbeat_every_interval_of_silence() {
    let mut cp = Cp::new();
    cp.accepted();
    let n = cp.frames.len();
    cp.advance(59);
    assert_eq!(cp.frames.len(), n);
    cp.advance(1);
    assert_eq!(
        cp.call(),
        ("531531534".into(), "Heartbeat".into(), json!({}))
    );
    cp.answer(json!({"currentTime": "2023-11-14T22:13:20Z"}));
    // ChangeConfiguration shortens it at once.
    let a = cp.csms(
        "ChangeConfiguration",
        json!({"key": "HeartbeatInterval", "value": "5"}),
    );
    assert_eq!(a[2], json!({"status": "Accepted"}));
    assert!(cp.commands.contains(&Command::SetKey {
        key: "ocpph",
        json: "5".into()
    }));
    cp.advance(5);
    assert_eq!(cp.call().1, "Heartbeat");
}

/// Plug, card, Authorize, StartTransaction, meter values, a profile halving
/// the current, remote stop, unplug.
#[test]
fn a_whole_session() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.car = 3;
    cp.tick();
    assert_eq!(cp.call().2["status"], "Preparing");
    cp.answer_all();

    cp.v.swipe = Some(CardSwipe {
        seq: 1,
        id_tag: "card-1".into(),
    });
    cp.tick();
    assert_eq!(cp.call().1, "Authorize");
    assert_eq!(cp.call().2, json!({"idTag": "card-1"}));
    cp.answer(json!({"idTagInfo": {"status": "Accepted"}}));
    assert_eq!(
        cp.commands.last(),
        Some(&Command::Authorize {
            id_tag: "card-1".into()
        })
    );

    // The engine authorizes: trx set → StartTransaction, journaled first.
    cp.v.trx = Some(1);
    let at = cp.log.len();
    cp.tick();
    let payload = cp.until("StartTransaction");
    let append = cp.log[at..]
        .iter()
        .position(|o| matches!(o, Output::Journal(JournalOp::Append(_))))
        .unwrap();
    let send = cp.log[at..]
        .iter()
        .position(|o| matches!(o, Output::Send(t) if t.contains("StartTransaction")))
        .unwrap();
    assert!(append < send, "durable before sent");
    assert_eq!(
        payload,
        json!({"connectorId": 1, "idTag": "card-1", "meterStart": 165_333, "timestamp": "2023-11-14T22:13:20.000Z"})
    );
    cp.answer(json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 42}));
    assert!(cp.journal.contains(&JournalOp::Ack {
        seq: 0,
        transaction_id: Some(42)
    }));
    assert_eq!(cp.key("ocppti"), Some(&json!(42)));
    cp.answer_all();
    assert_eq!(
        cp.frames
            .iter()
            .rev()
            .find(|f| f[2] == "StatusNotification")
            .unwrap()[3]["status"],
        "SuspendedEVSE"
    );

    // Charging.
    cp.v.car = 2;
    cp.v.allowed = true;
    cp.v.nrg[4..7].copy_from_slice(&[16.0, 16.0, 16.0]);
    cp.tick();
    assert_eq!(cp.call().2["status"], "Charging");
    cp.answer_all();
    assert_eq!(cp.key("ocppcs"), Some(&json!(2)));

    // MeterValues after MeterValueSampleInterval (60 s), in the journal.
    cp.v.energy_wh += 100.0;
    let n = cp.frames.len();
    cp.advance(60);
    assert_eq!(cp.actions_since(n), ["MeterValues"]);
    let (_, _, mv) = cp.call();
    assert_eq!(mv["transactionId"], 42);
    assert_eq!(
        mv["meterValue"][0]["sampledValue"][0],
        json!({"value": "16.00", "measurand": "Current.Import", "unit": "A", "phase": "L1"})
    );
    assert!(matches!(cp.journal.last(), Some(JournalOp::Append(r)) if r.action == "MeterValues"));
    cp.answer(json!({}));

    // A TxProfile halving the current.
    let a = cp.csms(
        "SetChargingProfile",
        json!({"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 7, "transactionId": 42, "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}]}}}),
    );
    assert_eq!(a[2], json!({"status": "Accepted"}));
    assert_eq!(
        cp.commands.last(),
        Some(&Command::Limit(Some(Limit {
            amps: 8.0,
            phases: None
        })))
    );
    assert_eq!(cp.key("ocpptp").unwrap()[0]["chargingProfileId"], 7);

    // Remote stop.
    assert_eq!(
        cp.csms("RemoteStopTransaction", json!({"transactionId": 41}))[2],
        json!({"status": "Rejected"})
    );
    let a = cp.csms("RemoteStopTransaction", json!({"transactionId": 42}));
    assert_eq!(a[2], json!({"status": "Accepted"}));
    assert!(cp.commands.contains(&Command::Deauthorize));
    assert_eq!(
        cp.commands.last(),
        Some(&Command::Limit(None)),
        "the TxProfile ended with the transaction"
    );
    let stop = cp.until("StopTransaction");
    assert_eq!(
        stop,
        json!({"meterStop": 165_433, "timestamp": "2023-11-14T22:14:20.000Z", "transactionId": 42, "reason": "Remote"})
    );
    cp.answer(json!({}));
    cp.v.trx = None;
    cp.v.car = 3;
    cp.v.allowed = false;
    cp.tick();
    assert_eq!(cp.call().2["status"], "Finishing");
    cp.answer_all();
    cp.advance(5);
    let starts = cp
        .actions_since(0)
        .iter()
        .filter(|a| *a == "StartTransaction")
        .count();
    assert_eq!(starts, 1, "no second transaction");

    // Unplug.
    cp.v.car = 1;
    cp.tick();
    assert_eq!(cp.call().2["status"], "Available");
    cp.answer_all();
    assert_eq!(cp.key("ocppti"), Some(&Value::Null));
}

#[test]
fn open_access_starts_with_the_dummy_card_and_unplug_stops() {
    let mut cp = Cp::new();
    cp.v.access_control = 0;
    cp.v.settings.dummy_id_tag = "ocppd-tag".into();
    cp.accepted();
    cp.v.car = 2;
    cp.v.allowed = true;
    cp.tick();
    let actions = cp.answer_all();
    assert!(
        actions.contains(&"StartTransaction".to_owned()),
        "{actions:?}"
    );
    let start = cp
        .frames
        .iter()
        .find(|f| f[2] == "StartTransaction")
        .unwrap();
    assert_eq!(start[3]["idTag"], "ocppd-tag");
    cp.v.car = 1;
    cp.v.energy_wh = 170_000.4;
    cp.tick();
    let stop = cp.until("StopTransaction");
    assert_eq!(stop["reason"], "EVDisconnected");
    assert_eq!(stop["meterStop"], 170_000);
    assert_eq!(stop["transactionId"], 42);
}

#[test]
fn transaction_messages_wait_offline_and_go_in_order_after_reconnect() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.close();
    assert!(!cp.s.accepted());
    assert_eq!(cp.key("ocppa"), Some(&json!(false)));
    // Authorized locally (e.g. ocppao) and plugged while offline.
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    cp.v.car = 1;
    cp.v.trx = None;
    cp.tick();
    let appended: Vec<String> = cp
        .journal
        .iter()
        .filter_map(|o| {
            if let JournalOp::Append(r) = o {
                Some(r.action.clone())
            } else {
                None
            }
        })
        .collect();
    assert_eq!(appended, ["StartTransaction", "StopTransaction"]);
    let n = cp.frames.len();
    cp.connect();
    assert_eq!(
        cp.actions_since(n),
        ["StatusNotification"],
        "no BootNotification after an accepted boot"
    );
    let actions = cp.answer_all();
    assert_eq!(
        actions,
        [
            "StatusNotification",
            "StatusNotification",
            "StartTransaction",
            "StopTransaction"
        ]
    );
    let stop = cp
        .frames
        .iter()
        .rev()
        .find(|f| f[2] == "StopTransaction")
        .unwrap();
    assert_eq!(
        stop[3]["transactionId"], 42,
        "the backend's id, learned after the stop was queued"
    );
    assert_eq!(stop[3]["reason"], "EVDisconnected");
    let acks = cp
        .journal
        .iter()
        .filter(|o| matches!(o, JournalOp::Ack { .. }))
        .count();
    assert_eq!(acks, 2);
}

#[test]
fn a_replayed_queue_is_sent_after_the_boot() {
    let queued = vec![JournalRecord {
        seq: 5,
        action: "StopTransaction".into(),
        payload: json!({"meterStop": 10, "timestamp": "2023-11-14T22:13:20.000Z", "transactionId": 9, "reason": "PowerLoss"}),
        local_tx: Some(4),
    }];
    let mut cp = Cp::with(queued);
    cp.accepted();
    let sent: Vec<String> = cp.actions_since(0);
    assert_eq!(
        sent,
        [
            "BootNotification",
            "StatusNotification",
            "StatusNotification",
            "StopTransaction"
        ]
    );
    assert!(cp.journal.contains(&JournalOp::Ack {
        seq: 5,
        transaction_id: None
    }));
}

#[test]
fn one_call_at_a_time() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.car = 3;
    cp.tick();
    cp.v.car = 1;
    cp.tick();
    cp.v.car = 3;
    cp.tick();
    let calls = cp.frames.iter().filter(|f| f[0] == 2).count();
    let answers = 3; // boot + 2 statuses answered by accepted()
    assert_eq!(
        calls,
        answers + 1,
        "only one new CALL while the first is unanswered"
    );
    let actions = cp.answer_all();
    // The superseded status of the same connector is dropped.
    assert_eq!(actions, ["StatusNotification", "StatusNotification"]);
    assert_eq!(
        cp.frames
            .iter()
            .rev()
            .find(|f| f[2] == "StatusNotification")
            .unwrap()[3]["status"],
        "Preparing"
    );
}

#[test]
fn a_call_error_on_a_transaction_message_is_retried_then_dropped() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    cp.until("StartTransaction");
    cp.fail();
    let n = cp.frames.len();
    cp.advance(29);
    assert_eq!(cp.actions_since(n), Vec::<String>::new());
    cp.advance(1);
    assert_eq!(cp.actions_since(n), ["StartTransaction"]);
    for wait in [60, 0] {
        cp.until("StartTransaction");
        cp.fail();
        cp.advance(wait);
    }
    assert!(
        cp.journal.contains(&JournalOp::Ack {
            seq: 0,
            transaction_id: None
        }),
        "dropped after 3 attempts"
    );
}

#[test]
fn bad_frames_get_the_1_6_errors() {
    let mut cp = Cp::new();
    cp.accepted();
    let code = |cp: &mut Cp, action: &str, payload: Value| {
        cp.csms(action, payload)[2].as_str().unwrap().to_owned()
    };
    assert_eq!(code(&mut cp, "FooBar", json!({})), "NotImplemented");
    for a in [
        "ClearCache",
        "GetDiagnostics",
        "ReserveNow",
        "CancelReservation",
        "GetCompositeSchedule",
        "GetLocalListVersion",
        "SendLocalList",
    ] {
        assert_eq!(code(&mut cp, a, json!({})), "NotSupported", "{a}");
    }
    assert_eq!(
        code(&mut cp, "Reset", json!({"type": 1})),
        "TypeConstraintViolation"
    );
    assert_eq!(
        code(&mut cp, "Reset", json!({"type": "Warm"})),
        "PropertyConstraintViolation"
    );
    assert_eq!(
        code(&mut cp, "Reset", json!({})),
        "OccurenceConstraintViolation"
    );
    assert_eq!(
        code(
            &mut cp,
            "ChangeConfiguration",
            json!({"key": "x".repeat(51), "value": "1"})
        ),
        "TypeConstraintViolation"
    );
    let n = cp.frames.len();
    cp.recv(r#"[2,"g1","Reset",{"type":"#);
    assert_eq!(
        cp.frames[n],
        json!([4, "g1", "FormationViolation", "not valid JSON", {}])
    );
    cp.recv("complete garbage");
    cp.recv(r#"[3,"nobody",{}]"#);
    assert_eq!(cp.frames.len(), n + 1, "unanswerable frames are dropped");
}

#[test]
fn reset_stops_the_transaction_first() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    cp.answer_all();
    let a = cp.csms("Reset", json!({"type": "Soft"}));
    assert_eq!(a[2], json!({"status": "Accepted"}));
    assert!(
        !cp.commands
            .iter()
            .any(|c| matches!(c, Command::Reset { .. })),
        "waits for the stop"
    );
    assert_eq!(cp.until("StopTransaction")["reason"], "SoftReset");
    cp.answer(json!({}));
    cp.answer_all();
    assert_eq!(cp.commands.last(), Some(&Command::Reset { hard: false }));
}

#[test]
fn unlock_stops_and_unlocks() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    cp.answer_all();
    assert_eq!(
        cp.csms("UnlockConnector", json!({"connectorId": 2}))[2],
        json!({"status": "NotSupported"})
    );
    assert_eq!(
        cp.csms("UnlockConnector", json!({"connectorId": 1}))[2],
        json!({"status": "Unlocked"})
    );
    assert!(cp.commands.contains(&Command::Unlock));
    assert_eq!(cp.until("StopTransaction")["reason"], "UnlockCommand");
}

#[test]
fn change_availability() {
    let mut cp = Cp::new();
    cp.accepted();
    assert_eq!(
        cp.csms(
            "ChangeAvailability",
            json!({"connectorId": 2, "type": "Inoperative"})
        )[2],
        json!({"status": "Rejected"})
    );
    assert_eq!(
        cp.csms(
            "ChangeAvailability",
            json!({"connectorId": 0, "type": "Inoperative"})
        )[2],
        json!({"status": "Accepted"})
    );
    assert_eq!(cp.commands.last(), Some(&Command::Operative(false)));
    assert_eq!(cp.call().2["status"], "Unavailable");
    cp.answer_all();
    assert_eq!(
        cp.csms(
            "ChangeAvailability",
            json!({"connectorId": 1, "type": "Operative"})
        )[2],
        json!({"status": "Accepted"})
    );
    assert_eq!(cp.commands.last(), Some(&Command::Operative(true)));
    cp.answer_all();
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    cp.answer_all();
    assert_eq!(
        cp.csms(
            "ChangeAvailability",
            json!({"connectorId": 0, "type": "Inoperative"})
        )[2],
        json!({"status": "Scheduled"})
    );
    cp.answer_all();
    cp.v.car = 1;
    cp.v.trx = None;
    cp.tick();
    assert_eq!(
        cp.commands.last(),
        Some(&Command::Operative(false)),
        "applied when the transaction ended"
    );
}

#[test]
fn trigger_message() {
    let mut cp = Cp::new();
    cp.accepted();
    let a = cp.csms(
        "TriggerMessage",
        json!({"requestedMessage": "DiagnosticsStatusNotification"}),
    );
    assert_eq!(a[2], json!({"status": "NotImplemented"}));
    assert_eq!(
        cp.csms(
            "TriggerMessage",
            json!({"requestedMessage": "StatusNotification", "connectorId": 3})
        )[2],
        json!({"status": "Rejected"})
    );
    cp.csms(
        "TriggerMessage",
        json!({"requestedMessage": "StatusNotification"}),
    );
    assert_eq!(
        cp.answer_all(),
        ["StatusNotification", "StatusNotification"]
    );
    cp.csms(
        "TriggerMessage",
        json!({"requestedMessage": "MeterValues", "connectorId": 1}),
    );
    assert_eq!(cp.call().1, "MeterValues");
    assert_eq!(cp.call().2.get("transactionId"), None);
    cp.answer(json!({}));
    cp.csms(
        "TriggerMessage",
        json!({"requestedMessage": "FirmwareStatusNotification"}),
    );
    assert_eq!(cp.call().2, json!({"status": "Idle"}));
    cp.answer(json!({}));
    cp.csms(
        "TriggerMessage",
        json!({"requestedMessage": "BootNotification"}),
    );
    assert_eq!(cp.call().1, "BootNotification");
}

#[test]
fn update_firmware_runs_on_simulated_time_then_resets() {
    let mut cp = Cp::new();
    cp.accepted();
    let at = crate::time::format_ms(cp.v.utc_ms + 5000);
    let a = cp.csms(
        "UpdateFirmware",
        json!({"location": "https://example.invalid/fw.bin", "retrieveDate": at}),
    );
    assert_eq!(a[2], json!({}));
    let mut seen = Vec::new();
    for _ in 0..40 {
        cp.advance(1);
        while let Some((_, action, p)) = cp.outstanding().then(|| cp.call()) {
            if action == "FirmwareStatusNotification" {
                seen.push((cp.v.utc_ms, p["status"].as_str().unwrap().to_owned()));
            }
            cp.answer(json!({}));
        }
    }
    let t0 = cp.v.utc_ms - 40_000;
    let got: Vec<(i64, &str)> = seen
        .iter()
        .map(|(t, s)| ((t - t0) / 1000, s.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (5, "Downloading"),
            (15, "Downloaded"),
            (15, "Installing"),
            (35, "Installed")
        ]
    );
    assert_eq!(cp.commands.last(), Some(&Command::Reset { hard: true }));
}

#[test]
fn configuration_and_data_transfer() {
    let mut cp = Cp::new();
    cp.accepted();
    let a = cp.csms(
        "GetConfiguration",
        json!({"key": ["NumberOfConnectors", "Nope"]}),
    );
    assert_eq!(
        a[2],
        json!({"configurationKey": [{"key": "NumberOfConnectors", "readonly": true, "value": "1"}], "unknownKey": ["Nope"]})
    );
    let a = cp.csms("GetConfiguration", json!({}));
    assert_eq!(a[2]["configurationKey"].as_array().unwrap().len(), 26);
    assert_eq!(
        cp.csms(
            "ChangeConfiguration",
            json!({"key": "NumberOfConnectors", "value": "2"})
        )[2],
        json!({"status": "Rejected"})
    );
    assert_eq!(
        cp.csms(
            "ChangeConfiguration",
            json!({"key": "BlinkRepeat", "value": "2"})
        )[2],
        json!({"status": "NotSupported"})
    );
    assert_eq!(
        cp.csms(
            "ChangeConfiguration",
            json!({"key": "WebSocketPingInterval", "value": "30"})
        )[2],
        json!({"status": "Accepted"})
    );
    assert_eq!(cp.s.ping_interval_s(), 30);
    assert_eq!(
        cp.csms(
            "DataTransfer",
            json!({"vendorId": "go-e", "messageId": "x"})
        )[2],
        json!({"status": "UnknownVendorId"})
    );
}

#[test]
fn clock_aligned_values_fall_on_the_boundaries() {
    let mut cp = Cp::new();
    cp.v.settings.clock_aligned_s = 15;
    cp.accepted();
    let mut stamps = Vec::new();
    for _ in 0..40 {
        cp.advance(1);
        if cp.outstanding() {
            let (_, action, p) = cp.call();
            if action == "MeterValues" {
                stamps.push(p["meterValue"][0]["timestamp"].as_str().unwrap().to_owned());
            }
            cp.answer(json!({}));
        }
    }
    // utc starts at …13:20.000 (T0 = 1_700_000_000_000).
    assert_eq!(
        stamps,
        [
            "2023-11-14T22:13:30.000Z",
            "2023-11-14T22:13:45.000Z",
            "2023-11-14T22:14:00.000Z"
        ]
    );
}

#[test]
fn meter_values_condition_when_charging_and_configured_measurands() {
    let mut cp = Cp::new();
    cp.v.settings.meter_values_condition = 1;
    cp.v.settings.sample_s = 10;
    cp.v.access_control = 0;
    cp.accepted();
    assert_eq!(
        cp.csms(
            "ChangeConfiguration",
            json!({"key": "MeterValuesSampledData", "value": "Energy.Active.Import.Register"})
        )[2],
        json!({"status": "Accepted"})
    );
    assert_eq!(
        cp.csms(
            "ChangeConfiguration",
            json!({"key": "MeterValuesSampledData", "value": "SoC"})
        )[2],
        json!({"status": "Rejected"})
    );
    cp.v.car = 2;
    cp.tick();
    cp.answer_all();
    cp.advance(10);
    let (_, action, p) = cp.call();
    assert_eq!(action, "MeterValues");
    assert_eq!(
        p["meterValue"][0]["sampledValue"],
        json!([{"value": "165333.00", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}])
    );
}

#[test]
fn a_rejected_card_deauthorizes() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.swipe = Some(CardSwipe {
        seq: 3,
        id_tag: "stolen".into(),
    });
    cp.tick();
    cp.answer(json!({"idTagInfo": {"status": "Blocked"}}));
    assert_eq!(cp.commands.last(), Some(&Command::Deauthorize));
}

#[test]
fn remote_start_authorizes_and_applies_its_profile() {
    let mut cp = Cp::new();
    cp.accepted();
    let a = cp.csms(
        "RemoteStartTransaction",
        json!({"connectorId": 1, "idTag": "remote", "chargingProfile": {"chargingProfileId": 1, "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
            "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0, "numberPhases": 1}]}}}),
    );
    assert_eq!(a[2], json!({"status": "Accepted"}));
    assert_eq!(
        cp.commands.last(),
        Some(&Command::Authorize {
            id_tag: "remote".into()
        })
    );
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    assert!(cp.commands.contains(&Command::Limit(Some(Limit {
        amps: 10.0,
        phases: Some(1)
    }))));
    cp.answer_all();
    let start = cp
        .frames
        .iter()
        .find(|f| f[2] == "StartTransaction")
        .unwrap();
    assert_eq!(start[3]["idTag"], "remote");
    assert_eq!(
        cp.csms("RemoteStartTransaction", json!({"idTag": "again"}))[2],
        json!({"status": "Rejected"})
    );
}

#[test]
fn watt_profiles_are_rejected() {
    let mut cp = Cp::new();
    cp.accepted();
    let a = cp.csms(
        "SetChargingProfile",
        json!({"connectorId": 0, "csChargingProfiles": {"chargingProfileId": 2, "stackLevel": 0,
            "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",
            "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}]}}}),
    );
    assert_eq!(a[2], json!({"status": "Rejected"}));
    assert_eq!(
        cp.csms("ClearChargingProfile", json!({}))[2],
        json!({"status": "Unknown"})
    );
}

proptest::proptest! {
    #[test]
    fn random_frames_never_panic(texts in proptest::collection::vec(".{0,80}", 1..8), action in "[A-Za-z]{0,30}") {
        let mut cp = Cp::new();
        cp.accepted();
        for t in &texts {
            cp.recv(t);
            cp.recv(&json!([2, "x", action, {"a": t}]).to_string());
        }
        for a in ["Reset", "SetChargingProfile", "ChangeConfiguration", "GetConfiguration", "TriggerMessage", "RemoteStartTransaction", "UpdateFirmware"] {
            cp.recv(&json!([2, "y", a, {"key": texts, "type": texts.len()}]).to_string());
        }
    }
}

#[test]
fn offline_meter_values_are_bounded() {
    let mut cp = Cp::new();
    cp.v.settings.sample_s = 1;
    cp.accepted();
    cp.close();
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.advance(1500);
    let meter = cp
        .journal
        .iter()
        .filter(|o| matches!(o, JournalOp::Append(r) if r.action == "MeterValues"))
        .count();
    assert_eq!(meter, 1000);
    cp.v.car = 1;
    cp.tick();
    assert!(
        matches!(cp.journal.last(), Some(JournalOp::Append(r)) if r.action == "StopTransaction")
    );
}

/// One random event of a session.
#[derive(Debug, Clone)]
enum Event {
    Advance(u8),
    Car(u8),
    Trx(Option<i64>),
    Error(u8),
    Swipe,
    AnswerOk,
    AnswerError,
    Close,
    Connect,
    Csms(usize),
}

fn event() -> impl proptest::strategy::Strategy<Value = Event> {
    use proptest::prelude::*;
    prop_oneof![
        (1..90u8).prop_map(Event::Advance),
        (0..7u8).prop_map(Event::Car),
        proptest::option::of(0..3i64).prop_map(Event::Trx),
        prop_oneof![Just(0u8), Just(16u8)].prop_map(Event::Error),
        Just(Event::Swipe),
        Just(Event::AnswerOk),
        Just(Event::AnswerOk),
        Just(Event::AnswerError),
        Just(Event::Close),
        Just(Event::Connect),
        (0..CSMS_CALLS.len()).prop_map(Event::Csms),
    ]
}

const CSMS_CALLS: &[(&str, &str)] = &[
    ("RemoteStartTransaction", r#"{"idTag":"r"}"#),
    ("RemoteStopTransaction", r#"{"transactionId":42}"#),
    ("Reset", r#"{"type":"Hard"}"#),
    ("UnlockConnector", r#"{"connectorId":1}"#),
    (
        "ChangeAvailability",
        r#"{"connectorId":0,"type":"Inoperative"}"#,
    ),
    (
        "ChangeAvailability",
        r#"{"connectorId":0,"type":"Operative"}"#,
    ),
    (
        "TriggerMessage",
        r#"{"requestedMessage":"StatusNotification"}"#,
    ),
    (
        "TriggerMessage",
        r#"{"requestedMessage":"BootNotification"}"#,
    ),
    ("TriggerMessage", r#"{"requestedMessage":"MeterValues"}"#),
    (
        "SetChargingProfile",
        r#"{"connectorId":0,"csChargingProfiles":{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"TxDefaultProfile","chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":6}]}}}"#,
    ),
    ("ClearChargingProfile", "{}"),
    (
        "UpdateFirmware",
        r#"{"location":"x","retrieveDate":"2023-11-14T22:13:30Z"}"#,
    ),
    (
        "ChangeConfiguration",
        r#"{"key":"MeterValueSampleInterval","value":"5"}"#,
    ),
];

proptest::proptest! {
    /// Whatever happens: never two CALLs of ours outstanding, every
    /// transaction message journaled before it is sent, no panic.
    #[test]
    fn random_sessions_keep_the_rules(events in proptest::collection::vec(event(), 1..60)) {
        let mut cp = Cp::new();
        cp.connect();
        cp.answer(json!({"currentTime": "2023-11-14T22:13:20Z", "interval": 30, "status": "Accepted"}));
        let mut seq = 0;
        for (i, e) in events.into_iter().enumerate() {
            let from = cp.log.len();
            match e {
                Event::Advance(n) => cp.advance(i64::from(n)),
                Event::Car(c) => { cp.v.car = c; cp.tick(); }
                Event::Trx(t) => { cp.v.trx = t; cp.tick(); }
                Event::Error(e) => { cp.v.error = e; cp.tick(); }
                Event::Swipe => { seq += 1; cp.v.swipe = Some(CardSwipe { seq, id_tag: format!("c{i}") }); cp.tick(); }
                Event::AnswerOk => if cp.outstanding() {
                    let (_, a, _) = cp.call();
                    let p = match a.as_str() {
                        "StartTransaction" => json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 42}),
                        "Authorize" => json!({"idTagInfo": {"status": "Accepted"}}),
                        "BootNotification" => json!({"currentTime": "2023-11-14T22:13:20Z", "interval": 30, "status": "Accepted"}),
                        _ => json!({"currentTime": "2023-11-14T22:13:20Z"}),
                    };
                    cp.answer(p);
                },
                Event::AnswerError => if cp.outstanding() { cp.fail(); },
                Event::Close => { cp.close(); cp.forget(); }
                Event::Connect => { cp.close(); cp.forget(); cp.connect(); }
                Event::Csms(k) => { let (a, p) = CSMS_CALLS[k]; cp.recv(&format!(r#"[2,"cs{i}","{a}",{p}]"#)); }
            }
            // Journal before send.
            for (j, o) in cp.log[from..].iter().enumerate() {
                if let Output::Send(t) = o {
                    let f: Value = serde_json::from_str(t).unwrap();
                    if f[0] == 2 && ["StartTransaction", "StopTransaction"].contains(&f[2].as_str().unwrap()) {
                        let appended = cp.log[..from + j].iter().any(|x| matches!(x, Output::Journal(JournalOp::Append(r)) if r.action == f[2]));
                        proptest::prop_assert!(appended, "{t} sent before its journal record");
                    }
                }
            }
            // A StopTransaction always names its transaction.
            for o in &cp.log[from..] {
                if let Output::Send(t) = o {
                    let f: Value = serde_json::from_str(t).unwrap();
                    if f[0] == 2 && f[2] == "StopTransaction" {
                        proptest::prop_assert!(f[3].get("transactionId").is_some(), "{t}");
                    }
                }
            }
            // One outstanding CALL: among our CALLs, all but the last are answered.
            let ours: Vec<String> = cp.frames.iter().filter(|f| f[0] == 2 && !f[1].as_str().unwrap().starts_with("cs"))
                .map(|f| f[1].as_str().unwrap().to_owned()).collect();
            if let Some((_, earlier)) = ours.split_last() {
                for id in earlier {
                    proptest::prop_assert!(cp.answered.contains(id), "CALL {id} was overtaken while outstanding");
                }
            }
        }
    }
}

#[test]
fn a_call_cut_by_a_close_is_sent_again_after_the_reconnect() {
    let mut cp = Cp::new();
    cp.accepted();
    cp.v.car = 3;
    cp.v.trx = Some(0);
    cp.tick();
    let first = cp.until("StartTransaction");
    let (id, _, _) = cp.call();
    cp.close();
    cp.forget();
    // A late answer to the forgotten call is ignored.
    cp.recv(&json!([3, id, {"idTagInfo": {"status": "Accepted"}, "transactionId": 1}]).to_string());
    assert!(
        !cp.journal
            .iter()
            .any(|o| matches!(o, JournalOp::Ack { .. }))
    );
    cp.connect();
    let again = cp.until("StartTransaction");
    assert_eq!(first, again);
    assert_ne!(cp.call().0, id, "a new message id");
    cp.answer(json!({"idTagInfo": {"status": "Accepted"}, "transactionId": 42}));
    assert!(cp.journal.contains(&JournalOp::Ack {
        seq: 0,
        transaction_id: Some(42)
    }));
}

/// A transaction the backend knows (`ocppti` kept in flash) survives a
/// restart of the charger: it ends with a StopTransaction naming it (reason
/// PowerLoss) when the car is gone, and goes on when the car still charges.
#[test]
fn a_transaction_known_before_a_restart_is_ended_or_continued() {
    let mut cp = Cp::new();
    cp.v.transaction_id = Some(77);
    cp.v.energy_wh = 2_000.4;
    cp.accepted();
    let stop = cp
        .journal
        .iter()
        .find_map(|op| match op {
            JournalOp::Append(r) if r.action == "StopTransaction" => Some(r.payload.clone()),
            _ => None,
        })
        .expect("a StopTransaction");
    assert_eq!(stop["transactionId"], 77);
    assert_eq!(stop["reason"], "PowerLoss");
    assert_eq!(stop["meterStop"], 2000);
    assert_eq!(cp.key("ocppti"), Some(&Value::Null));

    let mut cp = Cp::new();
    cp.v.transaction_id = Some(78);
    cp.v.car = 2;
    cp.v.trx = Some(0);
    cp.accepted();
    cp.advance(5);
    cp.answer_all();
    assert!(
        !cp.journal
            .iter()
            .any(|op| matches!(op, JournalOp::Append(r) if r.action.ends_with("Transaction"))),
        "neither a stop nor a second start: {:?}",
        cp.journal
    );
    assert_eq!(cp.key("ocppti").cloned().unwrap_or(json!(78)), json!(78));
}

/// `ocppt`: the charger takes the backend's time from BootNotification.conf
/// (as a `utc` write); without it, it keeps its own clock.
#[test]
fn the_backend_time_is_taken_only_with_ocppt() {
    for accept in [false, true] {
        let mut cp = Cp::new();
        cp.v.settings.accept_backend_time = accept;
        cp.accepted();
        let utc: Vec<&Command> = cp
            .commands
            .iter()
            .filter(|c| matches!(c, Command::SetKey { key: "utc", .. }))
            .collect();
        if accept {
            assert_eq!(
                utc,
                [&Command::SetKey {
                    key: "utc",
                    json: "\"2023-11-14T22:13:20.000\"".into()
                }]
            );
        } else {
            assert!(utc.is_empty(), "{utc:?}");
        }
    }
}
