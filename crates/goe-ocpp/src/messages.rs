//! The OCPP 1.6 payloads the go-e sends and receives (notes §2.2), as serde
//! structs named like the spec (camelCase, absent `Option`s skipped), with
//! the fields in the order a real go-e sends them.
//!
//! Requests from the backend are read with [`decode`], which also checks
//! the CiString lengths and value ranges and turns every violation into the
//! CALLERROR code OCPP-J §4.2.3 names for it.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::rpc::{ErrorCode, RpcError};

/// Markers in custom serde errors, so that [`decode`] can pick the code.
const TYPE_MARK: &str = "type constraint: ";
const PROPERTY_MARK: &str = "property constraint: ";

/// Reads a request payload; a violation becomes the CALLERROR to answer.
pub fn decode<T: DeserializeOwned>(payload: &Map<String, Value>) -> Result<T, RpcError> {
    serde_json::from_value(Value::Object(payload.clone())).map_err(|e| classify(&e.to_string()))
}

fn classify(text: &str) -> RpcError {
    let code = if text.starts_with("missing field") {
        ErrorCode::OccurenceConstraintViolation
    } else if text.starts_with("invalid type") || text.starts_with(TYPE_MARK) {
        ErrorCode::TypeConstraintViolation
    } else if text.starts_with("unknown variant")
        || text.starts_with("invalid value")
        || text.starts_with(PROPERTY_MARK)
    {
        ErrorCode::PropertyConstraintViolation
    } else {
        ErrorCode::FormationViolation
    };
    let clean = text
        .trim_start_matches(TYPE_MARK)
        .trim_start_matches(PROPERTY_MARK);
    RpcError::new(code, clean)
}

/// A string of at most `N` characters (the spec's CiStringNType).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct CiString<const N: usize>(pub String);

impl<'de, const N: usize> Deserialize<'de> for CiString<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.chars().count() > N {
            return Err(D::Error::custom(format!(
                "{TYPE_MARK}string longer than {N} characters"
            )));
        }
        Ok(CiString(s))
    }
}

/// An OCPP timestamp as UTC milliseconds; written like a real go-e
/// (`…40.908Z`), read leniently (see [`crate::time`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub i64);

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::time::format_ms(self.0))
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::time::parse_ms(&s)
            .map(DateTime)
            .ok_or_else(|| D::Error::custom(format!("{TYPE_MARK}not a date-time: {s}")))
    }
}

/// A non-negative integer (connector ids, stack levels, durations).
fn non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = i64::deserialize(d)?;
    if n < 0 {
        return Err(D::Error::custom(format!(
            "{PROPERTY_MARK}{n} must not be negative"
        )));
    }
    Ok(n)
}

fn opt_non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<i64>::deserialize(d)? {
        Some(n) if n < 0 => Err(D::Error::custom(format!(
            "{PROPERTY_MARK}{n} must not be negative"
        ))),
        other => Ok(other),
    }
}

/// An empty payload (`{}`): Heartbeat.req, the `.conf`s that carry nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Empty {}

// ---------------------------------------------------------------- CP → CS

/// BootNotification.req, exactly the four fields a go-e sends (REF table).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotificationReq {
    /// Always "go-e".
    pub charge_point_vendor: String,
    /// `go-eCharger`, `go-eCharger_V4`, …
    pub charge_point_model: String,
    /// `sse`.
    pub charge_point_serial_number: String,
    /// `fwv` verbatim.
    pub firmware_version: String,
}

/// BootNotification.conf.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootNotificationConf {
    /// The backend's clock (required by the spec; read leniently, unused).
    #[serde(default)]
    pub current_time: Option<DateTime>,
    /// Heartbeat interval (Accepted) or retry delay (Pending/Rejected), s;
    /// missing = 0 (lenient).
    #[serde(default)]
    pub interval: i64,
    /// Accepted, Pending or Rejected.
    pub status: RegistrationStatus,
}

/// BootNotification.conf status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum RegistrationStatus {
    /// Registered.
    Accepted,
    /// Wait and retry; the backend may call meanwhile.
    Pending,
    /// Wait and retry; send nothing.
    Rejected,
}

/// Authorize.req.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeReq {
    /// The card.
    pub id_tag: String,
}

/// IdTagInfo of Authorize/StartTransaction/StopTransaction .conf.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTagInfo {
    /// The verdict.
    pub status: AuthorizationStatus,
    /// Until when (ignored: the go-e has no authorization cache).
    #[serde(default)]
    pub expiry_date: Option<DateTime>,
    /// Group id (ignored).
    #[serde(default)]
    pub parent_id_tag: Option<CiString<20>>,
}

