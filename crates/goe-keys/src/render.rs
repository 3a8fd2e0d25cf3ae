//! How values leave the charger: secrets are replaced by "is set" booleans.
//!
//! Every output path (HTTP status, MQTT, WebSocket) renders through
//! [`write_value`], so a secret cannot leak through one path and not another.

use crate::def::{KeyDef, Secret};
use crate::value::Value;

/// Appends the JSON text of `value` as the key `def` shows it to clients.
pub fn write_value(def: &KeyDef, value: &Value, out: &mut String) {
    match def.secret {
        Secret::No => value.write_json(out),
        Secret::IsSet => out.push_str(if is_set(value) { "true" } else { "false" }),
        Secret::FieldIsSet(field) => match value {
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_masked_entry(item, field, out);
                }
                out.push(']');
            }
            other => other.write_json(out),
        },
    }
}

/// The value as clients see it (for tools and tests).
pub fn shown(def: &KeyDef, value: &Value) -> String {
    let mut s = String::new();
    write_value(def, value, &mut s);
    s
}

fn is_set(value: &Value) -> bool {
    match value {
        Value::Str(s) => !s.is_empty(),
        Value::Null => false,
        _ => true,
    }
}

fn write_masked_entry(entry: &Value, field: &str, out: &mut String) {
    let Value::Object(fields) = entry else {
        entry.write_json(out);
        return;
    };
    out.push('{');
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::value::write_string(k, out);
        out.push(':');
        if k == field {
            out.push_str(if is_set(v) { "true" } else { "false" });
        } else {
            v.write_json(out);
        }
    }
    out.push('}');
}
