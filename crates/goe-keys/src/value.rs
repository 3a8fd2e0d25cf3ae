//! Typed key values and the firmware's JSON wire format.
//!
//! The firmware serializes with ArduinoJson 6 on an ESP32, where every float is
//! widened to `double` before printing. [`write_float`] reproduces that
//! algorithm exactly, so `233.43f32` prints as `233.4299927` like a real unit.

use std::fmt::Write as _;

/// A key's value. Objects keep their field order, as the firmware does.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// JSON `true`/`false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer too large for `i64` (only `uint64` keys).
    UInt(u64),
    /// A 32-bit float; printed widened to double.
    Float(f32),
    /// A 64-bit double.
    Double(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Value>),
    /// An object with ordered fields.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value as an `i64`, if it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::Int(i) => Some(i),
            Value::UInt(u) => i64::try_from(u).ok(),
            _ => None,
        }
    }

    /// The value as an `f64`, if it is any number.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Int(i) => Some(i as f64),
            Value::UInt(u) => Some(u as f64),
            Value::Float(f) => Some(f64::from(f)),
            Value::Double(d) => Some(d),
            _ => None,
        }
    }

    /// The value as a bool, if it is one.
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The field `name` of an object value.
    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(fields) => fields.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Appends the compact JSON text of the value, formatted like the firmware.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::UInt(u) => {
                let _ = write!(out, "{u}");
            }
            Value::Float(f) => write_float(f64::from(*f), out),
            Value::Double(d) => write_float(*d, out),
            Value::Str(s) => write_string(s, out),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// The compact JSON text of the value.
    pub fn to_json(&self) -> String {
        let mut s = String::new();
        self.write_json(&mut s);
        s
    }

    /// Converts parsed JSON into a value, keeping integers integral.
    /// Non-integral numbers become doubles; callers narrow to the key's type.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Value::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Value::UInt(u)
                } else {
                    Value::Double(n.as_f64().unwrap_or(0.0))
                }
            }
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts into `serde_json` losslessly (floats keep every bit), for storage.
    pub fn to_serde_exact(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => {
                serde_json::Number::from_f64(f64::from(*f)).map_or(J::Null, J::Number)
            }
            Value::Double(d) => serde_json::Number::from_f64(*d).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Array(a) => J::Array(a.iter().map(Value::to_serde_exact).collect()),
            Value::Object(o) => J::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.to_serde_exact()))
                    .collect(),
            ),
        }
    }

    /// Converts into `serde_json` (for tools; floats go through their printed form).
    pub fn to_serde(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json()).unwrap_or(serde_json::Value::Null)
    }
}

/// Writes a string with ArduinoJson's escaping: `"`, `\`, `\b`, `\f`, `\n`, `\r`,
/// `\t` are escaped, everything else is written raw, except the remaining
/// control characters, which become `\u00XX` (ArduinoJson 6 writes them raw,
/// which strict JSON parsers reject; see docs/compat.md).
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a number exactly like ArduinoJson 6 `TextFormatter::writeFloat` with
/// `double` as its float type: the integral part, then up to
/// `9 - (digits(integral) - 1)` decimals rounded half up, trailing zeros removed;
/// values ≥ 1e7 or ≤ 1e-5 are normalized with an exponent.
pub fn write_float(value: f64, out: &mut String) {
    if value.is_nan() || value.is_infinite() {
        // ArduinoJson without NaN/Infinity support prints null.
        out.push_str("null");
        return;
    }
    let mut value = value;
    if value < 0.0 {
        out.push('-');
        value = -value;
    }
    let exponent = normalize(&mut value);

    let mut max_decimal_part: u32 = 1_000_000_000;
    let mut decimal_places: i32 = 9;
    let mut integral = value as u32;
    let mut tmp = integral;
    while tmp >= 10 {
        max_decimal_part /= 10;
        decimal_places -= 1;
        tmp /= 10;
    }
    let mut remainder = (value - f64::from(integral)) * f64::from(max_decimal_part);
    let mut decimal = remainder as u32;
    remainder -= f64::from(decimal);
    decimal += (remainder * 2.0) as u32;
    let mut exponent = exponent;
    if decimal >= max_decimal_part {
        decimal = 0;
        integral += 1;
        if exponent != 0 && integral >= 10 {
            exponent += 1;
            integral = 1;
        }
    }
    while decimal.is_multiple_of(10) && decimal_places > 0 {
        decimal /= 10;
        decimal_places -= 1;
    }

    let _ = write!(out, "{integral}");
    if decimal_places > 0 {
        let _ = write!(out, ".{:0width$}", decimal, width = decimal_places as usize);
    }
    if exponent != 0 {
        let _ = write!(out, "e{exponent}");
    }
}

