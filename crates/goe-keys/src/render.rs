//! How values leave the charger: secrets are replaced by "is set" booleans,
//! the password inside a URL (`mcu`) by [`MASK`].
//!
//! Every output path (HTTP status, MQTT, WebSocket) renders through
//! [`write_value`], so a secret cannot leak through one path and not another.

use crate::def::{KeyDef, Secret};
use crate::value::Value;
use std::borrow::Cow;

/// What is shown instead of a secret text: inside `mcu`, and in error texts
/// instead of the raw value written to a secret key (the API v1 mask).
pub const MASK: &str = "********";

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
        Secret::UrlPassword => match value {
            Value::Str(s) => crate::value::write_string(&mask_url_password(s), out),
            other => other.write_json(out),
        },
    }
}

/// The byte range of the password in `scheme://user:password@host…`: after
/// the first `:` of the user info, up to the last `@` (how the MQTT client
/// splits `mcu`). Without an `@`, what follows a `:` of the authority is a
/// password too unless it is a port number (`mqtt://me:secret` was meant as
/// user and password; the client refuses it as a bad port, and nothing may
/// show it). `None` without a password or with an empty one.
pub fn url_password_range(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://").map_or(0, |i| i + 3);
    let Some(at) = url[start..].rfind('@').map(|i| start + i) else {
        let end = url[start..].find('/').map_or(url.len(), |i| start + i);
        let colon = start + url[start..end].find(':')?;
        let after = &url[colon + 1..end];
        let is_port = after.bytes().all(|b| b.is_ascii_digit());
        return (!after.is_empty() && !is_port).then_some(colon + 1..end);
    };
    let colon = start + url[start..at].find(':')?;
    (colon + 1 < at).then_some(colon + 1..at)
}

/// `url` with its password (if any) replaced by [`MASK`]: what clients see
/// of `mcu`, and what logs and `mlr` may say about a broker URL.
pub fn mask_url_password(url: &str) -> Cow<'_, str> {
    match url_password_range(url) {
        Some(r) => Cow::Owned(format!("{}{MASK}{}", &url[..r.start], &url[r.end..])),
        None => Cow::Borrowed(url),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked() {
        let cases = [
            ("mqtt://me:pw@host:1883", "mqtt://me:********@host:1883"),
            ("mqtt://me:p@ss:w@host/", "mqtt://me:********@host/"),
            ("mqtt://me@host", "mqtt://me@host"),
            ("mqtt://me:@host", "mqtt://me:@host"),
            ("mqtt://host:1883", "mqtt://host:1883"),
            // no `@`: a non-numeric "port" is what the user meant as a password
            ("mqtt://me:hunter2", "mqtt://me:********"),
            ("mqtt://me:hunter2/x", "mqtt://me:********/x"),
            ("mqtt://host:", "mqtt://host:"),
            ("me:pw@host", "me:********@host"),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(mask_url_password(url), shown, "{url}");
        }
        let def = crate::key("mcu").unwrap();
        assert_eq!(
            super::shown(def, &Value::Str("mqtt://u:secret@b:1".into())),
            "\"mqtt://u:********@b:1\""
        );
    }
}
