//! The trace format: written, read back, and every way a trace can be bad.

use goe_trace::{
    Answer, Delta, Event, Header, Object, Problem, Trace, TraceError, Transport, Warning, Writer,
};
use serde_json::{Value, json};

fn obj(v: Value) -> Object {
    match v {
        Value::Object(o) => o,
        other => panic!("not an object: {other}"),
    }
}

fn header() -> Header {
    let mut h = Header::new(
        "2026-12-01T22:00:00.000Z",
        "192.168.1.50",
        Transport::Poll,
        "goe 0.1.0",
    );
    h.interval_ms = Some(1000);
    h.fwv = Some("060.5".into());
    h.serial = Some("012345".into());
    h
}

/// A status whose keys are not in alphabetical order (the order must survive).
fn status() -> Object {
    obj(json!({"sse":"012345","car":1,"amp":16,"nrg":[230,231,229,0],"xyz_unknown":{"b":1,"a":2}}))
}

fn written(events: impl FnOnce(&mut Writer<&mut Vec<u8>>)) -> String {
    let mut out = Vec::new();
    {
        let mut w = Writer::new(&mut out, &header(), 0, &status()).unwrap();
        events(&mut w);
    }
    String::from_utf8(out).unwrap()
}

fn sample() -> String {
    written(|w| {
        w.delta(&Delta {
            t: 1500,
            changes: obj(json!({"car":2,"amp":10})),
            removed: vec![],
        })
        .unwrap();
        w.delta(&Delta {
            t: 3000,
            changes: Object::new(),
            removed: vec!["xyz_unknown".into()],
        })
        .unwrap();
    })
}

