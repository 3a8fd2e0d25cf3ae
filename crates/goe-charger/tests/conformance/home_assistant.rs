//! Replay of the Home Assistant integration marq24/ha-goecharger-api2
//! (`pygoecharger_ha/const.py` at d5695276, clients.md §1.6), which needs
//! Home Assistant itself to run. What it sends and relies on:
//!
//! - four filter sets at start-up and in its polls (commas unencoded):
//!   SYSTEMS, VERSIONS, MIN_STATES (+ the `ids` and times add-ons), ALL_STATES
//!   and ALL_CONFIG (each in two requests). It accepts HTTP 200 or 400 and
//!   partial answers; the values it translates must be inside its tables
//!   (`car`, `cus`, `err`, `modelStatus`, `ffb`, `frm`, `lck`, `pwm`,
//!   `wsms`, `wst`); `fwv` is parsed as a version (below 60 it needs `cards`).
//! - writes through `/api/set` with aiohttp params: bool → `true`/`false`
//!   (`acs` as 0/1), int → `16`, float → `16.0` (number entities), None →
//!   `null`, str → quoted, dict → compact JSON, several keys per request;
//!   success iff HTTP 200 and `json[key]` truthy; an HTTP 500 with
//!   `Content-Length` > 0 is parsed as the error.
//! - services: `set_pv_data` (`ids`), `stop_charging` (`frc=1`, 300 s, `frc=0`).

use crate::common::{Api, Ordered, enc};
use crate::harness::{Sim, State, int};
use serde_json::{Value, json};

const SYSTEMS: &str = "oem,sse,typ,var";
const VERSIONS: &str = "ccrv,fwc,fwv,var,cards,c0i,c1i,c2i,c3i,c4i,c5i,c6i,c7i,c8i,c9i";
const MIN_STATES: &str = "car,modelStatus,err,nrg,tma,trx";
const IDS_ADDON: &str = ",pakku,ppv,pgrid";
const TIMES_ADDON: &str = ",rbt,fsptws,inva,lbp,lccfc,lccfi,lcctc,lfspt,lmsc,lpsc,lcs";
const ALL_STATES: [&str; 2] = [
    "alw,acu,adi,amt,atp,awcp,car,cards,cbl,ccu,ccw,cdi,cll,cus,ctrls,deltaa,deltap,di1,err,eto,ffb,fhz,fsp,fsptws,inva,lbp,lccfc",
    "lccfi,lcctc,lck,lfspt,lmsc,loa,lpsc,mcpea,mmp,modelStatus,nif,nrg,pakku,pgrid,pha,pnp,ppv,pvopt_averagePAkku,pvopt_averagePGrid,pvopt_averagePPv,pwm,rbc,rbt,rfb,rssi,rst,tlf,tls,tma,tpa,trx,wh,wsms,wst",
];
const ALL_CONFIG: [&str; 2] = [
    "acp,acs,ama,amp,ara,ate,att,awc,awe,awp,bac,cards,cch,cco,cfi,cid,clp,cmse,ct,cwc,cwe,dwo,esk",
    "fmt,fna,frc,frm,fst,fup,fzf,hsa,lbr,lmo,loe,lof,log,lop,lot,loty,lse,map,mca,mci,mcpd,mptwt,mpwst,nmo,pgt,po,psh,psm,psmd,rdbf,rdbs,rdef,rdes,rdre,rdpl,sch_satur,sch_sund,sch_week,sdp,sh,spl3,su,sua,sumd,tds,tof,upo,ust,zfo",
];

/// Value tables HA translates with (`TRANSLATIONS`): key → largest known value.
const TABLES: &[(&str, i64)] = &[
    ("car", 5),
    ("cus", 5),
    ("err", 24),
    ("modelStatus", 40),
    ("ffb", 2),
    ("frm", 2),
    ("lck", 3),
    ("pwm", 2),
    ("wsms", 3),
    ("wst", 10),
];

/// HA entities (const.py) by kind.
const NUMBERS: &[&str] = &[
    "ama", "amp", "ate", "att", "awp", "cco", "dwo", "fmt", "fst", "lbr", "lof", "lop", "lot",
    "mca", "mci", "mcpd", "mcpea", "mptwt", "mpwst", "pgt", "po", "psh", "psmd", "rdbs", "rdes",
    "rdbf", "rdef", "rdre", "rdpl", "sh", "spl3", "sumd", "zfo",
];
const SELECTS: &[&str] = &[
    "sch_week",
    "sch_satur",
    "sch_sund",
    "ct",
    "bac",
    "frc",
    "lmo",
    "loty",
    "psm",
    "sdp",
    "trx",
    "tds",
    "ust",
    "frm",
    "ips",
];
const SWITCHES: &[&str] = &[
    "acp", "acs", "ara", "awe", "cmse", "cwe", "fup", "fzf", "loe", "lse", "nmo", "su", "sua",
    "upo", "ocppe", "mece", "hai", "wda", "mme", "iim",
];

