//! Human output: the status summary, key tables, single values and set results.

use anstyle::{AnsiColor, Style};
use goe_client::value::{NRG_FIELDS, duration, number, with_unit};
use goe_client::{Energy, KeyResult, Status, TypedValue};
use goe_keys::KeyDef;
use std::io::IsTerminal;

/// Keys the summary (and the default `watch`/`export`) read.
pub const SUMMARY_KEYS: &[&str] = &[
    "sse",
    "fna",
    "fwv",
    "car",
    "alw",
    "acu",
    "amp",
    "frc",
    "lmo",
    "psm",
    "modelStatus",
    "err",
    "nrg",
    "wh",
    "eto",
    "tma",
    "rbt",
    "utc",
];

/// Keys `watch` and `export` follow when none are given (no clocks: they change every poll).
pub const DEFAULT_LIVE_KEYS: &[&str] = &[
    "car",
    "alw",
    "acu",
    "amp",
    "frc",
    "lmo",
    "modelStatus",
    "err",
    "nrg",
    "wh",
    "eto",
    "tma",
];

/// Colours and emphasis, only when stdout is a terminal and `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    on: bool,
}

impl Paint {
    /// Decides from stdout and `NO_COLOR`.
    pub fn stdout() -> Paint {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Paint {
            on: std::io::stdout().is_terminal() && !no_color,
        }
    }

    /// Always or never.
    #[cfg(test)]
    pub fn fixed(on: bool) -> Paint {
        Paint { on }
    }

    /// Whether colours are used.
    pub fn enabled(self) -> bool {
        self.on
    }

