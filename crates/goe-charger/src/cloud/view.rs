//! What the cloud knows of one charger and how it answers: pure, time given
//! as an argument.
//!
//! Like the real cloud, the stand-in sees a charger only through its contacts
//! ([`Upload`]: the status document, the charger's token, when it came). The
//! answers follow `cloudapi-en.md`: `/api/status` 200 (+ `Last-Modified`) /
//! 403 (offline, cloud API off) / 404 (nothing newer than `age`, default
//! 30 s); `/api/set` 202 / 403 / 404 / 422; a wrong token is 401 as the real
//! cloud answers it (go-eCharger-API-v2 issue #122). Bodies in the real
//! cloud's style: `{"success":false,"reason":"Data is outdated","age":…}`
//! (#122) and `{"succeeded":[{"amp":10}],"failed":[…]}` (#135).

use goe_keys::Profile;
use std::time::{Duration, SystemTime};

/// `age` when the request names none (cloudapi-en.md: "30 seconds are set by default").
pub const DEFAULT_AGE: Duration = Duration::from_secs(30);

/// How recent a contact must be for `/api/set` to forward anything
/// (cloudapi-en.md: 404 when the charger "is currently not online (or was
/// online in the last 30 seconds)").
pub const SET_ONLINE_WINDOW: Duration = Duration::from_secs(30);

/// Most key writes waiting for one charger's next contact: a charger that
/// does not contact the cloud (a manual clock left alone) cannot make it
/// hold unbounded memory; beyond, keys are refused ("queue full").
pub const MAX_QUEUE: usize = 1024;

/// Longest `age` accepted (a day): the stand-in keeps only the last upload anyway.
const MAX_AGE_S: f64 = 86_400.0 * 365.0;

/// One contact of the charger: its status as the local API renders it, in
/// its print order (without `cak`), and its token.
#[derive(Debug, Clone)]
pub struct Upload {
    /// `(key, JSON text)` of every readable key but `cak`.
    pub keys: Vec<(&'static str, String)>,
    /// The charger's token at that contact.
    pub token: String,
    /// Host time the cloud received it.
    pub at: SystemTime,
}

/// The cloud's state of one charger.
#[derive(Debug, Default)]
pub struct CloudView {
    /// The last contact while `cae` was on; `None` while the charger is
    /// offline for the cloud (never contacted, or `cae` off).
    pub upload: Option<Upload>,
    /// Sets accepted for the charger, delivered at its next contact.
    pub queue: Vec<(String, String)>,
}

/// An answer of the stand-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: String,
    /// `Last-Modified` (the upload time of a 200 status).
    pub last_modified: Option<SystemTime>,
}

impl Reply {
    fn refusal(status: u16, reason: &str) -> Reply {
        let mut body = String::from("{\"success\":false,\"reason\":");
        goe_keys::value::write_string(reason, &mut body);
        body.push('}');
        Reply {
            status,
            body,
            last_modified: None,
        }
    }
}

/// The 403 of a charger the cloud has no contact with.
pub fn offline() -> Reply {
    Reply::refusal(
        403,
        "the go-eCharger is offline or its cloud api is not enabled (cae)",
    )
}

/// Compares without an early exit, so timing does not tell how much of a
/// token was right.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The upload a request may see: 403 while offline, 401 for a wrong token.
fn authorized<'a>(view: &'a CloudView, token: Option<&str>) -> Result<&'a Upload, Reply> {
    let upload = view.upload.as_ref().ok_or_else(offline)?;
    match token {
        Some(t) if !upload.token.is_empty() && same_token(t, &upload.token) => Ok(upload),
        Some(_) => Err(Reply::refusal(401, "wrong token")),
        None => Err(Reply::refusal(401, "no token")),
    }
}

/// Seconds since the upload (0 for a clock that went backwards).
fn age_of(upload: &Upload, now: SystemTime) -> f64 {
    now.duration_since(upload.at)
        .unwrap_or_default()
        .as_secs_f64()
}

/// The 404 of data older than allowed, with its age as the real cloud gives it.
fn outdated(age: f64) -> Reply {
    let mut r = Reply::refusal(404, "Data is outdated");
    r.body.pop();
    r.body.push_str(&format!(",\"age\":{age}}}"));
    r
}

