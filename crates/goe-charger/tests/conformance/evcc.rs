//! Replay of evcc's go-e driver (`charger/go-e.go`, `charger/go-e/api.go`,
//! `types2.go`; clients.md §1.5), which cannot run here (Go toolchain and
//! ~250 modules). The exact request lines evcc sends, and what it relies on:
//!
//! - v2 detection: `GET /api/status?filter=alw` must be 2xx JSON decodable
//!   into its struct (`alw` a bool); otherwise (404, `alw` a string) it
//!   falls back to API v1 (`/status`, `/mqtt?payload=`).
//! - the poll `filter=alw,car,eto,nrg,wh,trx,cards` (newer evcc adds
//!   `modelStatus`), decoded by Go's `encoding/json` into typed fields: `car`
//!   int (1→A, 2→C, 3/4→B, else "car unknown result"), `eto` uint64 (an
//!   integer token), `trx` int or null, `nrg` []float64 used only when it has
//!   16 entries, `wh` float64, `cards[].energy` int, `cards[].name` string.
//! - writes `frc=2`/`frc=1` (never 0), `amp=<int>`, `psm=1`/`psm=2`, `su=1`;
//!   any 2xx JSON answer.
//! - consistency: `alw` follows `frc` (else "charger out of sync"); after
//!   `psm=1` only one phase carries current within `phaseSwitchDuration`
//!   (60 s), after `psm=2` three (else "ignoring inconsistent phases");
//!   `eto`/`wh` monotone; `Identify` = `cards[trx-1].name`.

use crate::common::{Api, Ordered};
use crate::harness::{Fw, Sim, State, active_phases, int, nrg, num, per_firmware, print_order};
use serde_json::Value;

const PROBE: &str = "/api/status?filter=alw";
const POLL: &str = "/api/status?filter=alw,car,eto,nrg,wh,trx,cards";
const POLL_NEW: &str = "/api/status?filter=alw,car,eto,nrg,wh,trx,cards,modelStatus";
/// evcc's `phaseSwitchDuration`.
const PHASE_SWITCH_S: u64 = 60;

/// Whether a JSON number would decode into a Go integer field (an integer token).
fn go_int(v: &Value) -> bool {
    v.as_i64().is_some()
}

/// What evcc's `StatusResponse2` decoding plus its getters make of a poll;
/// `Err` with Go's complaint when decoding or a getter would fail.
#[derive(Debug)]
struct Evcc {
    status: char,
    enabled: bool,
    power: f64,
    currents: [f64; 3],
    total_kwh: f64,
    charged_kwh: f64,
    identify: String,
}

fn decode(st: &Ordered) -> Result<Evcc, String> {
    let get = |k: &str| st.get(k).cloned().unwrap_or(Value::Null);
    let alw = match get("alw") {
        Value::Bool(b) => b,
        Value::Null => false,
        v => {
            return Err(format!(
                "cannot unmarshal {v} into Go struct field Alw of type bool"
            ));
        }
    };
    let car = get("car");
    if !(car.is_null() || go_int(&car)) {
        return Err(format!("cannot unmarshal {car} into field Car of type int"));
    }
    let status = match car.as_i64().unwrap_or(0) {
        1 => 'A',
        2 => 'C',
        3 | 4 => 'B',
        n => return Err(format!("car unknown result: {n}")),
    };
    let eto = get("eto");
    if eto.as_u64().is_none() {
        return Err(format!(
            "cannot unmarshal {eto} into field Eto of type uint64"
        ));
    }
    let trx = get("trx");
    if !(trx.is_null() || go_int(&trx)) {
        return Err(format!("cannot unmarshal {trx} into field Trx of type int"));
    }
    let wh = get("wh");
    let Some(wh) = wh.as_f64() else {
        return Err(format!(
            "cannot unmarshal {wh} into field Wh of type float64"
        ));
    };
    let nrg_v: Vec<f64> = match get("nrg") {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_f64().ok_or(format!("nrg entry {x} is not a float64")))
            .collect::<Result<_, _>>()?,
        v => {
            return Err(format!(
                "cannot unmarshal {v} into field Nrg of type []float64"
            ));
        }
    };
    let cards = match get("cards") {
        Value::Array(a) => a,
        v => {
            return Err(format!(
                "cannot unmarshal {v} into field Cards of type []Card"
            ));
        }
    };
    for c in &cards {
        if !c["name"].is_string() || !go_int(&c["energy"]) || !c["cardId"].is_boolean() {
            return Err(format!(
                "card {c} does not decode into Card{{Name string, Energy int, CardID bool}}"
            ));
        }
    }
    let (power, currents) = if nrg_v.len() == 16 {
        (nrg_v[11], [nrg_v[4], nrg_v[5], nrg_v[6]])
    } else {
        (0.0, [0.0; 3])
    };
    let trx = trx.as_i64().unwrap_or(0);
    let identify = if trx > 0 {
        cards
            .get(trx as usize - 1)
            .and_then(|c| c["name"].as_str())
            .ok_or(format!(
                "index out of range: trx {trx}, {} cards",
                cards.len()
            ))?
            .to_owned()
    } else {
        String::new()
    };
    Ok(Evcc {
        status,
        enabled: alw,
        power,
        currents,
        total_kwh: eto.as_u64().unwrap() as f64 / 1e3,
        charged_kwh: wh / 1e3,
        identify,
    })
}

