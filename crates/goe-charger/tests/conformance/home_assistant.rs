//! Replay of the Home Assistant integration marq24/ha-goecharger-api2
//! (`pygoecharger_ha/__init__.py`, `pygoecharger_ha/const.py`, `const.py`,
//! `number.py`, `select.py`, `switch.py`, `button.py` at b48a90c;
//! clients.md §1.6), which needs Home Assistant itself to run. What it sends
//! and relies on:
//!
//! - its filter sets at start-up and in its polls (commas unencoded, one
//!   request each): SYSTEMS, VERSIONS, MIN_STATES (+ the `ids` and times
//!   add-ons), ALL_STATES and ALL_CONFIG. It accepts HTTP 200 or 400 with a
//!   JSON body (firmware 60.3+ answers 400 when the filter names a key the
//!   unit does not print, with the known keys in the body) and partial
//!   answers; the values it translates must be inside its tables (`car`,
//!   `cus`, `err`, `modelStatus`, `ffb`, `frm`, `lck`, `pwm`, `wsms`, `wst`).
//! - `fwv` parsed with `packaging.Version` (after a `-`, cut): from 60.0 on
//!   and only when VERSIONS shows no (or an empty) `cards`, ALL_STATES asks
//!   `c0e…c9e` and ALL_CONFIG `c0i…c9i` instead of `cards`.
//! - writes through `/api/set` with aiohttp params: bool → `true`/`false`
//!   (`acs` as 0/1), int → `16`; number entities write `int(value)` (times
//!   their `factor`; `awp`/`cco` as floats `3.0`; 0 as `null` for `dwo`,
//!   `mcpea`), selects `int(option)`, str → quoted, dict → compact JSON: the
//!   `lot.*` numbers and the schedules' `control` select write the WHOLE
//!   object they read with one field changed (the schedules without the
//!   ranges' `second`); the restart button sends the string `rst="true"`.
//!   Several keys per request (car type). Success iff HTTP 200 and
//!   `json[key]` truthy; an HTTP 500 with `Content-Length` > 0 is parsed as
//!   the error.
//! - services: `set_pv_data` (`ids`), `stop_charging` (`frc=1`, 300 s, `frc=0`).
//!
//! Every test runs on each firmware of [`crate::harness::FIRMWARES`].

use crate::common::{Api, Ordered, Resp, enc};
use crate::harness::{Fw, Sim, State, int, per_firmware, print_order, prints};
use goe_keys::fw as version;
use serde_json::{Value, json};

const SYSTEMS: &str = "oem,sse,typ,var";
const CARDS_CLASSIC: &str = "cards";
const CARDS_ID_FWV60: &str = "c0i,c1i,c2i,c3i,c4i,c5i,c6i,c7i,c8i,c9i";
const CARDS_ENGY_FWV60: &str = "c0e,c1e,c2e,c3e,c4e,c5e,c6e,c7e,c8e,c9e";
const VERSIONS: &str =
    "ccrv,typ,log,fwc,fwv,var,cll,adi,cards,c0i,c1i,c2i,c3i,c4i,c5i,c6i,c7i,c8i,c9i";
const MIN_STATES: &str = "car,modelStatus,err,nrg,tma,trx";
const IDS_ADDON: &str = ",pakku,ppv,pgrid";
const TIMES_ADDON: &str = ",rbt,fsptws,inva,lbp,lccfc,lccfi,lcctc,lfspt,lmsc,lpsc,lcs";
/// `{C}`: `cards` or `c0e…c9e` (HA's `CARDS_ENERGY_FILTER`).
const ALL_STATES: &str = "alw,acu,adi,amt,atp,awcp,car,{C},cbl,ccu,ccw,cdi,cll,cus,ctrls,deltaa,deltap,di1,err,eto,ffb,fhz,fsp,fsptws,inva,lbp,lccfc,lccfi,lcctc,lck,lfspt,lmsc,loa,lpsc,mcpea,mmp,modelStatus,nif,nrg,pakku,pgrid,pha,pnp,ppv,pvopt_averagePAkku,pvopt_averagePGrid,pvopt_averagePPv,pwm,rbc,rbt,rfb,rssi,rst,tlf,tls,tma,tpa,trx,wh,wsms,wst";
/// `{C}`: `cards` or `c0i…c9i` (HA's `CARDS_ID_FILTER`).
const ALL_CONFIG: &str = "acp,acs,ama,amp,ara,ate,att,awc,awe,awp,bac,{C},cch,cco,cfi,cid,clp,cmse,ct,cwc,cwe,dwo,esk,fmt,fna,frc,frm,fst,fup,fzf,hsa,lbr,lmo,loe,lof,log,lop,lot,loty,lse,map,mca,mci,mcpd,mptwt,mpwst,nmo,ocppe,pgt,po,psh,psm,psmd,rdbf,rdbs,rdef,rdes,rdre,rdpl,sch_satur,sch_sund,sch_week,sdp,sh,spl3,su,sua,sumd,tds,tof,upo,ust,zfo";

