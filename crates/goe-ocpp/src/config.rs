//! The configuration keys of GetConfiguration/ChangeConfiguration: exactly
//! the go-e document's table (notes §3; REF column: R = readonly, R/W =
//! writable, `-` = unknown), as data.
//!
//! Keys backed by an API key read `view.settings` and are written with
//! [`Command::SetKey`]; the few keys without an API key live in
//! [`ConfigState`] (held by the session).

use crate::messages::{GetConfigurationConf, KeyValue};
use crate::view::{ChargerView, Command};

/// The measurands a go-e can sample (MeterValuesSampledData seen on real
/// chargers, notes §4.5), in the order it lists them.
pub const MEASURANDS: [&str; 9] = [
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Import.Register",
    "Frequency",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Temperature",
    "Voltage",
];

/// MeterValuesSampledDataMaxLength (real go-e: "10").
pub const SAMPLED_DATA_MAX: usize = 10;

/// MaxChargingProfilesInstalled (real go-e: "20").
pub const MAX_PROFILES: usize = 20;

/// ChargeProfileMaxStackLevel (not seen on a real go-e; our choice).
pub const MAX_STACK_LEVEL: i64 = 8;

/// ChargingScheduleMaxPeriods (not seen on a real go-e; our choice).
pub const MAX_PERIODS: usize = 24;

/// The configuration the session keeps itself (no API key behind it).
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigState {
    /// MeterValuesSampledData, as a list of measurands.
    pub sampled_data: Vec<&'static str>,
    /// WebSocketPingInterval, s (the socket task reads it).
    pub ping_interval_s: i64,
    /// UnlockConnectorOnEVSideDisconnect.
    pub unlock_on_ev_disconnect: bool,
}

impl Default for ConfigState {
    fn default() -> Self {
        ConfigState {
            sampled_data: MEASURANDS.to_vec(),
            ping_interval_s: 0,
            unlock_on_ev_disconnect: true,
        }
    }
}

/// Where a key's value comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A constant of the go-e.
    Fixed(&'static str),
    /// An API key (through `view.settings`).
    Api(&'static str),
    /// The session's own state.
    Own(Own),
}

#[derive(Debug, Clone, Copy)]
enum Own {
    SampledData,
    PingInterval,
    UnlockOnDisconnect,
}

/// One row: key, writable, source. The order is the one a real go-e answers
/// in (notes §3 [B]) as far as known, then the document's order.
const TABLE: &[(&str, bool, Source)] = &[
    ("AllowOfflineTxForUnknownId", true, Source::Api("ocppao")),
    ("GetConfigurationMaxKeys", false, Source::Fixed("99")),
    ("ClockAlignedDataInterval", true, Source::Api("ocppai")),
    ("LocalAuthorizeOffline", true, Source::Api("ocpplo")),
    ("HeartbeatInterval", true, Source::Api("ocpph")),
    ("LightIntensity", true, Source::Api("lbr")),
    (
        "MeterValuesSampledData",
        true,
        Source::Own(Own::SampledData),
    ),
    (
        "MeterValuesSampledDataMaxLength",
        false,
        Source::Fixed("10"),
    ),
    ("MeterValueSampleInterval", true, Source::Api("ocppi")),
    ("NumberOfConnectors", false, Source::Fixed("1")),
    (
        "ConnectorPhaseRotation",
        false,
        Source::Fixed("0.RST,1.RST"),
    ),
    ("ConnectorPhaseRotationMaxLength", false, Source::Fixed("2")),
    ("AuthorizeRemoteTxRequests", false, Source::Fixed("false")),
    (
        "MeterValuesAlignedDataMaxLength",
        false,
        Source::Fixed("10"),
    ),
    (
        "SupportedFeatureProfiles",
        false,
        Source::Fixed("Core,FirmwareManagement,SmartCharging,RemoteTrigger"),
    ),
    (
        "SupportedFeatureProfilesMaxLength",
        false,
        Source::Fixed("6"),
    ),
    (
        "UnlockConnectorOnEVSideDisconnect",
        true,
        Source::Own(Own::UnlockOnDisconnect),
    ),
    (
        "WebSocketPingInterval",
        true,
        Source::Own(Own::PingInterval),
    ),
    ("LocalAuthListEnabled", true, Source::Api("ocppla")),
    ("ChargeProfileMaxStackLevel", false, Source::Fixed("8")),
    (
        "ChargingScheduleAllowedChargingRateUnit",
        false,
        Source::Fixed("Current"),
    ),
    ("ChargingScheduleMaxPeriods", false, Source::Fixed("24")),
    (
        "ConnectorSwitch3to1PhaseSupported",
        false,
        Source::Fixed("true"),
    ),
    ("MaxChargingProfilesInstalled", false, Source::Fixed("20")),
    ("MinChargingCurrent", true, Source::Api("mca")),
    ("RequestedCurrent", true, Source::Api("amp")),
];

fn find(key: &str) -> Option<&'static (&'static str, bool, Source)> {
    TABLE.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(key))
}

