//! The charger's MQTT client: configured by `mce`, `mcu`, `mtp`, `mcr` (and
//! for `mqtts://` the TLS keys `msc mqcc mck mqg mqss mqcn`, see
//! [`crate::tls`]).
//!
//! One task per charger (no thread): connect with client id
//! `go-echarger_<serial>` and keepalive 120 s, publish every MQTT-visible key
//! retained in registration order, then only changed keys whenever the logic
//! or a write changes them; apply `<prefix><key>/set` through the same
//! validation as `/api/set` and answer on `<prefix><key>/result`. A broker that
//! is down or goes away never stops the charger: the task retries with backoff
//! and reports the error in `mlr`/`mlra`; `mcs`, `mcc`, `mcca` are live.
//!
//! The connection is a [`crate::mqtt::link::MqttLink`]: each dump or batch of
//! changed keys goes out in one socket write (a fleet runs thousands of these
//! clients in one process), and the task never makes the charger wait: while
//! a write is pending, change notifications coalesce in the watch channel and
//! the next batch carries every key changed since the last one.

pub mod discovery;
pub mod link;

use crate::device::Device;
use crate::mqtt::link::{Event, LinkError, LinkOptions, MqttLink, Oversized, Publication};
use goe_keys::SetError;
use goe_proto::mqtt as proto;
use rumqttc::mqttbytes::QoS;
use rumqttc::mqttbytes::v4::{LastWill, Login, Publish};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
    /// `msc mqcc mck mqg mqss mqcn`, read only for an `mqtts://` URL (empty
    /// otherwise, so that they never reconnect a plain connection).
    pub tls: crate::tls::TlsSettings,
}

/// The names of the MQTT TLS keys, for the texts of `mlr`.
pub const TLS_KEYS: crate::tls::TlsKeys = crate::tls::TlsKeys {
    server_cert: "msc",
    client_cert: "mqcc",
    client_key: "mck",
};

/// Default port of `mqtt://`.
pub const PORT: u16 = 1883;

/// Default port of `mqtts://`.
pub const TLS_PORT: u16 = 8883;

/// A broker address parsed from `mcu`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    /// Host name or IP.
    pub host: String,
    /// TCP port (1883 by default, 8883 for `mqtts://`).
    pub port: u16,
    /// `mqtts://`: TLS over the TCP connection.
    pub tls: bool,
    /// User name, if any.
    pub user: Option<String>,
    /// Password, if any (never logged).
    pub password: Option<String>,
}

/// Parses `mqtt[s]://[user:pass@]host[:port][/]`.
pub fn parse_url(url: &str) -> Result<BrokerUrl, String> {
    let (rest, tls) = if let Some(r) = url.strip_prefix("mqtt://") {
        (r, false)
    } else if let Some(r) = url.strip_prefix("mqtts://") {
        (r, true)
    } else {
        return Err("broker url must start with mqtt:// or mqtts://".into());
    };
    let default_port = if tls { TLS_PORT } else { PORT };
    let rest = rest.trim_end_matches('/');
    let (auth, hostport) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h,
            // (the port text is not echoed: in `mqtt://user:password` without
            // `@` it would be the password, and `mlr` is shown to everyone)
            p.parse::<u16>()
                .map_err(|_| "bad port in broker url".to_owned())?,
        ),
        None => (hostport, default_port),
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
        tls,
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

/// First wait between reconnection attempts (doubled up to [`MAX_BACKOFF`]).
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// TCP connect plus the CONNECT/CONNACK exchange must finish within this.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A clean DISCONNECT on a configuration change waits at most this long.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// What CONNECT announces for `device` under `config` at `url` (over TLS
/// with `tls`).
fn link_options(
    device: &Device,
    config: &MqttConfig,
    url: &BrokerUrl,
    tls: Option<crate::tls::Connector>,
) -> LinkOptions {
    let keep_alive = Duration::from_secs(proto::KEEPALIVE_SECS);
    LinkOptions {
        host: url.host.clone(),
        port: url.port,
        client_id: proto::client_id(&device.serial()),
        keep_alive,
        clean_session: true,
        login: url
            .user
            .as_ref()
            .map(|user| Login::new(user, url.password.as_deref().unwrap_or(""))),
        // the broker tells everyone the charger is gone if the connection dies
        last_will: Some(LastWill::new(
            format!("{}mcc", config.prefix),
            "false",
            QoS::AtLeastOnce,
            true,
        )),
        connect_timeout: CONNECT_TIMEOUT,
        // a broker that takes no data for a whole keep-alive is gone
        write_timeout: keep_alive,
        tls,
    }
}

