//! Bad input never panics or hangs the charger and gets a charger-style
//! answer: a JSON object with 200/500 (or 414 for an over-long URI), and no
//! value changes unless the answer acknowledged it. Ends with a seeded,
//! deterministic fuzz loop.

use crate::common::json::Ordered;
use crate::common::raw::{self, RawResp};
use crate::common::{Api, Charger, Lcg, enc, enc_bytes, json_eq};
use crate::status::kind_problem;
use goe_keys::{Base, JsonKind, KEYS, Secret};
use serde_json::Value;

/// Full status values of every readable key (the time keys excluded).
async fn snapshot(api: &Api) -> Vec<(String, Value)> {
    let st = api.status().await;
    st.entries
        .into_iter()
        .filter(|e| goe_keys::key(&e.key).is_some_and(|d| d.access.writable()) && e.key != "utc")
        .map(|e| (e.key, e.value))
        .collect()
}

/// A per-card key of 60.x (`c0n`…`c9i`): one value with `cards`.
fn per_card(key: &str) -> bool {
    let b = key.as_bytes();
    b.len() == 3 && b[0] == b'c' && b[1].is_ascii_digit() && matches!(b[2], b'n' | b'e' | b'i')
}

/// Whether `key` may change after a request that acknowledged `acked` and
/// (`restarted`) restarted the charger: a restart resets every key that is
/// not persisted (live state such as `rsa`, "rampup started at", a Status key
/// in every firmware export) to its factory value.
fn may_change(key: &str, acked: &[String], restarted: bool) -> bool {
    let has = |k: &str| acked.iter().any(|a| a == k);
    has(key)
        || (key == "cards" && (has("del") || has("lrn") || acked.iter().any(|a| per_card(a))))
        || (per_card(key) && (has("cards") || has("del") || has("lrn")))
        || (key == "wifis" && has("delw"))
        || (restarted && goe_keys::key(key).is_some_and(|d| !d.persisted()))
}

/// Checks a `/api/set` answer's shape; returns the acknowledged keys.
fn check_set_answer(
    what: &str,
    status: u16,
    body: &str,
    utf8: bool,
) -> Result<Vec<String>, String> {
    if status == 414 {
        return Ok(Vec::new());
    }
    if status != 200 && status != 500 {
        return Err(format!(
            "{what}: status {status} (want 200, 500 or 414): {body}"
        ));
    }
    if !utf8 {
        return Err(format!("{what}: body is not UTF-8: {body}"));
    }
    let obj =
        Ordered::parse(body).map_err(|e| format!("{what}: not a JSON object ({e}): {body}"))?;
    let mut acked = Vec::new();
    let mut failed = false;
    for e in &obj.entries {
        match &e.value {
            Value::Bool(true) => acked.push(e.key.clone()),
            Value::String(s) if s.starts_with(&format!("{}: ", e.key)) && s.ends_with(')') => {
                failed = true
            }
            other => {
                return Err(format!(
                    "{what}: entry {:?} must be true or \"{}: … (…)\", got {other}",
                    e.key, e.key
                ));
            }
        }
    }
    if failed && status != 500 {
        return Err(format!(
            "{what}: an entry failed but status is {status}: {body}"
        ));
    }
    Ok(acked)
}

/// After a request: the charger still answers, nothing changed unless
/// acknowledged (or reset by a restart the request caused, `restarted`).
async fn check_unchanged(
    api: &Api,
    what: &str,
    before: &[(String, Value)],
    acked: &[String],
    restarted: bool,
) -> Result<Vec<(String, Value)>, String> {
    let after = snapshot(api).await;
    for ((k, a), (k2, b)) in before.iter().zip(&after) {
        assert_eq!(k, k2);
        if !json_eq(a, b) && !may_change(k, acked, restarted) {
            return Err(format!(
                "{what}: {k} changed from {a} to {b} without an acknowledged write (acked {acked:?})"
            ));
        }
    }
    Ok(after)
}

