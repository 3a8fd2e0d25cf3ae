//! Connection limits (#11 point 2): a slow head is answered 408 and closed
//! after `--header-timeout`, an idle keep-alive connection is closed after
//! `--idle-timeout`, and at most `--max-connections` are open: a new client
//! closes the least recently used idle one (ESP-IDF httpd's LRU purge), so a
//! normal client is answered while thousands of idle sockets knock, and the
//! memory of a connection storm is given back when it ends.

use crate::common::Charger;
use crate::common::raw;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sockets the process has open (its listener included).
fn socket_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| {
            dir.filter_map(Result::ok)
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|l| l.to_string_lossy().starts_with("socket:"))
                })
                .count()
        })
        .unwrap_or(0)
}

/// Polls `socket_fds(pid)` until `ok` holds for it or 10 s pass; returns
/// the last count (the caller asserts on it). Closing is asynchronous: a
/// fixed sleep is too short on a loaded machine.
fn socket_fds_until(pid: u32, ok: impl Fn(usize) -> bool) -> usize {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let n = socket_fds(pid);
        if ok(n) || Instant::now() >= end {
            return n;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The socket count once it has settled: the same for 500 ms (at most 10 s).
fn settled_socket_fds(pid: u32) -> usize {
    let end = Instant::now() + Duration::from_secs(10);
    let mut last = socket_fds(pid);
    let mut since = Instant::now();
    while Instant::now() < end && since.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(50));
        let n = socket_fds(pid);
        if n != last {
            last = n;
            since = Instant::now();
        }
    }
    last
}

/// Reads exactly one answer (head and `Content-Length` body) from a
/// keep-alive connection, however the bytes are split across reads.
fn read_one_answer(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut byte).expect("an answer within 10 s"),
            1,
            "closed"
        );
        got.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&got).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no content-length: {head}"));
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).expect("the body within 10 s");
    got.extend_from_slice(&body);
    got
}

/// Resident memory of the process, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Reads until the server closes (or `limit` passes): what came and when the
/// connection ended (`None`: still open at `limit`).
fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while start.elapsed() < limit {
        match s.read(&mut chunk) {
            Ok(0) => return (got, Some(start.elapsed())),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (got, Some(start.elapsed())),
        }
    }
    (got, None)
}

/// Reads until an answer's head has come or the server closed (10 s at
/// most): what came, and whether the connection was closed.
fn read_until_closed_or_answered(s: &mut TcpStream) -> (Vec<u8>, bool) {
    let end = Instant::now() + Duration::from_secs(10);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while Instant::now() < end && head_end(&got).is_none() {
        match s.read(&mut chunk) {
            Ok(0) => return (got, true),
            Ok(n) => got.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return (got, true),
        }
    }
    (got, false)
}

fn head_end(got: &[u8]) -> Option<usize> {
    got.windows(4).position(|w| w == b"\r\n\r\n")
}

const KEEP_ALIVE_REQUEST: &[u8] = b"GET /api/status?filter=amp HTTP/1.1\r\nHost: x\r\n\r\n";

/// A normal client's request on a new connection: answered, and how fast.
fn normal_request(port: u16) -> Duration {
    let start = Instant::now();
    let r = raw::send(port, &raw::get_request(b"/api/status?filter=alw"), false);
    assert_eq!(r.status, Some(200), "{}", String::from_utf8_lossy(&r.all));
    assert!(r.text().starts_with("{\"alw\":"), "{}", r.text());
    start.elapsed()
}

#[test]
fn slowloris_head_is_answered_408_and_closed_after_the_header_timeout() {
    let ch = Charger::fresh_with(&["--header-timeout", "1s"]);
    let mut s = TcpStream::connect(("127.0.0.1", ch.port)).unwrap();
    s.write_all(b"GET /api/status HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut writer = s.try_clone().unwrap();
    // one more header byte every 200 ms, for longer than the test waits
    let trickle = std::thread::spawn(move || {
        for _ in 0..60 {
            std::thread::sleep(Duration::from_millis(200));
            if writer.write_all(b"X").is_err() {
                break;
            }
        }
    });
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(8));
    let text = String::from_utf8_lossy(&got);
    let closed = closed.unwrap_or_else(|| panic!("a slow head kept the connection open: {text}"));
    assert!(closed < Duration::from_secs(5), "closed after {closed:?}");
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("content-type: text/html"), "{text}");
    assert!(text.ends_with("Server closed this connection"), "{text}");
    drop(s);
    let _ = trickle.join();
    // a normal client is not affected
    normal_request(ch.port);
}

