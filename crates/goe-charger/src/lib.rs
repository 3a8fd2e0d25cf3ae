//! `goe-charger`: a virtual go-eCharger served over the network.
//!
//! This is the only crate that opens sockets or reads the host's clock.
//!
//! - [`device`]: one charger (engine + durable store + clock) behind a lock.
//! - [`http`]: the local HTTP API v2.
//! - [`clock`]: host time → simulated time.
//! - [`serve`]: runs the HTTP server and the 1 Hz logic until shutdown.

pub mod clock;
pub mod device;
pub mod http;

use device::Device;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves `device` on `listener` and steps its logic once per simulated second
/// until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    device: Arc<Device>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let ticker = {
        let device = device.clone();
        let period = Duration::from_secs_f64(1.0 / device.clock().speed().max(1e-3));
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                device.step();
            }
        })
    };
    let result = axum::serve(listener, http::router(device))
        .with_graceful_shutdown(shutdown)
        .await;
    ticker.abort();
    result
}
