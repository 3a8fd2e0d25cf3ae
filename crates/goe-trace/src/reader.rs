//! Reading a trace: the header and the full status up front, then the events
//! one by one. A cut-off last line is dropped with a [`Warning`]; any other
//! bad line is a [`TraceError`] naming it.

use crate::error::{Problem, TraceError, Warning};
use crate::line::{self, Event};
use crate::{Header, Object};
use std::io::{BufRead, Read};

/// The longest line a reader accepts (a full status is tens of kilobytes):
/// a bigger one is refused instead of filling memory.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// A trace being read.
#[derive(Debug)]
pub struct Reader<R> {
    input: R,
    /// The number of the last line read.
    line: usize,
    header: Header,
    start: u64,
    status: Object,
    last_t: u64,
    warnings: Vec<Warning>,
    done: bool,
}

/// One raw line: its text and whether it ended with a newline.
struct Raw {
    text: Result<String, Problem>,
    complete: bool,
}

impl<R: BufRead> Reader<R> {
    /// Reads line 1 (the header) and line 2 (the full status).
    pub fn new(mut input: R) -> Result<Reader<R>, TraceError> {
        let header = match read_raw(&mut input, 1)? {
            None => return Err(TraceError::Empty),
            Some(raw) => {
                let (kind, object) = parse_start(raw, 1)?;
                if kind != "header" {
                    return Err(malformed(
                        1,
                        Problem::Expected {
                            expected: "header",
                            found: kind,
                        },
                    ));
                }
                line::header(object).map_err(|p| malformed(1, p))?
            }
        };
        let snapshot = match read_raw(&mut input, 2)? {
            None => {
                return Err(malformed(
                    2,
                    Problem::Expected {
                        expected: "status",
                        found: "the end of the trace".to_owned(),
                    },
                ));
            }
            Some(raw) => {
                let (kind, object) = parse_start(raw, 2)?;
                if kind != "status" {
                    return Err(malformed(
                        2,
                        Problem::Expected {
                            expected: "status",
                            found: kind,
                        },
                    ));
                }
                line::fields::<crate::Snapshot>("status", object).map_err(|p| malformed(2, p))?
            }
        };
        Ok(Reader {
            input,
            line: 2,
            header,
            start: snapshot.t,
            status: snapshot.status,
            last_t: snapshot.t,
            warnings: Vec::new(),
            done: false,
        })
    }

    /// Line 1.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The full status of line 2, in the charger's order.
    pub fn status(&self) -> &Object {
        &self.status
    }

    /// The time of line 2 (normally 0).
    pub fn status_t(&self) -> u64 {
        self.start
    }

    /// What was tolerated so far (a cut-off last line).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// The next line after the status; `None` at the end (or after a
    /// dropped cut-off last line, see [`Reader::warnings`]).
    pub fn next_event(&mut self) -> Result<Option<Event>, TraceError> {
        if self.done {
            return Ok(None);
        }
        let number = self.line + 1;
        let raw = match read_raw(&mut self.input, number) {
            Ok(Some(raw)) => raw,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        self.line = number;
        let complete = raw.complete;
        let parsed = raw.text.and_then(|text| line::split(&text));
        let (kind, object) = match parsed {
            Ok(parsed) => parsed,
            Err(problem @ (Problem::NotJson(_) | Problem::NotUtf8)) if !complete => {
                self.done = true;
                self.warnings.push(Warning::TruncatedLastLine {
                    line: number,
                    problem,
                });
                return Ok(None);
            }
            Err(problem) => {
                self.done = true;
                return Err(malformed(number, problem));
            }
        };
        let event = match line::event(kind, object) {
            Ok(event) => event,
            Err(problem) => {
                self.done = true;
                return Err(malformed(number, problem));
            }
        };
        if let Some(t) = event.t() {
            if t < self.last_t {
                self.done = true;
                return Err(malformed(
                    number,
                    Problem::TimeGoesBack {
                        t,
                        previous: self.last_t,
                    },
                ));
            }
            self.last_t = t;
        }
        Ok(Some(event))
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Event, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}

/// A whole trace in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    /// Line 1.
    pub header: Header,
    /// The time of line 2 (normally 0).
    pub status_t: u64,
    /// Line 2: the full status in the charger's order.
    pub status: Object,
    /// Every later line, in order.
    pub events: Vec<Event>,
    /// What was tolerated (a cut-off last line).
    pub warnings: Vec<Warning>,
}

impl Trace {
    /// Reads a whole trace; the first bad line is the error.
    pub fn read(input: impl BufRead) -> Result<Trace, TraceError> {
        let mut reader = Reader::new(input)?;
        let mut events = Vec::new();
        while let Some(event) = reader.next_event()? {
            events.push(event);
        }
        Ok(Trace {
            header: reader.header,
            status_t: reader.start,
            status: reader.status,
            events,
            warnings: reader.warnings,
        })
    }

    /// Reads a trace from its text.
    pub fn parse(text: &str) -> Result<Trace, TraceError> {
        Trace::read(text.as_bytes())
    }
}

fn malformed(line: usize, problem: Problem) -> TraceError {
    TraceError::Malformed { line, problem }
}

/// Line 1 or 2: it must be complete and an object with a type.
fn parse_start(raw: Raw, number: usize) -> Result<(String, Object), TraceError> {
    let parsed = raw.text.and_then(|text| line::split(&text));
    match parsed {
        Ok(parsed) => Ok(parsed),
        Err(Problem::NotJson(_) | Problem::NotUtf8) if !raw.complete => {
            Err(malformed(number, Problem::Truncated))
        }
        Err(problem) => Err(malformed(number, problem)),
    }
}

/// Reads one line (at most [`MAX_LINE_BYTES`]); `None` at the end.
fn read_raw(input: &mut impl BufRead, number: usize) -> Result<Option<Raw>, TraceError> {
    let mut bytes = Vec::new();
    let limit = MAX_LINE_BYTES as u64 + 1;
    let n = input
        .by_ref()
        .take(limit)
        .read_until(b'\n', &mut bytes)
        .map_err(|source| TraceError::Io {
            line: number,
            source,
        })?;
    if n == 0 {
        return Ok(None);
    }
    let complete = bytes.last() == Some(&b'\n');
    if complete {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    } else if bytes.len() > MAX_LINE_BYTES {
        return Err(malformed(
            number,
            Problem::TooLong {
                max: MAX_LINE_BYTES,
            },
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| Problem::NotUtf8);
    Ok(Some(Raw { text, complete }))
}