/// Keys HA's filter sets ask that a unit of this firmware does not print:
/// absent from it (`fwc ccu rfb`: 2021 keys in no capture of that generation
/// and no firmware export) or write-only there (`rst`, `hsa`). Research data:
/// /work/fw12/matrix.tsv (captures, firmware exports 59.4–60.4), docs/compat.md
/// "Firmware profiles (#12)". Everything else HA asks is answered.
fn not_printed(fw: Fw) -> Vec<&'static str> {
    let mut keys = vec!["ccu", "fwc", "hsa", "rfb", "rst"];
    if fw.firmware < version(60, 0) {
        // keys of 59.x/60.x: the per-card ids (60.0), the controller
        // version, the mDNS switch, the random delays
        keys.extend([
            "c0i", "c1i", "c2i", "c3i", "c4i", "c5i", "c6i", "c7i", "c8i", "c9i", "ccrv", "cmse",
            "rdbf", "rdbs", "rdef", "rdes", "rdpl", "rdre",
        ]);
    }
    keys.sort();
    keys
}

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

/// How an HA number entity converts (`ExtNumberEntityDescription`).
#[derive(Debug, Clone, Copy)]
enum Num {
    /// `int(value)`
    Int,
    /// shown as `value / factor`, written as `int(shown * factor)`
    Factor(i64),
    /// `handle_as_float`: `float(value)`
    Float,
    /// `write_zero_as_null`: 0 is written as `null`
    ZeroAsNull(i64),
}

/// HA's number entities (without the `lot.*` fields, see [`LOT_FIELDS`]).
const NUMBERS: &[(&str, Num)] = &[
    ("ama", Num::Int),
    ("amp", Num::Int),
    ("ate", Num::Int),
    ("att", Num::Factor(60)),
    ("awp", Num::Float),
    ("cco", Num::Float),
    ("dwo", Num::ZeroAsNull(1)),
    ("fmt", Num::Factor(60000)),
    ("fst", Num::Int),
    ("lbr", Num::Int),
    ("lof", Num::Int),
    ("lop", Num::Int),
    ("mca", Num::Int),
    ("mci", Num::Factor(60000)),
    ("mcpd", Num::Factor(60000)),
    ("mcpea", Num::ZeroAsNull(60000)),
    ("mptwt", Num::Factor(60000)),
    ("mpwst", Num::Factor(60000)),
    ("pgt", Num::Int),
    ("po", Num::Int),
    ("psh", Num::Int),
    ("psmd", Num::Factor(1000)),
    ("rdbs", Num::Int),
    ("rdes", Num::Int),
    ("rdbf", Num::Int),
    ("rdef", Num::Int),
    ("rdre", Num::Int),
    ("rdpl", Num::Int),
    ("sh", Num::Int),
    ("spl3", Num::Int),
    ("sumd", Num::Factor(1000)),
    ("zfo", Num::Int),
];

/// The four `lot` number entities (`idx`) and a value inside HA's range for
/// each (amp 6–32 (16 on an 11 kW unit), dyn 6–64, sta 6–32 (16), ts 0–4000).
const LOT_FIELDS: &[(&str, i64)] = &[("amp", 10), ("dyn", 12), ("sta", 8), ("ts", 5)];

/// HA's selects without an `idx` (written as `int(option)`; `ct` separately).
const SELECTS: &[&str] = &[
    "bac", "frc", "lmo", "loty", "psm", "sdp", "trx", "tds", "ust", "frm",
];
/// The schedule selects (`idx` `control`, options 0–4).
const SCHEDULES: &[&str] = &["sch_week", "sch_satur", "sch_sund"];
/// HA's switches (`acs` writes 0/1).
const SWITCHES: &[&str] = &[
    "acp", "acs", "ara", "awe", "cmse", "cwe", "fup", "fzf", "hsa", "lse", "nmo", "su", "sua",
    "upo", "ocppe", "hai", "wda",
];
/// Entities of the go-e Controller (its own device type): no charger has them.
const CONTROLLER: &[&str] = &["iim", "ips", "mece", "mme"];

