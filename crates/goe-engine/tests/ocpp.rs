//! The engine side of OCPP (issue #14) on simulated time: the backend's
//! authorization, the charging profiles' limit (modelStatus 28), the
//! fallback current (35), ChangeAvailability Inoperative (37), one phase
//! from `numberPhases`, UnlockConnector and swipes by id. Every second of
//! every test checks the limit invariants (no limit exceeded, the car never
//! draws more than it is offered).

use goe_engine::{CarProfile, Charger, OcppLink, SimTime};
use serde_json::{Value as J, json};

/// 2024-06-03T06:00:00Z, a Monday.
const MONDAY_6_UTC: i64 = 1_717_394_400_000;

const ONLINE: OcppLink = OcppLink {
    enabled: true,
    connected: true,
    accepted: true,
};
const OFFLINE: OcppLink = OcppLink {
    enabled: true,
    connected: false,
    accepted: false,
};

struct Sim {
    c: Charger,
    now: SimTime,
    prev_acu: Option<f64>,
    /// The OCPP limit in force (A), checked against `acu` every second.
    ocpp_limit: Option<f64>,
}

impl Sim {
    /// A 060.5 charger with OCPP on and the backend online.
    fn new() -> Sim {
        Sim::on("060.5")
    }

    fn on(firmware: &str) -> Sim {
        let now = SimTime(MONDAY_6_UTC);
        let profile = goe_keys::profile(firmware).unwrap();
        let c = Charger::boot_on(profile, "012345", None, now, 7).unwrap();
        let mut s = Sim {
            c,
            now,
            prev_acu: None,
            ocpp_limit: None,
        };
        s.set("ocppe", "true");
        s.c.set_ocpp_link(s.now, ONLINE);
        s
    }

    fn set(&mut self, key: &str, raw: &str) -> &mut Self {
        self.c
            .set(self.now, key, raw)
            .unwrap_or_else(|e| panic!("set {key}={raw}: {e}"));
        self
    }

    fn plug(&mut self, profile: &str) -> &mut Self {
        self.c
            .plug(self.now, CarProfile::builtin(profile).unwrap(), 40.0)
            .unwrap();
        self
    }

    fn limit(&mut self, limit: Option<(f64, Option<u8>)>) -> &mut Self {
        self.c.set_ocpp_limit(self.now, limit);
        self.ocpp_limit = limit.map(|(a, _)| a);
        self
    }

    fn status(&mut self) -> J {
        let mut s = String::new();
        self.c.write_status(self.now, None, &mut s);
        serde_json::from_str(&s).unwrap()
    }

    fn get(&mut self, key: &str) -> J {
        self.status()[key].clone()
    }

    fn ms(&mut self) -> i64 {
        self.get("modelStatus").as_i64().unwrap()
    }

    fn amps(&mut self) -> f64 {
        let nrg = self.get("nrg");
        (4..7).map(|i| nrg[i].as_f64().unwrap()).fold(0.0, f64::max)
    }

    fn run(&mut self, secs: u32) -> &mut Self {
        for _ in 0..secs {
            self.now = self.now.plus_ms(1000);
            self.c.step(self.now);
            self.check_invariants();
        }
        self
    }

    fn check_invariants(&mut self) {
        let s = self.status();
        let acu = s["acu"].as_f64();
        if let Some(a) = acu {
            for (name, limit) in s["cll"].as_object().unwrap() {
                if name == "minChargingCurrent" {
                    continue;
                }
                let limit = limit.as_f64().unwrap();
                assert!(a <= limit, "acu {a} exceeds {name} {limit} at {}", s["utc"]);
            }
            assert!(a >= s["mca"].as_f64().unwrap(), "acu below mca");
            if let Some(l) = self.ocpp_limit {
                assert!(a <= l, "acu {a} above the OCPP limit {l} at {}", s["utc"]);
            }
        }
        assert_eq!(s["alw"].as_bool().unwrap(), acu.is_some(), "alw iff acu");
        let nrg = s["nrg"].as_array().unwrap();
        let drawn = (4..7).map(|i| nrg[i].as_f64().unwrap()).fold(0.0, f64::max);
        let allowed = acu.unwrap_or(0.0).max(self.prev_acu.unwrap_or(0.0));
        assert!(
            drawn <= allowed + 0.5,
            "car draws {drawn} A with acu {acu:?} (before {:?}) at {}",
            self.prev_acu,
            s["utc"]
        );
        self.prev_acu = acu;
    }
}

