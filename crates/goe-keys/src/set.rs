//! Validation of values written to keys, with the firmware's error texts.
//!
//! A write arrives as JSON text (from `/api/set`, MQTT `/set` or a WebSocket
//! `setValue`). [`parse_json`] turns the text into JSON with ArduinoJson's error
//! names; [`validate`] checks it against the key's type and rule and returns the
//! value to store. Both are pure: side effects (restart, learning a card, …)
//! belong to the engine.

use crate::def::{Base, KeyDef, Rule};
use crate::value::Value;

/// ArduinoJson's nesting limit (`ARDUINOJSON_DEFAULT_NESTING_LIMIT`).
pub const NESTING_LIMIT: usize = 10;

/// Largest JSON text one value may have before ArduinoJson runs out of memory.
pub const MAX_JSON_LEN: usize = 8192;

/// ArduinoJson's `DeserializationError` codes, as the firmware names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonError {
    /// Nothing but whitespace.
    EmptyInput,
    /// The text ends in the middle of a value.
    IncompleteInput,
    /// Not JSON.
    InvalidInput,
    /// The document does not fit the parser's memory.
    NoMemory,
    /// Nested deeper than [`NESTING_LIMIT`].
    TooDeep,
}

impl JsonError {
    /// The firmware's name of the error.
    pub const fn name(self) -> &'static str {
        match self {
            JsonError::EmptyInput => "EmptyInput",
            JsonError::IncompleteInput => "IncompleteInput",
            JsonError::InvalidInput => "InvalidInput",
            JsonError::NoMemory => "NoMemory",
            JsonError::TooDeep => "TooDeep",
        }
    }
}

/// Why a write was refused. `Display` gives the firmware's message without the
/// key and raw value; [`SetError::http_text`] adds them the way `/api/set` does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    /// The key is not in the table.
    #[error("unknown api key")]
    UnknownKey,
    /// The key is read-only.
    #[error("tried to set api key without setter")]
    NoSetter,
    /// The key exists but this channel may not write it (e.g. API v2 disabled for it).
    #[error("tried to set api key which is not allowed from api")]
    NotAllowed,
    /// The text is not valid JSON.
    #[error("tried to set api key with invalid json {}", .0.name())]
    InvalidJson(JsonError),
    /// Valid JSON of the wrong type; the payload names the expected type.
    #[error("value must be {0}")]
    WrongType(&'static str),
    /// A number outside the allowed range.
    #[error("failed: Value {value} exceeds range {min} to {max}")]
    OutOfRange {
        /// The value as written.
        value: String,
        /// Inclusive lower bound.
        min: i64,
        /// Inclusive upper bound.
        max: i64,
    },
    /// A string whose length is outside the allowed range (the firmware's text has two spaces).
    #[error("failed: String length  {len} exceeds range {min} to {max}")]
    StringLength {
        /// Length of the given string in bytes.
        len: usize,
        /// Inclusive minimum.
        min: usize,
        /// Inclusive maximum.
        max: usize,
    },
    /// A structurally invalid value; the text says what is wrong.
    #[error("failed: {0}")]
    Invalid(String),
    /// The engine refused the write (e.g. the store failed); the text says why.
    #[error("failed: {0}")]
    Rejected(String),
    /// An answer given as it is, without key or value added: what a recorded
    /// unit answered to a write of a key this project does not know (a
    /// replay's `answer` line, #17).
    #[error("{0}")]
    Recorded(String),
}

impl SetError {
    /// The error as `/api/set` reports it: `"<key>: <message> (<raw value>)"`.
    pub fn http_text(&self, key: &str, raw: &str) -> String {
        if let SetError::Recorded(text) = self {
            return text.clone();
        }
        format!("{key}: {self} ({raw})")
    }

    /// The error as MQTT `/result` reports it: `"<message> <raw value>"`,
    /// and for bad JSON the firmware's `invalid json <Error>: <raw value>`.
    pub fn mqtt_text(&self, raw: &str) -> String {
        match self {
            SetError::InvalidJson(e) => format!("invalid json {}: {raw}", e.name()),
            _ => format!("{self} {raw}"),
        }
    }
}

/// Current values the validation depends on (`mca`, `ama`, `var`, learned cards, …).
pub trait Lookup {
    /// The current value of `key`, if known.
    fn lookup(&self, key: &str) -> Option<&Value>;
}

