//! `Client::cloud_at` against the cloud API v3 stand-in of `goe-charger`
//! (`goe_charger::cloud`, issue #15), in-process over real sockets on a
//! manual clock: typed status through the cloud, a set that arrives at the
//! charger's next contact, 401/403 and 422 as `ClientError`s.

#![cfg(feature = "cloud")]

use goe_charger::clock::SimClock;
use goe_charger::device::Device;
use goe_client::{Client, ClientError};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Cloud {
    device: Arc<Device>,
    endpoint: String,
    token: String,
    _dir: tempfile::TempDir,
}

fn token_of(device: &Device) -> String {
    device.with_charger(|c, _| c.value("cak").and_then(|v| v.as_str()).unwrap().to_owned())
}

async fn start() -> Cloud {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let clock = SimClock::manual(goe_charger::clock::host_now());
    let device = Arc::new(Device::open(dir.path(), None, clock, 1).unwrap());
    assert!(device.set(&[("cae".into(), "true".into())]).all_ok);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(goe_charger::cloud::serve(
        listener,
        vec![device.clone()],
        goe_charger::http::conn::Limits::default(),
        std::future::pending(),
    ));
    let token = token_of(&device);
    let cloud = Cloud {
        device,
        endpoint,
        token,
        _dir: dir,
    };
    let client = cloud.client(&cloud.token);
    eventually("the first upload", || async {
        client.status_of(&["amp"]).await.is_ok()
    })
    .await;
    cloud
}

impl Cloud {
    fn client(&self, token: &str) -> Client {
        // "12345": the client pads the serial to 6 digits like the real cloud's host name
        Client::cloud_at(Some(&self.endpoint), "12345", token).unwrap()
    }

    /// One simulated second: the charger's next contact.
    fn tick(&self) {
        self.device.clock().advance(1000).unwrap();
        self.device.step();
    }
}

async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + Duration::from_secs(10);
    while !f().await {
        assert!(Instant::now() < end, "not within 10 s: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_an_asynchronous_set_through_the_cloud() {
    let cloud = start().await;
    let client = cloud.client(&cloud.token);
    let status = client.status_of(&["amp", "car", "sse"]).await.unwrap();
    assert_eq!(status.requested_current(), Some(16));
    assert_eq!(status.serial(), Some("012345"));
    assert_eq!(status.len(), 3);
    // 202: forwarded, applied at the next contact
    let results = client.set(&[("amp", json!(10))]).await.unwrap();
    assert_eq!(results, vec![("amp".to_owned(), Ok(()))]);
    let amp = || {
        cloud
            .device
            .with_charger(|c, _| c.value("amp").and_then(|v| v.as_i64()))
    };
    assert_eq!(amp(), Some(16), "not before the charger's next contact");
    cloud.tick();
    eventually("amp=10 at the charger", || async { amp() == Some(10) }).await;
    eventually("amp=10 in the cloud", || async {
        client
            .status_of(&["amp"])
            .await
            .unwrap()
            .requested_current()
            == Some(10)
    })
    .await;
    // one key the cloud refuses: a partial failure with both results
    let e = client
        .set(&[("amp", json!(8)), ("xyz", json!(1))])
        .await
        .unwrap_err();
    let results = e.key_results().unwrap();
    assert_eq!(results[0], ("amp".to_owned(), Ok(())));
    assert_eq!(
        results[1],
        ("xyz".to_owned(), Err("unknown api key".to_owned()))
    );
    // 422: all refused
    let e = client.set(&[("xyz", json!(1))]).await.unwrap_err();
    assert!(matches!(e, ClientError::PartialFailure { .. }), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_and_disabled_cloud_api_are_typed_errors() {
    let cloud = start().await;
    let e = cloud.client("not-the-token").status().await.unwrap_err();
    assert!(matches!(e, ClientError::Unauthorized), "{e}");
    // writing cak makes a new token: the old one is refused
    assert!(cloud.device.set(&[("cak".into(), "0".into())]).all_ok);
    let new = token_of(&cloud.device);
    assert_ne!(new, cloud.token);
    let old = cloud.client(&cloud.token);
    eventually("the old token refused", || async {
        matches!(old.status().await, Err(ClientError::Unauthorized))
    })
    .await;
    assert!(cloud.client(&new).status().await.is_ok());
    // cae off: 403
    assert!(cloud.device.set(&[("cae".into(), "false".into())]).all_ok);
    let client = cloud.client(&new);
    eventually("403 with cae off", || async {
        matches!(client.status().await, Err(ClientError::Offline))
    })
    .await;
}
