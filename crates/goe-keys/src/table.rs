//! The key table: every key the virtual charger knows, in firmware registration order.
//!
//! This is the single source of truth for status output, set validation, MQTT,
//! the CLI's help and `docs/KEYS.md`. Order rule (reference §8): keys from the
//! 2021 seed table keep the seed's order; newer keys sit right after the nearest
//! seed key that precedes them in the V5 firmware export (`stao`/`acui` where the
//! 2021 screenshot shows them; `psm` after `spl3` as in the MQTT captures).
//! Descriptions of seed keys are the seed's own text.

use crate::def::Access::{Read as R, ReadWrite as RW, Write as W};
use crate::def::Base::*;
use crate::def::Category::*;
use crate::def::{KeyDef, Rule, Secret, ValueType};
use crate::firmware::fw;

const fn t(base: crate::def::Base) -> ValueType {
    ValueType::plain(base)
}

const fn o(base: crate::def::Base) -> ValueType {
    ValueType::opt(base)
}

/// `bac`/`sdp` since 055.2: when the button may change the current / start charging.
const BUTTON_LOCK: &[(i64, &str)] = &[
    (0, "AlwaysLock"),
    (1, "LockWhenCarIsConnected"),
    (2, "LockWhenCarIsCharging"),
    (3, "NeverLock"),
];

