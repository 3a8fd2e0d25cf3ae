//! A raw TCP HTTP/1.1 client for requests no ordinary client would send
//! (binary bytes in the request line, truncated requests, …).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// What came back on the socket.
#[derive(Debug, Clone)]
pub struct RawResp {
    /// Status code, `None` when the server closed without answering.
    pub status: Option<u16>,
    /// Header lines (name lower-cased, value).
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked when chunked).
    pub body: Vec<u8>,
    /// Everything received.
    pub all: Vec<u8>,
}

impl RawResp {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` as is, half-closes when `close_write`, and reads until the
/// server closes the connection or one complete response has arrived.
/// Panics when nothing happens within 30 s (a hang).
pub fn send(port: u16, request: &[u8], close_write: bool) -> RawResp {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    // The server may answer (e.g. 414/431) and close before reading everything:
    // a failing write is not an error here.
    let _ = s.write_all(request);
    if close_write {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut all = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                all.extend_from_slice(&chunk[..n]);
                if complete(&all) {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!(
                    "no complete answer within 30 s (hang) to {:?}; got {:?}",
                    String::from_utf8_lossy(&request[..request.len().min(200)]),
                    String::from_utf8_lossy(&all)
                )
            }
            // reset by peer after an early answer: keep what we have
            Err(_) => break,
        }
    }
    parse(all)
}

/// Position of the end of the header block.
fn header_end(all: &[u8]) -> Option<usize> {
    all.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

fn complete(all: &[u8]) -> bool {
    let Some(end) = header_end(all) else {
        return false;
    };
    let head = String::from_utf8_lossy(&all[..end]).to_ascii_lowercase();
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        return all.len() >= end + len;
    }
    if head.contains("transfer-encoding: chunked") {
        return all.ends_with(b"0\r\n\r\n");
    }
    false // read to close
}

fn parse(all: Vec<u8>) -> RawResp {
    let Some(end) = header_end(&all) else {
        return RawResp {
            status: None,
            headers: Vec::new(),
            body: Vec::new(),
            all,
        };
    };
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = all[end..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    if chunked {
        body = dechunk(&body);
    } else if let Some(len) = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
    {
        body.truncate(len);
    }
    RawResp {
        status,
        headers,
        body,
        all,
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(p) = b.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&b[..p]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        if size == 0 || b.len() < p + 2 + size {
            break;
        }
        out.extend_from_slice(&b[p + 2..p + 2 + size]);
        b = &b[(p + 4 + size).min(b.len())..];
    }
    out
}

/// A complete GET request for `target` (bytes as given) with `Connection: close`.
pub fn get_request(target: &[u8]) -> Vec<u8> {
    let mut r = b"GET ".to_vec();
    r.extend_from_slice(target);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    r
}
