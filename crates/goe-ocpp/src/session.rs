//! The charge point's OCPP 1.6J session: one state machine per charger,
//! fed transport events and [`ChargerView`]s, answering with [`Output`]s.
//!
//! Rules it keeps (contract.md): at most one outstanding CALL of its own
//! (OCPP-J §4.1.1); nothing but BootNotification before the backend accepts
//! (and triggered messages while Pending, 1.6 §4.2); transaction messages
//! (StartTransaction, StopTransaction, transaction MeterValues) go through
//! the journal (`Append` before their `Send`, `Ack` on the answer) and are
//! delivered in order, other messages overtake them; all intervals run on
//! the simulated time of the view.

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use crate::config::{self, ConfigState};
use crate::messages::{self as m, DateTime, decode, to_value};
use crate::meter;
use crate::profiles::Profiles;
use crate::rpc::{self, ErrorCode, Frame, IdGen, ParseError, RpcError};
use crate::status::{self, ConnectorState, Facts};
use crate::view::{ChargerView, Command, JournalOp, JournalRecord, Limit, Output};

/// Retry of a BootNotification when the backend gives no usable interval, s.
const BOOT_RETRY_S: i64 = 60;
/// A transaction message answered with CALLERROR is tried this often.
const TX_ATTEMPTS: u32 = 3;
/// Pause between those attempts, s (× attempt number).
const TX_RETRY_S: i64 = 30;
/// A Reset waits at most this long for the StopTransaction to be answered, ms.
const RESET_WAIT_MS: i64 = 10_000;
/// Simulated firmware update: download, then install, durations (ms).
const FW_DOWNLOAD_MS: i64 = 10_000;
const FW_INSTALL_MS: i64 = 20_000;
/// At most this many transaction MeterValues wait in the queue while the
/// backend is away (StartTransaction/StopTransaction are never dropped).
const MAX_QUEUED_METER: usize = 1000;
/// The local number of a transaction recovered from `ocppti` after a
/// restart (its StartTransaction is long answered; no journal record has
/// this number).
const RECOVERED_TX: u64 = u64::MAX;
/// The idTag when `ocppd` is empty (an empty idTag says nothing).
const NO_CARD: &str = "no-card";

/// Facts of the charge point that never change during a session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionOptions {
    /// chargePointVendor: "go-e".
    pub vendor: String,
    /// Apply the chargingProfile of RemoteStartTransaction (firmware 60.4+;
    /// before, it was ignored: faq-en.md).
    pub remote_start_profile: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            vendor: "go-e".into(),
            remote_start_profile: true,
        }
    }
}

/// Where the registration (BootNotification) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Registration {
    /// Not sent (or not answered) on this connection.
    Unknown,
    /// Pending: retry at this rbt; the backend may call.
    Pending(i64),
    /// Rejected (or failed): retry at this rbt; send nothing else.
    Rejected(i64),
    /// Accepted since boot.
    Accepted,
}

/// What the outstanding CALL was.
#[derive(Debug, Clone, PartialEq)]
enum Awaiting {
    Boot,
    Plain,
    Authorize(String),
    Journal(u64),
}

/// A non-transaction message waiting for its turn.
#[derive(Debug, Clone, PartialEq)]
struct Outgoing {
    action: &'static str,
    payload: Value,
    kind: Awaiting,
    /// Asked for by TriggerMessage (may go while Pending).
    triggered: bool,
    /// StatusNotification of this connector (replaced by a newer one).
    status_of: Option<i64>,
}

/// The running transaction.
#[derive(Debug, Clone, PartialEq)]
struct Transaction {
    /// Our number (= the journal seq of its StartTransaction).
    local: u64,
    /// The backend's id, once StartTransaction.conf came.
    id: Option<i64>,
    id_tag: String,
    start_ms: i64,
}

/// Simulated firmware update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Firmware {
    /// Waiting for retrieveDate.
    Scheduled(i64),
    /// Downloading until.
    Downloading(i64),
    /// Downloaded; installs once no transaction runs.
    Downloaded,
    /// Installing until.
    Installing(i64),
}