#[test]
fn a_charging_profile_limits_the_current_every_second_and_0_a_is_28() {
    let mut s = Sim::new();
    s.plug("ev-3p-11kw").run(5);
    assert_eq!(s.ms(), 15);
    assert!(s.amps() > 15.0);
    // the limit is floored: never above 10.7 A
    s.limit(Some((10.7, None))).run(5);
    assert_eq!(s.get("acu"), 10);
    assert_eq!(s.get("cll")["ocppCurrentLimit"], 10);
    assert!(s.amps() <= 10.5, "{}", s.amps());
    assert_eq!(s.ms(), 15);
    // below mca: not charging because OCPP does not want
    s.limit(Some((5.9, None))).run(1);
    assert_eq!(s.ms(), 28);
    assert_eq!(s.get("alw"), false);
    s.limit(Some((0.0, None))).run(3);
    assert_eq!(s.ms(), 28);
    assert_eq!(s.amps(), 0.0);
    // no profile any more: back to the cascade's own result
    s.limit(None).run(5);
    assert_eq!(s.ms(), 15);
    assert_eq!(s.get("acu"), 16);
    assert!(s.get("cll").get("ocppCurrentLimit").is_none());
    // with OCPP off the charger ignores what a session said
    s.limit(Some((0.0, None)));
    s.ocpp_limit = None;
    s.set("ocppe", "false").run(3);
    assert_eq!(s.ms(), 15);
    s.set("ocppe", "true").run(2);
    assert_eq!(s.ms(), 28);
}

#[test]
fn the_fallback_current_applies_while_no_backend_accepted_the_charger() {
    let mut s = Sim::new();
    s.set("ocppf", "0").plug("ev-3p-11kw").run(3);
    assert_eq!(s.ms(), 15, "online: no fallback");
    s.c.set_ocpp_link(s.now, OFFLINE);
    s.run(2);
    assert_eq!(s.ms(), 35);
    assert_eq!(s.get("alw"), false);
    // connected but not (yet) accepted is no backend either
    s.c.set_ocpp_link(
        s.now,
        OcppLink {
            accepted: false,
            ..ONLINE
        },
    );
    s.run(2);
    assert_eq!(s.ms(), 35);
    s.c.set_ocpp_link(s.now, ONLINE);
    s.run(5);
    assert_eq!(s.ms(), 15);
    assert!(s.amps() > 15.0);
    // a fallback current above mca limits the current
    s.set("ocppf", "8");
    s.c.set_ocpp_link(s.now, OFFLINE);
    s.ocpp_limit = Some(8.0);
    s.run(5);
    assert_eq!(s.ms(), 15);
    assert_eq!(s.get("acu"), 8);
    assert_eq!(s.get("cll")["ocppCurrentLimit"], 8);
    // the lower of fallback and charging profile binds
    s.limit(Some((7.0, None))).run(2);
    assert_eq!(s.get("acu"), 7);
    s.limit(Some((12.0, None)));
    s.ocpp_limit = Some(8.0);
    s.run(2);
    assert_eq!(s.get("acu"), 8);
    // no fallback current (null): offline charging is not limited by it
    s.limit(None).set("ocppf", "null");
    s.ocpp_limit = None;
    s.run(3);
    assert_eq!(s.get("acu"), 16);
    // ... and OCPP off means no fallback at all
    s.set("ocppf", "0").set("ocppe", "false").run(2);
    assert_eq!(s.ms(), 15);
}

#[test]
fn inoperative_is_37_persisted_and_survives_a_reboot() {
    let mut s = Sim::new();
    s.plug("ev-3p-11kw").run(5);
    let out = s.c.set_ocpp_operative(s.now, false);
    assert!(
        out.persist,
        "ocppio is durable before ChangeAvailability is answered"
    );
    s.run(2);
    assert_eq!(s.ms(), 37);
    assert_eq!(s.get("ocppio"), true);
    assert_eq!(s.amps(), 0.0);
    // a restart keeps it, and so does a boot from the store
    s.c.restart(s.now);
    s.run(2);
    assert_eq!(s.ms(), 37);
    let stored = s.c.persisted_values();
    assert_eq!(stored["ocppio"], json!(true));
    let profile = goe_keys::profile("060.5").unwrap();
    let mut booted = Charger::boot_on(profile, "012345", Some(&stored), s.now, 7).unwrap();
    booted.step(s.now.plus_ms(1000));
    assert_eq!(
        booted.value("modelStatus").and_then(|v| v.as_i64()),
        Some(37)
    );
    // Operative again
    s.c.set_ocpp_operative(s.now, true);
    s.run(5);
    assert_eq!(s.ms(), 15);
    // the API key does the same; with OCPP off it has no effect
    s.set("ocppio", "true").run(1);
    assert_eq!(s.ms(), 37);
    s.set("ocppe", "false").run(1);
    assert_eq!(s.ms(), 15);
}