#[test]
fn written_trace_reads_back_with_key_order() {
    let text = sample();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(text.ends_with('\n'));
    // every line a JSON object whose first field is "type"
    for line in &lines {
        assert!(line.starts_with("{\"type\":"), "{line}");
    }
    assert_eq!(
        lines[1],
        r#"{"type":"status","t":0,"status":{"sse":"012345","car":1,"amp":16,"nrg":[230,231,229,0],"xyz_unknown":{"b":1,"a":2}}}"#
    );
    assert_eq!(
        lines[2],
        r#"{"type":"delta","t":1500,"changes":{"car":2,"amp":10}}"#
    );
    assert_eq!(
        lines[3],
        r#"{"type":"delta","t":3000,"changes":{},"removed":["xyz_unknown"]}"#
    );
    let trace = Trace::parse(&text).unwrap();
    assert_eq!(trace.header, header());
    assert_eq!(trace.header.transport, Transport::Poll);
    let keys: Vec<&str> = trace.status.keys().map(String::as_str).collect();
    assert_eq!(keys, ["sse", "car", "amp", "nrg", "xyz_unknown"]);
    let inner: Vec<&str> = trace.status["xyz_unknown"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(inner, ["b", "a"]);
    assert_eq!(trace.events.len(), 2);
    let Event::Delta(d) = &trace.events[0] else {
        panic!("{:?}", trace.events[0])
    };
    assert_eq!(d.t, 1500);
    assert_eq!(
        d.changes.keys().map(String::as_str).collect::<Vec<_>>(),
        ["car", "amp"]
    );
    assert!(trace.warnings.is_empty());
    // the header line names the format and version
    let h: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(h["format"], "goe-trace");
    assert_eq!(h["version"], 1);
    assert_eq!(h["transport"], "poll");
    assert_eq!(h["redactions"], json!([]));
}

#[test]
fn deltas_are_computed_and_applied_in_order() {
    let old = status();
    let new = obj(json!({"sse":"012345","car":2,"amp":16,"nrg":[230,231,229,5],"new_key":true}));
    let d = Delta::between(7, &old, &new);
    assert_eq!(d.t, 7);
    assert_eq!(
        Value::Object(d.changes.clone()).to_string(),
        r#"{"car":2,"nrg":[230,231,229,5],"new_key":true}"#
    );
    assert_eq!(d.removed, ["xyz_unknown"]);
    let mut replayed = old.clone();
    d.apply(&mut replayed);
    assert_eq!(
        Value::Object(replayed).to_string(),
        Value::Object(new.clone()).to_string()
    );
    assert!(Delta::between(8, &new, &new).is_empty());
    // an empty delta writes no line
    let text = written(|w| w.delta(&Delta::between(9, &new, &new)).unwrap());
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn answers_and_unknown_kinds_are_read() {
    let mut text = written(|w| {
        w.answer(&Answer {
            t: 10,
            api: "http".into(),
            request: obj(json!({"xyz":1})),
            status: Some(400),
            response: json!({"xyz":"Key not found"}),
        })
        .unwrap();
    });
    text.push_str("{\"type\":\"note\",\"t\":20,\"text\":\"a newer writer's line\"}\n");
    let trace = Trace::parse(&text).unwrap();
    let Event::Answer(a) = &trace.events[0] else {
        panic!("{:?}", trace.events)
    };
    assert_eq!(a.status, Some(400));
    assert_eq!(a.response, json!({"xyz":"Key not found"}));
    assert!(
        matches!(&trace.events[1], Event::Unknown { kind, .. } if kind == "note"),
        "{:?}",
        trace.events[1]
    );
}

#[test]
fn unknown_header_fields_are_kept() {
    let text = sample().replacen(
        "\"format\":\"goe-trace\"",
        "\"format\":\"goe-trace\",\"future\":[1]",
        1,
    );
    let trace = Trace::parse(&text).unwrap();
    assert_eq!(trace.header.extra["future"], json!([1]));
}

#[test]
fn a_cut_off_last_line_is_dropped_with_a_warning() {
    let text = sample();
    // cut the last line in its middle: no newline, not JSON
    let cut = &text[..text.len() - 10];
    let trace = Trace::parse(cut).unwrap();
    assert_eq!(trace.events.len(), 1);
    assert!(
        matches!(
            &trace.warnings[..],
            [Warning::TruncatedLastLine {
                line: 4,
                problem: Problem::NotJson(_)
            }]
        ),
        "{:?}",
        trace.warnings
    );
    assert!(
        trace.warnings[0]
            .to_string()
            .starts_with("line 4: the last line is cut off")
    );
    // cut right after a complete object (only the newline missing): kept
    let trace = Trace::parse(text.trim_end()).unwrap();
    assert_eq!(trace.events.len(), 2);
    assert!(trace.warnings.is_empty());
    // cut inside a multi-byte character
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice("{\"type\":\"delta\",\"t\":4000,\"changes\":{\"fna\":\"é".as_bytes());
    bytes.pop();
    let trace = Trace::read(&bytes[..]).unwrap();
    assert_eq!(trace.events.len(), 2);
    assert_eq!(trace.warnings.len(), 1);
}

fn error_of(text: &str) -> TraceError {
    Trace::parse(text).expect_err("the trace must be refused")
}

#[test]
fn a_malformed_line_elsewhere_is_an_error_naming_it() {
    let text = sample();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"type\":\"delta\",\"t\":1500,\"changes\":{\"car\":2";
    let bad = lines.join("\n") + "\n";
    let e = error_of(&bad);
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 3,
                problem: Problem::NotJson(_)
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("line 3: not JSON"), "{e}");
    assert_eq!(e.line(), 3);
    // the same cut on the last line but followed by a newline is not a cut-off: an error
    let last_cut = format!("{}\n{{\"type\":\"delta\",\"t\":9\n", text.trim_end());
    assert!(matches!(
        error_of(&last_cut),
        TraceError::Malformed { line: 5, .. }
    ));

    type Check = fn(&Problem) -> bool;
    let cases: [(&str, usize, Check); 6] = [
        ("[1,2]", 3, |p| *p == Problem::NotAnObject),
        ("{\"t\":5}", 3, |p| *p == Problem::NoType),
        (
            "{\"type\":\"delta\",\"changes\":{}}",
            3,
            |p| matches!(p, Problem::BadField { kind: "delta", reason } if reason.contains("`t`")),
        ),
        ("{\"type\":\"delta\",\"t\":\"soon\"}", 3, |p| {
            matches!(p, Problem::BadField { kind: "delta", .. })
        }),
        ("{\"type\":\"delta\",\"t\":1,\"changes\":{}}", 3, |p| {
            *p == Problem::TimeGoesBack {
                t: 1,
                previous: 3000,
            }
        }),
        ("", 3, |p| matches!(p, Problem::NotJson(_))),
    ];
    for (line, number, check) in cases {
        let bad = format!("{}\n{line}\n", text.trim_end());
        let e = error_of(&bad);
        let TraceError::Malformed { line: at, problem } = &e else {
            panic!("{line}: {e:?}")
        };
        assert_eq!(*at, number + 2, "{line}: {e}");
        assert!(check(problem), "{line}: {e}");
    }
    let second_header = format!("{}\n{}\n", text.trim_end(), text.lines().next().unwrap());
    assert!(matches!(
        error_of(&second_header),
        TraceError::Malformed {
            line: 5,
            problem: Problem::SecondHeader
        }
    ));
}

#[test]
fn the_start_of_a_trace_is_checked() {
    assert!(matches!(error_of(""), TraceError::Empty));
    let text = sample();
    let status_line = text.lines().nth(1).unwrap();
    let header_line = text.lines().next().unwrap();
    // line 1 must be the header
    let e = error_of(&format!("{status_line}\n"));
    assert!(
        matches!(&e, TraceError::Malformed { line: 1, problem: Problem::Expected { expected: "header", found } } if found == "status"),
        "{e:?}"
    );
    // another format, a newer version
    let e = error_of(&header_line.replace("goe-trace", "other"));
    assert!(
        matches!(&e, TraceError::Malformed { line: 1, problem: Problem::NotATrace(f) } if f == "other"),
        "{e:?}"
    );
    let e = error_of(&header_line.replace("\"version\":1", "\"version\":2"));
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 1,
                problem: Problem::NewerVersion {
                    found: 2,
                    supported: 1
                }
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("version 2 is newer"), "{e}");
    // a header alone, a cut-off header or status
    let e = error_of(&format!("{header_line}\n"));
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 2,
                problem: Problem::Expected {
                    expected: "status",
                    ..
                }
            }
        ),
        "{e:?}"
    );
    let e = error_of(&header_line[..20]);
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 1,
                problem: Problem::Truncated
            }
        ),
        "{e:?}"
    );
    let e = error_of(&format!("{header_line}\n{}", &status_line[..30]));
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 2,
                problem: Problem::Truncated
            }
        ),
        "{e:?}"
    );
    // a bad transport
    let e = error_of(&header_line.replace("\"poll\"", "\"carrier-pigeon\""));
    assert!(
        matches!(
            &e,
            TraceError::Malformed {
                line: 1,
                problem: Problem::BadField { kind: "header", .. }
            }
        ),
        "{e:?}"
    );
    // not UTF-8 in the middle
    let mut bytes = text.clone().into_bytes();
    bytes.extend_from_slice(b"{\"type\":\"delta\",\"t\":5000,\"changes\":{\"fna\":\"\xff\"}}\n");
    let e = Trace::read(&bytes[..]).unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 5,
                problem: Problem::NotUtf8
            }
        ),
        "{e:?}"
    );
}