fn value_of(source: Source, view: &ChargerView, state: &ConfigState) -> String {
    let s = &view.settings;
    match source {
        Source::Fixed(v) => v.to_owned(),
        Source::Api(key) => match key {
            "ocppao" => s.allow_offline_unknown.to_string(),
            "ocpplo" => s.local_authorize_offline.to_string(),
            "ocppla" => s.local_auth_list.to_string(),
            "ocppai" => s.clock_aligned_s.to_string(),
            "ocpph" => s.heartbeat_s.to_string(),
            "ocppi" => s.sample_s.to_string(),
            "lbr" => ((s.led_brightness.clamp(0, 255) * 100 + 127) / 255).to_string(),
            "mca" => s.min_current_a.to_string(),
            "amp" => s.requested_current_a.to_string(),
            _ => String::new(),
        },
        Source::Own(Own::SampledData) => state.sampled_data.join(","),
        Source::Own(Own::PingInterval) => state.ping_interval_s.to_string(),
        Source::Own(Own::UnlockOnDisconnect) => state.unlock_on_ev_disconnect.to_string(),
    }
}

/// GetConfiguration: `keys` = None or empty lists every supported key.
pub fn get(
    keys: Option<&[String]>,
    view: &ChargerView,
    state: &ConfigState,
) -> GetConfigurationConf {
    let kv = |(k, w, src): &(&str, bool, Source)| KeyValue {
        key: (*k).to_owned(),
        readonly: !*w,
        value: Some(value_of(*src, view, state)),
    };
    match keys {
        None | Some([]) => GetConfigurationConf {
            configuration_key: Some(TABLE.iter().map(kv).collect()),
            unknown_key: None,
        },
        Some(keys) => {
            let mut known = Vec::new();
            let mut unknown = Vec::new();
            for key in keys {
                match find(key) {
                    Some(row) => known.push(kv(row)),
                    None => unknown.push(key.clone()),
                }
            }
            GetConfigurationConf {
                configuration_key: (!known.is_empty()).then_some(known),
                unknown_key: (!unknown.is_empty()).then_some(unknown),
            }
        }
    }
}

/// The result of a ChangeConfiguration.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Accepted, Rejected or NotSupported.
    pub status: &'static str,
    /// The API key write it needs.
    pub command: Option<Command>,
}

impl Change {
    fn rejected() -> Change {
        Change {
            status: "Rejected",
            command: None,
        }
    }
    fn accepted(command: Option<Command>) -> Change {
        Change {
            status: "Accepted",
            command,
        }
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn parse_int(value: &str, min: i64, max: i64) -> Option<i64> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
}

/// Parses a MeterValuesSampledData list: every entry must be a supported
/// measurand, at most [`SAMPLED_DATA_MAX`] of them (1.6 §3.16.4).
pub fn parse_measurands(value: &str) -> Option<Vec<&'static str>> {
    let mut list = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let m = MEASURANDS.iter().find(|m| m.eq_ignore_ascii_case(item))?;
        if !list.contains(m) {
            list.push(*m);
        }
    }
    (list.len() <= SAMPLED_DATA_MAX).then_some(list)
}