/// The verdict on an idTag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthorizationStatus {
    /// May charge.
    Accepted,
    /// Blocked.
    Blocked,
    /// Expired.
    Expired,
    /// Unknown card.
    Invalid,
    /// Already in another transaction.
    ConcurrentTx,
}

/// Authorize.conf.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizeConf {
    /// The verdict.
    pub id_tag_info: IdTagInfo,
}

/// StatusNotification.req, in the order of the real go-e trace
/// (`connectorId, errorCode, status, timestamp`), extras after.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNotificationReq {
    /// 0 = the charge point, 1 = the connector.
    pub connector_id: i64,
    /// ChargePointErrorCode.
    pub error_code: &'static str,
    /// ChargePointStatus.
    pub status: &'static str,
    /// When the status began.
    pub timestamp: DateTime,
    /// The go-e error name behind a fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_error_code: Option<&'static str>,
}

/// StartTransaction.req.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionReq {
    /// Always 1.
    pub connector_id: i64,
    /// The card (or `ocppd`).
    pub id_tag: String,
    /// `eto` in Wh.
    pub meter_start: i64,
    /// When it started.
    pub timestamp: DateTime,
}

/// StartTransaction.conf.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartTransactionConf {
    /// The verdict on the card.
    pub id_tag_info: IdTagInfo,
    /// The backend's transaction id.
    pub transaction_id: i64,
}

/// StopTransaction.req (the transaction id is filled in when sent, see
/// the journal rules in [`crate::session`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StopTransactionReq {
    /// The card that stopped it, if one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_tag: Option<String>,
    /// `eto` in Wh.
    pub meter_stop: i64,
    /// When it stopped.
    pub timestamp: DateTime,
    /// The backend's id (absent until known).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    /// Why.
    pub reason: &'static str,
}

/// MeterValues.req (notes §4.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValuesReq {
    /// Always 1.
    pub connector_id: i64,
    /// Inside a transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    /// The samples.
    pub meter_value: Vec<MeterValue>,
}

/// One instant of MeterValues.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValue {
    /// When sampled.
    pub timestamp: DateTime,
    /// The values.
    pub sampled_value: Vec<SampledValue>,
}

/// One value, key order `value, measurand, unit, phase` like the go-e; no
/// context, location or format.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampledValue {
    /// Two decimals (`%.2f`).
    pub value: String,
    /// The measurand.
    pub measurand: &'static str,
    /// The unit (absent for Frequency: 1.6 has no Hz).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
    /// L1, L2, L3, L1-N, …; absent for totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<&'static str>,
}

/// FirmwareStatusNotification.req.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirmwareStatusNotificationReq {
    /// Downloading, Downloaded, Installing, Installed, …
    pub status: &'static str,
}

/// Heartbeat.conf.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatConf {
    /// The backend's clock.
    pub current_time: DateTime,
}

// ---------------------------------------------------------------- CS → CP

/// A `{"status": …}` answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusConf {
    /// The status.
    pub status: &'static str,
}

/// ChangeAvailability.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAvailabilityReq {
    /// 0 = all, 1 = the connector.
    #[serde(deserialize_with = "non_negative")]
    pub connector_id: i64,
    /// Inoperative or Operative.
    #[serde(rename = "type")]
    pub kind: AvailabilityType,
}

/// ChangeAvailability type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AvailabilityType {
    /// Not available for charging.
    Inoperative,
    /// Available.
    Operative,
}

/// ChangeConfiguration.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChangeConfigurationReq {
    /// The key.
    pub key: CiString<50>,
    /// The new value.
    pub value: CiString<500>,
}

/// GetConfiguration.req (60.5's `offset`/`limit` pagination is accepted:
/// unknown fields are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GetConfigurationReq {
    /// The keys asked for; none = all.
    #[serde(default)]
    pub key: Option<Vec<CiString<50>>>,
}

/// GetConfiguration.conf.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GetConfigurationConf {
    /// The known keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_key: Option<Vec<KeyValue>>,
    /// The keys asked for that the charger does not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_key: Option<Vec<String>>,
}

/// One configuration key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    /// Its name.
    pub key: String,
    /// Cannot be changed.
    pub readonly: bool,
    /// The value as a string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// RemoteStartTransaction.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStartTransactionReq {
    /// The connector, if named.
    #[serde(default, deserialize_with = "opt_non_negative")]
    pub connector_id: Option<i64>,
    /// The card to start for.
    pub id_tag: CiString<20>,
    /// A TxProfile for the transaction.
    #[serde(default)]
    pub charging_profile: Option<ChargingProfile>,
}

