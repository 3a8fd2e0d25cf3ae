//! Home Assistant MQTT discovery (`mhe`, `mht`): the retained configuration
//! messages that make Home Assistant create the charger's entities.
//!
//! Pure: from the charger (its profile's key table, serial, `mtp`, `fwv`,
//! `typ`) and the discovery prefix (`mht`) it builds `(topic, payload)` pairs;
//! the server publishes them retained and removes them with empty payloads.
//! Conventions (docs/compat.md "Home Assistant MQTT discovery (#15)"):
//!
//! - topic `<mht>/<component>/go-echarger_<serial>/<object>/config`;
//! - `unique_id` and `object_id` `go-echarger_<serial>_<object>` (entity ids
//!   `sensor.go_echarger_<serial>_power_total`, as real units show);
//! - state topics are the charger's own `<mtp><key>` topics with their JSON
//!   values (`value_template` picks array elements, maps enum numbers to
//!   their names), command topics `<mtp><key>/set`;
//! - availability on `<mtp>mcc` (`true`/`false`, the last will's topic).
//!
//! Which keys become which entity is the [`ENTITIES`] list; units, enum
//! options, number ranges and writability come from the key table of the
//! charger's firmware, and a key the firmware does not publish over MQTT
//! gives no entity (its state topic would stay empty).

use goe_engine::Charger;
use goe_keys::{KeyDef, Lookup, Value};
use serde_json::{Map, Value as Json, json};

/// The default discovery prefix (`mht`'s factory value).
pub const DEFAULT_PREFIX: &str = "homeassistant";

/// The Home Assistant MQTT platforms the charger announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// A read-only value.
    Sensor,
    /// A read-only `true`/`false` key.
    BinarySensor,
    /// A writable bool key.
    Switch,
    /// A writable number key with a range.
    Number,
    /// A writable enum key.
    Select,
}

impl Component {
    /// The platform's name in the discovery topic.
    pub const fn name(self) -> &'static str {
        match self {
            Component::Sensor => "sensor",
            Component::BinarySensor => "binary_sensor",
            Component::Switch => "switch",
            Component::Number => "number",
            Component::Select => "select",
        }
    }
}

/// One entity: which key (or element of an array key) and how Home
/// Assistant should show it. Everything else comes from the key table.
#[derive(Debug, Clone, Copy)]
pub struct Entity {
    /// The API key whose topic carries the state.
    pub key: &'static str,
    /// The element of an array key (`nrg`, `tma`), if any.
    pub index: Option<usize>,
    /// The object id within the device (unique per charger).
    pub object: &'static str,
    /// The platform.
    pub component: Component,
    /// The entity's name (shown after the device name).
    pub name: &'static str,
    /// Home Assistant device class, if one fits (`enum`: a text sensor of
    /// the key's enum names, announced without a device class).
    pub device_class: Option<&'static str>,
    /// Sensor state class, if the value has statistics.
    pub state_class: Option<&'static str>,
    /// Unit of an array element (the key's own unit otherwise).
    pub unit: Option<&'static str>,
    /// `config`/`diagnostic`, if not a primary entity.
    pub category: Option<&'static str>,
}

const fn e(
    key: &'static str,
    object: &'static str,
    component: Component,
    name: &'static str,
) -> Entity {
    Entity {
        key,
        index: None,
        object,
        component,
        name,
        device_class: None,
        state_class: None,
        unit: None,
        category: None,
    }
}

impl Entity {
    const fn at(mut self, index: usize, unit: &'static str) -> Self {
        self.index = Some(index);
        self.unit = Some(unit);
        self
    }
    const fn class(mut self, device: &'static str, state: Option<&'static str>) -> Self {
        self.device_class = Some(device);
        self.state_class = state;
        self
    }
    const fn cat(mut self, category: &'static str) -> Self {
        self.category = Some(category);
        self
    }
}

use Component::{BinarySensor as B, Number as N, Select as S, Sensor as Se, Switch as Sw};
const M: Option<&str> = Some("measurement");
const TI: Option<&str> = Some("total_increasing");

