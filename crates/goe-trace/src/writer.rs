//! Writing a trace: the header and the full status first, then one line per
//! event, each flushed, so the file is a valid trace at every moment.

use crate::line::{self, Answer, Delta, Snapshot};
use crate::{Header, Object};
use std::io::{self, Write};

/// A trace being written.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    last_t: u64,
}

impl<W: Write> Writer<W> {
    /// Writes the header (line 1) and the full status taken at `t` (line 2).
    pub fn new(mut out: W, header: &Header, t: u64, status: &Object) -> io::Result<Writer<W>> {
        write_line(&mut out, &line::render_header(header))?;
        let snapshot = Snapshot {
            t,
            status: status.clone(),
        };
        write_line(&mut out, &line::render("status", &snapshot))?;
        Ok(Writer { out, last_t: t })
    }

    /// Writes a change (nothing for an empty one).
    pub fn delta(&mut self, delta: &Delta) -> io::Result<()> {
        if delta.is_empty() {
            return Ok(());
        }
        self.time(delta.t)?;
        write_line(&mut self.out, &line::render("delta", delta))
    }

    /// Writes a later full status.
    pub fn status(&mut self, snapshot: &Snapshot) -> io::Result<()> {
        self.time(snapshot.t)?;
        write_line(&mut self.out, &line::render("status", snapshot))
    }

    /// Writes how the unit answered a write.
    pub fn answer(&mut self, answer: &Answer) -> io::Result<()> {
        self.time(answer.t)?;
        write_line(&mut self.out, &line::render("answer", answer))
    }

    /// The output back.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// Lines never go back in time (a reader refuses that).
    fn time(&mut self, t: u64) -> io::Result<()> {
        if t < self.last_t {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("trace time {t} ms is before {} ms", self.last_t),
            ));
        }
        self.last_t = t;
        Ok(())
    }
}

/// One line with its newline, in one write, then a flush.
fn write_line(out: &mut impl Write, text: &str) -> io::Result<()> {
    let mut bytes = Vec::with_capacity(text.len() + 1);
    bytes.extend_from_slice(text.as_bytes());
    bytes.push(b'\n');
    out.write_all(&bytes)?;
    out.flush()
}