/// The session (see the module doc).
#[derive(Debug)]
pub struct Session {
    options: SessionOptions,
    ids: IdGen,
    connected: bool,
    registration: Registration,
    accepted_at: Option<i64>,
    waiting: Option<(String, Awaiting)>,
    outbox: VecDeque<Outgoing>,
    queue: VecDeque<JournalRecord>,
    head_attempts: u32,
    head_retry_at: i64,
    tx_ids: HashMap<u64, i64>,
    next_seq: u64,
    tx: Option<Transaction>,
    authorized_tag: Option<String>,
    prev_trx: Option<i64>,
    first_view: bool,
    last_swipe: Option<u64>,
    finishing: bool,
    inoperative: bool,
    scheduled_inoperative: bool,
    sent: [Option<ConnectorState>; 2],
    connector: Option<ConnectorState>,
    last_sent_rbt: i64,
    heartbeat_s: i64,
    heartbeat_seen: i64,
    next_sample: Option<i64>,
    next_aligned: Option<i64>,
    config: ConfigState,
    profiles: Profiles,
    pending_tx_profile: Option<m::ChargingProfile>,
    last_limit: Option<Option<Limit>>,
    firmware: Option<Firmware>,
    firmware_status: &'static str,
    reset: Option<(bool, i64)>,
    tx_ended_at: Option<i64>,
    last_keys: Vec<(&'static str, Value)>,
}

impl Session {
    /// `queued`: the journal records not yet acknowledged (replayed from disk
    /// after a restart, in seq order, see [`crate::journal::replay`]);
    /// `next_seq`: the next journal sequence number.
    pub fn new(options: SessionOptions, queued: Vec<JournalRecord>, next_seq: u64) -> Session {
        let next_seq = queued
            .iter()
            .map(|r| r.seq + 1)
            .max()
            .unwrap_or(0)
            .max(next_seq);
        let tx = open_transaction(&queued);
        Session {
            options,
            ids: IdGen::default(),
            connected: false,
            registration: Registration::Unknown,
            accepted_at: None,
            waiting: None,
            outbox: VecDeque::new(),
            queue: queued.into(),
            head_attempts: 0,
            head_retry_at: i64::MIN,
            tx_ids: HashMap::new(),
            next_seq,
            tx,
            authorized_tag: None,
            prev_trx: None,
            first_view: true,
            last_swipe: None,
            finishing: false,
            inoperative: false,
            scheduled_inoperative: false,
            sent: [None, None],
            connector: None,
            last_sent_rbt: 0,
            heartbeat_s: 0,
            heartbeat_seen: i64::MIN,
            next_sample: None,
            next_aligned: None,
            config: ConfigState::default(),
            profiles: Profiles::default(),
            pending_tx_profile: None,
            last_limit: None,
            firmware: None,
            firmware_status: "Idle",
            reset: None,
            tx_ended_at: None,
            last_keys: Vec::new(),
        }
    }

    /// BootNotification accepted (since boot) and the socket is open.
    pub fn accepted(&self) -> bool {
        self.connected && self.registration == Registration::Accepted
    }

    /// WebSocketPingInterval as the backend set it (s, 0 = no pings): the
    /// socket task sends pings at this interval.
    pub fn ping_interval_s(&self) -> i64 {
        self.config.ping_interval_s
    }

    /// The WebSocket is open: BootNotification (every connect after a boot,
    /// and while not Accepted); after an accepted boot the session resumes
    /// with fresh StatusNotifications and the queued transaction messages.
    pub fn connected(&mut self, view: &ChargerView) -> Vec<Output> {
        let mut out = Vec::new();
        self.connected = true;
        self.waiting = None;
        self.outbox.clear();
        self.sent = [None, None];
        if self.registration != Registration::Accepted {
            self.registration = Registration::Unknown;
            self.send_boot(view, &mut out);
        } else {
            self.accepted_at = Some(view.rbt_ms);
            self.last_sent_rbt = view.rbt_ms;
        }
        self.step(view, &mut out);
        out
    }

    /// The WebSocket closed: pending calls are forgotten (journal records
    /// stay queued; other messages are dropped).
    pub fn closed(&mut self, view: &ChargerView) -> Vec<Output> {
        let mut out = Vec::new();
        self.connected = false;
        self.waiting = None;
        self.outbox.clear();
        self.sent = [None, None];
        self.accepted_at = None;
        if self.registration != Registration::Accepted {
            self.registration = Registration::Unknown;
        }
        self.step(view, &mut out);
        out
    }

    /// A text frame arrived. Never panics; bad input → CALLERROR (or
    /// ignored when it cannot be answered).
    pub fn received(&mut self, text: &str, view: &ChargerView) -> Vec<Output> {
        let mut out = Vec::new();
        match rpc::parse(text) {
            Err(ParseError::Answer { id, error }) => {
                out.push(Output::Send(rpc::encode_error(&id, &error)))
            }
            Err(ParseError::Ignore) => {}
            Ok(Frame::Call {
                id,
                action,
                payload,
            }) => {
                let answer = match self.on_call(&action, &payload, view, &mut out) {
                    Ok(answer) => Output::Send(rpc::encode_result(&id, &answer)),
                    Err(error) => Output::Send(rpc::encode_error(&id, &error)),
                };
                // the charger carries out (and persists) what the request
                // ordered before the answer says it did; the rest follows
                let (mut ordered, rest): (Vec<Output>, Vec<Output>) = out
                    .into_iter()
                    .partition(|o| matches!(o, Output::Command(_)));
                ordered.push(answer);
                ordered.extend(rest);
                out = ordered;
            }
            Ok(Frame::CallResult { id, payload }) => {
                if let Some(kind) = self.take_waiting(&id) {
                    self.on_result(kind, &payload, view, &mut out);
                }
            }
            Ok(Frame::CallError { id, .. }) => {
                if let Some(kind) = self.take_waiting(&id) {
                    self.on_failure(kind, view, &mut out);
                }
            }
        }
        self.step(view, &mut out);
        out
    }