/// The probe and poll must be 2xx JSON; returns evcc's view of the poll.
async fn poll(sim: &Sim) -> Evcc {
    let api = &sim.api;
    for q in [POLL, POLL_NEW] {
        let r = api.get(q).await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("application/json")
        );
        let st = r.object(q);
        let want: Vec<&str> = q.split_once("filter=").unwrap().1.split(',').collect();
        let mut got = st.keys();
        got.sort();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(got, want_sorted, "{q}: every key answered");
        // the firmware's print order (fw 051.4, evcc PR #1609 capture:
        // alw eto car wh trx nrg cards)
        assert_eq!(st.keys(), print_order(sim.fw, &want), "{q}: print order");
    }
    let st = api.status_query(POLL).await;
    decode(&st).unwrap_or_else(|e| panic!("evcc would fail: {e}\nbody: {}", st.raw))
}

async fn write(api: &Api, q: &str) {
    let r = api.get(&format!("/api/set?{q}")).await;
    assert!(
        (200..300).contains(&r.status),
        "evcc needs 2xx for {q}: {} {}",
        r.status,
        r.body
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let v: Value = serde_json::from_str(&r.body).expect("JSON answer");
    assert!(v.is_object(), "{q}: {}", r.body);
}

async fn evcc_detects_api_v2_and_its_poll_decodes_in_every_state(fw: Fw) {
    for state in [State::Idle, State::Charging, State::Complete] {
        let sim = Sim::manual(fw);
        sim.reach(state).await;
        let r = sim.api.get(PROBE).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let probe = r.object(PROBE);
        assert_eq!(probe.keys(), ["alw"]);
        assert!(probe.get("alw").unwrap().is_boolean(), "{}", r.body);
        let e = poll(&sim).await;
        match state {
            State::Idle => assert_eq!((e.status, e.power), ('A', 0.0), "{e:?}"),
            State::Charging => {
                assert_eq!(e.status, 'C', "{e:?}");
                assert!(e.enabled && e.power > 3500.0, "{e:?}");
                assert!(e.currents.iter().all(|a| (5.0..=6.0).contains(a)), "{e:?}");
            }
            State::Complete => {
                assert_eq!((e.status, e.power), ('B', 0.0), "{e:?}");
                assert!(e.charged_kwh > 0.0, "{e:?}");
            }
        }
    }
}

async fn evcc_control_loop_stays_consistent(fw: Fw) {
    let sim = Sim::manual(fw);
    sim.reach(State::Charging).await;
    let api = &sim.api;
    let mut last = poll(&sim).await;

    // disable / enable: alw follows frc (evcc tolerates 60 s; the charger
    // answers at its next logic second)
    write(api, "frc=1").await;
    sim.until(2, 1, "alw,nrg", "alw false after frc=1", |s| {
        s.get("alw") == Some(&Value::Bool(false)) && nrg(s)[11] == 0.0
    })
    .await;
    let e = poll(&sim).await;
    assert!(!e.enabled && e.status == 'B', "{e:?}");
    write(api, "frc=2").await;
    sim.until(2, 1, "alw", "alw true after frc=2", |s| {
        s.get("alw") == Some(&Value::Bool(true))
    })
    .await;
    sim.until(5, 1, "car", "charging again", |s| int(s, "car") == 2)
        .await;

    // current: amp=<int>
    for amps in [16, 8] {
        write(api, &format!("amp={amps}")).await;
        let st = sim
            .until(3, 1, "amp,nrg", "the car follows amp", |s| {
                int(s, "amp") == amps && (amps as f64 - 1.0..=amps as f64).contains(&nrg(s)[4])
            })
            .await;
        assert!(nrg(&st)[4] <= amps as f64, "{}", st.raw);
    }

    // 1p/3p: after psm=1 only one phase within phaseSwitchDuration, after psm=2 three
    for (psm, phases) in [(1, 1), (2, 3), (1, 1)] {
        write(api, &format!("psm={psm}")).await;
        sim.until(PHASE_SWITCH_S, 1, "nrg,psm", "phases follow psm", |s| {
            int(s, "psm") == psm && active_phases(s) == phases
        })
        .await;
        let e = poll(&sim).await;
        assert!(e.power > 0.0, "charging again after the switch: {e:?}");
        let active = e.currents.iter().filter(|a| **a > 1.0).count();
        assert_eq!(active, phases, "{e:?}");
    }

    // wake-up (go-e-v3 "simulate unplugging"): su=1 is a bool key written as 1
    write(api, "su=1").await;
    assert_eq!(api.value("su").await, Some(Value::Bool(true)));

    // counters are monotone across all of it
    let e = poll(&sim).await;
    assert!(e.total_kwh >= last.total_kwh && e.charged_kwh >= last.charged_kwh);
    last = e;
    sim.advance(60).await;
    let e = poll(&sim).await;
    assert!(e.total_kwh >= last.total_kwh && e.charged_kwh > last.charged_kwh);
    let eto = num(&sim.status("eto").await, "eto");
    assert!((eto / 1e3 - e.total_kwh).abs() < 1e-9);
}

async fn evcc_identifies_the_rfid_card(fw: Fw) {
    let sim = Sim::manual(fw);
    sim.set(&[("acs", "1"), ("amp", "6")]).await;
    // a card learned in slot 0
    sim.set(&[("cards", r#"[{"name":"Alice","cardId":"04A1B2C3"}]"#)])
        .await;
    sim.plug("ev-3p-11kw", 40.0).await;
    sim.advance(2).await;
    let e = poll(&sim).await;
    assert_eq!((e.status, e.enabled, e.identify.as_str()), ('B', false, ""));
    sim.sim("/sim/rfid?card=0").await;
    sim.until(5, 1, "car,trx", "authorized by the card", |s| {
        int(s, "car") == 2 && s.get("trx") == Some(&Value::from(1))
    })
    .await;
    let e = poll(&sim).await;
    assert_eq!(e.identify, "Alice", "{e:?}");
    sim.advance(120).await;
    sim.sim("/sim/unplug").await;
    sim.advance(1).await;
    // the card's energy was booked: still an integer for Go's Card.Energy
    let e = poll(&sim).await;
    assert_eq!(e.status, 'A');
}

async fn evcc_falls_back_to_api_v1_when_v2_is_off(fw: Fw) {
    let sim = Sim::manual(fw);
    sim.reach(State::Charging).await;
    sim.set(&[("hla", "true")]).await;
    sim.set(&[("hai", "false")]).await;
    // the probe fails (404): evcc uses v1
    let r = sim.api.get(PROBE).await;
    assert_eq!(r.status, 404);
    let r = sim.api.get("/status").await;
    assert_eq!(r.status, 200);
    let v1 = r.object("/status");
    // v1 `alw` is a string: evcc's v2 struct could not decode it either
    assert_eq!(v1.get("alw"), Some(&Value::from("1")));
    assert_eq!(v1.get("car"), Some(&Value::from("2")));
    // evcc's v1 writes
    let r = sim.api.get("/mqtt?payload=amx=16").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.object("/mqtt").get("amp"), Some(&Value::from("16")));
    let r = sim.api.get("/mqtt?payload=alw=0").await;
    assert_eq!(r.status, 200, "{}", r.body);
    sim.advance(2).await;
    let v1 = sim.api.get("/status").await.object("/status");
    assert_eq!(v1.get("alw"), Some(&Value::from("0")), "{}", v1.raw);
}

per_firmware!(
    evcc_detects_api_v2_and_its_poll_decodes_in_every_state,
    evcc_control_loop_stays_consistent,
    evcc_identifies_the_rfid_card,
    evcc_falls_back_to_api_v1_when_v2_is_off,
);