/// Runs one `/api/set` (or other) query through reqwest and checks everything.
async fn probe(
    api: &Api,
    what: &str,
    pq: &str,
    before: &mut Vec<(String, Value)>,
) -> Result<(u16, String), String> {
    let r = get_any(api, pq)
        .await
        .map_err(|e| format!("{what}: no answer ({e})"))?;
    let acked = if pq.starts_with("/api/set") {
        check_set_answer(what, r.status, &r.body, r.utf8)?
    } else {
        // (400: a 60.3+ filter naming keys the firmware does not print)
        if r.status != 200 && r.status != 414 && !(r.status == 400 && pq.contains("filter=")) {
            return Err(format!(
                "{what}: status {} (want 200, 400 or 414): {}",
                r.status, r.body
            ));
        }
        if r.status == 200 {
            Ordered::parse(&r.body).map_err(|e| format!("{what}: not a JSON object ({e})"))?;
        }
        Vec::new()
    };
    let restarted = acked.iter().any(|k| k == "rst");
    *before = check_unchanged(api, what, before, &acked, restarted).await?;
    Ok((r.status, r.body))
}

/// The parts of an answer these tests look at.
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body text (lossy).
    pub body: String,
    /// Whether the body is valid UTF-8.
    pub utf8: bool,
}

/// `GET` through reqwest, or through a raw socket for URIs longer than the
/// `http` crate accepts (about 64 KB).
pub async fn get_any(api: &Api, pq: &str) -> Result<Answer, String> {
    if pq.len() < 60_000 {
        let r = api.try_get(pq).await.map_err(|e| e.to_string())?;
        return Ok(Answer {
            status: r.status,
            body: r.body,
            utf8: r.utf8,
        });
    }
    let port = api.port;
    let req = raw::get_request(pq.as_bytes());
    let r = tokio::task::spawn_blocking(move || raw::send(port, &req, false))
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status.ok_or("connection closed without an answer")?;
    Ok(Answer {
        status,
        body: r.text(),
        utf8: std::str::from_utf8(&r.body).is_ok(),
    })
}

