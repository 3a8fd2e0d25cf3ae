//! `goe export`: one row per interval as CSV (for spreadsheets) or JSON lines (for scripts).

use crate::Failure;
use crate::args::Format;
use crate::output::nrg_columns;
use goe_client::{Client, Status};
use jiff::Timestamp;
use std::io::Write;
use std::time::Duration;

/// The CSV header: `time`, then each key; enum keys get `KEY.name`, `nrg` is split.
pub fn csv_header(keys: &[&str]) -> String {
    let mut cols = vec!["time".to_owned()];
    for key in keys {
        if *key == "nrg" {
            cols.extend(nrg_columns());
            continue;
        }
        cols.push((*key).to_owned());
        if goe_keys::key(key).is_some_and(|d| !d.enums.is_empty()) {
            cols.push(format!("{key}.name"));
        }
    }
    cols.iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",")
}

/// Quotes a cell when it holds a comma, quote or line break.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// A JSON value as a CSV cell: numbers and bools as is, strings unquoted, null empty,
/// arrays and objects as JSON text.
fn json_cell(json: Option<&serde_json::Value>) -> String {
    match json {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => csv_cell(s),
        Some(other) => csv_cell(&other.to_string()),
    }
}

fn time_text(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One CSV row, matching [`csv_header`].
pub fn csv_row(keys: &[&str], status: &Status, now: Timestamp) -> String {
    let mut cells = vec![time_text(now)];
    for key in keys {
        let raw = status.raw(key);
        if *key == "nrg" {
            let items = raw.and_then(serde_json::Value::as_array);
            for i in 0..16 {
                cells.push(json_cell(items.and_then(|a| a.get(i))));
            }
            continue;
        }
        cells.push(json_cell(raw));
        if let Some(def) = goe_keys::key(key)
            && !def.enums.is_empty()
        {
            let name = raw
                .and_then(serde_json::Value::as_i64)
                .and_then(|v| def.enum_name(v))
                .unwrap_or("");
            cells.push(name.to_owned());
        }
    }
    cells.join(",")
}

/// One JSON line: `{"time":…, key: raw value…}` (keys the charger did not report are null).
pub fn json_row(keys: &[&str], status: &Status, now: Timestamp) -> String {
    let mut map = serde_json::Map::new();
    map.insert("time".into(), time_text(now).into());
    for key in keys {
        map.insert(
            (*key).to_owned(),
            status.raw(key).cloned().unwrap_or(serde_json::Value::Null),
        );
    }
    serde_json::Value::Object(map).to_string()
}

/// Writes rows every `every` until Ctrl-C or `count` rows. A failed poll after
/// the first is reported on stderr and skipped.
pub async fn run(
    client: &Client,
    keys: &[&str],
    every: Duration,
    format: Format,
    count: Option<u64>,
) -> Result<(), Failure> {
    let mut stdout = std::io::stdout();
    let mut interval = tokio::time::interval(every);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let (mut rows, mut polls) = (0u64, 0u64);
    if count == Some(0) {
        return Ok(());
    }
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = interval.tick() => {}
        }
        polls += 1;
        let now = Timestamp::now();
        match client.status_of(keys).await {
            Ok(status) => {
                let mut text = String::new();
                if rows == 0 && format == Format::Csv {
                    text.push_str(&csv_header(keys));
                    text.push('\n');
                }
                text.push_str(&match format {
                    Format::Csv => csv_row(keys, &status, now),
                    Format::Jsonl => json_row(keys, &status, now),
                });
                text.push('\n');
                stdout.write_all(text.as_bytes())?;
                stdout.flush()?;
                rows += 1;
            }
            Err(e) if polls == 1 => return Err(e.into()),
            Err(e) => eprintln!("goe: {e} (row skipped)"),
        }
        if count.is_some_and(|n| rows >= n) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_jsonl() {
        let keys = ["car", "amp", "nrg", "fna", "tma", "dwo"];
        assert_eq!(
            csv_header(&keys),
            "time,car,car.name,amp,nrg.U1,nrg.U2,nrg.U3,nrg.UN,nrg.I1,nrg.I2,nrg.I3,nrg.P1,nrg.P2,nrg.P3,nrg.PN,nrg.P,nrg.pf1,nrg.pf2,nrg.pf3,nrg.pfN,fna,tma,dwo"
        );
        let status = Status::parse(
            r#"{"dwo":null,"amp":16,"fna":"a, \"b\"","car":2,"tma":[22.5,26.75],
                "nrg":[231,232,229,1,5.9,0,0,1300,0,0,0,1300,99,0,0,0]}"#,
        )
        .unwrap();
        let t: Timestamp = "2024-09-18T07:31:23.457Z".parse().unwrap();
        assert_eq!(
            csv_row(&keys, &status, t),
            "2024-09-18T07:31:23.457Z,2,Charging,16,231,232,229,1,5.9,0,0,1300,0,0,0,1300,99,0,0,0,\"a, \"\"b\"\"\",\"[22.5,26.75]\","
        );
        assert_eq!(
            json_row(&["car", "amp", "zzz"], &status, t),
            r#"{"time":"2024-09-18T07:31:23.457Z","car":2,"amp":16,"zzz":null}"#
        );
    }
}
