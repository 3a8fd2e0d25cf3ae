//! The control API for the simulated world, under `/sim/` on the same listener
//! as the HTTP API v2 (and, unlike it, not switched off by `hai`).
//!
//! curl-friendly: parameters come as query parameters, as a JSON object body
//! (`Content-Type: application/json`) or as a form body (`curl -d`), with the
//! same names. Every successful request answers `/sim/state`'s JSON (so every
//! action returns the new state); bad input gets HTTP 400 `{"error":"…"}`, an
//! unknown path 404 and a wrong method 405, both with a JSON error too.
//!
//! | endpoint | method | parameters |
//! |---|---|---|
//! | `/sim/state` | GET | |
//! | `/sim/cars` | GET | (answers the profiles, not the state) |
//! | `/sim/plug` | POST | `car` (profile, default [`DEFAULT_PROFILE`]), `soc` (percent, default 20) |
//! | `/sim/unplug` | POST | |
//! | `/sim/rfid` | POST | `card` (slot 0–9) or `id` (a card by its id, the OCPP idTag: 1–20 printable ASCII characters) |
//! | `/sim/button` | POST | |
//! | `/sim/advance` | POST | `seconds` (> 0, ≤ 10 years; `--clock manual` only; in slices, other requests answered meanwhile: [`Device::advance`]) |
//! | `/sim/clock` | POST | `speed` (> 0, ≤ 1000000: simulated seconds per real second), `pause` (`true` or `false`); each optional, at least one; `--clock real` only. One clock per process: it changes the time of every charger of a fleet. Simulated time goes on from where it is (no jump); a paused clock keeps its speed for resuming; `/sim/state`'s `clock` shows `speed` and `paused` |
//! | `/sim/grid` | POST | `pv`, `house`, `battery` (W, each optional; `battery` is a fixed power, negative = charging, refused while a home battery is configured) |
//! | `/sim/battery` | POST | home battery with a self-consumption controller: `capacity` (Wh; required to add one, 0 removes it), `soc` (%, default 50), `charge`, `discharge` (largest powers in W, default 3000), `min_soc`, `max_soc` (%, default 0 and 100); each optional once there is one |
//! | `/sim/fault` | POST | `err` (code; 0 ends a condition, latched trips need a replug or restart: `goe_engine::errors`) |
//! | `/sim/temperature` | POST | `celsius` |
//! | `/sim/legacy-access` | POST | `ast` (`0`, `2`, `3` or `off`) |

use crate::device::{Device, SimAction, SimFailure};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use goe_engine::DEFAULT_PROFILE;
use std::sync::Arc;

/// State of charge of a car plugged in without `soc`.
pub const DEFAULT_SOC: f64 = 20.0;

/// One control endpoint: its name under `/sim/`, method and parameters.
struct Endpoint {
    name: &'static str,
    method: Method,
    params: &'static [&'static str],
}

const ENDPOINTS: &[(&str, bool, &[&str])] = &[
    ("state", false, &[]),
    ("cars", false, &[]),
    ("plug", true, &["car", "soc"]),
    ("unplug", true, &[]),
    ("rfid", true, &["card", "id"]),
    ("button", true, &[]),
    ("advance", true, &["seconds"]),
    ("clock", true, &["speed", "pause"]),
    ("grid", true, &["pv", "house", "battery"]),
    (
        "battery",
        true,
        &[
            "capacity",
            "soc",
            "charge",
            "discharge",
            "min_soc",
            "max_soc",
        ],
    ),
    ("fault", true, &["err"]),
    ("temperature", true, &["celsius"]),
    ("legacy-access", true, &["ast"]),
];

/// Every control endpoint's name under `/sim/` and whether it takes a POST
/// (besides `/sim/fleet`, which only a fleet has): `goe-charger sim` checks
/// its action against these before sending anything.
pub fn endpoint_names() -> impl Iterator<Item = (&'static str, bool)> {
    ENDPOINTS.iter().map(|&(name, post, _)| (name, post))
}

fn endpoint(name: &str) -> Option<Endpoint> {
    ENDPOINTS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(name, post, params)| Endpoint {
            name,
            method: if post { Method::POST } else { Method::GET },
            params,
        })
}

/// Whether `path` belongs to the control API.
pub fn is_sim_path(path: &str) -> bool {
    path == "/sim" || path.starts_with("/sim/")
}