    /// Once per simulated second (and after writes): timers, state changes,
    /// charging profile limit changes.
    pub fn tick(&mut self, view: &ChargerView) -> Vec<Output> {
        let mut out = Vec::new();
        self.step(view, &mut out);
        out
    }

    fn take_waiting(&mut self, id: &str) -> Option<Awaiting> {
        match &self.waiting {
            Some((w, _)) if w == id => self.waiting.take().map(|(_, k)| k),
            _ => None,
        }
    }

    // ------------------------------------------------------------ the step

    fn step(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        if view.settings.heartbeat_s != self.heartbeat_seen {
            self.heartbeat_seen = view.settings.heartbeat_s;
            self.heartbeat_s = view.settings.heartbeat_s;
        }
        self.swipes(view, out);
        self.transactions(view, out);
        self.availability(out);
        self.statuses(view);
        self.limit(view, out);
        self.meter_values(view, out);
        self.firmware(view);
        self.timers(view);
        self.pump(view, out);
        self.reset_when_done(view, out);
        self.keys(out);
        self.prev_trx = view.trx;
        self.first_view = false;
    }

    fn swipes(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        let Some(swipe) = &view.swipe else { return };
        if self.last_swipe == Some(swipe.seq) {
            return;
        }
        let fresh = !self.first_view || self.last_swipe.is_some();
        self.last_swipe = Some(swipe.seq);
        if !fresh {
            return; // a swipe from before the session started
        }
        let tag = swipe.id_tag.clone();
        if self.tx.is_some() {
            out.push(Output::Command(Command::Deauthorize));
            self.stop_transaction(view, "Local", Some(tag), out);
        } else if self.accepted() {
            self.outbox.push_back(Outgoing {
                action: "Authorize",
                payload: to_value(&m::AuthorizeReq {
                    id_tag: tag.clone(),
                }),
                kind: Awaiting::Authorize(tag),
                triggered: false,
                status_of: None,
            });
        } else if view.settings.allow_offline_unknown {
            self.authorized_tag = Some(tag.clone());
            out.push(Output::Command(Command::Authorize { id_tag: tag }));
        }
    }

    fn transactions(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        let plugged = matches!(view.car, 2..=4);
        if self.first_view
            && self.tx.is_none()
            && let Some(id) = view.transaction_id
        {
            // the charger restarted during a transaction the backend knows
            // (`ocppti` survives in flash): it continues while the car is
            // still plugged and authorized, else it ends here
            self.tx = Some(Transaction {
                local: RECOVERED_TX,
                id: Some(id),
                id_tag: String::new(),
                start_ms: view.utc_ms,
            });
            if !plugged || (view.trx.is_none() && view.access_control != 0) {
                self.stop_transaction(view, "PowerLoss", None, out);
                return;
            }
        }
        if self.tx.is_some() {
            if !plugged {
                self.stop_transaction(view, "EVDisconnected", None, out);
            } else if view.trx.is_none() && view.access_control != 0 && self.prev_trx.is_some() {
                self.stop_transaction(view, "Local", None, out);
            }
            return;
        }
        if !plugged {
            self.finishing = false;
            return;
        }
        let new_auth = view.trx.is_some() && self.prev_trx.is_none() && !self.first_view;
        if self.finishing && !new_auth {
            return;
        }
        let open = view.access_control == 0 && view.car == 2;
        if view.trx.is_some() || open {
            let tag = self.authorized_tag.take().unwrap_or_else(|| {
                if view.settings.dummy_id_tag.is_empty() {
                    NO_CARD.to_owned()
                } else {
                    view.settings.dummy_id_tag.clone()
                }
            });
            self.start_transaction(view, tag, out);
        }
    }

    fn start_transaction(&mut self, view: &ChargerView, id_tag: String, out: &mut Vec<Output>) {
        self.finishing = false;
        let req = m::StartTransactionReq {
            connector_id: 1,
            id_tag: id_tag.clone(),
            meter_start: view.energy_wh.round() as i64,
            timestamp: DateTime(view.utc_ms),
        };
        let seq = self.append("StartTransaction", to_value(&req), None, out);
        self.tx = Some(Transaction {
            local: seq,
            id: None,
            id_tag,
            start_ms: view.utc_ms,
        });
        self.next_sample = None;
        if let Some(profile) = self.pending_tx_profile.take() {
            let _ = self.profiles.set(1, profile, Some(None), view.utc_ms);
        }
    }