/// Values stored in key-table order (index = [`crate::KeyId`]), as the engine keeps them.
impl Lookup for Vec<Value> {
    fn lookup(&self, key: &str) -> Option<&Value> {
        crate::key_id(key).and_then(|i| self.get(i))
    }
}

/// Parses a JSON text like ArduinoJson would, with its error names.
/// Trailing whitespace is allowed; trailing garbage is `InvalidInput`.
pub fn parse_json(raw: &str) -> Result<serde_json::Value, JsonError> {
    let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.is_empty() {
        return Err(JsonError::EmptyInput);
    }
    if trimmed.len() > MAX_JSON_LEN {
        return Err(JsonError::NoMemory);
    }
    if nesting_depth(trimmed) > NESTING_LIMIT {
        return Err(JsonError::TooDeep);
    }
    serde_json::from_str(trimmed).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof => JsonError::IncompleteInput,
        _ => JsonError::InvalidInput,
    })
}

/// Maximum bracket nesting outside of strings (cheap pre-check before parsing).
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
    for b in text.bytes() {
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Checks a parsed JSON value against a key's type and rule and returns the
/// value to store. `current` gives the charger's present values.
pub fn validate(
    def: &KeyDef,
    json: &serde_json::Value,
    current: &dyn Lookup,
) -> Result<Value, SetError> {
    if !def.access.writable() {
        return Err(SetError::NoSetter);
    }
    if matches!(def.rule, Rule::AnyVariant) {
        return Ok(Value::from_json(json));
    }
    if json.is_null() {
        if matches!(def.rule, Rule::TopicPrefix | Rule::DiscoveryPrefix) {
            return Ok(Value::Null); // the engine restores the default prefix
        }
        if def.ty.optional {
            return Ok(Value::Null);
        }
        if matches!(def.base(), Base::Array | Base::Object) {
            return Err(SetError::WrongType(type_words(def.base(), false)));
        }
    }
    let value = match def.base() {
        Base::Bool => Value::Bool(to_bool(json)?),
        Base::Float => {
            check_number_range(def, json)?;
            Value::Float(to_f32(json, def.ty.optional)?)
        }
        Base::Double => {
            check_number_range(def, json)?;
            Value::Double(to_f64(json, def.ty.optional)?)
        }
        Base::Str => Value::Str(
            json.as_str()
                .ok_or(SetError::WrongType(type_words(Base::Str, def.ty.optional)))?
                .to_owned(),
        ),
        Base::Array | Base::Object => return validate_structured(def, json, current),
        base => {
            let n = to_integer(json, base, def.ty.optional)?;
            // One range, one message: the key's own range within its type's
            // (`amp=256` and `amp=17` both say "6 to 16").
            let (min, max) = int_bounds(def, base, current);
            if n < min || n > max {
                return Err(SetError::OutOfRange {
                    value: number_text(json),
                    min: min.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
                    max: max.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
                });
            }
            if n > i128::from(i64::MAX) {
                Value::UInt(n as u64)
            } else {
                Value::Int(n as i64)
            }
        }
    };
    let value = check_rule(def, value)?;
    Ok(keep_masked_password(def, value, current))
}

/// The inclusive range an integer written to `def` must lie in: the key's
/// rule (a range, or a current between `mca`/`ama`/the variant's limit)
/// within the range of its base type. Public for the Home Assistant
/// discovery's number ranges (`goe_proto::ha_discovery`).
pub fn int_bounds(def: &KeyDef, base: Base, current: &dyn Lookup) -> (i128, i128) {
    let (tmin, tmax) = base.int_range().unwrap_or((i128::MIN, i128::MAX));
    let get_int = |key: &str, fallback: i64| {
        current
            .lookup(key)
            .and_then(Value::as_i64)
            .unwrap_or(fallback)
    };
    let variant_max = if get_int("var", 11) >= 22 { 32 } else { 16 };
    let rule = match def.rule {
        Rule::Range(min, max) => Some((min, max)),
        Rule::RequestedCurrent => Some((get_int("mca", 6), get_int("ama", variant_max))),
        Rule::MinCurrent => Some((6, get_int("ama", variant_max))),
        Rule::MaxCurrent => Some((6, variant_max)),
        Rule::Transaction => Some((0, 10)),
        _ => None,
    };
    match rule {
        Some((min, max)) => (i128::from(min).max(tmin), i128::from(max).min(tmax)),
        None => (tmin, tmax),
    }
}

/// A `float`/`double` key with a range rule (energies, hysteresis: never
/// negative) refuses numbers outside it with the integers' message.
fn check_number_range(def: &KeyDef, json: &serde_json::Value) -> Result<(), SetError> {
    if let (Rule::Range(min, max), Some(f)) = (def.rule, json.as_f64())
        && (f < min as f64 || f > max as f64)
    {
        return Err(SetError::OutOfRange {
            value: number_text(json),
            min,
            max,
        });
    }
    Ok(())
}

/// The number as parsed (`256`, `-1`, `1e+30`), for range messages.
fn number_text(json: &serde_json::Value) -> String {
    json.to_string()
}

/// A URL secret written back as it was shown (`mqtt://u:********@h`) keeps
/// the stored password: reading a configuration and writing it back (an
/// export and import, a settings form) must not replace the password by the mask.
fn keep_masked_password(def: &KeyDef, value: Value, current: &dyn Lookup) -> Value {
    use crate::render::{MASK, url_password_range};
    if !matches!(def.secret, crate::def::Secret::UrlPassword) {
        return value;
    }
    let (Value::Str(new), Some(Value::Str(old))) = (&value, current.lookup(def.name)) else {
        return value;
    };
    match (url_password_range(new), url_password_range(old)) {
        (Some(n), Some(o)) if &new[n.clone()] == MASK => {
            let without_new = (&new[..n.start], &new[n.end..]);
            let without_old = (&old[..o.start], &old[o.end..]);
            if without_new == without_old {
                Value::Str(old.clone())
            } else {
                // another user or broker: the mask is not that broker's password
                value
            }
        }
        _ => value,
    }
}

/// Applies the rules of strings (numbers were range-checked with their
/// type) to a type-checked value.
fn check_rule(def: &KeyDef, value: Value) -> Result<Value, SetError> {
    match def.rule {
        Rule::StrLen(min, max) => {
            if let Value::Str(s) = &value {
                check_len(s, min, max)?;
            }
        }
        Rule::TopicPrefix => {
            if let Value::Str(s) = &value {
                check_len(s, 0, 128)?;
                if !s.is_empty() && !s.ends_with('/') {
                    return Err(SetError::Invalid("topic prefix must end with /".into()));
                }
                if s.contains(['+', '#', '\0']) {
                    return Err(SetError::Invalid(
                        "topic prefix must not contain wildcards".into(),
                    ));
                }
            }
        }
        Rule::DiscoveryPrefix => {
            if let Value::Str(s) = &value {
                check_len(s, 1, 128)?;
                if s.contains(['+', '#', '\0']) {
                    return Err(SetError::Invalid(
                        "topic prefix must not contain wildcards".into(),
                    ));
                }
            }
        }
        Rule::Color => {
            if let Value::Str(s) = &value {
                let ok = s.len() == 7
                    && s.starts_with('#')
                    && s[1..].bytes().all(|b| b.is_ascii_hexdigit());
                if !ok {
                    return Err(SetError::Invalid("color must be #RRGGBB".into()));
                }
            }
        }
        Rule::PemKey | Rule::PemCert => {
            if let Value::Str(s) = &value {
                crate::pem::check(s, def.rule == Rule::PemKey).map_err(SetError::Invalid)?;
            }
        }
        Rule::UtcTime => {
            if let Value::Str(s) = &value
                && parse_utc(s).is_none()
            {
                return Err(SetError::Invalid(
                    "time must be YYYY-MM-DDTHH:MM:SS[.mmm]".into(),
                ));
            }
        }
        _ => {}
    }
    Ok(value)
}

/// Parses the `utc` key's format (`2024-09-18T07:31:23.457`, fraction optional)
/// into (year, month, day, hour, minute, second, millisecond).
pub fn parse_utc(s: &str) -> Option<(i32, u8, u8, u8, u8, u8, u16)> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut ms = 0u16;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() == 20 || b.len() > 26 {
            return None;
        }
        let frac = &s[20..];
        if !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{frac:0<3}");
        ms = padded[..3].parse().ok()?;
    }
    let days_in_month = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if !(1970..=2099).contains(&y) || d == 0 || d > days_in_month || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    Some((y as i32, mo as u8, d as u8, h as u8, mi as u8, se as u8, ms))
}