/// `/api/status`: `age` and `filter` as sent (decoded), or `None`.
pub fn status(
    view: &CloudView,
    token: Option<&str>,
    age: Option<&str>,
    filter: Option<&str>,
    now: SystemTime,
) -> Reply {
    let upload = match authorized(view, token) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let max_age = match age {
        None => DEFAULT_AGE.as_secs_f64(),
        Some(text) => match text.trim().parse::<f64>() {
            Ok(a) if (0.0..=MAX_AGE_S).contains(&a) => a,
            _ => return Reply::refusal(400, "age must be a number of seconds"),
        },
    };
    let age = age_of(upload, now);
    if age > max_age {
        return outdated(age);
    }
    let wanted: Option<Vec<&str>> = filter
        .filter(|f| !f.trim().is_empty())
        .map(|f| f.split(',').map(str::trim).collect());
    let mut body = String::with_capacity(8 * 1024);
    body.push('{');
    let mut first = true;
    for (key, json) in &upload.keys {
        if wanted.as_ref().is_some_and(|w| !w.contains(key)) {
            continue;
        }
        if !first {
            body.push(',');
        }
        first = false;
        goe_keys::value::write_string(key, &mut body);
        body.push(':');
        body.push_str(json);
    }
    body.push('}');
    Reply {
        status: 200,
        body,
        last_modified: Some(upload.at),
    }
}

/// Why the cloud itself refuses a key of `/api/set` (the charger may still
/// refuse what the cloud forwards: read-only keys, values out of range).
fn cloud_refusal(profile: &Profile, key: &str, raw: Option<&str>) -> Option<&'static str> {
    if profile.key(key).is_none() {
        return Some("unknown api key");
    }
    match raw {
        None => Some("not valid UTF-8"),
        Some(raw) if serde_json::from_str::<serde_json::Value>(raw).is_err() => {
            Some("value is not valid JSON (strings must be in \"\")")
        }
        Some(_) => None,
    }
}

/// `/api/set`: `pairs` are the keys and values to set (decoded; `None` for
/// a value that is not UTF-8), without `token`/`serial`. Accepted pairs are
/// queued in `view` for the charger's next contact.
pub fn set(
    view: &mut CloudView,
    profile: &Profile,
    token: Option<&str>,
    pairs: &[(String, Option<String>)],
    now: SystemTime,
) -> Reply {
    let upload = match authorized(view, token) {
        Ok(u) => u,
        Err(r) => return r,
    };
    let age = age_of(upload, now);
    if age > SET_ONLINE_WINDOW.as_secs_f64() {
        return outdated(age);
    }
    let mut succeeded = Vec::new();
    let mut failed = Vec::new();
    let mut queued = Vec::new();
    for (key, raw) in pairs {
        let refusal = cloud_refusal(profile, key, raw.as_deref())
            .or((view.queue.len() + queued.len() >= MAX_QUEUE)
                .then_some("queue full: the charger has not fetched the earlier sets"));
        match refusal {
            Some(why) => failed.push(item(key, why)),
            None => {
                let raw = raw.clone().unwrap_or_default();
                // never echo what was sent for a secret (`pass`, `wak`, …)
                if crate::device::is_secret(key) {
                    let mut name = String::new();
                    goe_keys::value::write_string(key, &mut name);
                    succeeded.push(name);
                } else {
                    let mut entry = String::from("{");
                    goe_keys::value::write_string(key, &mut entry);
                    entry.push(':');
                    // valid JSON (checked above), shown compactly
                    let v: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
                    entry.push_str(&v.to_string());
                    entry.push('}');
                    succeeded.push(entry);
                }
                queued.push((key.clone(), raw));
            }
        }
    }
    let status = if succeeded.is_empty() { 422 } else { 202 };
    view.queue.extend(queued);
    Reply {
        status,
        body: format!(
            "{{\"succeeded\":[{}],\"failed\":[{}]}}",
            succeeded.join(","),
            failed.join(",")
        ),
        last_modified: None,
    }
}

