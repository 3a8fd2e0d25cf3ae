//! The charger's side of OCPP (issue #14): what the backend decided and what
//! the OCPP session needs to see, as inputs of the decision cascade.
//!
//! The protocol itself is `goe-ocpp`'s sans-I/O session; the server maps its
//! commands to the methods here (`ocpp_authorize`, `set_ocpp_limit`, …) and
//! reports the connection with [`Charger::set_ocpp_link`]. Every effect
//! holds only while `ocppe` is true (a charger with OCPP switched off
//! behaves as before), in this order in the cascade (`logic.rs`):
//!
//! - `ocppio` / ChangeAvailability Inoperative → not charging, modelStatus
//!   37 (after errors and overtemperature, before access control);
//! - a RemoteStop / rejected authorization with access control off latches
//!   "not charging" (28) until the next authorization or an unplug;
//! - with access control (`acs` 1) a swipe does not authorize locally:
//!   charging waits (2) for [`Charger::ocpp_authorize`];
//! - the fallback current `ocppf` while no backend accepted the charger,
//!   and the charging profiles' limit ([`Charger::set_ocpp_limit`]), are
//!   current limits like load balancing: below `mca` → 35 or 28;
//!   `numberPhases` 1 → single phase while it holds (like `psm` 1).
//!
//! Choices where the real charger's behaviour is unknown:
//! `crates/goe-engine/OCPP-COMPAT-NOTES.md`.

use crate::charger::{Charger, SetOutcome};
use crate::clock::SimTime;
use crate::ids::k;
use crate::world::SimError;
use goe_keys::Value;

/// modelStatus NotChargingBecauseOcppDoesntWant.
pub const OCPP_DOESNT_WANT: i64 = 28;
/// modelStatus NotChargingBecauseOcppFallback.
pub const OCPP_FALLBACK: i64 = 35;
/// modelStatus NotChargingBecauseOcppInoperable.
pub const OCPP_INOPERABLE: i64 = 37;

/// The longest OCPP 1.6 `idTag` (CiString20Type).
pub const MAX_ID_TAG_LEN: usize = 20;

/// The state of the OCPP connection, as the server reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OcppLink {
    /// The OCPP client runs (`ocpps`). Informational: the effects follow
    /// `ocppe` itself.
    pub enabled: bool,
    /// The WebSocket to the backend is open (`ocppc`).
    pub connected: bool,
    /// The backend accepted the BootNotification on this connection (`ocppa`).
    pub accepted: bool,
}

/// A charging profiles' limit: amperes per phase and, if the active period
/// names it, `numberPhases`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OcppLimit {
    /// A per phase (0 = pause).
    pub amps: f64,
    /// `numberPhases` (1 switches to one phase).
    pub phases: Option<u8>,
}

/// A card presented at the charger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swipe {
    /// Grows by one with every swipe (from 1 after a boot; kept across
    /// restarts so a session never sees a number twice).
    pub seq: u64,
    /// The card's id (the OCPP `idTag`).
    pub id_tag: String,
}

/// What the engine keeps of OCPP between seconds (not shown as keys).
#[derive(Debug, Clone, Default)]
pub struct OcppState {
    /// The last connection state the server reported.
    pub link: OcppLink,
    /// The charging profiles' limit, if any.
    pub limit: Option<OcppLimit>,
    /// The idTag of the backend's authorization in force, if any.
    pub authorized: Option<String>,
    /// Charging stopped by the backend (RemoteStop, rejected idTag, reset
    /// with `osr`), until the next authorization or an unplug.
    pub stopped: bool,
    /// The connector was unlocked by UnlockConnector: the cable lock stays
    /// open until the car is unplugged or a new authorization comes.
    pub unlocked: bool,
    /// The last card presented.
    pub swipe: Option<Swipe>,
    /// Inoperative on firmware without the `ocppio` key (not persisted).
    pub inoperative: bool,
}

impl Charger {
    /// Whether OCPP is on (`ocppe`; always false where the firmware lacks it).
    pub(crate) fn ocpp_on(&self) -> bool {
        self.profile.def(k().ocppe).is_some() && self.values[k().ocppe].as_bool() == Some(true)
    }

    /// modelStatus `code` where the firmware's enum has it, else 28, else 4
    /// (NotChargingBecauseForceStateOff).
    pub(crate) fn ocpp_code(&self, code: i64) -> i64 {
        let def = self.def(k().model_status);
        [code, OCPP_DOESNT_WANT]
            .into_iter()
            .find(|c| def.enum_name(*c).is_some())
            .unwrap_or(4)
    }

