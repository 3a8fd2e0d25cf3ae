//! The go-e cloud API v3: URLs and answers (reference api-v2.md §5).
//!
//! `https://<serial6>.api.v3.go-e.io/api/status?token=…&filter=…` and
//! `…/api/set?token=…&k=v`. These functions are pure and always compiled so
//! they can be tested without a network; the client that sends the requests
//! (`Client::cloud`) needs the `cloud` feature (HTTPS via rustls).

use crate::error::{ClientError, KeyResult, short_body};
use crate::input::{encode_component, filter_param, set_query};
use crate::status::Status;

/// The cloud's domain below the serial.
pub const DOMAIN: &str = "api.v3.go-e.io";

/// `https://<serial6>.api.v3.go-e.io`: the serial is padded to 6 digits with leading zeros.
pub fn base_url(serial: &str) -> Result<String, ClientError> {
    let serial = serial.trim();
    if serial.is_empty() || serial.len() > 8 || !serial.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ClientError::InvalidHost {
            host: serial.to_owned(),
            reason: "a cloud serial is the charger's number, 6 digits (sse)".to_owned(),
        });
    }
    Ok(format!("https://{serial:0>6}.{DOMAIN}"))
}

/// The base URL of charger `serial` at another endpoint than the go-e cloud
/// (a stand-in such as `goe-charger --cloud-listen`, a proxy): `{serial}` in
/// `endpoint` becomes the 6-digit serial (`https://{serial}.cloud.example`);
/// without it the serial is appended as a path segment
/// (`http://127.0.0.1:8090` → `http://127.0.0.1:8090/012345`, the stand-in's
/// path form). `None`: the real cloud ([`base_url`]).
pub fn endpoint_base_url(endpoint: Option<&str>, serial: &str) -> Result<String, ClientError> {
    let real = base_url(serial)?;
    let Some(endpoint) = endpoint.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(real);
    };
    let serial6 = format!("{:0>6}", serial.trim());
    let url = if endpoint.contains("{serial}") {
        endpoint.replace("{serial}", &serial6)
    } else {
        format!("{}/{serial6}", endpoint.trim_end_matches('/'))
    };
    let parsed = reqwest::Url::parse(&url).map_err(|e| ClientError::InvalidHost {
        host: endpoint.to_owned(),
        reason: format!("not a cloud endpoint URL: {e}"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.query().is_some() {
        return Err(ClientError::InvalidHost {
            host: endpoint.to_owned(),
            reason: "a cloud endpoint is an http:// or https:// URL without ?query".to_owned(),
        });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// The status URL; `age` is the maximum age of the cloud's cached status in seconds.
pub fn status_url(
    serial: &str,
    token: &str,
    filter: Option<&[&str]>,
    age: Option<u32>,
) -> Result<String, ClientError> {
    Ok(status_url_at(&base_url(serial)?, token, filter, age))
}

/// [`status_url`] below the base URL `base` (see [`endpoint_base_url`]).
pub fn status_url_at(base: &str, token: &str, filter: Option<&[&str]>, age: Option<u32>) -> String {
    let mut url = format!("{base}/api/status?token={}", encode_component(token));
    if let Some(keys) = filter {
        url.push_str("&filter=");
        url.push_str(&filter_param(keys));
    }
    if let Some(age) = age {
        url.push_str(&format!("&age={age}"));
    }
    url
}

/// The set URL: values are JSON text, URL-encoded per key, like the local API.
pub fn set_url(
    serial: &str,
    token: &str,
    pairs: &[(&str, serde_json::Value)],
) -> Result<String, ClientError> {
    Ok(set_url_at(&base_url(serial)?, token, pairs))
}

/// [`set_url`] below the base URL `base` (see [`endpoint_base_url`]).
pub fn set_url_at(base: &str, token: &str, pairs: &[(&str, serde_json::Value)]) -> String {
    format!(
        "{base}/api/set?token={}&{}",
        encode_component(token),
        set_query(pairs)
    )
}

/// Maps the cloud's error statuses (401, 403, 404) to errors.
fn cloud_error(status: u16, body: &str) -> ClientError {
    match status {
        401 => ClientError::Unauthorized,
        403 => ClientError::Offline,
        404 => {
            let reason = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|j| {
                    let reason = j.get("reason")?.as_str()?.to_owned();
                    Some(match j.get("age").and_then(serde_json::Value::as_f64) {
                        Some(age) => format!("{reason} (age {} s)", crate::value::number(age)),
                        None => reason,
                    })
                })
                .unwrap_or_else(|| short_body(body));
            ClientError::Outdated { reason }
        }
        _ => ClientError::Http {
            host: DOMAIN.to_owned(),
            status,
            body: short_body(body),
        },
    }
}

/// Decodes a status answer: 200 with the JSON object, or an error.
pub fn decode_status(status: u16, body: &str) -> Result<Status, ClientError> {
    match status {
        200 => Status::parse(body),
        _ => Err(cloud_error(status, body)),
    }
}

/// Decodes a set answer: 202 (forwarded) or 422 (all rejected) with
/// `{"succeeded":[…],"failed":[…]}`. Items are key names or `{key: value-or-message}`.
/// Any failed key makes the result a [`ClientError::PartialFailure`].
pub fn decode_set(status: u16, body: &str) -> Result<Vec<KeyResult>, ClientError> {
    if !matches!(status, 200 | 202 | 422) {
        return Err(cloud_error(status, body));
    }
    let json: serde_json::Value = serde_json::from_str(body).map_err(|e| ClientError::Decode {
        reason: format!("not JSON ({e}): {}", short_body(body)),
    })?;
    let list = |name: &str| -> Result<Vec<(String, Option<String>)>, ClientError> {
        let Some(items) = json.get(name) else {
            return Ok(Vec::new());
        };
        let items = items.as_array().ok_or_else(|| ClientError::Decode {
            reason: format!("\"{name}\" is not an array"),
        })?;
        let mut out = Vec::new();
        for item in items {
            match item {
                serde_json::Value::String(k) => out.push((k.clone(), None)),
                serde_json::Value::Object(o) => {
                    for (k, v) in o {
                        let text = match v {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        out.push((k.clone(), Some(text)));
                    }
                }
                other => {
                    return Err(ClientError::Decode {
                        reason: format!("unexpected item {other} in \"{name}\""),
                    });
                }
            }
        }
        Ok(out)
    };
    let mut results: Vec<KeyResult> = list("succeeded")?
        .into_iter()
        .map(|(k, _)| (k, Ok(())))
        .collect();
    for (k, msg) in list("failed")? {
        results.push((
            k,
            Err(msg.unwrap_or_else(|| "rejected by the cloud".to_owned())),
        ));
    }
    if status == 422 && results.iter().all(|(_, r)| r.is_ok()) {
        // 422 means every key was rejected, whatever the body lists.
        for (_, r) in results.iter_mut() {
            *r = Err("rejected by the cloud".to_owned());
        }
        if results.is_empty() {
            return Err(ClientError::Http {
                host: DOMAIN.to_owned(),
                status,
                body: short_body(body),
            });
        }
    }
    ClientError::unless_partial(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls() {
        assert_eq!(base_url("72246").unwrap(), "https://072246.api.v3.go-e.io");
        assert_eq!(
            base_url("00000001").unwrap(),
            "https://00000001.api.v3.go-e.io"
        );
        assert!(matches!(
            base_url("abc"),
            Err(ClientError::InvalidHost { .. })
        ));
        assert!(base_url("").is_err());
        assert_eq!(
            status_url("012345", "tok en/+", Some(&["alw", "car", "nrg"]), Some(10)).unwrap(),
            "https://012345.api.v3.go-e.io/api/status?token=tok%20en%2F%2B&filter=alw,car,nrg&age=10"
        );
        assert_eq!(
            status_url("12345", "t", None, None).unwrap(),
            "https://012345.api.v3.go-e.io/api/status?token=t"
        );
        assert_eq!(
            set_url("012345", "t", &[("amp", json!(10)), ("fna", json!("a b"))]).unwrap(),
            "https://012345.api.v3.go-e.io/api/set?token=t&amp=10&fna=%22a%20b%22"
        );
    }

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint_base_url(None, "12345").unwrap(),
            "https://012345.api.v3.go-e.io"
        );
        assert_eq!(
            endpoint_base_url(Some("http://127.0.0.1:8090/"), "12345").unwrap(),
            "http://127.0.0.1:8090/012345"
        );
        assert_eq!(
            endpoint_base_url(Some("https://{serial}.cloud.test:8443"), "7").unwrap(),
            "https://000007.cloud.test:8443"
        );
        assert!(endpoint_base_url(Some("ftp://x"), "1").is_err());
        assert!(endpoint_base_url(Some("http://x"), "abc").is_err());
        assert_eq!(
            status_url_at("http://h/012345", "t", Some(&["amp"]), None),
            "http://h/012345/api/status?token=t&filter=amp"
        );
    }

    #[test]
    fn status_answers() {
        let s = decode_status(200, r#"{"car":2,"amp":16}"#).unwrap();
        assert_eq!(s.requested_current(), Some(16));
        assert!(matches!(
            decode_status(401, "wrong token"),
            Err(ClientError::Unauthorized)
        ));
        assert!(matches!(decode_status(403, ""), Err(ClientError::Offline)));
        let e = decode_status(
            404,
            r#"{"success":false,"reason":"Data is outdated","age":25382.09}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "the go-e cloud has no recent data (HTTP 404): Data is outdated (age 25382.09 s)"
        );
        assert!(matches!(
            decode_status(500, "boom"),
            Err(ClientError::Http { status: 500, .. })
        ));
    }

    #[test]
    fn set_answers() {
        let ok = decode_set(202, r#"{"succeeded":[{"amp":10},"fna"],"failed":[]}"#).unwrap();
        assert_eq!(
            ok,
            vec![("amp".to_owned(), Ok(())), ("fna".to_owned(), Ok(()))]
        );
        let e = decode_set(
            202,
            r#"{"succeeded":[{"amp":10}],"failed":[{"xyz":"unknown api key"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.key_results().unwrap(),
            &[
                ("amp".to_owned(), Ok(())),
                ("xyz".to_owned(), Err("unknown api key".to_owned()))
            ]
        );
        let e = decode_set(422, r#"{"succeeded":[],"failed":["amp"]}"#).unwrap_err();
        assert_eq!(
            e.key_results().unwrap(),
            &[("amp".to_owned(), Err("rejected by the cloud".to_owned()))]
        );
        assert!(matches!(
            decode_set(404, r#"{"success":false,"reason":"Data is outdated"}"#),
            Err(ClientError::Outdated { .. })
        ));
        assert!(matches!(
            decode_set(202, "nope"),
            Err(ClientError::Decode { .. })
        ));
    }
}
