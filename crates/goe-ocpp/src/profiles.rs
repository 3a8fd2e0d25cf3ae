//! Smart charging (OCPP 1.6 §3.13, §5.16): the installed charging profiles
//! and the current limit they give at one instant of simulated time.
//!
//! Within a purpose the highest stack level whose schedule covers the
//! instant wins; a TxProfile overrides the TxDefaultProfile; the result is
//! the minimum of that and the ChargePointMaxProfile (§3.13.2). The go-e
//! limits current only: profiles in W are rejected (notes §2.3).

use serde_json::Value;

use crate::config::{MAX_PERIODS, MAX_PROFILES, MAX_STACK_LEVEL};
use crate::messages::{
    ChargingProfile, ClearChargingProfileReq, ProfileKind, ProfilePurpose, RateUnit, RecurrencyKind,
};
use crate::view::Limit;

const DAY_MS: i64 = 86_400_000;

/// One installed profile.
#[derive(Debug, Clone, PartialEq)]
struct Installed {
    connector_id: i64,
    profile: ChargingProfile,
    /// When it was installed (start of an Absolute schedule without
    /// startSchedule).
    installed_ms: i64,
}

/// Why SetChargingProfile was Rejected (for the log and the tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Connector id other than 0 or 1, or the wrong one for the purpose.
    Connector,
    /// chargingRateUnit W.
    Watts,
    /// A TxProfile without a (matching) running transaction.
    NoTransaction,
    /// Stack level above ChargeProfileMaxStackLevel.
    StackLevel,
    /// Periods missing, too many, not starting at 0, not increasing, a
    /// negative limit, or numberPhases outside 1–3.
    Schedule,
    /// Recurring without startSchedule or recurrencyKind.
    Recurrence,
    /// MaxChargingProfilesInstalled reached.
    Full,
}

/// The charging profiles installed on the charge point.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Profiles {
    list: Vec<Installed>,
}

impl Profiles {
    /// SetChargingProfile. `running_tx` is the backend's id of the running
    /// transaction (`Some(None)`: running but the id is not known yet).
    pub fn set(
        &mut self,
        connector_id: i64,
        mut profile: ChargingProfile,
        running_tx: Option<Option<i64>>,
        now_ms: i64,
    ) -> Result<(), Refusal> {
        if !(0..=1).contains(&connector_id) {
            return Err(Refusal::Connector);
        }
        let schedule = &profile.charging_schedule;
        if schedule.charging_rate_unit == RateUnit::W {
            return Err(Refusal::Watts);
        }
        match profile.charging_profile_purpose {
            ProfilePurpose::ChargePointMaxProfile if connector_id != 0 => {
                return Err(Refusal::Connector);
            }
            ProfilePurpose::TxProfile => {
                if connector_id != 1 {
                    return Err(Refusal::Connector);
                }
                let Some(running) = running_tx else {
                    return Err(Refusal::NoTransaction);
                };
                match (profile.transaction_id, running) {
                    (Some(want), Some(have)) if want != have => return Err(Refusal::NoTransaction),
                    (None, Some(have)) => profile.transaction_id = Some(have),
                    _ => {}
                }
            }
            _ => {}
        }
        if profile.stack_level > MAX_STACK_LEVEL {
            return Err(Refusal::StackLevel);
        }
        let periods = &schedule.charging_schedule_period;
        let increasing = periods
            .windows(2)
            .all(|w| w[0].start_period < w[1].start_period);
        let sane = periods
            .iter()
            .all(|p| p.limit >= 0.0 && p.number_phases.is_none_or(|n| (1..=3).contains(&n)));
        if periods.is_empty()
            || periods.len() > MAX_PERIODS
            || periods[0].start_period != 0
            || !increasing
            || !sane
        {
            return Err(Refusal::Schedule);
        }
        if profile.charging_profile_kind == ProfileKind::Recurring
            && (schedule.start_schedule.is_none() || profile.recurrency_kind.is_none())
        {
            return Err(Refusal::Recurrence);
        }
        let purpose = profile.charging_profile_purpose;
        let level = profile.stack_level;
        let id = profile.charging_profile_id;
        self.list.retain(|i| {
            let p = &i.profile;
            p.charging_profile_id != id
                && !(p.charging_profile_purpose == purpose
                    && p.stack_level == level
                    && i.connector_id == connector_id)
        });
        if self.list.len() >= MAX_PROFILES {
            return Err(Refusal::Full);
        }
        self.list.push(Installed {
            connector_id,
            profile,
            installed_ms: now_ms,
        });
        Ok(())
    }

