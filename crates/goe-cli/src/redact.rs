//! What `goe record` changes in values before they enter a trace: secrets
//! masked again (defensively: the API already masks them), and with
//! `--redact` Wi-Fi names and IP/MAC addresses replaced by fixed placeholders.

use goe_keys::Secret;
use serde_json::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What replaces a Wi-Fi name (SSID).
pub const SSID: &str = "redacted-ssid";
/// What replaces an IPv4 address (RFC 5737 documentation range).
pub const IPV4: &str = "192.0.2.1";
/// What replaces an IPv6 address (RFC 3849 documentation prefix).
pub const IPV6: &str = "2001:db8::1";
/// What replaces a MAC address (RFC 7042 documentation range).
pub const MAC: &str = "00:00:5E:00:53:00";
/// What replaces the recorded address in the header.
pub const HOST: &str = "redacted";

/// The names of the redactions `--redact` applies, as the header lists them.
pub const REDACTIONS: &[&str] = &["host", "ssid", "ip", "mac"];

/// Keys whose whole value is a Wi-Fi name: `wss` (the STA SSID of older
/// firmware, in the 051 captures) and `wan` (the access point's name).
const SSID_KEYS: &[&str] = &["wss", "wan"];

/// Makes `value` of `key` fit for a trace: secrets masked, and with
/// `redact` the Wi-Fi names and addresses replaced.
pub fn clean(key: &str, value: &mut Value, redact: bool) {
    mask_secret(key, value);
    if redact {
        if SSID_KEYS.contains(&key) {
            replace_ssid(value);
        }
        redact_value(value);
    }
}

/// Every key of a status, see [`clean`].
pub fn clean_all(status: &mut serde_json::Map<String, Value>, redact: bool) {
    for (key, value) in status.iter_mut() {
        clean(key, value, redact);
    }
}

/// The secret handling of `key` in any firmware's definition of it.
fn secret_of(key: &str) -> Secret {
    goe_keys::key(key)
        .and_then(|def| {
            def.definitions()
                .map(|d| d.secret)
                .find(|s| *s != Secret::No)
        })
        .unwrap_or(Secret::No)
}

/// Tokens the API prints in clear (the key table does not mark them secret,
/// as the firmware shows them): `cak`, the cloud API key, becomes
/// [`goe_keys::render::MASK`]; the export token in `dll`'s `e=` becomes
/// `...` (as in go-e's own documentation of the key).
fn mask_token(key: &str, value: &mut Value) {
    let Value::String(text) = value else { return };
    match key {
        "cak" if !text.is_empty() => *text = goe_keys::render::MASK.to_owned(),
        "dll" => {
            if let Some(at) = text.find("e=") {
                let start = at + 2;
                let end = text[start..].find('&').map_or(text.len(), |i| start + i);
                text.replace_range(start..end, "...");
            }
        }
        _ => {}
    }
}

/// A secret that is not in its masked form is masked as the API masks it.
fn mask_secret(key: &str, value: &mut Value) {
    mask_token(key, value);
    match secret_of(key) {
        Secret::No => {}
        Secret::IsSet => {
            if !value.is_boolean() {
                *value = Value::Bool(is_set(value));
            }
        }
        Secret::FieldIsSet(field) => {
            if let Value::Array(items) = value {
                for item in items {
                    if let Some(v) = item.get_mut(field).filter(|v| !v.is_boolean()) {
                        *v = Value::Bool(is_set(v));
                    }
                }
            }
        }
        Secret::UrlPassword => {
            if let Value::String(url) = value {
                let masked = goe_keys::render::mask_url_password(url).into_owned();
                *url = masked;
            }
        }
    }
}

/// As the firmware's "is set": a non-empty text, anything but null.
fn is_set(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.is_empty(),
        Value::Null => false,
        _ => true,
    }
}

/// Non-empty Wi-Fi names in `value` (a text or a list of texts) replaced.
fn replace_ssid(value: &mut Value) {
    match value {
        Value::String(s) if !s.is_empty() => *s = SSID.to_owned(),
        Value::Array(items) => items.iter_mut().for_each(replace_ssid),
        _ => {}
    }
}

/// Fields named `ssid` at any depth get [`SSID`]; addresses in every text get
/// their placeholder.
fn redact_value(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Some(redacted) = redact_addresses(s) {
                *s = redacted;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_value),
        Value::Object(fields) => {
            for (name, v) in fields.iter_mut() {
                if name.eq_ignore_ascii_case("ssid") {
                    replace_ssid(v);
                }
                redact_value(v);
            }
        }
        _ => {}
    }
}