/// The entities announced, in publication order.
pub static ENTITIES: &[Entity] = &[
    e("car", "car_state", Se, "Car state").class("enum", None),
    e("modelStatus", "model_status", Se, "Charging reason").class("enum", None),
    e("err", "error", Se, "Error").class("enum", None),
    e("cus", "cable_lock_status", Se, "Cable lock status")
        .class("enum", None)
        .cat("diagnostic"),
    e("nrg", "power_total", Se, "Power total")
        .at(11, "W")
        .class("power", M),
    e("nrg", "voltage_l1", Se, "Voltage L1")
        .at(0, "V")
        .class("voltage", M),
    e("nrg", "voltage_l2", Se, "Voltage L2")
        .at(1, "V")
        .class("voltage", M),
    e("nrg", "voltage_l3", Se, "Voltage L3")
        .at(2, "V")
        .class("voltage", M),
    e("nrg", "voltage_n", Se, "Voltage N")
        .at(3, "V")
        .class("voltage", M)
        .cat("diagnostic"),
    e("nrg", "current_l1", Se, "Current L1")
        .at(4, "A")
        .class("current", M),
    e("nrg", "current_l2", Se, "Current L2")
        .at(5, "A")
        .class("current", M),
    e("nrg", "current_l3", Se, "Current L3")
        .at(6, "A")
        .class("current", M),
    e("nrg", "power_l1", Se, "Power L1")
        .at(7, "W")
        .class("power", M),
    e("nrg", "power_l2", Se, "Power L2")
        .at(8, "W")
        .class("power", M),
    e("nrg", "power_l3", Se, "Power L3")
        .at(9, "W")
        .class("power", M),
    e("nrg", "power_factor_l1", Se, "Power factor L1")
        .at(12, "%")
        .class("power_factor", M)
        .cat("diagnostic"),
    e("nrg", "power_factor_l2", Se, "Power factor L2")
        .at(13, "%")
        .class("power_factor", M)
        .cat("diagnostic"),
    e("nrg", "power_factor_l3", Se, "Power factor L3")
        .at(14, "%")
        .class("power_factor", M)
        .cat("diagnostic"),
    e("tpa", "power_average", Se, "Power average (30 s)").class("power", M),
    e("eto", "total_energy_charged", Se, "Total energy charged").class("energy", TI),
    e("wh", "energy_charged", Se, "Energy since car connected").class("energy", TI),
    e("acu", "allowed_current", Se, "Allowed current").class("current", M),
    e("cbl", "cable_current_limit", Se, "Cable current limit")
        .class("current", None)
        .cat("diagnostic"),
    e("tma", "temperature_1", Se, "Temperature 1")
        .at(0, "°C")
        .class("temperature", M)
        .cat("diagnostic"),
    e("tma", "temperature_2", Se, "Temperature 2")
        .at(1, "°C")
        .class("temperature", M)
        .cat("diagnostic"),
    e("rssi", "wifi_signal", Se, "WiFi signal")
        .class("signal_strength", M)
        .cat("diagnostic"),
    e("fwv", "firmware_version", Se, "Firmware version").cat("diagnostic"),
    e("alw", "allowed_to_charge", B, "Allowed to charge"),
    e("adi", "adapter_16a", B, "16 A adapter").cat("diagnostic"),
    e("fup", "use_pv_surplus", Sw, "Use PV surplus").cat("config"),
    e("awe", "use_awattar", Sw, "Use aWATTar").cat("config"),
    e("acp", "allow_charge_pause", Sw, "Allow charge pause").cat("config"),
    e("amp", "requested_current", N, "Requested current").class("current", None),
    e("ama", "maximum_current", N, "Maximum current")
        .class("current", None)
        .cat("config"),
    e("dwo", "charging_energy_limit", N, "Charging energy limit")
        .class("energy", None)
        .cat("config"),
    e("ate", "automatic_stop_energy", N, "Automatic stop energy")
        .class("energy", None)
        .cat("config"),
    e("frc", "force_state", S, "Force state"),
    e("psm", "phase_switch_mode", S, "Phase switch mode"),
    e("lmo", "logic_mode", S, "Logic mode").cat("config"),
    e("ust", "cable_unlock_mode", S, "Cable unlock mode").cat("config"),
    e("acs", "access_control", S, "Access control").cat("config"),
];

/// The discovery id of a charger: `go-echarger_<serial>` (the MQTT client
/// id), with characters outside `[A-Za-z0-9_-]` replaced by `_` (Home
/// Assistant's rule for node and object ids).
pub fn node_id(serial: &str) -> String {
    let clean: String = serial
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("go-echarger_{clean}")
}

/// The discovery topic of `entity` for a charger with node id `node`.
pub fn config_topic(prefix: &str, node: &str, entity: &Entity) -> String {
    format!(
        "{prefix}/{}/{node}/{}/config",
        entity.component.name(),
        entity.object
    )
}

/// Reads key values by name, for the key table's range rules.
struct ByName<'a>(&'a Charger);

