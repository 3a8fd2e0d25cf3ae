//! The request-head normalizer in front of hyper: pure functions over bytes.
//!
//! curl sends what the user typed, so `/api/set?fna="garage"` or
//! `/api/status?filter=["rfb","alw"]` arrive with raw `"`, `<`, `>`, spaces
//! or UTF-8 in the request target. The real unit's ESP-IDF server takes them;
//! hyper (through `http::Uri`) answers 400 with an empty body. [`Framer`]
//! follows the request framing of a connection byte by byte and, at the start
//! of each request, checks the head:
//!
//! - a head hyper accepts as it is passes unchanged (one scan, no copy);
//! - a head whose request target holds bytes `http::Uri` refuses gets them
//!   percent-encoded, exactly as if the client had sent `%22` for `"`: the
//!   query decodes to the same pairs;
//! - a head nobody can accept (control bytes, NUL, a URI over
//!   [`MAX_URI_LEN`], headers over [`MAX_HEAD_LEN`], bad framing headers) is
//!   refused with a [`Refusal`], which the server answers in the ESP-IDF
//!   httpd's style (status, text body, `Content-Type`) and then closes.
//!
//! The rules for "hyper accepts" are httparse's (the same crate and
//! configuration hyper uses) plus the checks of `http::Uri` and hyper's
//! framing rules (`Content-Length`, `Transfer-Encoding`); the property tests
//! below feed arbitrary bytes through the normalizer and then through hyper.

/// Longest request target accepted, in bytes as received; longer ones get
/// 414 like the ESP-IDF server.
pub const MAX_URI_LEN: usize = 4096;

/// Longest request head (request line plus headers) accepted; longer ones
/// get 431 "Header fields are too long".
pub const MAX_HEAD_LEN: usize = 16 * 1024;

/// Most header lines in one request (hyper's own limit).
pub const MAX_HEADERS: usize = 100;

/// Slack for the method, spaces and version around a target of
/// [`MAX_URI_LEN`] bytes before an unfinished request line counts as too long.
const LINE_SLACK: usize = 40;

/// Why a request head is refused. Each maps to the ESP-IDF httpd's answer
/// (`httpd_resp_send_err`): status and text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Control bytes, NUL, malformed request line or headers, bad framing.
    BadRequest,
    /// The head did not arrive within the header timeout.
    Timeout,
    /// The request target is longer than [`MAX_URI_LEN`].
    UriTooLong,
    /// The head is longer than [`MAX_HEAD_LEN`] or has too many headers.
    HeaderTooLarge,
    /// Not HTTP/1.0 or HTTP/1.1.
    VersionNotSupported,
}

impl Refusal {
    /// The HTTP status of the answer.
    pub const fn status(self) -> u16 {
        match self {
            Refusal::BadRequest => 400,
            Refusal::Timeout => 408,
            Refusal::UriTooLong => 414,
            Refusal::HeaderTooLarge => 431,
            Refusal::VersionNotSupported => 505,
        }
    }

    /// The ESP-IDF httpd's text for the status.
    pub const fn text(self) -> &'static str {
        match self {
            Refusal::BadRequest => "Bad request syntax",
            Refusal::Timeout => "Server closed this connection",
            Refusal::UriTooLong => "URI is too long",
            Refusal::HeaderTooLarge => "Header fields are too long",
            Refusal::VersionNotSupported => "HTTP version not supported by server",
        }
    }

    /// All refusals (tests, docs).
    pub const ALL: [Refusal; 5] = [
        Refusal::BadRequest,
        Refusal::Timeout,
        Refusal::UriTooLong,
        Refusal::HeaderTooLarge,
        Refusal::VersionNotSupported,
    ];
}

/// How the body of an accepted request is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body (no `Content-Length`, or 0).
    None,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// The verdict on the bytes at the start of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// The head is not complete yet (and not over a limit).
    Incomplete,
    /// The first `len` bytes are a head hyper accepts as it is.
    Pass {
        /// Length of the head.
        len: usize,
        /// The body that follows.
        body: Body,
    },
    /// The first `len` bytes are a head that becomes `head` (request target
    /// percent-encoded).
    Rewrite {
        /// Length of the head as received.
        len: usize,
        /// The normalized head.
        head: Vec<u8>,
        /// The body that follows.
        body: Body,
    },
    /// The head is refused.
    Refuse(Refusal),
}