fn check_len(s: &str, min: usize, max: usize) -> Result<(), SetError> {
    let len = s.len();
    if len < min || len > max {
        return Err(SetError::StringLength { len, min, max });
    }
    Ok(())
}

/// The type words of the firmware's "value must be …" message.
fn type_words(base: Base, optional: bool) -> &'static str {
    match (base, optional) {
        (Base::Bool, _) => "boolean",
        (Base::Float | Base::Double, false) => "number",
        (Base::Float | Base::Double, true) => "null or number",
        (Base::Str, false) => "string",
        (Base::Str, true) => "null or string",
        (Base::Array, false) => "JsonArray",
        (Base::Array, true) => "null or JsonArray",
        (Base::Object, false) => "JsonObject",
        (Base::Object, true) => "null or JsonObject",
        (_, false) => "integer",
        (_, true) => "null or integer",
    }
}

fn to_bool(json: &serde_json::Value) -> Result<bool, SetError> {
    match json {
        serde_json::Value::Bool(b) => Ok(*b),
        // evcc writes `su=1`: 0 and 1 are accepted for bool keys.
        serde_json::Value::Number(n) if n.as_f64() == Some(0.0) => Ok(false),
        serde_json::Value::Number(n) if n.as_f64() == Some(1.0) => Ok(true),
        _ => Err(SetError::WrongType("boolean")),
    }
}