    fn stop_transaction(
        &mut self,
        view: &ChargerView,
        reason: &'static str,
        id_tag: Option<String>,
        out: &mut Vec<Output>,
    ) {
        let Some(tx) = self.tx.take() else { return };
        let req = m::StopTransactionReq {
            id_tag,
            meter_stop: view.energy_wh.round() as i64,
            timestamp: DateTime(view.utc_ms),
            transaction_id: tx.id.or_else(|| self.tx_ids.get(&tx.local).copied()),
            reason,
        };
        self.append("StopTransaction", to_value(&req), Some(tx.local), out);
        self.finishing = matches!(view.car, 2..=4);
        self.profiles.end_transaction();
        self.authorized_tag = None;
        self.next_sample = None;
        self.tx_ended_at = Some(view.rbt_ms);
    }

    fn append(
        &mut self,
        action: &str,
        payload: Value,
        local_tx: Option<u64>,
        out: &mut Vec<Output>,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        let record = JournalRecord {
            seq,
            action: action.to_owned(),
            payload,
            local_tx: local_tx.or(Some(seq)),
        };
        out.push(Output::Journal(JournalOp::Append(record.clone())));
        self.queue.push_back(record);
        seq
    }

    fn availability(&mut self, out: &mut Vec<Output>) {
        if self.scheduled_inoperative && self.tx.is_none() {
            self.scheduled_inoperative = false;
            self.inoperative = true;
            out.push(Output::Command(Command::Operative(false)));
        }
    }

    fn facts(&self) -> Facts {
        Facts {
            transaction: self.tx.is_some(),
            finishing: self.finishing,
            inoperative: self.inoperative,
        }
    }

    fn statuses(&mut self, view: &ChargerView) {
        let facts = self.facts();
        let states = [
            status::charge_point(view, facts),
            status::connector(view, facts),
        ];
        self.connector = Some(states[1]);
        if !self.accepted() {
            return;
        }
        for (connector, state) in states.into_iter().enumerate() {
            if self.sent[connector] != Some(state) {
                self.sent[connector] = Some(state);
                self.queue_status(connector as i64, state, view, false);
            }
        }
    }

    fn queue_status(
        &mut self,
        connector: i64,
        state: ConnectorState,
        view: &ChargerView,
        triggered: bool,
    ) {
        self.outbox.retain(|o| o.status_of != Some(connector));
        let req = m::StatusNotificationReq {
            connector_id: connector,
            error_code: state.error_code,
            status: state.status.as_str(),
            timestamp: DateTime(view.utc_ms),
            vendor_error_code: state.vendor_error,
        };
        self.outbox.push_back(Outgoing {
            action: "StatusNotification",
            payload: to_value(&req),
            kind: Awaiting::Plain,
            triggered,
            status_of: Some(connector),
        });
    }

    fn limit(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        let now = self
            .profiles
            .limit_at(view.utc_ms, self.tx.as_ref().map(|t| t.start_ms));
        if self.last_limit != Some(now) {
            self.last_limit = Some(now);
            out.push(Output::Command(Command::Limit(now)));
        }
    }

    fn meter_payload(&self, view: &ChargerView, at_ms: i64) -> m::MeterValuesReq {
        m::MeterValuesReq {
            connector_id: 1,
            transaction_id: self
                .tx
                .as_ref()
                .and_then(|t| t.id.or_else(|| self.tx_ids.get(&t.local).copied())),
            meter_value: vec![meter::sample(view, &self.config.sampled_data, at_ms)],
        }
    }

    /// A meter value: journaled inside a transaction, else sent if possible.
    fn send_meter(&mut self, view: &ChargerView, at_ms: i64, out: &mut Vec<Output>) {
        let payload = to_value(&self.meter_payload(view, at_ms));
        if let Some(tx) = &self.tx {
            let local = tx.local;
            let queued = self
                .queue
                .iter()
                .filter(|r| r.action == "MeterValues")
                .count();
            if queued < MAX_QUEUED_METER {
                self.append("MeterValues", payload, Some(local), out);
            }
        } else if self.accepted() {
            self.outbox.push_back(Outgoing {
                action: "MeterValues",
                payload,
                kind: Awaiting::Plain,
                triggered: false,
                status_of: None,
            });
        }
    }

    fn meter_values(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        let s = &view.settings;
        let condition = if s.meter_values_condition == 1 {
            view.car == 2
        } else {
            self.tx.is_some()
        };
        let interval = s.sample_s.saturating_mul(1000);
        if condition && interval > 0 {
            match self.next_sample {
                None => self.next_sample = Some(view.rbt_ms + interval),
                Some(at) if view.rbt_ms >= at => {
                    self.next_sample = Some(if view.rbt_ms - at >= interval {
                        view.rbt_ms + interval
                    } else {
                        at + interval
                    });
                    self.send_meter(view, view.utc_ms, out);
                }
                Some(_) => {}
            }
        } else {
            self.next_sample = None;
        }
        let aligned = s.clock_aligned_s.saturating_mul(1000);
        if aligned > 0 {
            let boundary = view.utc_ms - view.utc_ms.rem_euclid(aligned);
            match self.next_aligned {
                Some(at) if view.utc_ms >= at => {
                    self.next_aligned = Some(boundary + aligned);
                    self.send_meter(view, boundary, out);
                }
                Some(at) if at > boundary + aligned => self.next_aligned = Some(boundary + aligned),
                Some(_) => {}
                None => self.next_aligned = Some(boundary + aligned),
            }
        } else {
            self.next_aligned = None;
        }
    }