/// ChangeConfiguration: unknown keys → NotSupported, readonly keys and bad
/// values → Rejected (nothing changes), else Accepted with the API key
/// write (or the own state changed).
pub fn change(key: &str, value: &str, state: &mut ConfigState) -> Change {
    let Some((_, writable, source)) = find(key) else {
        return Change {
            status: "NotSupported",
            command: None,
        };
    };
    if !writable {
        return Change::rejected();
    }
    let set =
        |key: &'static str, json: String| Change::accepted(Some(Command::SetKey { key, json }));
    match *source {
        Source::Fixed(_) => Change::rejected(),
        Source::Api(api) => {
            let parsed = match api {
                "ocppao" | "ocpplo" | "ocppla" => parse_bool(value).map(|b| b.to_string()),
                "ocppai" | "ocpph" | "ocppi" => {
                    parse_int(value, 0, i64::from(i32::MAX)).map(|n| n.to_string())
                }
                "lbr" => parse_int(value, 0, 100).map(|pct| ((pct * 255 + 50) / 100).to_string()),
                "mca" | "amp" => parse_int(value, 6, 32).map(|n| n.to_string()),
                _ => None,
            };
            match parsed {
                Some(json) => set(api, json),
                None => Change::rejected(),
            }
        }
        Source::Own(Own::SampledData) => match parse_measurands(value) {
            Some(list) => {
                state.sampled_data = list;
                Change::accepted(None)
            }
            None => Change::rejected(),
        },
        Source::Own(Own::PingInterval) => match parse_int(value, 0, i64::from(i32::MAX)) {
            Some(n) => {
                state.ping_interval_s = n;
                Change::accepted(None)
            }
            None => Change::rejected(),
        },
        Source::Own(Own::UnlockOnDisconnect) => match parse_bool(value) {
            Some(b) => {
                state.unlock_on_ev_disconnect = b;
                Change::accepted(None)
            }
            None => Change::rejected(),
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::view::Settings;

    pub(crate) fn view() -> ChargerView {
        ChargerView {
            utc_ms: 1_700_000_000_000,
            rbt_ms: 10_000,
            serial: "237512".into(),
            model: "go-eCharger_V4".into(),
            firmware_version: "60.5".into(),
            car: 1,
            error: 0,
            model_status: 15,
            transaction_id: None,
            allowed: false,
            access_control: 1,
            trx: None,
            swipe: None,
            energy_wh: 165_333.0,
            nrg: [
                230.0, 231.0, 232.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                0.0,
            ],
            offered_a: 16.0,
            phases: 0,
            frequency_hz: Some(50.0),
            temperature_c: Some(21.5),
            settings: Settings {
                heartbeat_s: 60,
                sample_s: 60,
                clock_aligned_s: 0,
                dummy_id_tag: "no-card".into(),
                rotate_phases: false,
                meter_values_condition: 0,
                allow_offline_unknown: false,
                local_authorize_offline: true,
                local_auth_list: false,
                requested_current_a: 16,
                min_current_a: 6,
                led_brightness: 255,
                accept_backend_time: false,
            },
        }
    }

    /// Every key of notes §3 with REF R or R/W, and its access.
    const EXPECTED: &[(&str, bool)] = &[
        ("AllowOfflineTxForUnknownId", true),
        ("AuthorizeRemoteTxRequests", false),
        ("ClockAlignedDataInterval", true),
        ("ConnectorPhaseRotation", false),
        ("ConnectorPhaseRotationMaxLength", false),
        ("GetConfigurationMaxKeys", false),
        ("HeartbeatInterval", true),
        ("LightIntensity", true),
        ("LocalAuthorizeOffline", true),
        ("MeterValuesAlignedDataMaxLength", false),
        ("MeterValuesSampledData", true),
        ("MeterValuesSampledDataMaxLength", false),
        ("MeterValueSampleInterval", true),
        ("NumberOfConnectors", false),
        ("SupportedFeatureProfiles", false),
        ("SupportedFeatureProfilesMaxLength", false),
        ("UnlockConnectorOnEVSideDisconnect", true),
        ("WebSocketPingInterval", true),
        ("LocalAuthListEnabled", true),
        ("ChargeProfileMaxStackLevel", false),
        ("ChargingScheduleAllowedChargingRateUnit", false),
        ("ChargingScheduleMaxPeriods", false),
        ("ConnectorSwitch3to1PhaseSupported", false),
        ("MaxChargingProfilesInstalled", false),
        ("MinChargingCurrent", true),
        ("RequestedCurrent", true),
    ];

    /// Keys the table marks `-`.
    const UNSUPPORTED: &[&str] = &[
        "AuthorizationCacheEnabled",
        "BlinkRepeat",
        "ConnectionTimeOut",
        "LocalPreAuthorize",
        "MaxEnergyOnInvalidId",
        "MeterValuesAlignedData",
        "MinimumStatusDuration",
        "ResetRetries",
        "StopTransactionOnEVSideDisconnect",
        "StopTransactionOnInvalidId",
        "StopTxnAlignedData",
        "StopTxnAlignedDataMaxLength",
        "StopTxnSampledData",
        "StopTxnSampledDataMaxLength",
        "TransactionMessageAttempts",
        "TransactionMessageRetryInterval",
        "LocalAuthListMaxLength",
        "SendLocalListMaxLength",
        "ReserveConnectorZeroSupported",
        "AuthorizationKey",
    ];

    #[test]
    fn get_all_lists_exactly_the_table() {
        let conf = get(None, &view(), &ConfigState::default());
        let mut got: Vec<(String, bool)> = conf
            .configuration_key
            .unwrap()
            .into_iter()
            .map(|kv| (kv.key, !kv.readonly))
            .collect();
        let mut want: Vec<(String, bool)> = EXPECTED
            .iter()
            .map(|(k, w)| ((*k).to_owned(), *w))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        assert_eq!(conf.unknown_key, None);
    }

    #[test]
    fn unsupported_keys_are_unknown_and_not_supported() {
        let keys: Vec<String> = UNSUPPORTED.iter().map(|k| (*k).to_owned()).collect();
        let conf = get(Some(&keys), &view(), &ConfigState::default());
        assert_eq!(conf.configuration_key, None);
        assert_eq!(conf.unknown_key.unwrap(), keys);
        for key in UNSUPPORTED {
            assert_eq!(
                change(key, "1", &mut ConfigState::default()).status,
                "NotSupported",
                "{key}"
            );
        }
    }

    #[test]
    fn readonly_keys_are_rejected() {
        for (key, writable) in EXPECTED {
            if !writable {
                assert_eq!(
                    change(key, "1", &mut ConfigState::default()).status,
                    "Rejected",
                    "{key}"
                );
            }
        }
    }

    #[test]
    fn values_are_strings_from_the_settings() {
        let keys: Vec<String> = [
            "HeartbeatInterval",
            "LocalAuthorizeOffline",
            "LightIntensity",
            "RequestedCurrent",
            "nope",
        ]
        .map(String::from)
        .to_vec();
        let conf = get(Some(&keys), &view(), &ConfigState::default());
        let values: Vec<String> = conf
            .configuration_key
            .unwrap()
            .into_iter()
            .map(|kv| kv.value.unwrap())
            .collect();
        assert_eq!(values, ["60", "true", "100", "16"]);
        assert_eq!(conf.unknown_key.unwrap(), ["nope"]);
    }

    #[test]
    fn api_keys_are_written_with_set_key() {
        let mut st = ConfigState::default();
        let cmd = |k: &str, v: &str, st: &mut ConfigState| change(k, v, st).command;
        let set = |key: &'static str, json: &str| {
            Some(Command::SetKey {
                key,
                json: json.into(),
            })
        };
        assert_eq!(
            cmd("HeartbeatInterval", "300", &mut st),
            set("ocpph", "300")
        );
        assert_eq!(
            cmd("MeterValueSampleInterval", "10", &mut st),
            set("ocppi", "10")
        );
        assert_eq!(
            cmd("ClockAlignedDataInterval", "900", &mut st),
            set("ocppai", "900")
        );
        assert_eq!(
            cmd("LocalAuthorizeOffline", "false", &mut st),
            set("ocpplo", "false")
        );
        assert_eq!(
            cmd("AllowOfflineTxForUnknownId", "1", &mut st),
            set("ocppao", "true")
        );
        assert_eq!(
            cmd("LocalAuthListEnabled", "TRUE", &mut st),
            set("ocppla", "true")
        );
        assert_eq!(cmd("LightIntensity", "50", &mut st), set("lbr", "128"));
        assert_eq!(cmd("MinChargingCurrent", "8", &mut st), set("mca", "8"));
        assert_eq!(cmd("requestedcurrent", "10", &mut st), set("amp", "10"));
        for (k, v) in [
            ("HeartbeatInterval", "-1"),
            ("HeartbeatInterval", "x"),
            ("LightIntensity", "101"),
            ("RequestedCurrent", "33"),
            ("LocalAuthorizeOffline", "yes"),
            ("WebSocketPingInterval", "-5"),
        ] {
            assert_eq!(change(k, v, &mut st).status, "Rejected", "{k}={v}");
        }
    }

    #[test]
    fn sampled_data_takes_one_or_many_supported_measurands() {
        let mut st = ConfigState::default();
        assert_eq!(
            change("MeterValuesSampledData", "Power.Active.Import", &mut st).status,
            "Accepted"
        );
        assert_eq!(st.sampled_data, ["Power.Active.Import"]);
        assert_eq!(
            change("MeterValuesSampledData", "SoC", &mut st).status,
            "Rejected"
        );
        assert_eq!(
            change("MeterValuesSampledData", "Voltage,SoC", &mut st).status,
            "Rejected"
        );
        assert_eq!(
            st.sampled_data,
            ["Power.Active.Import"],
            "a rejected list changes nothing"
        );
        assert_eq!(
            change(
                "MeterValuesSampledData",
                "Energy.Active.Import.Register, Current.Import",
                &mut st
            )
            .status,
            "Accepted"
        );
        assert_eq!(
            st.sampled_data,
            ["Energy.Active.Import.Register", "Current.Import"]
        );
        let conf = get(Some(&["MeterValuesSampledData".to_owned()]), &view(), &st);
        assert_eq!(
            conf.configuration_key.unwrap()[0].value.as_deref(),
            Some("Energy.Active.Import.Register,Current.Import")
        );
    }
}