fn to_f64(json: &serde_json::Value, optional: bool) -> Result<f64, SetError> {
    json.as_f64()
        .filter(|f| f.is_finite())
        .ok_or(SetError::WrongType(type_words(Base::Double, optional)))
}

fn to_f32(json: &serde_json::Value, optional: bool) -> Result<f32, SetError> {
    let f = to_f64(json, optional)?;
    if f.abs() > f64::from(f32::MAX) {
        return Err(SetError::Invalid(format!(
            "Value {} does not fit a float",
            number_text(json)
        )));
    }
    Ok(f as f32)
}

/// An integer from JSON; whole-number floats (`16.0`) count as integers.
fn to_integer(json: &serde_json::Value, base: Base, optional: bool) -> Result<i128, SetError> {
    let wrong = SetError::WrongType(type_words(base, optional));
    let serde_json::Value::Number(n) = json else {
        return Err(wrong);
    };
    if let Some(i) = n.as_i64() {
        return Ok(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Ok(i128::from(u));
    }
    match n.as_f64() {
        // (a float cast saturates: `1e300` is then out of every range)
        Some(f) if f.is_finite() && f.fract() == 0.0 => Ok(f as i128),
        _ => Err(wrong),
    }
}

/// Arrays and objects: each has its own rule.
fn validate_structured(
    def: &KeyDef,
    json: &serde_json::Value,
    current: &dyn Lookup,
) -> Result<Value, SetError> {
    if matches!(def.rule, Rule::LoadTotal) {
        // `lot`'s JsonVariantConst setter: an object or a number
        return load_total(json, current.lookup(def.name));
    }
    let want_array = matches!(def.base(), Base::Array);
    let wrong = SetError::WrongType(type_words(def.base(), def.ty.optional));
    if want_array != json.is_array() || (!want_array && !json.is_object()) {
        return Err(wrong);
    }
    match def.rule {
        Rule::CurrentPresets => current_presets(json),
        Rule::Schedule => schedule(json, ScheduleShape::V1),
        Rule::ScheduleV2 => schedule(json, ScheduleShape::V2),
        Rule::PriceListV2 => price_list_v2(json),
        Rule::Wifis => sparse_merge(json, current.lookup(def.name), 10, wifi_field),
        Rule::Cards => sparse_merge(json, current.lookup(def.name), 10, card_field),
        Rule::InverterData => inverter_data(json),
        Rule::PriceList => price_list(json),
        Rule::PhaseMapping => phase_mapping(json),
        _ => Ok(Value::from_json(json)),
    }
}

fn invalid(msg: impl Into<String>) -> SetError {
    SetError::Invalid(msg.into())
}

fn int_in(json: &serde_json::Value, min: i64, max: i64, what: &str) -> Result<i64, SetError> {
    let n = json
        .as_i64()
        .or_else(|| json.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        .ok_or_else(|| invalid(format!("{what} must be integer")))?;
    if n < min || n > max {
        return Err(SetError::OutOfRange {
            // as written (a saturated `1e30` would read 9223372036854775807)
            value: number_text(json),
            min,
            max,
        });
    }
    Ok(n)
}

fn current_presets(json: &serde_json::Value) -> Result<Value, SetError> {
    let items = json.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.is_empty() || items.len() > 5 {
        return Err(invalid("clp needs 1 to 5 entries"));
    }
    let values = items
        .iter()
        .map(|v| int_in(v, 6, 32, "current").map(Value::Int))
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(values))
}

/// The scheduler object of the 2021 table or of newer firmware.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScheduleShape {
    /// `control` 0..2, times `{hour, minute}`.
    V1,
    /// `control` 0..4, times `{hour, minute, second}`.
    V2,
}