/// HA's `CT_VALUES_MAP` (select option → `ct` value).
const CT_VALUES: &[&str] = &[
    "default",
    "kiaSoul",
    "renaultZoe",
    "MitsubishiImiev",
    "citroenCZero",
    "peugeotIon",
    "ecorsa",
    "vwID3_2",
    "vwID3_4",
    "vwID5",
    "cupraBornStandard",
    "cupraBornAlternative",
    "fordExplorer",
    "porscheTaycan",
    "SkodaEnyaq",
    "daciaSpring",
    "mercedes",
    "ssangyong",
];

/// The answer a unit of `fw` gives to a filter: 400 on 60.3+ when the filter
/// names a key it does not print, else 200.
fn expected_status(fw: Fw, requested: &[&str]) -> u16 {
    let unprinted = requested.iter().any(|k| !prints(fw, k));
    if unprinted && fw.firmware >= version(60, 3) {
        400
    } else {
        200
    }
}

/// One HA status read: the status the firmware gives (200, or 400 on 60.3+
/// for a filter with keys it does not print), a JSON body (aiohttp's
/// `res.json()` needs the content type), exactly the requested keys the
/// firmware prints, in its print order, values inside HA's tables.
async fn read(fw: Fw, api: &Api, filter: &str) -> Ordered {
    let q = format!("/api/status?filter={filter}");
    let r = api.get(&q).await;
    let requested: Vec<&str> = filter.split(',').collect();
    assert!(r.status == 200 || r.status == 400, "{q}: {}", r.status);
    assert_eq!(
        r.status,
        expected_status(fw, &requested),
        "fw {}: {q}: {}",
        fw.firmware,
        r.body
    );
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json"),
        "{q}"
    );
    let st = r.object(&q);
    assert_eq!(
        st.keys(),
        print_order(fw, &requested),
        "fw {}: {q}: every requested key the firmware prints, in its order",
        fw.firmware
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

/// `packaging.Version(fwv)` after HA's patch (cut at `-`): (major, minor).
fn ha_version(fwv: &str) -> (u64, u64) {
    let core = fwv.split('-').next().unwrap();
    let parts: Vec<u64> = core
        .split('.')
        .map(|p| {
            assert!(
                !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()),
                "packaging.Version({core:?})"
            );
            p.parse().unwrap()
        })
        .collect();
    (parts[0], parts.get(1).copied().unwrap_or(0))
}

/// HA's choice after reading VERSIONS (`read_versions`): the classic `cards`
/// below 60.0 or while `cards` is non-empty, else the per-card keys. Returns
/// the (ALL_STATES, ALL_CONFIG) filters it polls from then on.
fn ha_filters(versions: &Ordered) -> (String, String, bool) {
    let fwv = versions.get("fwv").and_then(Value::as_str).unwrap_or("0.0");
    let cards_empty = versions
        .get("cards")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty);
    let fwv60 = ha_version(fwv) >= (60, 0) && cards_empty;
    let (energies, ids) = if fwv60 {
        (CARDS_ENGY_FWV60, CARDS_ID_FWV60)
    } else {
        (CARDS_CLASSIC, CARDS_CLASSIC)
    };
    (
        ALL_STATES.replace("{C}", energies),
        ALL_CONFIG.replace("{C}", ids),
        fwv60,
    )
}