    fn firmware(&mut self, view: &ChargerView) {
        let now = view.utc_ms;
        let next = match self.firmware {
            Some(Firmware::Scheduled(at)) if now >= at => Some((
                Some(Firmware::Downloading(now + FW_DOWNLOAD_MS)),
                "Downloading",
            )),
            Some(Firmware::Downloading(until)) if now >= until => {
                Some((Some(Firmware::Downloaded), "Downloaded"))
            }
            Some(Firmware::Downloaded) if self.tx.is_none() => Some((
                Some(Firmware::Installing(now + FW_INSTALL_MS)),
                "Installing",
            )),
            Some(Firmware::Installing(until)) if now >= until => Some((None, "Installed")),
            _ => None,
        };
        if let Some((state, status)) = next {
            self.firmware = state;
            self.firmware_status = status;
            self.queue_firmware_status(false);
            if status == "Installed" {
                self.firmware_status = "Idle";
                self.reset = Some((true, view.rbt_ms + RESET_WAIT_MS));
            }
        }
    }

    fn queue_firmware_status(&mut self, triggered: bool) {
        if !self.accepted() && !triggered {
            return;
        }
        self.outbox.push_back(Outgoing {
            action: "FirmwareStatusNotification",
            payload: to_value(&m::FirmwareStatusNotificationReq {
                status: self.firmware_status,
            }),
            kind: Awaiting::Plain,
            triggered,
            status_of: None,
        });
    }

    fn timers(&mut self, view: &ChargerView) {
        if self.accepted()
            && self.heartbeat_s > 0
            && view.rbt_ms - self.last_sent_rbt >= self.heartbeat_s.saturating_mul(1000)
            && self.waiting.is_none()
            && self.outbox.is_empty()
            && (self.queue.is_empty() || view.rbt_ms < self.head_retry_at)
        {
            self.outbox.push_back(Outgoing {
                action: "Heartbeat",
                payload: json!({}),
                kind: Awaiting::Plain,
                triggered: false,
                status_of: None,
            });
        }
    }

    fn send_boot(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        let req = m::BootNotificationReq {
            charge_point_vendor: self.options.vendor.clone(),
            charge_point_model: view.model.clone(),
            charge_point_serial_number: view.serial.clone(),
            firmware_version: view.firmware_version.clone(),
        };
        self.send_call(
            "BootNotification",
            &to_value(&req),
            Awaiting::Boot,
            view,
            out,
        );
    }

    fn send_call(
        &mut self,
        action: &str,
        payload: &Value,
        kind: Awaiting,
        view: &ChargerView,
        out: &mut Vec<Output>,
    ) {
        let id = self.ids.next_id();
        out.push(Output::Send(rpc::encode_call(&id, action, payload)));
        self.waiting = Some((id, kind));
        self.last_sent_rbt = view.rbt_ms;
    }

    /// Sends the next message if the line is free.
    fn pump(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        if !self.connected || self.waiting.is_some() {
            return;
        }
        match self.registration {
            Registration::Accepted => {}
            Registration::Pending(at) | Registration::Rejected(at) if view.rbt_ms >= at => {
                self.send_boot(view, out);
                return;
            }
            Registration::Pending(_) => {
                if let Some(msg) = self
                    .outbox
                    .iter()
                    .position(|o| o.triggered)
                    .and_then(|pos| self.outbox.remove(pos))
                {
                    self.send_call(msg.action, &msg.payload, msg.kind, view, out);
                }
                return;
            }
            _ => return,
        }
        if let Some(msg) = self.outbox.pop_front() {
            self.send_call(msg.action, &msg.payload, msg.kind, view, out);
            return;
        }
        if view.rbt_ms < self.head_retry_at {
            return;
        }
        while let Some(record) = self.queue.front() {
            let mut payload = record.payload.clone();
            if record.action != "StartTransaction"
                && let (Some(local), Some(obj)) = (record.local_tx, payload.as_object_mut())
                && !obj.contains_key("transactionId")
            {
                match self.tx_ids.get(&local) {
                    Some(id) => {
                        obj.insert("transactionId".into(), (*id).into());
                    }
                    // Its StartTransaction was dropped (or never known): a
                    // StopTransaction without transactionId cannot be valid.
                    None if record.action == "StopTransaction" => {
                        let seq = record.seq;
                        self.queue.pop_front();
                        out.push(Output::Journal(JournalOp::Ack {
                            seq,
                            transaction_id: None,
                        }));
                        continue;
                    }
                    None => {}
                }
            }
            let (action, seq) = (record.action.clone(), record.seq);
            self.send_call(&action, &payload, Awaiting::Journal(seq), view, out);
            return;
        }
    }

