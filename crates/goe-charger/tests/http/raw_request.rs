//! Raw bytes in the request line (#11 point 1): curl sends what the user
//! typed, so `"`, `[`, `{`, `<`, `>`, spaces and UTF-8 arrive unencoded. They
//! are answered exactly like their percent-encoded forms; bytes that cannot be
//! accepted (controls, NUL, invalid UTF-8 in a value, oversized heads) get the
//! charger's error style with a body and a `Content-Type`, never an empty 400.

use crate::common::raw::{self, RawResp};
use crate::common::{Charger, Lcg};
use serde_json::Value;

/// A raw keep-alive-free GET of `target` (bytes exactly as given).
fn get(port: u16, target: &[u8]) -> RawResp {
    raw::send(port, &raw::get_request(target), false)
}

fn show(r: &RawResp) -> String {
    String::from_utf8_lossy(&r.all[..r.all.len().min(600)]).into_owned()
}

/// The value of `key` in the charger's status, read over a raw socket.
fn value(port: u16, key: &str) -> Value {
    let r = get(port, format!("/api/status?filter={key}").as_bytes());
    let v: Value = serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{e}: {}", show(&r)));
    v[key].clone()
}

#[test]
fn readme_examples_with_raw_quotes_answer_like_percent_encoded() {
    let ch = Charger::fresh();
    let port = ch.port;
    // (raw as curl sends it, the same request percent-encoded)
    let pairs: [(&[u8], &[u8]); 5] = [
        (
            b"/api/set?amp=10&fna=\"garage\"",
            b"/api/set?amp=10&fna=%22garage%22",
        ),
        (
            b"/api/status?filter=[\"rfb\",\"alw\",\"amp\"]",
            b"/api/status?filter=%5B%22rfb%22%2C%22alw%22%2C%22amp%22%5D",
        ),
        (
            b"/api/set?ids={\"pGrid\":-1000}",
            b"/api/set?ids=%7B%22pGrid%22%3A-1000%7D",
        ),
        (
            b"/api/status?filter=<amp>,\"alw\"",
            b"/api/status?filter=%3Camp%3E%2C%22alw%22",
        ),
        (b"/api/set?lbr=\"7\"&lbr=8", b"/api/set?lbr=%227%22&lbr=8"),
    ];
    for (raw_target, encoded) in pairs {
        let a = get(port, raw_target);
        let b = get(port, encoded);
        let what = String::from_utf8_lossy(raw_target);
        assert_eq!(
            a.status,
            b.status,
            "{what}: raw {} vs encoded {}",
            show(&a),
            show(&b)
        );
        assert_eq!(a.text(), b.text(), "{what}");
        // (400: a 60.3+ filter naming unprinted keys; same JSON body)
        assert!(
            matches!(a.status, Some(200 | 400 | 500)),
            "{what}: {}",
            show(&a)
        );
        assert_eq!(a.header("content-type"), Some("application/json"), "{what}");
    }
    // the README's write is stored
    let r = get(port, b"/api/set?amp=10&fna=\"garage\"");
    assert_eq!(r.text(), r#"{"amp":true,"fna":true}"#, "{}", show(&r));
    assert_eq!(value(port, "fna"), Value::from("garage"));
    assert_eq!(value(port, "amp"), Value::from(10));
    // (rfb is a key of the 2021 firmware: the default one leaves it out)
    let r = get(port, b"/api/status?filter=[\"rfb\",\"alw\",\"amp\"]");
    let obj = crate::common::Ordered::parse(&r.text()).unwrap();
    assert_eq!(obj.keys(), ["alw", "amp"]);
    // a raw space, `#` and UTF-8 are literal characters of the value
    let r = raw::send(
        port,
        "GET /api/set?fna=\"Garage #2 ä\" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            .as_bytes(),
        false,
    );
    assert_eq!(r.text(), r#"{"fna":true}"#, "{}", show(&r));
    assert_eq!(value(port, "fna"), Value::from("Garage #2 ä"));
    // the keep-alive connection carries on after a rewritten request
    let all = read_to_close(
        port,
        b"GET /api/status?filter=[\"amp\"] HTTP/1.1\r\nHost: x\r\n\r\nGET /api/status?filter=fna HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(all.matches("HTTP/1.1 200 OK").count(), 2, "{all}");
    assert!(
        all.contains("{\"amp\":10}") && all.contains("\"fna\":\"Garage #2 ä\""),
        "{all}"
    );
}

/// Sends `request` and returns everything received until the server closes.
fn read_to_close(port: u16, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    s.write_all(request).unwrap();
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn unacceptable_heads_get_the_chargers_error_style() {
    let ch = Charger::fresh();
    let port = ch.port;
    let big_header = format!(
        "GET /api/status HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "h".repeat(100_000)
    );
    let long_uri = format!("/api/status?filter={}", "a".repeat(5000));
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "control byte",
            raw::get_request(b"/api/status?filter=al\x01w"),
            400,
            "Bad request syntax",
        ),
        (
            "NUL",
            raw::get_request(b"/api/set?lbr=\x001"),
            400,
            "Bad request syntax",
        ),
        (
            "DEL",
            raw::get_request(b"/api/set?fna=\"a\x7f\""),
            400,
            "Bad request syntax",
        ),
        (
            "tab",
            raw::get_request(b"/api/set?fna=\"a\tb\""),
            400,
            "Bad request syntax",
        ),
        (
            "NUL in a header",
            b"GET /api/status HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\nConnection: close\r\n\r\n"
                .to_vec(),
            400,
            "Bad request syntax",
        ),
        (
            "URI over 4096 bytes",
            raw::get_request(long_uri.as_bytes()),
            414,
            "URI is too long",
        ),
        (
            "100 KB header",
            big_header.into_bytes(),
            431,
            "Header fields are too long",
        ),
        (
            "HTTP/2.0 request line",
            b"GET /api/status HTTP/2.0\r\nHost: x\r\n\r\n".to_vec(),
            505,
            "HTTP version not supported by server",
        ),
        (
            "no version",
            b"GET /api/status\r\n\r\n".to_vec(),
            400,
            "Bad request syntax",
        ),
        (
            "conflicting Content-Length",
            b"POST /sim/plug HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab".to_vec(),
            400,
            "Bad request syntax",
        ),
    ];
    for (what, request, status, text) in cases {
        let r = raw::send(port, &request, false);
        assert_eq!(r.status, Some(status), "{what}: {}", show(&r));
        assert_eq!(r.text(), text, "{what}: {}", show(&r));
        assert_eq!(r.header("content-type"), Some("text/html"), "{what}");
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "{what}");
    }
    // still serving
    assert!(value(port, "alw").is_boolean());
}

#[test]
fn invalid_utf8_in_a_value_is_refused_not_replaced() {
    let ch = Charger::fresh();
    let port = ch.port;
    let before = value(port, "fna");
    for target in [
        &b"/api/set?fna=%22%FF%FEabc%22"[..],
        b"/api/set?fna=\"\xff\xfeabc\"",
        b"/api/set?fna=\"\xc3\"",
    ] {
        let what = String::from_utf8_lossy(target).into_owned();
        let r = get(port, target);
        assert_eq!(r.status, Some(500), "{what}: {}", show(&r));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let v: Value = serde_json::from_slice(&r.body).expect("JSON");
        let msg = v["fna"].as_str().unwrap_or_default();
        assert!(
            msg.starts_with("fna: tried to set api key with invalid json InvalidInput ("),
            "{what}: {msg}"
        );
        assert!(!msg.contains('\u{FFFD}'), "{what}: {msg}");
        assert_eq!(value(port, "fna"), before, "{what}: nothing stored");
    }
    // the valid keys of the same request are applied, the bad one is not
    let r = get(port, b"/api/set?amp=12&fna=%22%FF%22");
    assert_eq!(r.status, Some(500), "{}", show(&r));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["amp"], Value::Bool(true), "{}", r.text());
    assert_eq!(value(port, "amp"), Value::from(12));
    assert_eq!(value(port, "fna"), before);
    // a v1 payload that is not UTF-8 changes nothing either
    let _ = get(port, b"/mqtt?payload=amp%3D7%FF");
    assert_eq!(value(port, "amp"), Value::from(12));
}