    /// Whether the connector is inoperative (ChangeAvailability) now.
    pub(crate) fn ocpp_inoperative(&self) -> bool {
        let inoperative = if self.profile.def(k().ocppio).is_some() {
            self.values[k().ocppio].as_bool() == Some(true)
        } else {
            self.ocpp.inoperative
        };
        self.ocpp_on() && inoperative
    }

    /// Whether the backend stopped charging (see [`OcppState::stopped`]).
    pub(crate) fn ocpp_stopped(&self) -> bool {
        self.ocpp_on() && self.ocpp.stopped
    }

    /// The OCPP current limit this second, whole amperes (never above the
    /// limit), with the modelStatus it gives below `mca`: the fallback
    /// current `ocppf` (35) while no backend accepted the charger, and the
    /// charging profiles' limit (28); the lower one binds.
    pub(crate) fn ocpp_current_limit(&self) -> Option<(i64, i64)> {
        if !self.ocpp_on() {
            return None;
        }
        let online = self.ocpp.link.connected && self.ocpp.link.accepted;
        let fallback = if online {
            None
        } else {
            self.values[k().ocppf]
                .as_i64()
                .map(|a| (a, self.ocpp_code(OCPP_FALLBACK)))
        };
        let profile = self.ocpp.limit.map(|l| {
            let amps = if l.amps.is_finite() {
                l.amps.floor().clamp(0.0, 1000.0) as i64
            } else {
                0
            };
            (amps, self.ocpp_code(OCPP_DOESNT_WANT))
        });
        match (fallback, profile) {
            (Some(f), Some(p)) => Some(if p.0 < f.0 { p } else { f }),
            (f, p) => f.or(p),
        }
    }

    /// Whether the charging profiles ask for one phase now.
    pub(crate) fn ocpp_single_phase(&self) -> bool {
        self.ocpp_on() && self.ocpp.limit.is_some_and(|l| l.phases == Some(1))
    }

    /// How long an authorization without a car lasts: `txt` (OCPP
    /// ConnectionTimeOut, s) while OCPP is on and it is set, else the
    /// charger's minute.
    pub(crate) fn trx_without_car_ms(&self) -> i64 {
        let txt = self.values[k().txt].as_i64().unwrap_or(0);
        if self.ocpp_on() && self.profile.def(k().txt).is_some() && txt > 0 {
            txt.saturating_mul(1000)
        } else {
            crate::charger::TRX_WITHOUT_CAR_MS
        }
    }

    /// The authorization ended (unplug, expiry): forget what the backend said.
    pub(crate) fn ocpp_session_ended(&mut self) {
        self.ocpp.authorized = None;
        self.ocpp.stopped = false;
        self.ocpp.unlocked = false;
    }

    /// Remembers a presented card for the OCPP session.
    pub(crate) fn record_swipe(&mut self, id_tag: &str) {
        let seq = self.ocpp.swipe.as_ref().map_or(1, |s| s.seq + 1);
        self.ocpp.swipe = Some(Swipe {
            seq,
            id_tag: id_tag.to_owned(),
        });
    }

    /// The slot of the learned card with id `id_tag`, if any.
    fn card_slot_of(&self, id_tag: &str) -> Option<usize> {
        (0..10).find(|slot| self.card_id(*slot) == Some(id_tag))
    }
}

/// The OCPP commands (the server maps the session's commands to these).
impl Charger {
    /// The backend authorized `id_tag` (Authorize.conf Accepted, or a
    /// RemoteStartTransaction): charging may start, as after a card swipe.
    /// `trx` becomes the slot + 1 of the learned card with this id, or 0
    /// (no local card) for any other idTag.
    pub fn ocpp_authorize(&mut self, now: SimTime, id_tag: &str) {
        self.generation += 1;
        let trx = self.card_slot_of(id_tag).map_or(0, |slot| slot as i64 + 1);
        self.put(k().trx, Value::Int(trx));
        if self.world.car.is_none() {
            self.logic.trx_without_car_since = Some(self.since_boot(now));
        }
        self.ocpp.authorized = Some(id_tag.to_owned());
        self.ocpp.stopped = false;
        self.ocpp.unlocked = false;
    }

    /// The authorization ends (RemoteStopTransaction, an idTag the backend
    /// rejected): `trx` null, charging stops; with access control it waits
    /// for the next authorization (2), without it stays off (28) until the
    /// next authorization or an unplug. The car stays plugged.
    pub fn ocpp_deauthorize(&mut self, now: SimTime) {
        let _ = now;
        self.generation += 1;
        self.put(k().trx, Value::Null);
        self.logic.trx_without_car_since = None;
        self.ocpp.authorized = None;
        self.ocpp.stopped = true;
    }

