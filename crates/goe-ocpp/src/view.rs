//! The contract between the session and the server: what the session sees of
//! the charger ([`ChargerView`]) and what it asks for ([`Output`]).

/// A snapshot of the charger, taken by the server under the device lock at
/// every simulated second and with every received frame.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargerView {
    /// Simulated wall clock, UTC ms since the epoch: every OCPP timestamp.
    pub utc_ms: i64,
    /// Simulated ms since the charger booted (`rbt`): for `ocpp*a` keys.
    pub rbt_ms: i64,
    /// `sse`: the charge point's serial number.
    pub serial: String,
    /// `chargePointModel` of the hardware (`go-eCharger_V4`, …).
    pub model: String,
    /// `firmwareVersion` as the profile's firmware sends it (`60.5`, `055.5`).
    pub firmware_version: String,
    /// `car`: 1 idle, 2 charging, 3 waiting for the car, 4 complete, 5 error, 6 initializing.
    pub car: u8,
    /// `err`: 0 none, else the go-e error code.
    pub error: u8,
    /// `modelStatus`: why the charger charges or not.
    pub model_status: i64,
    /// `alw`: the charger allows the car to charge now.
    pub allowed: bool,
    /// `acs`: 0 open (no authorization needed), 1 a card or the backend authorizes.
    pub access_control: u8,
    /// `trx`: `None` no transaction, `Some(0)` authorized without a card,
    /// `Some(n)` by card slot n.
    pub trx: Option<i64>,
    /// `ocppti`: the backend's transactionId of the transaction that runs,
    /// as the charger kept it (persisted): after a restart the session learns
    /// from it that a transaction the backend knows was running.
    pub transaction_id: Option<i64>,
    /// The last card presented (RFID), if any since boot: its sequence number
    /// grows with every swipe, so the session sees each swipe once.
    pub swipe: Option<CardSwipe>,
    /// `eto`: the energy register, Wh.
    pub energy_wh: f64,
    /// `nrg`: U L1 L2 L3 N (V), I L1 L2 L3 (A), P L1 L2 L3 N total (W), pf L1 L2 L3 N (%).
    pub nrg: [f64; 16],
    /// The current the charger offers the car now (A).
    pub offered_a: f64,
    /// `pnp`: phases in use (0 when not charging).
    pub phases: u8,
    /// Grid frequency (Hz), if measured.
    pub frequency_hz: Option<f64>,
    /// The hottest temperature sensor (°C), if any.
    pub temperature_c: Option<f64>,
    /// The OCPP settings of the API keys the session follows.
    pub settings: Settings,
}

/// A card presented to the charger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSwipe {
    /// Grows by one with every swipe.
    pub seq: u64,
    /// The card's id (OCPP `idTag`, at most 20 characters).
    pub id_tag: String,
}

/// The API keys behind the OCPP behaviour (and behind the configuration keys
/// of GetConfiguration/ChangeConfiguration that map to API keys).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `ocpph`: HeartbeatInterval, s.
    pub heartbeat_s: i64,
    /// `ocppi`: MeterValueSampleInterval, s (0 = none).
    pub sample_s: i64,
    /// `ocppai`: ClockAlignedDataInterval, s (0 = none).
    pub clock_aligned_s: i64,
    /// `ocppd`: the idTag of a transaction started without a card.
    pub dummy_id_tag: String,
    /// `ocppr`: report the phases rotated.
    pub rotate_phases: bool,
    /// `ocppcm`: 0 meter values while a transaction runs, 1 while charging.
    pub meter_values_condition: u8,
    /// `ocppao` AllowOfflineTxForUnknownId, `ocpplo` LocalAuthorizeOffline,
    /// `ocppla` LocalAuthListEnabled.
    pub allow_offline_unknown: bool,
    /// `ocpplo`.
    pub local_authorize_offline: bool,
    /// `ocppla`.
    pub local_auth_list: bool,
    /// `amp`: RequestedCurrent (A).
    pub requested_current_a: i64,
    /// `mca`: MinChargingCurrent (A).
    pub min_current_a: i64,
    /// `lbr`: LightIntensity (0–255 on the charger, % in OCPP).
    pub led_brightness: i64,
    /// `ocppt`: take the backend's time from BootNotification.conf.
    pub accept_backend_time: bool,
}

/// What the session asks of the server, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A text frame to send now.
    Send(String),
    /// A record of the durable transaction queue: the server makes it durable
    /// (fsync) before it carries out any later output.
    Journal(JournalOp),
    /// Something the charger must do.
    Command(Command),
    /// OCPP status keys the session owns, as JSON values, to show on the charger.
    Keys(Vec<(&'static str, serde_json::Value)>),
    /// Close the connection (the server reconnects with its backoff).
    Close,
}

/// The durable queue of transaction messages (StartTransaction,
/// StopTransaction, transaction MeterValues): none is lost across a crash.
#[derive(Debug, Clone, PartialEq)]
pub enum JournalOp {
    /// A message to deliver in order.
    Append(JournalRecord),
    /// The backend answered the message with sequence number `seq`.
    Ack {
        /// The record answered.
        seq: u64,
        /// StartTransaction.conf: the backend's transactionId.
        transaction_id: Option<i64>,
    },
}

/// One queued transaction message, as kept on disk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JournalRecord {
    /// Order of delivery.
    pub seq: u64,
    /// The OCPP action.
    pub action: String,
    /// The payload; a StopTransaction or MeterValues of a transaction whose
    /// StartTransaction is still unanswered names it by `local_tx`, and the
    /// session fills in the backend's id when it sends.
    pub payload: serde_json::Value,
    /// The charge point's own number of the transaction the record belongs to.
    pub local_tx: Option<u64>,
}

/// An order for the charger (the server maps each to a `Charger` call).
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// The backend authorized a session (Authorize.conf or
    /// RemoteStartTransaction accepted): charging may start (`trx`).
    Authorize {
        /// The idTag the backend accepted.
        id_tag: String,
    },
    /// The authorization ends (RemoteStopTransaction, a rejected idTag):
    /// charging stops, the car stays plugged.
    Deauthorize,
    /// The charging profiles' limit now; `None` = no OCPP limit.
    Limit(Option<Limit>),
    /// ChangeAvailability: `false` = Inoperative (`ocppio`, modelStatus 37).
    Operative(bool),
    /// Reset: a restart of the charger (`rbc` + 1).
    Reset {
        /// Hard (`true`) or soft.
        hard: bool,
    },
    /// UnlockConnector.
    Unlock,
    /// ChangeConfiguration of a key that is an API key (HeartbeatInterval →
    /// `ocpph`, RequestedCurrent → `amp`, …): set it as `/api/set` would,
    /// and durably.
    SetKey {
        /// The API key.
        key: &'static str,
        /// Its new value as JSON text.
        json: String,
    },
}

/// The current limit of the charging profiles at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// Amperes per phase (0 = pause).
    pub amps: f64,
    /// `numberPhases` of the active period, if it names one (1 switches the
    /// charger to one phase).
    pub phases: Option<u8>,
}