/// Seeded random request lines and headers: every answer has a status, a
/// non-empty body and a `Content-Type`; the charger keeps serving.
#[test]
fn seeded_raw_request_fuzz_always_gets_a_body() {
    let ch = Charger::fresh();
    let port = ch.port;
    let mut rng = Lcg::new(11_001);
    let paths: [&[u8]; 6] = [
        b"/api/status?filter=",
        b"/api/set?fna=",
        b"/api/set?",
        b"/nope/",
        b"/status?",
        b"/api/status?",
    ];
    let mut failures = Vec::new();
    for i in 0..200 {
        let mut target = rng.pick(&paths).to_vec();
        for _ in 0..rng.below(40) {
            let b = match rng.below(10) {
                0..=5 => b' ' + rng.below(95) as u8,
                6 => *rng.pick(b"\"<>{}[]#%&=+ \\^`|"),
                7 => 0x80 + rng.below(128) as u8,
                8 => rng.below(32) as u8,
                _ => *rng.pick(b"amp,alw,fna"),
            };
            if b != b'\r' && b != b'\n' {
                target.push(b);
            }
        }
        let mut request = b"GET ".to_vec();
        request.extend_from_slice(&target);
        request.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n");
        if rng.chance(1, 5) {
            let v: Vec<u8> = (0..rng.below(20)).map(|_| rng.below(256) as u8).collect();
            request.extend_from_slice(b"X-Fuzz: ");
            request.extend(v.into_iter().filter(|b| *b != b'\r' && *b != b'\n'));
            request.extend_from_slice(b"\r\n");
        }
        request.extend_from_slice(b"Connection: close\r\n\r\n");
        let r = raw::send(port, &request, false);
        let ok = r.status.is_some()
            && !r.body.is_empty()
            && r.header("content-type").is_some_and(|c| !c.is_empty());
        if !ok {
            failures.push(format!(
                "#{i} {:?}: {}",
                String::from_utf8_lossy(&request),
                show(&r)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(value(port, "alw").is_boolean());
}