#[test]
fn idle_keepalive_connections_are_closed_after_the_idle_timeout() {
    let ch = Charger::fresh_with(&["--idle-timeout", "1s"]);
    // a connection that never sends anything
    let mut silent = TcpStream::connect(("127.0.0.1", ch.port)).unwrap();
    // a keep-alive connection after one answered request
    let mut kept = TcpStream::connect(("127.0.0.1", ch.port)).unwrap();
    kept.write_all(KEEP_ALIVE_REQUEST).unwrap();
    let (got, closed) = read_until_closed(&mut kept, Duration::from_secs(8));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let closed = closed.unwrap_or_else(|| panic!("an idle keep-alive connection stayed open"));
    assert!(closed < Duration::from_secs(5), "closed after {closed:?}");
    let (got, closed) = read_until_closed(&mut silent, Duration::from_secs(8));
    assert!(got.is_empty(), "{}", String::from_utf8_lossy(&got));
    assert!(closed.is_some(), "a silent connection stayed open");
    // a connection that keeps asking stays open across the timeout (pauses
    // of 250 ms against a 1 s timeout: room for a loaded machine)
    let mut busy = TcpStream::connect(("127.0.0.1", ch.port)).unwrap();
    for i in 0..10 {
        busy.write_all(KEEP_ALIVE_REQUEST)
            .unwrap_or_else(|e| panic!("request #{i}: {e}"));
        let answer = read_one_answer(&mut busy);
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "request #{i}: {}",
            String::from_utf8_lossy(&answer)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_full_listener_closes_the_least_recently_used_and_answers_a_new_client() {
    let ch = Charger::fresh_with(&["--max-connections", "8"]);
    let pid = ch.pid();
    let base = settled_socket_fds(pid);
    // the first connection is answered before the burst starts, so it is
    // strictly the least recently used one when the cap is first reached
    // (in a burst, the first request can be answered last on a loaded
    // machine and then be the most recently used)
    let mut first = TcpStream::connect(("127.0.0.1", ch.port)).unwrap();
    first.write_all(KEEP_ALIVE_REQUEST).unwrap();
    let answer = read_one_answer(&mut first);
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    let mut idle = vec![first];
    for _ in 1..40 {
        let mut s = TcpStream::connect(("127.0.0.1", ch.port)).unwrap();
        s.write_all(KEEP_ALIVE_REQUEST).unwrap();
        idle.push(s);
    }
    // every connection was accepted (and the oldest closed) once all 40
    // are answered or closed; the count then holds the cap
    for (i, s) in idle.iter_mut().enumerate().skip(1) {
        let (got, closed) = read_until_closed_or_answered(s);
        assert!(
            closed || got.starts_with(b"HTTP/1.1 200"),
            "connection #{i}: neither answered nor closed"
        );
    }
    let open = socket_fds_until(pid, |n| n <= base + 8);
    assert!(
        open <= base + 8,
        "{open} sockets open (listener {base} + at most 8 connections)"
    );
    let took = normal_request(ch.port);
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    // the first connection was closed to make room long ago; the listener
    // kept some connections (at most its cap) rather than closing them all.
    // Which ones of the burst survive depends on the order in which their
    // answers were sent (least recently *used*, not least recently opened).
    let (_, first) = read_until_closed(&mut idle[0], Duration::from_secs(10));
    assert!(
        first.is_some(),
        "the least recently used connection is closed"
    );
    // the purge for the new client has reached the sockets (closed on the
    // server's side): what is not closed now stays open
    let open = socket_fds_until(pid, |n| n <= base + 8);
    assert!(open <= base + 8, "{open} sockets open after the new client");
    let still_open = idle[1..]
        .iter_mut()
        .map(|s| read_until_closed(s, Duration::from_millis(150)).1)
        .filter(Option::is_none)
        .count();
    assert!(
        (1..=8).contains(&still_open),
        "{still_open} of the 40 idle connections are open (cap 8)"
    );
}

#[test]
fn two_thousand_idle_sockets_neither_exhaust_nor_starve_and_memory_comes_back() {
    let _ = rlimit::increase_nofile_limit(8192);
    let ch = Charger::fresh();
    let pid = ch.pid();
    for _ in 0..20 {
        normal_request(ch.port);
    }
    let base = settled_socket_fds(pid);
    let idle_rss = rss_kib(pid);
    let mut storm = Vec::new();
    for _ in 0..2000 {
        match TcpStream::connect(("127.0.0.1", ch.port)) {
            Ok(mut s) => {
                let _ = s.write_all(KEEP_ALIVE_REQUEST);
                storm.push(s);
            }
            Err(e) => panic!("connect #{} failed: {e}", storm.len()),
        }
    }
    // every connection of the storm is accepted: answered or closed
    for (i, s) in storm.iter_mut().enumerate() {
        let (got, closed) = read_until_closed_or_answered(s);
        assert!(
            closed || got.starts_with(b"HTTP/1.1 200"),
            "storm connection #{i}: neither answered nor closed"
        );
    }
    let cap = goe_charger::http::conn::DEFAULT_MAX_CONNECTIONS;
    // the server accepts (and purges) the storm asynchronously: wait until
    // it holds the cap, at most 10 s
    let open = socket_fds_until(pid, |n| n <= base + cap + 2);
    let storm_rss = rss_kib(pid);
    assert!(
        open <= base + cap + 2,
        "{open} sockets open during the storm (cap {cap})"
    );
    let took = normal_request(ch.port);
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    drop(storm);
    // the memory of the storm is given back (generous margin)
    let margin = (idle_rss / 3).max(4 * 1024);
    let end = Instant::now() + Duration::from_secs(10);
    let mut after = rss_kib(pid);
    while after > idle_rss + margin && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(200));
        after = rss_kib(pid);
    }
    eprintln!("VmRSS idle {idle_rss} KiB, storm {storm_rss} KiB, after {after} KiB");
    assert!(
        after <= idle_rss + margin,
        "VmRSS {after} KiB after the storm, idle {idle_rss} KiB (storm {storm_rss} KiB)"
    );
    normal_request(ch.port);
}