/// Answers one `/sim/…` request.
pub async fn handle(
    device: Arc<Device>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // the dashboard (`/sim/ui/`, `/sim/events`): crate::ui
    if let Some(response) = crate::ui::route(&device, &method, uri.path()) {
        return response;
    }
    let name = uri.path().strip_prefix("/sim/").unwrap_or("");
    let Some(ep) = endpoint(name) else {
        let known: Vec<String> = ENDPOINTS
            .iter()
            .map(|(n, _, _)| format!("/sim/{n}"))
            .collect();
        return error(
            StatusCode::NOT_FOUND,
            &format!(
                "unknown control endpoint {}; known: {}",
                uri.path(),
                known.join(", ")
            ),
        );
    };
    if method != ep.method && !(method == Method::HEAD && ep.method == Method::GET) {
        let mut response = error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!(
                "{method} is not allowed for /sim/{}; use {}",
                ep.name, ep.method
            ),
        );
        if let Ok(allow) = HeaderValue::from_str(ep.method.as_str()) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        return response;
    }
    let params = match Params::parse(uri.query().unwrap_or(""), &headers, &body, &ep) {
        Ok(p) => p,
        Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
    };
    let action = match ep.name {
        "state" => {
            let dev = device.clone();
            return match tokio::task::spawn_blocking(move || dev.sim_state()).await {
                Ok(state) => json(StatusCode::OK, state),
                Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
            };
        }
        "cars" => return json(StatusCode::OK, device.profiles().to_json().to_string()),
        "clock" => {
            if let Err(msg) = set_clock(&device, &params) {
                return error(StatusCode::BAD_REQUEST, &msg);
            }
            let dev = device.clone();
            return match tokio::task::spawn_blocking(move || dev.sim_state()).await {
                Ok(state) => json(StatusCode::OK, state),
                Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
            };
        }
        _ => match action(&device, ep.name, &params) {
            Ok(a) => a,
            Err(msg) => return error(StatusCode::BAD_REQUEST, &msg),
        },
    };
    let dev = device.clone();
    let ran = if let SimAction::Advance(ms) = action {
        // wait for the turn here, not on a blocking thread
        let turn = device.clock().advance_turn().await;
        tokio::task::spawn_blocking(move || dev.advance(ms, turn)).await
    } else {
        tokio::task::spawn_blocking(move || dev.sim(action)).await
    };
    match ran {
        Ok(Ok(state)) => json(StatusCode::OK, state),
        Ok(Err(SimFailure::BadRequest(msg))) => error(StatusCode::BAD_REQUEST, &msg),
        Ok(Err(SimFailure::NotPersisted(msg))) => error(StatusCode::INTERNAL_SERVER_ERROR, &msg),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
    }
}

/// The refusal of parameters that are not UTF-8 once percent-decoded (never
/// replaced by U+FFFD, like `/api/set`).
fn not_utf8(_: crate::http::query::NotUtf8) -> String {
    "a parameter is not valid UTF-8 once percent-decoded".to_owned()
}

/// The request's parameters (query and body), each given once, all known.
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(
        query: &str,
        headers: &HeaderMap,
        body: &[u8],
        ep: &Endpoint,
    ) -> Result<Params, String> {
        let mut pairs = crate::http::query::owned_pairs(query).map_err(not_utf8)?;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
        let trimmed = text.trim();
        if !trimmed.is_empty() {
            let is_json = content_type == "application/json"
                || (content_type.is_empty() && trimmed.starts_with('{'));
            if is_json {
                pairs.extend(json_pairs(trimmed)?);
            } else if content_type == "application/x-www-form-urlencoded" || content_type.is_empty()
            {
                pairs.extend(crate::http::query::owned_pairs(trimmed).map_err(not_utf8)?);
            } else {
                return Err(format!(
                    "unsupported Content-Type {content_type}; send query parameters, \
                     application/json or application/x-www-form-urlencoded"
                ));
            }
        }
        for (i, (key, _)) in pairs.iter().enumerate() {
            if !ep.params.contains(&key.as_str()) {
                return Err(if ep.params.is_empty() {
                    format!("/sim/{} takes no parameters (got {key})", ep.name)
                } else {
                    format!(
                        "unknown parameter {key} for /sim/{}; accepted: {}",
                        ep.name,
                        ep.params.join(", ")
                    )
                });
            }
            if pairs[..i].iter().any(|(k, _)| k == key) {
                return Err(format!("parameter {key} is given more than once"));
            }
        }
        Ok(Params(pairs))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("parameter {name} is missing"))
    }

    fn number(&self, name: &str) -> Result<Option<f64>, String> {
        self.get(name)
            .map(|raw| parse_number(name, raw))
            .transpose()
    }
}

