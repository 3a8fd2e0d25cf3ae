//! The OCPP client's side of the `Device` port: its settings, the session's
//! view of the charger, and carrying out the session's keys and commands.

use super::OcppConfig;
use crate::device::Device;
use crate::tls::TlsSettings;
use goe_engine::Charger;
use goe_engine::OcppLink;
use goe_keys::Value;
use goe_ocpp::view::{CardSwipe, ChargerView, Command, Settings};

fn text(c: &Charger, key: &str) -> String {
    c.value(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn flag(c: &Charger, key: &str) -> bool {
    c.value(key).and_then(Value::as_bool) == Some(true)
}

fn int(c: &Charger, key: &str) -> Option<i64> {
    c.value(key).and_then(Value::as_i64)
}

fn float(c: &Charger, key: &str) -> Option<f64> {
    c.value(key).and_then(Value::as_f64)
}

/// The OCPP settings (`ocppe`, `ocppu`, the TLS keys).
pub fn config(device: &Device) -> OcppConfig {
    device.with_charger(|c, _| settings_of(c))
}

fn settings_of(c: &Charger) -> OcppConfig {
    OcppConfig {
        enabled: flag(c, "ocppe"),
        url: text(c, "ocppu"),
        tls: TlsSettings {
            server_cert: text(c, "ocppsc"),
            client_cert: text(c, "ocppcc"),
            client_key: text(c, "ocppck"),
            global_ca: flag(c, "ocppg"),
            skip_verification: flag(c, "ocppss"),
            skip_name_check: flag(c, "ocppcn"),
        },
    }
}

/// The keys whose change restarts the client.
static SETTINGS_KEYS: std::sync::LazyLock<goe_engine::KeySet> = std::sync::LazyLock::new(|| {
    let mut set = goe_engine::KeySet::new();
    for key in [
        "ocppe", "ocppu", "ocppsc", "ocppcc", "ocppck", "ocppg", "ocppss", "ocppcn",
    ] {
        if let Some(kid) = goe_keys::key_id(key) {
            set.insert(kid);
        }
    }
    set
});

/// What a change notification means to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The OCPP settings differ from the client's.
    Settings,
    /// The charger restarted (`rbc` moved): start over as after a boot.
    Restarted,
    /// Anything else (a step, another key).
    Other,
}

/// Tells a change notification that concerns the client from the many that
/// do not (every simulated second notifies), with one short look under the
/// lock and without copying the settings (a fleet has thousands of clients).
#[derive(Debug)]
pub struct Watch {
    seen: u64,
    boots: i64,
}

impl Watch {
    /// Starts watching from now.
    pub fn new(device: &Device) -> Watch {
        device.with_charger(|c, _| Watch {
            seen: c.generation(),
            boots: int(c, "rbc").unwrap_or(0),
        })
    }

    /// What changed since the last look, for a client running `config`.
    pub fn check(&mut self, device: &Device, config: &OcppConfig) -> Change {
        device.with_charger(|c, _| {
            let touched =
                c.changed_after(Some(&SETTINGS_KEYS), self.seen, &goe_engine::KeySet::new());
            self.seen = c.generation();
            if int(c, "rbc").unwrap_or(0) != self.boots {
                Change::Restarted
            } else if touched && settings_of(c) != *config {
                Change::Settings
            } else {
                Change::Other
            }
        })
    }
}

/// What the session sees of the charger now.
pub fn view(device: &Device) -> ChargerView {
    device.with_charger(|c, now| {
        let mut nrg = [0.0; 16];
        if let Some(Value::Array(values)) = c.value("nrg") {
            for (slot, v) in nrg.iter_mut().zip(values) {
                *slot = v.as_f64().unwrap_or(0.0);
            }
        }
        let temperature_c = match c.value("tma") {
            Some(Value::Array(t)) => t
                .iter()
                .filter_map(Value::as_f64)
                .fold(None, |hot: Option<f64>, t| {
                    Some(hot.map_or(t, |h| h.max(t)))
                }),
            _ => None,
        };
        let amp = int(c, "amp").unwrap_or(16);
        ChargerView {
            utc_ms: now.millis(),
            rbt_ms: c.millis_since_boot(now),
            serial: c.serial().to_owned(),
            model: c.profile().hello.devicetype.to_owned(),
            firmware_version: c.profile().fwv.to_owned(),
            car: int(c, "car").unwrap_or(0) as u8,
            error: int(c, "err").unwrap_or(0) as u8,
            model_status: int(c, "modelStatus").unwrap_or(0),
            allowed: flag(c, "alw"),
            access_control: int(c, "acs").unwrap_or(0) as u8,
            trx: int(c, "trx"),
            transaction_id: int(c, "ocppti"),
            swipe: c
                .last_swipe()
                .map(|(seq, id_tag)| CardSwipe { seq, id_tag }),
            energy_wh: float(c, "eto").unwrap_or(0.0),
            nrg,
            offered_a: float(c, "acu").unwrap_or(amp as f64),
            phases: int(c, "pnp").unwrap_or(0) as u8,
            frequency_hz: float(c, "fhz").filter(|f| *f > 0.0),
            temperature_c,
            settings: Settings {
                heartbeat_s: int(c, "ocpph").unwrap_or(3600),
                sample_s: int(c, "ocppi").unwrap_or(60),
                clock_aligned_s: int(c, "ocppai").unwrap_or(0),
                dummy_id_tag: text(c, "ocppd"),
                rotate_phases: flag(c, "ocppr"),
                meter_values_condition: int(c, "ocppcm").unwrap_or(0) as u8,
                allow_offline_unknown: flag(c, "ocppao"),
                local_authorize_offline: flag(c, "ocpplo"),
                local_auth_list: flag(c, "ocppla"),
                requested_current_a: amp,
                min_current_a: int(c, "mca").unwrap_or(6),
                led_brightness: int(c, "lbr").unwrap_or(255),
                accept_backend_time: flag(c, "ocppt"),
            },
        }
    })
}

/// Shows the connection's state in `ocpps`, `ocppc`, `ocppca`, `ocpple`,
/// `ocpplea` (the session shows `ocppa`/`ocppaa` itself) and tells the
/// engine (the fallback current applies while no backend accepted it).
pub fn link_status(device: &Device, started: bool, connected: bool, error: Option<String>) {
    device.update_status(|c, now| {
        let rbt = c.millis_since_boot(now);
        let was_connected = flag(c, "ocppc");
        let mut changed = put(c, "ocpps", Value::Bool(started));
        changed |= put(c, "ocppc", Value::Bool(connected));
        if connected && !was_connected {
            changed |= put(c, "ocppca", Value::Int(rbt));
        }
        if !connected {
            changed |= put(c, "ocppca", Value::Null);
            changed |= put(c, "ocppa", Value::Bool(false));
            changed |= put(c, "ocppaa", Value::Null);
        }
        if let Some(e) = error {
            changed |= put(c, "ocpple", Value::Str(e));
            changed |= put(c, "ocpplea", Value::Int(rbt));
        }
        let link = OcppLink {
            enabled: started,
            connected,
            accepted: connected && flag(c, "ocppa"),
        };
        if c.ocpp_link() != link {
            c.set_ocpp_link(now, link);
            changed = true;
        }
        changed
    });
}

/// Sets a status key if its value differs (so a session reporting the same
/// keys again wakes nobody); `true` when it changed.
fn put(c: &mut Charger, key: &str, value: Value) -> bool {
    if c.value(key) == Some(&value) {
        return false;
    }
    c.set_ocpp_status(key, value).is_some()
}

/// Shows the keys the session owns (`ocppa` also tells the engine that the
/// backend accepted the charger); `ocppti` is persisted, so this saves
/// (fsync) when it changed, before the session goes on.
pub async fn keys(device: &std::sync::Arc<Device>, keys: Vec<(&'static str, serde_json::Value)>) {
    let dev = device.clone();
    let saved = tokio::task::spawn_blocking(move || {
        dev.act(|c, now| {
            for (key, json) in keys {
                put(c, key, Value::from_json(&json));
            }
            let mut link = c.ocpp_link();
            let accepted = link.connected && flag(c, "ocppa");
            if link.accepted != accepted {
                link.accepted = accepted;
                c.set_ocpp_link(now, link);
            }
        })
    })
    .await;
    if let Ok(Err(e)) = saved {
        tracing::warn!("ocpp: {e}");
    }
}

/// Carries out one of the session's commands; durable before it returns.
pub async fn command(device: &std::sync::Arc<Device>, command: Command) {
    let dev = device.clone();
    // writes are durable before they count: blocking (fsync)
    let result = tokio::task::spawn_blocking(move || apply(&dev, command)).await;
    if let Ok(Err(e)) = result {
        tracing::warn!("ocpp: {e}");
    }
}

fn apply(device: &Device, command: Command) -> Result<(), String> {
    let saved = |r: Result<(), goe_store::StoreError>| r.map_err(|e| e.to_string());
    match command {
        Command::Authorize { id_tag } => saved(device.act(|c, now| c.ocpp_authorize(now, &id_tag))),
        Command::Deauthorize => saved(device.act(|c, now| c.ocpp_deauthorize(now))),
        Command::Limit(limit) => saved(device.act(|c, now| {
            c.set_ocpp_limit(now, limit.map(|l| (l.amps, l.phases)));
        })),
        Command::Operative(operative) => saved(device.act(|c, now| {
            c.set_ocpp_operative(now, operative);
        })),
        Command::Unlock => saved(device.act(|c, now| {
            c.unlock_connector(now);
        })),
        Command::SetKey { key, json } => device.set_one(key, &json).map_err(|e| e.to_string()),
        // a restart as `rst` does it (rbc + 1), after the session's last frames
        Command::Reset { .. } => device.set_one("rst", "1").map_err(|e| e.to_string()),
    }
}
