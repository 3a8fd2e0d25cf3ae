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
    /// Per key: a key of the base firmware that a captured profile does not
    /// print (the capture did not show it); always `false` for a built-in one.
    hidden: Vec<bool>,
    /// What the status prints, in order: keys and verbatim entries.
    printed: Vec<Printed>,
    /// The keys a captured profile prints as the capture showed them.
    verbatim: Vec<Verbatim>,
    /// The capture a captured profile was built from, and its base.
    captured: Option<(crate::capture::Capture, &'static Profile)>,
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
        let printed = order
            .iter()
            .filter(|&&kid| defs[kid].is_some_and(|d| d.access.readable()))
            .map(|&kid| Printed::Key(kid))
            .collect();
        Profile {
            rank,
            hidden: vec![false; KEYS.len()],
            printed,
            verbatim: Vec::new(),
            captured: None,
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

    /// Whether the key exists and is printed in the status (readable, and
    /// for a captured profile shown by the capture).
    pub fn readable(&self, kid: KeyId) -> bool {
        self.def(kid).is_some_and(|d| d.access.readable()) && !self.hidden[kid]
    }

    /// Whether a unit of this firmware publishes the key over MQTT (its
    /// definition here is readable and its MQTT range contains this version).
    pub fn publishes(&self, kid: KeyId) -> bool {
        self.def(kid).is_some_and(|d| d.publishes_on(self.firmware)) && !self.hidden[kid]
    }

    /// What the status prints, in print order: the readable keys and (for a
    /// captured profile) the verbatim entries among them.
    pub fn printed(&self) -> &[Printed] {
        &self.printed
    }

    /// A verbatim entry by its index ([`Printed::Verbatim`]).
    pub fn verbatim(&self, index: usize) -> &Verbatim {
        &self.verbatim[index]
    }

    /// The index of the verbatim entry named `name`.
    pub fn verbatim_id(&self, name: &str) -> Option<usize> {
        self.verbatim.iter().position(|v| v.name == name)
    }

    /// The number of verbatim entries (0 for a built-in profile).
    pub fn verbatim_count(&self) -> usize {
        self.verbatim.len()
    }

    /// For a captured profile: the capture it was built from and the
    /// built-in profile it is based on (what a store keeps to rebuild it).
    pub fn capture(&self) -> Option<(&crate::capture::Capture, &'static Profile)> {
        self.captured.as_ref().map(|(c, b)| (c, *b))
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
        self.keys().filter(|&(kid, _)| self.readable(kid))
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

/// One entry of a profile's status output ([`Profile::printed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printed {
    /// A key of the table, rendered from the charger's value.
    Key(KeyId),
    /// A key a captured profile prints as the capture showed it
    /// ([`Profile::verbatim`]).
    Verbatim(usize),
}

/// A key printed exactly as a capture showed it: the table does not know it,
/// or the base firmware does not have it (or has it write-only). Read-only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verbatim {
    /// The key.
    pub name: String,
    /// The raw JSON text of its value, as captured.
    pub json: String,
}

static CAPTURED: std::sync::Mutex<Vec<&'static Profile>> = std::sync::Mutex::new(Vec::new());

impl Profile {
    /// The profile of a clone of a real unit (#17): `base`'s definitions,
    /// behaviour flags and hello, printing exactly the keys of `capture` in
    /// its order: the keys `base` has (readable) rendered from the charger's
    /// values, the others verbatim. `base`'s keys the capture does not show
    /// still exist (writable, used by the logic) but are not printed.
    /// `fwv` says the capture's version when it has one.
    ///
    /// Profiles are `&'static`: one is leaked per distinct (capture, base)
    /// for the life of the process (a clone builds one or two).
    pub fn captured(
        base: &'static Profile,
        capture: &crate::capture::Capture,
    ) -> Result<&'static Profile, crate::capture::CaptureError> {
        let base = base.captured.as_ref().map_or(base, |(_, b)| *b);
        let mut cache = CAPTURED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = cache.iter().find(|p| {
            p.captured
                .as_ref()
                .is_some_and(|(c, b)| c == capture && std::ptr::eq(*b, base))
        }) {
            return Ok(p);
        }
        let mut hidden = vec![true; KEYS.len()];
        let mut printed = Vec::with_capacity(capture.entries.len());
        let mut verbatim = Vec::new();
        let mut order = Vec::with_capacity(base.order.len());
        for (name, json) in &capture.entries {
            match base.key(name) {
                Some((kid, def)) if def.access.readable() => {
                    hidden[kid] = false;
                    printed.push(Printed::Key(kid));
                    order.push(kid);
                }
                _ => {
                    printed.push(Printed::Verbatim(verbatim.len()));
                    verbatim.push(Verbatim {
                        name: name.clone(),
                        json: json.clone(),
                    });
                }
            }
        }
        if verbatim.len() > crate::capture::MAX_VERBATIM {
            return Err(crate::capture::CaptureError::TooManyUnknown(verbatim.len()));
        }
        // the rest of the base's keys (write-only or not shown) after them
        for &kid in &base.order {
            if hidden[kid] {
                order.push(kid);
                if !base.defs[kid].is_some_and(|d| d.access.readable()) {
                    hidden[kid] = false; // write-only: never printed anyway
                }
            }
        }
        let mut rank = vec![None; KEYS.len()];
        for (place, &kid) in order.iter().enumerate() {
            rank[kid] = Some(place);
        }
        let fwv: &'static str = match capture.text("fwv") {
            Some(v) if v != base.fwv => Box::leak(v.into_boxed_str()),
            _ => base.fwv,
        };
        let profile: &'static Profile = Box::leak(Box::new(Profile {
            firmware: base.firmware,
            fwv,
            hello: base.hello,
            filter_refuses_unknown: base.filter_refuses_unknown,
            index: base.index,
            whole_volts: base.whole_volts,
            ocpp_remote_start_profile: base.ocpp_remote_start_profile,
            defs: base.defs.clone(),
            order,
            rank,
            hidden,
            printed,
            verbatim,
            captured: Some((capture.clone(), base)),
            order_mismatch: Vec::new(),
        }));
        cache.push(profile);
        Ok(profile)
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
