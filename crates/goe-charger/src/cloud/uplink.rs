//! A charger's link to the cloud: while `cae` is on, it uploads its status
//! and token after every change (each simulated second's step, every write
//! or action: the device's change watch), and takes the sets the cloud
//! queued, applying them through [`Device::set`] (the same validation and
//! durability as `/api/set`). With `cae` off the cloud loses the charger
//! (403) and the queue is dropped.
//!
//! The token is carried in the upload and never logged.

use super::view::{CloudView, Upload};
use crate::device::Device;
use parking_lot::Mutex;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Shortest host time between two contacts of one charger: a fast clock or
/// a fleet does not render thousands of uploads a second (the real cloud
/// gets "at most one per second": cloudapi-en.md, rate limiting).
pub const MIN_CONTACT_SPACING: Duration = Duration::from_millis(50);

/// What the charger sends at one contact: `None` while `cae` is off.
fn snapshot(device: &Device) -> Option<(Vec<(&'static str, String)>, String)> {
    device.with_charger(|c, _| {
        if c.value("cae").and_then(goe_keys::Value::as_bool) != Some(true) {
            return None;
        }
        let token = c
            .value("cak")
            .and_then(goe_keys::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let profile = c.profile();
        let keys = profile
            .readable_keys()
            .filter(|(_, def)| def.name != "cak")
            .map(|(kid, def)| {
                let mut json = String::new();
                c.write_key(kid, &mut json);
                (def.name, json)
            })
            .collect();
        Some((keys, token))
    })
}

/// One contact: upload (or go offline), then deliver what the cloud queued.
pub async fn contact(device: &Arc<Device>, view: &Mutex<CloudView>) {
    let snap = snapshot(device);
    let queued = {
        let mut v = view.lock();
        match snap {
            None => {
                v.upload = None;
                v.queue.clear();
                return;
            }
            Some((keys, token)) => {
                v.upload = Some(Upload {
                    keys,
                    token,
                    at: SystemTime::now(),
                });
                std::mem::take(&mut v.queue)
            }
        }
    };
    if queued.is_empty() {
        return;
    }
    let dev = device.clone();
    // Device::set saves before it returns (fsync): off the async workers
    match tokio::task::spawn_blocking(move || dev.set(&queued)).await {
        Ok(reply) if !reply.all_ok => {
            tracing::debug!("cloud: the charger refused part of a queued set");
        }
        Ok(_) => {}
        Err(_) => tracing::error!("cloud: a queued set panicked"),
    }
}

/// The charger's uplink, for as long as the stand-in runs.
pub async fn run(device: Arc<Device>, view: Arc<Mutex<CloudView>>) {
    let mut changes = device.subscribe();
    loop {
        contact(&device, &view).await;
        tokio::time::sleep(MIN_CONTACT_SPACING).await;
        if changes.changed().await.is_err() {
            return;
        }
    }
}
