//! JSON helpers that keep what `serde_json::Value` loses: the order of the
//! top-level keys and the exact text of every value (number formatting).
//!
//! The firmware (ArduinoJson 6) escapes only `"` `\` `\b` `\f` `\n` `\r` `\t`
//! and NUL in strings and writes other control characters raw, which strict
//! JSON parsers reject. [`lenient`] escapes such raw control characters inside
//! strings before parsing, so a value the charger legitimately echoes (e.g. a
//! name containing U+0001) does not make a test fail.

use serde_json::Value;

/// One top-level entry of a JSON object.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The key (decoded).
    pub key: String,
    /// The value's exact text in the body.
    pub raw: String,
    /// The parsed value.
    pub value: Value,
}

/// A JSON object with its entries in body order.
#[derive(Debug, Clone)]
pub struct Ordered {
    /// The whole body.
    pub raw: String,
    /// The entries in order.
    pub entries: Vec<Entry>,
}

impl Ordered {
    /// Parses a JSON object (leniently, see the module docs).
    pub fn parse(text: &str) -> Result<Ordered, String> {
        let spans = scan_object(text)?;
        let mut entries = Vec::with_capacity(spans.len());
        for (key_raw, raw) in spans {
            let key = match lenient(&key_raw)? {
                Value::String(s) => s,
                other => return Err(format!("key is not a string: {other}")),
            };
            let value = lenient(&raw).map_err(|e| format!("value of {key}: {e}"))?;
            entries.push(Entry { key, raw, value });
        }
        Ok(Ordered {
            raw: text.to_owned(),
            entries,
        })
    }

    /// The keys in order.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.key.as_str()).collect()
    }

    /// The value of `key` (first occurrence).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// The exact text of the value of `key`.
    pub fn raw_of(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.raw.as_str())
    }

    /// Whether `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|e| e.key == key)
    }
}

/// Parses JSON text, tolerating raw control characters inside strings.
pub fn lenient(text: &str) -> Result<Value, String> {
    let mut fixed = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            } else if (c as u32) < 0x20 {
                fixed.push_str(&format!("\\u{:04x}", c as u32));
                continue;
            }
        } else if c == '"' {
            in_str = true;
        }
        fixed.push(c);
    }
    serde_json::from_str(&fixed).map_err(|e| e.to_string())
}

/// Whether a string value contains raw (unescaped) control characters.
pub fn has_raw_control_chars(text: &str) -> bool {
    let mut in_str = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            } else if (c as u32) < 0x20 {
                return true;
            }
        } else if c == '"' {
            in_str = true;
        }
    }
    false
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!(
                "expected {:?} at byte {}, found {:?}",
                c as char,
                self.i,
                self.peek().map(|c| c as char)
            ))
        }
    }

    /// Skips a string starting at the current `"`.
    fn string(&mut self) -> Result<(), String> {
        self.expect(b'"')?;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => self.i += 1,
                b'"' => return Ok(()),
                _ => {}
            }
        }
        Err("unterminated string".into())
    }

    /// Skips one value.
    fn value(&mut self) -> Result<(), String> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{') | Some(b'[') => {
                let mut depth = 0usize;
                while let Some(c) = self.peek() {
                    match c {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                Err("unbalanced brackets".into())
            }
            Some(_) => {
                let start = self.i;
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                if self.i == start {
                    Err(format!("empty value at byte {start}"))
                } else {
                    Ok(())
                }
            }
            None => Err("unexpected end".into()),
        }
    }
}

/// Splits a JSON object into (key text with quotes, value text) pairs in order.
pub fn scan_object(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut c = Cursor {
        b: text.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    c.ws();
    c.expect(b'{')?;
    c.ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
    } else {
        loop {
            c.ws();
            let ks = c.i;
            c.string()?;
            let key = text[ks..c.i].to_owned();
            c.ws();
            c.expect(b':')?;
            c.ws();
            let vs = c.i;
            c.value()?;
            out.push((key, text[vs..c.i].to_owned()));
            c.ws();
            match c.peek() {
                Some(b',') => c.i += 1,
                Some(b'}') => {
                    c.i += 1;
                    break;
                }
                other => {
                    return Err(format!(
                        "expected , or }} at byte {}, found {:?}",
                        c.i,
                        other.map(|c| c as char)
                    ));
                }
            }
        }
    }
    c.ws();
    if c.i != text.len() {
        return Err(format!("trailing data after the object at byte {}", c.i));
    }
    Ok(out)
}

/// The number tokens of a JSON text (outside strings), in order.
pub fn number_tokens(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            c if c == b'-' || c.is_ascii_digit() => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_digit() || matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E'))
                {
                    i += 1;
                }
                out.push(text[start..i].to_owned());
            }
            _ => i += 1,
        }
    }
    out
}

/// Whether the text has whitespace outside strings (the charger's JSON is compact).
pub fn has_whitespace_outside_strings(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() {
                    match b[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b' ' | b'\t' | b'\n' | b'\r' => return true,
            _ => i += 1,
        }
    }
    false
}

/// Checks one number token against ArduinoJson 6's float output rules:
/// no trailing zeros in the fraction (so whole numbers have no `.`), at most
/// 10 significant digits in integral part + decimals, and a fraction only with
/// at most `9 - (digits(integral) - 1)` decimals. `Err` says what is wrong.
pub fn check_number_format(token: &str) -> Result<(), String> {
    let t = token.strip_prefix('-').unwrap_or(token);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(p) => (&t[..p], Some(&t[p + 1..])),
        None => (t, None),
    };
    if let Some(e) = exp {
        let e = e.strip_prefix('-').unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("{token}: bad exponent"));
        }
    }
    let (int, frac) = match mantissa.find('.') {
        Some(p) => (&mantissa[..p], Some(&mantissa[p + 1..])),
        None => (mantissa, None),
    };
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("{token}: bad integral part"));
    }
    if int.len() > 1 && int.starts_with('0') {
        return Err(format!("{token}: leading zero"));
    }
    if let Some(frac) = frac {
        if frac.is_empty() || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("{token}: bad fraction"));
        }
        if frac.ends_with('0') {
            return Err(format!(
                "{token}: trailing zero in the fraction (whole floats must print without a decimal point)"
            ));
        }
        // integral digits (of the integral part as a number) + decimals <= 10
        let int_digits = int.trim_start_matches('0').len().max(1);
        if int_digits + frac.len() > 10 {
            return Err(format!(
                "{token}: {} significant digits, ArduinoJson prints at most 10",
                int_digits + frac.len()
            ));
        }
        if exp.is_some() && int.len() != 1 {
            return Err(format!("{token}: exponent form needs one integral digit"));
        }
    }
    Ok(())
}

/// The JSON kind of a value (`null`, `bool`, `number`, `string`, `array`,
/// `object`), for messages comparing a value's shape with a capture's.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
