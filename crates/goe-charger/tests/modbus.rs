//! Modbus TCP slave (issue #15, point 1), against the real binary over real
//! sockets with two real Modbus masters: `pymodbus` 3.8.6 (`tests/modbus/
//! client.py`, venv `GOE_VENV_PYMODBUS` from `scripts/client-venvs.sh`) and
//! `mbpoll` (Debian, installed by `scripts/test.sh`); a missing one fails the
//! test naming the install. Bad frames are sent as raw bytes.
//!
//! Every register is compared against `/api/status` of the same instant (a
//! manual clock stands still between the two reads), in idle and charging
//! states, with the units of `modbus-en.md`; the expected values are computed
//! here from the JSON, independently of `goe_proto::modbus`.

#[path = "common/mod.rs"]
mod common;

use common::{Api, Charger};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

const START: &str = "2024-06-03T10:00:00Z";

fn args(firmware: &'static str) -> Vec<&'static str> {
    vec![
        "--clock",
        "manual",
        "--start",
        START,
        "--seed",
        "7",
        "--firmware",
        firmware,
        "--modbus-listen",
        "127.0.0.1:0",
    ]
}

/// The Modbus address from `/sim/state` (`modbus.listening`), waiting for the
/// listener task.
async fn modbus_port(api: &Api) -> u16 {
    for _ in 0..200 {
        let body = api.get("/sim/state").await.body;
        let state: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if let Some(addr) = state["modbus"]["listening"].as_str() {
            return addr.rsplit(':').next().unwrap().parse().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the Modbus slave never listened (/sim/state modbus.listening)");
}

/// Whether `/sim/state` says the slave is closed.
async fn modbus_closed(api: &Api) -> bool {
    for _ in 0..200 {
        let body = api.get("/sim/state").await.body;
        let state: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if state["modbus"]["listening"].is_null() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A pymodbus session (one connection for all its commands).
struct Py {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Py {
    fn start(port: u16) -> Py {
        let python = std::env::var("GOE_VENV_PYMODBUS").unwrap_or_else(|_| {
            panic!(
                "GOE_VENV_PYMODBUS is not set: run `source scripts/client-venvs.sh` \
                 (it installs pymodbus==3.8.6 into target/venvs/pymodbus)"
            )
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/modbus/client.py");
        let mut child = Command::new(&python)
            .arg(script)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {python} (source scripts/client-venvs.sh): {e}")
            });
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Py {
            child,
            stdin,
            stdout,
        }
    }

    fn cmd(&mut self, line: &str) -> Value {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
        let mut out = String::new();
        self.stdout.read_line(&mut out).unwrap();
        let v: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("pymodbus said {out:?} to {line:?}: {e}"));
        assert!(v.get("error").is_none(), "pymodbus: {line}: {v}");
        v
    }

    fn read(&mut self, table: &str, addr: u16, count: u16) -> Result<Vec<u16>, u64> {
        let v = self.cmd(&format!("read {table} {addr} {count}"));
        match v.get("registers") {
            Some(r) => Ok(r
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u16)
                .collect()),
            None => Err(v["exception"].as_u64().unwrap()),
        }
    }

    fn write(&mut self, addr: u16, values: &[u16]) -> Result<(), u64> {
        let list: Vec<String> = values.iter().map(u16::to_string).collect();
        let v = self.cmd(&format!("write {addr} {}", list.join(" ")));
        match v.get("written") {
            Some(_) => Ok(()),
            None => Err(v["exception"].as_u64().unwrap()),
        }
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The input and holding entries of `modbus-en.md`: (first, count, name).
const INPUT: &[(u16, u16, &str)] = &[
    (100, 1, "CAR_STATE"),
    (101, 1, "PP_CABLE"),
    (105, 2, "FWV"),
    (107, 1, "ERROR"),
    (108, 2, "VOLT_L1"),
    (110, 2, "VOLT_L2"),
    (112, 2, "VOLT_L3"),
    (114, 2, "AMP_L1"),
    (116, 2, "AMP_L2"),
    (118, 2, "AMP_L3"),
    (120, 2, "POWER_TOTAL"),
    (128, 2, "ENERGY_TOTAL"),
    (132, 2, "ENERGY_CHARGE"),
    (144, 2, "VOLT_N"),
    (146, 2, "POWER_L1"),
    (148, 2, "POWER_L2"),
    (150, 2, "POWER_L3"),
    (152, 2, "POWER_FACTOR_L1"),
    (154, 2, "POWER_FACTOR_L2"),
    (156, 2, "POWER_FACTOR_L3"),
    (158, 2, "POWER_FACTOR_N"),
    (200, 1, "ALLOW"),
    (202, 1, "ADAPTER_INPUT"),
    (203, 1, "UNLOCKED_BY"),
    (205, 1, "PHASES"),
    (301, 3, "MAC"),
    (304, 6, "SNR"),
    (310, 5, "HOSTNAME"),
    (315, 4, "IP"),
    (319, 4, "SUBNET"),
    (323, 4, "GATEWAY"),
    (327, 5, "RFID_CARD"),
    (332, 4, "ENERGY_CARD0"),
    (336, 4, "ENERGY_CARD1"),
    (340, 4, "ENERGY_CARD2"),
    (344, 4, "ENERGY_CARD3"),
    (348, 4, "ENERGY_CARD4"),
    (352, 4, "ENERGY_CARD5"),
    (356, 4, "ENERGY_CARD6"),
    (360, 4, "ENERGY_CARD7"),
    (364, 4, "ENERGY_CARD8"),
    (368, 4, "ENERGY_CARD9"),
];

const HOLDING: &[(u16, u16, &str)] = &[
    (200, 1, "ALLOW"),
    (201, 1, "ACCESS_STATE"),
    (204, 1, "CABLE_LOCK_MODE"),
    (206, 1, "LED_BRIGHTNESS"),
    (207, 1, "LED_SAVE_ENERGY"),
    (208, 1, "ELECTRICITY_PRICES_HOURS"),
    (209, 1, "ELECTRICITY_PRICES_FINISHED"),
    (210, 1, "ELECTRICITY_PRICES_ZONE"),
    (211, 1, "AMPERE_MAX"),
    (212, 1, "AMPERE_L1"),
    (213, 1, "AMPERE_L2"),
    (214, 1, "AMPERE_L3"),
    (215, 1, "AMPERE_L4"),
    (216, 1, "AMPERE_L5"),
    (217, 1, "CLOUD_DISABLED"),
    (218, 1, "NORWAY_MODE"),
    (299, 1, "AMPERE_VOLATILE"),
    (300, 1, "AMPERE_EEPROM"),
    (332, 1, "PHASE_SWITCH_MODE"),
    (333, 4, "ENERGY_LIMIT"),
    (337, 1, "FORCE_STATE"),
];

fn f(s: &Value, key: &str) -> f64 {
    match &s[key] {
        Value::Bool(b) => f64::from(u8::from(*b)),
        v => v.as_f64().unwrap_or(0.0),
    }
}

fn nrg(s: &Value, i: usize) -> f64 {
    s["nrg"][i].as_f64().unwrap()
}

fn u32w(x: f64, swap: (bool, bool)) -> Vec<u16> {
    let v = x.round() as u32;
    swapped(vec![(v >> 16) as u16, v as u16], swap)
}

fn f64w(x: f64, swap: (bool, bool)) -> Vec<u16> {
    let b = x.to_bits();
    swapped(
        vec![
            (b >> 48) as u16,
            (b >> 32) as u16,
            (b >> 16) as u16,
            b as u16,
        ],
        swap,
    )
}

/// (msb, msr): bytes of each register, order of registers.
fn swapped(mut w: Vec<u16>, (bytes, regs): (bool, bool)) -> Vec<u16> {
    if regs {
        w.reverse();
    }
    if bytes {
        w.iter_mut().for_each(|x| *x = x.swap_bytes());
    }
    w
}

fn text(bytes: &[u8], regs: usize) -> Vec<u16> {
    let mut b = bytes.to_vec();
    b.resize(regs * 2, 0);
    b.chunks(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect()
}

fn ip(s: &Value, field: &str) -> Vec<u16> {
    match s["ccw"][field].as_str() {
        Some(t) => t.split('.').map(|p| p.parse().unwrap()).collect(),
        None => vec![0; 4],
    }
}

/// What `modbus-en.md` says register `name` holds, from `/api/status` `s`.
fn expected(name: &str, s: &Value, swap: (bool, bool)) -> Vec<u16> {
    let one = |x: f64| vec![x.round() as u16];
    match name {
        "CAR_STATE" => one(f(s, "car")),
        "PP_CABLE" => one(f(s, "cbl")),
        "FWV" => text(
            s["fwv"]
                .as_str()
                .unwrap()
                .trim_start_matches('0')
                .as_bytes(),
            2,
        ),
        "ERROR" => one(s["err"].as_f64().unwrap_or(10.0)),
        "VOLT_L1" => u32w(nrg(s, 0), swap),
        "VOLT_L2" => u32w(nrg(s, 1), swap),
        "VOLT_L3" => u32w(nrg(s, 2), swap),
        "VOLT_N" => u32w(nrg(s, 3), swap),
        "AMP_L1" => u32w(nrg(s, 4) * 10.0, swap),
        "AMP_L2" => u32w(nrg(s, 5) * 10.0, swap),
        "AMP_L3" => u32w(nrg(s, 6) * 10.0, swap),
        // 0.01 W: "360000 corresponds to 3.6kW"
        "POWER_TOTAL" => u32w(nrg(s, 11) * 100.0, swap),
        // 0.1 kWh
        "ENERGY_TOTAL" => u32w((f(s, "eto") / 100.0).floor(), swap),
        // deka-watt-seconds: 1 Wh = 360 daWs
        "ENERGY_CHARGE" => u32w(f(s, "wh") * 360.0, swap),
        "POWER_L1" => u32w(nrg(s, 7) / 100.0, swap),
        "POWER_L2" => u32w(nrg(s, 8) / 100.0, swap),
        "POWER_L3" => u32w(nrg(s, 9) / 100.0, swap),
        "POWER_FACTOR_L1" => u32w(nrg(s, 12), swap),
        "POWER_FACTOR_L2" => u32w(nrg(s, 13), swap),
        "POWER_FACTOR_L3" => u32w(nrg(s, 14), swap),
        "POWER_FACTOR_N" => u32w(nrg(s, 15), swap),
        "ALLOW" => one(f(s, "alw")),
        "ADAPTER_INPUT" => one(f(s, "adi")),
        "UNLOCKED_BY" => one(f(s, "trx")),
        "PHASES" => {
            let bits = s["pha"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .filter(|(_, b)| b.as_bool() == Some(true))
                .fold(0u16, |acc, (i, _)| acc | (1 << i));
            vec![bits]
        }
        "MAC" => {
            let n: u32 = s["sse"].as_str().unwrap().parse().unwrap();
            let b = n.to_be_bytes();
            text(&[2, 0, b[0], b[1], b[2], b[3]], 3)
        }
        "SNR" => text(s["sse"].as_str().unwrap().as_bytes(), 6),
        "HOSTNAME" => {
            let host = s["host"].as_str().unwrap_or_default().as_bytes();
            text(&host[..host.len().min(10)], 5)
        }
        "IP" => ip(s, "ip"),
        "SUBNET" => ip(s, "netmask"),
        "GATEWAY" => ip(s, "gw"),
        "RFID_CARD" => match s["lri"].as_str() {
            None => vec![0; 5],
            Some(id) => {
                let bytes: Vec<u8> = (0..id.len() / 2)
                    .map(|i| u8::from_str_radix(&id[2 * i..2 * i + 2], 16).unwrap())
                    .collect();
                text(&bytes, 5)
            }
        },
        n if n.starts_with("ENERGY_CARD") => {
            let i: usize = n["ENERGY_CARD".len()..].parse().unwrap();
            f64w(s["cards"][i]["energy"].as_f64().unwrap(), swap)
        }
        "ACCESS_STATE" => one(f(s, "acs")),
        "CABLE_LOCK_MODE" => one(f(s, "ust")),
        "LED_BRIGHTNESS" => one(f(s, "lbr")),
        "LED_SAVE_ENERGY" => one(f(s, "lse")),
        "ELECTRICITY_PRICES_HOURS" => vec![0],
        "ELECTRICITY_PRICES_FINISHED" => vec![6],
        "ELECTRICITY_PRICES_ZONE" => one(f(s, "awc")),
        "AMPERE_MAX" => one(f(s, "ama")),
        n if n.starts_with("AMPERE_L") => {
            let i: usize = n["AMPERE_L".len()..].parse().unwrap();
            one(s["clp"][i - 1].as_f64().unwrap_or(0.0))
        }
        "CLOUD_DISABLED" => vec![u16::from(s["cwe"] == Value::Bool(false))],
        "NORWAY_MODE" => one(f(s, "nmo")),
        "AMPERE_VOLATILE" | "AMPERE_EEPROM" => one(f(s, "amp")),
        "PHASE_SWITCH_MODE" => one(f(s, "psm")),
        "ENERGY_LIMIT" => f64w(s["dwo"].as_f64().unwrap_or(f64::INFINITY), swap),
        "FORCE_STATE" => one(f(s, "frc")),
        other => panic!("no expectation for {other}"),
    }
}

/// `/api/status` as JSON.
async fn status(api: &Api) -> Value {
    serde_json::from_str(&api.get("/api/status").await.body).unwrap()
}

/// Reads every register of both tables (each entry alone, and each table
/// in contiguous blocks) and compares them with `/api/status` of the same
/// instant.
async fn compare_all(api: &Api, py: &mut Py, what: &str) {
    let s = status(api).await;
    let swap = (s["msb"] == Value::Bool(true), s["msr"] == Value::Bool(true));
    for (table, entries) in [("input", INPUT), ("holding", HOLDING)] {
        for &(first, count, name) in entries {
            let got = py
                .read(table, first, count)
                .unwrap_or_else(|e| panic!("{what}: {table} {name} ({first}): exception {e}"));
            assert_eq!(
                got,
                expected(name, &s, swap),
                "{what}: {table} {name} ({first}) with {s}"
            );
        }
    }
    // a block across several entries is the entries side by side
    let block = py
        .read("input", 105, 17)
        .expect("FWV..POWER_TOTAL in one read");
    let mut want = Vec::new();
    for &(first, count, name) in INPUT.iter().filter(|e| (105..=120).contains(&e.0)) {
        let _ = (first, count);
        want.extend(expected(name, &s, swap));
    }
    assert_eq!(block, want, "{what}: input 105..121 as one block");
    let block = py
        .read("input", 301, 71)
        .expect("MAC..ENERGY_CARD9 in one read");
    let mut want = Vec::new();
    for &(_, _, name) in INPUT.iter().filter(|e| e.0 >= 301) {
        want.extend(expected(name, &s, swap));
    }
    assert_eq!(block, want, "{what}: input 301..371 as one block");
}

async fn post_ok(api: &Api, path: &str) {
    let (code, body) = api.post(path).await;
    assert_eq!(code, 200, "{path}: {body}");
}

/// Every register in idle and charging states, on both firmware profiles
/// with Modbus, plain and with `msb`/`msr` swapping.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_register_matches_api_status_idle_and_charging() {
    for firmware in ["060.5", "056.2"] {
        let c = Charger::fresh_with(&args(firmware));
        let api = c.api();
        let mut py = Py::start(modbus_port(&api).await);
        compare_all(&api, &mut py, &format!("{firmware} idle")).await;
        // an energy limit, RFID access, then a car charging for 15 minutes on
        // the factory card (slot 0): UNLOCKED_BY and ENERGY_CARD0 count
        api.set_ok(&[("dwo", "12345.5"), ("acs", "1")]).await;
        post_ok(&api, "/sim/plug?car=ev-3p-11kw&soc=30").await;
        post_ok(&api, "/sim/rfid?card=0").await;
        post_ok(&api, "/sim/advance?seconds=900").await;
        let s = status(&api).await;
        assert_eq!(s["car"], 2, "{firmware}: charging for the comparison: {s}");
        assert_eq!(s["trx"], 1, "{firmware}: unlocked by card 0: {s}");
        assert!(
            nrg(&s, 11) > 1000.0,
            "{firmware}: power while charging: {s}"
        );
        compare_all(&api, &mut py, &format!("{firmware} charging")).await;
        for (msb, msr) in [("true", "false"), ("false", "true"), ("true", "true")] {
            api.set_ok(&[("msb", msb), ("msr", msr)]).await;
            compare_all(
                &api,
                &mut py,
                &format!("{firmware} charging msb={msb} msr={msr}"),
            )
            .await;
        }
        // after the session: its energy is booked on card 0
        post_ok(&api, "/sim/unplug").await;
        post_ok(&api, "/sim/advance?seconds=5").await;
        let s = status(&api).await;
        assert!(
            s["cards"][0]["energy"].as_f64().unwrap() > 0.0,
            "{firmware}: card 0 has energy: {s}"
        );
        compare_all(
            &api,
            &mut py,
            &format!("{firmware} after the session, swapped"),
        )
        .await;
        api.set_ok(&[("msb", "false"), ("msr", "false")]).await;
        compare_all(&api, &mut py, &format!("{firmware} after the session")).await;
    }
}

/// Every holding register written with function 16 shows in `/api/status`
/// afterwards; out-of-range values are exception 3 and change nothing;
/// AMPERE_EEPROM is persisted, AMPERE_VOLATILE is not (a restart brings the
/// saved `amp` back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_holding_register_writes_like_api_set() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Charger::start_with(tmp.path(), &args("060.5"));
    let api = c.api();
    let mut py = Py::start(modbus_port(&api).await);
    let checks: &[(u16, &[u16], &str, Value)] = &[
        (200, &[0], "frc", Value::from(1)),
        (200, &[1], "frc", Value::from(2)),
        (201, &[1], "acs", Value::from(1)),
        (201, &[0], "acs", Value::from(0)),
        (204, &[2], "ust", Value::from(2)),
        (206, &[77], "lbr", Value::from(77)),
        (207, &[1], "lse", Value::from(true)),
        (210, &[1], "awc", Value::from(1)),
        (211, &[15], "ama", Value::from(15)),
        (
            212,
            &[6, 8, 10, 12, 14],
            "clp",
            serde_json::json!([6, 8, 10, 12, 14]),
        ),
        (217, &[1], "cwe", Value::from(false)),
        (217, &[0], "cwe", Value::from(true)),
        (218, &[1], "nmo", Value::from(true)),
        (300, &[13], "amp", Value::from(13)),
        (299, &[11], "amp", Value::from(11)),
        (332, &[2], "psm", Value::from(2)),
        (337, &[1], "frc", Value::from(1)),
        (337, &[0], "frc", Value::from(0)),
    ];
    for (addr, values, key, want) in checks {
        py.write(*addr, values)
            .unwrap_or_else(|e| panic!("write {addr} {values:?}: exception {e}"));
        assert_eq!(
            api.value(key).await.as_ref(),
            Some(want),
            "{key} after writing {addr}"
        );
    }
    // the documented values of the two price registers are the only ones accepted
    py.write(208, &[0])
        .expect("ELECTRICITY_PRICES_HOURS as shown");
    py.write(209, &[6])
        .expect("ELECTRICITY_PRICES_FINISHED as shown");
    assert_eq!(py.write(208, &[3]), Err(3));
    // ENERGY_LIMIT: float64 Wh, Inf = no limit
    let w = f64w(5000.0, (false, false));
    py.write(333, &w).expect("ENERGY_LIMIT 5000");
    assert_eq!(api.value("dwo").await, Some(Value::from(5000)));
    py.write(333, &f64w(f64::INFINITY, (false, false)))
        .expect("ENERGY_LIMIT Inf");
    assert_eq!(api.value("dwo").await, Some(Value::Null));
    api.set_ok(&[("msb", "true"), ("msr", "true")]).await;
    py.write(333, &f64w(250.5, (true, true)))
        .expect("ENERGY_LIMIT swapped");
    assert_eq!(api.value("dwo").await, Some(serde_json::json!(250.5)));
    api.set_ok(&[("msb", "false"), ("msr", "false")]).await;
    assert_eq!(
        py.write(333, &f64w(f64::NAN, (false, false))),
        Err(3),
        "NaN"
    );
    assert_eq!(py.write(334, &[0, 0]), Err(2), "part of ENERGY_LIMIT");
    // refused values change nothing, not even the valid registers of the request
    let before = status(&api).await;
    for (addr, values) in [
        (332u16, &[3u16][..]),
        (337, &[3]),
        (299, &[5]),
        (300, &[33]),
        (299, &[12, 40]),
        (211, &[40]),
        (207, &[2]),
        (206, &[256]),
    ] {
        assert_eq!(py.write(addr, values), Err(3), "write {addr} {values:?}");
    }
    let after = status(&api).await;
    for key in ["psm", "frc", "amp", "ama", "lse", "lbr"] {
        assert_eq!(before[key], after[key], "{key} after refused writes");
    }
    // unmapped and read-only (input-only) registers
    assert_eq!(py.write(202, &[1]), Err(2));
    assert_eq!(py.write(100, &[1]), Err(2));
    assert_eq!(py.write(218, &[0, 16]), Err(2), "218 then unmapped 219");

    // EEPROM vs volatile across a restart
    py.write(300, &[14]).expect("AMPERE_EEPROM 14");
    py.write(299, &[9]).expect("AMPERE_VOLATILE 9");
    assert_eq!(api.value("amp").await, Some(Value::from(9)));
    // a reboot through the API (`rst`) loads the saved current
    api.set_ok(&[("rst", "1")]).await;
    assert_eq!(
        api.value("amp").await,
        Some(Value::from(14)),
        "amp after rst"
    );
    py.write(299, &[9]).expect("AMPERE_VOLATILE 9 again");
    assert_eq!(api.value("amp").await, Some(Value::from(9)));
    // a refused `amp` write through the API does not end it either
    let refused = api.set(&[("amp", "99")]).await;
    assert_ne!(refused.status, 200, "{}", refused.body);
    // another persisted write while the volatile current is on keeps 14 saved
    api.set_ok(&[("lbr", "100")]).await;
    drop(py);
    // SIGKILL: what was acknowledged is on disk already
    c.kill9();
    let c = Charger::start_with(tmp.path(), &args("060.5"));
    let api = c.api();
    assert_eq!(
        api.value("amp").await,
        Some(Value::from(14)),
        "saved amp after restart"
    );
    assert_eq!(api.value("lbr").await, Some(Value::from(100)));
    assert_eq!(api.value("dwo").await, Some(serde_json::json!(250.5)));
}

/// Sends `bytes` on a fresh connection and returns what came back before the
/// server closed or 2 s passed.
fn raw(port: u16, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 512];
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                // one answer is enough
                if out.len() >= 6
                    && out.len() >= 6 + usize::from(u16::from_be_bytes([out[4], out[5]]))
                {
                    break false;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    (out, closed)
}

fn frame(tid: u16, pdu: &[u8]) -> Vec<u8> {
    let mut f = tid.to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    f.push(1);
    f.extend_from_slice(pdu);
    f
}

fn exception_of(answer: &[u8], tid: u16, fc: u8) -> u8 {
    assert!(answer.len() == 9, "an exception frame: {answer:?}");
    assert_eq!(&answer[..2], &tid.to_be_bytes());
    assert_eq!(answer[7], fc | 0x80, "{answer:?}");
    answer[8]
}

/// Exceptions 1, 2 and 3, and bad frames answered or closed without harm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exceptions_and_bad_frames() {
    let c = Charger::fresh_with(&args("060.5"));
    let api = c.api();
    let port = modbus_port(&api).await;
    // 1: every function code but 3, 4, 16
    for fc in [1u8, 2, 5, 6, 7, 8, 11, 15, 17, 20, 22, 23, 43, 99, 0x7f] {
        let (a, _) = raw(port, &frame(fc.into(), &[fc, 0, 200, 0, 1]));
        assert_eq!(exception_of(&a, fc.into(), fc), 1, "function {fc}");
    }
    // 2: unmapped registers anywhere in the range, the other table's registers
    for (fc, addr, count) in [
        (4u8, 0u16, 1u16),
        (4, 102, 1),
        (4, 100, 5),
        (4, 370, 4),
        (4, 201, 1),
        (3, 202, 1),
        (3, 100, 1),
        (3, 218, 2),
        (3, 65535, 1),
        (4, 65500, 125),
    ] {
        let [ah, al] = addr.to_be_bytes();
        let [ch, cl] = count.to_be_bytes();
        let (a, _) = raw(port, &frame(9, &[fc, ah, al, ch, cl]));
        assert_eq!(exception_of(&a, 9, fc), 2, "fc {fc} {addr}+{count}");
    }
    // 3: quantities 0, >125 (read), >123 (write), byte count mismatch, a
    // quantity whose byte count overflows 16 bits, a short PDU
    let bad: Vec<(u8, Vec<u8>)> = vec![
        (3, vec![3, 0, 200, 0, 0]),
        (4, vec![4, 0, 100, 0, 126]),
        (4, vec![4, 0, 100]),
        (16, vec![16, 0, 200, 0, 0, 0]),
        (16, [vec![16, 0, 200, 0, 124, 248], vec![0; 246]].concat()),
        (16, vec![16, 0, 200, 0, 1, 4, 0, 1, 0, 1]),
        (16, vec![16, 0, 200, 0x80, 0, 0]),
        (16, vec![16, 0, 200, 0xff, 0xff, 0xfe, 0, 1]),
    ];
    for (fc, pdu) in &bad {
        let (a, _) = raw(port, &frame(3, pdu));
        assert_eq!(exception_of(&a, 3, *fc), 3, "{pdu:?}");
    }
    // not Modbus: garbage, a wrong protocol id, a huge or zero length field:
    // the connection is closed without an answer
    for junk in [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        vec![0, 1, 0, 7, 0, 6, 1, 3, 0, 200, 0, 1],
        vec![0, 1, 0, 0, 0xff, 0xff, 1, 3],
        vec![0, 1, 0, 0, 0, 0, 1],
    ] {
        let (a, closed) = raw(port, &junk);
        assert!(a.is_empty() && closed, "{junk:?}: {a:?} closed={closed}");
    }
    // a truncated header or frame, then the peer goes away
    for part in [vec![0u8, 1, 0], frame(1, &[3, 0, 200, 0, 1])[..9].to_vec()] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(&part).unwrap();
        drop(s);
    }
    // two frames in one segment, and one split across segments: both answered
    let two = [frame(5, &[3, 0, 200, 0, 1]), frame(6, &[4, 0, 100, 0, 1])].concat();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&two[..3]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&two[3..]).unwrap();
    let mut answers = [0u8; 22];
    s.read_exact(&mut answers).unwrap();
    assert_eq!(&answers[..2], &[0, 5]);
    assert_eq!(&answers[11..13], &[0, 6]);
    // still serving, and nothing panicked
    let mut py = Py::start(port);
    assert!(py.read("input", 100, 2).is_ok());
    assert_eq!(api.get("/api/status?filter=men").await.status, 200);
    let log = c.stderr();
    assert!(!log.contains("panicked"), "{log}");
}

/// `men` off closes the listener, on opens it again; `mro`/`mwo` count the
/// answered requests and `mstr`/`mstw` stamp them (ms since boot).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn men_switches_the_listener_and_counters_count() {
    let c = Charger::fresh_with(&args("060.5"));
    let api = c.api();
    let port = modbus_port(&api).await;
    let s = status(&api).await;
    assert_eq!(
        (s["mro"].clone(), s["mwo"].clone()),
        (Value::from(0), Value::from(0))
    );
    assert_eq!(s["mstr"], Value::Null);
    let mut py = Py::start(port);
    for _ in 0..5 {
        py.read("input", 100, 1).unwrap();
    }
    assert_eq!(py.read("input", 0, 1), Err(2), "exceptions are not counted");
    py.write(300, &[10]).unwrap();
    py.write(206, &[50, 1]).unwrap();
    post_ok(&api, "/sim/advance?seconds=10").await;
    py.read("holding", 300, 1).unwrap();
    let s = status(&api).await;
    assert_eq!(s["mro"], 6, "{s}");
    assert_eq!(s["mwo"], 2, "{s}");
    let (mstr, mstw, rbt) = (f(&s, "mstr"), f(&s, "mstw"), f(&s, "rbt"));
    assert!(mstw > 0.0 && mstr >= mstw + 10_000.0 && mstr <= rbt, "{s}");
    drop(py);
    api.set_ok(&[("men", "false")]).await;
    assert!(modbus_closed(&api).await, "men=false closes the slave");
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "nothing listens on {port}"
    );
    api.set_ok(&[("men", "true")]).await;
    let again = modbus_port(&api).await;
    let mut py = Py::start(again);
    assert!(py.read("input", 100, 1).is_ok());
}

/// The same registers through `mbpoll` (reference numbers are 1-based):
/// 16-bit and 32-bit big-endian reads, a function 16 write of two registers,
/// and its single-register write (function 6) refused with exception 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbpoll_reads_and_writes() {
    let mbpoll = which("mbpoll").unwrap_or_else(|| {
        panic!("mbpoll is missing: apt-get install mbpoll (scripts/test.sh installs it)")
    });
    let c = Charger::fresh_with(&args("060.5"));
    let api = c.api();
    let port = modbus_port(&api).await;
    post_ok(&api, "/sim/plug?car=ev-3p-11kw&soc=30").await;
    post_ok(&api, "/sim/advance?seconds=600").await;
    let s = status(&api).await;
    let run = |extra: &[&str]| -> (bool, String) {
        let out = Command::new(&mbpoll)
            .args(["-m", "tcp", "-p", &port.to_string(), "-a", "1", "-1", "-q"])
            .args(extra)
            .output()
            .expect("run mbpoll");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let values = |text: &str| -> Vec<i64> {
        text.lines()
            .filter_map(|l| l.split_once("]:"))
            .map(|(_, v)| v.trim().parse().unwrap())
            .collect()
    };
    let (ok, out) = run(&["-t", "3", "-r", "101", "-c", "2", "127.0.0.1"]);
    assert!(ok, "{out}");
    assert_eq!(
        values(&out),
        vec![f(&s, "car") as i64, f(&s, "cbl") as i64],
        "{out}"
    );
    let (ok, out) = run(&["-t", "3:int", "-B", "-r", "109", "-c", "6", "127.0.0.1"]);
    assert!(ok, "{out}");
    let want: Vec<i64> = (0..3)
        .map(|i| nrg(&s, i).round() as i64)
        .chain((4..7).map(|i| (nrg(&s, i) * 10.0).round() as i64))
        .collect();
    assert_eq!(values(&out), want, "{out}");
    let (ok, out) = run(&["-t", "4", "-r", "300", "127.0.0.1", "8", "12"]);
    assert!(ok, "{out}");
    assert_eq!(api.value("amp").await, Some(Value::from(12)));
    let (ok, out) = run(&["-t", "4", "-r", "301", "127.0.0.1", "10"]);
    assert!(!ok && out.contains("Illegal function"), "function 6: {out}");
    let (ok, out) = run(&["-t", "4", "-r", "204", "-c", "1", "127.0.0.1"]);
    assert!(
        !ok && out.contains("Illegal data address"),
        "unmapped 203: {out}"
    );
}

fn which(tool: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// At most 8 connections per charger: a 9th is closed at once, and a
/// closed one makes room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_limited() {
    let c = Charger::fresh_with(&args("060.5"));
    let api = c.api();
    let port = modbus_port(&api).await;
    let ask = |s: &mut TcpStream| -> bool {
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        if s.write_all(&frame(1, &[4, 0, 100, 0, 1])).is_err() {
            return false;
        }
        let mut answer = [0u8; 11];
        s.read_exact(&mut answer).is_ok()
    };
    let mut open: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    for s in &mut open {
        assert!(ask(s), "one of the first 8 connections");
    }
    let mut ninth = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert!(!ask(&mut ninth), "a 9th connection is closed");
    drop(open.pop());
    let mut again = None;
    for _ in 0..100 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        if ask(&mut s) {
            again = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(again.is_some(), "a closed connection makes room");
    for s in &mut open {
        assert!(ask(s), "the others still work");
    }
}

/// The README's Modbus example runs as written (its ports and data
/// directory replaced by free ones).
#[test]
fn the_readme_example_runs() {
    which("mbpoll").unwrap_or_else(|| {
        panic!("mbpoll is missing: apt-get install mbpoll (scripts/test.sh installs it)")
    });
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Modbus TCP\n")
        .nth(1)
        .expect("## Modbus TCP");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a sh block");
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (http, modbus) = (free(), free());
    let tmp = tempfile::tempdir().unwrap();
    let script = block
        .replace("goe-charger ", &format!("{} ", common::BIN))
        .replace("8081", &http.to_string())
        .replace("1502", &modbus.to_string());
    let out = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(tmp.path())
        .output()
        .expect("run sh");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script}\n{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = text
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or_default();
    let got: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(
        got,
        serde_json::json!({"amp": 10, "men": true, "mro": 1, "mwo": 1}),
        "{text}"
    );
    let car = text
        .lines()
        .find(|l| l.starts_with("[101]:"))
        .unwrap_or_default();
    assert_eq!(car.split_whitespace().last(), Some("1"), "{text}");
}

/// A fleet: the fleet file's `modbus_port` gives its entry's chargers port,
/// port + 1, …; `--modbus-listen` with port 0 gives the others free ports;
/// each slave serves its own charger (SNR is its serial).
#[test]
fn fleet_chargers_get_their_own_modbus_ports() {
    // two free ports below the ephemeral range (port-0 binds of the fleet's
    // own listeners never take them)
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let start = 20_000 + (std::process::id() % 5_000) as u16 * 2;
    let base = (start..30_000)
        .step_by(2)
        .find(|&p| free(p) && free(p + 1))
        .expect("two free ports");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(
        &file,
        format!(
            "base_serial = 300001\n[[charger]]\ncount = 2\nmodbus_port = {base}\n[[charger]]\ncount = 1\n"
        ),
    )
    .unwrap();
    let mut child = Command::new(common::BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--clock",
            "manual",
            "--modbus-listen",
            "127.0.0.1:0",
        ])
        .arg("--fleet")
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut modbus = std::collections::BTreeMap::new();
    while modbus.len() < 3 {
        let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            panic!("not every charger's Modbus slave started: {modbus:?}");
        };
        if line.contains(" modbus listening on ") {
            let words: Vec<&str> = line.split_whitespace().collect();
            let port: u16 = words
                .last()
                .unwrap()
                .rsplit(':')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            modbus.insert(words[1].to_owned(), port);
        }
    }
    assert_eq!(modbus["300001"], base, "{modbus:?}");
    assert_eq!(modbus["300002"], base + 1, "{modbus:?}");
    assert!(modbus["300003"] != 0, "{modbus:?}");
    for (serial, port) in &modbus {
        let (answer, _) = raw(*port, &frame(2, &[4, 1, 48, 0, 6]));
        assert_eq!(answer.len(), 9 + 12, "SNR of {serial}: {answer:?}");
        let snr: Vec<u8> = answer[9..].iter().copied().filter(|&b| b != 0).collect();
        assert_eq!(String::from_utf8(snr).unwrap(), *serial);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `--idle-timeout` closes a Modbus connection without a request; one that
/// keeps asking stays open.
#[test]
fn idle_connections_are_closed() {
    let mut a = args("060.5");
    a.extend(["--idle-timeout", "300ms"]);
    let c = Charger::fresh_with(&a);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let port = rt.block_on(modbus_port(&c.api()));
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut busy = TcpStream::connect(("127.0.0.1", port)).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(100));
        busy.write_all(&frame(1, &[4, 0, 100, 0, 1])).unwrap();
        let mut answer = [0u8; 11];
        busy.read_exact(&mut answer)
            .expect("the busy connection is answered");
    }
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1];
    let closed = |r: std::io::Result<usize>| match r {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(
        closed(idle.read(&mut buf)),
        "the idle connection was closed"
    );
}

/// `--modbus-listen` on a firmware without Modbus (051.4) stops the start
/// with a message before the data directory is touched.
#[test]
fn modbus_listen_on_a_firmware_without_modbus_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let failure = match Charger::try_start(
        &dir,
        &["--firmware", "051.4", "--modbus-listen", "127.0.0.1:0"],
    ) {
        Ok(_) => panic!("started"),
        Err(f) => f,
    };
    assert!(
        failure
            .stderr
            .contains("--modbus-listen: firmware 051.4 has no Modbus TCP slave"),
        "{}",
        failure.stderr
    );
    assert!(!dir.exists(), "the data directory was not created");
}