/// RemoteStopTransaction.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStopTransactionReq {
    /// The backend's transaction id.
    pub transaction_id: i64,
}

/// Reset.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ResetReq {
    /// Hard or Soft.
    #[serde(rename = "type")]
    pub kind: ResetType,
}

/// Reset type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ResetType {
    /// Restart the hardware.
    Hard,
    /// Restart gracefully.
    Soft,
}

/// UnlockConnector.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlockConnectorReq {
    /// The connector.
    #[serde(deserialize_with = "non_negative")]
    pub connector_id: i64,
}

/// TriggerMessage.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerMessageReq {
    /// What to send.
    pub requested_message: MessageTrigger,
    /// For which connector.
    #[serde(default, deserialize_with = "opt_non_negative")]
    pub connector_id: Option<i64>,
}

/// TriggerMessage requestedMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MessageTrigger {
    /// BootNotification.
    BootNotification,
    /// DiagnosticsStatusNotification (not implemented by the go-e).
    DiagnosticsStatusNotification,
    /// FirmwareStatusNotification.
    FirmwareStatusNotification,
    /// Heartbeat.
    Heartbeat,
    /// MeterValues.
    MeterValues,
    /// StatusNotification.
    StatusNotification,
}

/// SetChargingProfile.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChargingProfileReq {
    /// 0 = the charge point, 1 = the connector.
    #[serde(deserialize_with = "non_negative")]
    pub connector_id: i64,
    /// The profile.
    pub cs_charging_profiles: ChargingProfile,
}

/// A charging profile, as received and as shown in `ocppmp/ocppdp/ocpptp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingProfile {
    /// Its id.
    pub charging_profile_id: i64,
    /// For a TxProfile: the transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<i64>,
    /// Higher wins within a purpose.
    #[serde(deserialize_with = "non_negative")]
    pub stack_level: i64,
    /// Which stack.
    pub charging_profile_purpose: ProfilePurpose,
    /// How the schedule starts.
    pub charging_profile_kind: ProfileKind,
    /// For Recurring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrency_kind: Option<RecurrencyKind>,
    /// Not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<DateTime>,
    /// Not after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<DateTime>,
    /// The schedule.
    pub charging_schedule: ChargingSchedule,
}

/// A charging schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargingSchedule {
    /// Length, s.
    #[serde(
        default,
        deserialize_with = "opt_non_negative",
        skip_serializing_if = "Option::is_none"
    )]
    pub duration: Option<i64>,
    /// Start for Absolute/Recurring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_schedule: Option<DateTime>,
    /// A or W.
    pub charging_rate_unit: RateUnit,
    /// The periods, by start offset.
    pub charging_schedule_period: Vec<SchedulePeriod>,
    /// The EV's minimum rate (kept, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_charging_rate: Option<f64>,
}

/// One period of a schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePeriod {
    /// Offset from the schedule start, s.
    #[serde(deserialize_with = "non_negative")]
    pub start_period: i64,
    /// The limit in the unit of the schedule.
    pub limit: f64,
    /// Phases to use.
    #[serde(
        default,
        deserialize_with = "opt_non_negative",
        skip_serializing_if = "Option::is_none"
    )]
    pub number_phases: Option<i64>,
}

/// ChargingProfilePurpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfilePurpose {
    /// The charge point's overall maximum (connector 0).
    ChargePointMaxProfile,
    /// Default for new transactions.
    TxDefaultProfile,
    /// For one running transaction.
    TxProfile,
}

/// ChargingProfileKind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProfileKind {
    /// From startSchedule.
    Absolute,
    /// Repeats from startSchedule.
    Recurring,
    /// From the transaction start.
    Relative,
}

/// RecurrencyKind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecurrencyKind {
    /// Every 24 h.
    Daily,
    /// Every 7 days.
    Weekly,
}

/// ChargingRateUnit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RateUnit {
    /// Amperes.
    A,
    /// Watts (the go-e refuses these).
    W,
}

/// ClearChargingProfile.req.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClearChargingProfileReq {
    /// A profile id.
    #[serde(default)]
    pub id: Option<i64>,
    /// A connector.
    #[serde(default, deserialize_with = "opt_non_negative")]
    pub connector_id: Option<i64>,
    /// A purpose.
    #[serde(default)]
    pub charging_profile_purpose: Option<ProfilePurpose>,
    /// A stack level.
    #[serde(default, deserialize_with = "opt_non_negative")]
    pub stack_level: Option<i64>,
}