    fn style(self, style: Style, text: &str) -> String {
        if self.on {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }

    /// A changed value.
    pub fn highlight(self, text: &str) -> String {
        self.style(
            Style::new()
                .bold()
                .fg_color(Some(AnsiColor::Black.into()))
                .bg_color(Some(AnsiColor::Yellow.into())),
            text,
        )
    }

    /// Labels and headers.
    pub fn bold(self, text: &str) -> String {
        self.style(Style::new().bold(), text)
    }

    /// Secondary text.
    pub fn dim(self, text: &str) -> String {
        self.style(Style::new().dimmed(), text)
    }

    /// Success.
    pub fn green(self, text: &str) -> String {
        self.style(Style::new().fg_color(Some(AnsiColor::Green.into())), text)
    }

    /// Failure.
    pub fn red(self, text: &str) -> String {
        self.style(
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            text,
        )
    }
}

/// Energy for people: Wh below 10 kWh, kWh above.
pub fn energy_text(wh: f64) -> String {
    if wh.abs() >= 10_000.0 {
        format!("{} kWh", number(wh / 1000.0))
    } else {
        format!("{} Wh", number(wh))
    }
}

/// One key's value for people: enum names, the unit, friendly durations.
pub fn value_text(key: &str, value: &TypedValue) -> String {
    with_unit(goe_keys::key(key), value)
}

/// The first sentence-ish of a description, at most `max` characters.
pub fn short_description(def: &KeyDef, max: usize) -> String {
    let d = def.description.trim();
    if d.chars().count() <= max {
        return d.to_owned();
    }
    let cut: String = d.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// The readable summary of `goe status`.
pub fn summary(status: &Status, paint: Paint) -> String {
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut push = |label: &str, text: String| lines.push((label.to_owned(), text));

    let mut charger = vec![status.friendly_name().unwrap_or("go-eCharger").to_owned()];
    if let Some(serial) = status.serial() {
        charger.push(format!("serial {serial}"));
    }
    if let Some(fw) = status.firmware() {
        charger.push(format!("firmware {fw}"));
    }
    push("Charger", charger.join(", "));

    if status.contains("car") {
        push(
            "Car",
            match status.car_state() {
                Some(car) => format!("{car}: {}", car.describe()),
                None => "unknown (no data from the charge controller)".to_owned(),
            },
        );
    }
    if let Some(m) = status.model_status() {
        let name = m.name().map(|n| format!(" {n}")).unwrap_or_default();
        push(
            "Reason",
            format!("{} · modelStatus {}{name}", m.reason(), m.0),
        );
    }
    if let Some(allowed) = status.charging_allowed() {
        let mut text = if allowed {
            match status.allowed_current() {
                Some(a) => format!("allowed, up to {a} A"),
                None => "allowed".to_owned(),
            }
        } else {
            "not allowed".to_owned()
        };
        if let Some(amp) = status.requested_current() {
            text.push_str(&format!(" (requested {amp} A)"));
        }
        push("Charging", text);
    }
    let mut mode = Vec::new();
    if let Some(f) = status.force_state() {
        mode.push(format!("force state {f}"));
    }
    if let Some(l) = status.logic_mode() {
        mode.push(format!("logic mode {l}"));
    }
    if let Some(p) = status.phase_switch_mode() {
        mode.push(format!("phase switching {p}"));
    }
    if !mode.is_empty() {
        push("Mode", mode.join(", "));
    }
    if let Some(e) = status.energy() {
        push("Power", format!("{} W", number(e.total_power)));
        for (i, line) in phase_lines(&e).into_iter().enumerate() {
            push(&format!("  L{}", i + 1), line);
        }
    }
    let mut energy = Vec::new();
    if let Some(wh) = status.session_energy_wh() {
        energy.push(format!("{} since the car connected", energy_text(wh)));
    }
    if let Some(eto) = status.total_energy_wh() {
        energy.push(format!("{} in total", energy_text(eto as f64)));
    }
    if !energy.is_empty() {
        push("Energy", energy.join(", "));
    }
    if let Some(t) = status.get("tma") {
        push("Temperatures", value_text("tma", &t));
    }
    if let Some(err) = status.error() {
        push(
            "Error",
            err.name
                .map_or_else(|| err.value.to_string(), str::to_owned),
        );
    }
    if let Some(up) = status.uptime() {
        let d = jiff::SignedDuration::try_from(up).unwrap_or_default();
        let d = d.round(jiff::Unit::Second).unwrap_or(d);
        push(
            "Uptime",
            if d.is_zero() {
                "0s".to_owned()
            } else {
                duration(d)
            },
        );
    }
    if let Some(utc) = status.utc() {
        push("Clock", utc.strftime("%Y-%m-%d %H:%M:%S UTC").to_string());
    }

    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0)
        + 2;
    let mut out = String::new();
    for (label, text) in lines {
        let pad = width - label.chars().count();
        out.push_str(&paint.bold(&label));
        out.push_str(&" ".repeat(pad));
        out.push_str(&text);
        out.push('\n');
    }
    out
}

/// `231 V   5.9 A   1300 W   pf 100 %` per phase, aligned.
fn phase_lines(e: &Energy) -> Vec<String> {
    let cols: Vec<[String; 4]> = e
        .phases
        .iter()
        .map(|p| {
            [
                format!("{} V", number(p.voltage)),
                format!("{} A", number(p.current)),
                format!("{} W", number(p.power)),
                format!("pf {} %", number(p.power_factor)),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..4)
        .map(|i| cols.iter().map(|c| c[i].len()).max().unwrap_or(0))
        .collect();
    cols.iter()
        .map(|c| {
            format!(
                "{:>w0$}  {:>w1$}  {:>w2$}  {:>w3$}",
                c[0],
                c[1],
                c[2],
                c[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        })
        .collect()
}

/// A table cell: the plain text (for widths) and how it is shown.
pub struct Cell {
    plain: String,
    shown: String,
}

impl Cell {
    /// A cell shown as is.
    pub fn plain(text: impl Into<String>) -> Cell {
        let plain = text.into();
        Cell {
            shown: plain.clone(),
            plain,
        }
    }

    /// A cell shown styled (colour codes do not count for the width).
    pub fn styled(plain: impl Into<String>, shown: String) -> Cell {
        Cell {
            plain: plain.into(),
            shown,
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell::plain(text)
    }
}

/// A borderless table with a bold header row; columns two spaces apart.
pub fn table(header: &[&str], rows: Vec<Vec<Cell>>, paint: Paint) -> String {
    let mut all: Vec<Vec<Cell>> = vec![
        header
            .iter()
            .map(|h| Cell::styled(*h, paint.bold(h)))
            .collect(),
    ];
    all.extend(rows);
    let columns = all.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            all.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.plain.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &all {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(&cell.shown);
            if c + 1 < row.len() {
                let pad = widths[c] - cell.plain.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The key table of `goe status KEY…`: key, value with names and unit, description.
/// Keys the charger did not report say so.
pub fn key_table(keys: &[&str], status: &Status, paint: Paint) -> String {
    let rows = keys
        .iter()
        .map(|k| {
            let value = match status.get(k) {
                Some(v) => value_text(k, &v),
                None => "(not reported by the charger)".to_owned(),
            };
            let description = goe_keys::key(k)
                .map(|d| short_description(d, 60))
                .unwrap_or_default();
            vec![
                Cell::plain(*k),
                Cell::plain(value),
                Cell::plain(description),
            ]
        })
        .collect();
    table(&["KEY", "VALUE", "DESCRIPTION"], rows, paint)
}

/// `goe get KEY` for people: one line, or one line per phase for `nrg`, or
/// indented JSON for objects and arrays.
pub fn get_text(key: &str, value: &TypedValue) -> String {
    match value {
        TypedValue::Energy(e) => {
            let mut rows = vec![vec![
                "total".to_owned(),
                format!("{} W", number(e.total_power)),
            ]];
            for (i, line) in phase_lines(e).into_iter().enumerate() {
                rows.push(vec![format!("L{}", i + 1), line]);
            }
            rows.push(vec![
                "N".to_owned(),
                format!(
                    "{} V  {} W  pf {} %",
                    number(e.neutral_voltage),
                    number(e.neutral_power),
                    number(e.neutral_power_factor)
                ),
            ]);
            let mut out = String::new();
            for row in rows {
                out.push_str(&format!("{:<7}{}\n", row[0], row[1]));
            }
            out
        }
        TypedValue::Json(json) if json.is_object() || !is_number_array(json) => {
            let mut text = serde_json::to_string_pretty(json).unwrap_or_default();
            text.push('\n');
            text
        }
        v => format!("{}\n", value_text(key, v)),
    }
}

fn is_number_array(json: &serde_json::Value) -> bool {
    json.as_array()
        .is_some_and(|a| !a.is_empty() && a.iter().all(serde_json::Value::is_number))
}

/// What was sent for a key, for people: `4 (Awattar)` for enum keys, JSON otherwise.
pub fn sent_text(key: &str, json: &serde_json::Value) -> String {
    // a password or key typed on the command line is never echoed (the
    // charger's own mask, as in its error texts)
    if goe_keys::key(key).is_some_and(|d| d.secret != goe_keys::Secret::No) {
        return goe_keys::render::MASK.to_owned();
    }
    if let (Some(def), Some(v)) = (goe_keys::key(key), json.as_i64())
        && let Some(name) = def.enum_name(v)
    {
        return format!("{v} ({name})");
    }
    json.to_string()
}

/// The results of `goe set`: one line per key, `ok` or the charger's message.
pub fn set_results(
    sent: &[(&str, serde_json::Value)],
    results: &[KeyResult],
    paint: Paint,
) -> String {
    let rows: Vec<(String, String, Result<(), String>)> = results
        .iter()
        .map(|(k, r)| {
            let value = sent
                .iter()
                .rev()
                .find(|(s, _)| s == k)
                .map(|(_, v)| sent_text(k, v))
                .unwrap_or_default();
            (k.clone(), value, r.clone())
        })
        .collect();
    let kw = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let vw = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v, r) in rows {
        let verdict = match r {
            Ok(()) => paint.green("ok"),
            Err(msg) => format!("{} {msg}", paint.red("refused:")),
        };
        out.push_str(&format!(
            "{k}{}  {v}{}  {verdict}\n",
            " ".repeat(kw - k.chars().count()),
            " ".repeat(vw - v.chars().count())
        ));
    }
    out
}

/// The set results as JSON: `{"amp":true,"alw":"alw: tried to …"}` like the charger's answer.
pub fn set_results_json(results: &[KeyResult]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, r) in results {
        map.insert(
            k.clone(),
            match r {
                Ok(()) => serde_json::Value::Bool(true),
                Err(msg) => serde_json::Value::String(msg.clone()),
            },
        );
    }
    serde_json::Value::Object(map)
}

/// Column names for `nrg` in CSV exports.
pub fn nrg_columns() -> impl Iterator<Item = String> {
    NRG_FIELDS.iter().map(|f| format!("nrg.{f}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHARGING: &str = r#"{"sse":"012345","fna":"garage","fwv":"56.2","alw":true,"acu":16,"eto":120000,
        "car":2,"amp":16,"frc":0,"lmo":3,"psm":0,"rbt":3723456,"utc":"2024-09-18T07:31:23.457","wh":1234.5,
        "err":0,"tma":[32.75,37.75],
        "nrg":[228,227,229,0,5.9,5.9,5.9,1300,1300,1300,0,4140,100,100,100,9],"modelStatus":15}"#;

    #[test]
    fn summary_reads_like_a_sentence() {
        let s = Status::parse(CHARGING).unwrap();
        let text = summary(&s, Paint::fixed(false));
        let expected = "\
Charger       garage, serial 012345, firmware 56.2
Car           Charging: charging
Reason        charging: default mode, nothing prevents it · modelStatus 15 ChargingBecauseFallbackDefault
Charging      allowed, up to 16 A (requested 16 A)
Mode          force state Neutral, logic mode Default, phase switching Auto
Power         4140 W
  L1          228 V  5.9 A  1300 W  pf 100 %
  L2          227 V  5.9 A  1300 W  pf 100 %
  L3          229 V  5.9 A  1300 W  pf 100 %
Energy        1234.5 Wh since the car connected, 120 kWh in total
Temperatures  32.75 °C, 37.75 °C
Error         None
Uptime        1h 2m 3s
Clock         2024-09-18 07:31:23 UTC
";
        assert_eq!(text, expected);
    }

    #[test]
    fn colours_only_when_asked() {
        assert_eq!(Paint::fixed(false).highlight("16 A"), "16 A");
        let on = Paint::fixed(true).highlight("16 A");
        assert!(on.starts_with('\u{1b}') && on.contains("16 A"), "{on:?}");
    }

    #[test]
    fn set_lines() {
        let sent = vec![
            ("lmo", serde_json::json!(4)),
            ("alw", serde_json::json!(true)),
        ];
        let results = vec![
            ("lmo".to_owned(), Ok(())),
            (
                "alw".to_owned(),
                Err("alw: tried to set api key without setter (true)".to_owned()),
            ),
        ];
        assert_eq!(
            set_results(&sent, &results, Paint::fixed(false)),
            "lmo  4 (Awattar)  ok\nalw  true         refused: alw: tried to set api key without setter (true)\n"
        );
        assert_eq!(
            set_results_json(&results).to_string(),
            r#"{"lmo":true,"alw":"alw: tried to set api key without setter (true)"}"#
        );
    }

    #[test]
    fn get_forms() {
        let s = Status::parse(CHARGING).unwrap();
        assert_eq!(get_text("amp", &s.get("amp").unwrap()), "16 A\n");
        assert_eq!(get_text("car", &s.get("car").unwrap()), "Charging (2)\n");
        assert_eq!(
            get_text("nrg", &s.get("nrg").unwrap()),
            "total  4140 W\nL1     228 V  5.9 A  1300 W  pf 100 %\nL2     227 V  5.9 A  1300 W  pf 100 %\nL3     229 V  5.9 A  1300 W  pf 100 %\nN      0 V  0 W  pf 9 %\n"
        );
        assert_eq!(
            get_text("tma", &s.get("tma").unwrap()),
            "32.75 °C, 37.75 °C\n"
        );
        assert_eq!(energy_text(9999.0), "9999 Wh");
        assert_eq!(energy_text(123_456.0), "123.456 kWh");
    }
}