async fn home_assistant_filter_sets_are_answered_in_every_state(fw: Fw) {
    for state in [State::Idle, State::Charging, State::Complete] {
        let sim = Sim::manual(fw);
        sim.reach(state).await;
        let api = &sim.api;
        let mut asked: Vec<&str> = Vec::new();
        let mut answered: Vec<String> = Vec::new();
        let mut note = |_filter: &str, st: &Ordered| {
            answered.extend(st.keys().into_iter().map(str::to_owned));
        };

        let sys = read(fw, api, SYSTEMS).await;
        note(SYSTEMS, &sys);
        assert_eq!(sys.get("var"), Some(&json!(11)));
        assert_eq!(sys.get("sse"), Some(&json!("012345")));

        let ver = read(fw, api, VERSIONS).await;
        note(VERSIONS, &ver);
        assert_eq!(ver.get("fwv"), Some(&json!(fw.fwv)), "{}", ver.raw);
        let (states, config, fwv60) = ha_filters(&ver);
        // the real 060.5 capture still prints `cards` (non-empty) beside the
        // per-card keys: HA keeps the classic `cards` on both profiles
        assert!(
            !fwv60,
            "fw {}: `cards` is printed, HA reads it: {}",
            fw.firmware, ver.raw
        );

        // HA's `available_cards_idx` (the trx select's options): from
        // `cards[].cardId`, or from `c0i…c9i` on 60.x without `cards`; on a
        // profile that prints both they name the same cards
        if prints(fw, "c0i") {
            let cards = ver.get("cards").and_then(Value::as_array).unwrap();
            for (i, card) in cards.iter().enumerate() {
                assert_eq!(
                    ver.get(&format!("c{i}i")),
                    Some(&card["cardId"]),
                    "fw {}: c{i}i vs cards[{i}].cardId: {}",
                    fw.firmware,
                    ver.raw
                );
            }
        }

        let min_filter = format!("{MIN_STATES}{IDS_ADDON}{TIMES_ADDON}");
        let min = read(fw, api, &min_filter).await;
        note(&min_filter, &min);
        check_min_states(&min);
        let want_car = match state {
            State::Idle => 1,
            State::Charging => 2,
            State::Complete => 4,
        };
        assert_eq!(int(&min, "car"), want_car);
        let all_states = read(fw, api, &states).await;
        note(&states, &all_states);
        let all_config = read(fw, api, &config).await;
        note(&config, &all_config);

        for f in [SYSTEMS, VERSIONS, min_filter.as_str(), &states, &config] {
            asked.extend(f.split(','));
        }
        asked.sort();
        asked.dedup();
        let mut missing: Vec<&str> = asked
            .iter()
            .copied()
            .filter(|k| !answered.iter().any(|a| a == k))
            .collect();
        missing.sort();
        assert_eq!(
            missing,
            not_printed(fw),
            "fw {} ({state:?}): keys HA asks that are not answered",
            fw.firmware
        );

        if fw.firmware >= version(60, 0) {
            // what HA polls on a 60.x unit that shows no `cards` (its
            // `FWV60` filters): every per-card key is answered too
            let states60 = ALL_STATES.replace("{C}", CARDS_ENGY_FWV60);
            let config60 = ALL_CONFIG.replace("{C}", CARDS_ID_FWV60);
            let s = read(fw, api, &states60).await;
            let c = read(fw, api, &config60).await;
            for k in CARDS_ENGY_FWV60.split(',') {
                assert!(
                    s.get(k).is_some_and(Value::is_u64),
                    "{k}: an energy: {}",
                    s.raw
                );
            }
            for k in CARDS_ID_FWV60.split(',') {
                assert!(
                    c.get(k).is_some_and(Value::is_boolean),
                    "{k}: set or not: {}",
                    c.raw
                );
            }
        }
    }
}

/// An HA write: GET /api/set with the pairs (values already in HA's encoding).
async fn ha_set(api: &Api, pairs: &[(&str, String)]) -> Value {
    let (r, q) = ha_send(api, pairs).await;
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

async fn ha_send(api: &Api, pairs: &[(&str, String)]) -> (Resp, String) {
    let q = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = api.get(&format!("/api/set?{q}")).await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/json"),
        "{q}"
    );
    (r, q)
}

/// A key's value as HA's coordinator holds it (`None`: not printed).
async fn current(fw: Fw, api: &Api, key: &str) -> Option<Value> {
    if !prints(fw, key) {
        return None;
    }
    api.value(key).await
}

/// What HA writes for a number entity showing the status value `v`
/// (`async_set_native_value` with the value it shows).
fn encode_number(conv: Num, v: &Value) -> Option<String> {
    if v.is_null() {
        return match conv {
            // shown as unknown; a user typing 0 writes null
            Num::ZeroAsNull(_) => Some("null".into()),
            _ => None,
        };
    }
    let x = v.as_f64()?;
    Some(match conv {
        Num::Int => format!("{}", x.trunc() as i64),
        Num::Float => format!("{x:?}"),
        Num::Factor(f) | Num::ZeroAsNull(f) => {
            let shown = (x as i64) / f;
            if shown == 0 && matches!(conv, Num::ZeroAsNull(_)) {
                "null".into()
            } else {
                (shown * f).to_string()
            }
        }
    })
}