/// Entity keys of newer firmware (59.x/60.x, OCPP, the go-e Controller) that
/// the emulated 56.2 key table does not have: HA shows them unavailable, and
/// never writes them while they have no value.
const NOT_EMULATED: &[&str] = &[
    "cmse", "iim", "ips", "mece", "mme", "ocppe", "rdbf", "rdbs", "rdef", "rdes", "rdpl", "rdre",
    "wda",
];

/// One HA status read: 200 (or 400), JSON, only requested keys, every
/// requested key the table has, in registration order.
async fn read(api: &Api, filter: &str) -> Ordered {
    let q = format!("/api/status?filter={filter}");
    let r = api.get(&q).await;
    assert!(r.status == 200 || r.status == 400, "{q}: {}", r.status);
    assert_eq!(r.status, 200, "{q}: our firmware profile answers 200");
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let st = r.object(&q);
    let requested: Vec<&str> = filter.split(',').collect();
    for k in st.keys() {
        assert!(requested.contains(&k), "{q}: {k} was not requested");
    }
    for k in &requested {
        let ours = goe_keys::key(k).is_some_and(|d| d.access.readable());
        assert_eq!(
            st.has(k),
            ours,
            "{q}: {k} answered iff our table has it readable"
        );
    }
    let order: Vec<usize> = st
        .keys()
        .iter()
        .map(|k| goe_keys::key_id(k).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "{q}: registration order"
    );
    for (k, max) in TABLES {
        if let Some(v) = st.get(k) {
            let n = v
                .as_i64()
                .unwrap_or_else(|| panic!("{k} must be an integer: {v}"));
            assert!(
                (0..=*max).contains(&n),
                "{k}={n} is outside HA's table 0..={max}"
            );
        }
    }
    st
}

fn check_min_states(st: &Ordered) {
    assert_eq!(
        st.get("nrg").and_then(Value::as_array).map(Vec::len),
        Some(16)
    );
    assert!(
        st.get("tma")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty())
    );
    let trx = st.get("trx").unwrap();
    assert!(trx.is_null() || trx.as_i64().is_some(), "trx {trx}");
}

#[tokio::test]
async fn home_assistant_filter_sets_are_answered_in_every_state() {
    for state in [State::Idle, State::Charging, State::Complete] {
        let sim = Sim::manual();
        sim.reach(state).await;
        let api = &sim.api;
        let sys = read(api, SYSTEMS).await;
        assert_eq!(sys.get("var"), Some(&json!(11)));
        assert_eq!(sys.get("sse"), Some(&json!("012345")));
        let ver = read(api, VERSIONS).await;
        let fwv = ver.get("fwv").and_then(Value::as_str).unwrap();
        let core = fwv.split('-').next().unwrap();
        assert!(
            core.split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "packaging.Version({core:?})"
        );
        let major: u64 = core.split('.').next().unwrap().parse().unwrap();
        assert!(major < 60 && ver.has("cards"), "below 60 HA reads `cards`");
        let min = read(api, &format!("{MIN_STATES}{TIMES_ADDON}")).await;
        check_min_states(&min);
        let want_car = match state {
            State::Idle => 1,
            State::Charging => 2,
            State::Complete => 4,
        };
        assert_eq!(int(&min, "car"), want_car);
        for part in ALL_STATES.iter().chain(&ALL_CONFIG) {
            read(api, part).await;
        }
    }
}

/// An HA write: GET /api/set with the pairs (values already in HA's encoding).
async fn ha_set(api: &Api, pairs: &[(&str, String)]) -> Value {
    let q = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = api.get(&format!("/api/set?{q}")).await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(r.status, 200, "HA needs 200 for {q}: {}", r.body);
    for (k, _) in pairs {
        assert!(
            v[*k].as_bool() == Some(true),
            "HA needs json[{k}] truthy for {q}: {}",
            r.body
        );
    }
    v
}

