//! WebSocket push latency for BENCHMARKS.md: opens W authenticated watchers on
//! a running `goe-charger`'s `/ws`, then performs N `/api/set?amp=…` writes one
//! after another and times, for every watcher, the `deltaStatus` that carries
//! the new `amp`. Baseline in the same run: the round trip of a trivial HTTP
//! request (`/api/status?filter=amp`) over the same client.
//!
//! ```sh
//! goe-charger --listen 127.0.0.1:8080 --data-dir /tmp/ws-bench &
//! cargo run --release -p goe-charger --example ws_latency -- http://127.0.0.1:8080 100 200
//! ```
//! (`scripts/bench-ws.sh` does both.) Sets the password to `x`
//! (`/api/set?pass="x"`): use a throwaway data directory.

use futures_util::{SinkExt as _, StreamExt as _};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const PASSWORD: &str = "x";
/// Longest wait for one write's deltas before it counts as lost.
const DELTA_TIMEOUT: Duration = Duration::from_secs(5);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn next_json(ws: &mut Ws) -> Result<serde_json::Value, BoxError> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
            Err(_) => return Err("no frame within 10 s".into()),
            Ok(None) => return Err("connection closed".into()),
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(serde_json::from_str(&t)?),
            Ok(Some(Ok(Message::Close(_)))) => return Err("closed by the charger".into()),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Connects, authenticates and reads the full status.
async fn watcher(ws_url: &str, hashed: &str) -> Result<Ws, BoxError> {
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await?;
    let mut tokens = None;
    while tokens.is_none() {
        let v = next_json(&mut ws).await?;
        if v["type"] == "authRequired" {
            let t = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            tokens = Some((t("token1"), t("token2")));
        }
    }
    let (token1, token2) = tokens.unwrap_or_default();
    let mut random = [0u8; 16];
    getrandom::fill(&mut random)?;
    let token3 = hex::encode(random);
    let hash = goe_proto::ws::expected_auth_hash(hashed, &token1, &token2, &token3);
    let auth = serde_json::json!({"type": "auth", "token3": token3, "hash": hash});
    ws.send(Message::Text(auth.to_string().into())).await?;
    loop {
        let v = next_json(&mut ws).await?;
        match v["type"].as_str() {
            Some("authError") => return Err("wrong password".into()),
            Some("fullStatus") if v["partial"] == false => return Ok(ws),
            _ => {}
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(name: &str, mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&ms, 50.0), percentile(&ms, 99.0));
    println!(
        "{name:<34} n={:<6} p50 {p50:>7.3} ms  p99 {p99:>7.3} ms  max {:>7.3} ms",
        ms.len(),
        ms.last().copied().unwrap_or(f64::NAN)
    );
    (p50, p99)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let watchers: usize = args.next().map_or(Ok(100), |s| s.parse())?;
    let writes: usize = args.next().map_or(Ok(200), |s| s.parse())?;
    let base = base.trim_end_matches('/').to_owned();
    let ws_url = format!("{}/ws", base.replacen("http://", "ws://", 1));
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let response = http.get(&url).send().await?;
            let status = response.status();
            let body = response.text().await?;
            if !status.is_success() {
                return Err(format!("{url}: HTTP {status}: {body}").into());
            }
            Ok::<String, BoxError>(body)
        }
    };

    // password and serial: the hash every watcher proves knowledge of
    get(format!("/api/set?pass=%22{PASSWORD}%22")).await?;
    let status: serde_json::Value =
        serde_json::from_str(&get("/api/status?filter=sse".into()).await?)?;
    let serial = status["sse"].as_str().ok_or("no sse")?.to_owned();
    let hashed = goe_engine::secrets::password_hash(PASSWORD, &serial);

    // watchers: each forwards (amp, arrival) of every deltaStatus carrying amp
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, i64, Instant)>();
    let mut tasks = Vec::with_capacity(watchers);
    for id in 0..watchers {
        let mut ws = watcher(&ws_url, &hashed).await?;
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Ok(v) = next_json(&mut ws).await {
                if v["type"] == "deltaStatus"
                    && let Some(amp) = v["status"]["amp"].as_i64()
                {
                    let _ = tx.send((id, amp, Instant::now()));
                }
            }
        }));
    }
    drop(tx);
    let ws_clients = get("/api/status?filter=wccw".into()).await?;
    println!("{watchers} watchers authenticated ({ws_clients}), {writes} writes of amp");

    // baseline: a trivial request's round trip, same client, same run
    let mut rtt = Vec::with_capacity(writes);
    for _ in 0..writes {
        let t0 = Instant::now();
        get("/api/status?filter=amp".into()).await?;
        rtt.push(t0.elapsed().as_secs_f64() * 1e3);
    }

    let mut set_rtt = Vec::with_capacity(writes);
    let mut from_send = Vec::with_capacity(writes * watchers);
    let mut from_response = Vec::with_capacity(writes * watchers);
    let mut lost = 0usize;
    let mut current: i64 = serde_json::from_str::<serde_json::Value>(
        &get("/api/status?filter=amp".into()).await?,
    )?["amp"]
        .as_i64()
        .unwrap_or(16);
    for i in 0..writes {
        let amp = 6 + (i as i64 % 11);
        let amp = if amp == current { amp + 1 } else { amp };
        current = amp;
        // drop deltas of earlier writes that arrived late
        while rx.try_recv().is_ok() {}
        let sent = Instant::now();
        get(format!("/api/set?amp={amp}")).await?;
        let answered = Instant::now();
        set_rtt.push((answered - sent).as_secs_f64() * 1e3);
        let mut seen = vec![false; watchers];
        let mut count = 0;
        let deadline = tokio::time::Instant::now() + DELTA_TIMEOUT;
        while count < watchers {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some((id, a, at))) if a == amp && !seen[id] => {
                    seen[id] = true;
                    count += 1;
                    from_send.push((at - sent).as_secs_f64() * 1e3);
                    from_response.push(at.saturating_duration_since(answered).as_secs_f64() * 1e3);
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => break,
            }
        }
        lost += watchers - count;
    }
    for t in tasks {
        t.abort();
    }

    let (_, base_p99) = summary("baseline: GET ?filter=amp RTT", rtt);
    summary("/api/set?amp RTT", set_rtt);
    let (_, send_p99) = summary("set sent -> deltaStatus", from_send);
    let (_, resp_p99) = summary("set answered -> deltaStatus", from_response);
    println!(
        "p99 ratios vs baseline p99: sent->delta {:.2}, answered->delta {:.2}; lost deltas: {lost}",
        send_p99 / base_p99,
        resp_p99 / base_p99
    );
    Ok(())
}
