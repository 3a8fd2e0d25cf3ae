//! `wcch` (#13 point 5): "webserver connected clients as HTTP" counts the
//! HTTP connections open right now, on the firmware that has the key (051.4).

use crate::common::Charger;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Asks `wcch` on an open keep-alive connection; returns its value.
fn wcch_on(s: &mut TcpStream) -> i64 {
    s.write_all(b"GET /api/status?filter=wcch HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).expect("an answer within 10 s"), 1);
        got.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no content-length: {head}"));
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["wcch"].as_i64().unwrap_or_else(|| panic!("wcch: {v}"))
}

#[test]
fn wcch_counts_the_open_http_connections() {
    let ch = Charger::fresh_on("051.4");
    let port = ch.api().port;
    let connect = || TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut first = connect();
    assert_eq!(wcch_on(&mut first), 1, "the asking connection itself");
    let mut others = Vec::new();
    for i in 0..3 {
        let mut s = connect();
        assert_eq!(wcch_on(&mut s), i + 2, "one more open");
        others.push(s);
    }
    assert_eq!(wcch_on(&mut first), 4);
    drop(others);
    // closing is noticed asynchronously: poll (bounded)
    let end = Instant::now() + Duration::from_secs(10);
    let mut n = wcch_on(&mut first);
    while n != 1 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
        n = wcch_on(&mut first);
    }
    assert_eq!(n, 1, "the closed connections are no longer counted");
}
