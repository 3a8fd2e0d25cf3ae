//! `goe-charger`: a virtual go-eCharger served over the network.
//!
//! This is the only crate that opens sockets or reads the host's clock.
//!
//! - [`device`]: one charger (engine + durable store + clock) behind a lock.
//! - [`fleet`]: many chargers on one clock, load-balancing coordinator.
//! - [`fleet_file`]: the `--fleet FILE` format (settings, car schedules).
//! - [`http`]: the local HTTP API v2 (and v1 while `hla` is on).
//! - [`ws`]: the local WebSocket API.
//! - [`mqtt`]: the MQTT client.
//! - [`ocpp`]: the OCPP 1.6J client.
//! - [`tls`]: the TLS client side of both (`wss://`, `mqtts://`).
//! - [`modbus`]: the Modbus TCP slave (`men`, `msp`).
//! - [`sim_api`]: the control API of the simulated world (`/sim/…`).
//! - [`cloud`]: the cloud API v3 stand-in (`--cloud-listen`, #15).
//! - [`clock`]: host time → simulated time (real-scaled or manual).
//! - [`profiles`]: built-in and custom car profiles.
//! - [`scenario`]: scenario files run in-process on simulated time.
//! - [`serve`]: runs the HTTP server and the 1 Hz logic until shutdown
//!   ([`serve_with`]: with connection limits).

pub mod clock;
pub mod clone;
pub mod cloud;
pub mod device;
pub mod fleet;
pub mod fleet_file;
pub mod http;
pub mod modbus;
pub mod mqtt;
pub mod ocpp;
pub mod profiles;
pub mod replay;
pub mod scenario;
pub mod sim_api;
pub mod status_cache;
pub mod tls;
pub mod ui;
pub mod ws;

use device::Device;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Shortest real time between two ticks: at most 1000 steps per real second;
/// at higher speeds each step catches up several simulated seconds.
pub const MIN_TICK: Duration = Duration::from_millis(1);

/// Real time between two ticks so that every simulated second is stepped:
/// `min(1 s, 1 s / speed)`, at least [`MIN_TICK`]. `None` for a manual clock
/// (it is stepped when advanced).
pub fn tick_period(clock: &clock::SimClock) -> Option<Duration> {
    if clock.is_manual() {
        return None;
    }
    let speed = clock.speed().max(1.0);
    Some(Duration::from_secs_f64(1.0 / speed).max(MIN_TICK))
}

/// The real-clock ticker of a server: ticks every [`tick_period`] and
/// follows the clock's speed changes (`/sim/clock`) from the next tick on.
pub struct Ticker {
    period: Duration,
    interval: tokio::time::Interval,
}

impl Ticker {
    /// A ticker for `clock`; `None` for a manual clock.
    pub fn new(clock: &clock::SimClock) -> Option<Ticker> {
        let period = tick_period(clock)?;
        Some(Ticker {
            period,
            interval: Ticker::interval(period),
        })
    }

    fn interval(period: Duration) -> tokio::time::Interval {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval
    }

    /// Waits for the next tick, first taking up a changed speed; a rate
    /// change (`/sim/clock`) ends the wait at once.
    pub async fn tick(&mut self, clock: &clock::SimClock) {
        if let Some(period) = tick_period(clock)
            && period != self.period
        {
            self.period = period;
            self.interval = Ticker::interval(period);
        }
        tokio::select! {
            _ = self.interval.tick() => {}
            () = clock.rate_changed() => {}
        }
    }
}

/// Serves `device` on `listener` and steps its logic once per simulated second
/// until `shutdown` completes, with the default connection limits.
pub async fn serve(
    listener: TcpListener,
    device: Arc<Device>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, device, http::conn::Limits::default(), shutdown).await
}

/// Like [`serve`], with the given connection limits (header and idle
/// timeouts, most open connections).
pub async fn serve_with(
    listener: TcpListener,
    device: Arc<Device>,
    limits: http::conn::Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ticker = Ticker::new(device.clock()).map(|mut ticker| {
        let device = device.clone();
        tokio::spawn(async move {
            loop {
                ticker.tick(device.clock()).await;
                let dev = device.clone();
                // step may save (fsync): keep it off the async workers
                if tokio::task::spawn_blocking(move || dev.step())
                    .await
                    .is_err()
                {
                    tracing::error!("the logic step panicked");
                }
            }
        })
    });
    let mqtt = tokio::spawn(mqtt::run(device.clone()));
    let ocpp = tokio::spawn(ocpp::run(device.clone()));
    let modbus = tokio::spawn(modbus::run(device.clone()));
    let clients: http::conn::ClientHook = {
        let device = device.clone();
        Arc::new(move |delta| device.http_clients(delta))
    };
    let result = http::conn::serve_counting(
        listener,
        http::router(device.clone()),
        limits,
        clients,
        shutdown,
    )
    .await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    mqtt.abort();
    ocpp.abort();
    modbus.abort();
    let _ = tokio::task::spawn_blocking(move || device.flush()).await;
    result
}