/// ArduinoJson's `FloatParts::normalize` for doubles: scales `value` into
/// `[1, 1e7)` by binary powers of ten and returns the decimal exponent.
fn normalize(value: &mut f64) -> i32 {
    const POSITIVE: [f64; 9] = [1e1, 1e2, 1e4, 1e8, 1e16, 1e32, 1e64, 1e128, 1e256];
    const NEGATIVE: [f64; 9] = [1e-1, 1e-2, 1e-4, 1e-8, 1e-16, 1e-32, 1e-64, 1e-128, 1e-256];
    const NEGATIVE_PLUS_ONE: [f64; 9] =
        [1e0, 1e-1, 1e-3, 1e-7, 1e-15, 1e-31, 1e-63, 1e-127, 1e-255];
    let mut powers_of_10 = 0i32;
    let mut index: i32 = 8;
    let mut bit: i32 = 1 << index;
    if *value >= 1e7 {
        while index >= 0 {
            if *value >= POSITIVE[index as usize] {
                *value *= NEGATIVE[index as usize];
                powers_of_10 += bit;
            }
            bit >>= 1;
            index -= 1;
        }
    }
    if *value > 0.0 && *value <= 1e-5 {
        while index >= 0 {
            if *value < NEGATIVE_PLUS_ONE[index as usize] {
                *value *= POSITIVE[index as usize];
                powers_of_10 -= bit;
            }
            bit >>= 1;
            index -= 1;
        }
    }
    powers_of_10
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: f32) -> String {
        Value::Float(v).to_json()
    }

    fn f64s(v: f64) -> String {
        Value::Double(v).to_json()
    }

    #[test]
    fn floats_widened_like_the_firmware() {
        // Every literal on the right is from a real capture.
        assert_eq!(f32s(233.43), "233.4299927");
        assert_eq!(f32s(234.67), "234.6699982");
        assert_eq!(f32s(1.24), "1.24000001");
        assert_eq!(f32s(49.8), "49.79999924");
        assert_eq!(f32s(8.333), "8.333000183");
        assert_eq!(f32s(49.909_13), "49.9091301");
        assert_eq!(f32s(50.037), "50.03699875");
        assert_eq!(f32s(14.192), "14.19200039");
        assert_eq!(f32s(50.089), "50.0890007");
        assert_eq!(f32s(24.125), "24.125");
        assert_eq!(f32s(1400.0), "1400");
        assert_eq!(f32s(0.0), "0");
        assert_eq!(f32s(-300.0), "-300");
    }

    #[test]
    fn doubles_keep_nine_significant_digits() {
        assert_eq!(f64s(23980.87648), "23980.87648");
        assert_eq!(f64s(21026.37), "21026.37");
        assert_eq!(f64s(0.1), "0.1");
        assert_eq!(f64s(1.0 / 3.0), "0.333333333");
        assert_eq!(f64s(2.0 / 3.0), "0.666666667");
        assert_eq!(f64s(9.999_999_999_9), "10");
    }

    #[test]
    fn large_and_tiny_numbers_use_exponents() {
        assert_eq!(f64s(1e7), "1e7");
        assert_eq!(f64s(12_345_678.0), "1.2345678e7");
        assert_eq!(f64s(1e-6), "1e-6");
        assert_eq!(f64s(f64::NAN), "null");
    }

    #[test]
    fn strings_escape_like_arduinojson() {
        let mut s = String::new();
        write_string("a\"b\\c\n/ä\u{1}\0", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\c\\n/ä\\u0001\\u0000\"");
    }
}