    /// ClearChargingProfile: by id, or every profile matching all the given
    /// criteria (none given = all). True if any was removed (Accepted, else
    /// Unknown).
    pub fn clear(&mut self, req: &ClearChargingProfileReq) -> bool {
        let before = self.list.len();
        if let Some(id) = req.id {
            self.list.retain(|i| i.profile.charging_profile_id != id);
        } else {
            self.list.retain(|i| {
                let p = &i.profile;
                let hit = req.connector_id.is_none_or(|c| c == i.connector_id)
                    && req
                        .charging_profile_purpose
                        .is_none_or(|pp| pp == p.charging_profile_purpose)
                    && req.stack_level.is_none_or(|s| s == p.stack_level);
                !hit
            });
        }
        self.list.len() != before
    }

    /// The transaction ended: its TxProfiles go (1.6 §3.13.1).
    pub fn end_transaction(&mut self) {
        self.list
            .retain(|i| i.profile.charging_profile_purpose != ProfilePurpose::TxProfile);
    }

    /// The limit at `utc_ms`; `tx_start_ms` = start of the running
    /// transaction (Relative schedules, TxProfiles).
    pub fn limit_at(&self, utc_ms: i64, tx_start_ms: Option<i64>) -> Option<Limit> {
        let max = self.best(ProfilePurpose::ChargePointMaxProfile, utc_ms, tx_start_ms);
        let tx = tx_start_ms
            .and_then(|_| self.best(ProfilePurpose::TxProfile, utc_ms, tx_start_ms))
            .or_else(|| self.best(ProfilePurpose::TxDefaultProfile, utc_ms, tx_start_ms));
        match (max, tx) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => Some(Limit {
                amps: a.amps.min(b.amps),
                phases: match (a.phases, b.phases) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                },
            }),
        }
    }

    fn best(&self, purpose: ProfilePurpose, now: i64, tx_start: Option<i64>) -> Option<Limit> {
        let mut candidates: Vec<&Installed> = self
            .list
            .iter()
            .filter(|i| i.profile.charging_profile_purpose == purpose)
            .collect();
        // Highest stack level first; the connector's own before connector 0.
        candidates.sort_by_key(|i| {
            (
                std::cmp::Reverse(i.profile.stack_level),
                std::cmp::Reverse(i.connector_id),
            )
        });
        candidates
            .into_iter()
            .find_map(|i| active(i, now, tx_start))
    }

    /// The status keys `ocppmp`, `ocppdp`, `ocpptp`: the installed profiles
    /// of each purpose as JSON arrays of the profiles as received.
    pub fn keys(&self) -> Vec<(&'static str, Value)> {
        let of = |purpose| {
            Value::Array(
                self.list
                    .iter()
                    .filter(|i| i.profile.charging_profile_purpose == purpose)
                    .map(|i| crate::messages::to_value(&i.profile))
                    .collect(),
            )
        };
        vec![
            ("ocppmp", of(ProfilePurpose::ChargePointMaxProfile)),
            ("ocppdp", of(ProfilePurpose::TxDefaultProfile)),
            ("ocpptp", of(ProfilePurpose::TxProfile)),
        ]
    }

    /// How many profiles are installed.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// No profile installed.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The period of `i` in force at `now`, if its validity and schedule cover it.