    /// The charging profiles' limit now (`None`: no OCPP limit), applied
    /// from the next second.
    pub fn set_ocpp_limit(&mut self, now: SimTime, limit: Option<(f64, Option<u8>)>) {
        let _ = now;
        self.ocpp.limit = limit.map(|(amps, phases)| OcppLimit { amps, phases });
    }

    /// The state of the connection to the backend (for the fallback current).
    pub fn set_ocpp_link(&mut self, now: SimTime, link: OcppLink) {
        let _ = now;
        self.ocpp.link = link;
    }

    /// ChangeAvailability: `false` = Inoperative (modelStatus 37 while OCPP
    /// is on). Persisted in `ocppio` where the firmware has it (save
    /// before answering when the outcome says so); elsewhere kept until
    /// the process ends.
    pub fn set_ocpp_operative(&mut self, now: SimTime, operative: bool) -> SetOutcome {
        let _ = now;
        self.generation += 1;
        if self.profile.def(k().ocppio).is_some() {
            self.put(k().ocppio, Value::Bool(!operative));
            SetOutcome {
                persist: true,
                restart: false,
            }
        } else {
            self.ocpp.inoperative = !operative;
            SetOutcome::default()
        }
    }

    /// UnlockConnector: a running session ends as after a RemoteStop, and
    /// the cable lock opens until the car is unplugged or a new
    /// authorization comes. Returns whether the connector is unlocked
    /// (always: the virtual lock never jams).
    pub fn unlock_connector(&mut self, now: SimTime) -> bool {
        if !self.values[k().trx].is_null() || self.ocpp.authorized.is_some() {
            self.ocpp_deauthorize(now);
        }
        self.generation += 1;
        self.ocpp.unlocked = true;
        self.put(k().cus, Value::Int(1));
        true
    }

    /// Presents an RFID card by its id (OCPP `idTag`, 1..=20 printable
    /// ASCII characters). While `ocppe` is on the charger does not decide
    /// itself: the swipe is recorded ([`Charger::last_swipe`]) for the
    /// session, which asks the backend. Otherwise a learned card with this
    /// id starts a transaction (`trx` = slot + 1) and an unknown one is
    /// remembered for `lrn`, like [`Charger::swipe_card`].
    pub fn swipe_id(&mut self, now: SimTime, id_tag: &str) -> Result<(), SimError> {
        self.generation += 1;
        let printable = id_tag.bytes().all(|b| b.is_ascii_graphic());
        if id_tag.is_empty() || id_tag.len() > MAX_ID_TAG_LEN || !printable {
            return Err(SimError::BadParameter(format!(
                "id must be 1..{MAX_ID_TAG_LEN} printable ASCII characters"
            )));
        }
        self.record_swipe(id_tag);
        self.logic.last_read_card = Some(id_tag.to_owned());
        if !self.ocpp_on()
            && let Some(slot) = self.card_slot_of(id_tag)
        {
            self.authorize_card(now, slot);
        }
        Ok(())
    }

    /// The last card presented since the charger booted: its sequence
    /// number (grows with every swipe) and id tag.
    pub fn last_swipe(&self) -> Option<(u64, String)> {
        self.ocpp.swipe.as_ref().map(|s| (s.seq, s.id_tag.clone()))
    }

    /// The idTag of the backend's authorization in force, if any.
    pub fn ocpp_authorized(&self) -> Option<&str> {
        self.ocpp.authorized.as_deref()
    }

    /// The OCPP connection state last reported with [`Charger::set_ocpp_link`].
    pub fn ocpp_link(&self) -> OcppLink {
        self.ocpp.link
    }

    /// Sets a status key the OCPP session owns (`ocppa`, `ocppaa`, `ocppti`,
    /// `ocppte`, `ocppcs`, `ocppmp`/`ocppdp`/`ocpptp`, and the server's
    /// `ocpps`, `ocppc`, `ocppca`, `ocpple`, `ocpplea`), whatever its API
    /// access (`ocppti` is writable over the API too). Returns `None` for
    /// any other key or one this firmware lacks, else whether to persist
    /// (`ocppti` survives a reboot).
    pub fn set_ocpp_status(&mut self, name: &str, value: Value) -> Option<SetOutcome> {
        const OWNED: &[&str] = &[
            "ocppa", "ocppaa", "ocppti", "ocppte", "ocppcs", "ocppmp", "ocppdp", "ocpptp", "ocpps",
            "ocppc", "ocppca", "ocpple", "ocpplea",
        ];
        if !OWNED.contains(&name) {
            return None;
        }
        let (kid, def) = self.profile.key(name)?;
        self.generation += 1;
        let changed = self.values[kid] != value;
        self.put(kid, value);
        Some(SetOutcome {
            persist: changed && def.persisted(),
            restart: false,
        })
    }
}