fn schedule(json: &serde_json::Value, shape: ScheduleShape) -> Result<Value, SetError> {
    let control = json
        .get("control")
        .ok_or_else(|| invalid("control missing"))?;
    let max_control = if shape == ScheduleShape::V2 { 4 } else { 2 };
    let control = int_in(control, 0, max_control, "control")?;
    let ranges = match json.get("ranges") {
        None => Vec::new(),
        Some(r) => r
            .as_array()
            .ok_or_else(|| invalid("ranges must be an array"))?
            .clone(),
    };
    if ranges.len() > 2 {
        return Err(invalid("at most 2 ranges"));
    }
    let time = |t: Option<&serde_json::Value>, name: &str| -> Result<Value, SetError> {
        let t = t.ok_or_else(|| invalid(format!("{name} missing")))?;
        let hour = int_in(t.get("hour").unwrap_or(&0.into()), 0, 24, "hour")?;
        let minute = int_in(t.get("minute").unwrap_or(&0.into()), 0, 59, "minute")?;
        let mut fields = vec![
            ("hour".into(), Value::Int(hour)),
            ("minute".into(), Value::Int(minute)),
        ];
        if shape == ScheduleShape::V2 {
            let second = int_in(t.get("second").unwrap_or(&0.into()), 0, 59, "second")?;
            fields.push(("second".into(), Value::Int(second)));
        }
        Ok(Value::Object(fields))
    };
    let mut out = Vec::with_capacity(2);
    for r in &ranges {
        out.push(Value::Object(vec![
            ("begin".into(), time(r.get("begin"), "begin")?),
            ("end".into(), time(r.get("end"), "end")?),
        ]));
    }
    while out.len() < 2 {
        let zero = serde_json::json!({"hour": 0, "minute": 0});
        out.push(Value::Object(vec![
            ("begin".into(), time(Some(&zero), "begin")?),
            ("end".into(), time(Some(&zero), "end")?),
        ]));
    }
    Ok(Value::Object(vec![
        ("control".into(), Value::Int(control)),
        ("ranges".into(), Value::Array(out)),
    ]))
}

/// The fields of `lot` on newer firmware with their inclusive ranges: `amp`,
/// `dyn` and `sta` are amps (uint8), `ts` is undocumented (uint16).
const LOAD_TOTAL_FIELDS: [(&str, i64, i64); 4] = [
    ("amp", 0, 255),
    ("dyn", 0, 255),
    ("sta", 0, 255),
    ("ts", 0, 65535),
];

/// `lot` on newer firmware: the given fields replace the current ones, the
/// others are kept; unknown fields are refused. The setter takes a
/// `JsonVariantConst` (not a `JsonObject` like `sch_*`): a plain number is
/// the 2021 meaning, the total, and sets `amp`.
fn load_total(json: &serde_json::Value, current: Option<&Value>) -> Result<Value, SetError> {
    let wrapped;
    let json = if json.is_number() {
        wrapped = serde_json::json!({ "amp": json });
        &wrapped
    } else {
        json
    };
    let obj = json.as_object().ok_or(SetError::WrongType("JsonObject"))?;
    if let Some(name) = obj
        .keys()
        .find(|k| !LOAD_TOTAL_FIELDS.iter().any(|(f, _, _)| f == k))
    {
        return Err(invalid(format!("unknown field {name}")));
    }
    let mut out = Vec::with_capacity(LOAD_TOTAL_FIELDS.len());
    for (name, min, max) in LOAD_TOTAL_FIELDS {
        let value = match obj.get(name) {
            Some(v) => int_in(v, min, max, name)?,
            None => current
                .and_then(|c| c.field(name))
                .and_then(Value::as_i64)
                .unwrap_or(0),
        };
        out.push((name.to_owned(), Value::Int(value)));
    }
    Ok(Value::Object(out))
}