/// Whether HA's write of `raw` reproduces the value `v` (no truncation).
fn exact(raw: &str, v: &Value) -> bool {
    match (raw.parse::<f64>(), v.as_f64()) {
        (Ok(a), Some(b)) => a == b,
        _ => raw == "null" && v.is_null(),
    }
}

/// The schedule object as HA writes it: the ranges without `second`.
fn without_seconds(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(ranges) = v.get_mut("ranges").and_then(Value::as_array_mut) {
        for r in ranges {
            for end in ["begin", "end"] {
                if let Some(o) = r.get_mut(end).and_then(Value::as_object_mut) {
                    o.remove("second");
                }
            }
        }
    }
    v
}

async fn home_assistant_entity_writes_round_trip(fw: Fw) {
    let sim = Sim::manual(fw);
    sim.reach(State::Charging).await;
    let api = &sim.api;
    let mut absent = Vec::new();
    let mut written = 0;
    let mut check_key = |key: &'static str| -> bool {
        match fw.key(key) {
            None => {
                absent.push(key);
                false
            }
            Some(_) => true,
        }
    };

    // ---- numbers: the value shown, written back as HA converts it
    for (key, conv) in NUMBERS {
        if !check_key(key) {
            continue;
        }
        let Some(now) = current(fw, api, key).await else {
            continue;
        };
        let Some(raw) = encode_number(*conv, &now) else {
            continue;
        };
        ha_set(api, &[(key, raw.clone())]).await;
        written += 1;
        let after = api.value(key).await.unwrap_or(Value::Null);
        if exact(&raw, &now) {
            assert!(
                crate::common::json_eq(&now, &after),
                "{key}: wrote back {raw}, status shows {after} (was {now})"
            );
        }
    }

    // ---- the four lot.* numbers: the whole object with one field changed
    assert!(check_key("lot"));
    let lot = current(fw, api, "lot").await.expect("lot is printed");
    assert!(
        lot.is_object(),
        "fw {}: HA's lot.* entities read an object: {lot}",
        fw.firmware
    );
    for (field, value) in LOT_FIELDS {
        let mut obj = api.value("lot").await.unwrap();
        assert!(obj.get(field).is_some(), "lot.{field} in {obj}");
        obj[field] = json!(value);
        let raw = serde_json::to_string(&obj).unwrap();
        ha_set(api, &[("lot", raw.clone())]).await;
        written += 1;
        let after = api.value("lot").await.unwrap();
        assert!(
            crate::common::json_eq(&obj, &after),
            "lot.{field}: wrote {raw}, status shows {after}"
        );
    }

    // ---- selects: int(option), every option of bac and sdp (0–3)
    for key in SELECTS {
        if !check_key(key) {
            continue;
        }
        let Some(now) = current(fw, api, key).await else {
            continue;
        };
        let raw = match &now {
            Value::Null => "null".to_owned(),
            Value::Number(n) => n.to_string(),
            v => panic!(
                "fw {}: HA's select {key} writes int(option); status {v}",
                fw.firmware
            ),
        };
        ha_set(api, &[(key, raw.clone())]).await;
        written += 1;
        assert_eq!(api.value(key).await, Some(now.clone()), "{key}={raw}");
    }
    for key in ["bac", "sdp"] {
        let before = api.value(key).await.unwrap();
        for option in 0..=3 {
            ha_set(api, &[(key, option.to_string())]).await;
            assert_eq!(
                api.value(key).await,
                Some(json!(option)),
                "fw {}: HA's {key} select option {option}",
                fw.firmware
            );
        }
        ha_set(api, &[(key, before.to_string())]).await;
    }

    // ---- the schedules: the whole object without `second`, control changed
    for key in SCHEDULES {
        assert!(check_key(key));
        let now = api.value(key).await.unwrap();
        let controls: &[i64] = if fw.firmware >= version(60, 0) {
            &[0, 1, 2, 3, 4]
        } else {
            &[0, 1, 2]
        };
        for control in controls {
            let mut obj = without_seconds(&now);
            obj["control"] = json!(control);
            let raw = serde_json::to_string(&obj).unwrap();
            ha_set(api, &[(key, raw.clone())]).await;
            written += 1;
            let after = api.value(key).await.unwrap();
            assert_eq!(
                without_seconds(&after),
                obj,
                "fw {}: {key}: wrote {raw}, status {after}",
                fw.firmware
            );
        }
        let raw = serde_json::to_string(&without_seconds(&now)).unwrap();
        ha_set(api, &[(key, raw)]).await;
    }

    // ---- the car type select: several keys in one request
    assert!(check_key("ct"));
    let ct = api.value("ct").await.unwrap();
    let option = ct
        .as_str()
        .filter(|c| CT_VALUES.contains(c))
        .unwrap_or("default");
    let v = ha_set(
        api,
        &[
            ("ct", format!("\"{option}\"")),
            ("mca", "6".into()),
            ("acp", "true".into()),
            ("su", "false".into()),
            ("psm", "0".into()),
            ("mcpd", "0".into()),
        ],
    )
    .await;
    assert_eq!(v["ct"], json!(true));
    assert_eq!(api.value("ct").await, Some(json!(option)));

    // ---- switches: true/false (acs 0/1); read-only keys are refused the
    // firmware's way (HA parses the 500 body), write-only keys take writes
    for key in SWITCHES {
        if !check_key(key) {
            continue;
        }
        let def = fw.key(key).unwrap().1;
        if *key == "hai" {
            // writing hai=false would switch the API off; its current value:
            ha_set(api, &[("hai", "true".into())]).await;
            written += 1;
            continue;
        }
        if !def.access.writable() {
            let (r, q) = ha_send(api, &[(key, "true".into())]).await;
            assert_eq!(
                r.status, 500,
                "fw {}: {q} on a read-only key: {}",
                fw.firmware, r.body
            );
            let len: usize = r.header("content-length").unwrap().parse().unwrap();
            assert!(len > 0, "HA reads the body of a 500 by Content-Length");
            continue;
        }
        let now = current(fw, api, key).await;
        let raw = match (key, &now) {
            (_, None) => "false".to_owned(), // write-only: HA's switch still writes
            (_, Some(Value::Bool(b))) => b.to_string(),
            (&"acs", Some(Value::Number(n))) => n.to_string(),
            (_, Some(v)) => panic!("fw {}: switch {key} shows {v}", fw.firmware),
        };
        ha_set(api, &[(key, raw.clone())]).await;
        written += 1;
        if let Some(now) = now {
            assert_eq!(api.value(key).await, Some(now), "{key}={raw}");
        }
    }

    // ---- which entity keys this firmware lacks
    for key in CONTROLLER {
        assert!(fw.key(key).is_none(), "{key} is a go-e Controller key");
    }
    absent.sort();
    let mut expected: Vec<&str> = if fw.firmware < version(60, 0) {
        vec!["cmse", "rdbf", "rdbs", "rdef", "rdes", "rdpl", "rdre"]
    } else {
        vec![]
    };
    expected.sort();
    assert_eq!(
        absent, expected,
        "fw {}: HA entity keys the profile lacks",
        fw.firmware
    );
    assert!(written > 50, "{written} entity writes");

    // several keys per request
    let v = ha_set(api, &[("amp", "8".into()), ("psm", "1".into())]).await;
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
    let st = read(fw, api, &format!("{MIN_STATES}{IDS_ADDON}{TIMES_ADDON}")).await;
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

    // the restart button: its payload is the string "true" (HA quotes a
    // str), the charger restarts, configuration kept
    let rbc = api.value("rbc").await.unwrap();
    ha_set(api, &[("rst", "\"true\"".into())]).await;
    let after = api.value("rbc").await.unwrap();
    assert_eq!(after.as_i64(), rbc.as_i64().map(|n| n + 1));
    assert_eq!(api.value("fna").await, Some(json!("HA garage")));
}

async fn home_assistant_reads_error_answers_by_content_length(fw: Fw) {
    let sim = Sim::manual(fw);
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
    assert_eq!(v["fna"], json!(true), "{v}");
    let amp = v["amp"].as_str().unwrap_or_default();
    assert!(
        amp.starts_with("amp: failed: Value 99 exceeds range 6 to ") && amp.ends_with(" (99)"),
        "{v}"
    );
}

per_firmware!(
    home_assistant_filter_sets_are_answered_in_every_state,
    home_assistant_entity_writes_round_trip,
    home_assistant_reads_error_answers_by_content_length,
);