/// `text` with its IPv4, IPv6 and MAC addresses replaced, `None` if it has
/// none. The unspecified addresses (`0.0.0.0`, `::`, all-zero MAC) mean
/// "none" and stay.
pub fn redact_addresses(text: &str) -> Option<String> {
    let is_part = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '.';
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut rest = text;
    while let Some(start) = rest.find(is_part) {
        out.push_str(&rest[..start]);
        let run_len = rest[start..]
            .find(|c| !is_part(c))
            .unwrap_or(rest.len() - start);
        let run = &rest[start..start + run_len];
        let replaced = redact_run(run);
        changed |= replaced != run;
        out.push_str(&replaced);
        rest = &rest[start + run_len..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// One run of hex digits, colons and dots: a whole address, or IPv4
/// addresses between colons (`192.168.1.5:1883`).
fn redact_run(run: &str) -> String {
    if is_mac(run) {
        return if run.chars().all(|c| c == '0' || c == ':') {
            run.to_owned()
        } else {
            MAC.to_owned()
        };
    }
    if run.contains(':')
        && let Ok(ip) = run.parse::<Ipv6Addr>()
    {
        return if ip.is_unspecified() {
            run.to_owned()
        } else {
            IPV6.to_owned()
        };
    }
    run.split(':')
        .map(|part| redact_ipv4(part).unwrap_or_else(|| part.to_owned()))
        .collect::<Vec<_>>()
        .join(":")
}

/// `part` with an IPv4 address replaced (a trailing dot kept: end of a sentence).
fn redact_ipv4(part: &str) -> Option<String> {
    let (addr, tail) = match part.strip_suffix('.') {
        Some(a) => (a, "."),
        None => (part, ""),
    };
    let ip = addr.parse::<Ipv4Addr>().ok()?;
    (!ip.is_unspecified()).then(|| format!("{IPV4}{tail}"))
}

/// Six pairs of hex digits separated by colons.
fn is_mac(run: &str) -> bool {
    let parts: Vec<&str> = run.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses_are_replaced_and_the_rest_kept() {
        let cases = [
            ("192.168.1.11", Some(IPV4.to_owned())),
            ("0.0.0.0", None),
            ("F6:06:8D:CF:A5:08", Some(MAC.to_owned())),
            ("00:00:00:00:00:00", None),
            ("FE80::AA03:2AFF:FE2C:3BA4", Some(IPV6.to_owned())),
            ("::", None),
            (
                "mqtt://u:********@192.168.1.5:1883/x",
                Some(format!("mqtt://u:********@{IPV4}:1883/x")),
            ),
            ("connect to 10.0.0.1.", Some(format!("connect to {IPV4}."))),
            ("060.5", None),
            ("2026-12-01T22:46:11.123Z", None),
            ("12:30:00", None),
            ("go-eCharger-012345", None),
        ];
        for (text, want) in cases {
            assert_eq!(redact_addresses(text), want, "{text}");
        }
    }

    #[test]
    fn wifi_names_and_addresses_in_status_values() {
        let mut ccw = json!({"ssid":"iot-side","channel":4,"bssid":"F6:06:8D:CF:A5:08","ip":"192.168.1.11","ipv6":["FE80::AA03:2AFF:FE2C:3BA4"]});
        clean("ccw", &mut ccw, true);
        assert_eq!(
            ccw,
            json!({"ssid":SSID,"channel":4,"bssid":MAC,"ip":IPV4,"ipv6":[IPV6]})
        );
        let mut wss = json!("<WLAN-SSID>");
        clean("wss", &mut wss, true);
        assert_eq!(wss, json!(SSID));
        let mut empty = json!([{"ssid":"","key":false}]);
        clean("wifis", &mut empty, true);
        assert_eq!(empty, json!([{"ssid":"","key":false}]));
        // without --redact only secrets change
        let mut kept = json!({"ssid":"home","ip":"192.168.1.2"});
        clean("ccw", &mut kept, false);
        assert_eq!(kept, json!({"ssid":"home","ip":"192.168.1.2"}));
    }

    #[test]
    fn secrets_are_masked_again() {
        let mut wifis = json!([{"ssid":"home","key":"hunter22"},{"ssid":"","key":""}]);
        clean("wifis", &mut wifis, false);
        assert_eq!(
            wifis,
            json!([{"ssid":"home","key":true},{"ssid":"","key":false}])
        );
        let mut masked = json!([{"ssid":"home","key":true}]);
        clean("wifis", &mut masked, false);
        assert_eq!(masked, json!([{"ssid":"home","key":true}]));
        let mut wak = json!("access-point-key");
        clean("wak", &mut wak, false);
        assert_eq!(wak, json!(true));
        let mut mcu = json!("mqtt://me:pw@broker:1883");
        clean("mcu", &mut mcu, false);
        assert_eq!(mcu, json!("mqtt://me:********@broker:1883"));
        let mut cak = json!("wx9MQW61tSNtTcTUePFiQjaAg34EytOq");
        clean("cak", &mut cak, false);
        assert_eq!(cak, json!("********"));
        let mut dll = json!("https://data.v3.go-e.io/export?e=abc123XYZ&x=1");
        clean("dll", &mut dll, false);
        assert_eq!(dll, json!("https://data.v3.go-e.io/export?e=...&x=1"));
        let mut amp = json!(16);
        clean("amp", &mut amp, true);
        assert_eq!(amp, json!(16));
    }
}
