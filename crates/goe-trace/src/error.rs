//! What can be wrong with a trace: typed, with the line it was found on.

/// Why a trace cannot be read (further).
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// Reading the input failed.
    #[error("line {line}: cannot read the trace: {source}")]
    Io {
        /// The line being read (1-based).
        line: usize,
        /// The error of the input.
        #[source]
        source: std::io::Error,
    },
    /// There is no line at all.
    #[error("the trace is empty (line 1 must be the header)")]
    Empty,
    /// A line is not what the format allows there.
    #[error("line {line}: {problem}")]
    Malformed {
        /// The line (1-based).
        line: usize,
        /// What is wrong with it.
        problem: Problem,
    },
}

impl TraceError {
    /// The line the error is about (0 for an empty trace).
    pub fn line(&self) -> usize {
        match self {
            TraceError::Io { line, .. } | TraceError::Malformed { line, .. } => *line,
            TraceError::Empty => 0,
        }
    }
}

/// What is wrong with one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// The bytes are not UTF-8.
    #[error("not UTF-8 text")]
    NotUtf8,
    /// The line exceeds [`crate::MAX_LINE_BYTES`].
    #[error("longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The line is not JSON (serde_json's reason).
    #[error("not JSON: {0}")]
    NotJson(String),
    /// The line is JSON but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// The object has no string `"type"`.
    #[error("no \"type\" field (every line is an object with a string \"type\")")]
    NoType,
    /// Line 1 or 2 is of another kind than the format puts there.
    #[error("expected a {expected:?} line, found {found:?}")]
    Expected {
        /// The kind the format requires here.
        expected: &'static str,
        /// The kind found.
        found: String,
    },
    /// The header names another format.
    #[error("not a goe trace (format {0:?}, expected \"goe-trace\")")]
    NotATrace(String),
    /// The header's version is newer than this reader.
    #[error(
        "trace format version {found} is newer than this reader understands (up to {supported})"
    )]
    NewerVersion {
        /// The trace's version.
        found: u64,
        /// The newest this reader reads.
        supported: u32,
    },
    /// A field is missing or of the wrong type.
    #[error("bad {kind} line: {reason}")]
    BadField {
        /// The line's kind.
        kind: &'static str,
        /// serde_json's reason (names the field).
        reason: String,
    },
    /// A line's time is before the previous line's.
    #[error("time {t} ms is before the previous line's {previous} ms")]
    TimeGoesBack {
        /// This line's time.
        t: u64,
        /// The previous line's time.
        previous: u64,
    },
    /// A header after line 1.
    #[error("a second header (only line 1 is the header)")]
    SecondHeader,
    /// Line 1 or 2 is cut off (the trace ends inside it).
    #[error("cut off (the trace ends inside this line)")]
    Truncated,
}

/// Something a reader tolerated: the trace is usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Warning {
    /// The last line has no end of line and does not parse: the recording
    /// was cut off while writing it. It is dropped.
    #[error("line {line}: the last line is cut off ({problem}); dropped")]
    TruncatedLastLine {
        /// The line (1-based).
        line: usize,
        /// Why it does not parse.
        problem: Problem,
    },
}
