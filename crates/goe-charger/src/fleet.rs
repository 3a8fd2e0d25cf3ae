//! Many virtual chargers in one process: one shared simulated clock, one
//! ticker for all, a listener and an MQTT task per charger, and the group
//! coordinator of load balancing.
//!
//! Memory per idle charger is its value vector and store; key metadata is
//! shared (`goe_keys::KEYS`), nothing runs on a thread of its own.

use crate::clock::SimClock;
use crate::device::{Device, DeviceError, SimFailure};
use crate::fleet_file::{DailyCar, FleetFile, crossed};
use crate::profiles::Profiles;
use goe_engine::SimTime;
use goe_engine::loadbalance::{Allocation, Demand, allocate};
use goe_keys::Profile;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::TcpListener;

/// Simulated span after which a fleet advance saves every charger.
pub const FLEET_SAVE_SLICE_MS: i64 = 24 * 3600 * 1000;

/// The chargers of one process.
pub struct Fleet {
    devices: Vec<Arc<Device>>,
    by_serial: HashMap<String, usize>,
    clock: Arc<SimClock>,
    addresses: parking_lot::Mutex<Vec<Option<SocketAddr>>>,
    /// Simulates losing the load-balancing coordinator (members use `lof`).
    coordinator_lost: AtomicBool,
    /// Serialises fleet-wide steps (ticker and manual advances).
    stepping: parking_lot::Mutex<()>,
    /// Daily car schedules per charger (fleet file).
    schedules: Vec<Vec<DailyCar>>,
    /// Car profiles for the schedules.
    profiles: Profiles,
    /// This process's claim on the fleet's root directory: one for the
    /// whole fleet (one file descriptor, not one per charger).
    _root_lock: Option<goe_store::DirLock>,
    /// The fleet page's shared stream computation (#16), made on first use.
    ui_hub: std::sync::OnceLock<Arc<crate::ui::fleet_events::Hub>>,
}

/// The serial of the `i`-th charger of a fleet starting at `base`.
pub fn serial_of(base: u64, i: usize) -> String {
    format!("{:06}", base + i as u64)
}