/// One configuration's lifetime: connect, publish, reconnect with backoff,
/// until the configuration changes.
async fn session(
    device: &Arc<Device>,
    config: &MqttConfig,
    url: &BrokerUrl,
    changes: &mut watch::Receiver<u64>,
) {
    // one TLS configuration per setting: every reconnection reuses it
    let tls = if url.tls {
        match crate::tls::Connector::new(&config.tls, &TLS_KEYS) {
            Ok(connector) => Some(connector),
            Err(e) => {
                // (a PEM key the firmware took before 60.5 checked it: no
                // retry can help, a new setting can)
                device.mqtt_status(true, false, Some(format!("TLS: {e}")));
                reconfigured(device, config, changes).await;
                return;
            }
        }
    } else {
        None
    };
    let options = link_options(device, config, url, tls);
    device.mqtt_status(true, false, None);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let error = tokio::select! {
            link = MqttLink::connect(&options) => match link {
                Ok(link) => {
                    backoff = FIRST_BACKOFF;
                    match connected(device, config, link, changes).await {
                        Ok(()) => return,
                        Err(e) => e,
                    }
                }
                Err(e) => e,
            },
            () = reconfigured(device, config, changes) => return,
        };
        device.mqtt_status(true, false, Some(error.to_string()));
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = reconfigured(device, config, changes) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Completes when the MQTT settings differ from `config` (or the device is
/// gone); other change notifications are consumed.
async fn reconfigured(device: &Device, config: &MqttConfig, changes: &mut watch::Receiver<u64>) {
    while changes.changed().await.is_ok() {
        if device.mqtt_config() != *config {
            return;
        }
    }
}

/// One connection, from CONNACK on: subscribe, dump, then one task's
/// `select!` over incoming packets, change notifications and the keep-alive
/// timer. `Ok` when the configuration changed (after a clean DISCONNECT),
/// `Err` when the connection failed.
async fn connected(
    device: &Arc<Device>,
    config: &MqttConfig,
    mut link: MqttLink,
    changes: &mut watch::Receiver<u64>,
) -> Result<(), LinkError> {
    device.mqtt_status(true, true, None);
    let filter = proto::set_filter(&config.prefix);
    link.subscribe(&filter, QoS::AtLeastOnce).await?;
    // everything notified so far is in the dump
    changes.borrow_and_update();
    let mut seen = publish_all(device, &mut link, &config.prefix).await?;
    // Home Assistant discovery (#15): after the dump, so states are retained first
    let mut discovery = discovery::Discovery::default();
    discovery.sync(device, &mut link, &config.prefix).await?;
    let keep_alive = link.keep_alive();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + keep_alive, keep_alive);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            packet = link.read_packet() => match link.handle(packet?).await? {
                Some(Event::Message(p)) => answer_set(device, config, &mut link, &p).await?,
                Some(Event::Oversized(o)) => refuse_oversized(config, &mut link, &o).await?,
                Some(Event::SubscribeRefused { .. }) => device.mqtt_status(
                    true,
                    true,
                    Some(format!("the broker refused the subscription to {filter}")),
                ),
                None => {}
            },
            changed = changes.changed() => {
                if changed.is_err() {
                    return Ok(());
                }
                if device.mqtt_config() != *config {
                    // a clean DISCONNECT, so the broker does not fire the last will
                    let _ = tokio::time::timeout(DISCONNECT_TIMEOUT, async {
                        let _ = discovery.leave(&mut link, &config.prefix).await;
                        link.disconnect().await
                    })
                    .await;
                    return Ok(());
                }
                // while a batch is being written, notifications coalesce in
                // the watch channel; the next batch has every key changed since
                seen = publish_changes(device, &mut link, &config.prefix, seen).await?;
                discovery.sync(device, &mut link, &config.prefix).await?;
            }
            _ = ping.tick() => link.ping().await?,
        }
    }
}