/// HA's encoding of a value it read back for an entity of `kind`.
fn encode(kind: &str, key: &str, v: &Value) -> Option<String> {
    Some(match (kind, v) {
        (_, Value::Null) => match key {
            "dwo" => "5000.0".into(),
            "mcpea" | "trx" => "null".into(),
            _ => return None,
        },
        ("number", Value::Number(n)) => format!("{:?}", n.as_f64().unwrap()),
        ("switch", Value::Bool(b)) => b.to_string(),
        ("switch", Value::Number(n)) => n.to_string(), // acs: is_zero_or_one
        ("select", Value::Number(n)) => n.to_string(),
        ("select", Value::Bool(b)) => u8::from(*b).to_string(), // bac, sdp as 0/1
        ("select", Value::String(s)) => format!("\"{s}\""),
        ("select", Value::Object(_)) => {
            // the schedules: the select writes a compact dict
            serde_json::to_string(v).unwrap()
        }
        _ => panic!("no HA encoding for {kind} {key}={v}"),
    })
}

#[tokio::test]
async fn home_assistant_entity_writes_round_trip() {
    let sim = Sim::manual();
    sim.reach(State::Charging).await;
    let api = &sim.api;
    let mut missing = Vec::new();
    let mut written = 0;
    for (kind, keys) in [
        ("number", NUMBERS),
        ("select", SELECTS),
        ("switch", SWITCHES),
    ] {
        for key in keys.iter() {
            let Some(def) = goe_keys::key(key) else {
                missing.push(*key);
                continue;
            };
            assert!(def.access.writable(), "HA writes {key}; ours is read-only");
            if *key == "hai" {
                // writing hai=false would switch the API off; its current value:
                ha_set(api, &[("hai", "true".into())]).await;
                written += 1;
                continue;
            }
            let current = api.value(key).await.unwrap_or(Value::Null);
            let Some(raw) = encode(kind, key, &current) else {
                continue;
            };
            ha_set(api, &[(key, raw.clone())]).await;
            written += 1;
            let after = api.value(key).await.unwrap_or(Value::Null);
            if !current.is_null() {
                assert!(
                    crate::common::json_eq(&current, &after),
                    "{key}: wrote back {raw}, status shows {after} (was {current})"
                );
            }
        }
    }
    missing.sort();
    let mut expected = NOT_EMULATED.to_vec();
    expected.sort();
    assert_eq!(
        missing, expected,
        "HA entity keys our table lacks (update NOT_EMULATED)"
    );
    assert!(written > 50, "{written} entity writes");

    // several keys per request, floats from number entities
    let v = ha_set(api, &[("amp", "8.0".into()), ("psm", "1".into())]).await;
    assert_eq!(v, json!({"amp": true, "psm": true}));
    // a string (quoted by HA)
    ha_set(api, &[("fna", "\"HA garage\"".into())]).await;
    assert_eq!(api.value("fna").await, Some(json!("HA garage")));

    // service set_pv_data: ids as compact JSON with floats
    ha_set(
        api,
        &[(
            "ids",
            r#"{"pGrid":-1500.0,"pPv":2000.0,"pAkku":0.0}"#.into(),
        )],
    )
    .await;
    let st = read(api, &format!("{MIN_STATES}{IDS_ADDON}{TIMES_ADDON}")).await;
    check_min_states(&st);
    assert_eq!(st.get("pgrid"), Some(&json!(-1500)), "{}", st.raw);
    assert_eq!(st.get("ppv"), Some(&json!(2000)), "{}", st.raw);
    assert_eq!(st.get("pakku"), Some(&json!(0)), "{}", st.raw);

    // service stop_charging: frc=1, 300 s, frc=0
    ha_set(api, &[("frc", "1".into())]).await;
    sim.until(2, 1, "alw,modelStatus", "stopped", |s| {
        s.get("alw") == Some(&json!(false)) && int(s, "modelStatus") == 4
    })
    .await;
    sim.advance(300).await;
    ha_set(api, &[("frc", "0".into())]).await;
    sim.until(2, 1, "modelStatus", "back to the default logic", |s| {
        int(s, "modelStatus") == 15
    })
    .await;

    // the button: rst=true restarts, configuration kept
    let rbc = api.value("rbc").await.unwrap();
    ha_set(api, &[("rst", "true".into())]).await;
    let after = api.value("rbc").await.unwrap();
    assert_eq!(after.as_i64(), rbc.as_i64().map(|n| n + 1));
    assert_eq!(api.value("fna").await, Some(json!("HA garage")));
}

#[tokio::test]
async fn home_assistant_reads_error_answers_by_content_length() {
    let sim = Sim::manual();
    let r = sim.api.get("/api/set?amp=99&fna=%22ok%20name%22").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json")
    );
    let len: usize = r
        .header("content-length")
        .expect("HA reads Content-Length of a 500 directly")
        .parse()
        .unwrap();
    assert!(len > 0 && len == r.bytes.len());
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(
        v,
        json!({"amp": "amp: failed: Value 99 exceeds range 6 to 32 (99)", "fna": true})
    );
}