/// The v2 price list (`awpl` on fw 60.x): `{"prices":[…]}` with the v1 entries.
fn price_list_v2(json: &serde_json::Value) -> Result<Value, SetError> {
    let prices = json
        .get("prices")
        .filter(|p| p.is_array())
        .ok_or_else(|| invalid("prices must be an array"))?;
    Ok(Value::Object(vec![("prices".into(), price_list(prices)?)]))
}

/// The type a field of a sparse-array entry must have; `None` = unknown field.
type FieldCheck = fn(&str, &serde_json::Value) -> Option<Result<Value, SetError>>;

fn string_field(v: &serde_json::Value, max: usize) -> Result<Value, SetError> {
    let s = v.as_str().ok_or(SetError::WrongType("string"))?;
    check_len(s, 0, max)?;
    Ok(Value::Str(s.to_owned()))
}

/// A dotted-quad IPv4 address (`0.0.0.0` = unset), as the ESP's `ip4addr`
/// fields hold: `999.1.1.1`, `1.2.3` or a host name are refused.
fn ipv4_field(name: &str, v: &serde_json::Value) -> Result<Value, SetError> {
    let s = v.as_str().ok_or(SetError::WrongType("string"))?;
    if s.parse::<std::net::Ipv4Addr>().is_err() {
        return Err(invalid(format!("{name} must be an IPv4 address")));
    }
    Ok(Value::Str(s.to_owned()))
}

fn wifi_field(name: &str, v: &serde_json::Value) -> Option<Result<Value, SetError>> {
    Some(match name {
        "ssid" => string_field(v, 32),
        "key" => string_field(v, 64),
        "useStaticIp" | "useStaticDns" => to_bool(v).map(Value::Bool),
        "staticIp" | "staticSubnet" | "staticGateway" | "staticDns0" | "staticDns1"
        | "staticDns2" => ipv4_field(name, v),
        _ => return None,
    })
}

fn card_field(name: &str, v: &serde_json::Value) -> Option<Result<Value, SetError>> {
    Some(match name {
        "name" => string_field(v, 32),
        "energy" => match v.as_f64() {
            Some(f) if f >= 0.0 && f.is_finite() => Ok(if f.fract() == 0.0 {
                Value::Int(f as i64)
            } else {
                Value::Double(f)
            }),
            _ => Err(SetError::WrongType("number")),
        },
        "cardId" => match v {
            serde_json::Value::Bool(false) => Ok(Value::Str(String::new())),
            other => string_field(other, 32),
        },
        _ => return None,
    })
}

