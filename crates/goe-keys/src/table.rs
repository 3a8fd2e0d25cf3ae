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
        .no_mqtt(),
    KeyDef::new("rfb", R, t(Int), Status, "Relay Feedback", "0")
        .no_mqtt(),
    KeyDef::new("stao", R, o(U8), Status, "undocumented; seen as null in every real status (2021 screenshot, Wattpilot)", "null")
        .newer()
        .no_mqtt(),
    KeyDef::new("alw", R, t(Bool), Status, "Darf das Auto derzeit laden?", "true"),
    KeyDef::new("acu", R, o(Int), Status, "Mit wie vielen Ampere darf das Auto derzeit laden?", "16")
        .unit("A"),
    KeyDef::new("acui", R, o(Int), Status, "undocumented; like acu (2021 screenshot, Wattpilot)", "16")
        .unit("A")
        .newer()
        .no_mqtt(),
    KeyDef::new("cll", R, t(Object), Status, "current limits: every limit that currently applies, by name (A)", "{\"adapterCurrentLimit\":16,\"currentLimitMax\":16,\"minChargingCurrent\":6,\"requestedCurrent\":16,\"temperatureCurrentLimit\":32,\"unsymetryCurrentLimit\":32}")
        .newer(),
    KeyDef::new("adi", R, t(Bool), Status, "Wird der 16A Adapter benutzt? Limitiert den Ladestrom auf 16A", "true"),
    KeyDef::new("dwo", RW, o(Double), Config, "Lade Energy Limit, gemessen in Wh, null bedeutet deaktiviert, nicht mit der next trip energie zu verwechseln", "null")
        .unit("Wh")
        .rule(Rule::Range(0, 4294967295)),
    KeyDef::new("tpa", R, t(Float), Status, "30 Sekunden Gesamtleistungsdurchschnitt (wird für genauere next-trip vorhersagen berechnet)", "0")
        .unit("W"),
    KeyDef::new("sse", R, t(Str), Constant, "serial number", "\"{serial}\""),
    KeyDef::new("eto", R, t(U64), Status, "energy_total, measured in Wh", "0")
        .unit("Wh")
        .persist(),
    KeyDef::new("etop", R, t(U64), Status, "energy_total persisted, measured in Wh, without the extra magic to have live values", "0")
        .unit("Wh")
        .persist(),
    KeyDef::new("wifis", RW, t(Array), Config, "wifi configurations with ssids and keys, if you only want to change the second entry, send an array with 1 empty and 1 filled wifi config object: [{}, {\"ssid\":\"\",\"key\":\"\"}]", "[{\"ssid\":\"goe-sim\",\"key\":\"virtual\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"},{\"ssid\":\"\",\"key\":\"\",\"useStaticIp\":false,\"staticIp\":\"0.0.0.0\",\"staticSubnet\":\"0.0.0.0\",\"staticGateway\":\"0.0.0.0\",\"useStaticDns\":false,\"staticDns0\":\"0.0.0.0\",\"staticDns1\":\"0.0.0.0\",\"staticDns2\":\"0.0.0.0\"}]")
        .rule(Rule::Wifis)
        .secret(Secret::FieldIsSet("key"))
        .no_mqtt(),
    KeyDef::new("delw", W, t(U8), Other, "set this to 0-9 to delete sta config (erases ssid, key, ...)", "null")
        .rule(Rule::Range(0, 9)),
    KeyDef::new("scas", R, t(U8), Status, "wifi scan status (None=0, Scanning=1, Finished=2, Failed=3)", "2")
        .enums(&[(0, "None"), (1, "Scanning"), (2, "Finished"), (3, "Failed")])
        .no_mqtt(),
    KeyDef::new("scan", R, t(Array), Status, "wifi scan result (encryptionType: OPEN=0, WEP=1, WPA_PSK=2, WPA2_PSK=3, WPA_WPA2_PSK=4, WPA2_ENTERPRISE=5, WPA3_PSK=6, WPA2_WPA3_PSK=7)", "[{\"ssid\":\"goe-sim\",\"encryptionType\":3,\"rssi\":-55,\"channel\":6,\"bssid\":\"02:00:00:00:00:01\",\"f\":[4,4,true,true,true,false,false,false,false,\"DE\"]}]")
        .no_mqtt(),
    KeyDef::new("scaa", R, t(Millis), Status, "wifi scan age", "0")
        .no_mqtt(),
    KeyDef::new("wsms", R, t(U8), Status, "WiFi state machine state (None=0, Scanning=1, Connecting=2, Connected=3)", "3")
        .enums(&[(0, "None"), (1, "Scanning"), (2, "Connecting"), (3, "Connected")])
        .no_mqtt(),
    KeyDef::new("ccw", R, o(Object), Status, "Currently connected WiFi", "{\"ssid\":\"goe-sim\",\"encryptionType\":3,\"pairwiseCipher\":4,\"groupCipher\":4,\"b\":true,\"g\":true,\"n\":true,\"lr\":false,\"wps\":false,\"ftmResponder\":false,\"ftmInitiator\":false,\"channel\":6,\"bssid\":\"02:00:00:00:00:01\",\"ip\":\"127.0.0.1\",\"netmask\":\"255.0.0.0\",\"gw\":\"127.0.0.1\",\"ipv6\":[]}"),
    KeyDef::new("host", R, o(Str), Status, "hostname used on STA interface", "\"go-eCharger-{serial}\"")
        .no_mqtt(),
    KeyDef::new("lwcf", R, t(Bool), Status, "last wifi connect failed", "false")
        .no_mqtt(),
    KeyDef::new("rssi", R, o(I8), Status, "RSSI signal strength", "-55")
        .unit("dBm"),
    KeyDef::new("lssfc", R, o(Millis), Status, "lastStaSwitchedFromConnected (in milliseconds)", "null")
        .no_mqtt(),
    KeyDef::new("lsstc", R, o(Millis), Status, "lastStaSwitchedToConnected (in milliseconds)", "2000")
        .no_mqtt(),
    KeyDef::new("ehs", R, t(Size), Status, "ESP heap size", "298448")
        .no_mqtt(),
    KeyDef::new("efh", R, t(Size), Status, "ESP free heap", "121340")
        .no_mqtt(),
    KeyDef::new("efh32", R, t(Size), Status, "ESP free heap 32bit aligned", "119804")
        .no_mqtt(),
    KeyDef::new("efh8", R, t(Size), Status, "ESP free heap 8bit aligned", "102652")
        .no_mqtt(),
    KeyDef::new("fem", R, t(U8), Constant, "Flash Encryption Mode (Disabled=0, Development=1, Release=2)", "0")
        .enums(&[(0, "Disabled"), (1, "Development"), (2, "Release")])
        .no_mqtt(),
    KeyDef::new("sbe", R, t(Bool), Constant, "Secure boot enabled", "false")
        .no_mqtt(),
    KeyDef::new("emfh", R, t(Size), Status, "ESP minimum free heap since boot", "88120")
        .no_mqtt(),
    KeyDef::new("emhb", R, t(Size), Status, "ESP max size of allocated heap block since boot", "61440")
        .no_mqtt(),
    KeyDef::new("eci", R, t(Object), Constant, "ESP chip info (model: ESP32=1, ESP32S2=2, ESP32S3=4, ESP32C3=5; features: EMB_FLASH=bit0, WIFI_BGN=bit1, BLE=bit4, BT=bit5)", "{\"model\":1,\"features\":50,\"cores\":2,\"revision\":3}")
        .no_mqtt(),
    KeyDef::new("ecf", R, t(Object), Constant, "ESP CPU freq (source: XTAL=0, PLL=1, 8M=2, APLL=3)", "{\"source\":1,\"source_freq_mhz\":480,\"div\":2,\"freq_mhz\":240}")
        .no_mqtt(),
    KeyDef::new("efi", R, t(Object), Constant, "ESP Flash info (spi_mode: QIO=0, QOUT=1, DIO=2, DOUT=3, FAST_READ=4, SLOW_READ=5; spi_speed: 40M=0, 26M=1, 20M=2, 80M=15; spi_size: 1MB=0, 2MB=1, 4MB=2, 8MB=3, 16MB=4, MAX=5)", "{\"spi_mode\":2,\"spi_speed\":15,\"spi_size\":3}")
        .no_mqtt(),
    KeyDef::new("eem", R, o(Str), Constant, "ESP CPU freq (source: XTAL=0, PLL=1, 8M=2, APLL=3)", "null")
        .no_mqtt(),
    KeyDef::new("rr", R, t(U8), Status, "esp_reset_reason (UNKNOWN=0, POWERON=1, EXT=2, SW=3, PANIC=4, INT_WDT=5, TASK_WDT=6, WDT=7, DEEPSLEEP=8, BROWNOUT=9, SDIO=10)", "1")
        .enums(&[(0, "UNKNOWN"), (1, "POWERON"), (2, "EXT"), (3, "SW"), (4, "PANIC"), (5, "INT_WDT"), (6, "TASK_WDT"), (7, "WDT"), (8, "DEEPSLEEP"), (9, "BROWNOUT"), (10, "SDIO")])
        .no_mqtt(),
    KeyDef::new("fwan", R, t(Str), Constant, "factoryWifiApName", "\"go-eCharger-{serial}\"")
        .no_mqtt(),
    KeyDef::new("wan", RW, t(Str), Config, "wifiApName", "\"go-eCharger-{serial}\"")
        .rule(Rule::StrLen(1, 32)),
    KeyDef::new("facwak", R, t(Str), Constant, "WiFi AccessPoint Key RESET VALUE (factory)", "\"factory-key\"")
        .secret(Secret::IsSet)
        .no_mqtt(),
    KeyDef::new("wak", RW, t(Str), Config, "WiFi AccessPoint Key (read/write from http)", "\"\"")
        .rule(Rule::StrLen(8, 63))
        .secret(Secret::IsSet)
        .no_mqtt(),
    KeyDef::new("wen", RW, t(Bool), Config, "wifiEnabled (bool), turns off/on the WiFi (not the AccessPoint)", "true")
        .no_mqtt(),
    KeyDef::new("pass", W, t(Str), Config, "userPassword", "null")
        .rule(Rule::StrLen(0, 64))
        .secret(Secret::IsSet),
    KeyDef::new("tse", RW, t(Bool), Config, "time server enabled (NTP)", "true"),
    KeyDef::new("ts", R, t(Str), Config, "time server", "\"europe.pool.ntp.org\"")
        .no_mqtt(),
    KeyDef::new("tssm", R, t(U8), Config, "time server sync mode (IMMED=0, SMOOTH=1)", "0")
        .enums(&[(0, "IMMED"), (1, "SMOOTH")])
        .no_mqtt(),
    KeyDef::new("tssi", R, t(Millis), Config, "time server sync interval (in ms, 15s minimum)", "3600000")
        .no_mqtt(),
    KeyDef::new("tsss", R, t(U8), Config, "time server sync status (RESET=0, COMPLETED=1, IN_PROGRESS=2)", "1")
        .enums(&[(0, "RESET"), (1, "COMPLETED"), (2, "IN_PROGRESS")])
        .no_mqtt(),
    KeyDef::new("tsom", R, t(U8), Status, "time server operating mode (POLL=0, LISTENONLY=1)", "0")
        .enums(&[(0, "POLL"), (1, "LISTENONLY")])
        .no_mqtt(),
    KeyDef::new("tof", RW, t(Minutes), Config, "timezone offset in minutes", "60")
        .rule(Rule::Range(-720, 840)),
    KeyDef::new("tds", RW, t(U8), Config, "timezone daylight saving mode, None=0, EuropeanSummerTime=1, UsDaylightTime=2, AustralianDaylightTime=3", "1")
        .enums(&[(0, "None"), (1, "EuropeanSummerTime"), (2, "UsDaylightTime"), (3, "AustralianDaylightTime")])
        .since(fw(55, 2))
        .eras(&[KeyDef::new("tds", RW, t(U8), Config, "timezone daylight saving mode, None=0, EuropeanSummerTime=1, UsDaylightTime=2", "1")
            .enums(&[(0, "None"), (1, "EuropeanSummerTime"), (2, "UsDaylightTime")])
            .until(fw(55, 2))]),
    KeyDef::new("utc", RW, t(Str), Status, "utc time", "\"\"")
        .rule(Rule::UtcTime),
    KeyDef::new("loc", R, t(Str), Status, "local time", "\"\""),
    KeyDef::new("led", R, t(Object), Status, "internal infos about currently running led animation", "{\"id\":2,\"name\":\"Idle\",\"norwayOverlay\":true,\"modeOverlay\":true,\"subtype\":\"renderCmds\",\"ranges\":[{\"from\":0,\"to\":31,\"colors\":[\"#0000FF\"]}]}"),
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
        .enums(BUTTON_LOCK)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sdp", RW, t(Bool), Config, "Button Allow Force change", "false").until(fw(55, 2))]),
    KeyDef::new("lbp", R, o(Millis), Status, "lastButtonPress in milliseconds", "null"),
    KeyDef::new("amp", RW, t(U8), Config, "requestedCurrent in Ampere, used for display on LED ring and logic calculations", "16")
        .unit("A")
        .rule(Rule::Range(6, 32))
        .since(fw(55, 2))
        .eras(&[KeyDef::new("amp", RW, t(U8), Config, "requestedCurrent in Ampere, used for display on LED ring and logic calculations", "16")
            .unit("A")
            .rule(Rule::RequestedCurrent)
            .until(fw(55, 2))]),
    KeyDef::new("ffna", R, t(Str), Constant, "factoryFriendlyName", "\"go-eCharger\""),
    KeyDef::new("fna", RW, t(Str), Config, "friendlyName", "\"go-eCharger\"")
        .rule(Rule::StrLen(4, 64)),
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
        .enums(&[(0, "Normal"), (1, "AutoUnlock"), (2, "AlwaysLock"), (3, "ForceUnlock")]),
    KeyDef::new("sch_week", RW, t(Object), Config, "scheduler_weekday, control enum values: Disabled=0, Allow=1, Block=2, AllowFromGrid=3, BlockFromGrid=4", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}},{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}}]}")
        .rule(Rule::ScheduleV2)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sch_week", RW, t(Object), Config, "scheduler_weekday, control enum values: Disabled=0, Inside=1, Outside=2", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}},{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}}]}")
            .rule(Rule::Schedule)
            .until(fw(55, 2))]),
    KeyDef::new("sch_satur", RW, t(Object), Config, "scheduler_saturday, control enum values: Disabled=0, Allow=1, Block=2, AllowFromGrid=3, BlockFromGrid=4", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}},{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}}]}")
        .rule(Rule::ScheduleV2)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sch_satur", RW, t(Object), Config, "scheduler_saturday, control enum values: Disabled=0, Inside=1, Outside=2", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}},{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}}]}")
            .rule(Rule::Schedule)
            .until(fw(55, 2))]),
    KeyDef::new("sch_sund", RW, t(Object), Config, "scheduler_sunday, control enum values: Disabled=0, Allow=1, Block=2, AllowFromGrid=3, BlockFromGrid=4", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}},{\"begin\":{\"hour\":0,\"minute\":0,\"second\":0},\"end\":{\"hour\":0,\"minute\":0,\"second\":0}}]}")
        .rule(Rule::ScheduleV2)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("sch_sund", RW, t(Object), Config, "scheduler_sunday, control enum values: Disabled=0, Inside=1, Outside=2", "{\"control\":0,\"ranges\":[{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}},{\"begin\":{\"hour\":0,\"minute\":0},\"end\":{\"hour\":0,\"minute\":0}}]}")
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
        .no_mqtt(),
    KeyDef::new("ccu", R, o(Object), Status, "charge controller update progress (null if no update is in progress)", "null")
        .no_mqtt(),
    KeyDef::new("oem", R, t(Str), Constant, "OEM manufacturer", "\"go-e\""),
    KeyDef::new("typ", R, t(Str), Constant, "Devicetype", "\"go-eCharger\""),
    KeyDef::new("fwc", R, t(Str), Constant, "firmware from CarControl", "\"2.3\"")
        .no_mqtt(),
    KeyDef::new("apd", R, t(Object), Constant, "firmware description", "{\"project_name\":\"go-eCharger\",\"version\":\"56.2\",\"secure_version\":0,\"timestamp\":\"Sep 16 2024 10:00:00\",\"idf_ver\":\"v4.4.4\",\"sha256\":\"5b1f2c0e8d7a6b4c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d\"}")
        .no_mqtt(),
    KeyDef::new("otap", R, o(Object), Constant, "currently used OTA partition", "{\"type\":0,\"subtype\":16,\"address\":65536,\"size\":4194304,\"label\":\"app_0\",\"encrypted\":false}")
        .no_mqtt(),
    KeyDef::new("part", R, t(Array), Constant, "partition table", "[{\"type\":1,\"subtype\":2,\"address\":36864,\"size\":20480,\"label\":\"nvs\",\"encrypted\":false},{\"type\":1,\"subtype\":0,\"address\":57344,\"size\":8192,\"label\":\"otadata\",\"encrypted\":false},{\"type\":0,\"subtype\":16,\"address\":65536,\"size\":4194304,\"label\":\"app_0\",\"encrypted\":false},{\"type\":0,\"subtype\":17,\"address\":4259840,\"size\":4194304,\"label\":\"app_1\",\"encrypted\":false}]")
        .no_mqtt(),
    KeyDef::new("pto", R, t(U32), Constant, "partition table offset in flash", "32768")
        .no_mqtt(),
    KeyDef::new("lse", RW, t(Bool), Config, "led_save_energy", "false"),
    KeyDef::new("cdi", R, t(Object), Status, "charging duration info (null=no charging in progress, type=0 counter going up, type=1 duration in ms)", "{\"type\":1,\"value\":0}"),
    KeyDef::new("lccfi", R, o(Millis), Status, "lastCarStateChangedFromIdle (in ms)", "null"),
    KeyDef::new("lccfc", R, o(Millis), Status, "lastCarStateChangedFromCharging (in ms)", "null"),
    KeyDef::new("lcctc", R, o(Millis), Status, "lastCarStateChangedToCharging (in ms)", "null"),
    KeyDef::new("tma", R, t(Array), Status, "temperature sensors", "[22.5,26.75]")
        .unit("°C"),
    KeyDef::new("amt", R, t(Int), Status, "temperatureCurrentLimit", "32")
        .unit("A"),
    KeyDef::new("nrg", R, t(Array), Status, "energy array, U (L1, L2, L3, N), I (L1, L2, L3), P (L1, L2, L3, N, Total), pf (L1, L2, L3, N)", "[231,232,229,1,0,0,0,0,0,0,0,0,0,0,0,0]"),
    KeyDef::new("modelStatus", R, t(U8), Status, "Reason why we allow charging or not right now (NotChargingBecauseNoChargeCtrlData=0, NotChargingBecauseOvertemperature=1, NotChargingBecauseAccessControlWait=2, ChargingBecauseForceStateOn=3, NotChargingBecauseForceStateOff=4, NotChargingBecauseScheduler=5, NotChargingBecauseEnergyLimit=6, ChargingBecauseAwattarPriceLow=7, ChargingBecauseAutomaticStopTestLadung=8, ChargingBecauseAutomaticStopNotEnoughTime=9, ChargingBecauseAutomaticStop=10, ChargingBecauseAutomaticStopNoClock=11, ChargingBecausePvSurplus=12, ChargingBecauseFallbackGoEDefault=13, ChargingBecauseFallbackGoEScheduler=14, ChargingBecauseFallbackDefault=15, NotChargingBecauseFallbackGoEAwattar=16, NotChargingBecauseFallbackAwattar=17, NotChargingBecauseFallbackAutomaticStop=18, ChargingBecauseCarCompatibilityKeepAlive=19, ChargingBecauseChargePauseNotAllowed=20, NotChargingBecauseSimulateUnplugging=22, NotChargingBecausePhaseSwitch=23, NotChargingBecauseMinPauseDuration=24)", "15")
        .enums(&[(0, "NotChargingBecauseNoChargeCtrlData"), (1, "NotChargingBecauseOvertemperature"), (2, "NotChargingBecauseAccessControlWait"), (3, "ChargingBecauseForceStateOn"), (4, "NotChargingBecauseForceStateOff"), (5, "NotChargingBecauseScheduler"), (6, "NotChargingBecauseEnergyLimit"), (7, "ChargingBecauseAwattarPriceLow"), (8, "ChargingBecauseAutomaticStopTestLadung"), (9, "ChargingBecauseAutomaticStopNotEnoughTime"), (10, "ChargingBecauseAutomaticStop"), (11, "ChargingBecauseAutomaticStopNoClock"), (12, "ChargingBecausePvSurplus"), (13, "ChargingBecauseFallbackGoEDefault"), (14, "ChargingBecauseFallbackGoEScheduler"), (15, "ChargingBecauseFallbackDefault"), (16, "NotChargingBecauseFallbackGoEAwattar"), (17, "NotChargingBecauseFallbackAwattar"), (18, "NotChargingBecauseFallbackAutomaticStop"), (19, "ChargingBecauseCarCompatibilityKeepAlive"), (20, "ChargingBecauseChargePauseNotAllowed"), (22, "NotChargingBecauseSimulateUnplugging"), (23, "NotChargingBecausePhaseSwitch"), (24, "NotChargingBecauseMinPauseDuration"), (27, "NotChargingBecauseLoadManagementDoesntWant")]),
    KeyDef::new("msi", R, t(U8), Status, "Reason why we allow charging or not right now INTERNAL without cpDisabledRequest", "15")
        .enums(&[(0, "NotChargingBecauseNoChargeCtrlData"), (1, "NotChargingBecauseOvertemperature"), (2, "NotChargingBecauseAccessControlWait"), (3, "ChargingBecauseForceStateOn"), (4, "NotChargingBecauseForceStateOff"), (5, "NotChargingBecauseScheduler"), (6, "NotChargingBecauseEnergyLimit"), (7, "ChargingBecauseAwattarPriceLow"), (8, "ChargingBecauseAutomaticStopTestLadung"), (9, "ChargingBecauseAutomaticStopNotEnoughTime"), (10, "ChargingBecauseAutomaticStop"), (11, "ChargingBecauseAutomaticStopNoClock"), (12, "ChargingBecausePvSurplus"), (13, "ChargingBecauseFallbackGoEDefault"), (14, "ChargingBecauseFallbackGoEScheduler"), (15, "ChargingBecauseFallbackDefault"), (16, "NotChargingBecauseFallbackGoEAwattar"), (17, "NotChargingBecauseFallbackAwattar"), (18, "NotChargingBecauseFallbackAutomaticStop"), (19, "ChargingBecauseCarCompatibilityKeepAlive"), (20, "ChargingBecauseChargePauseNotAllowed"), (22, "NotChargingBecauseSimulateUnplugging"), (23, "NotChargingBecausePhaseSwitch"), (24, "NotChargingBecauseMinPauseDuration"), (27, "NotChargingBecauseLoadManagementDoesntWant")]),
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
    KeyDef::new("awcp", R, o(Object), Status, "awattar current price", "null"),
    KeyDef::new("awpl", W, t(Object), Status, "awattar price list (v2), timestamps are measured in unix-time, seconds since 1970: {\"prices\":[{\"start\":s,\"end\":s,\"marketprice\":ct},…]}", "{\"prices\":[]}")
        .rule(Rule::PriceListV2)
        .since(fw(60, 0))
        .eras(&[
            KeyDef::new("awpl", W, t(Array), Status, "awattar price list, timestamps are measured in unix-time, seconds since 1970", "[]")
                .rule(Rule::PriceList)
                .since(fw(55, 2))
                .until(fw(60, 0)),
            KeyDef::new("awpl", RW, t(Array), Status, "awattar price list, timestamps are measured in unix-time, seconds since 1970", "[]")
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
        .rule(Rule::Range(0, 4294967295)),
    KeyDef::new("esk", RW, t(Bool), Config, "energy set kwh (only stored for app)", "false"),
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
        .unit("W"),
    KeyDef::new("tlf", R, t(Bool), Status, "testLadungFinished (debug)", "false"),
    KeyDef::new("tls", R, o(Millis), Status, "testLadungStarted: when the test charge started (ms since boot), null before", "null")
        .since(fw(59, 4))
        .eras(&[KeyDef::new("tls", R, t(Bool), Status, "testLadungStarted (debug)", "false").until(fw(59, 4))]),
    KeyDef::new("atp", R, o(Object), Status, "nextTripPlanData (debug)", "null"),
    KeyDef::new("lpsc", R, o(Millis), Status, "last PV surplus calculation (in ms)", "null")
        .newer(),
    KeyDef::new("ids", W, o(Object), Other, "inverter data {\"pGrid\":W,\"pPv\":W,\"pAkku\":W}; pGrid required; refresh at least every 5 s", "null")
        .rule(Rule::InverterData)
        .newer(),
    KeyDef::new("inva", R, o(Millis), Status, "age of the inverter data (in ms)", "null")
        .newer(),
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
        .newer(),
    KeyDef::new("deltaa", R, t(Float), Status, "PV surplus controller current delta in A", "0")
        .unit("A")
        .newer(),
    KeyDef::new("pvopt_averagePGrid", R, t(Float), Status, "PV surplus controller average grid power in W", "0")
        .unit("W")
        .newer(),
    KeyDef::new("pvopt_averagePPv", R, t(Float), Status, "PV surplus controller average PV power in W", "0")
        .unit("W")
        .newer(),
    KeyDef::new("pvopt_averagePAkku", R, t(Float), Status, "PV surplus controller average battery power in W", "0")
        .unit("W")
        .newer(),
    KeyDef::new("ct", RW, t(Str), Config, "car type, free text string (max. 64 characters, only stored for app)", "\"\"")
        .rule(Rule::StrLen(0, 64)),
    KeyDef::new("mci", RW, t(Millis), Config, "minimumChargingInterval in milliseconds (0 means disabled)", "0")
        .rule(Rule::Range(0, 86400000)),
    KeyDef::new("mcpd", RW, t(Millis), Config, "minChargePauseDuration in milliseconds (0 means disabled)", "0")
        .rule(Rule::Range(0, 86400000)),
    KeyDef::new("mcpea", RW, o(Millis), Status, "minChargePauseEndsAt (set to null to abort current minChargePauseDuration)", "null")
        .rule(Rule::Range(0, 9223372036854775807)),
    KeyDef::new("su", RW, t(Bool), Config, "simulateUnplugging", "false"),
    KeyDef::new("sua", RW, t(Bool), Config, "simulate unplugging always (while charging is not allowed)", "false")
        .newer(),
    KeyDef::new("hws", RW, t(Bool), Config, "httpStaReachable, defines if the local webserver should be reachable from the customers WiFi", "true")
        .no_mqtt(),
    KeyDef::new("hsa", W, t(Bool), Config, "httpStaAuthentication", "false")
        .since(fw(55, 2))
        .eras(&[KeyDef::new("hsa", RW, t(Bool), Config, "httpStaAuthentication", "false").until(fw(55, 2))]),
    KeyDef::new("var", R, t(U8), Constant, "variant: max Ampere value of unit (11: 11kW/16A, 22: 22kW/32A)", "11"),
    KeyDef::new("loe", RW, t(Bool), Config, "Load balancing enabled", "false"),
    KeyDef::new("log", RW, t(Str), Config, "load_group_id", "\"\"")
        .rule(Rule::StrLen(0, 32)),
    KeyDef::new("lop", RW, t(U16), Config, "load_priority", "50")
        .rule(Rule::Range(1, 99)),
    KeyDef::new("lof", RW, t(U8), Config, "load_fallback", "0")
        .unit("A")
        .rule(Rule::Range(0, 32)),
    KeyDef::new("map", RW, t(Array), Config, "load_mapping (uint8_t[3])", "[1,2,3]")
        .rule(Rule::PhaseMapping),
    KeyDef::new("upo", RW, t(Bool), Config, "unlock_power_outage", "false"),
    KeyDef::new("pwm", R, t(U8), Status, "phase wish mode for debugging / only for pv optimizing / used for timers later (Force_3=0, Wish_1=1, Wish_3=2)", "0")
        .enums(&[(0, "Force_3"), (1, "Wish_1"), (2, "Wish_3")]),
    KeyDef::new("lfspt", R, o(Millis), Status, "last force single phase toggle", "null"),
    KeyDef::new("fsptws", R, o(Millis), Status, "force single phase toggle wished since", "null"),
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
        .no_mqtt(),
    KeyDef::new("ocs", R, t(U8), Status, "ota from cloud status (Idle=0, Updating=1, Failed=2, Succeeded=3)", "0")
        .enums(&[(0, "Idle"), (1, "Updating"), (2, "Failed"), (3, "Succeeded")])
        .no_mqtt(),
    KeyDef::new("ocp", R, t(Int), Status, "ota from cloud progress", "0")
        .no_mqtt(),
    KeyDef::new("ocm", R, t(Str), Status, "ota from cloud message", "\"\"")
        .no_mqtt(),
    KeyDef::new("ocl", R, o(Int), Status, "ota from cloud length (total size)", "null")
        .no_mqtt(),
    KeyDef::new("oca", R, o(Object), Status, "ota cloud app description", "null")
        .no_mqtt(),
    KeyDef::new("cwe", RW, t(Bool), Config, "cloud websocket enabled", "true"),
    KeyDef::new("cca", R, t(Bool), Config, "cloud websocket use client auth (if key&cert are setup correctly)", "true")
        .no_mqtt(),
    KeyDef::new("cws", R, t(Bool), Status, "cloud websocket started", "true")
        .no_mqtt(),
    KeyDef::new("cwsc", R, t(Bool), Status, "cloud websocket connected", "false")
        .no_mqtt(),
    KeyDef::new("cwsca", R, o(Millis), Status, "cloud websocket connected (age)", "null")
        .no_mqtt(),
    KeyDef::new("cpe", R, t(Bool), Status, "The charge ctrl requests the CP signal enabled or not immediately", "false")
        .no_mqtt(),
    KeyDef::new("cpr", R, t(Bool), Status, "CP enable request. cpd=0 triggers the charge ctrl to set cpe=0 once processed", "false")
        .no_mqtt(),
    KeyDef::new("cus", R, t(U8), Status, "Cable unlock status (Unknown=0, Unlocked=1, UnlockFailed=2, Locked=3, LockFailed=4, LockUnlockPowerout=5)", "1")
        .enums(&[(0, "Unknown"), (1, "Unlocked"), (2, "UnlockFailed"), (3, "Locked"), (4, "LockFailed"), (5, "LockUnlockPowerout")]),
    KeyDef::new("ffb", R, t(U8), Status, "lock feedback (NoProblem=0, ProblemLock=1, ProblemUnlock=2)", "0")
        .enums(&[(0, "NoProblem"), (1, "ProblemLock"), (2, "ProblemUnlock")]),
    KeyDef::new("ffba", R, o(Millis), Status, "lock feedback (age)", "null"),
    KeyDef::new("fhz", R, o(Float), Status, "Stromnetz frequency (~50Hz) or 0 if unknown", "50")
        .unit("Hz"),
    KeyDef::new("avgfhz", R, o(Float), Status, "average grid frequency in Hz", "50")
        .unit("Hz")
        .newer(),
    KeyDef::new("rcd", R, o(Micros), Status, "residual current detection (in microseconds) WILL CHANGE IN FUTURE", "null"),
    KeyDef::new("onv", R, t(Str), Status, "OverTheAirUpdate newest version", "\"56.2\"")
        .no_mqtt(),
    KeyDef::new("lom", R, t(Array), Status, "load balancing members", "[]"),
    KeyDef::new("loa", R, o(U8), Status, "load balancing ampere", "null")
        .unit("A"),
    KeyDef::new("los", R, o(Str), Status, "load balancing status", "null"),
    KeyDef::new("lot", RW, t(Object), Config, "load balancing total amp: {amp: total A (static), dyn: dynamic maximum A, sta: static A, ts: undocumented}; a partial object changes only its fields", "{\"amp\":32,\"dyn\":32,\"sta\":32,\"ts\":3}")
        .rule(Rule::LoadTotal)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("lot", RW, t(U32), Config, "load balancing total amp", "32")
            .unit("A")
            .rule(Rule::Range(0, 1000))
            .until(fw(55, 2))]),
    KeyDef::new("loty", RW, t(U8), Config, "load balancing type (Static=0, Dynamic=1)", "0")
        .enums(&[(0, "Static"), (1, "Dynamic")]),
    KeyDef::new("cards", RW, t(Array), Config, "RFID cards: 10 entries {\"name\",\"energy\",\"cardId\"}; cardId says whether a card id is learned. Send a sparse array to change single entries", "[{\"name\":\"User 1\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 2\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 3\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 4\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 5\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 6\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 7\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 8\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 9\",\"energy\":0,\"cardId\":\"\"},{\"name\":\"User 10\",\"energy\":0,\"cardId\":\"\"}]")
        .rule(Rule::Cards)
        .secret(Secret::FieldIsSet("cardId"))
        .persist()
        .newer(),
    KeyDef::new("hai", RW, t(Bool), Config, "HTTP API v2 enabled", "true")
        .newer(),
    KeyDef::new("hla", RW, t(Bool), Config, "legacy HTTP API v1 enabled", "false")
        .newer(),
    KeyDef::new("mce", RW, t(Bool), Config, "MQTT enabled", "false")
        .newer(),
    KeyDef::new("mcu", RW, t(Str), Config, "MQTT broker URL, mqtt://[user:pass@]host:port; the password is shown as ********", "\"\"")
        .rule(Rule::StrLen(0, 256))
        .secret(Secret::UrlPassword)
        .newer(),
    KeyDef::new("mcr", RW, t(Bool), Config, "MQTT read-only: when true, /set topics are not applied", "true")
        .newer(),
    KeyDef::new("mtp", RW, t(Str), Config, "MQTT topic prefix, must end with /; null resets to the default", "\"go-eCharger/{serial}/\"")
        .rule(Rule::TopicPrefix)
        .newer(),
    KeyDef::new("mcs", R, t(Bool), Status, "MQTT started", "false")
        .newer(),
    KeyDef::new("mcc", R, t(Bool), Status, "MQTT connected", "false")
        .newer(),
    KeyDef::new("mcca", R, o(Millis), Status, "MQTT connected since (in ms)", "null")
        .newer(),
    KeyDef::new("mlr", R, o(Str), Status, "MQTT last error", "null")
        .newer(),
    KeyDef::new("mlra", R, o(Millis), Status, "MQTT last error at (in ms)", "null")
        .newer(),
    KeyDef::new("wcch", R, t(U8), Status, "webserver connected clients as HTTP", "0")
        .no_mqtt(),
    KeyDef::new("wccw", R, t(U8), Status, "webserver connected clients as WEBSOCKET", "0")
        .no_mqtt(),
    KeyDef::new("qsc", R, t(Size), Status, "queue size cloud", "0")
        .no_mqtt(),
    KeyDef::new("qsw", R, t(Size), Status, "queue size webserver/websocket", "0")
        .no_mqtt(),
    KeyDef::new("rst", W, t(Bool), Other, "Reset the charger and chargectrl (JsonVariantConst: true, 1 or any string; false, 0, null and \"false\" do nothing)", "null")
        .rule(Rule::AnyVariant)
        .since(fw(55, 2))
        .eras(&[KeyDef::new("rst", W, t(Bool), Other, "restart the charger (send true)", "null").newer().until(fw(55, 2))])
        .newer(),
];
