//! What a key *is*: access, type, category, documentation and validation rule.
//!
//! A [`KeyDef`] is static metadata shared by every charger in the process; the
//! values themselves live in the engine. Definitions are built with `const fn`
//! builders so the whole table is checked at compile time.

use crate::firmware::{Firmware, FwRange};

/// Who may read or write a key over the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// Readable only (`R` in the key table).
    Read,
    /// Readable and writable (`R/W`).
    ReadWrite,
    /// Writable only (`W`): commands and secrets; never appears in any status.
    Write,
}

impl Access {
    /// Whether the key appears in status outputs.
    pub const fn readable(self) -> bool {
        matches!(self, Access::Read | Access::ReadWrite)
    }

    /// Whether `/api/set` (and later MQTT/WebSocket) may change the key.
    pub const fn writable(self) -> bool {
        matches!(self, Access::ReadWrite | Access::Write)
    }

    /// The notation of the key table (`R`, `R/W`, `W`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::Read => "R",
            Access::ReadWrite => "R/W",
            Access::Write => "W",
        }
    }
}

/// The key table's category column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// Fixed for the device's lifetime (serial, firmware, hardware info).
    Constant,
    /// Computed at run time by the charger.
    Status,
    /// User configuration, persisted in flash.
    Config,
    /// Commands such as `lrn`, `del`, `oct`.
    Other,
}

impl Category {
    /// The key table's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Constant => "Constant",
            Category::Status => "Status",
            Category::Config => "Config",
            Category::Other => "Other",
        }
    }
}

/// The base type of a key, as the firmware declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Base {
    /// `bool`
    Bool,
    /// `uint8`
    U8,
    /// `int8`
    I8,
    /// `uint16`
    U16,
    /// `int` (32-bit on the ESP32)
    Int,
    /// `uint32`
    U32,
    /// `uint64`
    U64,
    /// `size_t` (32-bit on the ESP32)
    Size,
    /// `float`: stored as 32-bit, printed widened to double (`233.4299927`).
    Float,
    /// `double`
    Double,
    /// `string`
    Str,
    /// `milliseconds` (`std::chrono::milliseconds`, signed 64-bit)
    Millis,
    /// `microseconds`
    Micros,
    /// `seconds`
    Seconds,
    /// `minutes`
    Minutes,
    /// `array`
    Array,
    /// `object`
    Object,
}

impl Base {
    /// The key table's spelling of the base type.
    pub const fn as_str(self) -> &'static str {
        match self {
            Base::Bool => "bool",
            Base::U8 => "uint8",
            Base::I8 => "int8",
            Base::U16 => "uint16",
            Base::Int => "int",
            Base::U32 => "uint32",
            Base::U64 => "uint64",
            Base::Size => "size_t",
            Base::Float => "float",
            Base::Double => "double",
            Base::Str => "string",
            Base::Millis => "milliseconds",
            Base::Micros => "microseconds",
            Base::Seconds => "seconds",
            Base::Minutes => "minutes",
            Base::Array => "array",
            Base::Object => "object",
        }
    }

    /// Inclusive integer range of integral base types, `None` for the others.
    pub const fn int_range(self) -> Option<(i128, i128)> {
        Some(match self {
            Base::U8 => (0, u8::MAX as i128),
            Base::I8 => (i8::MIN as i128, i8::MAX as i128),
            Base::U16 => (0, u16::MAX as i128),
            Base::Int => (i32::MIN as i128, i32::MAX as i128),
            Base::U32 | Base::Size => (0, u32::MAX as i128),
            Base::U64 => (0, u64::MAX as i128),
            Base::Millis | Base::Micros | Base::Seconds | Base::Minutes => {
                (i64::MIN as i128, i64::MAX as i128)
            }
            _ => return None,
        })
    }

    /// The JSON type a value of this base type has on the wire.
    pub const fn json_kind(self) -> JsonKind {
        match self {
            Base::Bool => JsonKind::Bool,
            Base::Float | Base::Double => JsonKind::Number,
            Base::Str => JsonKind::String,
            Base::Array => JsonKind::Array,
            Base::Object => JsonKind::Object,
            _ => JsonKind::Integer,
        }
    }
}

/// JSON value kinds, used by tests and docs to say what a key looks like on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonKind {
    /// `true`/`false`
    Bool,
    /// a number without fraction or exponent
    Integer,
    /// any JSON number
    Number,
    /// a JSON string
    String,
    /// a JSON array
    Array,
    /// a JSON object
    Object,
}

/// A key's declared type: a base type, possibly `optional<…>` (may be `null`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValueType {
    /// The base type.
    pub base: Base,
    /// Whether `null` is a valid value.
    pub optional: bool,
}

impl ValueType {
    /// A plain (non-optional) type.
    pub const fn plain(base: Base) -> Self {
        ValueType {
            base,
            optional: false,
        }
    }