/// Applies a `<prefix><key>/set` like `/api/set` and answers on
/// `<prefix><key>/result` (QoS 1, not retained, secrets masked).
async fn answer_set(
    device: &Arc<Device>,
    config: &MqttConfig,
    link: &mut MqttLink,
    message: &Publish,
) -> Result<(), LinkError> {
    let Some(key) = proto::parse_set_topic(&config.prefix, &message.topic) else {
        return Ok(());
    };
    let key = key.to_owned();
    // A payload that is not UTF-8 is refused like invalid JSON (never stored
    // with U+FFFD, as on /api/set); the answer shows it lossily.
    let utf8 = std::str::from_utf8(&message.payload).is_ok();
    let raw = String::from_utf8_lossy(&message.payload).into_owned();
    let result = if config.read_only {
        Err(SetError::NotAllowed)
    } else if !utf8 {
        Err(SetError::InvalidJson(goe_keys::JsonError::InvalidInput))
    } else {
        let dev = device.clone();
        let (k, r) = (key.clone(), raw.clone());
        tokio::task::spawn_blocking(move || dev.set_one(&k, &r))
            .await
            .unwrap_or(Err(SetError::Rejected("internal error".into())))
    };
    let masked = if crate::device::is_secret(&key) {
        crate::device::MASK
    } else {
        raw.as_str()
    };
    let payload = proto::result_payload(&result, masked);
    let answer = Publication::new(
        proto::result_topic(&config.prefix, &key),
        payload,
        QoS::AtLeastOnce,
        false,
    );
    link.publish_batch([answer]).await?;
    Ok(())
}

/// Refuses a `<prefix><key>/set` too large to read on `<prefix><key>/result`
/// and keeps the session (other oversized messages are dropped).
async fn refuse_oversized(
    config: &MqttConfig,
    link: &mut MqttLink,
    message: &Oversized,
) -> Result<(), LinkError> {
    // the topic comes from the broker's clients: log a bounded part of it
    let topic: String = message.topic.chars().take(128).collect();
    tracing::warn!(
        "MQTT: a publication of {} bytes on {topic} refused (max {})",
        message.size,
        crate::mqtt::link::MAX_PACKET_SIZE
    );
    let Some(key) = proto::parse_set_topic(&config.prefix, &message.topic) else {
        return Ok(());
    };
    let answer = Publication::new(
        proto::result_topic(&config.prefix, key),
        proto::oversized_result_payload(message.size),
        QoS::AtLeastOnce,
        false,
    );
    link.publish_batch([answer]).await?;
    Ok(())
}

/// Publishes `items` (topic, payload) retained at QoS 0, as one write.
async fn publish(link: &mut MqttLink, items: Vec<(String, String)>) -> Result<(), LinkError> {
    let batch = items
        .into_iter()
        .map(|(topic, payload)| Publication::new(topic, payload, QoS::AtMostOnce, true));
    link.publish_batch(batch).await?;
    Ok(())
}

/// Publishes every MQTT-visible key; returns the generation it reflects.
async fn publish_all(
    device: &Arc<Device>,
    link: &mut MqttLink,
    prefix: &str,
) -> Result<u64, LinkError> {
    let (items, generation) = device.with_charger(|c, now| {
        let items = proto::publications(c, now, prefix, &proto::visible_keys(c.profile()));
        (items, c.generation())
    });
    publish(link, items).await?;
    Ok(generation)
}

/// Publishes the keys changed since generation `seen`; returns the
/// generation the batch reflects.
async fn publish_changes(
    device: &Arc<Device>,
    link: &mut MqttLink,
    prefix: &str,
    seen: u64,
) -> Result<u64, LinkError> {
    let (items, generation) = device.with_charger(|c, now| {
        let keys = c.changes_since(seen);
        let items = proto::publications(c, now, prefix, &keys);
        (items, c.generation())
    });
    publish(link, items).await?;
    Ok(generation)
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
                tls: false,
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
        let tls = parse_url("mqtts://me:pw@broker.example").unwrap();
        assert!(tls.tls);
        assert_eq!((tls.host.as_str(), tls.port), ("broker.example", 8883));
        assert_eq!(parse_url("mqtts://10.0.0.2:8884/").unwrap().port, 8884);
        assert!(!u.tls);
        assert!(parse_url("http://x").is_err());
        assert!(parse_url("mqtt://x:99999").is_err());
        let e = parse_url("mqtt://me:hunter2").unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(parse_url("mqtt://").is_err());
    }
}