#[test]
fn on_056_2_the_codes_fall_back_to_what_its_enum_has() {
    let mut s = Sim::on("056.2");
    s.plug("ev-3p-11kw").run(3);
    assert!(s.c.profile().key("ocppio").is_none());
    let out = s.c.set_ocpp_operative(s.now, false);
    assert!(!out.persist, "no ocppio to persist on 056.2");
    s.run(1);
    // no 37 on 056.2: OCPP does not want (28)
    assert_eq!(s.ms(), 28);
    s.c.set_ocpp_operative(s.now, true);
    s.set("ocppf", "0");
    s.c.set_ocpp_link(s.now, OFFLINE);
    s.run(1);
    assert_eq!(s.ms(), 35);
}

#[test]
fn with_ocpp_and_access_control_charging_waits_for_the_backend() {
    let mut s = Sim::new();
    s.set("acs", "1")
        .set("cards", r#"[{},{},{"name":"Anna","cardId":"04AABBCC"}]"#)
        .plug("ev-3p-11kw")
        .run(3);
    assert_eq!(s.ms(), 2);
    assert_eq!(s.c.last_swipe(), None);
    // a learned card is not authorized locally: it is shown to the session
    s.c.swipe_card(s.now, 2).unwrap();
    s.run(3);
    assert_eq!(s.ms(), 2);
    assert_eq!(s.get("trx"), J::Null);
    assert_eq!(s.c.last_swipe(), Some((1, "04AABBCC".to_owned())));
    // a card by its id, known to the backend only
    s.c.swipe_id(s.now, "DEADBEEF01").unwrap();
    s.run(2);
    assert_eq!(s.ms(), 2);
    assert_eq!(s.c.last_swipe(), Some((2, "DEADBEEF01".to_owned())));
    // Authorize.conf Accepted: a tag that is no local card → trx 0
    s.c.ocpp_authorize(s.now, "DEADBEEF01");
    s.run(5);
    assert_eq!(s.get("trx"), 0);
    assert_eq!(s.ms(), 15);
    assert!(s.amps() > 15.0);
    assert_eq!(s.c.ocpp_authorized(), Some("DEADBEEF01"));
    // RemoteStop: trx null, back to waiting
    s.c.ocpp_deauthorize(s.now);
    s.run(3);
    assert_eq!(s.get("trx"), J::Null);
    assert_eq!(s.ms(), 2);
    assert_eq!(s.amps(), 0.0);
    // RemoteStart with a learned card's id: trx names its slot
    s.c.ocpp_authorize(s.now, "04AABBCC");
    s.run(4);
    assert_eq!(s.get("trx"), 3);
    assert_eq!(s.ms(), 15);
    // the same swipe without OCPP authorizes locally (and is recorded)
    s.c.ocpp_deauthorize(s.now);
    s.set("ocppe", "false").run(2);
    assert_eq!(s.ms(), 2);
    s.c.swipe_card(s.now, 2).unwrap();
    s.run(4);
    assert_eq!(s.get("trx"), 3);
    assert_eq!(s.c.last_swipe(), Some((3, "04AABBCC".to_owned())));
}

#[test]
fn a_remote_stop_without_access_control_holds_until_the_car_is_unplugged() {
    let mut s = Sim::new();
    s.plug("ev-3p-11kw").run(5);
    assert_eq!(s.ms(), 15);
    s.c.ocpp_deauthorize(s.now);
    s.run(5);
    assert_eq!(s.ms(), 28);
    assert_eq!(s.amps(), 0.0);
    // a new authorization (RemoteStart) lifts it
    s.c.ocpp_authorize(s.now, "remote");
    s.run(5);
    assert_eq!(s.ms(), 15);
    s.c.ocpp_deauthorize(s.now);
    s.run(2);
    assert_eq!(s.ms(), 28);
    // so does an unplug
    s.c.unplug(s.now).unwrap();
    s.run(1);
    s.plug("ev-3p-11kw").run(5);
    assert_eq!(s.ms(), 15);
}

#[test]
fn number_phases_1_switches_to_one_phase_while_it_holds() {
    let mut s = Sim::new();
    s.plug("ev-3p-11kw").run(10);
    assert_eq!(s.get("pnp"), 3);
    s.limit(Some((16.0, Some(1)))).run(1);
    // the switch pause (psmd), then one phase, without the PV timers
    assert_eq!(s.ms(), 23);
    s.run(12);
    assert_eq!(s.ms(), 15);
    assert_eq!(s.get("pnp"), 1);
    let nrg = s.get("nrg");
    assert!(nrg[4].as_f64().unwrap() > 10.0);
    assert_eq!(nrg[5], 0);
    assert_eq!(nrg[6], 0);
    assert_eq!(s.get("fsp"), true);
    // three phases allowed again: the automatic choice returns to three
    s.limit(Some((16.0, Some(3)))).run(700);
    assert_eq!(s.get("pnp"), 3);
    assert_eq!(s.get("fsp"), false);
}

#[test]
fn unlock_connector_ends_the_session_and_opens_the_lock_until_unplug() {
    let mut s = Sim::new();
    s.set("acs", "1").plug("ev-3p-11kw").run(2);
    s.c.ocpp_authorize(s.now, "tag-1");
    s.run(5);
    assert_eq!(s.ms(), 15);
    assert_eq!(s.get("cus"), 3, "locked while plugged");
    assert!(s.c.unlock_connector(s.now));
    s.run(3);
    assert_eq!(s.get("cus"), 1);
    assert_eq!(s.get("trx"), J::Null);
    assert_eq!(s.ms(), 2);
    assert_eq!(s.amps(), 0.0);
    s.c.unplug(s.now).unwrap();
    s.run(1);
    s.plug("ev-3p-11kw").run(1);
    assert_eq!(s.get("cus"), 3, "locked again at the next plug-in");
}

#[test]
fn swipes_by_id_are_checked_recorded_and_work_without_ocpp() {
    let mut s = Sim::new();
    for bad in ["", "123456789012345678901", "tab\there", "ümlaut"] {
        assert!(s.c.swipe_id(s.now, bad).is_err(), "{bad:?}");
    }
    assert_eq!(s.c.last_swipe(), None);
    s.set("ocppe", "false")
        .set("acs", "1")
        .set("cards", r#"[{},{"name":"Bo","cardId":"CAFE0001"}]"#)
        .plug("ev-3p-11kw")
        .run(2);
    // without OCPP: a learned id authorizes locally, an unknown one is learnable
    s.c.swipe_id(s.now, "CAFE0001").unwrap();
    s.run(4);
    assert_eq!(s.get("trx"), 2);
    assert_eq!(s.ms(), 15);
    s.c.swipe_id(s.now, "NEWCARD9").unwrap();
    s.set("lrn", "4").run(1);
    assert_eq!(
        s.c.value("cards").unwrap().to_serde_exact()[4]["cardId"],
        "NEWCARD9"
    );
    assert_eq!(s.c.last_swipe(), Some((2, "NEWCARD9".to_owned())));
    // the sequence keeps growing across a restart
    s.c.restart(s.now);
    s.c.swipe_id(s.now, "NEWCARD9").unwrap();
    assert_eq!(s.c.last_swipe().unwrap().0, 3);
}

#[test]
fn txt_is_the_authorization_timeout_without_a_car() {
    let mut s = Sim::new();
    s.set("txt", "5");
    s.c.ocpp_authorize(s.now, "tag");
    s.run(4);
    assert_eq!(s.get("trx"), 0);
    s.run(2);
    assert_eq!(s.get("trx"), J::Null, "ConnectionTimeOut 5 s");
    assert_eq!(s.c.ocpp_authorized(), None);
    // txt 0: the charger's own minute
    s.set("txt", "0");
    s.c.ocpp_authorize(s.now, "tag");
    s.run(30);
    assert_eq!(s.get("trx"), 0);
    s.run(31);
    assert_eq!(s.get("trx"), J::Null);
}

#[test]
fn osr_keeps_charging_off_after_a_reboot() {
    let mut s = Sim::new();
    s.set("osr", "true").plug("ev-3p-11kw").run(5);
    assert_eq!(s.ms(), 15);
    s.c.restart(s.now);
    s.run(5);
    assert_eq!(s.ms(), 28);
    s.c.ocpp_authorize(s.now, "again");
    s.run(5);
    assert_eq!(s.ms(), 15);
    // without osr charging resumes after a reboot
    s.set("osr", "false");
    s.c.restart(s.now);
    s.run(5);
    assert_eq!(s.ms(), 15);
}

#[test]
fn the_session_sets_its_status_keys_and_ocppti_is_durable() {
    let mut s = Sim::new();
    let out =
        s.c.set_ocpp_status("ocppti", goe_keys::Value::Int(4711))
            .unwrap();
    assert!(out.persist);
    assert_eq!(s.get("ocppti"), 4711);
    assert!(
        s.c.set_ocpp_status("ocppa", goe_keys::Value::Bool(true))
            .is_some_and(|o| !o.persist)
    );
    assert_eq!(s.get("ocppa"), true);
    assert!(
        s.c.set_ocpp_status("amp", goe_keys::Value::Int(6))
            .is_none()
    );
    s.c.restart(s.now);
    assert_eq!(s.get("ocppti"), 4711, "kept across a reboot");
    assert_eq!(s.get("ocppa"), false);
}