// Byte classes of a request target, as `http::Uri` (1.x) scans it.
const PATH_OK: u8 = 1;
const QUERY_OK: u8 = 2;
const TOKEN: u8 = 4;

const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        // `http::uri::PathAndQuery`: bytes valid in the path ('?' and '#'
        // are handled by the scanner) and in the query.
        if matches!(b, 0x21 | 0x24..=0x3B | 0x3D | 0x40..=0x5F | 0x61..=0x7A | 0x7C | 0x7E)
            || matches!(b, b'"' | b'{' | b'}')
        {
            c |= PATH_OK;
        }
        if matches!(b, 0x21 | 0x24..=0x3B | 0x3D | 0x3F..=0x7E) {
            c |= QUERY_OK;
        }
        // RFC 9110 tchar (httparse's method and header-name bytes)
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            )
        {
            c |= TOKEN;
        }
        t[i] = c;
        i += 1;
    }
    t
}

static CLASS: [u8; 256] = classes();

fn is_control(b: u8) -> bool {
    b < 0x20 || b == 0x7F
}

/// Looks at `input`, which starts at the beginning of a request (possibly
/// after empty lines), and says what to do with it.
pub fn analyze(input: &[u8]) -> Head {
    // httparse skips empty lines before the request line
    let mut start = 0;
    while start < input.len() {
        match input[start] {
            b'\n' => start += 1,
            b'\r' => match input.get(start + 1) {
                Some(b'\n') => start += 2,
                Some(_) => return Head::Refuse(Refusal::BadRequest),
                None => return incomplete(input),
            },
            _ => break,
        }
    }
    let rest = &input[start..];
    let Some(nl) = memchr::memchr(b'\n', rest) else {
        if rest.len() > MAX_URI_LEN + LINE_SLACK {
            return Head::Refuse(Refusal::UriTooLong);
        }
        return incomplete(input);
    };
    let line_end = start + nl + 1;
    let line = &rest[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (rewritten, http11) = match check_line(line) {
        Ok(http11) => (None, http11),
        Err(LineIssue::Refuse(r)) => return Head::Refuse(r),
        Err(LineIssue::Rewrite) => match rewrite_line(line) {
            Ok((l, http11)) => (Some(l), http11),
            Err(r) => return Head::Refuse(r),
        },
    };
    let (headers_len, body) = match check_headers(&input[line_end..], http11) {
        Ok(Some(v)) => v,
        Ok(None) => return incomplete(input),
        Err(r) => return Head::Refuse(r),
    };
    let len = line_end + headers_len;
    if len > MAX_HEAD_LEN {
        return Head::Refuse(Refusal::HeaderTooLarge);
    }
    match rewritten {
        None => Head::Pass { len, body },
        Some(mut head) => {
            head.extend_from_slice(&input[line_end..len]);
            Head::Rewrite { len, head, body }
        }
    }
}

fn incomplete(input: &[u8]) -> Head {
    if input.len() > MAX_HEAD_LEN {
        Head::Refuse(Refusal::HeaderTooLarge)
    } else {
        Head::Incomplete
    }
}

enum LineIssue {
    Refuse(Refusal),
    Rewrite,
}

/// The fast check of a request line (without its line end): `Ok(http11)` when
/// hyper takes it as it is.
fn check_line(line: &[u8]) -> Result<bool, LineIssue> {
    let Some(sp) = memchr::memchr(b' ', line) else {
        return Err(LineIssue::Refuse(Refusal::BadRequest));
    };
    if line.len() < sp + 11 {
        return Err(LineIssue::Rewrite);
    }
    let (version, http11) = match &line[line.len() - 9..] {
        b" HTTP/1.1" => (line.len() - 9, true),
        b" HTTP/1.0" => (line.len() - 9, false),
        _ => return Err(LineIssue::Rewrite),
    };
    let method = &line[..sp];
    let target = &line[sp + 1..version];
    if method.is_empty() || !method.iter().all(|&b| CLASS[b as usize] & TOKEN != 0) {
        return Err(LineIssue::Refuse(Refusal::BadRequest));
    }
    if target.len() > MAX_URI_LEN {
        return Err(LineIssue::Refuse(Refusal::UriTooLong));
    }
    if target.first() != Some(&b'/') {
        return Err(LineIssue::Rewrite);
    }
    let mut mask = PATH_OK;
    for &b in target {
        if b == b'?' && mask == PATH_OK {
            mask = QUERY_OK;
        } else if CLASS[b as usize] & mask == 0 {
            return Err(LineIssue::Rewrite);
        }
    }
    Ok(http11)
}

/// The request line with its target percent-encoded where `http::Uri` would
/// refuse a byte, plus whether it is HTTP/1.1.
fn rewrite_line(line: &[u8]) -> Result<(Vec<u8>, bool), Refusal> {
    let sp = memchr::memchr(b' ', line).ok_or(Refusal::BadRequest)?;
    let last = memchr::memrchr(b' ', line).ok_or(Refusal::BadRequest)?;
    let method = &line[..sp];
    if method.is_empty() || !method.iter().all(|&b| CLASS[b as usize] & TOKEN != 0) {
        return Err(Refusal::BadRequest);
    }
    if last == sp {
        return Err(Refusal::BadRequest); // no version (HTTP/0.9)
    }
    let version = &line[last + 1..];
    let http11 = match version {
        b"HTTP/1.1" => true,
        b"HTTP/1.0" => false,
        v if v.starts_with(b"HTTP/") && !v.iter().any(|&b| is_control(b)) => {
            return Err(Refusal::VersionNotSupported);
        }
        _ => return Err(Refusal::BadRequest),
    };
    let target = &line[sp + 1..last];
    if target.len() > MAX_URI_LEN {
        return Err(Refusal::UriTooLong);
    }
    if target.is_empty() || target.iter().any(|&b| is_control(b)) {
        return Err(Refusal::BadRequest);
    }
    let mut out = Vec::with_capacity(line.len() + 2 + target.len() * 2);
    out.extend_from_slice(method);
    out.push(b' ');
    let target_start = out.len();
    encode_target(target, &mut out);
    let encoded = &out[target_start..];
    if encoded[0] != b'/' && encoded != b"*" && http::Uri::try_from(encoded).is_err() {
        return Err(Refusal::BadRequest);
    }
    out.push(b' ');
    out.extend_from_slice(version);
    out.extend_from_slice(b"\r\n");
    Ok((out, http11))
}

/// Appends `target` with every byte `http::Uri` refuses percent-encoded: in
/// the path `<`, `>`, `` ` ``, space and non-ASCII bytes; in the query also
/// `"` and `#` (a raw `#` in a query is a literal, not a fragment).
pub fn encode_target(target: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut in_path = true;
    for &b in target {
        let keep = if in_path {
            match b {
                b'?' => {
                    in_path = false;
                    true
                }
                b'#' => true,
                _ => CLASS[b as usize] & PATH_OK != 0,
            }
        } else {
            CLASS[b as usize] & QUERY_OK != 0
        };
        if keep {
            out.push(b);
        } else {
            out.extend_from_slice(&[b'%', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
        }
    }
}

/// Checks the header block (everything after the request line): `Ok(None)`
/// when incomplete, else its length (with the final empty line) and the
/// framing of the body, by hyper's rules.
fn check_headers(block: &[u8], http11: bool) -> Result<Option<(usize, Body)>, Refusal> {
    let mut small = [httparse::EMPTY_HEADER; 24];
    let mut large;
    let parsed = match httparse::parse_headers(block, &mut small) {
        Err(httparse::Error::TooManyHeaders) => {
            large = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
            httparse::parse_headers(block, &mut large)
        }
        other => other,
    };
    let (len, headers) = match parsed {
        Ok(httparse::Status::Complete(v)) => v,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Refusal::HeaderTooLarge),
        Err(_) => return Err(Refusal::BadRequest),
    };
    let mut length: Option<u64> = None;
    let (mut te, mut chunked) = (false, false);
    for h in headers {
        if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if !http11 {
                return Err(Refusal::BadRequest);
            }
            te = true;
            chunked = std::str::from_utf8(h.value)
                .ok()
                .filter(|s| s.bytes().all(|b| b == b'\t' || (0x20..0x7F).contains(&b)))
                .and_then(|s| s.rsplit(',').next())
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if h.name.eq_ignore_ascii_case("content-length") && !te {
            let n = digits(h.value).ok_or(Refusal::BadRequest)?;
            if length.is_some_and(|prev| prev != n) {
                return Err(Refusal::BadRequest);
            }
            length = Some(n);
        }
    }
    if te && !chunked {
        return Err(Refusal::BadRequest);
    }
    let body = match (chunked, length) {
        (true, _) => Body::Chunked,
        (false, Some(0) | None) => Body::None,
        (false, Some(n)) => Body::Length(n),
    };
    Ok(Some((len, body)))
}

/// A `Content-Length` value: decimal digits only, below hyper's maximum.
fn digits(v: &[u8]) -> Option<u64> {
    if v.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in v {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (n <= u64::MAX - 2).then_some(n)
}

/// Where a connection's byte stream is: in a head, a body, or past what can
/// be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Head,
    Length(u64),
    Chunked(Chunk),
    /// A chunked body that did not parse: hyper fails it and closes; follow
    /// nothing more.
    Opaque,
}

/// Position inside a chunked body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In the hex size (`digits` so far, saturating: only `> 0` matters).
    Size { size: u64, digits: u8 },
    /// In a chunk extension, up to the line end.
    Ext { size: u64 },
    /// After the size line's CR.
    SizeLf { size: u64 },
    /// In the data.
    Data(u64),
    /// After the data: CR.
    DataCr,
    /// After the data: LF.
    DataLf,
    /// In the trailers; `empty` while the current line has only had a CR.
    Trailer { empty: bool },
}

/// What to do with the bytes at the start of the input given to
/// [`Framer::step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The first `n` bytes pass unchanged.
    Pass(usize),
    /// An incomplete head: keep the input and come back with more.
    Hold,
    /// Replace the first `consumed` bytes (a head) with `head`.
    Replace {
        /// Bytes of the input replaced.
        consumed: usize,
        /// The normalized head.
        head: Vec<u8>,
    },
    /// Refuse the head: answer, then close the connection.
    Refuse(Refusal),
}

