//! Firmware profiles: the key table resolved for one firmware version.
//!
//! A virtual charger is one firmware: the keys it has, each key's type,
//! default and rule there, and the order its status prints them in all come
//! from the key table (per key [`KeyDef::fw`] and [`KeyDef::eras`]) plus one
//! order file per profile (`profiles/<version>.keys`, taken from real
//! captures). Nothing else in the project branches on the firmware version.

use crate::def::KeyDef;
use crate::firmware::{Firmware, fw};
use crate::table::KEYS;
use crate::{KeyId, key_id};
use std::fmt;
use std::sync::LazyLock;

/// What the WebSocket `hello` says about a unit of this firmware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// `devicetype`.
    pub devicetype: &'static str,
    /// `devicesubtype`.
    pub devicesubtype: &'static str,
    /// `protocol`.
    pub protocol: u8,
    /// `proto`, which 60.x units send after `protocol` (`None`: not sent).
    pub proto: Option<u8>,
}

/// The fixed data of one profile; the rest is resolved from the key table.
struct Spec {
    firmware: Firmware,
    fwv: &'static str,
    hello: Hello,
    order: &'static str,
    /// See [`Profile::filter_refuses_unknown`].
    filter_refuses_unknown: bool,
    /// See [`Profile::whole_volts`].
    whole_volts: bool,
    /// See [`Profile::ocpp_remote_start_profile`].
    ocpp_remote_start_profile: bool,
}

/// The hello of a V3/V4 unit before 60.x (docs/compat.md, "WebSocket").
const V4: Hello = Hello {
    devicetype: "go-eCharger_V4",
    devicesubtype: "",
    protocol: 2,
    proto: None,
};

/// The hello of a 60.x unit: `proto` 4 follows `protocol` (the 60.5 hello
/// logged in ha-goecharger-api2 #160; reference api-v2.md §3).
const V4_60: Hello = Hello {
    proto: Some(4),
    ..V4
};

/// The profiles, oldest first. The default is [`DEFAULT_FIRMWARE`].
static SPECS: &[Spec] = &[
    Spec {
        firmware: fw(51, 4),
        fwv: "051.4",
        hello: V4,
        order: include_str!("../profiles/051.4.keys"),
        filter_refuses_unknown: false,
        whole_volts: false,
        ocpp_remote_start_profile: false,
    },
    Spec {
        firmware: fw(56, 2),
        fwv: "56.2",
        hello: V4,
        order: include_str!("../profiles/056.2.keys"),
        filter_refuses_unknown: false,
        whole_volts: true,
        ocpp_remote_start_profile: false,
    },
    Spec {
        firmware: fw(60, 5),
        fwv: "60.5",
        hello: V4_60,
        order: include_str!("../profiles/060.5.keys"),
        // 60.3+: go-eCharger-API-v2#312 (60.3), ha-goecharger-api2#66
        filter_refuses_unknown: true,
        whole_volts: true,
        // 60.4: "Charging profile in RemoteStartTransaction command is not
        // ignored anymore" (changelog 60.4; faq-en.md)
        ocpp_remote_start_profile: true,
    },
];

/// The firmware a charger runs unless told otherwise: today's.
pub const DEFAULT_FIRMWARE: &str = "060.5";

/// One firmware version's view of the key table.
#[derive(Debug)]
pub struct Profile {
    /// The version (`060.5`).
    pub firmware: Firmware,
    /// How the unit prints its version in `fwv` (`"60.5"`).
    pub fwv: &'static str,
    /// What the WebSocket `hello` says.
    pub hello: Hello,
    /// Whether `/api/status?filter=` naming a key this firmware does not
    /// print (unknown or write-only) is answered with HTTP 400 (the JSON of
    /// the keys it does print as the body) instead of 200: fw 60.3 and later.
    pub filter_refuses_unknown: bool,
    /// Position in [`profiles`]: lets per-profile caches be plain vectors.
    pub index: usize,
    /// `nrg` voltages in whole volts around the idle values of the profile's
    /// `nrg` default, neutral fixed at the default's (every 055.x-060.x
    /// capture prints `[233,235,231,0,…]`-style integers); `false` keeps the
    /// 2021 table's 230 V with two decimals.
    pub whole_volts: bool,
    /// OCPP: a `chargingProfile` inside RemoteStartTransaction is applied
    /// (fw 60.4 and later); before, it was ignored.
    pub ocpp_remote_start_profile: bool,
    defs: Vec<Option<&'static KeyDef>>,
    order: Vec<KeyId>,
    /// Per key: its place in `order`.
    rank: Vec<Option<usize>>,
    /// Names in the order file that the table does not place in this profile,
    /// and present keys the order file leaves out (both must stay empty; a
    /// test says so, and the order falls back to the table's for the latter).
    pub order_mismatch: Vec<String>,
}