/// Merges a sparse array of objects (`[{}, {"ssid":"x"}]`) into the current one:
/// empty objects keep the entry, given fields replace the entry's fields.
fn sparse_merge(
    json: &serde_json::Value,
    current: Option<&Value>,
    slots: usize,
    field: FieldCheck,
) -> Result<Value, SetError> {
    let items = json.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.len() > slots {
        return Err(invalid(format!("at most {slots} entries")));
    }
    let mut merged = match current {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    for (i, item) in items.iter().enumerate() {
        let obj = item.as_object().ok_or(SetError::WrongType("JsonObject"))?;
        let Some(Value::Object(entry)) = merged.get_mut(i) else {
            return Err(invalid(format!("no entry {i}")));
        };
        for (k, v) in obj {
            let new = field(k, v).ok_or_else(|| invalid(format!("unknown field {k}")))??;
            match entry.iter_mut().find(|(name, _)| name == k) {
                Some((_, slot)) => *slot = new,
                None => entry.push((k.clone(), new)),
            }
        }
    }
    Ok(Value::Array(merged))
}

fn inverter_data(json: &serde_json::Value) -> Result<Value, SetError> {
    let mut out = Vec::with_capacity(3);
    for (name, required) in [("pGrid", true), ("pPv", false), ("pAkku", false)] {
        match json.get(name) {
            Some(v) => {
                let f = v
                    .as_f64()
                    .filter(|f| f.is_finite() && f.abs() < 1e9)
                    .ok_or_else(|| invalid(format!("{name} must be a number")))?;
                out.push((name.to_owned(), Value::Float(f as f32)));
            }
            None if required => return Err(invalid("pGrid missing")),
            None => {}
        }
    }
    Ok(Value::Object(out))
}

fn price_list(json: &serde_json::Value) -> Result<Value, SetError> {
    let items = json.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.len() > 200 {
        return Err(invalid("at most 200 prices"));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let start = int_in(
            item.get("start").unwrap_or(&serde_json::Value::Null),
            0,
            i64::from(u32::MAX),
            "start",
        )?;
        let end = int_in(
            item.get("end").unwrap_or(&serde_json::Value::Null),
            0,
            i64::from(u32::MAX),
            "end",
        )?;
        if end <= start {
            return Err(invalid("end must be after start"));
        }
        let price = item
            .get("marketprice")
            .and_then(serde_json::Value::as_f64)
            .filter(|f| f.is_finite())
            .ok_or_else(|| invalid("marketprice must be a number"))?;
        out.push(Value::Object(vec![
            ("start".into(), Value::Int(start)),
            ("end".into(), Value::Int(end)),
            ("marketprice".into(), Value::Float(price as f32)),
        ]));
    }
    Ok(Value::Array(out))
}

fn phase_mapping(json: &serde_json::Value) -> Result<Value, SetError> {
    let items = json.as_array().map(Vec::as_slice).unwrap_or_default();
    if items.len() != 3 {
        return Err(invalid("map needs 3 entries"));
    }
    let values = items
        .iter()
        .map(|v| int_in(v, 1, 3, "phase").map(Value::Int))
        .collect::<Result<_, _>>()?;
    Ok(Value::Array(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_have_arduinojson_names() {
        assert_eq!(parse_json(""), Err(JsonError::EmptyInput));
        assert_eq!(parse_json("  "), Err(JsonError::EmptyInput));
        assert_eq!(parse_json("go"), Err(JsonError::InvalidInput));
        assert_eq!(parse_json("\"abc"), Err(JsonError::IncompleteInput));
        assert_eq!(parse_json("[1,2"), Err(JsonError::IncompleteInput));
        assert_eq!(parse_json("1 2"), Err(JsonError::InvalidInput));
        assert_eq!(
            parse_json(&format!("{}{}", "[".repeat(11), "]".repeat(11))),
            Err(JsonError::TooDeep)
        );
        assert!(parse_json(&format!("{}{}", "[".repeat(10), "]".repeat(10))).is_ok());
        assert_eq!(
            parse_json("\"[[[[[[[[[[[[\""),
            Ok(serde_json::json!("[[[[[[[[[[[["))
        );
        assert_eq!(
            parse_json(&format!("\"{}\"", "a".repeat(MAX_JSON_LEN))),
            Err(JsonError::NoMemory)
        );
    }

    #[test]
    fn utc_format() {
        assert_eq!(
            parse_utc("2024-09-18T07:31:23.457"),
            Some((2024, 9, 18, 7, 31, 23, 457))
        );
        assert_eq!(
            parse_utc("2024-02-29T00:00:00"),
            Some((2024, 2, 29, 0, 0, 0, 0))
        );
        assert_eq!(parse_utc("2023-02-29T00:00:00"), None);
        assert_eq!(parse_utc("2023-01-01 00:00:00"), None);
        assert_eq!(parse_utc("2023-01-01T24:00:00"), None);
    }

    #[test]
    fn messages_match_the_firmware() {
        let e = SetError::OutOfRange {
            value: "5".into(),
            min: 6,
            max: 32,
        };
        assert_eq!(
            e.http_text("amp", "5"),
            "amp: failed: Value 5 exceeds range 6 to 32 (5)"
        );
        let e = SetError::StringLength {
            len: 2,
            min: 4,
            max: 64,
        };
        assert_eq!(
            e.mqtt_text("\"go\""),
            "failed: String length  2 exceeds range 4 to 64 \"go\""
        );
        assert_eq!(
            SetError::InvalidJson(JsonError::InvalidInput).mqtt_text("go"),
            "invalid json InvalidInput: go"
        );
        assert_eq!(
            SetError::NoSetter.http_text("alw", "true"),
            "alw: tried to set api key without setter (true)"
        );
        assert_eq!(
            SetError::InvalidJson(JsonError::EmptyInput).http_text("cch", ""),
            "cch: tried to set api key with invalid json EmptyInput ()"
        );
    }
}