/// The fields of a JSON object body as parameter text.
fn json_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("the JSON body must be an object like {\"car\":\"ev-1p-16a\"}".into());
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Null => "null".into(),
                _ => return Err(format!("parameter {k} must be a string or a number")),
            };
            Ok((k, text))
        })
        .collect()
}

fn parse_number(name: &str, raw: &str) -> Result<f64, String> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .ok_or_else(|| format!("{name} must be a number, got {raw:?}"))
}

fn parse_int(name: &str, raw: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = parse_number(name, raw)?;
    if n.fract() != 0.0 || n < min as f64 || n > max as f64 {
        return Err(format!(
            "{name} must be a whole number from {min} to {max}, got {raw:?}"
        ));
    }
    Ok(n as i64)
}

/// `/sim/clock`: pause/resume and speed of the process's real clock
/// (shared by every charger of a fleet); nothing changes on a refusal.
fn set_clock(device: &Device, p: &Params) -> Result<(), String> {
    let speed = p.number("speed")?;
    let pause = match p.get("pause").map(str::trim) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(raw) => return Err(format!("pause must be true or false, got {raw:?}")),
    };
    if speed.is_none() && pause.is_none() {
        return Err("/sim/clock needs speed (e.g. speed=10) or pause (true or false)".into());
    }
    device
        .clock()
        .set_rate(speed, pause)
        .map_err(|e| e.to_string())
}

fn action(device: &Device, name: &str, p: &Params) -> Result<SimAction, String> {
    Ok(match name {
        "plug" => {
            let car = p.get("car").unwrap_or(DEFAULT_PROFILE);
            let profile = device.profiles().get(car)?;
            let soc = p.number("soc")?.unwrap_or(DEFAULT_SOC);
            if !(0.0..=100.0).contains(&soc) {
                return Err(format!("soc must be a percentage from 0 to 100, got {soc}"));
            }
            SimAction::Plug { profile, soc }
        }
        "unplug" => SimAction::Unplug,
        "rfid" => match (p.get("card"), p.get("id")) {
            (Some(_), Some(_)) => return Err("give either card or id, not both".into()),
            (None, Some(id)) => SimAction::RfidId(id.to_owned()),
            _ => SimAction::Rfid(parse_int("card", p.required("card")?, 0, 9)? as usize),
        },
        "button" => SimAction::Button,
        "advance" => {
            if !device.clock().is_manual() {
                return Err(
                    "clock is not manual (start goe-charger with --clock manual to advance time)"
                        .into(),
                );
            }
            let seconds = parse_number("seconds", p.required("seconds")?)?;
            match crate::device::advance_ms(seconds) {
                Ok(ms) => SimAction::Advance(ms),
                Err(SimFailure::BadRequest(msg) | SimFailure::NotPersisted(msg)) => {
                    return Err(msg);
                }
            }
        }
        "grid" => SimAction::Grid {
            pv_w: p.number("pv")?,
            house_w: p.number("house")?,
            battery_w: p.number("battery")?,
        },
        "battery" => SimAction::Battery(goe_engine::BatterySettings {
            capacity_wh: p.number("capacity")?,
            soc: p.number("soc")?,
            max_charge_w: p.number("charge")?,
            max_discharge_w: p.number("discharge")?,
            min_soc: p.number("min_soc")?,
            max_soc: p.number("max_soc")?,
        }),
        "fault" => SimAction::Fault(parse_int("err", p.required("err")?, 0, 255)? as u8),
        "temperature" => {
            let c = parse_number("celsius", p.required("celsius")?)?;
            SimAction::Temperature(c)
        }
        "legacy-access" => {
            let raw = p.required("ast")?;
            let ast = match raw.trim() {
                "off" | "null" => None,
                "0" => Some(0),
                "2" => Some(2),
                "3" => Some(3),
                _ => {
                    return Err(format!(
                        "ast must be 0 (open), 2 (price), 3 (scheduler) or off, got {raw:?}"
                    ));
                }
            };
            SimAction::LegacyAccess(ast)
        }
        _ => return Err(format!("unknown control endpoint /sim/{name}")),
    })
}