/// Who the chargers of a fleet are: each one's serial and firmware, in order.
#[derive(Debug, Clone)]
pub struct Members(Vec<(String, &'static Profile)>);

impl Members {
    /// `count` chargers of one firmware with consecutive serials from `base`.
    pub fn consecutive(count: usize, base: u64, firmware: &'static Profile) -> Members {
        Members((0..count).map(|i| (serial_of(base, i), firmware)).collect())
    }

    /// The chargers of a fleet file; `firmware` for those whose entry (and
    /// the file) names none.
    pub fn of_file(file: &FleetFile, firmware: &'static Profile) -> Result<Members, String> {
        (0..file.count())
            .map(|i| {
                let spec = file.spec(i).expect("count matches");
                let chosen = match spec.firmware.as_ref().or(file.firmware.as_ref()) {
                    Some(version) => goe_keys::profile(version).map_err(|e| e.to_string())?,
                    None => firmware,
                };
                Ok((serial_of(file.base_serial, i), chosen))
            })
            .collect::<Result<_, String>>()
            .map(Members)
    }

    /// How many chargers.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Fleet {
    /// Opens the `members`, each with its own data directory `root/<serial>`,
    /// all on one `clock`.
    pub fn open(
        root: &Path,
        members: &Members,
        clock: Arc<SimClock>,
        seed: u64,
        profiles: &Profiles,
    ) -> Result<Fleet, DeviceError> {
        Fleet::open_with_progress(root, members, clock, seed, profiles, &|_, _| {})
    }

    /// [`Fleet::open`], calling `progress(OPENING, n)` after the `n`-th charger
    /// is open (for a progress bar).
    pub fn open_with_progress(
        root: &Path,
        members: &Members,
        clock: Arc<SimClock>,
        seed: u64,
        profiles: &Profiles,
        progress: &dyn Fn(&str, usize),
    ) -> Result<Fleet, DeviceError> {
        // a start that never served leaves no half-claimed directory
        let claim = goe_store::Claim::acquire(root)?;
        let mut fleet = Fleet::open_chargers(root, members, clock, seed, profiles, progress)?;
        fleet._root_lock = claim.keep();
        Ok(fleet)
    }

    fn open_chargers(
        root: &Path,
        members: &Members,
        clock: Arc<SimClock>,
        seed: u64,
        profiles: &Profiles,
        progress: &dyn Fn(&str, usize),
    ) -> Result<Fleet, DeviceError> {
        let count = members.len();
        let mut devices = Vec::with_capacity(count);
        let mut by_serial = HashMap::with_capacity(count);
        for (i, (serial, firmware)) in members.0.iter().enumerate() {
            let serial = serial.clone();
            let device = Device::open_claimed(
                firmware,
                &root.join(&serial),
                Some(&serial),
                clock.clone(),
                seed.wrapping_add(i as u64),
            )?
            .with_profiles(profiles.clone());
            by_serial.insert(serial, i);
            devices.push(Arc::new(device));
            progress(OPENING, i + 1);
        }
        Ok(Fleet {
            addresses: parking_lot::Mutex::new(vec![None; devices.len()]),
            devices,
            by_serial,
            clock,
            coordinator_lost: AtomicBool::new(false),
            stepping: parking_lot::Mutex::new(()),
            schedules: Vec::new(),
            profiles: profiles.clone(),
            _root_lock: None,
            ui_hub: std::sync::OnceLock::new(),
        })
    }

    /// Opens the chargers of a fleet file under `root`: its serials, its
    /// configuration writes (saved before returning) and its car schedules.
    pub fn from_file(
        root: &Path,
        file: &FleetFile,
        firmware: &'static Profile,
        clock: Arc<SimClock>,
        seed: u64,
        profiles: &Profiles,
    ) -> Result<Fleet, String> {
        Fleet::from_file_with_progress(root, file, firmware, clock, seed, profiles, &|_, _| {})
    }

    /// [`Fleet::from_file`], calling `progress(OPENING, n)` after the `n`-th
    /// charger is open, then `progress(CONFIGURING, n)` after the `n`-th has
    /// its configuration saved and its schedule read (for a progress bar).
    pub fn from_file_with_progress(
        root: &Path,
        file: &FleetFile,
        firmware: &'static Profile,
        clock: Arc<SimClock>,
        seed: u64,
        profiles: &Profiles,
        progress: &dyn Fn(&str, usize),
    ) -> Result<Fleet, String> {
        // removed again (while still locked) if this start created it and fails
        let members = Members::of_file(file, firmware)?;
        let claim = goe_store::Claim::acquire(root).map_err(|e| e.to_string())?;
        let mut fleet = Fleet::open_chargers(root, &members, clock, seed, profiles, progress)
            .map_err(|e| e.to_string())?;
        fleet.configure(file, profiles, progress)?;
        fleet._root_lock = claim.keep();
        Ok(fleet)
    }

    /// Saves the fleet file's configuration writes and reads its schedules.
    fn configure(
        &mut self,
        file: &FleetFile,
        profiles: &Profiles,
        progress: &dyn Fn(&str, usize),
    ) -> Result<(), String> {
        let fleet = self;
        let mut schedules = Vec::with_capacity(fleet.devices.len());
        for (i, device) in fleet.devices.iter().enumerate() {
            let spec = file.spec(i).expect("count matches");
            let writes = spec.writes();
            if !writes.is_empty() {
                let reply = device.set(&writes);
                if !reply.all_ok {
                    return Err(format!("charger {}: {}", device.serial(), reply.body));
                }
            }
            let mut daily = Vec::new();
            for s in &spec.schedule {
                let d = s.daily()?;
                if let Some(car) = &d.car {
                    profiles.get(car)?;
                }
                daily.push(d);
            }
            schedules.push(daily);
            progress(CONFIGURING, i + 1);
        }
        fleet.schedules = schedules;
        Ok(())
    }

    /// Plugs and unplugs the scheduled cars whose time falls in (t, next].
    fn run_schedules(&self, t: SimTime, next: SimTime) {
        for (device, daily) in self.devices.iter().zip(&self.schedules) {
            if daily.is_empty() {
                continue;
            }
            device.with_charger(|c, _| {
                let (before, after) = (c.local_seconds_of_day(t), c.local_seconds_of_day(next));
                for car in daily {
                    if crossed(before, after, car.unplug_s) {
                        let _ = c.unplug(next);
                    }
                    if crossed(before, after, car.plug_s) {
                        let name = car.car.as_deref().unwrap_or(goe_engine::DEFAULT_PROFILE);
                        if let Ok(profile) = self.profiles.get(name) {
                            let _ = c.plug(next, profile, car.soc);
                        }
                    }
                }
            });
        }
    }

    /// Every charger, in serial order.
    pub fn devices(&self) -> &[Arc<Device>] {
        &self.devices
    }

    /// The charger with this serial.
    pub fn device(&self, serial: &str) -> Option<&Arc<Device>> {
        self.by_serial.get(serial).map(|&i| &self.devices[i])
    }

    /// The shared clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The hub behind every fleet page of this fleet (`/sim/fleet/events`).
    pub fn ui_hub(&self) -> &Arc<crate::ui::fleet_events::Hub> {
        self.ui_hub
            .get_or_init(|| crate::ui::fleet_events::Hub::new(self.devices.clone()))
    }

    /// Marks the load-balancing coordinator as lost (or back).
    pub fn set_coordinator_lost(&self, lost: bool) {
        self.coordinator_lost.store(lost, Ordering::Release);
    }

    /// `/sim/fleet`: serial, address and group of every charger, as JSON.
    pub fn describe(&self) -> String {
        let addresses = self.addresses.lock().clone();
        let list: Vec<serde_json::Value> = self
            .devices
            .iter()
            .zip(addresses)
            .map(|(d, addr)| {
                let group = d.with_charger(|c, _| c.load_group().map(str::to_owned));
                serde_json::json!({
                    "serial": d.serial(),
                    "address": addr.map(|a| format!("http://{a}")),
                    "loadGroup": group,
                })
            })
            .collect();
        serde_json::json!({
            "chargers": list,
            "coordinatorLost": self.coordinator_lost.load(Ordering::Acquire),
        })
        .to_string()
    }

    /// Steps every charger to the clock's now, one simulated second at a time
    /// with the load-balancing coordinator in between. Blocking (saves).
    pub fn step_all(&self) {
        self.step_to(self.clock.now());
    }

    /// Steps every charger to `target`, second by second.
    pub fn step_to(&self, target: SimTime) {
        self.step_seconds(target, |_| {});
    }

    /// Steps every charger second by second up to `target`, calling
    /// `after(second)` once all of them reached that second. Each device is
    /// locked for one second's step at a time, so requests are answered in
    /// between.
    fn step_seconds(&self, target: SimTime, mut after: impl FnMut(SimTime)) {
        let _guard = self.stepping.lock();
        let Some(first) = self.devices.first() else {
            return;
        };
        let mut t = first.with_charger(|c, _| c.last_tick()).unwrap_or(target);
        loop {
            let next = t.plus_ms(1000);
            if next > target {
                break;
            }
            self.run_schedules(t, next);
            self.balance();
            for d in &self.devices {
                d.step_until(next);
            }
            after(next);
            t = next;
        }
        // No final step to the sub-second `target`: it would only refresh the
        // clock keys and make every charger publish them twice a second; status
        // reads refresh them anyway.
    }

    /// `/sim/advance` in fleet mode: moves the shared manual clock forward by
    /// `ms`, one simulated second at a time after every charger has stepped
    /// to it (so a request to any charger, answered between two seconds, sees
    /// the time the advance has reached and takes effect there), and saves
    /// every charger at the end of each [`FLEET_SAVE_SLICE_MS`] slice and of
    /// the advance. A failed save stops the advance with
    /// [`SimFailure::NotPersisted`] naming the charger; the time already
    /// advanced stays (other requests saw it), that charger's counters stay
    /// unsaved in memory and are retried by its next save. Two advances run
    /// one after the other: the caller holds the clock's
    /// [`crate::clock::AdvanceTurn`], taken in the async handler so a queued
    /// advance holds no blocking thread. Blocking.
    pub fn advance(&self, ms: i64, _turn: crate::clock::AdvanceTurn) -> Result<(), SimFailure> {
        crate::device::check_advance_ms(ms)?;
        let bad = |e: crate::clock::ClockError| SimFailure::BadRequest(e.to_string());
        let start = self.clock.now();
        let target = self.clock.target(ms).map_err(bad)?;
        let mut slice_end = start;
        while slice_end < target {
            slice_end = slice_end.plus_ms(FLEET_SAVE_SLICE_MS).min(target);
            let end = slice_end;
            self.step_seconds(end, |second| {
                let moved = second.millis() - self.clock.now().millis();
                if moved > 0 {
                    let _ = self.clock.advance(moved);
                }
            });
            let rest = end.millis() - self.clock.now().millis();
            if rest > 0 {
                self.clock.advance(rest).map_err(bad)?;
            }
            for d in &self.devices {
                if let Err(e) = d.save_now() {
                    let done = (self.clock.now().millis() - start.millis()) as f64 / 1000.0;
                    return Err(SimFailure::NotPersisted(format!(
                        "not persisted: charger {}: {e}; the advance stopped after {done} of {} seconds",
                        d.serial(),
                        ms as f64 / 1000.0
                    )));
                }
            }
        }
        Ok(())
    }

    /// The group coordinator: allots each load-balancing group's `lot`.
    pub fn balance(&self) {
        let lost = self.coordinator_lost.load(Ordering::Acquire);
        // group id → (members' device index, demand, lot, dynamic house amps)
        let mut groups: BTreeMap<String, Vec<(usize, Demand, i64, i64)>> = BTreeMap::new();
        for (i, d) in self.devices.iter().enumerate() {
            let entry = d.with_charger(|c, now| {
                let group = c.load_group()?.to_owned();
                let demand = c.load_demand()?;
                // the 2021 number, or `lot.amp` (static) / `lot.dyn` (dynamic)
                let lot = c.load_total();
                let dynamic = c.value("loty").and_then(goe_keys::Value::as_i64) == Some(1);
                let house = if dynamic {
                    (c.sim_state(now).grid.house_w / 690.0).ceil() as i64
                } else {
                    0
                };
                Some((group, demand, lot, house))
            });
            if let Some((group, demand, lot, house)) = entry {
                groups
                    .entry(group)
                    .or_default()
                    .push((i, demand, lot, house));
            }
        }
        for members in groups.values() {
            let serials: Vec<String> = members.iter().map(|m| m.1.serial.clone()).collect();
            let total = members.iter().map(|m| m.2).min().unwrap_or(0)
                - members.iter().map(|m| m.3).max().unwrap_or(0);
            let demands: Vec<Demand> = members.iter().map(|m| m.1.clone()).collect();
            let amps = allocate(total, &demands);
            for ((i, _, _, _), a) in members.iter().zip(amps) {
                let allocation = (!lost).then(|| Allocation {
                    amps: a,
                    members: serials.clone(),
                    status: format!("{} of {total} A", a),
                });
                self.devices[*i].with_charger(|c, _| c.set_load_allocation(allocation));
            }
        }
    }
}

/// Serves every charger of `fleet` on its listener and runs the shared ticker
/// until `shutdown` completes, with the default connection limits.
pub async fn serve_fleet(
    fleet: Arc<Fleet>,
    listeners: Vec<TcpListener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_fleet_with(
        fleet,
        listeners,
        crate::http::conn::Limits::default(),
        shutdown,
    )
    .await
}

/// Like [`serve_fleet`], with connection limits applying to each charger's
/// listener.
pub async fn serve_fleet_with(
    fleet: Arc<Fleet>,
    listeners: Vec<TcpListener>,
    limits: crate::http::conn::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    {
        let mut addresses = fleet.addresses.lock();
        for (slot, l) in addresses.iter_mut().zip(&listeners) {
            *slot = l.local_addr().ok();
        }
    }
    let ticker = crate::Ticker::new(fleet.clock()).map(|mut ticker| {
        let fleet = fleet.clone();
        tokio::spawn(async move {
            loop {
                ticker.tick(fleet.clock()).await;
                let f = fleet.clone();
                if tokio::task::spawn_blocking(move || f.step_all())
                    .await
                    .is_err()
                {
                    tracing::error!("a fleet step panicked");
                }
            }
        })
    });
    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::new();
    for (device, listener) in fleet.devices.iter().zip(listeners) {
        let mut stop = stop_tx.subscribe();
        let app = crate::http::fleet_router(device.clone(), fleet.clone());
        let clients: crate::http::conn::ClientHook = {
            let device = device.clone();
            std::sync::Arc::new(move |delta| device.http_clients(delta))
        };
        tasks.push(tokio::spawn(async move {
            crate::http::conn::serve_counting(listener, app, limits, clients, async move {
                let _ = stop.recv().await;
            })
            .await
        }));
        tasks.push(tokio::spawn({
            let device = device.clone();
            async move {
                crate::mqtt::run(device).await;
                Ok(())
            }
        }));
        tasks.push(tokio::spawn({
            let device = device.clone();
            async move {
                crate::ocpp::run(device).await;
                Ok(())
            }
        }));
        tasks.push(tokio::spawn({
            let device = device.clone();
            async move {
                crate::modbus::run(device).await;
                Ok(())
            }
        }));
    }
    shutdown.await;
    let _ = stop_tx.send(());
    if let Some(t) = ticker {
        t.abort();
    }
    for t in tasks {
        t.abort();
    }
    let f = fleet.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for d in f.devices() {
            d.flush();
        }
    })
    .await;
    Ok(())
}

/// Stage of [`Fleet::open_with_progress`] and [`Fleet::from_file_with_progress`]:
/// chargers opened (store read, engine booted).
pub const OPENING: &str = "opening chargers";

/// Stage of [`Fleet::from_file_with_progress`]: chargers whose fleet-file
/// configuration is saved.
pub const CONFIGURING: &str = "configuring chargers";
