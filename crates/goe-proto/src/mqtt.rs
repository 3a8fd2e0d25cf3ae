//! MQTT topics and payloads: one retained topic per key under the prefix
//! (`mtp`), `<prefix><key>/set` to write, `<prefix><key>/result` to answer.
//!
//! Pure: the server owns the broker connection. Reference: api-v2.md §4.

use goe_engine::{Charger, KeySet, SimTime};
use goe_keys::{JsonError, KeyId, Printed, Profile, SetError};

/// Keepalive the charger uses, seconds.
pub const KEEPALIVE_SECS: u64 = 120;

/// The MQTT client id of a charger.
pub fn client_id(serial: &str) -> String {
    format!("go-echarger_{serial}")
}

/// The topic prefix of a charger (`mtp`).
pub fn prefix(charger: &Charger) -> String {
    charger
        .value("mtp")
        .and_then(goe_keys::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The subscription that receives writes.
pub fn set_filter(prefix: &str) -> String {
    format!("{prefix}+/set")
}

/// The key a `<prefix><key>/set` topic writes, if it is one.
pub fn parse_set_topic<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    topic.strip_prefix(prefix)?.strip_suffix("/set")
}

/// The topic answering a write.
pub fn result_topic(prefix: &str, key: &str) -> String {
    format!("{prefix}{key}/result")
}

/// The payload on `/result`: `success` or the firmware's message and raw value.
pub fn result_payload(result: &Result<(), SetError>, raw: &str) -> String {
    match result {
        Ok(()) => "success".to_owned(),
        Err(e) => e.mqtt_text(raw),
    }
}

/// The payload on `/result` for a `/set` too large to be read (`size` bytes):
/// ArduinoJson's `NoMemory`, as for any value that does not fit the parser,
/// with the size instead of the raw value (which was never held in memory).
pub fn oversized_result_payload(size: usize) -> String {
    SetError::InvalidJson(JsonError::NoMemory).mqtt_text(&format!("({size} bytes)"))
}

/// The keys a unit of this firmware publishes over MQTT.
pub fn visible_keys(profile: &Profile) -> KeySet {
    let mut set = KeySet::new();
    for (kid, _) in profile.readable_keys() {
        if profile.publishes(kid) {
            set.insert(kid);
        }
    }
    // a clone publishes the keys it carries verbatim too
    for v in 0..profile.verbatim_count() {
        set.insert_verbatim(v);
    }
    set
}

/// `(topic, payload)` for each of `keys` that is MQTT-visible, in the
/// firmware's print order.
pub fn publications(
    charger: &mut Charger,
    now: SimTime,
    prefix: &str,
    keys: &KeySet,
) -> Vec<(String, String)> {
    charger.refresh_clock(now);
    let profile = charger.profile();
    let visible = |kid: KeyId| keys.contains(kid) && profile.publishes(kid);
    let mut out = Vec::new();
    let charger = &*charger;
    let publication = |kid: KeyId, name: &str| {
        let mut payload = String::new();
        charger.write_key(kid, &mut payload);
        (format!("{prefix}{name}"), payload)
    };
    if keys.len() * 8 < goe_keys::KEYS.len() && !keys.has_verbatim() {
        // a delta of a few keys: sort those rather than walk the whole order
        let mut few: Vec<(usize, KeyId)> = keys
            .iter()
            .filter(|&kid| visible(kid))
            .map(|kid| (profile.position(kid).unwrap_or(usize::MAX), kid))
            .collect();
        few.sort_unstable();
        for (_, kid) in few {
            out.push(publication(kid, goe_keys::KEYS[kid].name));
        }
    } else {
        for &entry in profile.printed() {
            match entry {
                Printed::Key(kid) if visible(kid) => {
                    out.push(publication(kid, goe_keys::KEYS[kid].name))
                }
                Printed::Key(_) => {}
                // a clone's key as captured (the retained dump on connect),
                // or as a replay last set it
                Printed::Verbatim(v) if keys.contains_verbatim(v) => {
                    let entry = profile.verbatim(v);
                    out.push((
                        format!("{prefix}{}", entry.name),
                        charger.verbatim_json(v).to_owned(),
                    ));
                }
                Printed::Verbatim(_) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics() {
        assert_eq!(client_id("012345"), "go-echarger_012345");
        assert_eq!(set_filter("go-eCharger/1/"), "go-eCharger/1/+/set");
        assert_eq!(
            parse_set_topic("go-eCharger/1/", "go-eCharger/1/amp/set"),
            Some("amp")
        );
        assert_eq!(parse_set_topic("go-eCharger/1/", "go-eCharger/1/amp"), None);
        assert_eq!(parse_set_topic("go-eCharger/1/", "x/amp/set"), None);
        assert_eq!(result_topic("p/", "amp"), "p/amp/result");
        assert_eq!(result_payload(&Ok(()), "1"), "success");
        assert_eq!(
            result_payload(&Err(SetError::WrongType("string")), "0"),
            "value must be string 0"
        );
        assert_eq!(
            oversized_result_payload(300_000),
            "invalid json NoMemory: (300000 bytes)"
        );
    }

    #[test]
    fn dump_is_in_order_and_hides_secrets() {
        let now = SimTime(1_717_394_400_000);
        let mut c = Charger::boot("012345", None, now, 1).unwrap();
        let p = prefix(&c);
        assert_eq!(p, "go-eCharger/012345/");
        let visible = visible_keys(c.profile());
        let all = publications(&mut c, now, &p, &visible);
        assert!(all.len() > 100);
        assert_eq!(all[0].0, "go-eCharger/012345/alw");
        assert!(
            all.iter()
                .all(|(t, _)| !t.ends_with("/wifis") && !t.ends_with("/wak"))
        );
        assert!(all.iter().any(|(t, v)| t.ends_with("/amp") && v == "16"));
    }
}