impl Profile {
    fn resolve(index: usize, spec: &Spec) -> Profile {
        let defs: Vec<Option<&'static KeyDef>> = KEYS.iter().map(|k| k.on(spec.firmware)).collect();
        let mut order = Vec::with_capacity(KEYS.len());
        let mut listed = vec![false; KEYS.len()];
        let mut order_mismatch = Vec::new();
        for line in spec.order.lines() {
            let name = line.split('#').next().unwrap_or("").trim();
            if name.is_empty() {
                continue;
            }
            match key_id(name) {
                Some(kid) if defs[kid].is_some() && !listed[kid] => {
                    listed[kid] = true;
                    order.push(kid);
                }
                Some(kid) if listed[kid] => order_mismatch.push(format!("{name} listed twice")),
                _ => order_mismatch.push(format!("{name} listed but not in this firmware")),
            }
        }
        for (kid, def) in defs.iter().enumerate() {
            if def.is_some() && !listed[kid] {
                order_mismatch.push(format!("{} missing from the order", KEYS[kid].name));
                order.push(kid);
            }
        }
        let mut rank = vec![None; KEYS.len()];
        for (place, &kid) in order.iter().enumerate() {
            rank[kid] = Some(place);
        }
        Profile {
            rank,
            firmware: spec.firmware,
            fwv: spec.fwv,
            hello: spec.hello,
            filter_refuses_unknown: spec.filter_refuses_unknown,
            whole_volts: spec.whole_volts,
            ocpp_remote_start_profile: spec.ocpp_remote_start_profile,
            index,
            defs,
            order,
            order_mismatch,
        }
    }

    /// The key's definition on this firmware, `None` if it has no such key.
    pub fn def(&self, kid: KeyId) -> Option<&'static KeyDef> {
        self.defs.get(kid).copied().flatten()
    }

    /// The definition of `name` on this firmware.
    pub fn key(&self, name: &str) -> Option<(KeyId, &'static KeyDef)> {
        let kid = key_id(name)?;
        Some((kid, self.def(kid)?))
    }

    /// The key's place in this firmware's print order.
    pub fn position(&self, kid: KeyId) -> Option<usize> {
        self.rank.get(kid).copied().flatten()
    }

    /// Whether the key exists and is printed in the status (readable).
    pub fn readable(&self, kid: KeyId) -> bool {
        self.def(kid).is_some_and(|d| d.access.readable())
    }

    /// Whether a unit of this firmware publishes the key over MQTT (its
    /// definition here is readable and its MQTT range contains this version).
    pub fn publishes(&self, kid: KeyId) -> bool {
        self.def(kid).is_some_and(|d| d.publishes_on(self.firmware))
    }

    /// Every key of this firmware in print order, with its definition
    /// (write-only keys included; they are never printed).
    pub fn keys(&self) -> impl Iterator<Item = (KeyId, &'static KeyDef)> + '_ {
        self.order
            .iter()
            .map(|&kid| (kid, self.defs[kid].expect("ordered keys exist")))
    }

    /// The readable keys in print order.
    pub fn readable_keys(&self) -> impl Iterator<Item = (KeyId, &'static KeyDef)> + '_ {
        self.keys().filter(|(_, d)| d.access.readable())
    }

    /// The factory value of a key on this firmware for a charger with this
    /// serial, `Null` for keys the firmware does not have.
    pub fn default_value(&self, kid: KeyId, serial: &str) -> crate::Value {
        match self.def(kid) {
            Some(def) => crate::default_value_with(def, serial, self.fwv),
            None => crate::Value::Null,
        }
    }
}

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    SPECS
        .iter()
        .enumerate()
        .map(|(i, s)| Profile::resolve(i, s))
        .collect()
});

/// Every profile, oldest first.
pub fn profiles() -> &'static [Profile] {
    &PROFILES
}

/// The profile a charger runs unless told otherwise ([`DEFAULT_FIRMWARE`]).
pub fn default_profile() -> &'static Profile {
    profile(DEFAULT_FIRMWARE).expect("the default firmware has a profile")
}

/// A `--firmware` value that names no profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFirmware {
    /// What was asked for.
    pub asked: String,
}

impl fmt::Display for UnknownFirmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<String> = profiles().iter().map(|p| p.firmware.to_string()).collect();
        write!(
            f,
            "unknown firmware {:?}: known firmware versions are {}",
            self.asked,
            known.join(", ")
        )
    }
}

impl std::error::Error for UnknownFirmware {}

/// The profile of a firmware version (`060.5` or `60.5`).
pub fn profile(version: &str) -> Result<&'static Profile, UnknownFirmware> {
    let unknown = || UnknownFirmware {
        asked: version.to_owned(),
    };
    let wanted = Firmware::parse(version).ok_or_else(unknown)?;
    profiles()
        .iter()
        .find(|p| p.firmware == wanted)
        .ok_or_else(unknown)
}
