//! The charger's MQTT client: configured by `mce`, `mcu`, `mtp`, `mcr`.
//!
//! One task per charger (no thread): connect with client id
//! `go-echarger_<serial>` and keepalive 120 s, publish every MQTT-visible key
//! retained in registration order, then only changed keys whenever the logic
//! or a write changes them; apply `<prefix><key>/set` through the same
//! validation as `/api/set` and answer on `<prefix><key>/result`. A broker that
//! is down or goes away never stops the charger: the task retries with backoff
//! and reports the error in `mlr`/`mlra`; `mcs`, `mcc`, `mcca` are live.

use crate::device::Device;
use goe_keys::SetError;
use goe_proto::mqtt as proto;
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use std::sync::Arc;
use std::time::Duration;

/// Longest wait between reconnection attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The MQTT settings the task follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttConfig {
    /// `mce`
    pub enabled: bool,
    /// `mcu`
    pub url: String,
    /// `mtp`
    pub prefix: String,
    /// `mcr`: writes from the broker are refused.
    pub read_only: bool,
}

/// A broker address parsed from `mcu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or IP.
    pub host: String,
    /// TCP port (1883 by default).
    pub port: u16,
    /// User name, if any.
    pub user: Option<String>,
    /// Password, if any (never logged).
    pub password: Option<String>,
}

/// Parses `mqtt://[user:pass@]host[:port][/]`.
pub fn parse_url(url: &str) -> Result<BrokerUrl, String> {
    let rest = if let Some(r) = url.strip_prefix("mqtt://") {
        r
    } else if url.starts_with("mqtts://") {
        return Err("mqtts:// (TLS) is not supported by the virtual charger".into());
    } else {
        return Err("broker url must start with mqtt://".into());
    };
    let rest = rest.trim_end_matches('/');
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("bad port in broker url: {p}"))?,
        ),
        None => (hostport, 1883),
    };
    if host.is_empty() {
        return Err("broker url has no host".into());
    }
    let (user, password) = match auth {
        Some(a) => match a.split_once(':') {
            Some((u, p)) => (Some(u.to_owned()), Some(p.to_owned())),
            None => (Some(a.to_owned()), None),
        },
        None => (None, None),
    };
    Ok(BrokerUrl {
        host: host.to_owned(),
        port,
        user,
        password,
    })
}

/// Runs the MQTT client of `device` forever (until the task is aborted).
pub async fn run(device: Arc<Device>) {
    let mut changes = device.subscribe();
    loop {
        let config = device.mqtt_config();
        if !config.enabled || config.url.is_empty() {
            device.mqtt_status(false, false, None);
            // wait for a configuration change (mqtt_status notifies too: a
            // bare `changed()` here would wake at once and spin)
            while device.mqtt_config() == config {
                if changes.changed().await.is_err() {
                    return;
                }
            }
            continue;
        }
        match parse_url(&config.url) {
            Ok(url) => session(&device, &config, &url, &mut changes).await,
            Err(e) => {
                device.mqtt_status(false, false, Some(e));
                // wait for a configuration change
                while device.mqtt_config() == config {
                    if changes.changed().await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

/// One configuration's lifetime: connect, publish, reconnect, until the
/// configuration changes.
async fn session(
    device: &Arc<Device>,
    config: &MqttConfig,
    url: &BrokerUrl,
    changes: &mut tokio::sync::watch::Receiver<u64>,
) {
    let serial = device.serial();
    let mut options = MqttOptions::new(proto::client_id(&serial), &url.host, url.port);
    options.set_keep_alive(Duration::from_secs(proto::KEEPALIVE_SECS));
    options.set_clean_session(true);
    options.set_max_packet_size(256 * 1024, 256 * 1024);
    if let Some(user) = &url.user {
        options.set_credentials(user, url.password.as_deref().unwrap_or(""));
    }
    options.set_last_will(LastWill::new(
        format!("{}mcc", config.prefix),
        "false",
        QoS::AtLeastOnce,
        true,
    ));
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    device.mqtt_status(true, false, None);
    let mut connected = false;
    let mut seen = 0u64;
    let mut backoff = Duration::from_millis(500);
    loop {
        tokio::select! {
            event = eventloop.poll() => match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    connected = true;
                    backoff = Duration::from_millis(500);
                    device.mqtt_status(true, true, None);
                    let _ = client
                        .subscribe(proto::set_filter(&config.prefix), QoS::AtLeastOnce)
                        .await;
                    seen = publish_all(device, &client, &config.prefix).await;
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let Some(key) = proto::parse_set_topic(&config.prefix, &p.topic) else {
                        continue;
                    };
                    let key = key.to_owned();
                    let raw = String::from_utf8_lossy(&p.payload).into_owned();
                    let result = if config.read_only {
                        Err(SetError::NotAllowed)
                    } else {
                        let dev = device.clone();
                        let (k, r) = (key.clone(), raw.clone());
                        tokio::task::spawn_blocking(move || dev.set_one(&k, &r))
                            .await
                            .unwrap_or(Err(SetError::Rejected("internal error".into())))
                    };
                    let masked = if crate::device::is_secret(&key) { crate::device::MASK } else { raw.as_str() };
                    let payload = proto::result_payload(&result, masked);
                    let _ = client
                        .publish(proto::result_topic(&config.prefix, &key), QoS::AtLeastOnce, false, payload)
                        .await;
                }
                Ok(_) => {}
                Err(e) => {
                    connected = false;
                    device.mqtt_status(true, false, Some(e.to_string()));
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            },
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
                if device.mqtt_config() != *config {
                    // a clean DISCONNECT, so the broker does not fire the last will
                    let _ = client.disconnect().await;
                    let flush = async {
                        while let Ok(event) = eventloop.poll().await {
                            if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                                break;
                            }
                        }
                    };
                    let _ = tokio::time::timeout(Duration::from_secs(2), flush).await;
                    return;
                }
                if connected {
                    seen = publish_changes(device, &client, &config.prefix, seen).await;
                }
            }
        }
    }
}

async fn publish(client: &AsyncClient, items: Vec<(String, String)>) {
    for (topic, payload) in items {
        // try_publish: never block the charger on a slow broker; the request
        // queue is large, and a full queue only drops what a later change resends.
        let _ = client.try_publish(topic, QoS::AtMostOnce, true, payload);
    }
}

async fn publish_all(device: &Arc<Device>, client: &AsyncClient, prefix: &str) -> u64 {
    let (items, generation) = device.with_charger(|c, now| {
        let items = proto::publications(c, now, prefix, &proto::visible_keys());
        (items, c.generation())
    });
    publish(client, items).await;
    generation
}

async fn publish_changes(
    device: &Arc<Device>,
    client: &AsyncClient,
    prefix: &str,
    seen: u64,
) -> u64 {
    let (items, generation) = device.with_charger(|c, now| {
        let keys = c.changes_since(seen);
        let items = proto::publications(c, now, prefix, &keys);
        (items, c.generation())
    });
    publish(client, items).await;
    generation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1884").unwrap(),
            BrokerUrl {
                host: "127.0.0.1".into(),
                port: 1884,
                user: None,
                password: None
            }
        );
        let u = parse_url("mqtt://me:p@ss@broker/").unwrap();
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (Some("me"), Some("p@ss"))
        );
        assert_eq!(u.port, 1883);
        assert!(parse_url("mqtts://x").is_err());
        assert!(parse_url("http://x").is_err());
        assert!(parse_url("mqtt://x:99999").is_err());
        assert!(parse_url("mqtt://").is_err());
    }
}