/// (what, path and query, exact (status, body) when the spec fixes it)
type Case<'a> = (&'a str, String, Option<(u16, &'a str)>);

#[tokio::test]
async fn malformed_queries_get_charger_style_answers() {
    let ch = Charger::fresh();
    let api = ch.api();
    let mut before = snapshot(&api).await;
    let deep = format!("{}1{}", "%5B".repeat(12), "%5D".repeat(12));
    let deep_answer = format!(
        r#"{{"clp":"clp: tried to set api key with invalid json TooDeep ({}1{})"}}"#,
        "[".repeat(12),
        "]".repeat(12)
    );
    // (what, path and query, exact expected (status, body) when specified)
    let cases: Vec<Case> = vec![
        (
            "unbalanced quote",
            "/api/set?fna=%22abc".into(),
            Some((
                500,
                r#"{"fna":"fna: tried to set api key with invalid json IncompleteInput (\"abc)"}"#,
            )),
        ),
        (
            "deep nesting",
            format!("/api/set?clp={deep}"),
            Some((500, deep_answer.as_str())),
        ),
        (
            "key without =",
            "/api/set?amp".into(),
            Some((
                500,
                r#"{"amp":"amp: tried to set api key with invalid json EmptyInput ()"}"#,
            )),
        ),
        (
            "encoded &",
            "/api/set?fna=%22a%26b%3Dc%22".into(),
            Some((200, r#"{"fna":true}"#)),
        ),
        (
            "duplicates",
            "/api/set?lbr=1&lbr=2&lbr=3".into(),
            Some((200, r#"{"lbr":true}"#)),
        ),
        ("invalid UTF-8 value", "/api/set?fna=%FF%FE".into(), None),
        (
            "invalid UTF-8 string",
            "/api/set?fna=%22%FF%FEabc%22".into(),
            None,
        ),
        ("invalid UTF-8 key", "/api/set?%FF%FE=1".into(), None),
        ("NUL in string", "/api/set?fna=%22ab%00cd%22".into(), None),
        ("NUL in key", "/api/set?am%00p=10".into(), None),
        ("NUL alone", "/api/set?fna=%00".into(), None),
        ("= without key", "/api/set?=5".into(), None),
        ("= alone", "/api/set?=".into(), None),
        ("ampersands", "/api/set?&&&".into(), None),
        ("empty pairs", "/api/set?&=&amp=7&".into(), None),
        ("bad escapes", "/api/set?amp=%ZZ&fna=%".into(), None),
        ("bad escape in key", "/api/set?%ZZ=1&lbr=%2".into(), None),
        (
            "control bytes",
            "/api/set?fna=%22%01%02%1F%7F%22".into(),
            None,
        ),
        (
            "escaped control",
            "/api/set?fna=%22x%5Cu0001y%22".into(),
            None,
        ),
        (
            "lone surrogate",
            "/api/set?fna=%22%5Cud800abc%22".into(),
            None,
        ),
        ("long key", format!("/api/set?{}=1", "k".repeat(3000)), None),
        (
            "long value",
            format!("/api/set?fna=%22{}%22", "v".repeat(3900)),
            None,
        ),
        (
            "huge value",
            format!("/api/set?fna=%22{}%22", "v".repeat(100_000)),
            None,
        ),
        (
            "huge query",
            format!("/api/set?{}", "amp=7&".repeat(17_000)),
            None,
        ),
        ("unicode key", "/api/set?%C3%A4mp=10".into(), None),
        ("plus signs", "/api/set?fna=%22a+b+c+d%22".into(), None),
        (
            "raw brackets",
            "/api/set?clp=[6,10,12]&map=[1,2,3]".into(),
            None,
        ),
        (
            "raw object",
            "/api/set?sch_week={\"control\":1}".into(),
            None,
        ),
        ("bad filter UTF-8", "/api/status?filter=%FF%FE".into(), None),
        (
            "bad filter legacy",
            "/api/status?filter=[%22unterminated".into(),
            None,
        ),
        (
            "deep legacy filter",
            format!("/api/status?filter={}", "%5B".repeat(50)),
            None,
        ),
        ("NUL filter", "/api/status?filter=alw%00,amp".into(), None),
        ("commas filter", "/api/status?filter=,,,,".into(), None),
        (
            "filter twice",
            "/api/status?filter=alw&filter=amp".into(),
            None,
        ),
        (
            "huge filter",
            format!("/api/status?filter={}", "alw,".repeat(30_000)),
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (what, pq, exact) in cases {
        match probe(&api, what, &pq, &mut before).await {
            Err(e) => failures.push(e),
            Ok((status, body)) => {
                if let Some((s, b)) = exact
                    && (status, body.as_str()) != (s, b)
                {
                    failures.push(format!("{what}: got {status} {body}, want {s} {b}"));
                }
                if what.starts_with("huge") && status != 414 && status != 500 {
                    failures.push(format!(
                        "{what}: an over-long URI must be 414 (or an error JSON), got {status}"
                    ));
                }
            }
        }
    }
    // effects of the acknowledged writes
    let st = api.status_filter("fna,lbr").await;
    assert_eq!(
        st.get("lbr"),
        Some(&Value::from(3)),
        "duplicates: last value applied"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_status_is_sound(&api).await;
}

/// Every key of the status still has its declared kind.
async fn assert_status_is_sound(api: &Api) {
    let st = api.status().await;
    let problems: Vec<String> = st
        .entries
        .iter()
        .filter_map(|e| {
            kind_problem(goe_keys::key(&e.key)?, &e.raw, &e.value)
                .map(|p| format!("{}: {p}", e.key))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn malformed_http_requests_do_not_hurt() {
    let ch = Charger::fresh();
    let api = ch.api();
    let mut before = snapshot(&api).await;
    let big_header = format!(
        "GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(100_000)
    );
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("raw bytes in value", raw::get_request(b"/api/set?fna=\xff\xfe\x80"), false),
        ("raw quote bytes", raw::get_request(b"/api/set?fna=\"raw\xc3\xa4\""), false),
        ("raw control byte", raw::get_request(b"/api/status?filter=al\x01w"), false),
        ("raw NUL", raw::get_request(b"/api/set?lbr=\x001"), false),
        ("raw space", b"GET /api/set?fna=\"a b\" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), false),
        ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n".to_vec(), true),
        ("not HTTP", b"HELLO\r\n\r\n".to_vec(), true),
        ("truncated request", b"GET /api/set?lbr=9 HTTP/1.1\r\nHost: x\r\n".to_vec(), true),
        ("only request line", b"GET /api/status".to_vec(), true),
        ("big header", big_header.into_bytes(), false),
        ("HTTP/1.0", b"GET /api/status?filter=alw HTTP/1.0\r\n\r\n".to_vec(), true),
        ("absolute URI", b"GET http://127.0.0.1/api/status?filter=alw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(), false),
        ("nothing", Vec::new(), true),
    ];
    let mut failures = Vec::new();
    for (what, req, close_write) in cases {
        let r: RawResp = raw::send(api.port, &req, close_write);
        // whatever the HTTP layer answers (400/404/414/431/…), a /api/set answer
        // that acknowledges something must be a JSON object
        let mut acked = Vec::new();
        if let Some(status) = r.status
            && (status == 200 || status == 500)
            && req.starts_with(b"GET /api/set")
        {
            match check_set_answer(
                what,
                status,
                &r.text(),
                std::str::from_utf8(&r.body).is_ok(),
            ) {
                Ok(a) => acked = a,
                Err(e) => failures.push(e),
            }
        }
        if let Some(status) = r.status
            && status >= 600
        {
            failures.push(format!("{what}: status {status}"));
        }
        let restarted = acked.iter().any(|k| k == "rst");
        match check_unchanged(&api, what, &before, &acked, restarted).await {
            Ok(after) => before = after,
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_status_is_sound(&api).await;
}

/// Keys the fuzzer never writes: `hai=false` switches the HTTP API off and
/// `hws=false` may make the web server unreachable, which would end the test
/// rather than test robustness.
const FUZZ_EXCLUDED: &[&str] = &["hai", "hws"];

fn fuzz_key(rng: &mut Lcg) -> String {
    loop {
        let k = match rng.below(20) {
            0..=12 => rng.pick(KEYS).name.to_owned(),
            13 => rng.pick(KEYS).name.to_uppercase(),
            14 => format!("{}x", rng.pick(KEYS).name),
            15 => String::new(),
            16 => "rst".into(),
            _ => {
                let n = 1 + rng.below(8);
                (0..n)
                    .map(|_| *rng.pick(b"abcdefghijklmnopqrstuvwxyz_0123456789") as char)
                    .collect()
            }
        };
        if !FUZZ_EXCLUDED.contains(&k.as_str()) {
            return k;
        }
    }
}

fn fuzz_number(rng: &mut Lcg) -> String {
    const N: &[&str] = &[
        "0",
        "1",
        "-1",
        "6",
        "10",
        "16",
        "17",
        "32",
        "255",
        "256",
        "65535",
        "65536",
        "4294967295",
        "4294967296",
        "9223372036854775807",
        "9223372036854775808",
        "18446744073709551616",
        "-9223372036854775809",
        "1e30",
        "1e400",
        "-1e400",
        "1.5",
        "-0.0",
        "0.1",
        "1e-7",
        "3.4e39",
        "16.0",
        "1E2",
        "-",
        "01",
        "1.",
        ".5",
        "+1",
        "0x10",
        "NaN",
        "Infinity",
        "86400000",
        "3600001",
    ];
    rng.pick(N).to_string()
}

fn fuzz_string(rng: &mut Lcg) -> String {
    const PIECES: &[&str] = &[
        "a",
        "go",
        "garage",
        "#00FF00",
        "#12345G",
        " ",
        "\\\"",
        "\\\\",
        "\\n",
        "\\u0001",
        "\\u0000",
        "ä",
        "€",
        "😀",
        "\\ud800",
        "/",
        "mqtt://x/",
        "2030-01-02T03:04:05.000",
        "\t",
        "%",
        "&",
        "=",
        "+",
    ];
    let n = rng.below(6);
    let mut s = String::from("\"");
    for _ in 0..n {
        let piece: &&str = rng.pick(PIECES);
        s.push_str(piece);
    }
    if rng.below(4) == 0 {
        s.push_str(&"x".repeat(rng.below(80) as usize));
    }
    if rng.below(10) != 0 {
        s.push('"');
    }
    s
}

fn fuzz_json(rng: &mut Lcg, depth: u32) -> String {
    match rng.below(if depth > 12 { 5 } else { 8 }) {
        0 | 1 => fuzz_number(rng),
        2 => fuzz_string(rng),
        3 => rng
            .pick(&["true", "false", "null", "tru", "nul", "True"])
            .to_string(),
        4 => String::new(),
        5 => {
            let n = rng.below(4);
            let items: Vec<String> = (0..n).map(|_| fuzz_json(rng, depth + 1)).collect();
            format!("[{}]", items.join(","))
        }
        6 => {
            let n = rng.below(4);
            let fields = [
                "control",
                "ranges",
                "ssid",
                "key",
                "name",
                "cardId",
                "pGrid",
                "pPv",
                "start",
                "end",
                "marketprice",
                "x",
            ];
            let items: Vec<String> = (0..n)
                .map(|_| format!("\"{}\":{}", rng.pick(&fields), fuzz_json(rng, depth + 1)))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        _ => {
            // truncated or spliced JSON
            let a = fuzz_json(rng, depth + 1);
            let cut = rng.below(a.len() as u32 + 1) as usize;
            let cut = (0..=cut)
                .rev()
                .find(|c| a.is_char_boundary(*c))
                .unwrap_or(0);
            format!("{}{}", &a[..cut], rng.pick(&["", "]", "}", ",", "\"", ":"]))
        }
    }
}

/// Percent-encodes only what would break the query (`%`, `&`, `=`, `+`, `#`,
/// spaces, quotes, controls, non-ASCII), leaving `[]{}:,` raw like a careless client.
fn light_enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_graphic() && !b"%&=+#\"<>\\^`|".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A value that is probably valid for the key (in range, right type), so that
/// the fuzz loop also makes many acknowledged writes.
fn plausible_value(rng: &mut Lcg, def: &goe_keys::KeyDef) -> Option<String> {
    use goe_keys::Rule;
    let hex = |rng: &mut Lcg| format!("#{:06X}", rng.next_u32() & 0xFF_FFFF);
    Some(match (def.base().json_kind(), def.rule) {
        (JsonKind::Bool, _) => rng.pick(&["true", "false", "0", "1"]).to_string(),
        (JsonKind::Integer, _) => {
            let (min, max) = crate::common::values::int_bounds(def)?;
            let (min, max) = (min.max(-100_000), max.min(100_000));
            let span = (max - min + 1) as u32;
            let v = min + i128::from(rng.below(span.max(1)));
            // now and then one past the bounds
            match rng.below(10) {
                0 => (max + 1).to_string(),
                1 => (min - 1).to_string(),
                _ => v.to_string(),
            }
        }
        (JsonKind::Number, _) => rng.pick(&["12.5", "-3", "0", "1e3", "4200.25", "null"]).to_string(),
        (JsonKind::String, Rule::Color) => format!("\"{}\"", hex(rng)),
        (JsonKind::String, Rule::UtcTime) => "\"2031-05-06T07:08:09.010\"".into(),
        (JsonKind::String, Rule::StrLen(min, max)) => {
            let len = min + rng.below((max - min + 2).min(40) as u32) as usize;
            let s: String = (0..len).map(|_| *rng.pick(b"abcdefghijXYZ0123456789 -_/") as char).collect();
            serde_json::to_string(&s).unwrap()
        }
        (_, Rule::CurrentPresets) => "[6,8,10,12,16]".into(),
        (_, Rule::PhaseMapping) => rng.pick(&["[1,2,3]", "[2,3,1]", "[3,3,3]"]).to_string(),
        (_, Rule::Schedule) => r#"{"control":2,"ranges":[{"begin":{"hour":1,"minute":2},"end":{"hour":3,"minute":4}}]}"#.into(),
        (_, Rule::Wifis) => r#"[{},{"ssid":"fuzz","key":"fuzz-key-1"}]"#.into(),
        (_, Rule::Cards) => r#"[{"name":"Fuzz"}]"#.into(),
        (_, Rule::PriceList) => r#"[{"start":1,"end":2,"marketprice":3.5}]"#.into(),
        (_, Rule::InverterData) => r#"{"pGrid":-100,"pPv":300}"#.into(),
        _ => return None,
    })
}

fn fuzz_query(rng: &mut Lcg) -> String {
    let n = 1 + rng.below(4);
    let mut parts = Vec::new();
    for _ in 0..n {
        let key = fuzz_key(rng);
        let valid = goe_keys::key(&key)
            .filter(|d| d.access.writable() && rng.below(5) < 2)
            .and_then(|d| plausible_value(rng, d));
        let value = if let Some(v) = valid {
            enc(&v)
        } else if rng.below(8) == 0 {
            let len = rng.below(12);
            let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            enc_bytes(&bytes)
        } else {
            let v = fuzz_json(rng, 0);
            if rng.below(4) == 0 {
                light_enc(&v)
            } else {
                enc(&v)
            }
        };
        parts.push(match rng.below(20) {
            0 => enc(&key),
            1 => format!("{}=={value}", enc(&key)),
            _ => format!("{}={value}", enc(&key)),
        });
    }
    let mut q = parts.join("&");
    if rng.below(15) == 0 {
        q.push_str("&&");
    }
    q
}

/// For an acknowledged simple key, the status must show the written value.
fn check_applied(key: &str, raw: &str, shown: Option<&Value>) -> Result<(), String> {
    let Some(def) = goe_keys::key(key) else {
        return Ok(());
    };
    // (`cak`: any value written makes a new token, #15)
    if def.secret != Secret::No || !def.access.readable() || key == "utc" || key == "cak" {
        return Ok(());
    }
    let kind = def.base().json_kind();
    if !matches!(kind, JsonKind::Bool | JsonKind::Integer | JsonKind::String) {
        return Ok(());
    }
    let Ok(mut want) = serde_json::from_str::<Value>(raw.trim()) else {
        return Err(format!("{key}: acknowledged {raw:?}, which is not JSON"));
    };
    if want.is_null() && !def.ty.optional {
        return Ok(()); // e.g. mtp=null restores the default prefix
    }
    if def.base() == Base::Bool && want.is_number() {
        want = Value::Bool(want.as_f64() == Some(1.0));
    }
    match shown {
        Some(got) if json_eq(&want, got) => Ok(()),
        got => Err(format!(
            "{key}: acknowledged {raw:?} but status shows {got:?}"
        )),
    }
}

#[tokio::test]
async fn seeded_fuzz_of_set_queries() {
    let ch = Charger::fresh();
    let api = ch.api();
    let mut rng = Lcg::new(20_240_918);
    let mut before = snapshot(&api).await;
    let mut rbc = api.value("rbc").await.and_then(|v| v.as_i64()).unwrap();
    let mut failures = Vec::new();
    // (acknowledged writes, failed entries, restarts): the loop must exercise all
    let (mut n_acked, mut n_failed, mut n_restarts) = (0, 0, 0);
    for i in 0..300 {
        let q = fuzz_query(&mut rng);
        let what = format!("fuzz #{i} /api/set?{q}");
        let r = match api.try_get(&format!("/api/set?{q}")).await {
            Ok(r) => r,
            Err(e) => panic!(
                "{what}: no answer ({e}); the charger is down? stderr:\n{}",
                ch.stderr()
            ),
        };
        let acked = match check_set_answer(&what, r.status, &r.body, r.utf8) {
            Ok(a) => a,
            Err(e) => {
                failures.push(e);
                Vec::new()
            }
        };
        n_acked += acked.len();
        n_failed += r.body.matches(": ").count();
        // rst=true (or 1) restarts; rst=false is accepted and does nothing
        let rst_values: Vec<Option<Value>> = form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == "rst")
            .map(|(_, v)| serde_json::from_str::<Value>(v.trim()).ok())
            .collect();
        let must_restart = acked.iter().any(|k| k == "rst")
            && rst_values
                .last()
                .cloned()
                .flatten()
                .is_some_and(|v| v == Value::Bool(true) || v.as_f64() == Some(1.0));
        // a key sent twice is applied in order (docs/compat.md): an earlier
        // rst=true restarts even when a later `rst` entry fails and the
        // answer shows that failure, so any `rst` in the query may restart
        let mut restarted = false;
        if !rst_values.is_empty() {
            // the restart follows the answer: wait for it before comparing
            let mut n = 0;
            loop {
                let now = api.value("rbc").await.and_then(|v| v.as_i64()).unwrap();
                if now > rbc {
                    rbc = now;
                    restarted = true;
                    break;
                }
                if !must_restart {
                    break;
                }
                n += 1;
                assert!(n < 200, "{what}: rst acknowledged but rbc stays {now}");
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
        }
        if restarted {
            n_restarts += 1;
        }
        // the answer's keys are keys of the query, each once
        if r.status != 414 {
            let sent: Vec<String> = form_urlencoded::parse(q.as_bytes())
                .map(|(k, _)| k.into_owned())
                .collect();
            if let Ok(obj) = Ordered::parse(&r.body) {
                let keys = obj.keys();
                let dupes = (1..sent.len()).any(|j| sent[..j].contains(&sent[j]));
                let any_failed = obj.entries.iter().any(|e| e.value != Value::Bool(true));
                if r.status == 500 && !any_failed && !dupes {
                    failures.push(format!(
                        "{what}: 500 although every entry succeeded: {}",
                        r.body
                    ));
                }
                if r.status == 200 && any_failed {
                    failures.push(format!("{what}: 200 with a failed entry: {}", r.body));
                }
                for (j, k) in keys.iter().enumerate() {
                    if !sent.iter().any(|s| s == k) {
                        failures.push(format!("{what}: answer key {k:?} not in the query"));
                    }
                    if keys[..j].contains(k) {
                        failures.push(format!("{what}: answer key {k:?} twice"));
                    }
                }
                // acknowledged simple keys show the last value sent for them
                let st = api.status().await;
                for k in &acked {
                    let reset = restarted && goe_keys::key(k).is_some_and(|d| !d.persisted());
                    if !reset
                        && let Some((_, v)) = form_urlencoded::parse(q.as_bytes())
                            .filter(|(kk, _)| kk == k)
                            .last()
                        && let Err(e) = check_applied(k, &v, st.get(k))
                    {
                        failures.push(format!("{what}: {e}"));
                    }
                }
            }
        }
        match check_unchanged(&api, &what, &before, &acked, restarted).await {
            Ok(after) => before = after,
            Err(e) => {
                failures.push(e);
                before = snapshot(&api).await;
            }
        }
        if failures.len() > 20 {
            break;
        }
    }
    eprintln!("fuzz: {n_acked} acknowledged writes, ~{n_failed} errors, {n_restarts} restarts");
    assert!(
        n_acked >= 30 && n_failed >= 100 && n_restarts >= 1,
        "the fuzz loop is too tame: {n_acked} acknowledged, {n_failed} errors, {n_restarts} restarts"
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_status_is_sound(&api).await;
}
