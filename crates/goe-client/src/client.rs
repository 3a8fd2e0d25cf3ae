//! The client: one charger, reached over the local HTTP API v2 (or the cloud API v3).

use crate::error::{ClientError, KeyResult, is_firmware_404, short_body, transport_reason};
use crate::input::{filter_param, set_query};
use crate::status::Status;
use crate::value::TypedValue;
use std::time::Duration;

/// How long a request may take by default (connect + answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
enum Target {
    /// `http://host[:port]` without a trailing slash.
    Local { base: String },
    /// The cloud API v3 for one serial.
    #[cfg(feature = "cloud")]
    Cloud { base: String, token: String },
}

/// A client for one charger. Cheap to clone; every call is one HTTP request.
///
/// ```no_run
/// # async fn demo() -> Result<(), goe_client::ClientError> {
/// let charger = goe_client::Client::new("192.168.1.50")?;
/// let status = charger.status_of(&["car", "amp", "nrg", "modelStatus"]).await?;
/// println!("{:?}, {} W", status.car_state(), status.energy().map_or(0.0, |e| e.total_power));
/// charger.set(&[("amp", 10.into()), ("frc", 2.into())]).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    target: Target,
    /// The address as the user gave it, for messages.
    host: String,
    timeout: Duration,
}

/// Normalizes `HOST`, `HOST:PORT` or `http://HOST[:PORT][/]` into a base URL.
pub fn base_url(host: &str) -> Result<String, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidHost {
        host: host.to_owned(),
        reason: reason.to_owned(),
    };
    let trimmed = host.trim();
    if trimmed.is_empty() {
        return Err(invalid("empty"));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let url = reqwest::Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("the local API is plain http://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host name"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(
            "give the address only, without ?query or #fragment",
        ));
    }
    Ok(with_scheme.trim_end_matches('/').to_owned())
}

fn http_client(timeout: Duration, local: bool) -> reqwest::Client {
    // With `cloud`, reqwest is built with rustls but without a default crypto
    // provider, and building *any* client (local ones too) panics until one is
    // installed: use ring (no cmake needed). Installing twice is harmless.
    #[cfg(feature = "cloud")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("goe-client/", env!("CARGO_PKG_VERSION")));
    if local {
        // A charger is on the LAN: never send its requests through a proxy.
        builder = builder.no_proxy();
    }
    // Building fails only when the TLS backend cannot initialize.
    builder.build().unwrap_or_else(|_| reqwest::Client::new())
}