impl Lookup for ByName<'_> {
    fn lookup(&self, key: &str) -> Option<&Value> {
        self.0.value(key)
    }
}

/// Every discovery configuration of `charger` under the discovery prefix
/// `prefix` (`mht`): `(topic, JSON payload)`, to be published retained.
/// A trailing `/` of the prefix is dropped (HA's own prefix setting has
/// none, so `homeassistant/` means `homeassistant`).
pub fn configs(charger: &Charger, prefix: &str) -> Vec<(String, String)> {
    let prefix = match prefix.trim_end_matches('/') {
        "" => prefix,
        trimmed => trimmed,
    };
    let profile = charger.profile();
    let mtp = crate::mqtt::prefix(charger);
    let node = node_id(charger.serial());
    let text = |k: &str| {
        charger
            .value(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let device = json!({
        "identifiers": [node],
        "name": format!("go-eCharger {}", charger.serial()),
        "manufacturer": "go-e",
        "model": text("typ"),
        "sw_version": text("fwv"),
    });
    let mut out = Vec::new();
    for entity in ENTITIES {
        let Some((kid, def)) = profile.key(entity.key) else {
            continue;
        };
        if !profile.publishes(kid) {
            continue;
        }
        let Some(body) = entity_config(charger, entity, def, &mtp, &node) else {
            continue;
        };
        let mut body = body;
        body.insert("device".into(), device.clone());
        out.push((
            config_topic(prefix, &node, entity),
            Json::Object(body).to_string(),
        ));
    }
    out
}

/// The `{0:'Idle',…}` Jinja mapping of an enum key.
fn enum_map(def: &KeyDef) -> String {
    let pairs: Vec<String> = def
        .enums
        .iter()
        .map(|(n, name)| format!("{n}:'{name}'"))
        .collect();
    format!("{{{}}}", pairs.join(","))
}

/// The payload of one entity, without the device block; `None` when the
/// key's definition cannot back it (a platform needing a write the
/// firmware's key does not take, an enum without names).
fn entity_config(
    charger: &Charger,
    entity: &Entity,
    def: &KeyDef,
    mtp: &str,
    node: &str,
) -> Option<Map<String, Json>> {
    let mut m = Map::new();
    let state_topic = format!("{mtp}{}", entity.key);
    let command_topic = format!("{mtp}{}/set", entity.key);
    let put = |m: &mut Map<String, Json>, k: &str, v: Json| {
        m.insert(k.to_owned(), v);
    };
    put(&mut m, "name", json!(entity.name));
    put(
        &mut m,
        "unique_id",
        json!(format!("{node}_{}", entity.object)),
    );
    put(
        &mut m,
        "object_id",
        json!(format!("{node}_{}", entity.object)),
    );
    put(&mut m, "state_topic", json!(state_topic));
    put(&mut m, "availability_topic", json!(format!("{mtp}mcc")));
    put(&mut m, "payload_available", json!("true"));
    put(&mut m, "payload_not_available", json!("false"));
    if let Some(c) = entity.category {
        put(&mut m, "entity_category", json!(c));
    }
    if let Some(c) = entity.device_class
        && c != "enum"
    {
        put(&mut m, "device_class", json!(c));
    }
    let writable = def.access.writable();
    match entity.component {
        Component::Sensor => {
            let unit = entity.unit.or(def.unit);
            if entity.device_class == Some("enum") {
                if def.enums.is_empty() {
                    return None;
                }
                // a text sensor showing the enum's names: `device_class:
                // enum` needs `options`, which MQTT sensors take only since
                // HA 2024.2 (older ones drop it and refuse the entity); a
                // number without a name (or null) shows as unknown
                put(
                    &mut m,
                    "value_template",
                    json!(format!("{{{{ {}.get(value_json, None) }}}}", enum_map(def))),
                );
            } else {
                let template = match entity.index {
                    Some(i) => format!("{{{{ value_json[{i}] }}}}"),
                    None => "{{ value_json }}".to_owned(),
                };
                put(&mut m, "value_template", json!(template));
                if let Some(u) = unit {
                    put(&mut m, "unit_of_measurement", json!(u));
                }
                if let Some(s) = entity.state_class {
                    put(&mut m, "state_class", json!(s));
                }
            }
        }
        Component::BinarySensor => {
            if def.base() != goe_keys::Base::Bool {
                return None;
            }
            put(&mut m, "payload_on", json!("true"));
            put(&mut m, "payload_off", json!("false"));
        }
        Component::Switch => {
            if !writable || def.base() != goe_keys::Base::Bool {
                return None;
            }
            put(&mut m, "command_topic", json!(command_topic));
            put(&mut m, "payload_on", json!("true"));
            put(&mut m, "payload_off", json!("false"));
            put(&mut m, "state_on", json!("true"));
            put(&mut m, "state_off", json!("false"));
        }
        Component::Number => {
            if !writable {
                return None;
            }
            let base = def.base();
            let (min, max) = goe_keys::set::int_bounds(def, base, &ByName(charger));
            put(&mut m, "command_topic", json!(command_topic));
            put(&mut m, "value_template", json!("{{ value_json }}"));
            put(&mut m, "min", json!(min.max(-(1 << 53)) as f64));
            put(&mut m, "max", json!(max.min(1 << 53) as f64));
            put(&mut m, "step", json!(1));
            put(&mut m, "mode", json!("box"));
            // whole numbers, so integer keys never see `16.0`
            put(&mut m, "command_template", json!("{{ value | int }}"));
            if let Some(u) = entity.unit.or(def.unit) {
                put(&mut m, "unit_of_measurement", json!(u));
            }
        }
        Component::Select => {
            if !writable || def.enums.is_empty() {
                return None;
            }
            let options: Vec<&str> = def.enums.iter().map(|(_, n)| *n).collect();
            let names: Vec<String> = def
                .enums
                .iter()
                .map(|(n, name)| format!("'{name}':{n}"))
                .collect();
            put(&mut m, "command_topic", json!(command_topic));
            put(&mut m, "options", json!(options));
            put(
                &mut m,
                "value_template",
                json!(format!("{{{{ {}.get(value_json, None) }}}}", enum_map(def))),
            );
            put(
                &mut m,
                "command_template",
                json!(format!("{{{{ {{{}}}[value] }}}}", names.join(","))),
            );
        }
    }
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use goe_engine::SimTime;

    fn charger(fw: &str) -> Charger {
        let profile = goe_keys::profile(fw).unwrap();
        Charger::boot_on(profile, "012345", None, SimTime(1_717_394_400_000), 1).unwrap()
    }

    #[test]
    fn topics_ids_and_device() {
        let c = charger("060.5");
        let all = configs(&c, "homeassistant");
        assert!(all.len() > 30, "{}", all.len());
        let (topic, payload) = all
            .iter()
            .find(|(t, _)| t.contains("/power_total/"))
            .unwrap();
        assert_eq!(
            topic,
            "homeassistant/sensor/go-echarger_012345/power_total/config"
        );
        let p: Json = serde_json::from_str(payload).unwrap();
        assert_eq!(p["unique_id"], "go-echarger_012345_power_total");
        assert_eq!(p["state_topic"], "go-eCharger/012345/nrg");
        assert_eq!(p["value_template"], "{{ value_json[11] }}");
        assert_eq!(p["unit_of_measurement"], "W");
        assert_eq!(p["availability_topic"], "go-eCharger/012345/mcc");
        assert_eq!(p["device"]["manufacturer"], "go-e");
        assert_eq!(p["device"]["sw_version"], "60.5");
        let frc = all
            .iter()
            .find(|(t, _)| t.contains("/force_state/"))
            .unwrap();
        let p: Json = serde_json::from_str(&frc.1).unwrap();
        assert_eq!(p["command_topic"], "go-eCharger/012345/frc/set");
        assert_eq!(p["options"], json!(["Neutral", "Off", "On"]));
        let amp = all
            .iter()
            .find(|(t, _)| t.contains("/requested_current/"))
            .unwrap();
        let p: Json = serde_json::from_str(&amp.1).unwrap();
        assert_eq!(
            (p["min"].as_f64(), p["max"].as_f64()),
            (Some(6.0), Some(32.0))
        );
    }

    #[test]
    fn a_trailing_slash_of_the_prefix_is_dropped() {
        let c = charger("060.5");
        let slashed = configs(&c, "ha/");
        assert_eq!(slashed, configs(&c, "ha"));
        assert!(slashed.iter().all(|(t, _)| !t.starts_with("ha//")));
    }

    #[test]
    fn unpublished_keys_give_no_entity() {
        // `mcc` itself is not published on 060.5, `fna` neither: no entity
        // may point at a topic the charger leaves empty
        let c = charger("060.5");
        let profile = c.profile();
        for (topic, payload) in configs(&c, "ha") {
            let p: Json = serde_json::from_str(&payload).unwrap();
            let key = p["state_topic"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap();
            let (kid, _) = profile.key(key).unwrap();
            assert!(profile.publishes(kid), "{topic}");
        }
    }
}