fn json(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

fn error(status: StatusCode, message: &str) -> Response {
    json(status, serde_json::json!({ "error": message }).to_string())
}

/// The control API of a charger in a fleet: `/sim/fleet` lists the chargers
/// (`POST /sim/fleet?coordinator=lost|ok` simulates losing the load-balancing
/// coordinator), `serial=S` on any endpoint addresses another charger, and
/// `/sim/advance` moves the shared clock and steps every charger.
pub async fn handle_fleet(
    fleet: Arc<crate::fleet::Fleet>,
    device: Arc<Device>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri.query().unwrap_or("");
    let pairs = match crate::http::query::owned_pairs(query) {
        Ok(pairs) => pairs,
        Err(e) => return error(StatusCode::BAD_REQUEST, &not_utf8(e)),
    };
    let param = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    // the fleet page's stream (#16): one for the whole fleet
    if let Some(response) = crate::ui::route_fleet(&fleet, &method, uri.path()) {
        return response;
    }
    if uri.path() == "/sim/fleet" {
        return match (method.as_str(), param("coordinator").as_deref()) {
            ("GET", None) => json_ok(fleet.describe()),
            ("POST", Some(state @ ("lost" | "ok"))) => {
                fleet.set_coordinator_lost(state == "lost");
                json_ok(fleet.describe())
            }
            ("POST", _) => error(
                StatusCode::BAD_REQUEST,
                "POST /sim/fleet needs coordinator=lost or coordinator=ok",
            ),
            _ => error(StatusCode::METHOD_NOT_ALLOWED, "use GET or POST"),
        };
    }
    let target = match param("serial") {
        Some(serial) => match fleet.device(&serial) {
            Some(d) => d.clone(),
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    &format!("no charger with serial {serial} in this fleet"),
                );
            }
        },
        None => device,
    };
    let rest: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "serial").collect();
    let rest_query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(rest.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish();
    if uri.path() == "/sim/advance" && method == Method::POST {
        let seconds = rest
            .iter()
            .find(|(k, _)| k == "seconds")
            .and_then(|(_, v)| v.parse::<f64>().ok());
        let checked = match seconds {
            Some(seconds) => crate::device::advance_ms(seconds),
            None => crate::device::check_advance_ms(0).map(|()| 0),
        };
        let ms = match checked {
            Ok(ms) => ms,
            Err(SimFailure::BadRequest(msg) | SimFailure::NotPersisted(msg)) => {
                return error(StatusCode::BAD_REQUEST, &msg);
            }
        };
        let f = fleet.clone();
        // wait for the turn here, not on a blocking thread
        let turn = fleet.clock().advance_turn().await;
        return match tokio::task::spawn_blocking(move || f.advance(ms, turn)).await {
            Ok(Ok(())) => json_ok(target.sim_state()),
            Ok(Err(SimFailure::BadRequest(msg))) => error(StatusCode::BAD_REQUEST, &msg),
            Ok(Err(SimFailure::NotPersisted(msg))) => {
                error(StatusCode::INTERNAL_SERVER_ERROR, &msg)
            }
            Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        };
    }
    let new_uri = if rest_query.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{rest_query}", uri.path())
    };
    let uri = new_uri.parse::<Uri>().unwrap_or(uri);
    handle(target, method, uri, headers, body).await
}

fn json_ok(body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(name: &str) -> Endpoint {
        endpoint(name).unwrap()
    }

    fn headers(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[test]
    fn query_json_and_form_parameters() {
        let p = Params::parse("car=ev-1p-16a&soc=30", &HeaderMap::new(), b"", &ep("plug")).unwrap();
        assert_eq!(p.get("car"), Some("ev-1p-16a"));
        let p = Params::parse(
            "",
            &headers("application/json"),
            br#"{"car":"zoe-like","soc":55.5}"#,
            &ep("plug"),
        )
        .unwrap();
        assert_eq!(p.get("soc"), Some("55.5"));
        let p = Params::parse(
            "",
            &headers("application/x-www-form-urlencoded"),
            b"card=3",
            &ep("rfid"),
        )
        .unwrap();
        assert_eq!(p.get("card"), Some("3"));
    }

    #[test]
    fn bad_parameters_are_named() {
        let e = Params::parse("cra=x", &HeaderMap::new(), b"", &ep("plug")).unwrap_err();
        assert!(e.contains("cra") && e.contains("car, soc"), "{e}");
        let e = Params::parse("card=1&card=2", &HeaderMap::new(), b"", &ep("rfid")).unwrap_err();
        assert!(e.contains("more than once"), "{e}");
        let e = Params::parse("", &headers("application/json"), b"[1]", &ep("rfid")).unwrap_err();
        assert!(e.contains("object"), "{e}");
        let e = Params::parse("", &headers("text/plain"), b"x", &ep("rfid")).unwrap_err();
        assert!(e.contains("Content-Type"), "{e}");
        assert!(parse_int("card", "10", 0, 9).is_err());
        assert!(parse_int("card", "1.5", 0, 9).is_err());
        assert_eq!(parse_int("card", "9", 0, 9), Ok(9));
        assert!(parse_number("soc", "NaN").is_err());
    }
}
