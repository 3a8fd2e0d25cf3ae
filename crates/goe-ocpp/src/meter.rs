//! The sampled values of MeterValues, shaped exactly like a real go-e's
//! (notes §4.5): two decimals, no context/location/format, per-phase
//! current and power plus the total power, and `ocppr` rotating the phases.

use crate::config::MEASURANDS;
use crate::messages::{DateTime, MeterValue, SampledValue};
use crate::view::ChargerView;

/// Nominal phase voltage of Power.Offered (a real go-e: 16 A → 11040.00 W).
const NOMINAL_V: f64 = 230.0;

const PHASES: [&str; 3] = ["L1", "L2", "L3"];
const PHASES_N: [&str; 3] = ["L1-N", "L2-N", "L3-N"];

/// One MeterValue of `measurands` (in the go-e's order) at `view.utc_ms`
/// (or `at_ms` for clock-aligned values).
pub fn sample(view: &ChargerView, measurands: &[&str], at_ms: i64) -> MeterValue {
    let mut out = Vec::new();
    let n = &view.nrg;
    // ocppr: the charger's phase i is reported as phase i+1 (L1→L2→L3→L1):
    // the value shown as phase j is the charger's phase (j+2) % 3.
    let src = |j: usize| {
        if view.settings.rotate_phases {
            (j + 2) % 3
        } else {
            j
        }
    };
    let v = |x: f64| format!("{x:.2}");
    let per_phase = |out: &mut Vec<SampledValue>,
                     base: usize,
                     m,
                     unit,
                     labels: [&'static str; 3],
                     scale: f64| {
        for (j, label) in labels.into_iter().enumerate() {
            out.push(SampledValue {
                value: v(n[base + src(j)] * scale),
                measurand: m,
                unit,
                phase: Some(label),
            });
        }
    };
    for m in MEASURANDS
        .iter()
        .copied()
        .filter(|m| measurands.contains(m))
    {
        match m {
            "Current.Import" => per_phase(&mut out, 4, m, Some("A"), PHASES, 1.0),
            "Current.Offered" => out.push(SampledValue {
                value: v(view.offered_a),
                measurand: m,
                unit: Some("A"),
                phase: None,
            }),
            "Energy.Active.Import.Register" => out.push(SampledValue {
                value: v(view.energy_wh),
                measurand: m,
                unit: Some("Wh"),
                phase: None,
            }),
            "Frequency" => {
                if let Some(hz) = view.frequency_hz {
                    out.push(SampledValue {
                        value: v(hz),
                        measurand: m,
                        unit: None,
                        phase: None,
                    });
                }
            }
            "Power.Active.Import" => {
                per_phase(&mut out, 7, m, Some("W"), PHASES, 1.0);
                out.push(SampledValue {
                    value: v(n[11]),
                    measurand: m,
                    unit: Some("W"),
                    phase: None,
                });
            }
            "Power.Factor" => per_phase(&mut out, 12, m, None, PHASES, 0.01),
            "Power.Offered" => {
                let phases = if view.phases == 0 { 3 } else { view.phases };
                let w = view.offered_a * NOMINAL_V * f64::from(phases);
                out.push(SampledValue {
                    value: v(w),
                    measurand: m,
                    unit: Some("W"),
                    phase: None,
                });
            }
            "Temperature" => {
                if let Some(c) = view.temperature_c {
                    out.push(SampledValue {
                        value: v(c),
                        measurand: m,
                        unit: Some("Celcius"),
                        phase: None,
                    });
                }
            }
            "Voltage" => per_phase(&mut out, 0, m, Some("V"), PHASES_N, 1.0),
            _ => {}
        }
    }
    MeterValue {
        timestamp: DateTime(at_ms),
        sampled_value: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::view;

    /// The values of the real go-e trace (evcc #6735), rebuilt.
    #[test]
    fn the_default_set_looks_like_a_real_go_e() {
        let mut v = view();
        v.nrg = [
            230.0, 230.0, 230.0, 0.0, 0.3, 0.4, 0.3, 0.0, 0.0, 0.0, 0.0, 30.0, 0.0, 0.0, 0.0, 0.0,
        ];
        v.energy_wh = 755_295.01;
        v.utc_ms = 1_678_787_624_000;
        let mv = sample(
            &v,
            &[
                "Current.Import",
                "Current.Offered",
                "Energy.Active.Import.Register",
                "Power.Active.Import",
                "Power.Offered",
            ],
            v.utc_ms,
        );
        assert_eq!(
            serde_json::to_string(&mv).unwrap(),
            r#"{"timestamp":"2023-03-14T09:53:44.000Z","sampledValue":[{"value":"0.30","measurand":"Current.Import","unit":"A","phase":"L1"},{"value":"0.40","measurand":"Current.Import","unit":"A","phase":"L2"},{"value":"0.30","measurand":"Current.Import","unit":"A","phase":"L3"},{"value":"16.00","measurand":"Current.Offered","unit":"A"},{"value":"755295.01","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"0.00","measurand":"Power.Active.Import","unit":"W","phase":"L1"},{"value":"0.00","measurand":"Power.Active.Import","unit":"W","phase":"L2"},{"value":"0.00","measurand":"Power.Active.Import","unit":"W","phase":"L3"},{"value":"30.00","measurand":"Power.Active.Import","unit":"W"},{"value":"11040.00","measurand":"Power.Offered","unit":"W"}]}"#
        );
    }

    #[test]
    fn rotation_shifts_the_phases() {
        let mut v = view();
        v.nrg[4] = 1.0;
        v.nrg[5] = 2.0;
        v.nrg[6] = 3.0;
        v.settings.rotate_phases = true;
        let mv = sample(&v, &["Current.Import"], 0);
        let got: Vec<(&str, &str)> = mv
            .sampled_value
            .iter()
            .map(|s| (s.phase.unwrap(), s.value.as_str()))
            .collect();
        assert_eq!(got, [("L1", "3.00"), ("L2", "1.00"), ("L3", "2.00")]);
    }

    #[test]
    fn frequency_has_no_unit_and_temperature_is_celcius() {
        let mv = sample(
            &view(),
            &["Frequency", "Temperature", "Voltage", "Power.Factor"],
            0,
        );
        let s = serde_json::to_string(&mv.sampled_value).unwrap();
        assert!(
            s.contains(r#"{"value":"50.00","measurand":"Frequency"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#"{"value":"21.50","measurand":"Temperature","unit":"Celcius"}"#),
            "{s}"
        );
        assert!(
            s.contains(r#""measurand":"Voltage","unit":"V","phase":"L1-N""#),
            "{s}"
        );
    }
}