    /// An `optional<…>` type.
    pub const fn opt(base: Base) -> Self {
        ValueType {
            base,
            optional: true,
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.optional {
            write!(f, "optional<{}>", self.base.as_str())
        } else {
            f.write_str(self.base.as_str())
        }
    }
}

/// Extra validation a set must pass beyond its JSON type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Only the type's own range.
    None,
    /// An inclusive integer range (enums use their contiguous range).
    Range(i64, i64),
    /// A requested current: between `mca` and `ama` of the charger right now.
    RequestedCurrent,
    /// The minimum current: between 6 A and `ama`.
    MinCurrent,
    /// The maximum current: between 6 A and the variant's limit (16 A or 32 A).
    MaxCurrent,
    /// A string whose length (in bytes) lies in the inclusive range.
    StrLen(usize, usize),
    /// A colour `#RRGGBB`.
    Color,
    /// Up to 5 current presets, each 6..=32 A.
    CurrentPresets,
    /// A scheduler day object `{"control":0..2,"ranges":[…]}` (times `hour`, `minute`).
    Schedule,
    /// The newer scheduler day object: `control` 0..4 (3 AllowFromGrid,
    /// 4 BlockFromGrid) and times with `hour`, `minute` and `second`.
    ScheduleV2,
    /// The load-balancing object `{"amp","dyn","sta","ts"}`: a partial object
    /// changes only the fields it names.
    LoadTotal,
    /// The v2 price list object `{"prices":[{"start","end","marketprice"},…]}`.
    PriceListV2,
    /// Any JSON (the firmware's `JsonVariantConst` setters such as `rst`),
    /// stored as written; the engine decides what it means.
    AnyVariant,
    /// The sparse array of Wi-Fi configurations.
    Wifis,
    /// The sparse array of RFID cards.
    Cards,
    /// Inverter data `{"pGrid":W,"pPv":W,"pAkku":W}` or `null`.
    InverterData,
    /// A price list: array of `{"start":s,"end":s,"marketprice":ct}`.
    PriceList,
    /// Load mapping: three phase numbers 1..=3.
    PhaseMapping,
    /// A time string `YYYY-MM-DDTHH:MM:SS[.mmm]`.
    UtcTime,
    /// A transaction: `null`, `0` or a learned card index + 1.
    Transaction,
    /// The MQTT topic prefix: a string ending in `/` (or empty); `null` resets it.
    TopicPrefix,
    /// The Home Assistant discovery prefix (`mht`): a non-empty topic
    /// without wildcards; `null` resets it (#15).
    DiscoveryPrefix,
    /// A PEM private key (`ocppck` on 60.5, CL-G60.5 #3 "key/cert are now
    /// verified when set"), or empty to remove it.
    PemKey,
    /// One or more PEM certificates (`ocppcc`, `ocppsc` on 60.5), or empty.
    PemCert,
}

/// Special rendering of secret values: never returned as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Not a secret.
    No,
    /// A secret string, rendered as `true`/`false` ("is set").
    IsSet,
    /// An array of objects whose named string field is rendered as "is set"
    /// (`wifis[].key`, `cards[].cardId`).
    FieldIsSet(&'static str),
    /// A URL string whose password (`scheme://user:PASSWORD@host`) is replaced
    /// by [`crate::render::MASK`]; scheme, user, host and port stay visible
    /// (`mcu`). The type on the wire stays `string`, as the key table declares.
    UrlPassword,
}

/// Static metadata of one API key. One entry per key in [`crate::KEYS`].
#[derive(Debug, Clone, Copy)]
pub struct KeyDef {
    /// The API key, e.g. `amp`.
    pub name: &'static str,
    /// Read/write access over the API.
    pub access: Access,
    /// Declared value type.
    pub ty: ValueType,
    /// Key-table category.
    pub category: Category,
    /// Human description (from the key table where the key is in the seed).
    pub description: &'static str,
    /// Enum value names, when the key is an enumeration.
    pub enums: &'static [(i64, &'static str)],
    /// Physical unit, for docs and the CLI.
    pub unit: Option<&'static str>,
    /// Factory default as JSON text; `{serial}` is replaced by the charger's serial.
    pub default: &'static str,
    /// Extra validation for sets.
    pub rule: Rule,
    /// How secrets are rendered.
    pub secret: Secret,
    /// Persisted although not a writable Config key (counters like `eto`, `rbc`).
    pub persist_extra: bool,
    /// Whether the key is in the 2021 seed table (`false`: added from newer firmware).
    pub in_seed: bool,
    /// The firmware versions in which this definition is published over MQTT
    /// (within [`KeyDef::fw`]; only readable keys are ever published). Real
    /// MQTT captures decide it per firmware generation: see
    /// [`KeyDef::publishes_on`] and docs/compat.md "Key sets and order".
    pub mqtt: FwRange,
    /// The firmware versions in which this definition applies.
    pub fw: FwRange,
    /// The key's other definitions, for firmware outside [`KeyDef::fw`]
    /// (a type, default or rule that changed between versions). Each has its
    /// own `fw`; the ranges of a key's definitions never overlap.
    pub eras: &'static [KeyDef],
}

