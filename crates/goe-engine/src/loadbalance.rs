//! Load balancing inside a group of chargers sharing one supply (`log`, `loe`).
//!
//! Pure: the fleet runner collects each member's [`Demand`], calls
//! [`allocate`] once per simulated second and hands every member its
//! [`Allocation`] with [`crate::Charger::set_load_allocation`]. The charger then
//! treats `loa` as one more current limit; below `mca` it does not charge
//! (`modelStatus` 27). When the group coordinator is lost each member falls
//! back to its own `lof`.

use serde::Serialize;

/// What one member of a group needs this second.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demand {
    /// Serial of the charger.
    pub serial: String,
    /// `lop`: a higher value is served first; ties go by serial.
    pub priority: i64,
    /// Current per phase the charger would use without load management, A
    /// (0 when no car wants current).
    pub wanted_a: i64,
    /// `mca` of the charger: a member gets this much or nothing.
    pub min_a: i64,
}

/// What one member may draw this second.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    /// Amps per phase allotted (`loa`).
    pub amps: i64,
    /// Serials of all members of the group (`lom`).
    pub members: Vec<String>,
    /// Human-readable state of the group (`los`).
    pub status: String,
}

/// The amps per phase a group may draw by one member's `lot`: the 2021
/// number itself; on newer firmware the object's `amp` (the total of a static
/// group) or, with `dynamic` load balancing (`loty` 1), its `dyn` (the
/// dynamic maximum of the whole connection, from which the house's own
/// current is subtracted by the coordinator).
pub fn lot_amps(lot: &goe_keys::Value, dynamic: bool) -> i64 {
    match lot {
        goe_keys::Value::Object(_) => {
            let field = if dynamic { "dyn" } else { "amp" };
            lot.field(field)
                .and_then(goe_keys::Value::as_i64)
                .unwrap_or(0)
        }
        other => other.as_i64().unwrap_or(0),
    }
}

/// Splits `total_a` amps per phase among `demands`: in priority order every
/// member that wants current gets its minimum while it fits, then the rest is
/// shared in priority order up to each member's want. Returns one amount per
/// demand, in the input order. The sum never exceeds `total_a`, and no member
/// gets an amount between 1 and its minimum − 1.
pub fn allocate(total_a: i64, demands: &[Demand]) -> Vec<i64> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by(|&a, &b| {
        demands[b]
            .priority
            .cmp(&demands[a].priority)
            .then_with(|| demands[a].serial.cmp(&demands[b].serial))
    });
    let mut amps = vec![0i64; demands.len()];
    let mut left = total_a.max(0);
    for &i in &order {
        let d = &demands[i];
        if d.wanted_a > 0 && d.min_a <= left {
            amps[i] = d.min_a.min(d.wanted_a.max(d.min_a));
            left -= amps[i];
        }
    }
    for &i in &order {
        if amps[i] == 0 {
            continue;
        }
        let more = (demands[i].wanted_a - amps[i]).clamp(0, left);
        amps[i] += more;
        left -= more;
    }
    amps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(serial: &str, priority: i64, wanted: i64) -> Demand {
        Demand {
            serial: serial.into(),
            priority,
            wanted_a: wanted,
            min_a: 6,
        }
    }

    #[test]
    fn shares_by_priority_and_respects_the_total() {
        let demands = [d("a", 50, 16), d("b", 60, 16), d("c", 50, 16)];
        let got = allocate(32, &demands);
        assert_eq!(got, vec![10, 16, 6]);
        assert!(got.iter().sum::<i64>() <= 32);
    }

    #[test]
    fn minimum_or_nothing() {
        let demands = [d("a", 50, 16), d("b", 50, 16), d("c", 50, 16)];
        assert_eq!(allocate(16, &demands), vec![10, 6, 0]);
        assert_eq!(allocate(5, &demands), vec![0, 0, 0]);
    }

    #[test]
    fn idle_members_get_nothing() {
        let demands = [d("a", 50, 0), d("b", 50, 16)];
        assert_eq!(allocate(32, &demands), vec![0, 16]);
    }

    #[test]
    fn never_over_total_never_below_min() {
        // a small deterministic sweep
        for total in 0..80 {
            for n in 1..6 {
                let demands: Vec<Demand> = (0..n)
                    .map(|i| {
                        d(
                            &format!("s{i}"),
                            (i * 7 % 3) as i64,
                            6 + (i * 5 % 27) as i64,
                        )
                    })
                    .collect();
                let got = allocate(total, &demands);
                assert!(got.iter().sum::<i64>() <= total);
                for (a, dem) in got.iter().zip(&demands) {
                    assert!(*a == 0 || (*a >= dem.min_a && *a <= dem.wanted_a.max(dem.min_a)));
                }
            }
        }
    }
}