/// `{"key":"why"}`.
fn item(key: &str, why: &str) -> String {
    let mut out = String::from("{");
    goe_keys::value::write_string(key, &mut out);
    out.push(':');
    goe_keys::value::write_string(why, &mut out);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(at: SystemTime) -> CloudView {
        CloudView {
            upload: Some(Upload {
                keys: vec![
                    ("amp", "16".into()),
                    ("car", "1".into()),
                    ("fna", "\"x\"".into()),
                ],
                token: "Tok3n".into(),
                at,
            }),
            queue: Vec::new(),
        }
    }

    #[test]
    fn status_answers() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let v = view(t0);
        let ok = status(&v, Some("Tok3n"), None, Some("car,amp"), t0);
        assert_eq!(ok.status, 200);
        assert_eq!(ok.body, r#"{"amp":16,"car":1}"#);
        assert_eq!(ok.last_modified, Some(t0));
        assert_eq!(
            status(&v, Some("Tok3n"), None, Some(""), t0).body,
            r#"{"amp":16,"car":1,"fna":"x"}"#
        );
        assert_eq!(status(&v, Some("tok3n"), None, None, t0).status, 401);
        assert_eq!(status(&v, None, None, None, t0).status, 401);
        assert_eq!(
            status(&CloudView::default(), Some("Tok3n"), None, None, t0).status,
            403
        );
        // the default age is 30 s
        let late = t0 + Duration::from_millis(30_500);
        let r = status(&v, Some("Tok3n"), None, None, late);
        assert_eq!(r.status, 404);
        assert_eq!(
            r.body,
            r#"{"success":false,"reason":"Data is outdated","age":30.5}"#
        );
        assert_eq!(
            status(&v, Some("Tok3n"), None, None, t0 + Duration::from_secs(29)).status,
            200
        );
        assert_eq!(
            status(&v, Some("Tok3n"), Some("60"), None, late).status,
            200
        );
        assert_eq!(status(&v, Some("Tok3n"), Some("x"), None, t0).status, 400);
    }

    #[test]
    fn set_answers() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = goe_keys::default_profile();
        let mut v = view(t0);
        let pairs = |list: &[(&str, &str)]| -> Vec<(String, Option<String>)> {
            list.iter()
                .map(|(k, v)| (k.to_string(), Some(v.to_string())))
                .collect()
        };
        let r = set(
            &mut v,
            p,
            Some("Tok3n"),
            &pairs(&[("amp", "10"), ("fna", "\"a b\""), ("xyz", "1")]),
            t0,
        );
        assert_eq!(r.status, 202);
        assert_eq!(
            r.body,
            r#"{"succeeded":[{"amp":10},{"fna":"a b"}],"failed":[{"xyz":"unknown api key"}]}"#
        );
        assert_eq!(v.queue.len(), 2);
        let r = set(
            &mut v,
            p,
            Some("Tok3n"),
            &pairs(&[("fna", "bare"), ("nope", "1")]),
            t0,
        );
        assert_eq!(r.status, 422, "{}", r.body);
        assert_eq!(v.queue.len(), 2);
        let r = set(
            &mut v,
            p,
            Some("Tok3n"),
            &pairs(&[("pass", "\"hunter2\"")]),
            t0,
        );
        assert_eq!(r.body, r#"{"succeeded":["pass"],"failed":[]}"#);
        assert_eq!(
            set(&mut v, p, Some("bad"), &pairs(&[("amp", "6")]), t0).status,
            401
        );
        let late = t0 + Duration::from_secs(31);
        assert_eq!(
            set(&mut v, p, Some("Tok3n"), &pairs(&[("amp", "6")]), late).status,
            404
        );
        // a charger that never contacts the cloud: the queue stops growing
        v.queue.clear();
        let many: Vec<(&str, &str)> = vec![("amp", "6"); MAX_QUEUE + 5];
        let r = set(&mut v, p, Some("Tok3n"), &pairs(&many), t0);
        assert_eq!(r.status, 202);
        assert_eq!(v.queue.len(), MAX_QUEUE);
        assert!(r.body.contains("queue full"), "{}", r.body);
        assert_eq!(
            set(&mut v, p, Some("Tok3n"), &pairs(&[("amp", "6")]), t0).status,
            422
        );
        let mut off = CloudView::default();
        assert_eq!(
            set(&mut off, p, Some("Tok3n"), &pairs(&[("amp", "6")]), t0).status,
            403
        );
    }
}