fn active(i: &Installed, now: i64, tx_start: Option<i64>) -> Option<Limit> {
    let p = &i.profile;
    let s = &p.charging_schedule;
    if p.valid_from.is_some_and(|f| now < f.0) || p.valid_to.is_some_and(|t| now >= t.0) {
        return None;
    }
    let start = match p.charging_profile_kind {
        ProfileKind::Absolute => s.start_schedule.map_or(i.installed_ms, |d| d.0),
        ProfileKind::Relative => tx_start.unwrap_or(now),
        ProfileKind::Recurring => {
            let base = s.start_schedule?.0;
            let every = match p.recurrency_kind? {
                RecurrencyKind::Daily => DAY_MS,
                RecurrencyKind::Weekly => 7 * DAY_MS,
            };
            now - (now - base).rem_euclid(every)
        }
    };
    let offset = now.checked_sub(start)?;
    if offset < 0 || s.duration.is_some_and(|d| offset >= d.saturating_mul(1000)) {
        return None;
    }
    let period = s
        .charging_schedule_period
        .iter()
        .rev()
        .find(|q| q.start_period.saturating_mul(1000) <= offset)?;
    Some(Limit {
        amps: period.limit,
        phases: period.number_phases.and_then(|n| u8::try_from(n).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{ChargingSchedule, DateTime, SchedulePeriod};
    use proptest::prelude::*;

    const T0: i64 = 1_700_000_000_000;

    fn profile(
        id: i64,
        purpose: ProfilePurpose,
        level: i64,
        periods: &[(i64, f64)],
    ) -> ChargingProfile {
        ChargingProfile {
            charging_profile_id: id,
            transaction_id: None,
            stack_level: level,
            charging_profile_purpose: purpose,
            charging_profile_kind: ProfileKind::Absolute,
            recurrency_kind: None,
            valid_from: None,
            valid_to: None,
            charging_schedule: ChargingSchedule {
                duration: None,
                start_schedule: Some(DateTime(T0)),
                charging_rate_unit: RateUnit::A,
                charging_schedule_period: periods
                    .iter()
                    .map(|&(start_period, limit)| SchedulePeriod {
                        start_period,
                        limit,
                        number_phases: None,
                    })
                    .collect(),
                min_charging_rate: None,
            },
        }
    }

    fn amps(p: &Profiles, at: i64, tx: Option<i64>) -> Option<f64> {
        p.limit_at(at, tx).map(|l| l.amps)
    }

    #[test]
    fn absolute_schedule_steps_through_its_periods_and_ends_with_duration() {
        let mut ps = Profiles::default();
        let mut p = profile(
            1,
            ProfilePurpose::TxDefaultProfile,
            0,
            &[(0, 16.0), (3600, 8.0)],
        );
        p.charging_schedule.duration = Some(7200);
        ps.set(1, p, None, T0).unwrap();
        assert_eq!(amps(&ps, T0 - 1, None), None);
        assert_eq!(amps(&ps, T0, None), Some(16.0));
        assert_eq!(amps(&ps, T0 + 3_600_000, None), Some(8.0));
        assert_eq!(amps(&ps, T0 + 7_200_000, None), None);
    }

    #[test]
    fn higher_stack_level_wins_and_falls_back_when_it_ends() {
        let mut ps = Profiles::default();
        ps.set(
            0,
            profile(1, ProfilePurpose::TxDefaultProfile, 0, &[(0, 16.0)]),
            None,
            T0,
        )
        .unwrap();
        let mut high = profile(2, ProfilePurpose::TxDefaultProfile, 3, &[(0, 6.0)]);
        high.valid_to = Some(DateTime(T0 + 60_000));
        ps.set(1, high, None, T0).unwrap();
        assert_eq!(amps(&ps, T0 + 1000, None), Some(6.0));
        assert_eq!(amps(&ps, T0 + 60_000, None), Some(16.0));
    }

    #[test]
    fn same_purpose_and_stack_level_or_same_id_replaces() {
        let mut ps = Profiles::default();
        ps.set(
            1,
            profile(1, ProfilePurpose::TxDefaultProfile, 0, &[(0, 16.0)]),
            None,
            T0,
        )
        .unwrap();
        ps.set(
            1,
            profile(2, ProfilePurpose::TxDefaultProfile, 0, &[(0, 10.0)]),
            None,
            T0,
        )
        .unwrap();
        assert_eq!(ps.len(), 1);
        ps.set(
            0,
            profile(2, ProfilePurpose::ChargePointMaxProfile, 0, &[(0, 12.0)]),
            None,
            T0,
        )
        .unwrap();
        assert_eq!(ps.len(), 1);
        assert_eq!(amps(&ps, T0, None), Some(12.0));
    }

    #[test]
    fn tx_profile_needs_its_transaction_and_beats_the_default() {
        let mut ps = Profiles::default();
        ps.set(
            1,
            profile(1, ProfilePurpose::TxDefaultProfile, 5, &[(0, 16.0)]),
            None,
            T0,
        )
        .unwrap();
        let tx = |id| {
            let mut p = profile(2, ProfilePurpose::TxProfile, 0, &[(0, 8.0)]);
            p.transaction_id = id;
            p
        };
        assert_eq!(
            ps.set(1, tx(Some(7)), None, T0),
            Err(Refusal::NoTransaction)
        );
        assert_eq!(
            ps.set(1, tx(Some(7)), Some(Some(8)), T0),
            Err(Refusal::NoTransaction)
        );
        assert_eq!(
            ps.set(0, tx(Some(7)), Some(Some(7)), T0),
            Err(Refusal::Connector)
        );
        ps.set(1, tx(Some(7)), Some(Some(7)), T0).unwrap();
        assert_eq!(amps(&ps, T0 + 5, Some(T0)), Some(8.0));
        ps.end_transaction();
        assert_eq!(amps(&ps, T0 + 5, None), Some(16.0));
    }

    #[test]
    fn charge_point_max_caps_the_transaction_limit() {
        let mut ps = Profiles::default();
        ps.set(
            0,
            profile(1, ProfilePurpose::ChargePointMaxProfile, 0, &[(0, 10.0)]),
            None,
            T0,
        )
        .unwrap();
        let mut p = profile(2, ProfilePurpose::TxDefaultProfile, 0, &[(0, 16.0)]);
        p.charging_schedule.charging_schedule_period[0].number_phases = Some(1);
        ps.set(1, p, None, T0).unwrap();
        assert_eq!(
            ps.limit_at(T0, None),
            Some(Limit {
                amps: 10.0,
                phases: Some(1)
            })
        );
        assert_eq!(
            ps.set(
                1,
                profile(3, ProfilePurpose::ChargePointMaxProfile, 0, &[(0, 1.0)]),
                None,
                T0
            ),
            Err(Refusal::Connector)
        );
    }

    #[test]
    fn relative_starts_with_the_transaction_and_recurring_repeats() {
        let mut ps = Profiles::default();
        let mut rel = profile(
            1,
            ProfilePurpose::TxDefaultProfile,
            0,
            &[(0, 6.0), (600, 16.0)],
        );
        rel.charging_profile_kind = ProfileKind::Relative;
        rel.charging_schedule.start_schedule = None;
        ps.set(1, rel, None, T0).unwrap();
        assert_eq!(amps(&ps, T0 + 700_000, Some(T0 + 200_000)), Some(6.0));
        assert_eq!(amps(&ps, T0 + 900_000, Some(T0 + 200_000)), Some(16.0));

        let mut daily = profile(
            2,
            ProfilePurpose::ChargePointMaxProfile,
            0,
            &[(0, 32.0), (8 * 3600, 10.0)],
        );
        daily.charging_profile_kind = ProfileKind::Recurring;
        daily.recurrency_kind = Some(RecurrencyKind::Daily);
        ps.set(0, daily, None, T0).unwrap();
        assert_eq!(
            amps(&ps, T0 + 3 * DAY_MS + 9 * 3_600_000, Some(T0)),
            Some(10.0)
        );
        assert_eq!(amps(&ps, T0 + 3 * DAY_MS + 3_600_000, Some(T0)), Some(16.0));
    }

    #[test]
    fn watts_and_bad_schedules_are_rejected() {
        let mut ps = Profiles::default();
        let mut w = profile(1, ProfilePurpose::TxDefaultProfile, 0, &[(0, 11000.0)]);
        w.charging_schedule.charging_rate_unit = RateUnit::W;
        assert_eq!(ps.set(1, w, None, T0), Err(Refusal::Watts));
        for periods in [&[][..], &[(10, 6.0)], &[(0, 6.0), (0, 8.0)], &[(0, -1.0)]] {
            assert_eq!(
                ps.set(
                    1,
                    profile(1, ProfilePurpose::TxDefaultProfile, 0, periods),
                    None,
                    T0
                ),
                Err(Refusal::Schedule)
            );
        }
        assert_eq!(
            ps.set(
                2,
                profile(1, ProfilePurpose::TxDefaultProfile, 0, &[(0, 6.0)]),
                None,
                T0
            ),
            Err(Refusal::Connector)
        );
        assert_eq!(
            ps.set(
                1,
                profile(1, ProfilePurpose::TxDefaultProfile, 9, &[(0, 6.0)]),
                None,
                T0
            ),
            Err(Refusal::StackLevel)
        );
        let mut rec = profile(1, ProfilePurpose::TxDefaultProfile, 0, &[(0, 6.0)]);
        rec.charging_profile_kind = ProfileKind::Recurring;
        assert_eq!(ps.set(1, rec, None, T0), Err(Refusal::Recurrence));
        assert!(ps.is_empty());
    }

    #[test]
    fn clear_by_id_or_criteria() {
        let mut ps = Profiles::default();
        ps.set(
            0,
            profile(1, ProfilePurpose::ChargePointMaxProfile, 0, &[(0, 10.0)]),
            None,
            T0,
        )
        .unwrap();
        ps.set(
            1,
            profile(2, ProfilePurpose::TxDefaultProfile, 1, &[(0, 10.0)]),
            None,
            T0,
        )
        .unwrap();
        ps.set(
            1,
            profile(3, ProfilePurpose::TxDefaultProfile, 2, &[(0, 10.0)]),
            None,
            T0,
        )
        .unwrap();
        assert!(!ps.clear(&ClearChargingProfileReq {
            id: Some(9),
            ..Default::default()
        }));
        assert!(ps.clear(&ClearChargingProfileReq {
            id: Some(1),
            ..Default::default()
        }));
        assert!(ps.clear(&ClearChargingProfileReq {
            stack_level: Some(2),
            ..Default::default()
        }));
        assert_eq!(ps.len(), 1);
        assert!(!ps.clear(&ClearChargingProfileReq {
            connector_id: Some(0),
            ..Default::default()
        }));
        assert!(ps.clear(&ClearChargingProfileReq::default()));
        assert!(ps.is_empty());
    }

    #[test]
    fn keys_show_the_profiles_per_purpose() {
        let mut ps = Profiles::default();
        ps.set(
            0,
            profile(1, ProfilePurpose::ChargePointMaxProfile, 0, &[(0, 10.0)]),
            None,
            T0,
        )
        .unwrap();
        let keys = ps.keys();
        assert_eq!(keys[0].0, "ocppmp");
        assert_eq!(keys[0].1[0]["chargingProfileId"], 1);
        assert_eq!(
            keys[0].1[0]["chargingSchedule"]["startSchedule"],
            "2023-11-14T22:13:20.000Z"
        );
        assert_eq!(keys[1].1, serde_json::json!([]));
    }

    fn arb_profile() -> impl Strategy<Value = (i64, ChargingProfile)> {
        (
            0..4i64,
            0..3usize,
            0..=7i64,
            0..3usize,
            proptest::collection::vec((1..7200i64, 0..64u32), 0..5),
            0..64u32,
            proptest::option::of(1..100_000i64),
            -100_000..100_000i64,
        )
            .prop_map(|(id, purpose, level, kind, rest, first, duration, start)| {
                let purpose = [
                    ProfilePurpose::ChargePointMaxProfile,
                    ProfilePurpose::TxDefaultProfile,
                    ProfilePurpose::TxProfile,
                ][purpose];
                let mut starts: Vec<(i64, f64)> = vec![(0, f64::from(first) / 2.0)];
                let mut at = 0;
                for (step, limit) in rest {
                    at += step;
                    starts.push((at, f64::from(limit) / 2.0));
                }
                let mut p = profile(id, purpose, level, &starts);
                p.charging_profile_kind = [
                    ProfileKind::Absolute,
                    ProfileKind::Relative,
                    ProfileKind::Recurring,
                ][kind];
                p.recurrency_kind = Some(RecurrencyKind::Daily);
                p.charging_schedule.start_schedule = Some(DateTime(T0 + start * 1000));
                p.charging_schedule.duration = duration;
                let connector = if purpose == ProfilePurpose::ChargePointMaxProfile {
                    0
                } else {
                    1
                };
                (connector, p)
            })
    }

    proptest! {
        #[test]
        fn the_limit_is_an_installed_limit_and_the_top_max_caps_it(
            profiles in proptest::collection::vec(arb_profile(), 0..8),
            cap in 0..64u32,
            at in -200_000..400_000i64,
            tx in proptest::option::of(-100_000..100_000i64),
        ) {
            let now = T0 + at * 1000;
            let tx_start = tx.map(|t| T0 + t * 1000);
            let mut ps = Profiles::default();
            let mut limits = Vec::new();
            for (connector, p) in profiles {
                limits.extend(p.charging_schedule.charging_schedule_period.iter().map(|q| q.limit));
                let _ = ps.set(connector, p, tx_start.map(|_| None), T0);
            }
            let before = ps.limit_at(now, tx_start);
            if let Some(l) = before {
                prop_assert!(limits.contains(&l.amps));
            }
            let mut capped = ps.clone();
            let limit = f64::from(cap) / 2.0;
            let mut top = profile(99, ProfilePurpose::ChargePointMaxProfile, 8, &[(0, limit)]);
            top.charging_schedule.start_schedule = None;
            capped.set(0, top, None, now).unwrap();
            let after = capped.limit_at(now, tx_start).map(|l| l.amps);
            prop_assert!(after.is_some());
            prop_assert!(after.unwrap() <= limit);
            // The top ChargePointMax decides the cap; the transaction side
            // can only lower it.
            let tx_side = {
                let mut only_tx = ps.clone();
                only_tx.clear(&ClearChargingProfileReq { charging_profile_purpose: Some(ProfilePurpose::ChargePointMaxProfile), ..Default::default() });
                only_tx.limit_at(now, tx_start).map(|l| l.amps)
            };
            prop_assert_eq!(after, Some(tx_side.map_or(limit, |t| t.min(limit))));
        }
    }
}
