//! The connector status of StatusNotification (OCPP 1.6 §4.9) from the car
//! state, the errors and the transaction (notes §4.7; the mapping is ours,
//! `ocpp-en.md` gives none: see COMPAT-NOTES.md).

use crate::view::ChargerView;

/// ChargePointStatus, numbered as `ocppcs` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: free.
    Available = 0,
    /// 1: car plugged, no transaction yet.
    Preparing = 1,
    /// 2: energy flows.
    Charging = 2,
    /// 3: the charger does not let the car charge.
    SuspendedEVSE = 3,
    /// 4: allowed, but the car does not draw.
    SuspendedEV = 4,
    /// 5: the transaction ended, the car is still plugged.
    Finishing = 5,
    /// 6: reserved (never: no Reservation profile).
    Reserved = 6,
    /// 7: Inoperative (ChangeAvailability, `ocppio`) or initializing.
    Unavailable = 7,
    /// 8: an error.
    Faulted = 8,
}

impl Status {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Available => "Available",
            Status::Preparing => "Preparing",
            Status::Charging => "Charging",
            Status::SuspendedEVSE => "SuspendedEVSE",
            Status::SuspendedEV => "SuspendedEV",
            Status::Finishing => "Finishing",
            Status::Reserved => "Reserved",
            Status::Unavailable => "Unavailable",
            Status::Faulted => "Faulted",
        }
    }
}

/// A status with its error code and the go-e error name (vendorErrorCode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectorState {
    /// The status.
    pub status: Status,
    /// ChargePointErrorCode.
    pub error_code: &'static str,
    /// The go-e `err` name when faulted.
    pub vendor_error: Option<&'static str>,
}

/// The session facts the status depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// A transaction is running.
    pub transaction: bool,
    /// A transaction ended while the car stayed plugged.
    pub finishing: bool,
    /// ChangeAvailability Inoperative is in force.
    pub inoperative: bool,
}

/// modelStatus 37: NotChargingBecauseOcppInoperable.
const MODEL_STATUS_INOPERABLE: i64 = 37;

/// `err` → (ChargePointErrorCode, go-e name).
pub fn error_code(err: u8) -> (&'static str, &'static str) {
    match err {
        1 => ("GroundFailure", "FiAc"),
        2 => ("GroundFailure", "FiDc"),
        3 => ("OtherError", "Phase"),
        4 => ("OverVoltage", "Overvolt"),
        5 => ("OverCurrentFailure", "Overamp"),
        6 => ("EVCommunicationError", "Diode"),
        7 => ("OtherError", "PpInvalid"),
        8 => ("GroundFailure", "GndInvalid"),
        9 => ("PowerSwitchFailure", "ContactorStuck"),
        10 => ("PowerSwitchFailure", "ContactorMiss"),
        12 => ("ConnectorLockFailure", "StatusLockStuckOpen"),
        13 => ("ConnectorLockFailure", "StatusLockStuckLocked"),
        14 => ("GroundFailure", "FiUnknown"),
        16 => ("HighTemperature", "Overtemp"),
        17 => ("InternalError", "NoComm"),
        18 => ("EVCommunicationError", "CpInvalid"),
        _ => ("OtherError", "Unknown"),
    }
}

fn plain(status: Status) -> ConnectorState {
    ConnectorState {
        status,
        error_code: "NoError",
        vendor_error: None,
    }
}

fn faulted(err: u8) -> ConnectorState {
    let (code, name) = error_code(err);
    ConnectorState {
        status: Status::Faulted,
        error_code: code,
        vendor_error: Some(name),
    }
}

/// Connector 1.
pub fn connector(view: &ChargerView, facts: Facts) -> ConnectorState {
    if view.error != 0 {
        return faulted(view.error);
    }
    if view.car == 5 {
        return faulted(0);
    }
    if facts.inoperative || view.model_status == MODEL_STATUS_INOPERABLE {
        return plain(Status::Unavailable);
    }
    plain(match view.car {
        1 => Status::Available,
        2 => Status::Charging,
        3 | 4 if facts.finishing && !facts.transaction => Status::Finishing,
        3 | 4 if !facts.transaction => Status::Preparing,
        4 => Status::SuspendedEV,
        3 if view.allowed => Status::SuspendedEV,
        3 => Status::SuspendedEVSE,
        _ => Status::Unavailable,
    })
}

/// Connector 0, the charge point as a whole.
pub fn charge_point(view: &ChargerView, facts: Facts) -> ConnectorState {
    if view.error != 0 {
        faulted(view.error)
    } else if facts.inoperative || view.model_status == MODEL_STATUS_INOPERABLE {
        plain(Status::Unavailable)
    } else {
        plain(Status::Available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::view;

    const IDLE: Facts = Facts {
        transaction: false,
        finishing: false,
        inoperative: false,
    };
    const TX: Facts = Facts {
        transaction: true,
        finishing: false,
        inoperative: false,
    };

    fn with(car: u8, allowed: bool) -> ChargerView {
        ChargerView {
            car,
            allowed,
            ..view()
        }
    }

    #[test]
    fn car_states_map_to_statuses() {
        assert_eq!(connector(&with(1, false), IDLE).status, Status::Available);
        assert_eq!(connector(&with(3, false), IDLE).status, Status::Preparing);
        assert_eq!(connector(&with(2, true), TX).status, Status::Charging);
        assert_eq!(connector(&with(3, true), TX).status, Status::SuspendedEV);
        assert_eq!(connector(&with(4, true), TX).status, Status::SuspendedEV);
        assert_eq!(connector(&with(3, false), TX).status, Status::SuspendedEVSE);
        assert_eq!(
            connector(
                &with(3, false),
                Facts {
                    finishing: true,
                    ..IDLE
                }
            )
            .status,
            Status::Finishing
        );
        assert_eq!(
            connector(
                &with(1, false),
                Facts {
                    inoperative: true,
                    ..IDLE
                }
            )
            .status,
            Status::Unavailable
        );
        assert_eq!(
            connector(
                &ChargerView {
                    model_status: 37,
                    ..with(3, false)
                },
                IDLE
            )
            .status,
            Status::Unavailable
        );
        assert_eq!(charge_point(&with(2, true), TX).status, Status::Available);
    }

    #[test]
    fn errors_fault_with_their_codes() {
        let v = ChargerView {
            error: 16,
            ..with(2, true)
        };
        let s = connector(&v, TX);
        assert_eq!(
            (s.status, s.error_code, s.vendor_error),
            (Status::Faulted, "HighTemperature", Some("Overtemp"))
        );
        assert_eq!(charge_point(&v, TX).status, Status::Faulted);
        assert_eq!(error_code(1).0, "GroundFailure");
        assert_eq!(error_code(99), ("OtherError", "Unknown"));
    }
}