/// Follows the framing of one connection's request stream.
#[derive(Debug, Clone)]
pub struct Framer {
    phase: Phase,
}

impl Default for Framer {
    fn default() -> Self {
        Framer { phase: Phase::Head }
    }
}

impl Framer {
    /// Whether the stream is at the start of a request (between messages).
    pub fn at_head(&self) -> bool {
        self.phase == Phase::Head
    }

    /// Whether the stream is inside a request body.
    pub fn in_body(&self) -> bool {
        matches!(self.phase, Phase::Length(_) | Phase::Chunked(_))
    }

    /// Decides about the start of `input` (not empty).
    pub fn step(&mut self, input: &[u8]) -> Step {
        match self.phase {
            Phase::Head => match analyze(input) {
                Head::Incomplete => Step::Hold,
                Head::Refuse(r) => Step::Refuse(r),
                Head::Pass { len, body } => {
                    self.enter(body);
                    Step::Pass(len)
                }
                Head::Rewrite { len, head, body } => {
                    self.enter(body);
                    Step::Replace {
                        consumed: len,
                        head,
                    }
                }
            },
            Phase::Length(n) => {
                let k = n.min(input.len() as u64);
                self.phase = if k == n {
                    Phase::Head
                } else {
                    Phase::Length(n - k)
                };
                Step::Pass(k as usize)
            }
            Phase::Chunked(c) => {
                let (n, next) = chunked(c, input);
                self.phase = next;
                Step::Pass(n)
            }
            Phase::Opaque => Step::Pass(input.len()),
        }
    }