    fn reset_when_done(&mut self, view: &ChargerView, out: &mut Vec<Output>) {
        let Some((hard, deadline)) = self.reset else {
            return;
        };
        let drained = self.queue.is_empty() && self.outbox.is_empty() && self.waiting.is_none();
        if drained || !self.connected || view.rbt_ms >= deadline {
            self.reset = None;
            out.push(Output::Command(Command::Reset { hard }));
        }
    }

    fn keys(&mut self, out: &mut Vec<Output>) {
        let tx_id = self.tx.as_ref().and_then(|t| t.id);
        let mut keys = vec![
            ("ocppa", Value::Bool(self.accepted())),
            (
                "ocppaa",
                self.accepted_at
                    .filter(|_| self.accepted())
                    .map_or(Value::Null, Value::from),
            ),
            ("ocppti", tx_id.map_or(Value::Null, Value::from)),
            ("ocppte", self.tx_ended_at.map_or(Value::Null, Value::from)),
            (
                "ocppcs",
                self.connector
                    .map_or(Value::Null, |c| Value::from(c.status as u8)),
            ),
        ];
        keys.extend(self.profiles.keys());
        let changed: Vec<(&'static str, Value)> = keys
            .iter()
            .filter(|kv| !self.last_keys.contains(kv))
            .cloned()
            .collect();
        if !changed.is_empty() {
            self.last_keys = keys;
            out.push(Output::Keys(changed));
        }
    }

    // ------------------------------------------------- answers to our calls

    fn on_result(
        &mut self,
        kind: Awaiting,
        payload: &Value,
        view: &ChargerView,
        out: &mut Vec<Output>,
    ) {
        match kind {
            Awaiting::Boot => {
                match serde_json::from_value::<m::BootNotificationConf>(payload.clone()) {
                    Ok(conf) => self.on_boot(conf, view, out),
                    Err(_) => {
                        self.registration =
                            Registration::Rejected(view.rbt_ms + BOOT_RETRY_S * 1000)
                    }
                }
            }
            Awaiting::Plain => {}
            Awaiting::Authorize(tag) => {
                match serde_json::from_value::<m::AuthorizeConf>(payload.clone()) {
                    Ok(conf) if conf.id_tag_info.status == m::AuthorizationStatus::Accepted => {
                        self.authorized_tag = Some(tag.clone());
                        out.push(Output::Command(Command::Authorize { id_tag: tag }));
                    }
                    _ => out.push(Output::Command(Command::Deauthorize)),
                }
            }
            Awaiting::Journal(seq) => self.on_journal_answer(seq, Some(payload), view, out),
        }
    }

    fn on_boot(
        &mut self,
        conf: m::BootNotificationConf,
        view: &ChargerView,
        out: &mut Vec<Output>,
    ) {
        let retry = if conf.interval > 0 {
            conf.interval
        } else {
            BOOT_RETRY_S
        };
        match conf.status {
            m::RegistrationStatus::Accepted => {
                self.registration = Registration::Accepted;
                self.accepted_at = Some(view.rbt_ms);
                self.last_sent_rbt = view.rbt_ms;
                self.sent = [None, None];
                // `ocppt`: the charger takes the backend's clock (`utc` as
                // the API writes it: no zone letter)
                if view.settings.accept_backend_time
                    && let Some(time) = &conf.current_time
                {
                    let text = crate::time::format_ms(time.0);
                    out.push(Output::Command(Command::SetKey {
                        key: "utc",
                        json: format!("\"{}\"", text.trim_end_matches('Z')),
                    }));
                }
                if conf.interval > 0 {
                    self.heartbeat_s = conf.interval;
                    if conf.interval != view.settings.heartbeat_s {
                        out.push(Output::Command(Command::SetKey {
                            key: "ocpph",
                            json: conf.interval.to_string(),
                        }));
                    }
                }
            }
            m::RegistrationStatus::Pending => {
                self.registration = Registration::Pending(view.rbt_ms + retry * 1000)
            }
            m::RegistrationStatus::Rejected => {
                self.registration = Registration::Rejected(view.rbt_ms + retry * 1000)
            }
        }
    }

    fn on_failure(&mut self, kind: Awaiting, view: &ChargerView, out: &mut Vec<Output>) {
        match kind {
            Awaiting::Boot => {
                self.registration = Registration::Rejected(view.rbt_ms + BOOT_RETRY_S * 1000)
            }
            Awaiting::Plain => {}
            Awaiting::Authorize(_) => out.push(Output::Command(Command::Deauthorize)),
            Awaiting::Journal(seq) => self.on_journal_answer(seq, None, view, out),
        }
    }

    /// The answer to a journal record: `None` = CALLERROR.
    fn on_journal_answer(
        &mut self,
        seq: u64,
        payload: Option<&Value>,
        view: &ChargerView,
        out: &mut Vec<Output>,
    ) {
        let Some(record) = self.queue.front().filter(|r| r.seq == seq).cloned() else {
            return;
        };
        let start = (record.action == "StartTransaction").then(|| {
            payload.and_then(|p| serde_json::from_value::<m::StartTransactionConf>(p.clone()).ok())
        });
        let failed = payload.is_none() || matches!(start, Some(None));
        if failed {
            self.head_attempts += 1;
            if self.head_attempts < TX_ATTEMPTS {
                self.head_retry_at =
                    view.rbt_ms + TX_RETRY_S * 1000 * i64::from(self.head_attempts);
                return;
            }
        }
        self.queue.pop_front();
        self.head_attempts = 0;
        self.head_retry_at = i64::MIN;
        let transaction_id = start.flatten().map(|conf| {
            let local = record.local_tx.unwrap_or(seq);
            self.tx_ids.insert(local, conf.transaction_id);
            let refused = conf.id_tag_info.status != m::AuthorizationStatus::Accepted;
            if let Some(tx) = self.tx.as_mut().filter(|t| t.local == local) {
                tx.id = Some(conf.transaction_id);
                if refused {
                    out.push(Output::Command(Command::Deauthorize));
                    self.stop_transaction(view, "DeAuthorized", None, out);
                }
            }
            conf.transaction_id
        });
        out.push(Output::Journal(JournalOp::Ack {
            seq,
            transaction_id,
        }));
    }

    // ------------------------------------------------- calls of the backend

    /// Handles a CALL: the answer payload (its side effects go to `out`,
    /// after the answer; a triggered message waits in the outbox).
    fn on_call(
        &mut self,
        action: &str,
        p: &Map<String, Value>,
        view: &ChargerView,
        out: &mut Vec<Output>,
    ) -> Result<Value, RpcError> {
        let status = |s: &'static str| Ok(to_value(&m::StatusConf { status: s }));
        match action {
            "ChangeAvailability" => {
                let req: m::ChangeAvailabilityReq = decode(p)?;
                if req.connector_id > 1 {
                    return status("Rejected");
                }
                let operative = req.kind == m::AvailabilityType::Operative;
                if !operative && self.tx.is_some() {
                    self.scheduled_inoperative = true;
                    return status("Scheduled");
                }
                self.scheduled_inoperative = false;
                self.inoperative = !operative;
                out.push(Output::Command(Command::Operative(operative)));
                status("Accepted")
            }
            "ChangeConfiguration" => {
                let req: m::ChangeConfigurationReq = decode(p)?;
                let change = config::change(&req.key.0, &req.value.0, &mut self.config);
                if let Some(Command::SetKey { key: "ocpph", json }) = &change.command {
                    self.heartbeat_s = json.parse().unwrap_or(self.heartbeat_s);
                }
                out.extend(change.command.map(Output::Command));
                status(change.status)
            }
            "GetConfiguration" => {
                let req: m::GetConfigurationReq = decode(p)?;
                let keys: Option<Vec<String>> =
                    req.key.map(|k| k.into_iter().map(|s| s.0).collect());
                Ok(to_value(&config::get(keys.as_deref(), view, &self.config)))
            }
            "RemoteStartTransaction" => {
                let req: m::RemoteStartTransactionReq = decode(p)?;
                if req.connector_id.is_some_and(|c| c != 1)
                    || self.tx.is_some()
                    || self.inoperative
                    || view.error != 0
                {
                    return status("Rejected");
                }
                if let Some(profile) = req
                    .charging_profile
                    .filter(|_| self.options.remote_start_profile)
                {
                    if profile.charging_profile_purpose != m::ProfilePurpose::TxProfile
                        || profile.charging_schedule.charging_rate_unit == m::RateUnit::W
                    {
                        return status("Rejected");
                    }
                    self.pending_tx_profile = Some(profile);
                }
                self.authorized_tag = Some(req.id_tag.0.clone());
                self.finishing = false;
                out.push(Output::Command(Command::Authorize {
                    id_tag: req.id_tag.0,
                }));
                status("Accepted")
            }
            "RemoteStopTransaction" => {
                let req: m::RemoteStopTransactionReq = decode(p)?;
                if self
                    .tx
                    .as_ref()
                    .is_some_and(|t| t.id == Some(req.transaction_id))
                {
                    out.push(Output::Command(Command::Deauthorize));
                    self.stop_transaction(view, "Remote", None, out);
                    return status("Accepted");
                }
                status("Rejected")
            }
            "Reset" => {
                let req: m::ResetReq = decode(p)?;
                let hard = req.kind == m::ResetType::Hard;
                self.stop_transaction(
                    view,
                    if hard { "HardReset" } else { "SoftReset" },
                    None,
                    out,
                );
                self.reset = Some((hard, view.rbt_ms + RESET_WAIT_MS));
                status("Accepted")
            }
            "UnlockConnector" => {
                let req: m::UnlockConnectorReq = decode(p)?;
                if req.connector_id != 1 {
                    return status("NotSupported");
                }
                if self.tx.is_some() {
                    out.push(Output::Command(Command::Deauthorize));
                    self.stop_transaction(view, "UnlockCommand", None, out);
                }
                out.push(Output::Command(Command::Unlock));
                status("Unlocked")
            }
            "TriggerMessage" => self.on_trigger(decode(p)?, view),
            "SetChargingProfile" => {
                let req: m::SetChargingProfileReq = decode(p)?;
                let running = self.tx.as_ref().map(|t| t.id);
                match self.profiles.set(
                    req.connector_id,
                    req.cs_charging_profiles,
                    running,
                    view.utc_ms,
                ) {
                    Ok(()) => status("Accepted"),
                    Err(_) => status("Rejected"),
                }
            }
            "ClearChargingProfile" => {
                let req: m::ClearChargingProfileReq = decode(p)?;
                status(if self.profiles.clear(&req) {
                    "Accepted"
                } else {
                    "Unknown"
                })
            }
            "UpdateFirmware" => {
                let req: m::UpdateFirmwareReq = decode(p)?;
                self.firmware = Some(Firmware::Scheduled(req.retrieve_date.0));
                Ok(json!({}))
            }
            "DataTransfer" => {
                let _: m::DataTransferReq = decode(p)?;
                status("UnknownVendorId")
            }
            a if rpc::known_unsupported(a) => Err(RpcError::new(
                ErrorCode::NotSupported,
                format!("{a} is not supported"),
            )),
            a => Err(RpcError::new(
                ErrorCode::NotImplemented,
                format!("unknown action {a}"),
            )),
        }
    }

    fn on_trigger(
        &mut self,
        req: m::TriggerMessageReq,
        view: &ChargerView,
    ) -> Result<Value, RpcError> {
        let answer = |s: &'static str| to_value(&m::StatusConf { status: s });
        if req.connector_id.is_some_and(|c| c > 1) {
            return Ok(answer("Rejected"));
        }
        let plain = |action: &'static str, payload: Value| Outgoing {
            action,
            payload,
            kind: Awaiting::Plain,
            triggered: true,
            status_of: None,
        };
        match req.requested_message {
            m::MessageTrigger::DiagnosticsStatusNotification => {
                return Ok(answer("NotImplemented"));
            }
            m::MessageTrigger::BootNotification => {
                let payload = to_value(&m::BootNotificationReq {
                    charge_point_vendor: self.options.vendor.clone(),
                    charge_point_model: view.model.clone(),
                    charge_point_serial_number: view.serial.clone(),
                    firmware_version: view.firmware_version.clone(),
                });
                self.outbox.push_front(Outgoing {
                    kind: Awaiting::Boot,
                    ..plain("BootNotification", payload)
                });
            }
            m::MessageTrigger::Heartbeat => self.outbox.push_front(plain("Heartbeat", json!({}))),
            m::MessageTrigger::MeterValues => {
                let payload = to_value(&self.meter_payload(view, view.utc_ms));
                self.outbox.push_front(plain("MeterValues", payload));
            }
            m::MessageTrigger::FirmwareStatusNotification => {
                let payload = to_value(&m::FirmwareStatusNotificationReq {
                    status: self.firmware_status,
                });
                self.outbox
                    .push_front(plain("FirmwareStatusNotification", payload));
            }
            m::MessageTrigger::StatusNotification => {
                let facts = self.facts();
                let connectors: Vec<i64> = req.connector_id.map_or(vec![0, 1], |c| vec![c]);
                for c in connectors.into_iter().rev() {
                    let state = if c == 0 {
                        status::charge_point(view, facts)
                    } else {
                        status::connector(view, facts)
                    };
                    self.outbox.retain(|o| o.status_of != Some(c));
                    let req = m::StatusNotificationReq {
                        connector_id: c,
                        error_code: state.error_code,
                        status: state.status.as_str(),
                        timestamp: DateTime(view.utc_ms),
                        vendor_error_code: state.vendor_error,
                    };
                    self.outbox.push_front(Outgoing {
                        status_of: Some(c),
                        ..plain("StatusNotification", to_value(&req))
                    });
                    if let Some(slot) = self.sent.get_mut(c as usize) {
                        *slot = Some(state);
                    }
                }
            }
        }
        Ok(answer("Accepted"))
    }
}

/// The transaction a replayed queue leaves open (a StartTransaction without
/// its StopTransaction).
fn open_transaction(queued: &[JournalRecord]) -> Option<Transaction> {
    let start = queued
        .iter()
        .rev()
        .find(|r| r.action == "StartTransaction")?;
    let local = start.local_tx.unwrap_or(start.seq);
    let stopped = queued
        .iter()
        .any(|r| r.action == "StopTransaction" && r.local_tx == Some(local) && r.seq > start.seq);
    if stopped {
        return None;
    }
    Some(Transaction {
        local,
        id: None,
        id_tag: start.payload["idTag"]
            .as_str()
            .unwrap_or(NO_CARD)
            .to_owned(),
        start_ms: start.payload["timestamp"]
            .as_str()
            .and_then(crate::time::parse_ms)
            .unwrap_or(0),
    })
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