/// Every key, in registration order.
pub static KEYS: &[KeyDef] = &[
    KeyDef::new("mod", R, t(U8), Constant, "Modul hardware pcb version (0, 1, ...)", "1")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("rfb", R, t(Int), Status, "Relay Feedback", "0")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("stao", R, o(U8), Status, "undocumented; seen as null in every real status (2021 screenshot, Wattpilot)", "null")
        .newer()
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("alw", R, t(Bool), Status, "Darf das Auto derzeit laden?", "true"),
    KeyDef::new("acu", R, o(Int), Status, "Mit wie vielen Ampere darf das Auto derzeit laden?", "16")
        .unit("A"),
    KeyDef::new("acui", R, o(Int), Status, "undocumented; like acu (2021 screenshot, Wattpilot)", "16")
        .unit("A")
        .newer()
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cll", R, t(Object), Status, "current limits: every limit that currently applies, by name (A)", "{\"adapterCurrentLimit\":16,\"currentLimitMax\":16,\"minChargingCurrent\":6,\"requestedCurrent\":16,\"temperatureCurrentLimit\":32,\"unsymetryCurrentLimit\":32}")
        .newer(),
    KeyDef::new("adi", R, t(Bool), Status, "Wird der 16A Adapter benutzt? Limitiert den Ladestrom auf 16A", "true"),
    KeyDef::new("dwo", RW, o(Double), Config, "Lade Energy Limit, gemessen in Wh, null bedeutet deaktiviert, nicht mit der next trip energie zu verwechseln", "null")
        .unit("Wh")
        .rule(Rule::Range(0, 4294967295)),
    KeyDef::new("tpa", R, t(Float), Status, "30 Sekunden Gesamtleistungsdurchschnitt (wird für genauere next-trip vorhersagen berechnet)", "0")
        .unit("W"),
    KeyDef::new("sse", R, t(Str), Constant, "serial number", "\"{serial}\"")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("eto", R, t(U64), Status, "energy_total, measured in Wh", "0")
        .unit("Wh")
        .persist(),
    KeyDef::new("etop", R, t(U64), Status, "energy_total persisted, measured in Wh, without the extra magic to have live values", "0")
        .until(fw(55, 0))
        .unit("Wh")
        .persist(),
    KeyDef::new("wifis", RW, t(Array), Config, "wifi configurations with ssids and keys, if you only want to change the second entry, send an array with 1 empty and 1 filled wifi config object: [{}, {\"ssid\":\"\",\"key\":\"\"}]", "[{\"ssid\":\"goe-sim\",\"key\":\"virtual\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"}]")
        .rule(Rule::Wifis)
        .secret(Secret::FieldIsSet("key"))
        .no_mqtt()
        .since(fw(55, 2))
        .eras(&[KeyDef::new("wifis", RW, t(Array), Config, "wifi configurations with ssids and keys, if you only want to change the second entry, send an array with 1 empty and 1 filled wifi config object: [{}, {\"ssid\":\"\",\"key\":\"\"}]", "[{\"ssid\":\"goe-sim\",\"key\":\"virtual\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"}]")
            .rule(Rule::Wifis)
            .secret(Secret::FieldIsSet("key"))
            .no_mqtt()
            .until(fw(55, 2))]),
    KeyDef::new("delw", W, t(U8), Other, "set this to 0-9 to delete sta config (erases ssid, key, ...)", "null")
        .rule(Rule::Range(0, 9)),
    KeyDef::new("scas", R, t(U8), Status, "wifi scan status (None=0, Scanning=1, Finished=2, Failed=3)", "2")
        .enums(&[(0, "None"), (1, "Scanning"), (2, "Finished"), (3, "Failed")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("scan", R, t(Array), Status, "wifi scan result (encryptionType: OPEN=0, WEP=1, WPA_PSK=2, WPA2_PSK=3, WPA_WPA2_PSK=4, WPA2_ENTERPRISE=5, WPA3_PSK=6, WPA2_WPA3_PSK=7)", "[{\"ssid\":\"goe-sim\",\"encryptionType\":3,\"rssi\":-55,\"channel\":6,\"bssid\":\"02:00:00:00:00:01\",\"f\":[4,4,true,true,true,false,false,false,false,\"DE\"]}]")
        .no_mqtt(),
    KeyDef::new("scaa", R, o(Millis), Status, "wifi scan age", "0")
        .no_mqtt()
        .since(fw(55, 0))
        .eras(&[KeyDef::new("scaa", R, t(Millis), Status, "wifi scan age", "0")
            .no_mqtt()
            .until(fw(55, 0))]),
    KeyDef::new("wsms", R, t(U8), Status, "WiFi state machine state (None=0, Scanning=1, Connecting=2, Connected=3)", "3")
        .enums(&[(0, "None"), (1, "Scanning"), (2, "Connecting"), (3, "Connected")])
        .no_mqtt(),
    KeyDef::new("ccw", R, o(Object), Status, "Currently connected WiFi", "{\"ssid\":\"goe-sim\",\"encryptionType\":3,\"pairwiseCipher\":4,\"groupCipher\":4,\"b\":true,\"g\":true,\"n\":true,\"lr\":false,\"wps\":false,\"ftmResponder\":false,\"ftmInitiator\":false,\"channel\":6,\"bssid\":\"02:00:00:00:00:01\",\"ip\":\"127.0.0.1\",\"netmask\":\"255.0.0.0\",\"gw\":\"127.0.0.1\",\"ipv6\":[]}"),
    KeyDef::new("host", R, t(Str), Status, "configured hostname", "\"go-echarger_{serial}\"")
        .no_mqtt()
        .since(fw(55, 2))
        .eras(&[KeyDef::new("host", R, o(Str), Status, "hostname used on STA interface", "\"go-eCharger-{serial}\"")
            .no_mqtt()
            .until(fw(55, 2))]),
    KeyDef::new("lwcf", R, t(Bool), Status, "last wifi connect failed", "false")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("rssi", R, o(I8), Status, "RSSI signal strength", "-55")
        .unit("dBm"),
    KeyDef::new("lssfc", R, o(Millis), Status, "lastStaSwitchedFromConnected (in milliseconds)", "null")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("lsstc", R, o(Millis), Status, "lastStaSwitchedToConnected (in milliseconds)", "2000")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ehs", R, t(Size), Status, "ESP heap size", "298448")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("efh", R, t(Size), Status, "ESP free heap", "121340")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("efh32", R, t(Size), Status, "ESP free heap 32bit aligned", "119804")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("efh8", R, t(Size), Status, "ESP free heap 8bit aligned", "102652")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("fem", R, t(U8), Constant, "Flash Encryption Mode (Disabled=0, Development=1, Release=2)", "0")
        .enums(&[(0, "Disabled"), (1, "Development"), (2, "Release")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("sbe", R, t(Bool), Constant, "Secure boot enabled", "false")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("emfh", R, t(Size), Status, "ESP minimum free heap since boot", "88120")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("emhb", R, t(Size), Status, "ESP max size of allocated heap block since boot", "61440")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("eci", R, t(Object), Constant, "ESP chip info (model: ESP32=1, ESP32S2=2, ESP32S3=4, ESP32C3=5; features: EMB_FLASH=bit0, WIFI_BGN=bit1, BLE=bit4, BT=bit5)", "{\"model\":1,\"features\":50,\"cores\":2,\"revision\":3}")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ecf", R, t(Object), Constant, "ESP CPU freq (source: XTAL=0, PLL=1, 8M=2, APLL=3)", "{\"source\":1,\"source_freq_mhz\":480,\"div\":2,\"freq_mhz\":240}")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("efi", R, t(Object), Constant, "ESP Flash info (spi_mode: QIO=0, QOUT=1, DIO=2, DOUT=3, FAST_READ=4, SLOW_READ=5; spi_speed: 40M=0, 26M=1, 20M=2, 80M=15; spi_size: 1MB=0, 2MB=1, 4MB=2, 8MB=3, 16MB=4, MAX=5)", "{\"spi_mode\":2,\"spi_speed\":15,\"spi_size\":3}")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("eem", R, o(Str), Constant, "ESP CPU freq (source: XTAL=0, PLL=1, 8M=2, APLL=3)", "null")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("rr", R, t(U8), Status, "esp_reset_reason (UNKNOWN=0, POWERON=1, EXT=2, SW=3, PANIC=4, INT_WDT=5, TASK_WDT=6, WDT=7, DEEPSLEEP=8, BROWNOUT=9, SDIO=10)", "1")
        .enums(&[(0, "UNKNOWN"), (1, "POWERON"), (2, "EXT"), (3, "SW"), (4, "PANIC"), (5, "INT_WDT"), (6, "TASK_WDT"), (7, "WDT"), (8, "DEEPSLEEP"), (9, "BROWNOUT"), (10, "SDIO")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("fwan", R, t(Str), Constant, "factoryWifiApName", "\"go-eCharger-{serial}\"")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("wan", RW, t(Str), Config, "wifiApName", "\"go-eCharger-{serial}\"")
        .rule(Rule::StrLen(1, 32))
        .until(fw(55, 0)),
    KeyDef::new("facwak", R, t(Str), Constant, "WiFi AccessPoint Key RESET VALUE (factory)", "\"factory-key\"")
        .secret(Secret::IsSet)
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("wak", RW, t(Str), Config, "WiFi AccessPoint Key (read/write from http)", "\"\"")
        .rule(Rule::StrLen(8, 63))
        .secret(Secret::IsSet)
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("wen", RW, t(Bool), Config, "wifiEnabled (bool), turns off/on the WiFi (not the AccessPoint)", "true")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("pass", W, t(Str), Config, "userPassword", "null")
        .rule(Rule::StrLen(0, 64))
        .secret(Secret::IsSet),
    KeyDef::new("tse", RW, t(Bool), Config, "time server enabled (NTP)", "true")
        .until(fw(55, 0)),
    KeyDef::new("ts", R, t(Str), Config, "time server", "\"europe.pool.ntp.org\"")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("tssm", R, t(U8), Config, "time server sync mode (IMMED=0, SMOOTH=1)", "0")
        .enums(&[(0, "IMMED"), (1, "SMOOTH")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("tssi", R, t(Millis), Config, "time server sync interval (in ms, 15s minimum)", "3600000")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("tsss", R, t(U8), Config, "time server sync status (RESET=0, COMPLETED=1, IN_PROGRESS=2)", "1")
        .enums(&[(0, "RESET"), (1, "COMPLETED"), (2, "IN_PROGRESS")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("tsom", R, t(U8), Status, "time server operating mode (POLL=0, LISTENONLY=1)", "0")
        .enums(&[(0, "POLL"), (1, "LISTENONLY")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("tof", RW, t(Minutes), Config, "timezone offset in minutes", "60")
        .mqtt_until(fw(55, 0))
        .rule(Rule::Range(-720, 840)),
    KeyDef::new("tds", RW, t(U8), Config, "timezone daylight saving mode, None=0, EuropeanSummerTime=1, UsDaylightTime=2, AustralianDaylightTime=3", "1")
        .mqtt_until(fw(55, 0))
        .enums(&[(0, "None"), (1, "EuropeanSummerTime"), (2, "UsDaylightTime"), (3, "AustralianDaylightTime")])
        .since(fw(55, 2))
        .eras(&[KeyDef::new("tds", RW, t(U8), Config, "timezone daylight saving mode, None=0, EuropeanSummerTime=1, UsDaylightTime=2", "1").mqtt_until(fw(55, 0))
            .enums(&[(0, "None"), (1, "EuropeanSummerTime"), (2, "UsDaylightTime")])
            .until(fw(55, 2))]),
    KeyDef::new("utc", RW, t(Str), Status, "utc time", "\"\"")
        .rule(Rule::UtcTime),
    KeyDef::new("loc", R, t(Str), Status, "local time", "\"\""),
    KeyDef::new("led", R, t(Object), Status, "internal infos about currently running led animation", "{\"id\":2,\"name\":\"Idle\",\"norwayOverlay\":true,\"modeOverlay\":true,\"subtype\":\"renderCmds\",\"ranges\":[{\"from\":0,\"to\":31,\"colors\":[\"#0000FF\"]}]}")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("lbr", RW, t(U8), Config, "led_bright, 0-255", "255"),
    KeyDef::new("lmo", RW, t(U8), Config, "logic mode (Default=3, Awattar=4, AutomaticStop=5)", "3")
        .enums(&[(3, "Default"), (4, "Awattar"), (5, "AutomaticStop")]),
    KeyDef::new("ama", RW, t(U8), Config, "ampere_max limit", "16")
        .unit("A")
        .rule(Rule::MaxCurrent),
    KeyDef::new("tcl", RW, o(U8), Status, "temporary current limit in A; does not change amp; expires 10 min after the last write", "null")
        .unit("A")
        .rule(Rule::Range(0, 32))
        .newer(),
    KeyDef::new("clp", RW, t(Array), Config, "current limit presets, max. 5 entries", "[6,10,12,14,16]")
        .rule(Rule::CurrentPresets),
    KeyDef::new("bac", RW, t(U8), Config, "Button allow Current change (0=AlwaysLock, 1=LockWhenCarIsConnected, 2=LockWhenCarIsCharging, 3=NeverLock)", "1")
        .enums(BUTTON_LOCK)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("bac", RW, t(Bool), Config, "Button allow Current change", "true").until(fw(55, 2))]),
    KeyDef::new("sdp", RW, t(U8), Config, "Button Allow Force change (0=AlwaysLock, 1=LockWhenCarIsConnected, 2=LockWhenCarIsCharging, 3=NeverLock)", "0")
        .mqtt_until(fw(55, 0))
        .enums(BUTTON_LOCK)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sdp", RW, t(Bool), Config, "Button Allow Force change", "false").mqtt_until(fw(55, 0)).until(fw(55, 2))]),
    KeyDef::new("lbp", R, o(Millis), Status, "lastButtonPress in milliseconds", "null"),
    KeyDef::new("amp", RW, t(U8), Config, "requestedCurrent in Ampere, used for display on LED ring and logic calculations", "16")
        .unit("A")
        .rule(Rule::Range(6, 32))
        .since(fw(55, 2))
        .eras(&[KeyDef::new("amp", RW, t(U8), Config, "requestedCurrent in Ampere, used for display on LED ring and logic calculations", "16")
            .unit("A")
            .rule(Rule::RequestedCurrent)
            .until(fw(55, 2))]),
    KeyDef::new("ffna", R, t(Str), Constant, "factoryFriendlyName", "\"go-eCharger\"").until(fw(55, 0)),
    KeyDef::new("fna", RW, t(Str), Config, "friendlyName", "\"go-eCharger\"")
        .rule(Rule::StrLen(4, 64))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("cid", RW, t(Str), Config, "color_idle, format: #RRGGBB", "\"#0000FF\"")
        .rule(Rule::Color),
    KeyDef::new("cwc", RW, t(Str), Config, "color_waitcar, format: #RRGGBB", "\"#FFFF00\"")
        .rule(Rule::Color),
    KeyDef::new("cch", RW, t(Str), Config, "color_charging, format: #RRGGBB", "\"#00FFFF\"")
        .rule(Rule::Color),
    KeyDef::new("cfi", RW, t(Str), Config, "color_finished, format: #RRGGBB", "\"#00FF00\"")
        .rule(Rule::Color),
    KeyDef::new("ust", RW, t(U8), Config, "unlock_setting (Normal=0, AutoUnlock=1, AlwaysLock=2)", "0")
        .enums(&[(0, "Normal"), (1, "AutoUnlock"), (2, "AlwaysLock")]),
    KeyDef::new("lck", R, t(U8), Status, "Effective lock setting, as sent to Charge Ctrl (Normal=0, AutoUnlock=1, AlwaysLock=2, ForceUnlock=3)", "0")
        .mqtt_until(fw(55, 0))
        .enums(&[(0, "Normal"), (1, "AutoUnlock"), (2, "AlwaysLock"), (3, "ForceUnlock")]),
    KeyDef::new("sch_week", RW, t(Object), Config, "scheduler_weekday, control enum values: Disabled=0, Allow=1, Block=2, AllowFromGrid=3, BlockFromGrid=4", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}},{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}}]}")
        .mqtt_until(fw(55, 0))
        .rule(Rule::ScheduleV2)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sch_week", RW, t(Object), Config, "scheduler_weekday, control enum values: Disabled=0, Inside=1, Outside=2", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}},{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}}]}").mqtt_until(fw(55, 0))
            .rule(Rule::Schedule)
            .until(fw(55, 2))]),
    KeyDef::new("sch_satur", RW, t(Object), Config, "scheduler_saturday, control enum values: Disabled=0, Allow=1, Block=2, AllowFromGrid=3, BlockFromGrid=4", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}},{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}}]}")
        .mqtt_until(fw(55, 0))
        .rule(Rule::ScheduleV2)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sch_satur", RW, t(Object), Config, "scheduler_saturday, control enum values: Disabled=0, Inside=1, Outside=2", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}},{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}}]}").mqtt_until(fw(55, 0))
            .rule(Rule::Schedule)
            .until(fw(55, 2))]),
    KeyDef::new("sch_sund", RW, t(Object), Config, "scheduler_sunday, control enum values: Disabled=0, Allow=1, Block=2, AllowFromGrid=3, BlockFromGrid=4", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}},{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}}]}")
        .mqtt_until(fw(55, 0))
        .rule(Rule::ScheduleV2)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sch_sund", RW, t(Object), Config, "scheduler_sunday, control enum values: Disabled=0, Inside=1, Outside=2", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}},{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}}]}").mqtt_until(fw(55, 0))
            .rule(Rule::Schedule)
            .until(fw(55, 2))]),
    KeyDef::new("nmo", RW, t(Bool), Config, "norway_mode / ground check enabled when norway mode is disabled (inverted)", "false"),
    KeyDef::new("fsp", RW, t(Bool), Status, "force_single_phase (the charging logic's result: whether single phase is needed now; a write shows until the next logic second)", "false")
        .since(fw(55, 2))
        .eras(&[KeyDef::new("fsp", R, t(Bool), Status, "force_single_phase (shows if currently single phase charge is enforced", "false").until(fw(55, 2))]),
    KeyDef::new("lrn", W, t(U8), Other, "set this to 0-9 to learn last read card id", "null")
        .rule(Rule::Range(0, 9)),
    KeyDef::new("del", W, t(U8), Other, "set this to 0-9 to clear card (erases card name, energy and rfid id)", "null")
        .rule(Rule::Range(0, 9)),
    KeyDef::new("acs", RW, t(U8), Config, "access_control user setting (Open=0, Wait=1, EVCMS=2)", "0")
        .enums(&[(0, "Open"), (1, "Wait"), (2, "EVCMS")])
        .since(fw(55, 2))
        .eras(&[KeyDef::new("acs", RW, t(U8), Config, "access_control user setting (Open=0, Wait=1)", "0")
            .enums(&[(0, "Open"), (1, "Wait")])
            .until(fw(55, 2))]),
    KeyDef::new("frc", RW, t(U8), Config, "forceState (Neutral=0, Off=1, On=2)", "0")
        .enums(&[(0, "Neutral"), (1, "Off"), (2, "On")]),
    KeyDef::new("rbc", R, t(U32), Status, "reboot_counter", "0")
        .persist(),
    KeyDef::new("rbt", R, t(Millis), Status, "time since boot in milliseconds", "0"),
    KeyDef::new("car", R, o(U8), Status, "charge ctrl car state, null if no connection to chargectrl established (Unknown/Error=0, Idle=1, Charging=2, WaitCar=3, Complete=4, Error=5, Initializing=6)", "1")
        .enums(&[(0, "Unknown"), (1, "Idle"), (2, "Charging"), (3, "WaitCar"), (4, "Complete"), (5, "Error"), (6, "Initializing")])
        .since(fw(55, 2))
        .eras(&[KeyDef::new("car", R, o(U8), Status, "carState, null if internal error (Unknown/Error=0, Idle=1, Charging=2, WaitCar=3, Complete=4, Error=5)", "1")
            .enums(&[(0, "Unknown"), (1, "Idle"), (2, "Charging"), (3, "WaitCar"), (4, "Complete"), (5, "Error")])
            .until(fw(55, 2))]),
    KeyDef::new("err", R, o(U8), Status, "error, null if internal error (Unknown/Error=0, Idle=1, Charging=2, WaitCar=3, Complete=4, Error=5)", "0")
        .enums(&[(0, "None"), (1, "FiAc"), (2, "FiDc"), (3, "Phase"), (4, "Overvolt"), (5, "Overamp"), (6, "Diode"), (7, "PpInvalid"), (8, "GndInvalid"), (9, "ContactorStuck"), (10, "ContactorMiss"), (12, "StatusLockStuckOpen"), (13, "StatusLockStuckLocked"), (14, "FiUnknown"), (15, "Unknown"), (16, "Overtemp"), (17, "NoComm"), (18, "CpInvalid")]),
    KeyDef::new("cbl", R, o(Int), Status, "cable_current_limit in A", "null")
        .unit("A"),
    KeyDef::new("pha", R, o(Array), Status, "phases", "[false,false,false,true,true,true]"),
    KeyDef::new("wh", R, t(Double), Status, "energy in Wh since car connected", "0")
        .unit("Wh"),
    KeyDef::new("trx", RW, o(U8), Status, "transaction, null when no transaction, 0 when without card, otherwise cardIndex + 1 (1: 0. card, 2: 1. card, ...)", "null")
        .rule(Rule::Transaction),
    KeyDef::new("fwv", R, t(Str), Constant, "FW_VERSION", "\"{fwv}\""),
    KeyDef::new("arv", R, t(Str), Constant, "app recommended version (used to show in the app that the app is outdated)", "\"2.4.1\"")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ccu", R, o(Object), Status, "charge controller update progress (null if no update is in progress)", "null")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("oem", R, t(Str), Constant, "OEM manufacturer", "\"go-e\""),
    KeyDef::new("typ", R, t(Str), Constant, "Devicetype", "\"go-eCharger\""),
    KeyDef::new("fwc", R, t(Str), Constant, "firmware from CarControl", "\"2.3\"")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("apd", R, t(Object), Constant, "firmware description", "{\"project_name\":\"go-eCharger\",\"version\":\"56.2\",\"secure_version\":0,\"timestamp\":\"Sep 16 2024 10:00:00\",\"idf_ver\":\"v4.4.4\",\"sha256\":\"5b1f2c0e8d7a6b4c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d\"}")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("otap", R, o(Object), Constant, "currently used OTA partition", "{\"type\":0,\"subtype\":16,\"address\":65536,\"size\":4194304,\"label\":\"app_0\",\"encrypted\":false}")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("part", R, t(Array), Constant, "partition table", "[{\"type\":1,\"subtype\":2,\"address\":36864,\"size\":20480,\"label\":\"nvs\",\"encrypted\":false},{\"type\":1,\"subtype\":0,\"address\":57344,\"size\":8192,\"label\":\"otadata\",\"encrypted\":false},{\"type\":0,\"subtype\":16,\"address\":65536,\"size\":4194304,\"label\":\"app_0\",\"encrypted\":false},{\"type\":0,\"subtype\":17,\"address\":4259840,\"size\":4194304,\"label\":\"app_1\",\"encrypted\":false}]")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("pto", R, t(U32), Constant, "partition table offset in flash", "32768")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("lse", RW, t(Bool), Config, "led_save_energy", "false")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("cdi", R, t(Object), Status, "charging duration info (null=no charging in progress, type=0 counter going up, type=1 duration in ms)", "{\"type\":1,\"value\":0}"),
    KeyDef::new("lccfi", R, o(Millis), Status, "lastCarStateChangedFromIdle (in ms)", "null"),
    KeyDef::new("lccfc", R, o(Millis), Status, "lastCarStateChangedFromCharging (in ms)", "null"),
    KeyDef::new("lcctc", R, o(Millis), Status, "lastCarStateChangedToCharging (in ms)", "null"),
    KeyDef::new("tma", R, t(Array), Status, "temperature sensors", "[22.5,26.75]")
        .unit("°C"),
    KeyDef::new("amt", R, t(Int), Status, "temperatureCurrentLimit", "32")
        .unit("A"),
    KeyDef::new("nrg", R, t(Array), Status, "energy array, U (L1, L2, L3, N), I (L1, L2, L3), P (L1, L2, L3, N, Total), pf (L1, L2, L3, N); idle voltages from the default, whole volts", "[233,235,231,0,0,0,0,0,0,0,0,0,0,0,0,0]")
        .since(fw(60, 0))
        .eras(&[
            KeyDef::new("nrg", R, t(Array), Status, "energy array, U (L1, L2, L3, N), I (L1, L2, L3), P (L1, L2, L3, N, Total), pf (L1, L2, L3, N); idle voltages from the default, whole volts", "[231,234,231,1,0,0,0,0,0,0,0,0,0,0,0,0]")
                .since(fw(55, 2))
                .until(fw(60, 0)),
            KeyDef::new("nrg", R, t(Array), Status, "energy array, U (L1, L2, L3, N), I (L1, L2, L3), P (L1, L2, L3, N, Total), pf (L1, L2, L3, N)", "[231,232,229,1,0,0,0,0,0,0,0,0,0,0,0,0]")
                .until(fw(55, 2)),
        ]),
    KeyDef::new("modelStatus", R, t(U8), Status, "Reason why we allow charging or not right now (NotChargingBecauseNoChargeCtrlData=0, NotChargingBecauseOvertemperature=1, NotChargingBecauseAccessControlWait=2, ChargingBecauseForceStateOn=3, NotChargingBecauseForceStateOff=4, NotChargingBecauseScheduler=5, NotChargingBecauseEnergyLimit=6, ChargingBecauseAwattarPriceLow=7, ChargingBecauseAutomaticStopTestLadung=8, ChargingBecauseAutomaticStopNotEnoughTime=9, ChargingBecauseAutomaticStop=10, ChargingBecauseAutomaticStopNoClock=11, ChargingBecausePvSurplus=12, ChargingBecauseFallbackGoEDefault=13, ChargingBecauseFallbackGoEScheduler=14, ChargingBecauseFallbackDefault=15, NotChargingBecauseFallbackGoEAwattar=16, NotChargingBecauseFallbackAwattar=17, NotChargingBecauseFallbackAutomaticStop=18, ChargingBecauseCarCompatibilityKeepAlive=19, ChargingBecauseChargePauseNotAllowed=20, NotChargingBecauseSimulateUnplugging=22, NotChargingBecausePhaseSwitch=23, NotChargingBecauseMinPauseDuration=24, NotChargingBecauseError=26, NotChargingBecauseLoadManagementDoesntWant=27, NotChargingBecauseOcppDoesntWant=28, NotChargingBecauseReconnectDelay=29, NotChargingBecauseOcppFallback=35, NotChargingBecauseOcppInoperable=37)", "15")
        .enums(&[(0, "NotChargingBecauseNoChargeCtrlData"), (1, "NotChargingBecauseOvertemperature"), (2, "NotChargingBecauseAccessControlWait"), (3, "ChargingBecauseForceStateOn"), (4, "NotChargingBecauseForceStateOff"), (5, "NotChargingBecauseScheduler"), (6, "NotChargingBecauseEnergyLimit"), (7, "ChargingBecauseAwattarPriceLow"), (8, "ChargingBecauseAutomaticStopTestLadung"), (9, "ChargingBecauseAutomaticStopNotEnoughTime"), (10, "ChargingBecauseAutomaticStop"), (11, "ChargingBecauseAutomaticStopNoClock"), (12, "ChargingBecausePvSurplus"), (13, "ChargingBecauseFallbackGoEDefault"), (14, "ChargingBecauseFallbackGoEScheduler"), (15, "ChargingBecauseFallbackDefault"), (16, "NotChargingBecauseFallbackGoEAwattar"), (17, "NotChargingBecauseFallbackAwattar"), (18, "NotChargingBecauseFallbackAutomaticStop"), (19, "ChargingBecauseCarCompatibilityKeepAlive"), (20, "ChargingBecauseChargePauseNotAllowed"), (22, "NotChargingBecauseSimulateUnplugging"), (23, "NotChargingBecausePhaseSwitch"), (24, "NotChargingBecauseMinPauseDuration"), (26, "NotChargingBecauseError"), (27, "NotChargingBecauseLoadManagementDoesntWant"), (28, "NotChargingBecauseOcppDoesntWant"), (29, "NotChargingBecauseReconnectDelay"), (35, "NotChargingBecauseOcppFallback"), (37, "NotChargingBecauseOcppInoperable")])
        // 26 (errors) from 055.2, 29 with the random delays (rdre/rdpl) of 59.0; #13.
        // OCPP (#14): 28 and 35 with the OCPP client (apikeys-en.md lists both),
        // 37 (ocppio) from 59.0 (the 59.4..60.4 exports)
        .since(fw(59, 0))
        .eras(&[
            KeyDef::new("modelStatus", R, t(U8), Status, "Reason why we allow charging or not right now (NotChargingBecauseNoChargeCtrlData=0, NotChargingBecauseOvertemperature=1, NotChargingBecauseAccessControlWait=2, ChargingBecauseForceStateOn=3, NotChargingBecauseForceStateOff=4, NotChargingBecauseScheduler=5, NotChargingBecauseEnergyLimit=6, ChargingBecauseAwattarPriceLow=7, ChargingBecauseAutomaticStopTestLadung=8, ChargingBecauseAutomaticStopNotEnoughTime=9, ChargingBecauseAutomaticStop=10, ChargingBecauseAutomaticStopNoClock=11, ChargingBecausePvSurplus=12, ChargingBecauseFallbackGoEDefault=13, ChargingBecauseFallbackGoEScheduler=14, ChargingBecauseFallbackDefault=15, NotChargingBecauseFallbackGoEAwattar=16, NotChargingBecauseFallbackAwattar=17, NotChargingBecauseFallbackAutomaticStop=18, ChargingBecauseCarCompatibilityKeepAlive=19, ChargingBecauseChargePauseNotAllowed=20, NotChargingBecauseSimulateUnplugging=22, NotChargingBecausePhaseSwitch=23, NotChargingBecauseMinPauseDuration=24, NotChargingBecauseError=26, NotChargingBecauseLoadManagementDoesntWant=27, NotChargingBecauseOcppDoesntWant=28, NotChargingBecauseOcppFallback=35)", "15")
            .enums(&[(0, "NotChargingBecauseNoChargeCtrlData"), (1, "NotChargingBecauseOvertemperature"), (2, "NotChargingBecauseAccessControlWait"), (3, "ChargingBecauseForceStateOn"), (4, "NotChargingBecauseForceStateOff"), (5, "NotChargingBecauseScheduler"), (6, "NotChargingBecauseEnergyLimit"), (7, "ChargingBecauseAwattarPriceLow"), (8, "ChargingBecauseAutomaticStopTestLadung"), (9, "ChargingBecauseAutomaticStopNotEnoughTime"), (10, "ChargingBecauseAutomaticStop"), (11, "ChargingBecauseAutomaticStopNoClock"), (12, "ChargingBecausePvSurplus"), (13, "ChargingBecauseFallbackGoEDefault"), (14, "ChargingBecauseFallbackGoEScheduler"), (15, "ChargingBecauseFallbackDefault"), (16, "NotChargingBecauseFallbackGoEAwattar"), (17, "NotChargingBecauseFallbackAwattar"), (18, "NotChargingBecauseFallbackAutomaticStop"), (19, "ChargingBecauseCarCompatibilityKeepAlive"), (20, "ChargingBecauseChargePauseNotAllowed"), (22, "NotChargingBecauseSimulateUnplugging"), (23, "NotChargingBecausePhaseSwitch"), (24, "NotChargingBecauseMinPauseDuration"), (26, "NotChargingBecauseError"), (27, "NotChargingBecauseLoadManagementDoesntWant"), (28, "NotChargingBecauseOcppDoesntWant"), (35, "NotChargingBecauseOcppFallback")])
                .since(fw(55, 2))
                .until(fw(59, 0)),
            KeyDef::new("modelStatus", R, t(U8), Status, "Reason why we allow charging or not right now (NotChargingBecauseNoChargeCtrlData=0, NotChargingBecauseOvertemperature=1, NotChargingBecauseAccessControlWait=2, ChargingBecauseForceStateOn=3, NotChargingBecauseForceStateOff=4, NotChargingBecauseScheduler=5, NotChargingBecauseEnergyLimit=6, ChargingBecauseAwattarPriceLow=7, ChargingBecauseAutomaticStopTestLadung=8, ChargingBecauseAutomaticStopNotEnoughTime=9, ChargingBecauseAutomaticStop=10, ChargingBecauseAutomaticStopNoClock=11, ChargingBecausePvSurplus=12, ChargingBecauseFallbackGoEDefault=13, ChargingBecauseFallbackGoEScheduler=14, ChargingBecauseFallbackDefault=15, NotChargingBecauseFallbackGoEAwattar=16, NotChargingBecauseFallbackAwattar=17, NotChargingBecauseFallbackAutomaticStop=18, ChargingBecauseCarCompatibilityKeepAlive=19, ChargingBecauseChargePauseNotAllowed=20, NotChargingBecauseSimulateUnplugging=22, NotChargingBecausePhaseSwitch=23, NotChargingBecauseMinPauseDuration=24)", "15")
            .enums(&[(0, "NotChargingBecauseNoChargeCtrlData"), (1, "NotChargingBecauseOvertemperature"), (2, "NotChargingBecauseAccessControlWait"), (3, "ChargingBecauseForceStateOn"), (4, "NotChargingBecauseForceStateOff"), (5, "NotChargingBecauseScheduler"), (6, "NotChargingBecauseEnergyLimit"), (7, "ChargingBecauseAwattarPriceLow"), (8, "ChargingBecauseAutomaticStopTestLadung"), (9, "ChargingBecauseAutomaticStopNotEnoughTime"), (10, "ChargingBecauseAutomaticStop"), (11, "ChargingBecauseAutomaticStopNoClock"), (12, "ChargingBecausePvSurplus"), (13, "ChargingBecauseFallbackGoEDefault"), (14, "ChargingBecauseFallbackGoEScheduler"), (15, "ChargingBecauseFallbackDefault"), (16, "NotChargingBecauseFallbackGoEAwattar"), (17, "NotChargingBecauseFallbackAwattar"), (18, "NotChargingBecauseFallbackAutomaticStop"), (19, "ChargingBecauseCarCompatibilityKeepAlive"), (20, "ChargingBecauseChargePauseNotAllowed"), (22, "NotChargingBecauseSimulateUnplugging"), (23, "NotChargingBecausePhaseSwitch"), (24, "NotChargingBecauseMinPauseDuration"), (27, "NotChargingBecauseLoadManagementDoesntWant")])
                .until(fw(55, 2)),
        ]),
    KeyDef::new("msi", R, t(U8), Status, "Reason why we allow charging or not right now INTERNAL without cpDisabledRequest", "15")
        .enums(&[(0, "NotChargingBecauseNoChargeCtrlData"), (1, "NotChargingBecauseOvertemperature"), (2, "NotChargingBecauseAccessControlWait"), (3, "ChargingBecauseForceStateOn"), (4, "NotChargingBecauseForceStateOff"), (5, "NotChargingBecauseScheduler"), (6, "NotChargingBecauseEnergyLimit"), (7, "ChargingBecauseAwattarPriceLow"), (8, "ChargingBecauseAutomaticStopTestLadung"), (9, "ChargingBecauseAutomaticStopNotEnoughTime"), (10, "ChargingBecauseAutomaticStop"), (11, "ChargingBecauseAutomaticStopNoClock"), (12, "ChargingBecausePvSurplus"), (13, "ChargingBecauseFallbackGoEDefault"), (14, "ChargingBecauseFallbackGoEScheduler"), (15, "ChargingBecauseFallbackDefault"), (16, "NotChargingBecauseFallbackGoEAwattar"), (17, "NotChargingBecauseFallbackAwattar"), (18, "NotChargingBecauseFallbackAutomaticStop"), (19, "ChargingBecauseCarCompatibilityKeepAlive"), (20, "ChargingBecauseChargePauseNotAllowed"), (22, "NotChargingBecauseSimulateUnplugging"), (23, "NotChargingBecausePhaseSwitch"), (24, "NotChargingBecauseMinPauseDuration"), (27, "NotChargingBecauseLoadManagementDoesntWant")])
        .until(fw(55, 0)),
    KeyDef::new("lmsc", R, t(Millis), Status, "last model status change", "0"),
    KeyDef::new("mca", RW, t(U8), Config, "minChargingCurrent", "6")
        .unit("A")
        .rule(Rule::MinCurrent),
    KeyDef::new("awc", RW, t(U16), Config, "awattar country (Austria=0, Germany=1,...)", "0")
        .rule(Rule::None)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("awc", RW, t(U8), Config, "awattar country (Austria=0, Germany=1)", "0")
            .enums(&[(0, "Austria"), (1, "Germany")])
            .until(fw(55, 2))]),
    KeyDef::new("awp", RW, t(Float), Config, "awattarMaxPrice in ct", "3")
        .unit("ct/kWh"),
    KeyDef::new("awcp", R, o(Object), Status, "awattar current price: the price list's slot for now, {\"start\":0,\"end\":0,\"marketprice\":0} while there is none (never null)", "{\"start\":0,\"end\":0,\"marketprice\":0}")
        .since(fw(53, 1))
        .eras(&[KeyDef::new("awcp", R, o(Object), Status, "awattar current price", "null").until(fw(53, 1))]),
    KeyDef::new("awpl", W, t(Object), Status, "awattar price list (v2), timestamps are measured in unix-time, seconds since 1970: {\"prices\":[{\"start\":s,\"end\":s,\"marketprice\":ct},…]}", "{\"prices\":[]}")
        .mqtt_until(fw(55, 0))
        .rule(Rule::PriceListV2)
        .since(fw(60, 0))
        .eras(&[
            KeyDef::new("awpl", W, t(Array), Status, "awattar price list, timestamps are measured in unix-time, seconds since 1970", "[]").mqtt_until(fw(55, 0))
                .rule(Rule::PriceList)
                .since(fw(55, 2))
                .until(fw(60, 0)),
            KeyDef::new("awpl", RW, t(Array), Status, "awattar price list, timestamps are measured in unix-time, seconds since 1970", "[]").mqtt_until(fw(55, 0))
                .rule(Rule::PriceList)
                .until(fw(55, 2)),
        ]),
    KeyDef::new("frm", RW, t(U8), Config, "PV surplus rounding mode (PreferPowerFromGrid=0, Default=1, PreferPowerToGrid=2)", "1")
        .enums(&[(0, "PreferPowerFromGrid"), (1, "Default"), (2, "PreferPowerToGrid")])
        .newer(),
    KeyDef::new("fup", RW, t(Bool), Config, "use PV surplus (with lmo=4)", "true")
        .newer(),
    KeyDef::new("awe", RW, t(Bool), Config, "useAwattar", "false"),
    KeyDef::new("fst", RW, t(Float), Config, "PV surplus start power in W", "1400")
        .unit("W")
        .newer(),
    KeyDef::new("fmt", RW, t(Millis), Config, "PV surplus minimum charging time in milliseconds", "300000")
        .rule(Rule::Range(0, 86400000))
        .newer(),
    KeyDef::new("att", RW, t(Seconds), Config, "automatic stop time in seconds since day begin, calculation: (hours3600)+(minutes60)+(seconds)", "21600")
        .rule(Rule::Range(0, 86399)),
    KeyDef::new("ate", RW, t(Double), Config, "automatic stop energy in Wh", "18000")
        .unit("Wh")
        .rule(Rule::Range(0, 4294967295)),
    KeyDef::new("ara", RW, t(Bool), Config, "automatic stop remain in aWATTar", "true"),
    KeyDef::new("acp", RW, t(Bool), Config, "allowChargePause (car compatiblity)", "true"),
    KeyDef::new("cco", RW, t(Double), Config, "car consumption (only stored for app)", "17")
        .unit("kWh/100km")
        .rule(Rule::Range(0, 4294967295))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("esk", RW, t(Bool), Config, "energy set kwh (only stored for app)", "false")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("fzf", RW, t(Bool), Config, "zero feed-in mode", "false")
        .newer(),
    KeyDef::new("pgt", RW, t(Float), Config, "PV surplus pGrid target in W", "0")
        .unit("W")
        .newer(),
    KeyDef::new("sh", RW, t(Float), Config, "PV surplus stop hysteresis in W", "200")
        .unit("W")
        .rule(Rule::Range(0, 4294967295))
        .newer(),
    KeyDef::new("psh", RW, t(Float), Config, "PV surplus phase switch hysteresis in W", "500")
        .unit("W")
        .rule(Rule::Range(0, 4294967295))
        .newer(),
    KeyDef::new("po", RW, t(Float), Config, "PV surplus battery priority offset in W", "-300")
        .unit("W")
        .newer(),
    KeyDef::new("zfo", RW, t(Float), Config, "zero feed-in offset in W", "200")
        .unit("W")
        .newer(),
    KeyDef::new("psmd", RW, t(Millis), Config, "forceSinglePhaseDuration (in milliseconds)", "10000")
        .rule(Rule::Range(0, 3600000)),
    KeyDef::new("sumd", RW, t(Millis), Config, "simulate unpluging duration (in milliseconds)", "10000")
        .rule(Rule::Range(0, 3600000)),
    KeyDef::new("mpwst", RW, t(Millis), Config, "min phase wish switch time (in milliseconds)", "120000")
        .rule(Rule::Range(0, 86400000)),
    KeyDef::new("mptwt", RW, t(Millis), Config, "min phase toggle wait time (in milliseconds)", "600000")
        .rule(Rule::Range(0, 86400000)),
    KeyDef::new("mmp", R, t(Float), Status, "maximumMeasuredChargingPower (debug)", "0")
        .mqtt_until(fw(55, 0))
        .unit("W"),
    KeyDef::new("tlf", R, t(Bool), Status, "testLadungFinished (debug)", "false").mqtt_until(fw(55, 0)),
    KeyDef::new("tls", R, o(Millis), Status, "testLadungStarted: when the test charge started (ms since boot), null before", "null")
        .mqtt_until(fw(55, 0))
        .since(fw(59, 4))
        .eras(&[KeyDef::new("tls", R, t(Bool), Status, "testLadungStarted (debug)", "false").mqtt_until(fw(55, 0)).until(fw(59, 4))]),
    KeyDef::new("atp", R, o(Object), Status, "nextTripPlanData (debug)", "null").mqtt_until(fw(55, 0)),
    KeyDef::new("lpsc", R, o(Millis), Status, "last PV surplus calculation (in ms)", "null")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("ids", W, o(Object), Other, "inverter data {\"pGrid\":W,\"pPv\":W,\"pAkku\":W}; pGrid required; refresh at least every 5 s", "null")
        .rule(Rule::InverterData)
        .newer(),
    KeyDef::new("inva", R, o(Millis), Status, "age of the inverter data (in ms)", "null")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("pgrid", R, o(Float), Status, "grid power from the last inverter data in W (negative = export); null when older than 10 s", "null")
        .unit("W")
        .newer(),
    KeyDef::new("ppv", R, o(Float), Status, "PV power from the last inverter data in W; null when older than 10 s", "null")
        .unit("W")
        .newer(),
    KeyDef::new("pakku", R, o(Float), Status, "battery power from the last inverter data in W (negative = charging); null when older than 10 s", "null")
        .unit("W")
        .newer(),
    KeyDef::new("deltap", R, t(Float), Status, "PV surplus controller power delta in W", "0")
        .unit("W")
        .newer(),
    KeyDef::new("pnp", R, t(U8), Status, "number of phases the car currently charges on", "0")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("deltaa", R, t(Float), Status, "PV surplus controller current delta in A", "0")
        .unit("A")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("pvopt_averagePGrid", R, t(Float), Status, "PV surplus controller average grid power in W", "0")
        .unit("W")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("pvopt_averagePPv", R, t(Float), Status, "PV surplus controller average PV power in W", "0")
        .unit("W")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("pvopt_averagePAkku", R, t(Float), Status, "PV surplus controller average battery power in W", "0")
        .unit("W")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("ct", RW, t(Str), Config, "car type, free text string (max. 64 characters, only stored for app)", "\"\"")
        .rule(Rule::StrLen(0, 64))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mci", RW, t(Millis), Config, "minimumChargingInterval in milliseconds (0 means disabled)", "0")
        .rule(Rule::Range(0, 86400000))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcpd", RW, t(Millis), Config, "minChargePauseDuration in milliseconds (0 means disabled)", "0")
        .rule(Rule::Range(0, 86400000))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcpea", RW, o(Millis), Status, "minChargePauseEndsAt (set to null to abort current minChargePauseDuration)", "null")
        .rule(Rule::Range(0, 9223372036854775807))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("su", RW, t(Bool), Config, "simulateUnplugging", "false")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("sua", RW, t(Bool), Config, "simulate unplugging always (while charging is not allowed)", "false")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("hws", RW, t(Bool), Config, "httpStaReachable, defines if the local webserver should be reachable from the customers WiFi", "true")
        .until(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("hsa", W, t(Bool), Config, "httpStaAuthentication", "false")
        .mqtt_until(fw(55, 0))
        .since(fw(55, 2))
        .eras(&[KeyDef::new("hsa", RW, t(Bool), Config, "httpStaAuthentication", "false").mqtt_until(fw(55, 0)).until(fw(55, 2))]),
    KeyDef::new("var", R, t(U8), Constant, "variant: max Ampere value of unit (11: 11kW/16A, 22: 22kW/32A)", "11"),
    KeyDef::new("loe", RW, t(Bool), Config, "Load balancing enabled", "false")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("log", RW, t(Str), Config, "load_group_id", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("lop", RW, t(U16), Config, "load_priority", "50")
        .rule(Rule::Range(1, 99))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("lof", RW, t(U8), Config, "load_fallback", "0")
        .unit("A")
        .rule(Rule::Range(0, 32))
        .mqtt_until(fw(55, 0)),
    KeyDef::new("map", RW, t(Array), Config, "load_mapping (uint8_t[3])", "[1,2,3]")
        .rule(Rule::PhaseMapping)
        .mqtt_until(fw(55, 0)),
    KeyDef::new("upo", RW, t(Bool), Config, "unlock_power_outage", "false")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("pwm", R, t(U8), Status, "phase wish mode for debugging / only for pv optimizing / used for timers later (Force_3=0, Wish_1=1, Wish_3=2)", "0")
        .enums(&[(0, "Force_3"), (1, "Wish_1"), (2, "Wish_3")])
        .mqtt_until(fw(55, 0)),
    KeyDef::new("lfspt", R, o(Millis), Status, "last force single phase toggle", "null")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("fsptws", R, o(Millis), Status, "force single phase toggle wished since", "null")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("spl3", RW, t(Float), Config, "threePhaseSwitchLevel", "4200")
        .unit("W")
        .rule(Rule::Range(0, 4294967295)),
    KeyDef::new("psm", RW, t(U8), Config, "phase switch mode (Auto=0, Force_1=1, Force_3=2)", "0")
        .enums(&[(0, "Auto"), (1, "Force_1"), (2, "Force_3")])
        .newer(),
    KeyDef::new("oct", W, t(Str), Other, "firmware update trigger (must specify a branch from ocu)", "null")
        .rule(Rule::StrLen(1, 32)),
    KeyDef::new("ocu", R, t(Array), Status, "list of available firmware branches", "[\"56.2\",\"56.8 BETA\",\"V 055.8 OUTDATED\"]"),
    KeyDef::new("ocuca", R, t(Bool), Config, "ota cloud use client auth (if keys were setup correctly)", "false")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ocs", R, t(U8), Status, "ota from cloud status (Idle=0, Updating=1, Failed=2, Succeeded=3)", "0")
        .enums(&[(0, "Idle"), (1, "Updating"), (2, "Failed"), (3, "Succeeded")])
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ocp", R, t(Int), Status, "ota from cloud progress", "0")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ocm", R, t(Str), Status, "ota from cloud message", "\"\"")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("ocl", R, o(Int), Status, "ota from cloud length (total size)", "null")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("oca", R, o(Object), Status, "ota cloud app description", "null")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cwe", RW, t(Bool), Config, "cloud websocket enabled", "true")
        .mqtt_until(fw(55, 0)),
    KeyDef::new("cca", R, t(Bool), Config, "cloud websocket use client auth (if key&cert are setup correctly)", "true")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cws", R, t(Bool), Status, "cloud websocket started", "true")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cwsc", R, t(Bool), Status, "cloud websocket connected", "false")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cwsca", R, o(Millis), Status, "cloud websocket connected (age)", "null")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cpe", R, t(Bool), Status, "The charge ctrl requests the CP signal enabled or not immediately", "false")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cpr", R, t(Bool), Status, "CP enable request. cpd=0 triggers the charge ctrl to set cpe=0 once processed", "false")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("cus", R, t(U8), Status, "Cable unlock status (Unknown=0, Unlocked=1, UnlockFailed=2, Locked=3, LockFailed=4, LockUnlockPowerout=5)", "1")
        .enums(&[(0, "Unknown"), (1, "Unlocked"), (2, "UnlockFailed"), (3, "Locked"), (4, "LockFailed"), (5, "LockUnlockPowerout")]),
    KeyDef::new("ffb", R, t(U8), Status, "lock feedback (NoProblem=0, ProblemLock=1, ProblemUnlock=2)", "0")
        .enums(&[(0, "NoProblem"), (1, "ProblemLock"), (2, "ProblemUnlock")])
        .mqtt_until(fw(55, 0)),
    KeyDef::new("ffba", R, o(Millis), Status, "lock feedback (age)", "null")
        .until(fw(55, 0)),
    KeyDef::new("fhz", R, o(Float), Status, "Stromnetz frequency (~50Hz) or 0 if unknown", "50")
        .unit("Hz"),
    KeyDef::new("avgfhz", R, o(Float), Status, "average grid frequency in Hz", "50")
        .unit("Hz")
        .newer(),
    KeyDef::new("rcd", R, o(Micros), Status, "residual current detection (in microseconds) WILL CHANGE IN FUTURE", "null")
        .until(fw(55, 0)),
    KeyDef::new("onv", R, t(Str), Status, "OverTheAirUpdate newest version", "\"56.2\"")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("lom", R, t(Array), Status, "load balancing members", "[]")
        .until(fw(55, 0)),
    KeyDef::new("loa", R, o(U8), Status, "load balancing ampere", "null")
        .unit("A"),
    KeyDef::new("los", R, o(Str), Status, "load balancing status", "null").until(fw(55, 0)),
    KeyDef::new("lot", RW, t(Object), Config, "load balancing total amp: {amp: total A (static), dyn: dynamic maximum A, sta: static A, ts: undocumented}; a partial object changes only its fields", "{\"amp\":32,\"dyn\":32,\"sta\":32,\"ts\":3}")
        .mqtt_until(fw(55, 0))
        .rule(Rule::LoadTotal)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("lot", RW, t(U32), Config, "load balancing total amp", "32").mqtt_until(fw(55, 0))
            .unit("A")
            .rule(Rule::Range(0, 1000))
            .until(fw(55, 2))]),
    KeyDef::new("loty", RW, t(U8), Config, "load balancing type (Static=0, Dynamic=1)", "0")
        .mqtt_until(fw(55, 0))
        .enums(&[(0, "Static"), (1, "Dynamic")]),
    KeyDef::new("cards", RW, t(Array), Config, "RFID cards: 10 entries {\"name\",\"energy\",\"cardId\"}; cardId says whether a card id is learned. Send a sparse array to change single entries; on 60.x the same values as c0n..c9n, c0e..c9e, c0i..c9i", "[{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"factory-card\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"n/a\",\"energy\":0,\"cardId\":\"\"}]")
        .rule(Rule::Cards)
        .secret(Secret::FieldIsSet("cardId"))
        .persist()
        .newer()
        .since(fw(55, 2))
        .eras(&[KeyDef::new("cards", RW, t(Array), Config, "RFID cards: 10 entries {\"name\",\"energy\",\"cardId\"}; cardId says whether a card id is learned. Send a sparse array to change single entries", "[{\"name\":\"User 1\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 2\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 3\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 4\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 5\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 6\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 7\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 8\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 9\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 10\",\"energy\":0,\"cardId\":\"\"}]")
            .rule(Rule::Cards)
            .secret(Secret::FieldIsSet("cardId"))
            .persist()
            .newer()
            .until(fw(55, 2))]),
    KeyDef::new("hai", RW, t(Bool), Config, "HTTP API v2 enabled", "true")
        .newer(),
    KeyDef::new("hla", RW, t(Bool), Config, "legacy HTTP API v1 enabled", "false")
        .newer(),
    KeyDef::new("mce", RW, t(Bool), Config, "MQTT enabled", "false")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcu", RW, t(Str), Config, "MQTT broker URL, mqtt[s]://[user:pass@]host:port (mqtts: TLS, port 8883 by default); the password is shown as ********", "\"\"")
        .rule(Rule::StrLen(0, 256))
        .secret(Secret::UrlPassword)
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcr", RW, t(Bool), Config, "MQTT read-only: when true, /set topics are not applied", "true")
        .newer()
        .since(fw(55, 0))
        .mqtt_since(fw(60, 0))
        .eras(&[KeyDef::new("mcr", RW, t(Bool), Config, "MQTT read-only: when true, /set topics are not applied", "true")
            .newer()
            .until(fw(55, 0))]),
    KeyDef::new("mtp", RW, t(Str), Config, "MQTT topic prefix, must end with /; null resets to the default", "\"go-eCharger/{serial}/\"")
        .rule(Rule::TopicPrefix)
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcs", R, t(Bool), Status, "MQTT started", "false")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcc", R, t(Bool), Status, "MQTT connected", "false")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mcca", R, o(Millis), Status, "MQTT connected since (in ms)", "null")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mlr", R, o(Str), Status, "MQTT last error", "null")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("mlra", R, o(Millis), Status, "MQTT last error at (in ms)", "null")
        .newer()
        .mqtt_until(fw(55, 0)),
    KeyDef::new("wcch", R, t(U8), Status, "webserver connected clients as HTTP", "0")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("wccw", R, t(U8), Status, "webserver connected clients as WEBSOCKET", "0")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("qsc", R, t(Size), Status, "queue size cloud", "0")
        .no_mqtt()
        .until(fw(55, 0)),
    KeyDef::new("qsw", R, t(Size), Status, "queue size webserver/websocket", "0")
        .until(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rst", W, t(Bool), Other, "Reset the charger and chargectrl (JsonVariantConst: true, 1 or any string; false, 0, null and \"false\" do nothing)", "null")
        .rule(Rule::AnyVariant)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("rst", W, t(Bool), Other, "restart the charger (send true)", "null").newer().until(fw(55, 2))])
        .newer(),
    // --- #12 newkeys: keys clients read on newer firmware (sources: docs/compat.md "Keys that clients read")
    KeyDef::new("c0n", RW, t(Str), Config, "RFID card 0 name; the same value as cards[0].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c1n", RW, t(Str), Config, "RFID card 1 name; the same value as cards[1].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c2n", RW, t(Str), Config, "RFID card 2 name; the same value as cards[2].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c3n", RW, t(Str), Config, "RFID card 3 name; the same value as cards[3].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c4n", RW, t(Str), Config, "RFID card 4 name; the same value as cards[4].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c5n", RW, t(Str), Config, "RFID card 5 name; the same value as cards[5].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c6n", RW, t(Str), Config, "RFID card 6 name; the same value as cards[6].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c7n", RW, t(Str), Config, "RFID card 7 name; the same value as cards[7].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c8n", RW, t(Str), Config, "RFID card 8 name; the same value as cards[8].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c9n", RW, t(Str), Config, "RFID card 9 name; the same value as cards[9].name", "\"n/a\"")
        .rule(Rule::StrLen(0, 32))
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c0e", RW, t(U64), Config, "RFID card 0 energy in Wh; the same value as cards[0].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c1e", RW, t(U64), Config, "RFID card 1 energy in Wh; the same value as cards[1].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c2e", RW, t(U64), Config, "RFID card 2 energy in Wh; the same value as cards[2].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c3e", RW, t(U64), Config, "RFID card 3 energy in Wh; the same value as cards[3].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c4e", RW, t(U64), Config, "RFID card 4 energy in Wh; the same value as cards[4].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c5e", RW, t(U64), Config, "RFID card 5 energy in Wh; the same value as cards[5].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c6e", RW, t(U64), Config, "RFID card 6 energy in Wh; the same value as cards[6].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c7e", RW, t(U64), Config, "RFID card 7 energy in Wh; the same value as cards[7].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c8e", RW, t(U64), Config, "RFID card 8 energy in Wh; the same value as cards[8].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c9e", RW, t(U64), Config, "RFID card 9 energy in Wh; the same value as cards[9].energy", "0")
        .unit("Wh")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c0i", RW, t(Str), Config, "RFID card 0 id: reads true/false (learned or not), written as the id text; the same value as cards[0].cardId", "\"factory-card\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c1i", RW, t(Str), Config, "RFID card 1 id: reads true/false (learned or not), written as the id text; the same value as cards[1].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c2i", RW, t(Str), Config, "RFID card 2 id: reads true/false (learned or not), written as the id text; the same value as cards[2].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c3i", RW, t(Str), Config, "RFID card 3 id: reads true/false (learned or not), written as the id text; the same value as cards[3].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c4i", RW, t(Str), Config, "RFID card 4 id: reads true/false (learned or not), written as the id text; the same value as cards[4].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c5i", RW, t(Str), Config, "RFID card 5 id: reads true/false (learned or not), written as the id text; the same value as cards[5].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c6i", RW, t(Str), Config, "RFID card 6 id: reads true/false (learned or not), written as the id text; the same value as cards[6].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c7i", RW, t(Str), Config, "RFID card 7 id: reads true/false (learned or not), written as the id text; the same value as cards[7].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c8i", RW, t(Str), Config, "RFID card 8 id: reads true/false (learned or not), written as the id text; the same value as cards[8].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("c9i", RW, t(Str), Config, "RFID card 9 id: reads true/false (learned or not), written as the id text; the same value as cards[9].cardId", "\"\"")
        .rule(Rule::StrLen(0, 32))
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("lcs", R, t(Millis), Status, "last controller scan timestamp in milliseconds since boot time", "0")
        .newer()
        .since(fw(55, 2)),
    KeyDef::new("ctrls", R, o(Array), Status, "Controllers search result (null: no go-e Controller found)", "null")
        .newer()
        .since(fw(55, 2)),
    KeyDef::new("di1", RW, t(Bool), Config, "digital Input 1-phase", "false")
        .newer()
        .since(fw(56, 0)),
    KeyDef::new("nif", R, t(Str), Status, "Default route (network interface)", "\"st1\"")
        .newer()
        .no_mqtt()
        .since(fw(55, 2)),
    KeyDef::new("wst", R, t(U8), Status, "WiFi STA status (IDLE_STATUS=0, NO_SSID_AVAIL=1, SCAN_COMPLETED=2, CONNECTED=3, CONNECT_FAILED=4, CONNECTION_LOST=5, DISCONNECTED=6, CONNECTING=7, DISCONNECTING=8, NO_SHIELD=9, WAITING_FOR_IP=10)", "3")
        .enums(&[(0, "IDLE_STATUS"), (1, "NO_SSID_AVAIL"), (2, "SCAN_COMPLETED"), (3, "CONNECTED"), (4, "CONNECT_FAILED"), (5, "CONNECTION_LOST"), (6, "DISCONNECTED"), (7, "CONNECTING"), (8, "DISCONNECTING"), (9, "NO_SHIELD"), (10, "WAITING_FOR_IP")])
        .newer()
        .no_mqtt()
        .since(fw(55, 2)),
    KeyDef::new("esr", R, t(Array), Status, "rtc_get_reset_reason for core 0 and 1 (POWERON_RESET=1, SW_CPU_RESET=12, ...)", "[1,1]")
        .newer()
        .no_mqtt()
        .since(fw(60, 0)),
    KeyDef::new("wda", RW, t(Bool), Config, "disable AccessPoint when cloud is connected", "false")
        .newer()
        .no_mqtt()
        .since(fw(55, 2)),
    KeyDef::new("ccrv", R, t(Str), Constant, "chargectrl recommended version", "\"2.3\"")
        .newer()
        .no_mqtt()
        .since(fw(60, 0)),
    KeyDef::new("cmse", RW, t(Bool), Config, "controllerMdnsScanEnabled, set to false to completely disable any MDNS searches (debugging)", "true")
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("ocppe", RW, t(Bool), Config, "OCPP enabled", "false")
        .newer()
        .no_mqtt()
        .since(fw(55, 2)),
    KeyDef::new("whs", R, t(Double), Status, "energy SOLAR in Wh since car connected", "0")
        .unit("Wh")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("whg", R, t(Double), Status, "energy GRID in Wh since car connected", "0")
        .unit("Wh")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("whb", R, t(Double), Status, "energy BATTERY in Wh since car connected", "0")
        .unit("Wh")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("who", R, t(Double), Status, "energy OTHER in Wh since car connected", "0")
        .unit("Wh")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("ws", R, o(Double), Status, "power SOLAR in W (the car's power from this source; null without meter data)", "null")
        .unit("W")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("wg", R, o(Double), Status, "power GRID in W (the car's power from this source; null without meter data)", "null")
        .unit("W")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("wb", R, o(Double), Status, "power BATTERY in W (the car's power from this source; null without meter data)", "null")
        .unit("W")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("wo", R, o(Double), Status, "power OTHER in W (the car's power from this source; null without meter data)", "0")
        .unit("W")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("rdbs", RW, t(Int), Config, "randomDelayStartScheduledCharging in seconds", "0")
        .unit("s")
        .rule(Rule::Range(0, 86400))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdbse", RW, o(Millis), Status, "randomDelayStartScheduledChargingEndsAt, ms since boot: run-time state, not kept across a restart (set to null to abort current randomDelayStartScheduledCharging)", "null")
        .rule(Rule::Range(0, 9007199254740991))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdes", RW, t(Int), Config, "randomDelayStopScheduledCharging in seconds", "0")
        .unit("s")
        .rule(Rule::Range(0, 86400))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdese", RW, o(Millis), Status, "randomDelayStopScheduledChargingEndsAt, ms since boot: run-time state, not kept across a restart (set to null to abort current randomDelayStopScheduledCharging)", "null")
        .rule(Rule::Range(0, 9007199254740991))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdbf", RW, t(Int), Config, "randomDelayStartFlexibleTariffCharging in seconds", "0")
        .unit("s")
        .rule(Rule::Range(0, 86400))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdbfe", RW, o(Millis), Status, "randomDelayStartFlexibleTariffChargingEndsAt, ms since boot: run-time state, not kept across a restart (set to null to abort current randomDelayStartFlexibleTariffCharging)", "null")
        .rule(Rule::Range(0, 9007199254740991))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdef", RW, t(Int), Config, "randomDelayStopFlexibleTariffCharging in seconds", "0")
        .unit("s")
        .rule(Rule::Range(0, 86400))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdefe", RW, o(Millis), Status, "randomDelayStopFlexibleTariffChargingEndsAt, ms since boot: run-time state, not kept across a restart (set to null to abort current randomDelayStopFlexibleTariffCharging)", "null")
        .rule(Rule::Range(0, 9007199254740991))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdre", RW, t(Int), Config, "randomDelayReconnection in seconds", "0")
        .unit("s")
        .rule(Rule::Range(0, 86400))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdree", RW, o(Millis), Status, "randomDelayReconnectionEndsAt, ms since boot: run-time state, not kept across a restart (set to null to abort current randomDelayReconnection)", "null")
        .rule(Rule::Range(0, 9007199254740991))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdpl", RW, t(Int), Config, "randomDelayWhenPluggingCar in seconds", "0")
        .unit("s")
        .rule(Rule::Range(0, 86400))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("rdple", RW, o(Millis), Status, "randomDelayWhenPluggingCarEndsAt, ms since boot: run-time state, not kept across a restart (set to null to abort current randomDelayWhenPluggingCar)", "null")
        .rule(Rule::Range(0, 9007199254740991))
        .newer()
        .no_mqtt()
        .since(fw(59, 0)),
    KeyDef::new("alwt", R, t(Millis), Status, "timestamp of last alw change (use rbt to find out how long its ago)", "0")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("eto_mid", R, o(U64), Status, "MID energy_total, measured in Wh", "null")
        .unit("Wh")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("wsc", R, t(U8), Status, "WiFi STA error count", "0")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("wbw", R, t(U32), Config, "WiFi Bandwidth (for both AP and STA) WIFI_BW_HT20=1, WIFI_BW_HT40=2", "1")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("wsl", R, t(Array), Status, "WiFi STA error messages log", "[]")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("lwf", R, o(Millis), Status, "last wifi connect failed (milliseconds since boot)", "null")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("cce", R, o(Object), Status, "Currently connected Ethernet", "null")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("mia", R, o(Object), Status, "Modem IP Address", "null")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("dns", R, t(Object), Status, "dns servers", "{\"dns0\":\"127.0.0.1\",\"dns1\":\"0.0.0.0\",\"dns2\":\"0.0.0.0\"}")
        .newer()
        .since(fw(55, 6))
        .eras(&[KeyDef::new("dns", R, t(Object), Status, "dns server", "{\"dns\":\"127.0.0.1\"}")
            .newer()
            .since(fw(52, 0))
            .until(fw(55, 6))]),
    KeyDef::new("tzt", RW, t(Str), Config, "timezone type, freetext string for app selection", "\"Europe/Vienna\"")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("aus", R, t(Bool), Config, "is australia", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("tab", R, t(U64), Status, "time at boot in utc in milliseconds, add rbt to get to current utc time", "0")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("lto", R, t(Millis), Status, "local time offset in milliseconds, tab + rbt + lto = local time", "3600000")
        .unit("ms")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("facacs", R, t(U8), Config, "factory access_control user setting (Open=0, Wait=1, EVCMS=2)", "0")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("wh_mid", R, o(Double), Status, "MID energy in Wh since car connected", "null")
        .unit("Wh")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("evt", R, o(Str), Status, "EVCMS transaction id", "null")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("txt", RW, t(Int), Config, "transaction timeout (OCPP ConnectionTimeOut)", "0")
        .unit("s")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("emx", RW, t(Int), Config, "Energymix plugout afterglow in milliseconds.", "0")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("smd", RW, t(Object), Status, "smart meter data", "{}")
        .newer()
        .since(fw(60, 0))
        .no_mqtt()
        .eras(&[KeyDef::new("smd", R, t(Object), Status, "smart meter data", "{}")
            .newer()
            .since(fw(55, 0))
            .until(fw(60, 0))
            .no_mqtt()]),
    KeyDef::new("dsrc", R, o(Str), Status, "inverter data source", "null")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("cert", R, t(U8), Config, "Certification Status (0=NoCertification, 1=MidOnly, 2=MidEichrecht)", "0")
        .enums(&[(0, "NoCertification"), (1, "MidOnly"), (2, "MidEichrecht")])
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("nld", R, t(U8), Constant, "number of leds", "32")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("shut", R, t(Bool), Config, "is shutter", "false")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("sock", R, t(Bool), Config, "is socket", "false")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("ten", RW, t(Bool), Config, "tamper protection enable", "false")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("iso2en", RW, t(U8), Config, "iso15118Enablement (Off = 0, Optional = 1, Forced = 2)", "0")
        .enums(&[(0, "Off"), (1, "Optional"), (2, "Forced")])
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("lopr", RW, t(Bool), Config, "load balancing protected", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("cle", R, o(Str), Status, "Cloud last error", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("clea", R, o(Millis), Status, "Cloud last error (age)", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("data", R, t(Str), Status, "grafana token from cloud for app", "\"\"")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("pco", RW, t(Str), Config, "controllerCloudKey", "\"\"")
        .newer()
        .since(fw(55, 0))
        .mqtt_since(fw(60, 0)),
    KeyDef::new("cmmr", R, t(U16), Config, "controllerMdnsMaxResults", "5")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("cmp", R, t(Str), Config, "controllerMdnsProto", "\"_tcp\"")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("cms", R, t(Str), Config, "controllerMdnsService", "\"_go-e-controller\"")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("fsc", R, t(Int), Config, "failsafeLimitCountdown", "0")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("fse", R, t(Bool), Config, "failsafeLimitEnabled", "false")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("fsi", R, t(U8), Config, "failsafeLimit", "6")
        .unit("A")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("men", RW, t(Bool), Config, "modbus slave enabled", "false")
        .newer()
        .since(fw(52, 0)),
    KeyDef::new("msb", RW, t(Bool), Config, "modbus slave swap bytes", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("msr", RW, t(Bool), Config, "modbus slave swap registers", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("mstr", R, o(Millis), Status, "timestamp of last modbus slave tcp read operation (use rbt to find out how lon	g its ago)", "null")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("mstw", R, o(Millis), Status, "timestamp of last modbus slave tcp write operation (use rbt to find out how lo	ng its ago)", "null")
        .newer()
        .since(fw(60, 0)),
    // #15: modbus-en.md lists these two; no key export (59.4-60.4) and no
    // MQTT capture has them, so they are not published over MQTT
    KeyDef::new("mro", R, t(Size), Status, "modbus slave read operations", "0")
        .newer()
        .since(fw(52, 0))
        .no_mqtt(),
    KeyDef::new("mwo", R, t(Size), Status, "modbus slave write operations", "0")
        .newer()
        .since(fw(52, 0))
        .no_mqtt(),
    KeyDef::new("dll", R, t(Str), Status, "download link for app csv export", "\"https://data.v3.go-e.io/export?e=...\"")
        .newer()
        .since(fw(52, 0)),
    KeyDef::new("mhe", RW, t(Bool), Config, "MQTT enable homeassistant discovery", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("mht", RW, t(Str), Config, "MQTT homeassistant topic prefix (set to null to reset back to the default	)", "\"homeassistant\"")
        .rule(Rule::DiscoveryPrefix)
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("mqcn", RW, t(Bool), Config, "MQTT skipCertCommonNameCheck", "false")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("mqg", RW, t(Bool), Config, "MQTT useGlobalCaStore", "false")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("mqss", RW, t(Bool), Config, "MQTT skipServerVerification", "false")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("mck", RW, t(Str), Config, "MQTT client key (PEM private key of mqcc, mqtts://; reads true/false: set or not; checked when set from 60.5)", "\"\"")
        .rule(Rule::PemKey)
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 5))
        .no_mqtt()
        .eras(&[KeyDef::new("mck", RW, t(Str), Config, "MQTT client key (PEM private key of mqcc, mqtts://; reads true/false: set or not; checked when set from 60.5)", "\"\"")
            .secret(Secret::IsSet)
            .newer()
            .since(fw(59, 0))
            .until(fw(60, 5))
            .no_mqtt()]),
    KeyDef::new("mqcc", RW, t(Str), Config, "MQTT client cert (PEM certificate for mutual TLS, mqtts://; reads true/false: set or not; checked when set from 60.5)", "\"\"")
        .rule(Rule::PemCert)
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 5))
        .no_mqtt()
        .eras(&[KeyDef::new("mqcc", RW, t(Str), Config, "MQTT client cert (PEM certificate for mutual TLS, mqtts://; reads true/false: set or not; checked when set from 60.5)", "\"\"")
            .secret(Secret::IsSet)
            .newer()
            .since(fw(59, 0))
            .until(fw(60, 5))
            .no_mqtt()]),
    KeyDef::new("msc", RW, t(Str), Config, "MQTT server cert (PEM certificates to trust, mqtts://; reads true/false: set or not; checked when set from 60.5)", "\"\"")
        .rule(Rule::PemCert)
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 5))
        .no_mqtt()
        .eras(&[KeyDef::new("msc", RW, t(Str), Config, "MQTT server cert (PEM certificates to trust, mqtts://; reads true/false: set or not; checked when set from 60.5)", "\"\"")
            .secret(Secret::IsSet)
            .newer()
            .since(fw(59, 0))
            .until(fw(60, 5))
            .no_mqtt()]),
    KeyDef::new("ocppu", RW, t(Str), Config, "OCPP server url, ws[s]://[user:pass@]host:port/path (Basic auth from the user info); the password is shown as ********", "\"\"")
        .secret(Secret::UrlPassword)
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocpps", R, t(Bool), Status, "OCPP started", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppc", R, t(Bool), Status, "OCPP connected", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppca", R, o(Millis), Status, "OCPP connected (age)", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppa", R, t(Bool), Status, "OCPP connected and accepted", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppaa", R, o(Millis), Status, "OCPP connected and accepted (age)", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocpple", R, o(Str), Status, "OCPP last error", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocpplea", R, o(Millis), Status, "OCPP last error (age)", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocpph", RW, t(Int), Config, "ocppHeartbeatInterval", "3600")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppi", RW, t(Int), Config, "ocppMeterValueSampleInterval", "60")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppai", RW, t(Int), Config, "ocppClockAlignedDataInterval", "900")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppd", RW, t(Str), Config, "OCPP dummy card id (used when no card has been used and charging is already al	lowed / starting)", "\"\"")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppr", RW, t(Bool), Config, "OCPP rotate phases on charger", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocpprl", RW, t(Bool), Config, "OCPP remote log", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppss", RW, t(Bool), Config, "OCPP skipServerVerification", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppcn", RW, t(Bool), Config, "OCPP skipCertCommonNameCheck", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppg", RW, t(Bool), Config, "OCPP useGlobalCaStore", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppck", RW, t(Str), Config, "OCPP client key (PEM private key; reads true/false: set or not; checked when set from 60.5)", "\"\"")
        .rule(Rule::PemKey)
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 5))
        .no_mqtt()
        .eras(&[KeyDef::new("ocppck", RW, t(Str), Config, "OCPP client key (PEM private key; reads true/false: set or not; checked when set from 60.5)", "\"\"")
            .secret(Secret::IsSet)
            .newer()
            .since(fw(55, 0))
            .until(fw(60, 5))
            .no_mqtt()]),
    KeyDef::new("ocppcc", RW, t(Str), Config, "OCPP client cert (PEM certificate; reads true/false: set or not; checked when set from 60.5)", "\"\"")
        .rule(Rule::PemCert)
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 5))
        .no_mqtt()
        .eras(&[KeyDef::new("ocppcc", RW, t(Str), Config, "OCPP client cert (PEM certificate; reads true/false: set or not; checked when set from 60.5)", "\"\"")
            .secret(Secret::IsSet)
            .newer()
            .since(fw(55, 0))
            .until(fw(60, 5))
            .no_mqtt()]),
    KeyDef::new("ocppsc", RW, t(Str), Config, "OCPP server cert (PEM certificates to trust; reads true/false: set or not; checked when set from 60.5)", "\"\"")
        .rule(Rule::PemCert)
        .secret(Secret::IsSet)
        .newer()
        .since(fw(60, 5))
        .no_mqtt()
        .eras(&[KeyDef::new("ocppsc", RW, t(Str), Config, "OCPP server cert (PEM certificates to trust; reads true/false: set or not; checked when set from 60.5)", "\"\"")
            .secret(Secret::IsSet)
            .newer()
            .since(fw(55, 0))
            .until(fw(60, 5))
            .no_mqtt()]),
    KeyDef::new("ocppcm", RW, t(U8), Config, "OCPP meter values condition (0 = WhenTransactionId, 1 = WhenCharging)", "0")
        .enums(&[(0, "WhenTransactionId"), (1, "WhenCharging")])
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppcs", R, t(U8), Status, "OCPP connector status (0=Available, 1=Preparing, 2=Charging, 3=SuspendedEVSE,	4=SuspendedEV, 5=Finishing, 6=Reserved, 7=Unavailable, 8=Faulted)", "0")
        .enums(&[(0, "Available"), (1, "Preparing"), (2, "Charging"), (3, "SuspendedEVSE"), (4, "SuspendedEV"), (5, "Finishing"), (6, "Reserved"), (7, "Unavailable"), (8, "Faulted")])
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppf", RW, o(U8), Config, "OCPP fallback current", "null")
        .unit("A")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppla", RW, t(Bool), Config, "OCPP LocalAuthListEnabled", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocpplo", RW, t(Bool), Config, "OCPP LocalAuthorizeOffline", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppti", RW, o(Int), Status, "OCPP transaction id", "null")
        // kept across a reboot: StopTransaction after a restart names it (59.4 export: Config)
        .persist()
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("ocppte", R, o(Millis), Status, "OCPP transaction ended at (timestamp)", "null")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("ocppdp", R, t(Array), Status, "ocpp chargepoint default profiles", "[]")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("ocppmp", R, t(Array), Status, "ocpp chargepoint max profiles", "[]")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("ocpptp", R, t(Array), Status, "ocpp tx profiles", "[]")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("ocpptt", RW, t(Str), Config, "OCPP tariff text : tariff text string to be used subsequent charging sessions", "\"\"")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("ocppff", R, o(U8), Config, "OCPP factory fallback current", "null")
        .unit("A")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    // ocppt/ocppio: rows of the newest ocpp-en.md only, in no export up to 60.4: 60.5 (#14)
    KeyDef::new("ocppt", RW, t(Bool), Config, "OCPP accept time provided by backend in BootNotification confirmation", "false")
        .newer()
        .since(fw(60, 5))
        .no_mqtt(),
    KeyDef::new("ocppio", RW, t(Bool), Config, "OCPP currently set as inoperable (can be changed by backend by using ChangeAvailability messages)", "false")
        .newer()
        .since(fw(60, 5))
        .no_mqtt(),
    KeyDef::new("orsch", RW, t(Bool), Config, "OCPP requires same card to halt transactions (as a compatibility mode for shit	ty backends that do not want to follow the ocpp standard)", "false")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("osr", RW, t(Bool), Config, "stop charging on reboot if OCPP enabled", "false")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("rde", RW, t(Bool), Config, "send rfid serial to cloud/api/mqtt (enable lri api key to show rfid numbers)", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("lri", R, o(Str), Status, "last rfid id (only available when sendRfid)", "null")
        .newer()
        .since(fw(52, 0)),
    KeyDef::new("tsi", R, o(Str), Status, "transaction start rfidid (only available when sendRfid)", "null")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("lrc", R, o(U8), Status, "last rfid card index", "null")
        .newer()
        .since(fw(52, 0)),
    KeyDef::new("lrr", R, o(Millis), Status, "last rfid read (milliseconds since boot)", "null")
        .newer()
        .since(fw(52, 0)),
    KeyDef::new("csa", R, t(Bool), Status, "controller scan active (set to true to start scan)", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("ccd", R, o(Object), Status, "Connected controller data", "null")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("isgo", R, t(Bool), Constant, "is go", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("simo", R, t(Bool), Config, "simplified mode", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("dfam", R, t(Str), Constant, "Devicefamily", "\"goecharger\"")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("styp", R, t(Str), Constant, "Devicesubtype", "\"go-e\"")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("rev", R, t(Str), Constant, "Hardware revision", "\"1\"")
        .newer()
        .since(fw(60, 0)),
    KeyDef::new("csd", RW, t(Bool), Config, "clear surplus data after break", "true")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("lpc", R, o(Millis), Status, "lastPvCalculation", "null")
        .newer()
        .since(fw(59, 0))
        .no_mqtt(),
    KeyDef::new("die", RW, t(Bool), Config, "digital Input Enabled", "true")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("dii", RW, t(Bool), Config, "digital Input Inverted", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("la1", RW, t(U8), Config, "limit adapter 1-phase (in A)", "16")
        .unit("A")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("la3", RW, t(U8), Config, "limit adapter 3-phase (in A)", "16")
        .unit("A")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("din", R, t(U32), Status, "digital input states", "1")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("pgr", RW, t(Bool), Config, "protect Grid Requirements", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("pdi", RW, t(Bool), Config, "protect Digital Input", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("ufe", RW, t(Bool), Config, "Underfrequency Control enabled", "false")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("ufm", RW, t(U8), Config, "Underfrequency Control mode (TypeNominal=0, TypeActual=1)", "0")
        .enums(&[(0, "TypeNominal"), (1, "TypeActual")])
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("ufa", RW, t(Float), Config, "Underfrequency Control activation threshold", "49.79999924")
        .unit("Hz")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("ufs", RW, t(Float), Config, "Underfrequency Control stop frequency", "49")
        .unit("Hz")
        .newer()
        .since(fw(55, 0)),
    KeyDef::new("gmtr", RW, t(Int), Config, "gridMonitoringTimeReconnection in seconds", "60")
        .unit("s")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("gsa", RW, o(Millis), Status, "gridMonitoring last failure", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rmaf", RW, t(Float), Config, "reconnectionMaximumFrequency in Hz", "50.1")
        .unit("Hz")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rmav", RW, t(Float), Config, "reconnectionMaximumVoltage in Volt", "253")
        .unit("V")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rmif", RW, t(Float), Config, "reconnectionMinimumFrequency in Hz", "47.5")
        .unit("Hz")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rmiv", RW, t(Float), Config, "reconnectionMinimumVoltage in Volt", "207")
        .unit("V")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rsa", RW, o(Millis), Status, "rampup started at", "null")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rsre", RW, t(Bool), Config, "rampupAtStartAndReconnectionEnabled", "false")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("rsrr", RW, t(Float), Config, "rampupAtStartAndReconnectionRate in %/s", "10")
        .unit("%/s")
        .newer()
        .since(fw(55, 0))
        .no_mqtt(),
    KeyDef::new("uve", RW, t(Bool), Config, "Undervoltage Control enabled", "false")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("uvs", RW, t(Int), Config, "Undervoltage Control time in milliseconds", "3000")
        .unit("ms")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("uvt", RW, t(Float), Config, "Undervoltage Control threshold in Volt", "184")
        .unit("V")
        .newer()
        .since(fw(59, 0)),
    KeyDef::new("wcb", R, t(Str), Status, "WiFi current mac address (bssid connecting to)", "\"02:00:00:00:00:01\"")
        .newer()
        .since(fw(55, 0))
        .until(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("wfb", R, t(Array), Status, "WiFi failed mac addresses (bssids)", "[]")
        .newer()
        .since(fw(55, 0))
        .until(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("wpb", R, t(Array), Status, "WiFi planned mac addresses (future bssids)", "[]")
        .newer()
        .since(fw(55, 0))
        .until(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("bar", RW, t(U8), Config, "Button Allow WiFi AP reset (0=AlwaysLock, 1=LockWhenCarIsConnected, 2=LockWhenCarIsCharging, 3=NeverLock)", "3")
        .newer()
        .since(fw(55, 0))
        .until(fw(60, 0))
        .no_mqtt(),
    KeyDef::new("msp", RW, t(U16), Config, "modbus slave port (requires off/on toggle)", "502")
        .newer()
        .since(fw(55, 0))
        .until(fw(60, 0)),
    KeyDef::new("ocppao", W, t(Bool), Config, "OCPP AllowOfflineTxForUnknownId", "null")
        .newer()
        .since(fw(60, 0))
        .no_mqtt()
        .eras(&[KeyDef::new("ocppao", RW, t(Bool), Config, "OCPP AllowOfflineTxForUnknownId", "false")
            .newer()
            .since(fw(55, 0))
            .until(fw(60, 0))
            .no_mqtt()]),
    KeyDef::new("lbl", R, o(Millis), Status, "lastButtonHoldLong", "null")
        .newer()
        .since(fw(56, 0))
        .until(fw(60, 0)),
    KeyDef::new("ocppfai", W, t(Int), Config, "factoryOcppClockAlignedDataInterval", "null")
        .newer()
        .since(fw(60, 0))
        .no_mqtt(),
    // --- #15 cloud API v3 (cloudapi-en.md: firmware 052 required; in no export or capture)
    KeyDef::new("cae", RW, t(Bool), Config, "cloud api enabled: the charger uploads its status to the cloud API v3 and takes its sets", "false")
        .newer()
        .since(fw(52, 0))
        .no_mqtt(),
    // The token is shown in clear on the local HTTP API and the WebSocket, as
    // cloudapi-en.md says ("it can be read out using the api key cak"), so it is
    // not a `Secret`; it never goes to MQTT or a log (docs/compat.md #15).
    // Writing any value generates a new token (`Charger::set`).
    KeyDef::new("cak", RW, t(Str), Config, "cloud api key: the token of the cloud API v3, generated on the charger; writing any value generates a new one", "\"\"")
        .rule(Rule::AnyVariant)
        .newer()
        .since(fw(52, 0))
        .no_mqtt(),
];