    fn enter(&mut self, body: Body) {
        self.phase = match body {
            Body::None => Phase::Head,
            Body::Length(n) => Phase::Length(n),
            Body::Chunked => Phase::Chunked(Chunk::Size { size: 0, digits: 0 }),
        };
    }
}

/// Runs the chunked-body state machine over `input`; returns how many bytes
/// belong to the body and the phase after them.
fn chunked(mut c: Chunk, input: &[u8]) -> (usize, Phase) {
    let mut i = 0;
    while i < input.len() {
        if let Chunk::Data(n) = c {
            let k = n.min((input.len() - i) as u64);
            i += k as usize;
            c = if k == n {
                Chunk::DataCr
            } else {
                Chunk::Data(n - k)
            };
            continue;
        }
        let b = input[i];
        i += 1;
        c = match c {
            Chunk::Data(n) => Chunk::Data(n),
            Chunk::Size { size, digits } => match b {
                b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                    // hyper takes any number of leading zeros and fails only
                    // a size that overflows a u64: the same rule here
                    let d = (b as char).to_digit(16).unwrap_or(0);
                    let Some(size) = size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(u64::from(d)))
                    else {
                        return (input.len(), Phase::Opaque);
                    };
                    Chunk::Size {
                        size,
                        digits: digits.saturating_add(1),
                    }
                }
                b';' | b' ' | b'\t' if digits > 0 => Chunk::Ext { size },
                b'\r' if digits > 0 => Chunk::SizeLf { size },
                b'\n' if digits > 0 => size_done(size),
                _ => return (input.len(), Phase::Opaque),
            },
            Chunk::Ext { size } => match b {
                b'\r' => Chunk::SizeLf { size },
                b'\n' => size_done(size),
                _ => Chunk::Ext { size },
            },
            Chunk::SizeLf { size } => match b {
                b'\n' => size_done(size),
                _ => return (input.len(), Phase::Opaque),
            },
            Chunk::DataCr => match b {
                b'\r' => Chunk::DataLf,
                b'\n' => Chunk::Size { size: 0, digits: 0 },
                _ => return (input.len(), Phase::Opaque),
            },
            Chunk::DataLf => match b {
                b'\n' => Chunk::Size { size: 0, digits: 0 },
                _ => return (input.len(), Phase::Opaque),
            },
            Chunk::Trailer { empty } => match b {
                b'\n' if empty => return (i, Phase::Head),
                b'\n' => Chunk::Trailer { empty: true },
                b'\r' => Chunk::Trailer { empty },
                _ => Chunk::Trailer { empty: false },
            },
        };
    }
    (input.len(), Phase::Chunked(c))
}