/// UpdateFirmware.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFirmwareReq {
    /// Where the firmware is (any URI; never fetched).
    pub location: String,
    /// Attempts.
    #[serde(default, deserialize_with = "opt_non_negative")]
    pub retries: Option<i64>,
    /// Not before.
    pub retrieve_date: DateTime,
    /// Between attempts, s.
    #[serde(default, deserialize_with = "opt_non_negative")]
    pub retry_interval: Option<i64>,
}

/// DataTransfer.req.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferReq {
    /// The vendor.
    pub vendor_id: CiString<255>,
    /// The vendor's message.
    #[serde(default)]
    pub message_id: Option<CiString<50>>,
    /// The data.
    #[serde(default)]
    pub data: Option<String>,
}

/// Serializes a payload for a frame.
pub fn to_value<T: Serialize>(payload: &T) -> Value {
    serde_json::to_value(payload).unwrap_or(Value::Object(Map::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn boot_notification_has_the_go_e_field_order() {
        let req = BootNotificationReq {
            charge_point_vendor: "go-e".into(),
            charge_point_model: "go-eCharger_V4".into(),
            charge_point_serial_number: "237512".into(),
            firmware_version: "59.4".into(),
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"chargePointVendor":"go-e","chargePointModel":"go-eCharger_V4","chargePointSerialNumber":"237512","firmwareVersion":"59.4"}"#
        );
    }

    #[test]
    fn status_notification_has_the_go_e_field_order() {
        let req = StatusNotificationReq {
            connector_id: 0,
            error_code: "NoError",
            status: "Available",
            timestamp: DateTime(1_677_831_676_000),
            vendor_error_code: None,
        };
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"connectorId":0,"errorCode":"NoError","status":"Available","timestamp":"2023-03-03T08:21:16.000Z"}"#
        );
    }

    #[test]
    fn sampled_values_skip_missing_fields() {
        let v = SampledValue {
            value: "16.00".into(),
            measurand: "Current.Offered",
            unit: Some("A"),
            phase: None,
        };
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"value":"16.00","measurand":"Current.Offered","unit":"A"}"#
        );
    }

    #[test]
    fn violations_get_their_codes() {
        let code = |v: Value| {
            decode::<RemoteStartTransactionReq>(&obj(v))
                .unwrap_err()
                .code
        };
        assert_eq!(code(json!({})), ErrorCode::OccurenceConstraintViolation);
        assert_eq!(
            code(json!({"idTag": 5})),
            ErrorCode::TypeConstraintViolation
        );
        assert_eq!(
            code(json!({"idTag": "x".repeat(21)})),
            ErrorCode::TypeConstraintViolation
        );
        assert_eq!(
            code(json!({"idTag": "a", "connectorId": -1})),
            ErrorCode::PropertyConstraintViolation
        );
        let reset = |v: Value| decode::<ResetReq>(&obj(v)).unwrap_err().code;
        assert_eq!(
            reset(json!({"type": "Warm"})),
            ErrorCode::PropertyConstraintViolation
        );
        let fw = |v: Value| decode::<UpdateFirmwareReq>(&obj(v)).unwrap_err().code;
        assert_eq!(
            fw(json!({"location": "x", "retrieveDate": "soon"})),
            ErrorCode::TypeConstraintViolation
        );
    }

    #[test]
    fn reads_a_spec_style_charging_profile() {
        let req: SetChargingProfileReq = decode(&obj(json!({
            "connectorId": 0,
            "csChargingProfiles": {
                "chargingProfileId": 100, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
                "chargingProfileKind": "Recurring", "recurrencyKind": "Daily",
                "chargingSchedule": {"duration": 86400, "startSchedule": "2013-01-01T00:00Z", "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11.0}, {"startPeriod": 28800, "limit": 6.0, "numberPhases": 1}]}
            }
        })))
        .unwrap();
        assert_eq!(
            req.cs_charging_profiles
                .charging_schedule
                .charging_schedule_period[1]
                .number_phases,
            Some(1)
        );
        assert_eq!(
            req.cs_charging_profiles.charging_schedule.start_schedule,
            Some(DateTime(1_356_998_400_000))
        );
    }

    #[test]
    fn get_configuration_accepts_pagination_fields() {
        let req: GetConfigurationReq = decode(&obj(json!({"offset": 0, "limit": 10}))).unwrap();
        assert_eq!(req.key, None);
    }
}