impl Client {
    /// A client for the charger at `host` (`192.168.1.50`, `charger.local:80`,
    /// `http://127.0.0.1:8080`), with [`DEFAULT_TIMEOUT`].
    pub fn new(host: &str) -> Result<Client, ClientError> {
        let base = base_url(host)?;
        Ok(Client {
            http: http_client(DEFAULT_TIMEOUT, true),
            target: Target::Local { base },
            host: host.trim().to_owned(),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// A client for the cloud API v3 of charger `serial` with the cloud token `cak`.
    #[cfg(feature = "cloud")]
    pub fn cloud(serial: &str, token: &str) -> Result<Client, ClientError> {
        Client::cloud_at(None, serial, token)
    }

    /// [`Client::cloud`] at another endpoint than the go-e cloud, e.g. the
    /// stand-in of `goe-charger --cloud-listen ADDR` (`http://ADDR`): see
    /// [`crate::cloud::endpoint_base_url`]. `None` is the real cloud.
    #[cfg(feature = "cloud")]
    pub fn cloud_at(
        endpoint: Option<&str>,
        serial: &str,
        token: &str,
    ) -> Result<Client, ClientError> {
        let base = crate::cloud::endpoint_base_url(endpoint, serial)?;
        Ok(Client {
            http: http_client(DEFAULT_TIMEOUT, false),
            target: Target::Cloud {
                base,
                token: token.to_owned(),
            },
            host: format!("{} (cloud)", serial.trim()),
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// The same client with another request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Client {
        let local = matches!(self.target, Target::Local { .. });
        self.http = http_client(timeout, local);
        self.timeout = timeout;
        self
    }

    /// The address as given (for messages).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Opens the charger's WebSocket (`ws://<host>/ws`) with its `password`, with
    /// this client's address and timeout; see [`crate::ws::WsClient::connect_timeout`].
    pub async fn websocket(&self, password: &str) -> Result<crate::ws::WsClient, ClientError> {
        match &self.target {
            Target::Local { .. } => {
                crate::ws::WsClient::connect_timeout(&self.host, password, self.timeout).await
            }
            #[cfg(feature = "cloud")]
            Target::Cloud { .. } => Err(ClientError::WebSocket {
                host: self.host.clone(),
                reason: "the cloud API v3 has no WebSocket".to_owned(),
            }),
        }
    }

    /// The full status: every readable key.
    pub async fn status(&self) -> Result<Status, ClientError> {
        self.fetch_status(None).await
    }

    /// The status of the given keys only (`?filter=a,b,c`). The charger answers in
    /// its own key order and leaves out keys it does not know.
    pub async fn status_of(&self, keys: &[&str]) -> Result<Status, ClientError> {
        self.fetch_status(Some(keys)).await
    }

    /// One key, decoded: [`ClientError::UnknownKey`] for keys not in the table,
    /// [`ClientError::NotReadable`] for write-only keys, [`ClientError::Missing`]
    /// when the charger does not report it.
    pub async fn get(&self, key: &str) -> Result<TypedValue, ClientError> {
        let def = crate::input::key_def(key)?;
        if !def.access.readable() {
            return Err(ClientError::NotReadable {
                key: key.to_owned(),
            });
        }
        let status = self.status_of(&[key]).await?;
        status.get(key).ok_or_else(|| ClientError::Missing {
            key: key.to_owned(),
        })
    }

    /// Writes values (JSON) in one request. All keys accepted: every key's `Ok`.
    /// Any key refused: [`ClientError::PartialFailure`] with every key's result
    /// (keys the charger accepted are applied).
    pub async fn set(
        &self,
        pairs: &[(&str, serde_json::Value)],
    ) -> Result<Vec<KeyResult>, ClientError> {
        let url = match &self.target {
            Target::Local { base } => format!("{base}/api/set?{}", set_query(pairs)),
            #[cfg(feature = "cloud")]
            Target::Cloud { base, token } => crate::cloud::set_url_at(base, token, pairs),
        };
        let (status, body) = self.fetch(&url).await?;
        match &self.target {
            Target::Local { .. } => {
                let keys: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
                decode_set(&self.host, status, &body, &keys)
            }
            #[cfg(feature = "cloud")]
            Target::Cloud { .. } => crate::cloud::decode_set(status, &body),
        }
    }

    /// Writes values given as text with [`crate::parse_value`]'s friendly forms
    /// (`frc=on`, `lmo=eco`, `fna=garage`), after checking every key and value.
    pub async fn set_text(&self, pairs: &[(&str, &str)]) -> Result<Vec<KeyResult>, ClientError> {
        let mut json = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            json.push((*k, crate::input::parse_value(k, v)?));
        }
        self.set(&json).await
    }

    async fn fetch_status(&self, keys: Option<&[&str]>) -> Result<Status, ClientError> {
        let url = match &self.target {
            Target::Local { base } => match keys {
                Some(keys) => format!("{base}/api/status?filter={}", filter_param(keys)),
                None => format!("{base}/api/status"),
            },
            #[cfg(feature = "cloud")]
            Target::Cloud { base, token } => crate::cloud::status_url_at(base, token, keys, None),
        };
        let (status, body) = self.fetch(&url).await?;
        match &self.target {
            Target::Local { .. } => decode_status(&self.host, status, &body),
            #[cfg(feature = "cloud")]
            Target::Cloud { .. } => crate::cloud::decode_status(status, &body),
        }
    }

    /// One GET: the status code and the body, or [`ClientError::Unreachable`].
    async fn fetch(&self, url: &str) -> Result<(u16, String), ClientError> {
        let unreachable = |source: reqwest::Error| {
            let mut reason = transport_reason(&source);
            if reason == "timed out" {
                reason = format!(
                    "no answer within {}",
                    crate::value::duration(
                        jiff::SignedDuration::try_from(self.timeout).unwrap_or_default(),
                    )
                );
            }
            ClientError::Unreachable {
                host: self.host.clone(),
                reason,
                source,
            }
        };
        let response = self.http.get(url).send().await.map_err(unreachable)?;
        let status = response.status().as_u16();
        let body = response.text().await.map_err(unreachable)?;
        Ok((status, body))
    }
}

/// Decodes a local `/api/status` answer. 200 carries the object; so does 400 on
/// firmware 60.3, which answers 400 when the filter names a key it lacks.
/// A 404 that is not the firmware's, or a 200 that is not a JSON object, is
/// [`ClientError::NotACharger`].
pub fn decode_status(host: &str, status: u16, body: &str) -> Result<Status, ClientError> {
    match status {
        200 => Status::parse(body).map_err(|e| match e {
            ClientError::Decode { reason } => not_a_charger(host, status, &reason),
            other => other,
        }),
        400 if body.trim_start().starts_with('{') => Status::parse(body),
        404 => Err(not_found(host, body)),
        _ => Err(ClientError::Http {
            host: host.to_owned(),
            status,
            body: short_body(body),
        }),
    }
}

/// A 404: the charger's own ([`ClientError::ApiDisabled`]) or another server's page.
fn not_found(host: &str, body: &str) -> ClientError {
    if is_firmware_404(body) {
        ClientError::ApiDisabled {
            host: host.to_owned(),
        }
    } else {
        let page = if body.trim().is_empty() {
            "an empty body".to_owned()
        } else {
            short_body(body)
        };
        not_a_charger(host, 404, &page)
    }
}

fn not_a_charger(host: &str, status: u16, what: &str) -> ClientError {
    ClientError::NotACharger {
        host: host.to_owned(),
        reason: format!("HTTP {status}: {what}"),
    }
}

/// Decodes a local `/api/set` answer: one entry per key, `true` or the
/// charger's error text; HTTP 200 when all succeeded, 500 otherwise.
pub fn decode_set(
    host: &str,
    status: u16,
    body: &str,
    sent: &[&str],
) -> Result<Vec<KeyResult>, ClientError> {
    match status {
        200 | 500 => {}
        404 => return Err(not_found(host, body)),
        _ => {
            return Err(ClientError::Http {
                host: host.to_owned(),
                status,
                body: short_body(body),
            });
        }
    }
    let json: serde_json::Value = match serde_json::from_str(body) {
        Ok(json) => json,
        // 500 with text: e.g. "couldn't take api lock in 3s, please try again later".
        Err(_) if status == 500 => {
            return Err(ClientError::Http {
                host: host.to_owned(),
                status,
                body: short_body(body),
            });
        }
        Err(e) => {
            return Err(not_a_charger(
                host,
                status,
                &format!("not JSON ({e}): {}", short_body(body)),
            ));
        }
    };
    let Some(object) = json.as_object() else {
        return Err(not_a_charger(
            host,
            status,
            &format!("expected one entry per key, got {}", short_body(body)),
        ));
    };
    let mut results: Vec<KeyResult> = object
        .iter()
        .map(|(k, v)| {
            let r = match v {
                serde_json::Value::Bool(true) => Ok(()),
                serde_json::Value::String(s) => Err(s.clone()),
                other => Err(other.to_string()),
            };
            (k.clone(), r)
        })
        .collect();
    for key in sent {
        if !results.iter().any(|(k, _)| k == key) {
            results.push((
                (*key).to_owned(),
                Err(format!("{key}: no answer for this key")),
            ));
        }
    }
    if status == 500 && results.iter().all(|(_, r)| r.is_ok()) {
        return Err(ClientError::Http {
            host: host.to_owned(),
            status,
            body: short_body(body),
        });
    }
    ClientError::unless_partial(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        assert_eq!(base_url("192.168.1.5").unwrap(), "http://192.168.1.5");
        assert_eq!(base_url("127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(
            base_url("http://charger.local:80/").unwrap(),
            "http://charger.local:80"
        );
        assert_eq!(base_url("[::1]:8080").unwrap(), "http://[::1]:8080");
        for bad in ["", "ftp://x", "http://", "host:99999", "host/?a=1"] {
            assert!(
                matches!(base_url(bad), Err(ClientError::InvalidHost { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn set_answers() {
        let ok = decode_set("h", 200, r#"{"amp":true,"fna":true}"#, &["amp", "fna"]).unwrap();
        assert_eq!(ok.len(), 2);
        let e = decode_set(
            "h",
            500,
            r#"{"amp":true,"alw":"alw: tried to set api key without setter (true)"}"#,
            &["amp", "alw"],
        )
        .unwrap_err();
        assert_eq!(
            e.key_results().unwrap(),
            &[
                ("amp".to_owned(), Ok(())),
                (
                    "alw".to_owned(),
                    Err("alw: tried to set api key without setter (true)".to_owned())
                )
            ]
        );
        assert_eq!(
            e.to_string(),
            "the charger refused 1 of 2 key(s): alw: tried to set api key without setter (true)"
        );
        let e = decode_set(
            "h",
            500,
            "couldn't take api lock in 3s, please try again later",
            &["amp"],
        )
        .unwrap_err();
        assert!(matches!(e, ClientError::Http { status: 500, .. }), "{e}");
        assert!(matches!(
            decode_set("h", 404, "This URI does not exist", &["amp"]),
            Err(ClientError::ApiDisabled { .. })
        ));
        // a key the charger did not answer for counts as failed
        let e = decode_set("h", 200, r#"{"amp":true}"#, &["amp", "fna"]).unwrap_err();
        assert_eq!(e.key_results().unwrap().len(), 2);
    }

    #[test]
    fn status_answers() {
        assert!(decode_status("h", 200, r#"{"amp":16}"#).is_ok());
        assert!(decode_status("h", 400, r#"{"amp":16}"#).is_ok());
        assert!(matches!(
            decode_status("h", 400, "bad"),
            Err(ClientError::Http { status: 400, .. })
        ));
        let e = decode_status("h", 404, "This URI does not exist").unwrap_err();
        assert!(e.to_string().contains("HTTP API v2 disabled"), "{e}");
        // firmware 60.x's text too; any other 404 page is not a charger's
        assert!(matches!(
            decode_status("h", 404, "Nothing matches the given URI"),
            Err(ClientError::ApiDisabled { .. })
        ));
        for (status, body) in [
            (404, "<html><body><h1>404 Not Found</h1></body></html>"),
            (404, ""),
            (200, "<html>hello</html>"),
            (200, "[1,2]"),
        ] {
            let e = decode_status("h", status, body).unwrap_err();
            assert!(
                matches!(e, ClientError::NotACharger { .. }),
                "{status} {body}: {e}"
            );
            assert!(!e.to_string().contains("disabled"), "{e}");
        }
        assert!(matches!(
            decode_set("h", 404, "<html>Not Found</html>", &["amp"]),
            Err(ClientError::NotACharger { .. })
        ));
        assert!(matches!(
            decode_set("h", 200, "OK", &["amp"]),
            Err(ClientError::NotACharger { .. })
        ));
    }
}