fn size_done(size: u64) -> Chunk {
    if size == 0 {
        Chunk::Trailer { empty: true }
    } else {
        Chunk::Data(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngAlgorithm, RngSeed};

    fn get(target: &[u8]) -> Vec<u8> {
        let mut r = b"GET ".to_vec();
        r.extend_from_slice(target);
        r.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
        r
    }

    /// The request target after normalization, or the refusal.
    fn target_of(request: &[u8]) -> Result<Vec<u8>, Refusal> {
        let head = match analyze(request) {
            Head::Pass { len, .. } => request[..len].to_vec(),
            Head::Rewrite { head, .. } => head,
            Head::Refuse(r) => return Err(r),
            Head::Incomplete => panic!("incomplete: {:?}", String::from_utf8_lossy(request)),
        };
        let mut headers = [httparse::EMPTY_HEADER; 8];
        let mut req = httparse::Request::new(&mut headers);
        let status = req
            .parse(&head)
            .expect("httparse takes the normalized head");
        assert!(status.is_complete());
        let path = req.path.unwrap().as_bytes().to_vec();
        http::Uri::try_from(path.as_slice()).expect("http::Uri takes the normalized target");
        Ok(path)
    }

    #[test]
    fn clean_heads_pass_unchanged() {
        let r = get(b"/api/status?filter=alw,car,eto,nrg,wh,trx,cards");
        assert_eq!(
            analyze(&r),
            Head::Pass {
                len: r.len(),
                body: Body::None
            }
        );
        // ``{}|\^` are accepted by http::Uri in a query: no rewrite
        let r = get(b"/api/set?sch_week={\"control\":1}&x=a|b^c`d\\e");
        assert!(matches!(analyze(&r), Head::Rewrite { .. }), "the quote");
        let r = get(b"/api/set?clp=[6,10,12]&x={a}|b^c`d\\e");
        assert!(matches!(analyze(&r), Head::Pass { .. }));
    }

    #[test]
    fn raw_bytes_in_the_query_are_percent_encoded() {
        let cases: [(&[u8], &[u8]); 6] = [
            (
                b"/api/set?amp=10&fna=\"garage\"",
                b"/api/set?amp=10&fna=%22garage%22",
            ),
            (
                b"/api/status?filter=[\"rfb\",\"alw\",\"amp\"]",
                b"/api/status?filter=[%22rfb%22,%22alw%22,%22amp%22]",
            ),
            (
                b"/api/set?ids={\"pGrid\":-1000}",
                b"/api/set?ids={%22pGrid%22:-1000}",
            ),
            (
                b"/api/set?fna=\"a b<c>#d\"",
                b"/api/set?fna=%22a%20b%3Cc%3E%23d%22",
            ),
            (
                "/api/set?fna=\"ä\"".as_bytes(),
                b"/api/set?fna=%22%C3%A4%22",
            ),
            (b"/a<b>?x=\xff", b"/a%3Cb%3E?x=%FF"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                target_of(&get(raw)).map(|t| String::from_utf8(t).unwrap()),
                Ok(String::from_utf8(want.to_vec()).unwrap())
            );
        }
    }

    #[test]
    fn unacceptable_heads_are_refused_in_httpd_style() {
        let long = format!("/api/status?filter={}", "a".repeat(MAX_URI_LEN));
        let cases: Vec<(Vec<u8>, Refusal)> = vec![
            (get(b"/api/status?filter=al\x01w"), Refusal::BadRequest),
            (get(b"/api/set?lbr=\x001"), Refusal::BadRequest),
            (get(long.as_bytes()), Refusal::UriTooLong),
            // no line end yet
            (
                format!("GET {long}{}", "a".repeat(100)).into_bytes(),
                Refusal::UriTooLong,
            ),
            (
                b"GET / HTTP/2.0\r\n\r\n".to_vec(),
                Refusal::VersionNotSupported,
            ),
            (b"GET /\r\n\r\n".to_vec(), Refusal::BadRequest),
            (b"G(T / HTTP/1.1\r\n\r\n".to_vec(), Refusal::BadRequest),
            (
                b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                b"GET / HTTP/1.1\r\nBad Name: a\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                b"GET / HTTP/1.1\r\n folded: a\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "h".repeat(MAX_HEAD_LEN)).into_bytes(),
                Refusal::HeaderTooLarge,
            ),
            (
                format!(
                    "GET / HTTP/1.1\r\n{}\r\n",
                    "a: b\r\n".repeat(MAX_HEADERS + 1)
                )
                .into_bytes(),
                Refusal::HeaderTooLarge,
            ),
            (
                b"\x16\x03\x01\x02\x00\x01\x00\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
                Refusal::BadRequest,
            ),
        ];
        for (request, want) in cases {
            assert_eq!(
                analyze(&request),
                Head::Refuse(want),
                "{:?}",
                String::from_utf8_lossy(&request[..request.len().min(80)])
            );
        }
        assert!(Refusal::ALL.iter().all(|r| !r.text().is_empty()));
    }

    #[test]
    fn framing_follows_bodies_and_pipelines() {
        let mut f = Framer::default();
        let stream = b"POST /sim/plug HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /api/status?filter=\"amp\" HTTP/1.1\r\n\r\n";
        let second = b"GET /api/status?filter=\"amp\" HTTP/1.1\r\n\r\n".len();
        let head1 = stream.len() - 5 - second;
        assert_eq!(f.step(stream), Step::Pass(head1));
        assert!(f.in_body());
        assert_eq!(f.step(&stream[head1..]), Step::Pass(5));
        assert!(f.at_head());
        match f.step(&stream[head1 + 5..]) {
            Step::Replace { consumed, head } => {
                assert_eq!(consumed, second);
                assert!(head.starts_with(b"GET /api/status?filter=%22amp%22 HTTP/1.1\r\n"));
            }
            other => panic!("{other:?}"),
        }
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\nGET";
        let mut f = Framer::default();
        let Step::Pass(h) = f.step(chunked) else {
            panic!()
        };
        let mut pos = h;
        // byte by byte through the chunked body
        while !f.at_head() {
            let Step::Pass(n) = f.step(&chunked[pos..pos + 1]) else {
                panic!()
            };
            pos += n;
        }
        assert_eq!(&chunked[pos..], b"GET");
        assert_eq!(f.step(&chunked[pos..]), Step::Hold);
    }

    /// Steps `stream` through `f` byte by byte until it is at a head again;
    /// returns where that head starts.
    fn through_body(f: &mut Framer, stream: &[u8], mut pos: usize) -> usize {
        while !f.at_head() {
            assert!(pos < stream.len(), "the framer lost the body's end");
            let Step::Pass(n) = f.step(&stream[pos..pos + 1]) else {
                panic!("a body byte is not passed")
            };
            pos += n;
        }
        pos
    }

    #[test]
    fn chunk_sizes_with_leading_zeros_are_followed_like_hyper() {
        // hyper 1.x takes any number of leading zeros (it checks overflow
        // only); a framer that gave up on them passed every later head
        // unnormalized and without timeouts
        let next = b"GET /api/status?filter=\"amp\" HTTP/1.1\r\n\r\n";
        for size in [
            "00000000000000001",
            "0000000000000000000000000000000001",
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001",
        ] {
            let mut stream = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            stream.extend_from_slice(format!("{size}\r\nx\r\n000\r\n\r\n").as_bytes());
            let body_end = stream.len();
            stream.extend_from_slice(next);
            let mut f = Framer::default();
            let Step::Pass(h) = f.step(&stream) else {
                panic!()
            };
            assert!(f.in_body());
            assert_eq!(through_body(&mut f, &stream, h), body_end, "{size}");
            // the pipelined head is still normalized
            match f.step(&stream[body_end..]) {
                Step::Replace { consumed, head } => {
                    assert_eq!(consumed, next.len());
                    assert!(head.starts_with(b"GET /api/status?filter=%22amp%22 HTTP/1.1\r\n"));
                }
                other => panic!("{size}: {other:?}"),
            }
            // and in one step as well
            let mut f = Framer::default();
            let Step::Pass(h) = f.step(&stream) else {
                panic!()
            };
            assert_eq!(f.step(&stream[h..]), Step::Pass(body_end - h), "{size}");
            assert!(f.at_head());
        }
        // 16 significant hex digits fit a u64 (hyper takes them), 17 do not
        let mut f = Framer::default();
        let _ = f.step(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(f.step(b"00ffffffffffffffff\r\n"), Step::Pass(20));
        assert!(f.in_body());
        let mut f = Framer::default();
        let _ = f.step(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(f.step(b"10000000000000000\r\n"), Step::Pass(19));
        assert!(!f.in_body() && !f.at_head(), "overflow: hyper fails it");
    }

    fn config() -> Config {
        Config {
            cases: 512,
            failure_persistence: None,
            rng_algorithm: RngAlgorithm::ChaCha,
            rng_seed: RngSeed::Fixed(0x0060_e11d),
            ..Config::default()
        }
    }

    /// The pairs of a query as a client meant them: split at `&` and `=`,
    /// `+` a space, valid `%XX` escapes decoded, every other byte literal.
    fn reference_pairs(q: &[u8]) -> Vec<(Result<String, ()>, Result<String, ()>)> {
        fn dec(b: &[u8]) -> Result<String, ()> {
            let spaced: Vec<u8> = b
                .iter()
                .map(|&c| if c == b'+' { b' ' } else { c })
                .collect();
            String::from_utf8(percent_encoding::percent_decode(&spaced).collect()).map_err(|_| ())
        }
        q.split(|&b| b == b'&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.iter().position(|&b| b == b'=') {
                Some(i) => (dec(&p[..i]), dec(&p[i + 1..])),
                None => (dec(p), Ok(String::new())),
            })
            .collect()
    }

    fn query_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            8 => 0x20u8..0x7F,
            2 => prop::sample::select(b"&=%+\"#<> ".to_vec()),
            1 => 0x80u8..=0xFF,
            1 => 0u8..0x20,
        ]
    }

    proptest! {
        #![proptest_config(config())]

        /// Any bytes in the query: either the pairs decode exactly as if the
        /// client had percent-encoded every raw byte, or the head is refused
        /// (controls, over-long) with one of httpd's answers.
        #[test]
        fn query_bytes_decode_as_if_percent_encoded(q in prop::collection::vec(query_byte(), 0..120)) {
            let mut target = b"/api/set?".to_vec();
            target.extend_from_slice(&q);
            match target_of(&get(&target)) {
                Ok(t) => {
                    prop_assert!(!q.iter().any(|&b| b < 0x20 || b == 0x7F));
                    let t = String::from_utf8(t).expect("the normalized target is ASCII");
                    let query = t.split_once('?').map_or("", |(_, q)| q);
                    let ours: Vec<_> = crate::http::query::pairs(query)
                        .map(|p| (p.key.map(|k| k.into_owned()).map_err(|_| ()),
                                  p.value.map(|v| v.into_owned()).map_err(|_| ())))
                        .collect();
                    prop_assert_eq!(ours, reference_pairs(&q));
                }
                Err(r) => {
                    prop_assert_eq!(r, Refusal::BadRequest);
                    prop_assert!(q.iter().any(|&b| b < 0x20 || b == 0x7F));
                }
            }
        }

        /// Arbitrary bytes as a request: no panic; whatever passes or is
        /// rewritten is a head httparse and http::Uri accept, with the
        /// framing hyper reads from it.
        #[test]
        fn arbitrary_heads_pass_only_what_hyper_takes(
            head in prop::collection::vec(any::<u8>(), 0..200),
            line in prop::collection::vec(query_byte(), 0..60),
            extra in prop::sample::select(vec![
                "", "Content-Length: 3\r\n", "Transfer-Encoding: chunked\r\n",
                "Content-Length: 1\r\nContent-Length: 1\r\n", "X: \t\u{e4}\r\n",
            ]),
        ) {
            for request in [head.clone(), {
                let mut r = b"GET /".to_vec();
                r.extend_from_slice(&line);
                r.extend_from_slice(b" HTTP/1.1\r\n");
                r.extend_from_slice(extra.as_bytes());
                r.extend_from_slice(b"\r\n");
                r.extend_from_slice(&head);
                r
            }] {
                let (normalized, body) = match analyze(&request) {
                    Head::Pass { len, body } => (request[..len].to_vec(), body),
                    Head::Rewrite { head, body, .. } => (head, body),
                    Head::Incomplete | Head::Refuse(_) => continue,
                };
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut req = httparse::Request::new(&mut headers);
                let parsed = req.parse(&normalized);
                prop_assert_eq!(parsed, Ok(httparse::Status::Complete(normalized.len())));
                let path = req.path.unwrap();
                prop_assert!(path.len() <= 3 * MAX_URI_LEN);
                prop_assert!(http::Uri::try_from(path).is_ok(), "{:?}", path);
                let cl = req.headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-length"));
                if body == Body::None {
                    prop_assert!(cl.is_none_or(|h| h.value == b"0"));
                }
            }
        }
    }
}
