//! Home Assistant MQTT discovery on the charger's MQTT connection (`mhe`,
//! `mht`): publishes the retained configurations of
//! [`goe_proto::ha_discovery`] while `mhe` is true and removes them (empty
//! retained payloads on the topics it published) when `mhe` goes off or
//! `mht` moves them, as long as the connection lasts.
//!
//! The configurations go out after the key dump, so every state topic
//! already holds its retained value when Home Assistant subscribes, together
//! with `<mtp>mcc` = `true`: the availability topic, which the last will sets
//! to `false` and which firmware with `mhe` (055+) does not otherwise publish.

use crate::device::Device;
use crate::mqtt::link::{LinkError, MqttLink, Publication};
use rumqttc::mqttbytes::QoS;

/// What the task last published: the discovery settings it followed and the
/// config topics now retained on the broker.
#[derive(Debug, Default)]
pub struct Discovery {
    /// `(mhe, mht)` last applied (`None` before the first sync).
    applied: Option<(bool, String)>,
    /// Topics holding a configuration of this charger.
    published: Vec<String>,
}

/// `mhe` and `mht` of `device` (`mhe` false where the firmware has none).
fn settings(device: &Device) -> (bool, String) {
    device.with_charger(|c, _| {
        let on = c.value("mhe").and_then(goe_keys::Value::as_bool) == Some(true)
            && c.profile().key("mhe").is_some();
        let prefix = c
            .value("mht")
            .and_then(goe_keys::Value::as_str)
            .unwrap_or(goe_proto::ha_discovery::DEFAULT_PREFIX)
            .to_owned();
        (on, prefix)
    })
}

impl Discovery {
    /// Brings the broker in line with `mhe`/`mht`: nothing to do while they
    /// are unchanged; otherwise clears the topics no longer wanted and
    /// publishes the configurations (retained, QoS 0 like the dump), in one
    /// write.
    pub async fn sync(
        &mut self,
        device: &Device,
        link: &mut MqttLink,
        state_prefix: &str,
    ) -> Result<(), LinkError> {
        let wanted = settings(device);
        if self.applied.as_ref() == Some(&wanted) {
            return Ok(());
        }
        let configs = if wanted.0 {
            device.with_charger(|c, _| goe_proto::ha_discovery::configs(c, &wanted.1))
        } else {
            Vec::new()
        };
        let mut batch = Vec::new();
        for old in &self.published {
            if !configs.iter().any(|(t, _)| t == old) {
                batch.push(Publication::new(old.clone(), "", QoS::AtMostOnce, true));
            }
        }
        if !configs.is_empty() {
            batch.push(Publication::new(
                format!("{state_prefix}mcc"),
                "true",
                QoS::AtMostOnce,
                true,
            ));
        }
        let topics: Vec<String> = configs.iter().map(|(t, _)| t.clone()).collect();
        batch.extend(
            configs
                .into_iter()
                .map(|(t, p)| Publication::new(t, p, QoS::AtMostOnce, true)),
        );
        if !batch.is_empty() {
            link.publish_batch(batch).await?;
        }
        self.published = topics;
        self.applied = Some(wanted);
        Ok(())
    }

    /// Before a clean DISCONNECT (which fires no last will): marks the
    /// entities unavailable on `<mtp>mcc` if configurations are out.
    pub async fn leave(&self, link: &mut MqttLink, state_prefix: &str) -> Result<(), LinkError> {
        if self.published.is_empty() {
            return Ok(());
        }
        let mcc = Publication::new(format!("{state_prefix}mcc"), "false", QoS::AtMostOnce, true);
        link.publish_batch([mcc]).await?;
        Ok(())
    }
}