impl KeyDef {
    /// A key with no enums, unit, rule or secret.
    pub const fn new(
        name: &'static str,
        access: Access,
        ty: ValueType,
        category: Category,
        description: &'static str,
        default: &'static str,
    ) -> Self {
        KeyDef {
            name,
            access,
            ty,
            category,
            description,
            enums: &[],
            unit: None,
            default,
            rule: Rule::None,
            secret: Secret::No,
            persist_extra: false,
            in_seed: true,
            mqtt: if access.readable() {
                FwRange::ALL
            } else {
                FwRange::NONE
            },
            fw: FwRange::ALL,
            eras: &[],
        }
    }

    /// The definition applies from firmware `version` on.
    pub const fn since(mut self, version: Firmware) -> Self {
        self.fw.since = version;
        self
    }

    /// The definition applies only before firmware `version`.
    pub const fn until(mut self, version: Firmware) -> Self {
        self.fw.until = Some(version);
        self
    }

    /// The key's definitions for other firmware ranges (see [`KeyDef::eras`]).
    pub const fn eras(mut self, eras: &'static [KeyDef]) -> Self {
        self.eras = eras;
        self
    }

    /// The definition of this key in force on firmware `version`, if the key
    /// exists there.
    pub fn on(&'static self, version: Firmware) -> Option<&'static KeyDef> {
        if self.fw.contains(version) {
            return Some(self);
        }
        self.eras.iter().find(|e| e.fw.contains(version))
    }

    /// This definition and its eras, newest first as written in the table.
    pub fn definitions(&'static self) -> impl Iterator<Item = &'static KeyDef> {
        std::iter::once(self).chain(self.eras.iter())
    }

    /// Keeps the key off MQTT on every firmware.
    pub const fn no_mqtt(mut self) -> Self {
        self.mqtt = FwRange::NONE;
        self
    }

    /// Published over MQTT only before firmware `version`.
    pub const fn mqtt_until(mut self, version: Firmware) -> Self {
        self.mqtt.until = Some(version);
        self
    }

    /// Published over MQTT only from firmware `version` on.
    pub const fn mqtt_since(mut self, version: Firmware) -> Self {
        self.mqtt.since = version;
        self
    }

    /// Whether a unit of firmware `version` publishes this definition over
    /// MQTT (readable, and `version` within [`KeyDef::mqtt`]).
    pub const fn publishes_on(&self, version: Firmware) -> bool {
        self.access.readable() && self.mqtt.contains(version)
    }

    /// Adds enum names; for integer keys the contiguous range of the names becomes the rule.
    pub const fn enums(mut self, enums: &'static [(i64, &'static str)]) -> Self {
        self.enums = enums;
        if matches!(self.rule, Rule::None) && !enums.is_empty() {
            let mut min = enums[0].0;
            let mut max = enums[0].0;
            let mut i = 1;
            while i < enums.len() {
                if enums[i].0 < min {
                    min = enums[i].0;
                }
                if enums[i].0 > max {
                    max = enums[i].0;
                }
                i += 1;
            }
            self.rule = Rule::Range(min, max);
        }
        self
    }

    /// Sets the unit.
    pub const fn unit(mut self, unit: &'static str) -> Self {
        self.unit = Some(unit);
        self
    }

    /// Sets the validation rule.
    pub const fn rule(mut self, rule: Rule) -> Self {
        self.rule = rule;
        self
    }

    /// Marks the value as a secret.
    pub const fn secret(mut self, secret: Secret) -> Self {
        self.secret = secret;
        self
    }

    /// Persists the key although it is not a writable Config key.
    pub const fn persist(mut self) -> Self {
        self.persist_extra = true;
        self
    }

    /// Marks the key as added from newer firmware (not in the seed table).
    pub const fn newer(mut self) -> Self {
        self.in_seed = false;
        self
    }

    /// The base type (shorthand for `ty.base`).
    pub const fn base(&self) -> Base {
        self.ty.base
    }

    /// Whether the key's value survives a restart (kept in the durable store).
    pub const fn persisted(&self) -> bool {
        self.persist_extra || (matches!(self.category, Category::Config) && self.access.writable())
    }

    /// The name of an enum value, if the key has one for it.
    pub fn enum_name(&self, value: i64) -> Option<&'static str> {
        self.enums
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, n)| *n)
    }

    /// The enum value for a name (case-insensitive), if any.
    pub fn enum_value(&self, name: &str) -> Option<i64> {
        self.enums
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(v, _)| *v)
    }
}