#[test]
fn reader_streams_events_and_stops_after_an_error() {
    let text = format!(
        "{}\n[]\n{{\"type\":\"delta\",\"t\":9999,\"changes\":{{}}}}\n",
        sample().trim_end()
    );
    let mut reader = goe_trace::Reader::new(text.as_bytes()).unwrap();
    assert_eq!(reader.header().serial.as_deref(), Some("012345"));
    assert_eq!(reader.status()["amp"], 16);
    assert!(matches!(reader.next(), Some(Ok(Event::Delta(_)))));
    assert!(matches!(reader.next(), Some(Ok(Event::Delta(_)))));
    assert!(matches!(
        reader.next(),
        Some(Err(TraceError::Malformed { line: 5, .. }))
    ));
    assert!(reader.next().is_none());
}

#[test]
fn crlf_line_ends_are_accepted() {
    let text = sample().replace('\n', "\r\n");
    assert_eq!(Trace::parse(&text).unwrap().events.len(), 2);
}

#[test]
fn writer_refuses_going_back_in_time() {
    let mut out = Vec::new();
    let mut w = Writer::new(&mut out, &header(), 100, &status()).unwrap();
    let back = Delta {
        t: 50,
        changes: obj(json!({"car":2})),
        removed: vec![],
    };
    assert_eq!(
        w.delta(&back).unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
}

#[test]
fn an_endless_line_is_refused_not_buffered() {
    let mut text = sample();
    text.push_str(&" ".repeat(goe_trace::MAX_LINE_BYTES + 10));
    text.push('\n');
    let e = error_of(&text);
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 5,
                problem: Problem::TooLong { .. }
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_capture_is_a_trace_or_a_status_body() {
    let trace = goe_trace::Capture::parse(&sample()).unwrap();
    assert!(matches!(trace, goe_trace::Capture::Trace(_)));
    assert_eq!(
        trace
            .status()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["sse", "car", "amp", "nrg", "xyz_unknown"]
    );
    let body = "{\n  \"sse\": \"012345\",\n  \"car\": 1,\n  \"amp\": 16\n}\n";
    let status = goe_trace::Capture::parse(body).unwrap();
    assert!(matches!(status, goe_trace::Capture::Status(_)));
    assert_eq!(
        status
            .status()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        ["sse", "car", "amp"]
    );
    // a bad body names its line
    let e = goe_trace::Capture::parse("{\n  \"sse\": \"012345\",\n  \"car\": ,\n}\n").unwrap_err();
    assert!(
        matches!(
            e,
            TraceError::Malformed {
                line: 3,
                problem: Problem::NotJson(_)
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("line 3: not JSON"), "{e}");
    let e = goe_trace::Capture::parse("[1]").unwrap_err();
    assert!(matches!(
        e,
        TraceError::Malformed {
            line: 1,
            problem: Problem::NotAnObject
        }
    ));
    assert!(matches!(
        goe_trace::Capture::parse(" \n"),
        Err(TraceError::Empty)
    ));
    // a bad trace is refused as a trace (not read as a body)
    let bad = format!("{}\n[]\n", sample().trim_end());
    assert!(matches!(
        goe_trace::Capture::parse(&bad),
        Err(TraceError::Malformed {
            line: 5,
            problem: Problem::NotAnObject
        })
    ));
    // every real capture (the repository's copy of ../shared/fixtures/real-status) is a status body
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../goe-charger/tests/fixtures/real-status"
    );
    let mut read = 0;
    for entry in std::fs::read_dir(dir).expect("the real captures") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let c = goe_trace::Capture::parse(&text)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!c.status().is_empty(), "{}", path.display());
            read += 1;
        }
    }
    assert!(read >= 5, "{read} captures");
}
